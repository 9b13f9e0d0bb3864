"""Issue 15, points 2 and 10: a ``wrt`` the expression does not contain, and the command line's
edges (an expression that starts with a minus sign, negative option values, a closed pipe,
``compare``'s exit status).

A name that the expression does not use is refused on every surface — Python, its features
(explain, analyse, plot, compare), the command line and the web API — by one check
(``ricci.derivation.refuse_unused_wrt``), with a message that lists the variables the
expression has.  Only a Python list of scalars may hold an unused name: a coordinate asked for
explicitly, whose column of the Jacobian is zero.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import ricci
from ricci.cli import main

UNUSED = "the expression does not use z; its variables are x and A"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- Python: ricci.derivative and the features built on it ---------------------------------------------
@pytest.mark.parametrize("kinds", [None, {"z": "vector"}, {"z": "scalar"}])
def test_derivative_by_a_name_the_expression_does_not_use_is_refused(kinds):
    # was 0*z' (or 0 with z declared a scalar): a typo passed for an answer
    with pytest.raises(ricci.UnknownNameError) as info:
        ricci.derivative("x'*A*x", "z", kinds=kinds)
    assert info.value.message == UNUSED


def test_the_message_lists_the_variables_in_order_of_appearance():
    with pytest.raises(ricci.UnknownNameError, match=r"does not use w; its variables are y, Phi and theta$"):
        ricci.derivative("norm2(y - Phi*theta)^2", "w")
    with pytest.raises(ricci.UnknownNameError, match=r"does not use x; its variables are t$"):
        ricci.gradient("sin(t)", "x")
    with pytest.raises(ricci.UnknownNameError, match=r"does not use x; it has no variables$"):
        ricci.hessian("3 + 4", "x")


def test_a_list_may_hold_a_scalar_the_expression_does_not_use():
    # the documented exception: ∂(x1²)/∂(x1, x3) = [2 x1, 0], each name asked for explicitly
    d = ricci.derivative("x1^2", ["x1", "x3"])
    np.testing.assert_allclose(d.evaluate({"x1": 1.5, "x3": 7.0}), [3.0, 0.0])
    d2 = ricci.derivative("x1^2*x2", ["x1", "x2", "x3"], 2)
    np.testing.assert_allclose(d2.evaluate({"x1": 1.5, "x2": -2.0, "x3": 7.0}),
                               [[-4.0, 3.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def test_a_name_bound_by_where_is_still_refused_with_its_own_message():
    with pytest.raises(ricci.UnknownNameError, match="bound by 'where'"):
        ricci.derivative("sum(v) where v = A*x", "v")
    with pytest.raises(ricci.UnknownNameError, match="bound by 'where'"):
        ricci.derivative("s^2 where s = a*b", ["a", "s"])


def test_derivative_parses_its_text_once(monkeypatch):
    # _free_names, parse and the unused-wrt path each parsed the text again (three times for
    # a list); the answer is unchanged
    from ricci.language import parser

    lark = parser._lark()
    calls = []
    real = lark.parse
    monkeypatch.setattr(lark, "parse", lambda text, *a, **k: calls.append(text) or real(text, *a, **k))
    assert ricci.derivative("x'*A*x", "x").text == "x'*(A + A')"
    assert calls == ["x'*A*x"]
    calls.clear()
    assert ricci.derivative("x1^2*x2", ["x1", "x2"]).text == "[2*x1*x2, x1^2]"
    assert calls == ["x1^2*x2"]


@pytest.mark.parametrize("call", [
    lambda: ricci.compare("x'*A*x", "z", "0"),          # was "equal": 0 is the zero derivative
    lambda: ricci.analyse("x'*A*x", "z"),               # had a message of its own
    lambda: ricci.plot("x'*A*x", "z"),                  # asked for a value of x
    lambda: ricci.derivative("x'*A*x", "z").steps,      # explained 0*z'
], ids=["compare", "analyse", "plot", "explain"])
def test_every_feature_refuses_through_the_same_check(call):
    if "plot" in repr(call.__code__.co_names):
        pytest.importorskip("matplotlib")
    with pytest.raises(ricci.UnknownNameError) as info:
        call()
    assert info.value.message == UNUSED


# -- the command line -----------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["diff", "x'*A*x", "--wrt", "z"],                              # was 0*z', exit 0
    ["diff", "x'*A*x", "--wrt", "z", "--kind", "z=vector"],
    ["diff", "x'*A*x", "--wrt", "z", "--steps"],                   # explain
    ["compare", "x'*A*x", "--wrt", "z", "--answer", "0"],          # was "equal", exit 0
    ["analyse", "x'*A*x", "--wrt", "z"],
    ["plot", "x'*A*x", "--wrt", "z", "-o", "never-written.png"],
], ids=["diff", "diff-kind", "steps", "compare", "analyse", "plot"])
def test_the_cli_refuses_a_wrt_the_expression_does_not_use(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert (code, out, err) == (2, "", f"unknown name: {UNUSED}\n")


def test_on_the_cli_a_list_may_not_hold_an_unused_name(capsys):
    # typed after --wrt, x1,x3 is as likely a typo as z (Python's explicit list is the exception)
    code, out, err = run(capsys, "diff", "x1^2 + x2^2", "--wrt", "x1,x3")
    assert (code, out) == (2, "")
    assert err == "unknown name: the expression does not use x3; its variables are x1 and x2\n"
    code, out, _ = run(capsys, "diff", "x1^2 + x2^2", "--wrt", "x2,x1")
    assert (code, out.splitlines()[0]) == (0, "[2*x2, 2*x1]")


# -- the web API (its job adapters, and once through the HTTP app) ------------------------------------------
@pytest.mark.parametrize("job, extra", [
    ("derivative", {}),
    ("evaluate", {"values": {"x": [1, 2], "A": [[1, 0], [0, 1]]}}),
    ("compare", {"answer": "0"}),
    ("plot", {}),
])
def test_the_web_jobs_refuse_a_wrt_the_expression_does_not_use(job, extra):
    pytest.importorskip("pydantic")
    from ricci.web import compute

    if job == "plot":
        pytest.importorskip("matplotlib")
    status, body = compute.JOBS[job]({"expression": "x'*A*x", "wrt": "z", **extra})
    assert status == 422
    assert body["error"]["kind"] == "unknown name"
    assert body["error"]["message"] == UNUSED
    assert body["error"].get("field") == "wrt"


def test_the_web_api_refuses_an_unused_name_in_a_list():
    pytest.importorskip("pydantic")
    from ricci.web import compute

    status, body = compute.derivative({"expression": "x1^2 + x2^2", "wrt": ["x1", "x3"]})
    assert status == 422
    assert body["error"]["message"] == "the expression does not use x3; its variables are x1 and x2"
    status, body = compute.derivative({"expression": "x1^2 + x2^2", "wrt": ["x1", "x2"], "include": []})
    assert (status, body["text"]) == (200, "[2*x1, 2*x2]")


def test_the_http_api_answers_422_for_an_unused_wrt():
    pytest.importorskip("fastapi")
    from webtools import BASE, TestClient

    from ricci.web.app import Settings, create_app

    with TestClient(create_app(Settings(workers=1, time_budget=6.0, grace=1.0)), base_url=BASE) as client:
        r = client.post("/api/derivative", json={"expression": "x'*A*x", "wrt": "z"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"] == UNUSED


# -- point 10: an expression that starts with a minus sign, negative values ----------------------------------
@pytest.mark.parametrize("argv", [
    ["diff", "-y'*log(p)", "--wrt", "y"],          # was "the following arguments are required"
    ["diff", "--wrt", "y", "-y'*log(p)"],
    ["diff", "--wrt", "y", "--", "-y'*log(p)"],    # the old workaround still works
    ["diff", "--", "-y'*log(p)", "--wrt", "y"],    # `--` before the options, too
    ["diff", "-y'*log(p)", "--wrt=y", "--format", "text"],
])
def test_an_expression_that_starts_with_a_minus_sign(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == ricci.derivative("-y'*log(p)", "y").text == "-log(p)'"


def test_a_minus_name_is_an_expression_where_it_is_no_option(capsys):
    code, out, err = run(capsys, "diff", "-x", "--wrt", "x")
    assert (code, err, out.splitlines()[0]) == (0, "", ricci.derivative("-x", "x").text)


def test_options_that_take_numbers_accept_negative_ones(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "curve.png"
    code, out, err = run(capsys, "plot", "x^3 - 3*x", "--wrt", "x", "--range", "-2,2", "--at", "-1",
                         "-o", str(png))
    assert (code, out, err) == (0, f"wrote {png}\n", "")
    assert png.read_bytes().startswith(b"\x89PNG")


def test_analyse_takes_a_negative_box_and_negative_values(capsys):
    # --box -4:4 (was "expected one argument"; --box=-4:4 was the workaround)
    code, out, err = run(capsys, "analyse", "x^2 + c*x", "--wrt", "x", "--box", "-4:4", "--at", "c=-2",
                         "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    expected = ricci.analyse("x^2 + c*x", "x", {"c": -2.0}, box=(-4.0, 4.0)).to_json()
    assert data == json.loads(json.dumps(expected))


def test_an_answer_that_starts_with_a_minus_sign(capsys):
    code, out, _ = run(capsys, "compare", "-x'*x", "--wrt", "x", "--answer", "-2*x'")
    assert (code, out.splitlines()[0]) == (0, "equal")


def test_a_negative_order_is_ricci_s_error_not_argparse_s(capsys):
    code, out, err = run(capsys, "diff", "x'*x", "--wrt", "x", "--order", "-1")
    assert (code, out) == (2, "")
    assert err == "bad value: order must be a positive integer, not -1\n"


def test_an_unknown_option_is_still_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["diff", "x'*x", "--wrt", "x", "--colour", "red"])
    assert info.value.code == 2
    assert "unrecognized arguments: --colour red" in capsys.readouterr().err


# -- point 10: a closed pipe ---------------------------------------------------------------------------------
def test_a_closed_pipe_ends_quietly():
    # `ricci diff … | head -0`: the reader is gone before ricci writes; was a BrokenPipeError traceback
    with subprocess.Popen([sys.executable, "-m", "ricci.cli", "diff", "x'*A*x", "--wrt", "x", "--steps"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        p.stdout.close()
        err = p.stderr.read().decode()
        code = p.wait(timeout=60)
    assert (code, err) == (141, "")  # 128 + SIGPIPE, as a shell reports a command a pipe ended


# -- point 10: compare's exit status ------------------------------------------------------------------------------
@pytest.mark.parametrize("answer, status", [
    ("2*x'*B", 1),               # a slip ("assumed symmetric"): wrong
    ("x'*(B + B')", 0),          # equal
    ("(B + B')*x", 3),           # equal in the other layout (was 1)
    ("x'*", 2),                  # invalid: the answer cannot be read (was 1)
    ("x'*C", 2),                 # invalid: C is not a name of the question
])
def test_compare_exit_status(capsys, answer, status):
    code, out, _ = run(capsys, "compare", "x'*B*x", "--wrt", "x", "--answer", answer)
    assert code == status
    verdict = ricci.compare("x'*B*x", "x", answer).verdict
    assert out.splitlines()[0].split(":")[0] == verdict


def test_compare_documents_its_exit_status(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = capsys.readouterr().out
    assert "exit status:" in out
    for line in ("0  equal", "1  slip or different", "2  ", "3  equal in the other layout"):
        assert line in out


# -- ricci.testing's strategies follow the rule ---------------------------------------------------------------
def test_derivative_problems_draw_an_unused_name_only_inside_a_list():
    from hypothesis import HealthCheck, given, settings

    from ricci.testing import derivative_problems

    seen = []

    @settings(max_examples=60, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(derivative_problems(max_depth=2))
    def each(problem):
        d = ricci.derivative(problem.text, problem.wrt_arg, problem.order, problem.kinds)
        if isinstance(problem.wrt, str):
            assert problem.wrt in ricci.parse(problem.text, problem.kinds).variables
        else:
            seen.append(any(n not in ricci.parse(problem.text).variables for n in problem.wrt))
        assert d.shape[len(d.expression.shape):] == tuple(d._wrt_shape) * problem.order

    each()
    assert True in seen  # the zero column is still drawn now and then
