"""``ricci.minimize(..., backend="jax")``: ricci's generated jax.numpy code under ``jax.jit``, in
float64, NumPy only at SciPy's boundary.

Each answer is checked against an independent one (the normal equations, Eckart–Young via the
SVD, the gradient written by hand) and against the NumPy backend on the same data.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")  # the solve extra
jax = pytest.importorskip("jax")  # the jax extra; before ricci's JAX backend imports it

import ricci  # noqa: E402
from ricci.cli import main  # noqa: E402
from ricci.solve.result import GLOBAL  # noqa: E402

RIDGE = "norm2(X*w - y)^2 + lambda*w'*w"
LOGISTIC = "sum(log(1 + exp(-y .* (X*w)))) + lambda*w'*w"


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 6))
    y = X @ rng.standard_normal(6) + 0.3 * rng.standard_normal(80)
    return X, y


@pytest.mark.parametrize("method", ["L-BFGS-B", "Newton-CG", "trust-krylov", "newton"])
def test_ridge_under_jit_reaches_the_normal_equations(regression, method):
    X, y = regression
    r = ricci.minimize(RIDGE, "w", {"X": X, "y": y, "lambda": 0.1}, method=method, backend="jax")
    want = np.linalg.solve(X.T @ X + 0.1 * np.eye(6), X.T @ y)
    # float64 throughout: float32 would stop near 1e-7 relative
    np.testing.assert_allclose(r.x["w"], want, rtol=1e-9, atol=1e-11)
    assert r.x["w"].dtype == np.float64 and isinstance(r.fun, float)
    assert r.backend == "jax" and r.certificate == GLOBAL
    ref = ricci.minimize(RIDGE, "w", {"X": X, "y": y, "lambda": 0.1}, method=method)
    # Newton-CG's last line search (‖∇f‖ ≈ 3e-8 against tol 1e-8) asks for a fall of f below its
    # rounding, where the backends' last bit decides whether it is taken: the same minimum to 1e-9
    agree = 1e-9 if method == "Newton-CG" else 1e-10
    np.testing.assert_allclose(r.x["w"], ref.x["w"], rtol=agree, atol=agree / 100)
    assert ref.backend == "numpy"


@pytest.mark.parametrize("method", ["L-BFGS-B", "Newton-CG"])
def test_logistic_regression_under_jit_is_stationary(regression, method):
    X, y = regression
    labels = np.sign(y)
    r = ricci.minimize(LOGISTIC, "w", {"X": X, "y": labels, "lambda": 0.5}, method=method, backend="jax")
    w = r.x["w"]
    s = 1 / (1 + np.exp(labels * (X @ w)))  # the gradient written by hand
    assert np.linalg.norm(-X.T @ (labels * s) + w) < 1e-6
    ref = ricci.minimize(LOGISTIC, "w", {"X": X, "y": labels, "lambda": 0.5}, method=method)
    np.testing.assert_allclose(w, ref.x["w"], rtol=1e-6, atol=1e-8)
    assert abs(r.fun - ref.fun) <= 1e-10 * abs(ref.fun)


@pytest.mark.parametrize("method", ["newton-cg", "newton"])
def test_two_variables_under_jit_reach_the_best_low_rank_approximation(method):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 7))
    x0 = {"U": rng.standard_normal((10, 3)), "V": rng.standard_normal((7, 3))}
    r = ricci.minimize("norm2(X - U*V')^2", "U,V", {"X": X}, x0=x0, method=method, backend="jax")
    sigma = np.linalg.svd(X, compute_uv=False)
    assert abs(r.fun - np.sum(sigma[3:] ** 2)) <= 1e-8 * np.sum(sigma[3:] ** 2)  # Eckart–Young
    assert r.nhev > 0 and r.x["U"].shape == (10, 3)
    ref = ricci.minimize("norm2(X - U*V')^2", "U,V", {"X": X}, x0=x0, method=method)
    np.testing.assert_allclose(r.x["U"] @ r.x["V"].T, ref.x["U"] @ ref.x["V"].T, atol=1e-7)


def test_bounds_and_constraints_with_the_jax_objective(regression):
    from scipy.optimize import nnls

    X, y = regression
    r = ricci.minimize("norm2(X*w - y)^2", "w", {"X": X, "y": y}, bounds=["w >= 0"], backend="jax")
    want, _ = nnls(X, y)
    np.testing.assert_allclose(r.x["w"], want, atol=1e-7)
    # the constraint's own functions stay NumPy; f and ∇f run under jit
    c = ricci.minimize("norm2(X*w - y)^2", "w", {"X": X, "y": y}, constraints=["sum(w) == 1"], backend="jax")
    # the equality-constrained least squares in closed form: the KKT system
    n = X.shape[1]
    K = np.block([[2 * X.T @ X, np.ones((n, 1))], [np.ones((1, n)), np.zeros((1, 1))]])
    sol = np.linalg.solve(K, np.concatenate([2 * X.T @ y, [1.0]]))
    np.testing.assert_allclose(c.x["w"], sol[:n], atol=1e-6)


def test_the_objective_is_jitted_and_the_global_setting_is_left_alone(regression):
    from ricci.solve.objective import Objective
    from ricci.solve.problem import build

    X, y = regression
    before = jax.config.jax_enable_x64
    problem, start = build(RIDGE, "w", {"X": X, "y": y, "lambda": 0.1}, None, None, None)
    obj = Objective(problem, start, "jax")
    assert hasattr(obj._jax.value_and_grad_fn, "lower")  # a jax.jit-wrapped function
    f, g = obj.value_and_grad(np.ones(6))
    assert isinstance(f, float) and isinstance(g, np.ndarray) and g.dtype == np.float64
    w = np.ones(6)
    np.testing.assert_allclose(f, np.sum((X @ w - y) ** 2) + 0.1 * w @ w, rtol=1e-14)
    np.testing.assert_allclose(g, 2 * X.T @ (X @ w - y) + 0.2 * w, rtol=1e-12)
    v = np.arange(6.0)
    np.testing.assert_allclose(obj.hessp(w, v), 2 * X.T @ (X @ v) + 0.2 * v, rtol=1e-12)
    assert jax.config.jax_enable_x64 == before


def test_non_finite_values_under_jit_are_reported():
    with pytest.raises(ricci.RicciError, match="f is not finite"):  # 1/0 (log's domain is checked before f)
        ricci.minimize("sum(1 ./ w)", "w", {}, x0={"w": np.array([1.0, 0.0])}, backend="jax")


def test_backend_errors(regression):
    X, y = regression
    with pytest.raises(ricci.BadValueError, match=r"unknown backend 'torch'; choose numpy or jax"):
        ricci.minimize(RIDGE, "w", {"X": X, "y": y, "lambda": 0.1}, backend="torch")


def test_dask_data_with_the_jax_backend_is_refused(regression):
    da = pytest.importorskip("dask.array")
    X, y = regression
    with pytest.raises(ricci.BadValueError, match=r"backend='jax' takes NumPy data; X is a Dask array"):
        ricci.minimize(RIDGE, "w", {"X": da.from_array(X), "y": y, "lambda": 0.1}, backend="jax")


def test_cli_backend_flag(regression, tmp_path, capsys):
    X, y = regression
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    argv = ["minimize", RIDGE, "--wrt", "w", "--data", f"X={tmp_path / 'X.npy'}", "--data",
            f"y={tmp_path / 'y.npy'}", "--set", "lambda=0.1", "-o", str(tmp_path / "w.npy")]
    assert main(argv + ["--backend", "jax"]) == 0
    out = capsys.readouterr().out
    assert GLOBAL in out and "backend jax" in out
    want = np.linalg.solve(X.T @ X + 0.1 * np.eye(6), X.T @ y)
    np.testing.assert_allclose(np.load(tmp_path / "w.npy"), want, rtol=1e-9)
    assert main(argv + ["--backend", "torch"]) == 2
    err = capsys.readouterr().err
    assert "unknown backend 'torch'; choose numpy or jax" in err and "Traceback" not in err
