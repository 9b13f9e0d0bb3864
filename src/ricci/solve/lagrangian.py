"""General constraints by an augmented Lagrangian around L-BFGS-B (GENO's method).

For constraints c_E(x) = 0 and c_I(x) ≤ 0, with multipliers λ and a penalty ρ, each round
minimises over the box (L-BFGS-B keeps the bounds exactly)

    L_ρ(x) = f(x) + Σ_E (λ·c + ρ/2 ‖c‖²) + Σ_I (‖max(0, λ + ρc)‖² − ‖λ‖²) / (2ρ),
    ∇L_ρ   = ∇f + Σ_E J'(λ + ρc) + Σ_I J' max(0, λ + ρc),

(Nocedal & Wright, *Numerical Optimization*, §17.4; Birgin & Martínez's ALGENCAN form for the
inequalities), then updates λ ← λ + ρc (equalities), λ ← max(0, λ + ρc) (inequalities), and
multiplies ρ by 10 when the violation did not fall to a quarter.  The rounds are solved
inexactly, loosely at first and to ``tol`` at the end (see the loop).  J'·u is ricci's closed-form
vector-Jacobian product of each constraint: the Jacobian is never formed.

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


def solve(problem, obj, constraints, start, tol: float, maxiter: int, step, so):
    """Returns (z, info): the solution and a dict of rounds, iterations, multipliers, KKT residual."""
    names = problem.names

    def values_at(z) -> dict:
        return {**problem.data, **problem.unpack(z)}

    lam = [np.zeros_like(c.value(values_at(start))) for c in constraints]
    rho = RHO0

    def vjp_sum(z, cots, vals=None) -> np.ndarray:
        args = {python_name(n): v for n, v in (vals or values_at(z)).items()}
        parts = {n: np.zeros(problem.shapes[n]) for n in names}
        for c, t in zip(constraints, cots):
            if not np.any(t):
                continue
            for n in names:
                add = c.vjp(n, args, t)
                if add is not None:
                    parts[n] = parts[n] + np.asarray(add, dtype=float)
        return problem.fold(parts)  # a symmetric variable: through its triangle

    def lagrangian(z):
        f, g = obj.value_and_grad(z)
        vals = values_at(z)
        total = f
        cots = []
        for c, lk in zip(constraints, lam):
            cv = c.value(vals)
            if c.equality:
                t = lk + rho * cv
                total += float(lk @ cv + 0.5 * rho * cv @ cv)
            else:
                t = np.maximum(0.0, lk + rho * cv)
                total += float(t @ t - lk @ lk) / (2 * rho)
            cots.append(t)
        return total, g + vjp_sum(z, cots, vals)

    kwargs = {"jac": True, "callback": step}
    if problem.bounded:
        kwargs["bounds"] = so.Bounds(problem.lower, problem.upper)
    z = start
    previous = np.inf
    rounds = nit = 0
    res = None
    violation = np.inf
    # inexact inner solves (Conn, Gould & Toint's LANCELOT; GENO's schedule): the first rounds,
    # whose multipliers are still far off, are solved loosely, to OMEGA0 of the gradient's
    # scale; each round after tightens the tolerance tenfold (never below the violation just
    # reached), down to tol, and only a round solved to tol may end the solve
    scale = max(1.0, float(np.abs(lagrangian(start)[1]).max()))
    omega = max(tol, OMEGA0 * scale)
    for rounds in range(1, MAX_ROUNDS + 1):
        res = so.minimize(lagrangian, z, method="L-BFGS-B",
                          options={"maxiter": maxiter, "gtol": omega, "ftol": 1e-15 if omega <= tol else 0.0,
                                   "maxcor": 20, "maxfun": 20 * maxiter}, **kwargs)
        nit += int(res.nit)
        z = np.asarray(res.x, dtype=float)
        vals = values_at(z)
        violation = 0.0
        for k, c in enumerate(constraints):
            cv = c.value(vals)
            if c.equality:
                violation = max(violation, float(np.abs(cv).max()))
                lam[k] = lam[k] + rho * cv
            else:
                violation = max(violation, float(np.abs(np.minimum(-cv, lam[k] / rho)).max()))
                lam[k] = np.maximum(0.0, lam[k] + rho * cv)
        if violation <= tol and omega <= tol:
            break
        omega = max(tol, min(0.1 * omega, violation))
        if violation > 0.25 * previous:
            if rho >= RHO_MAX:  # no progress at the largest penalty: more rounds will not help
                break
            rho = min(10 * rho, RHO_MAX)
        previous = violation
    # KKT: stationarity of f + Σ λ'c on the box, feasibility, complementarity
    f, g = obj.value_and_grad(z)
    gl = g + vjp_sum(z, lam)
    lo = problem.lower if problem.bounded else -np.inf
    hi = problem.upper if problem.bounded else np.inf
    stationarity = float(np.linalg.norm(z - np.clip(z - gl, lo, hi), np.inf))
    vals = values_at(z)
    feas = comp = 0.0
    for c, lk in zip(constraints, lam):
        cv = c.value(vals)
        feas = max(feas, float(np.abs(cv).max() if c.equality else max(0.0, cv.max())))
        if not c.equality:
            comp = max(comp, float(np.abs(lk * cv).max()))
    converged = violation <= tol and stationarity <= max(1e3 * tol, 1e-6) * max(1.0, float(np.abs(g).max()))
    if converged:
        message = f"converged in {rounds} rounds of the augmented Lagrangian (L-BFGS-B inside)"
    elif violation > tol:
        message = (f"the constraints are violated by {feas:.3g} after {rounds} rounds (penalty ρ = {rho:.3g}); "
                   "the problem may be infeasible")
    else:
        message = f"stopped after {rounds} rounds: {res.message}"
    info = {"rounds": rounds, "nit": nit, "kkt_residual": max(stationarity, feas, comp),
            "constraint_violation": feas, "multipliers": {c.text: (float(lk[0]) if lk.size == 1 else lk.tolist())
                                                          for c, lk in zip(constraints, lam)},
            "success": bool(converged), "message": message, "status": 0 if converged else 2}
    return z, info
