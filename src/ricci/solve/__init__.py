"""Solve what ricci differentiates: ``ricci.minimize(expression, wrt, data, …)``.

The objective, its gradient, its Hessian-vector product and (for small problems) its Hessian are
ricci's own generated NumPy code (:mod:`ricci.codegen`, :mod:`ricci.codegen.products`); SciPy's
optimisers do the iterations (a real, maintained engine, not one written here; imported on the
first call, ``pip install "ricci[solve]"``).  The modules:

* :mod:`.problem`    the checked problem: variables, data, sizes, start, bounds; flat packing;
* :mod:`.bounds`     bounds in the language's notation (``w >= 0``, ``0 <= p <= 1``);
* :mod:`.objective`  f and ∇f fused, H·v, H, each checked for non-finite values and unboundedness;
* :mod:`.rows`       f and ∇f of a sum over the rows of large data, in blocks of rows (one BLAS thread);
* :mod:`.constraints`, :mod:`.lagrangian`, :mod:`.affine`  general constraints: the augmented
  Lagrangian around L-BFGS-B, affine ones as matrices, affine equalities eliminated;
* :mod:`.quadratic`  a convex quadratic under affine constraints and lower bounds: the same
  rounds around SciPy's NNLS;
* :mod:`.parsing`    the problem's texts parsed once per (text, kinds);
* :mod:`.result`     the SciPy-like result and the convexity certificate;
* :mod:`.command`    ``ricci minimize`` on the command line.
"""

from __future__ import annotations

import time
from contextlib import nullcontext

import numpy as np

from ..language.errors import BadValueError
from .errors import SolveError, UnboundedError
from .result import MinimizeResult

#: method names accepted (case-insensitive) → SciPy's
METHODS = {"auto": "auto", "l-bfgs-b": "L-BFGS-B", "lbfgs": "L-BFGS-B", "newton-cg": "Newton-CG",
           "trust-krylov": "trust-krylov", "trust-exact": "trust-exact", "newton": "trust-exact"}


def _value_kind(v) -> str:
    from ..language.kinds import SCALAR

    return SCALAR if isinstance(v, float) else ("vector" if np.ndim(v) == 1 else "matrix")


def _split_constraints(constraints, bounds):
    """(general constraints, bounds with the constraints' bounds added, names the general ones use)."""
    if constraints is None:
        return [], bounds, set()
    if isinstance(constraints, str) or not isinstance(constraints, (list, tuple)):
        raise BadValueError(f"constraints must be a list such as ['sum(w) == 1'], not {constraints!r}")
    from .bounds import parse_bound
    from .constraints import is_bound, split
    from .parsing import free_names

    general, found = [], []
    names: set = set()
    for text in constraints:
        if is_bound(text):
            found.append(text)
            continue
        lhs, _, rhs = split(text)
        for side in (lhs, rhs):
            names |= set(free_names(side))
        general.append(text)
    if found:
        if isinstance(bounds, dict):
            bounds = list(bounds.items())
        bounds = list(bounds or []) + found
        for text in found:
            parse_bound(text)
    return general, bounds, names


def _method(method, problem, constrained: bool = False) -> str:
    from .problem import say

    key = str(method).lower()
    if key not in METHODS:
        raise BadValueError(f"unknown method {method!r}; choose one of {', '.join(sorted(set(METHODS.values())))}"
                            " (newton is trust-exact with the dense Hessian)")
    chosen = METHODS[key]
    if chosen == "auto":
        return "auto"  # resolved by _auto once the domain of f is known
    if constrained and chosen != "L-BFGS-B":
        raise BadValueError(f"general constraints are solved by an augmented Lagrangian around L-BFGS-B; {chosen} "
                            f"takes none (use {say(problem.surface, 'method', m='L-BFGS-B')})")
    if problem.bounded and chosen != "L-BFGS-B":
        raise BadValueError(f"bounds are solved by L-BFGS-B; {chosen} takes none "
                            f"(use {say(problem.surface, 'method', m='L-BFGS-B')})")
    return chosen


#: the open domains of the function table (``Function.domain``): f grows without bound towards
#: their edge, a barrier
BARRIERS = ("positive", "positive definite")


