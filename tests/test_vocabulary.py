"""Issue 17: the vocabulary people write — softplus, log1p, expm1, cosh, sinh, erf, max/min
with a constant, and Unicode input copied from papers and MatrixCalculus.org.

Each function is one entry of ricci.functions; these tests take it through derivatives of
orders 1–3 against finite differences (tests/helpers.check_derivative), evaluation, generated
code and stability at large inputs.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import ricci
from helpers import check_derivative

NEW = ["softplus", "log1p", "expm1", "cosh", "sinh", "erf"]

#: NumPy references, written independently of the table's entries
REFERENCE = {
    "softplus": lambda v: np.log1p(np.exp(-np.abs(v))) + np.maximum(v, 0.0),
    "log1p": lambda v: np.log(1.0 + v),
    "expm1": lambda v: np.exp(v) - 1.0,
    "cosh": lambda v: (np.exp(v) + np.exp(-v)) / 2,
    "sinh": lambda v: (np.exp(v) - np.exp(-v)) / 2,
    "erf": lambda v: np.array([math.erf(t) for t in np.ravel(v)]).reshape(np.shape(v)),
}


@pytest.mark.parametrize("f", NEW)
@pytest.mark.parametrize("order", [1, 2, 3])
def test_scalar_derivatives_against_finite_differences(f, order):
    check_derivative(f"{f}(a)", "a", kinds={"a": "scalar"}, order=order,
                     values={"a": 0.4})


@pytest.mark.parametrize("f", NEW)
@pytest.mark.parametrize("order", [1, 2, 3])
def test_vector_derivatives_against_finite_differences(f, order):
    check_derivative(f"sum({f}(x))", "x", order=order, values={"x": np.array([0.3, 0.7, 0.2])})


@pytest.mark.parametrize("f", NEW)
@pytest.mark.parametrize("order", [1, 2])
def test_matrix_derivatives_against_finite_differences(f, order):
    X = np.array([[0.3, 0.5, 0.2], [0.6, 0.1, 0.4]])
    check_derivative(f"sum({f}(X)*y)", "X", order=order, kinds={"X": "matrix", "y": "vector"},
                     values={"X": X, "y": np.array([0.5, -0.3, 0.8])})


@pytest.mark.parametrize("f", NEW)
def test_vector_function_of_a_product_against_finite_differences(f):
    # the chain rule through A*x, in both directions of the sign
    A = np.array([[0.2, -0.3, 0.1], [0.4, 0.1, -0.2]])
    check_derivative(f"{f}(A*x)", "x", values={"A": A, "x": np.array([0.5, 0.2, 0.4])})


@pytest.mark.parametrize("f", NEW)
def test_evaluation_equals_the_reference(f):
    x = np.array([0.3, 0.7, 0.05, 2.5])
    assert np.allclose(ricci.evaluate(f"{f}(x)", {"x": x}).ravel(), REFERENCE[f](x), rtol=1e-13)


@pytest.mark.parametrize("f", NEW)
@pytest.mark.parametrize("backend", ["numpy", "array_api"])
def test_generated_code_equals_evaluation(f, backend):
    d = ricci.derivative(f"sum({f}(A*x))", "x")
    A = np.array([[0.2, -0.3, 0.1], [0.4, 0.1, -0.2]])
    x = np.array([0.5, 0.2, 0.4])
    if f == "erf" and backend == "array_api":
        # the array API standard has no erf: a clear refusal that names the backends that do
        with pytest.raises(ricci.RicciError, match="erf is not a function of the array API standard"):
            d.function(backend, with_value=True)
        return
    fn = d.function(backend, with_value=True)
    value, gradient = fn(A, x) if backend == "numpy" else fn(A, x, xp=np)
    assert value == pytest.approx(ricci.evaluate(f"sum({f}(A*x))", {"A": A, "x": x}), rel=1e-13)
    assert np.allclose(gradient, d.evaluate({"A": A, "x": x}), rtol=1e-13)


def test_erf_code_imports_math_for_numpy():
    code = ricci.derivative("sum(erf(x))", "x").code("numpy", with_value=True)
    assert code.startswith("import numpy as np\nimport math\n")
    assert "np.vectorize(math.erf, otypes=[float])(x)" in code


@pytest.mark.parametrize("f", NEW)
def test_generated_code_jax(f):
    jnp = pytest.importorskip("jax.numpy")
    import jax

    jax.config.update("jax_enable_x64", True)
    A = np.array([[0.2, -0.3, 0.1], [0.4, 0.1, -0.2]])
    x = np.array([0.5, 0.2, 0.4])
    fn = ricci.derivative(f"sum({f}(A*x))", "x").function("jax", with_value=True)
    value, gradient = fn(jnp.asarray(A), jnp.asarray(x))
    assert float(value) == pytest.approx(ricci.evaluate(f"sum({f}(A*x))", {"A": A, "x": x}), rel=1e-12)
    assert np.allclose(np.asarray(gradient), ricci.derivative(f"sum({f}(A*x))", "x").evaluate({"A": A, "x": x}))


@pytest.mark.parametrize("f", NEW)
def test_generated_code_torch(f):
    torch = pytest.importorskip("torch")
    A = np.array([[0.2, -0.3, 0.1], [0.4, 0.1, -0.2]])
    x = np.array([0.5, 0.2, 0.4])
    fn = ricci.derivative(f"sum({f}(A*x))", "x").function("torch", with_value=True)
    value, gradient = fn(torch.tensor(A), torch.tensor(x))
    assert float(value) == pytest.approx(ricci.evaluate(f"sum({f}(A*x))", {"A": A, "x": x}), rel=1e-12)
    assert np.allclose(gradient.numpy(), ricci.derivative(f"sum({f}(A*x))", "x").evaluate({"A": A, "x": x}))


def test_softplus_is_stable_at_large_inputs():
    x = np.array([1000.0, -1000.0, 40.0])
    assert np.allclose(ricci.evaluate("softplus(x)", {"x": x}).ravel(), [1000.0, 0.0, 40.0], rtol=1e-15)
    d = ricci.derivative("sum(softplus(x))", "x")
    assert np.allclose(d.evaluate({"x": x}), [1.0, 0.0, 1.0])
    for backend in ("numpy", "array_api"):
        fn = d.function(backend, with_value=True)
        value, gradient = fn(x) if backend == "numpy" else fn(x, xp=np)
        assert value == pytest.approx(1040.0, rel=1e-15) and np.all(np.isfinite(gradient))


def test_log1p_and_expm1_are_exact_for_small_inputs():
    tiny = 1e-12
    assert ricci.evaluate("log1p(a)", {"a": tiny}) == pytest.approx(tiny, rel=1e-12)
    assert ricci.evaluate("expm1(a)", {"a": tiny}) == pytest.approx(tiny, rel=1e-12)
    code = ricci.derivative("sum(log1p(x) + expm1(x))", "x").function("numpy", with_value=True)
    value, _ = code(np.array([tiny, tiny]))
    assert value == pytest.approx(4 * tiny, rel=1e-10)


def test_textbook_derivatives():
    assert ricci.derivative("softplus(a)", "a").text == "sigmoid(a)"
    assert ricci.derivative("cosh(a)", "a").text == "sinh(a)"
    assert ricci.derivative("sinh(a)", "a").text == "cosh(a)"
    assert ricci.derivative("expm1(a)", "a").text == "exp(a)"
    assert ricci.derivative("log1p(a)", "a").text == "(1 + a)^(-1)"


def test_latex_and_mathml():
    from ricci.printing.latex import ast_to_latex
    from ricci.printing.mathml import ast_to_mathml

    assert ast_to_latex(ricci.parse("cosh(x)").tree) == r"\cosh\left(x\right)"
    assert ast_to_latex(ricci.parse("erf(x)").tree) == r"\operatorname{erf}\left(x\right)"
    assert "<mi>softplus</mi>" in ast_to_mathml(ricci.parse("softplus(x)").tree)


def test_log1p_outside_its_domain_is_explained():
    with pytest.raises(ricci.RicciError, match="log1p needs arguments > -1"):
        ricci.evaluate("log1p(a)", {"a": -2.0})


# -- max(x, c) and min(x, c) with a number c ------------------------------------------------------

CLAMPS = [
    ("max(x, 0)", lambda v: np.maximum(v, 0.0), lambda v: (v > 0).astype(float)),
    ("max(0, x)", lambda v: np.maximum(v, 0.0), lambda v: (v > 0).astype(float)),
    ("max(x, 0.25)", lambda v: np.maximum(v, 0.25), lambda v: (v > 0.25).astype(float)),
    ("max(-1, x)", lambda v: np.maximum(v, -1.0), lambda v: (v > -1).astype(float)),
    ("min(x, 0)", lambda v: np.minimum(v, 0.0), lambda v: (v < 0).astype(float)),
    ("min(0.25, x)", lambda v: np.minimum(v, 0.25), lambda v: (v < 0.25).astype(float)),
    ("min(x, -1)", lambda v: np.minimum(v, -1.0), lambda v: (v < -1).astype(float)),
]
XS = np.array([-1.7, -0.4, 0.1, 0.6, 2.0])


@pytest.mark.parametrize("text, value, slope", CLAMPS)
def test_clamp_evaluates_and_differentiates(text, value, slope):
    assert np.allclose(ricci.evaluate(text, {"x": XS}).ravel(), value(XS), rtol=0, atol=1e-15)
    d = ricci.derivative(f"sum({text})", "x")
    assert np.array_equal(np.asarray(d.evaluate({"x": XS})).ravel(), slope(XS))
    check_derivative(f"sum({text}.^2)", "x", values={"x": XS})
    check_derivative(f"sum({text}.^3)", "x", order=2, values={"x": XS})
    check_derivative(f"sum({text}.^4)", "x", order=3, values={"x": XS[:3]})


@pytest.mark.parametrize("text, value, slope", CLAMPS)
def test_clamp_of_a_scalar_and_a_matrix(text, value, slope):
    check_derivative(re.sub(r"\bx\b", "a", text) + "^3", "a", kinds={"a": "scalar"}, order=2,
                     values={"a": 0.3})
    X = np.array([[0.3, -0.5], [1.2, -2.0], [0.05, 0.7]])
    check_derivative("sum(" + re.sub(r"\bx\b", "X", text) + ".^2)", "X", kinds={"X": "matrix"}, values={"X": X})


def test_clamp_at_its_kink_is_handled_like_relu():
    # at x = c the derivative is step(0) = 0, relu's convention
    assert np.array_equal(ricci.derivative("sum(max(x, 1))", "x").evaluate({"x": np.array([1.0, 2.0])}), [0.0, 1.0])
    assert np.array_equal(ricci.derivative("sum(min(x, 1))", "x").evaluate({"x": np.array([1.0, 0.0])}), [0.0, 1.0])


def test_clamp_reads_as_relu():
    assert ricci.parse("max(x, 0)") == ricci.parse("relu(x)")
    assert ricci.parse("max(0, x)") == ricci.parse("relu(x)")
    assert ricci.parse("max(x, 2)") == ricci.parse("relu(x - 2) + 2")
    assert ricci.parse("max(x, -1)") == ricci.parse("relu(x + 1) - 1")
    assert ricci.parse("min(x, 0)") == ricci.parse("-relu(-x)")
    assert ricci.derivative("sum(max(x, 0))", "x").text == "step(x)'"


@pytest.mark.parametrize("backend", ["numpy", "array_api"])
def test_clamp_code(backend):
    d = ricci.derivative("sum(max(A*x, 0.5).^2)", "x")
    A = np.array([[0.2, -0.3, 0.1], [0.4, 0.1, -0.2]])
    x = np.array([2.5, 0.2, 0.4])
    fn = d.function(backend, with_value=True)
    value, gradient = fn(A, x) if backend == "numpy" else fn(A, x, xp=np)
    want = np.maximum(A @ x, 0.5)
    assert value == pytest.approx(np.sum(want ** 2))
    assert np.allclose(gradient, 2 * (want * (A @ x > 0.5)) @ A)


def _assert_refused(text, span, message):
    """Parsing ``text`` raises a RicciError with ``message`` in it, at ``span`` (unless None)."""
    with pytest.raises(ricci.RicciError, match=re.escape(message)) as e:
        ricci.parse(text)
    if span is not None:
        assert e.value.span == span


@pytest.mark.parametrize("text, span, message", [
    ("max(x, y)", (7, 8), "max(a, b) needs one of its arguments to be a number"),
    ("min(x)", (0, 6), "min() takes 2 arguments, an expression and a number"),
    ("1 + max(x, 1, 2)", (4, 16), "max() takes 2 arguments"),
])
def test_clamp_refusals_name_the_place(text, span, message):
    _assert_refused(text, span, message)


# -- mean(X): the average of all entries ------------------------------------------------------------

def test_mean_evaluates():
    X = np.arange(6.0).reshape(2, 3)
    assert ricci.evaluate("mean(X)", {"X": X}) == pytest.approx(2.5)
    assert ricci.evaluate("mean(x)", {"x": np.array([1.0, 2.0, 4.0])}) == pytest.approx(7 / 3)
    assert ricci.parse("mean(X)").shape == ()


@pytest.mark.parametrize("expression, wrt, kinds, order", [
    ("mean(x)", "x", None, 1),
    ("mean(x)^2", "x", None, 2),
    ("mean(exp(x))", "x", None, 3),
    ("mean(X)", "X", {"X": "matrix"}, 1),
    ("mean((A*x).^2)", "x", None, 2),
    ("mean(X*y)^2", "X", {"X": "matrix"}, 2),
    ("mean(a*x)^3", "a", {"a": "scalar"}, 3),
])
def test_mean_derivatives_against_finite_differences(expression, wrt, kinds, order):
    check_derivative(expression, wrt, kinds=kinds, order=order)


def test_mean_gradient_is_one_over_n():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert np.allclose(ricci.derivative("mean(x)", "x").evaluate({"x": x}), np.full(4, 0.25))


@pytest.mark.parametrize("backend", ["numpy", "array_api"])
def test_mean_code(backend):
    A = np.array([[0.2, -0.3, 0.1], [0.4, 0.1, -0.2]])
    x = np.array([2.5, 0.2, 0.4])
    fn = ricci.derivative("mean((A*x).^2)", "x").function(backend, with_value=True)
    value, gradient = fn(A, x) if backend == "numpy" else fn(A, x, xp=np)
    assert value == pytest.approx(np.mean((A @ x) ** 2))
    assert np.allclose(gradient, 2 * (A @ x) @ A / 2)


# -- Unicode input: the symbols that tools and papers print ------------------------------------------

@pytest.mark.parametrize("unicode, ascii_", [
    ("xᵀ⊙y", "x'.*y"),            # MatrixCalculus.org prints ᵀ and ⊙
    ("x⊙y", "x.*y"),
    ("x ⊘ y", "x./y"),
    ("Aᵀ·x", "A'*x"),
    ("A⋅x", "A*x"),
    ("xᵀ·A·x", "x'*A*x"),
    ("(A*x)ᵀ*y", "(A*x)'*y"),      # ᵀ after a bracket
    ("[a, b]ᵀ", "[a, b]'"),
    ("x⊤*y", "x'*y"),
    ("-xᵀ*y", "-x'*y"),
    ("‖x‖", "norm2(x)"),
    ("‖x‖₂", "norm2(x)"),
    ("‖x‖_2", "norm2(x)"),
    ("‖X‖_F", "norm2(X)"),
    ("‖A*x - b‖₂^2", "norm2(A*x - b)^2"),
    ("‖x‖₁", "norm1(x)"),
    ("‖x‖_1", "norm1(x)"),
    ("2*‖‖x‖*y - z‖", "2*norm2(norm2(x)*y - z)"),
    ("exp(-‖x - y‖^2/s)", "exp(-norm2(x - y)^2/s)"),
    ("sum(xᵀ⊙y) where y = Aᵀ·z", "sum(x'.*y) where y = A'*z"),
])
def test_unicode_parses_as_its_ascii_spelling(unicode, ascii_):
    assert ricci.parse(unicode) == ricci.parse(ascii_)
    assert str(ricci.parse(unicode)) == str(ricci.parse(ascii_))


def test_a_derivative_of_unicode_input():
    d = ricci.derivative("‖A·x - b‖₂^2", "x")
    assert d.text == ricci.derivative("norm2(A*x - b)^2", "x").text


@pytest.mark.parametrize("text, span, message", [
    ("‖x", (1, 2), "ends too early after 'x': expected '‖'"),
    ("x‖", (1, 2), "it closes a norm ‖…‖ that was never opened"),
    ("x ⊙", (2, 3), "ends too early after '⊙'"),
    ("a ⊙ ⊙ b", (4, 5), "unexpected '⊙': expected an operand"),
    ("xᵀ⊙y ⊙ θ", (7, 8), "unexpected character 'θ'"),  # positions count characters, not bytes
    ("‖x‖₃", (3, 4), "unexpected character '₃'"),
    ("ᵀx", (0, 1), "unexpected 'ᵀ'"),
])
def test_unicode_errors_point_at_the_character(text, span, message):
    _assert_refused(text, span, message)


def test_characters_outside_the_language_still_get_their_hint():
    with pytest.raises(ricci.RicciError, match=re.escape("write '*' instead")):
        ricci.parse("A × x")


# -- sums along an axis: MATLAB's sum(X, 1) and sum(X, 2) ------------------------------------------

def test_sum_along_an_axis_evaluates_as_matlab():
    X = np.arange(6.0).reshape(2, 3)
    assert np.allclose(np.ravel(ricci.evaluate("sum(X, 1)", {"X": X})), X.sum(axis=0))  # NumPy's axis=0
    assert np.allclose(np.ravel(ricci.evaluate("sum(X, 2)", {"X": X})), X.sum(axis=1))
    assert ricci.parse("sum(X, 1)") == ricci.parse("vector(1)'*X")
    assert ricci.parse("sum(X, 2)") == ricci.parse("X*vector(1)")
    assert ricci.parse("sum(X)") != ricci.parse("sum(X, 1)")


@pytest.mark.parametrize("expression, wrt, order", [
    ("sum(X, 1)*y", "X", 1),
    ("norm2(sum(X, 2))^2", "X", 2),
    ("sum(exp(X), 2)'*z", "X", 1),
    ("sum(exp(X), 2)'*z", "X", 2),
    ("sum(tanh(X), 1)*y", "X", 3),
])
def test_sum_along_an_axis_derivatives_against_finite_differences(expression, wrt, order):
    X = np.array([[0.3, -0.5, 0.2], [1.2, -0.4, 0.7]])
    values = {"X": X, "y": np.array([0.4, -0.2, 0.9]), "z": np.array([0.5, -1.0])}
    kinds = {"X": "matrix", "y": "vector", "z": "vector"}
    used = ricci.parse(expression, {k: v for k, v in kinds.items() if k in expression}).variables
    check_derivative(expression, wrt, kinds={k: kinds[k] for k in used}, order=order,
                     values={k: values[k] for k in used})


@pytest.mark.parametrize("backend", ["numpy", "array_api"])
def test_sum_along_an_axis_code(backend):
    X = np.array([[0.3, -0.5, 0.2], [1.2, -0.4, 0.7]])
    z = np.array([0.5, -1.0])
    d = ricci.derivative("sum(exp(X), 2)'*z", "X")
    fn = d.function(backend, with_value=True)
    value, gradient = fn(X, z) if backend == "numpy" else fn(X, z, xp=np)
    assert value == pytest.approx(np.exp(X).sum(axis=1) @ z)
    assert np.allclose(gradient, np.exp(X) * z[:, None])


@pytest.mark.parametrize("text, span, message", [
    ("sum(X, 3)", (7, 8), "k must be the number 1 or 2"),
    ("sum(X, k)", (7, 8), "k must be the number 1 or 2"),
    ("sum(X, 1, 2)", (0, 12), "sums along the axis k = 1 (each column) or 2 (each row)"),
    ("mean(X, 0)", (8, 9), "mean(X, k) averages along the axis k = 1 (each column) or 2 (each row)"),
])
def test_sum_along_an_axis_refusals(text, span, message):
    _assert_refused(text, span, message)


def test_mean_along_an_axis():
    X = np.array([[0.3, -0.5, 0.2], [1.2, -0.4, 0.7]])
    assert np.allclose(np.ravel(ricci.evaluate("mean(X, 1)", {"X": X})), X.mean(axis=0))
    assert np.allclose(np.ravel(ricci.evaluate("mean(X, 2)", {"X": X})), X.mean(axis=1))
    z, y = np.array([0.5, -1.0]), np.array([0.4, -0.2, 0.9])
    check_derivative("mean(X, 2)'*z", "X", kinds={"X": "matrix", "z": "vector"}, values={"X": X, "z": z})
    check_derivative("(mean(exp(X), 1)*y)^2", "X", kinds={"X": "matrix", "y": "vector"}, order=2,
                     values={"X": X, "y": y})
    fn = ricci.derivative("mean(X, 2)'*z", "X").function("numpy", with_value=True)
    value, gradient = fn(X, z)
    assert value == pytest.approx(X.mean(axis=1) @ z)
    assert np.allclose(gradient, np.outer(z, np.full(3, 1 / 3)))


# --- logsumexp, softmax, log_softmax (over all entries) ---------------------------------------

def _softmax(v):
    e = np.exp(v - np.max(v))
    return e / e.sum()


SOFTMAX_VALUES = {"x": np.array([0.3, -0.7, 1.2])}


def test_logsumexp_softmax_log_softmax_evaluate():
    x = np.array([0.3, -0.7, 1.2, 2.0])
    assert ricci.evaluate("logsumexp(x)", {"x": x}) == pytest.approx(np.log(np.exp(x).sum()), rel=1e-14)
    assert np.allclose(np.ravel(ricci.evaluate("softmax(x)", {"x": x})), np.exp(x) / np.exp(x).sum(),
                       rtol=1e-14)
    assert np.allclose(np.ravel(ricci.evaluate("log_softmax(x)", {"x": x})),
                       x - np.log(np.exp(x).sum()), rtol=1e-14)
    X = np.array([[0.3, -0.5, 0.2], [1.2, -0.4, 0.7]])
    assert ricci.evaluate("logsumexp(X)", {"X": X}) == pytest.approx(np.log(np.exp(X).sum()), rel=1e-14)


def test_logsumexp_softmax_log_softmax_are_stable_at_large_inputs():
    x = np.array([1000.0, 1000.0])
    assert ricci.evaluate("logsumexp(x)", {"x": x}) == pytest.approx(1000 + math.log(2), rel=1e-15)
    assert np.allclose(np.ravel(ricci.evaluate("softmax(x)", {"x": x})), [0.5, 0.5], rtol=1e-15)
    assert np.allclose(np.ravel(ricci.evaluate("log_softmax(x)", {"x": x})), [-math.log(2)] * 2,
                       rtol=1e-15)
    assert np.allclose(np.ravel(ricci.evaluate("softmax(x)", {"x": np.array([-1000.0, 0.0])})),
                       [0.0, 1.0])


@pytest.mark.parametrize("backend", ["numpy", "array_api"])
@pytest.mark.parametrize("text, expected", [
    ("logsumexp(x)", 1000 + math.log(2)),
    ("softmax(x)", [0.5, 0.5]),
    ("log_softmax(x)", [-math.log(2), -math.log(2)]),
])
def test_generated_values_are_stable_at_large_inputs(backend, text, expected):
    fn = ricci.derivative(text, "x").function(backend, with_value=True)
    x = np.array([1000.0, 1000.0])
    with np.errstate(all="ignore"):  # the derivative's exp(x) overflows: issue 22 (docs/language.md)
        value, _ = fn(x) if backend == "numpy" else fn(x, xp=np)
    assert np.allclose(np.ravel(value), expected, rtol=1e-15)


@pytest.mark.parametrize("expression", ["logsumexp(x)", "y'*softmax(x)", "y'*log_softmax(x)",
                                        "softmax(x)", "log_softmax(x)"])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_softmax_family_derivatives_against_finite_differences(expression, order):
    if order == 3 and expression in ("softmax(x)", "log_softmax(x)"):
        order = 2  # a vector's third derivative is a 4-axis tensor: orders 1-3 of its y'* forms
    values = dict(SOFTMAX_VALUES, y=np.array([0.5, -1.0, 0.25]))
    used = {k: v for k, v in values.items() if k in expression}
    check_derivative(expression, "x", kinds={k: "vector" for k in used}, order=order, values=used)


def test_softmax_family_closed_forms():
    x = SOFTMAX_VALUES["x"]
    p = _softmax(x)
    assert np.allclose(ricci.derivative("logsumexp(x)", "x").evaluate({"x": x}), p, rtol=1e-13)
    assert np.allclose(ricci.derivative("logsumexp(x)", "x", order=2).evaluate({"x": x}),
                       np.diag(p) - np.outer(p, p), rtol=1e-13)
    assert np.allclose(ricci.derivative("softmax(x)", "x").evaluate({"x": x}),
                       np.diag(p) - np.outer(p, p), rtol=1e-13)
    assert np.allclose(ricci.derivative("log_softmax(x)", "x").evaluate({"x": x}),
                       np.eye(3) - np.outer(np.ones(3), p), rtol=1e-13)


def test_softmax_family_in_compositions():
    W = np.array([[0.2, -0.3, 0.1], [0.4, 0.1, -0.2]])
    A = np.array([[0.5, -0.2], [0.1, 0.3], [-0.4, 0.6]])
    x, y, z, b = (np.array([0.5, 0.2, 0.4]), np.array([1.0, 0.0]), np.array([0.3, -0.8]),
                  np.array([0.1, -0.2, 0.3]))
    for wrt in ("W", "x"):
        for order in (1, 2):
            check_derivative("y'*log_softmax(W*x)", wrt, kinds={"W": "matrix"}, order=order,
                             values={"W": W, "x": x, "y": y})
    check_derivative("logsumexp(A*z + b)", "z", kinds={"A": "matrix", "b": "vector"},
                     closed=lambda v: A.T @ _softmax(A @ v["z"] + b), values={"A": A, "z": z, "b": b})
    check_derivative("logsumexp(A*z + b)", "z", kinds={"A": "matrix", "b": "vector"}, order=3,
                     values={"A": A, "z": z, "b": b})
    check_derivative("logsumexp(X)", "X", kinds={"X": "matrix"}, order=2,
                     values={"X": np.array([[0.3, -0.5], [1.2, -0.4]])})


@pytest.mark.parametrize("backend", ["numpy", "array_api"])
def test_softmax_family_code(backend):
    W = np.array([[0.2, -0.3, 0.1], [0.4, 0.1, -0.2]])
    x, y = np.array([0.5, 0.2, 0.4]), np.array([1.0, 0.0])
    d = ricci.derivative("y'*log_softmax(W*x)", "W", kinds={"W": "matrix"})
    fn = d.function(backend, with_value=True)
    args = {"W": W, "x": x, "y": y}
    value, gradient = fn(**args) if backend == "numpy" else fn(**args, xp=np)
    u = W @ x
    assert value == pytest.approx(y @ (u - np.log(np.exp(u).sum())), rel=1e-13)
    assert np.allclose(gradient, np.outer(y - y.sum() * _softmax(u), x), rtol=1e-13)


def test_softmax_family_code_jax():
    jnp = pytest.importorskip("jax.numpy")
    import jax

    jax.config.update("jax_enable_x64", True)
    x = np.array([1000.0, 1000.0, 999.0])
    fn = ricci.derivative("logsumexp(x)", "x").function("jax", with_value=True)
    value, gradient = fn(jnp.asarray(x))
    assert float(value) == pytest.approx(1000 + math.log(2 + math.exp(-1)), rel=1e-15)
    assert np.allclose(np.asarray(gradient), _softmax(x), rtol=1e-13)
    hessian = ricci.derivative("logsumexp(x)", "x", order=2).function("jax")(jnp.asarray(x))
    assert np.allclose(np.asarray(hessian), np.diag(_softmax(x)) - np.outer(_softmax(x), _softmax(x)),
                       rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("text, span, message", [
    # along an axis these are part of the language now (tests/test_kron_vec.py): only an axis
    # that is not the number 1 or 2 is refused, by its position
    ("softmax(X, 3)", (11, 12), "softmax(X, k) works along the axis k = 1 (each column) or 2 (each row)"),
    ("log_softmax(x, y)", (15, 16), "log_softmax(X, k) works along the axis k = 1"),
    ("logsumexp(X, 0)", (13, 14), "logsumexp(X, k) works along the axis k = 1"),
])
def test_softmax_family_refusals(text, span, message):
    _assert_refused(text, span, message)


@pytest.mark.parametrize("expression, order, expected", [
    ("logsumexp(x)", 1, lambda p: p),
    ("logsumexp(x)", 2, lambda p: np.diag(p) - np.outer(p, p)),
    ("logsumexp(x)", 3, lambda p: (np.einsum("i,ij,ik->ijk", p, np.eye(3), np.eye(3))
                                   - np.einsum("ij,i,k->ijk", np.eye(3), p, p)
                                   - np.einsum("ik,i,j->ijk", np.eye(3), p, p)
                                   - np.einsum("jk,i,j->ijk", np.eye(3), p, p)
                                   + 2 * np.einsum("i,j,k->ijk", p, p, p))),
    ("log(sum(exp(x)))", 2, lambda p: np.diag(p) - np.outer(p, p)),
    ("softmax(x)", 1, lambda p: np.diag(p) - np.outer(p, p)),
    ("log_softmax(x)", 1, lambda p: np.eye(3) - np.outer(np.ones(3), p)),
])
def test_softmax_family_derivatives_are_stable_at_large_inputs(expression, order, expected):
    # exp(x)/sum(exp(x)) is inf/inf at x = 1000: evaluated and generated shifted by max(x)
    x = np.array([1000.0, 1000.0, 999.0])
    p = _softmax(x)
    d = ricci.derivative(expression, "x", order=order)
    with np.errstate(over="raise", invalid="raise"):
        assert np.allclose(d.evaluate({"x": x}), expected(p), rtol=1e-12, atol=1e-13)
        for backend in ("numpy", "array_api"):
            fn = d.function(backend)
            got = fn(x) if backend == "numpy" else fn(x, xp=np)
            assert np.allclose(got, expected(p), rtol=1e-12, atol=1e-13), backend


def test_softmax_of_a_product_is_stable_at_large_inputs():
    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]) * 300
    b, z = np.array([0.0, 0.0, 1.0]), np.array([1.0, 1.0])
    u = A @ z + b
    d = ricci.derivative("logsumexp(A*z + b)", "z", kinds={"A": "matrix", "b": "vector"})
    with np.errstate(over="raise", invalid="raise"):
        assert np.allclose(d.evaluate({"A": A, "b": b, "z": z}), A.T @ _softmax(u), rtol=1e-13)
        assert np.allclose(d.function("numpy")(A=A, z=z, b=b), A.T @ _softmax(u), rtol=1e-13)
