"""ricci.explain: the derivation steps (issue 6's acceptance), layouts, the symmetric gradient,
tensors in index notation and Kronecker form, MathML, LaTeX options and Jupyter displays.

Forms the lecture states (2e', −Φ, −2e'Φ, δ_ij x_k, …) are compared after parsing or by their
numbers; other answer texts belong to the core and are pinned only by the snapshots
(tests/test_explain_snapshots.py).
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import latex2mathml.converter
import numpy as np
import pytest
from helpers import random_values
from hypothesis import HealthCheck, given, settings

import ricci
from ricci.explain import SYMMETRIC_NOTE, commutation_matrix, explain, index_form, kronecker_form
from ricci.printing.mathml import ast_to_mathml, math
from ricci.testing import expressions

RNG = np.random.default_rng(6)
LSQ = "norm2(y - Phi*theta)^2"
EX1 = "exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)"


def same_numbers(a: str, b: str, kinds: dict, trials: int = 3) -> bool:
    """Two texts of the input language are the same function (at random values)."""
    names = set(ricci.parse(a, {k: v for k, v in kinds.items() if k in _names(a)}).variables)
    if names != set(ricci.parse(b, {k: v for k, v in kinds.items() if k in _names(b)}).variables):
        return False
    ka = {k: v for k, v in kinds.items() if k in names}
    for _ in range(trials):
        v = random_values(a, ka)
        if not np.allclose(ricci.evaluate(a, v, ka), ricci.evaluate(b, v, ka), rtol=1e-10, atol=1e-12):
            return False
    return True


def _names(text: str) -> set:
    from ricci.language.kinds import free_names
    from ricci.language.parser import parse_text

    return set(free_names(parse_text(text), set()))


def step_with(steps, rule: str, after: str | None = None, kinds=None):
    found = [s for s in steps if s.rule == rule]
    assert found, f"no {rule!r} step in:\n{steps.text(full=True)}"
    if after is None:
        return found[0]
    for s in found:
        if s.after is not None and same_numbers(s.after.text, after, kinds or {}):
            return s
    raise AssertionError(f"no {rule!r} step equal to {after!r} in:\n{steps.text(full=True)}")


# =================================================================================================
# Acceptance 1: the lecture's Examples 2 and 1
# =================================================================================================
def test_example2_least_squares_steps_as_the_lecture():
    d = ricci.derivative(LSQ, "theta")
    steps = d.explain(name="L", dims={"m": "N", "n": "D"})
    e_kinds = {"e": "vector", "Phi": "matrix"}
    # the shape first: ∂L/∂θ ∈ R^{1×D}
    assert steps[0].rule == "shape" and steps[0].shape == ("1", "D")
    # L(e) = ‖e‖², e = y − Φθ
    dec = step_with(steps, "decompose")
    assert "L(e) = norm2(e)^2" in dec.formula.text and "e = y - Phi*theta" in dec.formula.text
    assert r"L\left(e\right) = \left\lVert e \right\rVert_2^{2}" in dec.formula.latex
    # the chain rule as a product of Jacobians with their shapes
    chain = step_with(steps, "chain rule")
    assert chain.formula.text == "∂L/∂theta = ∂L/∂e · ∂e/∂theta"
    assert "(1 × N) · (N × D) = 1 × D" in chain.note.text
    # ∂L/∂e = 2e' (1 × N), with its Cookbook equation
    outer = step_with(steps, "identity", "2*e'", e_kinds)
    assert outer.shape == ("1", "N") and "(131)" in outer.source
    assert outer.formula.text.startswith("∂L/∂e = ")
    # ∂e/∂θ = −Φ (N × D)
    inner = next(s for s in steps if s.formula is not None and s.formula.text.startswith("∂e/∂theta = "))
    assert same_numbers(inner.after.text, "-Phi", {}) and inner.shape == ("N", "D")
    # the product −2e'Φ, then the final −2(y − Φθ)'Φ (1 × D)
    prod = step_with(steps, "multiply")
    assert same_numbers(prod.after.text, "-2*e'*Phi", e_kinds)
    assert ricci.parse(prod.after.text, e_kinds).tree == ricci.parse("-2*e'*Phi", e_kinds).tree
    final = steps[-1]
    assert final.rule == "result" and final.shape == ("1", "D")
    assert same_numbers(final.after.text, "-2*(y - Phi*theta)'*Phi", {})
    # the order is the lecture's
    rules = [s.rule for s in steps if s.depth == 0]
    assert rules == ["shape", "decompose", "chain rule", "multiply", "substitute", "result"]


def test_example2_default_names():
    # d.steps with no options: the same derivation, the function called f
    steps = ricci.derivative(LSQ, "theta").steps
    dec = step_with(steps, "decompose")
    assert dec.formula.text.startswith("f(e) = norm2(e)^2, e = y - Phi*theta")
    assert step_with(steps, "chain rule").formula.text == "∂f/∂theta = ∂f/∂e · ∂e/∂theta"


def test_example1_chain_rule_through_x_of_t():
    d = ricci.derivative(EX1, "t")
    steps = d.explain(name="h", outer="f")
    chain = step_with(steps, "chain rule")
    assert chain.formula.text == "∂h/∂t = ∂f/∂x · ∂x/∂t"
    assert "(1 × 2) · (2 × 1)" in chain.note.text
    scalars = {"x1": "scalar", "x2": "scalar", "t": "scalar"}
    outer = next(s for s in steps if s.title == "Outer gradient")
    assert outer.shape == ("1", "2")
    assert same_numbers(outer.after.text, "[x2^2*exp(x1*x2^2), 2*x1*x2*exp(x1*x2^2)]", scalars)
    inner = next(s for s in steps if s.title == "Inner Jacobian")
    assert inner.shape == ("2", "1")
    assert same_numbers(inner.after.text, "[cos(t) - t*sin(t); sin(t) + t*cos(t)]", {"t": "scalar"})
    # the product of the row and the column is the lecture's answer
    prod = next(s for s in steps if s.rule == "multiply" and s.depth == 0)
    assert "[x2^2*exp(x1*x2^2), 2*x1*x2*exp(x1*x2^2)]*[cos(t) - t*sin(t); sin(t) + t*cos(t)]" in prod.formula.text
    assert prod.after.text == d.text


def test_chain_rule_with_two_variables_s_t():
    # row 15: ∂f/∂(s,t) = ∂f/∂x · ∂x/∂(s,t), (1 × 2) · (2 × 2)
    steps = ricci.derivative("x1^2*x2 where x1 = s*t, x2 = s + t", ["s", "t"]).steps
    assert "(1 × 2) · (2 × 2) = 1 × 2" in step_with(steps, "chain rule").note.text
    inner = next(s for s in steps if s.title == "Inner Jacobian")
    assert same_numbers(inner.after.text, "[t, s; 1, 1]", {"s": "scalar", "t": "scalar"})


def test_hessian_steps_differentiate_the_gradient_as_a_column():
    d = ricci.derivative(LSQ, "theta", 2)
    steps = d.explain(name="L", dims={"m": "N", "n": "D"})
    assert steps[0].shape == ("D", "D")
    grad = step_with(steps, "gradient")
    assert same_numbers(grad.after.text, "-2*(y - Phi*theta)'*Phi", {})
    again = step_with(steps, "hessian")
    assert same_numbers(again.before.text, "-2*Phi'*(y - Phi*theta)", {})
    assert same_numbers(steps[-1].after.text, "2*Phi'*Phi", {})


def test_shared_affine_part_is_the_inner_function():
    # (x − As)'W(x − As) = e'We with e = x − As: ∂f/∂e = 2e'W, ∂e/∂s = −A
    steps = ricci.derivative("(x - A*s)'*W*(x - A*s)", "s", kinds={"W": "symmetric matrix"}).steps
    assert "e = x - A*s" in step_with(steps, "decompose").formula.text
    step_with(steps, "identity", "2*e'*W", {"e": "vector", "W": "symmetric matrix"})
    assert same_numbers(steps[-1].after.text, "-2*(x - A*s)'*W*A", {"W": "symmetric matrix"})


@pytest.mark.parametrize("expr,wrt,source", [
    ("x'*a", "x", "(69)"), ("a'*X*b", "X", "(70)"), ("x'*B*x", "x", "(81)"), ("tr(X*A)", "X", "(100)"),
    ("det(X)", "X", "(49)"), ("logdet(X)", "X", "(57)"), ("norm2(X)^2", "X", "(132)"),
    ("a'*inv(X)*b", "X", "(61)"), ("tr(A*inv(X)*B)", "X", "(124)"),
])
def test_identities_name_their_cookbook_equation(expr, wrt, source):
    kinds = {n: "vector" for n in ("a", "b") if n in expr}
    steps = ricci.derivative(expr, wrt, kinds=kinds or None).steps
    ident = step_with(steps, "identity")
    assert source in ident.source and "Matrix Cookbook" in ident.source
    assert ident.after.text == steps[-1].after.text


def test_trivial_steps_fold_away():
    steps = ricci.derivative(LSQ, "theta").steps
    assert all(not s.trivial for s in steps.shown())
    nested = ricci.derivative("exp(x1*x2^2)", ["x1", "x2"]).steps
    hidden = [s for s in nested if s.trivial]
    assert hidden, "the nested chain rules fold their decomposition away"
    assert len(nested.text().splitlines()) < len(nested.text(full=True).splitlines())


def test_every_shown_result_is_ricci_s_answer_for_its_expression():
    # the steps never compute on their own: a step about an expression of the original
    # variables states exactly ricci's derivative of that expression
    d = ricci.derivative("sin(A*x)", "x")
    for s in d.steps:
        if s.rule in ("sum rule", "linearity", "identity") and s.before is not None and s.after is not None \
                and "e" not in s.before.text:
            assert s.after.text == ricci.derivative(s.before.text, "x").text


def test_long_derivations_stay_bounded():
    text = "sum(log(1 + exp(-y.*(X*w)))) + norm2(tanh(A*w))^2 + x'*B*w"
    steps = ricci.derivative(text, "w").steps
    assert 3 < len(steps) <= 60 and max(s.depth for s in steps) <= 6


# =================================================================================================
# Acceptance 3: tensors as the lecture writes them, and their Kronecker forms
# =================================================================================================
def test_row10_index_notation_as_the_lecture():
    d = ricci.derivative("A*x", "A")
    assert index_form(d).text == "∂f_i/∂A_jk = δ_ij x_k"
    assert index_form(d).latex == r"\frac{\partial f_{i}}{\partial A_{jk}} = \delta_{ij} x_{k}"


def test_row11_index_notation_as_the_lecture():
    # The lecture's δ_jp R_iq + δ_jq R_ip, in the order of the answer's text (δ is symmetric):
    # the page shows the MathML of this form beside d.text, and the two must read alike.
    d = ricci.derivative("R'*R", "R")
    assert index_form(d, "K").text == "∂K_pq/∂R_ij = δ_qj R_ip + δ_pj R_iq" == d.text.replace("∂f", "∂K")


def vec_jacobian(d, values):
    """The tensor reshaped to ∂vec F/∂vec X (vec stacks columns: Fortran order)."""
    t = np.asarray(d.evaluate(values))
    n_f = len(d.expression.shape)
    return t.reshape(int(np.prod(t.shape[:n_f], dtype=int)), -1, order="F")


def test_row10_kronecker_form_evaluates_to_the_tensor():
    d = ricci.derivative("A*x", "A")
    k = kronecker_form(d)
    assert k.text == "x' ⊗ I_m"
    v = random_values("A*x")
    M = v["A"].shape[0]
    lecture = np.kron(v["x"][None, :], np.eye(M))  # ∂(Ax)/∂vec(A) = x' ⊗ I
    assert np.allclose(vec_jacobian(d, v), lecture, rtol=1e-13)
    assert np.allclose(k.evaluate(v), lecture, rtol=1e-13)


def test_row11_kronecker_form_evaluates_to_the_tensor():
    d = ricci.derivative("R'*R", "R")
    k = kronecker_form(d)
    assert k.text == "I_n ⊗ R' + (R' ⊗ I_n)*K_(m,n)"
    v = random_values("R'*R")
    R = v["R"]
    M, N = R.shape
    K = commutation_matrix(M, N)
    lecture = np.kron(np.eye(N), R.T) + np.kron(R.T, np.eye(N)) @ K  # d vec(R'R) = (I⊗R' + (R'⊗I)K) d vec R
    assert np.allclose(vec_jacobian(d, v), lecture, rtol=1e-13)
    assert np.allclose(k.evaluate(v), lecture, rtol=1e-13)


@pytest.mark.parametrize("expr,wrt", [("X*A", "X"), ("X'*A", "X"), ("inv(X)", "X"), ("X'*B*X", "X"),
                                      ("x'*A", "A"), ("X", "X"), ("A*X*B", "X"), ("x*x'", "x")])
def test_kronecker_forms_evaluate_to_the_tensor(expr, wrt):
    d = ricci.derivative(expr, wrt)
    k = kronecker_form(d)
    assert k is not None, f"no Kronecker form for {expr}"
    v = random_values(expr)
    assert np.allclose(k.evaluate(v), vec_jacobian(d, v), rtol=1e-11, atol=1e-12)


def test_no_kronecker_form_where_there_is_none():
    assert kronecker_form(ricci.derivative("exp(X)", "X")) is None  # a diagonal of vec(exp(X))
    assert kronecker_form(ricci.derivative("x'*A*x", "x")) is None  # not a tensor


def test_commutation_matrix():
    X = RNG.normal(size=(3, 5))
    K = commutation_matrix(3, 5)
    assert np.array_equal(K @ X.reshape(-1, order="F"), X.T.reshape(-1, order="F"))


def test_tensor_steps_write_out_the_entries_and_the_shape_in_words():
    steps = ricci.derivative("A*x", "A").explain(dims={"m": "M", "n": "N"})
    assert step_with(steps, "entries").formula.text == "f_i = Σ_a A_ia x_a"
    assert "an M × (M × N) tensor" in steps[0].note.text
    assert step_with(steps, "vectorised").formula.text.startswith("∂vec f/∂vec A = x' ⊗ I_M")
    K = ricci.derivative("R'*R", "R").explain("K", dims={"m": "M", "n": "N"})
    assert step_with(K, "entries").formula.text == "K_pq = Σ_a R_ap R_aq"
    assert "(N × N) × (M × N) tensor" in K[0].note.text


# =================================================================================================
# Layouts and the symmetric gradient
# =================================================================================================
def test_denominator_layout_transposes_gradients_and_jacobians_only():
    g = ricci.derivative(LSQ, "theta")
    col = g.display(layout="denominator")
    assert col.shape == ["n", "1"] and "column" in col.note
    v = random_values(LSQ)
    before = g.evaluate(v)
    assert np.allclose(ricci.evaluate(col.text, v), before)  # the displayed column has the numbers
    assert np.array_equal(g.evaluate(v), before)  # evaluate never changes
    assert g.text_in("numerator") == g.text
    J = ricci.derivative("sin(A*x)", "x")
    vj = random_values("sin(A*x)")
    shown = J.display(layout="denominator")
    assert shown.shape == ["n", "m"]
    assert np.allclose(ricci.evaluate(shown.text, vj), J.evaluate(vj).T)
    assert np.allclose(shown.evaluate(vj), J.evaluate(vj).T)
    M = ricci.derivative("a'*X*b", "X", kinds={"a": "vector", "b": "vector"})
    assert M.display(layout="denominator").text == M.text  # a matrix's shape in both layouts
    with pytest.raises(ricci.BadValueError):
        g.display(layout="sideways")


def test_symmetric_gradient_of_logdet():
    d = ricci.derivative("logdet(W)", "W", kinds={"W": "symmetric matrix"})
    s = d.display(symmetric="gradient")
    assert SYMMETRIC_NOTE in s.note
    n = 4
    B = RNG.normal(size=(n, n))
    W = B @ B.T + n * np.eye(n)
    G = np.linalg.inv(W)
    expected = 2 * G - np.diag(np.diag(G))  # Matrix Cookbook (141)
    assert np.allclose(s.evaluate({"W": W}), expected)
    assert np.allclose(ricci.evaluate(s.text, {"W": W}, {"W": "symmetric matrix"}), expected)
    # …and it is the derivative by the free entries W_ij (i ≤ j), each moving W_ij and W_ji
    h = 1e-6
    for i, j in [(0, 0), (0, 2), (3, 1)]:
        E = np.zeros((n, n))
        E[i, j] = E[j, i] = 1.0
        fd = (np.linalg.slogdet(W + h * E)[1] - np.linalg.slogdet(W - h * E)[1]) / (2 * h)
        assert np.isclose(fd, expected[i, j], rtol=1e-6)
    assert np.allclose(d.evaluate({"W": W}), G)  # the default stays unconstrained


def test_symmetric_gradient_needs_a_symmetric_variable():
    with pytest.raises(ricci.KindError):
        ricci.derivative("logdet(X)", "X").display(symmetric="gradient")


# =================================================================================================
# LaTeX and MathML
# =================================================================================================
def test_bold_vectors_latex_as_the_lecture():
    d = ricci.derivative(LSQ, "theta")
    bold = d.latex_with(bold_vectors=True, equation=True)
    assert r"\boldsymbol{\theta}" in bold and r"\mathbf{y}" in bold and r"\boldsymbol{\Phi}" in bold
    assert bold.endswith(r"\in \mathbb{R}^{1 \times n}")
    assert r"\mathbf" not in d.latex_with()
    t = ricci.derivative("t^2*sin(t)", "t", kinds={"t": "scalar"}).latex_with(bold_vectors=True)
    assert r"\mathbf" not in t  # scalars stay plain


@pytest.mark.parametrize("text,latex", [
    ("inv(X)'", r"X^{-\top}"), ("inv(A')", r"\left(A^\top\right)^{-1}"), ("(A')^2", r"\left(A^\top\right)^{2}"),
    ("tr(A)", r"\operatorname{tr}\left(A\right)"), ("det(X)", r"\det\left(X\right)"), ("x.*y", r"x \odot y"),
])
def test_latex_has_no_double_superscripts(text, latex):
    from ricci.language.parser import parse_text
    from ricci.printing.latex import ast_to_latex

    got = ast_to_latex(parse_text(text))
    assert got == latex
    ET.fromstring(latex2mathml.converter.convert(got))


def test_mathml_of_an_answer():
    m = ricci.derivative("x'*B*x", "x").mathml
    root = ET.fromstring(m)
    assert root.tag == "{http://www.w3.org/1998/Math/MathML}math"
    assert "⊤" in m and "<mi>B</mi>" in m


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(expressions(max_depth=3))
def test_mathml_and_latex_of_random_expressions(g):
    e = ricci.parse(g.text)
    ET.fromstring(math(ast_to_mathml(e.tree)))
    ET.fromstring(e.mathml)
    ET.fromstring(latex2mathml.converter.convert(e.latex))


# =================================================================================================
# Jupyter and the command line
# =================================================================================================
def test_jupyter_reprs():
    e = ricci.parse(LSQ)
    d = ricci.derivative(LSQ, "theta")
    for obj in (e, d, d.steps, d.display(layout="denominator")):
        assert obj._repr_latex_().startswith("$$")
        assert obj._repr_markdown_()
        ET.fromstring("<div>" + obj._repr_html_() + "</div>")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "ricci.cli", *args], capture_output=True, text=True)


def test_cli_steps_layout_and_mathml():
    r = run_cli("diff", LSQ, "--wrt", "theta", "--steps", "--name", "L")
    assert r.returncode == 0 and "Chain rule" in r.stdout and "L(e) = norm2(e)^2" in r.stdout
    r = run_cli("diff", LSQ, "--wrt", "theta", "--layout", "denominator")
    assert r.returncode == 0 and "n × 1" in r.stdout
    assert same_numbers(r.stdout.splitlines()[0], "-2*Phi'*(y - Phi*theta)", {})
    r = run_cli("diff", "x'*B*x", "--wrt", "x", "--format", "mathml")
    ET.fromstring(r.stdout)
    r = run_cli("diff", "A*x", "--wrt", "A", "--steps", "--format", "latex")
    latex2mathml.converter.convert(r.stdout.strip())
    r = run_cli("diff", "x'*B*x", "--wrt", "x", "--steps", "--format", "json")
    assert r.returncode == 0 and '"rule": "shape"' in r.stdout


def test_explain_function_and_method_agree():
    d = ricci.derivative(LSQ, "theta")
    assert explain(d).text() == d.steps.text() == d.explain().text()
