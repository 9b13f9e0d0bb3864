"""Derivation at scale (issue 21, acceptance 1): ricci.derivative's constant factor, counted
(sys.setprofile's call events: deterministic, never timed), the fourth pass.

What a renamed node cost before: a call to rename it (``_substituted``), one to rename its
children (``_each_substituted``) and one to enter it in the hash-consing table
(``_intern_like``); most nodes a deep chain rule makes are such renamings (the names of a
product's summed indices follow its nesting height, which grows a level at a time).  Now one
call for each inner node renamed, none for a leaf.  Besides: ``rename`` called for each factor
a canonical naming renames, a closure made and called for each product made, the
normalisation's check for products to splice asked twice of the same factors, comprehensions
in sums and in the lifting of f′, ``is_zero``/``D.out``/``const_value``/``_unpaired``/the
trace rule asked where they cannot apply, a type's ``is_scalar`` property in the lowering,
and a call to read the clock every 16 nodes.  The answers' values are checked
against finite differences.
"""

from __future__ import annotations


import numpy as np
import pytest
from helpers import central_differences, check_derivative, network_value, orthogonal_network, python_calls
from helpers import network as _network

import ricci


def _derive_calls(depth: int) -> int:
    """Python calls of ricci.derivative of the network (parsed already) by x, after one run
    that warms the memos (the count is of the work itself)."""
    expression = ricci.parse(_network(depth))
    ricci.derivative(expression, "x")
    return python_calls(lambda: ricci.derivative(expression, "x"))[1]


def test_the_depth_64_derivative_makes_a_third_fewer_python_calls(deep_recursion):
    # 21,398 before (482abc4), 12,819 now; a third fewer is 14,265
    assert _derive_calls(64) < 14_000


def test_a_derivative_level_makes_a_third_fewer_python_calls(deep_recursion):
    # per level, depths 16 to 64 (the constant cancelled): 335 before, LEVEL_NOW now
    per_level = (_derive_calls(64) - _derive_calls(16)) / 48
    assert per_level < 220, per_level


@pytest.mark.parametrize("depth", [2, 7, 20])
def test_the_network_gradient_still_matches_finite_differences(depth, deep_recursion):
    values = orthogonal_network(depth, n=3, seed=11, scale=0.4)
    want = central_differences(lambda x: network_value(values, depth, x), values["x"])
    got = np.asarray(ricci.derivative(ricci.parse(_network(depth)), "x").evaluate(values), dtype=float)
    assert np.max(np.abs(want)) > 1e-3
    assert np.allclose(got.ravel(), np.ravel(want), rtol=1e-6, atol=1e-9)


# every elementwise function's f′ is lifted from its formula (loops now, the leaves in place): the
# chain rule through each, against finite differences, at a point inside every domain
ELEMENTWISE = ["exp", "log", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "tanh", "sqrt", "abs",
               "relu", "sigmoid", "softplus", "log1p", "expm1", "cosh", "sinh", "erf"]


@pytest.mark.parametrize("func", ELEMENTWISE)
def test_each_elementwise_chain_rule_matches_finite_differences(func):
    values = {"x": np.array([0.2, 0.35, 0.45]), "y": np.array([0.7, -1.1, 0.4])}
    check_derivative(f"sum({func}(x).*y) + {func}(x)'*{func}(x)", "x", values=values)


def test_a_scaled_sum_opened_against_another_term_matches_finite_differences():
    # 2(a + b) − 2a: add() opens the scaled sum (its splitting written as loops now)
    values = {"x": np.array([0.2, 0.35, 0.45]), "y": np.array([0.7, -1.1, 0.4])}
    check_derivative("sum(2*(tanh(x) + x.*y) - 2*tanh(x))", "x", values=values,
                     closed=lambda v: 2 * v["y"])


def _dag(root) -> list:
    """Every node under ``root`` once, parents before children, in a fixed order."""
    seen, order, stack = set(), [], [root]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        order.append(n)
        stack.extend(reversed(n.children()))
    return order


def test_a_renaming_in_place_is_the_node_the_constructors_make(monkeypatch, deep_recursion):
    # ir/substitute.py renames a node's children and leaves in its own loop now: the same node
    # as the long way (ir/build.py's _rename, every node rebuilt through the constructors), for
    # every node of a 12-level network's derivative, renamed to fresh names and reversed
    from ricci.ir import build as B

    root = ricci.derivative(ricci.parse(_network(12)), "x").node
    renamed = 0
    for n in _dag(root):
        if not n.free or n.sorts:
            continue
        for m in ({i: B.fresh(i.dim) for i in n.free}, dict(zip(n.free, reversed(n.free)))):
            fast = B.rename(n, m)
            with monkeypatch.context() as mp:
                mp.setattr(B, "_substituted", lambda node, mapping: None)
                slow = B.rename(n, m)
            assert fast is slow, (n, m)
            assert fast.sig == slow.sig and fast.size == n.size and fast.height == n.height
            renamed += 1
    assert renamed > 50
