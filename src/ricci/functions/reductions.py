"""The reductions: any argument → a scalar (``sum``, ``norm1``, ``norm2``).

Their derivatives follow from their lowering to index notation (ricci.lower) and the rules of
ricci.diff; the entries say how to evaluate, print and reason about them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Function, add


def _one(sp, v):
    return sp.ImmutableMatrix([[v]])


def norm2_lower(k):
    a = k.arg(k.ar, k.ac)
    return k.B.power(k.B.mul([a, a], ()), k.B.num(0.5))  # (Σ_ij X_ij X_ij)^(1/2)


def _sum_interval(e, S):
    # a sum of entries of one sign keeps the sign; its size is unbounded
    if e.nonnegative:
        return S.Interval(e.lo, S.INF, e.lo_open)
    if e.nonpositive:
        return S.Interval(-S.INF, e.hi, True, e.hi_open)
    return S.REALS


def _along_axis(which):
    """MATLAB's sum(X, 1) (the sum of each column: a row) and sum(X, 2) (of each row: a
    column), written with a vector of ones as linear algebra writes them: vector(1)'*X and
    X*vector(1); mean(X, k) divides by the count.  NumPy's np.sum(X, axis=0) is sum(X, 1)."""

    def rewrite(A, args):
        if len(args) == 1:
            return None  # the whole sum stays sum(X)
        axis = _axis(A, args, f"{which}(X, k) {'sums' if which == 'sum' else 'averages'} along the axis "
                              f"k = 1 (each column) or 2 (each row), as in MATLAB; k must be the number 1 or 2")
        x, span = args[0], getattr(args[0], "span", None)
        ones = A.Call("vector", (A.Num(1.0, span),), span)

        def total(e):
            return _along(A, e, axis, ones, span)

        if which == "mean":
            # divided by the count of each column (row): the sum of X.^0 along the same axis, as
            # the language counts a size (it has no name for one)
            return A.BinOp("./", total(x), total(A.BinOp(".^", x, A.Num(0.0, span), span)), span)
        return total(x)

    return rewrite


def _axis(A, args, message: str) -> float:
    """The axis k of f(X, k), 1.0 or 2.0; else the refusal ``message``, naming k where it is given."""
    axis = args[1] if len(args) == 2 else None
    if axis is None or not isinstance(axis, A.Num) or axis.value not in (1.0, 2.0):
        raise ValueError(message, 1 if len(args) == 2 else None)
    return axis.value


def _along(A, e, axis: float, ones, span):
    """The sums of ``e`` along ``axis``: ones'*e (each column's, a row) or e*ones (each row's), ones vector(1)."""
    if axis == 1.0:
        return A.BinOp("*", A.Transpose(ones, span), e, span)
    return A.BinOp("*", e, ones, span)


class LogSumExp(NamedTuple):
    """The names in logsumexp(u) = log(sum(exp(u))), for the code that finds exp(u)/sum(exp(u))
    and log(sum(exp(u))) in answers and computes them shifted by max(u) (ir/softmax.py,
    codegen/from_matrix.py): they read the names here rather than spell them."""

    logsumexp: str = "logsumexp"
    log: str = "log"
    sum: str = "sum"
    exp: str = "exp"


LOGSUMEXP = LogSumExp()


def _logsumexp(a):
    # shifted by the largest entry: exp never overflows, and log(2) is not lost at 1000
    m = np.max(a)
    if not np.isfinite(m):
        return np.log(np.sum(np.exp(a))).reshape(1, 1)
    return (m + np.log(np.sum(np.exp(a - m)))).reshape(1, 1)


def _logsumexp_xp(xp, x):
    m = xp.max(x)
    return (m + xp.log(xp.sum(xp.exp(x - m)))).reshape(1, 1)


def _logsumexp_code(p, a, axis=None):
    # generated code shifts by the largest entry too (one call where the namespace has one)
    if axis is not None:  # along an axis (logsumexp(X, k) as parsed): each row's or column's
        return _logsumexp_axis_code(p, a, int(float(axis.text)))
    if p.name == "torch":
        return p.call("torch.logsumexp", f"{a.at(p.ATOM)}.reshape(-1)", "0")
    if p.name == "jax":
        p.need_import("import jax")
        return p.call("jax.nn.logsumexp", a.text)
    if p.name == "numpy":
        return p.call(f"{p.m('logaddexp')}.reduce", f"{p.m('ravel')}({a.text})")
    m = p.call(p.m("max"), a.text).text
    inner = p.call(p.m("sum"), f"{p.m('exp')}({a.at(p.ADD)} - {m})").text
    return p.Code(f"{m} + {p.m('log')}({inner})", p.ADD)


