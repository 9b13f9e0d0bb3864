"""The simplex-constrained quadratic in one exact NNLS solve (issue 19, the simplex at n = 200).

A convex quadratic under affine equalities and lower bounds: the equalities are eliminated
exactly (m basic coordinates computed from the others, their own lower bounds relaxed), and the
relaxed problem is one NNLS solve; where its basic coordinates come out inside their bounds, the
relaxation's minimiser is feasible, so it is the problem's.  No timings here (benchmarks/ and
benchmarks/RESULTS.md have them); every answer against a reference computed here: SciPy's SLSQP
at a tight tolerance, the KKT system on the active set written in the test, a hand computation,
or CVXPY where it is installed.
"""

from __future__ import annotations

import numpy as np
from helpers import simplex_data, simplex_kkt
import pytest

pytest.importorskip("scipy")  # the solve extra; before anything imports it

import scipy.optimize as so  # noqa: E402

import ricci  # noqa: E402

QP = "p'*Q*p + q'*p"
NNLS = "augmented Lagrangian + NNLS"


def _nnls_calls(monkeypatch):
    """Count SciPy's NNLS solves (quadratic.py imports it from scipy.optimize at each call)."""
    calls = []
    real = so.nnls

    def counting(A, b, **kw):
        calls.append(A.shape)
        return real(A, b, **kw)

    monkeypatch.setattr(so, "nnls", counting)
    return calls


def _kkt(Q, q, p, nu, tol):
    """The simplex's KKT conditions written out: g = 2Qp + q + ν ≥ 0, g = 0 where p > 0, p ≥ 0, 1'p = 1."""
    g = 2 * Q @ p + q + nu
    scale = max(1.0, float(np.abs(2 * Q @ p + q).max()))
    assert (p >= 0).all() and abs(p.sum() - 1) <= 1e-12
    assert g.min() >= -tol * scale
    assert np.abs(g * p).max() <= tol * scale


@pytest.mark.parametrize("n, seed", [(200, 3), (200, 0), (120, 7), (40, 1)])
def test_the_simplex_is_one_exact_nnls_solve(monkeypatch, n, seed):
    """The benchmark's problem and others like it: one NNLS solve (three penalised rounds
    before), the equality exact to rounding, the KKT point of the active set."""
    calls = _nnls_calls(monkeypatch)
    Q, q = simplex_data(n, seed)
    r = ricci.minimize(QP, "p", {"Q": Q, "q": q}, constraints=["sum(p) == 1", "p >= 0"], tol=1e-10, certify=False)
    assert r.method == NNLS and r.success
    assert len(calls) == 1 and r.nit == 1 and r.rounds == 1
    p = r.x["p"]
    assert abs(p.sum() - 1) <= 1e-14 and r.constraint_violation <= 1e-14
    ref, nu = simplex_kkt(Q, q, p)
    np.testing.assert_allclose(p, ref, atol=1e-12)
    assert r.fun == pytest.approx(float(ref @ Q @ ref + q @ ref), rel=1e-13, abs=1e-13)
    assert r.multipliers["sum(p) == 1"] == pytest.approx(nu, rel=1e-10, abs=1e-12)
    _kkt(Q, q, p, r.multipliers["sum(p) == 1"], 1e-10)
    assert r.kkt_residual <= 1e-10
    # the history: the start and the one solve, f and ‖∇f‖ as NumPy computes them there
    assert len(r.history["fun"]) == 2
    assert r.history["fun"][-1] == pytest.approx(float(p @ Q @ p + q @ p), rel=1e-13, abs=1e-14)
    assert r.history["grad_norm"][-1] == pytest.approx(float(np.linalg.norm(2 * Q @ p + q)), rel=1e-12)
    assert r.history["fun"][0] == pytest.approx(0.0, abs=0) and r.grad_norm == r.history["grad_norm"][-1]


def test_a_wrong_first_basis_is_chosen_again_from_the_relaxed_solution(monkeypatch):
    """H = [[5, 2], [2, 1]], q = (-1, -0.9): the gradient at 0 points to p_0 (the first guess of
    the basic coordinate), yet the minimum is p = (0, 1).  By hand: on p = (t, 1 - t),
    f'(t) = 2t + 0.9 > 0, so t = 0; relaxing p_0 >= 0 puts t at -0.45 (outside), so the basis
    moves to p_1, whose solve is inside: two NNLS solves.  ν: (Hp)_1 + q_1 + ν = 0, ν = -0.1."""
    calls = _nnls_calls(monkeypatch)
    Q, q = np.array([[2.5, 1.0], [1.0, 0.5]]), np.array([-1.0, -0.9])
    r = ricci.minimize(QP, "p", {"Q": Q, "q": q}, constraints=["sum(p) == 1", "p >= 0"], tol=1e-10, certify=False)
    assert r.method == NNLS and r.success
    assert len(calls) == 2 and r.message.endswith("one NNLS solve, no penalty (2 bases tried)")
    np.testing.assert_allclose(r.x["p"], [0.0, 1.0], atol=1e-15)
    assert r.fun == pytest.approx(0.5 - 0.9, abs=1e-15)
    assert r.multipliers["sum(p) == 1"] == pytest.approx(-0.1, abs=1e-14)


