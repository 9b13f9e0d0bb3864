"""d.evaluate at scales where a factor of a product is below or above the float range although
the product is not (issue 22: never a silent wrong number).

The Hessian of x*norm2(x) is δ x/‖x‖ (three ways) - x x x/‖x‖³: at ‖x‖ ≈ 1e155 the factor ‖x‖⁻³
is 1e-467, below the smallest float, and x x x is 1e465, above the largest, while their product is
of order one.  Computed factor by factor the term came out 0 and the Hessian wrong by 0.5 without
a word.  The references here are the closed forms at a point scaled down, times the power of the
scale that the derivative's homogeneity gives (exact: the scale is a power of two)."""

from __future__ import annotations

import numpy as np
import pytest

import ricci

BIG = 2.0 ** 515  # about 1.1e155
SMALL = 2.0 ** -515


def _norm_hessian(x):
    """∂²(x‖x‖)_i/∂x_j∂x_k, written out with NumPy at a modest point."""
    r = np.linalg.norm(x)
    eye = np.eye(len(x))
    return (np.einsum("jk,i->ijk", eye, x) + np.einsum("ik,j->ijk", eye, x) + np.einsum("ij,k->ijk", eye, x)) / r \
        - np.einsum("i,j,k->ijk", x, x, x) / r ** 3


@pytest.mark.parametrize("scale", [BIG, SMALL, 2.0 ** 300, 2.0 ** -300, 1.0])
def test_hessian_of_x_times_its_norm_at_every_scale(scale):
    x = np.array([1.0, 2.0, -1.5])
    d = ricci.derivative("x*norm2(x)", "x", 2)
    # homogeneous of degree 0 in x: the same tensor at every scale
    np.testing.assert_allclose(d.evaluate({"x": x * scale}), _norm_hessian(x), rtol=1e-12, atol=1e-15)


def test_a_term_that_truly_underflows_is_zero_not_an_error():
    # the gradient of 1/‖x‖^4 at 1e200 is -4x/‖x‖^6 ≈ 1e-1000: zero in float64, rightly
    x = np.array([1e200, -2e200])
    d = ricci.derivative("1/norm2(x)^4", "x", 1)
    np.testing.assert_array_equal(d.evaluate({"x": x}), np.zeros(2))
