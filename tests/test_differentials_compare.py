"""``compare`` judges answers written as differentials (issue 20, acceptance 3).

Thirty realistic answers: right ones in several spellings (dF = …, df = tr(G'*dX), the trace
written the other way, vec dF = kron(…) vec dX, f'(X)[dX] = …, MIT's direction names) and the
typical wrong ones (the transpose lost in the trace trick, a commutation matrix left out, a
missing product-rule term, a sign, a factor, the symmetric assumption, a non-linear "differential").
Each verdict is checked against the mathematics of the case (the comment), which the numbers
of ricci.compare then confirm; a right answer's map is also checked here against finite
differences of the function, independently of compare.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_values

import ricci

#: (expression, wrt, kinds, answer, verdict, kind_of_slip)
CASES = [
    # -- right, in several spellings ---------------------------------------------------------------
    ("x'*B*x", "x", None, "df = dx'*B*x + x'*B*dx", "equal", None),
    ("x'*B*x", "x", None, "df = x'*(B + B')*dx", "equal", None),
    ("x'*B*x", "x", None, "f'(x)[h] = h'*B*x + x'*B*h", "equal", None),
    ("a'*X*b", "X", {"a": "vector", "b": "vector"}, "df = a'*dX*b", "equal", None),
    ("a'*X*b", "X", {"a": "vector", "b": "vector"}, "df = tr(b*a'*dX)", "equal", None),
    ("a'*X*b", "X", {"a": "vector", "b": "vector"}, "df = tr((a*b')'*dX)", "equal", None),
    ("log(det(X))", "X", None, "df = tr(inv(X)*dX)", "equal", None),
    ("det(X)", "X", None, "df = det(X)*tr(inv(X)*dX)", "equal", None),
    ("tr(A*X)", "X", None, "df = tr(A*dX)", "equal", None),
    ("A*X*B", "X", None, "dF = A*dX*B", "equal", None),
    ("A*X*B", "X", None, "vec dF = kron(B', A) vec dX", "equal", None),
    ("A*X*B", "X", None, "vec(dF) = kron(B', A)*vec(dX)", "equal", None),
    ("inv(X)", "X", None, "dF = -inv(X)*dX*inv(X)", "equal", None),
    ("X*A + A*X", "X", None, "f'(X)[dX] = dX*A + A*dX", "equal", None),
    ("X'*X", "X", None, "dF = dX'*X + X'*dX", "equal", None),
    ("norm2(y - Phi*theta)^2", "theta", None, "df = -2*(y - Phi*theta)'*Phi*dtheta", "equal", None),
    ("exp(x)", "x", None, "dF = exp(x).*dx", "equal", None),
    ("sin(t)^2", "t", {"t": "scalar"}, "df = 2*sin(t)*cos(t)*dt", "equal", None),
    # -- the slips of the method ---------------------------------------------------------------------
    # trace trick: tr(G dX) for tr(G' dX) reads off G' — for tr(A*X) the right G is A'
    ("tr(A*X)", "X", None, "df = tr(A'*dX)", "slip", "lost transpose"),
    # a'Xb: df = tr(b a' dX) = tr((a b')' dX); writing tr(a*b'*dX) loses the transpose
    ("a'*X*b", "X", {"a": "vector", "b": "vector"}, "df = tr(a*b'*dX)", "slip", "lost transpose"),
    ("log(det(X))", "X", None, "df = tr(inv(X)'*dX)", "slip", "lost transpose"),
    # vec(X') = K vec(X): the K left out for F = X'
    ("X'", "X", None, "vec dF = vec(dX)", "slip", "missing commutation matrix"),
    ("X'*A", "X", None, "vec dF = kron(A', eye)*vec(dX)", "slip", "missing commutation matrix"),
    # -- the slips compare knows, seen through the differential --------------------------------------
    ("x'*B*x", "x", None, "df = x'*B*dx", "slip", "missing term"),
    ("x'*B*x", "x", None, "df = x'*B'*dx", "slip", "missing term"),
    ("x'*B*x", "x", None, "df = 2*x'*B*dx", "slip", "assumed symmetric"),
    ("norm2(y - Phi*theta)^2", "theta", None, "df = 2*(y - Phi*theta)'*Phi*dtheta", "slip", "sign"),
    ("A*X*B", "X", None, "dF = 2*A*dX*B", "slip", "factor"),
    ("x'*x", "x", None, "df = x'*dx", "slip", "factor"),
    # -- wrong ----------------------------------------------------------------------------------------
    ("X*A + A*X", "X", None, "dF = 2*A*dX", "different", None),   # dX and A do not commute
    ("exp(x)", "x", None, "dF = exp(dx)", "different", None),       # not linear in dx
    ("x'*x", "x", None, "df = dx'*dx", "different", None),
    # -- unreadable: named, never raised -------------------------------------------------------------
    ("A*X*B", "X", None, "dF = A*dX*", "invalid", None),
    # B (q×n) times dX (m×n) does not fit, nor does it once dX is transposed
    ("A*X*B", "X", None, "dF = B*dX*A", "invalid", None),
]


def test_thirty_answers():
    assert len([c for c in CASES if c[4] != "invalid"]) >= 30


@pytest.mark.parametrize("expression, wrt, kinds, answer, verdict, slip", CASES,
                         ids=[f"{c[0]}|{c[3]}" for c in CASES])
def test_differential_answers_are_judged(expression, wrt, kinds, answer, verdict, slip):
    v = ricci.compare(expression, wrt, answer, kinds=kinds)
    assert (v.verdict, v.kind_of_slip) == (verdict, slip), v.message
    assert v.message
    if verdict == "equal":
        assert "Right" in v.message


@pytest.mark.parametrize("expression, wrt, kinds, answer", [c[:4] for c in CASES if c[4] == "equal"
                                                            and not c[3].startswith("vec")])
def test_the_right_answers_are_right_by_finite_differences(expression, wrt, kinds, answer):
    """The referee of the cases above: each 'equal' answer's right side, at a random direction V,
    is (f(X + hV) - f(X - hV))/2h — computed here without compare or ricci's derivative."""
    from ricci.comparison.differential_form import differential_form

    form = differential_form(answer)
    direction = form.direction or "d" + wrt
    values = random_values(expression, kinds)
    rng = np.random.default_rng(5)
    V = rng.standard_normal(np.shape(values[wrt]))
    all_kinds = dict(ricci.parse(expression, kinds).kinds)
    all_kinds[direction] = all_kinds[wrt]
    got = np.asarray(ricci.evaluate(form.rhs, {**values, direction: V}, all_kinds), dtype=float)
    h = 1e-6
    fd = (np.asarray(ricci.evaluate(expression, {**values, wrt: values[wrt] + h * V}, kinds), dtype=float)
          - np.asarray(ricci.evaluate(expression, {**values, wrt: values[wrt] - h * V}, kinds), dtype=float)) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7)


def test_an_unreadable_differential_names_the_position():
    v = ricci.compare("A*X*B", "X", "dF = A*dX*")
    assert v.verdict == "invalid" and "character" in v.message


def test_an_ordinary_answer_is_still_an_ordinary_answer():
    assert ricci.compare("x'*B*x", "x", "x'*(B + B')").verdict == "equal"
