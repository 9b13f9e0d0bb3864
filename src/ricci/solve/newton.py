"""SciPy's Newton-CG in units where its two absolute constants act relatively.

SciPy's Newton-CG (the engine, unchanged) has two constants that assume f of unit scale:

* the conjugate gradients stop at a residual ``η·‖∇f‖₁`` with ``η = min(0.5, √‖∇f‖₁)``.  For
  a summed loss (logistic regression over 20000 rows: ‖∇f(x₀)‖₁ ≈ 6·10⁴) ‖∇f‖₁ stays above 0.25
  until the last iterations, so every inner solve is loose (η = 0.5) and Newton's fast local
  convergence never sets in: 13 iterations where 8 reach the same point.
* the conjugate gradients stop at once where the curvature ``pᵀHp ≤ 3ε``, absolute.  With f
  merely divided by a large number this fires as soon as the gradient is small (its first
  direction is the gradient), long before the gradient tolerance, and the solve stops there.

So SciPy is handed ``f(c·u)/s`` over ``u = x/c``, with ``c`` and ``s`` powers of two (every
scaling exact: the iterates, f and ∇f are the same numbers, only the exponents differ):

* ``s/c ≈ ‖∇f(x₀)‖₁``, so ``‖∇_u‖₁ = ‖∇f‖₁/‖∇f(x₀)‖₁`` and η = min(0.5, √(relative gradient)),
  the forcing term of the inexact Newton theory, independent of the units of f;
* ``c ≥ 3‖∇f(x₀)‖₁³/(μ₀·tol²)``, μ₀ = gᵀHg/gᵀg the curvature along the start's gradient
  (one product, which SciPy's first conjugate-gradient step then reuses).  In u the first
  curvature of an inner solve is ``(c/‖∇f(x₀)‖₁³)·gᵀHg``, so the test fires only where
  ``gᵀHg ≤ ε·μ₀·tol²``: at a point not yet converged (‖g‖ > tol) only where the curvature along
  g is below ε·μ₀, zero to working precision — what the test is for.

Where μ₀ is not positive (f not convex along the start's gradient) or the units would leave the
floating-point range, SciPy runs in the user's units, as before.  Newton-CG itself stops on a
small step; ricci also stops it once the gradient's largest entry is at most ``tol`` (what
``tol`` means for every method), which saves the iterations spent shrinking a step after the
gradient is already below the tolerance.

:func:`trust_krylov` is SciPy's trust-krylov ended where trlib's subproblem solver breaks down
(a step of nan's at a point converged to rounding), where SciPy would ask it again forever.
"""

from __future__ import annotations

import math

import numpy as np

#: units beyond 2**±MAX_EXPONENT are not used (f/s and x/c stay far inside float64's range)
MAX_EXPONENT = 400
#: float64's machine epsilon: f's rounding, relative
EPS = float(np.finfo(float).eps)


class _Converged(Exception):
    """Raised by the callback where the gradient is within the tolerance (SciPy 1.10 has no
    StopIteration protocol for callbacks; this works with every version)."""


def units(obj, start, tol: float):
    """(c, s, H·g₀ or None): SciPy sees ``u = x/c`` and ``f/s``; (1, 1, None) keeps the user's."""
    _, g0 = obj.value_and_grad(start)  # the start's numbers, already computed
    g1 = float(np.abs(g0).sum())
    if not (g1 > 0 and math.isfinite(g1)):
        return 1.0, 1.0, None
    hg = obj.hessp(start, g0)
    mu0 = float(g0 @ hg) / float(g0 @ g0)
    if not (mu0 > 0 and math.isfinite(mu0)):
        return 1.0, 1.0, None
    e_g = round(math.log2(g1))
    e_c = max(0, math.ceil(math.log2(3.0) + 3 * math.log2(g1) - math.log2(mu0) - 2 * math.log2(tol)))
    if e_c > MAX_EXPONENT or abs(e_c + e_g) > MAX_EXPONENT:
        return 1.0, 1.0, None
    return math.ldexp(1.0, e_c), math.ldexp(1.0, e_c + e_g), hg