def _auto(problem, obj, constrained: bool) -> tuple[str, str | None]:
    """``method="auto"``: (the SciPy method, a note saying why, or None).

    L-BFGS-B with f and ∇f fused, unless f has a **barrier** — an argument kept in an open
    domain of the table (logdet's positive definite matrices, log's positive entries) that
    reads a variable and is not proved inside (:mod:`.domain`), as in ``-logdet(S) + tr(C*S)``
    or ``c'*w - sum(log(w))`` — on a problem without bounds or constraints, with NumPy data.
    There Newton's method with the closed-form H·v (trust-krylov, prepared once per point) is
    the engine: the curvature of -log and -log det changes by orders of magnitude across the
    domain (self-concordant barriers, on which Newton's method is the one with guarantees),
    which a quasi-Newton memory learns slowly (L-BFGS-B: 59 iterations, 64 evaluations for the
    smoothed inverse covariance at p = 20; trust-krylov 12 and 15), and a trust region shrinks
    on a trial point outside the domain where a line search cannot interpolate f = +inf.
    Dask data keeps L-BFGS-B: each product there is a pass over the data."""
    from .problem import is_lazy, say

    barrier = [g for g in obj.guards if g.domain in BARRIERS]
    if (not barrier or constrained or problem.bounded
            or any(is_lazy(v) for v in problem.data.values())):
        return "L-BFGS-B", None
    return "trust-krylov", (f"{say(problem.surface, 'method', m='auto')} chose trust-krylov (Newton's method "
                            f"with the closed-form H·v): f has a barrier, {barrier[0].call} needs {barrier[0].need()}")


def _backend(backend, problem) -> None:
    from .problem import is_lazy, say

    if backend not in ("numpy", "jax"):
        raise BadValueError(f"unknown backend {backend!r}; choose numpy or jax (Dask data runs ricci's array-API "
                            "code by itself)")
    lazy = [n for n, v in problem.data.items() if is_lazy(v)]
    if backend == "jax" and lazy:
        raise BadValueError(f"{say(problem.surface, 'backend', b='jax')} takes NumPy data; {', '.join(lazy)} "
                            f"{'is a Dask array' if len(lazy) == 1 else 'are Dask arrays'} (Dask data runs "
                            f"ricci's array-API code: use {say(problem.surface, 'backend', b='numpy')})")


#: most restarts of a stalled L-BFGS-B, and how far from stationary a stop counts as stalled
RESTARTS, STALLED = 5, 1e3
#: L-BFGS-B stops when an iteration lowers f by less than this, relatively: 64 rounding units,
#: scikit-learn's choice.  A tighter one (1e-15 was) sends the line search after reductions
#: below the rounding of f itself near the optimum: 23 evaluations where 16 reach the same f
#: (logistic regression 1000×30), none closer; a stop far from stationary is restarted anyway.
FTOL = 64 * np.finfo(float).eps


def _restarts(res, chosen, obj, problem, tol, options, kwargs, so):
    """L-BFGS-B may stop on "relative reduction of f" far from a stationary point when its
    memory holds a poor model (NMF from a random start stops after 15 iterations with a projected
    gradient of 300); started again from there, with a fresh memory, it goes on.  Restarts while
    the projected gradient exceeds STALLED·tol·max(1, |f|) and the last restart lowered f."""
    out: list = []
    last = res
    while chosen == "L-BFGS-B" and len(out) < RESTARTS:
        z, _ = obj.inside(last.x)  # a line search may end on a trial point outside f's domain
        f, g = obj.value_and_grad(z)  # L-BFGS-B's last point, as a rule: no new evaluation
        if problem.bounded:
            g = z - np.clip(z - g, problem.lower, problem.upper)
        if np.abs(g).max() <= STALLED * tol * max(1.0, abs(f)):
            break
        again = so.minimize(obj.value_and_grad, z, method=chosen, options=options, **kwargs)
        out.append(again)
        if not again.fun < f - 1e-12 * max(1.0, abs(f)):
            break
        last = again
    return out


#: the trust regions' largest radius: SciPy's default, 1000, lets f fall by at most 1000·‖∇f‖
#: an iteration, so that ``c'*w - sum(log(w))`` with a negative c ran 10000 iterations to
#: "maximum number of iterations" instead of being found unbounded below; the radius still
#: only doubles where the model predicted well (2⁴⁰ after 40 such iterations)
MAX_TRUST_RADIUS = 1e300


