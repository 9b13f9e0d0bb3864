"""The raise's chain memos keyed once per product (issue 21, acceptance 1; after
test_scale_raise4_calls.py): building a product of the chain rule's chain (up to 128 factors
for the depth-64 tanh network) keyed the memos of each of its passes by a tuple of the ids of
its factors made anew in each pass (``_without_eyes``, ``_cancel_inverses`` and what it keeps,
``_chain_product``, ``_plain_chain``, ``build_chain``, the ``_fixed`` record): six keys of up
to 128 ids where one serves, since a pass that leaves a chain as long as it was leaves its
factors as they were.  The work is counted (ids taken in simplify/matrix.py and
simplify/inverses.py, deterministic), never timed; the answers of the paths that pass the
key are checked against finite differences and the chain rule in NumPy.
"""

from __future__ import annotations

import builtins
import sys

import pytest

import ricci
import ricci.deep
import ricci.simplify.inverses as inverses_module
import ricci.simplify.matrix as matrix_module
from helpers import assert_network_text_is_its_gradient, check_derivative
from helpers import network as _network


def _ids_taken(monkeypatch, depth: int) -> int:
    """The ids taken (``id(x)``, each factor of a ``tuple(map(id, chain))`` included) by the
    chain memos of simplify/matrix.py and simplify/inverses.py while ``d.text`` of the
    depth-``depth`` network's gradient is written."""
    monkeypatch.setattr(ricci.deep._local, "inside", True, raising=False)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    d = ricci.derivative(_network(depth), "x", timeout=600)
    taken = [0]

    def counted(x, _id=builtins.id):
        taken[0] += 1
        return _id(x)

    # a module global shadows the builtin for the module's own code (map(id, …) included)
    monkeypatch.setattr(matrix_module, "id", counted, raising=False)
    monkeypatch.setattr(inverses_module, "id", counted, raising=False)
    try:
        assert d.text
    finally:
        monkeypatch.undo()
    return taken[0]


def test_the_chain_memos_of_the_depth_64_network_take_a_third_of_the_ids(monkeypatch):
    # 41,434 ids at 6eca814 (about six keys of each long chain), 12,873 after (0.31)
    assert _ids_taken(monkeypatch, 64) < 20_000


def test_the_ids_the_chain_memos_take_grow_less_than_before(monkeypatch):
    small, big = _ids_taken(monkeypatch, 16), _ids_taken(monkeypatch, 64)
    # depth 16 → 64: 5,732 → 41,434 at 6eca814 (7.2 times), 2,731 → 12,873 after (4.7 times);
    # what is left is one key per product built, still growing with the chain's length
    assert big < 5.5 * small, (small, big)


@pytest.mark.parametrize("expression, wrt", [
    # chains where a pass drops factors (the key taken again) or leaves them (the key passed on)
    ("x'*inv(A)*A*B*x", "x"),
    ("tr(inv(X)*A*inv(X)*B*X*C)", "X"),
    ("tr(X^-3)", "X"),
    ("tr(A*eye*X*B*X)", "X"),
    ("sum(diag(exp(x))*vector(1, len(x)))", "x"),
    # a long chain grown at its left end (the chain rule's), and one grown at its right end
    ("sum(tanh(W3*tanh(W2*tanh(W1*x))))", "x"),
    ("tr(A*X*B*X*C*X*D*X)", "X"),
    # a question with where bindings (MatrixForms types the bound names) and one without
    ("u'*A*r where u = tanh(B*x), r = sin(C*x)", "x"),
    ("u^2 + sin(u) where u = a*b + exp(a)", "a"),
])
def test_the_paths_that_pass_the_key_give_the_finite_differences(expression, wrt):
    check_derivative(expression, wrt, text_has_matrix_form=True)


def test_the_depth_64_text_evaluates_to_the_chain_rule():
    assert_network_text_is_its_gradient(64, 3, seed=5)  # the gradient by hand: NumPy alone
