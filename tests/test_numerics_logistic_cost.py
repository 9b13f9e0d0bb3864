"""Issue 22, acceptance 3: the logistic loss's value and gradient in generated NumPy code cost
what the naive log(1 + exp(u)) and exp(u)/(1 + exp(u)) cost, and stay exact.

Where u ≤ 88 throughout (exp cannot overflow, in float32 either) the code takes the naive
e = exp(u), v = 1 + e, sigmoid = e/v, and the sum of log(v), adding the rounding errors of
1 + e (each below 2^-53) only where that sum is below m/4, so that they could matter; elsewhere
the stable e = exp(-|u|) (codegen/backends.py, softplus_lines; docs/numerics.md).  The passes
are counted with tests/test_stable_cost_forms.py's recording array (a count, not a timing);
both sides and both switch points are checked against mpmath at 60 digits.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_stable_cost_forms import _close, _ufuncs

import ricci

mpmath = pytest.importorskip("mpmath")
mp = mpmath.mp

LOGISTIC = "sum(log(1 + exp(-y.*(X*w))))"


def _naive(y, X, w):
    t = -(y * (X @ w))
    e = np.exp(t)
    return float(np.sum(np.log(1 + e))), -((y * (e / (1 + e))) @ X)


def _oracle(u):
    """sum(softplus(u)) and sigmoid(u), entry by entry, at 60 digits."""
    with mp.workdps(60):
        t = [mp.mpf(float(v)) for v in u]
        return float(mp.fsum(mp.log1p(mp.exp(v)) for v in t)), np.array([float(1 / (1 + mp.exp(-v))) for v in t])


def test_the_value_and_gradient_make_the_naive_passes_and_one_more():
    f = ricci.derivative(LOGISTIC, "w").function(with_value=True)
    rng = np.random.default_rng(3)
    values = {"y": np.sign(rng.standard_normal(50)), "X": rng.standard_normal((50, 4)), "w": rng.standard_normal(4)}
    got = _ufuncs(f, **values)
    naive = _ufuncs(_naive, **values)
    # one exp, one log, and no stable form's extra passes (|u|, relu, the rounding error of
    # 1 + e, the sigmoid's selection): the naive passes, with max(u) for the naive ones' 1 + e twice
    assert got.count("exp") == 1 and got.count("log") == 1, got
    assert "absolute" not in got and "maximum" not in got, got
    assert len(got) <= len(naive), (got, naive)


def _softplus_sum_and_sigmoid(x):
    value, grad = ricci.derivative("sum(log(1 + exp(x)))", "x").function(with_value=True, check_finite=True)(
        x=np.asarray(x, dtype=float))
    return float(value), np.asarray(grad)


#: each side of the switch on max(x) (88), and of the sum's m/4 under which the rounding
#: errors of 1 + e are added; entries that are tiny beside others, and all tiny
CASES = {
    "max(x) at the switch": [88.0, -50.0, 3.0],
    "max(x) past the switch": [88.5, -50.0, 3.0],
    "a sum just above m/4": [1.0, 1.0] + [-40.0] * 6,
    "a sum just below m/4": [0.0, 0.0] + [-40.0] * 6,
    "every entry tiny": [-30.0] * 100,
    "entries of -745 and -700": [-745.5, -700.0, -40.0],
    "one large beside tiny ones": [700.0, -36.0, -37.0],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_softplus_and_sigmoid_on_both_sides_of_each_switch_against_mpmath(case):
    x = CASES[case]
    value, grad = _softplus_sum_and_sigmoid(x)
    want_value, want_grad = _oracle(x)
    assert _close(value, want_value, 1e-14), (value, want_value)
    assert _close(grad, want_grad, 1e-14), (grad, want_grad)


@pytest.mark.parametrize("scale", [0.1, 1.0, 10.0, 30.0, 100.0])
def test_the_logistic_loss_and_gradient_at_random_margins_against_mpmath(scale):
    rng = np.random.default_rng(int(scale * 10))
    X = rng.standard_normal((300, 3)) * scale
    y, w = np.sign(rng.standard_normal(300)), np.array([1.0, -0.5, 0.25])
    value, grad = ricci.derivative(LOGISTIC, "w").function(with_value=True, check_finite=True)(y=y, X=X, w=w)
    u = -y * (X @ w)
    want_value, s = _oracle(u)
    with mp.workdps(60):
        want_grad = np.array([float(-mp.fsum(mp.mpf(float(y[i] * X[i, j])) * mp.mpf(float(s[i])) for i in range(300)))
                              for j in range(3)])
    assert _close(float(value), want_value, 1e-13), (float(value), want_value)
    # the gradient is a sum of terms of both signs: relative to its largest term
    assert np.allclose(grad, want_grad, rtol=1e-13, atol=1e-13 * np.max(np.abs(y[:, None] * X)))


@pytest.mark.parametrize("t", [-800.0, -40.0, 1.0, 88.0, 900.0])
def test_a_scalar_softplus_beside_its_sigmoid_takes_a_python_float(t):
    # the block's switch on a scalar compares it as it is (a Python float has no .max())
    f = ricci.derivative("log(1 + exp(t))", "t", 1, {"t": "scalar"}).function(with_value=True, check_finite=True)
    value, grad = f(t=t)
    want_value, want_grad = _oracle([t])
    assert _close(value, want_value, 1e-14) and _close(grad, want_grad[0], 1e-14), (value, grad, want_value, want_grad)


def test_no_data_gives_a_loss_of_0_and_a_zero_gradient():
    # an empty u: the block's switch reads min/max with an initial value (a bare .min() raised)
    f = ricci.derivative(LOGISTIC, "w").function(with_value=True, check_finite=True)
    value, grad = f(y=np.zeros(0), X=np.zeros((0, 3)), w=np.ones(3))
    assert value == 0.0 and np.array_equal(grad, np.zeros(3))
