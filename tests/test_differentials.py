"""The differential method (issue 20): dF rule by rule, the standard form, the identification.

The references are independent of the method: ricci's derivative ``d.evaluate`` (itself checked
against finite differences by test_lecture.py and test_cookbook.py, whose every derivative is
replayed here) and finite differences of ``ricci.evaluate`` for the linear map.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from helpers import random_values

import ricci
from ricci.explain.by_differentials import Derivation, LinearMap


# -- every derivative of the lecture and Cookbook tests ---------------------------------------------
def _collect() -> list:
    """(test, expression, wrt, kinds, order, values) of every check_derivative call the lecture's
    and the Cookbook's tests make, gathered by running them with a recording referee."""
    import helpers

    cases = []
    for module_name in ("test_lecture", "test_cookbook"):
        module = importlib.import_module(module_name)
        original = helpers.check_derivative

        def recording(expression, wrt, *, kinds=None, order=1, values=None, _name=[None], **kw):
            r = original(expression, wrt, kinds=kinds, order=order, values=values, **kw)
            cases.append((_name[0], expression, wrt, kinds, order, dict(r.values)))
            return r

        module.check_derivative = recording
        try:
            for name in sorted(n for n in dir(module) if n.startswith("test_")):
                fn = getattr(module, name)
                if not callable(fn) or fn.__code__.co_argcount:
                    continue
                recording.__kwdefaults__["_name"][0] = f"{module_name}::{name}"
                fn()
        finally:
            module.check_derivative = original
    return cases


CASES = _collect()


def test_the_cases_are_collected():
    # the lecture's 16 rows and well over a hundred Cookbook derivatives
    assert sum(1 for c in CASES if c[0].startswith("test_lecture")) >= 14
    assert sum(1 for c in CASES if c[0].startswith("test_cookbook")) >= 100


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0].split('::')[1]}-{c[4]}" for c in CASES])
def test_every_lecture_and_cookbook_derivative(case):
    """The differential derivation exists, and what it identifies is ricci's answer in numbers; none
    is refused (where the order k − 1 is a tensor, the route through vec: test_differentials_higher.py)."""
    _, expression, wrt, kinds, order, values = case
    d = ricci.derivative(expression, wrt, order, kinds)
    method = Derivation(d)
    steps = d.steps(method="differentials")
    assert [s.rule for s in steps][-1] == "result" and steps.find("identification")
    want = np.asarray(d.evaluate(values), dtype=float)
    got = np.asarray(method.evaluate(values), dtype=float)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-9 * (1 + np.abs(want).max()))


FIRST_ORDER = sorted({(c[1], str(c[2]), repr(c[3])): c for c in CASES}.values(), key=lambda c: (c[1], str(c[2])))


@pytest.mark.parametrize("case", FIRST_ORDER, ids=[f"{c[0].split('::')[1]}" for c in FIRST_ORDER])
def test_the_linear_map_is_the_jacobian_times_the_direction(case):
    """f'(X)[dX] at random directions V equals the Jacobian (ricci's, laid out as §1) times V, and
    equals the finite difference (f(X + hV) - f(X - hV))/2h."""
    _, expression, wrt, kinds, _, values = case
    d = ricci.derivative(expression, wrt, 1, kinds)
    lm = LinearMap(d)
    assert lm.text.startswith("f'(")
    rng = np.random.default_rng(7)
    J = np.asarray(d.evaluate(values), dtype=float)
    names = wrt if isinstance(wrt, list) else [wrt]
    for _ in range(2):
        V = {n: rng.standard_normal(np.shape(np.asarray(values[n], dtype=float))) for n in names}
        for n in names:  # a symmetric variable moves in symmetric directions (its values stay symmetric)
            if d.expression.variables[n].kind == "symmetric matrix":
                V[n] = V[n] + V[n].T
        if isinstance(wrt, list):
            want = J @ np.array([float(V[n]) for n in names])
            got = lm.evaluate(values, V)
        else:
            v = V[wrt]
            want = np.tensordot(J, v, axes=np.ndim(v)) if np.ndim(v) else J * float(v)
            got = lm.evaluate(values, v)
        np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=1e-8, atol=1e-10 * (1 + np.abs(want).max()))
        # and against the function itself, in the same direction
        h = 1e-6
        plus = {**values, **{n: np.asarray(values[n], dtype=float) + h * V[n] for n in names}}
        minus = {**values, **{n: np.asarray(values[n], dtype=float) - h * V[n] for n in names}}
        fd = (np.asarray(ricci.evaluate(expression, plus, kinds), dtype=float)
              - np.asarray(ricci.evaluate(expression, minus, kinds), dtype=float)) / (2 * h)
        np.testing.assert_allclose(np.asarray(got, dtype=float), fd, rtol=1e-5, atol=1e-6 * (1 + np.abs(fd).max()))


