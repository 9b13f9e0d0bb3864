"""Derivation at scale (issue 21, acceptance 1): the display of a nested answer,
``logdet(X + inv(X + inv(… X)))`` by X, does its work once per shared subterm.

The raised answer shares its inner levels (each ``inv(X + inv(…))`` is one object wherever it
stands), so the same answer read as a tree is far larger than its DAG: 1,467 nodes against 158 at
8 levels, 9,843 against 455 at 16.  The work is counted in calls (deterministic, unlike a clock),
the values of the answers checked against NumPy and finite differences.
"""

from __future__ import annotations

import pickle
import sys
import types

import numpy as np
import pytest
from helpers import check_derivative, count_calls

import ricci
from ricci import raise_matrix
from ricci.display_forms import _names
from ricci.language import ast as A
from ricci.simplify.matrix import MatrixForms


def _nested(levels: int) -> str:
    inner = "X"
    for _ in range(levels):
        inner = f"X + inv({inner})"
    return f"logdet({inner})"


def _doubled(leaf: A.Expr, op: str, times: int) -> A.Expr:
    """leaf op leaf op … as a tree of 2**times leaves that is a DAG of times + 1 nodes."""
    a = leaf
    for _ in range(times):
        a = A.BinOp(op, a, a)
    return a


def _distinct(tree: A.Expr) -> int:
    seen, stack = set(), [tree]
    while stack:
        n = stack.pop()
        if id(n) not in seen:
            seen.add(id(n))
            stack.extend(A.children(n))
    return len(seen)


def _forms(expression: str = "x'*X*x") -> MatrixForms:
    return MatrixForms(ricci.parse(expression, {"X": "matrix", "x": "vector"}))


def test_the_display_distributes_each_nested_product_once(monkeypatch):
    # Each level's product with the 4-index sum below it is distributed over the sum's terms
    # (_mul_factored: the sum has no matrix form), and the "distribute or not" choice of _mul
    # built the same distributed sum again from the same factors: two IR sums per level, each
    # of products as long as the chain so far (16 at 8 levels; now 8).
    levels = 8
    made = [0]
    real = raise_matrix.B

    def add(terms, *args, **kwargs):
        made[0] += 1
        return real.add(terms, *args, **kwargs)

    proxy = types.SimpleNamespace(**{k: getattr(real, k) for k in dir(real) if not k.startswith("__")})
    proxy.add = add
    monkeypatch.setattr(raise_matrix, "B", proxy)
    d = ricci.derivative(_nested(levels), "X", timeout=600)
    assert d.text.endswith(f"G{levels} = inv(G{levels - 1} + X)"), d.text
    assert 0 < made[0] <= levels, made[0]


def _walked_t_cost(forms: MatrixForms, a: A.Expr) -> tuple:
    """The transposes' cost as its docstring defines it, walking the tree (the old way)."""
    heavy = light = 0
    for n in A.walk(a):
        if isinstance(n, A.Transpose):
            x = n.arg
            if forms.kind(x) == "c" and not any(
                    isinstance(m, A.BinOp) and m.op == "*" and forms.kind(m) != "s"
                    and forms.kind(m.left) != "s" and forms.kind(m.right) != "s" for m in A.walk(x)):
                light += 1
            else:
                heavy += 1
    return heavy, light


@pytest.mark.parametrize("leaf, expected", [
    (A.Transpose(A.Name("x")), (0, 2 ** 12)),  # x' + x' + …: a column's transpose is light
    (A.Transpose(A.Name("X")), (2 ** 12, 0)),  # X' + X' + …: a matrix's is heavy
    (A.Transpose(A.BinOp("*", A.Name("X"), A.Name("x"))), (2 ** 12, 0)),  # (X*x)': heavy too
])
def test_the_cost_of_transposes_reads_each_shared_subtree_once(monkeypatch, leaf, expected):
    forms = _forms()
    tree = _doubled(leaf, "+", 12)
    assert _walked_t_cost(forms, tree) == expected  # the definition, on the tree
    calls = count_calls(monkeypatch, A, "children")
    assert forms._t_cost(tree) == expected
    # a few looks at each distinct node (15 or 16; twice each per fold, the products' fold
    # too), not one at each of the tree's 8,191 or more
    assert calls[0] <= 4 * _distinct(tree), calls[0]


