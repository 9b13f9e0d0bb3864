# Over 600 lines: the smart constructors are the IR's normal form, and mul, add and power call one another.
"""Smart constructors: the only way to make IR nodes, and the first layer of simplification.

Every constructor returns a node in normal form, so that equal tensors built different ways are
(mostly) one hash-consed object:

* ``mul``: flattens nested products (renaming their bound indices apart), folds numbers,
  eliminates δ against a summed index (A_ij δ_jk → A_ik), turns a sum over an index no factor
  carries into the dimension's size, merges repeated elementwise factors into powers
  (x_i x_i with i free → x_i², t·t → t²), orders the factors canonically and names the summed
  indices ``_0, _1, …`` (avoiding the names of the out indices, which may be bound outside).
* ``add``: flattens, drops zeros, collects like terms (2·T + 3·T → 5·T), orders terms.
* ``elem``, ``power``: fold constants; (a^p)^q → a^(pq) for integer q.

A zero tensor is ``Mul((Num(0),), out)``; a constant c broadcast over indices is
``Mul((Num(c),), out)`` (``Mul((), out)`` is all ones).
"""

from __future__ import annotations

import itertools
import math
import weakref
from operator import itemgetter
import numpy as np

from .nodes import Add, Delta, Elem, Index, MatFun, Mul, Node, Num, Pair, Pow, Size, Stack, Var, _intern, _intern_mul, unique
from .substitute import _bound_name, _substituted  # noqa: F401  (_bound_name: the naming's one spelling, read by tests)

_fresh = itertools.count()

#: A product with more factors than this stays a factor of its parent instead of being
#: flattened into it (when it has summed indices and no δ): flattening a long chain rule into
#: every enclosing product would cost O(L²) for a composition of depth L.
FLATTEN_LIMIT = 6

#: Above this many orderings of tied factors, canonical naming takes the first one it finds.
MAX_TIE_PERMUTATIONS = 120


def fresh(dim, stem: str = "#") -> Index:
    """A new free-namespace index (never starting with "_")."""
    # Zero-padded, so that names order as they were made whatever the counter stood at:
    # k000000009 < k000000010 (k9 > k10 as strings would reorder factors between runs).
    return Index(f"{stem}{next(_fresh):09d}", dim)


# -- leaves ------------------------------------------------------------------------------------

def num(value: float) -> Num:
    value = float(value)
    if value == 0.0:
        value = 0.0  # one zero, not two (-0.0)

    def init(n):
        n.value, n.free = value, ()

    return _intern(Num, (value,), init)


ONE = num(1.0)
ZERO = num(0.0)


def size(dim) -> Node:
    if isinstance(dim, int):
        return num(dim)

    def init(n):
        n.dim, n.free = dim, ()

    return _intern(Size, (dim,), init)


def var(name: str, idx: tuple, sym: bool = False) -> Var:
    idx = tuple(idx)

    def init(n):
        n.name, n.idx, n.sym, n.free = name, idx, sym, unique(idx)

    return _intern(Var, (name, idx, sym), init)


def delta(i: Index, j: Index) -> Node:
    if i == j:
        return Mul_ones((i,))
    i, j = sorted((i, j))

    def init(n):
        n.i, n.j, n.free = i, j, (i, j)

    return _intern(Delta, (i, j), init)


def pair(r: Index, a: Index, b: Index) -> Node:
    """The pairing of a (fastest) and b into r (nodes.Pair): vec and kron are written with it."""

    def init(n):
        n.r, n.a, n.b, n.free = r, a, b, unique((r, a, b))

    return _intern(Pair, (r, a, b), init)


def _contract_pairs(fs: list, outset: set) -> list | None:
    """Σ_r Pair_rab Pair_rcd = δ_ac δ_bd, Σ_ab Pair_rab Pair_sab = δ_rs, and a pairing summed
    alone over r (or over a and b) is 1: vec(X)'*vec(Y) is Σ_ab X_ab Y_ab.  None: no change."""
    pairs = [k for k, f in enumerate(fs) if isinstance(f, Pair)]
    if not pairs:
        return None

    def alone(ixs, keep):
        return all(i not in outset for i in ixs) and not any(
            i in g.free for k, g in enumerate(fs) if k not in keep for i in ixs)

    for x in pairs:
        p = fs[x]
        if alone((p.r,), (x,)) or alone((p.a, p.b), (x,)):
            return fs[:x] + fs[x + 1:]
        for y in pairs:
            q = fs[y]
            if y <= x:
                continue
            rest = [g for k, g in enumerate(fs) if k not in (x, y)]
            if p.r == q.r and alone((p.r,), (x, y)):
                return rest + [delta(p.a, q.a), delta(p.b, q.b)]
            if (p.a, p.b) == (q.a, q.b) and alone((p.a, p.b), (x, y)):
                return rest + [delta(p.r, q.r)]
    return None


def Mul_ones(out) -> Node:
    """The all-ones tensor over ``out`` (a number 1 when out is empty)."""
    return const(1.0, out)


def const(value: float, out=()) -> Node:
    out = tuple(sorted(unique(out)))
    if not out:
        return num(value)
    factors = () if value == 1.0 else (num(value),)
    return _make_mul(factors, out)


def zero(out=()) -> Node:
    return const(0.0, out)


def is_zero(node: Node) -> bool:
    if isinstance(node, Num):
        return node.value == 0.0
    return isinstance(node, Mul) and len(node.factors) == 1 and node.factors[0] is ZERO


