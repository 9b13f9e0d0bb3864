"""A convex quadratic under affine constraints and lower bounds: the augmented Lagrangian's rounds
around SciPy's NNLS instead of L-BFGS-B.

When ricci can prove the Hessian H of f constant (its IR reads none of the variables, as for
``p'*Q*p + q'*p``), f is its second-order Taylor expansion at the start z₀, exactly:

    f(z) = f(z₀) + g₀'(z − z₀) + ½ (z − z₀)'H(z − z₀).

With H positive definite (its Cholesky factor H = R'R exists), every coordinate bounded below
(z = lo + s, s ≥ 0; an upper bound is the row s_i + t_i = hi_i − lo_i with a slack t_i ≥ 0) and
every constraint affine (A·z + c₀ = 0, or ≤ 0 with a slack t ≥ 0 that makes it an equality), a round of the augmented Lagrangian (:mod:`.lagrangian`'s, the same
update λ ← λ + ρc) is a non-negative least-squares problem,

    min over (s, t) ≥ 0 of  ½ ‖R s + r‖² + ρ/2 ‖C (s, t) − b + λ/ρ‖²,   R'r = g₀ + H(lo − z₀),

which SciPy's ``nnls`` (Lawson and Hanson's active-set method, compiled) solves exactly in a
few active-set steps.  L-BFGS-B needs some forty iterations for the simplex-constrained
quadratic at n = 200 and SciPy's Python wrapper costs about 0.1 ms for each: NNLS takes 3
rounds of 0.3-0.5 ms there.  Because each round is solved exactly, the multipliers converge
at the rate 1/(1 + ρ·a'H⁻¹a) per round; ρ is chosen from the scales of H and the constraint
rows so that this is about 1/KAPPA.

NNLS works on a dense (n + m) × (n + m_I) matrix, and its cost grows with n²·(active-set
steps): above :data:`MAX_SIZE` coordinates (and slacks) L-BFGS-B's rounds are faster (n = 1000: 102 ms
against 67 ms, benchmarks/RESULTS.md), and anything this cannot take (a coordinate without a
lower bound, a non-affine constraint, a Hessian that is not constant or not positive definite,
several variables, a symmetric one) goes to :mod:`.lagrangian` as before.  A solve that does not
reach its tolerance here returns None, and the caller runs the L-BFGS-B rounds instead.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: most coordinates (plus inequality rows) solved this way: the measured crossover with L-BFGS-B
MAX_SIZE = 500
#: the penalty makes each round shrink the violation about this many times
KAPPA = 1e4
#: most rounds (the violation falls ~KAPPA-fold a round: 3-5 rounds reach rounding)
MAX_ROUNDS = 12
#: ρ grows tenfold while the violation falls less than fourfold a round, up to this multiple of
#: its start (the rows' weight √ρ then costs NNLS's QR about half the digits)
GROWTH = 1e4


@lru_cache(maxsize=64)
def _constant_hessian(source: str, name: str, kinds: tuple) -> bool:
    """Whether the Hessian of ``source`` by ``name`` reads none of its variable's values (a
    quadratic, or affine, f): proved from the derivative's IR, never from numbers."""
    from ..derivation import derivative
    from ..language.errors import RicciError
    from .constraints import reads

    try:
        d = derivative(source, name, 2, dict(kinds))
    except RicciError:
        return False
    return not reads(d, (name,))


def applicable(problem, constraints) -> bool:
    """The structure NNLS needs, from what is known before any number is computed."""
    if len(problem.names) != 1 or problem.symmetric or not constraints or not problem.bounded:
        return False
    if any(not c.affine for c in constraints):
        return False
    if not np.isfinite(problem.lower).all():  # NNLS's variables s = x − lo are all ≥ 0
        return False
    if problem.size > MAX_SIZE:
        return False
    kinds = tuple(sorted((n, v.kind) for n, v in problem.expression.variables.items()))
    return _constant_hessian(problem.expression.source, problem.names[0], kinds)


