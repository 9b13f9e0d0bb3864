"""ricci.analyse: Hessian definiteness, critical points, convexity (issue 7; LECTURE_CASES rows 17–18).

Every verdict is checked against numbers that do not come from the analysis itself: Hessians
and gradients by central finite differences of ``ricci.evaluate`` (the AST evaluator, not the
derivative engine), at random points drawn here with their own seeds, and closed forms in NumPy
where the mathematics gives one.  The lecture's rule (Hessian section): at a critical point a PD
Hessian means a local minimum, ND a local maximum; f is convex where the Hessian is PSD.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import assume as h_assume
from hypothesis import strategies as st

import ricci
from ricci.analysis import analyse
from ricci.analysis import definiteness as D
from ricci.analysis.critical import DEGENERATE, MAXIMUM, MINIMUM, SADDLE
from ricci.analysis.definiteness import classify, symmetric_basis
from ricci.testing import expressions, values_for

sympy = pytest.importorskip("sympy")

SCALARS2 = ["x", "y"]


# -- independent numbers ----------------------------------------------------------------------
def _coordinates(wrt, values, symmetric=False):
    """(z, put): flat coordinates of the wrt variable(s) and z ↦ values."""
    if isinstance(wrt, list):
        z = np.array([float(values[n]) for n in wrt])
        return z, lambda z: {**values, **{n: float(v) for n, v in zip(wrt, z)}}
    x = np.asarray(values[wrt], dtype=float)
    if symmetric:
        B = symmetric_basis(x.shape[0])
        return B.T @ x.reshape(-1), lambda z: {**values, wrt: (B @ z).reshape(x.shape)}
    return x.reshape(-1).copy(), lambda z: {**values, wrt: z.reshape(x.shape)}


def _kinds(wrt, kinds):
    """A list of names differentiated by is a list of scalars (x, y are vectors by the naming rule)."""
    return {**({n: "scalar" for n in wrt} if isinstance(wrt, list) else {}), **(kinds or {})} or None


def fd_gradient(expr, wrt, values, kinds=None, h=1e-6):
    kinds = _kinds(wrt, kinds)
    z, put = _coordinates(wrt, values)
    f = lambda z: ricci.evaluate(expr, put(z), kinds)
    E = np.eye(len(z))
    return np.array([(f(z + h * e) - f(z - h * e)) / (2 * h) for e in E])


def fd_hessian(expr, wrt, values, kinds=None, symmetric=False, h=1e-4):
    """The Hessian by central differences of ricci.evaluate (coordinates as analyse uses them)."""
    kinds = _kinds(wrt, kinds)
    z, put = _coordinates(wrt, values, symmetric)
    f = lambda z: ricci.evaluate(expr, put(z), kinds)
    n = len(z)
    E = np.eye(n) * h
    H = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (f(z + E[i] + E[j]) - f(z + E[i] - E[j]) - f(z - E[i] + E[j])
                                 + f(z - E[i] - E[j])) / (4 * h * h)
    return H


def eig(H):
    return np.linalg.eigvalsh(0.5 * (H + H.T))


def assert_psd_at_random_points(expr, wrt, draw, kinds=None, symmetric=False, n=12, seed=123, sign=1):
    """λ_min ≥ −tol (sign=1) or λ_max ≤ tol (sign=−1) of the finite-difference Hessian."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        values = draw(rng)
        ev = sign * eig(fd_hessian(expr, wrt, values, kinds, symmetric))
        assert ev.min() >= -1e-4 * max(1.0, np.abs(ev).max()), (values, ev)


def assert_witness(expr, wrt, witness, kinds=None, symmetric=False):
    """The reported witness really has a negative Hessian eigenvalue."""
    ev = eig(fd_hessian(expr, wrt, witness, kinds, symmetric))
    assert ev.min() < -1e-3 * max(1.0, np.abs(ev).max()), (witness, ev)