def newton_cg(obj, start, tol: float, options: dict, step, so):
    """``scipy.optimize.minimize(method="Newton-CG")`` on ``obj`` in the units of :func:`units`;
    the result in the user's units (x; f and the iterations as SciPy counted them)."""
    c, s, hg = units(obj, start, tol)
    start = np.asarray(start, dtype=float)
    g0 = obj.value_and_grad(start)[1] if hg is not None else None
    first = -(g0 * (c / s)) if hg is not None else None  # SciPy's first direction at the start

    last: dict = {}
    lowest = [math.inf]  # the lowest f met: the current iterate's (a line search only goes down)

    def fun(u):
        f, g = obj.value_and_grad(u * c)
        if lowest[0] < f <= lowest[0] + 8 * EPS * abs(lowest[0]) and np.abs(g).max() <= tol:
            # a trial point where the gradient is within the tolerance and f is above the
            # iterate's by its rounding alone (the p = 20 covariance problem: 5e-14 against
            # 2.1e-9, f one ulp higher): Armijo's test would refuse it and SciPy's line search
            # backtrack ~50 times at f's rounding to "precision loss"; it is the answer
            last.update(x=np.asarray(u, dtype=float) * c)
            raise _Converged
        lowest[0] = min(lowest[0], f)
        return f / s, g * (c / s)

    def hessp(u, p):
        if first is not None and np.array_equal(p, first) and np.array_equal(u * c, start):
            # the start's product along its gradient, made for μ₀ (exact: -c/s is a power of two)
            return hg * (-(c / s) * (c * c / s))
        return obj.hessp(u * c, p) * (c * c / s)

    def callback(uk, *_):
        x = np.asarray(uk, dtype=float) * c
        step(x)
        last.update(x=x, nit=last.get("nit", 0) + 1)
        if np.abs(obj.gradient(x)).max() <= tol:
            raise _Converged

    opts = dict(options, xtol=options["xtol"] / c)
    try:
        res = so.minimize(fun, start / c, jac=True, hessp=hessp, method="Newton-CG", options=opts,
                          callback=callback)
    except _Converged:
        return so.OptimizeResult(x=last["x"], nit=last.get("nit", 0), success=True, status=0,
                                 message="Optimization terminated successfully: the gradient's largest entry "
                                         "is within the tolerance.")
    res.x = np.asarray(res.x, dtype=float) * c
    return res


class _Breakdown(Exception):
    """A trial point with a non-finite entry: the subproblem solver broke down (below)."""


def trust_krylov(obj, start, options: dict, kwargs: dict, so):
    """``scipy.optimize.minimize(method="trust-krylov")`` on ``obj``, ended where trlib breaks down.

    At a point converged to rounding (‖∇f‖ ≈ 1e-8 on the covariance problem at p = 3…9) trlib's
    subproblem solver may return a step of nan's; SciPy's trust region then finds a ratio of
    actual to predicted reduction of nan, which neither shrinks the region nor accepts the
    step, and asks trlib again with the same radius: the same nan, until ``maxiter`` (10000
    iterations, two seconds, at p = 3).  The first non-finite trial point ends the run at the
    last iterate with SciPy's own status for a model that failed, 2 ("a bad approximation
    caused failure to predict improvement"), which the caller judges by the gradient and the
    Newton decrement there as any such stop."""
    step = kwargs.get("callback")
    last = {"x": np.asarray(start, dtype=float), "nit": 0}

    def fun(z):
        if not np.isfinite(z).all():
            raise _Breakdown
        return obj.value_and_grad(z)

    def callback(xk, *rest):
        last["x"], last["nit"] = xk, last["nit"] + 1
        if step is not None:
            step(xk, *rest)

    try:
        return so.minimize(fun, start, method="trust-krylov", options=options, **dict(kwargs, callback=callback))
    except _Breakdown:
        return so.OptimizeResult(x=np.array(last["x"], dtype=float), nit=last["nit"], success=False, status=2,
                                 message="A bad approximation caused failure to predict improvement (the "
                                         "subproblem solver returned a step that is not finite).")
