"""Matrix powers ``A^k`` (ARCHITECTURE §2: "square matrix to an integer power is optional").

``^`` keeps forcing its base to be a scalar where that reading exists (``X^2`` alone makes X a
scalar, as §2 says); where no kinds make every base a scalar — X declared a matrix, or used as
one (``tr(X^3)``) — ``A^k`` of a square matrix and an integer literal k is the matrix power,
written out as the product A*A*…*A (``inv(A)`` for k < 0, the identity for k = 0).  Each
identity is checked against a closed form, finite differences and the re-parsed text
(:func:`helpers.check_derivative`).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_derivative, random_values

import ricci
from ricci.language.errors import KindError, ShapeError

mpow = np.linalg.matrix_power
inv = np.linalg.inv


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_trace_of_power(k):
    # Matrix Cookbook (106): ∂tr(X^k)/∂X = k (X^(k-1))'
    check_derivative(f"tr(X^{k})", "X", closed=lambda v: k * mpow(v["X"], k - 1).T)


@pytest.mark.parametrize("k", [2, 3])
def test_bilinear_form_of_power(k):
    # Matrix Cookbook (90): ∂a'X^k b/∂X = Σ_r (X^r)' a b' (X^(k-1-r))'
    def closed(v):
        a, b, X = v["a"], v["b"], v["X"]
        return sum(mpow(X, r).T @ np.outer(a, b) @ mpow(X, k - 1 - r).T for r in range(k))

    check_derivative(f"a'*X^{k}*b", "X", kinds={"a": "vector", "b": "vector", "X": "matrix"},
                     closed=closed)


def test_negative_power_is_a_power_of_the_inverse():
    # tr(X^-2) = tr(inv(X)^2): ∂/∂X = -2 (X^-3)'
    check_derivative("tr(X^-2)", "X", closed=lambda v: -2 * mpow(inv(v["X"]), 3).T)


def test_power_zero_is_the_identity():
    kinds = {"X": "matrix"}
    check_derivative("tr(X^0*A)", "A", kinds=kinds, closed=lambda v: np.eye(v["X"].shape[0]))
    assert ricci.parse("tr(X^0*A)", kinds).tree == ricci.parse("tr(eye*A)").tree


def test_quadratic_form_with_a_declared_matrix_power():
    # x'A^2x by x: x'(A^2 + (A^2)')
    check_derivative("x'*A^2*x", "x", kinds={"A": "matrix"},
                     closed=lambda v: v["x"] @ (mpow(v["A"], 2) + mpow(v["A"], 2).T))


def test_hessian_of_trace_of_cube():
    # ∂²tr(X³)/∂X_ij∂X_kl = 3 (δ_jk X_li + δ_il X_jk)
    def closed(v):
        X = v["X"]
        n = X.shape[0]
        E = np.eye(n)
        return 3 * (np.einsum("jk,li->ijkl", E, X) + np.einsum("il,jk->ijkl", E, X))

    check_derivative("tr(X^3)", "X", order=2, closed=closed)


def test_jacobian_of_a_matrix_power():
    # ∂(X²)_pq/∂X_ij = δ_qj X_pi + δ_pi X_jq
    def closed(v):
        X = v["X"]
        E = np.eye(X.shape[0])
        return np.einsum("qj,pi->pqij", E, X) + np.einsum("pi,jq->pqij", E, X)

    check_derivative("X^2", "X", kinds={"X": "matrix"}, closed=closed)


def test_value_equals_numpy_matrix_power():
    X = np.arange(9.0).reshape(3, 3) / 10 + np.eye(3)
    for k in (-3, -1, 0, 1, 2, 5):
        got = ricci.parse(f"X^{k}", {"X": "matrix"}).evaluate({"X": X})
        np.testing.assert_allclose(got, mpow(X, k), rtol=1e-12, atol=1e-12)


def test_the_scalar_reading_wins_where_it_exists():
    e = ricci.parse("X^2")
    assert e.variables["X"].kind == "scalar" and e.variables["X"].source == "forced"
    e = ricci.parse("tr(X^2)")
    assert e.variables["X"].kind == "matrix" and e.variables["X"].source == "assumed"
    assert e.variables["X"].dims[0] == e.variables["X"].dims[1]  # square


def test_display_keeps_the_users_power_and_round_trips():
    kinds = {"a": "vector", "b": "vector", "X": "matrix"}
    e = ricci.parse("a'*X^3*b", kinds)
    assert str(e) == "a'*X^3*b"
    assert e.latex == r"a^\top X^{3} b"
    assert ricci.parse(str(e), e.kinds) == e
    d = ricci.derivative("a'*X^3*b", "X", kinds=kinds)
    assert str(d.expression) == "a'*X^3*b"
    values = random_values("a'*X^3*b", kinds, seed=3)
    np.testing.assert_allclose(d.function()(**values), d.evaluate(values), rtol=1e-12)


def test_a_non_square_declared_matrix_becomes_square():
    e = ricci.parse("tr(X^2)", {"X": "matrix"})
    assert e.variables["X"].dims == ("n", "n")


@pytest.mark.parametrize("text, kinds, error, words", [
    ("tr(X^100)", None, KindError, "from -64 to 64"),
    ("tr(B^x)", None, KindError, "integer exponent"),
    ("x^2", {"x": "vector"}, KindError, "base of ^ must be a scalar"),
    ("tr(X^2)", {"X": "vector"}, KindError, "base of ^"),
    ("tr((A*x)^2)", {"x": "vector"}, KindError, "base of ^"),
    ("tr((A*B)^2)", {"A": "matrix", "B": "matrix"}, None, None),
])
def test_errors_name_the_power(text, kinds, error, words):
    if error is None:
        e = ricci.parse(text, kinds)  # A*B is square when A is m×n and B n×m
        assert e.type.is_scalar and e.variables["A"].dims == e.variables["B"].dims[::-1]
        return
    with pytest.raises(error) as info:
        ricci.parse(text, kinds)
    assert words in str(info.value)
    assert info.value.span is not None


def test_a_non_square_literal_cannot_be_powered():
    with pytest.raises(ShapeError) as info:
        ricci.parse("tr([1, 2, 3; 4, 5, 6]^2)")
    assert "matrix power needs a square matrix" in str(info.value)


def test_the_derivation_names_the_function_as_written():
    steps = str(ricci.derivative("tr(X^3)", "X").explain())
    assert steps.startswith("The derivative of tr(X^3) by X")
    assert "3*X'*X'" in steps


def test_a_matrix_value_for_a_forced_scalar_says_how_to_get_the_matrix_power():
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ricci.BadValueError) as info:
        ricci.evaluate("X^2", {"X": X})
    assert "declare it a matrix (kinds={'X': 'matrix'})" in str(info.value)
    assert "matrix power" in str(info.value)
    np.testing.assert_allclose(ricci.evaluate("X^2", {"X": X}, {"X": "matrix"}), X @ X)
    # no hint where no other reading exists: t*cos(t) needs a scalar t
    with pytest.raises(ricci.BadValueError) as info:
        ricci.evaluate("t*cos(t)", {"t": np.array([1.0, 2.0])})
    assert "declare" not in str(info.value)


def test_each_factor_of_a_power_of_a_constant_gets_the_powers_size():
    # matrix(2)^2 is written matrix(2)*matrix(2): two constants, each sized by the power
    # (square, m×m, m from A), not one left with a size no value fixes
    def closed(v):
        m, n = v["A"].shape
        return 4 * m * m * np.ones((m, n))  # (2·11')² = 4m·11', summed against A: 4m²·sum(A)

    check_derivative("sum(matrix(2)^2*A)", "A", closed=closed)
    A = np.arange(12.0).reshape(3, 4)
    d = ricci.derivative("sum(matrix(2)^3*A)", "A")  # (2·11')³ = 8m²·11'
    np.testing.assert_allclose(d.evaluate({"A": A}), 8 * 3 ** 3 * np.ones((3, 4)))


def test_powers_of_the_identity():
    assert ricci.derivative("tr(A*I^-1)", "A").text == "eye(size(A, 1))"  # inv(eye) is eye
    assert ricci.derivative("det(X^0)*a", "a").text == "1"  # det(eye) is 1
