"""``ricci.minimize`` and ``ricci minimize``: solutions checked against closed forms and SciPy's own
solvers, the certificate from the convexity analysis, and every error a user can provoke.

The reference solutions are computed independently here (normal equations, Eckart–Young via the
SVD, ``scipy.optimize.nnls``), never copied from a run of ricci.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("scipy")  # the solve extra; before anything imports it

import ricci  # noqa: E402
from ricci.cli import main  # noqa: E402
from ricci.solve import SolveError, UnboundedError  # noqa: E402
from ricci.solve.result import GLOBAL  # noqa: E402

RIDGE = "norm2(X*w - y)^2 + lambda*w'*w"
LOGISTIC = "sum(log(1 + exp(-y .* (X*w)))) + lambda*w'*w"


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 7))
    y = X @ rng.standard_normal(7) + 0.3 * rng.standard_normal(60)
    return X, y


def _ridge_solution(X, y, lam):
    # ∇f = 2X'(Xw − y) + 2λw = 0  ⇔  (X'X + λI) w = X'y
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


# -- solutions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["auto", "L-BFGS-B", "Newton-CG", "trust-krylov", "newton"])
def test_ridge_reaches_the_normal_equations(regression, method):
    X, y = regression
    r = ricci.minimize(RIDGE, "w", {"X": X, "y": y, "lambda": 0.1}, method=method)
    want = _ridge_solution(X, y, 0.1)
    np.testing.assert_allclose(r.x["w"], want, rtol=1e-6, atol=1e-8)
    f_want = np.sum((X @ want - y) ** 2) + 0.1 * want @ want
    assert abs(r.fun - f_want) <= 1e-10 * f_want
    assert r.certificate == GLOBAL and r.convex is True
    assert r.grad_norm < 1e-5
    if method in ("Newton-CG", "trust-krylov"):
        assert r.nhev > 0  # the closed-form Hessian-vector product was used


def test_logistic_regression_is_stationary_and_certified(regression):
    X, y = regression
    labels = np.sign(y)
    r = ricci.minimize(LOGISTIC, "w", {"X": X, "y": labels, "lambda": 0.5}, method="newton-cg")
    w = r.x["w"]
    # the gradient written by hand: -X'(y ⊙ σ(-y ⊙ Xw)) + 2λw
    s = 1 / (1 + np.exp(labels * (X @ w)))
    grad = -X.T @ (labels * s) + 2 * 0.5 * w
    assert np.linalg.norm(grad) < 1e-6
    assert r.certificate == GLOBAL
    r2 = ricci.minimize(LOGISTIC, "w", {"X": X, "y": labels, "lambda": 0.5})
    np.testing.assert_allclose(r2.x["w"], w, rtol=1e-5, atol=1e-7)


def test_two_variables_reach_the_best_low_rank_approximation():
    # Eckart–Young: min ‖X − UV'‖² over rank-3 factors is the sum of the trailing σ²
    rng = np.random.default_rng(1)
    X = rng.standard_normal((12, 8))
    sigma = np.linalg.svd(X, compute_uv=False)
    r = ricci.minimize("norm2(X - U*V')^2", "U,V", {"X": X}, x0={"U": rng.standard_normal((12, 3)),
                                                             "V": rng.standard_normal((8, 3))},
                       method="newton-cg")
    assert abs(r.fun - np.sum(sigma[3:] ** 2)) <= 1e-6 * np.sum(sigma[3:] ** 2)
    assert r.x["U"].shape == (12, 3) and r.x["V"].shape == (8, 3)
    assert r.certificate.startswith("local: not proved convex")
    np.testing.assert_allclose(r.x["U"] @ r.x["V"].T, _truncated(X, 3), atol=1e-5)


def _truncated(X, k):
    u, s, vt = np.linalg.svd(X, full_matrices=False)
    return (u[:, :k] * s[:k]) @ vt[:k]


def test_dense_newton_for_several_variables_uses_the_products():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((6, 5))
    r = ricci.minimize("norm2(X - U*V')^2 + norm2(U)^2 + norm2(V)^2", ["U", "V"], {"X": X},
                       x0={"U": rng.standard_normal((6, 2)), "V": rng.standard_normal((5, 2))}, method="newton")
    assert r.grad_norm < 1e-6 and r.nhev > 0


def test_a_random_start_where_zero_is_critical():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 4))
    with pytest.raises(ricci.BadValueError, match=r"the size k of U is not fixed by the data; give a start, "
                                                   r"x0=\{'U': \.\.\.\}, or the size, sizes=\{'k': \.\.\.\}"):
        ricci.minimize("norm2(X - U*V')^2", "U,V", {"X": X})
    r = ricci.minimize("norm2(X - U*V')^2", "U,V", {"X": X}, sizes={"k": 2})
    assert any("critical point" in n for n in r.notes)
    assert r.fun < np.linalg.norm(X) ** 2 - 1  # left the saddle at zero


# -- bounds -------------------------------------------------------------------------------------

def test_nonnegative_least_squares_matches_scipy_nnls(regression):
    from scipy.optimize import nnls

    X, y = regression
    y = y - 2 * X[:, 0]  # make some coefficients want to be negative
    ref, rnorm = nnls(X, y)
    for bounds in (["w >= 0"], {"w": (0, None)}, ["0 <= w"]):
        r = ricci.minimize("norm2(X*w - y)^2", "w", {"X": X, "y": y}, bounds=bounds)
        assert (r.x["w"] >= 0).all() and (ref == 0).any()
        assert abs(r.fun - rnorm ** 2) <= 1e-8 * rnorm ** 2
        np.testing.assert_allclose(r.x["w"], ref, atol=1e-6)
        assert r.kkt_residual < 1e-6
        assert r.certificate == GLOBAL


def test_a_box_on_every_entry():
    # minimise ‖p − c‖² over 0 ≤ p ≤ 1: the projection of c onto the box
    c = np.array([-0.5, 0.3, 1.7, 0.9])
    r = ricci.minimize("norm2(p - c)^2", "p", {"c": c}, bounds=["0 <= p <= 1"])
    np.testing.assert_allclose(r.x["p"], np.clip(c, 0, 1), atol=1e-8)
    assert r.bounds == ["0 <= p <= 1"]


def test_infeasible_start_names_the_entry():
    with pytest.raises(SolveError, match=r"infeasible: w\[1\] = -2 is outside \[0, inf\]"):
        ricci.minimize("norm2(w - c)^2", "w", {"c": np.ones(3)}, x0={"w": [1, -2, 0]}, bounds=["w >= 0"])


def test_bounds_need_l_bfgs_b_in_each_surface(tmp_path, capsys):
    with pytest.raises(ricci.BadValueError, match="method='L-BFGS-B'"):
        ricci.minimize("norm2(w - c)^2", "w", {"c": np.ones(3)}, bounds=["w >= 0"], method="newton-cg")
    assert main(["minimize", "norm2(w - c)^2", "--wrt", "w", "--set", "c=1,2", "--bound", "w >= 0",
                 "--method", "newton-cg"]) == 2
    assert "--method L-BFGS-B" in capsys.readouterr().err


def test_general_constraints_are_refused_clearly():
    with pytest.raises(ricci.BadValueError, match="general constraint"):
        ricci.minimize("norm2(w - c)^2", "w", {"c": np.ones(3)}, bounds=["sum(w) == 1"])


# -- errors -------------------------------------------------------------------------------------

def test_a_variable_not_in_the_expression(regression):
    X, y = regression
    with pytest.raises(ricci.UnknownNameError, match=r"v does not appear in .*its variables are X, w, y, lambda"):
        ricci.minimize(RIDGE, "v", {"X": X, "y": y, "lambda": 0.1})


def test_data_of_the_wrong_shape_names_variable_and_dimension(regression):
    X, y = regression
    with pytest.raises(ricci.BadValueError, match=r"y has 59 entries, but X has 60 rows: both are the dimension"):
        ricci.minimize(RIDGE, "w", {"X": X, "y": y[:-1], "lambda": 0.1})
    with pytest.raises(ricci.BadValueError, match=r"the start w has 3 entries, but X has 7 columns"):
        ricci.minimize(RIDGE, "w", {"X": X, "y": y, "lambda": 0.1}, x0={"w": np.zeros(3)})
    with pytest.raises(ricci.BadValueError, match=r"lambda is a scalar"):
        ricci.minimize(RIDGE, "w", {"X": X, "y": y, "lambda": [0.1, 0.2]})


def test_missing_and_misplaced_values_speak_the_surface(regression, capsys):
    X, y = regression
    with pytest.raises(ricci.UnknownNameError, match=r"no value given for lambda: give data=\{'lambda': \.\.\.\}"):
        ricci.minimize(RIDGE, "w", {"X": X, "y": y})
    assert main(["minimize", "norm2(w - c)^2 + lambda*w'*w", "--wrt", "w", "--set", "c=1,2"]) == 2
    assert "--set lambda=... or --data lambda=FILE" in capsys.readouterr().err
    with pytest.raises(ricci.BadValueError, match=r"give its start as x0="):
        ricci.minimize(RIDGE, "w", {"X": X, "y": y, "lambda": 0.1, "w": np.zeros(7)})


def test_non_finite_data_names_the_variable(regression):
    X, y = regression
    y = y.copy()
    y[4] = np.nan
    with pytest.raises(ricci.BadValueError, match=r"the value of y is not finite at index 4"):
        ricci.minimize(RIDGE, "w", {"X": X, "y": y, "lambda": 0.1})


def test_non_finite_values_on_the_way():
    with pytest.raises(SolveError, match=r"f is not finite \(inf\) at the start, at t = 0"):
        ricci.minimize("t - log(t)", "t", kinds={"t": "scalar"})


def test_unbounded_below_is_detected_and_said():
    with pytest.raises(UnboundedError, match=r"unbounded below: f fell to -[0-9.e+]+ from"):
        ricci.minimize("w'*A*w - sum(w)", "w", {"A": -np.eye(3)})
    # with a bound the same function has a minimum... on a box
    r = ricci.minimize("w'*A*w - sum(w)", "w", {"A": -np.eye(3)}, bounds=["-1 <= w <= 1"])
    np.testing.assert_allclose(r.x["w"], [1, 1, 1])
    assert r.convex is False and "not convex" in r.certificate


def test_bad_arguments():
    with pytest.raises(ricci.BadValueError, match="unknown method"):
        ricci.minimize("norm2(w)^2", "w", x0={"w": np.ones(2)}, method="bfgs2")
    with pytest.raises(ricci.KindError, match="scalar function"):
        ricci.minimize("A*w", "w", {"A": np.eye(2)})
    with pytest.raises(ricci.UnknownNameError, match="wrt names a variable twice"):
        ricci.minimize("norm2(w)^2", "w,w")
    with pytest.raises(ricci.BadValueError, match=r"the size n of w is not fixed by the data; give a start, x0="):
        ricci.minimize("norm2(w)^2", "w")


# -- the command line -----------------------------------------------------------------------------

def test_cli_acceptance_prints_the_global_minimum_and_python_agrees(regression, tmp_path, capsys):
    X, y = regression
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    argv = ["minimize", RIDGE, "--wrt", "w", "--data", f"X={tmp_path / 'X.npy'}", "--data",
            f"y={tmp_path / 'y.npy'}", "--set", "lambda=0.1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "global minimum: the problem is convex (proved from the Hessian's structure)" in out
    want = _ridge_solution(X, y, 0.1)
    assert f"{want[0]:.6f}"[:7] in out
    assert main(argv + ["-o", str(tmp_path / "w.npy")]) == 0
    assert "solution written to" in capsys.readouterr().out
    python = ricci.minimize(RIDGE, "w", {"X": X, "y": y, "lambda": 0.1})
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), python.x["w"])  # the same numbers
    assert main(argv + ["--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["x"]["w"] == python.x["w"].tolist() and got["fun"] == python.fun
    assert got["certificate"] == GLOBAL


def test_cli_csv_data_bounds_and_npz_output(regression, tmp_path, capsys):
    X, y = regression
    np.savetxt(tmp_path / "X.csv", X, delimiter=",")
    np.savetxt(tmp_path / "y.csv", y, delimiter=",")
    assert main(["minimize", "norm2(X*w - y)^2", "--wrt", "w", "--data", f"X={tmp_path / 'X.csv'}",
                 "--data", f"y={tmp_path / 'y.csv'}", "--bound", "w >= 0", "-o", str(tmp_path / "w.npz")]) == 0
    out = capsys.readouterr().out
    assert "subject to w >= 0" in out and "KKT residual" in out
    w = np.load(tmp_path / "w.npz")["w"]
    python = ricci.minimize("norm2(X*w - y)^2", "w", {"X": np.loadtxt(tmp_path / "X.csv", delimiter=","),
                                                       "y": np.loadtxt(tmp_path / "y.csv", delimiter=",")},
                            bounds=["w >= 0"])
    np.testing.assert_array_equal(w, python.x["w"])


def test_cli_errors_have_no_traceback(tmp_path, capsys):
    assert main(["minimize", RIDGE, "--wrt", "w", "--data", "X=missing.npy"]) == 2
    err = capsys.readouterr().err
    assert "--data X=missing.npy: no such file" in err and "Traceback" not in err
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    assert main(["minimize", RIDGE, "--wrt", "w", "--data", f"X={tmp_path / 'bad.csv'}"]) == 2
    assert "cannot read it as numbers" in capsys.readouterr().err
    assert main(["minimize", "norm2(w)^2", "--wrt", "w", "--x0", "w=1,2", "-o", str(tmp_path / "w.txt2")]) == 2
    assert "write to a .npz, .npy, .csv or .json file" in capsys.readouterr().err
