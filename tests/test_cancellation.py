"""Terms that are equal cancel, whichever way the input spells them.

The IR has one form for each of: Σ_i x_i² and Σ_i x_i x_i (``sum(x.^2)`` is ``x'*x``); a scalar
contraction and its own power (``x'*x/(x'*x)^2`` is ``1/(x'*x)``); a number times a sum whose
terms meet other terms (``2*(a + b) - 2*a`` is ``2*b``); ``sqrt(u)`` and ``u^0.5``.  Each case checks the text and the
numbers of ``d.evaluate`` against a closed form.
"""

from __future__ import annotations

import numpy as np
import pytest

import ricci

X = np.array([0.3, -1.2, 0.8, 2.0])
Y = np.array([1.1, 0.4, -0.7, 0.2])


@pytest.mark.parametrize("expression, wrt, text, closed", [
    ("x'*x/(x'*x)", "x", "vector(0, len(x))'", lambda v: np.zeros(4)),
    ("sum(x.^2)/(x'*x)", "x", "vector(0, len(x))'", lambda v: np.zeros(4)),
    ("sum((A*x).^2) - x'*A'*A*x", "x", "vector(0, len(x))'", lambda v: np.zeros(4)),
    ("x'*x - 2*x'*y + y'*y - norm2(x - y)^2", "x", "vector(0, len(x))'", lambda v: np.zeros(4)),
    ("(x'*y)^2/(x'*y)", "x", "y'", lambda v: v["y"]),
    ("(a + b)^2 - a^2", "a", "2*b", lambda v: 2 * v["b"]),
    ("(x'*A*x)^2/(x'*A*x)", "x", "x'*(A + A')", lambda v: v["x"] @ (v["A"] + v["A"].T)),
    # sqrt(u) is u^0.5 in the IR: it meets the other powers of u
    ("sqrt(a)*sqrt(a)", "a", "1", lambda v: 1.0),
    ("sqrt(a)^3", "a", "1.5*sqrt(a)", lambda v: 1.5 * np.sqrt(v["a"])),
    ("sqrt(x'*x)^2", "x", "2*x'", lambda v: 2 * v["x"]),
    ("sqrt(x'*x)", "x", "x'/norm2(x)", lambda v: v["x"] / np.linalg.norm(v["x"])),
])
def test_equal_terms_cancel(expression, wrt, text, closed):
    rng = np.random.default_rng(0)
    values = {"x": X, "y": Y, "a": 0.7, "b": -1.3, "A": rng.normal(size=(4, 4))}
    d = ricci.derivative(expression, wrt)
    assert d.text == text
    used = {n: values[n] for n in d.expression.variables}
    np.testing.assert_allclose(d.evaluate(used), closed(values), atol=1e-12)


def test_a_square_that_shares_its_index_stays_a_square():
    # X'*diag(y.^2)*X: y_r² shares r with X, so it is not written y.*y
    d = ricci.derivative("x'*X'*diag(y.^2)*X*x", "x")
    assert "y.^2" in d.text


def test_a_power_with_indices_in_its_exponent_is_left_alone():
    # found by tools/hunt.py: a scalar contraction raised to a power whose exponent has
    # indices is not merged with the contraction (it looped without end: folded, not merged,
    # flattened, folded again; RecursionError)
    d = ricci.derivative("(x'*x).^y*(x'*x)", "x")
    x, y = X, np.abs(Y)
    c = x @ x
    # f_i = c^(y_i + 1): ∂f_i/∂x = (y_i + 1) c^y_i 2x'
    expected = np.outer((y + 1) * c ** y, 2 * x)
    np.testing.assert_allclose(d.evaluate({"x": x, "y": y}), expected, rtol=1e-12)
