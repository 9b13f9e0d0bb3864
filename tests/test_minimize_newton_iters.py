"""Newton-CG in relative units (issue 19, solve/newton.py): fewer iterations, the gradient
tolerance honoured, the same minimum as an independent solve, H·v's point-part once per point."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("scipy")

import ricci  # noqa: E402
from ricci.solve import newton, objective  # noqa: E402

LOGISTIC = "sum(log(1 + exp(-y .* (X*w)))) + lambda*w'*w"


def _data(m, n, seed=1):
    """benchmarks/minimize_logistic.py's data: labels ±1 from a logistic model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    w_true = rng.standard_normal(n) / np.sqrt(n)
    y = np.where(rng.random(m) < 1 / (1 + np.exp(-3 * X @ w_true)), 1.0, -1.0)
    return X, y


def _f(X, y, w, lam=1.0):
    return float(np.sum(np.logaddexp(0, -y * (X @ w))) + lam * w @ w)


def _grad(X, y, w, lam=1.0):
    """∇f written by hand: -X'(y ⊙ σ(-y ⊙ Xw)) + 2λw."""
    return -X.T @ (y * np.exp(-np.logaddexp(0, y * (X @ w)))) + 2 * lam * w


def _reference(X, y, lam=1.0):
    """An independent minimiser: SciPy's trust-exact on the hand-written f, ∇f and dense Hessian."""
    import scipy.optimize as so

    def hess(w):
        s = np.exp(-np.logaddexp(0, -y * (X @ w)))
        return (X * (s * (1 - s))[:, None]).T @ X + 2 * lam * np.eye(X.shape[1])

    r = so.minimize(lambda w: _f(X, y, w, lam), np.zeros(X.shape[1]), jac=lambda w: _grad(X, y, w, lam),
                    hess=hess, method="trust-exact", options={"gtol": 1e-11})
    assert np.abs(_grad(X, y, r.x, lam)).max() < 1e-9
    return r.x


@pytest.mark.parametrize("m, n", [(2000, 50), (5000, 100)])
def test_newton_cg_reaches_the_reference_with_the_gradient_within_tol(m, n):
    X, y = _data(m, n)
    r = ricci.minimize(LOGISTIC, "w", {"X": X, "y": y, "lambda": 1.0}, method="newton-cg", tol=1e-9,
                       certify=False)
    w_ref = _reference(X, y)
    assert r.success
    # tol is the gradient's largest entry, for Newton-CG as for L-BFGS-B (before: 3.3e-8 at 2000×50,
    # accepted only by the looser stationarity check after SciPy's line search gave up)
    assert np.abs(_grad(X, y, r.x["w"])).max() <= 1e-9
    assert abs(r.fun - _f(X, y, w_ref)) <= 1e-12 * abs(r.fun)
    assert np.linalg.norm(r.x["w"] - w_ref) <= 1e-8 * np.linalg.norm(w_ref)
    # Newton's local convergence: 12 and 14 iterations before (the inner solves stayed at η = 0.5)
    assert r.nit <= 9
    assert r.nfev <= r.nit + 2


def test_newton_cg_matches_scikit_learn():
    sklearn = pytest.importorskip("sklearn.linear_model")
    X, y = _data(3000, 40, seed=2)
    r = ricci.minimize(LOGISTIC, "w", {"X": X, "y": y, "lambda": 0.5}, method="newton-cg", certify=False)
    model = sklearn.LogisticRegression(C=1.0, fit_intercept=False, solver="newton-cg", tol=1e-10,
                                       max_iter=1000).fit(X, y)
    assert abs(r.fun - _f(X, y, model.coef_.ravel(), 0.5)) <= 1e-9 * abs(r.fun)


def test_units_are_exact_powers_of_two_that_keep_the_curvature_test_below_tol():
    X, y = _data(2000, 50)
    problem, start = _problem(X, y)
    obj = objective.Objective(problem, start)
    c, s, hg = newton.units(obj, start, 1e-9)
    assert math.frexp(c)[0] == 0.5 and math.frexp(s)[0] == 0.5  # powers of two: scaling is exact
    g0 = _grad(X, y, start)
    g1 = np.abs(g0).sum()
    assert s / c == pytest.approx(g1, rel=0.5)  # the gradient's ℓ1 norm relative to the start's
    mu0 = g0 @ hg / (g0 @ g0)
    # SciPy's test pᵀH_u p ≤ 3ε with p = the gradient in u, at a gradient of size tol along the start's curvature
    curvature_at_tol = (c ** 4 / s ** 3) * mu0 * 1e-9 ** 2
    assert curvature_at_tol >= np.finfo(float).eps  # fires only below ε·μ0 curvature, not at tol
    assert np.allclose(hg, (X * _sigma_weights(X, y, start)[:, None]).T @ (X @ g0) + 2 * g0)


def _sigma_weights(X, y, w):
    s = np.exp(-np.logaddexp(0, -y * (X @ w)))
    return s * (1 - s)


def _problem(X, y):
    from ricci.solve.problem import build

    return build(LOGISTIC, "w", {"X": X, "y": y, "lambda": 1.0}, None, None, None)


class _Concave:
    """f = -½‖x‖² near its start: negative curvature along the gradient."""

    def value_and_grad(self, z):
        return -0.5 * float(z @ z), -np.asarray(z, dtype=float)

    def hessp(self, z, v):
        return -np.asarray(v, dtype=float)


def test_units_keep_the_users_where_the_start_curves_down_or_is_stationary():
    assert newton.units(_Concave(), np.ones(3), 1e-8) == (1.0, 1.0, None)
    assert newton.units(_Concave(), np.zeros(3), 1e-8) == (1.0, 1.0, None)


def test_the_point_part_of_hv_is_prepared_once_per_point_and_no_product_twice(monkeypatch):
    X, y = _data(2000, 50)
    real = objective.compiled_hvp
    points: list = []
    products = {"n": 0}

    def counting(source, names, kinds, backend="numpy", prepared=False):
        p, fn = real(source, names, kinds, backend, prepared)
        assert prepared

        def at(**values):
            points.append(np.array(values["w"]))
            inner = fn(**values)

            def apply(*ds):
                products["n"] += 1
                return inner(*ds)
            return apply
        return p, at

    monkeypatch.setattr(objective, "compiled_hvp", counting)
    r = ricci.minimize(LOGISTIC, "w", {"X": X, "y": y, "lambda": 1.0}, method="newton-cg", tol=1e-9,
                       certify=False)
    # one preparation per distinct point: never the same point prepared twice
    assert len(points) == len({p.tobytes() for p in points})
    assert len(points) <= r.nit + 1
    # every product computed is counted once; the start's product for the units is SciPy's first
    assert products["n"] == r.nhev
