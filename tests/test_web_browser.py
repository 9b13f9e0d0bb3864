"""The page in a real browser: Playwright driving Debian's chromium against ``ricci serve``.

Acceptance of the web issue: type ``x'*A*x``, choose wrt x, see ``x'*(A + A')``; declare A
symmetric and see ``2*x'*A``; an ill-typed input shows the error inline with the caret under
the faulty part; the state is in the URL; the page loads nothing from elsewhere and breaks no
rule of its Content-Security-Policy; on a 390×844 phone it fits the width and works with the
keyboard alone.  Screenshots go to ``test-artifacts/`` (git-ignored).

No browser is downloaded: Playwright launches ``/usr/bin/chromium`` (Debian's package, which
``.ci/run`` installs).  Without it these tests skip, except where ``RICCI_REQUIRE_BROWSER`` is
set (CI sets it), so CI always runs them.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from webtools import get_json, ricci_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("RICCI_REQUIRE_BROWSER"),
    reason="Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)")

expect = None  # playwright's expect, imported with the browser


@pytest.fixture(scope="module")
def server():
    with ricci_server() as url:
        yield url


@pytest.fixture(scope="module")
def features(server):
    return get_json(f"{server}/api/health")["features"]


@pytest.fixture(scope="module")
def browser():
    global expect
    from playwright.sync_api import expect as _expect
    from playwright.sync_api import sync_playwright

    expect = _expect
    _expect.set_options(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Watch:
    """Every request a page makes and every console complaint, to check after the test."""

    def __init__(self, page, origin: str):
        self.origin = origin
        self.requests: list[str] = []
        self.problems: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("console", lambda m: self.problems.append(m.text) if m.type == "error"
                and "status of 422" not in m.text else None)

    def check(self):
        foreign = [u for u in self.requests if not u.startswith((self.origin + "/", "blob:", "data:"))]
        assert foreign == [], "the page asked for something not on this server"
        assert self.problems == [], "console errors (a CSP violation would show here)"


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.watch = Watch(page, server)
    yield page
    context.close()


def answer_is(page, text):
    expect(page.locator("#answer-text")).to_have_text(text)


def test_quadratic_form_then_a_symmetric_matrix(page, server, features, browser):
    page.goto(server)
    page.fill("#expr", "x'*A*x")
    page.wait_for_selector("#wrt option[value='x']", state="attached")
    page.select_option("#wrt", "x")
    page.click("#go")
    answer_is(page, "x'*(A + A')")
    expect(page.locator("#shape")).to_contain_text("row vector")
    if features["mathml"]:
        expect(page.locator("#math math")).to_have_count(1)
        expect(page.locator("#math math")).to_contain_text("A")
    else:
        expect(page.locator("#math code")).to_have_text("x^\\top \\left(A + A^\\top\\right)")
    expect(page.locator("#vars tbody tr")).to_have_count(2)
    expect(page.locator("#kind-A")).to_have_value("matrix")
    page.screenshot(path=str(ARTIFACTS / "web-quadratic-form.png"), full_page=True)

    page.select_option("#kind-A", "symmetric matrix")
    answer_is(page, "2*x'*A")
    expect(page.locator("#vars tbody tr:has(#kind-A) .source")).to_have_text("declared")
    state = parse_qs(urlsplit(page.url).query)
    assert state == {"expr": ["x'*A*x"], "wrt": ["x"], "kind": ["A=symmetric matrix"]}
    if features["check"]:
        expect(page.locator("#check")).to_contain_text("checked numerically")
    page.screenshot(path=str(ARTIFACTS / "web-symmetric.png"), full_page=True)
    page.watch.check()

    # the URL is the result: opened elsewhere, it shows the same answer
    other = browser.new_page()
    other.goto(page.url)
    answer_is(other, "2*x'*A")
    expect(other.locator("#kind-A")).to_have_value("symmetric matrix")
    other.close()


def test_an_ill_typed_input_shows_the_error_under_its_part(page, server):
    page.goto(server)
    page.fill("#expr", "x'*A*x + [1, 2]*[3, 4]")
    page.click("#go")
    error = page.locator("#error")
    expect(error).to_be_visible()
    expect(error.locator(".message")).to_contain_text("shape error: cannot multiply [1, 2]")
    expect(error.locator("mark")).to_have_text("[1, 2]*[3, 4]")
    expect(error.locator(".carets")).to_have_text(" " * 9 + "^" * 13)
    expect(page.locator("#expr")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#result")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "web-error.png"))

    page.fill("#expr", "x'*A*x")  # fixed: the error goes away
    page.click("#go")
    answer_is(page, "x'*(A + A')")
    expect(error).to_be_hidden()
    page.watch.check()


def test_steps_code_plot_and_your_answer(page, server, features):
    page.goto(server)
    page.select_option("#examples", label="a saddle: x1² − x2²: x1^2 - x2^2")
    answer_is(page, "[2, 0; 0, -2]")
    expect(page.locator("#wrt")).to_have_value("x1,x2")
    expect(page.locator("#order")).to_have_value("2")
    if features["steps"]:
        page.click("#steps summary")
        expect(page.locator("#steps-body li").first).to_contain_text("Shape of the result")
    if features["code"]:
        expect(page.locator("#code-text")).to_contain_text("import numpy as np")
        page.check("#backend-torch")
        expect(page.locator("#code-text")).to_contain_text("import torch")
        page.click("#copy-code")
        expect(page.locator("#copy-code")).to_have_text("Copied")
    if features["analysis"]:
        expect(page.locator("#analysis-text")).to_contain_text("saddle")
    if features["plot"]:
        img = page.locator("#plot-img")
        expect(img).to_be_visible()
        assert img.evaluate("i => i.complete && i.naturalWidth") > 100
    page.fill("#answer", "[2, 0; 0, 2]")
    page.click("#check-answer")
    expect(page.locator("#verdict .verdict")).to_be_visible()
    assert "equal" != page.locator("#verdict .verdict").inner_text()
    assert parse_qs(urlsplit(page.url).query)["answer"] == ["[2, 0; 0, 2]"]
    page.fill("#answer", "[2, 0; 0, -2]")
    page.click("#check-answer")
    expect(page.locator("#verdict .verdict")).to_have_text("equal")
    page.screenshot(path=str(ARTIFACTS / "web-saddle.png"), full_page=True)
    page.watch.check()


def focus_by_tab(page, selector: str, limit: int = 40) -> None:
    """Press Tab until ``selector`` has the focus (the way a keyboard user gets there)."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return
    raise AssertionError(f"{selector} was not reached with Tab")


