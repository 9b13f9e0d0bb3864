"""Regressions found by ``tools/hunt.py``, an independent random-expression generator.

Each test pins one bug with real values: the derivative's numbers, and the text of the answer
parsed again (with the same kinds) and evaluated at the same point.  The last test runs the
generator itself on a few hundred seeded problems.
"""

from __future__ import annotations

import importlib.util
import pathlib
import re

import numpy as np
import pytest

import ricci

ROOT = pathlib.Path(__file__).resolve().parent.parent


def text_value(d, values, kinds=None):
    """The value of ``d.text`` parsed again, with the kinds of the names it uses."""
    names = set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", d.text))
    k = {n: v for n, v in (kinds or {}).items() if n in names}
    e = ricci.parse(d.text, k)
    return np.asarray(ricci.evaluate(e, {n: values[n] for n in e.variables}), float)


# -- 1. a row-vector binding kept its orientation in the text ----------------------------------

def test_a_row_binding_is_a_row_in_the_text():
    # s1 = a*y' is a row; the answer used it as a column (exp(s1)'*y.^2, row times row).
    y = np.array([0.3, -0.7, 1.1])
    values = {"a": 0.6, "y": y}
    d = ricci.derivative("exp(s1)*y where s1 = a*y'", "a")
    expected = float(np.sum(np.exp(0.6 * y) * y ** 2))
    assert d.evaluate(values) == pytest.approx(expected)
    assert float(text_value(d, values)) == pytest.approx(expected)


def test_a_row_binding_used_twice():
    y = np.array([0.4, 1.3, 0.9, 2.0])
    values = {"a": 1.7, "y": y}
    d = ricci.derivative("sqrt(s1)*s1' where s1 = a*y'", "a")
    # f = Σ (a y)^1.5, f' = 1.5 Σ y (a y)^0.5
    expected = float(1.5 * np.sum(y * np.sqrt(1.7 * y)))
    assert d.evaluate(values) == pytest.approx(expected)
    assert float(text_value(d, values)) == pytest.approx(expected)


# -- 2. a binding equal to zero kept its shape -------------------------------------------------

@pytest.mark.parametrize("expr, shape", [
    ("u*a where u = b*y - b*y", (3,)),
    ("u*a where u = b*A' - b*A'", (4, 2)),
])
def test_a_zero_binding_keeps_its_shape(expr, shape):
    values = {"a": 0.5, "b": -1.2, "y": np.array([1.0, 2.0, 3.0]), "A": np.arange(8.0).reshape(2, 4)}
    d = ricci.derivative(expr, "a")
    values = {n: values[n] for n in d.expression.variables}
    np.testing.assert_allclose(d.evaluate(values), np.zeros(shape))
    t = text_value(d, values)  # was 'u where u = 0': a scalar
    assert t.shape == shape
    np.testing.assert_allclose(t, np.zeros(shape))


def test_a_zero_row_binding_in_a_product():
    x, y = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.2, -1.0])
    values = {"a": 0.7, "x": x, "y": y}
    d = ricci.derivative("(u_1*x)*a where u_1 = a*y' - a*y'", "a")
    assert d.evaluate(values) == 0.0
    assert float(text_value(d, values)) == 0.0


# -- 3. logdet(diag(v)) is log(prod(v)), not sum(log(v)) ---------------------------------------

def test_logdet_of_a_diagonal_with_negative_entries():
    # det(diag(y)) = 6 > 0 although two entries are negative: logdet is defined there.
    y = np.array([-1.0, -2.0, 3.0])
    Phi = np.array([[1.0, 2.0], [0.5, -1.0]])
    values = {"y": y, "Phi": Phi}
    expr = "logdet(diag(y))*sum(Phi)"
    assert ricci.evaluate(expr, values) == pytest.approx(np.log(6.0) * Phi.sum())
    d = ricci.derivative(expr, "Phi")
    np.testing.assert_allclose(d.evaluate(values), np.full((2, 2), np.log(6.0)))  # was nan
    assert "logdet" in d.text  # not sum(log(y)); the text is size-less (matrix(1)), so not evaluated
    g = ricci.derivative("logdet(diag(y))", "y")
    np.testing.assert_allclose(g.evaluate({"y": y}), 1 / y)
    np.testing.assert_allclose(text_value(g, {"y": y}), 1 / y)


