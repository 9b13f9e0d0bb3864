"""A convex quadratic under affine constraints and lower bounds: the augmented Lagrangian's rounds
around SciPy's NNLS instead of L-BFGS-B.

When ricci can prove the Hessian H of f constant (its IR reads none of the variables, as for
``p'*Q*p + q'*p``), f is its second-order Taylor expansion at the start z₀, exactly:

    f(z) = f(z₀) + g₀'(z − z₀) + ½ (z − z₀)'H(z − z₀).

With H positive definite (its Cholesky factor H = R'R exists), every coordinate bounded below
(z = lo + s, s ≥ 0; an upper bound is the row s_i + t_i = hi_i − lo_i with a slack t_i ≥ 0) and
every constraint affine (A·z + c₀ = 0, or ≤ 0 with a slack t ≥ 0 that makes it an equality),
a round of the augmented Lagrangian (:mod:`.lagrangian`'s, the same update λ ← λ + ρc) is a
non-negative least-squares problem,

    min over (s, t) ≥ 0 of  ½ ‖R s + r‖² + ρ/2 ‖C (s, t) − b + λ/ρ‖²,   R'r = g₀ + H(lo − z₀),

which SciPy's ``nnls`` (Lawson and Hanson's active-set method, compiled) solves exactly in a
few active-set steps.  Because each round is solved exactly, the multipliers converge at the
rate 1/(1 + ρ·a'H⁻¹a) per round; ρ is chosen from the scales of H and the constraint rows so
that this is about 1/KAPPA.  Where every row is an equality (``sum(p) == 1, p >= 0``: no
inequality, no upper bound) no round is needed at all: the equalities are eliminated exactly,
their basic coordinates' bounds relaxed, and one NNLS solve is the answer wherever those
coordinates end inside their bounds (:func:`_eliminated`; the rounds where a few guesses of the
basis fail).  L-BFGS-B needs some forty iterations for the simplex-constrained quadratic at
n = 200, and SciPy's Python wrapper costs about 0.1 ms for each: the one NNLS solve takes about
0.35 ms there (the three rounds before it, 0.3-0.5 ms each).

NNLS works on a dense (n + m) × (n + m_I) matrix, and its cost grows with n²·(active-set
steps): above :data:`MAX_SIZE` coordinates (and slacks) L-BFGS-B's rounds are faster than the
NNLS rounds (n = 1000: 102 ms against 67 ms, benchmarks/RESULTS.md), though not than the one
exact solve (up to :data:`EXACT_SIZE`: n = 2000 191 ms against 330 ms), and anything this
cannot take (a coordinate without a lower bound, a non-affine constraint, a Hessian that is not
constant or not positive definite, several variables, a symmetric one) goes to
:mod:`.lagrangian` as before.  A solve that does not
reach its tolerance here returns None, and the caller runs the L-BFGS-B rounds instead.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: most coordinates (plus inequality rows) solved by the rounds: the measured crossover with L-BFGS-B
MAX_SIZE = 500
#: most coordinates solved by the one exact solve (equalities only, :func:`_eliminated`): faster
#: than L-BFGS-B's rounds at every size measured, 1.6x at n = 1500 and 2000 (benchmarks/RESULTS.md);
#: the dense Hessian's own limit (objective.DENSE_MAX)
EXACT_SIZE = 2000
#: the penalty makes each round shrink the violation about this many times
KAPPA = 1e4
#: most rounds (the violation falls ~KAPPA-fold a round: 3-5 rounds reach rounding)
MAX_ROUNDS = 12
#: ρ grows tenfold while the violation falls less than fourfold a round, up to this multiple of
#: its start (the rows' weight √ρ then costs NNLS's QR about half the digits)
GROWTH = 1e4
#: most bases tried for the exact elimination of the equalities (one NNLS solve each)
TRIES = 3
#: a basic coordinate's pivot is at least this fraction of its row's largest entry: |W| ≤ 1/PIVOT
#: in NNLS's matrix R + R_B·W (a looser test than affine.THRESHOLD: a coordinate of small weight
#: in the row may be the only one in the support, and R's digits lost to |W| are few)
PIVOT = 1e-3


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
    exact = all(c.equality for c in constraints) and not np.isfinite(problem.upper).any()
    if problem.size > (EXACT_SIZE if exact else MAX_SIZE):
        return False
    kinds = tuple(sorted((n, v.kind) for n, v in problem.expression.variables.items()))
    return _constant_hessian(problem.expression.source, problem.names[0], kinds)


def solve(problem, obj, constraints, start, tol: float, linear: dict):
    """(the point of each round, λ per constraint, ρ, bases), or None where NNLS cannot take the
    problem.

    ``linear[k]`` is (A_k, c₀_k): affine constraint k is A_k·z + c₀_k (:mod:`.affine`).  The
    equalities are first eliminated exactly (:func:`_eliminated`: ``bases`` is the number of
    bases it tried, 0 where it did not end inside the bounds and the rounds on every row ran; ρ
    is 0.0 where no row was left to penalise)."""
    import scipy.linalg as sl

    n = start.size
    sizes = [linear[k][0].shape[0] for k in range(len(constraints))]
    capped = np.flatnonzero(np.isfinite(problem.upper))  # x_i ≤ hi_i: the row s_i + t_i = hi_i − lo_i
    m = sum(sizes) + capped.size
    inequalities = sum(s for c, s in zip(constraints, sizes) if not c.equality) + capped.size
    exact = inequalities == 0  # every row an equality: _eliminated's one solve may take it
    if n + inequalities > (EXACT_SIZE if exact else MAX_SIZE) or m > n + inequalities:
        return None
    H = np.asarray(obj.hess(start), dtype=float)  # symmetric: Cholesky reads its upper triangle
    # finite where its sum is (SciPy's check_finite makes a boolean array of n² entries: 80 µs at n = 200)
    if not (np.isfinite(H.sum()) or np.isfinite(H).all()):
        return None
    trace = max(float(np.trace(H)), 1e-300)
    _, g0 = obj.value_and_grad(start)
    lo = problem.lower
    gs = g0 + H @ (lo - start)
    R = _factor(H, _own(H, problem))  # H is not read after this: its memory may become R's
    if R is None:  # not positive definite (or not finite): L-BFGS-B's rounds
        return None

    def factor():
        """R again, from H evaluated again (the last R was updated in place)."""
        H = np.asarray(obj.hess(start), dtype=float)
        return _factor(H, _own(H, problem))

    r = sl.solve_triangular(R, gs, trans="T", check_finite=False)
    # the constraints on (s, t): A s + [t] = b, b = −(A lo + c₀); a slack t ≥ 0 per inequality row
    C = np.zeros((m, n + inequalities))
    b = np.empty(m)
    equal = np.zeros(m, dtype=bool)
    at = slack = 0
    for k, (c, size) in enumerate(zip(constraints, sizes)):
        A, c0 = linear[k]
        C[at:at + size, :n] = A
        b[at:at + size] = -(A @ lo + c0)
        if c.equality:
            equal[at:at + size] = True
        else:
            C[at:at + size, n + slack:n + slack + size] = np.eye(size)
            slack += size
        at += size
    rows = np.arange(at, m)
    C[rows, capped] = 1.0
    C[rows, n + slack + np.arange(capped.size)] = 1.0
    b[at:] = problem.upper[capped] - lo[capped]
    done = _eliminated(factor, R, r, gs, C, b, equal)
    bases = 0 if done is None else done[3]
    if done is None:
        if n + inequalities > MAX_SIZE:  # the rounds' NNLS costs more than L-BFGS-B's there
            return None
        if equal.all():  # _eliminated may have written over R
            R = factor()
        done = _rounds(R, r, C, b, trace, tol)
        if done is None:
            return None
    vs, lam, rho = done[:3]
    points = [np.minimum(lo + v[:n], problem.upper) for v in vs]  # inside the box exactly (rounding)
    out, at = [], 0
    for c, size in zip(constraints, sizes):
        part = lam[at:at + size]
        out.append(part if c.equality else np.maximum(0.0, part))  # an inequality's is ≥ 0 (rounding)
        at += size
    return points, out, rho, bases


def _own(H, problem) -> bool:
    """Whether H may be written over: the generated code's own new array (it returns a copy even
    for a bare variable, ``A.copy()``), no view of the data, writeable (JAX's is not)."""
    return bool(H.flags.writeable and H.flags.c_contiguous
                and not any(isinstance(v, np.ndarray) and np.may_share_memory(H, v) for v in problem.data.values()))


def _factor(H, overwrite: bool = False):
    """R with H = R'R, C-ordered (NNLS's wrapper copies any other order), or None.  LAPACK's
    lower factor of H' (H's upper triangle, F-ordered) transposed; with ``overwrite`` made in
    H's own memory: one n×n array fewer (at n = 200 a new one costs 30–40 µs in page faults)."""
    import scipy.linalg as sl

    try:
        return sl.cholesky(H.T, lower=True, overwrite_a=overwrite, check_finite=False).T
    except (np.linalg.LinAlgError, ValueError):
        return None


def _nnls(M, rhs):
    """SciPy's NNLS, or None after too many active-set steps."""
    from scipy.optimize import nnls

    try:
        return nnls(M, rhs, maxiter=10 * M.shape[1])[0]
    except RuntimeError:
        return None


def _rounds(R, r, C, b, trace: float, tol: float):
    """The augmented Lagrangian's rounds on min over v = (s, t) ≥ 0 of ½‖R s + r‖² subject to
    C v = b, each one NNLS solve: (v after each round, λ of the rows, ρ), or None (NNLS gave up)."""
    n, m = R.shape[0], C.shape[0]
    # NNLS's matrix [R 0; √ρ C], made once: a round rewrites only the constraints' rows
    M = np.zeros((n + m, C.shape[1]))
    M[:n, :n] = R
    row_scale = float(np.max(np.sum(C * C, axis=1)))
    # the rate of a round is 1/(1 + ρ·a'H⁻¹a) >= 1/(1 + ρ|a|²/λ_max); tr(H) bounds λ_max
    rho = KAPPA * trace / max(row_scale, 1e-300)
    rho_max = GROWTH * rho
    lam = np.zeros(m)
    target = 1e-3 * tol * max(1.0, float(np.abs(b).max()))
    previous = np.inf
    violation = np.inf
    vs = []
    for _ in range(MAX_ROUNDS):
        root = np.sqrt(rho)
        M[n:] = root * C
        rhs = np.concatenate([-r, root * (b - lam / rho)])
        x = _nnls(M, rhs)
        if x is None:
            return None
        cv = C @ x - b
        lam = lam + rho * cv
        violation = float(np.abs(cv).max())
        vs.append(x)
        # done at the target, or where no round gains more: at rounding (within tol), or at ρ's cap
        if violation <= target or (not violation < previous and (violation <= tol or rho >= rho_max)):
            break
        if violation > 0.25 * previous:  # slower than KAPPA promised (the bound on λ_max is loose)
            rho = min(10 * rho, rho_max)
        previous = violation
    return vs, lam, rho


def _eliminated(factor, R, r, gs, C, b, equal):
    """Where every row of C v = b is an equality (no inequality, no upper bound: the simplex
    ``sum(p) == 1, p >= 0``), the rows eliminated exactly, as :mod:`.affine` does for L-BFGS-B
    (variable reduction): m basic coordinates v_B = C_B⁻¹(b − C_N v_N) computed from the rest,
    **their own bounds v_B ≥ 0 relaxed**, and the rest, v_N ≥ 0, one NNLS solve of ½‖R s + r‖².
    The relaxation's minimiser is the problem's wherever it ends with v_B ≥ 0 (it is then
    feasible, and no feasible point is lower): exact, with no penalty and no rounds.  Where
    v_B < 0 the basis was a wrong guess: it is chosen again at that solution, at most TRIES
    times, then None (the rounds on every row).  Returns ([v], λ of the rows, 0.0, the number of
    bases tried).

    The first basis is a guess from the gradient at v = 0 (s = x − lo): among the pivots that
    :func:`.affine.choose` accepts (PIVOT), the coordinate along which f falls fastest per unit
    of the rows; a later one the coordinate of the largest value in the relaxed solution (one not
    yet found negative).  The multipliers are then −C_B⁻ᵀ∇φ_B, from the stationarity of the
    basic coordinates, whose bounds are inactive.

    NNLS's matrix is R + R_B·W with W = −C_B⁻¹C (its basic columns −I): the same n columns, the
    basic ones zero (NNLS leaves a zero column at zero), made in R's own memory by one BLAS
    update: no n×n array is copied (at n = 200 each new one costs 30–90 µs in page faults).

    With inequality rows or upper bounds left, the same elimination followed by the rounds on
    those rows took as many rounds as the rounds on every row and lost digits (the reduced
    problem's scale sets ρ: KKT residual 2e-8 against 6e-11), so those stay with the rounds."""
    from scipy.linalg import blas

    from . import affine

    n = R.shape[0]
    if not equal.all() or C.shape[0] >= n or C.shape[1] != n:
        return None
    CE = C
    # the first guess: where f falls fastest per unit of the rows (for one row a's = b, a > 0,
    # the vertex e_j/a_j of Frank and Wolfe's step from s = 0)
    norms = np.sqrt(np.einsum("ij,ij->j", CE, CE))
    weight = np.full(n, -np.inf)
    np.divide(-gs, norms, out=weight, where=norms > 0)
    tried: set = set()
    for attempt in range(TRIES):
        basis = affine.choose(CE, weight, PIVOT)
        if basis is None or tuple(sorted(basis)) in tried:  # dependent rows, or a basis seen before
            return None
        if attempt and weight[basis].min() <= 0:  # no coordinate of the last solution left to try
            return None
        tried.add(tuple(sorted(basis)))
        if attempt:
            R = factor()  # the last attempt wrote over it
            if R is None:
                return None
        B = np.array(basis, dtype=np.intp)
        CB_inv = np.linalg.inv(CE[:, B])  # m × m, well pivoted (affine.choose)
        W = -CB_inv @ CE  # v_B = vbar + W v (W's basic columns −I: v_B drops out)
        W[:, B] = -np.eye(B.size)  # exactly (a·(1/a) may round off 1)
        vbar = CB_inv @ b
        RB = R[:, B].copy()
        ell = r + RB @ vbar
        # R + R_B·W in place: R' is LAPACK's F-ordered lower factor, so update R' += W'·R_B'
        R = blas.dgemm(1.0, W.T, RB.T, beta=1.0, c=R.T, overwrite_c=True).T  # a copy only if R were not C-ordered
        R[:, B] = 0.0  # R_B − R_B: zero, to the last bit
        x = _nnls(R, -ell)
        if x is None:
            return None
        v = x
        v[B] = vbar + W @ x  # x_B = 0: its column was zero
        if v[B].min() >= -1e-13 * max(1.0, float(np.abs(v).max())):
            v[B] = np.maximum(v[B], 0.0)  # at its bound to rounding: there exactly
            grad_B = RB.T @ (R @ v + ell)  # ∇φ on the basic coordinates, R_B'(R₀ s + r): R's column B is 0
            return [v], -CB_inv.T @ grad_B, 0.0, attempt + 1
        weight = v.copy()
        weight[B] = -np.inf  # found negative: not basic again
    return None