def check_critical_point(expr, wrt, p, kinds=None, at=None):
    """A reported critical point: ∇f ≈ 0 and Hessian signs that match its classification."""
    values = {**(at or {}), **p.values}
    g = fd_gradient(expr, wrt, values, kinds)
    assert np.abs(g).max() <= 1e-6, (p.values, g)
    ev = eig(fd_hessian(expr, wrt, values, kinds))
    top = max(1.0, np.abs(ev).max())
    if p.classification == MINIMUM:
        assert ev.min() > 1e-4 * top, ev
    elif p.classification == MAXIMUM:
        assert ev.max() < -1e-4 * top, ev
    elif p.classification == SADDLE:
        assert ev.min() < -1e-4 * top and ev.max() > 1e-4 * top, ev
    else:
        assert p.classification == DEGENERATE
        assert np.abs(ev).min() <= 1e-4 * top, ev


# -- definiteness of a matrix ------------------------------------------------------------------
@pytest.mark.parametrize("H, label", [
    ([[2, 0], [0, 3]], "PD"), ([[1, 1], [1, 1]], "PSD"), ([[-2, 0], [0, -1]], "ND"),
    ([[-1, 1], [1, -1]], "NSD"), ([[1, 0], [0, -1]], "indefinite"), ([[0, 0], [0, 0]], "zero"),
    ([[1e-20, 0], [0, 1]], "PSD"),  # 1e-20 is below the relative tolerance: zero
])
def test_definiteness_labels(H, label):
    d = classify(np.array(H, dtype=float))
    assert d.label == label
    assert d.tolerance == pytest.approx(max(1e-8 * np.abs(d.eigenvalues).max(), 1e-12))
    assert "zero means |λ| ≤" in d.describe()


def test_definiteness_uses_the_symmetric_part():
    # z'Az depends on (A + A')/2 only: [[1, 4], [0, 1]] has quadratic form z1² + 4 z1 z2 + z2², indefinite
    assert classify(np.array([[1.0, 4.0], [0.0, 1.0]])).label == "indefinite"


# -- LECTURE_CASES row 17: x'Ax with A = [2 0; 0 3] ------------------------------------------
A17 = [[2.0, 0.0], [0.0, 3.0]]


