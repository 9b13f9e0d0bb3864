"""Minimising over a symmetric matrix (``kinds={"S": "symmetric matrix"}``): S is parametrised by
its lower triangle, n(n+1)/2 coordinates, and stays symmetric at every point.

The answers are checked against closed forms worked out here: the inverse covariance
(∇ = C − S⁻¹ = 0), its ridge-regularised form through C's eigenvalues, and the projection of a
matrix onto the symmetric (non-negative) matrices; the triangle's gradient and H·v against
central differences of f.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")  # the solve extra

import ricci  # noqa: E402
from ricci.cli import main  # noqa: E402

SYM = {"S": "symmetric matrix"}
COVARIANCE = "-logdet(S) + tr(C*S)"


@pytest.fixture(scope="module")
def covariance():
    rng = np.random.default_rng(4)
    Z = rng.standard_normal((40, 5))
    return Z.T @ Z / 40  # a sample covariance, SPD


@pytest.mark.parametrize("method", ["L-BFGS-B", "Newton-CG", "trust-krylov", "newton"])
def test_the_inverse_covariance_is_the_minimum(covariance, method):
    C = covariance
    r = ricci.minimize(COVARIANCE, "S", {"C": C}, kinds=SYM, x0={"S": np.eye(5)}, method=method)
    S = r.x["S"]
    assert S.shape == (5, 5) and np.array_equal(S, S.T)
    np.testing.assert_allclose(S, np.linalg.inv(C), rtol=1e-6, atol=1e-8)
    assert abs(r.fun - (np.linalg.slogdet(C)[1] + 5)) <= 1e-10 * 10  # -logdet(C⁻¹) + tr(I)
    assert r.success


def test_a_regularised_covariance_through_the_eigenvalues(covariance):
    # ∇ = −S⁻¹ + C + 2λS = 0: S shares C's eigenvectors, each eigenvalue s with 2λs² + cs − 1 = 0
    C, lam = covariance, 0.3
    c, Q = np.linalg.eigh(C)
    s = (-c + np.sqrt(c * c + 8 * lam)) / (4 * lam)
    want = (Q * s) @ Q.T
    r = ricci.minimize(COVARIANCE + " + lambda*norm2(S)^2", "S", {"C": C, "lambda": lam}, kinds=SYM,
                       x0={"S": np.eye(5)}, method="newton-cg")
    np.testing.assert_allclose(r.x["S"], want, rtol=1e-7, atol=1e-9)


def test_the_nearest_symmetric_and_nonnegative_matrix():
    # ‖S − A‖² over symmetric S: each pair (S_ij = S_ji) is the mean of A_ij and A_ji; with S >= 0
    # entry by entry, the mean clipped at zero
    A = np.array([[1.0, -2.0, 4.0], [3.0, -1.0, 0.5], [-6.0, 2.5, 2.0]])
    r = ricci.minimize("norm2(S - A)^2", "S", {"A": A}, kinds=SYM)
    np.testing.assert_allclose(r.x["S"], (A + A.T) / 2, atol=1e-9)
    b = ricci.minimize("norm2(S - A)^2", "S", {"A": A}, kinds=SYM, bounds=["S >= 0"])
    np.testing.assert_allclose(b.x["S"], np.maximum(0, (A + A.T) / 2), atol=1e-9)
    assert b.kkt_residual < 1e-8


def test_triangle_gradient_and_hessian_products_match_central_differences(covariance):
    from ricci.solve.objective import Objective
    from ricci.solve.problem import build

    C = covariance
    problem, start = build(COVARIANCE + " + tr(S*S*S)", "S", {"C": C}, {"S": np.eye(5)}, None, SYM)
    assert problem.size == 15 and start.shape == (15,)
    obj = Objective(problem, start)
    rng = np.random.default_rng(5)
    B = rng.standard_normal((5, 5))
    z = problem.pack({"S": 2 * np.eye(5) + 0.05 * (B + B.T)})

    def f(z):
        S = problem.unpack(z)["S"]
        return -np.linalg.slogdet(S)[1] + np.trace(C @ S) + np.trace(S @ S @ S)

    h = 1e-6
    _, g = obj.value_and_grad(z)
    fd = np.array([(f(z + h * e) - f(z - h * e)) / (2 * h) for e in np.eye(15)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7)
    v = rng.standard_normal(15)
    hv = (obj.value_and_grad(z + h * v)[1] - obj.value_and_grad(z - h * v)[1]) / (2 * h)
    np.testing.assert_allclose(obj.hessp(z, v), hv, rtol=1e-5, atol=1e-6)
    H = obj.hess(z)
    np.testing.assert_allclose(H, H.T, atol=1e-9)
    np.testing.assert_allclose(H @ v, obj.hessp(z, v), rtol=1e-10, atol=1e-10)


def test_the_jax_backend_over_a_symmetric_matrix(covariance):
    pytest.importorskip("jax")
    C = covariance
    for method in ("L-BFGS-B", "Newton-CG", "newton"):
        r = ricci.minimize(COVARIANCE, "S", {"C": C}, kinds=SYM, x0={"S": np.eye(5)}, method=method, backend="jax")
        np.testing.assert_allclose(r.x["S"], np.linalg.inv(C), rtol=1e-6, atol=1e-8)


def test_a_start_that_is_not_symmetric_is_refused(covariance):
    start = np.eye(5)
    start[0, 3] = 0.5
    with pytest.raises(ricci.BadValueError, match=r"the start of S is not symmetric: S\[0, 3\] = 0.5 but "
                                                   r"S\[3, 0\] = 0; S is a symmetric matrix"):
        ricci.minimize(COVARIANCE, "S", {"C": covariance}, kinds=SYM, x0={"S": start})


def test_non_finite_on_the_way_names_a_triangle_entry():
    # the gradient of sum(S.^(1/3)) is S.^(-2/3)/3: at a zero entry of the default start it is
    # infinite while f is 0 (log(S) would be refused first: outside its domain at the start)
    with pytest.raises(ricci.RicciError, match=r"∇f at S\[0, 0\] is not finite"):
        ricci.minimize("sum(S.^(1/3)) + norm2(S)^2", "S", {}, kinds=SYM, sizes={"n": 2})


def test_cli_symmetric_variable(tmp_path, capsys):
    A = np.array([[1.0, -2.0], [4.0, 3.0]])
    np.save(tmp_path / "A.npy", A)
    assert main(["minimize", "norm2(S - A)^2", "--wrt", "S", "--kind", "S=symmetric", "--data",
                 f"A={tmp_path / 'A.npy'}", "-o", str(tmp_path / "S.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "S.npy"), (A + A.T) / 2, atol=1e-9)
    assert main(["minimize", "norm2(S - A)^2", "--wrt", "S", "--kind", "S=symmetric", "--data",
                 f"A={tmp_path / 'A.npy'}", "--x0", "S=[1,2;3,4]"]) == 2
    err = capsys.readouterr().err
    assert "the start of S is not symmetric" in err and "Traceback" not in err


def test_a_constraint_on_a_symmetric_variable():
    # ‖S − A‖² over symmetric S with sum(S) = 1: the constraint's gradient is the matrix of ones,
    # so every entry of (A + A')/2 moves by the same (sum(A) − 1)/n²; an off-diagonal coordinate
    # of the triangle counts twice in sum(S)
    A = np.array([[1.0, -2.0, 4.0], [3.0, -1.0, 0.5], [-6.0, 2.5, 2.0]])
    r = ricci.minimize("norm2(S - A)^2", "S", {"A": A}, kinds=SYM, constraints=["sum(S) == 1"])
    want = (A + A.T) / 2 - (A.sum() - 1) / 9
    np.testing.assert_allclose(r.x["S"], want, atol=1e-7)
    assert r.constraint_violation < 1e-8
