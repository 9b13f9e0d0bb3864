"""Derivation at scale (issue 21, acceptance 1): the chain rule's renamings per level.

Each level of a deep chain rule splices the product so far into a new one.  mul renamed every
spliced factor twice (its summed indices apart to fresh names, then to the canonical names of
the new product); it now keeps the names where none can meet another and renames once.  The
work is counted (calls and nodes made, deterministic); the shortcuts are compared with the long
way node for node (hash-consed: the same object is the same tensor), and the answers' values
with finite differences.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import check_derivative, count_calls, count_nodes_made, python_calls, random_values
from helpers import network as _network

import ricci
from ricci.ir import build as B
from ricci.ir import nodes as N
from ricci.ir.nodes import Index, Mul


def _per_level(monkeypatch, owner, attribute: str) -> float:
    """Calls of ``owner.attribute`` (the IR nodes made where attribute is "nodes made") per level
    of the network's derivative, depths 16 to 64."""
    calls = count_nodes_made(monkeypatch) if attribute == "nodes made" else count_calls(monkeypatch, owner, attribute)
    got = []
    for depth in (16, 64):
        calls[0] = 0
        ricci.derivative(_network(depth), "x")
        got.append(calls[0])
    monkeypatch.undo()
    return (got[1] - got[0]) / 48


def test_a_spliced_product_draws_no_fresh_names(monkeypatch):
    # each level spliced the product so far into the next one with its summed indices renamed
    # apart to fresh names: 3.0 fresh names a level (the lowering draws 1.0 of them, one per
    # matrix product); the names are kept where they meet no other, as here
    assert _per_level(monkeypatch, B, "fresh") <= 1.0


def test_a_network_level_makes_fewer_nodes_and_renamings(monkeypatch):
    # ricci.derivative (parse and lowering included) of the depth-64 network against depth 16,
    # a level: 66.8 nodes made and 43.7 renamings before, each spliced factor renamed twice
    # (apart, then canonically); 48.1 and 28.3 now
    assert _per_level(monkeypatch, N, "nodes made") < 55
    assert _per_level(monkeypatch, B, "rename") < 35


def test_a_network_level_makes_fewer_python_calls():
    # Python calls (sys.setprofile's call events, deterministic) of the differentiation alone,
    # a level: 1,482 before (two renamings per spliced factor, each factor's sort key made
    # twice, generators stepped per factor), about 650 now; at most half of before
    import sys

    from ricci.derivation import _prepare
    from ricci.diff import differentiate
    from ricci.lower import lower

    def calls(depth: int) -> int:
        lw = lower(_prepare(_network(depth), "x", None))
        K = (B.fresh("n", "k"),)
        node, seen = python_calls(lambda: differentiate(lw.node, "x", K, lw.bindings))
        assert node.free == K
        return seen

    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 20000))
    try:
        per_level = (calls(64) - calls(16)) / 48
    finally:
        sys.setrecursionlimit(old_limit)
    assert per_level < 1482 / 2, per_level


# -- the shortcuts against the long way -------------------------------------------------------------

CASES = [(_network(3), "x", 1), (_network(9), "x", 1), ("sum(sigmoid(W3*sigmoid(W2*sigmoid(W1*x))))", "x", 2),
         ("logdet(X + inv(X + inv(X + inv(X))))", "X", 1), ("tr(X^9)", "X", 1), ("tr(X^-7)", "X", 1),
         ("tr(X^5)", "X", 2), ("x'*A*x/(x'*B*x)", "x", 2), ("log(sum(exp(x)))", "x", 3),
         ("x'*inv(A + x*x')*x", "x", 2), ("tr(inv(A + X*B*X'))", "X", 2), ("logdet(inv(X + A) + inv(X + B))", "X", 2),
         ("x'*A1*x + x'*A2*x + (x - m)'*A3*(x - m)", "x", 2), ("sum(exp(A*B*C*D*E*F*G*x))", "x", 2),
         ("tr(A*X*B*X'*C*X*D)", "X", 1), ("norm2(A*x - b)^2", "x", 2), ("sum(tanh(W2*diag(x)*W1*x))", "x", 1),
         ("x'*kron(A, B)*vec(X)", "X", 1), ("det(X*A*X')", "X", 2), ("sum(log(1 + exp(-y .* (Z*w))))", "w", 2)]


