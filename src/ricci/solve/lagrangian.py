"""General constraints by an augmented Lagrangian around L-BFGS-B (GENO's method).

For constraints c_E(x) = 0 and c_I(x) ≤ 0, with multipliers λ and a penalty ρ, each round
minimises over the box (L-BFGS-B keeps the bounds exactly)

    L_ρ(x) = f(x) + Σ_E (λ·c + ρ/2 ‖c‖²) + Σ_I (‖max(0, λ + ρc)‖² − ‖λ‖²) / (2ρ),
    ∇L_ρ   = ∇f + Σ_E J'(λ + ρc) + Σ_I J' max(0, λ + ρc),

(Nocedal & Wright, *Numerical Optimization*, §17.4; Birgin & Martínez's ALGENCAN form for the
inequalities), then updates λ ← λ + ρc (equalities), λ ← max(0, λ + ρc) (inequalities), and
multiplies ρ by 10 when the violation did not fall to a quarter.  The rounds are solved
inexactly, loosely at first and to ``tol`` at the end (see the loop).  J'·u is ricci's closed-form
vector-Jacobian product of each constraint: the Jacobian is never formed, except for an affine
constraint of few rows, whose constant Jacobian A is made once (:mod:`.affine`) so that c and
J'·u are products with A.

Affine equalities are not penalised at all when they can be eliminated (:mod:`.affine`: full
row rank, at most MAX_ROWS rows): L-BFGS-B then works on the reduced vector, the equalities hold
at every iterate, and only the bounds of the basic coordinates (and any other constraints) go
through the rounds above; a round whose basic coordinate ended near a bound chooses the basis
again there.

The KKT residual reported is the largest of the stationarity of the Lagrangian (projected on
the box), the violation of the constraints, and the complementarity |λ_i·c_i| of the
inequalities.
"""

from __future__ import annotations

import numpy as np

from ..codegen import python_name

#: most rounds of multiplier updates
MAX_ROUNDS = 60
#: the penalty starts here and grows tenfold up to RHO_MAX
RHO0, RHO_MAX = 10.0, 1e10
#: the first round's gradient tolerance, relative to the scale of ∇L at the start
OMEGA0 = 1e-2
#: most changes of the eliminated equalities' basis inside the rounds (each restarts L-BFGS-B)
SWITCHES = 10


