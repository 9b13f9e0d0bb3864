"""Folds over a display form, each subtree computed once and kept by object (the raiser shares
subtrees: a nested answer's forms share their inner levels, and walking each form as a tree
made the transposes' costs cubic in the nesting, issue 21).  Iterative: deep forms are fine.
The part of :class:`~.matrix.MatrixForms` that walks forms for its costs, split from
``matrix.py`` to keep that module one size."""

from __future__ import annotations

from ..language import ast as A


def fold(a: A.Expr, memo: dict, own, combine):
    """``combine`` of ``own(n)`` over every node n of the tree ``a``, shared subtrees counted
    each time they occur (as the text writes them) but each computed once, kept in ``memo``
    by object."""
    for n, kids in unseen(a, memo):
        parts = [own(n)]
        for c in kids:
            parts.append(memo[id(c)][1])
        memo[id(n)] = (n, combine(parts))
    return memo[id(a)][1]


def unseen(a: A.Expr, memo: dict) -> list:
    """(n, n's children) for every node n of ``a`` not in ``memo`` (by id), each once, children
    before parents, in the order :func:`fold` computes them.  The common nodes' children are
    read by their exact type, not by a call each (issue 21: the depth-64 network's final
    transpose folded its answer with three calls a node)."""
    BinOp, Call, Name, Num, Transpose, Neg = A.BinOp, A.Call, A.Name, A.Num, A.Transpose, A.Neg
    out: list = []
    done: set = set()
    stack = [(a, None)]  # (node, its children once they are on the stack above it)
    while stack:
        n, kids = stack[-1]
        if id(n) in memo or id(n) in done:
            stack.pop()
            continue
        if kids is None:
            t = type(n)
            kids = (n.left, n.right) if t is BinOp else n.args if t is Call else () if (
                t is Name or t is Num) else (n.arg,) if (t is Transpose or t is Neg) else A.children(n)
            # each child is done when n is met again: n's children kept here, not asked again
            stack[-1] = (n, kids)
            top = len(stack)
            for c in kids:
                if id(c) not in memo and id(c) not in done:
                    stack.append((c, None))
            if len(stack) > top:
                continue
        stack.pop()
        done.add(id(n))
        out.append((n, kids))
    return out
