"""Issue 17, the remaining functions: kron(A, B) (and A ⊗ B), vec(X) (column-major), norm(x).

References are NumPy's own (np.kron, X.reshape(-1, order="F"), np.linalg.norm) and finite
differences of the function's value (tests/helpers.check_derivative); the Kronecker identities
are checked as numbers, never against the engine's own text.
"""

from __future__ import annotations

import numpy as np
import pytest

import ricci
from helpers import backend_array, check_derivative, numeric_derivative

RNG = np.random.default_rng(17)
A23 = RNG.normal(size=(2, 3))
B22 = RNG.normal(size=(2, 2))
X34 = RNG.normal(size=(3, 4))
C42 = RNG.normal(size=(4, 2))


def vec(M):
    return np.asarray(M).reshape(-1, order="F")


# -- values ----------------------------------------------------------------------------------------

def test_vec_stacks_the_columns():
    got = ricci.evaluate("vec(X)", {"X": X34})
    assert got.shape == (12,)
    np.testing.assert_allclose(got, vec(X34))
    np.testing.assert_allclose(got[:3], X34[:, 0])  # the first column first


def test_vec_of_a_vector_is_the_vector():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(ricci.evaluate("vec(x)", {"x": x}), x)
    np.testing.assert_allclose(ricci.evaluate("vec(x')", {"x": x}), x)


@pytest.mark.parametrize("text", ["kron(A, B)", "A ⊗ B"])
def test_kron_is_numpys(text):
    np.testing.assert_allclose(ricci.evaluate(text, {"A": A23, "B": B22}), np.kron(A23, B22))


def test_kron_of_vectors_and_of_a_vector_and_a_matrix():
    x, y = np.array([1.0, -2.0]), np.array([0.5, 3.0, 4.0])
    np.testing.assert_allclose(ricci.evaluate("kron(x, y)", {"x": x, "y": y}), np.kron(x, y))
    got = ricci.evaluate("kron(x, B)", {"x": x, "B": B22})
    np.testing.assert_allclose(got, np.kron(x.reshape(-1, 1), B22))
    got = ricci.evaluate("kron(x', y)", {"x": x, "y": y})
    np.testing.assert_allclose(got, np.kron(x.reshape(1, -1), y.reshape(-1, 1)))


def test_the_sizes_are_products():
    e = ricci.parse("kron(A, B)")
    assert e.shape == ("mp", "nk")
    assert ricci.parse("vec(X)").shape == ("mn",)
    # kron(A, B)*vec(X) is vec(B*X*A'): X has B's columns for rows and A's for columns
    e = ricci.parse("kron(A, B)*vec(X)")
    assert e.variables["X"].dims == (e.variables["B"].dims[1], e.variables["A"].dims[1])


def test_the_cookbook_identity_holds_as_numbers():
    # Matrix Cookbook (520): vec(A*X*B) = kron(B', A)*vec(X)
    A, X, B = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=(4, 5))
    values = {"A": A, "X": X, "B": B}
    left = ricci.evaluate("vec(A*X*B)", values)
    right = ricci.evaluate("kron(B', A)*vec(X)", values)
    np.testing.assert_allclose(left, vec(A @ X @ B))
    np.testing.assert_allclose(right, left)


def test_a_vector_of_the_wrong_length_is_named():
    with pytest.raises(ricci.RicciError, match="y has length 5, but the expression needs length m·n = 12"):
        ricci.evaluate("y'*vec(X)", {"y": np.ones(5), "X": X34})


def test_kron_takes_two_arguments():
    with pytest.raises(ricci.RicciError, match="2 arguments"):
        ricci.parse("kron(A)")


# -- derivatives against finite differences ----------------------------------------------------------

