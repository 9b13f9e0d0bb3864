"""Signs of scalar and elementwise expressions, by interval arithmetic on the typed matrix AST.

``interval(node)`` bounds every entry of ``node`` for all values of the variables (within the
assumptions and the fixed values).  It is sound, not complete: a bound it returns always holds,
but it may be wider than the truth (it treats different subexpressions as independent, except
that equal factors of one product are collected into a power, so ``y.*s.*y`` is ``y.^2.*s``).

The ranges of the functions are the function table's (``Function.interval`` in
ricci.functions), each a textbook fact:
  exp ∈ (0, ∞), sigmoid ∈ (0, 1), tanh ∈ (−1, 1), arctan ∈ (−π/2, π/2), sin, cos ∈ [−1, 1],
  sqrt, abs, relu, norms ≥ 0, an even power ≥ 0, u'*u ≥ 0 (a squared norm), step ∈ [0, 1];
  exp, log, sqrt, sigmoid, tanh, arctan are increasing, so bounds map through them.

:func:`prove_sign` tries these intervals first, then (if SymPy is installed) simplifies the
entry with SymPy and asks SymPy's assumptions (:mod:`ricci.analysis.to_sympy`).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from ..functions import lookup
from ..language import ast as A
from .structure import Typed, transpose_of

INF = math.inf


@dataclass(frozen=True)
class Interval:
    """An interval of the reals; an open end is not attained (infinite ends are always open).

    Soundness only needs a closed end where openness is not certain: closed is the weaker claim.
    """

    lo: float
    hi: float
    lo_open: bool = False
    hi_open: bool = False

    def __post_init__(self):
        if self.lo == -INF:
            object.__setattr__(self, "lo_open", True)
        if self.hi == INF:
            object.__setattr__(self, "hi_open", True)

    # sign facts --------------------------------------------------------------------------------
    @property
    def positive(self) -> bool:
        return self.lo > 0 or (self.lo == 0 and self.lo_open)

    @property
    def nonnegative(self) -> bool:
        return self.lo >= 0

    @property
    def negative(self) -> bool:
        return self.hi < 0 or (self.hi == 0 and self.hi_open)

    @property
    def nonpositive(self) -> bool:
        return self.hi <= 0

    @property
    def sign(self) -> str | None:
        if self.lo == self.hi == 0:
            return "zero"
        for s in ("positive", "negative", "nonnegative", "nonpositive"):
            if getattr(self, s):
                return s
        return None

    def __str__(self) -> str:
        lo = "(" if self.lo_open else "["
        hi = ")" if self.hi_open else "]"
        return f"{lo}{self.lo:g}, {self.hi:g}{hi}"


REALS = Interval(-INF, INF)
NONNEG = Interval(0.0, INF)


def point(v: float) -> Interval:
    return Interval(v, v)


def hull(*ivs: Interval) -> Interval:
    lo = min(iv.lo for iv in ivs)
    hi = max(iv.hi for iv in ivs)
    return Interval(lo, hi, all(iv.lo_open for iv in ivs if iv.lo == lo),
                    all(iv.hi_open for iv in ivs if iv.hi == hi))


def add(a: Interval, b: Interval) -> Interval:
    return Interval(a.lo + b.lo, a.hi + b.hi, a.lo_open or b.lo_open, a.hi_open or b.hi_open)


def neg(a: Interval) -> Interval:
    return Interval(-a.hi, -a.lo, a.hi_open, a.lo_open)


def _end_product(va, oa, vb, ob):
    """The product of two ends (value, open): 0 times anything attained is 0, attained."""
    if (va == 0 and not oa) or (vb == 0 and not ob):
        return 0.0, False
    if va == 0 or vb == 0:  # an open 0 times an end (perhaps infinite): the limit 0, open
        return 0.0, True
    return va * vb, oa or ob


def mul(a: Interval, b: Interval) -> Interval:
    ends = [_end_product(va, oa, vb, ob)
            for va, oa in ((a.lo, a.lo_open), (a.hi, a.hi_open))
            for vb, ob in ((b.lo, b.lo_open), (b.hi, b.hi_open))]
    lo = min(v for v, _ in ends)
    hi = max(v for v, _ in ends)
    return Interval(lo, hi, all(o for v, o in ends if v == lo), all(o for v, o in ends if v == hi))


def reciprocal(a: Interval) -> Interval:
    """1/a, for an interval that excludes 0 (otherwise all reals)."""
    if a.negative:
        return neg(reciprocal(neg(a)))
    if not a.positive:
        return REALS
    lo = 0.0 if a.hi == INF else 1.0 / a.hi
    hi = INF if a.lo == 0 else 1.0 / a.lo
    return Interval(lo, hi, a.hi_open, a.lo_open)


def monotone(a: Interval, f, increasing: bool = True) -> Interval:
    lo, hi = f(a.lo), f(a.hi)
    if increasing:
        return Interval(lo, hi, a.lo_open, a.hi_open)
    return Interval(hi, lo, a.hi_open, a.lo_open)


def clip(a: Interval, lo: float, lo_open: bool) -> Interval:
    """``a`` intersected with (lo, ∞) or [lo, ∞): a function's domain."""
    if a.lo > lo or (a.lo == lo and (a.lo_open or not lo_open)):
        return a
    return Interval(lo, max(a.hi, lo), lo_open, a.hi_open if a.hi > lo else lo_open)