def _norm2(a):
    # scaled by the largest entry, as hypot is: the sum of squares of entries of 1e-200 (or
    # 1e200) under- (over-)flows although the norm does not (docs/numerics.md)
    m = np.max(np.abs(a))
    if not 0.0 < m < np.inf:
        return np.sqrt(np.sum(a * a)).reshape(1, 1)
    return (m * np.sqrt(np.sum((a / m) ** 2))).reshape(1, 1)


def _norm2_xp(xp, x):
    # as _norm2, in any namespace: where every entry is 0 the scale is 1 (the norm 0, not 0/0)
    m = xp.max(xp.abs(x))
    s = xp.where(m > 0, m, xp.ones_like(m))
    y = x / s
    return (m * xp.sqrt(xp.sum(y * y))).reshape(1, 1)


def _norm2_plan(p, x):
    # generated code is as exact as _norm2 (docs/numerics.md), and scales by max |x| only where
    # the sum of squares is not a normal float: the printers' norm2_lines
    return p.norm2(x)


def _logsumexp_plan(p, x):
    # c + log(sum(exp(x - c))) as operations of the plan (docs/numerics.md), c = max(x) or 0
    # where exp(x) needs no shift (the plan's shift): the shifted exponentials are one
    # operation, which softmax's code exp(x - c)/sum shares, and NumPy's logaddexp.reduce (a
    # log1p and an exp per entry) is five times slower
    c = p.shift(x)
    return p.add(c, p.func("log", p.sum(p.exp_minus(x, c))))


def _logsumexp_axis_code(p, a, k):
    if p.name == "torch":
        return p.call("torch.logsumexp", a.text, str(k))
    if p.name == "jax":
        p.need_import("import jax")
        return p.call("jax.nn.logsumexp", a.text, f"axis={k}")
    if p.name == "numpy":
        return p.call(f"{p.m('logaddexp')}.reduce", a.text, f"axis={k}")
    # the array API: each row's (column's) maximum, kept as an axis to shift by
    m = p.call(p.m("max"), a.text, f"axis={k}", "keepdims=True").text
    inner = p.call(p.m("sum"), f"{p.m('exp')}({a.at(p.ADD)} - {m})", f"axis={k}").text
    return p.Code(f"{p.call(p.m('max'), a.text, f'axis={k}').text} + {p.m('log')}({inner})", p.ADD)


def _logsumexp_interval(e, S):
    # max(x) ≤ logsumexp(x) ≤ max(x) + log(n): at least the smallest possible largest entry
    return S.Interval(e.lo, S.INF, e.lo_open)


def _softmax(which):
    """softmax(x) = exp(x - logsumexp(x)) and log_softmax(x) = x - logsumexp(x), written with
    logsumexp when parsed: the value is shifted by max(x) as logsumexp's is, and every derivative
    of every order follows from logsumexp's lowering (its gradient is exp(x)'/sum(exp(x)))."""

    def rewrite(A, args):
        if not args:  # the parser names the call's span (no argument to name); three: _axis_logsumexp
            raise ValueError(f"{which}() takes 1 argument, {which}(x), or 2 with an axis, {which}(X, 2) "
                             "for each row; not 0", None)
        x, span = args[0], getattr(args[0], "span", None)
        if len(args) == 1:
            total = A.Call("logsumexp", (x,), span)
        else:
            # along an axis, MATLAB's spelling as sum(X, k): softmax(X, 2) normalises each row
            # (the attention pattern), each row's logsumexp spread over its columns
            total = _axis_logsumexp(A, args, which, spread=True)
        shifted = A.BinOp("-", x, total, span)
        return A.Call("exp", (shifted,), span) if which == "softmax" else shifted

    return rewrite


def _axis_logsumexp(A, args, which, spread=False):
    """logsumexp(X, 1) = log(vector(1)'*exp(X)) (a row: each column's), logsumexp(X, 2) =
    log(exp(X)*vector(1)) (a column: each row's); ``spread``: times a row (column) of ones, the
    matrix of X's shape that softmax(X, k) subtracts from X."""
    axis = _axis(A, args, f"{which}(X, k) works along the axis k = 1 (each column) or 2 (each row), "
                          f"as sum(X, k) does; k must be the number 1 or 2")
    x, span = args[0], getattr(args[0], "span", None)
    ones = A.Call("vector", (A.Num(1.0, span),), span)
    total = A.Call("log", (_along(A, A.Call("exp", (x,), span), axis, ones, span),), span)
    if not spread:
        return total
    return A.BinOp("*", ones, total, span) if axis == 1.0 else A.BinOp("*", total, A.Transpose(ones, span), span)


def _logsumexp_rewrite(A, args):
    return None if len(args) == 1 else _axis_logsumexp(A, args, "logsumexp")


