"""Derivation at scale (issue 21, acceptance 1): the work of the display's product chains, and
the shortcuts of the IR's constructors that must give what the long way gives.

The work is counted in calls (deterministic, unlike a clock).  The shortcuts are compared with
the constructors' general path node for node (hash-consed: the same object is the same tensor),
and the values of the answers that go through them with finite differences.
"""

from __future__ import annotations

import hashlib
import pickle

import numpy as np
import pytest
from helpers import check_derivative, count_calls, dag_nodes, random_values

import ricci
from ricci.ir import build as B
from ricci.ir.nodes import Add, Index, Mul, Node, Num, _enc
from ricci.simplify.matrix import MatrixForms


def _calls_to_show(monkeypatch, attribute: str, expression: str, wrt: str = "X") -> int:
    calls = count_calls(monkeypatch, MatrixForms, attribute)
    d = ricci.derivative(expression, wrt, timeout=600)
    assert d.text
    monkeypatch.undo()
    return calls[0]


@pytest.mark.parametrize("attribute", ["decompose", "_inv_factors"])
def test_a_chain_shown_link_by_link_is_not_reread_from_its_start(monkeypatch, attribute):
    # tr(X^-k) by X is -k*(inv(X)^(k+1))': the raiser multiplies the k + 1 inverses in one at a
    # time, and each link took the chain so far apart again (decompose) and looked for
    # inverses to cancel along all of it (_inv_factors): 4,361 and 4,292 calls at k = 64,
    # 329 and 308 at k = 16 (quadratic).  A chain grown at its right end shares its links.
    small = _calls_to_show(monkeypatch, attribute, "tr(X^-16)")
    large = _calls_to_show(monkeypatch, attribute, "tr(X^-64)")
    assert large < 4 ** 1.2 * small, (small, large)


def _network(depth: int) -> str:
    inner = "x"
    for k in range(1, depth + 1):
        inner = f"tanh(W{k}*{inner})"
    return f"sum({inner})"


@pytest.mark.parametrize("attribute", ["decompose", "_inv_factors"])
def test_a_chain_grown_at_its_left_end_is_not_reread_either(monkeypatch, attribute):
    # the gradient of a depth-d tanh network is 1'*diag(…)*Wd*diag(…)*…*W1 (as a row), each
    # level of the chain rule multiplying the chain so far from the left: 11,956 and 11,294
    # calls at depth 64, 1,264 and 1,096 at depth 16; and _inv_factors none at all since no factor
    # of the chain is an inverse (nor ones), which _cancel_step now sees before asking it
    small = _calls_to_show(monkeypatch, attribute, _network(16), "x")
    large = _calls_to_show(monkeypatch, attribute, _network(64), "x")
    assert large <= 4 ** 1.2 * small, (small, large)


def test_the_network_gradient_is_still_right():
    # the value behind the counts above, at depth 6, against finite differences
    r = check_derivative(_network(6), "x", values=random_values(_network(6), {}, seed=6))
    assert r.d.text.count("tanh(W1*x)") == 1, r.d.text  # named once (where …)


@pytest.mark.parametrize("k", [9, 33])
def test_the_answers_of_the_long_chains_are_still_right(k):
    # the values behind the counts above: -k*(inv(X)^(k+1))', against NumPy's closed form and
    # finite differences
    expression = f"tr(X^-{k})"
    values = random_values(expression, {"X": "matrix"}, seed=3)
    n = values["X"].shape[0]
    values["X"] = values["X"] + n * np.eye(n)
    r = check_derivative(expression, "X", kinds={"X": "matrix"}, values=values,
                         closed=lambda v: -k * np.linalg.matrix_power(np.linalg.inv(v["X"]), k + 1).T)
    assert r.d.text == f"-{k}*(inv(X)^{k + 1})'"


def test_an_inverse_cancelled_inside_a_chain_still_cancels():
    # the memo of what is left of a chain: inv(A)*A in the middle of a chain built link by link
    v = random_values("x'*B*inv(A)*A*C*x", {"A": "matrix", "B": "matrix", "C": "matrix", "x": "vector"}, seed=4)
    r = check_derivative("x'*B*inv(A)*A*C*x", "x", kinds={"A": "matrix", "B": "matrix", "C": "matrix"}, values=v,
                         closed=lambda v: v["x"] @ (v["B"] @ v["C"] + (v["B"] @ v["C"]).T))
    assert "inv" not in r.d.text, r.d.text


# -- the IR's shortcuts give what the general path gives ------------------------------------------

def _nodes(expression: str, wrt: str, order: int = 1) -> list:
    """Every node of the derivative's DAG, in a fixed order (children first)."""
    return dag_nodes(ricci.derivative(expression, wrt, order).node)


CASES = [("sum(tanh(W3*tanh(W2*tanh(W1*x))))", "x", 1), ("logdet(X + inv(X + inv(X)))", "X", 1),
         ("x'*A*x/(x'*B*x)", "x", 2), ("log(sum(exp(x)))", "x", 3), ("sum(sigmoid(W2*sigmoid(W1*x)))", "x", 2)]