def solve(problem, obj, constraints, start, tol: float, maxiter: int, step, so, quadratic: bool = False):
    """Returns (z, info): the solution and a dict of rounds, iterations, multipliers, KKT residual.

    ``quadratic``: a convex quadratic f under affine constraints and lower bounds goes to SciPy's
    NNLS inside the rounds (:mod:`.quadratic`) when it can take it; L-BFGS-B otherwise."""
    from . import affine

    names = problem.names
    size = start.size
    lower = problem.lower if problem.bounded else np.full(size, -np.inf)
    upper = problem.upper if problem.bounded else np.full(size, np.inf)

    def values_at(z) -> dict:
        return {**problem.data, **problem.unpack(z)}

    at_start = [c.value(values_at(start)) for c in constraints]  # each once: c₀ below reads it too
    lam = [np.zeros_like(v) for v in at_start]
    rho = RHO0

    # affine constraints of few rows as matrices: c = A·z + c₀, J'·u = A'·u
    linear: dict = {}
    budget = affine.MAX_ROWS
    for k, c in enumerate(constraints):
        m = lam[k].size
        if c.affine and m <= budget and m * size <= affine.MAX_ENTRIES:
            A = affine.rows(c, problem, start, m)
            linear[k] = (A, at_start[k] - A @ start)
            budget -= m
    if quadratic and len(linear) == len(constraints):
        done = _by_nnls(problem, obj, constraints, start, tol, step, linear)
        if done is not None:
            return done
    # the affine equalities eliminated (variable reduction), when they leave coordinates to move
    eliminated = [k for k in linear if constraints[k].equality]
    reduction = None
    if eliminated:
        A_eq = np.vstack([linear[k][0] for k in eliminated])
        if A_eq.shape[0] < size:
            basis = affine.choose(A_eq, affine.room(start, lower, upper))
            if basis is not None:
                reduction = affine.Reduction(A_eq, np.concatenate([linear[k][1] for k in eliminated]), basis)
    if reduction is None:
        eliminated = []
    penalised = [k for k in range(len(constraints)) if k not in eliminated]
    generated = [k for k in penalised if k not in linear]
    # the bounds of the basic coordinates, lo_B - z_B <= 0 and z_B - hi_B <= 0, kept by the
    # rounds; their multipliers start at zero with each basis
    basic = {"lo": np.zeros(0), "hi": np.zeros(0)}

    def basic_bounds(z):
        """(c_lo, c_hi): the inequalities of the basic coordinates' bounds (−inf where there is
        none, which leaves its multiplier at zero)."""
        zb = z[reduction.basis]
        return basic["lower"] - zb, zb - basic["upper"]

    def new_basis(basis):
        nonlocal reduction
        reduction = affine.Reduction(reduction.A, reduction.c0, basis)
        basic["lo"] = np.zeros(len(basis))
        basic["hi"] = np.zeros(len(basis))
        basic["lower"], basic["upper"] = lower[reduction.basis], upper[reduction.basis]

    if reduction is not None:
        new_basis(reduction.basis.tolist())

    def vjp_sum(z, cots: dict, vals=None) -> np.ndarray:
        """Σ J_k'·u_k over the constraints k of ``cots`` (A'·u for those made into matrices)."""
        out = np.zeros(size)
        through_code = {}
        for k, t in cots.items():
            if not np.any(t):
                continue
            if k in linear:
                out += linear[k][0].T @ t
            else:
                through_code[k] = t
        if not through_code:
            return out
        args = {python_name(n): v for n, v in (vals or values_at(z)).items()}
        parts = {n: np.zeros(problem.shapes[n]) for n in names}
        for k, t in through_code.items():
            for n in names:
                add = constraints[k].vjp(n, args, t)
                if add is not None:
                    parts[n] = parts[n] + np.asarray(add, dtype=float)
        return out + problem.fold(parts)  # a symmetric variable: through its triangle

    def value(k, z, vals):
        if k in linear:
            A, c0 = linear[k]
            return A @ z + c0
        return constraints[k].value(vals)

    def full(z):
        """L_ρ and its gradient on the flat z, the eliminated equalities left out."""
        f, g = obj.value_and_grad(z)
        vals = values_at(z) if generated else None
        total = f
        cots = {}
        for k in penalised:
            cv, lk = value(k, z, vals), lam[k]
            if constraints[k].equality:
                t = lk + rho * cv
                total += float(lk @ cv + 0.5 * rho * cv @ cv)
            else:
                t = np.maximum(0.0, lk + rho * cv)
                total += float(t @ t - lk @ lk) / (2 * rho)
            cots[k] = t
        G = g + vjp_sum(z, cots, vals) if cots else g
        if reduction is not None and problem.bounded:
            c_lo, c_hi = basic_bounds(z)
            t_lo = np.maximum(0.0, basic["lo"] + rho * c_lo)
            t_hi = np.maximum(0.0, basic["hi"] + rho * c_hi)
            total += float(t_lo @ t_lo - basic["lo"] @ basic["lo"] + t_hi @ t_hi - basic["hi"] @ basic["hi"]) / (2 * rho)
            G[reduction.basis] += t_hi - t_lo
        return total, G

    def lagrangian(y):
        if reduction is None:
            return full(y)
        total, G = full(reduction.point(y))
        return total, reduction.gradient(G)

    def point(y):
        return y if reduction is None else reduction.point(np.asarray(y, dtype=float))

    # GRG's basis change within a round: when a basic coordinate leaves its bounds and another
    # basis has room, the round stops there (SciPy's StopIteration) and goes on in the new basis
    switch = {"to": None, "left": SWITCHES}

    def callback(yk, *_):
        z = point(yk)
        if step is not None:
            step(z)
        if reduction is not None and problem.bounded and switch["left"] > 0:
            if max(float(c.max()) for c in basic_bounds(z)) > 0:
                better = reduction.better(z, lower, upper)
                if better is not None:
                    switch["to"] = better
                    raise StopIteration

    def reduced(z):
        """The reduced vector of z in the present basis, inside the box (a coordinate that was
        basic may have left its bounds, which only the rounds kept)."""
        b = box()
        return np.clip(reduction.reduced(z), b.lb, b.ub)

    def box():
        if reduction is None:
            return so.Bounds(lower, upper) if problem.bounded else None
        lo, hi = lower.copy(), upper.copy()
        lo[reduction.basis] = hi[reduction.basis] = 0.0  # the basic coordinates are computed
        return so.Bounds(lo, hi)

    rounds_needed = bool(penalised) or (reduction is not None and problem.bounded)
    z = reduction.point(reduction.reduced(start)) if reduction is not None else start
    previous = np.inf
    rounds = nit = 0
    res = None
    violation = np.inf
    # inexact inner solves (Conn, Gould & Toint's LANCELOT; GENO's schedule): the first rounds,
    # whose multipliers are still far off, are solved loosely, to OMEGA0 of the gradient's
    # scale; each round after tightens the tolerance tenfold (never below the violation just
    # reached), down to tol, and only a round solved to tol may end the solve.  With nothing
    # left to penalise (every constraint an eliminated equality, no bounds) one round to tol.
    y = z if reduction is None else reduction.reduced(z)
    scale = max(1.0, float(np.abs(lagrangian(y)[1]).max()))
    omega = max(tol, OMEGA0 * scale) if rounds_needed else tol
    for rounds in range(1, MAX_ROUNDS + 1):
        kwargs = {"jac": True, "callback": callback}
        bounds = box()
        if bounds is not None:
            kwargs["bounds"] = bounds
        # a round already solved where it starts (after a basis change, or multipliers that
        # moved little) is not handed to SciPy, whose every call costs an O(n) Python loop over
        # the bounds: L-BFGS-B would stop there at once on its projected gradient, this one
        gy = lagrangian(y)[1]
        projected = y - np.clip(y - gy, bounds.lb, bounds.ub) if bounds is not None else gy
        if float(np.abs(projected).max()) > omega:
            res = so.minimize(lagrangian, y, method="L-BFGS-B",
                              options={"maxiter": maxiter, "gtol": omega, "ftol": 1e-15 if omega <= tol else 0.0,
                                       "maxcor": 20, "maxfun": 20 * maxiter}, **kwargs)
            nit += int(res.nit)
            y = np.asarray(res.x, dtype=float)
        z = point(y)
        if switch["to"] is not None:  # stopped for a basis change: the same round, in the new basis
            new_basis(switch["to"])
            switch["to"] = None
            switch["left"] -= 1
            y = reduced(z)
            continue
        vals = values_at(z) if generated else None
        violation = 0.0
        for k in penalised:
            cv = value(k, z, vals)
            if constraints[k].equality:
                violation = max(violation, float(np.abs(cv).max()))
                lam[k] = lam[k] + rho * cv
            else:
                violation = max(violation, float(np.abs(np.minimum(-cv, lam[k] / rho)).max()))
                lam[k] = np.maximum(0.0, lam[k] + rho * cv)
        if reduction is not None and problem.bounded:
            for side, cv in zip(("lo", "hi"), basic_bounds(z)):
                violation = max(violation, float(np.abs(np.minimum(-cv, basic[side] / rho)).max()))
                basic[side] = np.maximum(0.0, basic[side] + rho * cv)
        if violation <= tol and omega <= tol:
            break
        if reduction is not None and problem.bounded:
            # GRG's basis change: a basic coordinate ended near its bound, another basis has room
            better = reduction.better(z, lower, upper)
            if better is not None:
                new_basis(better)
                y = reduced(z)
        omega = max(tol, min(0.1 * omega, violation))
        if violation > 0.25 * previous:
            if rho >= RHO_MAX:  # no progress at the largest penalty: more rounds will not help
                break
            rho = min(10 * rho, RHO_MAX)
        previous = violation
    # the multipliers of the eliminated equalities: −A_B⁻ᵀ G_B, G the gradient of f and the
    # penalised constraints' multiplier terms (the basic bounds' too: at a bound they are the
    # bound's own multipliers, which the box below accounts for)
    f, g = obj.value_and_grad(z)
    vals = values_at(z)
    if reduction is not None:
        G = g + vjp_sum(z, {k: lam[k] for k in penalised}, vals)
        if problem.bounded:
            G[reduction.basis] += basic["hi"] - basic["lo"]
        lam_eq = -reduction.weights(G)
        at = 0
        for k in eliminated:
            m = lam[k].size
            lam[k] = lam_eq[at:at + m]
            at += m
    info = _report(problem, constraints, z, g, lam, vals, tol, rounds, nit, violation, eliminated,
                   f"penalty ρ = {rho:.3g}", res.message if res is not None else None)
    return z, info