# -- 4. a constant exponent with a shape (b.^(A - A)) broadcasts -----------------------------

def test_a_constant_exponent_with_a_shape_broadcasts():
    x = np.array([0.2, -0.4, 0.9])
    A = np.arange(6.0).reshape(2, 3)
    values = {"b": 1.3, "x": x, "A": A}
    d = ricci.derivative("b.^(A - A)*x", "x")  # = ones(2, 3) * x
    np.testing.assert_allclose(d.evaluate(values), np.ones((2, 3)))
    assert len(ricci.parse(d.text).shape) == 2  # was 'b.^0': a scalar (now matrix(1), size-less)
    d = ricci.derivative("cos(b.^(A - A)*x)", "x")
    expected = -np.sin(x.sum()) * np.ones((2, 3))
    np.testing.assert_allclose(d.evaluate(values), expected)


def test_a_zero_tensor_inside_a_power_has_its_shape():
    A = np.arange(6.0).reshape(2, 3)
    d = ricci.derivative("b.^(A - A)", "b")
    np.testing.assert_allclose(d.evaluate({"b": 2.0, "A": A}), np.zeros((2, 3)))
    np.testing.assert_allclose(text_value(d, {"A": A}), np.zeros((2, 3)))


# -- 5. a sum that cancels only in matrix notation keeps its shape ---------------------------------

def test_a_sum_cancelled_in_matrix_notation_keeps_its_shape():
    # The IR keeps -(C + s1) + C + s1; the matrix notation cancels it, and the row
    # diag(...)' became the scalar 0.
    rng = np.random.default_rng(0)
    values = {"x": rng.normal(size=3), "w": rng.normal(size=3), "C": rng.normal(size=(3, 3))}
    d = ricci.derivative("x'*diag(s1 + C - (C + s1)) where s1 = w*w'", "x")
    np.testing.assert_allclose(d.evaluate(values), np.zeros(3), atol=1e-12)
    t = text_value(d, values)  # was '0'
    assert t.shape == (3,)
    np.testing.assert_allclose(t, np.zeros(3))


def test_a_sum_cancelled_to_a_constant_keeps_its_shape():
    # z' - (10 + z') is -10 in every entry of a row; the answer was (1./(-10))*z, a column.
    # Now the IR cancels the sum: -0.1*z*vector(1)', whose row of ones nothing else in the
    # text sizes, so the text writes its size out (tests/test_zeros_and_sizes.py).
    z = np.array([0.5, -1.0, 2.0, 0.25])
    values = {"b": 0.8, "z": z}
    d = ricci.derivative("z*(b./(z' - (10 + z.T)))", "b")
    expected = np.outer(z, np.full(4, -0.1))
    np.testing.assert_allclose(d.evaluate(values), expected)
    assert d.text == "-0.1*z*vector(1, len(z))'"
    np.testing.assert_allclose(ricci.evaluate(d.text, values), expected)


def test_a_sum_cancelled_to_a_scalar_expression_keeps_its_shape():
    # w' - (b + w') is -b in every entry of a row: the answer was -b*vector(1)*A (a column
    # times A), which does not parse with A m×n.
    rng = np.random.default_rng(1)
    values = {"c": 0.7, "b": -1.3, "w": rng.normal(size=3), "A": rng.normal(size=(3, 2))}
    d = ricci.derivative("c*(w' - (b + w'))*A", "c")
    expected = -values["b"] * values["A"].sum(axis=0)
    np.testing.assert_allclose(d.evaluate(values), expected)
    np.testing.assert_allclose(text_value(d, values, {"A": "matrix"}), expected)


# -- 6. generated code: two constant arrays added kept their shape -------------------------------

def test_generated_code_adds_two_constant_arrays():
    # (det(C)*vector(1) - b*vector(1)) became the scalar det(C) - b, and '@ u' failed.
    C, u = np.diag([2.0, 3.0, 0.5]), np.array([1.0, -2.0, 0.5])
    values = {"C": C, "b": 0.5, "u": u}
    d = ricci.derivative("(1./(det(C)*vector(1) - b*vector(1)))'*u", "b")
    expected = u.sum() / (np.linalg.det(C) - 0.5) ** 2
    assert d.evaluate(values) == pytest.approx(expected)
    assert d.function("numpy")(C=C, b=0.5, u=u) == pytest.approx(expected)