def _slsqp_simplex(Q, q):
    n = q.size
    best = None
    for x0 in (np.full(n, 1.0 / n), np.eye(n)[int(np.argmin(q))]):
        res = so.minimize(lambda p: p @ Q @ p + q @ p, x0, jac=lambda p: 2 * Q @ p + q, method="SLSQP",
                          bounds=[(0.0, None)] * n,
                          constraints=[{"type": "eq", "fun": lambda p: np.array([p.sum() - 1]),
                                        "jac": lambda p: np.ones((1, n))}],
                          options={"ftol": 1e-15, "maxiter": 2000})
        if res.success and (best is None or res.fun < best.fun):
            best = res
    assert best is not None
    return best


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_n5_against_slsqp(seed):
    Q, q = simplex_data(5, seed)
    r = ricci.minimize(QP, "p", {"Q": Q, "q": q}, constraints=["sum(p) == 1", "p >= 0"], tol=1e-10, certify=False)
    ref = _slsqp_simplex(Q, q)
    assert r.success
    assert abs(r.fun - ref.fun) <= 1e-10 * max(1.0, abs(ref.fun))
    np.testing.assert_allclose(r.x["p"], ref.x, atol=1e-6)
    assert r.constraint_violation <= 1e-12


@pytest.mark.parametrize("n", [200, 700])
def test_against_cvxpy(n):
    """n = 200 and 700 on the exact route (700 is above the rounds' quadratic.MAX_SIZE): the
    objective equal to CVXPY's to 1e-6 relative (CVXPY's own accuracy is about that), the
    constraints to 1e-6, and ricci's own answer at the KKT point of its support."""
    cp = pytest.importorskip("cvxpy")
    Q, q = simplex_data(n, 3)
    r = ricci.minimize(QP, "p", {"Q": Q, "q": q}, constraints=["sum(p) == 1", "p >= 0"], tol=1e-10, certify=False)
    x = cp.Variable(n)
    prob = cp.Problem(cp.Minimize(cp.quad_form(x, cp.psd_wrap(Q)) + q @ x), [cp.sum(x) == 1, x >= 0])
    prob.solve()
    p = r.x["p"]
    assert r.success and r.method == NNLS and r.nit == 1
    assert r.fun <= prob.value + 1e-6 * max(1.0, abs(prob.value))
    assert abs(r.fun - prob.value) <= 1e-6 * max(1.0, abs(prob.value))
    assert abs(p.sum() - 1) <= 1e-6 and p.min() >= -1e-6
    ref, nu = simplex_kkt(Q, q, p)
    assert r.fun == pytest.approx(float(ref @ Q @ ref + q @ ref), rel=1e-10)


def test_several_equalities_an_inequality_and_upper_bounds_keep_their_kkt_point():
    """The eliminated equalities with rows left for the rounds (an affine inequality, upper
    bounds): SLSQP's answer, and the KKT conditions with the reported multipliers."""
    rng = np.random.default_rng(4)
    n = 20
    A = rng.standard_normal((2, n))
    feasible = 0.2 + 0.5 * rng.random(n)
    b = A @ feasible
    G = rng.standard_normal((2, n))
    h = G @ feasible + np.array([0.01, 0.5])
    c = 2 * rng.standard_normal(n)
    r = ricci.minimize("norm2(x - c)^2", "x", {"A": A, "b": b, "G": G, "h": h, "c": c},
                       constraints=["A*x == b", "G*x <= h", "0 <= x <= 1"], tol=1e-10, certify=False)
    assert r.method == NNLS and r.success
    x = r.x["x"]
    cons = [{"type": "eq", "fun": lambda x: A @ x - b, "jac": lambda x: A},
            {"type": "ineq", "fun": lambda x: h - G @ x, "jac": lambda x: -G}]
    ref = so.minimize(lambda x: np.sum((x - c) ** 2), feasible, jac=lambda x: 2 * (x - c), method="SLSQP",
                      bounds=[(0.0, 1.0)] * n, constraints=cons, options={"ftol": 1e-14, "maxiter": 2000})
    assert ref.success
    assert abs(r.fun - ref.fun) <= 1e-8 * max(1.0, ref.fun)
    np.testing.assert_allclose(x, ref.x, atol=1e-6)
    assert np.abs(A @ x - b).max() <= 1e-9 and (G @ x - h).max() <= 1e-9 and x.min() >= 0 and x.max() <= 1
    assert (x == 0).any() or (x == 1).any()  # a bound is active (else the test is idle)
    lam, mu = np.array(r.multipliers["A*x == b"]), np.array(r.multipliers["G*x <= h"])
    stat = 2 * (x - c) + A.T @ lam + G.T @ mu
    low, high = x <= 1e-12, x >= 1 - 1e-12
    free = ~(low | high)
    assert (mu >= 0).all() and np.abs(mu * (G @ x - h)).max() <= 1e-8
    assert np.abs(stat[free]).max() <= 1e-6 and (stat[low] >= -1e-6).all() and (stat[high] <= 1e-6).all()