def _by_nnls(problem, obj, constraints, start, tol, step, linear):
    """(z, info) from :mod:`.quadratic`'s rounds around NNLS, or None (not its structure, or
    not solved to tol there: the L-BFGS-B rounds then start afresh)."""
    from . import quadratic

    if not quadratic.applicable(problem, constraints):
        return None
    done = quadratic.solve(problem, obj, constraints, start, tol, linear)
    if done is None:
        return None
    points, lam, rho, bases = done
    z = points[-1]
    f, g = obj.value_and_grad(z)
    vals = {**problem.data, **problem.unpack(z)}
    # the violation from the constraints' own generated code, not the matrices NNLS saw
    values = [c.value(vals) for c in constraints]  # _report reads them too
    violation = max(float(np.abs(cv).max()) if c.equality else float(max(0.0, cv.max()))
                    for c, cv in zip(constraints, values))
    info = _report(problem, constraints, z, g, lam, vals, tol, len(points), len(points), violation, [],
                   f"penalty ρ = {rho:.3g}", None, inner="NNLS", values=values)
    if not info["success"]:
        return None
    info["method"] = "augmented Lagrangian + NNLS"
    if bases:  # every constraint an equality, eliminated: no round at all (quadratic._eliminated)
        info["message"] = (f"{', '.join(c.text for c in constraints)} eliminated exactly (variable reduction): "
                           "one NNLS solve, no penalty" + (f" ({bases} bases tried)" if bases > 1 else ""))
    if step is not None:  # each round is one exact NNLS solve: its point is an iterate
        for p in points:
            step(p)
    return z, info


