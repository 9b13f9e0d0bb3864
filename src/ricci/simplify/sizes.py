"""Sizes written out where nothing else fixes them: ``lambda*eye(len(w))``, ``vector(0, len(z))'``.

An answer's text is input language again and evaluates to the derivative's numbers from the
same values (README).  A size-less constant (``eye``, ``vector(c)``, ``matrix(c)``) takes its
size from its neighbours (``2*(X'*X + lambda*eye)``: X'*X fixes it); where no neighbour does
(the Hessian ``lambda*eye`` of ``0.5*lambda*w'*w``, the ones of ``A*x + b`` by a scalar b, a
zero derivative), the text alone does not say how large it is.  Such a constant gets its size
written out (language/sizes.py) from the dimension it has in the *typed answer*: the forms'
types (simplify/mtypes.py: from the variables' kinds and dimensions, never from text), each
side a constant lacks handed down from its place (``Typing.resolve``), the answer's own sides
being the derivative's dimension names; the constant's dimension is named by a variable of
that dimension (``len(w)``, ``size(A, 1)``).  Sizes are never guessed from values: an earlier
version took an open size from the values of the names used, and took x's length for A's row
count in the derivative of sum(A*x) by A.

Only constants left open are sized, one at a time (the first in reading order, then the
answer is resolved again: only the forms on the path to it are new), so that one written size
that fixes others is the only one.
"""

from __future__ import annotations

import dataclasses

from ..functions import IDENTITY_NAMES
from ..language import ast as A
from ..language.kinds import VECTOR, Type, free_names
from .mtypes import Typing, is_open
from .objects import objects

#: How many constants one answer may have sized (each costs a typing of the answer's path to it).
MAX_SIZED = 32


def size_constants(tree: A.Expr, expr, target: tuple) -> tuple[A.Expr, dict]:
    """``tree`` (an answer of the function ``expr``, of dimensions ``target`` = (rows, cols),
    dimension names, ints, or 1) with every constant whose size nothing fixes sized; and the
    dimension name each written size stands for (for LaTeX: I_n rather than I_len(w))."""
    variables = expr.variables
    names: dict = {}
    if not _any_unsized(tree, variables):
        return tree, names  # most answers: no size-less constant, nothing to type
    tree = _fresh(tree)
    typing = Typing(expr)
    skipped = 0
    for _ in range(MAX_SIZED):
        # the sides the answer's own variables give each node, then those its place gives it
        # as well, the answer's shape being the derivative's (simplify/mtypes.py)
        own = typing.resolve(tree)
        open_ = [n for n in A.walk(tree) if _unsized(n, variables) and is_open(own[id(n)])]
        if len(open_) <= skipped:
            return tree, names
        node = open_[skipped]
        order = free_names(tree, set(variables))  # names the answer uses first
        order = [n for n in order if n in variables] + [n for n in variables if n not in order]
        sized = _sized(node, typing.resolve(tree, *target)[id(node)], order, variables, names)
        if sized is None:
            skipped += 1  # no variable has its dimension: it stays as it is
            continue
        tree = _replace(tree, node, sized)
    return tree, names


def _any_unsized(tree, variables) -> bool:
    """Whether some node of ``tree`` is :func:`_unsized`: each object once, the test inline
    (issue 21: a call per node of a deep answer's unfolded tree, and the answer shares its
    levels)."""
    for n in objects(tree):
        t = type(n)
        if t is A.Name:
            if n.name in IDENTITY_NAMES and n.name not in variables:
                return True
        elif t is A.Call:
            if n.func in ("vector", "matrix") and len(n.args) == 1:
                return True
    return False


def _unsized(node, variables) -> bool:
    if isinstance(node, A.Name):
        return node.name in IDENTITY_NAMES and node.name not in variables
    return isinstance(node, A.Call) and node.func in ("vector", "matrix") and len(node.args) == 1


def _sized(node, t, order, variables, names):
    """``node`` with its size written out (``t``: its type where it stands), or None where
    some side has no dimension of a variable."""
    dims = [t.rows] if isinstance(node, A.Name) or node.func == "vector" else [t.rows, t.cols]
    if any(is_open(Type(d, 1)) for d in dims):
        return None
    origin = list(dims)
    if isinstance(node, A.Call) and node.func == "matrix":
        whole = next((n for n in order if len(variables[n].dims) == 2
                      and tuple(variables[n].dims) == tuple(origin)), None)
        if whole is not None:
            size = A.Call("size", (A.Name(whole),))
            for k, o in enumerate(origin):
                names[A.Call("size", (A.Name(whole), A.Num(float(k + 1))))] = o
            return A.Call("matrix", (node.args[0], size))
    sizes = []
    for o in origin:
        s = _size_of(o, order, variables)
        if s is None:
            return None
        if not isinstance(o, int):
            names[s] = o
        sizes.append(s)
    if isinstance(node, A.Name):
        return A.Call("eye", tuple(sizes))
    return A.Call(node.func, (node.args[0], *sizes))


def _size_of(dim, order, variables):
    """A size argument for the dimension ``dim``: a number, or a variable's length or side."""
    if isinstance(dim, int):
        return A.Num(float(dim))
    for n in order:  # a vector's length reads shortest: len(w)
        if tuple(variables[n].dims) == (dim,) and variables[n].kind == VECTOR:
            return A.Call("len", (A.Name(n),))
    for n in order:
        ds = tuple(variables[n].dims)
        if len(ds) == 2 and dim in ds:
            return A.Call("size", (A.Name(n), A.Num(1.0 if ds[0] == dim else 2.0)))
    return None


def _fresh(node):
    """A copy of the tree in which every node is its own object (types are kept by id)."""
    match node:
        case A.Where(body=b, bindings=bs):
            return A.Where(_fresh(b), tuple((n, _fresh(e)) for n, e in bs), span=node.span,
                           name_spans=node.name_spans)
        case A.Num() | A.Name():
            return dataclasses.replace(node)
    return A.map_children(node, _fresh)


def _replace(node, target, new):
    """``node`` with the subtree ``target`` (by identity) replaced by ``new``."""
    if node is target:
        return new
    match node:
        case A.Where(body=b, bindings=bs):
            return A.Where(_replace(b, target, new), tuple((n, _replace(e, target, new)) for n, e in bs),
                           span=node.span, name_spans=node.name_spans)
        case A.Num() | A.Name():
            return node
    return A.map_children(node, lambda c: _replace(c, target, new))
