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
        # L-BFGS-B stops when f falls by less than 64 ulp an iteration (solve/__init__.py's FTOL):
        # at f ≈ 831 a projected gradient g is then below what f can see (f − f* ≈ ‖g‖²/2λ_min
        # ≈ 1e-14 at ‖g‖ = 1e-6), so where it stops depends on the machine's rounding (1.5e-6
        # on one machine's BLAS, under 1e-6 on others): relative to f, as the restarts judge it
        assert r.kkt_residual < 1e-8 * r.fun
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


def test_a_general_constraint_given_as_a_bound_is_pointed_to_its_place(capsys):
    with pytest.raises(ricci.BadValueError, match=r"general constraint, not a bound .* constraints=\['sum\(w\) == 1'\]"):
        ricci.minimize("norm2(w - c)^2", "w", {"c": np.ones(3)}, bounds=["sum(w) == 1"])
    assert main(["minimize", "norm2(w - c)^2", "--wrt", "w", "--set", "c=1,2", "--bound", "sum(w) == 1"]) == 2
    assert "--subject-to 'sum(w) == 1'" in capsys.readouterr().err


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
        ricci.minimize("t + 1/t", "t", kinds={"t": "scalar"})
    # log's argument has a domain in the function table: the start is checked against it first
    with pytest.raises(SolveError, match=r"the start is outside the domain of f: log\(t\) needs t > 0"):
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


# -- general constraints (the augmented Lagrangian) ------------------------------------------------

def _simplex_qp_reference(Q, q):
    """min p'Qp + q'p over the simplex, exactly: the KKT system on every support, the feasible
    one with non-negative multipliers of the inactive entries."""
    from itertools import combinations

    n = len(q)
    best = None
    for k in range(1, n + 1):
        for S in combinations(range(n), k):
            S = list(S)
            # 2 Q_SS p_S + q_S + ν 1 = 0, 1'p_S = 1
            K = np.zeros((k + 1, k + 1))
            K[:k, :k] = 2 * Q[np.ix_(S, S)]
            K[:k, k] = 1
            K[k, :k] = 1
            sol = np.linalg.solve(K, np.concatenate([-q[S], [1.0]]))
            p = np.zeros(n)
            p[S] = sol[:k]
            grad = 2 * Q @ p + q + sol[k]
            if (p >= -1e-12).all() and (grad >= -1e-9).all():
                f = p @ Q @ p + q @ p
                if best is None or f < best[0]:
                    best = (f, p)
    return best


def test_simplex_constrained_quadratic_matches_the_exact_kkt_solution():
    rng = np.random.default_rng(4)
    n = 6
    B = rng.standard_normal((n, n))
    Q, q = B @ B.T + 0.1 * np.eye(n), rng.standard_normal(n)
    f_ref, p_ref = _simplex_qp_reference(Q, q)
    r = ricci.minimize("p'*Q*p + q'*p", "p", {"Q": Q, "q": q}, constraints=["sum(p) == 1", "p >= 0"])
    assert r.success and r.rounds >= 1
    assert abs(r.fun - f_ref) <= 1e-6 * max(1.0, abs(f_ref))
    np.testing.assert_allclose(r.x["p"], p_ref, atol=1e-6)
    assert abs(r.x["p"].sum() - 1) <= 1e-6 and (r.x["p"] >= 0).all()
    assert r.constraint_violation <= 1e-6 and r.kkt_residual <= 1e-5
    assert r.bounds == ["p >= 0"] and r.constraints == ["sum(p) == 1"]  # the bound went to L-BFGS-B
    assert r.certificate == GLOBAL  # f convex, the equality affine (its Jacobian reads no p)


def test_a_ball_and_a_linear_equality_have_their_closed_forms():
    c = np.array([3.0, 4.0])
    r = ricci.minimize("norm2(w - c)^2", "w", {"c": c}, constraints=["norm2(w)^2 <= 1"])
    np.testing.assert_allclose(r.x["w"], c / 5, atol=1e-6)  # the projection onto the unit ball
    assert r.multipliers["norm2(w)^2 <= 1"] == pytest.approx(4.0, rel=1e-5)  # 2(w - c) + 2μw = 0
    a = np.array([1.0, -2.0, 0.5])
    c = np.array([0.3, 0.1, -0.7])
    r = ricci.minimize("norm2(x - c)^2", "x", {"a": a, "c": c}, constraints=["a'*x == 1"])
    np.testing.assert_allclose(r.x["x"], c + a * (1 - a @ c) / (a @ a), atol=1e-7)