CASES = [
    ("sum(vec(X).*vec(X))", "X", {"X": X34}),
    ("y'*vec(X)", "X", {"y": RNG.normal(size=12), "X": X34}),
    ("vec(X)'*vec(X)", "X", {"X": X34}),
    ("vec(A*X)'*vec(A*X)", "X", {"A": A23, "X": X34}),
    ("sum(exp(vec(X)))", "X", {"X": 0.3 * X34}),
    ("sum(kron(A, B))", "A", {"A": A23, "B": B22}),
    ("sum(kron(A, B).^2)", "B", {"A": A23, "B": B22}),
    ("tr(kron(X, Y))", "X", {"X": B22, "Y": RNG.normal(size=(3, 3))}),
    ("u'*kron(A, B)*v", "A", {"u": RNG.normal(size=4), "A": A23, "B": B22, "v": RNG.normal(size=6)}),
    ("u'*kron(A, B)*v", "B", {"u": RNG.normal(size=4), "A": A23, "B": B22, "v": RNG.normal(size=6)}),
    ("norm2(kron(x, y))", "x", {"x": RNG.normal(size=2), "y": RNG.normal(size=3)}),
    ("sum(kron(x, x).^3)", "x", {"x": RNG.normal(size=3)}),
    ("vec(A*X*B)", "X", {"A": A23, "X": X34, "B": C42}),
    ("kron(A, B)*vec(X)", "X", {"A": A23, "B": B22, "X": RNG.normal(size=(2, 3))}),
    ("vec(X')", "X", {"X": X34}),
    ("vec(x*y')", "x", {"x": RNG.normal(size=3), "y": RNG.normal(size=2)}),
    ("kron(A, A)", "A", {"A": B22}),
    ("a*vec(X)", "a", {"a": 0.7, "X": X34}),
    ("kron(A, B)*x", "x", {"A": A23, "B": B22, "x": RNG.normal(size=6)}),
    ("x'*kron(A, B)*x", "x", {"A": B22, "B": RNG.normal(size=(3, 3)), "x": RNG.normal(size=6)}),
]


#: gradients that need X's entries read back from a vector (y'*vec(X) by X is y laid out as X,
#: "unvec", which the language has no name for): shown in index notation, with δ_(a,(i,j))
INDEX_ONLY = {"y'*vec(X)", "u'*kron(A, B)*v"}


@pytest.mark.parametrize("expression, wrt, values", CASES, ids=[f"{e} by {w}" for e, w, _ in CASES])
def test_first_derivatives_against_finite_differences(expression, wrt, values):
    check_derivative(expression, wrt, values=values,
                     text_has_matrix_form=False if expression in INDEX_ONLY else None)


SECOND = [c for c in CASES if c[0] in ("sum(vec(X).*vec(X))", "vec(A*X)'*vec(A*X)", "sum(exp(vec(X)))",
                                       "sum(kron(A, B).^2)", "norm2(kron(x, y))", "sum(kron(x, x).^3)",
                                       "u'*kron(A, B)*v")]


@pytest.mark.parametrize("expression, wrt, values", SECOND, ids=[f"{e} by {w}" for e, w, _ in SECOND])
def test_second_derivatives_against_finite_differences(expression, wrt, values):
    check_derivative(expression, wrt, order=2, values=values,
                     text_has_matrix_form=False if expression in INDEX_ONLY else None)


def test_third_derivative_of_a_cubic_in_kron():
    check_derivative("sum(kron(x, x).^3)", "x", order=3, values={"x": np.array([0.4, -0.7])})


# -- the answers read with vec and kron ----------------------------------------------------------------

def test_the_jacobian_of_vec_of_a_product_is_kron():
    # acceptance 3: ∂vec(A*X*B)/∂vec(X) = kron(B', A), shown beside the index notation
    values = {"A": A23, "X": X34, "B": C42}
    d = ricci.derivative("vec(A*X*B)", "X")
    k = d.kronecker
    assert k is not None and k.expression == "kron(B', A)"
    np.testing.assert_allclose(k.evaluate(values), np.kron(C42.T, A23))
    fd = numeric_derivative("vec(A*X*B)", "X", values)  # (mq, n, k): X's entries in row-major order
    np.testing.assert_allclose(k.evaluate(values), fd.reshape(fd.shape[0], -1, order="F"), rtol=1e-6)
    assert "δ" in d.text  # the tensor itself in index notation


def test_the_jacobian_of_a_matrix_product_in_kronecker_form():
    values = {"A": A23, "X": X34, "B": C42}
    d = ricci.derivative("A*X*B", "X")
    k = d.kronecker
    assert k.expression == "kron(B', A)"
    fd = numeric_derivative("A*X*B", "X", values)  # (m, q, n, k)
    m, q, n, kk = fd.shape
    as_vec = fd.transpose(1, 0, 3, 2).reshape(m * q, n * kk)  # rows: vec F; columns: vec X
    np.testing.assert_allclose(k.evaluate(values), as_vec, rtol=1e-6)


