"""The cheap paths of the stable forms in generated code (issue 22, acceptance point 3).

The stable forms must cost at most 1.1× the naive ones (benchmarks/stable_forms.py).  Three got
cheaper paths, and each is checked here where it switches, against mpmath at 60 digits, in
every backend that has the form:

* ``norm2``: one sum of squares s = x·x, its square root where s is a normal float whose square
  does not underflow; the scaled form (max |x|, one more pass) only where s overflowed, is 0 or
  is so small that squares of entries could have underflowed beside it (NumPy and PyTorch; JAX
  and the array API always scale, and must be as exact);
* softplus beside sigmoid (a logistic loss and its gradient): one exp and one log of
  v = 1 + e, e = exp(-|u|), with log1p(e) as log(v) plus the rounding error of v, which is exact;
* softmax and log-sum-exp: NumPy's reductions as the array's own methods (np.max and np.sum
  cost a microsecond of Python each), and the shift by max(u) only where exp could overflow or
  lose entries.

Which passes the generated NumPy code makes is counted with an array subclass that records every
ufunc it goes through: a count, not a timing (timings are in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ricci
from helpers import backend_array

mpmath = pytest.importorskip("mpmath")
mp = mpmath.mp

BACKENDS = ["numpy", "jax", "torch", "array_api"]
#: below the smallest normal float64 a value has no relative precision to speak of
TINY = 2.3e-308


def _close(got, want, rtol: float, atol: float = TINY) -> bool:
    got = np.asarray(got, dtype=float)
    want = np.asarray(want, dtype=float)
    return bool(np.all(np.isfinite(got)) and np.all(np.abs(got - want) <= rtol * np.abs(want) + atol))


def _back(r) -> np.ndarray:
    """A backend's result as a NumPy array of float64."""
    if hasattr(r, "detach"):
        r = r.detach().numpy()
    return np.asarray(r, dtype=float)


def _float32(backend: str):
    """NumPy value → the backend's float32 array (skipped where the backend is missing)."""
    if backend == "jax":
        jnp = pytest.importorskip("jax.numpy")
        return lambda v: jnp.asarray(np.asarray(v, dtype=np.float32))
    if backend == "torch":
        torch = pytest.importorskip("torch")
        return lambda v: torch.tensor(np.asarray(v, dtype=np.float32))
    if backend == "array_api":
        xps = pytest.importorskip("array_api_strict")
        return lambda v: xps.asarray(np.asarray(v, dtype=np.float32))
    return lambda v: np.asarray(v, dtype=np.float32)


def _dps(values) -> int:
    """60 digits beyond those that a tiny entry needs to be seen beside 1."""
    return 60 + max([0] + [-math.floor(math.log10(abs(float(t)))) for t in np.ravel(values) if t])


# -- counting the passes of generated NumPy code ----------------------------------------------------

class _Counted(np.ndarray):
    """An array that records each ufunc it goes through (its results are counted arrays too)."""

    calls: list = []

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _Counted.calls.append(ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}")
        inputs = tuple(np.asarray(a) if isinstance(a, _Counted) else a for a in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(np.asarray(a) if isinstance(a, _Counted) else a for a in kwargs["out"])
        out = getattr(ufunc, method)(*inputs, **kwargs)
        return out.view(_Counted) if isinstance(out, np.ndarray) else out


def _ufuncs(f, **values) -> list[str]:
    _Counted.calls = []
    f(**{k: np.asarray(v, dtype=float).view(_Counted) for k, v in values.items()})
    return list(_Counted.calls)


def test_the_counter_sees_every_pass():
    # the referee first: a naive softmax is an exp, a sum and a division
    calls = _ufuncs(lambda x: np.exp(x) / np.sum(np.exp(x)), x=np.ones(3))
    assert sorted(calls) == ["add.reduce", "divide", "exp", "exp"]


# -- norm2 ------------------------------------------------------------------------------------------

#: sqrt of the smallest subnormal float64: a sum of squares below it has a square that underflows
SWITCH = math.sqrt(5e-324)

NORM_CASES = {
    "ordinary": [3.0, -4.0, 12.0],
    "sum of squares above 1": [0.5, 0.75, 0.5],
    "sum of squares just below 1": [0.5, 0.5, 0.7],
    # s = x·x just above and just below the switch (the entries' squares are normal)
    "just above the switch": [math.sqrt(SWITCH * 1.01), 0.0, 0.0],
    "just below the switch": [math.sqrt(SWITCH * 0.99), 0.0, 0.0],
    # entries whose squares underflow (to subnormals or 0) beside one whose square is normal
    "squares underflowing beside a normal one": [1.2e-80, 3e-160, -1e-170],
    "every square underflows": [1e-200, -3e-200, 2e-250],
    "every square overflows": [1e200, -3e200, 2e199],
    "the sum of squares overflows": [1e154, 1e154, 1.5e154],
    "one entry of 1e300": [1e300, 1.0, -1.0],
}


def _norm_oracle(x):
    with mp.workdps(_dps(x)):
        norm = mp.sqrt(mp.fsum(mp.mpf(float(t)) ** 2 for t in x))
        return float(norm), np.array([float(mp.mpf(float(t)) / norm) for t in x])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(NORM_CASES))
