"""A symmetric variable packed as an isometry, and H·v's fast path at a prepared point.

The packed coordinates of a symmetric S are S_ii and √2·S_ij (i > j): the flat vector's norm is
S's Frobenius norm, so f = ½‖S‖² has the identity for its Hessian in them (checked against the
closed form, not against ricci); bounds stay in the user's units (the projection onto S ≥ c is
max(B, c) entry by entry); the gradient in the packed coordinates against central differences of
f through the packing.  H·v's cost in Python calls at a prepared point is counted with
sys.setprofile (deterministic, no clock).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")  # the solve extra

import ricci  # noqa: E402
from helpers import python_and_c_calls  # noqa: E402
from ricci.solve.objective import Objective  # noqa: E402
from ricci.solve.problem import build  # noqa: E402

SYM = {"S": "symmetric matrix"}


def _spd(n, seed):
    A = np.random.default_rng(seed).standard_normal((n, 2 * n))
    return A @ A.T / (2 * n)


def test_the_packing_is_an_isometry_and_round_trips():
    B = _spd(6, 1)
    problem, _ = build("tr(S*B)", "S", {"B": B}, None, None, SYM)
    z = problem.pack({"S": B})
    assert z.size == 21
    np.testing.assert_allclose(np.linalg.norm(z), np.linalg.norm(B, "fro"), rtol=1e-14)
    S = problem.unpack(z)["S"]
    assert np.array_equal(S, S.T)
    np.testing.assert_allclose(S, B, rtol=1e-14, atol=1e-15)


def test_half_the_squared_norm_has_the_identity_for_hessian_in_the_packed_coordinates():
    # f = ½‖S‖_F² = ½‖z‖² in an isometric packing: H = I (by a triangle of plain entries it was
    # diag(1 on the diagonal, 2 off it): the conditioning a trust region or L-BFGS-B pays for)
    problem, start = build("tr(S*S)/2", "S", {}, {"S": np.eye(4)}, None, SYM)
    obj = Objective(problem, start)
    np.testing.assert_allclose(obj.hess(start), np.eye(10), atol=1e-14)


def test_gradient_in_the_packed_coordinates_against_central_differences():
    C = _spd(5, 2)
    problem, _ = build("-logdet(S) + tr(C*S) + lambda*sum(sqrt(S.^2 + epsilon))", "S",
                       {"C": C, "lambda": 0.1, "epsilon": 1e-2}, None, None, SYM)
    S0 = np.eye(5) + 0.1 * C
    z = problem.pack({"S": S0})
    obj = Objective(problem, z)
    _, g = obj.value_and_grad(z)

    def f(zz):  # f of the matrix the packing stands for, by NumPy alone
        S = problem.unpack(zz)["S"]
        return -np.linalg.slogdet(S)[1] + np.sum(C * S) + 0.1 * np.sum(np.sqrt(S ** 2 + 1e-2))

    h = 1e-6
    fd = np.array([(f(z + h * e) - f(z - h * e)) / (2 * h) for e in np.eye(z.size)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    # and H·v against differences of that gradient
    v = np.random.default_rng(3).standard_normal(z.size)
    hv = obj.hessp(z, v)
    fd_hv = (obj.value_and_grad(z + h * v)[1] - obj.value_and_grad(z - h * v)[1]) / (2 * h)
    np.testing.assert_allclose(hv, fd_hv, rtol=1e-5, atol=1e-7)


def test_bounds_of_a_symmetric_variable_stay_in_the_users_units():
    # min ‖S − B‖² over symmetric S ≥ c: the projection max(B, c), entry by entry
    B = _spd(4, 4) - 0.3
    c = 0.05
    r = ricci.minimize("tr((S - B)*(S - B))", "S", {"B": B}, kinds=SYM, bounds=[f"S >= {c}"],
                       x0={"S": np.full((4, 4), 1.0)}, tol=1e-12)
    np.testing.assert_allclose(r.x["S"], np.maximum(B, c), atol=1e-6)


def test_an_infeasible_symmetric_start_is_named_in_the_users_units():
    S0 = np.full((3, 3), -0.5) + 1.5 * np.eye(3)  # off the diagonal -0.5, below the bound 0
    with pytest.raises(ricci.RicciError, match=r"S\[1, 0\] = -0\.5 is outside \[0, inf\]"):
        ricci.minimize("tr(S*S)", "S", {}, kinds=SYM, bounds=["S >= 0"], x0={"S": S0})


def _calls_per_product(problem_args, n_products=20, in_solve=True):
    problem, start = build(*problem_args)
    obj = Objective(problem, start)
    rng = np.random.default_rng(0)
    vs = rng.standard_normal((n_products, start.size))
    obj.hessp(start, vs[0])  # prepares the point

    def products():
        for v in vs[1:]:
            obj.hessp(start, v)

    if in_solve:  # as SciPy calls it: NumPy's error state set once for the solve
        with obj.quietly():
            _, count = python_and_c_calls(products)
    else:
        _, count = python_and_c_calls(products)
    return count / (n_products - 1)


def test_a_product_at_a_prepared_point_costs_few_python_calls():
    # the covariance problem's wrapper: 29 calls a product before (value comparison by
    # array_equal, np.errstate, a dict of the directions, fold's dict), 14 in a solve now
    C = _spd(8, 5)
    args = ("-logdet(S) + tr(C*S) + lambda*sum(sqrt(S.^2 + epsilon))", "S",
            {"C": C, "lambda": 0.1, "epsilon": 1e-4}, {"S": np.eye(8)}, None, SYM)
    assert _calls_per_product(args) <= 16
    assert _calls_per_product(args, in_solve=False) <= 22  # with its own np.errstate
    # a vector variable the same
    X = np.random.default_rng(6).standard_normal((30, 4))
    y = np.sign(X[:, 0])
    assert _calls_per_product(("sum(log(1 + exp(-y .* (X*w)))) + w'*w", "w", {"X": X, "y": y}, None, None,
                               None)) <= 18


def test_products_at_a_point_changed_in_place_are_taken_at_the_new_point():
    # the point is compared by value: SciPy may change its array in place
    C = _spd(4, 7)
    problem, start = build("-logdet(S) + tr(C*S)", "S", {"C": C}, {"S": np.eye(4)}, None, SYM)
    obj = Objective(problem, start)
    z = start.copy()
    v = np.random.default_rng(8).standard_normal(z.size)
    obj.hessp(z, v)
    z *= 2.0  # S = 2I: H·V = S⁻¹ V S⁻¹ = V/4
    V = problem.unpack(v)["S"]
    expected = problem.pack({"S": V / 4})
    # the packed gradient pairs with packed directions: ⟨e_k, H·v⟩ in the same isometric coordinates
    np.testing.assert_allclose(obj.hessp(z, v), expected, rtol=1e-12, atol=1e-14)