@pytest.mark.parametrize("expression, wrt, book", [
    ("vec(x*y')", "x", "kron(y, eye(len(x)))"),  # Magnus–Neudecker: d vec(x y') = (y ⊗ I) dx
    ("vec(x*y')", "y", "kron(eye(len(y)), x)"),  # d vec(x y') = (I ⊗ x) dy
    ("kron(A, B)*x", "x", "kron(A, B)"),  # a linear map is its own Jacobian
    ("x'*kron(A, B)", "x", "kron(A', B')"),  # the row x'*K by x is K', and kron(A, B)' = kron(A', B')
])
def test_jacobians_read_as_the_book_writes_them(expression, wrt, book):
    assert ricci.derivative(expression, wrt).text == book


def test_gradients_through_vec_read_in_matrix_notation():
    d = ricci.derivative("vec(A*X)'*vec(A*X)", "X")
    assert "vec" not in d.text and "δ" not in d.text


# -- printing and input ----------------------------------------------------------------------------------

def test_latex_and_mathml():
    e = ricci.parse("kron(A, B') + kron(C, D)")
    assert r"\otimes" in e.latex and "B^\\top" in e.latex
    assert "⊗" in e.mathml
    e = ricci.parse("vec(X)")
    assert r"\operatorname{vec}" in e.latex
    assert "<mi>vec</mi>" in e.mathml


@pytest.mark.parametrize("pasted, ascii_", [
    ("A ⊗ B", "kron(A, B)"),
    ("Bᵀ ⊗ A", "kron(B', A)"),
    ("(A ⊗ B)*vec(X)", "kron(A, B)*vec(X)"),
    ("A⊗B + C⊗D", "kron(A, B) + kron(C, D)"),
])
def test_the_kronecker_symbol_parses_as_kron(pasted, ascii_):
    assert ricci.parse(pasted) == ricci.parse(ascii_)


def test_text_round_trips():
    for text in ["kron(A, B)", "vec(X)", "kron(A, B)'", "vec(A*X*B)"]:
        assert ricci.parse(ricci.parse(text).text) == ricci.parse(text)


# -- norm(x): NumPy's np.linalg.norm ----------------------------------------------------------------------

def test_norm_of_a_vector_and_of_a_matrix_is_numpys():
    x = np.array([3.0, -4.0, 1.0])
    assert ricci.evaluate("norm(x)", {"x": x}) == pytest.approx(np.linalg.norm(x))
    assert ricci.evaluate("norm(X)", {"X": X34}) == pytest.approx(np.linalg.norm(X34))


@pytest.mark.parametrize("order", [1, 2])
def test_norm_derivatives_against_finite_differences(order):
    check_derivative("norm(x)", "x", order=order, values={"x": np.array([0.3, -0.8, 0.5])})
    check_derivative("norm(X)", "X", order=order, values={"X": 0.5 * B22})


# -- generated code ------------------------------------------------------------------------------------

CODE = ["sum(kron(A, B).^2)", "y'*vec(X)", "vec(A*X)'*vec(A*X)"]


@pytest.mark.parametrize("backend", ["numpy", "array_api", "jax", "torch"])
@pytest.mark.parametrize("expression", CODE)
def test_generated_code_equals_the_evaluation(expression, backend):
    convert = backend_array(backend)
    values = {"A": A23, "B": B22, "X": X34, "y": RNG.normal(size=12)}
    e = ricci.parse(expression)
    values = {n: values[n] for n in e.variables}
    wrt = next(iter(e.variables)) if "y" not in e.variables else "X"
    d = ricci.derivative(expression, wrt)
    f = d.function(backend)
    got = f(**{n: convert(v) for n, v in values.items()})
    got = got[-1] if isinstance(got, tuple) else got
    np.testing.assert_allclose(np.asarray(got, dtype=float), d.evaluate(values), rtol=1e-10, atol=1e-12)


def test_the_value_of_kron_in_generated_code():
    d = ricci.derivative("sum(kron(A, B).^2)", "A")
    value, grad = d.function("numpy", with_value=True)(A=A23, B=B22)
    assert value == pytest.approx(np.sum(np.kron(A23, B22) ** 2))
    np.testing.assert_allclose(grad, 2 * A23 * np.sum(B22 ** 2))


# -- along an axis: softmax(X, k), log_softmax(X, k), logsumexp(X, k) --------------------------------------

def _scipy():
    return pytest.importorskip("scipy.special")