def _newton_decrement(obj, z, g, rtol: float = 1e-2) -> float | None:
    """½ g'H⁻¹g at z (H⁻¹g by conjugate gradients with the closed-form H·v): what f falls to
    the minimum of its quadratic model there.  A trust-region method stops when the decrease its
    model predicts is lost in the rounding of f ("failure to predict improvement"), which is
    convergence where the gradient's own rounding is above ``tol`` (an inverse covariance near
    S ≈ C⁻¹/100: ‖∇f‖ ≈ 1e-6 at f ≈ 100), but also where rejected trial points shrank the region
    away from the minimum: the decrement tells the two apart.  None where H is not positive
    definite along the way."""
    x, r = np.zeros_like(g), g.copy()
    d, rr = r.copy(), float(r @ r)
    for _ in range(min(200, 2 * g.size)):
        Hd = obj.hessp(z, d)
        curvature = float(d @ Hd)
        if not curvature > 0:
            return None
        alpha = rr / curvature
        x += alpha * d
        r -= alpha * Hd
        rr, last = float(r @ r), rr
        if rr <= (rtol * float(g @ g) ** 0.5) ** 2:
            break
        d = r + (rr / last) * d
    return 0.5 * float(g @ x)


def _once(chosen, obj, problem, start, tol, options, kwargs, step, so, notes, history):
    """One run of SciPy's ``chosen`` method from ``start``, with L-BFGS-B's restarts, and the
    gradient as the referee of its stop: (z, nit, message, success, status).  A run that
    :class:`.unbounded.Runaway` stops is judged the same way."""
    from .unbounded import Stopped

    try:
        with obj.lbfgs_blas() if chosen == "L-BFGS-B" else nullcontext():
            if chosen == "Newton-CG":  # in units where SciPy's constants are relative (.newton)
                from .newton import newton_cg

                res = newton_cg(obj, start, tol, options, step, so)
            else:
                # trlib's subproblem solver (trust-krylov) computes nan's inside on a barrier's far
                # reaches (sum(-log(x)): the step is then refused and the run ends unconverged); its
                # RuntimeWarning reached the user's terminal. f, ∇f and H·v are checked finite by
                # the objective itself, so NumPy's floating-point warnings say nothing more here
                with obj.quietly():
                    if chosen == "trust-krylov":  # ended where trlib breaks down (.newton)
                        from .newton import trust_krylov

                        res = trust_krylov(obj, start, options, kwargs, so)
                    else:
                        res = so.minimize(obj.value_and_grad, start, method=chosen, options=options, **kwargs)
            restarts = _restarts(res, chosen, obj, problem, tol, options, kwargs, so)
    except Stopped as e:  # the run is stopped early: its last iterate is judged as any end
        res, restarts = so.OptimizeResult(x=e.x, nit=e.nit, message=f"stopped early: {e.why}", success=False,
                                          status=1), []
    nit = int(getattr(res, "nit", history["nit"])) + sum(int(r.nit) for r in restarts)
    res = restarts[-1] if restarts else res
    z, replaced = obj.inside(res.x)
    message, success, status = str(res.message), bool(res.success), int(res.status)
    if replaced:  # the gradient at the point kept decides (below)
        notes.append(f"{chosen} ended at a point outside the domain of f; the best point inside is reported")
        success = False
    if restarts:
        notes.append(f"L-BFGS-B stalled far from a stationary point and was restarted {len(restarts)} time(s) "
                     "from where it stopped, with a fresh memory")
    if success and chosen == "Newton-CG":
        # SciPy's Newton-CG stops on a small step alone (the sum of |Δx| below n·xtol), which a
        # line search held back at the edge of f's domain also makes: the gradient is the referee
        f_end, g_end = obj.value_and_grad(z)
        if np.abs(g_end).max() > STALLED * tol * max(1.0, abs(f_end)):
            success = False
            message += (f" (but the gradient's largest entry is {np.abs(g_end).max():.3g} there: the "
                        "steps became small away from a stationary point)")
    if not success:
        # SciPy's trust-region methods may stop at the optimum on rounding ("a bad approximation
        # caused failure to predict improvement"); the gradient there is the referee
        f_end, g_end = obj.value_and_grad(z)
        if problem.bounded:
            g_end = z - np.clip(z - g_end, problem.lower, problem.upper)
        scale = max(1.0, abs(f_end))
        if status == 2 and chosen == "trust-krylov":
            # the decrease its model predicts lost in f's rounding: at the minimum, or where
            # the region shrank on rejected points, or far out along an unbounded direction
            # (c'*w - sum(log(w)) with c < 0: ‖∇f‖ = 1 at f = -3e9, within 10·tol·|f|), so
            # f's scale is the smaller of |f| there and at the start, and past that the
            # Newton decrement decides
            scale = max(1.0, min(abs(f_end), abs(obj.f0)))
        if np.abs(g_end).max() <= 10 * tol * scale:
            success = True
            message += " (the gradient vanishes to the tolerance there: a stationary point)"
        elif status == 2 and chosen == "trust-krylov":
            decrement = _newton_decrement(obj, z, g_end)
            if decrement is not None and decrement <= FTOL * max(1.0, abs(f_end)):
                success = True
                message += (f" (the Newton decrement ½g'H⁻¹g = {decrement:.2g} there is below 64 rounding "
                            "units of f: f is at its minimum to its own precision)")
    return z, nit, message, success, status