def test_row17_hessian_pd_so_convex_and_the_critical_point_is_a_minimum():
    r = analyse("x'*A*x", "x", at={"A": A17})
    assert r.convexity.convex is True and r.convexity.strict
    assert r.convexity.verdict.startswith("convex everywhere")
    [p] = r.critical.points
    assert p.classification == MINIMUM
    np.testing.assert_allclose(p.values["x"], [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(p.definiteness.eigenvalues, [4.0, 6.0])  # eig(A + A')
    check_critical_point("x'*A*x", "x", p, at={"A": A17})
    assert r.critical.complete and r.critical.method.startswith("symbolic")
    assert_psd_at_random_points("x'*A*x", "x", lambda g: {"x": g.standard_normal(2), "A": A17})


@pytest.mark.parametrize("x", [[1.0, -2.0], [0.3, 0.7], [-5.0, 4.0]])
def test_row17_at_any_point_the_hessian_is_pd(x):
    r = analyse("x'*A*x", "x", at={"x": x, "A": A17})
    p = r.point
    assert p.definiteness.label == "PD" and not p.critical
    np.testing.assert_allclose(p.square, [[4, 0], [0, 6]])
    np.testing.assert_allclose(p.gradient, 2 * np.array(A17) @ np.array(x))  # (A + A')x, A symmetric
    np.testing.assert_allclose(fd_hessian("x'*A*x", "x", {"x": x, "A": A17}), p.square, atol=1e-5)
    assert "locally convex" in p.locally


# -- LECTURE_CASES row 18: x1^2 - x2^2 at (0, 0) --------------------------------------------------
def test_row18_saddle_at_the_origin():
    r = analyse("x1^2 - x2^2", ["x1", "x2"], at={"x1": 0, "x2": 0})
    p = r.point
    assert p.critical and p.classification == SADDLE
    assert p.definiteness.label == "indefinite"
    np.testing.assert_allclose(p.definiteness.eigenvalues, [-2.0, 2.0])
    np.testing.assert_allclose(fd_hessian("x1^2 - x2^2", ["x1", "x2"], {"x1": 0.0, "x2": 0.0}),
                               p.square, atol=1e-6)
    assert r.convexity.convex is False and r.convexity.concave is False
    assert_witness("x1^2 - x2^2", ["x1", "x2"], r.convexity.witness)


def test_row18_the_only_critical_point_is_the_saddle():
    r = analyse("x1^2 - x2^2", ["x1", "x2"])
    [p] = r.critical.points
    assert p.values == {"x1": 0.0, "x2": 0.0} and p.classification == SADDLE
    check_critical_point("x1^2 - x2^2", ["x1", "x2"], p)


def test_not_a_critical_point_is_said_so():
    r = analyse("x1^2 - x2^2", ["x1", "x2"], at={"x1": 1, "x2": 0})
    assert not r.point.critical and r.point.classification is None
    assert r.point.gradient_norm == pytest.approx(2.0)
    assert "not a critical point" in r.point.reason


# -- the monkey saddle x^3 - 3xy^2: degenerate at 0 -------------------------------------------
def test_monkey_saddle_is_degenerate_and_then_shown_a_saddle():
    r = analyse("x^3 - 3*x*y^2", SCALARS2)
    [p] = r.critical.points
    assert p.values == {"x": 0.0, "y": 0.0}
    assert p.classification == DEGENERATE == "degenerate: the second-order test is inconclusive"
    assert p.definiteness.label == "zero"
    assert "second-order test cannot decide" in p.reason
    assert p.higher_order.verdict == "saddle point" and p.higher_order.proven
    assert "t^3" in p.higher_order.how  # f(t, 0) = t^3 changes sign
    check_critical_point("x^3 - 3*x*y^2", SCALARS2, p)
    # the evidence, independently: f takes both signs arbitrarily close to 0
    for t in (1e-1, 1e-3):
        assert ricci.evaluate("x^3 - 3*x*y^2", {"x": t, "y": 0.0}) > 0 > ricci.evaluate(
            "x^3 - 3*x*y^2", {"x": -t, "y": 0.0})


# -- x^4 + y^4: degenerate, yet a minimum ----------------------------------------------------------
def test_quartic_is_inconclusive_by_the_hessian_yet_a_minimum():
    r = analyse("x^4 + y^4", SCALARS2)
    [p] = r.critical.points
    assert p.classification == DEGENERATE
    assert p.definiteness.label == "zero"  # the Hessian [12x², 0; 0, 12y²] vanishes at 0
    assert "quadratic term vanishes" in p.reason
    h = p.higher_order
    assert h.verdict == "minimum" and h.proven and "f − f(p) = x**4 + y**4" in h.how
    check_critical_point("x^4 + y^4", SCALARS2, p)
    text = str(r)
    assert "degenerate: the second-order test is inconclusive" in text and "global minimum" in text
    assert r.convexity.convex is True  # principal minors 12x², 12y², 144x²y² ≥ 0
    assert_psd_at_random_points("x^4 + y^4", SCALARS2,
                                lambda g: {"x": g.standard_normal(), "y": g.standard_normal()})


def test_quartic_at_the_point_itself():
    r = analyse("x^4 + y^4", SCALARS2, at={"x": 0, "y": 0})
    assert r.point.critical and r.point.classification == DEGENERATE
    assert r.point.higher_order.verdict == "minimum" and r.point.higher_order.proven


# -- Rosenbrock: one minimum at (1, 1) --------------------------------------------------------------
ROSENBROCK = "(1 - a)^2 + 100*(b - a^2)^2"


@pytest.mark.parametrize("method", ["symbolic", "numeric"])
def test_rosenbrock_has_one_minimum_at_1_1(method):
    r = analyse(ROSENBROCK, ["a", "b"], method=method, convexity=(method == "symbolic"))
    [p] = r.critical.points
    assert p.values["a"] == pytest.approx(1.0, abs=1e-9) and p.values["b"] == pytest.approx(1.0, abs=1e-9)
    assert p.classification == MINIMUM
    # closed form: H(1, 1) = [802, -400; -400, 200]
    np.testing.assert_allclose(p.hessian, [[802, -400], [-400, 200]], rtol=1e-9)
    check_critical_point(ROSENBROCK, ["a", "b"], p)
    if method == "symbolic":
        assert r.critical.complete
        assert r.convexity.convex is False
        assert_witness(ROSENBROCK, ["a", "b"], r.convexity.witness)
    else:
        assert not r.critical.complete and "may miss" in " ".join(r.critical.notes)


# -- x^2 + y^2 - 2xy = (x - y)^2: PSD, a line of minima ---------------------------------------------
def test_line_of_minima():
    f = "x^2 + y^2 - 2*x*y"
    r = analyse(f, SCALARS2)
    assert r.critical.families and "x = y" in r.critical.families[0]
    assert len(r.critical.points) >= 2
    for p in r.critical.points:
        assert p.values["x"] == pytest.approx(p.values["y"])
        assert p.definiteness.label == "PSD" and p.classification == DEGENERATE
        assert p.higher_order.verdict == "minimum" and p.higher_order.proven
        check_critical_point(f, SCALARS2, p)
        assert p.value == pytest.approx(0.0)
    assert r.convexity.convex is True and not r.convexity.strict
    assert_psd_at_random_points(f, SCALARS2, lambda g: {"x": g.standard_normal(), "y": g.standard_normal()})


# -- sin(x)cos(y): infinitely many critical points; those in a box --------------------------------
def _sincos_expected(lo, hi):
    """Closed form: ∇f = (cos x cos y, −sin x sin y) = 0 ⇔ (x = π/2 + kπ, y = mπ) or (x = kπ, y = π/2 + mπ)."""
    pts = set()
    ks = range(-5, 6)
    for k in ks:
        for m in ks:
            for x, y in ((math.pi / 2 + k * math.pi, m * math.pi), (k * math.pi, math.pi / 2 + m * math.pi)):
                if lo <= x <= hi and lo <= y <= hi:
                    pts.add((round(x, 9), round(y, 9)))
    return pts


@pytest.mark.parametrize("method", ["symbolic", "numeric"])
def test_sin_cos_critical_points_in_a_box(method):
    r = analyse("sin(x)*cos(y)", SCALARS2, box=(-4, 4), method=method, convexity=False, starts=150)
    got = {(round(p.values["x"], 9), round(p.values["y"], 9)) for p in r.critical.points}
    assert got == _sincos_expected(-4, 4) and len(got) == 12
    counts = {}
    for p in r.critical.points:
        check_critical_point("sin(x)*cos(y)", SCALARS2, p)
        counts[p.classification] = counts.get(p.classification, 0) + 1
        # closed form: at the points with y = mπ, f = ±1 (extrema); with x = kπ, f = 0 (saddles)
        if abs(p.value) > 0.5:
            assert p.classification == (MAXIMUM if p.value > 0 else MINIMUM)
        else:
            assert p.classification == SADDLE
    assert counts == {MAXIMUM: 3, MINIMUM: 3, SADDLE: 6}
    if method == "symbolic":
        assert r.critical.complete and all(f.startswith("periodic") for f in r.critical.families)


def test_sin_cos_without_a_box_lists_representatives_and_says_so():
    r = analyse("sin(x)*cos(y)", SCALARS2, convexity=False)
    assert not r.critical.complete
    assert any("list those in a box (box=)" in n for n in r.critical.notes)
    for p in r.critical.points:
        check_critical_point("sin(x)*cos(y)", SCALARS2, p)


def test_box_per_variable():
    r = analyse("sin(x)*cos(y)", SCALARS2, box={"x": (0, 2), "y": (-1, 1)}, convexity=False)
    got = {(round(p.values["x"], 9), round(p.values["y"], 9)) for p in r.critical.points}
    assert got == {(round(math.pi / 2, 9), 0.0)}


# -- convexity verdicts ---------------------------------------------------------------------------
def _draw(shapes, extra=None):
    def draw(g):
        out = {n: g.standard_normal(s) if s else float(g.standard_normal()) for n, s in shapes.items()}
        out.update(extra(g) if extra else {})
        return out
    return draw


def test_least_squares_is_convex():
    f = "norm2(y - Phi*theta)^2"
    r = analyse(f, "theta")
    c = r.convexity
    assert c.convex is True and c.verdict == "convex everywhere"
    assert any("Gram" in s for s in c.reason)
    assert c.sampling.worst_negative is None
    assert_psd_at_random_points(f, "theta", _draw({"y": (5,), "Phi": (5, 3), "theta": (3,)}))


@pytest.mark.parametrize("f", [
    "sum(log(1 + exp(-y.*(X*w))))",        # labels y in {−1, 1}
    "sum(log(1 + exp(X*w))) - y'*X*w",     # labels y in {0, 1}
    "-sum(log(sigmoid(y.*(X*w))))",        # the same loss through sigmoid
])
def test_logistic_loss_is_convex(f):
    r = analyse(f, "w")
    c = r.convexity
    assert c.convex is True, c.reason
    assert any("[gram]" in s for s in c.reason) and any("[diag]" in s or "[merge" in s for s in c.reason)
    assert_psd_at_random_points(f, "w", _draw({"y": (6,), "X": (6, 3), "w": (3,)}))


def test_quadratic_form_with_symmetric_a_is_unknown_and_convex_when_psd():
    f = "x'*A*x"
    kinds = {"A": "symmetric matrix"}
    r = analyse(f, "x", kinds=kinds)
    c = r.convexity
    assert c.verdict == "unknown" and c.convex is False
    assert "does not depend on x" in c.reason[0] and "assume=" in c.reason[0]
    assert_witness(f, "x", c.witness, kinds)  # an indefinite A: not convex for that A
    r = analyse(f, "x", kinds=kinds, assume={"A": "psd"})
    assert r.convexity.convex is True and any("assumed PSD" in s for s in r.convexity.reason)

    def psd(g):
        B = g.standard_normal((3, 3))
        return {"A": B @ B.T}
    assert_psd_at_random_points(f, "x", _draw({"x": (3,)}, psd), kinds)


def test_log_sum_exp_is_convex_by_cauchy_schwarz():
    f = "log(sum(exp(x)))"
    r = analyse(f, "x")
    c = r.convexity
    assert c.convex is True and not c.strict
    assert any("[schwarz]" in s for s in c.reason)
    assert_psd_at_random_points(f, "x", _draw({"x": (4,)}))
    # and singular: the Hessian diag(p) − p p' (p = softmax) annihilates the ones vector
    x = np.array([0.3, -1.0, 2.0, 0.5])
    p = np.exp(x) / np.exp(x).sum()
    H = ricci.hessian(f, "x").evaluate({"x": x})
    np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), atol=1e-12)
    np.testing.assert_allclose(H @ np.ones(4), 0, atol=1e-12)


