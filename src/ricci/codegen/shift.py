"""Which exp(U) of a matrix answer may be computed shifted by each row's (column's) logsumexp.

The derivatives of softmax(X, 2), log_softmax(X, 2) and logsumexp(X, 2) read, in matrix form,
``diag(1./(exp(X)*vector(1)))*exp(X)`` and longer: exp(X) and its row sums are inf once X reaches
about 710, and the code gave NaN where the numbers are ordinary (each row of the softmax).  With
E = exp(U) and D = diag(exp(l)) for any row vector l, such an answer is unchanged when E is
replaced by D^-1·E (its row sums follow, as they are computed from E): each row's exp factors
above and its sums below cancel.  Computed with l = each row's logsumexp, every entry of the
replacement is at most 1 and no row sum is below 1 (docs/numerics.md, the row 'softmax along an
axis').

Whether an answer is so unchanged is proved here, not assumed: each subexpression gets a
*degree* (a, b): under E → D^-1·E its value becomes D^-a·value·D^-b (a on its rows, b on its
columns, both only on the rows' dimension of U).  E is (1, 0); a product needs the degrees on
its contracted dimension to cancel; a sum needs equal degrees; an elementwise product adds them,
``./`` subtracts them, ``.^p`` multiplies them by p; diag and transposes move them; any other
function, sum or tr needs degree 0 (log of a row sum is not unchanged).  The answer's root at
(0, 0) proves that the replacement changes nothing; anything outside these rules refuses, and
exp(U) is then computed as written.  For each column (softmax(X, 1)) the same with the sides
exchanged.
"""

from __future__ import annotations

from ..functions import LOGSUMEXP, lookup
from ..language import ast as A


class _Refused(Exception):
    """The rules cannot show that the answer is unchanged."""


class _Diag(float):
    """The degree of a diagonal matrix: only the total of its rows' and columns' counts, since
    D^-a·diag(v) = diag(v)·D^-a (diag(1./s)*E is a row's shift cancelled on either side)."""


def _split(d, row: float | None = None, col: float | None = None) -> tuple:
    """(a, b) of a degree, a diagonal's total split so that a = row (or b = col)."""
    if not isinstance(d, _Diag):
        return d
    if row is not None:
        return row, float(d) - row
    return float(d) - col, col


def shifted_exps(expr, root) -> dict:
    """{U: axis} for each exp(U) of a matrix U in ``root`` (an answer of the typed expression
    ``expr``) that may be computed shifted along ``axis`` (1: each row, 0: each column)."""
    out: dict = {}
    for u in _exps(root):
        if u in out:
            continue
        t = expr.type_of(u)
        if t.rows == 1 or t.cols == 1:  # a vector's or scalar's exp: the vector rules' (ricci.stable)
            continue
        for axis, unit, batch in ((1, (1, 0), t.rows), (0, (0, 1), t.cols)):
            try:
                if _split(_Degrees(expr, u, unit, batch).of(root, {}), row=0) == (0, 0):
                    out[u] = axis
                    break
            except _Refused:
                continue
    return out


def _exps(root) -> list:
    """The argument U of every exp(U) in ``root``, in source order."""
    return [n.args[0] for n in A.walk(root)
            if isinstance(n, A.Call) and n.func == LOGSUMEXP.exp and len(n.args) == 1]


