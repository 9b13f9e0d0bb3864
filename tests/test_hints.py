"""Advice in each surface's own language (issue 15, point 6): Python names its keywords, the
command line its flags, the JSON API its request fields, the page its controls (ricci.hints).

Each of the issue's examples is asserted on every surface: that surface's exact phrase is there,
the other surfaces' phrases are not.
"""

from __future__ import annotations

import importlib.util

import pytest

import ricci
from ricci.cli import main
from ricci.hints import Choice, Hint, Phrase, installable, render, say

#: The phrases of each surface that must not appear on the others.
PYTHON_WORDS = ("assume=", "at=", "kinds=", "values=", "timeout=", "max_elements=")
CLI_WORDS = ("--assume", "--at ", "--kind", "--set", "--timeout", "--max-elements")
API_WORDS = ('"kinds":', '"at"', '"order"')
PAGE_WORDS = ("Variables table", "the order box", "the page has no control")


def _absent(text: str, *groups) -> None:
    for group in groups:
        for w in group:
            assert w not in text, f"{w!r} in {text!r}"


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _compute():
    pytest.importorskip("fastapi")  # the web extra; compute itself needs only ricci
    from ricci.web import compute

    return compute


# -- the mechanism -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("hint", "python", "cli", "api", "page"), [
    (Hint("assume", "A", "psd"), "assume={'A': 'psd'}", "--assume A=psd", None, None),
    (Hint("at", "A"), "at={'A': …}", "--at A=…", None, None),
    (Hint("at"), "at=", "--at POINT", '"at"', None),
    (Hint("values", "A"), "values={'A': …}", "--set A=…", None, None),
    (Hint("values"), "values=", None, None, None),  # d.check's point: no flag of ricci diff gives it
    (Hint("at", "x", [1, 2]), "at={'x': [1, 2]}", "--at x=1,2", None, None),
    (Hint("at", None, {"x1": 1, "x2": 2}), "at={'x1': 1, 'x2': 2}", "--at x1=1 --at x2=2", '"at"', None),
    (Hint("kinds", "B", "symmetric matrix"), "kinds={'B': 'symmetric matrix'}", "--kind B=symmetric",
     '"kinds": {"B": "symmetric matrix"}', "in the Variables table, choose symmetric matrix for B"),
    (Hint("timeout"), "timeout=", "--timeout SECONDS", None, None),
    (Hint("max_elements"), "max_elements=", "--max-elements N", None, None),
    (Hint("order"), "order=", "--order N", '"order"', "the order box"),
    (Hint("method", None, "symbolic"), "method='symbolic'", "--method symbolic", None, None),
    (Hint("install", None, "analysis"), 'pip install "ricci[analysis]"', 'pip install "ricci[analysis]"',
     '"ricci[analysis]" installed on the server', '"ricci[analysis]" installed on the server'),
])
def test_a_hint_names_each_surfaces_control(hint, python, cli, api, page):
    assert [hint.render(s) for s in ("python", "cli", "api", "page")] == [python, cli, api, page]


def test_a_phrase_is_its_python_rendering_and_keeps_its_hints():
    p = say("f is slow; try ", Choice((("a larger time budget", Hint("timeout")),), "a smaller problem"))
    assert isinstance(p, str) and p == "f is slow; try a larger time budget (timeout=)"
    assert p.render("cli") == "f is slow; try a larger time budget (--timeout SECONDS)"
    assert p.render("page") == "f is slow; try a smaller problem"
    assert p.hints == [Hint("timeout")]
    assert render([p, "plain"], "cli") == [p.render("cli"), "plain"]
    import pickle

    assert pickle.loads(pickle.dumps(p)).render("cli") == p.render("cli")  # across worker processes
    with pytest.raises(ValueError, match="surface must be one of"):
        p.render("html")
    assert isinstance(say(p, "."), Phrase) and say(p, ".").hints == [Hint("timeout")]


def test_install_is_suggested_only_for_what_is_missing():
    assert installable("ricci_no_such_module_xyz", "analysis") == Hint("install", None, "analysis")
    assert installable("numpy", "analysis") is None