def test_softmax_form_and_norm_are_convex_by_the_same_rule():
    r = analyse("norm2(x)", "x")
    assert r.convexity.convex is True and any("[schwarz]" in s for s in r.convexity.reason)
    assert_psd_at_random_points("norm2(x)", "x", _draw({"x": (3,)}))


def _spd(g, n=3):
    B = g.standard_normal((n, n))
    return B @ B.T + 0.5 * np.eye(n)


def test_neg_logdet_is_convex_over_spd_matrices():
    # −logdet(X) over SPD X: proved by the kron rule (tr(VYVY) with Y = inv(X)), not "unknown"
    f, kinds = "-logdet(X)", {"X": "symmetric matrix"}
    r = analyse(f, "X", kinds=kinds, assume={"X": "pd"})
    c = r.convexity
    assert c.convex is True and c.strict and any("[kron]" in s for s in c.reason)
    assert c.sampling.worst_negative is None and c.sampling.defined > 0
    assert_psd_at_random_points(f, "X", lambda g: {"X": _spd(g)}, kinds, symmetric=True)
    # closed form on symmetric directions: d²(−logdet)[V, V] = tr(X⁻¹VX⁻¹V)
    rng = np.random.default_rng(5)
    X = _spd(rng)
    Y = np.linalg.inv(X)
    B = symmetric_basis(3)
    closed = np.array([[np.trace(Y @ B[:, i].reshape(3, 3) @ Y @ B[:, j].reshape(3, 3))
                        for j in range(6)] for i in range(6)])
    np.testing.assert_allclose(fd_hessian(f, "X", {"X": X}, kinds, symmetric=True), closed, rtol=1e-4, atol=1e-6)


