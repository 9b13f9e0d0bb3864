"""Derivation at scale (issue 21): integer matrix powers differentiated in time about linear in k.

``tr(X^k)`` is parsed as a closed chain of k copies of X (or of inv(X) for k < 0).  The product
rule gives k terms of k − 1 factors each, all equal up to turning the chain: the trace's cyclic
property, ∂tr(X^k)/∂X = k (X^(k−1))' (Matrix Cookbook (106)), builds one of them, k times.

Values are checked against finite differences and NumPy closed forms; the work is counted in
Python function calls (deterministic, unlike a clock), and the sizes of the Hessians in terms,
against the k − 1 products of the closed form.
"""

from __future__ import annotations


import numpy as np
import pytest
from helpers import check_derivative, profiled, random_values

import ricci.deep

mpow = np.linalg.matrix_power


def kinds(expression: str) -> dict:
    return {n: "matrix" for n in ("X", "A") if n in expression}


def _scaled(expression: str, seed: int = 0) -> dict:
    """Random values with X of spectral radius about 1, so that high powers stay of order 1 and
    finite differences keep their digits."""
    values = random_values(expression, kinds(expression), seed=seed)
    X = values["X"]
    values["X"] = X / max(abs(np.linalg.eigvals(X)))
    return values


@pytest.mark.parametrize("k", [4, 5, 8, 13, 24])
def test_trace_of_a_positive_power(k):
    expression = f"tr(X^{k})"
    r = check_derivative(expression, "X", kinds=kinds(expression), values=_scaled(expression),
                         closed=lambda v: k * mpow(v["X"], k - 1).T)
    assert r.d.text == f"{k}*(X^{k - 1})'"  # the Cookbook's (106), written independently


@pytest.mark.parametrize("k", [4, 7, 12])
def test_trace_of_a_negative_power(k):
    # tr(X^-k) = tr(inv(X)^k): ∂/∂X = -k (inv(X)^(k+1))'
    expression = f"tr(X^-{k})"
    values = random_values(expression, kinds(expression), seed=1)
    n = values["X"].shape[0]
    values["X"] = values["X"] + n * np.eye(n)  # away from singular: inv(X)^k stays of order 1
    r = check_derivative(expression, "X", kinds=kinds(expression), values=values,
                         closed=lambda v: -k * mpow(np.linalg.inv(v["X"]), k + 1).T)
    assert r.d.text == f"-{k}*(inv(X)^{k + 1})'"


def test_a_scaled_trace_and_a_power_of_a_trace():
    # the number in front and a function of the trace keep the rule: 3*tr(X^6), tr(X^5)^2
    v = _scaled("tr(X^6)")
    check_derivative("3*tr(X^6)", "X", kinds=kinds("X"), values=v, closed=lambda v: 18 * mpow(v["X"], 5).T)
    check_derivative("tr(X^5)^2", "X", kinds=kinds("X"), values=v,
                     closed=lambda v: 2 * np.trace(mpow(v["X"], 5)) * 5 * mpow(v["X"], 4).T)


@pytest.mark.parametrize("expression", ["tr(X^4)*tr(X^3)", "tr(X^3*A*X^4)", "tr(A*X^5)",
                                        "tr((X + A)^6)", "tr(X'^5)"])
def test_products_that_are_not_one_power_keep_the_product_rule(expression):
    # two chains, a chain through another matrix, or a power of a sum: checked by differences
    values = _scaled(expression)
    check_derivative(expression, "X", kinds=kinds(expression), values=values)


@pytest.mark.parametrize("expression, wrt, kinds_", [
    ("tr(S^5)", "S", {"S": "symmetric matrix"}),
    ("tr(Y^5) where Y = X + A", "X", {"X": "matrix", "A": "matrix"}),  # the chain rule through Y
    ("tr((X.^2)^4)", "X", {"X": "matrix"}),  # a chain of a matrix that is not a variable
    ("tr([a, b; c, d]^4)", "a", None),  # of a literal
])
def test_the_cyclic_rule_holds_for_any_matrix_in_the_chain(expression, wrt, kinds_):
    check_derivative(expression, wrt, kinds=kinds_, seed=3)


def _hessian_closed(k: int):
    # ∂²tr(X^k)/∂X_ij∂X_kl = k Σ_{r=0}^{k−2} (X^r)_jk (X^(k−2−r))_li
    def closed(v):
        X = v["X"]
        return k * sum(np.einsum("jk,li->ijkl", mpow(X, r), mpow(X, k - 2 - r)) for r in range(k - 1))
    return closed


def _terms(text: str) -> int:
    return text.count(" + ") + text.count(" - ") + 1


@pytest.mark.parametrize("k", [7, 8, 12])
def test_hessian_of_a_trace_of_a_power_has_at_most_the_closed_forms_terms(k):
    expression = f"tr(X^{k})"
    r = check_derivative(expression, "X", kinds=kinds(expression), order=2, values=_scaled(expression),
                         closed=_hessian_closed(k))
    # before: 1,581 / 1,886 / 6,677 characters, a product of sums of products (k = 7, 8, 12)
    assert _terms(r.d.text) <= k - 1, r.d.text


def test_hessian_of_a_trace_of_a_negative_power():
    expression = "tr(X^-8)"
    values = random_values(expression, kinds(expression), seed=2)
    n = values["X"].shape[0]
    values["X"] = values["X"] + n * np.eye(n)
    r = check_derivative(expression, "X", kinds=kinds(expression), order=2, values=values)
    assert _terms(r.d.text) <= 8 + 1, r.d.text  # the chain of 9 inverses' product rule


def _calls(expression: str) -> int:
    """Python function calls made to derive ``expression`` by X and write its text."""
    count = [0]

    def profile(frame, event, arg):
        if event == "call":
            count[0] += 1

    ricci.derivative("tr(X^2)", "X").text  # the function table and the parser loaded
    profiled(lambda: ricci.derivative(expression, "X").text, profile)
    return count[0]


def test_the_work_grows_about_linearly_with_the_power():
    # calls, not seconds: deterministic.  Before: 0.63 and 13.7 million calls for tr(X^16) and
    # tr(X^64) (22 times the work for 4 times k: the product rule's k terms of k - 1 factors,
    # and the display contracting each of them); now the derivative is one term, and what is
    # left above linear is the display's product of k - 1 factors (each link re-reads the chain
    # so far), within a slope of 1.5 here
    for k in (16, -16):
        small, large = _calls(f"tr(X^{k})"), _calls(f"tr(X^{4 * k})")
        assert large < 4 ** 1.5 * small, (k, small, large)
