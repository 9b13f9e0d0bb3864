"""Every construct of the input language (ARCHITECTURE §2): parsed, then evaluated.

Each construct has a *parse* test (canonical text, each variable's kind, dimensions and the
source of its kind, the value's shape) and an *evaluate* test against NumPy written by hand.
The variables have a different size for every dimension — x, u ∈ R³, y ∈ R⁴, z ∈ R⁵,
A, D ∈ R^{4×3}, B ∈ R^{3×5}, C, P ∈ R^{4×4} — so that a transposition cannot pass by accident.
The elementwise functions are tested by a parametrisation over ``ricci.functions.FUNCTIONS``, so
a new function is covered (and fails until it has a NumPy reference here).
"""

from __future__ import annotations

import math
import zlib
from types import SimpleNamespace

import numpy as np
import pytest

import ricci
from ricci.functions import ALIASES, FUNCTIONS
from ricci.language.kinds import SCALAR_GREEK

_rng = np.random.default_rng(20240607)


def _spd(n: int) -> np.ndarray:
    m = _rng.normal(size=(n, n))
    return m @ m.T + n * np.eye(n)


_S = _rng.normal(size=(3, 3))

#: One value per variable name used below; an expression gets the values of its own variables.
VALUES = {
    "a": 0.7,
    "b": 1.3,
    "c": -0.4,
    "t": 0.9,
    "x": _rng.normal(size=3),
    "u": _rng.normal(size=3),
    "y": _rng.normal(size=4),
    "z": _rng.normal(size=5),
    "A": _rng.normal(size=(4, 3)),
    "D": _rng.normal(size=(4, 3)),
    "B": _rng.normal(size=(3, 5)),
    "C": _rng.normal(size=(4, 4)) + 4 * np.eye(4),
    "P": _spd(4),
    "S": (_S + _S.T) / 2,
}
V = SimpleNamespace(**VALUES)


def values_of(e: ricci.Expression) -> dict:
    return {n: VALUES[n] for n in e.variables}


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


#: Hand-written NumPy for every elementwise function of the table.
ELEMENTWISE_REFERENCE = {
    "exp": np.exp,
    "log": np.log,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "arcsin": np.arcsin,
    "arccos": np.arccos,
    "arctan": np.arctan,
    "tanh": lambda v: (np.exp(v) - np.exp(-v)) / (np.exp(v) + np.exp(-v)),
    "sqrt": lambda v: v**0.5,
    "abs": lambda v: np.where(v < 0, -v, v),
    "sign": lambda v: np.where(v > 0, 1.0, np.where(v < 0, -1.0, 0.0)),
    "relu": lambda v: np.where(v > 0, v, 0.0),
    "step": lambda v: np.where(v > 0, 1.0, 0.0),
    "sigmoid": _sigmoid,
    # issue 17's vocabulary (log1p's domain u > -1 holds for the arguments in ±0.9 drawn below)
    "softplus": lambda v: np.log(1.0 + np.exp(v)),
    "log1p": lambda v: np.log(1.0 + v),
    "expm1": lambda v: np.exp(v) - 1.0,
    "cosh": lambda v: (np.exp(v) + np.exp(-v)) / 2,
    "sinh": lambda v: (np.exp(v) - np.exp(-v)) / 2,
    "erf": np.vectorize(math.erf),
}
ELEMENTWISE = sorted(n for n, f in FUNCTIONS.items() if f.family == "elementwise")
#: Functions defined only for positive arguments, or only on [-1, 1].
POSITIVE_ONLY = {"log", "sqrt"}

# ------------------------------------------------------------------------------------------------
# The table: (input, canonical text, value's shape, variables as Variable.describe(), NumPy).
# ------------------------------------------------------------------------------------------------