def solve(problem, obj, constraints, start, tol: float, linear: dict):
    """(the point of each round, λ per constraint, ρ), or None where NNLS cannot take the problem.

    ``linear[k]`` is (A_k, c₀_k): affine constraint k is A_k·z + c₀_k (:mod:`.affine`)."""
    import scipy.linalg as sl
    from scipy.optimize import nnls

    n = start.size
    sizes = [linear[k][0].shape[0] for k in range(len(constraints))]
    capped = np.flatnonzero(np.isfinite(problem.upper))  # x_i ≤ hi_i: the row s_i + t_i = hi_i − lo_i
    m = sum(sizes) + capped.size
    inequalities = sum(s for c, s in zip(constraints, sizes) if not c.equality) + capped.size
    if n + inequalities > MAX_SIZE or m > n + inequalities:
        return None
    H = np.asarray(obj.hess(start), dtype=float)  # symmetric: Cholesky reads its upper triangle
    # finite where its sum is (SciPy's check_finite makes a boolean array of n² entries: 80 µs at n = 200)
    if not (np.isfinite(H.sum()) or np.isfinite(H).all()):
        return None
    try:
        R = sl.cholesky(H, lower=False, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):  # not positive definite (or not finite): L-BFGS-B's rounds
        return None
    _, g0 = obj.value_and_grad(start)
    lo = problem.lower
    gs = g0 + H @ (lo - start)
    r = sl.solve_triangular(R, gs, trans="T", check_finite=False)
    # the constraints on (s, t): A s + [t] = b, b = −(A lo + c₀); a slack t ≥ 0 per inequality row
    C = np.zeros((m, n + inequalities))
    b = np.empty(m)
    at = slack = 0
    for k, (c, size) in enumerate(zip(constraints, sizes)):
        A, c0 = linear[k]
        C[at:at + size, :n] = A
        b[at:at + size] = -(A @ lo + c0)
        if not c.equality:
            C[at:at + size, n + slack:n + slack + size] = np.eye(size)
            slack += size
        at += size
    rows = np.arange(at, m)
    C[rows, capped] = 1.0
    C[rows, n + slack + np.arange(capped.size)] = 1.0
    b[at:] = problem.upper[capped] - lo[capped]
    # NNLS's matrix [R 0; √ρ C], made once: a round rewrites only the constraints' rows
    M = np.zeros((n + m, n + inequalities))
    M[:n, :n] = R
    row_scale = float(np.max(np.sum(C * C, axis=1)))
    # the rate of a round is 1/(1 + ρ·a'H⁻¹a) >= 1/(1 + ρ|a|²/λ_max); tr(H) bounds λ_max
    rho = KAPPA * max(float(np.trace(H)), 1e-300) / row_scale
    rho_max = GROWTH * rho
    lam = np.zeros(m)
    target = 1e-3 * tol * max(1.0, float(np.abs(b).max()))
    previous = np.inf
    violation = np.inf
    points = []
    for _ in range(MAX_ROUNDS):
        root = np.sqrt(rho)
        M[n:] = root * C
        rhs = np.concatenate([-r, root * (b - lam / rho)])
        try:
            x, _ = nnls(M, rhs, maxiter=10 * (n + inequalities))
        except RuntimeError:  # too many active-set steps
            return None
        cv = C @ x - b
        lam = lam + rho * cv
        violation = float(np.abs(cv).max())
        points.append(np.minimum(lo + x[:n], problem.upper))  # inside the box exactly (rounding)
        # done at the target, or where no round gains more: at rounding (within tol), or at ρ's cap
        if violation <= target or (not violation < previous and (violation <= tol or rho >= rho_max)):
            break
        if violation > 0.25 * previous:  # slower than KAPPA promised (the bound on λ_max is loose)
            rho = min(10 * rho, rho_max)
        previous = violation
    out, at = [], 0
    for c, size in zip(constraints, sizes):
        part = lam[at:at + size]
        out.append(part if c.equality else np.maximum(0.0, part))  # an inequality's is ≥ 0 (rounding)
        at += size
    return points, out, rho