def test_neg_logdet_without_the_spd_domain_is_not_convex():
    f, kinds = "-logdet(X)", {"X": "symmetric matrix"}
    r = analyse(f, "X", kinds=kinds)
    c = r.convexity
    assert c.convex is False
    assert any("assume={'X': 'pd'}" in n for n in c.notes)
    assert_witness(f, "X", c.witness, kinds, symmetric=True)  # a symmetric X with det > 0, not PD


def test_sum_tanh_is_not_convex_with_a_witness():
    f = "sum(tanh(W*x))"
    r = analyse(f, "x")
    c = r.convexity
    assert c.convex is False and c.verdict.startswith("not convex")
    assert set(c.witness) == {"W", "x"} and c.witness_eigenvalue < 0
    assert_witness(f, "x", c.witness)
    # the reported eigenvalue is the Hessian's at the witness
    H = fd_hessian(f, "x", c.witness)
    assert eig(H).min() == pytest.approx(c.witness_eigenvalue, rel=1e-4)


def test_fixed_parameters_decide_a_constant_hessian():
    r = analyse("x'*A*x", "x", at={"A": [[1.0, 0.0], [0.0, -1.0]]})
    assert r.convexity.convex is False and r.convexity.concave is False
    assert r.critical.points[0].classification == SADDLE