CASES = [
    # names and the naming rule
    ("x", "x", ("n",), ["x: vector (n), assumed"], lambda v: v.x),
    ("A", "A", ("m", "n"), ["A: matrix (m×n), assumed"], lambda v: v.A),
    ("a", "a", (), ["a: scalar, assumed"], lambda v: v.a),
    # numbers
    ("2", "2", (), [], lambda v: 2.0),
    ("0.5", "0.5", (), [], lambda v: 0.5),
    ("1e-3", "0.001", (), [], lambda v: 1e-3),
    (".25", "0.25", (), [], lambda v: 0.25),
    ("2.50", "2.5", (), [], lambda v: 2.5),
    ("1E3", "1000", (), [], lambda v: 1000.0),
    ("1e20", "1e+20", (), [], lambda v: 1e20),
    # transpose
    ("A'", "A'", ("n", "m"), ["A: matrix (m×n), assumed"], lambda v: v.A.T),
    ("A.T", "A'", ("n", "m"), ["A: matrix (m×n), assumed"], lambda v: v.A.T),
    ("x'", "x'", ("n",), ["x: vector (n), assumed"], lambda v: v.x),
    ("A.T.T", "A''", ("m", "n"), ["A: matrix (m×n), assumed"], lambda v: v.A),
    ("(A*x)'", "(A*x)'", ("m",), ["A: matrix (m×n), assumed", "x: vector (n), assumed"],
     lambda v: v.A @ v.x),
    # sum, difference, unary minus; a scalar broadcasts
    ("x + u", "x + u", ("n",), ["x: vector (n), assumed", "u: vector (n), assumed"],
     lambda v: v.x + v.u),
    ("A - D", "A - D", ("m", "n"), ["A: matrix (m×n), assumed", "D: matrix (m×n), assumed"],
     lambda v: v.A - v.D),
    ("1 + exp(x)", "1 + exp(x)", ("n",), ["x: vector (n), assumed"], lambda v: 1 + np.exp(v.x)),
    ("A - a", "A - a", ("m", "n"), ["A: matrix (m×n), assumed", "a: scalar, assumed"],
     lambda v: v.A - v.a),
    ("-x", "-x", ("n",), ["x: vector (n), assumed"], lambda v: -v.x),
    ("--a", "-(-a)", (), ["a: scalar, assumed"], lambda v: v.a),
    ("+a", "a", (), ["a: scalar, assumed"], lambda v: v.a),
    ("a - -b", "a - (-b)", (), ["a: scalar, assumed", "b: scalar, assumed"], lambda v: v.a + v.b),
    ("x - u - x", "x - u - x", ("n",), ["x: vector (n), assumed", "u: vector (n), assumed"],
     lambda v: -v.u),
    ("x - (u - x)", "x - (u - x)", ("n",), ["x: vector (n), assumed", "u: vector (n), assumed"],
     lambda v: 2 * v.x - v.u),
    # products: matrix product, scalar times anything, inner and outer products
    ("A*x", "A*x", ("m",), ["A: matrix (m×n), assumed", "x: vector (n), assumed"],
     lambda v: v.A @ v.x),
    ("A @ x", "A*x", ("m",), ["A: matrix (m×n), assumed", "x: vector (n), assumed"],
     lambda v: v.A @ v.x),
    ("A*B", "A*B", ("m", "k"), ["A: matrix (m×n), assumed", "B: matrix (n×k), assumed"],
     lambda v: v.A @ v.B),
    ("y'*A", "y'*A", ("n",), ["y: vector (m), assumed", "A: matrix (m×n), assumed"],
     lambda v: v.y @ v.A),
    ("A'*y", "A'*y", ("n",), ["A: matrix (m×n), assumed", "y: vector (m), assumed"],
     lambda v: v.A.T @ v.y),
    ("x'*u", "x'*u", (), ["x: vector (n), assumed", "u: vector (n), assumed"],
     lambda v: v.x @ v.u),
    ("y*x'", "y*x'", ("n", "k"), ["y: vector (n), assumed", "x: vector (k), assumed"],
     lambda v: np.outer(v.y, v.x)),
    ("a*A", "a*A", ("m", "n"), ["a: scalar, assumed", "A: matrix (m×n), assumed"],
     lambda v: v.a * v.A),
    ("x*a", "x*a", ("n",), ["x: vector (n), assumed", "a: scalar, assumed"], lambda v: v.x * v.a),
    ("y'*A*x", "y'*A*x", (), ["y: vector (m), assumed", "A: matrix (m×n), assumed",
                              "x: vector (n), assumed"], lambda v: v.y @ v.A @ v.x),
    ("A*(B*z)", "A*(B*z)", ("m",), ["A: matrix (m×n), assumed", "B: matrix (n×k), assumed",
                                    "z: vector (k), assumed"], lambda v: v.A @ (v.B @ v.z)),
    # division by a scalar
    ("A/a", "A/a", ("m", "n"), ["A: matrix (m×n), assumed", "a: scalar, assumed"],
     lambda v: v.A / v.a),
    ("x / (a^2 + 1)", "x/(a^2 + 1)", ("n",), ["x: vector (n), assumed", "a: scalar, assumed"],
     lambda v: v.x / (v.a**2 + 1)),
    ("a/b/a", "a/b/a", (), ["a: scalar, assumed", "b: scalar, assumed"], lambda v: v.a / v.b / v.a),
    # elementwise product, quotient and power
    ("x .* u", "x.*u", ("n",), ["x: vector (n), assumed", "u: vector (n), assumed"],
     lambda v: v.x * v.u),
    ("A ./ D", "A./D", ("m", "n"), ["A: matrix (m×n), assumed", "D: matrix (m×n), assumed"],
     lambda v: v.A / v.D),
    ("x .^ 2", "x.^2", ("n",), ["x: vector (n), assumed"], lambda v: v.x**2),
    ("A.^3", "A.^3", ("m", "n"), ["A: matrix (m×n), assumed"], lambda v: v.A**3),
    ("exp(x).^a", "exp(x).^a", ("n",), ["x: vector (n), assumed", "a: scalar, assumed"],
     lambda v: np.exp(v.x) ** v.a),
    ("2.^x", "2.^x", ("n",), ["x: vector (n), assumed"], lambda v: 2.0**v.x),
    ("a.*x", "a.*x", ("n",), ["a: scalar, assumed", "x: vector (n), assumed"], lambda v: v.a * v.x),
    ("x.*u + x./u", "x.*u + x./u", ("n",), ["x: vector (n), assumed", "u: vector (n), assumed"],
     lambda v: v.x * v.u + v.x / v.u),
    # power of a scalar; precedence: ' then ^ then unary minus then * /
    ("a^2", "a^2", (), ["a: scalar, assumed"], lambda v: v.a**2),
    ("a**2", "a^2", (), ["a: scalar, assumed"], lambda v: v.a**2),
    ("a^-1", "a^(-1)", (), ["a: scalar, assumed"], lambda v: 1 / v.a),
    ("a**-b", "a^(-b)", (), ["a: scalar, assumed", "b: scalar, assumed"], lambda v: v.a**-v.b),
    ("-a^2", "-a^2", (), ["a: scalar, assumed"], lambda v: -(v.a**2)),
    ("(-a)^2", "(-a)^2", (), ["a: scalar, assumed"], lambda v: v.a**2),
    ("2^3^2", "2^3^2", (), [], lambda v: 64.0),
    ("2^(3^2)", "2^(3^2)", (), [], lambda v: 512.0),
    ("a'^2", "a'^2", (), ["a: scalar, assumed"], lambda v: v.a**2),
    ("2*a^2", "2*a^2", (), ["a: scalar, assumed"], lambda v: 2 * v.a**2),
    ("(x'*x)^b", "(x'*x)^b", (), ["x: vector (n), assumed", "b: scalar, assumed"],
     lambda v: (v.x @ v.x) ** v.b),
    ("1 + 2*3", "1 + 2*3", (), [], lambda v: 7.0),
    ("(1 + 2)*3", "(1 + 2)*3", (), [], lambda v: 9.0),
    ("-x'*u", "-x'*u", (), ["x: vector (n), assumed", "u: vector (n), assumed"],
     lambda v: -(v.x @ v.u)),
    # reductions
    ("sum(x)", "sum(x)", (), ["x: vector (n), assumed"], lambda v: v.x.sum()),
    ("sum(A)", "sum(A)", (), ["A: matrix (m×n), assumed"], lambda v: v.A.sum()),
    ("sum(a)", "sum(a)", (), ["a: scalar, assumed"], lambda v: v.a),
    ("tr(C)", "tr(C)", (), ["C: matrix (n×n), assumed"], lambda v: np.trace(v.C)),
    ("trace(C)", "tr(C)", (), ["C: matrix (n×n), assumed"], lambda v: np.trace(v.C)),
    ("tr(A*B*B'*A')", "tr(A*B*B'*A')", (), ["A: matrix (m×n), assumed",
                                              "B: matrix (n×k), assumed"],
     lambda v: np.trace(v.A @ v.B @ v.B.T @ v.A.T)),
    ("norm2(x)", "norm2(x)", (), ["x: vector (n), assumed"], lambda v: np.sqrt(np.sum(v.x**2))),
    ("norm2(A)", "norm2(A)", (), ["A: matrix (m×n), assumed"],
     lambda v: np.sqrt(np.sum(v.A**2))),  # Frobenius
    ("norm1(x)", "norm1(x)", (), ["x: vector (n), assumed"], lambda v: np.sum(np.abs(v.x))),
    ("norm1(A)", "norm1(A)", (), ["A: matrix (m×n), assumed"],
     lambda v: np.sum(np.abs(v.A))),  # entrywise, not the operator 1-norm
    # matrix functions
    ("det(C)", "det(C)", (), ["C: matrix (n×n), assumed"], lambda v: np.linalg.det(v.C)),
    ("logdet(P)", "logdet(P)", (), ["P: matrix (n×n), assumed"],
     lambda v: np.log(np.linalg.det(v.P))),
    ("inv(C)", "inv(C)", ("n", "n"), ["C: matrix (n×n), assumed"], lambda v: np.linalg.inv(v.C)),
    ("inv(C)*y", "inv(C)*y", ("n",), ["C: matrix (n×n), assumed", "y: vector (n), assumed"],
     lambda v: np.linalg.solve(v.C, v.y)),
    ("diag(x)", "diag(x)", ("n", "n"), ["x: vector (n), assumed"], lambda v: np.diag(v.x)),
    ("diag(x')", "diag(x')", ("n", "n"), ["x: vector (n), assumed"], lambda v: np.diag(v.x)),
    ("diag(C)", "diag(C)", ("n",), ["C: matrix (n×n), assumed"],
     lambda v: np.array([v.C[i, i] for i in range(4)])),
    ("diag(A*A')", "diag(A*A')", ("m",), ["A: matrix (m×n), assumed"],
     lambda v: np.sum(v.A * v.A, axis=1)),
    ("diag(diag(C))", "diag(diag(C))", ("n", "n"), ["C: matrix (n×n), assumed"],
     lambda v: np.diag(np.diag(v.C))),
    # constants: vector(c), matrix(c), eye and I, sizes from the context
    ("x + vector(1)", "x + vector(1)", ("n",), ["x: vector (n), assumed"], lambda v: v.x + 1),
    ("vector(a)'*x", "vector(a)'*x", (), ["a: scalar, assumed", "x: vector (n), assumed"],
     lambda v: v.a * v.x.sum()),
    ("A + matrix(2)", "A + matrix(2)", ("m", "n"), ["A: matrix (m×n), assumed"],
     lambda v: v.A + 2),
    ("matrix(1)*x", "matrix(1)*x", ("m",), ["x: vector (n), assumed"], None),  # size m unfixed
    ("eye*x", "eye*x", ("n",), ["x: vector (n), assumed"], lambda v: v.x),
    ("I*x", "I*x", ("n",), ["x: vector (n), assumed"], lambda v: v.x),
    ("C + eye", "C + eye", ("n", "n"), ["C: matrix (n×n), assumed"], lambda v: v.C + np.eye(4)),
    ("A*I", "A*I", ("m", "n"), ["A: matrix (m×n), assumed"], lambda v: v.A),
    ("y'*(C - 2*I)*y", "y'*(C - 2*I)*y", (), ["y: vector (n), assumed", "C: matrix (n×n), assumed"],
     lambda v: v.y @ (v.C - 2 * np.eye(4)) @ v.y),
    # literals: column, row, matrix; entries are expressions
    ("[a; b]", "[a; b]", (2,), ["a: scalar, assumed", "b: scalar, assumed"],
     lambda v: np.array([v.a, v.b])),
    ("[a, b]", "[a, b]", (2,), ["a: scalar, assumed", "b: scalar, assumed"],
     lambda v: np.array([v.a, v.b])),
    ("[a, b; c, 1]", "[a, b; c, 1]", (2, 2), ["a: scalar, assumed", "b: scalar, assumed",
                                               "c: scalar, assumed"],
     lambda v: np.array([[v.a, v.b], [v.c, 1.0]])),
    ("[1, 2; 3, 4]*[a; b]", "[1, 2; 3, 4]*[a; b]", (2,), ["a: scalar, assumed",
                                                          "b: scalar, assumed"],
     lambda v: np.array([[1, 2], [3, 4]]) @ np.array([v.a, v.b])),
    ("[a*b, sin(a); x'*u, 2]'", "[a*b, sin(a); x'*u, 2]'", (2, 2),
     ["a: scalar, assumed", "b: scalar, assumed", "x: vector (n), assumed", "u: vector (n), assumed"],
     lambda v: np.array([[v.a * v.b, np.sin(v.a)], [v.x @ v.u, 2.0]]).T),
    ("[a]", "[a]", (), ["a: scalar, assumed"], lambda v: v.a),
    ("[1, 2, 3]*x", "[1, 2, 3]*x", (), ["x: vector (3), assumed"],  # the literal fixes x's size
     lambda v: np.array([1.0, 2.0, 3.0]) @ v.x),
    # where bindings (a binding may use the ones before it)
    ("exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)",
     "exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)", (), ["t: scalar, forced"],
     lambda v: np.exp(v.t * np.cos(v.t) * (v.t * np.sin(v.t)) ** 2)),
    ("p'*p where p = A*x", "p'*p where p = A*x", (),
     ["A: matrix (m×n), assumed", "x: vector (n), assumed"],
     lambda v: (v.A @ v.x) @ (v.A @ v.x)),
    ("q2 - q1 where q1 = a*x, q2 = q1.*x", "q2 - q1 where q1 = a*x, q2 = q1.*x", ("n",),
     ["a: scalar, assumed", "x: vector (n), assumed"],
     lambda v: v.a * v.x * v.x - v.a * v.x),
    ("x where x = a + 1", "x where x = a + 1", (), ["a: scalar, assumed"], lambda v: v.a + 1),
]


