"""The typed matrix AST → SymPy, by walking the tree (SymPy is optional and imported lazily).

No text is ever handed to SymPy (no ``sympify``, no ``eval``): every node is built with SymPy's
constructors from the AST that ricci's parser made.

Two readings of a tree:

* :class:`MatrixTranslator` – the whole value, every size concrete: scalars are 1×1 matrices,
  vectors n×1 or 1×n, exactly as :mod:`ricci.evaluation` computes (``*`` is the matrix product
  unless a side is a scalar; a scalar broadcasts in ``+``, ``.*``, …).  Used to solve ∇f = 0
  and to read Hessians of functions of a few scalars.
* :class:`EntryTranslator` – one generic entry of an elementwise expression, for sizes left
  symbolic: a vector x becomes the symbol ``x[i]``, every product that is not elementwise
  (``A*x``) an opaque real symbol ``[A*x][i]`` whose sign comes from :mod:`ricci.analysis.signs`, and
  ``sum(v)`` (also ``u'*v`` and norms) the sum over i of the entry, split linearly so that
  ``sum(exp(x)/s)`` is ``Σ(exp(x[i]))/s`` — the same symbol wherever the same sum occurs.  Used to
  prove signs (``s.*(1 - s) ≥ 0``) and the side condition of the Cauchy–Schwarz rule.
"""

from __future__ import annotations

from functools import cache

from ..functions import lookup
from ..language import ast as A
from ..language.kinds import SCALAR, VECTOR
from .signs import Context, SignProof, interval


@cache
def sympy():
    """The SymPy module, or None when it is not installed (``pip install "ricci[analysis]"``)."""
    try:
        import sympy as sp
    except ImportError:  # pragma: no cover - exercised only without the extra
        return None
    return sp


def number(v: float):
    """An exact SymPy number for a float literal (0.1 → 1/10, as written)."""
    sp = sympy()
    v = float(v)
    if v.is_integer() and abs(v) < 1e15:
        return sp.Integer(int(v))
    try:
        return sp.Rational(repr(v))
    except (TypeError, ValueError):  # pragma: no cover
        return sp.Float(v)


def _elementwise(name: str):
    """u ↦ the SymPy form of the elementwise function ``name`` (the function table's), or None."""
    fn = lookup(name)
    if fn is None or fn.sympy is None:
        return None
    sp = sympy()
    return lambda u: fn.sympy(sp, u)


class Unsupported(Exception):
    """A construct the translation does not cover (the caller falls back)."""


class MatrixTranslator:
    """The value of a typed tree as a SymPy matrix (scalars 1×1), every size concrete."""

    def __init__(self, expr, values: dict, sizes: dict):
        self.expr = expr
        self.values = values  # name -> SymPy Matrix (2-D)
        self.sizes = sizes
        self.sp = sympy()

    def scalar(self, node=None):
        m = self.run(node if node is not None else self.expr.tree, {})
        return m[0, 0]

    def _shape(self, node):
        t = self.expr.type_of(node)
        dims = []
        for d in (t.rows, t.cols):
            if isinstance(d, int):
                dims.append(d)
            elif d in self.sizes:
                dims.append(self.sizes[d])
            else:
                raise Unsupported(f"the size {d} is not fixed")
        return tuple(dims)

    def _broadcast(self, x, y):
        sp = self.sp
        if x.shape == (1, 1) and y.shape != (1, 1):
            x = sp.ImmutableMatrix(*y.shape, [x[0, 0]] * (y.rows * y.cols))
        elif y.shape == (1, 1) and x.shape != (1, 1):
            y = sp.ImmutableMatrix(*x.shape, [y[0, 0]] * (x.rows * x.cols))
        return x, y

    def _entrywise(self, x, y, f):
        x, y = self._broadcast(x, y)
        return self.sp.ImmutableMatrix(x.rows, x.cols, [f(a, b) for a, b in zip(x, y)])

    def run(self, node, env):
        sp = self.sp
        match node:
            case A.Num(value=v):
                return sp.ImmutableMatrix([[number(v)]])
            case A.Name(name=n):
                if n in env:
                    return env[n]
                if n in self.values:
                    return self.values[n]
                return sp.ImmutableMatrix(sp.eye(self._shape(node)[0]))
            case A.Neg(arg=a):
                return -self.run(a, env)
            case A.Transpose(arg=a):
                return self.run(a, env).T
            case A.BinOp(op=op, left=l, right=r):
                x, y = self.run(l, env), self.run(r, env)
                if op == "+":
                    return self._entrywise(x, y, lambda a, b: a + b)
                if op == "-":
                    return self._entrywise(x, y, lambda a, b: a - b)
                if op == "*":
                    if x.shape == (1, 1) or y.shape == (1, 1):
                        return self._entrywise(x, y, lambda a, b: a * b)
                    return sp.ImmutableMatrix(x * y)
                if op in ("/", "./"):
                    return self._entrywise(x, y, lambda a, b: a / b)
                if op == ".*":
                    return self._entrywise(x, y, lambda a, b: a * b)
                if op == "^" and x.shape != (1, 1):
                    return sp.ImmutableMatrix(x ** y[0, 0])
                return self._entrywise(x, y, lambda a, b: a ** b)
            case A.Call(func=f, args=(a,)):
                return self._call(node, f, a, env)
            case A.Literal(rows=rows):
                return sp.ImmutableMatrix([[self.run(e, env)[0, 0] for e in row] for row in rows])
            case A.Where(body=body, bindings=bs):
                inner = dict(env)
                for name, e in bs:
                    inner[name] = self.run(e, inner)
                return self.run(body, inner)
        raise Unsupported(f"cannot translate {type(node).__name__}")

    def _call(self, node, f, a, env):
        sp = self.sp
        fn = lookup(f)
        x = self.run(a, env)
        if fn.family == "elementwise":
            g = _elementwise(fn.name)
            if g is None:
                raise Unsupported(f"no SymPy form for {fn.name}")
            return x.applyfunc(g)
        if fn.family == "constant":  # vector(c), matrix(c): the typed size
            rows, cols = self._shape(node)
            return sp.ImmutableMatrix(rows, cols, [x[0, 0]] * (rows * cols))
        if fn.sympy is not None:  # the function table's form of the whole matrix argument
            return fn.sympy(sp, x)
        raise Unsupported(f"no SymPy form for {f}")


