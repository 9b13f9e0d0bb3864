"""The ``ricci`` command: ``parse`` and ``eval`` (``diff`` is tested with differentiation).

Called in-process through ``ricci.cli.main`` (output captured), and once through a real
subprocess.  Errors exit with status 2 and print the message with a caret line under the
offending text on stderr, never a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ricci.cli import main, parse_value

ACCEPTANCE = ["eval", "x'*A*x", "--set", "x=1,2", "--set", "A=[1,2;3,4]"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_prints_27(capsys):
    # x'*A*x = [1 2] [[1 2] [3 4]] [1 2]' = 1*1 + 1*2*2 + 2*3*1 + 2*4*2 = 27
    assert run(capsys, *ACCEPTANCE) == (0, "27\n", "")


def test_eval_prints_27_through_a_subprocess():
    done = subprocess.run([sys.executable, "-m", "ricci.cli", *ACCEPTANCE],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "27\n", "")


def test_an_error_through_a_subprocess_exits_2_with_a_caret_and_no_traceback():
    done = subprocess.run([sys.executable, "-m", "ricci.cli", "eval", "A*x", "--set", "x=1,2,3",
                           "--set", "A=[1,2;3,4]"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "shape error: x has length 3 but A*x needs length n = 2 (A is 2×2)\n"
        "  A*x\n"
        "  ^^^\n")


def test_eval_vectors_and_matrices(capsys):
    assert run(capsys, "eval", "A*x", "--set", "x=1,1", "--set", "A=[1 2; 3 4]") == (
        0, "[3., 7.]\n", "")
    code, out, _ = run(capsys, "eval", "A'", "--set", "A=[1,2,3;4,5,6]")
    assert code == 0 and out == "[[1., 4.],\n [2., 5.],\n [3., 6.]]\n"
    assert run(capsys, "eval", "a^2 + 1", "--set", "a=0.5") == (0, "1.25\n", "")
    assert run(capsys, "eval", "[1, 2]*[3; 4]") == (0, "11\n", "")
    # a vector may be written as a column or a row literal
    assert run(capsys, "eval", "x'*x", "--set", "x=[1;2;2]") == (0, "9\n", "")
    assert run(capsys, "eval", "x'*x", "--set", "x=[1, 2, 2]") == (0, "9\n", "")


def test_eval_with_declared_kinds(capsys):
    code, out, err = run(capsys, "eval", "x'*S*x", "--set", "x=1,2", "--set", "S=[1,2;2,1]",
                         "--kind", "S=symmetric matrix")
    assert (code, out) == (0, "13\n")
    code, out, err = run(capsys, "eval", "x'*S*x", "--set", "x=1,2", "--set", "S=[1,2;3,1]",
                         "--kind", "S=symmetric")
    assert code == 2
    assert err == "bad value: S is declared a symmetric matrix, but its value is not symmetric\n"


def test_parse_prints_canonical_form_kinds_dimensions_and_shape(capsys):
    code, out, err = run(capsys, "parse", "x.T @ A @ x + b ** 2", "--kind", "A=symmetric")
    assert code == 0 and err == ""
    assert out == ("x'*A*x + b^2\n"
                   "value: scalar\n"
                   "  x: vector (n), assumed\n"
                   "  A: symmetric matrix (n×n), declared\n"
                   "  b: scalar, assumed\n")
    code, out, _ = run(capsys, "parse", "exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)")
    assert out.splitlines()[1:] == ["value: scalar", "  t: scalar, forced"]
    code, out, _ = run(capsys, "parse", "A*x")
    assert out.splitlines()[1:] == ["value: column vector (m)", "  A: matrix (m×n), assumed",
                                    "  x: vector (n), assumed"]


ERRORS = [
    (["parse", "(x + y"], "syntax error: '(' is never closed (add ')')\n  (x + y\n  ^\n"),
    (["parse", "tr(x)", "--kind", "x=vector"],
     "kind error: tr() needs a square matrix, but x is n×1\n  tr(x)\n  ^^^^^\n"),
    (["parse", "foo(x)"], None),
    (["parse", "x", "--kind", "x=tensor"], None),
    (["parse", "x", "--kind", "x"], "bad value: --kind 'x' must look like NAME=VALUE\n"),
    (["eval", "log(a)", "--set", "a=-1"], None),
    (["eval", "x", "--set", "x=[1,2"], None),
    (["eval", "A", "--set", "A=[1,2;3]"], None),
    (["eval", "x + y", "--set", "x=1,2"], "unknown name: no value given for y\n"),
    (["eval", "(" * 200 + "x" + ")" * 200], None),
]


@pytest.mark.parametrize("argv, stderr", ERRORS, ids=[" ".join(a)[:40] for a, _ in ERRORS])
def test_errors_exit_2_with_the_message_on_stderr(capsys, argv, stderr):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    if stderr is not None:
        assert err == stderr
    head = err.splitlines()[0]
    assert head.split(":")[0] in ("syntax error", "unknown name", "shape error", "kind error",
                                  "bad value", "limit")
    lines = err.splitlines()
    if len(lines) == 3:  # a caret line under the offending text
        assert set(lines[2].strip()) == {"^"}
        assert lines[1].startswith("  ")


@pytest.mark.parametrize("command, example", [
    ("parse", "ricci parse \"x'*A*x\" --kind A=\"symmetric matrix\""),
    ("eval", "ricci eval \"x'*A*x\" --set x=1,2 --set \"A=[1,2;3,4]\""),
])
def test_help_of_each_command_shows_an_example(capsys, command, example):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert f"example:\n  {example}" in out


def test_help_lists_the_commands_and_examples(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "parse" in out and "eval" in out and "examples:" in out


def test_a_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["eval"])  # no expression
    assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("text, value", [
    ("3", 3.0), ("-2.5", -2.5), ("1,2,3", [1.0, 2.0, 3.0]), ("[1,2;3,4]", [[1.0, 2.0], [3.0, 4.0]]),
    ("[1 2; 3 4]", [[1.0, 2.0], [3.0, 4.0]]), (" [ 1, 2 ] ", [[1.0, 2.0]]), ("[1;2]", [[1.0], [2.0]]),
])
def test_parse_value(text, value):
    got = parse_value(text)
    assert (got.tolist() if hasattr(got, "tolist") else got) == value


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("document", ["README.md", "docs/language.md"])
def test_the_documented_error_example_is_what_the_command_prints(capsys, document):
    prompt = '$ ricci eval "A*x" --set x=1,2,3 --set "A=[1,2;3,4]"\n'
    shown = (ROOT / document).read_text().split(prompt, 1)[1].split("```", 1)[0]
    code, out, err = run(capsys, "eval", "A*x", "--set", "x=1,2,3", "--set", "A=[1,2;3,4]")
    assert (code, out, err) == (2, "", shown)


def test_import_ricci_stays_light():
    # the acceptance asks `python -c "import ricci"` to be fast: nothing heavy at import time,
    # and never the test extra (hypothesis), which only ricci.testing uses
    code = ("import sys, ricci; "
            "print(sorted(m for m in ('numpy', 'lark', 'hypothesis', 'sympy', 'matplotlib') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]"
