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

_VAR_SLOTS = ("name", "idx", "sym", "free")
_MUL_SLOTS = ("factors", "out", "free", "bound")
# each class's own slots and then its free indices (the values _substituted passes, in order)
_ADD_SLOTS = Add.__slots__ + ("free",)
_ELEM_SLOTS = Elem.__slots__ + ("free",)
_POW_SLOTS = Pow.__slots__ + ("free",)


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

    A loop over the nodes to rename, depth first with a stack of the nodes whose children are
    being renamed, not a call for each node (nor one to rename a node's children and one to
    enter it in the hash-consing table, as it was): issue 21, the renamed nodes are most of
    those a deep chain rule makes, and their calls were half of the depth-64 network's
    derivative's.  The nodes are made in the order the recursion made them (children first,
    left to right)."""
    # the nodes whose children are being renamed: (node, its mapping, its children, the
    # children renamed so far, in order)
    stack: list = []
    while True:
        # -- the node to rename: a leaf made below, or pushed to have its children renamed
        t = type(node)
        full = None
        if t is Var:
            # map(m.get, idx, idx): m.get(i, i) for each index without a Python-level call (a
            # generator's step is one): the leaves are most of the nodes renamed (issue 21)
            idx = tuple(map(m.get, node.idx, node.idx))
            name, sym = node.name, node.sym
            full, names, values, like = (Var, name, idx, sym), _VAR_SLOTS, (name, idx, sym, tuple(dict.fromkeys(idx))), node
            got = None
        elif t is Mul or t is Add or t is Elem or t is Pow or t is Stack:
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
            else:
                # the children read from the slots, not through children(): a call less (issue 21)
                kids = node.terms if t is Add else (node.arg,) if t is Elem else (node.base, node.exp) if t is Pow \
                    else node.entries
            stack.append((node, m, kids, []))
            got = None
        else:
            got = _substituted_other(node, m)
            if got is None:
                return None
        # -- made what is ready (the leaf, then each node whose children are all renamed), until
        # a child is found that has indices to rename: it is the next node
        while True:
            if full is not None:
                # the node of that structure, made (its slots set, the digest, size and height
                # copied) if there is none: nodes._intern with ``like``, written out (as there:
                # the budget's count, the table's weak reference read from the module so that a
                # test may count them)
                ref = _TABLE.get(full)
                got = ref() if ref is not None else None
                if got is None:
                    b = budget_now()
                    if b is not None:
                        n = b.nodes + 1
                        if n % _CLOCK_EVERY and (b.max_nodes is None or n <= b.max_nodes):
                            b.nodes = n
                        else:
                            b.charge()
                    got = object.__new__(full[0])
                    ref = _TABLE[full] = _nodes._Ref(got, _gone)
                    ref.key = full
                    for name, value in zip(names, values):
                        setattr(got, name, value)
                    got.sig, got.size, got.height, got.sorts = like.sig, like.size, like.height, like.sorts
                full = None
            if not stack:
                return got
            parent, pm, kids, done = stack[-1]
            if got is not None:
                done.append(got)
                got = None
            # the next child with indices to rename (those with none kept as they are)
            items = pm.items()
            sub = None
            for c in kids[len(done):]:
                free = c.free
                for k, v in items:
                    if k in free:
                        if sub is None:
                            sub = {}
                        sub[k] = v
                if sub is not None:
                    break
                done.append(c)
            if sub is not None:
                node, m = c, sub
                break
            # every child renamed: the parent itself
            stack.pop()
            kids = tuple(done)
            pt, like = type(parent), parent
            if pt is Mul:
                out = tuple(sorted(map(pm.get, parent.out, parent.out)))
                full, names, values = (Mul, kids, out), _MUL_SLOTS, (kids, out, out, parent.bound)
            elif pt is Add:
                full, names, values = (Add, kids), _ADD_SLOTS, (kids, kids[0].free)
            elif pt is Elem:
                func, arg = parent.func, kids[0]
                full, names, values = (Elem, func, arg), _ELEM_SLOTS, (func, arg, arg.free)
            elif pt is Pow:
                base, exp = kids
                full, names, values = (Pow, base, exp), _POW_SLOTS, (base, exp, tuple(dict.fromkeys(base.free + exp.free)))
            else:
                got = _stack_renamed(parent, kids, pm)


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