def symbols_for(variables: dict, names, sizes: dict, assume: dict | None = None) -> tuple[dict, list]:
    """SymPy matrices of real symbols for the variables ``names``: scalar x → x, vector x ∈ Rⁿ →
    x[1], …, x[n], matrix X → X[i,j].  Returns (values for MatrixTranslator, flat symbol list)."""
    sp = sympy()
    values, flat = {}, []
    assume = assume or {}
    for name in names:
        v = variables[name]
        extra = {"positive": True} if assume.get(name) == "positive" else (
            {"nonnegative": True} if assume.get(name) == "nonnegative" else {})
        if v.kind == SCALAR:
            s = sp.Symbol(name, real=True, **extra)
            values[name] = sp.ImmutableMatrix([[s]])
            flat.append(s)
            continue
        shape = [d if isinstance(d, int) else sizes[d] for d in v.dims]
        if v.kind == VECTOR:
            syms = [sp.Symbol(f"{name}[{i + 1}]", real=True, **extra) for i in range(shape[0])]
            values[name] = sp.ImmutableMatrix(shape[0], 1, syms)
        else:
            syms = [sp.Symbol(f"{name}[{i + 1},{j + 1}]", real=True, **extra)
                    for i in range(shape[0]) for j in range(shape[1])]
            values[name] = sp.ImmutableMatrix(shape[0], shape[1], syms)
        flat.extend(syms)
    return values, flat


def constant(value, kind: str):
    """A fixed value as an exact SymPy matrix (2-D, as MatrixTranslator holds values)."""
    import numpy as np

    sp = sympy()
    arr = np.asarray(value, dtype=float)
    if kind == SCALAR:
        return sp.ImmutableMatrix([[number(float(arr.reshape(())))]])
    if kind == VECTOR:
        arr = arr.reshape(-1, 1)
    return sp.ImmutableMatrix(arr.shape[0], arr.shape[1], [number(v) for v in arr.reshape(-1)])


# -- entries, for sign proofs ---------------------------------------------------------------------
_SIGN_FLAGS = {"positive": {"positive": True}, "nonnegative": {"nonnegative": True},
               "negative": {"negative": True}, "nonpositive": {"nonpositive": True}}


