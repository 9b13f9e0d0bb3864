"""``d.check`` is independent of the evaluator it checks, at every order (issue 22).

Every order k is compared with k-th differences of the function's own values
(:func:`ricci.finite_differences.mixed_difference`), never with differences of ricci's
order-(k − 1) derivative: a flaw that the orders share (the same evaluator computes them all)
cannot hide, and a flaw of one order is reported at that order alone.  The flaws are made by
standing a wrong ``Derivative.evaluate`` in for the right one, for chosen orders.
"""

from __future__ import annotations

import numpy as np
import pytest

import ricci
from ricci import numeric_check as nc
from ricci.derivation import Derivative
from ricci.finite_differences import mixed_difference, symmetrise_slots

RIGHT = Derivative.evaluate


def _break(monkeypatch, orders, slip):
    """Derivative.evaluate of the given orders returns ``slip(right value)`` (every derivative:
    the lower orders that d.check makes for itself too)."""
    def evaluate(self, values):
        value = RIGHT(self, values)
        return slip(np.asarray(value, dtype=float)) if self.order in orders else value

    monkeypatch.setattr(Derivative, "evaluate", evaluate)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_a_flaw_of_one_order_is_caught_at_that_order_alone(monkeypatch, order):
    # (before: a wrong order 1 made order 2 look wrong too, its differences being of order 1)
    d = ricci.derivative("sum(log(1 + exp(A*x)))", "x", 3)
    _break(monkeypatch, {order}, lambda v: v * (1 + 1e-3))
    r = d.check(seed=0)
    assert not r.passed
    for res in r.results:
        for k, e in enumerate(res.level_errors, start=1):
            assert (e > 1e-4) if k == order else (e < 1e-6), (k, res.level_errors)


def test_a_flaw_shared_by_the_higher_orders_is_caught_at_each(monkeypatch):
    # orders 2 and 3 both twice the truth: order 3 against differences of order 2 agreed (the
    # shared factor cancelled), against differences of f it does not
    d = ricci.derivative("x'*x*sum(sin(x))", "x", 3)
    _break(monkeypatch, {2, 3}, lambda v: 2 * v)
    r = d.check(seed=1)
    assert not r.passed
    for res in r.results:
        assert res.level_errors[0] < 1e-9
        assert res.level_errors[1] > 0.1 and res.level_errors[2] > 0.1


def test_a_flaw_shared_by_every_order_is_caught_at_each(monkeypatch):
    d = ricci.derivative("sum(exp(A*x))", "x", 3)
    _break(monkeypatch, {1, 2, 3}, lambda v: v + 1e-3 * np.max(np.abs(v)))
    r = d.check(seed=2)
    assert not r.passed
    assert all(e > 1e-5 for res in r.results for e in res.level_errors)


def test_a_third_derivative_that_should_be_zero_is_caught(monkeypatch):
    d = ricci.derivative("x'*B*x", "x", 3)
    assert d.check(seed=3).passed
    _break(monkeypatch, {3}, lambda v: v + 1e-3)
    r = d.check(seed=3)
    assert not r.passed and all(res.level_errors[2] > 1e-5 for res in r.results)


@pytest.mark.parametrize("text, order", [("logdet(X)", 3), ("x'*X*X*x", 2), ("tr(X*X*X)", 3)])
def test_a_symmetric_wrt_is_checked_from_f_at_every_order(monkeypatch, text, order):
    d = ricci.derivative(text, "X", order, {"X": "symmetric matrix"})
    r = d.check(seed=4)
    assert r.passed, str(r)
    # a flaw in the part along symmetric directions (slot 2 on) is caught
    _break(monkeypatch, {order}, lambda v: v + 1e-3 * np.max(np.abs(v)) + 1e-3)
    r = d.check(seed=4)
    assert not r.passed and all(res.level_errors[-1] > 1e-5 for res in r.results)


def test_given_values_are_checked_from_f_at_order_3(monkeypatch):
    rng = np.random.default_rng(5)
    values = {"x": rng.uniform(-1, 1, 10), "A": rng.uniform(-1, 1, (6, 10))}
    d = ricci.derivative("sum(log(1 + exp(A*x)))", "x", 3)
    assert d.check(values).passed
    _break(monkeypatch, {2, 3}, lambda v: v * (1 + 1e-4))
    r = d.check(values)
    assert r.results[0].level_errors[1] > 1e-5 and r.results[0].level_errors[2] > 1e-5


# -- the differences themselves, against closed forms ------------------------------------------------


def _exp_and_quartic(a, b):
    """f(x) = [exp(a'x), (b'x)^4] and its third derivative, in closed form."""
    def f(v):
        x = np.asarray(v["x"], dtype=float)
        return np.array([np.exp(a @ x), (b @ x) ** 4])

    def third(x):
        aaa = np.einsum("i,j,k->ijk", a, a, a)
        bbb = np.einsum("i,j,k->ijk", b, b, b)
        return np.stack([aaa * np.exp(a @ x), 24 * (b @ x) * bbb])

    return f, third


