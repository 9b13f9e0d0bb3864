"""Answers as a textbook writes them, and with the vocabulary people use (issue 17).

Each pinned text is checked by :func:`helpers.check_derivative` first: the text itself, read as
a formula (``book=``), must equal finite differences of the question on random values, and so
must ``d.evaluate``; only then is the text compared.  Every rule is tried on more than the
issue's six cases (ricci.simplify.textbook, ricci.simplify.vocabulary):

* a quotient of equal factors cancels in every spelling: x1/x1 with x1 bound by ``where``,
  s./s over a summed index;
* terms that cancel when multiplied out are multiplied out: s.*(1 - y) - y.*(1 - s) is s - y;
* fractions over one denominator, where the numerator cancels: 1./(A + X) - X./(A + X).^2;
* abs(u).*sign(u).^2 is abs(u) (at 0 too), sign(u).^3 is sign(u), u.*sign(u) is abs(u);
* k equal factors in a row of a product are a power: inv(X)'*inv(X)'*inv(X)' is (inv(X)^3)';
  a run of transposed factors is one transpose where shorter: -(inv(X)*B*A*inv(X))';
* exp(u)/sum(exp(u)) reads softmax(u), a lone 1/(1 + exp(-u)) reads sigmoid(u), and
  log(sum(exp(u))) reads logsumexp(u) where the question used logsumexp.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import numeric_derivative, pinned, random_values

import ricci


# -- the six, each beside another case of its rule -----------------------------------------
@pytest.mark.parametrize("expression, wrt, order, text", [
    # a quotient of a bound name by itself: x1/x1 (and then (1 + …)/(1 + …))
    ("arctan(x2/x1) where x1 = cos(t), x2 = sin(t)", "t", 1, "1"),
    # s./s over a summed index
    ("sum(log(s)) where z = X*w, s = sigmoid(z)", "w", 1, "(1 - s)'*X where z = X*w, s = sigmoid(z)"),
    ("sum(log(s)) where s = sigmoid(W*x)", "x", 1, "(1 - s)'*W where s = sigmoid(W*x)"),
])
def test_quotients_of_equal_factors_cancel(expression, wrt, order, text):
    pinned(expression, wrt, text, order=order)


@pytest.mark.parametrize("expression, wrt, text", [
    ("-y'*log(sigmoid(X*w)) - (1 - y)'*log(1 - sigmoid(X*w))", "w", "(sigmoid(X*w) - y)'*X"),
    ("y'*log(sigmoid(X*w)) + (1 - y)'*log(1 - sigmoid(X*w))", "w", "(y - sigmoid(X*w))'*X"),
])
def test_terms_that_cancel_when_multiplied_out(expression, wrt, text):
    pinned(expression, wrt, text)


@pytest.mark.parametrize("expression, wrt, text", [
    ("sum(X./(X + A))", "X", "A./(A + X).^2"),
    ("sum(x./(x + a))", "x", "a*(1./(x + a).^2)'"),
    ("x/(x + c)", "x", "c/(c + x)^2"),
])
def test_fractions_over_one_denominator(expression, wrt, text):
    # positive entries: no denominator near 0, where finite differences lose their digits
    values = {k: np.abs(v) + 0.5 for k, v in random_values(expression, seed=2).items()}
    pinned(expression, wrt, text, values=values)


@pytest.mark.parametrize("expression, wrt, order, text", [
    ("sum(abs(x).^3)", "x", 2, "6*diag(abs(x))"),
    ("sum(abs(x).^5)", "x", 2, "20*diag(abs(x).^3)"),
    ("sum(x.*abs(x))", "x", 1, "2*abs(x)'"),
])
def test_signs_squared_beside_their_abs(expression, wrt, order, text):
    pinned(expression, wrt, text, order=order)


def test_a_sign_squared_alone_stays():
    # sign(x).^2 is not 1 at x = 0: without a factor that vanishes there it stays
    d = ricci.derivative("sum(sign(x).^2.*x)", "x")
    assert "sign" in d.text


@pytest.mark.parametrize("expression, wrt, text", [
    ("tr(X^-2)", "X", "-2*(inv(X)^3)'"),
    ("tr(X^-3)", "X", "-3*(inv(X)^4)'"),
    ("tr(X^4)", "X", "4*(X^3)'"),
    ("tr(inv(X + A))", "X", "-(inv(A + X)^2)'"),
])
def test_repeated_factors_are_powers(expression, wrt, text):
    pinned(expression, wrt, text)


@pytest.mark.parametrize("expression, wrt, text", [
    # four transposes in a row are one: the Cookbook's (124)
    ("tr(A*inv(X)*B)", "X", "-(inv(X)*B*A*inv(X))'"),
    # three are as long as their one transpose with its brackets: they stay
    ("tr(A*inv(X))", "X", "-inv(X)'*A'*inv(X)'"),
])
def test_a_run_of_transposes_is_one_where_shorter(expression, wrt, text):
    pinned(expression, wrt, text)


def test_two_equal_variables_stay_a_product():
    # X'*X' is no longer than (X^2)': a power only where it is shorter
    assert ricci.derivative("tr(X*X*X)", "X").text == "3*X'*X'"


# -- the vocabulary --------------------------------------------------------------------------------
@pytest.mark.parametrize("expression, wrt, order, text", [
    ("softmax(x)", "x", 1, "diag(p) - p*p' where p = softmax(x)"),
    ("log(sum(exp(x)))", "x", 1, "softmax(x)'"),
    ("log(sum(exp(x)))", "x", 2, "diag(p) - p*p' where p = softmax(x)"),
    ("logsumexp(x)", "x", 2, "diag(p) - p*p' where p = softmax(x)"),
    ("logsumexp(W*x)", "x", 1, "softmax(W*x)'*W"),
    ("exp(x)/sum(exp(x))", "x", 1, "diag(p) - p*p' where p = softmax(x)"),
    ("log_softmax(x)", "x", 1, "eye - vector(1)*softmax(x)'"),
])
def test_softmax_is_named(expression, wrt, order, text):
    pinned(expression, wrt, text, order=order)


@pytest.mark.parametrize("expression, wrt, text", [
    ("t/(1 + exp(-t))", "t", "sigmoid(t)*(1 + t*sigmoid(-t))"),
    ("sum(x./(1 + exp(x)))", "x", "(sigmoid(-x) - x.*sigmoid(x).*sigmoid(-x))'"),
])
def test_a_lone_logistic_fraction_reads_sigmoid(expression, wrt, text):
    pinned(expression, wrt, text)


def test_logsumexp_is_named_where_the_question_used_it():
    # the Hessian of logsumexp(x)*c by c is 0; by x, c*(diag(p) - p*p'); the value itself:
    d = ricci.derivative("logsumexp(x)^2", "x")
    assert "logsumexp(x)" in d.text and "log(sum(" not in d.text
    d = ricci.derivative("log(sum(exp(x)))^2", "x")
    assert "log(sum(exp(x)))" in d.text
    for q in ("logsumexp(x)^2", "log(sum(exp(x)))^2"):
        d = ricci.derivative(q, "x")
        values = random_values(q, seed=1)
        np.testing.assert_allclose(ricci.evaluate(d.text, values), numeric_derivative(q, "x", values),
                                   rtol=1e-6, atol=1e-9)


def test_softmax_text_is_stable_at_large_inputs():
    # softmax(x) in an answer is read as exp(x - logsumexp(x)): no overflow at 1000
    d = ricci.derivative("logsumexp(x)", "x")
    got = ricci.evaluate(d.text, {"x": np.array([1000.0, 1000.0])})
    np.testing.assert_allclose(np.ravel(got), [0.5, 0.5])


# -- a question keeps the words it was written with ------------------------------------------------
@pytest.mark.parametrize("text", ["softmax(x)", "log_softmax(W*x)", "y'*log_softmax(x) + sum(softmax(x + 1))",
                                  "exp(x - logsumexp(x))", "x - logsumexp(x)"])
def test_a_parsed_question_prints_as_written(text):
    e = ricci.parse(text)
    assert e.text == text
    assert ricci.parse(e.text) == e  # the text parses back to the same expression
    values = random_values(text, seed=4)
    np.testing.assert_allclose(ricci.evaluate(e.text, values), e.evaluate(values), rtol=1e-12)


def test_softmax_means_its_rewritten_form():
    # the words are kept for display; the expression is the one the rewrite makes
    assert ricci.parse("softmax(x)") == ricci.parse("exp(x - logsumexp(x))")
    assert r"\operatorname{softmax}" in ricci.parse("softmax(x)").latex


def test_equal_vectors_in_a_chain_are_no_power():
    # u'*(x - a)*(x - a): the first x - a is contracted with u', so (x - a)^2 would mean nothing
    d = ricci.derivative("(x - a)/norm2(x - a)", "x", kinds={"a": "vector"})
    text = d.vjp().text
    assert "(x - a)^2" not in text
    ricci.parse(text, {"x": "vector", "a": "vector", "u": "vector"})  # type-checks