@pytest.mark.parametrize("k", [1, 2])
def test_axis_values_are_scipys(k):
    sp = _scipy()
    X = RNG.normal(size=(3, 4))
    axis = k - 1  # MATLAB's axis k is NumPy's k - 1
    np.testing.assert_allclose(ricci.evaluate(f"softmax(X, {k})", {"X": X}), sp.softmax(X, axis=axis))
    np.testing.assert_allclose(ricci.evaluate(f"log_softmax(X, {k})", {"X": X}), sp.log_softmax(X, axis=axis))
    got = ricci.evaluate(f"logsumexp(X, {k})", {"X": X})
    np.testing.assert_allclose(got.reshape(-1), sp.logsumexp(X, axis=axis))


def test_softmax_along_rows_sums_to_one_in_each_row():
    got = ricci.evaluate("softmax(X, 2)", {"X": X34})
    np.testing.assert_allclose(got.sum(axis=1), np.ones(3))


@pytest.mark.parametrize("text", ["softmax(X, 3)", "softmax(X, a)", "logsumexp(X, 0)", "log_softmax(X, 1, 2)"])
def test_an_axis_that_is_not_1_or_2_is_refused_by_position(text):
    with pytest.raises(ricci.RicciError, match="1 .each column. or 2 .each row."):
        ricci.parse(text)


AXIS = [
    ("sum(softmax(X, 2)*v)", "X", {"X": 0.5 * X34, "v": RNG.normal(size=4)}),
    ("sum(softmax(X, 1).*W)", "X", {"X": 0.5 * X34, "W": RNG.normal(size=(3, 4))}),
    ("sum(log_softmax(X, 2).*W)", "X", {"X": 0.5 * X34, "W": RNG.normal(size=(3, 4))}),
    ("y'*logsumexp(X, 2)", "X", {"X": 0.5 * X34, "y": RNG.normal(size=3)}),
    ("logsumexp(X, 1)*z", "X", {"X": 0.5 * X34, "z": RNG.normal(size=4)}),
    ("softmax(A*x, 1)", "x", {"A": A23, "x": RNG.normal(size=3)}),
]


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("expression, wrt, values", AXIS, ids=[e for e, _, _ in AXIS])
def test_axis_derivatives_against_finite_differences(expression, wrt, values, order):
    check_derivative(expression, wrt, order=order, values=values)


ATTENTION = "sum(softmax(Q*K'/c, 2)*V)"
ATT_VALUES = {"Q": 0.5 * RNG.normal(size=(3, 4)), "K": 0.5 * RNG.normal(size=(5, 4)), "c": 2.0,
              "V": RNG.normal(size=(5, 2))}
ATT_KINDS = {"c": "scalar"}


@pytest.mark.parametrize("wrt", ["Q", "K", "V"])
def test_attention_differentiates_by_q_k_and_v(wrt):
    # acceptance 2: the attention score, each row of Q*K'/c normalised
    check_derivative(ATTENTION, wrt, kinds=ATT_KINDS, values=ATT_VALUES)


def test_attention_value_is_numpys():
    sp = _scipy()
    Q, K, c, V = (ATT_VALUES[n] for n in "QKcV")
    expected = np.sum(sp.softmax(Q @ K.T / c, axis=1) @ V)
    assert ricci.evaluate(ATTENTION, ATT_VALUES, kinds=ATT_KINDS) == pytest.approx(expected)


def test_attention_second_derivative_by_q():
    check_derivative(ATTENTION, "Q", order=2, kinds=ATT_KINDS, values=ATT_VALUES)


def test_axis_values_are_stable_at_large_inputs():
    # each row shifted by its own maximum: exp(1000) would overflow
    got = ricci.evaluate("logsumexp([1000, 1000; 0, 0], 2)", {})
    np.testing.assert_allclose(got.reshape(-1), [1000 + np.log(2), np.log(2)], rtol=1e-15)
    got = ricci.evaluate("softmax([1000, 1000; 0, 1], 2)", {})
    e = np.e
    # (X - 1000.69… rounds at 1000's scale: ulp(1000)/1000 is about 1e-16 of 1000, 1e-13 of 1)
    np.testing.assert_allclose(got, [[0.5, 0.5], [1 / (1 + e), e / (1 + e)]], rtol=1e-12)
    got = ricci.evaluate("log_softmax([1000, 1000, 1000], 2)", {})
    np.testing.assert_allclose(got, -np.log(3) * np.ones(3), rtol=1e-12)  # a row: a 1-D array


