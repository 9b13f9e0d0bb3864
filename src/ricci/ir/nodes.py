"""The tensor IR: expressions in index notation (Ricci calculus), immutable and hash-consed.

Every node is a tensor whose entries are named by its **free indices** (``node.free``, a tuple
of :class:`Index`; the order is only a convention for evaluation, meaning goes by name).  An
index occurring twice in one index list means a diagonal (``X_ii``).

Nodes are created only through the smart constructors of :mod:`ricci.ir.build`, which keep
them in normal form (flattened, constants folded, δ eliminated, bound indices canonically
named); structurally equal nodes are then one object (hash-consing through a weak table), so
``a is b`` is equality and shared subterms are shared (CSE for free).

Bound indices live in their own namespace: names starting with ``_``.  Free indices never do,
so renaming free indices can never capture a bound one.
"""

from __future__ import annotations

import hashlib
import weakref
from _weakref import _remove_dead_weakref
from operator import itemgetter

from ..limits import _CLOCK_EVERY, budget_now


class Index(tuple):
    """An index: a name and the dimension it ranges over (a symbol such as "n", or an int).

    A pair (name, dim), compared, ordered and hashed as that tuple: the frozen dataclass it was
    did the same in Python-level ``__eq__``/``__hash__`` calls, about a tenth of the time of a
    deep derivation (issue 21: every rename, canonical order and index set hashes indices).
    The same hash and order as before: ``hash((name, dim))``, (name, dim) compared in turn."""

    __slots__ = ()
    __match_args__ = ("name", "dim")

    def __new__(cls, name: str, dim: object):
        return tuple.__new__(cls, (name, dim))

    name = property(itemgetter(0), doc="the index's name")
    dim = property(itemgetter(1), doc="the dimension it ranges over")

    def __getnewargs__(self):
        return tuple(self)

    def __repr__(self) -> str:
        return f"{self[0]}:{self[1]}"

    @property
    def bound(self) -> bool:
        return self[0].startswith("_")


def unique(indices) -> tuple:
    """Indices without repeats, first occurrence first."""
    # a dict keeps the first occurrence's place; a list's `in` compared each index with every
    # one kept (quadratic, and most of the time of long products: issue 21)
    return tuple(dict.fromkeys(indices))


#: (class, key) → a weak reference to the one node of that structure, dropped when the node
#: dies.  A dict of weak references rather than a WeakValueDictionary: its get and set are
#: Python-level calls, a few per cent of a deep derivation (issue 21); this never iterates.
_TABLE: dict = {}


def _gone(ref, table=_TABLE, remove=_remove_dead_weakref) -> None:
    """A node died: drop its entry, unless another node has already taken the key (atomic, as
    WeakValueDictionary's own callback is: the collector may call this in any thread).  The
    table and the remover are bound as defaults because at interpreter shutdown the module's
    globals are cleared before the last nodes die (an "Exception ignored in _gone" otherwise)."""
    remove(table, ref.key)


class Node:
    """Base of the IR.  Identity is equality (hash-consed); ``sig`` is a structural digest
    that ignores the names of the node's own free indices (used for canonical orderings)."""

    __slots__ = ("free", "sig", "size", "height", "sorts", "__weakref__")
    free: tuple
    sig: bytes
    size: int
    #: whether renaming its free indices may reorder something inside by name (a product with
    #: two or more out indices, a sum with two or more free ones, a δ: each keeps its indices
    #: sorted by name, and the digest reads that order).  A node that does not is renamed by
    #: putting the new names in place, its digest and its index layout as they were
    #: (ir/substitute.py; issue 21)
    sorts: bool
    #: nesting height of products (a product's summed indices are named after its height,
    #: so that a product inside another never uses the same bound names: renaming an outer
    #: index never has to rename inner ones apart)
    height: int

    def children(self) -> tuple["Node", ...]:
        return ()

    def __repr__(self) -> str:
        return show(self)