def test_concave_and_strictly_convex():
    r = analyse("-x'*x", "x")
    assert r.convexity.concave is True and r.convexity.strict
    r = analyse("x'*x", "x")
    assert r.convexity.convex is True and r.convexity.strict
    assert_psd_at_random_points("-x'*x", "x", _draw({"x": (3,)}), sign=-1)


def test_no_critical_point_is_a_complete_answer():
    r = analyse("exp(1000*a)", "a")  # ∇f = 1000·exp(1000a) > 0
    assert r.critical.points == [] and r.critical.complete
    assert r.critical.method.startswith("symbolic") and "no real solution" in r.critical.notes[0]
    assert r.convexity.convex is True and r.convexity.strict


def test_kinks_withhold_convexity_claims():
    # relu'' = 0 almost everywhere, yet relu is convex and not concave: the Hessian proves nothing
    r = analyse("relu(a) - relu(-a)^2", "a")
    assert r.convexity.convex is not True and r.convexity.concave is not True
    assert any("not twice differentiable" in n for n in r.convexity.notes)
    # a witness at a smooth point still refutes: −relu(−a)² has f'' = −2 for a < 0
    assert r.convexity.convex is False
    assert_witness("relu(a) - relu(-a)^2", ["a"], {"a": r.convexity.witness["a"]})