def test_transposes_are_counted_once_per_shared_subtree(monkeypatch):
    forms = _forms()
    tree = _doubled(A.Transpose(A.Name("X")), "*", 40)  # 2**40 transposes written out
    calls = count_calls(monkeypatch, A, "children")
    assert forms.count_T(tree) == 2 ** 40
    assert calls[0] <= 2 * _distinct(tree), calls[0]
    small = _doubled(A.Transpose(A.Name("X")), "*", 6)
    assert forms.count_T(small) == sum(isinstance(n, A.Transpose) for n in A.walk(small)) == 64


def _python_hash_calls(tree: A.Expr) -> tuple[int, int]:
    calls = [0]

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "__hash__":
            calls[0] += 1

    sys.setprofile(profile)
    try:
        h = hash(tree)
    finally:
        sys.setprofile(None)
    return h, calls[0]


def test_a_form_keeps_its_hash():
    # the dataclass's hash walked the whole tree at every dict or set lookup (the display's
    # like terms, common factors and names key by forms): 2**17 calls for this DAG of 17 nodes
    tree = _doubled(A.Call("inv", (A.Name("X"),)), "*", 16)
    h, calls = _python_hash_calls(tree)
    assert calls <= 2 * _distinct(tree), calls
    # the same value as the dataclass's own definition, hash((op, left, right)), so that no
    # dict or set of forms changes: computed here from the fields, on a fresh copy
    fresh = _doubled(A.Call("inv", (A.Name("X"),)), "*", 3)
    assert hash(fresh) == hash(("*", fresh.left, fresh.right))
    assert hash(A.Call("inv", (A.Name("X"),))) == hash(("inv", (A.Name("X"),)))
    assert hash(A.Transpose(A.Name("X"))) == hash((A.Name("X"),))
    # pickled, a form does not carry the hash (a string's hash differs between processes)
    back = pickle.loads(pickle.dumps(tree))
    assert "_hash" not in back.__dict__ and back == tree and hash(back) == h
    assert _python_hash_calls(tree)[1] <= 1


def test_the_names_of_a_shared_answer_are_read_once(monkeypatch):
    tree = _doubled(A.BinOp("*", A.Name("A"), A.Call("inv", (A.Name("X"),))), "+", 30)
    calls = count_calls(monkeypatch, A, "children")
    assert _names(tree) == {"A", "X"}
    assert calls[0] <= _distinct(tree), calls[0]


def _closed_gradient(X: np.ndarray, levels: int) -> np.ndarray:
    """∂/∂X of logdet(Z_L), Z_0 = X, Z_k = X + inv(Z_(k-1)), by the chain rule backwards:
    d logdet(Z) = tr(inv(Z) dZ), d inv(Z) = -inv(Z) dZ inv(Z)."""
    Z = [X]
    for _ in range(levels):
        Z.append(X + np.linalg.inv(Z[-1]))
    G = np.linalg.inv(Z[-1]).T  # ∂f/∂Z_L
    total = np.zeros_like(X)
    for k in range(levels, 0, -1):
        total += G  # Z_k = X + inv(Z_(k-1)): X directly
        Ki = np.linalg.inv(Z[k - 1])
        G = -Ki.T @ G @ Ki.T  # through inv(Z_(k-1))
    return total + G  # Z_0 = X


@pytest.mark.parametrize("levels", [1, 3, 5])
def test_the_nested_gradient_is_still_right(levels):
    rng = np.random.default_rng(levels)
    n = 4
    X = n * np.eye(n) + rng.standard_normal((n, n))  # Z_k stay invertible, det > 0
    r = check_derivative(_nested(levels), "X", kinds={"X": "matrix"}, values={"X": X},
                         closed=lambda v: _closed_gradient(v["X"], levels))
    if levels > 1:  # the shared inverses are named, each level by the one below: G, G2, …
        assert r.d.text.endswith(f"G{levels} = inv(G{levels - 1} + X)"), r.d.text
