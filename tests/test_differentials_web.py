"""The page offers both methods of derivation (issue 20, acceptance 4): the API's steps carry the
differential method beside the lecture's, the page's Method choice shows either, and the page's
answer box takes a differential."""

from __future__ import annotations

import pytest
from webtools import BASE, TestClient

import ricci
from ricci.web.app import Settings, create_app


@pytest.fixture(scope="module")
def client():
    app = create_app(Settings(workers=1, time_budget=6.0, grace=1.0))
    with TestClient(app, base_url=BASE) as c:
        yield c


def test_the_api_gives_both_methods(client):
    r = client.post("/api/derivative", json={"expression": "x'*B*x", "wrt": "x", "include": ["steps"]})
    assert r.status_code == 200, r.text
    steps = r.json()["steps"]
    assert steps["items"][0]["title"] == "Shape of the result"  # the lecture's method first
    diff = steps["differentials"]
    rules = [s["rule"] for s in diff["items"]]
    assert rules[0] == "differential" and "identification" in rules
    # the same steps ricci gives in Python
    assert diff["text"] == ricci.derivative("x'*B*x", "x").steps(method="differentials").text()
    assert "x'*(B + B')*dx" in diff["text"]


def test_where_the_method_has_no_derivation_the_page_says_why(client):
    # expm has no differential rule in the function table: the page names the function
    r = client.post("/api/derivative", json={"expression": "expm(X)", "wrt": "X", "include": ["steps"]})
    assert r.status_code == 200, r.text
    assert "no rule for expm" in r.json()["steps"]["differentials"]["error"]["message"]


def test_an_order_whose_order_below_is_a_tensor_goes_through_vec_on_the_page(client):
    # order 4 of sum(exp(x)): D³f is a tensor; the steps differentiate the Hessian in a direction h
    r = client.post("/api/derivative", json={"expression": "sum(exp(x))", "wrt": "x", "order": 4,
                                             "include": ["steps"]})
    assert r.status_code == 200, r.text
    diff = r.json()["steps"]["differentials"]
    assert diff["text"] == ricci.derivative("sum(exp(x))", "x", 4).steps(method="differentials").text()
    assert "direction" in [s["rule"] for s in diff["items"]] and "(h' ⊗ I) D⁴f = J" in diff["text"]


def test_the_page_has_the_method_choice(client):
    html = client.get("/").text
    assert 'id="method-jacobians"' in html and 'id="method-differentials"' in html
    assert "Differentials" in html and "df = tr(G'*dX)" in html


def test_compare_takes_a_differential(client):
    r = client.post("/api/compare", json={"expression": "log(det(X))", "wrt": "X", "answer": "df = tr(inv(X)'*dX)"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["verdict"], body["kind_of_slip"]) == ("slip", "lost transpose")


def test_the_page_switches_methods():
    import test_web_browser as W

    if not W.os.path.exists(W.CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    pytest.importorskip("playwright")
    from playwright.sync_api import expect, sync_playwright
    from webtools import ricci_server

    with ricci_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=W.CHROMIUM, args=W.ARGS)
        page = browser.new_page()
        watch = W.Watch(page, url)
        page.goto(url)
        page.fill("#expr", "A*X*B")
        page.wait_for_selector("#wrt option[value='X']", state="attached")
        page.select_option("#wrt", "X")
        page.click("#go")
        expect(page.locator("#answer-text")).to_contain_text("B_jq")
        page.click("#steps summary")
        expect(page.locator("#steps-body li").first).to_contain_text("Shape of the result")
        page.check("#method-differentials")
        expect(page.locator("#steps-body li").first).to_contain_text("Differential")
        expect(page.locator("#steps-body")).to_contain_text("Standard form")
        page.check("#method-jacobians")
        expect(page.locator("#steps-body li").first).to_contain_text("Shape of the result")
        page.fill("#answer", "dF = A*dX*B")
        page.click("#check-answer")
        expect(page.locator("#verdict .verdict")).to_have_text("equal")
        watch.check()
        browser.close()


def test_the_notebook_shows_both_methods():
    """examples/differentials.ipynb: valid nbformat, runs top to bottom, both methods shown."""
    import os
    from pathlib import Path

    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = Path(__file__).parent.parent / "examples" / "differentials.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    shown = [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if o.output_type in ("execute_result", "display_data") and "text/html" in o.get("data", {})]
    html = "".join(shown)
    assert "Chain rule" in html and "Standard form" in html and "Identify" in html
    # every lecture example the notebook takes is shown by both: the lecture's steps, then the differentials
    lecture = [i for i, h in enumerate(shown) if "Shape of the result" in h]
    assert len(lecture) >= 16  # the rows 1 to 15 and log det (row 16 is a table of shapes)
    assert all("by differentials" in shown[i + 1] for i in lecture)
    assert "D⁴f" in html  # and an order beyond the Hessian, through vec
