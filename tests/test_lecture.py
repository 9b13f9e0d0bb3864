"""The lecture's examples (shared/LECTURE_CASES.md, rows 1–16), as ricci must answer them.

Each row checks, at random values with a different size for every dimension:
  * the numbers of ``d.evaluate`` against finite differences of ``ricci.evaluate`` and against the
    closed form written in NumPy (for rows 10–11, the lecture's index formulas with einsum/eye);
  * the §1 shape, and that ``d.shape`` names it;
  * for answers with a matrix form, that ``d.text`` parses and evaluates to the same numbers;
  * that ``d.text`` (spaces removed) is at most 20 % longer than the lecture's form.
The references (finite differences, closed form, lecture form) are checked against each other
before the engine is called.  Layout: numerator layout, ARCHITECTURE §1.
"""

from __future__ import annotations

import numpy as np
from helpers import (
    EXACT_RTOL,
    assert_close,
    check_derivative,
    compact_length,
    random_values,
)

import ricci

#: The text answer may be at most this much longer than the lecture's form.
LENGTH_SLACK = 1.2


def lecture_row(expression, wrt, expected, *, kinds=None, order=1, closed=None, values=None, sizes=None):
    """Check one row: numbers, shape, parsed text, and the text's length against ``expected``."""
    r = check_derivative(expression, wrt, kinds=kinds, order=order, closed=closed, book=expected,
                         values=values, sizes=sizes)
    named = [n for d, n in r.sizes.items() if not isinstance(d, int)]
    assert len(set(named)) == len(named), f"sizes should differ per dimension: {r.sizes}"
    budget = LENGTH_SLACK * compact_length(expected)
    assert compact_length(r.d.text) <= budget, (
        f"d.text {r.d.text!r} has {compact_length(r.d.text)} characters; the lecture's "
        f"{expected!r} has {compact_length(expected)} (budget {budget:.1f})")
    return r


# --- identities -----------------------------------------------------------------------------
def test_row01_x_transpose_a():
    # ∂(x'a)/∂x = a'   (row vector, shape (n))
    lecture_row("x'*a", "x", "a'", kinds={"a": "vector"}, closed=lambda v: v["a"])


def test_row02_a_transpose_x():
    # ∂(a'x)/∂x = a'   (row vector, shape (n))
    lecture_row("a'*x", "x", "a'", kinds={"a": "vector"}, closed=lambda v: v["a"])


def test_row03_bilinear_form_by_matrix():
    # ∂(a'Xb)/∂X = a b'   (shape (m, n), X's shape)
    lecture_row("a'*X*b", "X", "a*b'", kinds={"a": "vector", "b": "vector"},
                closed=lambda v: np.outer(v["a"], v["b"]))


def test_row04_quadratic_form():
    # ∂(x'Bx)/∂x = x'(B + B')   (row vector, shape (n))
    lecture_row("x'*B*x", "x", "x'*(B + B')", closed=lambda v: v["x"] @ (v["B"] + v["B"].T))


def test_row05_weighted_least_squares_symmetric_W():
    # ∂((x − As)'W(x − As))/∂s = −2(x − As)'WA, W symmetric   (row vector, shape (k))
    lecture_row("(x - A*s)'*W*(x - A*s)", "s", "-2*(x - A*s)'*W*A", kinds={"W": "symmetric matrix"},
                closed=lambda v: -2 * (v["x"] - v["A"] @ v["s"]) @ v["W"] @ v["A"])


# --- Jacobian, least squares, Hessians ----------------------------------------------------------
def test_row06_jacobian_of_linear_map():
    # ∂(Ax)/∂x = A   (Jacobian, shape (m, n))
    lecture_row("A*x", "x", "A", closed=lambda v: v["A"])


def test_row07_least_squares_gradient():
    # ∂‖y − Φθ‖²/∂θ = −2(y − Φθ)'Φ   (row vector, shape (D))
    lecture_row("norm2(y - Phi*theta)^2", "theta", "-2*(y - Phi*theta)'*Phi",
                closed=lambda v: -2 * (v["y"] - v["Phi"] @ v["theta"]) @ v["Phi"])


