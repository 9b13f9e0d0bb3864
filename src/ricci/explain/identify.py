"""Bringing a differential to a standard form and reading the derivative off (identification).

The second half of the differential method (Magnus & Neudecker, ch. 9; the first half is
:mod:`.differentials`).  The standard forms, and what each gives — :data:`TABLE`:

* scalar f of a scalar: df = a dt → ∂f/∂t = a (a list of scalars: one a per scalar);
* scalar f of a vector: df = a' dx → the gradient a' (a row, as the lecture writes it);
* scalar f of a matrix: df = tr(G' dX) → ∂f/∂X = G;
* F of a vector or a matrix: vec dF = J vec dX → the Jacobian J (a Kronecker form for matrices);
* second order: d²f = dx' H dx → the Hessian (H + H')/2 (a quadratic form sees only the
  symmetric part of its matrix, so the symmetric one is the Hessian).

The rearrangement is symbolic and every rule it uses is named (:data:`REARRANGEMENTS`): for a
scalar df, each term is moved under a trace with the differential last (the cyclic property,
a'b = tr(ab'), tr(A'B) = vec(A)'vec(B), tr(A'(B ⊙ C)) = tr((A ⊙ B)'C)), which is the reverse
pass of automatic differentiation written out by hand; for a vector or matrix dF, each term is
vectorised (vec(AXB) = (B' ⊗ A) vec X, vec(X') = K vec X with K the commutation matrix).  The
coefficients are expressions of the input language; the Jacobian's Kronecker factors are
evaluated with ``np.kron``, so the identified derivative can be checked against ricci's answer
with numbers (tests/test_differentials.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..language import ast as A
from ..printing.text import to_text
from .differentials import EYE, ONE, NoRule, sum_name, trace_name, add, is_num, mmul, mul, neg

#: The identification table: standard form → the derivative it gives, and why.
TABLE = {
    "scalar": ("df = a dt", "∂f/∂t = a"),
    "vector": ("df = a' dx", "the gradient a' (a row, as the lecture: ∇f ∈ ℝ^{1×n})"),
    "matrix": ("df = tr(G' dX)", "∂f/∂X = G (the shape of X)"),
    "jacobian": ("dF = J dx", "the Jacobian J, J(i, j) = ∂F_i/∂x_j"),
    "vec": ("vec dF = J vec dX", "the Jacobian ∂vec F/∂vec X = J"),
    "hessian": ("d²f = dx' H dx", "the Hessian (H + H')/2: a quadratic form sees only the symmetric "
                "part of its matrix, dx'H dx = dx'H' dx, so H is read off symmetrised"),
}

#: The rearrangement rules, named in the steps.
REARRANGEMENTS = {
    "transpose": "a scalar is its own transpose: a'b = b'a, tr(A') = tr(A)",
    "cyclic": "cyclic property of the trace: tr(ABC) = tr(CAB)",
    "trace of scalar": "a scalar is its own trace: a'b = tr(ab')",
    "hadamard": "tr(A'(B ⊙ C)) = tr((A ⊙ B)'C)",
    "trace": "tr(A) = tr(I'A)",
    "sum of entries": "sum(A) = tr(1'A), 1 the matrix of ones",
    "scalar factor": "a scalar factor moves out: tr(A' s B) = s tr(A'B)",
    "diagonal": "tr(A' diag(v)) = diag(A)'v",
    "vectorise": "vec(AXB) = (B' ⊗ A) vec X",
    "commutation": "vec(X') = K vec X, K the commutation matrix",
    "vec hadamard": "vec(B ⊙ X) = diag(vec B) vec X",
    "vec outer": "vec(C s) = vec(C) s, s = vec(G)'vec dX",
    "broadcast": "a scalar s added to every entry of A: tr(W'(A + s)) = tr(W'A) + s sum(W)",
}


def tp(e: A.Expr, scalar: bool, kinds: dict | None = None) -> A.Expr:
    """The transpose of ``e``, written simply: a scalar is its own, (A')' = A, and it moves
    into products and sums, (AB)' = B'A' (``kinds`` tells scalars by name)."""
    kinds = kinds or {}
    if scalar or is_num(e) or e == EYE or scalarish(e, kinds):
        return e
    match e:
        case A.Transpose(arg=a):
            return a
        case A.Neg(arg=a):
            return neg(tp(a, False, kinds))
        case A.BinOp(op="*", left=l, right=r):
            return mul(tp(r, False, kinds), tp(l, False, kinds))
        case A.BinOp(op="/", left=l, right=r):
            return A.BinOp("/", tp(l, False, kinds), r)
        case A.BinOp(op="+" | "-" | ".*", left=l, right=r) if not (scalarish(l, kinds) or scalarish(r, kinds)):
            return A.BinOp(e.op, tp(l, False, kinds), tp(r, False, kinds))
    return A.Transpose(e)


def scalarish(e: A.Expr, kinds: dict) -> bool:
    """Whether ``e`` is surely a scalar, read off its form (a number, a scalar name, a trace …)."""
    from ..functions import lookup

    match e:
        case A.Num():
            return True
        case A.Name(name=n):
            return kinds.get(n) == "scalar"
        case A.Neg(arg=a) | A.Transpose(arg=a):
            return scalarish(a, kinds)
        case A.Call(func=f, args=args):
            fn = lookup(f)
            if fn is None:
                return False
            if fn.family in ("reduction", "square"):
                return True
            return fn.family == "elementwise" and all(scalarish(a, kinds) for a in args)
        case A.BinOp(op="^"):
            return True
        case A.BinOp(op="/", left=l):
            return scalarish(l, kinds)
        case A.BinOp(left=l, right=r):
            return scalarish(l, kinds) and scalarish(r, kinds)
    return False


def ones(t) -> A.Expr:
    """The matrix of ones of the type ``t``."""
    if t.is_scalar:
        return ONE
    if t.is_col:
        return A.Call("vector", (ONE,))
    if t.is_row:
        return A.Transpose(A.Call("vector", (ONE,)))
    return A.Call("matrix", (ONE,))


def terms(e: A.Expr) -> list:
    """The top-level terms of a sum, signs moved into them."""
    match e:
        case A.BinOp(op="+", left=l, right=r):
            return terms(l) + terms(r)
        case A.BinOp(op="-", left=l, right=r):
            return terms(l) + [neg(t) for t in terms(r)]
        case A.Neg(arg=a) if isinstance(a, A.BinOp) and a.op in "+-":
            return [neg(t) for t in terms(a)]
    return [e]


class _Rearrangement:
    """What the two rearrangements share: the typed expression (``form``), the differentials'
    names (``dnames``), and ``rules``, the names of the rules used, in order."""

    form: object
    dnames: tuple
    rules: list

    def type(self, e):
        return self.form.type_of(e)

    @property
    def kinds(self) -> dict:
        return self.form.kinds

    def lin(self, e) -> bool:
        return any(isinstance(n, A.Name) and n.name in self.dnames for n in A.walk(e))

    def used(self, rule: str):
        if rule not in self.rules:
            self.rules.append(rule)


# =================================================================================================
# The trace form: a scalar df as Σ tr(G' dX) (the reverse pass, by hand)
# =================================================================================================
@dataclass
class Pull(_Rearrangement):
    """Rearranges a scalar differential of a typed expression (``form``) into tr(G'dX) per
    differential name; ``rules`` collects the names of the rules used, in order."""

    form: object
    dnames: tuple
    out: dict = field(default_factory=dict)
    rules: list = field(default_factory=list)

    def run(self, e, w) -> dict:
        self.pull(e, w)
        return self.out

    def pull(self, e, w):
        """Add G with tr(w' e) = Σ tr(G' dX) to :attr:`out` (``w`` has the type of ``e``)."""
        t = self.type(e)
        s = t.is_scalar
        match e:
            case A.Name(name=n) if n in self.dnames:
                self.out[n] = add(self.out.get(n), w)
                return
            case _ if not self.lin(e):
                return
            case A.Neg(arg=a):
                return self.pull(a, neg(w))
            case A.BinOp(op="+" | "-", left=l, right=r):
                for side, sign in ((l, False), (r, e.op == "-")):
                    ws = neg(w) if sign else w
                    if self.type(side).is_scalar and not s:  # a scalar added to every entry
                        self.used("broadcast")
                        ws = A.Call(sum_name(), (ws,))
                    self.pull(side, ws)
                return
            case A.Transpose(arg=a):
                self.used("transpose")
                return self.pull(a, tp(w, s, self.kinds))
            case A.BinOp(op="*" | ".*", left=l, right=r):
                return self._product(e, l, r, w, s)
            case A.BinOp(op="/" | "./", left=l, right=r) if not self.lin(r):
                if self.type(r).is_scalar or e.op == "/":
                    self.used("scalar factor")
                    return self.pull(l, A.BinOp("/", w, r))
                self.used("hadamard")
                return self.pull(l, A.BinOp("./", w, r))
            case A.Call(func=f, args=(a,)):
                return self._call(f, a, w)
        raise NoRule(f"the rearrangement has no rule for {to_text(e)} (not linear in the differential?)")

    def _product(self, e, l, r, w, s):
        ll, lr = self.lin(l), self.lin(r)
        if ll and lr:
            raise NoRule(f"{to_text(e)} is not linear in the differential")
        lin, const = (l, r) if ll else (r, l)
        tc, tl = self.type(const), self.type(lin)
        if tc.is_scalar:  # a scalar factor: c*E, E*c, c.*E
            self.used("scalar factor")
            return self.pull(lin, mul(const, w) if const is l else mul(w, const))
        if tl.is_scalar:  # a linear scalar times a constant: tr(W' M s) = s tr(W'M)
            self.used("scalar factor")
            return self.pull(lin, self.inner(w, const, tc))
        if e.op == ".*":
            self.used("hadamard")
            return self.pull(lin, mul(w, const, ".*"))
        self.used("cyclic")
        if ll:  # tr(W' E R) = tr((W R')' E)
            return self.pull(lin, mmul(w, tp(const, False, self.kinds)))
        return self.pull(lin, mmul(tp(const, False, self.kinds), w))  # tr(W' L E) = tr((L'W)' E)

    def inner(self, w, m, t) -> A.Expr:
        """tr(W'M) for W and M of the type t, written as a person would."""
        if t.is_col:
            return mul(tp(w, False, self.kinds), m)
        if t.is_row:
            return mul(w, tp(m, False, self.kinds))
        return A.Call(trace_name(), (mul(tp(w, False, self.kinds), m),))

    def _call(self, f, a, w):
        from ..functions import lookup

        fn = lookup(f)
        ta = self.type(a)
        if fn is not None and fn.linear and fn.family == "square":
            self.used("trace")
            return self.pull(a, mul(w, EYE))
        if fn is not None and fn.linear and fn.family == "reduction" and f == sum_name():
            self.used("sum of entries")
            return self.pull(a, mul(w, ones(ta)) if not ta.is_scalar else w)
        if fn is not None and fn.family == "diagonal":
            self.used("diagonal")
            return self.pull(a, A.Call(f, (w,)))
        raise NoRule(f"the rearrangement has no rule for {f}(…)")


# =================================================================================================
# The vec form: vec dF = J vec dX, J a sum of products of Kronecker factors
# =================================================================================================
@dataclass(frozen=True)
class Kron:
    """P ⊗ Q with P of ``pshape`` and Q of ``qshape`` (rows, columns: dimension names); None
    is the identity of that size."""

    p: object
    q: object
    pshape: tuple
    qshape: tuple

    @property
    def pdim(self):
        return self.pshape[0]

    @property
    def qdim(self):
        return self.qshape[0]


@dataclass(frozen=True)
class Comm:
    """K_(m,n): vec(E') = K vec(E) for E of m × n."""

    m: object
    n: object


@dataclass(frozen=True)
class Diag:
    """diag(vec B); ``column``: B is a column, whose vec is itself (printed diag(b))."""

    b: object
    column: bool = False


@dataclass(frozen=True)
class Outer:
    """vec(C) vec(G)' (a linear scalar tr(G'dX) times a constant C of ``shape``)."""

    c: object
    g: object
    shape: tuple = (1, 1)


@dataclass(frozen=True)
class Embed:
    """vec(diag(v)) = D v (``into``=True, D of n² × n) or diag(E) = S vec E (S of n × n²)."""

    n: object
    into: bool


@dataclass(frozen=True)
class JTerm:
    coef: object  # a scalar expression, or None for 1
    factors: tuple


class Vec(_Rearrangement):
    """vec(E) = J vec(dX) for a typed linear expression E of one differential ``dname``."""

    def __init__(self, form, dname: str, pull_form):
        self.form = form
        self.dname = dname
        self.dnames = (dname,)
        self.rules = []
        self._pull = pull_form

    def jac(self, e) -> list:
        t = self.type(e)
        match e:
            case A.Name(name=n) if n == self.dname:
                return [JTerm(None, ())]
            case _ if not self.lin(e):
                return []
            case A.Neg(arg=a):
                return [JTerm(neg(j.coef or ONE), j.factors) for j in self.jac(a)]
            case A.BinOp(op="+" | "-", left=l, right=r):
                out = []
                for side, sign in ((l, False), (r, e.op == "-")):
                    if self.type(side).is_scalar and not t.is_scalar and self.lin(side):
                        self.used("broadcast")  # vec(s 1) = vec(1) vec(G)' vec dX
                        js = [JTerm(None, (Outer(ones(t), self._pull(side), (t.rows, t.cols)),))]
                    else:
                        js = self.jac(side)
                    out += [JTerm(neg(j.coef or ONE), j.factors) for j in js] if sign else js
                return out
            case A.Transpose(arg=a):
                ta = self.type(a)
                if ta.rows == 1 or ta.cols == 1:
                    return self.jac(a)  # vec of a vector and of its transpose are the same
                self.used("commutation")
                return self._pre(Comm(ta.rows, ta.cols), self.jac(a))
            case A.BinOp(op="*" | ".*", left=l, right=r):
                return self._product(e, l, r, t)
            case A.BinOp(op="/" | "./", left=l, right=r) if not self.lin(r):
                if self.type(r).is_scalar:
                    return [JTerm(A.BinOp("/", j.coef or ONE, r), j.factors) for j in self.jac(l)]
                self.used("vec hadamard")
                return self._pre(Diag(A.BinOp("./", ONE, r), self.type(r).cols == 1), self.jac(l))
            case A.Call(func=f, args=(a,)):
                from ..functions import lookup

                fn = lookup(f)
                if fn is not None and fn.family == "diagonal":
                    ta = self.type(a)
                    return self._pre(Embed(ta.rows, ta.cols == 1), self.jac(a))
        raise NoRule(f"the vectorisation has no rule for {to_text(e)}")

    def _pre(self, factor, js) -> list:
        return [JTerm(j.coef, (factor,) + j.factors) for j in js]

    def _product(self, e, l, r, t) -> list:
        ll = self.lin(l)
        lin, const = (l, r) if ll else (r, l)
        tc, tl = self.type(const), self.type(lin)
        if tc.is_scalar:
            return [JTerm(mul(const, j.coef) if j.coef is not None else const, j.factors) for j in self.jac(lin)]
        if tl.is_scalar:  # C s, s = tr(G' dX)
            self.used("vec outer")
            g = self._pull(lin)
            return [JTerm(None, (Outer(const, g, (tc.rows, tc.cols)),))]
        if e.op == ".*":
            self.used("vec hadamard")
            return self._pre(Diag(const, tc.cols == 1), self.jac(lin))
        self.used("vectorise")
        tlin = self.type(lin)
        if ll:  # vec(E R) = (R' ⊗ I) vec E
            return self._pre(Kron(tp(const, False, self.kinds), None, (tc.cols, tc.rows), (tlin.rows, tlin.rows)),
                             self.jac(lin))
        # vec(L E) = (I ⊗ L) vec E
        return self._pre(Kron(None, const, (tlin.cols, tlin.cols), (tc.rows, tc.cols)), self.jac(lin))


def merge(j: JTerm) -> JTerm:
    """Adjacent Kronecker factors multiplied where they conform: (A ⊗ B)(C ⊗ D) = AC ⊗ BD."""
    out: list = []
    for f in j.factors:
        a = out[-1] if out else None
        if (isinstance(a, Kron) and isinstance(f, Kron) and a.pshape[1] == f.pshape[0]
                and a.qshape[1] == f.qshape[0]):
            out.pop()
            out.append(Kron(_mul_i(a.p, f.p), _mul_i(a.q, f.q), (a.pshape[0], f.pshape[1]),
                            (a.qshape[0], f.qshape[1])))
        else:
            out.append(f)
    coef, factors = j.coef, []
    for f in out:  # signs inside a Kronecker factor move to the coefficient: -(A ⊗ B), not A ⊗ (-B)
        if isinstance(f, Kron) and (isinstance(f.p, A.Neg) or isinstance(f.q, A.Neg)):
            for side in ("p", "q"):
                if isinstance(getattr(f, side), A.Neg):
                    coef = neg(coef or ONE)
            f = Kron(neg(f.p) if isinstance(f.p, A.Neg) else f.p, neg(f.q) if isinstance(f.q, A.Neg) else f.q,
                     f.pshape, f.qshape)
        factors.append(f)
    return JTerm(coef, tuple(factors))


def _mul_i(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return mmul(a, b)

