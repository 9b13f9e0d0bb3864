"""Derivation at scale (issue 21, acceptance 1): ricci.derivative's constant factor, counted
(sys.setprofile's call events: deterministic, never timed).

What a node cost before: a call to make it (``_new``) and one to charge it to the budget; a
closure made and called for each sum, function and power renamed; its digest's bytes written
anew for each node (the class name, the repr of its parameters) and its children read through
a call; a zero tensor made for each other variable among a product's factors (W of W*a), to be
dropped; generators and comprehensions stepped per factor.  The answers'
values are checked against finite differences.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from helpers import central_differences, check_derivative, python_calls
from helpers import network as _network

import ricci


@pytest.fixture
def deep_recursion():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))
    yield
    sys.setrecursionlimit(old)


def _derive_calls(depth: int) -> int:
    """Python calls of ricci.derivative of the network (parsed already) by x, after one run
    that warms the memos (the count is of the work itself)."""
    expression = ricci.parse(_network(depth))
    ricci.derivative(expression, "x")
    return python_calls(lambda: ricci.derivative(expression, "x"))[1]


def test_the_depth_64_derivative_makes_fewer_python_calls(deep_recursion):
    # 39,276 before (f5a7a74), 21,398 now
    assert _derive_calls(64) < 25_000


def test_a_derivative_level_makes_fewer_python_calls(deep_recursion):
    # per level, depths 16 to 64 (the constant cancelled): 618 before, 335 now
    per_level = (_derive_calls(64) - _derive_calls(16)) / 48
    assert per_level < 390, per_level


# -- the values: finite differences of NumPy functions -------------------------------------------

def _network_values(depth: int, n: int = 3, seed: int = 3) -> dict:
    rng = np.random.default_rng(seed)
    values = {"x": 0.4 * rng.standard_normal(n)}
    for k in range(1, depth + 1):
        q, r = np.linalg.qr(rng.standard_normal((n, n)))
        values[f"W{k}"] = q * np.sign(np.diag(r))  # orthogonal: the gradient does not vanish
    return values


def _network_value(values: dict, depth: int, x) -> float:
    z = np.asarray(x, dtype=float)
    for k in range(1, depth + 1):
        z = np.tanh(values[f"W{k}"] @ z)
    return float(np.sum(z))


@pytest.mark.parametrize("depth", [1, 3, 9, 24])
def test_the_network_gradient_matches_finite_differences(depth, deep_recursion):
    values = _network_values(depth)
    want = central_differences(lambda x: _network_value(values, depth, x), values["x"])
    got = np.asarray(ricci.derivative(ricci.parse(_network(depth)), "x").evaluate(values), dtype=float)
    assert np.max(np.abs(want)) > 1e-3
    assert np.allclose(got.ravel(), np.ravel(want), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("expression, wrt, closed", [
    # a number, δ and another variable among a product's factors (another variable's term is
    # left out without its zero being made)
    ("3*x'*W*x", "x", lambda v: 3 * (v["W"] + v["W"].T) @ v["x"]),
    ("tr(W*X)", "X", lambda v: v["W"].T),
    ("2*sum(tanh(W*x).*y)", "x", lambda v: 2 * (v["y"] * (1 - np.tanh(v["W"] @ v["x"]) ** 2)) @ v["W"]),
    ("x'*eye(3)*W*x", "x", lambda v: (v["W"] + v["W"].T) @ v["x"]),
    # a name bound by where, a factor of a product: its chain rule runs (not a constant)
    ("a'*W*a where a = tanh(x)", "x",
     lambda v: ((v["W"] + v["W"].T) @ np.tanh(v["x"])) * (1 - np.tanh(v["x"]) ** 2)),
])
def test_products_with_constant_factors_match_finite_differences(expression, wrt, closed):
    check_derivative(expression, wrt, sizes=3, closed=closed)


def test_the_second_derivative_of_a_product_with_constants(deep_recursion):
    values = {"x": np.array([0.3, -0.2, 0.5]), "W": np.array([[1.0, 0.2, -0.3], [0.1, 0.7, 0.4], [-0.5, 0.2, 0.9]])}
    f = lambda x: 2 * float(np.sum(np.tanh(values["W"] @ x)))  # noqa: E731
    grad = lambda x: central_differences(f, x, 1e-5)  # noqa: E731
    want = central_differences(grad, values["x"], 1e-4)
    got = np.asarray(ricci.derivative("2*sum(tanh(W*x))", "x", 2).evaluate(values), dtype=float)
    assert np.allclose(got, want, rtol=1e-4, atol=1e-6)
