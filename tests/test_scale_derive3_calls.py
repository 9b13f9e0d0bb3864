"""Derivation at scale (issue 21, acceptance 1): ricci.parse's and ricci.derivative's constant
factor, counted (sys.setprofile's call events: deterministic, never timed).

What a node cost before: a call to make it (``_new``) and one to charge it to the budget; a
closure made and called for each sum, function and power renamed; its digest's bytes written
anew for each node (the class name, the repr of its parameters) and its children read through
a call; a zero tensor made for each other variable among a product's factors (W of W*a), to be
dropped; generators and comprehensions stepped per factor.  The parse built
its AST through lark's Transformer, which made a wrapper (functools.update_wrapper) and several
calls for each node, and the type checker made a new Type for each node checked and resolved
each node's type apart.  The answers' values are checked against finite differences, the
parse's spans against the text they cover.
"""

from __future__ import annotations


import numpy as np
import pytest
from helpers import central_differences, check_derivative, network_value, orthogonal_network, python_calls
from helpers import network as _network

import ricci
from ricci.language import ast as A
from ricci.language.errors import RicciSyntaxError
from ricci.language.parser import parse_text


def _derive_calls(depth: int) -> int:
    """Python calls of ricci.derivative of the network (parsed already) by x, after one run
    that warms the memos (the count is of the work itself)."""
    expression = ricci.parse(_network(depth))
    ricci.derivative(expression, "x")
    return python_calls(lambda: ricci.derivative(expression, "x"))[1]


def _parse_calls(depth: int) -> int:
    text = _network(depth)
    ricci.parse(text)
    return python_calls(lambda: ricci.parse(text))[1]


def test_the_depth_64_derivative_makes_fewer_python_calls(deep_recursion):
    # 39,276 before (f5a7a74), 21,398 now
    assert _derive_calls(64) < 25_000


def test_a_derivative_level_makes_fewer_python_calls(deep_recursion):
    # per level, depths 16 to 64 (the constant cancelled): 618 before, 335 now
    per_level = (_derive_calls(64) - _derive_calls(16)) / 48
    assert per_level < 390, per_level


def test_the_depth_64_parse_makes_fewer_python_calls(deep_recursion):
    # 22,393 before, 20,193 now (lark's lexer and parse-tree builder are about 12,000 of them)
    assert _parse_calls(64) < 21_200


def test_a_parse_level_makes_fewer_python_calls(deep_recursion):
    # per level, depths 16 to 64: 344 before, 310 now
    per_level = (_parse_calls(64) - _parse_calls(16)) / 48
    assert per_level < 325, per_level


# -- the values: finite differences of NumPy functions -------------------------------------------

def _network_values(depth: int, n: int = 3, seed: int = 3) -> dict:
    return orthogonal_network(depth, n=n, seed=seed, scale=0.4)


@pytest.mark.parametrize("depth", [1, 3, 9, 24])
def test_the_network_gradient_matches_finite_differences(depth, deep_recursion):
    values = _network_values(depth)
    want = central_differences(lambda x: network_value(values, depth, x), values["x"])
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


# -- the parse: every node's span covers the text that parses to it --------------------------------

TEXTS = [
    "a + b*c - d'",
    "-(x + y)'*A*(x - y) / 2",
    "tr(inv(X + A)*B) + logdet(X)^2",
    "[1, 2; 3, 4]*x .* exp(-y)",
    "‖W*x‖₁ + tr(X'*X)^0.5",
    "x'*y where y = A*x, z = y + x",
    _network(5),
]


@pytest.mark.parametrize("text", TEXTS)
def test_each_node_spans_the_text_it_is_parsed_from(text):
    tree = parse_text(text)
    assert tree.span == (0, len(text.rstrip())) or isinstance(tree, A.Where)
    for node in A.walk(tree):
        if isinstance(node, A.Where) or node.span is None:
            continue
        start, end = node.span
        piece = text[start:end]
        again = parse_text(piece)
        # the same structure (spans are not compared), read from exactly that piece of the text
        assert again == node, (piece, node)


def test_a_where_spans_its_whole_text_and_each_bound_name():
    text = "x'*y where y = A*x, zz = y + x"
    tree = parse_text(text)
    assert isinstance(tree, A.Where)
    assert tree.span == (0, len(text))
    assert [text[s:e] for s, e in tree.name_spans] == ["y", "zz"]


def test_a_name_bound_twice_is_refused_at_its_second_binding():
    text = "x + y where y = A*x, y = x"
    with pytest.raises(RicciSyntaxError) as e:
        parse_text(text)
    assert "y is bound twice" in str(e.value)
    start, end = e.value.span
    assert text[start:end] == "y" and start == text.rindex("y =")


def test_a_keyword_as_a_name_is_refused_at_its_place():
    text = "x + where(y)"
    with pytest.raises(RicciSyntaxError) as e:
        parse_text(text)
    assert e.value.span[0] == text.index("where")
