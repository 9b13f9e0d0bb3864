"""The covariance problem on small sizes, and the dense Hessian of a symmetric variable (issue 19).

* trust-krylov (``method="auto"``'s choice for a barrier) used to run to ``maxiter`` on small
  covariance problems (p = 3, 4, 5, 6, 9 for some seeds: 10000 iterations, two seconds each):
  at a point already converged to rounding, trlib's subproblem solver returns a step of nan's,
  SciPy's trust region then computes a ratio of nan, neither shrinks its radius nor accepts,
  and asks trlib again, forever.  A non-finite step now ends the run there as "a bad
  approximation caused failure to predict improvement" (the model failed), and the gradient
  and the Newton decrement judge that point as for any such stop.
* ``method="newton"`` (trust-exact, the dense Hessian) of a symmetric variable built its
  Hessian from n H·v products, one per packed coordinate (210 at p = 20); it is now the
  generated closed-form Hessian of S folded through the triangle's packing.

References are independent of ricci: the gradient -S⁻¹ + C + λ·S ⊘ sqrt(S² + ε) written by
hand (the KKT condition of the smoothed problem), S = C⁻¹ for λ = 0, central differences of the
packed gradient, NumPy's eigenvalues.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")  # the solve extra

import ricci  # noqa: E402
from ricci.solve.objective import Objective  # noqa: E402
from ricci.solve.problem import build  # noqa: E402

COVARIANCE = "-logdet(S) + tr(C*S) + lambda*sum(sqrt(S.^2 + epsilon))"
SYMMETRIC = {"S": "symmetric matrix"}
LAM, EPS = 0.1, 1e-4


def _data(p, seed):
    """benchmarks/minimize.py's covariance data (seed 5 there)."""
    A = np.random.default_rng(seed).standard_normal((p, 2 * p))
    return A @ A.T / (2 * p)


def _gradient(C, S, lam=LAM):
    # written by hand: ∇f = -S⁻¹ + C + λ S ⊘ sqrt(S² + ε) for S symmetric
    return -np.linalg.inv(S) + C + lam * S / np.sqrt(S ** 2 + EPS)


def _solve(C, lam=LAM, **kw):
    p = C.shape[0]
    return ricci.minimize(COVARIANCE, "S", {"C": C, "lambda": lam, "epsilon": EPS}, kinds=SYMMETRIC,
                          x0={"S": np.eye(p)}, tol=1e-9, certify=False, **kw)


# the sizes and seeds where trust-krylov ran to maxiter before (found by a scan of p = 2…30,
# seeds 5, 6, 7)
STALLED_BEFORE = [(3, 5), (4, 5), (4, 7), (5, 5), (6, 6), (9, 7)]


@pytest.mark.parametrize("p, seed", STALLED_BEFORE)
def test_trust_krylov_ends_where_its_subproblem_solver_breaks_down(p, seed):
    C = _data(p, seed)
    r = _solve(C, maxiter=500)  # before: 500 iterations, ~1000 evaluations, "maximum number of iterations"
    assert r.method == "trust-krylov"
    assert r.success, r.message
    assert r.nit <= 30 and r.nfev <= 40, (r.nit, r.nfev, r.message)
    S = r.x["S"]
    assert np.array_equal(S, S.T) and np.linalg.eigvalsh(S).min() > 0
    # the KKT condition of the smoothed problem, written by hand
    assert np.abs(_gradient(C, S)).max() <= 1e-7


def test_without_the_smoothing_the_minimiser_is_the_inverse_of_c():
    # -logdet(S) + tr(C*S): ∇f = -S⁻¹ + C = 0 at S = C⁻¹ (λ = 0 leaves only that)
    for p, seed in STALLED_BEFORE[:3]:
        C = _data(p, seed)
        r = _solve(C, lam=0.0, maxiter=500)
        assert r.success, r.message
        np.testing.assert_allclose(r.x["S"], np.linalg.inv(C), rtol=1e-7, atol=1e-8)


def _objective(p, seed, lam=LAM):
    C = _data(p, seed)
    problem, start = build(COVARIANCE, "S", {"C": C, "lambda": lam, "epsilon": EPS}, {"S": np.eye(p)}, None,
                           SYMMETRIC)
    return Objective(problem, start), problem, C


@pytest.mark.parametrize("p", [1, 2, 5])
def test_the_dense_packed_hessian_is_the_derivative_of_the_packed_gradient(p):
    obj, problem, C = _objective(p, 5)
    B = _data(p, 11)
    z = problem.pack({"S": np.eye(p) + 0.3 * B})  # positive definite, off-diagonal entries ≠ 0
    H = obj.hess(z)
    n = problem.size
    assert H.shape == (n, n)
    # central differences of the packed gradient, column by column
    h = 1e-6
    fd = np.column_stack([(obj.value_and_grad(z + h * e)[1] - obj.value_and_grad(z - h * e)[1]) / (2 * h)
                          for e in np.eye(n)])
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-12)


def test_the_dense_packed_hessian_costs_no_product():
    obj, problem, _ = _objective(6, 5)
    z = problem.pack({"S": np.eye(6) * 1.5})
    before = obj.nhev
    H = obj.hess(z)
    # one Hessian, not one H·v product per packed coordinate (21 here)
    assert obj.nhev - before == 1
    # and it agrees with the products it replaces
    cols = np.column_stack([obj.hessp(z, e) for e in np.eye(problem.size)])
    np.testing.assert_allclose(H, cols, rtol=1e-12, atol=1e-12)


def test_newton_on_the_covariance_problem_reaches_trust_krylovs_minimum():
    C = _data(8, 5)
    dense, krylov = _solve(C, method="newton"), _solve(C)
    assert dense.success and dense.method == "trust-exact"
    S = dense.x["S"]
    assert np.abs(_gradient(C, S)).max() <= 1e-7
    assert abs(dense.fun - krylov.fun) <= 1e-10 * abs(krylov.fun)
    # one dense Hessian an iteration at most (before: 36 products each)
    assert dense.nhev <= dense.nit + 2