def test_third_differences_match_a_closed_form():
    rng = np.random.default_rng(6)
    a, b, x = rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 5)
    f, third = _exp_and_quartic(a, b)
    fd = mixed_difference(f, "x", {"x": x}, 3)
    assert fd.ok and fd.measured is None and fd.value.shape == (2, 5, 5, 5)
    want = third(x)
    assert np.max(np.abs(fd.value - want)) <= 1e-7 * np.max(np.abs(want))
    assert fd.uncertainty < 1e-6 * np.max(np.abs(want))


def test_second_differences_match_a_closed_form_for_a_list_of_scalars():
    def f(v):
        return np.asarray(np.sin(v["p"]) * np.exp(v["q"]) * v["p"] ** 2)

    p, q = 0.7, -0.4
    fd = mixed_difference(f, ["p", "q"], {"p": p, "q": q}, 2)
    d_pp = (2 * np.sin(p) + 4 * p * np.cos(p) - p ** 2 * np.sin(p)) * np.exp(q)
    d_pq = (np.cos(p) * p ** 2 + 2 * p * np.sin(p)) * np.exp(q)
    d_qq = np.sin(p) * p ** 2 * np.exp(q)
    assert np.allclose(fd.value, [[d_pp, d_pq], [d_pq, d_qq]], rtol=1e-9, atol=0)


def test_symmetric_differences_are_the_symmetrised_derivative():
    # f(X) = exp(tr(C X)), C not symmetric: D³f = C⊗C⊗C f; slot 1 plain, slots 2, 3 along
    # E_ij + E_ji, as symmetrise_slots makes of the plain tensor
    rng = np.random.default_rng(7)
    C = rng.uniform(-0.5, 0.5, (3, 3))
    X = rng.uniform(-0.5, 0.5, (3, 3))
    X = X + X.T

    def f(v):
        return np.asarray(np.exp(np.trace(C @ v["X"])))

    plain = np.einsum("ij,kl,mn->ijklmn", C.T, C.T, C.T) * f({"X": X})
    fd = mixed_difference(f, "X", {"X": X}, 3, symmetric=True)
    want = symmetrise_slots(plain, 3)
    assert not np.allclose(want, plain)  # the symmetrisation is not vacuous here
    assert np.max(np.abs(fd.value - want)) <= 1e-7 * np.max(np.abs(want))


def test_the_cost_is_the_combinations_of_entries():
    # order 3 in a vector of 10 entries: 220 combinations (not 1000 orderings) of 8 points at 3
    # steps, with points shared between combinations looked up once
    calls = []

    def f(v):
        calls.append(1)
        return np.asarray(np.sum(np.sin(v["x"])))

    fd = mixed_difference(f, "x", {"x": np.linspace(-1, 1, 10)}, 3)
    assert fd.ok and len(calls) <= 1 + 220 * 8 * 3
    x = np.linspace(-1, 1, 10)
    diagonal = np.zeros((10, 10, 10))
    diagonal[np.arange(10), np.arange(10), np.arange(10)] = -np.cos(x)
    assert np.max(np.abs(fd.value - diagonal)) < 1e-7


def test_a_limit_measures_a_sample_of_the_entries():
    def f(v):
        return np.asarray(np.exp(np.sum(v["x"])))

    x = np.full(10, 0.1)
    fd = mixed_difference(f, "x", {"x": x}, 3, limit=50, rng=np.random.default_rng(8))
    assert fd.ok and fd.measured is not None and fd.measured.shape == (10, 10, 10)
    # each combination fills its orderings: between 50 (all equal) and 300 (all distinct) entries
    assert 50 <= int(fd.measured.sum()) <= 300
    assert np.all(np.isnan(fd.value[~fd.measured]))
    assert np.allclose(fd.value[fd.measured], np.exp(1.0), rtol=1e-7)


def test_a_check_at_an_order_with_many_entries_compares_a_sample(monkeypatch):
    # a 3×4 matrix has 12 entries: 364 combinations at order 3, more than MAX_COMBINATIONS
    values = {"A": np.random.default_rng(9).uniform(-1, 1, (3, 4)), "x": np.linspace(-1, 1, 4)}
    d = ricci.derivative("sum(sin(A*x))", "A", 3)
    assert nc.MAX_COMBINATIONS < 364
    assert d.check(values).passed
    _break(monkeypatch, {3}, lambda v: v * (1 + 1e-3))
    assert not d.check(values).passed


def test_check_at_takes_its_draw_of_entries_from_rng():
    values = {"A": np.random.default_rng(10).uniform(-1, 1, (3, 4)), "x": np.linspace(-1, 1, 4)}
    d = ricci.derivative("sum(sin(A*x))", "A", 3)
    one = nc.check_at(d, values, rng=np.random.default_rng(1))[0]
    two = nc.check_at(d, values, rng=np.random.default_rng(1))[0]
    assert one is not None and one.level_errors == two.level_errors
