"""The types of the matrix-notation forms the raiser and the display rules build.

Each form is typed once, when it is first asked about, from the types its parts carry: a leaf
from the declared variables (their kinds and dimension names) or from the binding that named
it, a compound from its children by the one rule of :meth:`Typing._compose`.  A type is the
form's kind, 's' scalar, 'c' column, 'r' row or 'm' matrix, with the dimensions of its rows
and columns (1 for a side of size 1, None for a constant sized where it stands: vector(1),
matrix(c), eye).  Nothing re-reads a type from the printed text: whether a subterm fixes its
own size (:meth:`Typing.sized_alone`) reads the dimensions carried here.
"""

from __future__ import annotations

from typing import NamedTuple

from ..functions import IDENTITY_NAMES, lookup
from ..language import ast as A
from ..language.kinds import SYMMETRIC
from ..language.sizes import SIZE_FUNCTIONS

S, C, Rw, M = "s", "c", "r", "m"


class MType(NamedTuple):
    """A form's kind and dimensions; ``square`` for an identity of unknown size (its rows are
    its columns, so eye*A has A's rows)."""

    kind: str
    rows: object = None
    cols: object = None
    square: bool = False


SCALAR = MType(S, 1, 1)
_UNKNOWN = MType(M)
_IDENTITY = MType(M, None, None, True)
_FLIP = {C: Rw, Rw: C}
#: the kind of a matrix product by the kinds of its two (non-scalar) factors
_PRODUCT = {(Rw, C): S, (C, Rw): M, (Rw, M): Rw, (M, C): C}


def of_variable(kind: str, dims: tuple) -> MType:
    if kind == "scalar":
        return SCALAR
    if kind == "vector":
        return MType(C, dims[0] if dims else None, 1)
    rows, cols = (tuple(dims) + (None, None))[:2]
    return MType(M, rows, cols)


def of_type(t) -> MType:
    """The MType of a checked :class:`ricci.language.kinds.Type` (a where-binding's)."""
    kind = S if t.is_scalar else C if t.is_col else Rw if t.is_row else M
    return MType(kind, t.rows, t.cols)


def _side(a, b):
    return a if a is not None else b


