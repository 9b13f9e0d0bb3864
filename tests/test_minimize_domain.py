"""The domain of f in ``ricci.minimize``: a trial point where logdet's argument is not positive
definite, or log's argument not positive, is rejected so that the line search backtracks; the
start must be inside (an error naming the variable otherwise); the domains come from the
function table's entries (``Function.domain``), and arguments the sign analysis proves inside
cost nothing.

References are independent of ricci: closed forms (the minimiser of -logdet(S) + tr(C*S) is
C⁻¹, of c'*w - Σ log wᵢ is 1/c), gradients written by hand, and CVXPY on the same data.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")

import ricci  # noqa: E402
from ricci.cli import main  # noqa: E402
from ricci.functions import Function, registered  # noqa: E402

COVARIANCE = "-logdet(S) + tr(C*S) + lambda*sum(sqrt(S.^2 + epsilon))"
SYMMETRIC = {"S": "symmetric matrix"}
LAM, EPS = 0.1, 1e-4


def _covariance_data(p, scale, seed=5):
    """benchmarks/minimize.py's covariance data (C = AA'/(2p)), in units ``scale`` times larger:
    the minimiser is then near 0, and a first step from S = I leaves the positive definite cone."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((p, 2 * p))
    return scale * A @ A.T / (2 * p)


def _covariance_f(C, S):
    return float(-np.linalg.slogdet(S)[1] + np.sum(C * S) + LAM * np.sum(np.sqrt(S ** 2 + EPS)))


def _covariance_gradient(C, S):
    # written by hand: -S⁻¹ + C + λ S ⊘ sqrt(S² + ε) (S symmetric)
    return -np.linalg.inv(S) + C + LAM * S / np.sqrt(S ** 2 + EPS)


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_covariance_at_p20_reaches_a_stationary_positive_definite_point(scale):
    # scale 100 stopped before: "f is not finite (nan) after 0 iteration(s)" (a line search
    # stepped out of the cone, where logdet is nan); from the general-matrix S of the benchmark,
    # "unbounded below" (det S > 0 again beyond the cone)
    C = _covariance_data(20, scale)
    r = ricci.minimize(COVARIANCE, "S", {"C": C, "lambda": LAM, "epsilon": EPS}, kinds=SYMMETRIC,
                       x0={"S": np.eye(20)}, tol=1e-9, certify=False)
    assert r.success, r.message
    S = r.x["S"]
    assert np.linalg.eigvalsh(S).min() > 0  # positive definite
    assert np.abs(_covariance_gradient(C, S)).max() < 1e-4 * max(1.0, scale)
    if scale > 1:
        assert any("outside the domain of f (logdet(S) needs S positive definite)" in n for n in r.notes), r.notes


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_covariance_at_p20_reaches_cvxpy_objective(scale):
    cp = pytest.importorskip("cvxpy")
    C = _covariance_data(20, scale)
    r = ricci.minimize(COVARIANCE, "S", {"C": C, "lambda": LAM, "epsilon": EPS}, kinds=SYMMETRIC,
                       x0={"S": np.eye(20)}, tol=1e-9, certify=False)
    S = cp.Variable((20, 20), symmetric=True)
    smooth = cp.norm(cp.vstack([cp.vec(S, order="C"), np.full(400, EPS ** 0.5)]), 2, axis=0)
    cp.Problem(cp.Minimize(-cp.log_det(S) + cp.trace(C @ S) + LAM * cp.sum(smooth))).solve()
    theirs, ours = _covariance_f(C, S.value), _covariance_f(C, r.x["S"])
    assert ours <= theirs + 1e-6 * abs(theirs), (ours, theirs)  # as low as CVXPY's, to 1e-6
    assert abs(ours - theirs) <= 1e-6 * abs(theirs), (ours, theirs)


@pytest.mark.parametrize("method", ["auto", "trust-krylov", "newton"])
def test_inverse_covariance_from_far_outside_reaches_the_inverse(method):
    # the minimiser of -logdet(S) + tr(C*S) is C⁻¹; with C large, S = I is far from it
    C = _covariance_data(6, 100.0, seed=0)
    r = ricci.minimize("-logdet(S) + tr(C*S)", "S", {"C": C}, kinds=SYMMETRIC, x0={"S": np.eye(6)}, method=method)
    assert r.success, r.message
    np.testing.assert_allclose(r.x["S"], np.linalg.inv(C), rtol=1e-5, atol=1e-7 * np.abs(np.linalg.inv(C)).max())


