"""Issue 17, acceptance 1 along an axis: the generated code of a derivative of softmax(X, k),
log_softmax(X, k) or logsumexp(X, k) is stable at large inputs, as its value and d.evaluate are.

Each derivative is computed at X and at X + 1000 (each row or column shifted, which leaves these
derivatives unchanged): in every installed backend both are finite and equal, and equal to
finite differences of the function's own evaluation at X (tests/helpers.numeric_derivative).
Written as calculus reads them, exp(X) and its row sums are inf at X + 1000 and the code gave
NaN there.
"""

from __future__ import annotations

import numpy as np
import pytest

import ricci
from helpers import backend_array, numeric_derivative

RNG = np.random.default_rng(17)
X34 = RNG.normal(size=(3, 4))

def _attention():
    # K's first column all ones: Q[:, 0] + 1000*c moves each row of Q*K'/c by 1000, which leaves
    # the row-wise softmax and its derivatives unchanged
    K = RNG.normal(size=(4, 2))
    K[:, 0] = 1.0
    near = {"Q": RNG.normal(size=(3, 2)), "K": K, "V": RNG.normal(size=(4, 2)), "c": 1.5}
    return near, dict(near, Q=near["Q"] + np.array([1500.0, 0.0]))


def _plus_1000(values, name):
    return values, dict(values, **{name: values[name] + 1000.0})


# (expression, variable, values, values where exp overflows but the derivative is the same)
CASES = [
    ("sum(log_softmax(X, 2).*Y)", "X", *_plus_1000({"X": X34, "Y": RNG.normal(size=(3, 4))}, "X")),
    ("sum(softmax(X, 1).*Y)", "X", *_plus_1000({"X": X34, "Y": RNG.normal(size=(3, 4))}, "X")),
    ("logsumexp(X, 1)*w", "X", *_plus_1000({"X": X34, "w": RNG.normal(size=4)}, "X")),
    ("w'*logsumexp(X, 2)", "X", *_plus_1000({"X": X34, "w": RNG.normal(size=3)}, "X")),
    ("sum(sum(softmax(Q*K'/c, 2)*V))", "Q", *_attention()),
]
IDS = [f"{e} by {w}" for e, w, _, _ in CASES]


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch", "array_api"])
@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("expression, wrt, near, far", CASES, ids=IDS)
def test_generated_derivative_along_an_axis_is_stable(expression, wrt, near, far, order, backend):
    convert = backend_array(backend)
    d = ricci.derivative(expression, wrt, order=order)
    near = {n: near[n] for n in d.expression.variables}
    far = {n: far[n] for n in d.expression.variables}
    f = d.function(backend)
    with np.errstate(all="raise"):  # an overflow in NumPy code is a failure, not a warning
        got_near = np.asarray(f(**{n: convert(v) for n, v in near.items()}), dtype=float)
        got_far = np.asarray(f(**{n: convert(v) for n, v in far.items()}), dtype=float)
    assert np.all(np.isfinite(got_far)), f"not finite at large inputs:\n{d.code(backend)}"
    np.testing.assert_allclose(got_far, got_near, rtol=1e-8, atol=1e-10)
    # the same numbers as d.evaluate, and as finite differences of the function at the point
    np.testing.assert_allclose(got_near, d.evaluate(near), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_far, d.evaluate(far), rtol=1e-8, atol=1e-10)
    fd = numeric_derivative(expression, wrt, near, order=order)
    np.testing.assert_allclose(got_near.reshape(np.shape(fd)), fd, rtol=1e-4, atol=1e-6)


def test_exp_elsewhere_is_not_shifted():
    # exp(X).*Y beside a row softmax: shifting exp(X) there would change the answer, so the
    # code keeps it as written (right at ordinary inputs; only the shift-free part is shifted)
    expression = "sum(exp(X).*Y) + w'*logsumexp(X, 2)"
    values = {"X": X34, "Y": RNG.normal(size=(3, 4)), "w": RNG.normal(size=3)}
    d = ricci.derivative(expression, "X")
    got = np.asarray(d.function("numpy")(**values))
    fd = numeric_derivative(expression, "X", values)
    np.testing.assert_allclose(got, fd, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got, d.evaluate(values), rtol=1e-10, atol=1e-12)
