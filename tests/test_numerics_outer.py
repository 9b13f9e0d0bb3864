"""Issue 22, known core bug #15: generated code for a product of arrays scaled by a power of a
scalar, (x - a)*(x - a)'/norm2(x - a)^3, at entries of 1e±150 and beyond.

Computed as written, the scalar power n³ over- or underflows (1e450, 1e-450) although the
product's entries are of order 1/n: the term came out 0 at ×1e150 with nothing for
check_finite to see.  The plan spreads the power over the product's factors (each divided by
n^1.5), in every backend and on the index path (x_i x_j x_k/n⁵ for the third derivative of
norm2(x)).  References: the closed forms in mpmath at 40 digits, from the very same inputs, and
d.evaluate (which scales its products by powers of two, ricci/ir/evaluate.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import backend_array

import ricci

mpmath = pytest.importorskip("mpmath")

BACKENDS = ["numpy", "jax", "torch", "array_api"]
RNG = np.random.default_rng(15)
X0 = RNG.uniform(-1, 1, 4)
A0 = RNG.uniform(-1, 1, 4)


def _unit_and_norm(v):
    """u = v/‖v‖ and ‖v‖ in mpmath (its exponents do not overflow)."""
    with mpmath.workdps(40):
        w = [mpmath.mpf(float(e)) for e in v]
        n = mpmath.sqrt(mpmath.fsum(e * e for e in w))
        return [e / n for e in w], n


def _hessian_of_distance(values):
    # ∂²‖x - a‖/∂x² = (I - u u')/‖x - a‖, u = (x - a)/‖x - a‖
    u, n = _unit_and_norm(np.asarray(values["x"]) - np.asarray(values["a"]))
    with mpmath.workdps(40):
        return np.array([[float(((1 if i == j else 0) - u[i] * u[j]) / n) for j in range(len(u))]
                         for i in range(len(u))])


def _third_of_norm(values):
    # ∂³‖x‖/∂x_i∂x_j∂x_k = (3 u_i u_j u_k - δ_ik u_j - δ_jk u_i - δ_ij u_k)/‖x‖²
    u, n = _unit_and_norm(values["x"])
    r = range(len(u))
    with mpmath.workdps(40):
        return np.array([[[float((3 * u[i] * u[j] * u[k] - (i == k) * u[j] - (j == k) * u[i] - (i == j) * u[k]) / n ** 2)
                           for k in r] for j in r] for i in r])


def _third_of_cube(values):
    # ∂³‖x‖³/∂x_i∂x_j∂x_k = 3 (δ_ik u_j + δ_jk u_i + δ_ij u_k - u_i u_j u_k): of order 1 at any scale
    u, _ = _unit_and_norm(values["x"])
    r = range(len(u))
    with mpmath.workdps(40):
        return np.array([[[float(3 * ((i == k) * u[j] + (j == k) * u[i] + (i == j) * u[k] - u[i] * u[j] * u[k]))
                           for k in r] for j in r] for i in r])


# (expression, order, kinds, reference, scales at which the answer is a normal float)
CASES = [
    ("norm2(x - a)", 2, {"a": "vector"}, _hessian_of_distance, (1.0, 1e150, 1e-150, 1e250, 1e-250)),
    ("(x - a)/norm2(x - a)", 1, {"a": "vector"}, _hessian_of_distance, (1.0, 1e150, 1e-150, 1e250, 1e-250)),
    ("norm2(x)", 3, {}, _third_of_norm, (1.0, 1e70, 1e-70, 1e120, 1e-120)),
    ("norm2(x)^3", 3, {}, _third_of_cube, (1.0, 1e150, 1e-150, 1e250, 1e-250)),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("expression, order, kinds, reference, scales", CASES, ids=[c[0] for c in CASES])
def test_a_product_scaled_by_a_power_of_a_norm_is_right_at_the_edges(expression, order, kinds, reference,
                                                                     scales, backend):
    d = ricci.derivative(expression, "x", order, kinds)
    convert = backend_array(backend)
    f = d.function(backend, check_finite=True)
    for scale in scales:
        values = {"x": X0 * scale, "a": A0 * scale}
        values = {n: values[n] for n in d.expression.variables}
        want = reference(values)
        with np.errstate(all="ignore"):
            got = np.asarray(f(**{n: convert(v) for n, v in values.items()}), dtype=float)
        where = f"{d.text} at ×{scale:g} ({backend})"
        # entries that are differences of terms of the largest entry's size: relative to it
        atol = 1e-12 * np.max(np.abs(want))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=atol, err_msg=where)
        np.testing.assert_allclose(got, np.asarray(d.evaluate(values), dtype=float), rtol=1e-12, atol=atol,
                                   err_msg=where)


def test_a_power_on_an_outer_product_is_spread_over_its_factors():
    # n**3 is never formed: each factor is divided by n**0.75 twice, a float for any float n
    code = ricci.derivative("norm2(x - a)", "x", 2, {"a": "vector"}).code("numpy")
    body = code.split('"""')[-1]
    assert "** 3" not in body, body


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_scalar_over_a_power_is_spread_too(backend):
    # the Hessian of q/c², q = x'Ax, c = x'x: its diagonal term -4q/c³ was 0 at entries of 1e60
    # (c³ = 1e360 is inf) while the answer is of order 1e-240, with nothing for check_finite to see.
    # f is homogeneous of degree -2, so H(s x) = s⁻⁴ H(x): the reference is the closed form at x,
    # written with NumPy, scaled
    d = ricci.derivative("x'*A*x/(x'*x)^2", "x", 2)
    convert = backend_array(backend)
    f = d.function(backend, check_finite=True)
    rng = np.random.default_rng(60)
    A, x = rng.standard_normal((4, 4)), rng.standard_normal(4)
    S, c, q = A + A.T, x @ x, x @ A @ x
    H = (S / c**2 - 4 * (np.outer(S @ x, x) + np.outer(x, S @ x)) / c**3 - 4 * q * np.eye(4) / c**3
         + 24 * q * np.outer(x, x) / c**4)
    for scale in (1.0, 1e60, 1e-60):
        with np.errstate(all="ignore"):
            got = np.asarray(f(x=convert(x * scale), A=convert(A)), dtype=float)
        want = H * scale**-4.0
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)),
                                   err_msg=f"×{scale:g} ({backend})")


def test_a_power_of_a_scalar_of_either_sign_is_not_split():
    # a**3 of a = -2 is -8, but its halves a**1.5 are not real (complex in Python, NaN in NumPy):
    # only a base that is >= 0 by construction (a norm, x @ x) is spread; found by tools/hunt.py
    # (`-(A/a)**3` by A at order 2 crashed with a complex cast)
    d = ricci.derivative("-(A/a)**3", "A", 2, {"A": "matrix", "a": "scalar"})
    f = d.function()
    A = np.random.default_rng(3).standard_normal((3, 3))
    for a in (-2.0, 2.0, np.float64(-0.5)):
        np.testing.assert_allclose(np.asarray(f(A=A, a=a), dtype=float), d.evaluate({"A": A, "a": a}),
                                   rtol=1e-12, atol=1e-12)