class _Degrees:
    def __init__(self, expr, u, unit: tuple, batch):
        self.expr = expr
        self.u = u
        self.unit = unit
        #: the dimension a nonzero degree may sit on (U's rows for each row's shift)
        self.batch = batch

    def of(self, node, env: dict):
        d = self._of(node, env)
        t = self.expr.type_of(node)
        a, b = (d, d) if isinstance(d, _Diag) else d
        if (a and t.rows != self.batch) or (b and t.cols != self.batch):
            raise _Refused
        return d

    def _of(self, node, env: dict) -> tuple:
        match node:
            case A.Num() | A.Literal():
                return self._const(node, env)
            case A.Name(name=n):
                return env.get(n, (0, 0))
            case A.Neg(arg=a):
                return self.of(a, env)
            case A.Transpose(arg=a):
                d = self.of(a, env)
                return d if isinstance(d, _Diag) else d[::-1]
            case A.Where(body=body, bindings=bindings):
                env = dict(env)
                for name, e in bindings:
                    env[name] = self.of(e, env)
                return self.of(body, env)
            case A.BinOp(op=op, left=left, right=right):
                return self._binop(op, left, right, env)
            case A.Call():
                return self._call(node, env)
        raise _Refused

    def _const(self, node, env: dict) -> tuple:
        if any(_split(self.of(c, env), row=0) != (0, 0) for c in A.children(node)):
            raise _Refused
        return 0, 0

    def _scalar(self, node) -> bool:
        return self.expr.type_of(node).is_scalar

    def _binop(self, op: str, left, right, env: dict):
        dl, dr = self.of(left, env), self.of(right, env)
        if isinstance(dl, _Diag) and isinstance(dr, _Diag):
            if op in ("+", "-") and dl != dr:
                raise _Refused
            if op in ("+", "-", "*", ".*"):
                return dl if op in ("+", "-") else _Diag(dl + dr)
            if op in ("./", "/") and not self._scalar(right):
                return _Diag(dl - dr)
        if op == "*" and not (self._scalar(left) or self._scalar(right)):
            # a matrix product: the contracted dimension's degrees cancel
            if isinstance(dl, _Diag):
                dl = _split(dl, col=-_split(dr, row=0)[0])
            if isinstance(dr, _Diag):
                dr = _split(dr, row=-dl[1])
            if dl[1] + dr[0] != 0:
                raise _Refused
            return dl[0], dr[1]
        if isinstance(dl, _Diag) or isinstance(dr, _Diag):  # a diagonal beside a full matrix
            # any split of a diagonal's total is its degree: take the full one's row count
            full = dr if isinstance(dl, _Diag) else dl
            row = 0 if isinstance(full, _Diag) else full[0]
            dl, dr = _split(dl, row=row), _split(dr, row=row)
        if op in ("+", "-"):
            if dl != dr:
                raise _Refused
            return dl
        if self._scalar(left) or self._scalar(right):  # a scalar's degree is 0 (checked in of)
            if op in ("./", "/") and not self._scalar(right):
                return -dr[0], -dr[1]  # c./v
            if op in ("^", ".^"):
                if dr != (0, 0) or (not self._scalar(left) and op == "^"):
                    raise _Refused
                if isinstance(right, A.Num):
                    return dl[0] * right.value, dl[1] * right.value
                if dl != (0, 0):
                    raise _Refused
                return 0, 0
            return dl if not self._scalar(left) else dr
        if self.expr.type_of(left) != self.expr.type_of(right):
            raise _Refused  # a broadcast: not read here
        if op == ".*":
            return dl[0] + dr[0], dl[1] + dr[1]
        if op in ("./", "/"):
            return dl[0] - dr[0], dl[1] - dr[1]
        raise _Refused  # M.^V and the like

    def _call(self, node: A.Call, env: dict) -> tuple:
        if node.func == LOGSUMEXP.exp and node.args == (self.u,):
            return self.unit
        fn = lookup(node.func)
        if fn is not None and fn.family == "constant":  # vector(1), matrix(c, m, n)
            return 0, 0
        if fn is not None and fn.family == "diagonal" and len(node.args) == 1:
            d = self.of(node.args[0], env)
            a, b = (d, 0) if isinstance(d, _Diag) else d
            t = self.expr.type_of(node)
            if t.cols == 1 and not t.is_scalar:  # the diagonal of a square matrix: a column
                return a + b, 0
            return _Diag(a + b)  # a vector on the diagonal: one of a, b is 0
        return self._const(node, env)  # any other function (eye(n) included) of degree 0
