"""``d.check()`` and ``ricci diff --check`` (ricci.numeric_check): derivatives against finite
differences at random points that honour kinds and domains.

The check itself is checked: it passes right answers with a tiny error, it catches a wrong
number and a wrong text answer, its points keep every kind and domain, its finite differences
are accurate, and every example of the lecture (shared/LECTURE_CASES.md) passes it with a
relative error below 1e-6 through the command line.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import ricci
from ricci import numeric_check as nc
from ricci.cli import main

# -- the report ------------------------------------------------------------------------------------


def test_a_right_derivative_passes_with_a_small_error():
    r = ricci.derivative("x'*B*x", "x").check(seed=0)
    assert r.passed and bool(r)
    assert r.trials == 3 and len(r.points) == 3 and not r.given
    assert r.max_relative_error < 1e-9
    assert r.text_checked
    assert re.fullmatch(r"checked numerically: max relative error (0|\de-\d\d) over 3 random points", str(r))


def test_the_same_seed_gives_the_same_points():
    d = ricci.derivative("sum(exp(A*x))", "A")
    a, b = d.check(seed=4), d.check(seed=4)
    for p, q in zip(a.points, b.points):
        assert p.keys() == q.keys() and all(np.array_equal(p[k], q[k]) for k in p)
    assert a.max_relative_error == b.max_relative_error


def test_a_wrong_number_is_caught():
    d = ricci.derivative("sum(sin(x))", "x")
    right = d.evaluate
    d.evaluate = lambda values: right(values) * (1 + 1e-4)  # a slip of one part in 10⁴
    r = d.check(seed=1)
    assert not r.passed
    assert 1e-5 < r.max_relative_error < 1e-3
    assert str(r).startswith("checked numerically: MISMATCH: max relative error 1e-04 over 3 random points")
    assert "order 1: 1e-04" in str(r)


def test_a_wrong_second_order_is_caught_at_its_level():
    d = ricci.derivative("x'*B*x", "x", 2)
    d.evaluate = lambda values: np.asarray(values["B"])  # B instead of B + B'
    r = d.check(seed=2)
    assert not r.passed and r.results[0].level_errors[0] < 1e-9 and r.results[0].level_errors[1] > 0.1


def test_a_wrong_text_answer_is_caught():
    d = ricci.derivative("x'*B*x", "x")
    d.as_expression = lambda: ricci.parse("x'*B", {"B": "matrix"})  # the text a person reads
    r = d.check(seed=3)
    assert not r.passed and r.results[0].level_errors[0] < 1e-9 and r.results[0].text_error > 0.1
    assert "the text answer" in str(r)


def test_given_values_are_used():
    values = {"x": np.array([1.0, 2.0, 3.0]), "B": np.arange(9.0).reshape(3, 3)}
    r = ricci.derivative("x'*B*x", "x").check(values)
    assert r.passed and r.given and r.trials == 1
    assert str(r).endswith("over 1 given point")
    assert np.array_equal(r.points[0]["B"], values["B"])
    two = ricci.derivative("x'*B*x", "x").check([values, {"x": [1, 0, 0], "B": np.eye(3)}])
    assert two.passed and two.trials == 2 and str(two).endswith("over 2 given points")


def test_given_values_outside_the_domain_are_refused():
    with pytest.raises(ricci.BadValueError, match="cannot check the derivative at the given values"):
        ricci.derivative("log(a)", "a").check({"a": 0.001})
    with pytest.raises(ricci.UnknownNameError):
        ricci.derivative("log(a)", "a").check({"b": 1.0})
    with pytest.raises(ricci.BadValueError, match="trials"):
        ricci.derivative("log(a)", "a").check(trials=0)


def test_an_expression_defined_nowhere_is_a_clear_error():
    with pytest.raises(ricci.BadValueError, match="found no point"):
        ricci.derivative("log(-exp(a))", "a").check(seed=0)


@pytest.mark.parametrize("text,wrt,order", [
    ("1e12*x'*x", "x", 1), ("exp(30)*sum(x)", "x", 1), ("expm1(exp(2)*exp(2))*sum(sin(x))", "x", 2),
    ("1e40*a^3", "a", 2), ("x'*A*x*1e15 + 1e15", "x", 1),
])
def test_a_function_of_large_values_is_checked_as_any_other(text, wrt, order):
    # a value is "too large" only near the float range's end: a scale of 1e12 or 1e40 is not a
    # reason to refuse every point (it was, above 1e10), the differences' own (relative) error
    # estimate judges the point; and a wrong number is still caught at that scale
    d = ricci.derivative(text, wrt, order)
    r = d.check(seed=0)
    assert r.passed and r.max_relative_error < 1e-6, r
    right = d.evaluate
    d.evaluate = lambda values: right(values) * (1 + 1e-4)  # a slip of one part in 10⁴
    r = d.check(seed=0)
    assert not r.passed and 1e-5 < r.max_relative_error < 1e-3, r


def test_values_near_the_float_range_end_are_still_refused():
    with pytest.raises(ricci.BadValueError, match="a value is too large"):
        ricci.derivative("1e200*x'*x", "x").check(seed=0)


# -- points that honour kinds and domains ------------------------------------------------------------


def test_points_keep_kinds_and_give_every_dimension_its_own_size():
    e = ricci.parse("x'*A*y + tr(W*C) + a", {"W": "symmetric matrix"})
    for seed in range(20):
        v = nc.find_point(e, np.random.default_rng(seed))
        sizes = {}
        for name, var in e.variables.items():
            for dim, n in zip(var.dims, np.shape(v[name])):
                assert sizes.setdefault(dim, n) == n
        assert len(set(sizes.values())) == len(sizes) == 3, sizes
        assert np.array_equal(v["W"], v["W"].T)
        assert isinstance(v["a"], float) and np.ndim(v["x"]) == 1 and np.ndim(v["A"]) == 2


@pytest.mark.parametrize("text, name, need", [
    ("log(x)", "x", "positive"),
    ("sum(sqrt(a - b*x))", "a", "positive"),
    ("sum(sqrt(a - b*x))", "b", "negative"),
    ("log(-a)", "a", "negative"),
    ("x ./ y", "y", "positive"),
    ("a^0.5 + b^(-1)", "b", "positive"),
    ("sum(arcsin(x))", "x", "small"),
    ("logdet(C)", "C", "conditioned"),
    ("tr(inv(-C))", "C", "-conditioned"),
    ("log(u) where u = exp(a) + b", "b", "positive"),
])
def test_requirements_are_read_off_the_expression(text, name, need):
    assert need in nc.requirements(ricci.parse(text))[name]


@pytest.mark.parametrize("text, kinds", [
    ("sum(log(x)) + sqrt(a) + b^1.5", None),
    ("logdet(C) + tr(inv(W)) + det(C)", {"W": "symmetric matrix"}),
    ("sum(arcsin(x)) + sum(arccos(0.5*y))", None),
    ("tr(inv(A'*A))", None),
    ("sum(log(exp(x) - 0.5))", None),
])
def test_every_point_is_inside_the_domain(text, kinds):
    e = ricci.parse(text, kinds)
    for seed in range(10):
        v = nc.find_point(e, np.random.default_rng(seed))
        assert nc.probe(e, v).problem is None
        assert np.isfinite(ricci.evaluate(text, v, kinds))


def test_matrices_under_inv_are_well_conditioned():
    e = ricci.parse("logdet(C) + tr(inv(W))", {"W": "symmetric matrix"})
    for seed in range(10):
        v = nc.sample_point(e, np.random.default_rng(seed))
        assert np.linalg.cond(v["C"]) < 10 and np.linalg.det(v["C"]) > 0
        assert np.linalg.eigvalsh(v["W"]).min() >= 1 - 1e-12


# -- finite differences ---------------------------------------------------------------------------


def test_richardson_differences_are_accurate():
    x = np.array([0.3, -0.7, 1.1])
    fd = nc.finite_difference(lambda v: np.exp(v["x"]) * np.sin(v["x"][0]), "x", {"x": x})
    exact = np.diag(np.exp(x) * np.sin(x[0]))
    exact[:, 0] += np.exp(x) * np.cos(x[0])
    assert np.max(np.abs(fd.value - exact)) < 1e-11
    assert fd.ok and fd.uncertainty < 1e-9


def test_symmetric_directions_measure_the_symmetrised_derivative():
    W = np.array([[2.0, 0.3], [0.3, 1.0]])
    G = np.array([[1.0, 2.0], [3.0, 4.0]])  # d/dW of sum(G .* W) is G
    fd = nc.finite_difference(lambda v: np.sum(G * v["W"]), "W", {"W": W}, symmetric=True)
    assert np.allclose(fd.value, nc.symmetrise_last(G)) and np.allclose(fd.value, [[1, 5], [5, 4]])


def test_a_step_across_a_kink_is_refused():
    # relu(x - 1e-5) has its kink within the first steps: the steps shrink until they stay on one side
    point = {"x": 1e-5 + 1e-4}
    fd = nc.finite_difference(lambda v: np.maximum(v["x"] - 1e-5, 0.0), "x", point,
                              accept=lambda v: v["x"] > 1e-5)
    assert fd.ok and abs(fd.value - 1.0) < 1e-12
    fd = nc.finite_difference(lambda v: np.maximum(v["x"] - 1e-5, 0.0), "x", {"x": 1e-5 + 1e-9},
                              accept=lambda v: v["x"] > 1e-5)
    assert not fd.ok


# -- every kind of wrt, orders 1 and 2 ----------------------------------------------------------------


@pytest.mark.parametrize("text, wrt, order, kinds", [
    ("a*exp(b*a)", "a", 2, None),
    ("sum(tanh(A*x))", "x", 2, None),
    ("y'*sigmoid(A*x)", "A", 2, None),
    ("logdet(W) + x'*W'*y", "W", 1, {"W": "symmetric matrix"}),
    ("logdet(W) + x'*W*W*x", "W", 2, {"W": "symmetric matrix"}),
    ("x1^2*x2 where x1 = s*t, x2 = s + t", ["s", "t"], 2, None),
    ("sum(relu(A*x)) + norm1(x)", "x", 1, None),
    ("sum(abs(A*x))", "A", 2, None),
    ("x'*inv(C)*x", "C", 2, None),
    ("det(C)", "C", 3, None),
])
def test_check_passes_on_right_answers(text, wrt, order, kinds):
    r = ricci.derivative(text, wrt, order, kinds).check(seed=7)
    assert r.passed, str(r)
    assert r.max_relative_error < 1e-7


def test_the_text_of_a_tensor_answer_is_not_evaluated():
    r = ricci.derivative("A*x", "A").check(seed=0)
    assert r.passed and not r.text_checked


# -- the command line: every example of the lecture ---------------------------------------------------

#: shared/LECTURE_CASES.md, rows 1–18: (row, expression, wrt, order, --kind declarations)
LECTURE = [
    (1, "x'*a", "x", 1, ["a=vector"]),
    (2, "a'*x", "x", 1, ["a=vector"]),
    (3, "a'*X*b", "X", 1, ["a=vector", "b=vector"]),
    (4, "x'*B*x", "x", 1, []),
    (5, "(x - A*s)'*W*(x - A*s)", "s", 1, ["W=symmetric matrix"]),
    (6, "A*x", "x", 1, []),
    (7, "norm2(y - Phi*theta)^2", "theta", 1, []),
    (8, "norm2(y - Phi*theta)^2", "theta", 2, []),
    (9, "x'*B*x", "x", 2, []),
    (10, "A*x", "A", 1, []),
    (11, "R'*R", "R", 1, []),
    (12, "exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)", "t", 1, ["t=scalar"]),
    (13, "[t*cos(t); t*sin(t)]", "t", 1, ["t=scalar"]),
    (14, "exp(x1*x2^2)", "x1,x2", 1, []),
    (15, "x1^2*x2 where x1 = s*t, x2 = s + t", "s,t", 1, []),
    (16, "t^2*sin(t)", "t", 1, ["t=scalar"]),
    (16, "sum(sin(x))", "x", 1, []),
    (16, "exp(t*y)", "t", 1, ["t=scalar"]),
    (16, "sin(A*x)", "x", 1, []),
    (17, "x'*A*x", "x", 2, []),
    (18, "x1^2 - x2^2", "x1,x2", 2, []),
]


@pytest.mark.parametrize("row, text, wrt, order, kinds", LECTURE, ids=[f"row{c[0]:02d}-{c[2]}-{c[3]}" for c in LECTURE])
def test_check_on_every_lecture_example(row, text, wrt, order, kinds, capsys):
    argv = ["diff", text, "--wrt", wrt, "--order", str(order), "--check"]
    for k in kinds:
        argv += ["--kind", k]
    assert main(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    m = re.fullmatch(r"checked numerically: max relative error (\S+) over 3 random points", out[-1])
    assert m, out[-1]
    assert float(m.group(1)) < 1e-6


def test_check_exits_1_on_a_mismatch(capsys, monkeypatch):
    from ricci.derivation import Derivative

    right = Derivative.evaluate
    monkeypatch.setattr(Derivative, "evaluate", lambda self, v: 2 * np.asarray(right(self, v)))
    assert main(["diff", "sum(exp(x))", "--wrt", "x", "--check"]) == 1
    assert "checked numerically: MISMATCH" in capsys.readouterr().out


def test_a_variable_named_I_keeps_its_transpose():
    # undeclared, I is the identity and not a variable (below); declared, it is one
    d = ricci.derivative("logdet(C*C' + I)", "I", kinds={"I": "matrix"})
    assert d.text == "inv(C*C' + I)'"
    assert d.check(seed=0).passed, d.text


def test_differentiating_by_the_identity_says_how_to_make_it_a_variable():
    with pytest.raises(ricci.UnknownNameError) as e:
        ricci.derivative("logdet(C*C' + I)", "I")
    assert "I is the identity there; its variables are C" in str(e.value)
    assert str(e.value).endswith("kinds={'I': 'matrix'}")
    assert e.value.pretty("cli").endswith("--kind I=matrix")


def test_a_binding_keeps_one_shape():
    # known_core_bugs.md #5, fixed: a where binding once named a constant used with two shapes
    d = ricci.derivative("logdet((C + alpha)'*(C + alpha) + I)", "alpha", 2)
    assert d.check(seed=0).passed, d.text
