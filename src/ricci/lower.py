"""Matrix AST → tensor IR (index notation).

``lower(node, r, c)`` gives the IR of a typed AST node whose row index is named ``r`` and
column index ``c`` (``None`` for a side of size 1).  A transpose just swaps the names; a matrix
product introduces one summed index; ``tr`` and ``diag`` reuse one index twice (each
function's index form is its entry's, ``Function.lower`` in ricci.functions); ``where``
bound names stay names (variables of the IR whose expressions are kept beside it), so that
the chain rule through them is the lecture's ∂f/∂x · ∂x/∂t and the answer can say
``where x1 = …``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .functions import lookup
from .ir import build as B
from .ir.nodes import Index, Node
from .language import ast as A
from .language.expression import Expression
from .language.kinds import SYMMETRIC


@dataclass
class Lowered:
    """The IR of an expression and how its free indices map to its rows and columns."""

    node: Node
    row: Index | None
    col: Index | None
    #: bound name → (IR, row index, col index) of its expression, in binding order.  In the IR a
    #: bound name is a variable; differentiation and evaluation look its expression up here.
    bindings: dict = field(default_factory=dict)

    @property
    def indices(self) -> tuple:
        return tuple(i for i in (self.row, self.col) if i is not None)


class _Lowerer:
    def __init__(self, expr: Expression):
        self.expr = expr
        # the variables read once (expr.variables is a copy of them for each ask)
        self.variables = expr.variables
        self.sym = {n for n, v in self.variables.items() if v.kind == SYMMETRIC}
        self.bindings: dict = {}

    def idx(self, d, stem):
        return None if d == 1 else B.fresh(d, stem)

    def lower(self, node: A.Expr, r: Index | None, c: Index | None, env: dict) -> Node:
        # the indices that are there, without a generator (a call less per node lowered)
        if r is None:
            out = () if c is None else (c,)
        else:
            out = (r,) if c is None else (r, c)
        match node:
            case A.Num(value=v):
                return B.num(v)
            case A.Name(name=n):
                if n in env:
                    # A bound name stays a name in the IR (the chain rule runs through it
                    # explicitly, as in the lecture); its expression is in self.bindings.
                    return B.var(n, out)
                if n in self.variables:
                    return B.var(n, out, n in self.sym)
                return B.delta(r, c)  # eye / I
            case A.Neg(arg=a):
                return B.neg(self.lower(a, r, c, env))
            case A.Transpose(arg=a):
                return self.lower(a, c, r, env)
            case A.BinOp(op=op, left=left, right=right):
                return self._binop(node, op, left, right, r, c, env, out)
            case A.Call():
                return self._call(node, r, c, env, out)
            case A.Literal(rows=rows):
                entries = [self.lower(e, None, None, env) for row in rows for e in row]
                return B.stack(entries, out)
            case A.Where(body=body, bindings=bindings):
                inner = dict(env)
                for name, e in bindings:
                    et = self.expr.type_of(e)
                    br, bc = self.idx(et.rows, "w"), self.idx(et.cols, "w")
                    ir = self.lower(e, br, bc, inner)
                    inner[name] = True
                    self.bindings[name] = (ir, br, bc)
                return self.lower(body, r, c, inner)
        raise TypeError(node)  # pragma: no cover

    def _operand(self, node, r, c, env):
        """Lower an operand of an elementwise operation, broadcasting a scalar."""
        t = self.expr.type_of(node)
        if t.is_scalar:
            return self.lower(node, None, None, env)
        return self.lower(node, r, c, env)

    def _binop(self, node, op, left, right, r, c, env, out):
        lt, rt = self.expr.type_of(left), self.expr.type_of(right)
        if op in ("+", "-"):
            a = self._operand(left, r, c, env)
            b = self._operand(right, r, c, env)
            a = B.mul([a], out) if set(a.free) != set(out) else a
            b = B.mul([b], out) if set(b.free) != set(out) else b
            return B.add([a, b]) if op == "+" else B.sub(a, b)
        if op == "*":
            # lt.is_scalar or rt.is_scalar, the property read in place (two calls less for each
            # product lowered; issue 21)
            if (lt.rows == 1 and lt.cols == 1) or (rt.rows == 1 and rt.cols == 1):
                return B.mul([self._operand(left, r, c, env), self._operand(right, r, c, env)], out)
            k = self.idx(lt.cols, "s")
            return B.mul([self.lower(left, r, k, env), self.lower(right, k, c, env)], out)
        if op == ".*":
            return B.mul([self._operand(left, r, c, env), self._operand(right, r, c, env)], out)
        if op in ("/", "./"):
            den = B.power(self._operand(right, r, c, env), B.num(-1.0))
            return B.mul([self._operand(left, r, c, env), den], out)
        if op in ("^", ".^"):
            return B.power(self._operand(left, r, c, env), self._operand(right, r, c, env))
        raise TypeError(op)  # pragma: no cover

    def _call(self, node: A.Call, r, c, env, out):
        if node.func == "eye":  # eye(n): its size is in its type already
            return B.delta(r, c)
        f = lookup(node.func)
        # vector(c, n), matrix(c, m, n): the sizes are in the node's type; only c is a value
        arg = node.args[0]
        at = self.expr.type_of(arg)
        if f.family == "elementwise":
            return B.elem(f.name, self.lower(arg, r, c, env))
        if f.family == "constant":
            return B.mul([self.lower(arg, None, None, env)], out)
        ar, ac = self.idx(at.rows, "i"), self.idx(at.cols, "j")
        if f.lower is not None:  # the function table's index form (Function.lower)
            return f.lower(_Kit(B, lambda rows, cols: self.lower(arg, rows, cols, env), ar, ac, r, c, at,
                                lambda k, rows, cols: self.lower(node.args[k], rows, cols, env),
                                ats=tuple(self.expr.type_of(a) for a in node.args), fresh=self.idx))
        raise TypeError(f.name)  # pragma: no cover


@dataclass(frozen=True)
class _Kit:
    """What a function's index form is written with (see ``Function.lower``)."""

    B: object  # ricci.ir.build
    arg: Callable  # (rows, cols) -> the argument lowered with these indices
    ar: object
    ac: object
    r: object
    c: object
    at: object
    #: (k, rows, cols) -> the call's argument k lowered (expm_frechet(X, E): E is argument 1)
    more: Callable | None = None
    #: every argument's type (kron(A, B)) and ``fresh(dim, stem)``: a new index of that
    #: dimension (None for a side of size 1)
    ats: tuple = ()
    fresh: Callable | None = None


def lower(expr: Expression) -> Lowered:
    """The IR of a typed expression; its rows/columns get fresh indices named i…/j…."""
    t = expr.type
    lw = _Lowerer(expr)
    r = lw.idx(t.rows, "i")
    c = lw.idx(t.cols, "j")
    node = lw.lower(expr.tree, r, c, {})
    return Lowered(node, r, c, lw.bindings)
