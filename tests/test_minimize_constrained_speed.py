"""Affine constraints in the augmented Lagrangian (issue 19, constrained speed): affine
equalities eliminated by variable reduction (GRG's basic coordinates), affine constraints as
matrices.  No timings here (benchmarks/minimize.py has them); every answer is checked against an
independent reference: the exact KKT system on the active set, SciPy's SLSQP solved tightly on
functions written in NumPy, or a closed form.
"""

from __future__ import annotations

import numpy as np
from helpers import simplex_data, simplex_kkt
import pytest

pytest.importorskip("scipy")  # the solve extra; before anything imports it

import scipy.optimize as so  # noqa: E402

import ricci  # noqa: E402
from ricci.solve import affine  # noqa: E402
from ricci.solve import constraints as C  # noqa: E402
from ricci.solve import lagrangian  # noqa: E402
from ricci.solve.objective import Objective  # noqa: E402
from ricci.solve.problem import build  # noqa: E402

QP = "p'*Q*p + q'*p"


def _solve(f, wrt, data, bounds, texts, kinds, tol=1e-10):
    """lagrangian.solve on a built problem, with every iterate recorded."""
    problem, start = build(f, wrt, data, None, bounds, kinds, other_names=tuple(n for n in data if n not in f))
    all_kinds = {**kinds, **{n: ("matrix" if np.ndim(v) == 2 else "vector" if np.ndim(v) == 1 else "scalar")
                             for n, v in data.items()}}
    cons = C.build(texts, problem, all_kinds, "python")
    points = []
    z, info = lagrangian.solve(problem, Objective(problem, start), cons, start, tol, 10_000,
                               lambda z, *_: points.append(np.array(z)), so)
    return problem, cons, z, info, points


@pytest.mark.parametrize("n, seed", [(50, 0), (200, 3), (1000, 3)])
def test_the_simplex_quadratic_is_the_exact_kkt_point_with_its_multiplier(n, seed):
    Q, q = simplex_data(n, seed)
    r = ricci.minimize(QP, "p", {"Q": Q, "q": q}, constraints=["sum(p) == 1", "p >= 0"], tol=1e-10,
                       certify=False)
    p = r.x["p"]
    ref, nu = simplex_kkt(Q, q, p)
    f_ref = ref @ Q @ ref + q @ ref
    assert r.success
    assert abs(r.fun - f_ref) <= 1e-9 * max(1.0, abs(f_ref))
    np.testing.assert_allclose(p, ref, atol=1e-7)
    assert abs(p.sum() - 1) <= 1e-12 and (p >= 0).all()
    assert r.multipliers["sum(p) == 1"] == pytest.approx(nu, rel=1e-6, abs=1e-8)
    assert r.constraint_violation <= 1e-12 and r.kkt_residual <= 1e-6


@pytest.mark.parametrize("n, seed, most", [(200, 3, 80), (1000, 3, 120)])
def test_the_simplex_quadratic_takes_few_evaluations(n, seed, most):
    """Counts, not times (a regression guard on the method): the penalised sum(p) == 1 took
    115 evaluations at n = 200 and 310 at n = 1000 (eight rounds each); eliminated, 53 and 90."""
    Q, q = simplex_data(n, seed)
    r = ricci.minimize(QP, "p", {"Q": Q, "q": q}, constraints=["sum(p) == 1", "p >= 0"], tol=1e-10,
                       certify=False)
    assert r.success and r.nfev <= most
    ref, _ = simplex_kkt(Q, q, r.x["p"])
    np.testing.assert_allclose(r.x["p"], ref, atol=1e-7)


def test_an_eliminated_equality_holds_at_every_iterate():
    Q, q = simplex_data(60, 1)
    problem, cons, z, info, points = _solve(QP, "p", {"Q": Q, "q": q}, ["p >= 0"], ["sum(p) == 1"],
                                            {"p": "vector"})
    assert info["eliminated"] == ["sum(p) == 1"] and info["success"]
    assert len(points) > 5
    assert max(abs(p.sum() - 1) for p in points) <= 1e-12  # a penalty would let it drift
    ref, _ = simplex_kkt(Q, q, z)
    np.testing.assert_allclose(z, ref, atol=1e-7)