@pytest.mark.parametrize("text, canonical, shape, variables, reference", CASES,
                         ids=[c[0] for c in CASES])
def test_parse(text, canonical, shape, variables, reference):
    e = ricci.parse(text)
    assert str(e) == canonical
    assert e.shape == shape
    assert [v.describe() for v in e.variables.values()] == variables
    assert ricci.parse(canonical) == e  # the canonical text means the same


@pytest.mark.parametrize("text, canonical, shape, variables, reference",
                         [c for c in CASES if c[4] is not None],
                         ids=[c[0] for c in CASES if c[4] is not None])
def test_evaluate(text, canonical, shape, variables, reference):
    e = ricci.parse(text)
    got = ricci.evaluate(text, values_of(e))
    want = reference(V)
    if shape == ():
        assert isinstance(got, float)
    else:
        assert isinstance(got, np.ndarray) and got.ndim == len(shape)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_a_constant_whose_size_nothing_fixes_is_reported():
    with pytest.raises(ricci.BadValueError) as info:
        ricci.evaluate("matrix(1)*x", {"x": V.x})
    assert info.value.span == (0, 9)  # matrix(1)
    assert "is not fixed by any value" in info.value.message


def test_evaluate_returns_the_public_shapes():
    assert isinstance(ricci.evaluate("x'*u", {"x": V.x, "u": V.u}), float)
    assert ricci.evaluate("x'", {"x": V.x}).shape == (3,)  # a row vector is 1-D too
    assert ricci.evaluate("A", {"A": V.A}).shape == (4, 3)
    # a vector may also be given as a column or a row
    np.testing.assert_allclose(ricci.evaluate("A*x", {"A": V.A, "x": V.x.reshape(3, 1)}), V.A @ V.x)
    np.testing.assert_allclose(ricci.evaluate("A*x", {"A": V.A, "x": V.x.reshape(1, 3)}), V.A @ V.x)


