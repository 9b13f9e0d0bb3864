"""The covariance problem fast (issue 19): ``-logdet(S) + tr(C*S) + λ·Σ sqrt(S_ij² + ε)`` over the
symmetric matrices.

* ``method="auto"`` picks the trust-region Newton method with the closed-form H·v (trust-krylov)
  where f has a barrier term — a function of the table with an open domain (logdet's positive
  definite matrices, log's positive entries) whose argument reads a variable and is not proved
  inside — and the problem is unconstrained; L-BFGS-B otherwise (unchanged);
* the prepared H·v factorises a matrix that does not depend on the direction once per point
  (``solve(S, ·)`` of every product becomes ``inv(S) @ ·`` with ``inv(S)`` computed at the point);
* the domain guard's Cholesky factorisation of a symmetric variable is LAPACK's, on its triangle.

References are independent of ricci: CVXPY on the same data (importorskip), the gradient and the
product written by hand, NumPy's eigenvalues.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest

pytest.importorskip("scipy")

import ricci  # noqa: E402

COVARIANCE = "-logdet(S) + tr(C*S) + lambda*sum(sqrt(S.^2 + epsilon))"
SYMMETRIC = {"S": "symmetric matrix"}
LAM, EPS = 0.1, 1e-4


def _data(p, seed=5):
    """benchmarks/minimize.py's covariance data."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((p, 2 * p))
    return A @ A.T / (2 * p)


def _f(C, S):
    return float(-np.linalg.slogdet(S)[1] + np.sum(C * S) + LAM * np.sum(np.sqrt(S ** 2 + EPS)))


def _gradient(C, S):
    # written by hand: -S⁻¹ + C + λ S ⊘ sqrt(S² + ε) (S symmetric)
    return -np.linalg.inv(S) + C + LAM * S / np.sqrt(S ** 2 + EPS)


def _solve(C, **kw):
    p = C.shape[0]
    return ricci.minimize(COVARIANCE, "S", {"C": C, "lambda": LAM, "epsilon": EPS}, kinds=SYMMETRIC,
                          x0={"S": np.eye(p)}, tol=1e-9, certify=False, **kw)


@pytest.mark.parametrize("p", [20, 50])
def test_auto_reaches_cvxpy_objective_with_s_symmetric_positive_definite(p):
    cp = pytest.importorskip("cvxpy")
    C = _data(p)
    r = _solve(C)
    assert r.success, r.message
    S = r.x["S"]
    assert np.array_equal(S, S.T)
    assert np.linalg.eigvalsh(S).min() > 0
    X = cp.Variable((p, p), symmetric=True)
    smooth = cp.norm(cp.vstack([cp.vec(X, order="C"), np.full(p * p, EPS ** 0.5)]), 2, axis=0)
    cp.Problem(cp.Minimize(-cp.log_det(X) + cp.trace(C @ X) + LAM * cp.sum(smooth))).solve()
    theirs, ours = _f(C, X.value), _f(C, S)
    assert ours <= theirs + 1e-6 * abs(theirs), (ours, theirs)
    assert abs(ours - theirs) <= 1e-6 * abs(theirs), (ours, theirs)


def test_auto_reaches_a_stationary_point_as_tight_as_l_bfgs_b():
    C = _data(20)
    fast, slow = _solve(C), _solve(C, method="L-BFGS-B")
    assert fast.success and slow.success
    # the same final accuracy (or better): f as low, the gradient written by hand as small
    assert _f(C, fast.x["S"]) <= _f(C, slow.x["S"]) + 1e-12 * abs(_f(C, slow.x["S"]))
    assert np.abs(_gradient(C, fast.x["S"])).max() <= max(1e-7, np.abs(_gradient(C, slow.x["S"])).max())
    assert fast.nfev < slow.nfev  # the point of the rule: fewer evaluations


def test_auto_picks_the_trust_region_newton_method_for_a_barrier():
    C = _data(6)
    assert _solve(C).method == "trust-krylov"
    # log's positive entries are a barrier too
    r = ricci.minimize("c'*w - sum(log(w))", "w", {"c": np.array([2.0, 4.0])}, x0={"w": np.ones(2)})
    assert r.method == "trust-krylov" and r.success
    np.testing.assert_allclose(r.x["w"], [0.5, 0.25], rtol=1e-7)


