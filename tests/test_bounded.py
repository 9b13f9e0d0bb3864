"""Bounded everything (issue 15, point 4): ``--check``, analyses, plots and comparisons obey the
same time and size limits as the derivation (:mod:`ricci.limits`).

No test asserts a wall-clock time: a subprocess's ``timeout=`` is only a safety net that turns a
hang into a failure.  Each time limit is made certain by a budget far below the work to do
(a million samples in one second), or by a clock that has already run out.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

import ricci
from ricci import limits

#: A hang becomes a failure after this many seconds (a safety net, not an assertion).
SAFETY_NET = 60


def _ricci(*args):
    return subprocess.run([sys.executable, "-m", "ricci.cli", *args], capture_output=True, text=True,
                          timeout=SAFETY_NET)


# -- the issue's case: `ricci diff "tanh(W*x)" --wrt W --order 6 --check` -----------------------------------
ISSUE = ("diff", "tanh(W*x)", "--wrt", "W", "--order", "6", "--check")


def test_the_issues_check_is_refused_by_its_size_limit_and_names_the_flag():
    # 2·(2·3)^6 = 93,312 entries even at the smallest sizes that keep m and n apart
    r = _ricci(*ISSUE, "--timeout", "2", "--max-elements", "50000")
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("limit: the derivative of order 6 at the check's points would have")
    assert "more than the limit of 50,000" in r.stderr
    assert "--max-elements N" in r.stderr and "max_elements=" not in r.stderr
    assert "Traceback" not in r.stderr


def test_the_issues_check_with_timeout_2_ends():
    # Before: past 110 s and 1.5 GB.  Now the check draws the smallest sizes (the derivative at
    # the usual ones would have hundreds of millions of entries) and ends: checked, or stopped by
    # its time budget on a slow machine, and then said so in the command line's words.
    r = _ricci(*ISSUE, "--timeout", "2")
    assert "Traceback" not in r.stderr
    if r.returncode == 2:
        assert r.stderr.startswith("limit: ") and "--timeout SECONDS" in r.stderr, r.stderr
    else:
        assert r.returncode == 0, r.stderr
        assert "checked numerically: max relative error" in r.stdout


def test_check_takes_timeout_and_stops_in_python_words():
    d = ricci.derivative("x'*A*x", "x")
    with pytest.raises(ricci.LimitError) as info:
        d.check(trials=1_000_000, timeout=0.5)
    msg = str(info.value)
    assert msg.startswith("the numerical check took longer than its time budget of 0.5 s")
    assert "(timeout=)" in msg and "--timeout" not in msg


def test_check_refuses_a_derivative_over_max_elements():
    d = ricci.derivative("x'*A*x", "x", 2)  # n×n Hessian
    with pytest.raises(ricci.LimitError) as info:
        d.check(values={"x": np.ones(40), "A": np.eye(40)}, max_elements=1000)
    msg = str(info.value)
    assert "would have 1,600 entries, more than the limit of 1,000" in msg
    assert "(max_elements=)" in msg and "--max-elements" not in msg


def test_check_falls_back_to_the_smallest_sizes():
    d = ricci.derivative("tanh(W*x)", "W", 4, timeout=None)
    report = d.check(seed=1, max_elements=3000, timeout=None)
    assert report.passed, str(report)
    # m·(m·n)^4 ≤ 3000 only for the smallest sizes, 2 and 3 (2·6^4 = 2592; 3·6^4 = 3888)
    assert all(np.shape(p["W"]) == (2, 3) for p in report.points)


# -- analyses, plots, comparisons ----------------------------------------------------------------------------
def test_analyse_stops_at_its_timeout_in_python():
    with pytest.raises(ricci.LimitError) as info:
        ricci.analyse("x1^2 - x2^2", ["x1", "x2"], samples=1_000_000, timeout=0.5)
    msg = str(info.value)
    assert msg.startswith("the analysis took longer than its time budget of 0.5 s")
    assert "(timeout=)" in msg


def test_analyse_stops_at_its_timeout_on_the_command_line():
    r = _ricci("analyse", "x1^2 - x2^2", "--wrt", "x1,x2", "--samples", "1000000", "--timeout", "1")
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("limit: the analysis took longer than its time budget of 1 s")
    assert "--timeout SECONDS" in r.stderr and "timeout=" not in r.stderr


def test_derivative_analyse_passes_the_timeout_on():
    d = ricci.derivative("x1^2 - x2^2", ["x1", "x2"])
    with pytest.raises(ricci.LimitError, match="the analysis took longer"):
        d.analyse(samples=1_000_000, timeout=0.5)


def test_compare_stops_at_its_timeout_rather_than_judging():
    # A budget that has run out before the comparison starts: never an "invalid" verdict.
    with pytest.raises(ricci.LimitError, match="the request took longer than its time budget"):
        with limits.budget(0.01, what="the request"):
            time.sleep(0.05)
            ricci.compare("x'*A*x", "x", "2*x'*A", timeout=30)


def test_compare_takes_timeout_on_the_command_line():
    r = _ricci("compare", "norm2(y - Phi*theta)^2", "--wrt", "theta", "--order", "2",
               "--answer", "2*Phi'*Phi", "--timeout", "0.01")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("limit: "), r.stderr
    assert "--timeout SECONDS" in r.stderr


def test_plot_refuses_arrays_over_max_elements():
    pytest.importorskip("matplotlib")
    with pytest.raises(ricci.LimitError) as info:
        ricci.plot("x1^2 + sum(A)*x2", ["x1", "x2"], values={"A": np.ones((50, 50))}, max_elements=1000,
                   critical=False)
    assert "more than the limit of 1,000" in str(info.value)
    assert "(max_elements=)" in str(info.value)


def test_plot_stops_at_its_timeout():
    pytest.importorskip("matplotlib")
    with pytest.raises(ricci.LimitError, match="the plot took longer than its time budget"):
        ricci.plot("sin(x1)*cos(x2)", ["x1", "x2"], samples=2000, timeout=0.5)


def test_plot_takes_timeout_on_the_command_line(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "f.png"
    r = _ricci("plot", "sin(x1)*cos(x2)", "--wrt", "x1,x2", "--timeout", "0.01", "-o", str(out))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("limit: the plot took longer than its time budget")
    assert not out.exists()


# -- the mechanism -------------------------------------------------------------------------------------------
def test_a_budget_inside_another_never_outlasts_it():
    # ricci.derivative opens its own budget of 10 s; the caller's 0.01 s, already spent, binds it
    with pytest.raises(ricci.LimitError, match="the caller's work took longer"):
        with limits.budget(0.01, what="the caller's work"):
            time.sleep(0.05)
            ricci.derivative("exp(x'*A*x)*log(sum(exp(A*x)))", "x", 2)


def test_a_swallowed_limit_is_raised_again_at_the_end_of_its_budget():
    # code that tries something else on any RicciError must not turn a limit into a result
    with pytest.raises(ricci.LimitError, match="would have 1,000,000,000 entries"):
        with limits.budget(None, max_elements=1000, what="the work") as b:
            try:
                b.check_elements(10**9, "a table")
            except ricci.RicciError:
                pass


def test_the_size_limit_of_a_budget_inside_another_is_the_smaller():
    with limits.budget(None, max_elements=100):
        with limits.budget(None, max_elements=10**6) as inner:
            assert inner.elements_limit() == 100
    with pytest.raises(ricci.BadValueError, match="max_elements must be a positive int"):
        with limits.budget(1, max_elements=0):
            pass