def test_row08_least_squares_hessian():
    # ∂²‖y − Φθ‖²/∂θ² = 2Φ'Φ   (shape (D, D), symmetric positive semidefinite)
    r = lecture_row("norm2(y - Phi*theta)^2", "theta", "2*Phi'*Phi", order=2,
                    closed=lambda v: 2 * v["Phi"].T @ v["Phi"])
    assert_close(r.got, r.got.T, rtol=EXACT_RTOL, what="the Hessian is symmetric")
    assert np.linalg.eigvalsh((r.got + r.got.T) / 2).min() >= -1e-10, "2Φ'Φ is PSD"
    h = ricci.hessian("norm2(y - Phi*theta)^2", "theta")
    assert_close(np.asarray(h.evaluate(r.values), dtype=float), r.got, rtol=EXACT_RTOL,
                 what="ricci.hessian vs ricci.derivative(order=2)")


def test_row09_hessian_of_quadratic_form():
    # ∂²(x'Bx)/∂x² = B + B'   (shape (n, n), symmetric)
    r = lecture_row("x'*B*x", "x", "B + B'", order=2, closed=lambda v: v["B"] + v["B"].T)
    assert_close(r.got, r.got.T, rtol=EXACT_RTOL, what="the Hessian is symmetric")
    h = ricci.hessian("x'*B*x", "x")
    assert_close(np.asarray(h.evaluate(r.values), dtype=float), r.got, rtol=EXACT_RTOL,
                 what="ricci.hessian vs ricci.derivative(order=2)")


# --- tensors: index notation -------------------------------------------------------------------
def test_row10_vector_by_matrix():
    # Example 3: f = Ax, A ∈ R^{M×N}: ∂fᵢ/∂A_jk = δᵢⱼ x_k   (shape (M, M, N))
    def closed(v):
        return np.einsum("ij,k->ijk", np.eye(v["A"].shape[0]), v["x"])

    r = check_derivative("A*x", "A", closed=closed)
    M, N = r.values["A"].shape
    assert M != N and r.got.shape == (M, M, N)


def _lecture_case_analysis(R):
    """Example 4 as the lecture first writes it: ∂K_pq/∂R_ij by cases on j, p, q."""
    M, N = R.shape
    out = np.zeros((N, N, M, N))
    for p in range(N):
        for q in range(N):
            for i in range(M):
                for j in range(N):
                    if j == p == q:
                        out[p, q, i, j] = 2 * R[i, q]
                    elif j == p:
                        out[p, q, i, j] = R[i, q]
                    elif j == q:
                        out[p, q, i, j] = R[i, p]
    return out


def test_row11_matrix_by_matrix():
    # Example 4: K = R'R, R ∈ R^{M×N}: ∂K_pq/∂R_ij = δ_jp R_iq + δ_jq R_ip   (shape (N, N, M, N))
    def closed(v):
        R = v["R"]
        eye = np.eye(R.shape[1])
        return np.einsum("jp,iq->pqij", eye, R) + np.einsum("jq,ip->pqij", eye, R)

    values = random_values("R'*R")
    # the lecture's case analysis (2R_iq if j = p = q, R_iq if j = p ≠ q, …) is the same tensor
    assert_close(_lecture_case_analysis(values["R"]), closed(values), rtol=1e-15, what="case analysis")
    r = check_derivative("R'*R", "R", closed=closed, values=values)
    M, N = values["R"].shape
    assert M != N and r.got.shape == (N, N, M, N)


# --- chain rule, lists of scalars ---------------------------------------------------------------
_ROW12 = "exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)"


def test_row12_chain_rule_through_where():
    # Example 1: f = exp(x1 x2²), x1 = t cos t, x2 = t sin t:
    # df/dt = exp(x1 x2²)(x2²(cos t − t sin t) + 2 x1 x2 (sin t + t cos t))   (scalar)
    def closed(v):
        t = v["t"]
        x1, x2 = t * np.cos(t), t * np.sin(t)
        return np.exp(x1 * x2**2) * (x2**2 * (np.cos(t) - t * np.sin(t))
                                     + 2 * x1 * x2 * (np.sin(t) + t * np.cos(t)))

    r = lecture_row(_ROW12, "t",
                    "exp(x1*x2^2)*(x2^2*(cos(t) - t*sin(t)) + 2*x1*x2*(sin(t) + t*cos(t))) "
                    "where x1 = t*cos(t), x2 = t*sin(t)",
                    kinds={"t": "scalar"}, closed=closed, values={"t": 0.8})
    assert r.got.shape == ()