def _plain(chosen, obj, problem, start, tol, options, kwargs, step, so, notes, history, watch):
    """:func:`_once`, then the ray test of :mod:`.unbounded` at its end: a minimum, a lower point
    further out (the solve goes on from there, at most twice), f unbounded below (raised), or an
    infimum not attained.  ``watch`` holds the :class:`.unbounded.Runaway` that ``step`` calls,
    on the first run only.  Returns (z, nit, message, success, status, the check's evaluations,
    the "not attained" verdict or None, the method that ended).  A trust region that stands still
    (:class:`.unbounded.Runaway`) hands over to L-BFGS-B."""
    from .unbounded import STUCK, Runaway, check

    z_from, nit, checked, method = start, 0, 0, chosen
    for attempt in range(3):
        watch[0] = Runaway(z_from, growth=attempt == 0)
        try:
            z, n, message, success, status = _once(method, obj, problem, z_from, tol, options, kwargs, step, so,
                                                   notes, history)
            nit += n
            if message.startswith("stopped early: the iterate stood still") and method != "L-BFGS-B":
                # a trust region refusing step after step (trlib's subproblem solve returns nan far
                # out on a barrier, where the curvature is ~1e-12): L-BFGS-B goes on from there
                notes.append(f"{method} refused every step for {STUCK} iterations (its subproblem solver failing "
                             "there); L-BFGS-B went on from there")
                method = "L-BFGS-B"
                lbfgs_options = {"maxiter": options["maxiter"], "gtol": tol, "ftol": FTOL,
                                 "maxfun": 20 * options["maxiter"], "maxcor": 20}
                finite, obj.finite_rejection = obj.finite_rejection, True  # as for L-BFGS-B (Objective)
                try:
                    z, n, message, success, status = _once(method, obj, problem, z, tol, lbfgs_options,
                                                           {"jac": True, "callback": step}, step, so, notes, history)
                finally:
                    obj.finite_rejection = finite
                nit += n
        finally:
            watch[0] = None
        verdict = check(obj, problem, start, z, method, tol=tol)
        checked += verdict.evaluations
        if verdict.kind == "not attained":
            return z, nit, message, False, status, checked, verdict, method
        last = attempt == 2
        if verdict.kind == "further" and not last:
            notes.append(verdict.message + f"; {method} went on from there")
            z_from = verdict.point
            continue
        if message.startswith("stopped early: the distance") and not last:
            # stopped on its way out, but f rises just beyond: a minimum ahead, unwatched now
            notes.append(f"{method} was stopped where {message[len('stopped early: '):]}, but f rises further "
                         "along that way; it went on from there")
            z_from = z
            continue
        return z, nit, message, success, status, checked, None, method
    raise AssertionError("unreachable")  # pragma: no cover