# -- 8. two literals contracted along a shared axis: the second was sliced wrongly ----------------

def test_two_literals_contracted_along_their_axis():
    # The second literal kept its axis (an Index equal to, not identical with, the first's):
    # a 1-entry literal of length 2, and d.evaluate raised ValueError (cannot reshape).
    y, z, x = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0]), np.array([0.3, -0.2])
    values = {"y": y, "z": z, "x": x}
    d = ricci.derivative("sqrt(sum(([y'*z; 2] + x).^2))", "y", 2)
    u = np.array([y @ z, 2.0]) + x
    s = np.sqrt(u @ u)
    expected = np.outer(z, z) * (1 / s - u[0] ** 2 / s ** 3)
    np.testing.assert_allclose(d.evaluate(values), expected)
    np.testing.assert_allclose(text_value(d, values), expected)


# -- 7. a contraction with a sum that cancels to a constant lost its sum (fixed in MatrixForms) ----

def test_a_contraction_with_a_cancelling_sum_keeps_its_sum():  # known_core_bugs.md #12
    y = np.array([0.5, -2.0, 1.5])
    values = {"b": 0.9, "c": 1.3, "y": y}
    d = ricci.derivative("sqrt(norm1((b + y/b)*b/c))", "b", 2)
    u = (y + 0.81) / 1.3
    s, g = np.abs(u).sum(), np.sign(u)
    expected = np.sum(g * 2 / 1.3) / (2 * np.sqrt(s)) - 0.25 * np.sum(g * 2 * 0.9 / 1.3) ** 2 / s ** 1.5
    assert d.evaluate(values) == pytest.approx(expected)  # the numbers are right
    t = text_value(d, values)  # the text was a vector: sign(u)/(c*sqrt(sum(abs(u)))) - ...
    assert t.shape == ()
    assert float(t) == pytest.approx(expected)


# -- the generator itself, seeded ---------------------------------------------------------------

def _hunt():
    spec = importlib.util.spec_from_file_location("ricci_hunt", ROOT / "tools" / "hunt.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_independent_generator_finds_nothing():
    import random

    hunt = _hunt()
    checker = hunt.Checker(use_jax=False, fd=True)
    bad, statuses = [], {}
    for i in range(300):
        rng = random.Random(f"ci-{i}")
        p, text, wrt, order, kinds = hunt.draw(rng, hunt.Generator(rng), 4)
        try:
            status = checker.run(p, text, wrt, order, kinds)
        except hunt.Outcome as o:
            status = o.status
            if status != "sizeless":
                bad.append((text, wrt, order, kinds, o.status, o.detail[:300]))
        statuses[status] = statuses.get(status, 0) + 1
    assert not bad, bad
    assert statuses.get("ok", 0) > 200, statuses


# -- a row of ones taken out of a sum where the ones had two sizes ----------------------------

def test_ones_of_two_sizes_are_not_taken_out_of_a_sum():
    # found by tools/hunt.py: the gradient of sum(B*x)*sum(C*x) read
    # vector(1)'*(sum(B*x)*C + sum(C*x)*B), which does not type-check with B m×n and C p×n
    # (the ones are B's row count in one term and C's in the other)
    rng = np.random.default_rng(0)
    values = {"B": rng.normal(size=(3, 4)), "C": rng.normal(size=(5, 4)), "x": rng.normal(size=4)}
    d = ricci.derivative("sum(B*x)*sum(C*x)", "x")
    B, C, x = values["B"], values["C"], values["x"]
    expected = (C @ x).sum() * B.sum(axis=0) + (B @ x).sum() * C.sum(axis=0)
    np.testing.assert_allclose(d.evaluate(values), expected)
    np.testing.assert_allclose(text_value(d, values), expected)
    # where the sizes agree the ones still come out: vector(1)'*(A + B)
    assert ricci.derivative("sum(A*x + B*x)", "x").text == "vector(1)'*(A + B)"
