"""How sums are written: a scalar that broadcasts is written alone (W*x + b, as the user wrote
it, not b*vector(1) + W*x), and a minus on an entrywise product is a subtraction in a sum
(a - x.*y, not a + -x.*y).  Each text is also parsed back and evaluated against the derivative's
own numbers, so a display rule cannot change a value."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_values

import ricci


@pytest.mark.parametrize("expression, wrt, kinds, text", [
    ("sum(tanh(W*x + b))", "W", None, "(1 - tanh(W*x + b).^2)*x'"),
    ("sum(sigmoid(W*x + b))", "x", None, "(s.*(1 - s))'*W where s = sigmoid(W*x + b)"),
    ("(x + c)'*A*(x + c)", "x", None, "(x + c)'*(A + A')"),
    ("x'*(x + a)", "x", None, "(2*x + a)'"),
    ("sum(exp(X + a))", "X", None, "exp(X + a)"),
    ("norm2(y - W3*tanh(W2*tanh(W1*x + b1) + b2))^2", "W1", None,
     "-2*((W2'*((W3'*(y - W3*t2)).*(1 - t2.^2))).*(1 - t.^2))*x' where t = tanh(W1*x + b1), t2 = tanh(W2*t + b2)"),
    ("sum(x./(1 + exp(x)))", "x", None, "(1./(1 + exp(x)) - x.*sigmoid(x).*sigmoid(-x))'"),
    ("sum(sqrt(1 + x.^2))", "x", None, "(x./sqrt(1 + x.^2))'"),
])
def test_the_text(expression, wrt, kinds, text):
    d = ricci.derivative(expression, wrt, kinds=kinds)
    assert d.text == text
    values = random_values(expression, kinds, seed=3)
    for name in ("x", "y"):  # keep sqrt/log arguments and the like in their domains
        if name in values:
            values[name] = np.abs(values[name]) + 0.5
    np.testing.assert_allclose(ricci.evaluate(d.text, values, kinds=kinds), d.evaluate(values),
                               rtol=1e-10, atol=1e-12)


def test_a_broadcast_scalar_alone_stays_a_vector():
    # the only term: writing b alone would make the answer a scalar
    assert ricci.derivative("x + a", "a").text == "vector(1)"
    assert ricci.derivative("X + a", "a").text == "matrix(1)"


def test_numbers_keep_their_place():
    assert ricci.derivative("sum(log(1 + exp(x)))", "x", 2).text == "diag(sigmoid(x).*(1 - sigmoid(x)))"
