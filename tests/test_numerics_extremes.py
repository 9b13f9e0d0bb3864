"""Issue 22, acceptance 2: ``d.evaluate`` and ``d.function()`` agree on every derivative of the
test suite's lecture and Cookbook tests, at their points and at extreme ones.

``tests/test_numerics.py`` compares them on tests/test_codegen.py's corpus (the first derivative
of each Cookbook test, the lecture's rows, a broad set) at random points stretched 40 and 1000
times.  Here every derivative that the lecture's and the Cookbook's tests check (collected as
tests/test_differentials.py collects them: each call, not only each test's first) is compared
at the very points those tests use, and at those points scaled down to 1e-20 and 1e-150 and up
to 1e150, where squares, products and determinants under- or overflow: the same numbers, or
both refuse (d.evaluate with ricci's BadValueError; the generated code with check_finite's
FloatingPointError, also where a matrix to solve with underflowed to 0: NumPy's LinAlgError
there is turned into it).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_codegen import python_name
from test_differentials import CASES

import ricci
from ricci.language.errors import BadValueError

SCALES = (1.0, 1e-20, 1e-150, 1e150)
REFUSALS = (BadValueError, FloatingPointError)


def _outcome(run):
    try:
        with np.errstate(all="ignore"):
            return np.asarray(run(), dtype=float)
    except REFUSALS as e:
        return e


def test_the_suite_s_derivatives_are_collected():
    assert len(CASES) >= 120
    assert {c[4] for c in CASES} >= {1, 2}  # gradients, Jacobians and Hessians


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0].split('::')[1]}-{c[1]}" for c in CASES])
def test_d_evaluate_and_generated_code_agree_at_extreme_points(case):
    _, expression, wrt, kinds, order, values = case
    d = ricci.derivative(expression, wrt, order, kinds)
    f = d.function(check_finite=True)
    compared = 0
    for scale in SCALES:
        v = {n: np.asarray(a, dtype=float) * scale for n, a in values.items() if n in d.expression.variables}
        want = _outcome(lambda: d.evaluate(v))
        got = _outcome(lambda: f(**{python_name(n): a for n, a in v.items()}))
        where = f"{d.text} at ×{scale:g}"
        if isinstance(want, Exception) or isinstance(got, Exception):
            # d.evaluate scales products by powers of two (a norm's ‖x‖^-3 at 1e155 beside x x x),
            # where generated code, which does not, refuses clearly (check_finite): a number
            # against a refusal, never two different numbers (tests/test_evaluate_scale.py
            # checks those numbers against closed forms)
            assert isinstance(got, Exception), f"{where}: d.evaluate refuses ({want!r}), the generated code gives {got!r}"
            assert isinstance(want, Exception) or np.all(np.isfinite(want)), where
            continue
        assert np.all(np.isfinite(want)) and np.all(np.isfinite(got)), where
        assert got.shape == want.shape, where
        # relative to the largest entry: an entry that is a difference of terms near it is rounding in both
        assert np.allclose(got, want, rtol=1e-9, atol=1e-9 * np.max(np.abs(want), initial=0.0) + 1e-300), \
            f"{where}: max difference {np.max(np.abs(got - want))}"
        compared += 1
    assert compared >= 1  # at least the test's own point gives numbers
