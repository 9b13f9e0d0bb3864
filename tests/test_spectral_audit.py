"""Issue 18's audit: the spectral functions' gaps (svd at a matrix of any shape, the norms in
``ricci.analyse``) and the issue's acceptance points, each run against an independent reference
(NumPy/SciPy's own functions, central differences of them, mpmath where SciPy is the engine).

References are never ricci's own output: values come from NumPy/SciPy, derivatives from
central differences of NumPy/SciPy functions (``helpers.central_differences``)."""

import numpy as np
import pytest
from helpers import backend_array
from helpers import central_differences as _fd

import ricci
from ricci.language.errors import BadValueError

BACKENDS = ["numpy", "jax", "torch", "array_api"]


def _rng(seed):
    return np.random.default_rng(seed)


def _svd_padded(z):
    """NumPy's singular values, then n − m zeros for a wide m×n z (ricci's svd(X), documented)."""
    s = np.linalg.svd(z, compute_uv=False)
    return np.concatenate([s, np.zeros(z.shape[1] - s.size)])


# -- gap 1: svd and the norms at generic points of any shape --------------------------------------

SHAPES = [(5, 3), (3, 3), (3, 5), (2, 6)]  # tall, square, wide, very wide


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{m}x{n}" for m, n in SHAPES])
def test_svd_derivative_holds_at_a_matrix_of_any_shape(shape):
    # the padded zeros of a wide X are zero for every X of that shape: their derivative is 0;
    # the others' is u_i*v_i' (simple, positive singular values: a generic X)
    d = ricci.derivative("svd(X)", "X")
    for seed in range(3):
        x = _rng(seed).standard_normal(shape)
        np.testing.assert_allclose(d.evaluate({"X": x}), _fd(_svd_padded, x), atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5)], ids=["tall", "wide"])
def test_generated_svd_derivative_at_any_shape(backend, shape):
    x = _rng(3).standard_normal(shape)
    convert = backend_array(backend)  # skips where the backend is missing
    fn = ricci.derivative("svd(X)", "X").function(backend)
    np.testing.assert_allclose(np.asarray(fn(X=convert(x))), _fd(_svd_padded, x), atol=1e-6)


@pytest.mark.parametrize("expression", ["svd(X)", "norm(X, 2)", "norm(X, 'nuc')"])
def test_the_check_passes_at_random_points_of_any_shape(expression):
    d = ricci.derivative(expression, "X")
    for seed in range(4):  # the check draws its own sizes: some X wide, some tall
        assert "checked numerically" in str(d.check(seed=seed))
    for shape in SHAPES:
        x = _rng(5).standard_normal(shape)
        assert "checked numerically" in str(d.check({"X": x}))


def test_svd_still_refuses_where_a_singular_value_is_repeated_or_zero():
    u, _ = np.linalg.qr(_rng(6).standard_normal((3, 3)))
    v, _ = np.linalg.qr(_rng(7).standard_normal((5, 5)))
    d = ricci.derivative("svd(X)", "X")
    for spectrum in ([2.0, 2.0, 1.0], [2.0, 1.0, 0.0]):  # wide, a value repeated; rank deficient
        x = u @ np.diag(spectrum) @ v[:3]
        with pytest.raises(BadValueError, match="svd.X. has no derivative at this X"):
            d.evaluate({"X": x})