class EntryTranslator:
    """One generic entry of an elementwise expression, sizes symbolic (see the module doc)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.t = ctx.typed
        self.sp = sympy()
        self.entry_symbols: set = set()
        self._atoms: dict = {}
        self._sums: dict = {}

    def _symbol(self, name: str, sign: str | None, entry: bool):
        key = (name, entry)
        if key not in self._atoms:
            s = self.sp.Symbol(name, real=True, **_SIGN_FLAGS.get(sign, {}))
            self._atoms[key] = s
            if entry:
                self.entry_symbols.add(s)
        return self._atoms[key]

    def _opaque(self, node):
        from ..printing.text import to_text

        sign = interval(self.ctx, node).sign
        entry = not self.t.is_scalar(node)
        text = to_text(node)
        return self._symbol(f"[{text}]" + ("[i]" if entry else ""), sign, entry)

    def sum_entries(self, e, dim):
        """Σ_i of an entry expression, linear in its terms; each entry-dependent part is one
        symbol (Σ(exp(x[i]))), signed by SymPy's view of the summand."""
        sp = self.sp
        out = sp.Integer(0)
        for term in sp.Add.make_args(sp.expand_mul(e) if e.is_Add else e):
            coeff, dep = term.as_independent(*self.entry_symbols, as_Add=False)
            if dep == 1:
                n = sp.Symbol(str(dim), positive=True, integer=True)
                out += coeff * n
                continue
            if dep not in self._sums:
                sign = _sympy_sign_of(dep)
                self._sums[dep] = sp.Symbol(f"Σ({sp.sstr(dep)})", real=True, **_SIGN_FLAGS.get(sign, {}))
            out += coeff * self._sums[dep]
        return out

    def _dim(self, node):
        t = self.t.type(node)
        return f"{t.rows}*{t.cols}" if t.is_matrix else (t.rows if t.cols == 1 else t.cols)

    def entry(self, node):
        sp = self.sp
        t = self.t
        match node:
            case A.Num(value=v):
                return number(v)
            case A.Name(name=n) if t.is_identity(node):
                return self._opaque(node)
            case A.Name(name=n):
                if n in self.ctx.fixed and t.is_scalar(node):
                    return number(self.ctx.fixed[n])
                sign = interval(self.ctx, node).sign
                if t.is_scalar(node):
                    return self._symbol(n, sign, False)
                return self._symbol(f"{n}[i]" if not t.type(node).is_matrix else f"{n}[i,j]", sign, True)
            case A.Neg(arg=a):
                return -self.entry(a)
            case A.Transpose(arg=a):
                return self.entry(a)
            case A.BinOp(op="+", left=l, right=r):
                return self.entry(l) + self.entry(r)
            case A.BinOp(op="-", left=l, right=r):
                return self.entry(l) - self.entry(r)
            case A.BinOp(op="*", left=l, right=r) if not (t.is_scalar(l) or t.is_scalar(r)):
                if t.is_scalar(node):  # u'*v = Σ_i u_i v_i
                    return self.sum_entries(self.entry(l) * self.entry(r), self._dim(r))
                return self._opaque(node)
            case A.BinOp(op="*" | ".*", left=l, right=r):
                return self.entry(l) * self.entry(r)
            case A.BinOp(op="/" | "./", left=l, right=r):
                return self.entry(l) / self.entry(r)
            case A.BinOp(op="^" | ".^", left=l, right=r):
                return self.entry(l) ** self.entry(r)
            case A.Call(func=f, args=(a,)):
                fn = lookup(f)
                if fn.family == "elementwise" and _elementwise(fn.name) is not None:
                    return _elementwise(fn.name)(self.entry(a))
                if fn.sympy_entries is not None:  # the table's: a sum over the entries
                    return fn.sympy_entries(sp, self.entry(a), lambda e: self.sum_entries(e, self._dim(a)))
                if fn.family == "constant":
                    return self.entry(a)
            case A.Literal(rows=((e,),)):
                return self.entry(e)
        return self._opaque(node)


#: Largest expressions (SymPy's count_ops) that are factored in a sign proof.  SymPy's general
#: ``simplify`` is not used: its trigonometric rewrites take seconds to minutes on expressions
#: that ``factor`` and ``cancel`` settle at once or not at all.
FACTOR_OPS = 150


def _candidates(sp, e):
    yield e
    if sp.count_ops(e) > FACTOR_OPS:
        return
    for f in (sp.factor, sp.cancel):
        try:
            yield f(e)
        except Exception:  # noqa: BLE001, S112 - SymPy may give up on any rewrite; the next may work
            continue


def sign_of_sympy(e, want: str | None = None) -> tuple[str | None, object]:
    """The sign SymPy proves for ``e`` (after a few rewrites), and the form that showed it."""
    sp = sympy()
    order = ("positive", "nonnegative", "negative", "nonpositive")
    if want in ("nonnegative", "nonpositive"):
        order = (want,) + tuple(s for s in order if s != want)
    for form in _candidates(sp, e):
        if form == 0:
            return "zero", form
        for s in order:
            if getattr(form, f"is_{s}"):
                return s, form
        s = _sign_by_factors(sp, form)
        if s is not None:
            return s, form
    return None, e


def _sign_by_factors(sp, e) -> str | None:
    """The sign of a product from its factors', where a divisor that is ≥ 0 counts as > 0: where
    the expression is defined, a denominator is not zero (b²/(a² + b²)^(3/2) ≥ 0)."""
    from .signs import divisor_sign, mul_sign

    if not e.is_Mul:
        return None
    out = "positive"
    for f in e.args:
        base, exp = f.as_base_exp()
        if exp.is_negative:
            s = divisor_sign(_sympy_sign_of(base ** -exp))
        else:
            s = _sympy_sign_of(f)
        out = mul_sign(out, s)
    return out


def _sympy_sign_of(e) -> str | None:
    return next((k for k in ("positive", "negative", "nonnegative", "nonpositive") if getattr(e, f"is_{k}")), None)


def sympy_sign(ctx: Context, node, want: str | None = None) -> SignProof | None:
    """The sign of every entry of ``node`` as SymPy proves it, or None (also without SymPy)."""
    from .signs import implies

    sp = sympy()
    if sp is None:
        return None
    try:
        e = EntryTranslator(ctx).entry(node)
    except (Unsupported, TypeError, ValueError, ZeroDivisionError):
        return None
    sign, form = sign_of_sympy(e, want)
    if sign is None or (want is not None and not implies(sign, want)):
        return None
    words = {"positive": "> 0", "nonnegative": "≥ 0", "negative": "< 0", "nonpositive": "≤ 0", "zero": ""}[sign]
    return SignProof(sign, f"each entry is {sp.sstr(form)} {words} (SymPy)")