# ------------------------------------------------------------------------------------------------
# Kinds: declared kinds, the naming rule, symmetric matrices
# ------------------------------------------------------------------------------------------------

NAMING_RULE = [
    ("a", "scalar"), ("g", "scalar"), ("h", "vector"), ("z", "vector"), ("A", "matrix"),
    ("Z", "matrix"), ("theta", "vector"), ("Phi", "matrix"), ("x_1", "vector"), ("w2", "vector"),
    ("beta2", "scalar"), ("sigma_x", "vector"),
] + [(name, "scalar") for name in sorted(SCALAR_GREEK)]


@pytest.mark.parametrize("name, kind", NAMING_RULE)
def test_naming_rule(name, kind):
    (var,) = ricci.parse(name).variables.values()
    assert (var.name, var.kind, var.source) == (name, kind, "assumed")


def test_declared_kinds_win_and_symmetric_matrices_are_checked():
    e = ricci.parse("x'*S*x", {"S": "symmetric matrix", "x": "vector"})
    assert [v.describe() for v in e.variables.values()] == [
        "x: vector (n), declared", "S: symmetric matrix (n×n), declared"]
    assert e.variables["S"].symmetric
    got = ricci.evaluate(e, {"x": V.x, "S": V.S})
    assert got == pytest.approx(V.x @ V.S @ V.x, rel=1e-12)
    # other spellings of the kinds
    for spelling in ("symmetric", "sym", "Symmetric_Matrix"):
        assert ricci.parse("S", {"S": spelling}).variables["S"].kind == "symmetric matrix"
    assert ricci.parse("a", {"a": "column vector"}).variables["a"].kind == "vector"
    assert ricci.parse("x", {"x": "matrix"}).shape == ("m", "n")
    assert ricci.parse("A", {"A": "scalar"}).shape == ()