# -- the other faces: Derivative.analyse, str, JSON, HTML, CLI ------------------------------------
def test_derivative_analyse_is_the_same_analysis():
    d = ricci.hessian("x1^2 - x2^2", ["x1", "x2"])
    r = d.analyse(at={"x1": 0, "x2": 0})
    assert r.point.classification == SADDLE
    d = ricci.derivative("x'*A*x", "x", kinds={"A": "symmetric matrix"})
    assert d.analyse(assume={"A": "pd"}).convexity.convex is True


def test_text_json_and_html():
    r = ricci.analyse("x^3 - 3*x*y^2", SCALARS2)
    text = str(r)
    assert "critical points" in text and "degenerate" in text and "convexity: not convex" in text
    data = json.loads(json.dumps(r.to_json()))
    [p] = data["critical_points"]["points"]
    assert p["classification"] == DEGENERATE and p["higher_order"]["verdict"] == "saddle point"
    assert data["convexity"]["convex"] is False
    page = r._repr_html_()
    assert page.startswith("<div") and "degenerate" in page and "<script" not in page


def test_cli(capsys):
    from ricci.cli import main

    assert main(["analyse", "x1^2 - x2^2", "--wrt", "x1,x2", "--at", "x1=0", "--at", "x2=0"]) == 0
    out = capsys.readouterr().out
    assert "saddle point" in out and "indefinite" in out
    assert main(["analyse", "x'*A*x", "--wrt", "x", "--at", "A=[2,0;0,3]", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["critical_points"]["points"][0]["classification"] == MINIMUM
    assert main(["analyse", "sin(x)*cos(y)", "--wrt", "x,y", "--box=-2:2", "--no-convexity"]) == 0
    assert capsys.readouterr().out.count("local maximum") == 1
    assert main(["analyse", "x'*A*x", "--wrt", "x", "--kind", "A=symmetric", "--assume", "A=psd"]) == 0
    assert "convex everywhere" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["analyse", "A*x", "--wrt", "x"], "needs a scalar function"),
    (["analyse", "x'*A*x", "--wrt", "x", "--assume", "A=round"], "unknown assumption"),
    (["analyse", "x^2 + y^2", "--wrt", "x,y", "--box", "a:b"], "--box"),
    (["analyse", "x^2 + y^2", "--wrt", "x,y", "--at", "x=1"], "give every variable"),
    (["analyse", "x^2 + y^2", "--wrt", "x,y", "--at", "z=1"], "does not use"),
])
def test_cli_errors_are_messages_not_tracebacks(argv, message, capsys):
    from ricci.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# -- bad inputs: RicciErrors with clear messages ---------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda: analyse("A*x", "x"), ricci.KindError, "scalar function"),
    (lambda: analyse("x'*x", "z"), ricci.RicciError, "z"),
    (lambda: analyse("x'*A*x", "x", at={"q": 1}), ricci.UnknownNameError, "does not use"),
    (lambda: analyse("x'*A*x", "x", at={"x": [1, 2]}), ricci.UnknownNameError, "no value for A"),
    (lambda: analyse("x^2 + y^2", SCALARS2, at={"x": 1}), ricci.UnknownNameError, "give every variable"),
    (lambda: analyse("x'*A*x", "x", assume={"B": "psd"}), ricci.UnknownNameError, "does not use"),
    (lambda: analyse("x'*A*x", "x", assume={"A": "round"}), ricci.KindError, "unknown assumption"),
    (lambda: analyse("x'*A*x", "x", assume={"x": "psd"}), ricci.KindError, "definiteness"),
    (lambda: analyse("x'*A*x", "x", at={"A": [[1, 0], [0, -1]]}, assume={"A": "psd"}), ricci.BadValueError,
     "assumed psd"),
    (lambda: analyse("x^2 + y^2", SCALARS2, box=(1, -1)), ricci.BadValueError, "lo < hi"),
    (lambda: analyse("x^2 + y^2", SCALARS2, box={"z": (0, 1)}), ricci.UnknownNameError, "box names z"),
    (lambda: analyse("x^2 + y^2", SCALARS2, box={"x": (0, 1)}), ricci.BadValueError, "no interval for y"),
    (lambda: analyse("x^2 + y^2", SCALARS2, at={"x": 0, "y": 0}, box=(0, 1)), ricci.BadValueError, "box"),
    (lambda: analyse("x^2 + y^2", SCALARS2, method="guess"), ricci.BadValueError, "method"),
    (lambda: analyse("x^2 + y^2", SCALARS2, samples=-1), ricci.BadValueError, "samples"),
    (lambda: analyse("x'*x", "x", box=(0, 1)), ricci.BadValueError, "length of x is not fixed"),
    (lambda: analyse("x'*x", "x", at="x=1"), ricci.BadValueError, "at must be a dict"),
    (lambda: analyse("log(x)", "x", kinds={"x": "scalar"}, at={"x": -1.0}), ricci.RicciError, "log"),
    (lambda: analyse("norm2(x)", "x", at={"x": [0.0, 0.0]}), ricci.BadValueError,
     "infinite at these values, although the function is not: its term (Σ x x)^-0.5"),
])
def test_bad_inputs(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_without_sympy_the_search_is_numerical(monkeypatch):
    import ricci.analysis.to_sympy as T

    monkeypatch.setattr(T, "sympy", lambda: None)
    r = analyse("x^4 + y^4", SCALARS2)
    assert r.critical.method.startswith("numerical")
    assert any("SymPy is not installed" in n for n in r.critical.notes)
    [p] = r.critical.points
    assert p.classification == DEGENERATE
    assert p.higher_order.verdict == "minimum" and not p.higher_order.proven  # evidence only
    check_critical_point("x^4 + y^4", SCALARS2, p)
    # the structural proofs that need no algebra still hold
    assert analyse("norm2(y - Phi*theta)^2", "theta").convexity.convex is True
    with pytest.raises(ricci.RicciError, match="needs SymPy"):
        analyse("x^2 + y^2", SCALARS2, method="symbolic")


# -- random functions: no crash, and no proof that the numbers contradict ------------------------

@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(expressions(target="scalar", max_depth=2, smooth=True), st.data())
def test_random_functions_are_analysed_soundly(sample, data):
    e = ricci.parse(sample.text, sample.kinds)
    h_assume(e.variables)
    wrt = data.draw(st.sampled_from(sorted(e.variables)))
    try:
        r = analyse(sample.text, wrt, kinds=sample.kinds, samples=10, starts=10)
    except ricci.RicciError:
        return  # e.g. nothing to analyse: a RicciError with a message is a fine answer
    c = r.convexity
    assert not any("inconsistent" in n for n in c.notes), c.notes
    label = c.proof.label
    if label is None:
        return
    # the proved definiteness holds at independent random points (the generator's values)
    for _ in range(3):
        values = data.draw(values_for(e))
        try:
            H = np.asarray(r.problem.hessian_d.evaluate(values), dtype=float)
        except ricci.RicciError:
            continue
        x = np.asarray(values[wrt], dtype=float)
        H = D.square(H, x.size, x.shape[0] if r.problem.wrt_kind == "symmetric matrix" else None)
        if not np.all(np.isfinite(H)):
            continue
        ev = D.symmetric_eigenvalues(H)
        tol = 1e-6 * max(1.0, np.abs(ev).max())
        if label in ("PD", "PSD", "zero"):
            assert ev.min() >= -tol, (sample.text, wrt, label, ev)
        if label in ("ND", "NSD", "zero"):
            assert ev.max() <= tol, (sample.text, wrt, label, ev)