def test_the_plots_point_in_each_surfaces_words(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(ricci.BadValueError) as info:
        ricci.plot("x1^2 + x2", ["x1", "x2"], at={"x1": 1})
    assert str(info.value) == "the point must give x1 and x2 (at={'x1': 1, 'x2': 2})"
    code, _, err = _cli(capsys, "plot", "x1^2 + x2", "--wrt", "x1,x2", "--at", "x1=1", "-o", str(tmp_path / "f.png"))
    assert code == 2 and "the point must give x1 and x2 (--at x1=1 --at x2=2)" in err and "at=" not in err


# -- the analysis: "declare that with assume= (e.g. {'A': 'psd'}) or fix it with at=" -------------------------
EXPR = "x'*A*x"


def test_analysis_advice_in_python():
    text = str(ricci.analyse(EXPR, "x"))
    assert "declare that A is psd (assume={'A': 'psd'}) or fix A's value (at={'A': …})" in text
    _absent(text, CLI_WORDS, API_WORDS, PAGE_WORDS)


def test_analysis_advice_on_the_command_line(capsys):
    code, out, _ = _cli(capsys, "analyse", EXPR, "--wrt", "x")
    assert code == 0
    assert "declare that A is psd (--assume A=psd) or fix A's value (--at A=…)" in out
    _absent(out, PYTHON_WORDS, API_WORDS, PAGE_WORDS)


def test_analysis_advice_in_the_api_and_on_the_page():
    compute = _compute()
    status, body = compute.derivative({"expression": EXPR, "wrt": "x", "include": ["analysis"]}, 30.0)
    assert status == 200
    a = body["analysis"]
    assert "a request has no field for an assumption on A or a value of it, so A is drawn at random" in a["text"]
    _absent(a["text"], PYTHON_WORDS, CLI_WORDS, PAGE_WORDS)
    assert "the page has no control for an assumption on A or a value of it" in a["page_text"]
    _absent(a["page_text"], PYTHON_WORDS, CLI_WORDS, API_WORDS)
    assert {"set": "assume", "name": "A", "value": "psd"} in a["hints"]
    assert "assume=" not in str(a["data"])


# -- the limit error: "pass a larger timeout=" ---------------------------------------------------------------
#: Seconds to derive even in a warm process (3 to 5 s here), so that a budget of 0.05 s (the
#: API's floor is 0.1 s) is certain to run out.  Each test has its own names, so that no
#: derivation reuses what an earlier one made (hash-consed nodes, caches).
def _slow(names: str):
    A, B, C, x = names
    return (f"sum(exp({A}*{x}) .* tanh({B}*{x}) .* sin({C}*{x}))", x, 6)


def test_time_limit_advice_in_python():
    with pytest.raises(ricci.LimitError) as info:
        ricci.derivative(*_slow("ABCx"), timeout=0.05)
    msg = str(info.value)
    assert msg.endswith("try a lower order (order=) or a larger time budget (timeout=)")
    _absent(msg, CLI_WORDS, API_WORDS, PAGE_WORDS)


def test_time_limit_advice_on_the_command_line(capsys):
    expr, wrt, order = _slow("DEFy")
    code, _, err = _cli(capsys, "diff", expr, "--wrt", wrt, "--order", str(order), "--timeout", "0.05")
    assert code == 2
    assert "try a lower order (--order N) or a larger time budget (--timeout SECONDS)" in err
    _absent(err, PYTHON_WORDS, API_WORDS, PAGE_WORDS)


def test_time_limit_advice_in_the_api_and_on_the_page():
    compute = _compute()
    expr, wrt, order = _slow("GHJz")
    status, body = compute.derivative({"expression": expr, "wrt": wrt, "order": order, "include": []}, 0.05)
    assert status == 422
    e = body["error"]
    assert e["kind"] == "limit" and e["message"].endswith('try a lower order ("order")')
    _absent(e["message"], PYTHON_WORDS, CLI_WORDS, PAGE_WORDS)
    assert e["page_message"].endswith("try a lower order (the order box)")
    _absent(e["page_message"], PYTHON_WORDS, CLI_WORDS, API_WORDS)
    assert e["hints"] == [{"set": "order", "name": None, "value": None},
                          {"set": "timeout", "name": None, "value": None}]


# -- /api/plot: "values={'A': …}", a field PlotRequest does not have ---------------------------------------
PLOT = ("x1^2 + a*x2", ["x1", "x2"])


def test_plot_advice_in_python():
    pytest.importorskip("matplotlib")
    with pytest.raises(ricci.UnknownNameError) as info:
        ricci.plot(*PLOT)
    assert str(info.value) == "the plot varies x1, x2 only; give a a value (values={'a': …})"


def test_plot_advice_on_the_command_line(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    code, _, err = _cli(capsys, "plot", PLOT[0], "--wrt", "x1,x2", "-o", str(tmp_path / "f.png"))
    assert code == 2
    assert "give a a value (--set a=…)" in err
    _absent(err, PYTHON_WORDS, API_WORDS, PAGE_WORDS)


def test_plot_advice_in_the_api_and_on_the_page():
    pytest.importorskip("matplotlib")
    compute = _compute()
    status, body = compute.plot({"expression": PLOT[0], "wrt": PLOT[1]}, 30.0)
    assert status == 422
    e = body["error"]
    assert "a plot request has no field for one: write its value into the expression as numbers" in e["message"]
    _absent(e["message"], PYTHON_WORDS, CLI_WORDS, PAGE_WORDS)
    assert "the page has no control for one: write its value into f as numbers" in e["page_message"]
    _absent(e["page_message"], PYTHON_WORDS, CLI_WORDS, API_WORDS)
    assert e["hints"] == [{"set": "values", "name": "a", "value": None}]


# -- compare: "kinds={'B': …}" on the command line ---------------------------------------------------------
Q = ("x'*B*x", "x", "2*x'*B")


def test_compare_advice_in_python():
    text = str(ricci.compare(*Q))
    assert "declare it (kinds={'B': 'symmetric matrix'}) and ricci will agree" in text
    _absent(text, CLI_WORDS, API_WORDS, PAGE_WORDS)


def test_compare_advice_on_the_command_line(capsys):
    code, out, _ = _cli(capsys, "compare", Q[0], "--wrt", Q[1], "--answer", Q[2])
    assert code == 1
    assert "declare it (--kind B=symmetric) and ricci will agree" in out
    _absent(out, PYTHON_WORDS, API_WORDS, PAGE_WORDS)
    code, out, _ = _cli(capsys, "compare", Q[0], "--wrt", Q[1], "--answer", Q[2], "--format", "json")
    assert "--kind B=symmetric" in out and "kinds=" not in out


def test_compare_advice_in_the_api_and_on_the_page():
    compute = _compute()
    status, body = compute.compare({"expression": Q[0], "wrt": Q[1], "answer": Q[2]}, 30.0)
    assert status == 200
    assert 'declare it ("kinds": {"B": "symmetric matrix"}) and ricci will agree' in body["message"]
    for key in ("message", "text"):
        _absent(body[key], PYTHON_WORDS, CLI_WORDS, PAGE_WORDS)
    assert "declare it (in the Variables table, choose symmetric matrix for B) and ricci will agree" \
        in body["page_text"]
    _absent(body["page_text"], PYTHON_WORDS, CLI_WORDS, API_WORDS)
    assert body["hints"] == [{"set": "kinds", "name": "B", "value": "symmetric matrix"}]


# -- a kind the expression forces: "declare kinds={'X': 'matrix'}, or --kind X=matrix" -----------------------
def test_forced_kind_advice_per_surface(capsys):
    import numpy as np

    with pytest.raises(ricci.BadValueError) as info:
        ricci.evaluate("X^2 + 1", {"X": np.eye(2)})
    e = info.value
    assert "declare it a matrix (kinds={'X': 'matrix'})" in str(e)
    _absent(str(e), CLI_WORDS, API_WORDS, PAGE_WORDS)
    assert "declare it a matrix (--kind X=matrix)" in e.render("cli")
    _absent(e.render("cli"), PYTHON_WORDS)
    code, _, err = _cli(capsys, "eval", "X^2 + 1", "--set", "X=[1,0;0,1]")
    assert code == 2 and "declare it a matrix (--kind X=matrix)" in err and "kinds=" not in err
    assert 'declare it a matrix ("kinds": {"X": "matrix"})' in e.render("api")
    assert "in the Variables table, choose matrix for X" in e.render("page")


# -- analyse suggests installing SymPy where it is installed --------------------------------------------------
def test_analyse_does_not_suggest_installing_sympy_where_it_is_installed(capsys):
    pytest.importorskip("sympy")
    # SymPy's solution fails the check here, so the numerical search runs: it used to add
    # 'SymPy (pip install "ricci[analysis]") solves ∇f = 0 exactly when it can'
    expr = "x1^4 - x1^2 + sin(x2)*x2^3"
    r = ricci.analyse(expr, ["x1", "x2"], convexity=False, timeout=None)  # SymPy first: slow on a busy machine
    assert r.critical.method.startswith("numerical")
    assert "a numerical search may miss critical points" in r.critical.notes
    assert "pip install" not in str(r)
    code, out, _ = _cli(capsys, "analyse", expr, "--wrt", "x1,x2", "--no-convexity", "--timeout", "600")
    assert code == 0 and "pip install" not in out


def test_analyse_suggests_installing_sympy_where_it_is_missing(monkeypatch):
    import ricci.analysis.critical as critical

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sympy" else real(name, *a))
    monkeypatch.setattr("ricci.analysis.to_sympy.sympy", lambda: None)
    r = ricci.analyse("x1^4 - x1^2 + x2^2", ["x1", "x2"], convexity=False)
    assert critical.installable("sympy", "analysis") is not None
    assert any('SymPy (pip install "ricci[analysis]") solves' in n for n in r.critical.notes)
    note = next(n for n in r.critical.notes if "SymPy (" in n)
    assert '"ricci[analysis]" installed on the server' in render(note, "page")