def _polyhedral_least_squares(M, c, A, b):
    """min ‖Mx − c‖² subject to Ax ≤ b, exactly: the KKT system on every active set, the
    feasible one with non-negative multipliers."""
    from itertools import combinations

    n, m = M.shape[1], A.shape[0]
    H, g = 2 * M.T @ M, 2 * M.T @ c
    for k in range(m + 1):
        for S in combinations(range(m), k):
            S = list(S)
            K = np.block([[H, A[S].T], [A[S], np.zeros((k, k))]])
            sol = np.linalg.solve(K, np.concatenate([g, b[S]]))
            x, mu = sol[:n], sol[n:]
            if (A @ x - b).max() <= 1e-10 and (mu >= -1e-10).all():
                return x
    raise AssertionError("no KKT point")  # pragma: no cover


def test_linear_inequalities_match_the_exact_active_set_solution():
    rng = np.random.default_rng(5)
    A, b, c, M = rng.standard_normal((4, 5)), rng.standard_normal(4), 2 * rng.standard_normal(8), \
        rng.standard_normal((8, 5))
    r = ricci.minimize("norm2(M*x - c)^2", "x", {"A": A, "b": b, "c": c, "M": M}, constraints=["A*x <= b"])
    x = _polyhedral_least_squares(M, c, A, b)
    f_ref = np.sum((M @ x - c) ** 2)
    assert abs(r.fun - f_ref) <= 1e-6 * f_ref
    np.testing.assert_allclose(r.x["x"], x, atol=1e-6)
    assert (A @ r.x["x"] - b).max() <= 1e-6
    assert r.certificate == GLOBAL


def test_an_infeasible_problem_says_so():
    r = ricci.minimize("norm2(p - c)^2", "p", {"c": np.ones(3)}, constraints=["sum(p) == 1", "p <= -1"])
    assert not r.success and "may be infeasible" in r.message
    assert r.certificate.startswith("no certified minimum")


def test_constraint_errors_name_the_constraint():
    data = {"c": np.ones(3), "A": np.ones((2, 3)), "b": np.ones(3)}
    with pytest.raises(ricci.BadValueError, match=r"the constraint 'A\*p <= b': the data b has 3 entries, but A "
                                                  r"has 2 rows"):
        ricci.minimize("norm2(p - c)^2", "p", data, constraints=["A*p <= b"])
    with pytest.raises(ricci.RicciSyntaxError, match="one comparison"):
        ricci.minimize("norm2(p - c)^2", "p", {"c": np.ones(3)}, constraints=["0 <= sum(p) <= 1"])
    with pytest.raises(ricci.BadValueError, match="does not involve p"):
        ricci.minimize("norm2(p - c)^2", "p", {"c": np.ones(3)}, constraints=["sum(c) == 1"])
    with pytest.raises(ricci.BadValueError, match=r"uses d, which has no value: give data=\{'d': \.\.\.\}"):
        ricci.minimize("norm2(p - c)^2", "p", {"c": np.ones(3)}, constraints=["d'*p == 1"])
    with pytest.raises(ricci.BadValueError, match="method='L-BFGS-B'"):
        ricci.minimize("norm2(p - c)^2", "p", {"c": np.ones(3)}, constraints=["sum(p) == 1"], method="newton")


