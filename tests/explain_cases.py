"""The examples whose explanations are pinned by snapshot tests (tests/test_explain_snapshots.py).

Every example of the lecture (shared/LECTURE_CASES.md, rows 1–18, with the lecture's names for
functions and dimensions where it gives them) and Matrix Cookbook identities from
tests/test_cookbook.py (equation numbers of the November 2012 edition), and a few ML losses.
Each case: (id, expression, wrt, order, kinds, options of ricci.explain).
"""

from __future__ import annotations

SYM_W = {"W": "symmetric matrix"}
VEC_AB = {"a": "vector", "b": "vector"}

LECTURE = [
    ("lecture_row01_x_transpose_a", "x'*a", "x", 1, {"a": "vector"}, {}),
    ("lecture_row02_a_transpose_x", "a'*x", "x", 1, {"a": "vector"}, {}),
    ("lecture_row03_a_X_b", "a'*X*b", "X", 1, VEC_AB, {}),
    ("lecture_row04_quadratic_form", "x'*B*x", "x", 1, None, {}),
    ("lecture_row05_weighted_residual", "(x - A*s)'*W*(x - A*s)", "s", 1, SYM_W, {}),
    ("lecture_row06_jacobian_Ax", "A*x", "x", 1, None, {"dims": {"m": "M", "n": "N"}}),
    ("lecture_row07_least_squares", "norm2(y - Phi*theta)^2", "theta", 1, None,
     {"name": "L", "dims": {"m": "N", "n": "D"}}),
    ("lecture_row08_least_squares_hessian", "norm2(y - Phi*theta)^2", "theta", 2, None,
     {"name": "L", "dims": {"m": "N", "n": "D"}}),
    ("lecture_row09_quadratic_form_hessian", "x'*B*x", "x", 2, None, {}),
    ("lecture_row10_example3_Ax_by_A", "A*x", "A", 1, None, {"dims": {"m": "M", "n": "N"}}),
    ("lecture_row11_example4_RtR_by_R", "R'*R", "R", 1, None, {"name": "K", "dims": {"m": "M", "n": "N"}}),
    ("lecture_row12_example1_chain_rule", "exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)", "t", 1,
     {"t": "scalar"}, {"name": "h", "outer": "f"}),
    ("lecture_row13_inner_jacobian", "[t*cos(t); t*sin(t)]", "t", 1, {"t": "scalar"}, {"name": "g"}),
    ("lecture_row14_outer_gradient", "exp(x1*x2^2)", ["x1", "x2"], 1, None, {}),
    ("lecture_row15_chain_rule_s_t", "x1^2*x2 where x1 = s*t, x2 = s + t", ["s", "t"], 1, None, {}),
    ("lecture_row16a_scalar_by_scalar", "t^2*sin(t)", "t", 1, {"t": "scalar"}, {}),
    ("lecture_row16b_scalar_by_vector", "sum(sin(x))", "x", 1, None, {}),
    ("lecture_row16c_vector_by_scalar", "exp(t*y)", "t", 1, {"t": "scalar"}, {}),
    ("lecture_row16d_vector_by_vector", "sin(A*x)", "x", 1, None, {}),
    ("lecture_row17_convex_hessian", "x'*A*x", "x", 2, None, {}),
    ("lecture_row18_saddle_hessian", "x1^2 - x2^2", ["x1", "x2"], 2, None, {}),
]

COOKBOOK = [
    ("cookbook_069_linear_form", "x'*a", "x", 1, {"a": "vector"}, {}),
    ("cookbook_070_a_X_b", "a'*X*b", "X", 1, VEC_AB, {}),
    ("cookbook_071_a_Xt_b", "a'*X'*b", "X", 1, VEC_AB, {}),
    ("cookbook_074_XA_by_X", "X*A", "X", 1, None, {}),
    ("cookbook_077_b_Xt_X_c", "b'*X'*X*c", "X", 1, {"b": "vector", "c": "vector"}, {}),
    ("cookbook_078_affine_bilinear", "(B*x + b)'*C*(D*x + d)", "x", 1, {"b": "vector", "d": "vector"}, {}),
    ("cookbook_081_quadratic_form", "x'*B*x", "x", 1, None, {}),
    ("cookbook_084_weighted_residual", "(x - A*s)'*W*(x - A*s)", "s", 1, SYM_W, {}),
    ("cookbook_088_weighted_residual_by_A", "(x - A*s)'*W*(x - A*s)", "A", 1, SYM_W, {}),
    ("cookbook_093_ratio_of_quadratic_forms", "(x'*A'*A*x)/(x'*B'*B*x)", "x", 1, None, {}),
    ("cookbook_100_trace_XA", "tr(X*A)", "X", 1, None, {}),
    ("cookbook_108_trace_Xt_B_X", "tr(X'*B*X)", "X", 1, None, {}),
    ("cookbook_119_trace_affine_gram", "tr((A*X*B + C)*(A*X*B + C)')", "X", 1, None, {}),
    ("cookbook_124_trace_A_inv_X_B", "tr(A*inv(X)*B)", "X", 1, None, {}),
    ("cookbook_049_det", "det(X)", "X", 1, None, {}),
    ("cookbook_057_logdet", "logdet(X)", "X", 1, None, {}),
    ("cookbook_060_inverse", "inv(X)", "X", 1, None, {}),
    ("cookbook_061_bilinear_inverse", "a'*inv(X)*b", "X", 1, VEC_AB, {}),
    ("cookbook_129_norm_of_difference", "norm2(x - a)", "x", 1, {"a": "vector"}, {}),
    ("cookbook_132_squared_frobenius", "norm2(X)^2", "X", 1, None, {}),
    ("cookbook_141_symmetric_logdet", "logdet(W)", "W", 1, SYM_W, {}),
    ("ml_log_sum_exp", "log(sum(exp(x)))", "x", 1, None, {}),
    ("ml_logistic_loss", "sum(log(1 + exp(-y.*(X*w))))", "w", 1, None, {}),
    ("ml_tanh_layer", "u'*A*r where u = tanh(B*x), r = sin(C*x)", "x", 1, None, {}),
]

CASES = LECTURE + COOKBOOK