def const_value(node: Node):
    """The number a constant (possibly broadcast) node stands for, else None."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Mul):
        for f in node.factors:  # all(…) without a generator to step (issue 21)
            if not isinstance(f, Num):
                return None
        return math.prod(f.value for f in node.factors)
    return None


#: the product of these factors over these (sorted) out indices as it stands, no normalisation:
#: nodes._intern_mul itself (a call, not two and a closure's; issue 21)
_make_mul = _intern_mul


# -- renaming ------------------------------------------------------------------------------------

def rename(node: Node, mapping: dict) -> Node:
    """Rename free indices simultaneously (bound ones are renamed apart when a target collides)."""
    # loops, not comprehensions: a call less each (rename is called for every factor of every
    # product a chain rule canonicalises; issue 21)
    free = node.free
    m = {}
    for k, v in mapping.items():
        if k != v and k in free:
            m[k] = v
    if not m:
        return node
    if not node.sorts and len(set(m.values())) == len(m):
        for v in m.values():
            if v in free and v not in m:
                break
        else:
            got = _substituted(node, m)
            if got is not None:
                return got
    return _rename(node, m)


def _rename(node: Node, m: dict) -> Node:
    r = lambda ix: m.get(ix, ix)  # noqa: E731
    match node:
        case Var():
            return var(node.name, tuple(r(i) for i in node.idx), node.sym)
        case Delta():
            return delta(r(node.i), r(node.j))
        case Pair():
            return pair(r(node.r), r(node.a), r(node.b))
        case Mul():
            out = node.out
            inner = {k: v for k, v in m.items() if k in out}
            targets = {v.name for v in inner.values()}
            # in order of first occurrence, not a set's (hash) order: the fresh names' counter
            # order decides canonical factor orders further up (PYTHONHASHSEED changed texts)
            bound = _bound_of(node)
            for b in bound:
                if b.name in targets:
                    inner[b] = fresh(b.dim)
            # a factor that carries none of the renamed indices is itself: rename's call skipped
            # (issue 21: most factors of a chain rule's products)
            factors = [f if inner.keys().isdisjoint(f.free) else rename(f, inner) for f in node.factors]
            new_out = tuple(map(m.get, out, out))  # r(i) for each, without a generator
            if len(set(new_out)) == len(new_out):
                # out indices renamed one to one: the product is in normal form but for its order
                # and its summed indices' names (flattening, δ, pairings, sizes, squares and
                # powers see only which indices are out, and that has not changed), so only the
                # canonical order is made again; mul() normalised it anew from scratch (issue
                # 21: a sixth of the calls of the depth-64 network's derivative)
                if inner.keys().isdisjoint(bound):  # no summed index renamed apart
                    kept = _in_kept_order(node, factors, new_out, inner)
                    if kept is not None:
                        return kept
                coef = 1.0
                if factors and isinstance(factors[0], Num):
                    coef, factors = factors[0].value, factors[1:]
                return _canonical_mul(coef, factors, new_out)
            return mul(factors, new_out)
        case Add():
            terms = [rename(t, m) for t in node.terms]
            targets = list(m.values())
            if len(set(targets)) == len(targets) and not any(v in node.free and v not in m for v in targets):
                # renamed one to one: the terms stay distinct, their coefficients and any
                # opened sums as they were; only the order is made again (add() split and
                # rebuilt every term: issue 21, each 1 - tanh(z)^2 of a deep chain rule)
                return _ordered_sum(terms)
            return add(terms)
        case Elem():
            return elem(node.func, rename(node.arg, m))
        case Pow():
            return power(rename(node.base, m), rename(node.exp, m))
        case MatFun():
            return matfun(node.func, node.arg, node.r, node.c, tuple(r(i) for i in node.out))
        case Stack():
            return stack([rename(e, m) for e in node.entries], tuple(r(i) for i in node.axes))
    return node


def _in_kept_order(node: Mul, factors: list, new_out: tuple, m: dict) -> Node | None:
    """``node`` with its out indices renamed one to one by ``m`` (its summed ones kept), given its
    factors so renamed (``factors``, position by position), where that is what
    :func:`_canonical_mul` makes of them: the factors in the order they had and the summed
    indices keeping their names.  None where that is not sure; then the caller canonicalises.

    Sure when the product's factors had no two equal sort keys (no ties: the order is the
    sort's alone), each renamed factor has the digest and the index layout it had (so its sort
    key compares with the others' as before), the renaming keeps the order of the out names
    (the keys compare them by name; a summed index is only "summed" there), and no out name,
    old or new, is one of the canonical summed names of the product's height (the naming steps
    over those).  Issue 21: the products of a deep chain rule that carry two out indices (the
    Jacobian so far) are renamed at every level; each was sorted, encoded and named anew
    (the depth-64 network's derivative: 7% of its calls).
    """
    old = node.factors
    start = 1 if old and isinstance(old[0], Num) else 0
    if len(old) - start < (1 if start else 2) or (start and old[0].value == 1.0):
        return None  # (one factor alone, with no number, may be returned as it is)
    height = node.height
    prefix = "_" if height == 1 else f"_{height}."
    for k, b in enumerate(node.bound):
        if b.name != prefix + str(k):  # _bound_name(height, k), without the call
            return None
    for i in node.out + new_out:
        if i.name.startswith(prefix) and i.name[len(prefix):].isdigit():
            return None
    names = sorted(map(itemgetter(0), node.out))  # the names, without a generator or a lambda
    after = [m[i].name if i in m else i.name for i in sorted(node.out, key=itemgetter(0))]
    for k in range(1, len(names)):
        if not (names[k - 1] < names[k] and after[k - 1] < after[k]):
            return None
    outset = set(node.out)
    before = None
    for k in range(start, len(old)):
        f, g = old[k], factors[k]
        if g is not f and (f.sig != g.sig or g.free != tuple(map(m.get, f.free, f.free))):
            return None
        # the sort keys (digest, then the indices: out ones by name, summed ones alike) strictly
        # increasing; the indices are read only where two digests tie
        if before is not None and not before.sig < f.sig:
            if before.sig != f.sig or not _sort_key(before, outset) < _sort_key(f, outset):
                return None
        before = f
    out = tuple(sorted(new_out))
    factors = tuple(factors)

    def init(n):
        n.factors, n.out, n.free, n.bound = factors, out, out, node.bound

    # the same digest as node's: the children's digests, their index layouts (the out indices
    # by position, in the same order, the summed ones by the same names) and the sizes
    return _intern(Mul, (factors, out), init, node)


def _sort_key(f: Node, outset: set) -> tuple:
    """_canonical_mul's sort key of a factor (its prekey)."""
    return (f.sig, tuple((0, i.name) if i in outset else (1, "") for i in f.free))


# -- products ------------------------------------------------------------------------------------

def _flattenable(f: Node) -> bool:
    if not isinstance(f, Mul):
        return False
    if len(f.factors) <= FLATTEN_LIMIT or not f.bound:
        return True
    for g in f.factors:  # a loop, not any(…): asked of a long product several times a product
        if isinstance(g, Delta):
            return True
    return False


def _normal_again(fs: list) -> bool:
    """Whether a factor is a number or a product to splice in: mul normalises once more."""
    for f in fs:
        if isinstance(f, Num):
            return True
        if isinstance(f, Mul):
            # _flattenable inline: a call less per factor (issue 21; a long product with summed
            # indices is asked at every level of a chain rule)
            if len(f.factors) <= FLATTEN_LIMIT or not f.bound:
                return True
            for g in f.factors:
                if isinstance(g, Delta):
                    return True
    return False


def _bound_of(node: Mul) -> tuple:
    """The summed indices of a product, in order of first occurrence.  A tuple, never a set:
    renaming them apart draws fresh names in this order, and a set's order changes with
    PYTHONHASHSEED (the canonical order of factors then did too).  Kept on the node."""
    return node.bound


def _flattened_apart(factors) -> tuple:
    """(the number, the factors, their indices) of a product with the products it flattens
    spliced in, each one's summed indices renamed apart to fresh names on the way."""
    coef = 1.0
    fs: list[Node] = []
    needed: set = set()
    stack_ = list(factors)[::-1]
    while stack_:
        f = stack_.pop()
        needed.update(f.free)
        if isinstance(f, Num):
            coef *= f.value
        elif _flattenable(f):
            ren = {b: fresh(b.dim) for b in _bound_of(f)}
            for g in reversed(f.factors):
                stack_.append(rename(g, ren) if ren else g)
        else:
            fs.append(f)
    return coef, fs, needed


#: whether mul may splice a product in with its summed names as they are (the shortcut below);
#: tests/test_scale_rename.py turns it off to compare with the long way
SPLICE_IN_PLACE = True


def _flattened(factors, out: tuple) -> tuple | None:
    """What :func:`_flattened_apart` gives, in the same order, but the spliced products' summed
    indices keeping their names, where no name can meet another: none of them is an out index,
    a summed index of another spliced product, or an index of a factor outside the product it
    is summed in.  The names then are already apart, and the canonical naming that follows
    renames each factor once, straight to the canonical names, instead of twice (fresh names,
    then canonical; a structure-only step between, which reads which indices are equal, never
    their names).  None where a name may meet another: then the long way.  Issue 21: each
    level of a deep chain rule spliced the product so far into the next one, renaming every
    factor apart and then back (the depth-64 network's derivative: half its renamings)."""
    if not SPLICE_IN_PLACE:
        return None
    coef = 1.0
    fs: list[Node] = []
    owner: dict = {}  # a spliced product's summed index → the number of that product
    seen: list = []  # (a node met, the numbers of the spliced products it is in)
    spliced = 0
    stack_ = list(zip(reversed(factors), itertools.repeat(())))  # (f, ()) each, without a comprehension
    while stack_:
        f, inside = stack_.pop()
        seen.append((f, inside))
        if isinstance(f, Num):
            coef *= f.value
        elif isinstance(f, Mul) and (len(f.factors) <= FLATTEN_LIMIT or not f.bound or _flattenable(f)):
            k = spliced
            spliced += 1
            for b in f.bound:
                if b in owner:
                    return None
                owner[b] = k
            inner = inside + (k,)
            for g in reversed(f.factors):
                stack_.append((g, inner))
        else:
            fs.append(f)
    if not owner:
        needed = set()
        for f, _ in seen:  # a loop, not a set comprehension: a call less a product (issue 21)
            needed.update(f.free)
        return coef, fs, needed
    for i in out:
        if i in owner:
            return None
    needed: set = set()
    for f, inside in seen:
        for i in f.free:
            k = owner.get(i)
            if k is not None and k not in inside:
                return None
            needed.add(i)
    return coef, fs, needed


def mul(factors, out=()) -> Node:
    """Σ over the factors' indices not in ``out`` of the product of the factors."""
    out = tuple(dict.fromkeys(out))  # unique(out), without the call
    flat = _flattened(factors, out)
    if flat is not None:
        coef, fs, needed = flat
    else:
        coef, fs, needed = _flattened_apart(factors)
    if coef == 0.0:
        return zero(out)
    for f in fs:
        # is_zero(f) inline (a call per factor; issue 21)
        if (type(f) is Num and f.value == 0.0) or (type(f) is Mul and len(f.factors) == 1 and f.factors[0] is ZERO):
            return zero(out)
    outset = set(out)

    # δ elimination: a δ with a summed index renames that index away.
    changed = True
    while changed:
        changed = False
        for k, f in enumerate(fs):
            if not isinstance(f, Delta):
                continue
            i, j = f.i, f.j
            if i not in outset:
                old, new = i, j
            elif j not in outset:
                old, new = j, i
            else:
                continue
            rest = fs[:k] + fs[k + 1 :]
            fs = [rename(g, {old: new}) for g in rest]
            needed.discard(old)
            needed.add(new)
            changed = True
            break
    # which kinds of factor the steps below look for are here at all: each step that finds none
    # of its kind is skipped, its call (and its scan) saved (issue 21: a dozen calls a product)
    pairs = stacks = powers = 0
    for f in fs:
        t = type(f)
        if t is Pow:
            powers += 1
        elif t is Pair:
            pairs += 1
        elif t is Stack:
            stacks += 1
    if pairs:
        paired = _contract_pairs(fs, outset)
        if paired is not None:
            return mul([num(coef)] + paired + [Mul_ones(tuple(needed & outset))], out)
    if stacks >= 2:  # two literals at least, or no pair of them to contract
        expanded = _contract_stacks(coef, fs, out, outset, needed)
        if expanded is not None:
            return expanded
    carried = set()
    for f in fs:  # a loop, not a set comprehension (as in _flattened)
        carried.update(f.free)
    # Σ_i over an index that no factor carries: the size of its dimension.
    for ix in sorted(needed - outset - carried):
        if isinstance(ix.dim, int):
            coef *= ix.dim
        else:
            fs.append(size(ix.dim))
    # A square summed alone over one of its indices is the product with itself: Σ_i x_i² is
    # Σ_i x_i x_i (x'*x), so that sum(x.^2) and x'*x are one canonical form and cancel.  (Not
    # where another factor shares the index: X'*diag(y.^2)*X keeps y.^2.)
    squares = [k for k, f in enumerate(fs) if _lone_square(k, fs, outset)] if powers else None
    if squares:
        fs = [g for k, f in enumerate(fs) for g in ((f.base, f.base) if k in squares else (f,))]
        return mul([num(coef)] + fs + [Mul_ones(tuple(needed & outset))], out)
    # A renaming may have produced numbers or products: normalise once more if so
    # (_normal_again(fs) written out: a call less a product; issue 21).
    again = False
    for f in fs:
        if isinstance(f, Num):
            again = True
        elif isinstance(f, Mul):
            if len(f.factors) <= FLATTEN_LIMIT or not f.bound:
                again = True
            else:
                for g in f.factors:
                    if isinstance(g, Delta):
                        again = True
                        break
        if again:
            return mul([num(coef)] + fs + [Mul_ones(tuple(needed & outset))], out)
    before = fs
    if powers:  # _fold_contractions looks at powers only (the sizes appended above are none)
        fs = _fold_contractions(fs, outset)
    fs = _merge_powers(fs, outset)
    # the factors as they were (each step returns its list itself where it changes nothing):
    # asked above already
    if fs is not before and _normal_again(fs):
        return mul([num(coef)] + fs + [Mul_ones(tuple(needed & outset))], out)
    return _canonical_mul(coef, fs, out)


def _contract_stacks(coef: float, fs: list, out: tuple, outset: set, needed: set) -> Node | None:
    """Two literals summed along a shared axis are the sum of their entries' products:
    [a, b]*[c; d] is a*c + b*d, [1, 0]*[x1; x2] is x1 (the derivative of [x1; x2]'*[x1; x2] by
    x1 would read [2*([1, 0]*[1; 0]), …] otherwise).  None when no two literals share a summed
    axis that no other factor carries."""
    stacks = [k for k, f in enumerate(fs) if isinstance(f, Stack)]
    for a_pos, ka in enumerate(stacks):
        for kb in stacks[a_pos + 1:]:
            sa, sb = fs[ka], fs[kb]
            shared = [i for i in sa.axes if i in sb.axes and i not in outset and isinstance(i.dim, int)
                      and not any(i in f.free for k, f in enumerate(fs) if k not in (ka, kb))]
            if not shared:
                continue
            ix = shared[0]
            rest = [f for k, f in enumerate(fs) if k not in (ka, kb)]
            ones = Mul_ones(tuple(needed & outset))
            terms = [mul([num(coef)] + rest + [_stack_slice(sa, ix, j), _stack_slice(sb, ix, j), ones], out)
                     for j in range(ix.dim)]
            return add(terms)
    return None


def _stack_slice(s: Stack, ix: Index, j: int) -> Node:
    """The literal ``s`` at position ``j`` of its axis ``ix``: a literal of the other axes, or
    the entry itself when none is left."""
    sizes = [a.dim for a in s.axes]
    p = s.axes.index(ix)
    entries = [e for flat, e in enumerate(s.entries) if _position(flat, sizes)[p] == j]
    # equal, not identical: ix may come from the other literal's axes
    return stack(entries, tuple(a for a in s.axes if a != ix))


def _position(flat: int, sizes: list) -> tuple:
    """Row-major position of entry number ``flat`` in a literal of these sizes."""
    pos = []
    for n in reversed(sizes):
        flat, r = divmod(flat, n)
        pos.append(r)
    return tuple(reversed(pos))


def _lone_square(k: int, fs: list, outset: set) -> bool:
    f = fs[k]
    if not (isinstance(f, Pow) and isinstance(f.exp, Num) and f.exp.value == 2.0):
        return False
    summed = [i for i in f.free if i not in outset]
    return bool(summed) and not any(i in g.free for j, g in enumerate(fs) if j != k for i in summed)


def summed_components(factors: list, free: set) -> list[list[int]]:
    """The positions of ``factors`` grouped by the summed indices they share (not in ``free``):
    factors joined by a contraction, which stay together (one Kronecker factor, one scalar)."""
    comps: list[tuple[list, set]] = []
    for k, f in enumerate(factors):
        bound = {i for i in f.free if i not in free}
        merged, merged_bound, rest = [k], set(bound), []
        for ck, cb in comps:
            if cb & bound:
                merged, merged_bound = ck + merged, merged_bound | cb
            else:
                rest.append((ck, cb))
        comps = rest + [(merged, merged_bound)]
    return [c for c, _ in comps]


def _fold_contractions(fs: list, outset: set) -> list:
    """Factors that together are a scalar contraction c raised elsewhere in the product, as the
    one factor c: in x_i x_i (x_j x_j)^-2 the flattened x'*x meets its own power, and
    :func:`_merge_powers` then makes (x'*x)^-1 of them (x'*x/(x'*x)^2 would stay otherwise)."""
    # (numeric exponents only: those are what _merge_powers merges, so c is never left alone to
    # be flattened again)
    bases = {f.base for f in fs if isinstance(f, Pow) and isinstance(f.exp, Num)
             and isinstance(f.base, Mul) and not f.base.free}
    if not bases:
        return fs
    out = list(fs)
    for members in summed_components(fs, outset):
        if any(i in outset for k in members for i in fs[k].free) or \
                any(isinstance(fs[k], Pow) and fs[k].base in bases for k in members):
            continue
        c = mul([fs[k] for k in members], ())
        if c in bases:
            for k in members:
                out[k] = None
            out[members[0]] = c
    return [f for f in out if f is not None]


def _merge_powers(fs: list, outset: set) -> list:
    """x_i x_i with i free → x_i²; t·t → t²; a^p · a → a^(p+1) (elementwise factors only)."""
    groups: dict = {}
    order = []
    rest = []
    for f in fs:
        if not set(f.free) <= outset or isinstance(f, (Delta, Pair, Size)):
            rest.append(f)
            continue
        if isinstance(f, Pow) and isinstance(f.exp, Num):
            base, e = f.base, f.exp.value
        else:
            base, e = f, 1.0
        if base not in groups:
            order.append(base)
            groups[base] = 0.0
        groups[base] += e
    if len(order) + len(rest) == len(fs):  # no base occurred twice: nothing to merge
        return fs
    merged = [power(b, num(groups[b])) for b in order]
    return merged + rest


def _least_order(groups: list, outset: set) -> list:
    """The order of the factors, each group of tied factors in its own place, whose encoding
    (each factor's signature and its indices: out ones by name, summed ones numbered by first
    occurrence) is least: the least of every permutation's, as trying them all finds it, but
    built position by position, following only the choices that tie for the least entry there
    (the encoding is compared entry by entry, and an entry depends only on the ones before it).
    Trying all of them cost 120 encodings of a product of 7 for each link of a chain X*X*…*X
    (issue 21: tr(X^32) by X spent most of its time there).  The order found is kept per the
    groups' structure (each factor's signature and its indices, out ones by the order of their
    names, summed ones numbered by first occurrence: all the search reads), as positions: every link of a chain
    X*X*…*X as lowered has the same structure."""
    # out indices by their rank among the out names here (the search compares them only with
    # one another: by name), summed ones by first occurrence
    rank = {n: r for r, n in enumerate(sorted({i.name for g in groups for f in g for i in f.free if i in outset}))}
    labels: dict = {}
    key = tuple(tuple((f.sig, tuple((0, rank[i.name]) if i in outset else (1, labels.setdefault(i, len(labels)))
                                    for i in f.free)) for f in g) for g in groups)
    order = _LEAST_ORDERS.get(key)
    if order is None:
        if len(_LEAST_ORDERS) >= 10_000:
            _LEAST_ORDERS.clear()
        order = _LEAST_ORDERS[key] = _least_positions(groups, outset)
    return [groups[gi][pos] for gi, pos in order]


#: the groups' structure → the least order as (group, position) pairs: _least_order's memo (a
#: cache only, emptied when full; what it holds is a function of its key)
_LEAST_ORDERS: dict = {}


def _least_positions(groups: list, outset: set) -> tuple:
    """_least_order's search, the order as (group, position) pairs."""
    # (places so far, summed index → its number, positions of this group placed)
    states: list = [((), {}, ())]
    for gi, g in enumerate(groups):
        states = [(placed, names, ()) for placed, names, _ in states]
        for _ in range(len(g)):
            best, nxt = None, []
            for placed, names, used in states:
                for pos, f in enumerate(g):
                    if pos in used:
                        continue
                    new: dict = {}
                    e = []
                    for i in f.free:
                        if i in outset:
                            e.append((0, i.name))
                        else:
                            k = names.get(i)
                            if k is None:
                                k = new.setdefault(i, len(names) + len(new))
                            e.append((1, str(k)))
                    entry = (f.sig, tuple(e))
                    if best is None or entry < best:
                        best, nxt = entry, []
                    if entry == best:
                        nxt.append((placed + ((gi, pos),), {**names, **new} if new else names, used + (pos,)))
            states = nxt
    return states[0][0]


#: a summed index in a factor's sort key: its name is not read
_SUMMED = (1, "")
#: what Index's __new__ does, called directly (a Python call less per canonical name)
_tuple_new = tuple.__new__


def _canonical_mul(coef: float, fs: list, out: tuple) -> Node:
    outset = set(out)
    out_sorted = tuple(sorted(out))
    if not fs:
        return const(coef, out_sorted)
    if len(fs) == 1 and coef == 1.0 and set(fs[0].free) == outset:
        return fs[0]

    # each factor's sort key made once (sorted and then groupby made each twice), the sort stable
    # as sorted(fs, key=prekey) is; the factors of one key are a group of ties (issue 21: four
    # products a level of a deep chain rule, each with up to seven factors)
    keys = []
    for f in fs:
        e = []
        for i in f.free:
            e.append((0, i.name) if i in outset else _SUMMED)
        keys.append((f.sig, tuple(e)))
    places = sorted(range(len(fs)), key=keys.__getitem__)
    fs = list(map(fs.__getitem__, places))
    groups: list = []
    last = None
    for p, f in zip(places, fs):
        if groups and keys[p] == last:
            groups[-1].append(f)
        else:
            groups.append([f])
            last = keys[p]
    if len(groups) == len(fs):
        best_order = fs  # no ties: one order
    else:
        n_perm = math.prod(math.factorial(len(g)) for g in groups)
        best_order = fs if n_perm > MAX_TIE_PERMUTATIONS else _least_order(groups, outset)
    # the summed indices numbered by first occurrence in that order (what the encoding of the
    # order numbers them by), renamed to the canonical names of the product's height in turn,
    # stepping over the out names
    names: dict = {}
    height = 0
    for f in best_order:
        if f.height > height:
            height = f.height
        for i in f.free:
            if i not in outset and i not in names:
                names[i] = None
    height += 1
    prefix = "_" if height == 1 else f"_{height}."  # _bound_name(height, k) is prefix + str(k)
    taken = set(map(itemgetter(0), out))
    canon: dict = {}
    k = 0
    for ix in names:
        while prefix + str(k) in taken:
            k += 1
        canon[ix] = _tuple_new(Index, (prefix + str(k), ix[1]))  # Index(…), without its Python __new__
        k += 1
    # A bound index that already has its canonical name needs no renaming; rename the rest at once.
    renamed = []
    for f in best_order:
        # a factor none of whose indices changes name is itself: rename's call skipped (issue
        # 21: most factors of a chain rule's product keep their names)
        for i in f.free:
            c = canon.get(i)
            if c is not None and c != i:
                # rename(f, canon) written out (a call less for each factor renamed; issue 21):
                # the same mapping, restricted to f's indices in canon's order, and the same
                # choice between putting the names in place and rebuilding
                free = f.free
                m = {}
                for k, v in canon.items():
                    if k != v and k in free:
                        m[k] = v
                g = None
                if not f.sorts and len(set(m.values())) == len(m):
                    for v in m.values():
                        if v in free and v not in m:
                            break
                    else:
                        g = _substituted(f, m)
                f = _rename(f, m) if g is None else g
                break
        renamed.append(f)
    renamed = tuple(renamed)
    factors = ((num(coef),) if coef != 1.0 else ()) + renamed
    return _make_mul(factors, out_sorted)


# -- sums ------------------------------------------------------------------------------------------

def _split_coef(t: Node) -> tuple[float, Node]:
    if isinstance(t, Num):
        return t.value, ONE
    if isinstance(t, Mul) and t.factors and isinstance(t.factors[0], Num):
        if len(t.factors) == 2 and not isinstance(t.factors[1], Mul) and set(t.factors[1].free) == set(t.out):
            # c·f with f carrying every out index and no product itself (-1·tanh(z)^2): the rest
            # is f, what mul([f], out) returns after its whole normalisation (issue 21: that ran
            # for every term of every sum a renaming rebuilt)
            return t.factors[0].value, t.factors[1]
        # kept per node (weakly; nodes are immutable and hash-consed): a sum asks for each
        # term's rest several times, and each rebuild renamed the whole product anew, at every
        # level of a nested answer (issue 21: logdet(X + inv(X + inv(…))) doubled per level)
        got = _RESTS.get(t)
        if got is None:
            got = _RESTS[t] = mul(list(t.factors[1:]), t.out)
        return t.factors[0].value, got
    return 1.0, t


_RESTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def add(terms) -> Node:
    flat: list[Node] = []
    for t in terms:
        if isinstance(t, Add):
            flat.extend(t.terms)
        else:
            flat.append(t)
    if not flat:
        raise ValueError("add() of no terms")
    free = flat[0].free
    fset = set(free)
    for t in flat:
        if set(t.free) != fset:
            raise ValueError(f"add(): terms with different free indices {t.free} and {free}")
    flat, split = _open_scaled_sums(flat)
    coefs: dict = {}
    order = []
    for k, t in enumerate(flat):
        # is_zero(t) inline (a call per term; issue 21)
        if (type(t) is Num and t.value == 0.0) or (type(t) is Mul and len(t.factors) == 1 and t.factors[0] is ZERO):
            continue
        # the split _open_scaled_sums made, where it opened no sum (the terms are the same)
        c, rest = _split_coef(t) if split is None else split[k]
        if rest not in coefs:
            coefs[rest] = 0.0
            order.append(rest)
        coefs[rest] += c
    # loops, not comprehensions: two calls less a sum (issue 21)
    built = []
    for r in order:
        c = coefs[r]
        if c != 0.0:
            built.append(r if c == 1.0 else _scale(c, r))
    if not built:
        return zero(free)
    if len(built) == 1:
        return built[0]
    return _ordered_sum(built)


def _ordered_sum(built: list) -> Node:
    """The sum of these terms, distinct and in normal form, in the canonical order."""
    # each term's key made once, in a loop (a lambda split each term twice and stepped a
    # generator over its indices; issue 21); the same stable sort by the same keys
    keys = []
    for t in built:
        c, rest = _split_coef(t)
        keys.append((rest.sig, tuple(map(itemgetter(0), t.free)), c))
    built[:] = [built[p] for p in sorted(range(len(built)), key=keys.__getitem__)]

    def init(n):
        n.terms, n.free = tuple(built), built[0].free

    return _intern(Add, (tuple(built),), init)


def _open_scaled_sums(flat: list) -> tuple:
    """A number times a sum, c·(u + v), opened where one of its terms meets another term of
    the sum: 2(a + b) − 2a is 2b (it stayed 2(a + b) − 2a, shown as 2*(a + b - a)).  (The
    terms, each term's :func:`_split_coef` or None where sums were opened: add splits the terms
    again only then; issue 21)."""
    # loops, not comprehensions: two calls less a sum (issue 21)
    # (every term split first, then the sums' terms: the order of the calls as it was, since a
    # split may build a product and draw fresh names)
    split = []
    for t in flat:
        split.append(_split_coef(t))
    keys = []
    for _, rest in split:
        if isinstance(rest, Add):
            ks = []
            for u in rest.terms:
                ks.append(_split_coef(u)[1])
            keys.append(ks)
        else:
            keys.append([rest])
    # how often each rest occurs, counted in a dict (a Counter over a generator made a few
    # Python calls per sum; issue 21): all once, nothing to open
    seen: dict = {}
    occurrences = 0
    for ks in keys:
        occurrences += len(ks)
        for k in ks:
            seen[k] = seen.get(k, 0) + 1
    if len(seen) == occurrences:
        return flat, split
    out = []
    for t, (c, rest), ks in zip(flat, split, keys):
        if isinstance(rest, Add) and any(seen[k] > 1 for k in ks):
            out.extend(_scale(c, u) for u in rest.terms)
        else:
            out.append(t)
    return out, None


def _scale(c: float, t: Node) -> Node:
    if isinstance(t, Mul) and _flattenable(t):
        # c times a product in normal form is the product with its number multiplied: mul()
        # would flatten it, rename its summed indices apart and back, and descend into every
        # factor that carries them, at every level of a nested answer (issue 21: the nested
        # logdet/inv doubled per level); the same node either way
        fs = t.factors
        if fs and isinstance(fs[0], Num):
            c, fs = c * fs[0].value, fs[1:]
        if c == 0.0:
            return zero(t.out)
        if c == 1.0 and len(fs) == 1 and set(fs[0].free) == set(t.out):
            return fs[0]
        return _make_mul(((num(c),) if c != 1.0 else ()) + fs, t.out)
    if not isinstance(t, (Mul, Num)):
        # c times one factor that is no product: what mul([c, t]) makes of it (nothing to flatten,
        # contract, fold or merge; the canonical order of one factor), without the normalisation
        if c == 0.0:
            return zero(t.free)
        if c == 1.0:
            return t
        return _make_mul((num(c), t), tuple(sorted(t.free)))
    return mul([num(c), t], t.free)


def neg(t: Node) -> Node:
    return _scale(-1.0, t)


def sub(a: Node, b: Node) -> Node:
    return add([a, neg(b)])


# -- elementwise ------------------------------------------------------------------------------------

def positive(node: Node) -> bool:
    """Whether every entry of ``node`` is provably > 0 (exp, sigmoid, sums and products of
    positives, positive powers of positives)."""
    match node:
        case Num(value=v):
            return v > 0
        case Size():
            return True
        case Elem(func=f, arg=a):
            return f in ("exp", "sigmoid") or (f == "sqrt" and positive(a))
        case Pow(base=b):
            return positive(b)
        case Mul(factors=fs):
            return bool(fs) and all(positive(f) for f in fs) or not fs
        case Add(terms=ts):
            return all(nonnegative(t) for t in ts) and any(positive(t) for t in ts)
    return False


def nonnegative(node: Node) -> bool:
    """Whether every entry of ``node`` is provably ≥ 0 (positives, even powers, abs, relu)."""
    if positive(node):
        return True
    match node:
        case Num(value=v):
            return v >= 0
        case Pow(base=b, exp=Num(value=e)):
            return float(e).is_integer() and int(e) % 2 == 0 or nonnegative(b)
        case Elem(func=f):
            return f in ("abs", "relu", "step")
        case Mul(factors=fs):
            return all(nonnegative(f) for f in fs)
        case Add(terms=ts):
            return all(nonnegative(t) for t in ts)
    return False


#: Elementwise functions that the IR writes as a power of their argument: sqrt(u) is u^0.5, one
#: form with the powers, so that sqrt(a)*sqrt(a) is a and sqrt(u)^3 is u^1.5 (the display
#: writes u^0.5 as sqrt(u) again).  Their derivative is the power rule's.
AS_POWER = {"sqrt": 0.5}


def _unpaired(arg: Node):
    """arg = Σ_ab Pair_rab G_ab (a vec, a kron) as (pairing, G), or None: a function of its
    entries is the pairing of the function of G's, f(vec(X)) = vec(f(X)), so that an entry
    read back through the pairing meets the function of X itself (sum(exp(vec(X))) by X)."""
    if not isinstance(arg, Mul):
        return None
    for p in arg.factors:
        if isinstance(p, Pair) and p.r in arg.out and p.a not in arg.out and p.b not in arg.out \
                and p.a != p.b:
            others = [f for f in arg.factors if f is not p]
            if any(p.r in f.free for f in others):
                continue
            return p, mul(others, tuple(i for i in arg.out if i != p.r) + (p.a, p.b))
    return None


def elem(func: str, arg: Node) -> Node:
    if func in AS_POWER:
        return power(arg, num(AS_POWER[func]))
    # _unpaired(arg) where it can find something (a pairing among a product's factors): a call
    # less for each function of a deep network (issue 21)
    paired = None
    if isinstance(arg, Mul):
        for f in arg.factors:
            if isinstance(f, Pair):
                paired = _unpaired(arg)
                break
    if paired is not None:
        return mul([paired[0], elem(func, paired[1])], arg.out)
    if func == "log" and isinstance(arg, Elem) and arg.func == "exp":
        return arg.arg  # log(exp(z)) = z
    if func == "exp" and isinstance(arg, Elem) and arg.func == "log" and positive(arg.arg):
        return arg.arg  # exp(log(z)) = z where z > 0 is provable
    if func == "log" and isinstance(arg, Mul) and not _bound_of(arg) and len(arg.factors) > 1 \
            and all(positive(f) for f in arg.factors):
        # log(a·b) = log(a) + log(b) for positive entrywise factors: log(exp(z)/sum(exp(z)))
        # becomes z − log(sum(exp(z))), and the softmax cross-entropy's gradient simplifies.
        return add([mul([elem("log", f)], arg.out) for f in arg.factors])
    if func == "log" and isinstance(arg, Pow) and positive(arg.base) and not arg.exp.free:
        return mul([arg.exp, elem("log", arg.base)], arg.free)
    # const_value(arg) where it can be a number (a number, or a product whose last factor is
    # one: a number comes first): a call less for each function of a deep network (issue 21)
    v = const_value(arg) if isinstance(arg, Num) or (isinstance(arg, Mul) and (
        not arg.factors or isinstance(arg.factors[-1], Num))) else None
    if v is not None:
        from ..functions import lookup

        with np.errstate(all="ignore"):
            value = float(lookup(func).numpy(np.array([[v]]))[0, 0])
        # A number whose value reads short is folded (exp(0) = 1, sqrt(4) = 2, tanh(0) = 0);
        # log(2) stays log(2) rather than 0.6931471805599453 (the derivative of 2.^x).
        if math.isfinite(value) and (value == round(value, 6) or not math.isfinite(v)):
            return const(value, arg.free)

    def init(n):
        n.func, n.arg, n.free = func, arg, arg.free

    return _intern(Elem, (func, arg), init)


def power(base: Node, exp: Node) -> Node:
    if exp.free and const_value(exp) is not None:
        # A constant exponent with indices (b.^(A - A), b.^matrix(2)): the number, broadcast.
        free = unique(base.free + exp.free)
        p = power(base, num(const_value(exp)))
        return p if set(p.free) == set(free) else mul([p], free)
    # (a number's value read in place: the exponent of most powers; issue 21)
    e = exp.value if isinstance(exp, Num) else const_value(exp) if not exp.free else None
    if e is not None:
        if e == 0.0:
            return const(1.0, base.free)
        if e == 1.0:
            return base
        b = const_value(base) if isinstance(base, Num) or (isinstance(base, Mul) and (
            not base.factors or isinstance(base.factors[-1], Num))) else None  # as in elem
        if b is not None and (b > 0 or float(e).is_integer()) and not (b == 0 and e < 0):
            return const(b ** e, base.free)
        if isinstance(base, Pow) and isinstance(base.exp, Num) and float(e).is_integer():
            return power(base.base, num(base.exp.value * e))
        if isinstance(base, Mul) and float(e).is_integer() and not _bound_of(base):
            # (a·b)^k = a^k·b^k entry by entry (no summation inside): lets p^-1·p cancel.
            return mul([power(f, num(e)) for f in base.factors], base.out)
        exp = num(e)
        paired = None
        if isinstance(base, Mul):  # as in elem
            for f in base.factors:
                if isinstance(f, Pair):
                    paired = _unpaired(base)
                    break
        if paired is not None:  # vec(X).^k = vec(X.^k), as for a function of the entries
            return mul([paired[0], power(paired[1], exp)], base.out)
    free = unique(base.free + exp.free)

    def init(n):
        n.base, n.exp, n.free = base, exp, free

    return _intern(Pow, (base, exp), init)


# -- matrix functions and stacks ---------------------------------------------------------------------

R_BOUND = "_r"
C_BOUND = "_c"


def _diagonal_of(arg: Node, r: Index, c: Index):
    """v when arg is diag(v) = v_r δ_rc (as lowered), else None."""
    if not (isinstance(arg, Mul) and len(arg.factors) == 2 and set(arg.out) == {r, c}):
        return None
    d = [f for f in arg.factors if isinstance(f, Delta)]
    v = [f for f in arg.factors if not isinstance(f, Delta)]
    if len(d) != 1 or len(v) != 1 or {d[0].i, d[0].j} != {r, c} or len(v[0].free) != 1:
        return None
    return v[0]


def matfun(func: str, arg: Node, r: Index, c: Index, out: tuple = ()) -> Node:
    """``inv`` (out = two indices), ``det`` / ``logdet`` (out = ()), of arg as a matrix r × c."""
    if isinstance(arg, Delta) and {arg.i, arg.j} == {r, c}:
        # the identity: inv(eye) = eye, det(eye) = 1, logdet(eye) = 0 (eye^-1, eye^0)
        if func == "inv" and len(out) == 2:
            return delta(*out)
        return num(1.0 if func == "det" else 0.0)
    if func == "inv" and len(out) == 2 and isinstance(arg, MatFun) and arg.func == "inv" \
            and set(arg.out) == {r, c} and r != c:
        # inv(inv(Y)) = Y, an involution in the normal form (as Y'' and -(-y) are), so that it
        # differentiates, evaluates and prints as Y; inv(inv(Y)') = Y' likewise.
        p, q = out
        inner_r, inner_c = (p, q) if arg.out == (r, c) else (q, p)
        return rename(arg.arg, {arg.r: inner_r, arg.c: inner_c})
    diagonal = _diagonal_of(arg, r, c)
    if diagonal is not None:
        # inv(diag(v)) = diag(1./v): then v .* (1./v) cancels.  (Not logdet(diag(v)) =
        # sum(log(v)): that holds only for v > 0, logdet for every det > 0, such as v = [-1; -2].)
        if func == "inv" and len(out) == 2:
            p, q = out
            return mul([power(rename(diagonal, {diagonal.free[0]: p}), num(-1.0)), delta(p, q)], out)
    rb, cb = Index(R_BOUND, r.dim), Index(C_BOUND, c.dim)
    if (r, c) != (rb, cb):
        # Move the arg's row/column indices to the canonical bound names; first move anything
        # already called _r/_c out of the way (it cannot be: arg's only free indices are r, c).
        arg = rename(arg, {r: rb, c: cb})
    out = tuple(out)
    free = unique(out)

    def init(n):
        n.func, n.arg, n.r, n.c, n.out, n.free = func, arg, rb, cb, out, free

    return _intern(MatFun, (func, arg, out), init)


def stack(entries, axes: tuple) -> Node:
    entries = tuple(entries)
    if not axes:  # a 1×1 literal [a] is its entry
        (entry,) = entries
        return entry
    if all(is_zero(e) for e in entries):
        return zero(unique(entries[0].free + tuple(axes)))
    axes = tuple(axes)
    free = unique(entries[0].free + axes)

    def init(n):
        n.entries, n.axes, n.free = entries, axes, free

    return _intern(Stack, (entries, axes), init)


__all__ = ["num", "var", "delta", "mul", "add", "elem", "power", "matfun", "stack", "rename", "fresh",
           "zero", "const", "is_zero", "neg", "sub", "size", "ONE", "ZERO", "Index", "const_value"]


def count_nodes(node: Node) -> int:
    """Distinct nodes in the DAG (shared subterms once)."""
    seen = set()
    todo = [node]
    while todo:
        n = todo.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        todo.extend(n.children())
    return len(seen)

