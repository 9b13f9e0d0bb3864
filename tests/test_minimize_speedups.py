"""The solver's speed-ups (issue 19) keep its answers: the augmented Lagrangian's inexact inner
solves, a constraint's value from generated code, the generated code of a constraint kept for the
next solve.  No timings here (those are in benchmarks/minimize.py); each answer is checked against
an independent reference (an exact KKT solution, NumPy arithmetic).
"""

from __future__ import annotations

import numpy as np
from helpers import simplex_data, simplex_kkt
import pytest

pytest.importorskip("scipy")  # the solve extra; before anything imports it

import scipy.optimize as so  # noqa: E402

import ricci  # noqa: E402
from ricci.solve import constraints as C  # noqa: E402
from ricci.solve import lagrangian  # noqa: E402
from ricci.solve.problem import build  # noqa: E402

QP = "p'*Q*p + q'*p"


@pytest.mark.parametrize("n, seed", [(8, 0), (60, 1), (200, 3)])
def test_simplex_quadratic_with_inexact_rounds_is_the_exact_kkt_point(n, seed):
    Q, q = simplex_data(n, seed)
    r = ricci.minimize(QP, "p", {"Q": Q, "q": q}, constraints=["sum(p) == 1", "p >= 0"], tol=1e-10,
                       certify=False)
    ref = simplex_kkt(Q, q, r.x["p"])[0]
    f_ref = ref @ Q @ ref + q @ ref
    assert r.success
    assert abs(r.fun - f_ref) <= 1e-9 * max(1.0, abs(f_ref))
    np.testing.assert_allclose(r.x["p"], ref, atol=1e-6)
    assert abs(r.x["p"].sum() - 1) <= 1e-9 and (r.x["p"] >= 0).all()


def test_the_first_rounds_are_solved_loosely_and_the_last_to_tol():
    """GENO's (and LANCELOT's) schedule: the inner tolerance starts loose and tightens each
    round down to tol; the solve may end only after a round solved to tol."""
    Q, q = simplex_data(40, 2)
    problem, start = build(QP, "p", {"Q": Q, "q": q}, None, ["p >= 0"], None)
    cons = C.build(["sum(p) == 1"], problem, {"p": "vector", "Q": "matrix", "q": "vector"}, "python")
    from ricci.solve.objective import Objective

    gtols = []

    class Recording:
        Bounds = so.Bounds

        @staticmethod
        def minimize(*args, **kwargs):
            gtols.append(kwargs["options"]["gtol"])
            return so.minimize(*args, **kwargs)

    tol = 1e-10
    z, info = lagrangian.solve(problem, Objective(problem, start), cons, start, tol, 10_000, None, Recording)
    assert info["success"]
    assert gtols[0] > 1e3 * tol  # loose at first
    assert all(b <= a for a, b in zip(gtols, gtols[1:]))  # never loosened
    assert gtols[-1] == tol
    ref = simplex_kkt(Q, q, z)[0]
    np.testing.assert_allclose(z, ref, atol=1e-6)


@pytest.mark.parametrize("text, kinds, reference", [
    ("sum(p) == 1", {"p": "vector"}, lambda v: np.array([v["p"].sum() - 1])),
    ("A*p <= b", {"p": "vector"}, lambda v: v["A"] @ v["p"] - v["b"]),
    ("p' >= b'", {"p": "vector"}, lambda v: v["b"] - v["p"]),
    ("norm2(p)^2 <= 1", {"p": "vector"}, lambda v: np.array([v["p"] @ v["p"] - 1])),
    ("P*P' == M", {"P": "matrix"}, lambda v: (v["P"] @ v["P"].T - v["M"]).reshape(-1)),
])
def test_a_constraints_value_comes_from_generated_code_and_equals_numpy(text, kinds, reference):
    rng = np.random.default_rng(7)
    name = next(iter(kinds))
    values = {"p": rng.standard_normal(3), "A": rng.standard_normal((2, 3)), "b": rng.standard_normal(3),
              "P": rng.standard_normal((3, 3)), "M": rng.standard_normal((3, 3))}
    if text.startswith("A*p"):
        values["b"] = rng.standard_normal(2)
    f = "norm2(p)^2" if name == "p" else "norm2(P)^2"
    used = {n: v for n, v in values.items() if n != name and n in text}
    problem, _ = build(f, name, used, {name: values[name]}, None, kinds, other_names=tuple(used))
    all_kinds = {**kinds, **{n: ("matrix" if np.ndim(v) == 2 else "vector") for n, v in used.items()}}
    (c,) = C.build([text], problem, all_kinds, "python")
    assert c.code is not None
    at = {**used, name: values[name]}
    first = c.value(at)  # the evaluator's, which fixes c's shape
    np.testing.assert_allclose(first, reference(at), rtol=1e-12, atol=1e-12)
    for _ in range(3):  # then the generated code's
        point = {**at, name: rng.standard_normal(np.shape(values[name]))}
        np.testing.assert_allclose(c.value(point), reference(point), rtol=1e-12, atol=1e-12)


