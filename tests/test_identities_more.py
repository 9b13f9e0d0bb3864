"""More identities, none of them in test_cookbook.py or test_lecture.py.

Each case is one identity: an expression, what it is differentiated by, and the derivative
written out in NumPy by hand (ARCHITECTURE §1 layout: f's shape, then wrt's shape per order).
:func:`helpers.check_derivative` checks the closed form against finite differences first (so
that the closed form is trusted on its own), then ``ricci.derivative`` against both, its shape,
and — where the answer has a matrix form — that ``d.text`` parses again with the same kinds and
evaluates to the same numbers.  Dimensions get different sizes (3, 4, 5, …, or the shapes a
case gives), so that a transposition cannot pass by accident.

Derivatives by a declared symmetric matrix are the unconstrained partial derivatives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from helpers import check_derivative, random_values

import ricci

inv = np.linalg.inv
det = np.linalg.det
SYM = "symmetric matrix"


def sig(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def step(z):
    return (z > 0).astype(float)


def E(n):
    return np.eye(n)


@dataclass
class Case:
    expr: str
    wrt: object
    closed: object
    order: int = 1
    kinds: dict | None = None
    values: dict | None = None
    #: keyword arguments of helpers.random_values (shapes, positive, spd)
    draw: dict = field(default_factory=dict)
    seed: int = 0


CASES: dict[str, Case] = {}


def case(name, *args, **kwargs):
    assert name not in CASES, name
    CASES[name] = Case(*args, **kwargs)


# =============================================================================================
# traces with inverses and transposes
# =============================================================================================
# ∂tr(X⁻¹A)/∂X = −(X⁻¹AX⁻¹)'
case("tr_inv_X_A", "tr(inv(X)*A)", "X", lambda v: -(inv(v["X"]) @ v["A"] @ inv(v["X"])).T)
# ∂tr(AX'⁻¹)/∂X = −X'⁻¹AX'⁻¹
case("tr_A_inv_Xt", "tr(A*inv(X'))", "X", lambda v: -inv(v["X"]).T @ v["A"] @ inv(v["X"]).T)
# ∂tr(X⁻¹'A)/∂X = −X'⁻¹AX'⁻¹ (the transpose outside the inverse)
case("tr_inv_X_t_A", "tr(inv(X)'*A)", "X", lambda v: -inv(v["X"]).T @ v["A"] @ inv(v["X"]).T)
# ∂tr(X⁻¹AX⁻¹)/∂X = −(X⁻¹AX⁻² + X⁻²AX⁻¹)'
case("tr_inv_X_A_inv_X", "tr(inv(X)*A*inv(X))", "X",
     lambda v: -(inv(v["X"]) @ v["A"] @ inv(v["X"]) @ inv(v["X"])
                 + inv(v["X"]) @ inv(v["X"]) @ v["A"] @ inv(v["X"])).T)
# ∂tr(X'A⁻¹X)/∂X = (A⁻¹ + A⁻ᵀ)X
case("tr_Xt_inv_A_X", "tr(X'*inv(A)*X)", "X", lambda v: (inv(v["A"]) + inv(v["A"]).T) @ v["X"],
     draw={"shapes": {"X": (5, 3)}})


def _tr_inv_XtAX(v):
    X, A = v["X"], v["A"]
    Mi = inv(X.T @ A @ X)
    M2 = Mi @ Mi
    return -(A @ X @ M2 + A.T @ X @ M2.T)


# ∂tr((X'AX)⁻¹)/∂X = −(AX M⁻² + A'X M⁻²'), M = X'AX, X tall
case("tr_inv_Xt_A_X", "tr(inv(X'*A*X))", "X", _tr_inv_XtAX, draw={"shapes": {"X": (5, 3)}})
# ∂tr(X⁻²)/∂X = −2 (X⁻³)', through a binding of a matrix
case("tr_M_M_where_M_inv_X", "tr(M*M) where M = inv(X)", "X",
     lambda v: -2 * np.linalg.matrix_power(inv(v["X"]), 3).T)
# ∂tr(X(X'X)⁻¹X')/∂X = 0 (the trace of a projection is its rank)
case("tr_projection", "tr(X*inv(X'*X)*X')", "X", lambda v: np.zeros_like(v["X"]),
     draw={"shapes": {"X": (5, 3)}})
# ∂tr(X⁻¹AX⁻¹B)/∂X = −(X⁻¹AX⁻¹BX⁻¹ + X⁻¹BX⁻¹AX⁻¹)'
case("tr_inv_A_inv_B", "tr(inv(X)*A*inv(X)*B)", "X",
     lambda v: -(inv(v["X"]) @ v["A"] @ inv(v["X"]) @ v["B"] @ inv(v["X"])
                 + inv(v["X"]) @ v["B"] @ inv(v["X"]) @ v["A"] @ inv(v["X"])).T)

# =============================================================================================
# det and logdet of products, sums, transposes
# =============================================================================================
case("det_Xt", "det(X')", "X", lambda v: det(v["X"]) * inv(v["X"]).T)
# ∂det(AX)/∂X = det(AX) A'(AX)⁻ᵀ, A wide, X tall
case("det_A_X", "det(A*X)", "X", lambda v: det(v["A"] @ v["X"]) * v["A"].T @ inv(v["A"] @ v["X"]).T)
case("det_X_plus_A", "det(X + A)", "X", lambda v: det(v["X"] + v["A"]) * inv(v["X"] + v["A"]).T)
# det(X⁻¹A) = det(A)/det(X): ∂ = −det(X⁻¹A) X⁻ᵀ
case("det_inv_X_A", "det(inv(X)*A)", "X", lambda v: -det(inv(v["X"]) @ v["A"]) * inv(v["X"]).T)
case("logdet_inv_X", "logdet(inv(X))", "X", lambda v: -inv(v["X"]).T)
# ∂logdet(X + X')/∂X = 2(X + X')⁻¹
case("logdet_X_plus_Xt", "logdet(X + X')", "X", lambda v: 2 * inv(v["X"] + v["X"].T))
# ∂logdet(X'X + A)/∂X = X(M⁻¹ + M⁻ᵀ), X tall
case("logdet_XtX_plus_A", "logdet(X'*X + A)", "X",
     lambda v: v["X"] @ (inv(v["X"].T @ v["X"] + v["A"]) + inv(v["X"].T @ v["X"] + v["A"]).T),
     draw={"shapes": {"X": (5, 3)}})
# ∂logdet(XX')/∂X = 2(XX')⁻¹X, X wide
case("logdet_X_Xt", "logdet(X*X')", "X", lambda v: 2 * inv(v["X"] @ v["X"].T) @ v["X"],
     draw={"shapes": {"X": (3, 5)}})
# ∂det(X'X)/∂X = 2 det(X'X) X(X'X)⁻¹, X tall
case("det_XtX", "det(X'*X)", "X",
     lambda v: 2 * det(v["X"].T @ v["X"]) * v["X"] @ inv(v["X"].T @ v["X"]),
     draw={"shapes": {"X": (5, 3)}})
# ∂logdet(A + xx')/∂x = x'(M⁻¹ + M⁻ᵀ) (the matrix determinant lemma's gradient)
case("logdet_A_plus_xxt", "logdet(A + x*x')", "x",
     lambda v: v["x"] @ (inv(v["A"] + np.outer(v["x"], v["x"])) + inv(v["A"] + np.outer(v["x"], v["x"])).T))


def _logdet_A_xxt_hessian(v):
    Mi = inv(v["A"] + np.outer(v["x"], v["x"]))  # A is SPD: M symmetric
    x = v["x"]
    return 2 * Mi - 2 * (x @ Mi @ x) * Mi - 2 * np.outer(Mi @ x, Mi @ x)


case("logdet_A_plus_xxt_hessian", "logdet(A + x*x')", "x", _logdet_A_xxt_hessian, order=2)
case("logdet_eye_plus_XtX", "logdet(eye + X'*X)", "X",
     lambda v: 2 * v["X"] @ inv(E(v["X"].shape[1]) + v["X"].T @ v["X"]))
case("logdet_and_trace_of_binding", "logdet(M) + tr(M) where M = X'*X + eye", "X",
     lambda v: 2 * v["X"] @ inv(v["X"].T @ v["X"] + E(v["X"].shape[1])) + 2 * v["X"])
case("det_times_trace", "det(X)*tr(X)", "X",
     lambda v: det(v["X"]) * np.trace(v["X"]) * inv(v["X"]).T + det(v["X"]) * E(len(v["X"])))

# =============================================================================================
# inverses of expressions
# =============================================================================================
case("inv_Xt", "inv(X')", "X", lambda v: -np.einsum("qi,jp->pqij", inv(v["X"]), inv(v["X"])))
case("inv_A_X", "inv(A*X)", "X",
     lambda v: -np.einsum("pi,jq->pqij", inv(v["A"] @ v["X"]) @ v["A"], inv(v["A"] @ v["X"])))
case("inv_eye_plus_X", "inv(eye + X)", "X",
     lambda v: -np.einsum("pi,jq->pqij", inv(E(len(v["X"])) + v["X"]), inv(E(len(v["X"])) + v["X"])))
case("inv_X_times_x_by_x", "inv(X)*x", "x", lambda v: inv(v["X"]))
case("inv_X_times_x_by_X", "inv(X)*x", "X",
     lambda v: -np.einsum("pi,j->pij", inv(v["X"]), inv(v["X"]) @ v["x"]))


def _quad_inv_rank_one(v):
    x = v["x"]
    Mi = inv(v["A"] + np.outer(x, x))
    return (x @ (Mi + Mi.T)) * (1 - x @ Mi @ x)


case("quadratic_form_of_inv_rank_one_update", "x'*inv(A + x*x')*x", "x", _quad_inv_rank_one)
# a'X⁻ᵀb = b'X⁻¹a: ∂ = −X⁻ᵀ b a' X⁻ᵀ
case("a_inv_X_t_b", "a'*inv(X)'*b", "X", lambda v: -inv(v["X"]).T @ np.outer(v["b"], v["a"]) @ inv(v["X"]).T,
     kinds={"a": "vector", "b": "vector"})
# least squares: ∂((X'X)⁻¹X'y)/∂y = (X'X)⁻¹X'
case("least_squares_by_y", "inv(X'*X)*X'*y", "y", lambda v: inv(v["X"].T @ v["X"]) @ v["X"].T,
     draw={"shapes": {"X": (5, 3)}})


def _ls_by_X(v):
    X, y = v["X"], v["y"]
    G = inv(X.T @ X)
    b = G @ X.T @ y
    r = y - X @ b
    # d b = G dX' r − G X' dX b
    return np.einsum("pj,i->pij", G, r) - np.einsum("pa,ai,j->pij", G, X.T, b)


case("least_squares_by_X", "inv(X'*X)*X'*y", "X", _ls_by_X, draw={"shapes": {"X": (5, 3)}})
case("inv_X_A_inv_X", "inv(X)*A*inv(X)", "X",
     lambda v: -np.einsum("pi,jq->pqij", inv(v["X"]), inv(v["X"]) @ v["A"] @ inv(v["X"]))
     - np.einsum("pi,jq->pqij", inv(v["X"]) @ v["A"] @ inv(v["X"]), inv(v["X"])))

# =============================================================================================
# scalar parameter in a matrix function
# =============================================================================================
def pencil(expr, closed, order=1):
    def values(seed):
        v = random_values(expr, {"t": "scalar"}, seed=seed)
        v["t"] = 0.3
        return v
    return dict(closed=closed, order=order, kinds={"t": "scalar"}, values=values(0))


case("inv_pencil", "inv(t*A + B)", "t",
     **pencil("inv(t*A + B)", lambda v: -inv(v["t"] * v["A"] + v["B"]) @ v["A"] @ inv(v["t"] * v["A"] + v["B"])))
case("logdet_pencil", "logdet(t*A + B)", "t",
     **pencil("logdet(t*A + B)", lambda v: np.trace(inv(v["t"] * v["A"] + v["B"]) @ v["A"])))
case("logdet_pencil_order_2", "logdet(t*A + B)", "t",
     **pencil("logdet(t*A + B)", lambda v: -np.trace(np.linalg.matrix_power(inv(v["t"] * v["A"] + v["B"]) @ v["A"], 2)),
              order=2))
case("logdet_pencil_order_3", "logdet(t*A + B)", "t",
     **pencil("logdet(t*A + B)", lambda v: 2 * np.trace(np.linalg.matrix_power(inv(v["t"] * v["A"] + v["B"]) @ v["A"], 3)),
              order=3))
case("det_pencil", "det(t*A + B)", "t",
     **pencil("det(t*A + B)", lambda v: det(v["t"] * v["A"] + v["B"]) * np.trace(inv(v["t"] * v["A"] + v["B"]) @ v["A"])))
case("tr_inv_pencil", "tr(inv(t*A + B))", "t",
     **pencil("tr(inv(t*A + B))",
              lambda v: -np.trace(inv(v["t"] * v["A"] + v["B"]) @ v["A"] @ inv(v["t"] * v["A"] + v["B"]))))
case("inv_eye_plus_tA_order_2", "inv(eye + t*A)", "t",
     **pencil("inv(eye + t*A)", lambda v: 2 * np.linalg.matrix_power(inv(E(len(v["A"])) + v["t"] * v["A"]) @ v["A"], 2)
              @ inv(E(len(v["A"])) + v["t"] * v["A"]), order=2))
case("matrix_polynomial_in_t", "t*A + t^2*B", "t", lambda v: v["A"] + 2 * v["t"] * v["B"], kinds={"t": "scalar"})
case("matrix_polynomial_in_t_order_2", "t*A + t^2*B", "t", lambda v: 2 * v["B"], order=2, kinds={"t": "scalar"})
case("exp_tX_by_t", "exp(t*X)", "t", lambda v: v["X"] * np.exp(v["t"] * v["X"]), kinds={"t": "scalar"})
case("sin_cos_X_order_2", "sin(t)*X*cos(t)", "t", lambda v: -2 * np.sin(2 * v["t"]) * v["X"], order=2,
     kinds={"t": "scalar"})
case("vector_by_scalar_order_3", "exp(t*x)", "t", lambda v: v["x"] ** 3 * np.exp(v["t"] * v["x"]), order=3,
     kinds={"t": "scalar"})

# =============================================================================================
# norm1, abs, relu, sign, sqrt
# =============================================================================================
case("norm1_of_residual", "norm1(A*x - b)", "x", lambda v: np.sign(v["A"] @ v["x"] - v["b"]) @ v["A"],
     kinds={"b": "vector"})
case("norm1_squared", "norm1(x)^2", "x", lambda v: 2 * np.abs(v["x"]).sum() * np.sign(v["x"]))
case("sum_abs_Xy", "sum(abs(X*y))", "X", lambda v: np.outer(np.sign(v["X"] @ v["y"]), v["y"]))
case("abs_jacobian", "abs(x)", "x", lambda v: np.diag(np.sign(v["x"])))
case("abs_of_linear_form", "abs(a'*x)", "x", lambda v: np.sign(v["a"] @ v["x"]) * v["a"], kinds={"a": "vector"})
case("sign_times_x", "sign(x).*x", "x", lambda v: np.diag(np.sign(v["x"])))
case("relu_squared", "relu(x).^2", "x", lambda v: np.diag(2 * np.maximum(v["x"], 0)))
case("sum_relu_Ax_squared_hessian", "sum(relu(A*x).^2)", "x",
     lambda v: 2 * v["A"].T @ np.diag(step(v["A"] @ v["x"])) @ v["A"], order=2)
case("relu_inner_product_hessian", "relu(x)'*relu(x)", "x", lambda v: 2 * np.diag(step(v["x"])), order=2)
case("sum_abs_cubed_hessian", "sum(abs(x).^3)", "x", lambda v: np.diag(6 * np.abs(v["x"])), order=2)
case("softsign_hessian", "sum(x./(1 + abs(x)))", "x",
     lambda v: np.diag(-2 * np.sign(v["x"]) / (1 + np.abs(v["x"])) ** 3), order=2)
case("sqrt_of_quadratic", "sqrt(x'*x + 1)", "x", lambda v: v["x"] / np.sqrt(v["x"] @ v["x"] + 1))


def _sqrt_q_hess(v):
    x = v["x"]
    s = np.sqrt(x @ x + 1)
    return E(len(x)) / s - np.outer(x, x) / s ** 3


case("sqrt_of_quadratic_hessian", "sqrt(x'*x + 1)", "x", _sqrt_q_hess, order=2)
case("sqrt_elementwise", "sqrt(x.*x + 1)", "x", lambda v: np.diag(v["x"] / np.sqrt(v["x"] ** 2 + 1)))
case("sqrt_of_abs", "sqrt(abs(x))", "x", lambda v: np.diag(0.5 * np.sign(v["x"]) / np.sqrt(np.abs(v["x"]))))


def _norm2_order3(v):
    x = v["x"]
    r = np.linalg.norm(x)
    d = E(len(x))
    return (-(np.einsum("ij,k->ijk", d, x) + np.einsum("ik,j->ijk", d, x) + np.einsum("jk,i->ijk", d, x)) / r ** 3
            + 3 * np.einsum("i,j,k->ijk", x, x, x) / r ** 5)


case("norm2_order_3", "norm2(x)", "x", _norm2_order3, order=3)
case("norm2_inverse_hessian", "norm2(x)^(-1)", "x",
     lambda v: -E(len(v["x"])) / np.linalg.norm(v["x"]) ** 3
     + 3 * np.outer(v["x"], v["x"]) / np.linalg.norm(v["x"]) ** 5, order=2)
case("frobenius_inverse_square", "norm2(X)^(-2)", "X", lambda v: -2 * v["X"] / np.sum(v["X"] ** 2) ** 2)

# =============================================================================================
# elementwise powers, ./ and division by a scalar expression
# =============================================================================================
case("power_half", "x.^0.5", "x", lambda v: np.diag(0.5 * v["x"] ** -0.5), draw={"positive": True})
case("power_minus_two_and_a_half", "x.^(-2.5)", "x", lambda v: np.diag(-2.5 * v["x"] ** -3.5),
     draw={"positive": True})
case("power_of_shifted_square", "(x.*x + 1).^(-0.5)", "x", lambda v: np.diag(-v["x"] * (v["x"] ** 2 + 1) ** -1.5))
case("sum_power_three_halves_hessian", "sum(x.^1.5)", "x", lambda v: np.diag(0.75 * v["x"] ** -0.5), order=2,
     draw={"positive": True})
case("sum_power_minus_three_halves_hessian", "sum(x.^(-1.5))", "x", lambda v: np.diag(3.75 * v["x"] ** -3.5),
     order=2, draw={"positive": True})
case("scalar_base_vector_exponent", "2.^x", "x", lambda v: np.diag(np.log(2) * 2 ** v["x"]))
case("vector_base_scalar_exponent_by_exponent", "x.^a", "a", lambda v: np.log(v["x"]) * v["x"] ** v["a"],
     kinds={"a": "scalar"}, draw={"positive": True})
case("vector_power_by_vector_exponent", "x.^y", "y", lambda v: np.diag(np.log(v["x"]) * v["x"] ** v["y"]),
     draw={"positive": True})
case("quadratic_to_the_a", "(x'*x)^a", "a", lambda v: np.log(v["x"] @ v["x"]) * (v["x"] @ v["x"]) ** v["a"],
     kinds={"a": "scalar"})
case("x_over_one_plus_x_squared", "x./(1 + x.*x)", "x", lambda v: np.diag((1 - v["x"] ** 2) / (1 + v["x"] ** 2) ** 2))
case("ratio_of_linear_maps", "(A*x)./(B*x)", "x",
     lambda v: np.diag(1 / (v["B"] @ v["x"])) @ v["A"]
     - np.diag((v["A"] @ v["x"]) / (v["B"] @ v["x"]) ** 2) @ v["B"])
case("elementwise_quotient_by_numerator", "x./y", "x", lambda v: np.diag(1 / v["y"]))
case("elementwise_quotient_by_denominator", "X./Y", "Y",
     lambda v: np.einsum("pq,pi,qj->pqij", -v["X"] / v["Y"] ** 2, E(v["X"].shape[0]), E(v["X"].shape[1])))
case("reciprocal", "1./x", "x", lambda v: np.diag(-1 / v["x"] ** 2))
case("x_over_its_squared_norm", "x/(x'*x)", "x",
     lambda v: E(len(v["x"])) / (v["x"] @ v["x"]) - 2 * np.outer(v["x"], v["x"]) / (v["x"] @ v["x"]) ** 2)
case("linear_map_over_linear_form", "A*x/(a'*x)", "x",
     lambda v: v["A"] / (v["a"] @ v["x"]) - np.outer(v["A"] @ v["x"], v["a"]) / (v["a"] @ v["x"]) ** 2,
     kinds={"a": "vector"})
case("normalised_image", "(A*x)/norm2(A*x)", "x",
     lambda v: (E(len(v["A"])) / np.linalg.norm(v["A"] @ v["x"])
                - np.outer(v["A"] @ v["x"], v["A"] @ v["x"]) / np.linalg.norm(v["A"] @ v["x"]) ** 3) @ v["A"])
case("X_over_its_trace", "X/tr(X)", "X",
     lambda v: np.einsum("pi,qj->pqij", E(len(v["X"])), E(len(v["X"]))) / np.trace(v["X"])
     - np.einsum("pq,ij->pqij", v["X"], E(len(v["X"]))) / np.trace(v["X"]) ** 2)
case("divided_by_scalar_variable", "x/a", "a", lambda v: -v["x"] / v["a"] ** 2, kinds={"a": "scalar"})


def _rayleigh(v):
    x, A = v["x"], v["A"]
    u, w = x @ x, x @ A @ x
    return 2 * x / w - u * x @ (A + A.T) / w ** 2


case("rayleigh_quotient_inverse", "x'*x/(x'*A*x)", "x", _rayleigh, draw={"spd": True})

# =============================================================================================
# diag(x), diag(X)
# =============================================================================================
case("diag_x_times_y", "diag(x)*y", "x", lambda v: np.diag(v["y"]))
case("diag_x_A_diag_x", "diag(x)*A*diag(x)", "x",
     lambda v: np.einsum("pi,pq,q->pqi", E(len(v["x"])), v["A"], v["x"])
     + np.einsum("p,pq,qi->pqi", v["x"], v["A"], E(len(v["x"]))))
case("diag_of_Ax", "diag(A*x)", "x", lambda v: np.einsum("pi,pq->pqi", v["A"], E(len(v["A"]))))
case("diag_of_XY", "diag(X*Y)", "X", lambda v: np.einsum("pi,jp->pij", E(v["X"].shape[0]), v["Y"]))
case("tr_diag_x_A", "tr(diag(x)*A)", "x", lambda v: np.diag(v["A"]))
case("quadratic_form_of_diag_by_x", "x'*diag(y)*x", "x", lambda v: 2 * v["x"] * v["y"])
case("quadratic_form_of_diag_by_y", "x'*diag(y)*x", "y", lambda v: v["x"] ** 2)
case("diag_of_diag", "diag(diag(X))", "X",
     lambda v: np.einsum("pq,pi,pj->pqij", E(len(v["X"])), E(len(v["X"])), E(len(v["X"]))))
case("sum_of_diag_x_A", "sum(diag(x)*A)", "x", lambda v: v["A"].sum(axis=1))
case("diag_of_XtAX", "diag(X'*A*X)", "X",
     lambda v: np.einsum("pj,ip->pij", E(v["X"].shape[1]), (v["A"] + v["A"].T) @ v["X"]))
case("inv_diag_times_y", "inv(diag(x))*y", "x", lambda v: np.diag(-v["y"] / v["x"] ** 2), draw={"positive": True})
case("logdet_diag", "logdet(diag(x))", "x", lambda v: 1 / v["x"], draw={"positive": True})
case("det_diag", "det(diag(x))", "x", lambda v: np.prod(v["x"]) / v["x"])
case("logdet_diag_exp", "logdet(diag(exp(x)))", "x", lambda v: np.ones_like(v["x"]))
case("logdet_diag_plus_A", "logdet(diag(x) + A)", "x", lambda v: np.diag(inv(np.diag(v["x"]) + v["A"])),
     draw={"positive": True})
case("diag_of_outer", "diag(x*x')", "x", lambda v: 2 * np.diag(v["x"]))
case("diag_x_times_x_hessian", "diag(x)*x", "x",
     lambda v: 2 * np.einsum("ij,ik->ijk", E(len(v["x"])), E(len(v["x"]))), order=2)
case("diag_of_inv", "diag(inv(X))", "X", lambda v: -np.einsum("pi,jp->pij", inv(v["X"]), inv(v["X"])))

# =============================================================================================
# sums of matrices, Hadamard products, outer products
# =============================================================================================
case("sum_XY_by_X", "sum(X*Y)", "X", lambda v: np.outer(np.ones(v["X"].shape[0]), v["Y"].sum(axis=1)))
case("sum_XtX", "sum(X'*X)", "X", lambda v: 2 * np.outer(v["X"].sum(axis=1), np.ones(v["X"].shape[1])))
case("sum_X_hadamard_X_hessian", "sum(X.*X)", "X",
     lambda v: 2 * np.einsum("ik,jl->ijkl", E(v["X"].shape[0]), E(v["X"].shape[1])), order=2)
case("hadamard_of_images", "(A*x).*(B*x)", "x",
     lambda v: np.diag(v["B"] @ v["x"]) @ v["A"] + np.diag(v["A"] @ v["x"]) @ v["B"])
case("quadratic_form_of_hadamard", "x'*(A.*B)*x", "x", lambda v: v["x"] @ (v["A"] * v["B"] + (v["A"] * v["B"]).T))
case("bilinear_hadamard_X", "y'*(X.*X)*z", "X", lambda v: 2 * v["X"] * np.outer(v["y"], v["z"]))
case("outer_product_by_x", "x*x'", "x",
     lambda v: np.einsum("p,qi->pqi", v["x"], E(len(v["x"]))) + np.einsum("pi,q->pqi", E(len(v["x"])), v["x"]))
case("cubic_vector", "x*(x'*x)", "x", lambda v: (v["x"] @ v["x"]) * E(len(v["x"])) + 2 * np.outer(v["x"], v["x"]))
case("cubic_vector_hessian", "x*(x'*x)", "x",
     lambda v: 2 * (np.einsum("i,jk->ijk", v["x"], E(len(v["x"]))) + np.einsum("j,ik->ijk", v["x"], E(len(v["x"])))
                    + np.einsum("k,ij->ijk", v["x"], E(len(v["x"])))), order=2)
case("trace_squared_hessian", "tr(X)^2", "X",
     lambda v: 2 * np.einsum("ij,kl->ijkl", E(len(v["X"])), E(len(v["X"]))), order=2)
case("exp_trace", "exp(tr(X))", "X", lambda v: np.exp(np.trace(v["X"])) * E(len(v["X"])))
case("sum_times_X", "sum(X)*X", "X",
     lambda v: np.einsum("pq,ij->pqij", v["X"], np.ones_like(v["X"]))
     + np.sum(v["X"]) * np.einsum("pi,qj->pqij", E(v["X"].shape[0]), E(v["X"].shape[1])))
case("sum_of_Xx_by_X", "sum(X*x)", "X", lambda v: np.outer(np.ones(v["X"].shape[0]), v["x"]))
case("exp_quadratic_order_3", "exp(norm2(x)^2)", "x",
     lambda v: np.exp(v["x"] @ v["x"]) * (
         4 * (np.einsum("i,jk->ijk", v["x"], E(len(v["x"]))) + np.einsum("j,ik->ijk", v["x"], E(len(v["x"])))
              + np.einsum("k,ij->ijk", v["x"], E(len(v["x"]))))
         + 8 * np.einsum("i,j,k->ijk", v["x"], v["x"], v["x"])), order=3)

# =============================================================================================
# literals, vector(c), matrix(c), eye
# =============================================================================================
case("literal_column_of_forms", "[a*x'*x; b*x'*A*x]", "x",
     lambda v: np.stack([2 * v["a"] * v["x"], v["b"] * v["x"] @ (v["A"] + v["A"].T)]),
     kinds={"a": "scalar", "b": "scalar"})
case("literal_matrix_with_forms", "[x'*x, a; a^2, x'*y]", "x",
     lambda v: np.array([[2 * v["x"], 0 * v["x"]], [0 * v["x"], v["y"]]]), kinds={"a": "scalar"})
case("literal_of_scalar_functions", "[t, t^2; sin(t), exp(t)]", "t",
     lambda v: np.array([[1, 2 * v["t"]], [np.cos(v["t"]), np.exp(v["t"])]]), kinds={"t": "scalar"})
case("literal_of_scalar_functions_order_2", "[t, t^2; sin(t), exp(t)]", "t",
     lambda v: np.array([[0, 2], [-np.sin(v["t"]), np.exp(v["t"])]]), order=2, kinds={"t": "scalar"})
case("literal_squared_norm_by_list", "[a; b]'*[a; b]", ["a", "b"], lambda v: np.array([2 * v["a"], 2 * v["b"]]))
case("literal_squared_norm_by_list_hessian", "[a; b]'*[a; b]", ["a", "b"], lambda v: 2 * E(2), order=2)
case("symmetric_literal_by_its_entries", "x'*[a, b; b, c]*x", ["a", "b", "c"],
     lambda v: np.array([v["x"][0] ** 2, 2 * v["x"][0] * v["x"][1], v["x"][1] ** 2]))


def _inv2(v):
    M = np.array([[v["a"], v["b"]], [v["c"], v["d"]]])
    Mi = inv(M)
    Ea, Ed = np.array([[1.0, 0], [0, 0]]), np.array([[0, 0], [0, 1.0]])
    return np.stack([-Mi @ Ea @ Mi, -Mi @ Ed @ Mi], axis=-1)


case("inv_of_2x2_literal", "inv([a, b; c, d])", ["a", "d"], _inv2,
     values={"a": 2.0, "b": 0.3, "c": -0.4, "d": 1.5})
case("det_of_2x2_literal", "det([a, b; c, d])", ["a", "b", "c", "d"],
     lambda v: np.array([v["d"], -v["c"], -v["b"], v["a"]]))
case("det_of_2x2_literal_hessian", "det([a, b; c, d])", ["a", "b", "c", "d"],
     lambda v: np.array([[0, 0, 0, 1], [0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0.0]]), order=2)
case("logdet_of_symmetric_literal", "logdet([a, b; b, d])", ["a", "b", "d"],
     lambda v: np.array([v["d"], -2 * v["b"], v["a"]]) / (v["a"] * v["d"] - v["b"] ** 2),
     values={"a": 2.0, "b": 0.3, "d": 1.5})


def _curve_hess(v):
    t, A = v["t"], v["A"]
    u1 = np.array([1, 2 * t, 3 * t ** 2])
    u2 = np.array([0, 2, 6 * t])
    u = np.array([t, t ** 2, t ** 3])
    S = A + A.T
    return u2 @ S @ u + u1 @ S @ u1


case("quadratic_form_on_a_curve_hessian", "[t; t^2; t^3]'*A*[t; t^2; t^3]", "t", _curve_hess, order=2,
     kinds={"t": "scalar"})
case("literal_times_vector_by_list", "[s, t; -t, s]*x", ["s", "t"],
     lambda v: np.stack([v["x"], np.array([v["x"][1], -v["x"][0]])], axis=-1))
case("matrix_times_literal_by_list", "A*[s; t]", ["s", "t"], lambda v: v["A"])
case("ones_vector_form", "vector(1)'*x", "x", lambda v: np.ones_like(v["x"]))
case("sum_of_scaled_ones_hadamard", "sum(matrix(2).*X)", "X", lambda v: 2 * np.ones_like(v["X"]))
case("ones_sandwich", "vector(1)'*X*vector(1)", "X", lambda v: np.ones_like(v["X"]))
case("constant_vector_by_its_entry", "vector(a)'*x", "a", lambda v: np.sum(v["x"]), kinds={"a": "scalar"})
case("quadratic_form_with_eye", "x'*(A + eye)*x", "x", lambda v: v["x"] @ (v["A"] + v["A"].T + 2 * E(len(v["x"]))))
case("quadratic_form_with_eye_hessian", "x'*(2*eye - A)*x", "x", lambda v: 4 * E(len(v["x"])) - v["A"] - v["A"].T,
     order=2)
case("trace_of_X_plus_eye", "tr(X + eye)", "X", lambda v: E(len(v["X"])))

# =============================================================================================
# where bindings
# =============================================================================================
case("binding_affine_hessian", "u'*u where u = A*x + b", "x", lambda v: 2 * v["A"].T @ v["A"], order=2,
     kinds={"b": "vector"})
case("two_bindings_bilinear", "u'*v where u = A*x, v = B*x", "x",
     lambda v: v["x"] @ (v["A"].T @ v["B"] + v["B"].T @ v["A"]))
case("chained_bindings", "sum(exp(v)) where u = A*x, v = U*u", "x",
     lambda v: np.exp(v["U"] @ v["A"] @ v["x"]) @ v["U"] @ v["A"])
case("binding_of_a_matrix", "tr(M*M) where M = X*A", "X",
     lambda v: 2 * (v["A"] @ v["X"] @ v["A"]).T)
case("binding_used_twice", "s^2 + s where s = x'*x", "x", lambda v: (2 * (v["x"] @ v["x"]) + 1) * 2 * v["x"])
case("binding_used_twice_hessian", "s^2 + s where s = x'*x", "x",
     lambda v: (4 * (v["x"] @ v["x"]) + 2) * E(len(v["x"])) + 8 * np.outer(v["x"], v["x"]), order=2)
case("binding_of_tanh_by_W", "u'*u where u = tanh(W*x)", "W",
     lambda v: np.outer(2 * np.tanh(v["W"] @ v["x"]) * (1 - np.tanh(v["W"] @ v["x"]) ** 2), v["x"]))
case("binding_in_binding", "s*u where s = x'*x, u = s*x", "x",
     lambda v: (v["x"] @ v["x"]) ** 2 * E(len(v["x"])) + 4 * (v["x"] @ v["x"]) * np.outer(v["x"], v["x"]))
case("three_nested_bindings_hessian", "f where h = x'*x, g = h + 1, f = g^2", "x",
     lambda v: 4 * (v["x"] @ v["x"] + 1) * E(len(v["x"])) + 8 * np.outer(v["x"], v["x"]), order=2)
case("literal_of_bindings_order_2", "[p; q] where p = t^2, q = sin(t)", "t",
     lambda v: np.array([2.0, -np.sin(v["t"])]), order=2, kinds={"t": "scalar"})
case("bindings_by_list_hessian", "p*q where p = s*t, q = s + t", ["s", "t"],
     lambda v: np.array([[2 * v["t"], 2 * v["s"] + 2 * v["t"]], [2 * v["s"] + 2 * v["t"], 2 * v["s"]]]), order=2)
case("matrix_binding_by_list", "M*x where M = s*A + t*B", ["s", "t"],
     lambda v: np.stack([v["A"] @ v["x"], v["B"] @ v["x"]], axis=-1))


def _two_layer(v):
    h = np.tanh(v["W"] @ v["x"])
    o = np.tanh(v["U"] @ h)
    return np.outer((v["U"].T @ (v["v"] * (1 - o ** 2))) * (1 - h ** 2), v["x"])


case("two_layers_through_bindings", "v'*o where h = tanh(W*x), o = tanh(U*h)", "W", _two_layer)

# =============================================================================================
# lists of scalars, scalar-by-matrix, matrix-by-matrix
# =============================================================================================
case("matrix_of_two_parameters_by_list", "exp(a)*A + sin(b)*B", ["a", "b"],
     lambda v: np.stack([np.exp(v["a"]) * v["A"], np.cos(v["b"]) * v["B"]], axis=-1))
case("forms_weighted_by_list", "a*x'*x + b*x'*A*x", ["a", "b"],
     lambda v: np.array([v["x"] @ v["x"], v["x"] @ v["A"] @ v["x"]]))
case("X_A_X_by_X", "X*A*X", "X",
     lambda v: np.einsum("pi,jq->pqij", E(len(v["X"])), v["A"] @ v["X"])
     + np.einsum("pi,qj->pqij", v["X"] @ v["A"], E(v["X"].shape[1])))
case("X_Xt_by_X", "X*X'", "X",
     lambda v: np.einsum("pi,qj->pqij", E(v["X"].shape[0]), v["X"]) + np.einsum("pj,qi->pqij", v["X"], E(v["X"].shape[0])))
case("hadamard_square_by_X", "X.*X", "X",
     lambda v: 2 * np.einsum("pq,pi,qj->pqij", v["X"], E(v["X"].shape[0]), E(v["X"].shape[1])))
case("A_X_B_by_X", "A*X*B", "X", lambda v: np.einsum("pi,jq->pqij", v["A"], v["B"]))
case("exp_X_times_A", "exp(X)*A", "X",
     lambda v: np.einsum("pi,ij,jq->pqij", E(v["X"].shape[0]), np.exp(v["X"]), v["A"]))
case("transpose_by_X", "X'", "X",
     lambda v: np.einsum("pj,qi->pqij", E(v["X"].shape[1]), E(v["X"].shape[0])))


def _tr_inv_XA_hessian(v):
    Xi = inv(v["X"])
    P = Xi @ v["A"] @ Xi
    return np.einsum("jk,li->ijkl", Xi, P) + np.einsum("jk,li->ijkl", P, Xi)


case("tr_inv_X_A_hessian", "tr(inv(X)*A)", "X", _tr_inv_XA_hessian, order=2)


def _inv_order2(v):
    Xi = inv(v["X"])
    return np.einsum("pk,li,jq->pqijkl", Xi, Xi, Xi) + np.einsum("pi,jk,lq->pqijkl", Xi, Xi, Xi)


case("inv_X_order_2", "inv(X)", "X", _inv_order2, order=2)
case("linear_times_quadratic_order_3", "a'*x*x'*x", "x",
     lambda v: 2 * (np.einsum("i,jk->ijk", v["a"], E(len(v["x"]))) + np.einsum("j,ik->ijk", v["a"], E(len(v["x"])))
                    + np.einsum("k,ij->ijk", v["a"], E(len(v["x"])))), order=3, kinds={"a": "vector"})
case("quartic_elementwise_order_4", "sum(x.^4)", "x",
     lambda v: 24 * np.einsum("ij,ik,il->ijkl", E(len(v["x"])), E(len(v["x"])), E(len(v["x"]))), order=4)

# =============================================================================================
# declared symmetric matrices (unconstrained partials)
# =============================================================================================
S_W = {"W": SYM}
case("sym_tr_WAWB", "tr(W*A*W*B)", "W", lambda v: v["B"].T @ v["W"] @ v["A"].T + v["A"].T @ v["W"] @ v["B"].T,
     kinds=S_W)
case("sym_xWWx", "x'*W*W*x", "W", lambda v: np.outer(v["x"], v["W"] @ v["x"]) + np.outer(v["W"] @ v["x"], v["x"]),
     kinds=S_W)
case("sym_det_WA", "det(W*A)", "W", lambda v: det(v["W"] @ v["A"]) * inv(v["W"]).T, kinds=S_W)
case("sym_inv_W", "inv(W)", "W", lambda v: -np.einsum("pi,jq->pqij", inv(v["W"]), inv(v["W"])), kinds=S_W)
case("sym_W_W", "W*W", "W",
     lambda v: np.einsum("pi,jq->pqij", E(len(v["W"])), v["W"]) + np.einsum("pi,qj->pqij", v["W"], E(len(v["W"]))),
     kinds=S_W)
case("sym_logdet_W_plus_AtA", "logdet(W + A'*A)", "W", lambda v: inv(v["W"] + v["A"].T @ v["A"]).T, kinds=S_W)
case("sym_tr_inv_W_A_hessian", "tr(inv(W)*A)", "W",
     lambda v: _tr_inv_XA_hessian({"X": v["W"], "A": v["A"]}), order=2, kinds=S_W)
case("sym_frobenius_distance", "norm2(W - A)^2", "W", lambda v: 2 * (v["W"] - v["A"]), kinds=S_W)
case("sym_diag", "diag(W)", "W", lambda v: np.einsum("pi,pj->pij", E(len(v["W"])), E(len(v["W"]))), kinds=S_W)
case("sym_W_times_x_by_W", "W*x", "W", lambda v: np.einsum("pi,j->pij", E(len(v["W"])), v["x"]), kinds=S_W)
case("sym_bilinear_by_W", "x'*W*y", "W", lambda v: np.outer(v["x"], v["y"]), kinds=S_W)
# tr(AW') = Σ A_ij W_ij: the unconstrained partial is A (not A', which tr(AW) gives)
case("sym_trace_of_transposed_product", "tr(A*W')", "W", lambda v: v["A"], kinds=S_W)
case("sym_quadratic_of_inverse", "x'*inv(W)*x", "x", lambda v: 2 * v["x"] @ inv(v["W"]), kinds=S_W)
case("sym_normal_form_hessian", "(W*x)'*(W*x)", "x", lambda v: 2 * v["W"] @ v["W"], order=2, kinds=S_W)

# =============================================================================================
# machine learning: losses and layers, with Hessians
# =============================================================================================
GAUSS = "0.5*logdet(S) + 0.5*(x - m)'*inv(S)*(x - m)"


def _gauss_S(v):
    Si = inv(v["S"])
    r = v["x"] - v["m"]
    return 0.5 * Si.T - 0.5 * (Si @ np.outer(r, r) @ Si).T


case("gaussian_nll_by_covariance", GAUSS, "S", _gauss_S, kinds={"S": SYM, "m": "vector"})
case("gaussian_nll_by_covariance_undeclared", GAUSS, "S", _gauss_S, kinds={"m": "vector"})
case("gaussian_nll_by_mean", GAUSS, "m", lambda v: -(v["x"] - v["m"]) @ inv(v["S"]), kinds={"S": SYM, "m": "vector"})
case("gaussian_nll_by_mean_hessian", GAUSS, "m", lambda v: inv(v["S"]), order=2, kinds={"S": SYM, "m": "vector"})
WISHART = "0.5*logdet(S) + 0.5*tr(inv(S)*C)"
case("gaussian_nll_of_scatter_matrix", WISHART, "S",
     lambda v: 0.5 * inv(v["S"]) - 0.5 * inv(v["S"]) @ v["C"].T @ inv(v["S"]), kinds={"S": SYM, "C": SYM})


def _wishart_hessian(v):
    Si = inv(v["S"])
    P = Si @ v["C"] @ Si
    return -0.5 * np.einsum("jk,li->ijkl", Si, Si) + 0.5 * (np.einsum("jk,li->ijkl", Si, P)
                                                           + np.einsum("jk,li->ijkl", P, Si))


case("gaussian_nll_of_scatter_matrix_hessian", WISHART, "S", _wishart_hessian, order=2, kinds={"S": SYM, "C": SYM})
SOFTMAX_XENT = "-y'*log(exp(z)/sum(exp(z))) where z = W*x"


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


case("softmax_cross_entropy_by_weights", SOFTMAX_XENT, "W",
     lambda v: np.outer(_softmax(v["W"] @ v["x"]) * v["y"].sum() - v["y"], v["x"]))


def _xent_hessian_x(v):
    p = _softmax(v["W"] @ v["x"])
    return v["y"].sum() * v["W"].T @ (np.diag(p) - np.outer(p, p)) @ v["W"]


case("softmax_cross_entropy_hessian_by_input", SOFTMAX_XENT, "x", _xent_hessian_x, order=2)
case("log_sum_exp_linear_model", "log(sum(exp(W*x))) - y'*W*x", "W",
     lambda v: np.outer(_softmax(v["W"] @ v["x"]) - v["y"], v["x"]))
case("elastic_net", "norm2(X*w - y)^2 + lambda*norm1(w) + mu*norm2(w)^2", "w",
     lambda v: 2 * (v["X"] @ v["w"] - v["y"]) @ v["X"] + v["lambda"] * np.sign(v["w"]) + 2 * v["mu"] * v["w"])
case("elastic_net_hessian", "norm2(X*w - y)^2 + lambda*norm1(w) + mu*norm2(w)^2", "w",
     lambda v: 2 * v["X"].T @ v["X"] + 2 * v["mu"] * E(len(v["w"])), order=2)
case("least_absolute_deviations", "sum(abs(X*w - y))", "w", lambda v: np.sign(v["X"] @ v["w"] - v["y"]) @ v["X"])


def _pseudo_huber_hessian(v):
    r = v["X"] @ v["w"] - v["y"]
    return v["X"].T @ np.diag((1 + r ** 2) ** -1.5) @ v["X"]


case("pseudo_huber", "sum(sqrt(1 + (X*w - y).^2))", "w",
     lambda v: ((v["X"] @ v["w"] - v["y"]) / np.sqrt(1 + (v["X"] @ v["w"] - v["y"]) ** 2)) @ v["X"])
case("pseudo_huber_hessian", "sum(sqrt(1 + (X*w - y).^2))", "w", _pseudo_huber_hessian, order=2)
case("log_sigmoid_likelihood_hessian", "sum(log(sigmoid(y.*(X*w))))", "w",
     lambda v: -v["X"].T @ np.diag(v["y"] ** 2 * sig(v["y"] * (v["X"] @ v["w"])) * sig(-v["y"] * (v["X"] @ v["w"])))
     @ v["X"], order=2)
MLP = "W2*tanh(W1*x + b1)"
B1 = {"b1": "vector"}


def _h(v):
    return np.tanh(v["W1"] @ v["x"] + v["b1"])


case("mlp_by_first_weights", MLP, "W1",
     lambda v: np.einsum("pi,i,j->pij", v["W2"], 1 - _h(v) ** 2, v["x"]), kinds=B1)
case("mlp_by_first_bias", MLP, "b1", lambda v: v["W2"] @ np.diag(1 - _h(v) ** 2), kinds=B1)
case("mlp_by_input", MLP, "x", lambda v: v["W2"] @ np.diag(1 - _h(v) ** 2) @ v["W1"], kinds=B1)


def _mlp_sum_hessian(v):
    c = v["W2"].sum(axis=0)
    h = _h(v)
    return v["W1"].T @ np.diag(c * -2 * h * (1 - h ** 2)) @ v["W1"]


case("mlp_sum_hessian_by_input", "sum(W2*tanh(W1*x + b1))", "x", _mlp_sum_hessian, order=2, kinds=B1)
case("mlp_squared_error_by_second_weights", "norm2(W2*tanh(W1*x + b1) - y)^2", "W2",
     lambda v: 2 * np.outer(v["W2"] @ _h(v) - v["y"], _h(v)), kinds=B1)


def _mlp_err_b1_hessian(v):
    h = _h(v)
    g = 1 - h ** 2
    r = v["W2"] @ h - v["y"]
    J = v["W2"] @ np.diag(g)
    return 2 * J.T @ J + 2 * np.diag((v["W2"].T @ r) * -2 * h * g)


case("mlp_squared_error_hessian_by_bias", "norm2(W2*tanh(W1*x + b1) - y)^2", "b1", _mlp_err_b1_hessian,
     order=2, kinds=B1)
case("relu_layer_by_input", "W2*relu(W1*x + b1) + b2", "x",
     lambda v: v["W2"] @ np.diag(step(v["W1"] @ v["x"] + v["b1"])) @ v["W1"], kinds={"b1": "vector", "b2": "vector"})
case("attention_scores_by_queries", "sum(exp(Q*K'))", "Q", lambda v: np.exp(v["Q"] @ v["K"].T) @ v["K"])


def _tanh_attention_K(v):
    T = np.tanh(v["Q"] @ v["K"].T)
    return (np.outer(v["u"], v["v"]) * (1 - T ** 2)).T @ v["Q"]


case("tanh_attention_by_keys", "u'*tanh(Q*K')*v", "K", _tanh_attention_K)

GP = "0.5*y'*inv(K)*y + 0.5*logdet(K) where K = X*X' + s*eye"


def _gp_values(seed=0):
    v = random_values(GP, {"s": "scalar"}, seed=seed)
    v["s"] = abs(v["s"]) + 0.5
    return v


def _gp_K(v):
    return v["X"] @ v["X"].T + v["s"] * E(len(v["X"]))


case("gaussian_process_evidence_by_inputs", GP, "X",
     lambda v: (inv(_gp_K(v)) - inv(_gp_K(v)) @ np.outer(v["y"], v["y"]) @ inv(_gp_K(v))) @ v["X"],
     kinds={"s": "scalar"}, values=_gp_values())
case("gaussian_process_evidence_by_noise_order_2", GP, "s",
     lambda v: -0.5 * np.trace(inv(_gp_K(v)) @ inv(_gp_K(v)))
     + v["y"] @ np.linalg.matrix_power(inv(_gp_K(v)), 3) @ v["y"], order=2, kinds={"s": "scalar"},
     values=_gp_values())
case("regularised_matrix_factorisation", "norm2(R - U*V')^2 + lambda*(norm2(U)^2 + norm2(V)^2)", "U",
     lambda v: -2 * (v["R"] - v["U"] @ v["V"].T) @ v["V"] + 2 * v["lambda"] * v["U"])
case("pca_lagrangian", "tr(W'*C*W) - tr(L*(W'*W - eye))", "W",
     lambda v: 2 * v["C"] @ v["W"] - 2 * v["W"] @ v["L"], kinds={"C": SYM, "L": SYM})
BCE = "-sum(y.*log(sigmoid(X*w)) + (1 - y).*log(1 - sigmoid(X*w)))"


def _bce_values():
    v = random_values(BCE)
    v["y"] = (v["y"] > 0).astype(float)
    return v


case("binary_cross_entropy_hessian", BCE, "w",
     lambda v: v["X"].T @ np.diag(sig(v["X"] @ v["w"]) * (1 - sig(v["X"] @ v["w"]))) @ v["X"], order=2,
     values=_bce_values())
case("binary_cross_entropy_of_a_layer", "y'*log(sigmoid(W*x)) + (1 - y)'*log(1 - sigmoid(W*x))", "W",
     lambda v: np.outer(v["y"] - sig(v["W"] @ v["x"]), v["x"]))
case("squared_error_of_a_relu_layer", "0.5*norm2(relu(W*x + b) - y)^2", "W",
     lambda v: np.outer(step(v["W"] @ v["x"] + v["b"]) * (np.maximum(v["W"] @ v["x"] + v["b"], 0) - v["y"]), v["x"]),
     kinds={"b": "vector"})


def _lse_scaled_hessian(v):
    p = _softmax(v["Q"] @ v["k"] / v["c"])
    return v["Q"].T @ (np.diag(p) - np.outer(p, p)) @ v["Q"] / v["c"] ** 2


case("scaled_dot_product_log_sum_exp_hessian", "log(sum(exp(u))) where u = Q*k/c", "k", _lse_scaled_hessian,
     order=2, kinds={"c": "scalar"})


def _scale_values():
    v = random_values("norm2(x - m)^2/(2*s^2) + n*log(s)", {"s": "scalar", "n": "scalar", "m": "vector"})
    v["s"] = abs(v["s"]) + 0.5
    return v


case("gaussian_scale_order_2", "norm2(x - m)^2/(2*s^2) + n*log(s)", "s",
     lambda v: 3 * np.sum((v["x"] - v["m"]) ** 2) / v["s"] ** 4 - v["n"] / v["s"] ** 2, order=2,
     kinds={"s": "scalar", "n": "scalar", "m": "vector"}, values=_scale_values())
case("precision_log_likelihood_hessian", "logdet(P) - (x - m)'*P*(x - m)", "P",
     lambda v: -np.einsum("jk,li->ijkl", inv(v["P"]), inv(v["P"])), order=2, kinds={"P": SYM, "m": "vector"})
case("trace_of_inverse_of_affine_map", "tr(inv(A + B*X*C))", "X",
     lambda v: -v["B"].T @ inv(v["A"] + v["B"] @ v["X"] @ v["C"]).T @ inv(v["A"] + v["B"] @ v["X"] @ v["C"]).T
     @ v["C"].T)


# =============================================================================================
# the tests
# =============================================================================================
@pytest.mark.parametrize("name", list(CASES))
def test_identity(name):
    c = CASES[name]
    values = c.values
    if values is None:
        values = random_values(c.expr, c.kinds, seed=c.seed, **c.draw)
    check_derivative(c.expr, c.wrt, kinds=c.kinds, order=c.order, values=values, closed=c.closed)


def test_there_are_enough_identities():
    assert len(CASES) >= 80


def test_a_list_with_an_unused_name():
    # ∂exp(a x)/∂(a, b) = [x.*exp(a x), 0]: b is not used, its column is zero
    values = {"a": 0.4, "b": -0.3, "x": np.array([0.5, -0.2, 0.8])}
    d = ricci.derivative("exp(a*x)", ["a", "b"])
    expected = np.stack([values["x"] * np.exp(values["a"] * values["x"]), np.zeros(3)], axis=-1)
    np.testing.assert_allclose(d.evaluate(values), expected, rtol=1e-12)
    text = ricci.parse(d.text, {"a": "scalar", "x": "vector"})
    np.testing.assert_allclose(text.evaluate({"a": 0.4, "x": values["x"]}), expected, rtol=1e-12)


# ---- bugs found while writing these ------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "sum(exp(v)) where v = U*u, u = A*x",  # u used in v's binding before it is bound
    "sum(exp(x)) where x = A*x",  # a name used in its own binding
])
def test_a_binding_may_use_only_the_bindings_before_it(text):
    # Both once made the bound name and a free variable of the same name one (an einsum size
    # mismatch, or endless recursion in the chain rule).
    with pytest.raises(ricci.RicciSyntaxError, match="before it is bound"):
        ricci.derivative(text, "x")
    with pytest.raises(ricci.RicciSyntaxError, match="before it is bound"):
        ricci.parse(text)


@pytest.mark.parametrize("expression, wrt, order, kinds, closed", [
    # a matrix called eye is a matrix: ∂²(x'*eye*x)/∂x² = eye + eye', not 2*eye
    ("x'*eye*x", "x", 2, {"eye": "matrix"}, lambda v: v["eye"] + v["eye"].T),
    ("x'*eye*x", "x", 1, {"eye": "matrix"}, lambda v: v["x"] @ (v["eye"] + v["eye"].T)),
    ("tr(eye*A)", "A", 1, {"eye": "matrix"}, lambda v: v["eye"].T),
    # with eye a variable, the identity is written I ...
    ("x'*x + eye'*x", "x", 2, {"eye": "vector"}, lambda v: 2 * np.eye(len(v["x"]))),
    # ... and with I a variable too, diag(vector(1))
    ("eye*x + I*x + x", "x", 1, {"I": "matrix", "eye": "matrix"},
     lambda v: v["eye"] + v["I"] + np.eye(len(v["x"]))),
    ("x'*x + tr(I*eye)", "x", 2, {"I": "matrix", "eye": "matrix"}, lambda v: 2 * np.eye(len(v["x"]))),
])
def test_a_matrix_called_eye_is_not_the_identity(expression, wrt, order, kinds, closed):
    # The display wrote every eye as the identity: x'*eye*x had the Hessian "2*eye".
    check_derivative(expression, wrt, kinds=kinds, order=order, values=random_values(expression, kinds, seed=1),
                     closed=closed)


def test_summed_indices_are_not_named_like_variables():
    # ∂(X*A*a)/∂X with a vector a once read "Σ_a A_ka δ_ij a_a": which a is the vector?
    d = ricci.derivative("X*A*a", "X", kinds={"a": "vector"})
    lhs, rhs = d.text.split(" = ")
    summed = [s[2:] for s in rhs.split() if s.startswith("Σ_")]
    assert summed and all(set(s).isdisjoint({"a"}) for s in summed), d.text
    values = random_values("X*A*a", {"a": "vector"})
    check_derivative("X*A*a", "X", kinds={"a": "vector"}, values=values,
                     closed=lambda v: np.einsum("pi,j->pij", np.eye(v["X"].shape[0]), v["A"] @ v["a"]))


def test_a_list_of_scalars_is_not_named_like_a_variable():
    # ∂(x*y'*a)/∂(a, b) has no matrix form; its index notation called the list x, like the vector x.
    d = ricci.derivative("x*y'*a", ["a", "b"])
    assert d.text.startswith("∂f_pq/∂w_i = "), d.text
    values = random_values("x*y'*a", {"a": "scalar"}, seed=2)
    values["b"] = 0.3
    expected = np.stack([np.outer(values["x"], values["y"]), np.zeros((len(values["x"]), len(values["y"])))], axis=-1)
    np.testing.assert_allclose(d.evaluate(values), expected, rtol=1e-12)


def test_a_two_axis_literal_reads_as_a_matrix_in_index_notation():
    # ∂([1, 2, 3; 4, 5, 6]*X)/∂X showed the literal as [1, 2, 3, 4, 5, 6]_pi (rows lost)
    d = ricci.derivative("[1, 2, 3; 4, 5, 6]*X", "X")
    assert "[1, 2, 3; 4, 5, 6]_pi" in d.text, d.text
    values = {"X": np.arange(12.0).reshape(3, 4) / 7}
    L = np.array([[1.0, 2, 3], [4, 5, 6]])
    np.testing.assert_allclose(d.evaluate(values), np.einsum("pi,qj->pqij", L, np.eye(4)), rtol=1e-12)


@pytest.mark.parametrize("expression, order, closed", [
    ("exp(-a*x'*x)", 1, lambda v: np.array([-(v["x"] @ v["x"]) * np.exp(-v["a"] * (v["x"] @ v["x"]))])),
    ("exp(-a*x'*x)", 2, lambda v: np.array([[(v["x"] @ v["x"]) ** 2 * np.exp(-v["a"] * (v["x"] @ v["x"]))]])),
    ("a*x", 1, lambda v: v["x"][:, None]),
    ("[a, 2*a; 3*a, a^2]", 1, lambda v: np.array([[1, 2], [3, 2 * v["a"]]])[:, :, None]),
])
def test_a_list_of_one_scalar_is_a_row_of_one_partial(expression, order, closed):
    # wrt=["a"] was taken for wrt="a": shape () where the finite differences and the JAX oracle
    # (a list: one axis of len(wrt) per order) have (1,), and a list of one matrix passed.
    values = {"a": 0.3, "x": np.array([0.5, -0.2, 0.8])}
    values = {k: values[k] for k in ricci.parse(expression, {"a": "scalar"}).variables}
    # no matrix form: a 1×1 literal [s] is a scalar, so the axis of length 1 needs index notation
    check_derivative(expression, ["a"], order=order, values=values, closed=closed, text_has_matrix_form=False)
    d = ricci.derivative(expression, ["a"], order)
    assert not d.has_matrix_form
    assert str(d.check(values)).startswith("checked numerically")
    d.steps  # the explanation copes with the axis of length 1


def test_a_list_names_scalars_even_when_it_names_one():
    with pytest.raises(ricci.KindError):
        ricci.derivative("tr(A*B)", ["A"], kinds={"A": "matrix"})
    with pytest.raises(ricci.KindError):
        ricci.derivative("inv(A)", ["A"])


def test_generated_jax_code_takes_numpy_arrays():
    # The JAX code added to a diagonal with base.at[...] where base came from NumPy inputs
    # (-A - A.T is then a NumPy array, which has no .at): AttributeError.
    pytest.importorskip("jax")
    d = ricci.derivative("x'*(2*eye - A)*x", "x", 2)
    A = np.arange(9.0).reshape(3, 3) / 10
    f = d.function("jax")
    np.testing.assert_allclose(np.asarray(f(np.ones(3), A)), 4 * np.eye(3) - A - A.T, rtol=1e-6)


@pytest.mark.parametrize("expression, order", [("t*A + t^2*B", 1), ("t*A + t^2*B", 2), ("[t, t^2; sin(t), exp(t)]", 1)])
def test_a_matrix_by_a_scalar_keeps_its_shape_in_denominator_layout(expression, order):
    # The denominator layout transposed ∂Y/∂t as if it were a Jacobian ((2*t*B + A)', "the
    # transpose of the Jacobian"); ∂Y_ij/∂t has Y's shape in both layouts.
    d = ricci.derivative(expression, "t", order, {"t": "scalar"})
    view = d.display(layout="denominator")
    assert view.text == d.text
    values = random_values(expression, {"t": "scalar"})
    np.testing.assert_allclose(view.evaluate(values), d.evaluate(values))
    assert "shape in both layouts" in view.note
