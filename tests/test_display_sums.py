"""How sums are written: a scalar that broadcasts is written alone (W*x + b, as the user wrote
it, not b*vector(1) + W*x), a minus on an entrywise product is a subtraction in a sum
(a - x.*y, not a + -x.*y), and the squared norm of a sum stays a norm (norm2(x - y)^2, not
(x - y)'*(x - y)).  Each text is also parsed back and evaluated against the derivative's
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
    ("sum(x./(1 + exp(x)))", "x", None, "(sigmoid(-x) - x.*sigmoid(x).*sigmoid(-x))'"),  # a lone 1/(1 + exp(x))
    ("sum(sqrt(1 + x.^2))", "x", None, "(x./sqrt(1 + x.^2))'"),
    ("exp(-norm2(x - y)^2/(2*sigma^2))", "x", None,
     "-exp(-0.5*norm2(x - y)^2/sigma^2)*(x - y)'/sigma^2"),
    ("log(norm2(x - y)^2)", "x", None, "2*(x - y)'/norm2(x - y)^2"),
    ("((A*x - b)'*(A*x - b))^3", "x", {"b": "vector"}, "6*norm2(A*x - b)^4*(A*x - b)'*A"),
    ("exp(x'*x)", "x", None, "2*exp(x'*x)*x'"),  # a quadratic form stays one
    ("tr(A)*x", "x", None, "tr(A)*eye(len(x))"),  # the sum of a diagonal is a trace
    # a root below the line; Σ x_i² is x'*x in the IR (one form, so that the two cancel)
    ("sqrt(sum(x.^2) + epsilon)", "x", None, "x'/sqrt(x'*x + epsilon)"),
    ("1/sqrt(x'*x + 1)", "x", None, "-x'/(1 + x'*x)^1.5"),  # sqrt(u)^2*u^0.5 is u^1.5
    # y.*(1 - s) - s.*(1 - y) multiplied out cancels to y - s (simplify/textbook.py)
    ("y'*log(sigmoid(X*w)) + (1 - y)'*log(1 - sigmoid(X*w))", "w", None, "(y - sigmoid(X*w))'*X"),
    ("sum(diag(A))*tr(B)*x", "x", None, "tr(A)*tr(B)*eye(len(x))"),
    ("(x'*A'*A*x)/(x'*B'*B*x)", "x", None,
     "2*x'*(A'*A/(x'*B'*B*x) - x'*A'*A*x*B'*B/(x'*B'*B*x)^2)"),
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
    # the only term: writing b alone would make the answer a scalar; nothing else in the text
    # fixes the size of the ones, so it is written out (tests/test_zeros_and_sizes.py)
    assert ricci.derivative("x + a", "a").text == "vector(1, len(x))"
    assert ricci.derivative("X + a", "a").text == "matrix(1, size(X))"


def test_ones_that_only_scale_and_minus_signs_leave_the_entrywise_product():
    d = ricci.derivative("y'*log(sigmoid(X*w)) + (1 - y)'*log(1 - sigmoid(X*w))", "w", 2)
    # was X'*diag((-1*y.^0).*s.*(1 - s))*X, then -X'*diag(s.*(1 - s))*X; multiplied out, the
    # terms in y cancel (simplify/textbook.py) and the sign stays inside
    assert d.text == "X'*diag(s.*(s - 1))*X where s = sigmoid(X*w)"
    assert d.check().passed


def test_numbers_keep_their_place():
    assert ricci.derivative("sum(log(1 + exp(x)))", "x", 2).text == "diag(sigmoid(x).*(1 - sigmoid(x)))"


@pytest.mark.parametrize("expression, wrt, text", [
    ("tr(A)*x", "x", "tr(A)*eye(len(x))"), ("alpha*x + beta*y", "x", "alpha*eye(len(x))"),
    ("x", "x", "eye(len(x))"), ("sum(X)", "X", "matrix(1, size(X))"), ("sum(x)", "x", "vector(1, len(x))'"),
    ("X + a", "a", "matrix(1, size(X))"),
])
def test_a_size_less_answer_evaluates_with_the_functions_values(expression, wrt, text):
    # eye, vector(1), matrix(1): no other part of the text fixes their size, so the text writes
    # it out (it was taken from the values of the function's other variables, a guess)
    d = ricci.derivative(expression, wrt)
    assert d.text == text
    values = random_values(expression, seed=5, sizes={"m": 3, "n": 4})
    got, expected = ricci.evaluate(d.text, values), d.evaluate(values)
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_a_size_left_in_doubt_is_an_error_that_names_it():
    # the answer says the size now (vector(1, len(x))'); a size-less constant alone still errs
    d = ricci.derivative("sum(x) + sum(y)", "x")
    assert d.text == "vector(1, len(x))'"
    with pytest.raises(ricci.BadValueError, match="the size .* of vector\\(1\\) is not fixed by any value"):
        ricci.evaluate("vector(1)'", {"x": np.ones(3), "y": np.ones(4)})  # 3 or 4?
    np.testing.assert_array_equal(ricci.evaluate(d.text, {"x": np.ones(3), "y": np.ones(4)}), np.ones(3))


@pytest.mark.parametrize("expression, order, text", [
    ("[x1; x2]'*[x1; x2]", 1, "[2*x1, 2*x2]"),
    ("[x1; x2]'*[x1; x2]", 2, "[2, 0; 0, 2]"),
    ("exp([x1, x2]*[x1; x2])", 1, "[2*x1*exp(x1^2 + x2^2), 2*x2*exp(x1^2 + x2^2)]"),
    ("[a, b; c, d]*[x1; x2]", 1, "[a, b; c, d]"),
    ("x1 + x2", 2, "[0, 0; 0, 0]"),
])
def test_literals_contract_entry_by_entry(expression, order, text):
    # [1, 0]*[x1; x2] is x1: the derivative of a literal by one of its scalars selects an entry
    d = ricci.derivative(expression, ["x1", "x2"], order)
    assert d.text == text
    values = {"x1": 0.3, "x2": -0.7, "a": 1.5, "b": 2.0, "c": -1.0, "d": 0.5}
    values = {k: v for k, v in values.items() if k in d.expression.variables}
    np.testing.assert_allclose(ricci.evaluate(d.text, values), d.evaluate(values), rtol=1e-12)
    assert d.check().passed


def test_a_number_times_a_sum_is_opened_when_that_cancels():
    # 2*y/(c*b^2) + 2*(1 - y/b^2)/c is 2/c; contracted with sign(u)' it is a sum of signs
    d = ricci.derivative("sqrt(norm1((b + y/b)*b/c))", "b", 2)
    assert d.text.startswith("sum(sign(u))*(1/(c*sqrt(sum(abs(u)))) - ")
    assert all(d.check(seed=s).passed for s in range(6))


def test_the_check_of_the_text_allows_round_off_where_the_derivative_is_zero():
    # here the second derivative is 0: the IR gives -3e-16, the text -2e-32 (same numbers,
    # other order of operations); that is no mismatch
    d = ricci.derivative("sqrt(norm1((b + y/b)*b/c))", "b", 2)
    values = {"b": 0.7, "c": 0.9, "y": np.array([1.3, -2.1])}
    assert abs(d.evaluate(values)) < 1e-14
    report = d.check(values=values)
    assert report.passed and report.text_checked


def test_a_number_that_does_not_read_short_stays_a_function_of_a_number():
    d = ricci.derivative("2.^x", "x")
    assert d.text == "log(2)*diag(2.^x)"  # not 0.6931471805599453*diag(2.^x)
    assert d.check().passed
    assert ricci.derivative("sqrt(4)*x'*x", "x").text == "4*x'"  # sqrt(4) is 2: folded
