"""Kind and dimension inference on the lecture's expressions (shared/LECTURE_CASES.md).

Each row of the lecture's table is parsed twice: once with the kinds the lecture means
declared, once with nothing declared, so that the naming rule (a–g scalars, h–z vectors,
A–Z matrices) and what the expression forces decide.  For every free name the test states its
kind, its dimensions and where the kind came from: ``declared``, ``forced`` (the expression
admits no other kind: a ``^`` base, a divisor, a literal's entry, a product that must conform)
or ``assumed`` (the naming rule).  Bound names of ``where`` are not variables.
"""

from __future__ import annotations

import numpy as np
import pytest

import ricci

VECTOR, MATRIX, SCALAR, SYMMETRIC = "vector", "matrix", "scalar", "symmetric matrix"


def described(e: ricci.Expression) -> list[str]:
    return [v.describe() for v in e.variables.values()]


# (row, expression, kinds the lecture means,
#  (shape, variables) with those kinds declared, (shape, variables) with nothing declared)
LECTURE = [
    (1, "x'*a", {"x": VECTOR, "a": VECTOR},
     ((), ["x: vector (n), declared", "a: vector (n), declared"]),
     # by the naming rule a is a scalar, and x'*a a row vector
     (("n",), ["x: vector (n), assumed", "a: scalar, assumed"])),
    (2, "a'*x", {"x": VECTOR, "a": VECTOR},
     ((), ["a: vector (n), declared", "x: vector (n), declared"]),
     (("n",), ["a: scalar, assumed", "x: vector (n), assumed"])),
    (3, "a'*X*b", {"a": VECTOR, "b": VECTOR, "X": MATRIX},
     ((), ["a: vector (m), declared", "X: matrix (m×n), declared", "b: vector (n), declared"]),
     (("m", "n"), ["a: scalar, assumed", "X: matrix (m×n), assumed", "b: scalar, assumed"])),
    (4, "x'*B*x", {"B": MATRIX},
     ((), ["x: vector (n), assumed", "B: matrix (n×n), declared"]),
     ((), ["x: vector (n), assumed", "B: matrix (n×n), assumed"])),
    (5, "(x - A*s)'*W*(x - A*s)", {"W": SYMMETRIC},
     ((), ["x: vector (m), assumed", "A: matrix (m×n), assumed", "s: vector (n), assumed",
           "W: symmetric matrix (m×m), declared"]),
     ((), ["x: vector (m), assumed", "A: matrix (m×n), assumed", "s: vector (n), assumed",
           "W: matrix (m×m), assumed"])),
    (6, "A*x", {"A": MATRIX},
     (("m",), ["A: matrix (m×n), declared", "x: vector (n), assumed"]),
     (("m",), ["A: matrix (m×n), assumed", "x: vector (n), assumed"])),
    (7, "norm2(y - Phi*theta)^2", {"Phi": MATRIX, "y": VECTOR, "theta": VECTOR},
     ((), ["y: vector (m), declared", "Phi: matrix (m×n), declared",
           "theta: vector (n), declared"]),
     ((), ["y: vector (m), assumed", "Phi: matrix (m×n), assumed",
           "theta: vector (n), assumed"])),
    (8, "norm2(y - Phi*theta)^2", {"theta": VECTOR},
     ((), ["y: vector (m), assumed", "Phi: matrix (m×n), assumed",
           "theta: vector (n), declared"]),
     ((), ["y: vector (m), assumed", "Phi: matrix (m×n), assumed",
           "theta: vector (n), assumed"])),
    (9, "x'*B*x", {"x": VECTOR, "B": MATRIX},
     ((), ["x: vector (n), declared", "B: matrix (n×n), declared"]),
     ((), ["x: vector (n), assumed", "B: matrix (n×n), assumed"])),
    (10, "A*x", {"A": MATRIX, "x": VECTOR},
     (("m",), ["A: matrix (m×n), declared", "x: vector (n), declared"]),
     (("m",), ["A: matrix (m×n), assumed", "x: vector (n), assumed"])),
    (11, "R'*R", {"R": MATRIX},
     (("n", "n"), ["R: matrix (m×n), declared"]),
     (("n", "n"), ["R: matrix (m×n), assumed"])),
    # t would be a vector by the naming rule, but t*cos(t) and x2^2 force a scalar
    (12, "exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)", {"t": SCALAR},
     ((), ["t: scalar, declared"]),
     ((), ["t: scalar, forced"])),
    (13, "[t*cos(t); t*sin(t)]", {"t": SCALAR},
     ((2,), ["t: scalar, declared"]),
     ((2,), ["t: scalar, forced"])),  # the entries of a literal are scalars
    # the lecture's x1, x2 are scalars; by the naming rule x1 is a vector (x1*x2^2 is then a
    # vector times a scalar), while x2^2 forces x2 to be a scalar
    (14, "exp(x1*x2^2)", {"x1": SCALAR, "x2": SCALAR},
     ((), ["x1: scalar, declared", "x2: scalar, declared"]),
     (("n",), ["x1: vector (n), assumed", "x2: scalar, forced"])),
    (15, "x1^2*x2 where x1 = s*t, x2 = s + t", {"s": SCALAR, "t": SCALAR},
     ((), ["s: scalar, declared", "t: scalar, declared"]),
     ((), ["s: scalar, forced", "t: scalar, forced"])),
    # row 16, the table of gradient shapes: f: R → R, R^D → R, R → R^E, R^D → R^E
    (16, "sin(t)", {"t": SCALAR},
     ((), ["t: scalar, declared"]),
     (("n",), ["t: vector (n), assumed"])),
    (16, "x'*x", {"x": VECTOR},
     ((), ["x: vector (n), declared"]),
     ((), ["x: vector (n), assumed"])),
    (16, "[cos(t); sin(t); t]", {"t": SCALAR},
     ((3,), ["t: scalar, declared"]),
     ((3,), ["t: scalar, forced"])),
    (16, "tanh(W*x)", {"W": MATRIX, "x": VECTOR},
     (("m",), ["W: matrix (m×n), declared", "x: vector (n), declared"]),
     (("m",), ["W: matrix (m×n), assumed", "x: vector (n), assumed"])),
    (17, "x'*A*x", {"x": VECTOR, "A": MATRIX},
     ((), ["x: vector (n), declared", "A: matrix (n×n), declared"]),
     ((), ["x: vector (n), assumed", "A: matrix (n×n), assumed"])),
    (18, "x1^2 - x2^2", {"x1": SCALAR, "x2": SCALAR},
     ((), ["x1: scalar, declared", "x2: scalar, declared"]),
     ((), ["x1: scalar, forced", "x2: scalar, forced"])),
]