def _intern(cls, key: tuple, init, like: Node | None = None) -> Node:
    """The one node of this structure, made (``init``, then its digest) if there is none.
    ``like``: a node this one is a renaming of that leaves the digest as it was (its ``sorts``
    unset): the digest, size and height are copied, not computed (ir/substitute.py)."""
    full = (cls,) + key
    ref = _TABLE.get(full)
    node = ref() if ref is not None else None
    if node is None:
        # a new node, charged to the running derivation's budget of nodes and time and entered
        # in the table; written out here, in _intern_mul and in ir/substitute.py, the count as
        # Budget.charge's with the charge itself called only where a check is due
        # (limits.budget_now), and the node made in place: two Python calls less for each node
        # made (issue 21)
        b = budget_now()
        if b is not None:
            n = b.nodes + 1
            if n % _CLOCK_EVERY and (b.max_nodes is None or n <= b.max_nodes):
                b.nodes = n
            else:
                b.charge()
        node = object.__new__(cls)
        ref = _TABLE[full] = _Ref(node, _gone)
        ref.key = full
        init(node)
        if like is None:
            _finish(node)
        else:  # what _finish would compute for it (tests/test_scale_speed.py computes both)
            node.sig, node.size, node.height, node.sorts = like.sig, like.size, like.height, like.sorts
    return node


def _intern_mul(factors: tuple, out: tuple) -> "Mul":
    """The one product of these factors (in this order) over ``out`` (sorted), made if there is
    none: ``_intern(Mul, (factors, out), init)`` with the init written out, no closure made and
    called for each product (ir/build.py's ``_make_mul``; issue 21: the products a chain rule
    canonicalises).  The summed indices are kept in order of first occurrence."""
    full = (Mul, factors, out)
    ref = _TABLE.get(full)
    node = ref() if ref is not None else None
    if node is None:
        b = budget_now()  # as in _intern
        if b is not None:
            n = b.nodes + 1
            if n % _CLOCK_EVERY and (b.max_nodes is None or n <= b.max_nodes):
                b.nodes = n
            else:
                b.charge()
        node = object.__new__(Mul)
        ref = _TABLE[full] = _Ref(node, _gone)
        ref.key = full
        node.factors, node.out, node.free = factors, out, out
        outset = set(out)
        bound: dict = {}  # in order of first occurrence (a loop: no generator to step; issue 21)
        for f in factors:
            for i in f.free:
                if i not in outset:
                    bound[i] = None
        node.bound = tuple(bound)
        _finish(node)
    return node


class _Ref(weakref.ref):
    """A weak reference that knows its key in the table: weakref.KeyedRef without its
    Python-level __new__ and __init__ (two calls for every node made; issue 21)."""

    __slots__ = ("key",)


def _enc(node: Node, ix: Index):
    """Encode an index occurrence relative to ``node``: free → its position, bound → its name."""
    try:
        return ("F", node.free.index(ix))
    except ValueError:
        return ("B", ix.name, str(ix.dim))


def _encs(free: tuple, indices) -> tuple:
    """:func:`_enc` of each of ``indices`` relative to a node of these free indices: one call,
    not a generator stepped and a call per index (issue 21: every node made encodes its
    children's indices)."""
    out = []
    for ix in indices:
        if ix in free:
            out.append(("F", free.index(ix)))
        else:
            out.append(("B", ix[0], str(ix[1])))
    return tuple(out)


