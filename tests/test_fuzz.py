"""Fuzzing the whole pipeline: any text through ``ricci diff`` gives a result or a RicciError.

Texts come from ``ricci.testing.fuzz_texts`` (token soups, random edits of well-typed
expressions, deep nestings, any unicode) with a wrt, an order, an output format and now and
then a declared kind or ``--check``.  ``ricci.cli.main`` must return 0 (a result on stdout) or
2 (a RicciError on stderr, as a message with a caret line); any exception is a failure.  No
hang: every derivation runs under its time budget (ricci.limits).

The long run of the issue's acceptance (100,000 texts and more):
``nice python tools/fuzz_pipeline.py --n 100000 --seed 0``; with atheris installed,
``python tools/fuzz_atheris.py`` explores by coverage.
"""

from __future__ import annotations

import contextlib
import io
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ricci.cli import main
from fuzz_texts import TOKENS, fuzz_texts  # tools/: ricci's own testing machinery (issue 16)

EXAMPLES = int(os.environ.get("RICCI_FUZZ_EXAMPLES", "400"))
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_KINDS = ("syntax error", "unknown name", "shape error", "kind error", "bad value", "limit")


def run_diff(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(fuzz_texts(), st.data())
def test_any_text_through_ricci_diff(text, data):
    names = sorted(set(_NAME.findall(text))) or ["x"]
    argv = ["diff", "--wrt", data.draw(st.sampled_from(names + ["x", "x1,x2"])),
            "--order", str(data.draw(st.integers(1, 3))),
            "--format", data.draw(st.sampled_from(["text", "latex", "json"]))]
    if data.draw(st.integers(0, 9)) == 0:
        argv += ["--kind", f"{data.draw(st.sampled_from(names))}=" + data.draw(
            st.sampled_from(["scalar", "vector", "matrix", "symmetric", "tensor"]))]
    if data.draw(st.integers(0, 29)) == 0:
        argv += ["--check"]
    rc, out, err = run_diff(argv + ["--", text])
    assert rc in (0, 2), (argv, text, rc, out, err)
    if rc == 0:
        assert out.strip() and not err
        if "--check" in argv:
            assert out.strip().splitlines()[-1].startswith("checked numerically: max relative error")
    else:
        first = err.splitlines()[0]
        assert first.split(":")[0] in _KINDS, err
        assert "Traceback" not in err


def test_the_tokens_cover_the_language():
    from ricci.functions import FUNCTIONS

    for name in ("exp", "log", "inv", "det", "logdet", "tr", "diag", "sum", "norm2", "vector", "matrix"):
        assert name in FUNCTIONS and name in TOKENS
    for op in ("+", "-", "*", "/", "@", "^", "**", ".*", "./", ".^", "'", ".T", "where", "="):
        assert op in TOKENS


def test_deep_inputs_are_refused_not_crashed():
    for text in ("(" * 5000 + "x" + ")" * 5000, "-" * 5000 + "x", "x" + "'" * 3000, "exp(" * 400 + "a" + ")" * 400):
        rc, out, err = run_diff(["diff", "--wrt", "x", "--", text])
        assert rc == 2 and err.startswith("limit:"), (text[:20], err)


def test_a_derivation_over_its_budget_is_a_limit():
    rc, out, err = run_diff(["diff", "--wrt", "a", "--order", "6", "--timeout", "0.01", "--",
                             "sin(tan(exp(a*b)^a)^b)*cos(sigmoid(a*b^2))^a"])
    assert rc == 2 and err.startswith("limit: the derivation took longer than its time budget of 0.01 s")
    rc, out, err = run_diff(["diff", "--wrt", "a", "--timeout", "0", "--", "a^2"])
    assert rc == 2 and err.startswith("bad value: timeout must be a positive number")