def _slsqp(fun, grad, n, eqs=(), ineqs=(), lower=-np.inf, ftol=1e-15):
    """SciPy's SLSQP on functions written in NumPy, tightly: the reference for the rest."""
    cons = [{"type": "eq", "fun": c, "jac": j} for c, j in eqs] + [
        {"type": "ineq", "fun": (lambda x, c=c: -c(x)), "jac": (lambda x, j=j: -j(x))} for c, j in ineqs]
    best = None
    for x0 in (np.full(n, 0.1), np.linspace(0.0, 1.0, n)):
        res = so.minimize(fun, x0, jac=grad, method="SLSQP", bounds=[(lower, None)] * n, constraints=cons,
                          options={"ftol": ftol, "maxiter": 2000})
        if res.success and (best is None or res.fun < best.fun):
            best = res
    assert best is not None
    return best


def test_several_affine_equalities_with_bounds_match_slsqp_and_satisfy_kkt():
    rng = np.random.default_rng(11)
    m, n = 3, 12
    A = rng.standard_normal((m, n))
    x_feasible = np.abs(rng.standard_normal(n))
    b = A @ x_feasible
    c = rng.standard_normal(n)
    r = ricci.minimize("norm2(x - c)^2", "x", {"A": A, "b": b, "c": c}, constraints=["A*x == b", "x >= 0"],
                       tol=1e-10, certify=False)
    x = r.x["x"]
    ref = _slsqp(lambda x: np.sum((x - c) ** 2), lambda x: 2 * (x - c), n,
                 eqs=[(lambda x: A @ x - b, lambda x: A)], lower=0.0)
    assert r.success
    assert abs(r.fun - ref.fun) <= 1e-6 * max(1.0, ref.fun)
    np.testing.assert_allclose(x, ref.x, atol=1e-5)
    assert np.abs(A @ x - b).max() <= 1e-10 and (x >= 0).all()
    # KKT with the reported multipliers: 2(x - c) + A'λ is zero where x > 0 and ≥ 0 where x = 0
    lam = np.array(r.multipliers["A*x == b"])
    stat = 2 * (x - c) + A.T @ lam
    free = x > 1e-8
    assert np.abs(stat[free]).max() <= 1e-6 and (stat[~free] >= -1e-6).all()


def test_an_affine_equality_beside_a_nonlinear_inequality_matches_slsqp():
    c = np.array([2.0, -1.0, 0.5, 1.5])
    a = np.array([1.0, 2.0, -1.0, 0.5])
    r = ricci.minimize("norm2(w - c)^2", "w", {"a": a, "c": c}, constraints=["a'*w == 1", "norm2(w)^2 <= 1"],
                       tol=1e-10, certify=False)
    ref = _slsqp(lambda w: np.sum((w - c) ** 2), lambda w: 2 * (w - c), 4,
                 eqs=[(lambda w: np.array([a @ w - 1]), lambda w: a[None, :])],
                 ineqs=[(lambda w: np.array([w @ w - 1]), lambda w: 2 * w[None, :])])
    assert r.success
    assert abs(r.fun - ref.fun) <= 1e-6 * max(1.0, ref.fun)
    np.testing.assert_allclose(r.x["w"], ref.x, atol=1e-5)
    assert abs(a @ r.x["w"] - 1) <= 1e-10 and r.x["w"] @ r.x["w"] <= 1 + 1e-8


def test_an_equality_without_bounds_has_its_closed_form_in_one_round():
    """Nothing left to penalise: one L-BFGS-B run on the reduced vector, solved to tol."""
    a = np.array([1.0, -2.0, 0.5])
    c = np.array([0.3, 0.1, -0.7])
    problem, cons, z, info, points = _solve("norm2(x - c)^2", "x", {"a": a, "c": c}, None, ["a'*x == 1"],
                                            {"x": "vector"})
    assert info["rounds"] == 1 and info["success"]
    np.testing.assert_allclose(z, c + a * (1 - a @ c) / (a @ a), atol=1e-9)  # the projection
    # the multiplier: 2(x - c) + λa = 0
    assert info["multipliers"]["a'*x == 1"] == pytest.approx(-2 * (1 - a @ c) / (a @ a), rel=1e-7)


def test_redundant_equalities_are_penalised_and_still_solved():
    """Two equal equalities have a rank-deficient Jacobian: no basis, the rounds keep them."""
    Q, q = simplex_data(8, 5)
    problem, cons, z, info, _ = _solve(QP, "p", {"Q": Q, "q": q}, ["p >= 0"], ["sum(p) == 1", "2*sum(p) == 2"],
                                       {"p": "vector"})
    assert info["eliminated"] == [] and info["success"]
    ref, _ = simplex_kkt(Q, q, z)
    np.testing.assert_allclose(z, ref, atol=1e-6)


