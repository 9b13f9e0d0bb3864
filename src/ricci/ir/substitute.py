"""Renaming a node's free indices by putting the new names in place (issue 21).

A node whose ``sorts`` is unset orders no indices by name anywhere inside it (ir/nodes.py), so
renaming its free indices one to one changes nothing but the names: not its digest, not its
index layout, not the canonical order of any product inside it.  :func:`_substituted` builds
that renaming directly, node by node, with the digests copied; ir/build.py's ``rename`` takes
it where it applies and otherwise rebuilds through the constructors (``_rename``), which give
the same node the long way (tests/test_scale_speed.py compares the two).
"""

from __future__ import annotations

from operator import itemgetter

from ..limits import _CLOCK_EVERY, budget_now
from . import nodes as _nodes
from .nodes import _TABLE, Add, Elem, MatFun, Mul, Node, Num, Pair, Pow, Stack, Var, _gone, _intern, unique


def _bound_name(height: int, k: int) -> str:
    """Canonical name of the k-th summed index of a product of this nesting height."""
    return f"_{k}" if height == 1 else f"_{height}.{k}"


def _substituted(node: Node, m: dict) -> Node | None:
    """``node`` with its free indices renamed one to one by ``m`` (restricted to them, onto no
    other of them), where nothing in it orders indices by name (``node.sorts`` unset): the new
    names put in place, each node kept as it was built, its digest copied.  What _rename
    makes of it: its constructors' rules read the structure, not the names, and the canonical
    order of a product with at most one out index compares no two names (the digests, the
    summed indices by first occurrence).  None where a product's summed names are in the way
    (a new name is one of them, or one the canonical naming of its height would step over):
    then _rename renames them apart.  Issue 21: each level of a deep chain rule renamed every
    factor of the product so far, and each renamed product was sorted and named anew, each
    node's digest computed anew.

    One call for each inner node renamed and none for a leaf: the children renamed in a loop
    here, a leaf in place, and each node entered in the hash-consing table here (nodes._intern
    with ``like``, written out: the budget's count, the table's weak reference read from the
    module so that a test may count them, the slots set directly, the digest, size and height
    copied).  Issue 21: a node renamed cost three calls (this, one to rename its children and
    one to enter it in the table), the most of a deep derivative's.  (A loop with a stack of
    its own instead of the recursion made fewer calls still, but took longer.)"""
    t = type(node)
    if t is Var:
        # map(m.get, idx, idx): m.get(i, i) for each index without a Python-level call (a
        # generator's step is one); the leaf made as the loop below makes one
        idx = tuple(map(m.get, node.idx, node.idx))
        name, sym = node.name, node.sym
        full = (Var, name, idx, sym)
        ref = _TABLE.get(full)
        new = ref() if ref is not None else None
        if new is None:
            b = budget_now()
            if b is not None:
                n = b.nodes + 1
                if n % _CLOCK_EVERY and (b.max_nodes is None or n <= b.max_nodes):
                    b.nodes = n
                else:
                    b.charge()
            new = object.__new__(Var)
            ref = _TABLE[full] = _nodes._Ref(new, _gone)
            ref.key = full
            new.name, new.idx, new.sym, new.free = name, idx, sym, tuple(dict.fromkeys(idx))
            new.sig, new.size, new.height, new.sorts = node.sig, node.size, node.height, node.sorts
        return new
    if t is Mul:
        new_out = tuple(map(m.get, node.out, node.out))
        height = node.height
        prefix = "_" if height == 1 else f"_{height}."
        for i in new_out:
            if i.name.startswith(prefix) and i.name[len(prefix):].isdigit():
                return None
        bound = node.bound
        if bound:
            targets = set(map(itemgetter(0), m.values()))  # their names, without a set comprehension's call
            for k, b in enumerate(bound):
                # b.name against _bound_name(height, k), without the call
                if b.name != prefix + str(k) or b in m or b.name in targets:
                    return None
        kids = node.factors
        start = 1 if kids and isinstance(kids[0], Num) else 0
        if len(kids) - start == 1 and not start:
            return None  # one factor alone: _canonical_mul may return it bare
    elif t is Add:
        # the children read from the slots, not through children(): a call less (issue 21)
        kids = node.terms
    elif t is Elem:
        kids = (node.arg,)
    elif t is Pow:
        kids = (node.base, node.exp)
    elif t is Stack:
        kids = node.entries
    else:
        return _substituted_other(node, m)
    # each child with m applied to the indices it has (a loop, not a comprehension: a call less)
    out = []
    items = m.items()
    for c in kids:
        free = c.free
        sub = None
        for k, v in items:
            if k in free:
                if sub is None:
                    sub = {}
                sub[k] = v
        if sub is not None:
            if type(c) is Var:  # the leaf case above, in place: a call less for each leaf renamed
                idx = tuple(map(sub.get, c.idx, c.idx))
                name, sym = c.name, c.sym
                full = (Var, name, idx, sym)
                ref = _TABLE.get(full)
                new = ref() if ref is not None else None
                if new is None:
                    b = budget_now()
                    if b is not None:
                        n = b.nodes + 1
                        if n % _CLOCK_EVERY and (b.max_nodes is None or n <= b.max_nodes):
                            b.nodes = n
                        else:
                            b.charge()
                    new = object.__new__(Var)
                    ref = _TABLE[full] = _nodes._Ref(new, _gone)
                    ref.key = full
                    new.name, new.idx, new.sym, new.free = name, idx, sym, tuple(dict.fromkeys(idx))
                    new.sig, new.size, new.height, new.sorts = c.sig, c.size, c.height, c.sorts
                c = new
            else:
                c = _substituted(c, sub)
                if c is None:
                    return None
        out.append(c)
    kids = tuple(out)
    if t is Mul:
        o = tuple(sorted(new_out))
        full = (Mul, kids, o)
    elif t is Add:
        full = (Add, kids)
    elif t is Elem:
        full = (Elem, node.func, kids[0])
    elif t is Pow:
        full = (Pow, kids[0], kids[1])
    else:
        return _stack_renamed(node, kids, m)
    ref = _TABLE.get(full)
    new = ref() if ref is not None else None
    if new is None:
        b = budget_now()
        if b is not None:
            n = b.nodes + 1
            if n % _CLOCK_EVERY and (b.max_nodes is None or n <= b.max_nodes):
                b.nodes = n
            else:
                b.charge()
        new = object.__new__(t)
        ref = _TABLE[full] = _nodes._Ref(new, _gone)
        ref.key = full
        if t is Mul:
            new.factors, new.out, new.free, new.bound = kids, o, o, node.bound
        elif t is Add:
            new.terms, new.free = kids, kids[0].free
        elif t is Elem:
            new.func, new.arg, new.free = node.func, kids[0], kids[0].free
        else:
            base, exp = kids
            new.base, new.exp, new.free = base, exp, tuple(dict.fromkeys(base.free + exp.free))
        new.sig, new.size, new.height, new.sorts = node.sig, node.size, node.height, node.sorts
    return new