def _old_sig(node: Node) -> bytes:
    """The structural digest as ir/nodes.py wrote it before it kept the encodings (update by
    update), from the node's own parts."""
    h = hashlib.blake2b(digest_size=10)
    h.update(type(node).__name__.encode())
    h.update(repr(node._params_enc()).encode())
    for c in node.children():
        h.update(c.sig)
        h.update(repr(tuple(_enc(node, i) for i in c.free)).encode())
    return h.digest()


@pytest.mark.parametrize("case", CASES)
def test_the_digests_are_the_ones_written_piece_by_piece(case):
    nodes = _nodes(*case)
    assert len(nodes) > 20
    for n in nodes:
        assert n.sig == _old_sig(n), n
        assert n.size == 1 + sum(c.size for c in n.children())
        assert n.height == max((c.height for c in n.children()), default=0) + isinstance(n, Mul)
        if isinstance(n, Mul):  # the summed indices kept on the node: first occurrence first
            assert n.bound == tuple(dict.fromkeys(i for f in n.factors for i in f.free if i not in n.out))


@pytest.mark.parametrize("case", CASES)
def test_a_sum_renamed_one_to_one_is_the_sum_of_its_terms_renamed(case):
    sums = [n for n in _nodes(*case) if isinstance(n, Add) and n.free]
    assert sums
    for s in sums:
        fresh = {i: B.fresh(i.dim) for i in s.free}
        swap = dict(zip(s.free, reversed(s.free)))
        for m in (fresh, swap):
            assert B.rename(s, m) is B.add([B.rename(t, m) for t in s.terms]), (s, m)


@pytest.mark.parametrize("case", CASES)
def test_a_number_times_one_factor_is_what_mul_makes_of_it(case):
    for n in _nodes(*case):
        if isinstance(n, (Mul, Num)):
            continue
        for c in (-1.0, 2.5, 1.0, 0.0):
            assert B._scale(c, n) is B.mul([B.num(c), n], n.free), (c, n)
        scaled = B._scale(-3.0, n)
        coef, rest = B._split_coef(scaled)
        assert coef == -3.0 and rest is B.mul(list(scaled.factors[1:]), scaled.out) is n


def test_an_index_is_its_name_and_dimension():
    i, j = Index("i", "n"), Index("j", "n")
    assert i == Index("i", "n") and i != j and i != Index("i", "m")
    assert hash(i) == hash(("i", "n"))  # the hash the frozen dataclass had: dict orders unchanged
    assert sorted([j, Index("i", "m"), i]) == [Index("i", "m"), i, j]  # name, then dimension
    assert (i.name, i.dim, i.bound, Index("_0", 3).bound) == ("i", "n", False, True)
    assert repr(Index("k", 3)) == "k:3"
    assert pickle.loads(pickle.dumps(i)) == i and type(pickle.loads(pickle.dumps(i))) is Index
    match i:
        case Index(name=name, dim=dim):
            assert (name, dim) == ("i", "n")


def test_a_tie_between_names_is_broken_as_the_whole_walk_breaks_it(monkeypatch):
    # naming's ties (simplify/naming.py): the places are walked at the first tie and then moved
    # where each name changes the walk (simplify/naming_order.py); they are the ones the whole
    # children-first walk gives
    from ricci.simplify import naming

    real = naming._View.name
    compared = [0]

    def checked(view, b, label):
        changed = real(view, b, label)
        if view.order is not None:
            assert view.order.keys() == view.postorder(view.roots)
            compared[0] += 1
        return changed

    monkeypatch.setattr(naming._View, "name", checked)
    for expression, wrt in ((_network(12), "x"), ("logdet(X + inv(X + inv(X + inv(X))))", "X")):
        assert ricci.derivative(expression, wrt).text
    assert compared[0] >= 5


def test_the_least_order_of_a_repeated_structure_is_searched_once(monkeypatch):
    # tr(X^64) as lowered: every link of the chain X*X*…*X is a product of seven factors, five
    # of them tied, with fresh index names; the order found is kept per structure (159 searches
    # of up to 7^3 encodings before, one per product).  (159 orders asked for, 62 searched;
    # 106 and 62 since mul splices a product in with its summed names in place: the renamings
    # apart no longer canonicalise their products again, tests/test_scale_rename.py)
    ordered = count_calls(monkeypatch, B, "_least_order")
    searched = count_calls(monkeypatch, B, "_least_positions")
    monkeypatch.setattr(B, "_LEAST_ORDERS", {})
    assert ricci.derivative("tr(X^64)", "X").text == "64*(X^63)'"
    assert ordered[0] > 100 and searched[0] < 0.6 * ordered[0], (ordered, searched)