def _finish(node: Node) -> None:
    cls = type(node)
    # a product's and a sum's children and a product's parameters read in place: a call less
    # each for most nodes made (issue 21)
    if cls is Mul:
        kids = node.factors
        params = (tuple(map(str, map(itemgetter(1), node.out))),)  # Mul._params_enc
    elif cls is Add:
        kids, params = node.terms, ()
    elif cls is Elem:
        kids, params = (node.arg,), (node.func,)
    elif cls is Pow:
        kids, params = (node.base, node.exp), ()
    else:
        kids, params = node.children(), node._params_enc()
    # the class's name and the parameters written as bytes, each kept (per class, per
    # parameters: the same few recur for every node of a chain) rather than encoded and
    # repr'd for every node made: the same bytes (issue 21: about a third of _finish)
    tag = _TAGS.get(cls)
    if tag is None:
        tag = _TAGS[cls] = cls.__name__.encode()
    written = _WRITTEN.get(params)
    if written is None:
        if len(_WRITTEN) >= _ENCODED_MAX:
            _WRITTEN.clear()
        written = _WRITTEN[params] = repr(params).encode()
    parts = [tag, written]
    free = node.free
    for c in kids:
        parts.append(c.sig)
        # how the child's indices sit in the node's, the same bytes as writing it each time
        cfree = c.free
        if cfree == free:
            # the child's indices are the node's, in order (an Elem's argument, most terms of a
            # sum, a power's base): ("F", 0), ("F", 1), … written once per length (free indices
            # never repeat)
            enc = _IN_ORDER.get(len(free))
            if enc is None:
                enc = _IN_ORDER[len(free)] = repr(tuple(("F", k) for k in range(len(free)))).encode()
            parts.append(enc)
            continue
        if not cfree:  # a number, a constant: no index to place
            parts.append(b"()")
            continue
        # kept per placing: each index's position among the node's free ones, or the index
        # itself where it is summed (_encs(free, cfree) without the names of free indices).
        # Issue 21: kept per pair of index tuples (free, cfree) the keys held the wrt variable's
        # fresh names, new in every derivation: the depth-64 network's derivative missed 910
        # times in 1,294 and kept each miss, with the index tuples it held, alive for the cyclic
        # collector to traverse (50,000 entries before it was emptied); placings recur across
        # derivations and nodes (735 of them for the network, whatever its fresh names)
        out = []
        for ix in cfree:
            out.append(free.index(ix) if ix in free else ix)
        key = tuple(out)
        enc = _ENCODED.get(key)
        if enc is None:
            if len(_ENCODED) >= _ENCODED_MAX:
                _ENCODED.clear()
            out = []
            for k in key:  # an int (a position) is never equal to an Index (a tuple)
                out.append(("F", k) if type(k) is int else ("B", k[0], str(k[1])))
            enc = _ENCODED[key] = repr(tuple(out)).encode()
        parts.append(enc)
    # one digest of the concatenation: what update() piece by piece computed
    node.sig = hashlib.blake2b(b"".join(parts), digest_size=10).digest()
    size, h = 1, 0
    for c in kids:
        size += c.size
        if c.height > h:
            h = c.height
    node.size = size
    node.height = h + 1 if isinstance(node, Mul) else h
    if isinstance(node, Mul):
        sorts = len(node.out) >= 2
    elif isinstance(node, Add):
        sorts = len(node.free) >= 2
    else:
        sorts = isinstance(node, Delta)
    # a matrix function's argument keeps its own names (_r, _c): renaming its out leaves it
    if not sorts and not isinstance(node, MatFun):
        for c in kids:  # any(c.sorts for c in kids), without a generator to step
            if c.sorts:
                sorts = True
                break
    node.sorts = sorts


#: a child's placing among a node's indices (each one's position among the node's free indices,
#: or the index itself where summed) → the child's index encoding: _finish's memo, emptied when
#: full (a cache only: what it holds never decides an order)
_ENCODED: dict = {}
_ENCODED_MAX = 50_000
#: a node class → its name as bytes, and a node's parameters (``_params_enc``) → their repr as
#: bytes: _finish's other two memos (caches only, as _ENCODED; the second emptied when full)
_TAGS: dict = {}
_WRITTEN: dict = {}
#: the number of a node's free indices → the encoding of a child that has those indices in that
#: order (the same bytes as writing it out; free indices never repeat)
_IN_ORDER: dict = {}


class Num(Node):
    """A real constant (a scalar: no free indices)."""

    __slots__ = ("value",)
    value: float

    def _params_enc(self):
        return (self.value,)


class Var(Node):
    """A variable's entries, ``X_ij``; ``sym`` marks a declared symmetric matrix."""

    __slots__ = ("name", "idx", "sym")
    name: str
    idx: tuple
    sym: bool

    def _params_enc(self):
        return (self.name, self.sym, _encs(self.free, self.idx))


class Delta(Node):
    """Kronecker δ_ij (the identity matrix), i ≠ j."""

    __slots__ = ("i", "j")

    def _params_enc(self):
        return (str(self.i.dim),)


class Pair(Node):
    """The pairing of two indices into one, 1 where r = a + size(a)·b (from 0) and 0 elsewhere:
    ``a`` runs fastest.  vec(X)_r = Σ_ab Pair_rab X_ab stacks X's columns (column-major), and
    kron(A, B)_rc = Σ Pair_rki Pair_clj A_ij B_kl; a constant, like δ."""

    __slots__ = ("r", "a", "b")

    def _params_enc(self):
        return (str(self.r.dim), str(self.a.dim), str(self.b.dim))


