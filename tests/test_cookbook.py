"""Matrix Cookbook identities and common ML losses, one named test each.

Equation numbers are those of The Matrix Cookbook (Petersen & Pedersen, version of November 15,
2012), chapter 2 (derivatives); identities that the book does not number say so.  The book writes
gradients in denominator layout (columns); ricci's layout is the numerator layout of
ARCHITECTURE §1, so the derivative of a scalar by a vector is the book's column transposed into
a row (``a`` becomes ``a'``), and a Jacobian J(i, j) = ∂fᵢ/∂xⱼ.  A derivative by a matrix has the
matrix's shape in both.  Derivatives by a declared symmetric matrix are the *unconstrained*
partial derivatives (ARCHITECTURE §1), not the symmetrised ones of Cookbook §2.8.

Each test gives the identity in a comment, checks ``ricci.derivative`` against finite
differences and against the closed form in NumPy (see :func:`helpers.check_derivative`), and,
where the book has a compact form, that form written in ricci's language (``book=``): its
numbers must match (``matches_compact_form``), and whether ``d.text`` is *exactly* the book's
form after parsing is recorded in :data:`COMPACT_FORMS` for ``benchmarks/compact_forms.py``
(not asserted: an equal, different form is fine).

Tests marked ``@higher`` are Hessians or tensors of order 3–4.
"""

from __future__ import annotations

import sys

import numpy as np
from helpers import check_derivative, random_values

#: One entry per test with a book form: test, expression, wrt, order, book, text, matches.
COMPACT_FORMS: list[dict] = []

#: Names of the tests whose result is a Hessian or a tensor of order 3–4.
HIGHER_ORDER: list[str] = []

inv = np.linalg.inv
det = np.linalg.det


def higher(test):
    """Mark a test whose result is a Hessian or a tensor of order 3–4."""
    HIGHER_ORDER.append(test.__name__)
    return test


def check(expression, wrt, *, book=None, **kwargs):
    """:func:`helpers.check_derivative`, recording whether ``d.text`` is the book's form."""
    r = check_derivative(expression, wrt, book=book, **kwargs)
    if book is not None:
        COMPACT_FORMS.append({
            "test": sys._getframe(1).f_code.co_name, "expression": expression, "wrt": wrt,
            "order": kwargs.get("order", 1), "book": book, "text": r.d.text, "matches": r.book_matches,
        })
    return r


