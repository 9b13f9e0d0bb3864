"""Traversals of the IR DAG that visit each shared subterm once."""

from __future__ import annotations

from typing import Callable

from . import build as B
from .nodes import Add, Elem, MatFun, Mul, Node, Pow, Stack


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


def rewrite(node: Node, rule: Callable[[Node], Node]) -> Node:
    """Bottom-up rewrite: children first, then ``rule`` on the rebuilt node (memoised)."""
    memo: dict[int, Node] = {}
    keep: list = []

    def go(n: Node) -> Node:
        got = memo.get(id(n))
        if got is not None:
            return got
        kids = n.children()
        if kids:
            new = tuple(go(c) for c in kids)
            res = n if all(a is b for a, b in zip(new, kids)) else rebuild(n, new)
        else:
            res = n
        res = rule(res)
        memo[id(n)] = res
        keep.append(n)
        return res

    return go(node)