def test_cli_subject_to(tmp_path, capsys):
    rng = np.random.default_rng(4)
    B = rng.standard_normal((4, 4))
    Q, q = B @ B.T + 0.1 * np.eye(4), rng.standard_normal(4)
    np.save(tmp_path / "Q.npy", Q)
    np.save(tmp_path / "q.npy", q)
    assert main(["minimize", "p'*Q*p + q'*p", "--wrt", "p", "--data", f"Q={tmp_path / 'Q.npy'}", "--data",
                 f"q={tmp_path / 'q.npy'}", "--subject-to", "sum(p) == 1", "--subject-to", "p >= 0",
                 "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    f_ref, _ = _simplex_qp_reference(Q, q)
    assert abs(got["fun"] - f_ref) <= 1e-6 * max(1.0, abs(f_ref))
    assert got["constraints"] == ["sum(p) == 1"] and got["certificate"] == GLOBAL


def test_cli_two_variables_with_a_size(tmp_path, capsys):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((6, 4))
    np.save(tmp_path / "X.npy", X)
    assert main(["minimize", "norm2(X - U*V')^2", "--wrt", "U,V", "--data", f"X={tmp_path / 'X.npy'}",
                 "--size", "k=2", "--method", "newton-cg", "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    sigma = np.linalg.svd(X, compute_uv=False)
    assert abs(got["fun"] - np.sum(sigma[2:] ** 2)) <= 1e-6 * np.sum(sigma[2:] ** 2)  # Eckart–Young
    assert np.shape(got["x"]["U"]) == (6, 2) and np.shape(got["x"]["V"]) == (4, 2)
    assert main(["minimize", "norm2(X - U*V')^2", "--wrt", "U,V", "--data", f"X={tmp_path / 'X.npy'}"]) == 2
    assert "--x0 U=..., or the size, --size k=..." in capsys.readouterr().err


# -- Dask: data larger than the memory of any one worker --------------------------------------------

def test_dask_arrays_run_the_array_api_code_and_give_the_numpy_answers():
    # the quick check of the Dask path (Dask's local scheduler, a small problem); the cluster
    # test below is the case of data larger than a worker's memory
    da = pytest.importorskip("dask.array")
    pytest.importorskip("array_api_compat")
    rng = np.random.default_rng(7)
    X = rng.standard_normal((3000, 6))
    y = X @ rng.standard_normal(6) + 0.2 * rng.standard_normal(3000)
    dX, dy = da.from_array(X, chunks=(500, 6)), da.from_array(y, chunks=500)
    for expression, labels in ((RIDGE, y), (LOGISTIC, np.sign(y))):
        for method in ("L-BFGS-B", "Newton-CG", "newton"):
            r = ricci.minimize(expression, "w", {"X": dX, "y": da.from_array(labels, chunks=500), "lambda": 0.5},
                               method=method)
            ref = ricci.minimize(expression, "w", {"X": X, "y": labels, "lambda": 0.5}, method=method)
            # Dask sums chunk by chunk, NumPy in one pass: the rounding differs in the last bits,
            # and an iterative solver's path amplifies that a little (1.3e-9 was seen with
            # Newton-CG); 1e-7 is still far below the solver's own tolerance on w
            np.testing.assert_allclose(r.x["w"], ref.x["w"], rtol=1e-7, atol=1e-9)
            assert abs(r.fun - ref.fun) <= 1e-9 * ref.fun
            assert r.certificate == GLOBAL  # the proof treats the Dask arrays as symbols
    bad = dy.copy()
    bad[7] = np.nan
    with pytest.raises(ricci.BadValueError, match="the value of y is not finite"):
        ricci.minimize(RIDGE, "w", {"X": dX, "y": bad, "lambda": 0.5})
    with pytest.raises(ricci.BadValueError, match=r"the data y has 2999 entries, but X has 3000 rows"):
        ricci.minimize(RIDGE, "w", {"X": dX, "y": dy[1:], "lambda": 0.5})
    with pytest.raises(ricci.BadValueError, match="general constraints are solved with NumPy data; X, y are Dask"):
        ricci.minimize(RIDGE, "w", {"X": dX, "y": dy, "lambda": 0.5}, constraints=["sum(w) == 1"])


def test_dask_least_squares_and_logistic_regression_on_a_cluster_smaller_than_the_data():
    # The data (168 MiB) is generated chunk by chunk on the workers and never held whole by any:
    # each worker may use 160 MiB (past which it spills and pauses; it is not killed, so that a
    # loaded machine cannot make the test flaky).  This takes tens of seconds: ~35 passes over
    # the data on two single-threaded workers.  Every evaluation of f, ∇f and the Hessian is ricci's
    # array-API code on Dask arrays, computed chunk-parallel on the cluster; the answers must
    # equal those of the same data in NumPy (materialised here, in the test's own process).
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("array_api_compat")
    import dask

    m, n = 1_100_000, 20
    limit = 160 * 2**20
    with dask.config.set({"distributed.worker.memory.terminate": False}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=limit, processes=True,
                                     dashboard_address=":0", silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:
        assert all(w["memory_limit"] == limit for w in client.scheduler_info()["workers"].values())
        rng = da.random.default_rng(0)
        X = rng.standard_normal((m, n), chunks=(100_000, n))
        assert X.nbytes > limit
        y = X @ np.linspace(-1, 1, n) + 0.5 * rng.standard_normal(m, chunks=100_000)
        labels = da.sign(y)
        X_np, y_np, labels_np = dask.compute(X, y, labels)
        for expression, data, local in (
                (RIDGE, {"X": X, "y": y, "lambda": 1.0}, {"X": X_np, "y": y_np, "lambda": 1.0}),
                (LOGISTIC, {"X": X, "y": labels, "lambda": 1.0}, {"X": X_np, "y": labels_np, "lambda": 1.0})):
            r = ricci.minimize(expression, "w", data, method="newton")
            ref = ricci.minimize(expression, "w", local, method="newton")
            assert r.success and r.certificate == GLOBAL
            assert abs(r.fun - ref.fun) <= 1e-9 * ref.fun
            np.testing.assert_allclose(r.x["w"], ref.x["w"], rtol=1e-7, atol=1e-9)
