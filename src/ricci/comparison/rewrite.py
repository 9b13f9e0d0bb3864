"""Small rewrites of the matrix AST that build the transformed answers a slip is tested with.

Every function here is pure: it returns new (frozen) nodes and never changes its input.  None of
them decides anything about equality; the numbers do that (:mod:`ricci.comparison.engine`).

* :func:`replace` swaps one node, found by identity, so that of the two ``x`` in ``x'*B*x`` only
  the one meant changes;
* :func:`transpose` writes (e)' with the transpose pushed through products: (A*B)' = B'*A',
  (A')' = A, scalars unchanged, a sum kept whole as (A + B)', so that a column answer reads back
  as a row the way a student would write it;
* :func:`expand` splits an answer into the terms of its sums, distributing products over sums to
  a chosen depth: the terms of a product rule or a chain rule;
* :func:`transpose_targets` lists the factors whose transposition a student may have missed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace as _dc_replace

from ..language import ast as A

Term = tuple[float, "A.Expr | None"]  # coefficient, product of the rest (None: a constant)


def replace(tree: A.Expr, target: A.Expr, new: A.Expr) -> A.Expr:
    """``tree`` with the node ``target`` (compared by identity) replaced by ``new``."""
    if tree is target:
        return new
    match tree:
        case A.Num() | A.Name():
            return tree
        case A.Call(args=args):
            return _dc_replace(tree, args=tuple(replace(a, target, new) for a in args))
        case A.Neg(arg=a) | A.Transpose(arg=a):
            return _dc_replace(tree, arg=replace(a, target, new))
        case A.BinOp(left=l, right=r):
            return _dc_replace(tree, left=replace(l, target, new), right=replace(r, target, new))
        case A.Literal(rows=rows):
            return _dc_replace(tree, rows=tuple(tuple(replace(e, target, new) for e in row) for row in rows))
        case A.Where(body=b, bindings=bs):
            return _dc_replace(tree, body=replace(b, target, new),
                               bindings=tuple((n, replace(e, target, new)) for n, e in bs))
    raise TypeError(tree)  # pragma: no cover


def transpose(node: A.Expr, is_scalar: Callable[[A.Expr], bool] = lambda n: False) -> A.Expr:
    """(node)' with the transpose pushed down to the leaves; scalars are left alone."""
    if is_scalar(node):
        return node
    match node:
        case A.Num():
            return node
        case A.Transpose(arg=a):
            return a
        case A.Neg(arg=a):
            return A.Neg(transpose(a, is_scalar))
        case A.BinOp(op="*", left=l, right=r):
            return A.BinOp("*", transpose(r, is_scalar), transpose(l, is_scalar))
        case A.BinOp(op=op, left=l, right=r) if op in (".*", "./"):
            return A.BinOp(op, transpose(l, is_scalar), transpose(r, is_scalar))
        case A.BinOp(op="/", left=l, right=r):
            return A.BinOp("/", transpose(l, is_scalar), r)
        case A.Literal(rows=rows):
            return A.Literal(tuple(zip(*rows)))
    return A.Transpose(node)


def with_bindings(body: A.Expr, bindings: Iterable) -> A.Expr:
    bindings = tuple(bindings)
    return A.Where(body, bindings) if bindings else body


def split_where(tree: A.Expr) -> tuple[A.Expr, tuple]:
    """(body, bindings) of a top-level ``where``; (tree, ()) without one."""
    if isinstance(tree, A.Where):
        return tree.body, tree.bindings
    return tree, ()


