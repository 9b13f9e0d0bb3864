"""The differential method at orders whose order k − 1 has no matrix form (issue 20, acceptance 2).

Magnus and Neudecker's route through vec: D³f = ∂vec(D²f)/∂x' (n²×n), D⁴f = ∂vec(D³f)/∂x'
(n³×n).  The method differentiates the derivative of the highest order that has a matrix form in a
fixed direction h (D³f h = vec of df2 at dx = h), then once more, and identifies
vec d(f3) = J vec dx with J = (h' ⊗ I) D⁴f for every h.  The references are independent of the
method: closed forms written with NumPy, and central differences of ricci's own derivative of the
order below (itself checked against finite differences by test_cookbook.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import central_differences, random_values

import ricci
from ricci.explain.by_differentials import Derivation


def _identified(expression, wrt, order, kinds=None, values=None):
    d = ricci.derivative(expression, wrt, order, kinds)
    values = values if values is not None else random_values(expression, kinds)
    got = np.asarray(Derivation(d).evaluate(values), dtype=float)
    return d, values, got


def test_fourth_derivative_of_squared_norm_squared_is_the_symmetrised_identity():
    # (x'x)^2: ∂⁴f/∂x_i∂x_j∂x_k∂x_l = 8(δ_ij δ_kl + δ_ik δ_jl + δ_il δ_jk), written with NumPy
    _, values, got = _identified("(x'*x)^2", "x", 4)
    n = len(values["x"])
    eye = np.eye(n)
    want = 8 * (np.einsum("ij,kl->ijkl", eye, eye) + np.einsum("ik,jl->ijkl", eye, eye)
                + np.einsum("il,jk->ijkl", eye, eye))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("order", [4, 5])
def test_higher_derivatives_of_sum_exp_are_diagonal(order):
    # sum(exp(x)): only the all-equal index has exp(x_i); order 5 holds two directions fixed
    _, values, got = _identified("sum(exp(x))", "x", order)
    x = np.asarray(values["x"], dtype=float)
    want = np.zeros((len(x),) * order)
    for i, xi in enumerate(x):
        want[(i,) * order] = np.exp(xi)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("expression, wrt, order, kinds", [
    ("log(sum(exp(x)))", "x", 4, None),
    ("(a'*x)^3", "x", 4, {"a": "vector"}),
    ("det(X)", "X", 3, None),          # a matrix variable: directions H of X's kind
    ("inv(X)", "X", 2, None),          # no matrix form even at order 1: from F itself
    ("exp(x)", "x", 3, None),          # a vector function
])
def test_the_identified_derivative_is_the_derivative_of_the_order_below(expression, wrt, order, kinds):
    """Each order's identified tensor equals central differences of ricci's derivative of order k − 1."""
    d, values, got = _identified(expression, wrt, order, kinds)
    below = ricci.derivative(expression, wrt, order - 1, kinds)

    def at(x):
        return np.asarray(below.evaluate({**values, wrt: x}), dtype=float)

    want = central_differences(at, values[wrt], h=1e-5)
    assert got.shape == want.shape == np.shape(d.evaluate(values))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7 * (1 + np.abs(want).max()))


def test_the_steps_name_the_route_through_vec():
    steps = ricci.derivative("(x'*x)^2", "x", 4).steps(method="differentials")
    text = steps.text()
    rules = [s.rule for s in steps]
    assert rules[0] == "differentiate again" and "direction" in rules
    assert rules[-1] == "result" and "identification" in rules
    # the derivative of order 2 (a matrix) is differentiated in a fixed direction h, then again
    assert "f2 = 8*x*x' + 4*(x'*x)*eye" in text
    assert "f3 = df2 at dx = h" in text and "vec df3 = " in text
    assert "D⁴f = ∂vec D³f/∂x'" in text and "(h' ⊗ I) D⁴f = J" in text
    # the LaTeX reads as a textbook's
    assert r"\operatorname{vec}" in steps.latex() and r"\otimes" in steps.latex()
    assert "⁴" not in steps.latex() and r"D}^4 \text{f" in steps.latex()  # D⁴f as LaTeX writes a power


def test_the_direction_step_is_the_third_derivative_applied_to_h():
    """f3 (the step's expression, in the input language) evaluated at a direction h equals ricci's
    third derivative contracted with h: the step says what it computes."""
    step = ricci.derivative("log(sum(exp(x)))", "x", 4).steps(method="differentials").find("direction")[0]
    text = step.formula.text.split(" = ", 3)[3]  # f3 = df2 at dx = h = …, with its where
    values = random_values("log(sum(exp(x)))")
    h = np.random.default_rng(3).standard_normal(len(values["x"]))
    got = np.asarray(ricci.evaluate(text, {**values, "h": h}, {"h": "vector"}), dtype=float)
    T = np.asarray(ricci.derivative("log(sum(exp(x)))", "x", 3).evaluate(values), dtype=float)
    np.testing.assert_allclose(got, np.tensordot(T, h, axes=1), rtol=1e-10, atol=1e-12)


# -- the command line: a misspelt method names the flag and its choices ------------------------------
@pytest.mark.parametrize("argv", [
    ["diff", "x'*B*x", "--wrt", "x", "--steps", "diff"],
    ["diff", "--steps", "diff", "x'*B*x", "--wrt", "x"],
])
def test_a_misspelt_method_names_the_flag_and_its_choices(argv, capsys):
    from ricci.cli import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "argument --steps: invalid choice: 'diff' (choose from 'jacobians', 'differentials')" in err
    assert "did you mean --steps differentials?" in err
    assert "unrecognized arguments" not in err


def test_the_expression_may_still_follow_steps(capsys):
    from ricci.cli import main

    assert main(["diff", "--steps", "x'*B*x", "--wrt", "x"]) == 0  # the lecture's method: the expression
    assert "Shape of the result" in capsys.readouterr().out
    assert main(["diff", "--steps", "differentials", "x'*B*x", "--wrt", "x"]) == 0
    assert "df = dx'*B*x + x'*B*dx" in capsys.readouterr().out


@pytest.mark.parametrize("expression", ["log(sum(exp(x)))", "(x'*x)^2", "sum(exp(x))"])
def test_the_vec_standard_form_reads_as_people_write_it(expression):
    # a coefficient ±1 is a sign (A - B, not A + -1*B, and no 1*B); the vec of a column is the
    # column (diag(b), not diag(vec(b))); and the form still gives ricci's numbers
    d = ricci.derivative(expression, "x", 3)
    derivation = Derivation(d)
    standard = derivation.steps().find("standard form")[0].formula.text
    assert "+ -" not in standard and "+ 1*" not in standard and "(1*" not in standard
    assert "vec(vector(1))" not in standard and "diag(vec(" not in standard
    values = random_values(expression)
    np.testing.assert_allclose(np.asarray(derivation.evaluate(values), dtype=float), d.evaluate(values),
                               rtol=1e-9, atol=1e-12)