def power(a: Interval, p: float) -> Interval:
    if p == 0:
        return point(1.0)
    if float(p).is_integer():
        k = int(p)
        if k < 0:
            return reciprocal(power(a, -k))
        def f(v):
            if abs(v) == INF:
                return INF if k % 2 == 0 or v > 0 else -INF
            try:
                return v ** k
            except OverflowError:
                return INF if k % 2 == 0 or v > 0 else -INF

        if k % 2 == 1 or a.nonnegative:
            return monotone(a, f)
        if a.nonpositive:
            return monotone(a, f, increasing=False)
        top = max(f(a.lo), f(a.hi))
        return Interval(0.0, top, False, (a.lo_open if f(a.lo) == top else True) and
                        (a.hi_open if f(a.hi) == top else True))
    base = clip(a, 0.0, p < 0)  # a real power needs a base ≥ 0 (> 0 for a negative power)
    def f(v):
        if v == INF:
            return INF if p > 0 else 0.0
        if v == 0:
            return 0.0 if p > 0 else INF
        try:
            return v ** p
        except OverflowError:
            return INF
    return monotone(base, f, increasing=p > 0)


class Context:
    """What the proofs know of the variables: assumptions and fixed values."""

    def __init__(self, typed: Typed, assume: dict | None = None, fixed: dict | None = None):
        self.typed = typed
        self.assume = assume or {}
        self.fixed = fixed or {}


def _name_interval(ctx: Context, node: A.Name) -> Interval:
    t = ctx.typed
    if t.is_identity(node):
        return Interval(0.0, 1.0)
    if node.name in ctx.fixed:
        arr = np.asarray(ctx.fixed[node.name], dtype=float)
        return Interval(float(arr.min()), float(arr.max()))
    label = ctx.assume.get(node.name)
    return {"positive": Interval(0.0, INF, True), "nonnegative": NONNEG,
            "negative": Interval(-INF, 0.0, True, True), "nonpositive": Interval(-INF, 0.0)}.get(label, REALS)


def _number(node) -> float | None:
    match node:
        case A.Num(value=v):
            return v
        case A.Neg(arg=A.Num(value=v)):
            return -v
    return None


def _strip(node):
    return node.arg if isinstance(node, A.Transpose) else node


def _product_factors(t: Typed, node, exponent=1.0, out=None):
    """Flatten an entrywise product into (base, exponent) pairs: ``.*``, scalar ``*``, ``/``,
    ``./`` and numeric powers; a transpose does not change an entry."""
    out = [] if out is None else out
    match node:
        case A.BinOp(op=".*", left=l, right=r):
            _product_factors(t, l, exponent, out)
            _product_factors(t, r, exponent, out)
            return out
        case A.BinOp(op="*", left=l, right=r) if t.is_scalar(l) or t.is_scalar(r):
            _product_factors(t, l, exponent, out)
            _product_factors(t, r, exponent, out)
            return out
        case A.BinOp(op="/" | "./", left=l, right=r):
            _product_factors(t, l, exponent, out)
            _product_factors(t, r, -exponent, out)
            return out
        case A.BinOp(op="^" | ".^", left=l, right=r) if _number(r) is not None:
            _product_factors(t, l, exponent * _number(r), out)
            return out
        case A.Neg(arg=a):
            out.append((A.Num(-1.0), exponent))
            _product_factors(t, a, exponent, out)
            return out
    out.append((node, exponent))
    return out


def interval(ctx: Context, node) -> Interval:
    """Bounds on every entry of ``node`` (a node of ``ctx.typed``'s tree)."""
    t = ctx.typed
    match node:
        case A.Num(value=v):
            return point(v)
        case A.Name():
            return _name_interval(ctx, node)
        case A.Neg(arg=a):
            return neg(interval(ctx, a))
        case A.Transpose(arg=a):
            return interval(ctx, a)
        case A.Literal(rows=rows):
            return hull(*[interval(ctx, e) for row in rows for e in row])
        case A.BinOp(op="+", left=l, right=r):
            return add(interval(ctx, l), interval(ctx, r))
        case A.BinOp(op="-", left=l, right=r):
            return add(interval(ctx, l), neg(interval(ctx, r)))
        case A.BinOp(op="*", left=l, right=r) if not (t.is_scalar(l) or t.is_scalar(r)):
            return _matrix_product(ctx, l, r, node)
        case A.BinOp(op="*" | ".*" | "/" | "./" | "^" | ".^"):
            return _entry_product(ctx, node)
        case A.Call(func=f, args=(a,)):
            return _call(ctx, f, a)
    return REALS


