"""The raise's constant factor (issue 21, acceptance 1): inside ``d.text`` of the depth-64 tanh
network's gradient, raising the index form into matrix notation (``Raiser.raise_node``) does
only the work its answer needs.

Before, every product the raiser built was made as a ``*`` node, typed and taken apart only to
be built again from its parts; every product's form was built a second time from its own parts
(``MatrixForms.product`` of a form that the build had just made, which builds to itself); every
chain of factors was checked for inverses to cancel, factor by factor, where no factor is an
inverse or a column of ones; and each raised tensor's set of indices was made anew at each
question.  The work is counted (Python calls, deterministic), never timed; the answers are
checked against finite differences and against the chain rule written in NumPy.
"""

from __future__ import annotations

import sys

import pytest

import ricci
import ricci.deep
from helpers import assert_network_text_is_its_gradient, check_derivative, python_calls
from helpers import network as _network
from ricci.raise_matrix import Raiser


def _raise_calls(monkeypatch, d) -> int:
    """Python calls made inside the raiser's outermost ``raise_node`` calls while ``d.text`` is
    written (the answer's and its ``where`` bindings'), the counting shim's own calls left out."""
    original = Raiser.raise_node
    counted = {"calls": 0, "shims": 0, "inside": False}

    def shim(self, node):
        if counted["inside"]:
            counted["shims"] += 1
            return original(self, node)
        counted["inside"] = True
        try:
            got, calls = python_calls(lambda: original(self, node))
        finally:
            counted["inside"] = False
        counted["calls"] += calls
        return got

    monkeypatch.setattr(Raiser, "raise_node", shim)
    try:
        assert d.text
    finally:
        monkeypatch.undo()
    return counted["calls"] - counted["shims"]


def test_the_raise_of_the_depth_64_network_does_only_the_work_its_answer_needs(monkeypatch):
    monkeypatch.setattr(ricci.deep._local, "inside", True, raising=False)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    d = ricci.derivative(_network(64), "x", timeout=600)
    monkeypatch.undo()
    calls = _raise_calls(monkeypatch, d)
    # 51,885 calls before (about 800 per layer of the network), 26,578 after (about 410)
    assert calls < 31_000, calls


def test_the_raise_stays_linear_in_the_depth(monkeypatch):
    monkeypatch.setattr(ricci.deep._local, "inside", True, raising=False)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    got = {}
    for depth in (16, 64):
        d = ricci.derivative(_network(depth), "x", timeout=600)
        got[depth] = d
    monkeypatch.undo()
    calls = {depth: _raise_calls(monkeypatch, d) for depth, d in got.items()}
    # four times the depth, at most four times the work (and a little more for the constant)
    assert calls[64] < 4.2 * calls[16], calls


@pytest.mark.parametrize("depth", [1, 2, 3, 6])
def test_the_network_gradient_gives_the_finite_differences(depth):
    check_derivative(_network(depth), "x", sizes={"n": 3}, text_has_matrix_form=True)


@pytest.mark.parametrize("expression, wrt", [
    ("sum(sigmoid(W3*sigmoid(W2*sigmoid(W1*x))))", "x"),
    ("x'*A*B*C*x", "x"),
    ("tr(A*X*B*X'*C)", "X"),
    ("tr(inv(X)*A*inv(X))", "X"),
    ("tr(X^5)", "X"),
    ("tr(X^-3)", "X"),
    ("x'*inv(A)*A*B*x", "x"),
    ("sum(diag(exp(x))*vector(1, len(x)))", "x"),
    ("y'*(A*x).*(B*x)", "x"),
    ("u'*X*v + tr(X*A*X')", "X"),
])
def test_chains_products_and_inverses_give_the_finite_differences(expression, wrt):
    check_derivative(expression, wrt, text_has_matrix_form=True)


def test_the_depth_32_text_evaluates_to_the_chain_rule():
    assert_network_text_is_its_gradient(32, 4, seed=5)  # the gradient by hand: NumPy alone
