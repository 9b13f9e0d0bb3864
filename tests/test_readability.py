"""Answers written the way a textbook writes them: the display rules of ricci.simplify.matrix.

Each test pins the exact text of a few general cases of one rule (not only the Cookbook's) and
checks, through :func:`helpers.check_derivative`, that the text is right: finite differences,
``d.evaluate`` and the re-parsed text agree on random values with a different size per
dimension.  The rules:

* **names for repeated function applications** (``… where t = tanh(W*x)``): a mnemonic letter
  (s for sigmoid, t for tanh, p for a distribution v/sum(v), upper case for a matrix), given
  where the name shortens the text (the word ``where`` not counted) and the application occurs
  three times, or twice as part of a sum's arithmetic when it applies to more than a variable;
* **a transpose distributed over a sum** when that leaves fewer transposes of matrices and of
  products: x'*(A + A') + b' rather than ((A + A')*x + b)';
* **a minus on the first factor of an entrywise product**: -y.*(X*w), which parses back to
  (-y).*(X*w), the same value as -(y.*(X*w));
* **an inner product in the order the input wrote it**: exp(a'*x) stays a'*x;
* **inv(P*Q) = inv(Q)*inv(P) for square factors of one size**, as far as it cancels:
  X*inv(X*X) = inv(X);
* **a multiple of the identity last in a sum**: X'*X + lambda*eye, as a textbook writes A + λI.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import pinned, random_values

import ricci


# -- names for repeated function applications ----------------------------------------------------
@pytest.mark.parametrize("expression, wrt, order, kinds, text", [
    # three times, even of a bare variable: s
    ("sum(sigmoid(x))", "x", 2, None, "diag(s.*(1 - s).*(1 - 2*s)) where s = sigmoid(x)"),
    ("sum(sigmoid(x.*y))", "x", 2, None, "diag(y.^2.*s.*(1 - s).*(1 - 2*s)) where s = sigmoid(x.*y)"),
    # twice, of a product, in the arithmetic of 1 - t.^2 and 1 - s: t, s
    ("sum(tanh(W*x))", "x", 2, None, "-2*W'*diag(t.*(1 - t.^2))*W where t = tanh(W*x)"),
    ("sum(sigmoid(W*x))", "x", 1, None, "(s.*(1 - s))'*W where s = sigmoid(W*x)"),
    ("sum(log(1 + exp(-y.*(X*w))))", "w", 2, None,
     "X'*diag(y.^2.*s.*(1 - s))*X where s = sigmoid(-y.*(X*w))"),
    # a matrix: an upper-case letter
    ("sum(tanh(X*W).^2)", "X", 1, None, "2*(T.*(1 - T.^2))*W' where T = tanh(X*W)"),
    # a distribution v/sum(v): p, its v counted once
    ("log(sum(exp(x)))", "x", 2, None, "diag(p) - p*p' where p = softmax(x)"),
    ("log(sum(exp(W*x)))", "x", 2, None, "W'*(diag(p) - p*p')*W where p = softmax(W*x)"),
])
def test_repeated_function_application_is_named(expression, wrt, order, kinds, text):
    pinned(expression, wrt, text, order=order, kinds=kinds)


@pytest.mark.parametrize("expression, wrt, kinds, text", [
    # twice, of a bare variable: as easy to read as a name
    ("sum(sigmoid(x))", "x", None, "(sigmoid(x).*(1 - sigmoid(x)))'"),
    # twice, as a factor of separate entries, not in a sum (the lecture's outer gradient)
    ("exp(x1*x2^2)", ["x1", "x2"], {"x1": "scalar", "x2": "scalar"},
     "[x2^2*exp(x1*x2^2), 2*x1*x2*exp(x1*x2^2)]"),
    # the two exp(W*x) of exp(W*x)/sum(exp(W*x)) are one distribution, softmax(W*x)
    ("log(sum(exp(W*x)))", "x", None, "softmax(W*x)'*W"),
])
def test_function_application_left_in_place(expression, wrt, kinds, text):
    pinned(expression, wrt, text, kinds=kinds)


def test_twice_of_a_bare_variable_left_in_place_in_a_hessian():
    pinned("sum(log(1 + exp(x)))", "x", "diag(sigmoid(x).*(1 - sigmoid(x)))", order=2)


def test_name_avoids_variables_and_numbers_repeats():
    # s and t are variables here: the letters of ricci's other names (u for a vector) instead
    pinned("sum(sigmoid(s))", "s", "diag(u.*(1 - u).*(1 - 2*u)) where u = sigmoid(s)", order=2)
    pinned("sum(tanh(A*t))", "t", "-2*A'*diag(u.*(1 - u.^2))*A where u = tanh(A*t)", order=2)
    # two sigmoid applications: s and s2
    d = ricci.derivative("sum(sigmoid(A*x)) + sum(sigmoid(B*x))", "x", order=2)
    assert d.text.endswith("where s = sigmoid(B*x), s2 = sigmoid(A*x)")


def test_deep_composition_names_each_level_by_its_function():
    d = pinned("sum(tanh(W2*tanh(W1*x)))", "x",
               "((W2'*(1 - tanh(W2*t).^2)).*(1 - t.^2))'*W1 where t = tanh(W1*x)")
    assert d.d.text.count("where") == 1


# -- transposes distributed over a sum ---------------------------------------------------------------
@pytest.mark.parametrize("expression, wrt, kinds, text", [
    ("x'*A*x + b'*x", "x", {"b": "vector"}, "x'*(A + A') + b'"),
    ("x'*A*x + b'*x + c'*x", "x", {"b": "vector", "c": "vector"}, "x'*(A + A') + b' + c'"),
    ("0.5*x'*A*x - b'*x", "x", {"b": "vector"}, "0.5*x'*(A + A') - b'"),
    ("(x - b)'*A*(x - b) + c'*x", "x", {"b": "vector", "c": "vector"}, "(x - b)'*(A + A') + c'"),
    # kept: distributing would add transposes of matrices (s'*A') or of leaves only
    ("norm2(x - s)^2", "x", None, "2*(x - s)'"),
    ("(x - A*s)'*W*(x - A*s)", "s", {"W": "symmetric matrix"}, "-2*(x - A*s)'*W*A"),
    ("norm2(A*x + b)^2", "x", {"b": "vector"}, "2*(A*x + b)'*A"),
])
def test_transpose_of_a_sum(expression, wrt, kinds, text):
    pinned(expression, wrt, text, kinds=kinds)


# -- a minus on the first factor of an entrywise product --------------------------------------------
@pytest.mark.parametrize("expression, wrt, text", [
    ("sum(log(1 + exp(-y.*(X*w))))", "w", "-(y.*sigmoid(-y.*(X*w)))'*X"),
    ("sum(exp(-x.*y))", "x", "(-y.*exp(-x.*y))'"),
])
def test_minus_on_the_first_entrywise_factor(expression, wrt, text):
    pinned(expression, wrt, text)


def test_minus_before_an_entrywise_product_parses_as_its_first_factor():
    # what makes the form above sound: unary minus binds tighter than .* (and looser than .^)
    assert ricci.parse("-y.*z").tree == ricci.parse("(-y).*z").tree
    assert ricci.parse("-y.^2").tree == ricci.parse("-(y.^2)").tree


# -- inner products in the input's order ---------------------------------------------------------
@pytest.mark.parametrize("expression, wrt, order, kinds, text", [
    ("exp(a'*x)", "x", 2, {"a": "vector"}, "exp(a'*x)*a*a'"),
    ("exp(x'*a)", "x", 2, {"a": "vector"}, "exp(x'*a)*a*a'"),
    ("sin(w'*x)", "w", 1, None, "cos(w'*x)*x'"),
    ("exp(q'*p)", "q", 1, None, "exp(q'*p)*p'"),
    # (a column without a product of matrices keeps its transpose outside)
    ("norm2(x)^2*(a'*x)", "x", 1, {"a": "vector"}, "(x'*x*a + 2*(a'*x)*x)'"),
])
def test_inner_product_keeps_the_input_order(expression, wrt, order, kinds, text):
    pinned(expression, wrt, text, order=order, kinds=kinds)


# -- inverses of products of square matrices -----------------------------------------------------------
@pytest.mark.parametrize("expression, text", [
    ("det(X*X)", "2*det(X*X)*inv(X)'"),
    ("det(X*X*X)", "3*det(X^3)*inv(X)'"),  # three equal factors in a row: a power
    ("logdet(X*Y*X) + tr(Y)", "2*inv(X)'"),
    # X square (tr(X)), A then too: inv(X'*A*X) = inv(X)*inv(A)*inv(X)'
    ("det(X'*A*X) + tr(X)", "2*det(X'*A*X)*inv(X)' + eye"),
])
def test_inverse_of_a_product_of_square_matrices(expression, text):
    pinned(expression, "X", text)


@pytest.mark.parametrize("expression, text", [
    # X and Y need not be square (X*Y is): inv(X*Y) does not split
    ("det(X*Y)", "det(X*Y)*inv(X*Y)'*Y'"),
    # X tall: X'*A*X is square, X is not
    ("det(X'*A*X)", "det(X'*A*X)*(A*X*inv(X'*A*X) + A'*X*inv(X'*A*X)')"),
])
def test_inverse_of_a_product_of_non_square_matrices_stays(expression, text):
    values = random_values(expression, shapes={"X": (5, 3)})
    if "A" in values:  # invertible X'*A*X (and X'*A'*X)
        values["A"] = 2 * np.eye(5) + 0.3 * np.random.default_rng(54).uniform(-1, 1, (5, 5))
    pinned(expression, "X", text, values=values)


# -- a multiple of the identity last in a sum, as A + λI -------------------------------------------
@pytest.mark.parametrize("expression, wrt, order, text", [
    ("logdet(X'*X + lambda*eye)", "X", 1, "2*X*inv(X'*X + lambda*eye)"),
    ("norm2(y - X*w)^2 + lambda*norm2(w)^2", "w", 2, "2*(X'*X + lambda*eye)"),
    ("a*x + A*x", "x", 1, "A + a*eye"),
])
def test_a_multiple_of_the_identity_goes_last(expression, wrt, order, text):
    values = None
    if expression.startswith("logdet"):  # X'*X + lambda*eye positive definite: lambda > 0
        values = {"X": np.random.default_rng(2).normal(size=(5, 3)), "lambda": 0.7}
    pinned(expression, wrt, text, order=order, values=values)