def test_several_variables_share_one_equality():
    """min ‖u − a‖² + ‖v − b‖² with sum(u) + sum(v) == 1, u, v ≥ 0: the projection of (a, b)
    onto the simplex, computed here by the sort-based formula (Held, Wolfe & Crowder)."""
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(5), rng.standard_normal(4)
    r = ricci.minimize("norm2(u - a)^2 + norm2(v - b)^2", "u,v", {"a": a, "b": b},
                       constraints=["sum(u) + sum(v) == 1", "u >= 0", "v >= 0"], tol=1e-10, certify=False)
    y = np.concatenate([a, b])
    s = np.sort(y)[::-1]
    css = np.cumsum(s) - 1
    k = np.flatnonzero(s - css / np.arange(1, y.size + 1) > 0)[-1]
    proj = np.maximum(y - css[k] / (k + 1), 0)
    assert r.success
    np.testing.assert_allclose(np.concatenate([r.x["u"], r.x["v"]]), proj, atol=1e-7)


def test_a_symmetric_variable_under_an_affine_equality():
    """min ‖S − M‖² over symmetric S with tr(S) == 1: S = sym(M) − (tr(M) − 1)/n · I."""
    rng = np.random.default_rng(4)
    M = rng.standard_normal((4, 4))
    r = ricci.minimize("norm2(S - M)^2", "S", {"M": M}, kinds={"S": "symmetric"}, constraints=["tr(S) == 1"],
                       tol=1e-10, certify=False)
    sym = (M + M.T) / 2
    np.testing.assert_allclose(r.x["S"], sym - (np.trace(M) - 1) / 4 * np.eye(4), atol=1e-7)


def test_affine_rows_are_the_constraints_jacobian():
    rng = np.random.default_rng(9)
    A, b = rng.standard_normal((3, 5)), rng.standard_normal(3)
    problem, start = build("norm2(x)^2", "x", {"A": A, "b": b}, {"x": rng.standard_normal(5)}, None,
                           {"x": "vector"}, other_names=("A", "b"))
    (c,) = C.build(["A*x <= b"], problem, {"x": "vector", "A": "matrix", "b": "vector"}, "python")
    (d,) = C.build(["norm2(x)^2 <= 1"], problem, {"x": "vector"}, "python")
    assert c.affine and not d.affine
    c.value({"A": A, "b": b, "x": start})
    np.testing.assert_array_equal(affine.rows(c, problem, start, 3), A)


def test_the_basis_is_chosen_away_from_the_bounds_and_stably():
    A = np.array([[1.0, 1.0, 1.0, 1.0]])
    assert affine.choose(A, np.array([0.0, 0.2, 0.9, 0.5])) == [2]
    # a tiny pivot is not eligible however much room it has (threshold pivoting)
    A = np.array([[1e-6, 1.0, 1.0]])
    assert affine.choose(A, np.array([1.0, 0.1, 0.2])) == [2]
    assert affine.choose(np.array([[1.0, 2.0], [2.0, 4.0]]), np.ones(2)) is None  # rank deficient
    lo, hi = np.zeros(3), np.array([np.inf, 1.0, np.inf])
    np.testing.assert_allclose(affine.room(np.array([0.0, 0.5, 3.0]), lo, hi), [0.0, 1 / 3, 0.75])


def test_a_round_solved_where_it_starts_is_not_handed_to_scipy():
    """After a basis change the next round may already meet its tolerance at its start; SciPy's
    L-BFGS-B would stop there with no iteration, after an O(n) Python loop over the bounds.  At
    n = 200 one of four calls did (and two of five at n = 1000); the answer is the KKT point."""
    Q, q = simplex_data(200, 3)
    calls = []

    class Recording:
        Bounds = so.Bounds

        @staticmethod
        def minimize(*args, **kwargs):
            res = so.minimize(*args, **kwargs)
            calls.append(res)
            return res

    problem, start = build(QP, "p", {"Q": Q, "q": q}, None, ["p >= 0"], None)
    (c,) = C.build(["sum(p) == 1"], problem, {"p": "vector", "Q": "matrix", "q": "vector"}, "python")
    z, info = lagrangian.solve(problem, Objective(problem, start), [c], start, 1e-10, 10_000, None, Recording)
    assert info["success"] and calls
    assert all(r.nit > 0 for r in calls)
    ref, _ = simplex_kkt(Q, q, z)
    np.testing.assert_allclose(z, ref, atol=1e-7)