@pytest.mark.parametrize("row, text, kinds, declared, defaults", LECTURE,
                         ids=[f"{r[0]}: {r[1]}" for r in LECTURE])
def test_lecture_kinds_declared(row, text, kinds, declared, defaults):
    e = ricci.parse(text, kinds)
    assert (e.shape, described(e)) == declared


@pytest.mark.parametrize("row, text, kinds, declared, defaults", LECTURE,
                         ids=[f"{r[0]}: {r[1]}" for r in LECTURE])
def test_lecture_kinds_by_default(row, text, kinds, declared, defaults):
    e = ricci.parse(text)
    assert (e.shape, described(e)) == defaults


def test_row_12_bound_names_are_not_variables_and_cannot_be_declared():
    e = ricci.parse("exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)")
    assert list(e.variables) == ["t"]
    with pytest.raises(ricci.KindError) as info:
        ricci.parse("exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)", {"x1": "scalar"})
    assert "bound by 'where'" in info.value.message


def test_row_14_indexing_is_not_in_the_language_and_says_so():
    with pytest.raises(ricci.UnknownNameError) as info:
        ricci.parse("exp(x(1)*x(2)^2)")
    err = info.value
    assert err.source[err.span[0]:err.span[1]] == "x"
    assert "name the entries as scalars, x1, x2" in err.message


def test_row_17_the_lecture_matrix_evaluates():
    value = ricci.evaluate("x'*A*x", {"x": [1.0, -2.0], "A": [[2.0, 0.0], [0.0, 3.0]]})
    assert value == 2 * 1 + 3 * 4


def test_row_5_symmetric_weight_is_checked_at_evaluation():
    rng = np.random.default_rng(5)
    x, A, s = rng.normal(size=4), rng.normal(size=(4, 3)), rng.normal(size=3)
    W = rng.normal(size=(4, 4))
    W = W + W.T
    r = x - A @ s
    got = ricci.evaluate("(x - A*s)'*W*(x - A*s)", {"x": x, "A": A, "s": s, "W": W},
                         {"W": SYMMETRIC})
    assert got == pytest.approx(r @ W @ r, rel=1e-12)


