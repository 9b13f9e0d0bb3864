"""Generated code for the four-index Fréchet tensors of second derivatives (issue 18, acceptance 1).

The Hessian of tr(f(X)) for f = expm, sqrtm, logm (and of tr(X^0.5), read as expm(0.5*logm(X)))
is a tensor of four indices that contains the Fréchet derivative of f as a tensor,
∂f(X)_pq/∂X_ab.  Each backend's generated Hessian is compared with central finite differences of
the gradient written with SciPy's own functions (∂tr(f(X))/∂X = f′(X)', a closed form independent
of ricci: expm(X)', inv(X)', 0.5*inv(sqrtm(X))', 0.5*(X^-0.5)'), and with ``d.evaluate``.
Each backend skips, before it is imported, where its package is missing.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import backend_array
from helpers import central_differences as _fd

import ricci

scipy_linalg = pytest.importorskip("scipy.linalg")

BACKENDS = ["numpy", "jax", "torch", "array_api"]


def _gradients():
    la = scipy_linalg
    return {
        "tr(expm(X))": lambda x: la.expm(x).T,
        "tr(logm(X))": lambda x: np.linalg.inv(x).T,
        "tr(sqrtm(X))": lambda x: 0.5 * np.linalg.inv(np.real(la.sqrtm(x))).T,
        "tr(X^0.5)": lambda x: 0.5 * np.real(la.fractional_matrix_power(x, -0.5)).T,
    }


TEXTS = list(_gradients())


def _points():
    """X = I + 0.3·random (non-symmetric, eigenvalues near 1: inside every domain), and a
    symmetric positive definite one (the Daleckii–Krein path of d.evaluate)."""
    rng = np.random.default_rng(1818)
    general = np.eye(3) + 0.3 * rng.uniform(-1, 1, (3, 3))
    b = rng.uniform(-1, 1, (4, 4))
    return [general, np.eye(4) + 0.1 * (b @ b.T)]


def _hessian(text, backend, x, order=2):
    to = backend_array(backend)  # skips where the backend's package is missing
    d = ricci.derivative(text, wrt="X", order=order)
    fn = d.function(backend=backend)
    got = fn(to(x))
    if backend == "torch":
        got = got.detach()
    return d, np.asarray(got, dtype=float)


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_generated_hessian_matches_finite_differences_of_scipy(backend, text):
    grad = _gradients()[text]
    for x in _points():
        d, got = _hessian(text, backend, x)
        n = x.shape[0]
        assert got.shape == (n, n, n, n)
        # ricci's layout: H[i, j, k, l] = ∂²f/∂X_ij∂X_kl = ∂(∂f/∂X_ij)/∂X_kl
        np.testing.assert_allclose(got, _fd(grad, x), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(got, np.asarray(d.evaluate({"X": x}), dtype=float), rtol=1e-9, atol=1e-10)


def test_second_derivative_through_a_frechet_operator_is_still_refused_by_name():
    # u'*expm(X)*v twice by X would need the second Fréchet derivative, which ricci does not write
    # (docs/matrix_functions.md): a clear error, not code
    with pytest.raises(ricci.RicciError, match="expm_frechet"):
        ricci.derivative("u'*expm(X)*v", wrt="X", order=2)


@pytest.mark.parametrize("name", ["expm", "logm", "sqrtm"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_generated_jacobian_of_a_matrix_function_is_its_frechet_tensor(backend, name):
    # f(X) by X: the four-index tensor itself, ∂f(X)_pq/∂X_ab, against finite differences of SciPy's f
    f = {"expm": scipy_linalg.expm, "logm": scipy_linalg.logm, "sqrtm": scipy_linalg.sqrtm}[name]
    for x in _points():
        d, got = _hessian(f"{name}(X)", backend, x, order=1)
        np.testing.assert_allclose(got, _fd(lambda y: np.real(f(y)), x), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(got, np.asarray(d.evaluate({"X": x}), dtype=float), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_diagonal_of_the_frechet_tensor(backend):
    # diag(expm(X)) by X is expm_frechet(X)_iijk: the tensor's diagonal in its first two indices
    for x in _points():
        d, got = _hessian("diag(expm(X))", backend, x, order=1)
        np.testing.assert_allclose(got, _fd(lambda y: np.diag(scipy_linalg.expm(y)), x), rtol=1e-6, atol=1e-7)
