"""Traversals of the IR DAG that visit each shared subterm once."""

from __future__ import annotations

from operator import is_
from typing import Callable

from . import build as B
from .nodes import Add, Delta, Elem, MatFun, Mul, Node, Num, Pair, Pow, Size, Stack, Var


def rebuild(node: Node, children: tuple) -> Node:
    """The node of ``node``'s type with new children, through the smart constructors."""
    match node:
        case Mul():
            return B.mul(list(children), node.out)
        case Add():
            return B.add(list(children))
        case Elem():
            return B.elem(node.func, children[0])
        case Pow():
            return B.power(children[0], children[1])
        case MatFun():
            return B.matfun(node.func, children[0], node.r, node.c, node.out)
        case Stack():
            return B.stack(list(children), node.axes)
    return node


def transform(node: Node, leaf: Callable[[Node], Node]) -> Node:
    """Bottom-up rewrite of the leaves only: ``leaf`` maps each childless node; parents are
    rebuilt through the smart constructors (memoised)."""
    return rewrite(node, lambda n: n if n.children() else leaf(n))


def nodes(node: Node):
    """Every distinct node of the DAG once (parents before children)."""
    seen = set()
    todo = [node]
    while todo:
        n = todo.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        todo.extend(reversed(n.children()))


#: the node types without children (their ``children()`` is the base class's: no call needed)
_LEAVES = frozenset(c for c in (Num, Var, Delta, Pair, Size) if c.children is Node.children)


def rewrite(node: Node, rule: Callable[[Node], Node], types: tuple | None = None) -> Node:
    """Bottom-up rewrite: children first, then ``rule`` on the rebuilt node (memoised).
    ``types``: the node types ``rule`` can change; the others are kept as rebuilt without
    calling it (issue 21: most nodes of a deep answer are leaves no display rule applies to)."""
    memo: dict[int, Node] = {}
    keep: list = []  # the nodes memoised by id, kept alive so that no id is reused
    leaves = _LEAVES
    # A loop with a stack of frames, not a call per node, and each node's children read off
    # its fields by its exact type, not by a call of children() (issue 21: two calls per node of
    # a deep answer).  The order is the recursion's: children in order, each shared one once,
    # the rule on a node after all its children, a later sibling looked up after the earlier
    # one is done.
    stack: list = [[node, None, []]]
    while stack:
        frame = stack[-1]
        n, kids, new = frame
        if kids is None:  # a node's first turn: its children
            t = type(n)
            if t is Mul:
                kids = n.factors
            elif t is Add:
                kids = n.terms
            elif t is Elem or t is MatFun:
                kids = (n.arg,)
            elif t is Pow:
                kids = (n.base, n.exp)
            elif t in leaves:
                kids = ()
            else:
                kids = n.children()
            frame[1] = kids
        i = len(new)
        pushed = False
        while i < len(kids):
            c = kids[i]
            got = memo.get(id(c))
            if got is None:
                if type(c) in leaves:
                    # a leaf: the rule on it, where the rule may change it (no frame)
                    got = c if types is not None and not isinstance(c, types) else rule(c)
                    memo[id(c)] = got
                    keep.append(c)
                else:
                    stack.append([c, None, []])
                    pushed = True
                    break
            new.append(got)
            i += 1
        if pushed:
            continue
        stack.pop()
        res = n if not kids or all(map(is_, new, kids)) else rebuild(n, tuple(new))
        if types is None or isinstance(res, types):
            res = rule(res)
        memo[id(n)] = res
        keep.append(n)
    return memo[id(node)]