def test_a_constraint_not_finite_still_names_the_subexpression():
    problem, _ = build("norm2(p)^2", "p", {}, {"p": np.ones(3)}, None, {"p": "vector"})
    (c,) = C.build(["sum(log(p)) <= 1"], problem, {"p": "vector"}, "python")
    assert c.code is not None
    c.value({"p": np.ones(3)})
    with pytest.raises(ricci.BadValueError, match="log"):
        c.value({"p": np.array([1.0, -1.0, 2.0])})


def test_a_constraints_generated_code_is_kept_for_the_next_solve():
    Q, q = simplex_data(5, 4)
    ricci.minimize(QP, "p", {"Q": Q, "q": q}, constraints=["sum(p) == 1", "p >= 0"], certify=False)
    before = C._generated.cache_info().hits
    r = ricci.minimize(QP, "p", {"Q": 2 * Q, "q": q}, constraints=["sum(p) == 1", "p >= 0"], certify=False)
    assert C._generated.cache_info().hits == before + 1
    ref = simplex_kkt(2 * Q, q, r.x["p"])[0]  # and the answer is the new data's
    np.testing.assert_allclose(r.x["p"], ref, atol=1e-6)


def test_no_point_is_evaluated_twice_in_a_row(monkeypatch):
    """The start (f0, then SciPy's first call) and the solution (the last point L-BFGS-B
    evaluated, then the result's f and ∇f) cost one pass over the data each, not two."""
    from ricci.solve import objective

    rng = np.random.default_rng(8)
    X = rng.standard_normal((200, 5))
    y = np.where(X @ rng.standard_normal(5) + 0.5 * rng.standard_normal(200) > 0, 1.0, -1.0)
    points = []
    original = objective.compiled

    def counting(*args, **kwargs):
        fn = original(*args, **kwargs)

        def call(**values):
            points.append(np.array(values["w"], dtype=float))
            return fn(**values)
        return call

    monkeypatch.setattr(objective, "compiled", counting)
    lam = 0.5
    r = ricci.minimize("sum(log(1 + exp(-y .* (X*w)))) + lambda*w'*w", "w", {"X": X, "y": y, "lambda": lam},
                       tol=1e-10, certify=False)
    assert not any(np.array_equal(a, b) for a, b in zip(points, points[1:]))
    # the solver's evaluations, and the check that its end is a minimum (solve/unbounded.py: one
    # evaluation beyond the end, counted apart)
    assert len(points) == r.nfev + r.check_nfev and r.check_nfev == 1

    def f(w):  # the reference: SciPy's L-BFGS-B on the same function written in NumPy here
        z = -y * (X @ w)
        s = 1 / (1 + np.exp(-z))
        return np.sum(np.logaddexp(0, z)) + lam * w @ w, -(y * s) @ X + 2 * lam * w

    ref = so.minimize(f, np.zeros(5), jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-16})
    np.testing.assert_allclose(r.x["w"], ref.x, rtol=1e-6, atol=1e-8)
    assert abs(r.fun - ref.fun) <= 1e-12 * abs(ref.fun)


def test_a_stalled_l_bfgs_b_is_restarted_to_a_stationary_point():
    """NMF from this random start: L-BFGS-B stopped after 15 iterations on "relative reduction
    of f" with a projected gradient of 300 (and called it converged); restarted from there it
    reaches a KKT point, checked here with the gradient written in NumPy."""
    rng = np.random.default_rng(6)
    m, n, k = 300, 200, 10
    X = np.abs(rng.standard_normal((m, k))) @ np.abs(rng.standard_normal((k, n))) + 0.1 * np.abs(
        rng.standard_normal((m, n)))
    U0, V0 = 0.5 * np.abs(rng.standard_normal((m, k))), 0.5 * np.abs(rng.standard_normal((n, k)))
    r = ricci.minimize("norm2(X - U*V')^2", "U,V", {"X": X}, x0={"U": U0, "V": V0}, bounds=["U >= 0", "V >= 0"],
                       tol=1e-7, certify=False)
    U, V = r.x["U"], r.x["V"]
    R = X - U @ V.T
    gU, gV = -2 * R @ V, -2 * R.T @ U
    projected = max(np.abs(U - np.clip(U - gU, 0, None)).max(), np.abs(V - np.clip(V - gV, 0, None)).max())
    f = np.sum(R ** 2)
    assert projected <= 1e-3 * f
    assert abs(r.fun - f) <= 1e-12 * f
    assert r.success and any("restarted" in note for note in r.notes)