@pytest.mark.parametrize("text", ["norm2(x)", "sqrt(x'*x)"])
def test_norm2_at_its_switch_against_mpmath(text, case, backend):
    to = backend_array(backend)
    x = np.array(NORM_CASES[case])
    norm, grad = _norm_oracle(x)
    # no warning either (pytest turns one into an error): x·x overflowing says nothing
    value, got = ricci.derivative(text, "x").function(backend, with_value=True, check_finite=True)(x=to(x))
    assert _close(float(value), norm, 1e-14), (case, float(value), norm)
    assert _close(_back(got), grad, 1e-14), (case, _back(got), grad)


def test_norm2_under_jax_jit():
    jax = pytest.importorskip("jax")
    to = backend_array("jax")
    f = jax.jit(ricci.derivative("norm2(x)", "x").function("jax", with_value=True))
    for case in ("ordinary", "just below the switch", "every square overflows", "every square underflows"):
        x = np.array(NORM_CASES[case])
        norm, grad = _norm_oracle(x)
        value, got = f(x=to(x))
        assert _close(float(value), norm, 1e-14), case
        assert _close(_back(got), grad, 1e-14), case


@pytest.mark.parametrize("backend", BACKENDS)
def test_norm2_of_the_zero_vector_is_0(backend):
    to = backend_array(backend)
    f = ricci.derivative("norm2(X)", "X").function(backend, with_value=True)
    with np.errstate(all="ignore"):  # the gradient X/0 is not defined there
        got = f(X=to(np.zeros((2, 3))))[0]
    assert float(got) == 0.0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("scale", [1e-30, 1e-20, 1.0, 1e18, 1e30])
def test_norm2_in_float32_stays_float32_and_right(scale, backend):
    # float32's own edges: its sum of squares under- and overflows at entries of 1e-23 and 1e19
    to = _float32(backend)
    x = np.array([3.0, -4.0, 12.0], dtype=np.float32) * np.float32(scale)
    norm, grad = _norm_oracle(x)
    value, got = ricci.derivative("norm2(x)", "x").function(backend, with_value=True)(x=to(x))
    assert str(got.dtype).endswith("float32")
    assert _close(float(value), norm, 1e-6, 0.0)
    assert _close(_back(got), grad, 1e-6, 0.0)


def test_norm2_reads_x_once_for_its_norm_where_that_is_exact():
    f = ricci.derivative("norm2(x)", "x").function(with_value=True)
    ordinary = _ufuncs(f, x=[3.0, -4.0, 12.0])
    assert "absolute" not in ordinary and "maximum.reduce" not in ordinary, ordinary
    # and the scaled form where the sum of squares overflows
    assert {"absolute", "maximum.reduce"} <= set(_ufuncs(f, x=[1e200, -3e200, 2e199]))


# -- softplus beside sigmoid: one exp, one log ---------------------------------------------------------

def _softplus_oracle(x):
    with mp.workdps(_dps(x)):
        t = [mp.mpf(float(v)) for v in x]
        value = mp.fsum(mp.log1p(mp.exp(v)) for v in t)
        return float(value), np.array([float(1 / (1 + mp.exp(-v))) for v in t])


#: single entries (so that no tiny softplus hides beside a large one in the sum) and pairs
MARGINS = [[-1000.0], [-745.5], [-709.9], [-100.0], [-40.0], [-36.7], [-1.0], [-1e-300], [0.0], [1e-300],
           [1e-8], [0.5], [36.7], [40.0], [709.9], [1000.0], [-1000.0, 1000.0], [-37.5, -38.5], [3.0, -3.0]]


@pytest.mark.parametrize("backend", BACKENDS)
def test_softplus_and_sigmoid_sharing_one_exp_against_mpmath(backend):
    to = backend_array(backend)
    f = ricci.derivative("sum(log(1 + exp(x)))", "x").function(backend, with_value=True, check_finite=True)
    for x in MARGINS:
        value, got = f(x=to(np.array(x)))
        want_value, want_grad = _softplus_oracle(x)
        assert _close(float(value), want_value, 1e-13), (x, float(value), want_value)
        assert _close(_back(got), want_grad, 1e-13), (x, _back(got), want_grad)


def _logistic_oracle(X, y, w):
    with mp.workdps(_dps(np.concatenate([X.ravel(), y, w]))):
        u = [-float(y[i]) * mp.fsum(mp.mpf(float(X[i, j])) * mp.mpf(float(w[j])) for j in range(len(w)))
             for i in range(len(y))]
        value = mp.fsum(mp.log1p(mp.exp(t)) for t in u)
        s = [1 / (1 + mp.exp(-t)) for t in u]  # σ(u): d softplus(u)/du
        grad = [float(-mp.fsum(float(y[i]) * s[i] * mp.mpf(float(X[i, j])) for i in range(len(y))))
                for j in range(len(w))]
        return float(value), np.array(grad)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("margin", [1e3, 40.0, 1.0, 1e-300])
