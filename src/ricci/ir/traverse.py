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
    keep: list = []

    def go(n: Node) -> Node:
        kids = () if type(n) in _LEAVES else n.children()
        if kids:
            # a shared child is looked up here, not by a call (a deep answer shares most of
            # them), and so is a leaf the rule cannot change
            new = []
            for c in kids:
                got = memo.get(id(c))
                if got is None:
                    if type(c) in _LEAVES and types is not None and not isinstance(c, types):
                        got = memo[id(c)] = c
                        keep.append(c)
                    else:
                        got = go(c)
                new.append(got)
            res = n if all(map(is_, new, kids)) else rebuild(n, tuple(new))
        else:
            res = n
        if types is None or isinstance(res, types):
            res = rule(res)
        memo[id(n)] = res
        keep.append(n)
        return res

    return go(node)
