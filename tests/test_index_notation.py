"""Index notation (orders ≥ 3, tensors with no matrix form): every sum has its Σ, subterms with a
matrix form are written in it, and the order of the printed factors does not depend on where a
term stood in the input.  The numbers of the same derivatives are checked elsewhere
(tests/test_cookbook.py, tests/test_random_derivatives.py); here the text is the subject."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ricci


def _sums_are_declared(text: str) -> bool:
    """Each summed letter is used only inside the term where its Σ stands: a letter used in a
    term that has no Σ for it (and is not a free index of the left-hand side) is undeclared."""
    lhs, rhs = text.split(" = ", 1)
    free = set("".join(re.findall(r"_([a-z]+)", lhs)))
    declared = set("".join(re.findall(r"Σ_([a-z]+)", rhs)))
    used = set("".join(re.findall(r"_([a-z]+)", rhs.replace("Σ_", "Σ"))))
    return used <= free | declared


def test_each_sum_has_its_sigma():
    # canonical naming gives both inner sums Σ_d x_d W_·d one IR index name; both are printed
    d = ricci.derivative("log(sum(exp(W*x)))", "W", 2)
    # (factors by structure: variables, then functions, then powers, whatever the names)
    assert d.text == ("∂^2f/∂W_ij∂W_kl = δ_ik x_j x_l exp(W*x)_i (Σ_a exp(W*x)_a)^-1 "
                      "- x_j x_l exp(W*x)_i exp(W*x)_k (Σ_a exp(W*x)_a)^-2")


def test_a_sum_that_has_no_matrix_form_keeps_its_sigma_in_every_factor():
    d = ricci.derivative("logdet(X'*A*X + B)", "X", 2)
    assert d.index_notation
    assert _sums_are_declared(d.text), d.text
    assert d.text.count("Σ_e") == 2 and d.text.count("Σ_f") == 2


def test_functions_of_sums_are_written_in_matrix_notation():
    d = ricci.derivative("tanh(W*x)", "W")
    assert d.text == "∂f_i/∂W_jk = δ_ij x_k (1 - (tanh(W*x)_i)^2)"
    assert d.latex == (r"\frac{\partial f_{i}}{\partial W_{jk}} = \delta_{ij} x_{k} "
                       r"(1 - (\tanh\left(W x\right)_{i})^{2})")
    # the index view of an answer with a matrix form stays in indices
    assert ricci.derivative("x'*A*x", "x").index_notation == "∂f/∂x_i = Σ_a x_a A_ai + Σ_a x_a A_ia"
    third = ricci.derivative("sum(sigmoid(A*relu(B*x)))", "x", 3).text
    # a long answer names its repeated pieces, as the matrix notation does (issue 21)
    assert "s2 = sigmoid(A*relu(B*x))" in third and "s = step(B*x)" in third and "s2_d" in third
    assert "Σ_e" not in third  # the inner sums are inside the matrix forms
    assert _sums_are_declared(third), third


def test_the_lecture_examples_put_the_delta_first():
    assert ricci.derivative("A*x", "A").text == "∂f_i/∂A_jk = δ_ij x_k"
    assert ricci.derivative("R'*R", "R").text == "∂f_pq/∂R_ij = δ_qj R_ip + δ_pj R_iq"


@pytest.mark.parametrize("a, b", [
    ("inv(A*A' + eye) + arccos(0.5*tanh(C))", "arccos(0.5*tanh(C)) + inv(A*A' + eye)"),
    ("R'*R + sin(C)", "sin(C) + R'*R"),
    ("(A*x)*(y'*x) + tanh(c)", "tanh(c) + (y'*x)*(A*x)"),
])
def test_the_order_of_terms_does_not_change_index_notation(a, b):
    wrt = "R" if "R" in a else "A"
    da, db = ricci.derivative(a, wrt), ricci.derivative(b, wrt)
    assert da.index_notation and da.text == db.text


def test_the_printed_form_matches_the_numbers_it_stands_for():
    # δ_ij x_k (1 - tanh(W*x).^2)_i, read literally, is the tensor ricci evaluates
    rng = np.random.default_rng(1)
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    g = 1 - np.tanh(W @ x) ** 2
    expected = np.einsum("ij,k,i->ijk", np.eye(3), x, g)
    got = ricci.derivative("tanh(W*x)", "W").evaluate({"W": W, "x": x})
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def _summing_products(node) -> int:
    """How many products that sum over an index the printed tree holds (shared ones each time)."""
    from ricci.ir.nodes import Mul

    own = int(isinstance(node, Mul) and any(i not in node.out for f in node.factors for i in f.free))
    return own + sum(_summing_products(c) for c in node.children())


@pytest.mark.parametrize("expression, wrt, order", [
    ("log(sum(exp(W*x)))", "W", 2), ("logdet(X'*A*X + B)", "X", 2), ("sum(sigmoid(A*relu(B*x)))", "x", 3),
])
def test_without_matrix_forms_every_summing_product_prints_its_sigma(expression, wrt, order):
    from ricci.printing.index import index_text

    from ricci.simplify.rules import display_rules
    from ricci.simplify.symmetry import use_symmetry

    d = ricci.derivative(expression, wrt, order)
    node = display_rules(use_symmetry(d.node, d.expression))  # what d.text prints
    text = index_text(node, d.out)  # no derivative given: no matrix forms, only indices
    assert text.count("Σ") == _summing_products(node) > 0
