"""The fixed cost of a ``ricci.minimize`` call and the H·v product's wrapper (issue 19, cov4).

The domain guards' data-free part (finding the calls, printing and typing each argument) is kept
per (f's text, kinds, names solved for) beside the generated code; what reads the data (the sign
analysis with the data fixed) runs on every call.  H·v at a prepared point is one closure bound
at the point.  Counted here by ``sys.setprofile`` (Python and C calls: deterministic, unlike a
clock); the values are checked against finite differences, closed forms and a cold cache.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import python_and_c_calls

import ricci
import ricci.deep
from ricci.solve import domain
from ricci.solve.objective import Objective
from ricci.solve.problem import build

COV = "-logdet(S) + tr(C*S) + lambda*sum(sqrt(S.^2 + epsilon))"


def _count(fn, *args):
    out, n = python_and_c_calls(lambda: fn(*args))
    return n, out


def _cov_data(p, seed=5):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((p, 2 * p))
    return {"C": A @ A.T / (2 * p), "lambda": 0.1, "epsilon": 1e-4}


def _cov_problem(p, data=None):
    return build(COV, "S", data or _cov_data(p), {"S": np.eye(p)}, None, {"S": "symmetric matrix"})


def _solve(p):
    return ricci.minimize(COV, "S", _cov_data(p), x0={"S": np.eye(p)}, tol=1e-9,
                          kinds={"S": "symmetric matrix"}, certify=False)


def test_warm_set_up_calls_bounded(inside):
    # a warm second call's set-up (checking the data, the objective with its guards and the
    # start's evaluation): 1,103 calls at p = 20 when the guards were analysed on every call
    problem, start = _cov_problem(20)
    Objective(problem, start)
    n_build, (problem, start) = _count(_cov_problem, 20)
    n_obj, obj = _count(Objective, problem, start)
    assert [g.call for g in obj.guards] == ["logdet(S)"]
    assert n_build + n_obj < 700, (n_build, n_obj)
    n_guards, _ = _count(domain.guards, problem)
    assert n_guards < 300, n_guards  # 733 before


def _guard_summary(gs):
    return [(g.call, g.domain, g.need(), g.reads, g.scalar) for g in gs]


def test_cache_keys_kinds_names_expression_and_data():
    domain._PLANS.clear()
    # the same text, another kind: x a vector (every entry) or a scalar
    vec, _ = build("sum(log(x)) + x'*x", "x", {}, {"x": np.ones(3)}, None, {"x": "vector"})
    sca, _ = build("sum(log(x)) + x'*x", "x", {}, {"x": 1.0}, None, {"x": "scalar"})
    assert _guard_summary(domain.guards(vec)) == [("log(x)", "positive", "every entry of x > 0", ("x",), False)]
    assert _guard_summary(domain.guards(sca)) == [("log(x)", "positive", "x > 0", ("x",), True)]
    assert _guard_summary(domain.guards(vec)) == [("log(x)", "positive", "every entry of x > 0", ("x",), False)]
    # the same text, other names solved for: each reads its own variable
    text = "sum(log(w)) + sum(log(c)) + w'*w + c'*c"
    on_w, _ = build(text, "w", {"c": np.ones(2)}, {"w": np.ones(2)}, None, {"w": "vector", "c": "vector"})
    on_c, _ = build(text, "c", {"w": np.ones(2)}, {"c": np.ones(2)}, None, {"w": "vector", "c": "vector"})
    assert [g.call for g in domain.guards(on_w)] == ["log(w)"]
    assert [g.call for g in domain.guards(on_c)] == ["log(c)"]
    # another expression
    other, _ = build("-logdet(S) + tr(S)", "S", {}, {"S": np.eye(2)}, None, {"S": "symmetric matrix"})
    assert [g.call for g in domain.guards(other)] == ["logdet(S)"]
    # the same text and kinds, other data: the sign analysis reads the values on every call
    # (epsilon > 0 proves sqrt's argument positive; epsilon < 0 does not)
    pos, _ = _cov_problem(3)
    neg, _ = _cov_problem(3, {**_cov_data(3), "epsilon": -1.0})
    assert [g.call for g in domain.guards(pos)] == ["logdet(S)"]
    got = domain.guards(neg)
    assert [(g.call[:5], g.domain) for g in got] == [("logde", "positive definite"), ("sqrt(", "nonnegative")]
    assert not got[1].holds({**neg.data, "S": np.eye(3) * 0.5})  # 0.25 - 1 < 0
    assert got[1].holds({**neg.data, "S": np.eye(3) * 0.0 + 2.0})
    assert [g.call for g in domain.guards(pos)] == ["logdet(S)"]
    # the guards hold and fail where they should, whatever size reads the kept plan
    for p in (2, 5):
        problem, _ = _cov_problem(p)
        (g,) = domain.guards(problem)
        assert g.holds({**problem.data, "S": np.eye(p)})
        assert not g.holds({**problem.data, "S": -np.eye(p)})


def test_cache_is_bounded():
    domain._PLANS.clear()
    for k in range(domain._PLANS_MAX + 5):
        problem, _ = build(f"sum(log(x)) + {k + 1}*x'*x", "x", {}, {"x": np.ones(2)}, None, {"x": "vector"})
        domain.guards(problem)
    assert len(domain._PLANS) == domain._PLANS_MAX


@pytest.mark.parametrize("p", [3, 20])
def test_warm_solve_equals_cold_solve(p):
    domain._PLANS.clear()
    cold = _solve(p)
    warm = _solve(p)
    assert warm.nit == cold.nit and warm.nfev == cold.nfev and warm.nhev == cold.nhev
    np.testing.assert_allclose(warm.x["S"], cold.x["S"], rtol=1e-12, atol=1e-14)
    assert abs(warm.fun - cold.fun) <= 1e-12 * abs(cold.fun)
    # and the solution is the problem's: the KKT condition written by hand,
    # -inv(S) + C + lambda*S./sqrt(S.^2 + epsilon) = 0 over the symmetric matrices
    d = _cov_data(p)
    S = warm.x["S"]
    G = -np.linalg.inv(S) + d["C"] + d["lambda"] * S / np.sqrt(S ** 2 + d["epsilon"])
    assert np.abs(G).max() < 1e-6


def _packed_hessian_fd(obj, z, h=1e-5):
    """Central differences of the packed gradient, column by column."""
    cols = []
    for i in range(z.size):
        e = np.zeros(z.size)
        e[i] = h
        cols.append((obj.value_and_grad(z + e)[1] - obj.value_and_grad(z - e)[1]) / (2 * h))
    return np.column_stack(cols)


def test_product_calls_bounded_and_values(inside):
    problem, start = _cov_problem(20)
    obj = Objective(problem, start)
    rng = np.random.default_rng(3)
    z = start + 0.01 * rng.standard_normal(start.size)
    obj.value_and_grad(z)
    with obj.quietly():
        obj.hessp(z, rng.standard_normal(z.size))  # prepared at z
        v = rng.standard_normal(z.size)
        n, out = _count(obj.hessp, z.copy(), v)
    assert n <= 10, n  # 16 before (the split, the join, the point compared through a helper)
    # against the generic split and join of the same prepared function, exactly
    apply = obj._hvp[1](**obj._args(z))
    np.testing.assert_array_equal(out, problem.join((apply(*problem.split(v)),)))


@pytest.mark.parametrize("p", [2, 4])
def test_symmetric_product_equals_finite_differences(p):
    problem, start = _cov_problem(p)
    obj = Objective(problem, start)
    rng = np.random.default_rng(p)
    z = start + 0.05 * rng.standard_normal(start.size)
    H = _packed_hessian_fd(obj, z)
    for seed in (1, 2):
        v = np.random.default_rng(seed).standard_normal(z.size)
        np.testing.assert_allclose(obj.hessp(z, v), H @ v, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(obj.hessp(list(z), list(v)), H @ v, rtol=1e-5, atol=1e-6)


def test_vector_scalar_and_several_variable_products():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((6, 3))
    y = rng.standard_normal(6)
    problem, start = build("norm2(X*w - y)^2 + lambda*w'*w", "w", {"X": X, "y": y, "lambda": 0.3}, None, None, None)
    obj = Objective(problem, start)
    v = rng.standard_normal(3)
    np.testing.assert_allclose(obj.hessp(start + 1.0, v), (2 * X.T @ X + 0.6 * np.eye(3)) @ v, rtol=1e-12)
    # H·v of w'*w/2 is the direction itself: the product is a new array
    problem, start = build("w'*w/2", "w", {}, {"w": np.ones(3)}, None, {"w": "vector"})
    obj = Objective(problem, start)
    v = np.array([1.0, 2.0, 3.0])
    out = obj.hessp(start, v)
    out[0] = 99.0
    assert v[0] == 1.0
    # a scalar variable: (a - 3)^4 + a^2 has f'' = 12 (a - 3)^2 + 2
    problem, start = build("(a - 3)^4 + a^2", "a", {}, {"a": 1.0}, None, {"a": "scalar"})
    obj = Objective(problem, start)
    np.testing.assert_allclose(obj.hessp(np.array([1.0]), np.array([0.5])), [(12 * 4 + 2) * 0.5], rtol=1e-12)
    # two variables: against central differences of the gradient
    M = np.abs(rng.standard_normal((4, 3)))
    problem, start = build("norm2(M - U*V')^2", "U,V", {"M": M}, {"U": np.ones((4, 2)), "V": np.ones((3, 2))},
                           None, None)
    obj = Objective(problem, start)
    z = start + 0.1 * rng.standard_normal(start.size)
    H = _packed_hessian_fd(obj, z)
    v = rng.standard_normal(z.size)
    np.testing.assert_allclose(obj.hessp(z, v), H @ v, rtol=1e-5, atol=1e-6)