@pytest.mark.parametrize("expression", ["sum(softmax(X, 2)*v)", "y'*logsumexp(X, 2)", "sum(log_softmax(X, 1).*W)"])
@pytest.mark.parametrize("order", [1, 2])
def test_axis_derivatives_are_stable_at_large_inputs(expression, order):
    # softmax is unchanged by adding a constant to every entry, and so are its derivatives (of
    # logsumexp too, past the value): X + 1000 must give the numbers of X, not inf/inf
    values = {"X": 0.5 * X34, "v": RNG.normal(size=4), "y": RNG.normal(size=3), "W": RNG.normal(size=(3, 4))}
    d = ricci.derivative(expression, "X", order=order)
    values = {n: values[n] for n in d.expression.variables}
    shifted = dict(values, X=values["X"] + 1000.0)
    near = d.evaluate(values)
    far = d.evaluate(shifted)
    assert np.all(np.isfinite(far))
    np.testing.assert_allclose(far, near, rtol=1e-9, atol=1e-12)
    fd = numeric_derivative(expression, "X", values, order=order)  # the reference, at X
    np.testing.assert_allclose(near, fd, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("expression, wrt, values", CASES, ids=[f"{e} by {w}" for e, w, _ in CASES])
def test_the_steps_explain_every_case(expression, wrt, values):
    # the explanation runs to the same answer (index notation and δ_(r,(a,b)) included)
    d = ricci.derivative(expression, wrt)
    steps = str(d.steps)
    assert "Result" in steps
    if "vec(" in expression and "kron" not in expression and d.matrix is not None:
        assert "vec" in steps


def test_the_steps_name_the_rule_of_vec():
    steps = str(ricci.derivative("vec(x*y')", "x").steps)
    assert "Linearity of vec" in steps and "kron(y, eye(len(x)))" in steps


@pytest.mark.parametrize("backend", ["numpy", "array_api", "jax", "torch"])
def test_the_value_along_an_axis_in_generated_code_is_stable(backend):
    sp = _scipy()
    convert = backend_array(backend)
    X, v = X34 + 1000.0, RNG.normal(size=4)
    f = ricci.derivative("sum(softmax(X, 2)*v)", "X").function(backend, with_value=True)
    with np.errstate(all="ignore"):  # the gradient's code is not shifted yet (docs/language.md)
        value, _ = f(X=convert(X), v=convert(v))
    assert float(value) == pytest.approx(np.sum(sp.softmax(X, axis=1) @ v), rel=1e-12)


@pytest.mark.parametrize("expression, wrt, kinds, values", [
    ("sum(kron(a, B))", "a", {"a": "scalar"}, {"a": 0.7, "B": B22}),
    ("sum(kron(a, B).^2)", "B", {"a": "scalar"}, {"a": 0.7, "B": B22}),
    ("vec(a)*b", "a", {"a": "scalar", "b": "scalar"}, {"a": 0.7, "b": -1.3}),
    ("sum(kron(W, W).^2)", "W", {"W": "symmetric matrix"}, {"W": B22 + B22.T}),
    ("u'*vec(W*W)", "W", {"W": "symmetric matrix"}, {"W": B22 + B22.T, "u": RNG.normal(size=4)}),
])
@pytest.mark.parametrize("order", [1, 2])
def test_every_kind_against_finite_differences(expression, wrt, kinds, values, order):
    # scalars (kron(a, B) is a*B, vec(a) is a) and declared symmetric matrices
    check_derivative(expression, wrt, kinds=kinds, values=values, order=order,
                     text_has_matrix_form=False if expression.startswith("u'") else None)


def test_the_command_line_shows_the_kronecker_form_beside_the_index_notation(capsys):
    # issue 17, acceptance 3: the Jacobian of A*X*B by X in Kronecker form as well as in indices;
    # the printed form is checked as numbers: kron(B', A) @ vec(X) is vec(A X B), column-major
    from ricci.cli import main

    assert main(["diff", "A*X*B", "--wrt", "X"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "∂f_pq/∂X_ij = B_jq A_pi"
    assert out[-1] == "Kronecker form: ∂vec F/∂vec X = B' ⊗ A"
    rng = np.random.default_rng(3)
    A, X, B = rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    vec = lambda M: M.reshape(-1, order="F")  # noqa: E731
    assert np.allclose(np.kron(B.T, A) @ vec(X), vec(A @ X @ B))
    # no such line where the tensor has no Kronecker form (a Hadamard square) or for a gradient
    for expression, wrt in (("X.*X", "X"), ("x'*A*x", "x")):
        assert main(["diff", expression, "--wrt", wrt]) == 0
        assert "Kronecker form" not in capsys.readouterr().out