def minimize(expression, wrt, data=None, *, x0=None, bounds=None, constraints=None, method: str = "auto",
             kinds=None, sizes=None,
             tol: float = 1e-8, maxiter: int = 10_000, certify: bool = True, seed: int = 0,
             callback=None, backend: str = "numpy", _surface: str = "python") -> MinimizeResult:
    """Minimise the scalar ``expression`` over the variables ``wrt`` (``"w"``, ``"U,V"`` or a list).

    data      values of every other variable: {"X": ndarray, "y": ndarray, "lambda": 0.1}
    x0        starts, {"w": ndarray}; default zeros (moved into the bounds), or a small random
              point (``seed``) when zero is a critical point of a function not proved convex
    sizes     dimensions no value fixes, {"k": 3} (the rank of U*V')
    bounds    ["w >= 0", "0 <= p <= 1"] or {"w": (0, None)} (None: no bound on that side)
    constraints  ["sum(w) == 1", "norm2(w)^2 <= 1", "A*x <= b"]: any expressions of the language
              around ==, <= or >=, solved by an augmented Lagrangian around L-BFGS-B (a bound
              given here goes to the bounds)
    method    "auto" (L-BFGS-B, f and ∇f fused; trust-krylov where f has a barrier such as
              -logdet(S) and no bounds or constraints, see _auto), "Newton-CG" and "trust-krylov"
              (the closed-form Hessian-vector product), "trust-exact" or "newton" (the dense Hessian)
    tol       the gradient-norm tolerance (the projected gradient's with bounds), ∞-norm
    certify   run ricci's convexity analysis for the certificate (one variable; the data fixed)
    callback  called as callback(iteration, f, grad_norm) after each iteration (the result's
              ``history`` holds the same numbers, from the start on)
    backend   "numpy" (default) or "jax": the generated jax.numpy code under jax.jit, in float64
              (on a GPU where JAX has one); Dask data runs the array-API code by itself

    Returns a :class:`MinimizeResult`; raises a :class:`ricci.RicciError` for a problem posed
    wrongly (unknown variable, data of the wrong shape, non-finite values, infeasible start) or
    without a minimum (:class:`UnboundedError`).
    """
    try:
        import scipy.optimize as so
    except ImportError:  # pragma: no cover - scipy is in the test extra
        raise SolveError('minimize needs SciPy: pip install "ricci[solve]"') from None
    from .objective import Objective
    from .problem import build
    from .result import certificate

    from .problem import say

    # tol bounds the gradient's largest entry, in f's own units: a loss summed over many rows may
    # well ask for one above 1, so only a positive finite number is required
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < np.inf:
        raise BadValueError(f"{say(_surface, 'tol')} must be a positive finite number, not {tol!r}")
    if isinstance(maxiter, bool) or not isinstance(maxiter, int) or maxiter < 1:
        raise BadValueError(f"{say(_surface, 'maxiter')} must be a positive integer, not {maxiter!r}")
    general, bounds, other_names = _split_constraints(constraints, bounds)
    problem, start = build(expression, wrt, data, x0, bounds, kinds, _surface, sizes, other_names)
    chosen = _method(method, problem, bool(general))
    _backend(backend, problem)
    cons = []
    if general:
        from . import constraints as C
        from .problem import is_lazy

        lazy = [n for n, v in problem.data.items() if is_lazy(v)]
        if lazy:
            raise BadValueError(f"general constraints are solved with NumPy data; {', '.join(lazy)} "
                                f"{'is a Dask array' if len(lazy) == 1 else 'are Dask arrays'}")

        kinds_all = {n: v.kind for n, v in problem.expression.variables.items()}
        kinds_all.update({n: _value_kind(v) for n, v in problem.data.items() if n not in kinds_all})
        kinds_all.update(dict(kinds or {}))
        cons = C.build(general, problem, kinds_all, _surface)
    cert, convex, reasons = (certificate(problem, _surface, cons) if certify
                             else ("not certified (certify=False)", None, []))
    notes: list[str] = []
    t_setup = time.perf_counter()
    obj = Objective(problem, start, backend)
    if chosen == "auto":
        chosen, why = _auto(problem, obj, bool(general))
        if why:
            notes.append(why)
    obj.finite_rejection = chosen == "L-BFGS-B" or bool(cons)  # see Objective.finite_rejection
    t0 = time.perf_counter()
    if x0 is None and not convex:
        # zero may be a critical point of a non-convex f (U*V' at U = V = 0): SciPy would stop there
        _, g = obj.value_and_grad(start)
        if not np.any(g):
            rng = np.random.default_rng(seed)
            start = start + 0.1 * rng.standard_normal(start.shape)
            if problem.bounded:
                start = np.clip(start, problem.lower, problem.upper)
            notes.append(f"the gradient vanishes at zero, a critical point; started at a random point (seed {seed})")
    history = {"nit": 0}
    f_start, g_start = obj.at(start)
    trace = {"fun": [f_start], "grad_norm": [g_start]}  # the convergence, per iteration

    def step(xk, *_):
        history["nit"] += 1
        obj.iterations = history["nit"]
        f_k, g_k = obj.at(np.asarray(xk, dtype=float))  # an evaluation already made, as a rule
        trace["fun"].append(f_k)
        trace["grad_norm"].append(g_k)
        if callback is not None:
            callback(history["nit"], f_k, g_k)
        if watch[0] is not None:  # a run going off to infinity, or standing still (.unbounded)
            watch[0](xk, f_k)

    watch: list = [None]

    kwargs: dict = {"jac": True, "callback": step}
    options: dict = {"maxiter": maxiter}
    if chosen == "L-BFGS-B":
        options.update(gtol=tol, ftol=FTOL, maxfun=20 * maxiter, maxcor=20)
        if problem.bounded and not cons:  # the rounds (.lagrangian) make their own box
            kwargs["bounds"] = so.Bounds(problem.lower, problem.upper)
    elif chosen == "Newton-CG":
        kwargs["hessp"] = obj.hessp
        options.update(xtol=tol * 1e-2)
    elif chosen == "trust-krylov":
        kwargs["hessp"] = obj.hessp
        options.update(gtol=tol, max_trust_radius=MAX_TRUST_RADIUS)
    else:
        kwargs["hess"] = obj.hess
        options.update(gtol=tol, max_trust_radius=MAX_TRUST_RADIUS)
    extra: dict = {}
    if cons:
        from .lagrangian import solve

        with obj.lbfgs_blas():  # the rounds' L-BFGS-B keeps the same books as the plain solve
            z, info = solve(problem, obj, cons, start, tol, maxiter, step, so, quadratic=True)
        nit, message, success, status = info["nit"], info["message"], info["success"], info["status"]
        kkt = info["kkt_residual"]
        extra = {"constraints": [c.text for c in cons], "rounds": info["rounds"],
                 "constraint_violation": info["constraint_violation"], "multipliers": info["multipliers"]}
        chosen = info.get("method", "augmented Lagrangian + L-BFGS-B")
        from .unbounded import check

        # the ray test along the way the rounds travelled, the constraints held along it
        verdict = check(obj, problem, start, z, chosen, cons, tol)
        check_nfev, no_minimum = verdict.evaluations, verdict if verdict.kind == "not attained" else None
        if verdict.kind == "further":
            notes.append(verdict.message + ", the constraints held there: not a minimum")
            success = False
    else:
        z, nit, message, success, status, check_nfev, no_minimum, ended = _plain(
            chosen, obj, problem, start, tol, options, kwargs, step, so, notes, history, watch)
        if ended != chosen:
            chosen = f"{chosen}, then {ended}"
        kkt = None
    elapsed = time.perf_counter() - t0
    if obj.rejected:
        notes.append(f"{obj.rejected} trial point(s) outside the domain of f ("
                     + "; ".join(f"{g.call} needs {g.need()}" for g in obj.guards) + ") were rejected")
    if no_minimum is not None:
        from .unbounded import NOT_ATTAINED, moving

        message = f"{no_minimum.message} ({chosen} said: {message})"
        success, status = False, NOT_ATTAINED
        cert = (f"no minimum: the infimum of f, about {no_minimum.fun:.3g}, is not attained (f keeps decreasing "
                f"along a ray in {', '.join(moving(problem, z - start))})")
    elif not success and certify:
        # a certificate speaks of a minimiser; an unconverged or infeasible end is not one
        cert = f"no certified minimum: the solver did not converge (had it: {cert})"
    f, g = obj.value_and_grad(z)
    if problem.bounded and not cons:
        # in the user's units: a symmetric variable's off-diagonal coordinate is √2·S_ij
        kkt = float(np.linalg.norm((z - np.clip(z - g, problem.lower, problem.upper)) / problem.units(), np.inf))
    return MinimizeResult(
        expression=problem.expression.text, x=problem.unpack(z), fun=f, grad_norm=float(np.linalg.norm(g)),
        kkt_residual=kkt, nit=nit, nfev=obj.nfev, njev=obj.njev, nhev=obj.nhev, check_nfev=check_nfev, time=elapsed,
        setup_time=t0 - t_setup,
        message=message, success=success, status=status, method=chosen, certificate=cert, convex=convex,
        reasons=reasons, bounds=list(problem.bound_texts), notes=notes, history=trace,
        backend=obj.backend if obj._jax is None else "jax", **extra)


__all__ = ["MinimizeResult", "SolveError", "UnboundedError", "minimize"]
