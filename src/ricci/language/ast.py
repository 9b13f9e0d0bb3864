"""The matrix AST: what the user wrote, as immutable data with source spans.

Nodes compare structurally and ignore their spans, so ``parse(str(e)) == e`` is a meaningful
round-trip test.  Spellings that mean the same thing share one node (``A.T`` and ``A'`` are both
:class:`Transpose`, ``@`` is ``*``, ``**`` is ``^``); the canonical text of a node is produced by
:mod:`ricci.printing.text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Union

Span = tuple[int, int]

#: Binary operators of the language, in their canonical spelling.
BINARY_OPS = ("+", "-", "*", "/", ".*", "./", ".^", "^")


def _kept_hash(*fields: str):
    """A compound node's ``__hash__``: the one the dataclass would write, hash((f1, f2, …)),
    computed once and kept on the node.  Raised answers share their subtrees, and the
    dataclass's hash walks the whole tree at every dict or set lookup (issue 21: a nested
    answer's display spent much of its time hashing the same inner levels again)."""

    get = attrgetter(*fields)  # the fields' values read in C: a tuple of them, or the one value
    one = len(fields) == 1

    def __hash__(self) -> int:
        kept = self.__dict__.get("_hash")
        if kept is None:
            kept = self.__dict__["_hash"] = hash((get(self),) if one else get(self))
        return kept

    return __hash__


def _state(self) -> dict:
    """What pickling keeps: the fields, not the kept hash (a string's hash differs between
    processes: the web server's workers unpickle answers)."""
    return {k: v for k, v in self.__dict__.items() if k != "_hash"}


@dataclass(frozen=True)
class Num:
    """A non-negative number literal (a sign is a :class:`Neg`)."""

    value: float
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Name:
    """A variable, a bound name, or a constant such as ``eye``/``I``."""

    name: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Word:
    """A word in quotes, ``'nuc'`` of NumPy's ``norm(X, 'nuc')``: only an argument that a
    function's rewrite takes (the parser refuses it anywhere else); never part of an Expr."""

    word: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Call:
    """A function applied to arguments: ``exp(x)``, ``tr(A)``, ``vector(1)``."""

    func: str
    args: tuple["Expr", ...]
    span: Span | None = field(default=None, compare=False, repr=False)

    __hash__ = _kept_hash("func", "args")
    __getstate__ = _state


@dataclass(frozen=True)
class Neg:
    """Unary minus."""

    arg: "Expr"
    span: Span | None = field(default=None, compare=False, repr=False)

    __hash__ = _kept_hash("arg")
    __getstate__ = _state


@dataclass(frozen=True)
class BinOp:
    """A binary operator, one of :data:`BINARY_OPS`."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = field(default=None, compare=False, repr=False)

    __hash__ = _kept_hash("op", "left", "right")
    __getstate__ = _state


@dataclass(frozen=True)
class Transpose:
    """Postfix transpose ``A'``."""

    arg: "Expr"
    span: Span | None = field(default=None, compare=False, repr=False)

    __hash__ = _kept_hash("arg")
    __getstate__ = _state


@dataclass(frozen=True)
class Literal:
    """A bracketed literal ``[a, b; c, d]``: rows of scalar entries."""

    rows: tuple[tuple["Expr", ...], ...]
    span: Span | None = field(default=None, compare=False, repr=False)

    __hash__ = _kept_hash("rows")
    __getstate__ = _state


@dataclass(frozen=True)
class Where:
    """``body where n1 = e1, n2 = e2``: each binding may use the ones before it."""

    body: "Expr"
    bindings: tuple[tuple[str, "Expr"], ...]
    span: Span | None = field(default=None, compare=False, repr=False)
    #: spans of the bound names, for error messages
    name_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)

    __hash__ = _kept_hash("body", "bindings")
    __getstate__ = _state


Expr = Union[Num, Name, Call, Neg, BinOp, Transpose, Literal, Where]


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of a node, in source order."""
    # the common nodes by their exact type first: a class pattern of ``match`` tries each class
    # in turn (several times slower, and this is asked of every node by every walk); a subclass
    # (a pending product, simplify/pending.py) takes the patterns below
    t = type(node)
    if t is BinOp:
        return (node.left, node.right)
    if t is Call:
        return node.args
    if t is Name or t is Num:
        return ()
    if t is Neg or t is Transpose:
        return (node.arg,)
    match node:
        case Num() | Name():
            return ()
        case Call(args=args):
            return args
        case Neg(arg=a) | Transpose(arg=a):
            return (a,)
        case BinOp(left=l, right=r):
            return (l, r)
        case Literal(rows=rows):
            return tuple(e for row in rows for e in row)
        case Where(body=b, bindings=bs):
            return tuple(e for _, e in bs) + (b,)
    raise TypeError(f"not an expression node: {node!r}")


def map_children(node: Expr, fn) -> Expr:
    """The node with ``fn`` applied to each direct child, its source span kept (a leaf is
    returned as it is).  ``where`` nodes are not rebuilt here: their scoping is the caller's
    business."""
    t = type(node)  # the common nodes by their exact type first, as in children()
    if t is BinOp:
        return BinOp(node.op, fn(node.left), fn(node.right), span=node.span)
    if t is Name or t is Num:
        return node
    sp = node.span
    match node:
        case Call(func=f, args=args):
            return Call(f, tuple(fn(a) for a in args), span=sp)
        case Neg(arg=a):
            return Neg(fn(a), span=sp)
        case Transpose(arg=a):
            return Transpose(fn(a), span=sp)
        case BinOp(op=op, left=l, right=r):
            return BinOp(op, fn(l), fn(r), span=sp)
        case Literal(rows=rows):
            return Literal(tuple(tuple(fn(e) for e in row) for row in rows), span=sp)
    return node


def walk(node: Expr):
    """Every node of the tree, parents before children (iterative: deep trees are fine)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))


def depth(node: Expr) -> int:
    """Height of the tree, computed without recursion."""
    best = 0
    stack = [(node, 1)]
    push = stack.append
    while stack:
        n, d = stack.pop()
        if d > best:
            best = d
        d += 1
        # the common nodes read here, not through children(): a call per node was most of the
        # cost of this check on a deep parse (issue 21)
        t = type(n)
        if t is BinOp:
            push((n.left, d))
            push((n.right, d))
        elif t is Name or t is Num:
            continue
        elif t is Neg or t is Transpose:
            push((n.arg, d))
        else:
            for c in children(n):
                push((c, d))
    return best