def test_auto_keeps_l_bfgs_b_without_a_barrier_or_with_bounds_and_constraints():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), np.sign(rng.standard_normal(30))
    # log(1 + exp(...)) is proved positive: no barrier
    r = ricci.minimize("sum(log(1 + exp(-y .* (X*w)))) + lambda*w'*w", "w", {"X": X, "y": y, "lambda": 1.0})
    assert r.method == "L-BFGS-B"
    assert ricci.minimize("norm2(X*w - y)^2", "w", {"X": X, "y": y}).method == "L-BFGS-B"
    # bounds and general constraints are L-BFGS-B's (and the augmented Lagrangian's)
    c = np.array([2.0, 4.0])
    r = ricci.minimize("c'*w - sum(log(w))", "w", {"c": c}, x0={"w": np.full(2, 0.3)}, bounds=["w <= 0.4"])
    assert r.method == "L-BFGS-B" and r.success
    np.testing.assert_allclose(r.x["w"], [0.4, 0.25], rtol=1e-6)
    r = ricci.minimize("c'*w - sum(log(w))", "w", {"c": c}, x0={"w": np.full(2, 0.5)}, constraints=["sum(w) == 1"])
    assert r.method != "trust-krylov" and r.success


def test_prepared_product_factorises_the_point_once():
    from ricci.codegen.products import several_hvp
    from ricci.language.expression import parse

    p = several_hvp(parse("-logdet(S) + tr(C*S)", SYMMETRIC), ["S"])
    tree = ast.parse(p.code("numpy", prepared=True))
    inner = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name.endswith("_in")]
    calls = [ast.unparse(c.func) for f in inner for c in ast.walk(f) if isinstance(c, ast.Call)]
    assert not [c for c in calls if "linalg" in c], calls  # no factorisation per direction
    # and the product is -∂(S⁻¹) = S⁻¹ V S⁻¹, written by hand
    rng = np.random.default_rng(1)
    B = rng.standard_normal((4, 4))
    S = B @ B.T + 4 * np.eye(4)
    apply = p.function("numpy", prepared=True)(S=S, C=np.eye(4))
    inv = np.linalg.inv(S)
    for seed in (2, 3):
        V = np.random.default_rng(seed).standard_normal((4, 4))
        V = V + V.T
        np.testing.assert_allclose(apply(V), inv @ V @ inv, rtol=1e-12, atol=1e-14)


def test_the_guard_checks_the_symmetric_part_of_a_general_argument():
    # logdet(M) of a general M: its symmetric part decides (here I, positive definite), not the
    # lower triangle read as a symmetric matrix ([[1, -3], [-3, 1]], indefinite)
    from ricci.solve.domain import Guard

    guard = Guard("logdet(M)", "positive definite", "M", ("M",))
    assert guard.holds({"M": np.array([[1.0, 3.0], [-3.0, 1.0]])})
    assert not guard.holds({"M": np.array([[1.0, 0.0], [0.0, -1.0]])})
    assert not guard.holds({"M": -np.eye(2)})  # det > 0, not positive definite
    assert not guard.holds({"M": np.array([[np.nan, 0.0], [0.0, 1.0]])})


def test_a_barrier_unbounded_below_is_not_reported_as_a_minimum():
    # c'*w - Σ log wᵢ with c₀ < 0 falls without bound along w₀; trust-krylov's model then stops
    # predicting an improvement far out, where ‖∇f‖ = 1 is "within 10·tol·|f|" of a huge |f|
    try:
        r = ricci.minimize("c'*w - sum(log(w))", "w", {"c": np.array([-1.0, 2.0])}, x0={"w": np.ones(2)})
    except ricci.RicciError as e:
        assert "unbounded below" in str(e)
    else:
        assert r.method == "trust-krylov"
        assert not r.success, r.message
        assert r.x["w"][0] > 1e6
