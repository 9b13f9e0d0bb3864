"""Compact index notation for higher orders (issue 21): what the index printers write in place of
the long sums a higher derivative expands into.  Only the printing changes: the answer's IR, and
so every value computed from it, is the same.  (Here, among the display rules, because it reads
the IR; ``ricci.display_forms`` hands it to the text and LaTeX printer of ``ricci.printing.index``,
which is below the IR's layer, and ``ricci.explain.tensor`` uses it for MathML.)

* **Matrix powers** (:func:`chains`): a chain X_ab X_bc X_cd of one matrix through summed
  indices that nothing else carries is ``(X^3)_ad``; ``inv(X)`` chains likewise.
* **Families** (:func:`compact_terms`): terms that differ only in how one total power is split
  between two chains, k (X^r)_li (X^(k−2−r))_jk for r = 0 … k − 2 (X^0 being the δ), are one
  ``Σ_{r=0}^{k-2} k (X^r)_li (X^(k-2-r))_jk``.
* **Symmetrised terms** (:func:`compact_terms`): an order-m derivative is symmetric in its m
  groups of derivative indices (the partial derivatives commute), so its terms come in orbits:
  every permutation of the groups maps a term to another with the same coefficient.  A whole
  orbit is written once, ``Sym[t]``: the sum of the distinct terms that permuting the groups of
  t gives.  A term is put in an orbit only when every image is a term of the answer with the
  same coefficient, so the sum written is the sum the answer holds.

Equal terms up to the names of summed indices are already one term: the IR names summed
indices canonically and ``add`` collects like terms.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

from ..ir.build import _split_coef
from ..ir.nodes import Add, Delta, Index, MatFun, Mul, Node, Num, Var
from .naming import mnemonic  # noqa: F401  (the printer's names for repeated subterms, handed on)


@dataclass(frozen=True)
class Chain:
    """``(base^power)_{first,last}``: ``members`` are the factors (positions in the product),
    ``inner`` the summed indices the chain hides."""

    base: Node  # the first factor (its head is printed)
    power: int
    first: Index
    last: Index
    members: tuple
    inner: tuple


@dataclass(frozen=True)
class Sym:
    """``coef Sym[node]``: the sum of the distinct images of ``node`` under the permutations of
    the derivative's groups of indices, each times ``coef`` (``size`` of them)."""

    coef: float
    node: Node
    size: int
    kind = "sym"  # what the printers dispatch on (the text printer is below the IR: no isinstance)


@dataclass(frozen=True)
class Family:
    """``Σ_{r=lo}^{hi} coef (base^r)_{pairs[0]} (base^(total-r))_{pairs[1]} others``."""

    coef: float
    base: Node
    pairs: tuple  # ((first, last), (first, last))
    lo: int
    hi: int
    total: int
    others: tuple
    kind = "family"


# -- matrix powers -------------------------------------------------------------------------------

def _matrix_key(f: Node):
    """What identifies the matrix a two-index factor is an entry of, or None: X for X_ab, the
    function and its argument for inv(X)_ab."""
    if isinstance(f, Var) and len(f.idx) == 2 and f.idx[0] != f.idx[1]:
        return ("var", f.name, f.sym)
    if isinstance(f, MatFun) and len(f.out) == 2 and f.out[0] != f.out[1]:
        return ("matfun", f.func, f.arg, f.r, f.c)
    return None


def _row_col(f: Node) -> tuple:
    return f.idx if isinstance(f, Var) else f.out


def chains(factors: tuple, out: tuple) -> list[Chain]:
    """The chains of two or more factors of one matrix linked column to row through summed
    indices that occur nowhere else in the product (a closed chain, a trace, is left alone)."""
    outset = set(out)
    count: dict = {}
    for f in factors:
        for i in f.free:
            count[i] = count.get(i, 0) + 1
    keys = [_matrix_key(f) for f in factors]
    starts: dict = {}  # row index → positions of the factors whose row it is
    for k, (f, key) in enumerate(zip(factors, keys)):
        if key is not None:
            starts.setdefault(_row_col(f)[0], []).append(k)
    nxt, prev = {}, {}
    for k, (f, key) in enumerate(zip(factors, keys)):
        if key is None:
            continue
        c = _row_col(f)[1]
        if c in outset or count.get(c) != 2:
            continue
        follow = [m for m in starts.get(c, ()) if m != k and keys[m] == key]
        if len(follow) == 1 and follow[0] not in prev:
            nxt[k], prev[follow[0]] = follow[0], k
    found = []
    for k in range(len(factors)):
        if k in nxt and k not in prev:
            members = [k]
            while members[-1] in nxt:
                members.append(nxt[members[-1]])
            inner = tuple(_row_col(factors[m])[1] for m in members[:-1])
            found.append(Chain(factors[k], len(members), _row_col(factors[k])[0],
                               _row_col(factors[members[-1]])[1], tuple(members), inner))
    return found