def test_a_basic_coordinate_held_at_its_bound_by_the_rounds():
    """x_0 + 0.001·x_1 == 1, x >= 0: only x_0 is an eligible pivot (threshold pivoting), and the
    minimum of ‖x − (−5, 2000)‖² puts it at its bound, so the rounds keep x_0 >= 0.  By hand:
    x = (0, 1000); ∂/∂x_1: 2(1000 − 2000) + 0.001·λ = 0, λ = 2·10⁶."""
    a, c = np.array([1.0, 1e-3]), np.array([-5.0, 2000.0])
    r = ricci.minimize("norm2(x - c)^2", "x", {"a": a, "c": c}, constraints=["a'*x == 1", "x >= 0"], tol=1e-10,
                       certify=False)
    assert r.success
    np.testing.assert_allclose(r.x["x"], [0.0, 1000.0], atol=1e-7)
    assert r.fun == pytest.approx(25 + 1000.0**2, rel=1e-9)
    assert r.multipliers["a'*x == 1"] == pytest.approx(2e6, rel=1e-6)


# A convex quadratic under affine equalities and lower bounds: the augmented Lagrangian's rounds
# around SciPy's NNLS (solve/quadratic.py) instead of L-BFGS-B.  Every answer against a
# reference computed here (the exact KKT system, SLSQP, a bisection), never the code's own.

NNLS = "augmented Lagrangian + NNLS"


@pytest.mark.parametrize("n, seed", [(50, 0), (200, 3)])
def test_a_convex_quadratic_over_the_simplex_is_solved_by_nnls_to_its_exact_kkt_point(n, seed):
    Q, q = simplex_data(n, seed)
    r = ricci.minimize(QP, "p", {"Q": Q, "q": q}, constraints=["sum(p) == 1", "p >= 0"], tol=1e-10,
                       certify=False)
    assert r.method == NNLS and r.success
    p = r.x["p"]
    ref, nu = simplex_kkt(Q, q, p)
    f_ref = ref @ Q @ ref + q @ ref
    assert abs(r.fun - f_ref) <= 1e-10 * max(1.0, abs(f_ref))
    np.testing.assert_allclose(p, ref, atol=1e-8)
    assert abs(p.sum() - 1) <= 1e-12 and (p >= 0).all()
    assert r.multipliers["sum(p) == 1"] == pytest.approx(nu, rel=1e-7, abs=1e-9)
    assert r.kkt_residual <= 1e-8 and r.constraint_violation <= 1e-12
    assert len(r.history["fun"]) == r.nit + 1


def test_nnls_takes_shifted_lower_bounds_several_equalities_and_an_affine_inequality():
    rng = np.random.default_rng(21)
    n = 15
    A = rng.standard_normal((2, n))
    feasible = 0.2 + np.abs(rng.standard_normal(n))
    b = A @ feasible
    G = rng.standard_normal((2, n))
    h = G @ feasible + 0.05
    c = 2 * rng.standard_normal(n)
    r = ricci.minimize("norm2(x - c)^2", "x", {"A": A, "b": b, "G": G, "h": h, "c": c},
                       constraints=["A*x == b", "G*x <= h", "x >= 0.1"], tol=1e-10, certify=False)
    assert r.method == NNLS and r.success
    x = r.x["x"]
    ref = _slsqp(lambda x: np.sum((x - c) ** 2), lambda x: 2 * (x - c), n,
                 eqs=[(lambda x: A @ x - b, lambda x: A)], ineqs=[(lambda x: G @ x - h, lambda x: G)], lower=0.1,
                 ftol=1e-12)  # 1e-15 ends on "positive directional derivative" at the same f
    assert abs(r.fun - ref.fun) <= 1e-8 * max(1.0, ref.fun)
    np.testing.assert_allclose(x, ref.x, atol=1e-6)
    assert np.abs(A @ x - b).max() <= 1e-9 and (G @ x - h).max() <= 1e-9 and (x >= 0.1).all()
    assert np.abs(G @ x - h).min() <= 1e-8  # an inequality is active at this optimum (else the test is idle)
    # KKT with the reported multipliers: 2(x - c) + A'λ + G'μ ≥ 0 at the bound, 0 off it; μ ≥ 0
    lam, mu = np.array(r.multipliers["A*x == b"]), np.array(r.multipliers["G*x <= h"])
    stat = 2 * (x - c) + A.T @ lam + G.T @ mu
    free = x > 0.1 + 1e-8
    assert (mu >= 0).all() and np.abs(mu * (G @ x - h)).max() <= 1e-8 and np.abs(stat[free]).max() <= 1e-6 and (stat[~free] >= -1e-6).all()


def _capped_simplex_projection(c, cap):
    """argmin ‖p − c‖² over sum(p) = 1, 0 ≤ p ≤ cap: p = clip(c − ν, 0, cap), ν by bisection."""
    lo, hi = c.min() - 1.0, c.max()
    for _ in range(200):
        nu = (lo + hi) / 2
        lo, hi = (nu, hi) if np.clip(c - nu, 0, cap).sum() > 1 else (lo, nu)
    return np.clip(c - (lo + hi) / 2, 0, cap)