class Size(Node):
    """The size of a dimension as a scalar (what Σ_i 1 or tr(I) leaves)."""

    __slots__ = ("dim",)

    def _params_enc(self):
        return (str(self.dim),)


class Mul(Node):
    """The one generalised product: Σ over the factors' indices not in ``out`` of Π factors.

    ``factors[0]`` may be a :class:`Num` coefficient.  An index of ``out`` that no factor carries
    broadcasts (so ``Mul((Num(c),), (i,))`` is the constant vector c·1).  ``bound``: the summed
    indices, in order of first occurrence (made once: every flattening and renaming asks).
    """

    __slots__ = ("factors", "out", "bound")

    def children(self):
        return self.factors

    def _params_enc(self):
        return (tuple(map(str, map(itemgetter(1), self.out))),)  # each index's dim, without a generator


class Add(Node):
    """A sum of terms with the same free indices."""

    __slots__ = ("terms",)

    def children(self):
        return self.terms

    def _params_enc(self):
        return ()


class Elem(Node):
    """An elementwise function applied entry by entry, f(A)_ij = f(A_ij)."""

    __slots__ = ("func", "arg")

    def children(self):
        return (self.arg,)

    def _params_enc(self):
        return (self.func,)


class Pow(Node):
    """Elementwise power a^p; free indices are those of a and p together (broadcasting)."""

    __slots__ = ("base", "exp")

    def children(self):
        return (self.base, self.exp)

    def _params_enc(self):
        return ()


class MatFun(Node):
    """A matrix function of ``arg`` viewed as a matrix with rows ``r`` and columns ``c``
    (bound inside): ``inv`` (free ``out``, two indices), ``det`` and ``logdet`` (scalars)."""

    __slots__ = ("func", "arg", "r", "c", "out")

    def children(self):
        return (self.arg,)

    def _params_enc(self):
        return (self.func, _encs(self.free, self.out))


class Stack(Node):
    """Entries laid out along ``axes`` (concrete sizes), row-major: a literal ``[a, b; c, d]``,
    or the row of partials for ``wrt=[x1, x2]``.  Free indices: the entries' own, then axes."""

    __slots__ = ("entries", "axes")

    def children(self):
        return self.entries

    def _params_enc(self):
        return (_encs(self.free, self.axes),)


# -- index-notation text of a node (its repr: debugging) ---------------------------------------------
# Here, not in a module of its own, because a node's repr is this text and the printer dispatches
# on the node classes: two modules would import each other.

def _ix(idx) -> str:
    return ",".join(i.name for i in idx)


def show(node: Node) -> str:
    match node:
        case Num():
            v = node.value
            return str(int(v)) if v == int(v) else repr(v)
        case Size():
            return str(node.dim)
        case Var():
            return f"{node.name}[{_ix(node.idx)}]" if node.idx else node.name
        case Delta():
            return f"δ[{node.i.name},{node.j.name}]"
        case Pair():
            return f"δ[{node.r.name},({node.a.name},{node.b.name})]"
        case Mul():
            inner = " ".join(_paren(f) for f in node.factors) or "1"
            summed = sorted({i.name for f in node.factors for i in f.free if i not in node.out})
            s = f"Σ_{','.join(summed)} " if summed else ""
            return f"({s}{inner})[{_ix(node.out)}]" if summed or not node.factors else inner
        case Add():
            return " + ".join(show(t) for t in node.terms)
        case Elem():
            return f"{node.func}({show(node.arg)})"
        case Pow():
            return f"{_paren(node.base)}^{_paren(node.exp)}"
        case MatFun():
            tail = f"[{_ix(node.out)}]" if node.out else ""
            return f"{node.func}({show(node.arg)})" + tail
        case Stack():
            return "[" + "; ".join(show(e) for e in node.entries) + f"][{_ix(node.axes)}]"
    return object.__repr__(node)


def _paren(n: Node) -> str:
    s = show(n)
    return f"({s})" if isinstance(n, Add) else s