def test_a_redundant_equality_is_left_to_the_rounds():
    """sum(p) == 1 given twice: no basis for the two rows (rank one), so no elimination; the
    rounds still find the simplex's minimum."""
    Q, q = simplex_data(30, 2)
    r = ricci.minimize(QP, "p", {"Q": Q, "q": q}, constraints=["sum(p) == 1", "sum(p) == 1", "p >= 0"],
                       tol=1e-10, certify=False)
    assert r.success
    p = r.x["p"]
    ref, _ = simplex_kkt(Q, q, p)
    assert r.fun == pytest.approx(float(ref @ Q @ ref + q @ ref), rel=1e-9)
    assert abs(p.sum() - 1) <= 1e-8


def test_a_weighted_equality_and_the_data_left_as_it_was(monkeypatch):
    """a'*p == 1 with weights whose reciprocals round (49·(1/49) is not 1 in floating point): the
    basic column is zero exactly, the answer is the KKT point written out here; and the Hessian's
    factor, made in the Hessian's own memory, never in the data's (Q and a unchanged to the bit)."""
    calls = _nnls_calls(monkeypatch)
    rng = np.random.default_rng(8)
    n = 60
    Q, q = simplex_data(n, 8)
    a = rng.choice([49.0, 3.0, 7.0, 0.1], size=n)
    saved = Q.copy(), q.copy(), a.copy()
    r = ricci.minimize(QP, "p", {"Q": Q, "q": q, "a": a}, constraints=["a'*p == 1", "p >= 0"], tol=1e-10,
                       certify=False)
    assert all(np.array_equal(x, y) for x, y in zip(saved, (Q, q, a)))
    assert r.method == NNLS and r.success and len(calls) <= 3
    p, nu = r.x["p"], r.multipliers["a'*p == 1"]
    assert abs(a @ p - 1) <= 1e-13 and p.min() >= 0
    g = 2 * Q @ p + q + nu * a  # stationarity: 0 where p > 0, ≥ 0 where p = 0
    support = p > 0
    assert support.sum() >= 2  # more than one coordinate: the test is not idle
    assert np.abs(g[support]).max() <= 1e-10 and g[~support].min() >= -1e-10
    # a symmetric A whose Hessian is A itself (the generated code returns A.copy()): A unchanged
    A = 2 * Q
    kept = A.copy()
    r = ricci.minimize("0.5*p'*A*p + q'*p", "p", {"A": A, "q": q}, constraints=["sum(p) == 1", "p >= 0"],
                       kinds={"A": "symmetric matrix"}, tol=1e-10, certify=False)
    assert np.array_equal(A, kept) and r.method == NNLS and r.success
    ref, _ = simplex_kkt(Q, q, r.x["p"])
    np.testing.assert_allclose(r.x["p"], ref, atol=1e-12)


def test_upper_bounds_above_the_rounds_size_stay_with_lbfgsb():
    """The one exact solve goes up to quadratic.EXACT_SIZE; rows with slacks (here the upper
    bounds) need the rounds, which stop at quadratic.MAX_SIZE: L-BFGS-B's rounds take n = 510.
    The reference: the projection onto {sum(p) = 1, 0 <= p <= 0.3}, p = clip(c - ν, 0, 0.3), ν by
    bisection."""
    from ricci.solve import quadratic

    n = 510
    assert quadratic.MAX_SIZE < n <= quadratic.EXACT_SIZE
    c = np.random.default_rng(2).standard_normal(n) * 0.1 + 0.01
    r = ricci.minimize("norm2(p - c)^2", "p", {"c": c}, constraints=["sum(p) == 1", "0 <= p <= 0.3"], tol=1e-10,
                       certify=False)
    assert r.method == "augmented Lagrangian + L-BFGS-B" and r.success
    lo, hi = c.min() - 1.0, c.max()
    for _ in range(200):
        nu = (lo + hi) / 2
        lo, hi = (nu, hi) if np.clip(c - nu, 0, 0.3).sum() > 1 else (lo, nu)
    ref = np.clip(c - (lo + hi) / 2, 0, 0.3)
    assert (ref == 0).any()  # a bound is active: the test is not idle
    np.testing.assert_allclose(r.x["p"], ref, atol=1e-7)
