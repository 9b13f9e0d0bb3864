"""An answer's matrix powers stay inside the language's limit (|k| ≤ 64, docs/language.md):
the derivative of tr(X^-64) has 65 factors inv(X), which were written inv(X)^65 — a text that
ricci could not parse again, and whose generated code (typed from it) failed with a TypeError."""

import numpy as np
import pytest

import ricci
from ricci.language.kinds import MAX_MATRIX_POWER


def _point(n=3):
    rng = np.random.default_rng(4)
    return np.eye(n) + 0.02 * rng.standard_normal((n, n))


@pytest.mark.parametrize("k", [-MAX_MATRIX_POWER, MAX_MATRIX_POWER, -MAX_MATRIX_POWER + 1, -2])
def test_the_gradient_of_a_power_at_the_limit_parses_and_runs(k):
    d = ricci.derivative(f"tr(X^{k})", "X")
    again = ricci.parse(d.text, {"X": "matrix"})  # the answer is in the input language
    x = _point()
    mp = np.linalg.matrix_power
    want = k * mp(x, k - 1).T if k > 0 else k * mp(np.linalg.inv(x), 1 - k).T
    np.testing.assert_allclose(d.evaluate({"X": x}), want, rtol=1e-10)
    np.testing.assert_allclose(ricci.evaluate(again, {"X": x}), want, rtol=1e-10)
    fn = d.function("numpy")
    np.testing.assert_allclose(fn(X=x), want, rtol=1e-10)