# -- acceptance 1: the lecture's three examples, on the command line ---------------------------------
def _cli(capsys, *argv):
    from ricci.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_quadratic_form_by_differentials_on_the_command_line(capsys):
    # d(x'Bx) = dx'Bx + x'B dx = x'(B + B')dx → the gradient x'(B + B'), a row
    code, out, _ = _cli(capsys, "diff", "x'*B*x", "--wrt", "x", "--steps", "differentials")
    assert code == 0
    assert "df = dx'*B*x + x'*B*dx = x'*(B + B')*dx" in out
    assert "∂f/∂x = x'*B' + x'*B = x'*(B + B')" in out
    assert "cyclic property of the trace" in out and "gradient a' (a row" in out


def test_log_det_by_differentials(capsys):
    # d log det X = tr(inv(X) dX) = tr(G' dX) with G = inv(X)'
    code, out, _ = _cli(capsys, "diff", "log(det(X))", "--wrt", "X", "--steps", "differentials")
    assert code == 0
    assert "df = tr(inv(X)*dX)" in out and "∂f/∂X = inv(X)'" in out
    assert "Log-determinant" in out and "df = tr(G' dX) gives ∂f/∂X = G" in out


def test_AXB_by_differentials_is_a_kronecker_product(capsys):
    code, out, _ = _cli(capsys, "diff", "A*X*B", "--wrt", "X", "--steps", "differentials")
    assert code == 0
    assert "vec dF = kron(B', A) vec dX" in out and "vec(AXB) = (B' ⊗ A) vec X" in out
    d = ricci.derivative("A*X*B", "X")
    values = random_values("A*X*B")
    # the identified J against NumPy's kron of the values, and against ricci's tensor reshaped
    J = np.kron(values["B"].T, values["A"])
    T = np.asarray(d.evaluate(values))
    np.testing.assert_allclose(T.reshape(J.shape, order="F"), J, rtol=1e-12)
    np.testing.assert_allclose(Derivation(d).evaluate(values), T, rtol=1e-12)


def test_steps_flag_alone_is_still_the_lectures_method(capsys):
    _, plain, _ = _cli(capsys, "diff", "x'*B*x", "--wrt", "x", "--steps")
    _, named, _ = _cli(capsys, "diff", "x'*B*x", "--wrt", "x", "--steps", "jacobians")
    assert plain == named and "Chain rule" not in plain and "Shape of the result" in plain
    with pytest.raises(SystemExit) as stop:
        _cli(capsys, "diff", "x'*B*x", "--wrt", "x", "--steps=taylor")
    assert stop.value.code == 2 and "differentials" in capsys.readouterr().err


def test_a_commutation_matrix_is_named(capsys):
    # d(X') = (dX)': vec dF = K vec dX, K the commutation matrix
    code, out, _ = _cli(capsys, "diff", "X'*A", "--wrt", "X", "--steps", "differentials")
    assert code == 0 and "K_(m,n)" in out and "commutation matrix" in out
    values = random_values("X'*A")
    d = ricci.derivative("X'*A", "X")
    np.testing.assert_allclose(Derivation(d).evaluate(values), d.evaluate(values), rtol=1e-12)


# -- the linear map, the method's other outputs ----------------------------------------------------------
def test_linear_map_in_the_input_language():
    # MIT's f'(X)[dX] = dX*A + A*dX for f(X) = X*A + A*X
    d = ricci.derivative("X*A + A*X", "X")
    assert d.linear_map.text == "f'(X)[dX] = dX*A + A*dX"
    rng = np.random.default_rng(3)
    X, A, V = rng.standard_normal((3, 3, 3))
    np.testing.assert_allclose(d.linear_map.evaluate({"X": X, "A": A}, V), V @ A + A @ V, rtol=1e-12)


def test_steps_of_both_methods_from_the_same_object():
    d = ricci.derivative("x'*B*x", "x")
    assert d.steps(method="jacobians") is d.steps
    assert d.steps(method="differentials").find("identification")
    with pytest.raises(ricci.RicciError, match="jacobians"):
        d.steps(method="taylor")


@pytest.mark.parametrize("expression, wrt", [("x'*B*x", "x"), ("log(det(X))", "X"), ("A*X*B", "X"),
                                             ("R'*R", "R"), ("norm2(y - Phi*theta)^2", "theta")])
def test_latex_and_mathml_read_like_a_textbook(expression, wrt):
    import xml.etree.ElementTree as ET

    latex2mathml = pytest.importorskip("latex2mathml.converter")
    steps = ricci.derivative(expression, wrt).steps(method="differentials")
    tex = steps.latex()
    assert r"\mathrm{d}" in tex and "dX}" not in tex and r"\mathrm{dx}" not in tex
    if wrt == "X":
        assert r"\operatorname{tr}" in tex or r"\otimes" in tex
    if expression == "A*X*B":
        assert r"\operatorname{vec}" in tex and r"\otimes" in tex
    ET.fromstring(latex2mathml.convert(tex))
    ET.fromstring(f"<div>{steps.html()}</div>")
    assert '<mi mathvariant="normal">d</mi>' in steps.html()
