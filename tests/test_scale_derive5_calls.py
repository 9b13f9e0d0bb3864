"""Derivation at scale (issue 21, acceptance 1), the fifth pass: the digest's memo of index
placings no longer keeps the wrt variable's fresh names.

Each node made writes, for each child, how the child's indices sit among the node's (a free
index by its position, a summed one by its name) into its digest.  That text was kept per pair
of index tuples (the node's, the child's); the pairs hold the derivative's fresh index names,
new in every derivation, so that a second derivation of the depth-64 network missed 910 times
in 1,294 and kept every miss (the key tuples and the index tuples they hold: work for the
cyclic collector, a tenth of the derivation).  Now the memo is kept per placing (positions and
summed indices), which recurs whatever the fresh names are, and a child whose indices are the
node's in order is written without it.  Counted here (deterministic, never timed); the digests
against the ones written out piece by piece, the answers against finite differences.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from helpers import central_differences, dag_nodes, network_value, orthogonal_network
from helpers import network as _network

import ricci
from ricci.ir import nodes


def _written_out(node) -> bytes:
    """The digest written piece by piece from the node's own parts, no memo (ir/nodes.py's
    encoding: a child's index by its position among the node's free ones, else by name)."""
    h = hashlib.blake2b(digest_size=10)
    h.update(type(node).__name__.encode())
    h.update(repr(node._params_enc()).encode())
    for c in node.children():
        h.update(c.sig)
        enc = tuple(("F", node.free.index(i)) if i in node.free else ("B", i.name, str(i.dim)) for i in c.free)
        h.update(repr(enc).encode())
    return h.digest()


def test_a_second_derivation_adds_nothing_to_the_memo_of_placings(deep_recursion, monkeypatch):
    # before: 910 entries a derivation of the depth-64 network (each miss kept)
    monkeypatch.setattr(nodes, "_ENCODED", {})
    expression = ricci.parse(_network(64))
    first = ricci.derivative(expression, "x")
    kept = len(nodes._ENCODED)
    second = ricci.derivative(expression, "x")
    assert second.text == first.text
    assert len(nodes._ENCODED) == kept, len(nodes._ENCODED) - kept
    assert kept < 800, kept  # the placings of one network (735), not a pair per node made


def test_the_memo_of_placings_grows_with_the_shapes_not_the_derivations(monkeypatch):
    monkeypatch.setattr(nodes, "_ENCODED", {})
    expression = ricci.parse("logdet(X + inv(X + inv(X + inv(X))))")
    ricci.derivative(expression, "X")
    kept = len(nodes._ENCODED)
    for _ in range(5):
        ricci.derivative(expression, "X")
    assert len(nodes._ENCODED) == kept


@pytest.mark.parametrize("case", [("sum(tanh(W3*tanh(W2*tanh(W1*x))))", "x", 1),
                                  ("logdet(X + inv(X + inv(X)))", "X", 1),
                                  ("x'*A*x/(x'*B*x)", "x", 2),
                                  ("sum(sigmoid(W2*sigmoid(W1*x)))", "x", 2),
                                  ("trace(X*Y*X')*sum(X.*Y)", "X", 1)])
def test_the_digests_read_from_the_memo_are_the_ones_written_out(case):
    expression, wrt, order = case
    for _ in range(3):  # the memo warm from the derivations before, with other fresh names
        d = ricci.derivative(expression, wrt, order)
        found = dag_nodes(d.node)
        assert len(found) > 10
        for n in found:
            assert n.sig == _written_out(n), n


@pytest.mark.parametrize("depth", [3, 12])
def test_the_network_after_a_warm_memo_against_finite_differences(depth, deep_recursion):
    values = orthogonal_network(depth, n=3, seed=depth, scale=0.3)
    expression = _network(depth)
    ricci.derivative(expression, "x")  # the memo warm
    d = ricci.derivative(expression, "x")
    got = np.asarray(d.evaluate(values), dtype=float).ravel()
    want = central_differences(lambda v: network_value(values, depth, v), values["x"])
    np.testing.assert_allclose(got, np.ravel(want), rtol=1e-6, atol=1e-8)