def _report(problem, constraints, z, g, lam, vals, tol, rounds, nit, violation, eliminated, penalty, last,
            inner="L-BFGS-B", values=None):
    """The result's info: KKT residual, success and message, multipliers per constraint
    (``values``: each constraint's value at z, where the caller has them already)."""
    # KKT: stationarity of f + Σ λ'c on the box, feasibility, complementarity, with every
    # constraint's own value and VJP (generated code), not the matrices above
    lower = problem.lower if problem.bounded else np.full(z.size, -np.inf)
    upper = problem.upper if problem.bounded else np.full(z.size, np.inf)
    gl = g + _vjp_code(problem, constraints, z, lam, vals)
    # in the user's units: a symmetric variable's off-diagonal coordinate is √2·S_ij
    units = problem.units()
    stationarity = float(np.linalg.norm((z - np.clip(z - gl, lower, upper)) / units, np.inf))
    feas = comp = 0.0
    for k, (c, lk) in enumerate(zip(constraints, lam)):
        cv = c.value(vals) if values is None else values[k]
        feas = max(feas, float(np.abs(cv).max() if c.equality else max(0.0, cv.max())))
        if not c.equality:
            comp = max(comp, float(np.abs(lk * cv).max()))
        if k in eliminated:  # held by the reduction, to rounding: checked here all the same
            violation = max(violation, float(np.abs(cv).max()))
    # the bounds count as constraints too: a basic coordinate's bound is kept by the rounds, not
    # by L-BFGS-B's box, and an infeasible problem ends outside it (sum(w) == 1, w >= 1)
    outside = np.maximum(lower - z, z - upper) / units
    i = int(np.argmax(outside)) if z.size else 0
    bound_excess = max(0.0, float(outside[i])) if z.size else 0.0
    converged = violation <= tol and stationarity <= max(1e3 * tol, 1e-6) * max(1.0, float(np.abs(g).max()))
    if converged:
        message = f"converged in {rounds} rounds of the augmented Lagrangian ({inner} inside)"
    elif violation > tol:
        where = (f" ({problem.where(i)} = {z[i] / units[i]:.3g} is outside its bounds)"
                 if bound_excess > feas else "")
        message = (f"the constraints are violated by {max(feas, bound_excess):.3g}{where} after {rounds} "
                   f"rounds ({penalty}); the problem may be infeasible")
    else:
        message = f"stopped after {rounds} rounds" + (f": {last}" if last is not None else "")
    feas = max(feas, bound_excess)
    info = {"rounds": rounds, "nit": nit, "kkt_residual": max(stationarity, feas, comp),
            "constraint_violation": feas, "multipliers": {c.text: (float(lk[0]) if lk.size == 1 else lk.tolist())
                                                          for c, lk in zip(constraints, lam)},
            "success": bool(converged), "message": message, "status": 0 if converged else 2,
            "eliminated": [constraints[k].text for k in eliminated]}
    return info


def _vjp_code(problem, constraints, z, lam, vals) -> np.ndarray:
    """Σ J_k'·λ_k through each constraint's generated VJP."""
    args = {python_name(n): v for n, v in vals.items()}
    parts = {n: np.zeros(problem.shapes[n]) for n in problem.names}
    for c, t in zip(constraints, lam):
        if not np.any(t):
            continue
        for n in problem.names:
            add = c.vjp(n, args, t)
            if add is not None:
                parts[n] = parts[n] + np.asarray(add, dtype=float)
    return problem.fold(parts)