def _stack_renamed(node: Stack, entries: tuple, m: dict) -> Node:
    """A literal of these (renamed) entries with its axes renamed by ``m``."""
    axes = tuple(m.get(i, i) for i in node.axes)

    def init_stack(n):
        n.entries, n.axes, n.free = entries, axes, unique(entries[0].free + axes)

    return _intern(Stack, (entries, axes), init_stack, node)


def _substituted_other(node: Node, m: dict) -> Node | None:
    """_substituted of a matrix function or a pairing (None for any other node)."""
    t = type(node)
    if t is MatFun:
        func, arg, r, c = node.func, node.arg, node.r, node.c
        out = tuple(m.get(i, i) for i in node.out)
        if any(i == r or i == c for i in node.out + out):
            return None  # an out index named as the argument's rows or columns: its layout changes

        def init_matfun(n):
            n.func, n.arg, n.r, n.c, n.out, n.free = func, arg, r, c, out, unique(out)

        return _intern(MatFun, (func, arg, out), init_matfun, node)
    if t is Pair:
        r, a, b = (m.get(i, i) for i in (node.r, node.a, node.b))

        def init_pair(n):
            n.r, n.a, n.b, n.free = r, a, b, unique((r, a, b))

        return _intern(Pair, (r, a, b), init_pair, node)
    return None
