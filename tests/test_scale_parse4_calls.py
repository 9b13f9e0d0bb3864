"""ricci.parse at scale (issue 21, acceptance 1): its constant factor, counted (sys.setprofile's
call events: deterministic, never timed), and what the parse gives, unchanged.

What a level of the deep network cost before: lark built a parse tree and propagated positions
to each of its nodes (several calls per reduction and per node), ricci's walk then made the AST
from that tree; the kind checker took three calls per node (check, _check, scalarise), the free
names and the bound names a walk each (a call per node, recursive), each dimension was named
again at every node of its type, and each node's type resolved apart; as_written's look for a
rewritten call and the depth limit's walk made a call of a generator per node.  Now lark calls
the builder at each reduction (``transformer=``, ``keep_all_tokens``: spans from the tokens),
and those walks are loops.

The spans are checked against the text they cover (brackets, signs and the table's rewrites are
where the AST's nodes and the text's extents part), the types against the network's algebra and
its value against NumPy.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from helpers import network, network_value, orthogonal_network, python_calls

import ricci
from ricci.language import ast as A
from ricci.language.errors import RicciSyntaxError
from ricci.language.kinds import free_names
from ricci.language.parser import parse_text


def _calls(parse, depth: int) -> int:
    """Python calls of ``parse`` of the network, after one run (lark loaded, memos warm)."""
    text = network(depth)
    parse(text)
    return python_calls(lambda: parse(text))[1]


# -- the counts -----------------------------------------------------------------------------------

def test_the_depth_64_parse_makes_half_the_python_calls(deep_recursion):
    # ricci.parse: 20,194 before (482abc4), 9,716 now
    assert _calls(ricci.parse, 64) < 10_700


def test_a_parse_level_makes_half_the_python_calls(deep_recursion):
    # per level, depths 16 to 64 (the constant cancelled): 310 before, 149 now
    per_level = (_calls(ricci.parse, 64) - _calls(ricci.parse, 16)) / 48
    assert per_level < 165, per_level


def test_the_text_to_ast_step_alone_makes_half_the_python_calls(deep_recursion):
    # parse_text (lark and the AST, no kinds): 13,058 before, 5,946 now
    assert _calls(parse_text, 64) < 6_550


# -- the spans: each node's covers the text that parses to it -------------------------------------

TEXTS = [
    "(a + b)*c",
    "a*+b - (c)",
    "2*softmax(x) + 1",
    "((x))'*A*(+y)",
    "-(x)' .^ (2)",
    "‖(x)‖₁*(a) + ‖W*x‖",
    "[(a), +b; c, (d)]*x",
    "x'*y where y = (A*x), z = +y",
    "max(x, 0)*(2) + (min(x, 1))",
    "norm(X, 'nuc')*(a + b)",
    "(A ⊗ (B))*x + kron(A, B)*x",
    "-+-x + (((t)))",
    "sum(tanh((W2)*tanh(+W1*(x))))",
]


def _checked_nodes(tree):
    """The nodes whose span is their own: not a node the table's rewrite made (it spans an
    argument: softmax(x) is exp(x - logsumexp(x)), each node spanning x), nor what it spans."""
    shared = {node.span for node in A.walk(tree) if any(c.span == node.span for c in A.children(node))}
    for node in A.walk(tree):
        if not isinstance(node, A.Where) and node.span not in shared:
            yield node


@pytest.mark.parametrize("text", TEXTS)
def test_each_node_spans_the_text_it_is_parsed_from(text):
    tree = parse_text(text)
    seen = 0
    for node in _checked_nodes(tree):
        start, end = node.span
        piece = text[start:end]
        assert parse_text(piece) == node, (piece, node)  # spans are not compared: the structure
        seen += 1
    assert seen >= 3


@pytest.mark.parametrize("text, node_text, parent_text", [
    # a bracketed operand: its node spans what is inside the brackets, the product around it
    # reaches the brackets
    ("(a + b)*c", "a + b", "(a + b)*c"),
    ("c*(a - b)", "a - b", "c*(a - b)"),
    ("((x))'", "x", "((x))'"),
    # a sign + is no node: the product around it reaches the sign
    ("a*+b", "b", "a*+b"),
    # a call the table rewrote: the product around it reaches its name and brackets
    ("2*softmax(x)", None, "2*softmax(x)"),
])
def test_brackets_signs_and_rewritten_calls_belong_to_the_node_around_them(text, node_text, parent_text):
    tree = parse_text(text)
    assert text[tree.span[0]:tree.span[1]] == parent_text
    inner = tree.arg if isinstance(tree, A.Transpose) else tree.right if node_text in (None, "b", "a - b") \
        else tree.left
    if node_text is not None:
        assert text[inner.span[0]:inner.span[1]] == node_text


def test_a_where_spans_its_body_and_bindings_with_their_brackets():
    text = "(x)'*y where y = (A*x)"
    tree = parse_text(text)
    assert isinstance(tree, A.Where) and tree.span == (0, len(text))
    (name, bound), = tree.bindings
    assert text[bound.span[0]:bound.span[1]] == "A*x"
    assert [text[s:e] for s, e in tree.name_spans] == ["y"]


# -- the errors: a syntax error anywhere first, then the first the builder meets ------------------

@pytest.mark.parametrize("text, where", [
    # the number and the keyword would be refused, but the text does not parse: that comes first
    ("1e999 + ", "ends too early"),
    ("where*x + * y", "unexpected '*'"),
    ("[1, 2; 3]*x y", "an operator is missing"),
])
def test_a_syntax_error_comes_before_what_the_builder_refuses(text, where):
    with pytest.raises(RicciSyntaxError) as e:
        parse_text(text)
    assert where in str(e.value)


@pytest.mark.parametrize("text, first", [
    ("1e999 + [1, 2; 3]", "1e999"),
    ("[1, 2; 3] + 1e999", "[1, 2; 3]"),
    ("exp(where) + 1e999", "where"),
    ("x + y where y = 1e999, y = x", "1e999"),
    ("x + y where y = x, y = 1e999", "1e999"),
])
def test_the_first_refusal_in_the_text_is_the_one_reported(text, first):
    with pytest.raises(RicciSyntaxError) as e:
        parse_text(text)
    start, end = e.value.span
    assert text[start:end] == first


# -- one parser for every thread -----------------------------------------------------------------

def _spans(node) -> list:
    return [(type(n).__name__, n.span) for n in A.walk(node)]


def test_threads_parsing_at_once_each_get_their_own_tree():
    texts = TEXTS + [network(k) for k in range(1, 40)] + ["1e999 + x", "x + where"]

    def parsed(text):
        try:
            node = parse_text(text)
        except RicciSyntaxError as e:
            return ("error", str(e), e.span)
        return (node, _spans(node))

    alone = [parsed(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(parsed, texts * 4))
    assert together == alone * 4


# -- the kinds: the network's algebra and its value ----------------------------------------------

def test_the_network_types_follow_its_products(deep_recursion):
    depth = 64
    e = ricci.parse(network(depth))
    dims = {n: v.dims for n, v in e.variables.items()}
    # W1*x: W1's columns are x's length; W(k+1)*tanh(Wk*…): W(k+1)'s columns are Wk's rows
    assert dims["W1"][1] == dims["x"][0]
    for k in range(1, depth):
        assert dims[f"W{k + 1}"][1] == dims[f"W{k}"][0]
    assert e.shape == ()
    for node in A.walk(e.tree):
        if isinstance(node, A.Call) and node.func == "tanh":
            weight = node.args[0].left.name
            assert e.type_of(node).shape == (dims[weight][0],)


@pytest.mark.parametrize("depth", [1, 7, 64])
def test_the_parsed_network_has_numpys_value(depth, deep_recursion):
    values = orthogonal_network(depth, n=3, seed=11, scale=0.7)
    got = float(np.asarray(ricci.parse(network(depth)).evaluate(values)))
    assert got == pytest.approx(network_value(values, depth, values["x"]), rel=1e-12, abs=1e-12)


def test_free_names_in_the_order_the_checker_reads_them():
    # the bindings' expressions first (each seeing the names bound before it), then the body;
    # a bound name is no variable, the identity only where it is declared
    tree = parse_text("b*x + y + eye(3)*q where y = A*z, w = y + q")
    assert free_names(tree, set()) == ["A", "z", "q", "b", "x"]
    assert free_names(parse_text("I*x + x"), {"I"}) == ["I", "x"]
    assert free_names(parse_text("I*x + x"), set()) == ["x"]