def _record(monkeypatch, attribute: str, cases) -> list:
    """(arguments, result) of every call of B.attribute while deriving and showing ``cases``."""
    real = getattr(B, attribute)
    calls = []

    def recording(*args):
        got = real(*args)
        calls.append((args, got))
        return got

    monkeypatch.setattr(B, attribute, recording)
    for expression, wrt, order in cases:
        assert ricci.derivative(expression, wrt, order).text
    monkeypatch.undo()
    return calls


def test_a_product_spliced_in_place_is_the_one_renamed_apart(monkeypatch):
    # every product the derivations make, made again the long way (each spliced product's summed
    # indices renamed apart to fresh names first): the same node
    calls = _record(monkeypatch, "mul", CASES)
    spliced = 0
    for (factors, *out), got in calls:
        if any(isinstance(f, Mul) and B._flattenable(f) and f.bound for f in factors):
            spliced += 1
        monkeypatch.setattr(B, "SPLICE_IN_PLACE", False)
        slow = B.mul(factors, *out)
        monkeypatch.undo()
        assert slow is got, (factors, out, got, slow)
        assert got.sig == slow.sig
    assert spliced > 100, spliced


def test_names_that_would_meet_are_renamed_apart():
    # a spliced product's summed index named as an index of another factor (or another spliced
    # product's): the names are not kept, and the product is the one the long way makes
    n = "n"
    i, s = Index("i", n), Index("s", n)
    p = B.mul([B.var("A", (i, s)), B.var("x", (s,))], (i,))  # A*x: summed over a name of its own
    (b,) = p.bound
    clash = B.var("y", (b,))  # another factor carrying that very name, free
    assert B._flattened([p, clash], (i, b)) is None
    outside = B.mul([p, B.var("B", (i, b))], (i, b))  # its summed name an out index
    assert B._flattened([p, p], (i,)) is None  # the same product twice: its summed names meet
    got = B.mul([p, p], (i,))
    assert isinstance(got, Mul) and len(got.bound) == 2  # A_is x_s A_it x_t, two sums
    assert B._flattened([p, B.var("y", (i,))], (i,)) is not None  # no clash: kept
    scaled = B.mul([B.num(2.0), B.var("U", (i, b))], (i, b))  # a product summing nothing, carrying b
    assert isinstance(scaled, Mul) and not scaled.bound
    assert B._flattened([scaled, p], (i,)) is None
    values = {"A": np.arange(9.0).reshape(3, 3) - 4, "x": np.array([0.5, -1.0, 2.0]),
              "y": np.array([1.0, 2.0, -3.0]), "B": np.arange(9.0).reshape(3, 3) / 7}
    Ax = values["A"] @ values["x"]
    assert np.allclose(_eval(got, (i,), values), Ax * Ax)
    assert np.allclose(_eval(B.mul([p, clash], (i, b)), (i, b), values), np.outer(Ax, values["y"]))
    assert np.allclose(_eval(outside, (i, b), values), Ax[:, None] * values["B"])
    values["U"] = np.arange(9.0).reshape(3, 3) / 5 - 1  # 2 * Σ_b U_ib (A x)_i
    assert np.allclose(_eval(B.mul([scaled, p], (i,)), (i,), values), 2 * values["U"].sum(axis=1) * Ax)


def _eval(node, order, values):
    from ricci.ir.evaluate import IREvaluator

    return IREvaluator(values, {"n": 3}).value(node, order)