class Typing:
    """The types of one expression's forms (memoised by object: answers share subtrees)."""

    def __init__(self, expr):
        self.expr = expr
        #: the types of names: variables, then the where-bindings of the input and the names
        #: the display gives repeated subterms (:meth:`bind`)
        self.names: dict[str, MType] = {
            n: of_variable(v.kind, v.dims) for n, v in expr.variables.items()}
        self.symmetric = {n for n, v in expr.variables.items() if v.kind == SYMMETRIC}
        self._memo: dict = {}

    def bind(self, name: str, t: MType) -> None:
        self.names[name] = t

    def kind(self, a: A.Expr) -> str:
        got = self._memo.get(id(a))
        if got is not None and got[0] is a:  # the common case first: asked again and again
            return got[1].kind
        return self.of(a).kind

    def of(self, a: A.Expr) -> MType:
        got = self._memo.get(id(a))
        if got is not None and got[0] is a:
            return got[1]
        # Children first, without recursion: an answer's sum of 500 terms is a chain 500 deep
        # (issue 21: the typing raised a RecursionError there); _compose finds them memoised.
        # (The memo is read inline: this loop runs for every form the display builds.)
        memo = self._memo
        stack = [a]
        while stack:
            n = stack[-1]
            pending = []
            for c in A.children(n):
                got = memo.get(id(c))
                if got is None or got[0] is not c:
                    pending.append(c)
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            got = memo.get(id(n))
            if got is None or got[0] is not n:
                memo[id(n)] = (n, self._compose(n))
        return memo[id(a)][1]

    def _compose(self, a: A.Expr) -> MType:
        """The type of ``a`` from its children's (already in the memo: :meth:`of` made them first)."""
        memo = self._memo  # the children's types: memo[id(child)][1]
        match a:
            case A.Num():
                return SCALAR
            case A.Name(name=n):
                t = self.names.get(n)
                if t is not None:
                    return t
                return _IDENTITY if n in IDENTITY_NAMES else _UNKNOWN
            case A.Transpose(arg=x):
                t = memo[id(x)][1]
                return MType(_FLIP.get(t.kind, t.kind), t.cols, t.rows, t.square)
            case A.Neg(arg=x):
                return memo[id(x)][1]
            case A.BinOp(op=op, left=l, right=r):
                tl, tr = memo[id(l)][1], memo[id(r)][1]
                if op == "^":
                    return SCALAR
                if op == "/":
                    return tl
                if op != "*":  # entrywise: a scalar broadcasts
                    if tl.kind == S:
                        return tr
                    if tr.kind == S:
                        return tl
                    return MType(tl.kind, _side(tl.rows, tr.rows), _side(tl.cols, tr.cols),
                                 tl.square and tr.square)
                if tl.kind == S:
                    return tr
                if tr.kind == S:
                    return tl
                kind = _PRODUCT.get((tl.kind, tr.kind), M)
                if kind == S:
                    return SCALAR
                rows = tl.rows if tl.rows is not None or not tl.square else tr.rows
                cols = tr.cols if tr.cols is not None or not tr.square else tl.cols
                return MType(kind, rows, cols)
            case A.Call(func=f) if f in SIZE_FUNCTIONS:
                return SCALAR  # len(w), size(A, 1): written out by simplify/sizes.py
            case A.Call(func=f) if f in IDENTITY_NAMES:
                return _IDENTITY  # eye(len(w))
            case A.Call(func=f, args=(x,)):
                fn = lookup(f)
                if fn.family == "elementwise":
                    return memo[id(x)][1]
                if fn.family in ("reduction", "square"):
                    return SCALAR
                if fn.family == "rewritten":
                    # softmax(u), log_softmax(u) in an answer (simplify/vocabulary.py): the one-
                    # argument rewrites keep their argument's shape
                    return memo[id(x)][1]
                tx = memo[id(x)][1]
                if fn.family == "spectral":  # eig(S), eigvec_max(S), svd_u(X), …: the entry's shape
                    return {"scalar": SCALAR, "rows": MType(C, tx.rows, 1), "cols": MType(C, tx.cols, 1),
                            "cols×cols": MType(M, tx.cols, tx.cols, True),
                            "rows×cols": MType(M, tx.rows, tx.cols)}[fn.result]
                if f == "diag":
                    if tx.kind in (C, Rw):
                        n = tx.rows if tx.kind == C else tx.cols
                        return MType(M, n, n, n is None)
                    return MType(C, tx.rows, 1)
                if f == "vector":
                    return MType(C, None, 1)
                if fn.family == "inverse":
                    return MType(M, _side(tx.rows, tx.cols), _side(tx.cols, tx.rows), True)
                return _UNKNOWN
            case A.Literal(rows=rows):
                nr, nc = len(rows), len(rows[0])
                kind = S if nr == nc == 1 else C if nc == 1 else Rw if nr == 1 else M
                return MType(kind, nr, nc)
            case A.Where(body=b):
                return memo[id(b)][1]
        return _UNKNOWN

    def sized_alone(self, node: A.Expr) -> bool:
        """Whether a subterm with a size-less constant (a*matrix(1) + C) gets its whole shape
        from its own variables, so that a name for it has one shape wherever it stands: each
        dimension of its type is one of theirs (read from the carried types, not by checking
        the subterm's text again)."""
        names = {n.name for n in A.walk(node) if isinstance(n, A.Name)}
        variables = self.expr.variables
        if not names <= set(variables) | set(IDENTITY_NAMES):
            return False
        dims = {d for n in names if n in variables for d in variables[n].dims}
        t = self.of(node)
        return all(d in dims for d in (t.rows, t.cols) if d != 1)
