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
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from webtools import get_json, ricci_server

import ricci

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


# -- issue 15: the "with respect to" list follows the expression; the page's details ------------------
def api_requests(page, path: str = "/api/derivative") -> list[dict]:
    """The JSON bodies the page has posted to ``path`` so far (recorded by :func:`record`)."""
    return [b for p, b in page.posted if p == path]


def record(page) -> None:
    import json

    page.posted = []
    page.on("request", lambda r: page.posted.append((urlsplit(r.url).path, json.loads(r.post_data)))
            if r.method == "POST" and r.post_data else None)


def wrt_options(page) -> list[str]:
    return page.locator("#wrt option").evaluate_all("os => os.map(o => o.value)")


def variables(page) -> list[str]:
    return page.locator("#vars tbody th").all_inner_texts()


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_two_expressions_in_a_row_and_a_kind_by_keyboard(page, server):
    """The second expression is differentiated by one of its own variables: the selection left
    from the first (x, which norm2(y - Phi*theta)^2 does not contain) is dropped, not kept as an
    extra option that answers 0*x' and adds x to the table."""
    record(page)
    page.goto(server)
    page.click("#expr")
    page.keyboard.type("x'*A*x")
    page.keyboard.press("Enter")
    answer_is(page, "x'*(A + A')")
    expect(page.locator("#wrt")).to_have_value("x")
    expect(page.locator("#answer-title")).to_have_text("Derivative with respect to x")

    # a kind changed with the keyboard: the answer follows and the focus stays on that control
    focus_by_tab(page, "#kind-A")
    page.keyboard.press("ArrowDown")  # matrix → symmetric matrix
    answer_is(page, "2*x'*A")
    assert focused_id(page) == "kind-A"
    page.keyboard.press("ArrowUp")  # and back, still from the same control
    answer_is(page, "x'*(A + A')")
    assert focused_id(page) == "kind-A"

    page.fill("#expr", "norm2(y - Phi*theta)^2")
    page.focus("#expr")
    page.keyboard.press("Enter")
    answer_is(page, ricci.derivative("norm2(y - Phi*theta)^2", "theta").text)
    expect(page.locator("#wrt")).to_have_value("theta")
    expect(page.locator("#answer-title")).to_have_text("Derivative with respect to theta")
    assert wrt_options(page) == ["y", "Phi", "theta"]
    assert variables(page) == ["y", "Phi", "theta"]
    assert [r["wrt"] for r in api_requests(page) if "mathml" in r.get("include", [])] == ["x", "x", "x", "theta"]

    # a scalar function of a matrix at order 2 after a vector x: by X, not by x
    page.fill("#expr", "tr(X^3)")
    page.fill("#order", "2")
    page.focus("#expr")
    page.keyboard.press("Enter")
    expect(page.locator("#answer-title")).to_have_text("Derivative of order 2 with respect to X")
    answer_is(page, ricci.derivative("tr(X^3)", "X", 2).text)
    assert wrt_options(page) == ["X"] and variables(page) == ["X"]
    page.watch.check()


def test_a_wrt_in_the_link_that_f_does_not_contain_is_not_used(page, server):
    record(page)
    page.goto(f"{server}/?expr=x'*A*x&wrt=z")
    answer_is(page, "x'*(A + A')")
    expect(page.locator("#wrt")).to_have_value("x")
    assert wrt_options(page) == ["x", "A"] and variables(page) == ["x", "A"]
    expect(page.locator("#wrt-note")).to_have_text('f has no variable z (its variables: x, A), so "with respect to" is x.')
    assert {r["wrt"] for r in api_requests(page)} == {"x"}
    # a list of the expression's scalars in another order is the user's choice, and kept
    page.goto(f"{server}/?expr=exp(x1*x2^2)&wrt=x2,x1")
    expect(page.locator("#wrt")).to_have_value("x2,x1")
    expect(page.locator("#wrt-note")).to_be_hidden()
    page.watch.check()


def test_arrowing_through_the_examples_computes_only_the_one_chosen(page, server):
    record(page)
    page.goto(server)
    page.focus("#examples")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    page.wait_for_timeout(1000)  # time for requests that must not be made
    assert api_requests(page) == [] and api_requests(page, "/api/parse") == []
    expect(page.locator("#examples-help")).to_be_visible()
    page.keyboard.press("Enter")
    answer_is(page, "x'*(B + B')")  # the third example, x'Bx
    expect(page.locator("#examples-help")).to_be_hidden()
    assert focused_id(page) == "examples"
    assert [r["expression"] for r in api_requests(page) if "mathml" in r.get("include", [])] == ["x'*B*x"]
    # a click (here: a pick from the list) loads at once
    page.select_option("#examples", label="Ax: the Jacobian: A*x")
    answer_is(page, "A")
    page.watch.check()


def test_the_caret_under_your_answer_keeps_its_line(page, server):
    page.goto(f"{server}/?expr=x'*A*x&wrt=x")
    answer_is(page, "x'*(A + A')")
    page.fill("#answer", "x'*Q")
    page.click("#check-answer")
    expect(page.locator("#verdict .verdict")).to_have_text("invalid")
    pre = page.locator("#verdict pre.excerpt")
    expect(pre).to_have_text("x'*Q\n   ^")
    expect(pre.locator("mark")).to_have_text("Q")
    mark, carets = pre.locator("mark").bounding_box(), pre.locator(".carets").bounding_box()
    assert carets["y"] >= mark["y"] + mark["height"] - 1, "the caret line is under the answer"
    assert abs(carets["x"] + carets["width"] - (mark["x"] + mark["width"])) < 2, "the caret is under Q"
    assert "x'*Q" not in page.locator("#verdict .verdict-message").inner_text()
    page.watch.check()