def _canonical_mul_before(coef: float, fs: list, out: tuple):
    """_canonical_mul as it was written before it made each sort key once (sorted, groupby and
    an encoding of the order), the reference for the rewritten one."""
    import itertools

    outset = set(out)
    out_sorted = tuple(sorted(out))
    if not fs:
        return B.const(coef, out_sorted)
    if len(fs) == 1 and coef == 1.0 and set(fs[0].free) == outset:
        return fs[0]

    def prekey(f):
        return (f.sig, tuple((0, i.name) if i in outset else (1, "") for i in f.free))

    fs = sorted(fs, key=prekey)
    groups = [list(g) for _, g in itertools.groupby(fs, key=prekey)]

    def encode(order):
        names: dict = {}
        for f in order:
            for i in f.free:
                if i not in outset:
                    names.setdefault(i, len(names))
        return names

    n_perm = math.prod(math.factorial(len(g)) for g in groups)
    best_order = fs if n_perm == 1 or n_perm > B.MAX_TIE_PERMUTATIONS else B._least_order(groups, outset)
    names = encode(best_order)
    taken = {i.name for i in out}
    height = 1 + max((f.height for f in best_order), default=0)
    canon: dict = {}
    k = 0
    for ix, _ in sorted(names.items(), key=lambda kv: kv[1]):
        while B._bound_name(height, k) in taken:
            k += 1
        canon[ix] = Index(B._bound_name(height, k), ix.dim)
        k += 1
    renamed = tuple(B.rename(f, canon) for f in best_order)
    return B._make_mul(((B.num(coef),) if coef != 1.0 else ()) + renamed, out_sorted)


def test_the_canonical_product_is_the_one_written_before(monkeypatch):
    calls = _record(monkeypatch, "_canonical_mul", CASES)
    tied = 0
    for (coef, fs, out), got in calls:
        assert _canonical_mul_before(coef, list(fs), out) is got, (coef, fs, out)
        prekeys = [(f.sig, tuple((0, i.name) if i in set(out) else (1, "") for i in f.free)) for f in fs]
        tied += len(set(prekeys)) < len(prekeys)
    assert len(calls) > 800 and tied > 50, (len(calls), tied)


def test_a_renaming_written_with_loops_is_the_one_written_before():
    # rename's filter of the mapping (loops now, comprehensions before) on every node of a
    # derivative, renamed to fresh names, to names of its own (swapped) and with an identity
    def before(node, mapping):
        mapping = {k: v for k, v in mapping.items() if k != v and k in node.free}
        if not mapping:
            return node
        if not node.sorts and len(set(mapping.values())) == len(mapping) \
                and not any(v in node.free and v not in mapping for v in mapping.values()):
            got = B._substituted(node, mapping)
            if got is not None:
                return got
        return B._rename(node, mapping)

    d = ricci.derivative("sum(sigmoid(W2*sigmoid(W1*x))) + x'*inv(A + x*x')*x", "x", 2)
    seen, stack, renamed = set(), [d.node], 0
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        stack.extend(n.children())
        if not n.free:
            continue
        for m in ({i: B.fresh(i.dim) for i in n.free}, dict(zip(n.free, reversed(n.free))),
                  {n.free[0]: n.free[0]}):
            assert B.rename(n, m) is before(n, m), (n, m)
            renamed += 1
    assert renamed > 100


# -- the values ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("depth, sizes", [(1, None), (2, None), (7, None), (13, 3)])
def test_the_network_gradient_against_finite_differences(depth, sizes):
    # (depth 13: more dimensions than the sizes that tell them apart; all of size 3)
    expression = _network(depth)
    check_derivative(expression, "x", values=random_values(expression, {}, sizes, seed=depth))


@pytest.mark.parametrize("expression, wrt, order", [
    ("sum(sigmoid(W3*sigmoid(W2*sigmoid(W1*x))))", "x", 2), ("tr(A*X*B*X'*C*X*D)", "X", 1),
    ("sum(exp(A*B*C*D*E*F*G*x))", "x", 1), ("x'*A1*x + x'*A2*x + (x - m)'*A3*(x - m)", "x", 2)])
def test_spliced_answers_against_finite_differences(expression, wrt, order):
    kinds = {n: "matrix" for n in "ABCDEFGX"} | {"A1": "matrix", "A2": "matrix", "A3": "matrix"}
    kinds = {k: v for k, v in kinds.items() if k in ricci.parse(expression).variables}
    check_derivative(expression, wrt, order=order, kinds=kinds,
                     values=random_values(expression, kinds, seed=len(expression)))
