"""The fixed cost of one ``ricci.minimize`` call (issue 19): what was cut keeps every answer.

Correctness only (no timings; those are in benchmarks/RESULTS.md): a scalar constraint's value
comes from its generated code from the first call on, the Hessian's finiteness check of the NNLS
route still sends a non-finite Hessian back to the L-BFGS-B rounds, the flat sizes are ints, and
the simplex quadratic's solution, value and multiplier equal the KKT system's solved by NumPy.
"""

import numpy as np
import pytest

pytest.importorskip("scipy")

import ricci  # noqa: E402
from helpers import simplex_data, simplex_kkt  # noqa: E402
from ricci.solve import constraints as C  # noqa: E402
from ricci.solve import problem as P  # noqa: E402
from ricci.solve import quadratic  # noqa: E402


def _problem(n=6, seed=3):
    Q, q = simplex_data(n, seed)
    return P.build("p'*Q*p + q'*p", "p", {"Q": Q, "q": q}, None, ["p >= 0"], None)


def test_a_scalar_constraint_is_evaluated_by_its_generated_code_from_the_first_call(monkeypatch):
    problem, start = _problem()
    (c,) = C.build(["sum(p) == 1"], problem, {"p": "vector", "Q": "matrix", "q": "vector"}, "python")
    import ricci.evaluation as E

    def walk(*_a, **_k):  # the evaluator's walk is for a value that is not finite, or a shape unknown
        raise AssertionError("the evaluator walked sum(p) - 1")

    monkeypatch.setattr(E, "evaluate_expression", walk)
    rng = np.random.default_rng(0)
    for z in (start, rng.standard_normal(start.size)):
        got = c.value({**problem.data, **problem.unpack(z)})
        assert got.shape == (1,)
        assert got[0] == pytest.approx(z.sum() - 1, abs=1e-14)
        # its VJP reads the same shape: J'u = u·1
        vjp = c.vjp("p", {"Q": problem.data["Q"], "q": problem.data["q"], "p": z}, np.array([2.5]))
        np.testing.assert_allclose(vjp, np.full(z.size, 2.5))


def test_a_vector_constraint_still_learns_its_shape_from_the_evaluator():
    problem, start = _problem()
    A = np.arange(12.0).reshape(2, 6)
    problem.data["A"] = A
    (c,) = C.build(["A*p <= 1"], problem, {"p": "vector", "Q": "matrix", "q": "vector", "A": "matrix"}, "python")
    z = np.linspace(0, 1, 6)
    np.testing.assert_allclose(c.value({**problem.data, **problem.unpack(z)}), A @ z - 1)


def test_a_hessian_that_is_not_finite_goes_back_to_the_lbfgsb_rounds():
    problem, start = _problem()

    class Stub:
        def hess(self, z):
            H = np.eye(z.size)
            H[1, 2] = np.nan
            return H

    (c,) = C.build(["sum(p) == 1"], problem, {"p": "vector", "Q": "matrix", "q": "vector"}, "python")
    linear = {0: (np.ones((1, start.size)), np.array([-1.0]))}
    assert quadratic.solve(problem, Stub(), [c], start, 1e-10, linear) is None


def test_flat_sizes_are_ints():
    problem, _ = _problem(n=4)
    assert problem.flat_size("p") == 4 and type(problem.flat_size("p")) is int
    U = P.build("norm2(X - U*V')^2", "U,V", {"X": np.ones((3, 2))}, None, None, None, "python", {"k": 2})[0]
    assert [U.flat_size(n) for n in U.names] == [6, 4] and U.size == 10
    t = P.build("(t - 2)^2", "t", {}, None, None, None)[0]
    assert t.flat_size("t") == 1 and type(t.flat_size("t")) is int


@pytest.mark.parametrize("n", [5, 40, 200])
def test_the_simplex_solution_equals_the_kkt_systems(n):
    Q, q = simplex_data(n, 3)
    r = ricci.minimize("p'*Q*p + q'*p", "p", {"Q": Q, "q": q}, constraints=["sum(p) == 1", "p >= 0"],
                       tol=1e-10, certify=False)
    assert r.success and r.method == "augmented Lagrangian + NNLS"
    p = r.x["p"]
    ref, nu = simplex_kkt(Q, q, p)
    np.testing.assert_allclose(p, ref, atol=1e-9)
    assert r.fun == pytest.approx(float(ref @ Q @ ref + q @ ref), rel=1e-12, abs=1e-12)
    assert r.multipliers["sum(p) == 1"] == pytest.approx(nu, rel=1e-6, abs=1e-8)
    assert r.kkt_residual < 1e-8 and abs(p.sum() - 1) < 1e-12 and p.min() >= 0
    # the history has one entry per round and the start, each f equal to NumPy's at the iterate
    assert len(r.history["fun"]) == r.nit + 1
    assert r.history["fun"][-1] == pytest.approx(float(p @ Q @ p + q @ p), rel=1e-12, abs=1e-14)
