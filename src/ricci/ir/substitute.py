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

from .nodes import Add, Elem, MatFun, Mul, Node, Num, Pair, Pow, Stack, Var, _intern, _intern_like, unique

_VAR_SLOTS = ("name", "idx", "sym", "free")
_MUL_SLOTS = ("factors", "out", "free", "bound")
# each class's own slots and then its free indices (the values _substituted passes, in order)
_ADD_SLOTS = Add.__slots__ + ("free",)
_ELEM_SLOTS = Elem.__slots__ + ("free",)
_POW_SLOTS = Pow.__slots__ + ("free",)


def _bound_name(height: int, k: int) -> str:
    """Canonical name of the k-th summed index of a product of this nesting height."""
    return f"_{k}" if height == 1 else f"_{height}.{k}"


def _each_substituted(nodes, m: dict) -> tuple | None:
    """Each of ``nodes`` with ``m`` applied to the indices it has (None: one refused)."""
    out = []
    items = m.items()
    for c in nodes:
        free = c.free
        # a loop, not a comprehension: a call less for each child of each renamed node (issue 21)
        sub = None
        for k, v in items:
            if k in free:
                if sub is None:
                    sub = {}
                sub[k] = v
        if sub is not None:
            if type(c) is Var:  # _substituted's leaf case inline: a call less per leaf renamed
                idx = tuple(map(sub.get, c.idx, c.idx))
                c = _intern_like(Var, (c.name, idx, c.sym), c, _VAR_SLOTS,
                                 (c.name, idx, c.sym, tuple(dict.fromkeys(idx))))
            else:
                c = _substituted(c, sub)
                if c is None:
                    return None
        out.append(c)
    return tuple(out)


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
    node's digest computed anew."""
    t = type(node)
    if t is Var:
        # map(m.get, idx, idx): m.get(i, i) for each index without a Python-level call (a
        # generator's step is one): the leaves are most of the nodes renamed (issue 21)
        idx = tuple(map(m.get, node.idx, node.idx))
        name, sym = node.name, node.sym
        return _intern_like(Var, (name, idx, sym), node, _VAR_SLOTS, (name, idx, sym, tuple(dict.fromkeys(idx))))
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
        old = node.factors
        start = 1 if old and isinstance(old[0], Num) else 0
        if len(old) - start == 1 and not start:
            return None  # one factor alone: _canonical_mul may return it bare
        factors = _each_substituted(old, m)
        if factors is None:
            return None
        out = tuple(sorted(new_out))
        return _intern_like(Mul, (factors, out), node, _MUL_SLOTS, (factors, out, out, node.bound))
    if t is Add or t is Elem or t is Pow or t is Stack:
        # the children read from the slots, not through children(): a call less (issue 21)
        kids = _each_substituted(node.terms if t is Add else (node.arg,) if t is Elem
                                 else (node.base, node.exp) if t is Pow else node.entries, m)
        if kids is None:
            return None
        # through _intern_like, as the leaves and products: no closure made and called for
        # each sum, function and power renamed (issue 21)
        if t is Add:
            return _intern_like(Add, (kids,), node, _ADD_SLOTS, (kids, kids[0].free))
        if t is Elem:
            func, arg = node.func, kids[0]
            return _intern_like(Elem, (func, arg), node, _ELEM_SLOTS, (func, arg, arg.free))
        if t is Pow:
            base, exp = kids
            return _intern_like(Pow, (base, exp), node, _POW_SLOTS,
                                (base, exp, tuple(dict.fromkeys(base.free + exp.free))))
        entries, axes = tuple(kids), tuple(m.get(i, i) for i in node.axes)

        def init_stack(n):
            n.entries, n.axes, n.free = entries, axes, unique(entries[0].free + axes)

        return _intern(Stack, (entries, axes), init_stack, node)
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