def test_a_phone_with_the_keyboard_alone(browser, server, features):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    watch = Watch(page, server)
    page.goto(server)

    focus_by_tab(page, "#expr")
    page.keyboard.type("x'*A*x")
    page.keyboard.press("Enter")
    answer_is(page, "x'*(A + A')")

    focus_by_tab(page, "#kind-A")
    page.keyboard.press("ArrowDown")  # matrix → symmetric matrix
    answer_is(page, "2*x'*A")

    if features["steps"]:
        focus_by_tab(page, "#steps summary")
        page.keyboard.press("Enter")
        expect(page.locator("#steps")).to_have_attribute("open", "")
    if features["code"]:
        focus_by_tab(page, "#copy-code")
        page.keyboard.press("Enter")
        expect(page.locator("#copy-code")).to_have_text("Copied")
    focus_by_tab(page, "#answer")
    page.keyboard.type("2*x'*A")
    page.keyboard.press("Enter")
    expect(page.locator("#verdict .verdict")).to_have_text("equal")

    # nothing is wider than the phone: no sideways scrolling of the page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for selector in ("#expr", "#go", "#wrt", "#answer-text", "#kind-A", "#check-answer"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, selector
    page.screenshot(path=str(ARTIFACTS / "web-phone.png"), full_page=True)
    watch.check()
    context.close()


def test_missing_parts_and_hostile_mathml_never_break_the_page(page, server):
    """The page as an installation without MathML, steps, check, code, analysis or plot would
    serve it (every part null), and with MathML that tries to run script: the answer still
    shows, the absent parts stay hidden, and nothing but MathML elements gets into the page."""
    import json

    def without_parts(route):
        body = json.loads(route.fetch().text())
        if "text" in body:
            body.update(mathml=None, steps=None, check=None, code=None, analysis=None, plot=None)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/derivative", without_parts)
    page.goto(f"{server}/?expr=x'*A*x&wrt=x")
    answer_is(page, "x'*(A + A')")
    expect(page.locator("#math code")).to_have_text("x^\\top \\left(A + A^\\top\\right)")  # LaTeX instead
    for part in ("#check", "#steps", "#code", "#analysis", "#plot"):
        expect(page.locator(part)).to_be_hidden()
    expect(page.locator("#compare")).to_be_visible()
    page.unroute("**/api/derivative")
    page.watch.check()

    hostile = ('<math xmlns="http://www.w3.org/1998/Math/MathML"><mi onclick="alert(1)" href="javascript:x">x</mi>'
               '<script>alert(1)</script><mtext style="color:red">ok</mtext>'
               '<foreignObject><img xmlns="http://www.w3.org/1999/xhtml" src="x" onerror="alert(1)"/></foreignObject>'
               '</math>')

    def with_hostile_mathml(route):
        body = json.loads(route.fetch().text())
        if "text" in body:
            body["mathml"] = hostile
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/derivative", with_hostile_mathml)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.fill("#expr", "x'*B*x")
    page.click("#go")
    answer_is(page, "x'*(B + B')")
    math = page.locator("#math math")
    expect(math).to_have_count(1)
    assert math.evaluate("m => [...m.querySelectorAll('*')].map(e => e.localName)") == ["mi", "mtext"]
    assert math.evaluate("m => [...m.querySelectorAll('*')].flatMap(e => [...e.attributes]).length") == 0
    expect(math).to_have_text("xok")
    assert dialogs == []
    page.unroute_all(behavior="ignoreErrors")
    # parsing the hostile markup (as XML, in an inert document) made the browser refuse its inline
    # handlers and style: the Content-Security-Policy is a second line of defence behind the allow-list
    assert page.watch.problems and all("Content Security Policy" in m and "blocked" in m for m in page.watch.problems)
    page.watch.problems.clear()
    page.watch.check()
