"""Derivation at scale (issue 21, acceptance 1): ricci.derivative's constant factor, counted.

The depth-64 tanh network's gradient is linear in the depth; what is left is the work per node
and per level: calls of small helpers (the budget's charge, the index encodings of each node
made, each rename that renames nothing, the normalisation steps of a product that finds none of
its kind of factor).  Counted as Python calls (sys.setprofile's call events: deterministic,
never timed); the answers' values checked against finite differences of the network in NumPy.
"""

from __future__ import annotations


import numpy as np
import pytest
from helpers import central_differences, check_derivative, network_value, orthogonal_network, python_calls
from helpers import network as _network

import ricci


def _calls_of_derivative(monkeypatch, depth: int) -> int:
    """Python calls made by ``ricci.derivative`` of the network (parsed already) by x, run in
    this thread (the deep worker thread would escape sys.setprofile), after one run to warm the
    memos so that the count is of the work itself."""
    expression = ricci.parse(_network(depth))
    ricci.derivative(expression, "x")
    return python_calls(lambda: ricci.derivative(expression, "x"))[1]


def test_the_depth_64_network_derivative_makes_fewer_python_calls(monkeypatch, deep_recursion):
    # 53,904 calls before (11d5083): a call to the budget's charge per node made, a generator
    # stepped per index encoded, a rename per factor that keeps its names, a dozen normalisation
    # steps per product whatever its factors; 36,956 now
    assert _calls_of_derivative(monkeypatch, 64) < 42_000


def test_a_network_level_makes_fewer_python_calls(monkeypatch, deep_recursion):
    # per level, depths 16 to 64 (what the depth adds, the warm-up's constant cancelled):
    # 847 before, 582 now
    per_level = (_calls_of_derivative(monkeypatch, 64) - _calls_of_derivative(monkeypatch, 16)) / 48
    assert per_level < 650, per_level


def _network_values(depth: int, n: int = 3, seed: int = 5) -> dict:
    return orthogonal_network(depth, n=n, seed=seed, scale=0.3)


@pytest.mark.parametrize("depth", [1, 2, 7, 16])
def test_the_network_gradient_matches_finite_differences(depth):
    values = _network_values(depth)
    want = central_differences(lambda x: network_value(values, depth, x), values["x"])
    check_derivative(_network(depth), "x", values=values,
                     closed=lambda v: central_differences(lambda x: network_value(v, depth, x), v["x"]))
    got = np.asarray(ricci.derivative(_network(depth), "x").evaluate(values), dtype=float)
    assert np.allclose(got.ravel(), np.ravel(want), rtol=1e-6, atol=1e-9)


def test_the_depth_64_network_gradient_matches_finite_differences():
    depth = 64
    values = _network_values(depth, seed=11)
    want = central_differences(lambda x: network_value(values, depth, x), values["x"])
    got = np.asarray(ricci.derivative(_network(depth), "x", timeout=600).evaluate(values), dtype=float)
    assert np.max(np.abs(want)) > 1e-6  # a gradient that can tell a wrong answer from a right one
    assert np.allclose(got.ravel(), np.ravel(want), rtol=1e-6, atol=1e-9)