# -- terms ---------------------------------------------------------------------------------------
def _mul(a: A.Expr | None, b: A.Expr | None, op: str = "*") -> A.Expr | None:
    """a*b as a left-associated chain, so that it prints without brackets: (2*a)*b is 2*a*b."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(b, A.BinOp) and b.op == op == "*":
        return A.BinOp(op, _mul(a, b.left, op), b.right)
    return A.BinOp(op, a, b)


def times(a: A.Expr, b: A.Expr) -> A.Expr:
    """a*b, printed without brackets where the product allows (a factor in front of a chain)."""
    return _mul(a, b)


def _negate_first(node: A.Expr) -> A.Expr:
    """-node with the sign on the first factor: -(x'*B) is written -x'*B."""
    if isinstance(node, A.BinOp) and node.op == "*":
        return A.BinOp("*", _negate_first(node.left), node.right)
    return A.Neg(node)


def expand(node: A.Expr, depth: int, is_scalar: Callable[[A.Expr], bool] = lambda n: False,
           max_terms: int = 12) -> list[Term]:
    """The terms of ``node``: sums split, products distributed over sums ``depth`` levels deep.

    ``x'*(B + B')`` at depth 1 gives ``x'*B`` and ``x'*B'``; the chain rule's
    ``e*(u*(c - t*s) + v*(s + t*c))`` gives two terms at depth 1 and four at depth 2.  Constant
    factors are collected into the coefficient.  Past ``max_terms`` a sum is kept whole.
    """
    terms = _expand(node, depth, False, is_scalar, max_terms)
    merged: dict = {}
    order: list = []
    for c, t in terms:
        if t not in merged:
            merged[t] = 0.0
            order.append(t)
        merged[t] += c
    return [(merged[t], t) for t in order if merged[t] != 0]


def _expand(node, depth: int, inside: bool, is_scalar, max_terms: int) -> list[Term]:
    match node:
        case A.Num(value=v):
            return [(float(v), None)]
        case A.Neg(arg=a):
            return [(-c, t) for c, t in _expand(a, depth, inside, is_scalar, max_terms)]
        case A.BinOp(op=op, left=l, right=r) if op in ("+", "-"):
            if inside and depth == 0:
                return [(1.0, node)]
            d = depth - 1 if inside else depth
            left = _expand(l, d, False, is_scalar, max_terms)
            right = _expand(r, d, False, is_scalar, max_terms)
            if op == "-":
                right = [(-c, t) for c, t in right]
            if len(left) + len(right) > max_terms:
                return [(1.0, node)]
            return left + right
        case A.BinOp(op=op, left=l, right=r) if op in ("*", ".*"):
            left = _expand(l, depth, True, is_scalar, max_terms)
            right = _expand(r, depth, True, is_scalar, max_terms)
            if len(left) * len(right) > max_terms:
                return [(1.0, node)]
            return [(cl * cr, _mul(tl, tr, op)) for cl, tl in left for cr, tr in right]
        case A.BinOp(op="/", left=l, right=r):
            left = _expand(l, depth, True, is_scalar, max_terms)
            if isinstance(r, A.Num) and r.value != 0:
                return [(c / r.value, t) for c, t in left]
            return [(c, A.BinOp("/", t if t is not None else A.Num(1.0), r)) for c, t in left]
        case A.Transpose(arg=a):
            return [(c, None if t is None else transpose(t, is_scalar))
                    for c, t in _expand(a, depth, inside, is_scalar, max_terms)]
    return [(1.0, node)]


def term_ast(coef: float, node: A.Expr | None) -> A.Expr:
    """``coef*node`` as an AST, with 1 and -1 written as no factor and a minus sign."""
    if node is None:
        return A.Num(abs(coef)) if coef >= 0 else A.Neg(A.Num(-coef))
    if coef == 1:
        return node
    if coef == -1:
        return _negate_first(node)
    num = A.Num(abs(coef))
    return _mul(num if coef > 0 else A.Neg(num), node)


def sum_ast(terms: list[Term]) -> A.Expr:
    """The terms added up again, ``a - b`` for a negative coefficient."""
    out: A.Expr | None = None
    for c, t in terms:
        if out is None:
            out = term_ast(c, t)
        elif c < 0:
            out = A.BinOp("-", out, term_ast(-c, t))
        else:
            out = A.BinOp("+", out, term_ast(c, t))
    return out if out is not None else A.Num(0.0)


# -- transposition targets -------------------------------------------------------------------------
def transpose_targets(tree: A.Expr, type_of: Callable[[A.Expr], object],
                      symmetric: Callable[[str], bool], skip: Iterable[A.Expr] = ()) -> list[A.Expr]:
    """Nodes whose transposition is a plausible slip: the smallest first, in reading order.

    Every variable that is a matrix or a vector (a symmetric matrix is its own transpose), then
    every transpose already written (it may be the one too many), then every non-scalar factor
    of a product that is not a bare name (``(B + B')`` in ``x'*(B + B')``).  Nodes under ``skip``
    (the question's own ``where`` bindings) are left out.
    """
    skipped = {id(n) for s in skip for n in A.walk(s)}
    # x in x' is covered by the transpose: removing it is what transposing x would do
    covered = {id(n.arg) for n in A.walk(tree) if isinstance(n, A.Transpose)}
    names: list[A.Expr] = []
    transposes: list[A.Expr] = []
    factors: list[A.Expr] = []
    for node in A.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, A.Name):
            if id(node) in covered:
                continue
            t = type_of(node)
            if t is not None and not t.is_scalar and not symmetric(node.name):
                names.append(node)
        elif isinstance(node, A.Transpose):
            transposes.append(node)
        elif isinstance(node, A.BinOp) and node.op == "*":
            for side in (node.left, node.right):
                t = type_of(side)
                if t is not None and not t.is_scalar and not isinstance(side, (A.Name, A.Transpose)):
                    factors.append(side)
    factors.sort(key=lambda n: sum(1 for _ in A.walk(n)))  # the smallest factor first
    out: list[A.Expr] = []
    for n in names + transposes + factors:
        if all(n is not m for m in out):
            out.append(n)
    return out


def transposed_at(tree: A.Expr, target: A.Expr) -> A.Expr:
    """``tree`` with ``target`` transposed (a written transpose is removed instead)."""
    new = target.arg if isinstance(target, A.Transpose) else A.Transpose(target)
    return replace(tree, target, new)