# ------------------------------------------------------------------------------------------------
# What the expression forces, and dimensions unified across it
# ------------------------------------------------------------------------------------------------

FORCED = [
    ("x^2", ["x: scalar, forced"]),  # a ^ base
    ("2^x", ["x: scalar, forced"]),  # a ^ exponent
    ("A/x", ["A: matrix (m×n), assumed", "x: scalar, forced"]),  # a divisor
    ("[u, v]", ["u: scalar, forced", "v: scalar, forced"]),  # a literal's entries
    ("exp(q) + x where q = u'*v",  # a name bound to a scalar broadcasts; u, v stay vectors
     ["u: vector (n), assumed", "v: vector (n), assumed", "x: vector (k), assumed"]),
    ("vector(h)", ["h: scalar, forced"]),  # the argument of vector(c)
    ("tr(x)", ["x: matrix (n×n), forced"]),  # tr of an undeclared name makes it a matrix
    ("diag(a)", ["a: vector (n), forced"]),
    ("A*x'", ["A: scalar, forced", "x: vector (n), assumed"]),  # a product that must conform
]


@pytest.mark.parametrize("text, variables", FORCED, ids=[t for t, _ in FORCED])
def test_what_the_expression_forces(text, variables):
    assert described(ricci.parse(text)) == variables


UNIFIED = [
    ("A*x + y", ["A: matrix (m×n), assumed", "x: vector (n), assumed", "y: vector (m), assumed"]),
    ("x'*A*y", ["x: vector (m), assumed", "A: matrix (m×n), assumed", "y: vector (n), assumed"]),
    ("A*B*C", ["A: matrix (m×n), assumed", "B: matrix (n×k), assumed",
               "C: matrix (k×q), assumed"]),
    ("A + B'", ["A: matrix (m×n), assumed", "B: matrix (n×m), assumed"]),
    ("x .* y + z", ["x: vector (n), assumed", "y: vector (n), assumed", "z: vector (n), assumed"]),
    ("inv(A)*x", ["A: matrix (n×n), assumed", "x: vector (n), assumed"]),
    ("A*x + eye*y", ["A: matrix (m×n), assumed", "x: vector (n), assumed",
                     "y: vector (m), assumed"]),
    ("x + [1; 2; 3]", ["x: vector (3), assumed"]),
    ("q where q = A*x", ["A: matrix (m×n), assumed", "x: vector (n), assumed"]),
]


@pytest.mark.parametrize("text, variables", UNIFIED, ids=[t for t, _ in UNIFIED])
def test_dimensions_are_unified_across_the_expression(text, variables):
    assert described(ricci.parse(text)) == variables


def test_declared_kinds_win_over_what_would_be_forced():
    # undeclared, tr(x) makes x a matrix; declared a vector, tr(x) is an error
    with pytest.raises(ricci.KindError):
        ricci.parse("tr(x)", {"x": "vector"})
    with pytest.raises(ricci.KindError):
        ricci.parse("x^2", {"x": "vector"})
    # a declaration may also make a name a scalar against the naming rule
    assert described(ricci.parse("x*A", {"x": "scalar"})) == [
        "x: scalar, declared", "A: matrix (m×n), assumed"]


def test_the_kind_search_is_bounded_on_large_ill_typed_inputs(monkeypatch):
    from ricci.language import kinds as K

    # Count the type checks the search runs (work, not wall-clock time: machines are noisy).
    checks = []
    init = K._Checker.__init__

    def counting(self, *args, **kwargs):
        checks.append(1)
        init(self, *args, **kwargs)

    monkeypatch.setattr(K._Checker, "__init__", counting)
    # 400 names plus one that cannot be typed by changing up to three kinds
    terms = [f"x{i}'*x{i}" for i in range(400)]
    text = "+".join(f"({'+'.join(terms[i:i + 20])})" for i in range(0, 400, 20))
    text += "+tr(q)*tr(r)*tr(u)*tr(w)"
    with pytest.raises(ricci.KindError):
        ricci.parse(text, {n: "vector" for n in ("q", "r", "u", "w")})
    with pytest.raises(ricci.KindError) as info:
        ricci.parse(text)
    assert len(checks) <= 2 * (K.MAX_SEARCH + 1)
    assert info.value.message.startswith("tr() needs a square matrix")