def _mean_lower(k):
    # (1/(m n)) Σ_ij X_ij: the count is the product of the argument's sizes (a side of size 1
    # has no index)
    factors = [k.arg(k.ar, k.ac)]
    for i in (k.ar, k.ac):
        if i is not None:
            factors.append(k.B.power(k.B.size(i.dim), k.B.num(-1.0)))
    return k.B.mul(factors, ())


def _mean_plan(p, x):
    count = p.num(1.0)
    for d in x.shape:
        count = p.mul(count, p.dim(d))
    return p.div(p.sum(x), count)


def _mean_interval(e, S):
    return S.Interval(e.lo, e.hi, e.lo_open, e.hi_open)  # between the smallest and largest entry


add(
    Function("sum", "reduction", lambda a: np.sum(a).reshape(1, 1), r"\operatorname{sum}",
             None, "sum(X) = Σ_ij X_ij",
             xp=lambda xp, x: xp.sum(x).reshape(1, 1), sympy=lambda sp, x: _one(sp, sum(x)),
             interval=_sum_interval, linear=True, plan=lambda p, x: p.sum(x),
             sympy_entries=lambda sp, u, total: total(u), rewrite=_along_axis("sum"),
             lower=lambda k: k.B.mul([k.arg(k.ar, k.ac)], ())),  # Σ_ij X_ij
    Function("norm1", "reduction", lambda a: np.sum(np.abs(a)).reshape(1, 1), r"\lVert{}\rVert_1",
             None, "norm1(X) = Σ_ij |X_ij|",
             xp=lambda xp, x: xp.sum(xp.abs(x)).reshape(1, 1),
             sympy=lambda sp, x: _one(sp, sum(sp.Abs(v) for v in x)),
             interval=lambda e, S: S.NONNEG, watch="kink", needs="any sign", nonsmooth=True,
             layout="norm", norm="1", plan=lambda p, x: p.sum(p.func("abs", x)),
             sympy_entries=lambda sp, u, total: total(sp.Abs(u)),
             lower=lambda k: k.B.mul([k.B.elem("abs", k.arg(k.ar, k.ac))], ())),  # Σ_ij |X_ij|
    Function("norm2", "reduction", _norm2,
             r"\lVert{}\rVert_2", None, "norm2(X) = sqrt(Σ_ij X_ij^2) (Euclidean / Frobenius)",
             xp=_norm2_xp,
             sympy=lambda sp, x: _one(sp, sp.sqrt(sum(v ** 2 for v in x))),
             interval=lambda e, S: S.NONNEG, watch="norm", needs="any sign",
             layout="norm", norm="2", plan=_norm2_plan,
             plan_squared=lambda p, x: p.sumsq(x),  # ‖u‖² = u·u, without the square root
             sympy_entries=lambda sp, u, total: sp.sqrt(total(u ** 2)), lower=norm2_lower),
    Function("logsumexp", "reduction", _logsumexp, r"\operatorname{logsumexp}", None,
             "logsumexp(x) = log(Σ_i exp(x_i)), evaluated shifted by max(x); its gradient is softmax(x)'",
             xp=_logsumexp_xp, sympy=lambda sp, x: _one(sp, sp.log(sum(sp.exp(v) for v in x))),
             interval=_logsumexp_interval, needs="any sign", sample="shallow",
             code={"default": _logsumexp_code},
             plan=_logsumexp_plan, rewrite=_logsumexp_rewrite,
             sympy_entries=lambda sp, u, total: sp.log(total(sp.exp(u))),
             lower=lambda k: k.B.elem("log", k.B.mul([k.B.elem("exp", k.arg(k.ar, k.ac))], ()))),
    Function("mean", "reduction", lambda a: np.mean(a).reshape(1, 1), r"\operatorname{mean}",
             None, "mean(X) = (1/(m n)) Σ_ij X_ij, the average of all entries",
             xp=lambda xp, x: xp.mean(x).reshape(1, 1),
             sympy=lambda sp, x: _one(sp, sum(x) / len(x)), interval=_mean_interval, linear=True,
             plan=_mean_plan, lower=_mean_lower, rewrite=_along_axis("mean")),
    Function("softmax", "rewritten", None, None,
             doc="softmax(x) = exp(x - logsumexp(x)) = exp(x)/sum(exp(x)), over all entries; "
                 "d softmax(x) = (diag(p) - p*p') dx with p = softmax(x)",
             rewrite=_softmax("softmax")),
    Function("log_softmax", "rewritten", None, None,
             doc="log_softmax(x) = x - logsumexp(x), over all entries; "
                 "d log_softmax(x) = (eye - vector(1)*softmax(x)') dx",
             rewrite=_softmax("log_softmax")),
)