def test_an_upper_bound_is_a_row_with_a_slack_for_nnls():
    """0 <= p <= 0.3: NNLS keeps s >= 0 only, so p <= 0.3 becomes the row p_i + t_i = 0.3, t_i >= 0;
    the answer stays inside the box exactly."""
    rng = np.random.default_rng(5)
    c = rng.standard_normal(12)
    r = ricci.minimize("norm2(p - c)^2", "p", {"c": c}, constraints=["sum(p) == 1", "0 <= p <= 0.3"], tol=1e-10,
                       certify=False)
    assert r.method == NNLS and r.success
    ref = _capped_simplex_projection(c, 0.3)
    assert (ref == 0.3).any() and (ref == 0).any()  # both bounds active: the test is not idle
    np.testing.assert_allclose(r.x["p"], ref, atol=1e-8)
    assert (r.x["p"] >= 0).all() and (r.x["p"] <= 0.3).all() and abs(r.x["p"].sum() - 1) <= 1e-12


def test_what_nnls_cannot_take_stays_with_lbfgsb():
    rng = np.random.default_rng(5)
    c = rng.standard_normal(12)
    # a coordinate without a lower bound (NNLS's variables are all >= 0)
    r = ricci.minimize("norm2(p - c)^2", "p", {"c": c}, constraints=["sum(p) == 1", "p <= 0.3"], tol=1e-10,
                       certify=False)
    assert r.method == "augmented Lagrangian + L-BFGS-B" and r.success
    # the projection onto {sum(p) = 1, p <= 0.3}: p = min(c - ν, 0.3), ν by bisection
    lo, hi = c.min() - 10.0, c.max() + 10.0
    for _ in range(200):
        nu = (lo + hi) / 2
        lo, hi = (nu, hi) if np.minimum(c - nu, 0.3).sum() > 1 else (lo, nu)
    np.testing.assert_allclose(r.x["p"], np.minimum(c - (lo + hi) / 2, 0.3), atol=1e-7)
    # an objective that is not quadratic (its Hessian reads p)
    q = rng.standard_normal(12)
    r = ricci.minimize("sum(exp(p)) + q'*p", "p", {"q": q}, constraints=["sum(p) == 1", "p >= 0"], tol=1e-10,
                       certify=False)
    assert r.method == "augmented Lagrangian + L-BFGS-B" and r.success
    ref = _slsqp(lambda p: np.sum(np.exp(p)) + q @ p, lambda p: np.exp(p) + q, 12,
                 eqs=[(lambda p: np.array([p.sum() - 1]), lambda p: np.ones((1, 12)))], lower=0.0)
    np.testing.assert_allclose(r.x["p"], ref.x, atol=1e-5)
    # a quadratic whose Hessian is only semidefinite (no Cholesky factor)
    a = rng.standard_normal(12)
    r = ricci.minimize("(a'*p)^2 + q'*p", "p", {"a": a, "q": q}, constraints=["sum(p) == 1", "p >= 0"],
                       tol=1e-10, certify=False)
    assert r.method == "augmented Lagrangian + L-BFGS-B" and r.success
    ref = _slsqp(lambda p: (a @ p) ** 2 + q @ p, lambda p: 2 * (a @ p) * a + q, 12,
                 eqs=[(lambda p: np.array([p.sum() - 1]), lambda p: np.ones((1, 12)))], lower=0.0)
    assert r.fun <= ref.fun + 1e-7 * max(1.0, abs(ref.fun))


def test_an_infeasible_problem_says_by_how_much_even_where_a_basic_bound_is_what_is_violated():
    """sum(p) == -1 with p >= 0 has no feasible point; the eliminated equality holds at every
    iterate, so what the rounds cannot meet is a basic coordinate's bound (p = -1 there).  The
    message said "violated by 0" (the constraints' own values only)."""
    Q, q = simplex_data(10, 1)
    r = ricci.minimize(QP, "p", {"Q": Q, "q": q}, constraints=["sum(p) == -1", "p >= 0"], tol=1e-10, certify=False)
    assert not r.success
    worst = max(0.0, -float(r.x["p"].min()))
    assert worst >= 0.09  # the sum is -1 over 10 entries: some entry is at most -0.1
    assert "may be infeasible" in r.message and f"violated by {worst:.3g}" in r.message
    # and the result's own figures say it too: the bound is a constraint (it read 0 before)
    assert r.constraint_violation == pytest.approx(worst, rel=1e-12)
    assert r.kkt_residual >= worst