@pytest.mark.parametrize("method", ["auto", "newton-cg", "trust-krylov", "newton"])
def test_log_barrier_steps_back_into_positive_entries(method):
    # c'*w - Σ log wᵢ is minimised at w = 1/c; from w = 1 the first step lands on negative entries
    c = np.array([50.0, 3.0, 200.0])
    r = ricci.minimize("c'*w - sum(log(w))", "w", {"c": c}, x0={"w": np.ones(3)}, method=method)
    assert r.success, r.message
    np.testing.assert_allclose(r.x["w"], 1 / c, rtol=1e-6)
    assert any("log(w) needs every entry of w > 0" in n for n in r.notes), r.notes


def test_a_start_outside_the_domain_names_the_variable_in_each_surface(capsys, tmp_path):
    C = _covariance_data(3, 1.0)
    with pytest.raises(ricci.RicciError, match=r"the start is outside the domain of f: logdet\(S\) needs S positive "
                                               r"definite, which fails at the start; .*x0=\{'S': \.\.\.\}"):
        ricci.minimize("-logdet(S) + tr(C*S)", "S", {"C": C}, kinds=SYMMETRIC)  # the default start, S = 0
    with pytest.raises(ricci.RicciError, match=r"log\(w\) needs every entry of w > 0"):
        ricci.minimize("c'*w - sum(log(w))", "w", {"c": np.ones(2)}, x0={"w": np.array([1.0, -1.0])})
    np.save(tmp_path / "C.npy", C)
    assert main(["minimize", "-logdet(S) + tr(C*S)", "--wrt", "S", "--kind", "S=symmetric", "--data",
                 f"C={tmp_path / 'C.npy'}"]) == 2
    assert "--x0 S=..." in capsys.readouterr().err


def _guards(expression, wrt, data, **kw):
    from ricci.solve.domain import guards
    from ricci.solve.problem import build

    problem, _ = build(expression, wrt, data, kw.get("x0"), None, kw.get("kinds"))
    return [(g.call, g.domain) for g in guards(problem)]


def test_arguments_the_sign_analysis_proves_inside_are_not_checked():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 2)), np.sign(rng.standard_normal(5))
    # log(1 + exp(...)) > 0 for every w: nothing to check per evaluation
    assert _guards("sum(log(1 + exp(-y .* (X*w)))) + lambda*w'*w", "w", {"X": X, "y": y, "lambda": 1.0}) == []
    C = np.eye(2)
    # sqrt(S.^2 + epsilon) with the data epsilon > 0 is proved; logdet(S) is checked
    assert _guards(COVARIANCE, "S", {"C": C, "lambda": LAM, "epsilon": EPS}, kinds=SYMMETRIC) == [
        ("logdet(S)", "positive definite")]
    # with epsilon < 0 the argument of sqrt may be negative: checked as well
    assert _guards(COVARIANCE, "S", {"C": C, "lambda": LAM, "epsilon": -1.0}, kinds=SYMMETRIC) == [
        ("logdet(S)", "positive definite"), ("sqrt(S.^2 + epsilon)", "nonnegative")]
    # an argument of the data alone is not a trial point's business
    assert _guards("w'*w - sum(log(c))", "w", {"c": np.ones(2)}, x0={"w": np.ones(2)}) == []


def _halflog(domain):
    return Function("halflog", "elementwise", lambda a: 0.5 * np.log(a), None, "0.5/u", "d halflog(u) = du / (2u)",
                    xp=lambda xp, u: 0.5 * xp.log(u), code={"default": lambda p, a: p.Code(
                        f"0.5 * {p.call(p.m('log'), a.text).text}", p.MUL)}, domain=domain)


def test_the_domain_is_read_from_the_function_table():
    # a new entry with a domain is kept in it; the same entry without one is not checked
    c = np.array([4.0, 0.5])
    with registered(_halflog("positive")):
        assert _guards("c'*w - sum(halflog(w))", "w", {"c": c}) == [("halflog(w)", "positive")]
        r = ricci.minimize("c'*w - sum(halflog(w))", "w", {"c": c}, x0={"w": np.ones(2)})
        np.testing.assert_allclose(r.x["w"], 0.5 / c, rtol=1e-6)  # c = 1/(2w)
    with registered(_halflog(None)):
        assert _guards("c'*w - sum(halflog(w))", "w", {"c": c}) == []
    with pytest.raises(ValueError, match="domain 'convex' is not one of"):
        with registered(_halflog("convex")):
            pass