def test_an_order_out_of_range_is_refused_in_words(page, server):
    record(page)
    page.goto(f"{server}/?expr=x'*A*x&wrt=x&order=99")
    error = page.locator("#error")
    expect(error).to_be_visible()
    expect(error.locator(".message")).to_have_text(
        "order: 99 is not an order ricci computes: type a whole number from 1 to 6 in the order box "
        "(1: the derivative, 2: the Hessian)")
    expect(page.locator("#order")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#order")).to_have_value("99")
    expect(page.locator("#result")).to_be_hidden()
    page.fill("#order", "7")
    page.focus("#order")
    page.keyboard.press("Enter")
    expect(error.locator(".message")).to_contain_text("order: 7 is not an order ricci computes")
    assert api_requests(page) == []
    page.fill("#order", "2")
    page.keyboard.press("Enter")
    answer_is(page, "A + A'")
    expect(error).to_be_hidden()
    assert page.locator("#order").get_attribute("aria-invalid") is None
    page.watch.check()


def test_differentiate_with_no_expression_says_what_to_do(page, server):
    page.goto(server)
    page.click("#go")
    expect(page.locator("#error .message")).to_have_text(
        "input: type a function in the Function f box (for example x'*A*x), or take an example from the list under it")
    expect(page.locator("#expr")).to_have_attribute("aria-invalid", "true")
    page.watch.check()


def test_a_wide_formula_scrolls_in_its_box_with_a_cue(page, server, features):
    if not features["mathml"]:
        pytest.skip("this installation has no MathML printer: the answer is LaTeX text, which wraps")
    page.goto(server)
    page.select_option("#examples", label="the chain rule through x(t) (Example 1): "
                       "exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)")
    expect(page.locator("#answer-text")).to_contain_text("where x1 = t*cos(t)")
    math = page.locator("#math")
    width, inner = math.evaluate("m => [m.scrollWidth, m.clientWidth]")
    assert width > inner, "the formula is wider than its box (the case of the issue)"
    expect(math).to_have_class("math overflowing")
    expect(page.locator("#math-more")).to_be_visible()
    expect(math).to_have_attribute("tabindex", "0")  # the keyboard can scroll it
    assert math.evaluate("m => getComputedStyle(m).overflowX") == "auto"
    page.screenshot(path=str(ARTIFACTS / "web-wide-formula.png"))
    page.fill("#expr", "x'*A*x")
    page.click("#go")
    answer_is(page, "x'*(A + A')")
    expect(page.locator("#math-more")).to_be_hidden()
    assert math.get_attribute("tabindex") is None
    page.watch.check()


def test_the_formula_says_what_it_is_the_derivative_of(page, server, features):
    if not features["mathml"]:
        pytest.skip("this installation has no MathML printer")
    page.goto(f"{server}/?expr=x'*A*x&wrt=x")
    answer_is(page, "x'*(A + A')")
    frac = page.locator("#math math > mfrac").first
    assert frac.evaluate("f => [...f.children].map(c => c.textContent)") == ["∂f", "∂x"]
    assert page.locator("#math math").text_content().startswith("∂f∂x=")
    page.goto(f"{server}/?expr=x'*B*x&wrt=x&order=2")
    answer_is(page, "B + B'")
    assert page.locator("#math math").text_content().startswith("∂2f∂x2=")  # ∂²f/∂x²
    assert page.locator("#math math > mfrac msup").count() == 2
    page.goto(f"{server}/?expr=exp(x1*x2^2)&wrt=x1,x2")
    expect(page.locator("#wrt")).to_have_value("x1,x2")
    expect(page.locator("#math math")).to_contain_text("∂f∂(x1,x2)=")
    page.watch.check()


#: How Python (keyword=), the command line (--flag) and the JSON API ("field":) name a control.
OTHER_SURFACES = re.compile(r"\b(assume|at|kinds|values|timeout|box|max_elements)=|--[a-z]|\"(kinds|order|at)\"")


def test_advice_on_the_page_names_the_page_controls(page, server, features):
    """A hint on the page names the Variables table and the order box, never Python's keywords
    (assume=, kinds=), the CLI's flags or the API's request fields."""
    if not features["compare"]:
        pytest.skip("this installation has no ricci.compare")
    page.goto(f"{server}/?expr=x'*A*x&wrt=x")
    answer_is(page, "x'*(A + A')")
    page.fill("#answer", "2*x'*A")
    page.click("#check-answer")
    expect(page.locator("#verdict .verdict")).to_have_text("slip: assumed symmetric")
    message = page.locator("#verdict").inner_text()
    assert "Variables table" in message and "symmetric matrix" in message
    assert not OTHER_SURFACES.search(message), message
    if features["analysis"]:
        expect(page.locator("#analysis-text")).to_contain_text("convexity")
        analysis = page.locator("#analysis-text").inner_text()
        assert "PSD" in analysis and not OTHER_SURFACES.search(analysis), analysis
    page.watch.check()