# -- families and symmetrised orbits -------------------------------------------------------------

def _powers_of(rest: Node, free: set):
    """(matrix key, base factor, [(first, last, power)], other factors, deltas) of a product
    whose every index is free once its chains are powers; None otherwise."""
    factors = rest.factors if isinstance(rest, Mul) else (rest,)
    out = rest.out if isinstance(rest, Mul) else rest.free
    if any(isinstance(f, Num) for f in factors):
        return None
    found = chains(factors, out)
    used = {m for c in found for m in c.members}
    powers = [(c.first, c.last, c.power, _matrix_key(c.base), c.base) for c in found]
    others, deltas = [], []
    for k, f in enumerate(factors):
        if k in used:
            continue
        if not set(f.free) <= free:
            return None
        key = _matrix_key(f)
        if key is not None:
            powers.append((_row_col(f)[0], _row_col(f)[1], 1, key, f))
        elif isinstance(f, Delta):
            deltas.append(f)
        else:
            others.append(f)
    return powers, others, deltas


def _family_key(coef, key, pairs, others, order):
    ranked = sorted(pairs, key=lambda p: (order.get(p[0], 99), order.get(p[1], 99)))
    return (coef, key, tuple(ranked[0][:2]), tuple(ranked[1][:2]), tuple(others)), ranked


def _families(items: list, order: dict) -> dict:
    """term position → Family for the terms that make one (at least three members)."""
    free = set(order)
    groups: dict = {}  # key → {position: (exponent of the first pair, total)}
    bases: dict = {}
    singles = []
    for pos, (c, rest) in enumerate(items):
        got = _powers_of(rest, free)
        if got is None:
            continue
        powers, others, deltas = got
        if len(powers) == 2 and powers[0][3] == powers[1][3]:
            gk, ranked = _family_key(c, powers[0][3], powers, others + deltas, order)
            groups.setdefault(gk, {})[pos] = (ranked[0][2], ranked[0][2] + ranked[1][2])
            bases.setdefault(gk, powers[0][4])
        elif len(powers) == 1 and deltas:
            singles.append((pos, c, powers[0], others, deltas))
    for pos, c, power, others, deltas in singles:  # δ_ab: the power 0 of the same matrix
        for k, dl in enumerate(deltas):
            rest_d = deltas[:k] + deltas[k + 1:]
            for a, b in ((dl.i, dl.j), (dl.j, dl.i)):
                gk, ranked = _family_key(c, power[3], [power, (a, b, 0)], others + rest_d, order)
                if gk in groups and pos not in groups[gk]:
                    groups[gk][pos] = (ranked[0][2], ranked[0][2] + ranked[1][2])
                    break
            else:
                continue
            break
    made = {}
    for gk, members in groups.items():
        if any(p in made for p in members):
            continue
        totals = {t for _, t in members.values()}
        exps = sorted(e for e, _ in members.values())
        if len(totals) != 1 or len(exps) < 3 or exps != list(range(exps[0], exps[0] + len(exps))):
            continue
        coef, _, p1, p2, others = gk
        fam = Family(coef, bases[gk], (p1, p2), exps[0], exps[-1], totals.pop(), others)
        for p in members:
            made[p] = fam
    return made


def _key(rest: Node, order: dict) -> tuple:
    """A key of a term equal for equal tensors written alike up to δ: the free indices that δ's
    tie together (one class each) and the other factors with each such index replaced by its
    class's first (δ_ij exp(x_i) and δ_ij exp(x_j) are one tensor).  Equal keys are equal
    tensors; the converse is not needed (a missed equality only leaves terms written out)."""
    factors = rest.factors if isinstance(rest, Mul) else (rest,)
    ties = [(f.i, f.j) for f in factors if isinstance(f, Delta) and f.i in order and f.j in order]
    others = tuple((f.sig, f.free) for f in factors
                   if not (isinstance(f, Delta) and f.i in order and f.j in order))
    return _normal(ties, others, order)