def test_the_logistic_loss_and_gradient_at_large_margins(margin, backend):
    to = backend_array(backend)
    X = np.array([[margin, 0.0], [0.0, 1.0], [-margin, 2.0]])
    y, w = np.array([-1.0, 1.0, 1.0]), np.array([1.0, -0.5])
    d = ricci.derivative("sum(log(1 + exp(-y.*(X*w))))", "w")
    value, got = d.function(backend, with_value=True, check_finite=True)(y=to(y), X=to(X), w=to(w))
    want_value, want_grad = _logistic_oracle(X, y, w)
    assert _close(float(value), want_value, 1e-13), (float(value), want_value)
    assert _close(_back(got), want_grad, 1e-13), (_back(got), want_grad)


@pytest.mark.parametrize("backend", BACKENDS)
def test_softplus_and_sigmoid_in_float32(backend):
    to = _float32(backend)
    x = np.array([-1000.0, -100.0, -40.0, -1.0, 0.0, 0.5, 20.0, 88.0, 100.0, 1000.0], dtype=np.float32)
    value, got = ricci.derivative("sum(log(1 + exp(x)))", "x").function(backend, with_value=True)(x=to(x))
    want_value, want_grad = _softplus_oracle(x)
    assert str(got.dtype).endswith("float32")
    assert _close(float(value), want_value, 1e-6, 0.0)
    assert _close(_back(got), want_grad, 1e-6, 1e-37)


def test_softplus_beside_sigmoid_costs_one_exp_and_one_log():
    f = ricci.derivative("sum(log(1 + exp(-y.*(X*w))))", "w").function(with_value=True)
    calls = _ufuncs(f, y=[1.0, -1.0], X=[[1.0, 2.0], [3.0, -4.0]], w=[0.5, 0.25])
    assert calls.count("exp") == 1 and calls.count("log") == 1 and "log1p" not in calls, calls


# -- softmax and log-sum-exp ----------------------------------------------------------------------------

def _lse_oracle(x):
    with mp.workdps(_dps(x)):
        t = [mp.mpf(float(v)) for v in x]
        lse = mp.log(mp.fsum(mp.exp(v) for v in t))
        return float(lse), np.array([float(mp.exp(v - lse)) for v in t])


#: around the shift's switch: max(x) at 0 and 60, entries whose exp underflows, overflows
SOFTMAX_CASES = {
    "ordinary": [0.5, -1.0, 2.0],
    "the largest 0": [0.0, -3.0, -800.0],
    "the largest just below 0": [-1e-3, -3.0, -2.0],
    "the largest just above 0": [1e-3, -700.0, -745.0],
    "the largest 60": [60.0, 59.0, -650.0],
    "the largest just above 60": [60.5, 60.0, -1.0],
    "all below 0": [-500.0, -1000.0, -1200.0],
    "overflowing": [1000.0, 1000.0, 999.0],
    "log-probabilities": [math.log(0.2), math.log(0.3), math.log(0.5)],
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(SOFTMAX_CASES))
def test_logsumexp_and_softmax_at_the_shifts_switch(case, backend):
    to = backend_array(backend)
    x = np.array(SOFTMAX_CASES[case])
    value, got = ricci.derivative("log(sum(exp(x)))", "x").function(backend, with_value=True,
                                                                     check_finite=True)(x=to(x))
    want_value, want_grad = _lse_oracle(x)
    # the value is max(x) + log(Σ exp(x - max(x))): near 0, relative to the size of its terms
    assert _close(float(value), want_value, 1e-13, 1e-15 * max(1.0, np.max(np.abs(x)))), (float(value), want_value)
    assert _close(_back(got), want_grad, 1e-13), (_back(got), want_grad)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("x", [[0.5, -1.0, 2.0], [60.0, 59.0, -60.0], [100.0, 90.0, 0.0], [-100.0, -120.0, -90.0]])
def test_softmax_in_float32(x, backend):
    # exp overflows float32 at 88.7: the shift's switch must hold in float32 too
    to = _float32(backend)
    x = np.array(x, dtype=np.float32)
    got = ricci.derivative("log(sum(exp(x)))", "x").function(backend)(x=to(x))
    assert str(got.dtype).endswith("float32")
    assert _close(_back(got), _lse_oracle(x)[1], 1e-5, 1e-30)


def test_softmax_shifts_only_where_exp_could_overflow():
    f = ricci.derivative("log(sum(exp(x)))", "x").function(with_value=True)
    ordinary = _ufuncs(f, x=[0.5, -1.0, 2.0])
    # (the log of the sum is of a scalar: not counted)
    assert sorted(ordinary) == ["add.reduce", "divide", "exp", "maximum.reduce"], ordinary
    assert "subtract" in _ufuncs(f, x=[1000.0, 1000.0, 999.0])