def test_row13_inner_jacobian():
    # Example 1: ∂[t cos t; t sin t]/∂t = [cos t − t sin t; sin t + t cos t]   (shape (2), column)
    def closed(v):
        t = v["t"]
        return np.array([np.cos(t) - t * np.sin(t), np.sin(t) + t * np.cos(t)])

    r = lecture_row("[t*cos(t); t*sin(t)]", "t", "[cos(t) - t*sin(t); sin(t) + t*cos(t)]",
                    kinds={"t": "scalar"}, closed=closed, values={"t": 0.8})
    assert r.got.shape == (2,)


def test_row14_outer_gradient_wrt_list():
    # Example 1: ∂exp(x1 x2²)/∂[x1, x2] = [x2² exp(x1 x2²), 2 x1 x2 exp(x1 x2²)]   (shape (2), row)
    def closed(v):
        x1, x2 = v["x1"], v["x2"]
        e = np.exp(x1 * x2**2)
        return np.array([x2**2 * e, 2 * x1 * x2 * e])

    r = lecture_row("exp(x1*x2^2)", ["x1", "x2"], "[x2^2*exp(x1*x2^2), 2*x1*x2*exp(x1*x2^2)]",
                    kinds={"x1": "scalar", "x2": "scalar"}, closed=closed,
                    values={"x1": 0.6, "x2": -0.7})
    assert r.got.shape == (2,)


def test_row15_chain_rule_wrt_s_t():
    # f = x1² x2, x1 = s t, x2 = s + t: ∂f/∂(s,t) = ∂f/∂x · ∂x/∂(s,t) = [2x1x2, x1²]·[t s; 1 1]
    #                                            = [2 t x1 x2 + x1², 2 s x1 x2 + x1²]   (shape (2), row)
    def closed(v):
        s, t = v["s"], v["t"]
        x1, x2 = s * t, s + t
        return np.array([2 * x1 * x2, x1**2]) @ np.array([[t, s], [1.0, 1.0]])

    r = lecture_row("x1^2*x2 where x1 = s*t, x2 = s + t", ["s", "t"],
                    "[2*x1*x2, x1^2]*[t, s; 1, 1] where x1 = s*t, x2 = s + t",
                    kinds={"s": "scalar", "t": "scalar"}, closed=closed, values={"s": 0.7, "t": -0.4})
    assert r.got.shape == (2,)


# --- the gradient shapes table ---------------------------------------------------------------------
def test_row16_gradient_shapes_table():
    # f: R → R: scalar;  R^D → R: 1×D (shape (D));  R → R^E: E×1 (shape (E));  R^D → R^E: E×D
    cases = [
        # (expression, wrt, kinds, closed form, the §1 shape from the values)
        ("t^2*sin(t)", "t", {"t": "scalar"},
         lambda v: 2 * v["t"] * np.sin(v["t"]) + v["t"] ** 2 * np.cos(v["t"]), lambda v: ()),
        ("sum(sin(x))", "x", None, lambda v: np.cos(v["x"]), lambda v: v["x"].shape),
        ("exp(t*y)", "t", {"t": "scalar"}, lambda v: v["y"] * np.exp(v["t"] * v["y"]),
         lambda v: v["y"].shape),
        ("sin(A*x)", "x", None, lambda v: np.cos(v["A"] @ v["x"])[:, None] * v["A"],
         lambda v: (v["A"].shape[0], v["x"].shape[0])),
    ]
    for expression, wrt, kinds, closed, shape in cases:
        values = random_values(expression, kinds)
        r = check_derivative(expression, wrt, kinds=kinds, closed=closed, values=values)
        assert r.got.shape == shape(values), f"{expression} by {wrt}: shape {r.got.shape}"
        # gradient (scalar f) and jacobian (vector f) give the numbers of derivative()
        scalar_f = np.ndim(ricci.evaluate(expression, values, kinds)) == 0
        entry, name = (ricci.gradient, "gradient") if scalar_f else (ricci.jacobian, "jacobian")
        g = entry(expression, wrt, kinds=kinds)
        assert_close(np.asarray(g.evaluate(values), dtype=float), r.got, rtol=EXACT_RTOL,
                     what=f"ricci.{name} of {expression}")
    # E ≠ D in the last case, so a transposed Jacobian cannot pass
    v = random_values("sin(A*x)")
    assert v["A"].shape[0] != v["x"].shape[0]