def sig(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def delta(n):
    return np.eye(n)


VEC_AB = {"a": "vector", "b": "vector"}


# =============================================================================================
# 2.4.1 First order: linear forms
# =============================================================================================
def test_linear_form_x_transpose_a():
    # ∂(x'a)/∂x = a   (69); as a row: a'
    check("x'*a", "x", kinds={"a": "vector"}, closed=lambda v: v["a"], book="a'")


def test_linear_form_a_transpose_x():
    # ∂(a'x)/∂x = a   (69); as a row: a'
    check("a'*x", "x", kinds={"a": "vector"}, closed=lambda v: v["a"], book="a'")


def test_linear_form_a_X_b():
    # ∂(a'Xb)/∂X = a b'   (70)
    check("a'*X*b", "X", kinds=VEC_AB, closed=lambda v: np.outer(v["a"], v["b"]), book="a*b'")


def test_linear_form_a_Xt_b():
    # ∂(a'X'b)/∂X = b a'   (71)
    check("a'*X'*b", "X", kinds=VEC_AB, closed=lambda v: np.outer(v["b"], v["a"]), book="b*a'")


def test_linear_form_a_X_a():
    # ∂(a'Xa)/∂X = a a'   (72)
    check("a'*X*a", "X", kinds={"a": "vector"}, closed=lambda v: np.outer(v["a"], v["a"]), book="a*a'")


def test_linear_form_a_Xt_a():
    # ∂(a'X'a)/∂X = a a'   (72)
    check("a'*X'*a", "X", kinds={"a": "vector"}, closed=lambda v: np.outer(v["a"], v["a"]), book="a*a'")


def test_jacobian_of_transposed_linear_map():
    # ∂(A'x)/∂x = A'   (Jacobian of a linear map; cf. (69))
    check("A'*x", "x", closed=lambda v: v["A"].T, book="A'")


@higher
def test_X_by_X_is_single_entry_matrices():
    # ∂X/∂X_ij = J^ij, i.e. ∂X_kl/∂X_ij = δ_ki δ_lj   (73); tensor (m, n, m, n)
    def closed(v):
        m, n = v["X"].shape
        return np.einsum("ki,lj->klij", delta(m), delta(n))

    check("X", "X", closed=closed)


@higher
def test_XA_by_X():
    # ∂(XA)_ij/∂X_mn = δ_im A_nj   (74); tensor (m, p, m, n)
    def closed(v):
        return np.einsum("ia,bj->ijab", delta(v["X"].shape[0]), v["A"])

    check("X*A", "X", closed=closed)


@higher
def test_XtA_by_X():
    # ∂(X'A)_ij/∂X_mn = δ_in A_mj   (75); tensor (n, p, m, n)
    def closed(v):
        return np.einsum("ib,aj->ijab", delta(v["X"].shape[1]), v["A"])

    check("X'*A", "X", closed=closed)


@higher
def test_row_vector_xtA_by_A():
    # ∂(x'A)_j/∂A_kl = x_k δ_jl   (74) transposed; tensor (n, m, n) of a row vector by a matrix
    def closed(v):
        return np.einsum("k,jl->jkl", v["x"], delta(v["A"].shape[1]))

    check("x'*A", "A", closed=closed)


# =============================================================================================
# 2.4.2 Second order
# =============================================================================================
def test_square_of_sum():
    # ∂/∂X_ij (Σ_kl X_kl)² = 2 Σ_kl X_kl   (76)
    check("sum(X)^2", "X", closed=lambda v: 2 * v["X"].sum() * np.ones_like(v["X"]),
          book="2*sum(X)*matrix(1)")


def test_b_Xt_X_c():
    # ∂(b'X'Xc)/∂X = X(bc' + cb')   (77)
    check("b'*X'*X*c", "X", kinds={"b": "vector", "c": "vector"},
          closed=lambda v: v["X"] @ (np.outer(v["b"], v["c"]) + np.outer(v["c"], v["b"])),
          book="X*(b*c' + c*b')")


def test_affine_bilinear_form():
    # ∂((Bx + b)'C(Dx + d))/∂x = B'C(Dx + d) + D'C'(Bx + b)   (78); as a row
    kinds = {"b": "vector", "d": "vector"}

    def closed(v):
        B, C, D, x, b, d = v["B"], v["C"], v["D"], v["x"], v["b"], v["d"]
        return B.T @ C @ (D @ x + d) + D.T @ C.T @ (B @ x + b)

    check("(B*x + b)'*C*(D*x + d)", "x", kinds=kinds, closed=closed,
          book="(D*x + d)'*C'*B + (B*x + b)'*C*D")


@higher
def test_XtBX_by_X():
    # ∂(X'BX)_kl/∂X_ij = δ_lj (X'B)_ki + δ_kj (BX)_il   (79); tensor (n, n, m, n)
    def closed(v):
        X, B = v["X"], v["B"]
        n = X.shape[1]
        return np.einsum("lj,ki->klij", delta(n), X.T @ B) + np.einsum("kj,il->klij", delta(n), B @ X)

    check("X'*B*X", "X", closed=closed)


def test_quadratic_form():
    # ∂(x'Bx)/∂x = (B + B')x   (81); as a row: x'(B + B')
    check("x'*B*x", "x", closed=lambda v: (v["B"] + v["B"].T) @ v["x"], book="x'*(B + B')")


def test_b_Xt_D_X_c():
    # ∂(b'X'DXc)/∂X = D'Xbc' + DXcb'   (82)
    def closed(v):
        X, D, b, c = v["X"], v["D"], v["b"], v["c"]
        return D.T @ X @ np.outer(b, c) + D @ X @ np.outer(c, b)

    check("b'*X'*D*X*c", "X", kinds={"b": "vector", "c": "vector"}, closed=closed,
          book="D'*X*b*c' + D*X*c*b'")


def test_affine_quadratic_by_X():
    # ∂((Xb + c)'D(Xb + c))/∂X = (D + D')(Xb + c)b'   (83)
    def closed(v):
        X, D, b, c = v["X"], v["D"], v["b"], v["c"]
        return np.outer((D + D.T) @ (X @ b + c), b)

    check("(X*b + c)'*D*(X*b + c)", "X", kinds={"b": "vector", "c": "vector"}, closed=closed,
          book="(D + D')*(X*b + c)*b'")


SYM_W = {"W": "symmetric matrix"}


def test_weighted_residual_by_s():
    # ∂/∂s (x − As)'W(x − As) = −2A'W(x − As), W symmetric   (84); as a row
    check("(x - A*s)'*W*(x - A*s)", "s", kinds=SYM_W,
          closed=lambda v: -2 * v["A"].T @ v["W"] @ (v["x"] - v["A"] @ v["s"]),
          book="-2*(x - A*s)'*W*A")


def test_weighted_distance_by_x():
    # ∂/∂x (x − s)'W(x − s) = 2W(x − s), W symmetric   (85); as a row
    check("(x - s)'*W*(x - s)", "x", kinds=SYM_W, closed=lambda v: 2 * v["W"] @ (v["x"] - v["s"]),
          book="2*(x - s)'*W")


def test_weighted_distance_by_s():
    # ∂/∂s (x − s)'W(x − s) = −2W(x − s), W symmetric   (86); as a row
    check("(x - s)'*W*(x - s)", "s", kinds=SYM_W, closed=lambda v: -2 * v["W"] @ (v["x"] - v["s"]),
          book="-2*(x - s)'*W")


def test_weighted_residual_by_x():
    # ∂/∂x (x − As)'W(x − As) = 2W(x − As), W symmetric   (87); as a row
    check("(x - A*s)'*W*(x - A*s)", "x", kinds=SYM_W,
          closed=lambda v: 2 * v["W"] @ (v["x"] - v["A"] @ v["s"]), book="2*(x - A*s)'*W")


def test_weighted_residual_by_A():
    # ∂/∂A (x − As)'W(x − As) = −2W(x − As)s', W symmetric   (88)
    check("(x - A*s)'*W*(x - A*s)", "A", kinds=SYM_W,
          closed=lambda v: -2 * np.outer(v["W"] @ (v["x"] - v["A"] @ v["s"]), v["s"]),
          book="-2*W*(x - A*s)*s'")


# =============================================================================================
# 2.4.3 Higher-order and non-linear; 2.4.4 gradient and Hessian
# =============================================================================================
def test_chain_rule_bilinear_in_functions_of_x():
    # ∂(s'Ar)/∂x = (∂s/∂x)'Ar + (∂r/∂x)'A's, s = s(x), r = r(x)   (92);
    # here s = tanh(Bx), r = sin(Cx), as a row
    def closed(v):
        A, B, C, x = v["A"], v["B"], v["C"], v["x"]
        u, r = np.tanh(B @ x), np.sin(C @ x)
        Ju = (1 - u**2)[:, None] * B
        Jr = np.cos(C @ x)[:, None] * C
        return Ju.T @ A @ r + Jr.T @ A.T @ u

    check("u'*A*r where u = tanh(B*x), r = sin(C*x)", "x", closed=closed,
          book="(A*r)'*diag(1 - u.^2)*B + (A'*u)'*diag(cos(C*x))*C where u = tanh(B*x), r = sin(C*x)")


def test_ratio_of_quadratic_forms():
    # ∂/∂x (x'A'Ax)/(x'B'Bx) = 2A'Ax/(x'B'Bx) − 2(x'A'Ax)B'Bx/(x'B'Bx)²   (93); as a row
    def closed(v):
        A, B, x = v["A"], v["B"], v["x"]
        num, den = x @ A.T @ A @ x, x @ B.T @ B @ x
        return 2 * A.T @ A @ x / den - 2 * num * B.T @ B @ x / den**2

    check("(x'*A'*A*x)/(x'*B'*B*x)", "x", closed=closed,
          book="2*x'*A'*A/(x'*B'*B*x) - 2*(x'*A'*A*x)*x'*B'*B/(x'*B'*B*x)^2")


def test_gradient_of_quadratic_plus_linear():
    # f = x'Ax + b'x:  ∇f = (A + A')x + b   (94); as a row
    check("x'*A*x + b'*x", "x", kinds={"b": "vector"},
          closed=lambda v: (v["A"] + v["A"].T) @ v["x"] + v["b"], book="x'*(A + A') + b'")


@higher
def test_hessian_of_quadratic_plus_linear():
    # f = x'Ax + b'x:  ∂²f/∂x∂x' = A + A'   (95)
    check("x'*A*x + b'*x", "x", order=2, kinds={"b": "vector"},
          closed=lambda v: v["A"] + v["A"].T, book="A + A'")


# =============================================================================================
# 2.5 Derivatives of traces
# =============================================================================================
def test_trace():
    # ∂tr(X)/∂X = I   (99)
    check("tr(X)", "X", closed=lambda v: np.eye(len(v["X"])), book="eye")


def test_trace_XA():
    # ∂tr(XA)/∂X = A'   (100)
    check("tr(X*A)", "X", closed=lambda v: v["A"].T, book="A'")


def test_trace_AXB():
    # ∂tr(AXB)/∂X = A'B'   (101)
    check("tr(A*X*B)", "X", closed=lambda v: v["A"].T @ v["B"].T, book="A'*B'")


def test_trace_AXtB():
    # ∂tr(AX'B)/∂X = BA   (102)
    check("tr(A*X'*B)", "X", closed=lambda v: v["B"] @ v["A"], book="B*A")


def test_trace_XtA():
    # ∂tr(X'A)/∂X = A   (103)
    check("tr(X'*A)", "X", closed=lambda v: v["A"], book="A")


def test_trace_AXt():
    # ∂tr(AX')/∂X = A   (104)
    check("tr(A*X')", "X", closed=lambda v: v["A"], book="A")


def test_trace_X_squared():
    # ∂tr(X²)/∂X = 2X'   (106)
    check("tr(X*X)", "X", closed=lambda v: 2 * v["X"].T, book="2*X'")


def test_trace_X_squared_B():
    # ∂tr(X²B)/∂X = (XB + BX)'   (107)
    check("tr(X*X*B)", "X", closed=lambda v: (v["X"] @ v["B"] + v["B"] @ v["X"]).T,
          book="(X*B + B*X)'")


def test_trace_Xt_B_X():
    # ∂tr(X'BX)/∂X = BX + B'X   (108)
    check("tr(X'*B*X)", "X", closed=lambda v: (v["B"] + v["B"].T) @ v["X"], book="B*X + B'*X")


def test_trace_B_X_Xt():
    # ∂tr(BXX')/∂X = BX + B'X   (109)
    check("tr(B*X*X')", "X", closed=lambda v: (v["B"] + v["B"].T) @ v["X"], book="B*X + B'*X")


def test_trace_X_Xt_B():
    # ∂tr(XX'B)/∂X = BX + B'X   (110)
    check("tr(X*X'*B)", "X", closed=lambda v: (v["B"] + v["B"].T) @ v["X"], book="B*X + B'*X")


def test_trace_X_B_Xt():
    # ∂tr(XBX')/∂X = XB' + XB   (111)
    check("tr(X*B*X')", "X", closed=lambda v: v["X"] @ (v["B"] + v["B"].T), book="X*B' + X*B")


def test_trace_B_Xt_X():
    # ∂tr(BX'X)/∂X = XB' + XB   (112)
    check("tr(B*X'*X)", "X", closed=lambda v: v["X"] @ (v["B"] + v["B"].T), book="X*B' + X*B")


def test_trace_Xt_X_B():
    # ∂tr(X'XB)/∂X = XB' + XB   (113)
    check("tr(X'*X*B)", "X", closed=lambda v: v["X"] @ (v["B"] + v["B"].T), book="X*B' + X*B")


def test_trace_AXBX():
    # ∂tr(AXBX)/∂X = A'X'B' + B'X'A'   (114)
    def closed(v):
        A, B, X = v["A"], v["B"], v["X"]
        return A.T @ X.T @ B.T + B.T @ X.T @ A.T

    check("tr(A*X*B*X)", "X", closed=closed, book="A'*X'*B' + B'*X'*A'")


def test_trace_Xt_X():
    # ∂tr(X'X)/∂X = 2X   (115)
    check("tr(X'*X)", "X", closed=lambda v: 2 * v["X"], book="2*X")


def test_trace_X_Xt():
    # ∂tr(XX')/∂X = 2X   (115)
    check("tr(X*X')", "X", closed=lambda v: 2 * v["X"], book="2*X")


def test_trace_Bt_Xt_C_X_B():
    # ∂tr(B'X'CXB)/∂X = C'XBB' + CXBB'   (116)
    def closed(v):
        B, C, X = v["B"], v["C"], v["X"]
        return (C.T + C) @ X @ B @ B.T

    check("tr(B'*X'*C*X*B)", "X", closed=closed, book="C'*X*B*B' + C*X*B*B'")


def test_trace_Xt_B_X_C():
    # ∂tr(X'BXC)/∂X = BXC + B'XC'   (117)
    def closed(v):
        B, C, X = v["B"], v["C"], v["X"]
        return B @ X @ C + B.T @ X @ C.T

    check("tr(X'*B*X*C)", "X", closed=closed, book="B*X*C + B'*X*C'")


def test_trace_A_X_B_Xt_C():
    # ∂tr(AXBX'C)/∂X = A'C'XB' + CAXB   (118)
    def closed(v):
        A, B, C, X = v["A"], v["B"], v["C"], v["X"]
        return A.T @ C.T @ X @ B.T + C @ A @ X @ B

    check("tr(A*X*B*X'*C)", "X", closed=closed, book="A'*C'*X*B' + C*A*X*B")


def test_trace_of_affine_gram():
    # ∂tr((AXB + C)(AXB + C)')/∂X = 2A'(AXB + C)B'   (119)
    def closed(v):
        A, B, C, X = v["A"], v["B"], v["C"], v["X"]
        return 2 * A.T @ (A @ X @ B + C) @ B.T

    check("tr((A*X*B + C)*(A*X*B + C)')", "X", closed=closed, book="2*A'*(A*X*B + C)*B'")


def test_trace_X_cubed():
    # ∂tr(X^k)/∂X = k(X^{k−1})', k = 3   (121)
    check("tr(X*X*X)", "X", closed=lambda v: 3 * (v["X"] @ v["X"]).T, book="3*(X*X)'")


def test_trace_A_inv_X_B():
    # ∂tr(AX⁻¹B)/∂X = −(X⁻¹BAX⁻¹)'   (124)
    def closed(v):
        Y = inv(v["X"])
        return -(Y @ v["B"] @ v["A"] @ Y).T

    check("tr(A*inv(X)*B)", "X", closed=closed, book="-(inv(X)*B*A*inv(X))'")


def test_trace_of_shifted_inverse():
    # ∂tr((X + A)⁻¹)/∂X = −((X + A)⁻¹(X + A)⁻¹)'   (64)
    def closed(v):
        Y = inv(v["X"] + v["A"])
        return -(Y @ Y).T

    check("tr(inv(X + A))", "X", closed=closed, book="-(inv(X + A)*inv(X + A))'")


# =============================================================================================
# 2.2 Determinants, 2.3 inverses
# =============================================================================================
def test_det():
    # ∂det(X)/∂X = det(X)(X⁻¹)'   (49)
    check("det(X)", "X", closed=lambda v: det(v["X"]) * inv(v["X"]).T, book="det(X)*inv(X)'")


def test_det_AXB():
    # ∂det(AXB)/∂X = det(AXB)(X⁻¹)', A, X, B square   (51)
    def closed(v):
        return det(v["A"] @ v["X"] @ v["B"]) * inv(v["X"]).T

    check("det(A*X*B)", "X", sizes=3, closed=closed, book="det(A*X*B)*inv(X)'")


def test_det_Xt_A_X_square():
    # ∂det(X'AX)/∂X = 2det(X'AX)X⁻ᵀ, X square and invertible   (52)
    def closed(v):
        X, A = v["X"], v["A"]
        return 2 * det(X.T @ A @ X) * inv(X).T

    check("det(X'*A*X)", "X", sizes=3, closed=closed, book="2*det(X'*A*X)*inv(X)'")


def test_det_Xt_A_X_tall_symmetric_A():
    # ∂det(X'AX)/∂X = 2det(X'AX)AX(X'AX)⁻¹, X tall, A symmetric   (53)
    kinds = {"A": "symmetric matrix"}
    values = random_values("det(X'*A*X)", kinds, shapes={"X": (5, 3)})

    def closed(v):
        X, A = v["X"], v["A"]
        G = X.T @ A @ X
        return 2 * det(G) * A @ X @ inv(G)

    check("det(X'*A*X)", "X", kinds=kinds, values=values, closed=closed,
          book="2*det(X'*A*X)*A*X*inv(X'*A*X)")


def test_det_Xt_A_X_tall_general_A():
    # ∂det(X'AX)/∂X = det(X'AX)(AX(X'AX)⁻¹ + A'X(X'A'X)⁻¹), X tall   (54)
    values = random_values("det(X'*A*X)", shapes={"X": (5, 3)})
    values["A"] = 2 * np.eye(5) + 0.3 * np.random.default_rng(54).uniform(-1, 1, (5, 5))

    def closed(v):
        X, A = v["X"], v["A"]
        return det(X.T @ A @ X) * (A @ X @ inv(X.T @ A @ X) + A.T @ X @ inv(X.T @ A.T @ X))

    check("det(X'*A*X)", "X", values=values, closed=closed,
          book="det(X'*A*X)*(A*X*inv(X'*A*X) + A'*X*inv(X'*A'*X))")


def test_logdet_Xt_X():
    # ∂ln det(X'X)/∂X = 2(X⁺)' = 2X(X'X)⁻¹, X tall   (55)
    values = random_values("logdet(X'*X)", shapes={"X": (5, 3)})
    check("logdet(X'*X)", "X", values=values, closed=lambda v: 2 * v["X"] @ inv(v["X"].T @ v["X"]),
          book="2*X*inv(X'*X)")


def test_logdet():
    # ∂ln|det(X)|/∂X = (X⁻¹)' = (X')⁻¹   (57)
    check("logdet(X)", "X", closed=lambda v: inv(v["X"]).T, book="inv(X)'")


def test_det_of_X_squared():
    # ∂det(X^k)/∂X = k det(X^k) X⁻ᵀ, k = 2   (58)
    check("det(X*X)", "X", closed=lambda v: 2 * det(v["X"] @ v["X"]) * inv(v["X"]).T,
          book="2*det(X*X)*inv(X)'")


def test_det_of_inverse():
    # ∂det(X⁻¹)/∂X = −det(X⁻¹)(X⁻¹)'   (62)
    check("det(inv(X))", "X", closed=lambda v: -det(inv(v["X"])) * inv(v["X"]).T,
          book="-det(inv(X))*inv(X)'")


def test_bilinear_form_of_inverse():
    # ∂(a'X⁻¹b)/∂X = −X⁻ᵀab'X⁻ᵀ   (61)
    def closed(v):
        Yt = inv(v["X"]).T
        return -Yt @ np.outer(v["a"], v["b"]) @ Yt

    check("a'*inv(X)*b", "X", kinds=VEC_AB, closed=closed, book="-inv(X)'*a*b'*inv(X)'")


@higher
def test_inverse_by_X():
    # ∂(X⁻¹)_kl/∂X_ij = −(X⁻¹)_ki (X⁻¹)_jl   (60); tensor (n, n, n, n)
    def closed(v):
        Y = inv(v["X"])
        return -np.einsum("ki,jl->klij", Y, Y)

    check("inv(X)", "X", closed=closed)


# =============================================================================================
# 2.6–2.7 Norms
# =============================================================================================
def test_two_norm_of_difference():
    # ∂‖x − a‖₂/∂x = (x − a)/‖x − a‖₂   (129); as a row
    def closed(v):
        r = v["x"] - v["a"]
        return r / np.linalg.norm(r)

    check("norm2(x - a)", "x", kinds={"a": "vector"}, closed=closed, book="(x - a)'/norm2(x - a)")


def test_unit_vector_jacobian():
    # ∂/∂x (x − a)/‖x − a‖₂ = I/‖x − a‖₂ − (x − a)(x − a)'/‖x − a‖₂³   (130)
    def closed(v):
        r = v["x"] - v["a"]
        n = np.linalg.norm(r)
        return np.eye(len(r)) / n - np.outer(r, r) / n**3

    check("(x - a)/norm2(x - a)", "x", kinds={"a": "vector"}, closed=closed,
          book="eye/norm2(x - a) - (x - a)*(x - a)'/norm2(x - a)^3")


@higher
def test_hessian_of_two_norm():
    # ∂²‖x − a‖₂/∂x² = I/‖x − a‖₂ − (x − a)(x − a)'/‖x − a‖₂³   (130), the Jacobian of (129)
    def closed(v):
        r = v["x"] - v["a"]
        n = np.linalg.norm(r)
        return np.eye(len(r)) / n - np.outer(r, r) / n**3

    check("norm2(x - a)", "x", order=2, kinds={"a": "vector"}, closed=closed,
          book="eye/norm2(x - a) - (x - a)*(x - a)'/norm2(x - a)^3")


def test_squared_two_norm():
    # ∂‖x‖₂²/∂x = 2x   (131); as a row
    check("norm2(x)^2", "x", closed=lambda v: 2 * v["x"], book="2*x'")


def test_inner_product_with_itself():
    # ∂(x'x)/∂x = 2x   (131); as a row
    check("x'*x", "x", closed=lambda v: 2 * v["x"], book="2*x'")


def test_squared_frobenius_norm():
    # ∂‖X‖_F²/∂X = 2X   (132)
    check("norm2(X)^2", "X", closed=lambda v: 2 * v["X"], book="2*X")


def test_frobenius_norm():
    # ∂‖X‖_F/∂X = X/‖X‖_F   (132 with the chain rule)
    check("norm2(X)", "X", closed=lambda v: v["X"] / np.linalg.norm(v["X"]), book="X/norm2(X)")


def test_residual_two_norm():
    # ∂‖Ax − b‖₂/∂x = A'(Ax − b)/‖Ax − b‖₂   (129 with the chain rule); as a row
    def closed(v):
        r = v["A"] @ v["x"] - v["b"]
        return v["A"].T @ r / np.linalg.norm(r)

    check("norm2(A*x - b)", "x", kinds={"b": "vector"}, closed=closed,
          book="(A*x - b)'*A/norm2(A*x - b)")


def test_one_norm_of_vector():
    # ∂‖x‖₁/∂x = sign(x) almost everywhere   (not numbered); as a row
    check("norm1(x)", "x", closed=lambda v: np.sign(v["x"]), book="sign(x)'")


def test_one_norm_of_matrix():
    # ∂(Σ|X_ij|)/∂X = sign(X) almost everywhere   (not numbered)
    check("norm1(X)", "X", closed=lambda v: np.sign(v["X"]), book="sign(X)")


# =============================================================================================
# 2.8 Structured (symmetric) matrices — the unconstrained convention of ARCHITECTURE §1
# =============================================================================================
def test_symmetric_trace_AW_unconstrained():
    # W symmetric: ∂tr(AW)/∂W = A' (unconstrained; (138) gives the symmetrised A + A' − A∘I)
    check("tr(A*W)", "W", kinds=SYM_W, closed=lambda v: v["A"].T, book="A'")


def test_symmetric_quadratic_form_by_W():
    # W symmetric: ∂(x'Wx)/∂W = xx' (unconstrained; cf. (72))
    check("x'*W*x", "W", kinds=SYM_W, closed=lambda v: np.outer(v["x"], v["x"]), book="x*x'")


def test_symmetric_logdet_unconstrained():
    # W symmetric positive definite: ∂ln det(W)/∂W = W⁻¹ (unconstrained (57); (141) is 2W⁻¹ − W⁻¹∘I)
    check("logdet(W)", "W", kinds=SYM_W, closed=lambda v: inv(v["W"]), book="inv(W)")


def test_symmetric_det_unconstrained():
    # W symmetric: ∂det(W)/∂W = det(W)W⁻¹ (unconstrained (49); (139) is det(W)(2W⁻¹ − W⁻¹∘I))
    check("det(W)", "W", kinds=SYM_W, closed=lambda v: det(v["W"]) * inv(v["W"]), book="det(W)*inv(W)")


def test_symmetric_quadratic_form_by_x():
    # W symmetric: ∂(x'Wx)/∂x = 2Wx   (81 with W' = W); as a row, the simplifier uses W' = W
    check("x'*W*x", "x", kinds=SYM_W, closed=lambda v: 2 * v["W"] @ v["x"], book="2*x'*W")


@higher
def test_symmetric_quadratic_form_hessian():
    # W symmetric: ∂²(x'Wx)/∂x² = 2W   (95 with A = W = W')
    check("x'*W*x", "x", order=2, kinds=SYM_W, closed=lambda v: 2 * v["W"], book="2*W")


# =============================================================================================
# Elementwise functions and Hadamard products (entrywise chain rule; (38) for products)
# =============================================================================================
def test_exp_jacobian():
    # ∂exp(x)/∂x = diag(exp(x))   (not numbered)
    check("exp(x)", "x", closed=lambda v: np.diag(np.exp(v["x"])), book="diag(exp(x))")


def test_log_jacobian():
    # ∂log(x)/∂x = diag(1 ./ x), x > 0   (not numbered)
    check("log(x)", "x", closed=lambda v: np.diag(1 / v["x"]), book="diag(1 ./ x)")


def test_sin_jacobian():
    # ∂sin(x)/∂x = diag(cos(x))   (not numbered)
    check("sin(x)", "x", closed=lambda v: np.diag(np.cos(v["x"])), book="diag(cos(x))")


def test_tanh_jacobian():
    # ∂tanh(x)/∂x = diag(1 − tanh(x).²)   (not numbered)
    check("tanh(x)", "x", closed=lambda v: np.diag(1 - np.tanh(v["x"]) ** 2), book="diag(1 - tanh(x).^2)")


def test_sqrt_jacobian():
    # ∂sqrt(x)/∂x = diag(1 ./ (2 sqrt(x))), x > 0   (not numbered)
    check("sqrt(x)", "x", closed=lambda v: np.diag(0.5 / np.sqrt(v["x"])), book="diag(1 ./ (2*sqrt(x)))")


def test_sigmoid_jacobian():
    # ∂σ(x)/∂x = diag(σ(x) .* (1 − σ(x)))   (not numbered)
    def closed(v):
        s = sig(v["x"])
        return np.diag(s * (1 - s))

    check("sigmoid(x)", "x", closed=closed, book="diag(sigmoid(x).*(1 - sigmoid(x)))")


def test_relu_jacobian():
    # ∂relu(x)/∂x = diag(step(x)) almost everywhere   (not numbered)
    check("relu(x)", "x", closed=lambda v: np.diag((v["x"] > 0).astype(float)), book="diag(step(x))")


def test_abs_jacobian():
    # ∂|x|/∂x = diag(sign(x)) almost everywhere   (not numbered)
    check("abs(x)", "x", closed=lambda v: np.diag(np.sign(v["x"])), book="diag(sign(x))")


def test_elementwise_cube_jacobian():
    # ∂(x.^3)/∂x = diag(3 x.^2)   (not numbered)
    check("x.^3", "x", closed=lambda v: np.diag(3 * v["x"] ** 2), book="diag(3*x.^2)")


def test_hadamard_product_jacobian():
    # ∂(x ∘ y)/∂x = diag(y)   (38)
    check("x.*y", "x", closed=lambda v: np.diag(v["y"]), book="diag(y)")


def test_elementwise_quotient_jacobian():
    # ∂(x ./ y)/∂y = −diag(x ./ y.²)   (38 with ∂(1/y) = −dy/y²)
    check("x./y", "y", closed=lambda v: -np.diag(v["x"] / v["y"] ** 2), book="-diag(x./y.^2)")


def test_sum_exp_by_matrix():
    # ∂sum(exp(X))/∂X = exp(X)   (not numbered)
    check("sum(exp(X))", "X", closed=lambda v: np.exp(v["X"]), book="exp(X)")


def test_sum_log_by_matrix():
    # ∂sum(log(X))/∂X = 1 ./ X, X > 0   (not numbered)
    check("sum(log(X))", "X", closed=lambda v: 1 / v["X"], book="1 ./ X")


def test_weighted_sum_of_sines():
    # ∂(a' sin(x))/∂x = (a ∘ cos(x))'   (not numbered); as a row
    check("a'*sin(x)", "x", kinds={"a": "vector"}, closed=lambda v: v["a"] * np.cos(v["x"]),
          book="(a.*cos(x))'")


@higher
def test_exp_of_matrix_by_matrix():
    # ∂exp(X)_ij/∂X_kl = δ_ik δ_jl exp(X_ij)   (not numbered); tensor (m, n, m, n)
    def closed(v):
        m, n = v["X"].shape
        return np.einsum("ik,jl,ij->ijkl", delta(m), delta(n), np.exp(v["X"]))

    check("exp(X)", "X", closed=closed)


@higher
def test_diag_of_vector_by_vector():
    # ∂diag(x)_ij/∂x_k = δ_ij δ_ik   (not numbered); tensor (n, n, n)
    def closed(v):
        n = len(v["x"])
        return np.einsum("ij,ik->ijk", delta(n), delta(n))

    check("diag(x)", "x", closed=closed)


@higher
def test_diag_of_matrix_by_matrix():
    # ∂diag(X)_i/∂X_jk = δ_ij δ_ik   (not numbered); tensor (n, n, n)
    def closed(v):
        n = len(v["X"])
        return np.einsum("ij,ik->ijk", delta(n), delta(n))

    check("diag(X)", "X", closed=closed)


# =============================================================================================
# Machine learning losses and layers (not in the Cookbook; derived with (38), (69), (81))
# =============================================================================================
LOGISTIC = "sum(log(1 + exp(-y.*(X*w))))"


def _labels(values):
    values["y"] = np.sign(values["y"])  # labels ±1
    return values


def test_logistic_loss_gradient():
    # L(w) = Σ log(1 + exp(−yᵢ xᵢ'w)):  ∇L = −X'(y ∘ σ(−y ∘ Xw)); as a row
    def closed(v):
        X, y, w = v["X"], v["y"], v["w"]
        return -X.T @ (y * sig(-y * (X @ w)))

    check(LOGISTIC, "w", values=_labels(random_values(LOGISTIC)), closed=closed,
          book="-(y.*sigmoid(-y.*(X*w)))'*X")


@higher
def test_logistic_loss_hessian():
    # L(w) = Σ log(1 + exp(−yᵢ xᵢ'w)), y ∈ {±1}:  ∇²L = X' diag(s ∘ (1 − s)) X, s = σ(y ∘ Xw)
    def closed(v):
        X, y, w = v["X"], v["y"], v["w"]
        s = sig(y * (X @ w))
        return X.T @ np.diag(s * (1 - s)) @ X

    check(LOGISTIC, "w", order=2, values=_labels(random_values(LOGISTIC)), closed=closed,
          book="X'*diag(s.*(1 - s))*X where s = sigmoid(y.*(X*w))")


def _softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def test_log_sum_exp_gradient():
    # ∂log(Σ exp(xᵢ))/∂x = p, p = softmax(x); as a row
    check("log(sum(exp(x)))", "x", closed=lambda v: _softmax(v["x"]), book="softmax(x)'")


@higher
def test_log_sum_exp_hessian():
    # ∂²log(Σ exp(xᵢ))/∂x² = diag(p) − pp', p = softmax(x)
    def closed(v):
        p = _softmax(v["x"])
        return np.diag(p) - np.outer(p, p)

    check("log(sum(exp(x)))", "x", order=2, closed=closed,
          book="diag(p) - p*p' where p = softmax(x)")


@higher
def test_log_sum_exp_third_derivative():
    # ∂³lse/∂xᵢ∂xⱼ∂x_k = pᵢδᵢⱼₖ − pᵢp_kδᵢⱼ − pᵢpⱼδᵢₖ − pᵢpⱼδⱼₖ + 2pᵢpⱼp_k; tensor (n, n, n)
    def closed(v):
        p = _softmax(v["x"])
        d = delta(len(p))
        return (np.einsum("i,ij,ik->ijk", p, d, d) - np.einsum("i,k,ij->ijk", p, p, d)
                - np.einsum("i,j,ik->ijk", p, p, d) - np.einsum("i,j,jk->ijk", p, p, d)
                + 2 * np.einsum("i,j,k->ijk", p, p, p))

    check("log(sum(exp(x)))", "x", order=3, closed=closed)


def test_softmax_jacobian():
    # ∂softmax(x)/∂x = diag(p) − pp', p = exp(x)/Σ exp(x)
    def closed(v):
        p = _softmax(v["x"])
        return np.diag(p) - np.outer(p, p)

    check("exp(x)/sum(exp(x))", "x", closed=closed, book="diag(p) - p*p' where p = softmax(x)")


def test_softmax_cross_entropy_gradient():
    # ∂(−y' log softmax(z))/∂z = (Σᵢyᵢ) p − y, p = softmax(z); as a row
    check("-y'*log(exp(z)/sum(exp(z)))", "z", closed=lambda v: v["y"].sum() * _softmax(v["z"]) - v["y"],
          book="sum(y)*exp(z)'/sum(exp(z)) - y'")


def test_tanh_layer_by_input():
    # ∂tanh(Wx)/∂x = diag(1 − tanh(Wx).²) W
    check("tanh(W*x)", "x", closed=lambda v: (1 - np.tanh(v["W"] @ v["x"]) ** 2)[:, None] * v["W"],
          book="diag(1 - tanh(W*x).^2)*W")


@higher
def test_tanh_layer_by_weights():
    # ∂tanh(Wx)ᵢ/∂W_kl = (1 − tᵢ²) δᵢₖ x_l, t = tanh(Wx); tensor (m, m, n)
    def closed(v):
        t = np.tanh(v["W"] @ v["x"])
        return np.einsum("i,ik,l->ikl", 1 - t**2, delta(len(t)), v["x"])

    check("tanh(W*x)", "W", closed=closed)


def test_tanh_layer_readout_by_weights():
    # ∂(v' tanh(Wx))/∂W = (v ∘ (1 − tanh(Wx).²)) x'
    def closed(val):
        t = np.tanh(val["W"] @ val["x"])
        return np.outer(val["v"] * (1 - t**2), val["x"])

    check("v'*tanh(W*x)", "W", closed=closed, book="(v.*(1 - tanh(W*x).^2))*x'")


def test_tanh_layer_readout_by_input():
    # ∂(v' tanh(Wx))/∂x = (v ∘ (1 − tanh(Wx).²))' W; as a row
    def closed(val):
        t = np.tanh(val["W"] @ val["x"])
        return val["W"].T @ (val["v"] * (1 - t**2))

    check("v'*tanh(W*x)", "x", closed=closed, book="(v.*(1 - tanh(W*x).^2))'*W")


@higher
def test_tanh_layer_hessian_by_input():
    # ∂²sum(tanh(Wx))/∂x² = −2W' diag(t ∘ (1 − t.²)) W, t = tanh(Wx)
    def closed(v):
        W = v["W"]
        t = np.tanh(W @ v["x"])
        return -2 * W.T @ np.diag(t * (1 - t**2)) @ W

    check("sum(tanh(W*x))", "x", order=2, closed=closed,
          book="-2*W'*diag(t.*(1 - t.^2))*W where t = tanh(W*x)")


@higher
def test_tanh_layer_hessian_by_weights():
    # ∂²sum(tanh(Wx))/∂W_ij∂W_kl = −2tᵢ(1 − tᵢ²) δᵢₖ xⱼ x_l; tensor (m, n, m, n)
    def closed(v):
        t = np.tanh(v["W"] @ v["x"])
        x = v["x"]
        return np.einsum("i,ik,j,l->ijkl", -2 * t * (1 - t**2), delta(len(t)), x, x)

    check("sum(tanh(W*x))", "W", order=2, closed=closed)


RIDGE = "norm2(y - X*w)^2 + lambda*norm2(w)^2"


def test_ridge_regression_gradient():
    # ∂(‖y − Xw‖² + λ‖w‖²)/∂w = −2X'(y − Xw) + 2λw; as a row
    def closed(v):
        X, y, w, lam = v["X"], v["y"], v["w"], v["lambda"]
        return -2 * X.T @ (y - X @ w) + 2 * lam * w

    check(RIDGE, "w", closed=closed, book="-2*(y - X*w)'*X + 2*lambda*w'")


@higher
def test_ridge_regression_hessian():
    # ∂²(‖y − Xw‖² + λ‖w‖²)/∂w² = 2X'X + 2λI
    def closed(v):
        X = v["X"]
        return 2 * X.T @ X + 2 * v["lambda"] * np.eye(X.shape[1])

    check(RIDGE, "w", order=2, closed=closed, book="2*X'*X + 2*lambda*eye")


MF = "norm2(X - U*V')^2"


def test_matrix_factorisation_by_U():
    # ∂‖X − UV'‖_F²/∂U = −2(X − UV')V   (cf. (119))
    check(MF, "U", closed=lambda v: -2 * (v["X"] - v["U"] @ v["V"].T) @ v["V"], book="-2*(X - U*V')*V")


def test_matrix_factorisation_by_V():
    # ∂‖X − UV'‖_F²/∂V = −2(X − UV')'U   (cf. (119))
    check(MF, "V", closed=lambda v: -2 * (v["X"] - v["U"] @ v["V"].T).T @ v["U"],
          book="-2*(X - U*V')'*U")


@higher
def test_matrix_factorisation_hessian_by_U():
    # ∂²‖X − UV'‖_F²/∂U_ab∂U_cd = 2δ_ac (V'V)_bd; tensor (m, k, m, k)
    def closed(v):
        U, V = v["U"], v["V"]
        return 2 * np.einsum("ac,bd->abcd", delta(U.shape[0]), V.T @ V)

    r = check(MF, "U", order=2, closed=closed)
    m, k = r.values["U"].shape
    assert r.got.shape == (m, k, m, k) and m != k


def test_sigmoid_sum_gradient():
    # ∂sum(σ(x))/∂x = σ(x) ∘ (1 − σ(x)); as a row
    check("sum(sigmoid(x))", "x", closed=lambda v: sig(v["x"]) * (1 - sig(v["x"])),
          book="(sigmoid(x).*(1 - sigmoid(x)))'")


@higher
def test_sigmoid_sum_hessian():
    # ∂²sum(σ(x))/∂x² = diag(s ∘ (1 − s) ∘ (1 − 2s)), s = σ(x)
    def closed(v):
        s = sig(v["x"])
        return np.diag(s * (1 - s) * (1 - 2 * s))

    check("sum(sigmoid(x))", "x", order=2, closed=closed,
          book="diag(s.*(1 - s).*(1 - 2*s)) where s = sigmoid(x)")


@higher
def test_softplus_hessian():
    # ∂²sum(log(1 + exp(x)))/∂x² = diag(σ(x) ∘ (1 − σ(x)))
    def closed(v):
        s = sig(v["x"])
        return np.diag(s * (1 - s))

    check("sum(log(1 + exp(x)))", "x", order=2, closed=closed, book="diag(sigmoid(x).*(1 - sigmoid(x)))")


def test_relu_layer_by_input():
    # ∂relu(Wx)/∂x = diag(step(Wx)) W almost everywhere
    check("relu(W*x)", "x", closed=lambda v: (v["W"] @ v["x"] > 0)[:, None] * v["W"],
          book="diag(step(W*x))*W")


def test_relu_layer_sum_by_weights():
    # ∂sum(relu(Wx))/∂W = step(Wx) x' almost everywhere
    check("sum(relu(W*x))", "W", closed=lambda v: np.outer((v["W"] @ v["x"] > 0).astype(float), v["x"]),
          book="step(W*x)*x'")


@higher
def test_least_squares_hessian():
    # ∂²‖Ax − b‖²/∂x² = 2A'A
    check("norm2(A*x - b)^2", "x", order=2, kinds={"b": "vector"},
          closed=lambda v: 2 * v["A"].T @ v["A"], book="2*A'*A")


# =============================================================================================
# More Hessians and tensors of order 3–4
# =============================================================================================
@higher
def test_hessian_of_sum_exp():
    # ∂²sum(exp(x))/∂x² = diag(exp(x))
    check("sum(exp(x))", "x", order=2, closed=lambda v: np.diag(np.exp(v["x"])), book="diag(exp(x))")


@higher
def test_third_derivative_of_sum_exp():
    # ∂³sum(exp(x))/∂xᵢ∂xⱼ∂x_k = δᵢⱼₖ exp(xᵢ); tensor (n, n, n)
    def closed(v):
        n = len(v["x"])
        return np.einsum("i,ij,ik->ijk", np.exp(v["x"]), delta(n), delta(n))

    check("sum(exp(x))", "x", order=3, closed=closed)


@higher
def test_fourth_derivative_of_sum_exp():
    # ∂⁴sum(exp(x)) = δᵢⱼₖₗ exp(xᵢ); tensor (n, n, n, n)
    def closed(v):
        n = len(v["x"])
        d = delta(n)
        return np.einsum("i,ij,ik,il->ijkl", np.exp(v["x"]), d, d, d)

    check("sum(exp(x))", "x", order=4, closed=closed)


@higher
def test_third_derivative_of_quadratic_is_zero():
    # ∂³(x'x)/∂x³ = 0; tensor (n, n, n) — an identically zero derivative is a result
    check("x'*x", "x", order=3, closed=lambda v: np.zeros((len(v["x"]),) * 3))


@higher
def test_hessian_of_inner_product():
    # ∂²(x'x)/∂x² = 2I   (131 differentiated again)
    check("x'*x", "x", order=2, closed=lambda v: 2 * np.eye(len(v["x"])), book="2*eye")


@higher
def test_third_derivative_of_squared_norm_squared():
    # ∂³(x'x)²/∂xᵢ∂xⱼ∂x_k = 8(x_k δᵢⱼ + xⱼ δᵢₖ + xᵢ δⱼₖ); tensor (n, n, n)
    def closed(v):
        x = v["x"]
        d = delta(len(x))
        return 8 * (np.einsum("k,ij->ijk", x, d) + np.einsum("j,ik->ijk", x, d) + np.einsum("i,jk->ijk", x, d))

    check("(x'*x)^2", "x", order=3, closed=closed)


@higher
def test_fourth_derivative_of_squared_norm_squared():
    # ∂⁴(x'x)² = 8(δᵢⱼδₖₗ + δᵢₖδⱼₗ + δᵢₗδⱼₖ); tensor (n, n, n, n)
    def closed(v):
        d = delta(len(v["x"]))
        return 8 * (np.einsum("ij,kl->ijkl", d, d) + np.einsum("ik,jl->ijkl", d, d)
                    + np.einsum("il,jk->ijkl", d, d))

    check("(x'*x)^2", "x", order=4, closed=closed)


@higher
def test_hessian_of_exp_linear():
    # ∂²exp(a'x)/∂x² = exp(a'x) aa'
    check("exp(a'*x)", "x", order=2, kinds={"a": "vector"},
          closed=lambda v: np.exp(v["a"] @ v["x"]) * np.outer(v["a"], v["a"]), book="exp(a'*x)*a*a'")


@higher
def test_hessian_of_squared_linear_form():
    # ∂²(a'x)²/∂x² = 2aa'
    check("(a'*x)^2", "x", order=2, kinds={"a": "vector"}, closed=lambda v: 2 * np.outer(v["a"], v["a"]),
          book="2*a*a'")


@higher
def test_hessian_of_sum_log():
    # ∂²sum(log(x))/∂x² = −diag(1 ./ x.²), x > 0
    check("sum(log(x))", "x", order=2, closed=lambda v: -np.diag(1 / v["x"] ** 2), book="-diag(1 ./ x.^2)")


@higher
def test_hessian_of_logdet():
    # ∂²ln det(X)/∂X_ij∂X_kl = −(X⁻¹)_jk (X⁻¹)_li   ((57) then (60)); tensor (n, n, n, n)
    def closed(v):
        Y = inv(v["X"])
        return -np.einsum("jk,li->ijkl", Y, Y)

    check("logdet(X)", "X", order=2, closed=closed)


@higher
def test_hessian_of_det():
    # ∂²det(X)/∂X_ij∂X_kl = det(X)((X⁻¹)_ji (X⁻¹)_lk − (X⁻¹)_jk (X⁻¹)_li)   ((49), (60)); (n, n, n, n)
    def closed(v):
        Y = inv(v["X"])
        return det(v["X"]) * (np.einsum("ji,lk->ijkl", Y, Y) - np.einsum("jk,li->ijkl", Y, Y))

    check("det(X)", "X", order=2, closed=closed)


@higher
def test_hessian_of_trace_Xt_A_X():
    # ∂²tr(X'AX)/∂X_ij∂X_kl = (A + A')_ik δ_jl   ((108) differentiated); tensor (m, n, m, n)
    def closed(v):
        A, X = v["A"], v["X"]
        return np.einsum("ik,jl->ijkl", A + A.T, delta(X.shape[1]))

    check("tr(X'*A*X)", "X", order=2, closed=closed)


@higher
def test_hessian_of_bilinear_form_of_inverse():
    # ∂²(a'X⁻¹b)/∂X_ij∂X_kl = u_k (X⁻¹)_li v_j + u_i (X⁻¹)_jk v_l, u = X⁻ᵀa, v = X⁻¹b
    # ((61) differentiated with (60)); tensor (n, n, n, n)
    def closed(val):
        Y = inv(val["X"])
        u, v = Y.T @ val["a"], Y @ val["b"]
        return np.einsum("k,li,j->ijkl", u, Y, v) + np.einsum("i,jk,l->ijkl", u, Y, v)

    check("a'*inv(X)*b", "X", order=2, kinds=VEC_AB, closed=closed)


@higher
def test_hessian_of_squared_frobenius_norm():
    # ∂²‖X‖_F²/∂X_ij∂X_kl = 2δ_ik δ_jl   ((132) differentiated); tensor (m, n, m, n)
    def closed(v):
        m, n = v["X"].shape
        return 2 * np.einsum("ik,jl->ijkl", delta(m), delta(n))

    check("norm2(X)^2", "X", order=2, closed=closed)


@higher
def test_hessian_wrt_list_of_scalars():
    # f = a²b + sin(ab):  ∂²f/∂(a, b)² = [2b − b² sin(ab), 2a + cos(ab) − ab sin(ab); …, −a² sin(ab)]
    def closed(v):
        a, b = v["a"], v["b"]
        off = 2 * a + np.cos(a * b) - a * b * np.sin(a * b)
        return np.array([[2 * b - b**2 * np.sin(a * b), off], [off, -(a**2) * np.sin(a * b)]])

    check("a^2*b + sin(a*b)", ["a", "b"], order=2, values={"a": 0.7, "b": -0.5}, closed=closed,
          book="[2*b - b^2*sin(a*b), 2*a + cos(a*b) - a*b*sin(a*b); "
               "2*a + cos(a*b) - a*b*sin(a*b), -a^2*sin(a*b)]")


# =============================================================================================
# the catalogue itself
# =============================================================================================
def test_catalogue_size():
    # acceptance point 2: at least 70 identities, at least 20 of them Hessians or order 3–4 tensors
    identities = [n for n in globals() if n.startswith("test_") and n != "test_catalogue_size"]
    assert len(identities) >= 70, len(identities)
    assert len(HIGHER_ORDER) >= 20, len(HIGHER_ORDER)
    assert set(HIGHER_ORDER) <= set(identities)
