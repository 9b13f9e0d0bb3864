"""Derivation at scale (issue 21, acceptance 1): the display of ``logdet(X + inv(X + inv(… X)))``
by X does no work that it throws away.

* The display rule that multiplies a sum out (``simplify/textbook.py``'s ``expand_rule``) first
  asks whether any two of its monomials could be one product, reading each as the multiset of its
  factors, and builds none where they cannot: each level's sum built its monomials (products as
  long as the nesting below) only to find that nothing cancels.

The work is counted (deterministic, unlike a clock); the answers are checked against NumPy and
finite differences, and the shortcut against the rule it skips, case by case.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
from helpers import check_derivative

import ricci
from ricci.ir import build as B
from ricci.language import ast as A
from ricci.simplify import textbook
from ricci.simplify.matrix import MatrixForms
from ricci.simplify.sums import SumForms


def _nested(levels: int) -> str:
    inner = "X"
    for _ in range(levels):
        inner = f"X + inv({inner})"
    return f"logdet({inner})"


def _counting_module(monkeypatch, owner, module, name: str) -> list:
    """Count the calls of ``module.name`` made through ``owner``'s reference to ``module``."""
    calls = [0]
    real = getattr(module, name)

    def counting(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    proxy = types.SimpleNamespace(**{k: getattr(module, k) for k in dir(module) if not k.startswith("__")})
    setattr(proxy, name, counting)
    monkeypatch.setattr(owner, "B", proxy)
    return calls


@pytest.mark.parametrize("levels", [4, 8])
def test_no_monomial_is_built_where_none_can_cancel(monkeypatch, levels):
    # Each level's sum δδ - G*G*(δδ - G2*G2*(…)) is a product of sums: the rule multiplied it
    # out two levels deep (3 or 4 products a level, each as long as the nesting below, built by
    # B.mul) and kept the factored form, since no two monomials were one product.  Their
    # factors tell that already: G^2, G^2*G2^2*(…), G^4 … differ as multisets.
    d = ricci.derivative(_nested(levels), "X", timeout=600)
    made = _counting_module(monkeypatch, textbook, B, "mul")
    text = d.text
    assert text.endswith(f"G{levels} = inv(G{levels - 1} + X)"), text
    assert made[0] == 0, made[0]


def _full_rule(node):
    """expand_rule's outcome without the shortcut: the monomials built, added and compared."""
    terms = textbook.monomials(node)
    if terms is None:
        return node, False
    new = B.add(terms)
    cancelled = textbook._cancelled(new, terms)
    return (new if cancelled and new.size < node.size else node), cancelled


CASES = [
    (_nested(3), "X", 1), (_nested(2), "X", 2), (_nested(5), "X", 1),
    # the rule's own cases: the monomials of s(1 - y) - y(1 - s) cancel
    ("-y'*log(sigmoid(X*w)) - (1 - y)'*log(1 - sigmoid(X*w))", "w", 1),
    ("y'*log(sigmoid(X*w)) + (1 - y)'*log(1 - sigmoid(X*w))", "w", 1),
    ("sum(log(sigmoid(X*w)))", "w", 2),
    ("sum(X./(X + A))", "X", 1), ("x/(x + c)", "x", 2), ("sum(x.*abs(x))", "x", 2),
    ("x'*inv(A + x*x')*x", "x", 2), ("tr(inv(A + X*B*X'))", "X", 2),
    ("logdet(inv(X + A) + inv(X + B))", "X", 2), ("x'*A*x/(x'*B*x)", "x", 3),
    ("sum(sigmoid(W3*sigmoid(W2*sigmoid(W1*x))))", "x", 2), ("log(sum(exp(x)))", "x", 3),
    ("sum((x - a).^2.*(x + b))", "x", 2), ("sum((A*x + b).*(A*x - b))", "x", 2),
    ("(x'*a)*(x'*b) - (x'*b)*(x'*a)", "x", 1), ("sum(exp(x).*(1 + x).^2)", "x", 2),
]


def test_the_shortcut_keeps_only_what_the_rule_keeps(monkeypatch):
    # Wherever the shortcut says "nothing can cancel", the rule multiplied out in full keeps
    # the sum as it was, and finds no cancellation; and the shortcut lets the rule through
    # where it does cancel (the logistic loss: s - y).
    real = textbook._may_cancel
    seen = {"skipped": 0, "tried": 0, "applied": 0}

    def checked(node):
        may = real(node)
        kept, cancelled = _full_rule(node)
        if not may:
            assert kept is node and not cancelled, node
            seen["skipped"] += 1
        else:
            seen["tried"] += 1
            seen["applied"] += kept is not node
        return may

    monkeypatch.setattr(textbook, "_may_cancel", checked)
    for expression, wrt, order in CASES:
        d = ricci.derivative(expression, wrt, order)
        assert d.text
    assert seen["skipped"] >= 10 and seen["applied"] >= 2, seen


def test_the_answer_is_transposed_without_pushing_its_sum_in(monkeypatch):
    # The answer (G8 + G7*G8*G7 + … - inv(X)*G*…*G8*…*G*inv(X))' is a sum of 9 chains of up to
    # 17 factors.  Its transpose was pushed into the sum (each chain reversed, each factor
    # transposed, the sum ordered and factored) and lost to (…)'; only the small sums inside
    # the inverses, G7 + X, are pushed now (and lose too: (G7 + X)' has one transpose).
    levels = 8
    d = ricci.derivative(_nested(levels), "X", timeout=600)
    pushed = []
    real = MatrixForms._push_T

    def recording(self, a):
        pushed.append(len(self.decompose_sum(a)))
        return real(self, a)

    monkeypatch.setattr(MatrixForms, "_push_T", recording)
    text = d.text
    assert text.startswith("(G8 + ") and text.endswith(f"G{levels} = inv(G{levels - 1} + X)"), text
    assert pushed and max(pushed) <= 2, pushed


ORIENTED = [
    (_nested(1), "X", 1, None), (_nested(4), "X", 1, None), (_nested(2), "X", 2, None),
    # pushed in, where that costs fewer transposes
    ("x'*A*x + b'*x", "x", 1, {"x": "vector", "A": "matrix", "b": "vector"}),
    ("x'*A*x/2 - b'*x", "x", 1, {"x": "vector", "A": "matrix", "b": "vector"}),
    ("tr(A*X) + tr(X'*B)", "X", 1, {"A": "matrix", "X": "matrix", "B": "matrix"}),
    ("tr(X*A*X') + sum(X*b)", "X", 1, {"A": "matrix", "X": "matrix", "b": "vector"}),
    # kept outside: a column's transpose is light
    ("x'*x + b'*x", "x", 1, {"x": "vector", "b": "vector"}),
    ("norm2(A*x - b)^2", "x", 1, {"x": "vector", "A": "matrix", "b": "vector"}),
    ("tr(inv(A + X*B*X'))", "X", 1, None), ("logdet(inv(X + A) + inv(X + B))", "X", 1, None),
    ("tr(X*inv(A + X))", "X", 1, None), ("sum(sigmoid(W2*tanh(W1*x)))", "W1", 1, None),
]


def test_the_transpose_shortcut_keeps_what_pushing_keeps(monkeypatch):
    # Wherever the shortcut keeps (a)', pushing the transpose in and comparing the two (the
    # way T() decides) keeps it too; and the shortcut leaves alone the sums where pushing wins.
    real = SumForms._transpose_stays
    seen = {"sure": 0, "unsure, pushed": 0, "unsure, kept": 0}

    def checked(self, a):
        sure = real(self, a)
        full = MatrixForms._T(self, a)
        kept = isinstance(full, A.Transpose) and full.arg is a
        if sure:
            assert kept, a
            seen["sure"] += 1
        else:
            seen["unsure, kept" if kept else "unsure, pushed"] += 1
        return sure

    monkeypatch.setattr(SumForms, "_transpose_stays", checked)
    for expression, wrt, order, kinds in ORIENTED:
        assert ricci.derivative(expression, wrt, order, kinds).text
    assert seen["sure"] >= 3 and seen["unsure, pushed"] >= 3, seen


@pytest.mark.parametrize("levels", [2, 4])
def test_the_nested_gradient_against_finite_differences(levels):
    rng = np.random.default_rng(10 + levels)
    n = 3
    X = n * np.eye(n) + rng.standard_normal((n, n))  # every level invertible, det > 0
    r = check_derivative(_nested(levels), "X", kinds={"X": "matrix"}, values={"X": X})
    below = "G" if levels == 2 else f"G{levels - 1}"
    assert r.d.text.endswith(f"G{levels} = inv({below} + X)"), r.d.text


def test_the_nested_hessian_against_finite_differences():
    rng = np.random.default_rng(3)
    n = 3
    X = n * np.eye(n) + rng.standard_normal((n, n))
    check_derivative(_nested(2), "X", kinds={"X": "matrix"}, values={"X": X}, order=2)