def _normal(ties: list, others: tuple, order: dict) -> tuple:
    rep = {}
    for a, b in ties:  # union of the classes, each named by its first index in ``order``
        ra, rb = rep.get(a, a), rep.get(b, b)
        while rep.get(ra, ra) != ra:
            ra = rep[ra]
        while rep.get(rb, rb) != rb:
            rb = rep[rb]
        if ra != rb:
            lo, hi = sorted((ra, rb), key=order.__getitem__)
            rep[hi] = lo

    def find(i):
        while rep.get(i, i) != i:
            i = rep[i]
        return i

    classes: dict = {}
    for i in rep:
        classes.setdefault(find(i), set()).add(i)
    classes = tuple(sorted(tuple(sorted(c | {r}, key=order.__getitem__)) for r, c in classes.items()))
    fs = tuple(sorted((sig, tuple(find(i) for i in free)) for sig, free in others))
    return classes, fs


def _moved(key: tuple, m: dict, order: dict) -> tuple:
    """The key of the term with its free indices permuted by ``m``."""
    classes, fs = key
    ties = [(m.get(c[0], c[0]), m.get(i, i)) for c in classes for i in c[1:]]
    return _normal(ties, tuple((sig, tuple(m.get(i, i) for i in free)) for sig, free in fs), order)


def _orbit(key: tuple, swaps: list, order: dict, present: dict) -> list | None:
    """The distinct images of a term's key under the permutations the ``swaps`` generate, in
    the order they are found (deterministic: the swaps' order); None as soon as one is not
    ``present`` (a term of the answer): no Sym then, and a factored answer whose terms are not
    symmetric one by one costs one image per term, not its whole orbit."""
    seen = {key: None}
    todo = [key]
    while todo:
        k = todo.pop(0)
        for m in swaps:
            img = _moved(k, m, order)
            if img not in seen:
                if img not in present:
                    return None
                seen[img] = None
                todo.append(img)
    return list(seen)


#: compact_terms of the nodes seen (weakly; nodes are immutable): the text and the LaTeX ask alike
_DONE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def compact_terms(node: Node, groups: list, sym: bool = True) -> list | None:
    """The terms of ``node`` as the printer shows them: nodes, :class:`Family` and (where
    ``sym``) :class:`Sym` entries, each where its first member stood; None where nothing is
    made shorter.  ``groups`` are the derivative's groups of indices (one per order)."""
    if not isinstance(node, Add):
        return None
    key = (tuple(tuple(g) for g in groups), sym)
    got = _DONE.get(node)
    if got is None or key not in got:
        got = _DONE.setdefault(node, {})
        got[key] = _compact_terms(node, groups, sym)
    return got[key]


def _compact_terms(node: Add, groups: list, sym: bool) -> list | None:
    items = [_split_coef(t) for t in node.terms]
    order = {i: k for k, g in enumerate(groups) for i in g}
    for i in node.free:  # the function's own indices after the derivative's
        order.setdefault(i, len(order))
    fams = _families(items, order)
    swaps = []
    if sym and len(groups) >= 2 and all(len(g) == len(groups[0]) and g for g in groups):
        for a, b in zip(groups, groups[1:]):
            m = dict(zip(a, b))
            m.update(zip(b, a))
            swaps.append(m)
    # δ's classes are named by their least index in a TOTAL order: ``order`` ranks the groups
    # only (i and j of one group tie), and a tie left the name to a set's iteration order, so
    # whether an orbit closed (Sym[…] or the terms written out) changed with PYTHONHASHSEED
    rank = {i: n for n, i in enumerate(order)}
    keys = [_key(rest, rank) for _, rest in items] if swaps else []
    where: dict = {}
    for pos, k in enumerate(keys):
        where.setdefault(k, pos)
    taken: dict = {}
    for pos, (c, rest) in enumerate(items):
        if pos in fams or pos in taken or not swaps or where[keys[pos]] != pos:
            continue
        orbit = _orbit(keys[pos], swaps, rank, where)
        if orbit is None or len(orbit) < 2:
            continue
        members = [where.get(img) for img in orbit]
        if any(m is None or m in fams or m in taken or not math.isclose(items[m][0], c, rel_tol=1e-12)
               for m in members):
            continue
        entry = Sym(c, rest, len(orbit))
        for m in members:
            taken[m] = entry
    if not fams and not taken:
        return None
    shown, done = [], set()
    for pos, t in enumerate(node.terms):
        entry = fams.get(pos) or taken.get(pos)
        if entry is None:
            shown.append(t)
        elif id(entry) not in done:  # identity marks an entry already placed, never an order
            done.add(id(entry))
            shown.append(entry)
    return shown