def _entry_product(ctx: Context, node) -> Interval:
    t = ctx.typed
    groups: list[list] = []  # [base, exponent]
    for base, e in _product_factors(t, node):
        key = _strip(base)
        for g in groups:
            if g[0] == key:
                g[1] += e
                break
        else:
            groups.append([key, e])
    out = point(1.0)
    for base, e in groups:
        if isinstance(base, A.BinOp) and base.op in ("^", ".^"):  # a power with a symbolic exponent
            b = interval(ctx, base.left)
            part = Interval(0.0, INF, True) if b.positive else REALS
            part = reciprocal(part) if e < 0 and part.positive else (part if e == 1 else REALS)
        else:
            part = power(interval(ctx, base), e)
        out = mul(out, part)
    return out


def _reads_fixed(ctx: Context, node) -> bool:
    """Whether ``node`` reads a fixed value (whose interval costs a pass over the data)."""
    if isinstance(node, A.Name):
        return node.name in ctx.fixed
    return any(_reads_fixed(ctx, c) for c in A.children(node))


def _matrix_product(ctx: Context, l, r, node) -> Interval:
    t = ctx.typed
    if t.is_scalar(node) and transpose_of(t, l) == r:
        return NONNEG  # u'*u = Σ u_i² ≥ 0
    # a factor of either sign leaves the product's sign open whatever the other's: it is looked at
    # first where the other reads data (X*w: w is free, and X's range is two passes over X, where
    # a logistic regression's whole L-BFGS-B solve at 20000×200 makes 25 others)
    first, second = (r, l) if _reads_fixed(ctx, l) and not _reads_fixed(ctx, r) else (l, r)
    a = interval(ctx, first)
    if not (a.nonnegative or a.nonpositive):
        return REALS
    b = interval(ctx, second)
    if (a.nonnegative and b.nonnegative) or (a.nonpositive and b.nonpositive):
        return NONNEG
    if (a.nonnegative and b.nonpositive) or (a.nonpositive and b.nonnegative):
        return Interval(-INF, 0.0)
    return REALS


def _call(ctx: Context, f: str, a) -> Interval:
    fn = lookup(f)
    if fn is None:
        return REALS
    if fn.family == "diagonal":  # a vector's diagonal matrix has zeros off the diagonal: the type decides
        e = interval(ctx, a)
        return e if ctx.typed.type(a).is_matrix else hull(e, point(0.0))
    if fn.family == "constant":
        return interval(ctx, a)
    if fn.interval is not None:  # the function table's sign facts, given this module's intervals
        return fn.interval(interval(ctx, a), _THIS)
    return REALS


_THIS = sys.modules[__name__]


# -- proofs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignProof:
    """A proved sign of every entry of an expression ('positive', 'nonnegative', 'negative',
    'nonpositive', or None when unknown) and how it was shown."""

    sign: str | None
    how: str


def prove_sign(ctx: Context, node, want: str | None = None) -> SignProof:
    """The sign of every entry of ``node``: intervals first, then SymPy (when installed).

    ``want`` names the sign the caller needs; the search stops once that is shown.
    """
    from ..printing.text import to_text

    iv = interval(ctx, node)
    if iv.sign is not None and (want is None or _implies(iv.sign, want)):
        return SignProof(iv.sign, f"{shorten(to_text(node))} ∈ {iv} by interval rules")
    from .to_sympy import sympy_sign

    found = sympy_sign(ctx, node, want)
    if found is not None:
        return found
    return SignProof(iv.sign, f"{shorten(to_text(node))} ∈ {iv} by interval rules")


def mul_sign(a: str | None, b: str | None) -> str | None:
    """The sign of a product from its factors' signs ('zero' absorbs; unknown stays unknown)."""
    if a == "zero" or b == "zero":
        return "zero"
    if a is None or b is None:
        return None
    parts = {"positive": (1, True), "nonnegative": (1, False), "negative": (-1, True), "nonpositive": (-1, False)}
    (da, sa), (db, sb) = parts[a], parts[b]
    strict = sa and sb
    if da * db > 0:
        return "positive" if strict else "nonnegative"
    return "negative" if strict else "nonpositive"


def divisor_sign(sign: str | None) -> str | None:
    """The sign of 1/d from d's: where the expression is defined d ≠ 0, so d ≥ 0 means d > 0."""
    return {"nonnegative": "positive", "nonpositive": "negative"}.get(sign, sign)


def _implies(have: str, want: str) -> bool:
    return have == want or (have, want) in {("positive", "nonnegative"), ("negative", "nonpositive"),
                                            ("zero", "nonnegative"), ("zero", "nonpositive")}


def implies(have: str | None, want: str) -> bool:
    return have is not None and _implies(have, want)


def shorten(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