@pytest.mark.parametrize("case", CASES)
def test_a_kept_least_order_is_the_one_the_search_finds(case):
    # every product of the derivative's DAG ordered again, its indices renamed to fresh names
    # (so that the kept order is found by structure, not by the same names)
    for n in _nodes(*case):
        if not isinstance(n, Mul) or len(n.factors) < 2:
            continue
        fresh = {i: B.fresh(i.dim) for i in n.free}
        for m in ({}, fresh):
            fs = [B.rename(f, m) if m else f for f in n.factors if not isinstance(f, Num)]
            outset = {m.get(i, i) for i in n.out}
            groups = [fs]
            assert B._least_order(groups, outset) == [fs[p] for _, p in B._least_positions(groups, outset)]


# -- renaming without rebuilding (issue 21, acceptance 1, later) ----------------------------------

def test_a_network_level_builds_few_digests(monkeypatch):
    # each level of the chain rule renamed every factor of the product so far twice (apart,
    # then canonically), each renamed node built with its digest computed anew: 1,020 and
    # 4,219 digests for the derivatives at depths 16 and 64 (66 a level); a renaming that
    # orders nothing by name now copies the digest (208 and 836)
    from ricci.ir import nodes

    made = count_calls(monkeypatch, nodes, "_finish")
    for depth in (16, 64):
        made[0] = 0
        ricci.derivative(_network(depth), "x")
        assert made[0] < 20 * depth, (depth, made)


def _renamings(n: Node) -> list:
    """Two one-to-one renamings of n's free indices: to fresh names, and reversed among them."""
    return [{i: B.fresh(i.dim) for i in n.free}, dict(zip(n.free, reversed(n.free)))]


@pytest.mark.parametrize("case", CASES + [(_network(5), "x", 1)])
def test_a_renaming_that_orders_nothing_is_what_the_long_way_makes(monkeypatch, case):
    # B._substituted puts the new names in place and copies the digest; B._rename rebuilds
    # each node through the constructors (products canonicalised, digests computed).  The
    # same node either way, with the digest written piece by piece.
    substituted = 0
    for n in _nodes(*case):
        if not n.free or n.sorts:
            continue
        for m in _renamings(n):
            fast = B.rename(n, m)
            assert fast.sig == _old_sig(fast) and fast.size == n.size and fast.height == n.height, (n, m)
            with monkeypatch.context() as mp:
                mp.setattr(B, "_substituted", lambda node, mapping: None)
                slow = B.rename(n, m)
            assert fast is slow, (n, m, fast, slow)
            substituted += 1
    assert substituted > 10


@pytest.mark.parametrize("case", CASES + [(_network(5), "x", 1)])
def test_a_renamed_product_kept_in_its_order_is_the_canonical_one(case):
    # B._in_kept_order keeps a renamed product's factors in their order where nothing can
    # reorder them; _canonical_mul sorts, encodes and names them anew
    kept = 0
    for n in _nodes(*case):
        if not isinstance(n, Mul) or not n.out:
            continue
        for m in _renamings(n):
            factors = [B.rename(f, m) for f in n.factors]
            new_out = tuple(m.get(i, i) for i in n.out)
            got = B._in_kept_order(n, factors, new_out, m)
            if got is None:
                continue
            coef, rest = (factors[0].value, factors[1:]) if isinstance(factors[0], Num) else (1.0, factors)
            assert got.sig == _old_sig(got) and got.size == n.size, (n, m)  # its digest copied
            assert got is B._canonical_mul(coef, rest, new_out), (n, m)
            kept += 1
    assert kept > 0


def test_a_chain_is_read_as_a_chain_once(monkeypatch):
    # simplify/vocabulary.py read every left-nested prefix of the network's display chain
    # W64*diag(…)*W63*… as a chain of its own: 559 and 8,383 factors read at depths 16 and 64
    from ricci.simplify import vocabulary

    real = vocabulary._chain_parts
    read = [0]

    def counting(a):
        parts = real(a)
        read[0] += len(parts)
        return parts

    monkeypatch.setattr(vocabulary, "_chain_parts", counting)
    counts = []
    for depth in (16, 64):
        read[0] = 0
        assert ricci.derivative(_network(depth), "x").text
        counts.append(read[0])
    assert counts[1] < 4 ** 1.2 * counts[0], counts


def test_a_deeper_network_gradient_is_still_right():
    # the values behind the renamings above, through several nested links of the chain rule
    net = _network(9)
    r = check_derivative(net, "x", values=random_values(net, {}, sizes=3, seed=9))
    assert "where" in r.d.text


def test_a_tie_between_names_is_placed_without_a_call_per_key(monkeypatch):
    # naming's tie walk (simplify/naming.py's pos_of) visited each key through two Python calls
    # (its visit and the view's kids), once per name: 1,257 and 20,097 kids calls at depths 16
    # and 64 (314 a level at 64); the walk is now a loop (222 and 1,278 calls: the namings' own
    # walks of what they name, still a little above linear)
    from ricci.simplify import naming

    calls = count_calls(monkeypatch, naming._View, "kids")
    assert ricci.derivative(_network(64), "x").text
    assert calls[0] < 40 * 64, calls