def test_identity_names_can_be_declared_as_variables():
    e = ricci.parse("I*x", {"I": "matrix"})
    assert [v.describe() for v in e.variables.values()] == [
        "I: matrix (m×n), declared", "x: vector (n), assumed"]
    np.testing.assert_allclose(ricci.evaluate(e, {"I": V.A, "x": V.x}), V.A @ V.x)


# ------------------------------------------------------------------------------------------------
# Elementwise functions: one parametrisation over the table of functions
# ------------------------------------------------------------------------------------------------


def test_every_elementwise_function_has_a_reference():
    assert set(ELEMENTWISE) == set(ELEMENTWISE_REFERENCE), "add a NumPy reference above"


def _argument(name: str, shape) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # not hash(): the same values whatever PYTHONHASHSEED
    v = rng.uniform(-0.9, 0.9, size=shape)
    v[np.abs(v) < 0.05] = 0.3  # away from the kinks of abs, sign, relu and step
    return np.abs(v) if name in POSITIVE_ONLY else v


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("argument, kind, shape", [("c", "scalar", ()), ("x", "vector", ("n",)),
                                                   ("A", "matrix", ("m", "n")),
                                                   ("x'", "vector", ("n",))])
def test_elementwise_function(name, argument, kind, shape):
    text = f"{name}({argument})"
    e = ricci.parse(text)
    assert str(e) == text
    assert e.shape == shape
    (var,) = e.variables.values()
    assert (var.kind, var.source) == (kind, "assumed")
    sizes = {"scalar": (), "vector": (3,), "matrix": (4, 3)}[kind]
    value = _argument(name, sizes)
    if kind == "scalar":
        value = float(value)
    got = ricci.evaluate(e, {var.name: value})
    np.testing.assert_allclose(got, ELEMENTWISE_REFERENCE[name](np.asarray(value)), rtol=1e-12,
                               atol=1e-15)
    assert np.shape(got) == np.shape(value)


@pytest.mark.parametrize("alias, name", sorted(ALIASES.items()))
def test_aliases_parse_to_the_canonical_function(alias, name):
    e = ricci.parse(f"{alias}(C)")
    assert str(e) == f"{name}(C)"
    assert e == ricci.parse(f"{name}(C)")


def test_the_canonical_examples_of_the_docs():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "language.md").read_text()
    table = doc.split("| input | canonical |\n|---|---|\n", 1)[1].split("\n\n", 1)[0]
    rows = [[cell.strip().strip("`") for cell in line.strip("|").split("|")]
            for line in table.splitlines()]
    assert len(rows) >= 5
    for given, canonical in rows:
        assert str(ricci.parse(given)) == canonical
