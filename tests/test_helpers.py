"""The test helpers, trusted on their own before the engine exists.

Finite differences of ``ricci.evaluate`` against derivatives written by hand in NumPy, for every
layout of ARCHITECTURE §1 and orders 1–4; the random inputs; and the referee
:func:`helpers.check_derivative` run against a stand-in engine (right answers pass, a transposed
answer fails).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    assert_close,
    check_derivative,
    compact_length,
    dimension_sizes,
    evaluate_answer,
    numeric_derivative,
    parse_answer,
    random_values,
    resolve_shape,
)

import ricci

RNG = np.random.default_rng(42)


def _vec(n):
    return RNG.uniform(-1, 1, n)


def _mat(m, n):
    return RNG.uniform(-1, 1, (m, n))


def _spd(n):
    g = _mat(n, n)
    return g @ g.T / n + np.eye(n)


# --- finite differences: the §1 layouts -----------------------------------------------------
def test_fd_scalar_by_scalar():
    t = 0.7
    got = numeric_derivative("sin(t)*t^2", "t", {"t": t}, kinds={"t": "scalar"})
    assert got.shape == ()
    assert_close(got, np.cos(t) * t**2 + 2 * t * np.sin(t), rtol=1e-8, what="d/dt")


def test_fd_scalar_by_vector_is_length_n():
    x, A = _vec(3), _mat(3, 3)
    got = numeric_derivative("x'*A*x", "x", {"x": x, "A": A})
    assert got.shape == (3,)
    assert_close(got, (A + A.T) @ x, rtol=1e-8, what="(A + A')x")


def test_fd_vector_by_scalar_is_column():
    t, y = 0.3, _vec(4)
    got = numeric_derivative("exp(t*y)", "t", {"t": t, "y": y}, kinds={"t": "scalar"})
    assert got.shape == (4,)
    assert_close(got, y * np.exp(t * y), rtol=1e-8, what="y .* exp(t y)")


def test_fd_jacobian_is_m_by_n():
    A, x = _mat(4, 3), _vec(3)
    got = numeric_derivative("sin(A*x)", "x", {"A": A, "x": x})
    assert got.shape == (4, 3)
    assert_close(got, np.cos(A @ x)[:, None] * A, rtol=1e-8, what="diag(cos(Ax)) A")


def test_fd_scalar_by_matrix_has_matrix_shape():
    a, X, b = _vec(3), _mat(3, 4), _vec(4)
    got = numeric_derivative("a'*X*b", "X", {"a": a, "X": X, "b": b}, kinds={"a": "vector", "b": "vector"})
    assert got.shape == (3, 4)
    assert_close(got, np.outer(a, b), rtol=1e-8, what="a b'")


def test_fd_vector_by_matrix_is_M_M_N():
    A, x = _mat(3, 4), _vec(4)
    got = numeric_derivative("A*x", "A", {"A": A, "x": x})
    assert got.shape == (3, 3, 4)
    assert_close(got, np.einsum("ij,k->ijk", np.eye(3), x), rtol=1e-8, what="δij xk")


def test_fd_matrix_by_matrix_is_N_N_M_N():
    R = _mat(3, 4)
    got = numeric_derivative("R'*R", "R", {"R": R})
    assert got.shape == (4, 4, 3, 4)
    eye = np.eye(4)
    expected = np.einsum("jp,iq->pqij", eye, R) + np.einsum("jq,ip->pqij", eye, R)
    assert_close(got, expected, rtol=1e-8, what="δjp Riq + δjq Rip")


def test_fd_wrt_list_of_scalars_is_row_of_partials():
    v = {"x1": 0.4, "x2": -0.8}
    got = numeric_derivative("exp(x1*x2^2)", ["x1", "x2"], v, kinds={"x1": "scalar", "x2": "scalar"})
    e = np.exp(0.4 * 0.64)
    assert got.shape == (2,)
    assert_close(got, [0.64 * e, 2 * 0.4 * -0.8 * e], rtol=1e-8, what="row of partials")


def test_fd_wrt_list_through_where_bindings():
    s, t = 0.6, -0.3
    got = numeric_derivative("x1^2*x2 where x1 = s*t, x2 = s + t", ["s", "t"], {"s": s, "t": t},
                             kinds={"s": "scalar", "t": "scalar"})
    x1, x2 = s * t, s + t
    assert_close(got, [2 * x1 * x2 * t + x1**2, 2 * x1 * x2 * s + x1**2], rtol=1e-8, what="chain rule")


# --- higher orders ----------------------------------------------------------------------------
def test_fd_hessian_of_quadratic_form():
    x, B = _vec(3), _mat(3, 3)
    got = numeric_derivative("x'*B*x", "x", {"x": x, "B": B}, order=2)
    assert got.shape == (3, 3)
    assert_close(got, B + B.T, rtol=1e-8, what="B + B'")


def test_fd_hessian_of_least_squares():
    y, P, th = _vec(5), _mat(5, 3), _vec(3)
    got = numeric_derivative("norm2(y - Phi*theta)^2", "theta", {"y": y, "Phi": P, "theta": th}, order=2)
    assert_close(got, 2 * P.T @ P, rtol=1e-8, what="2 Phi'Phi")


def test_fd_hessian_wrt_matrix_is_order_four():
    X, U, V = _mat(4, 5), _mat(4, 3), _mat(5, 3)
    got = numeric_derivative("norm2(X - U*V')^2", "U", {"X": X, "U": U, "V": V}, order=2)
    assert got.shape == (4, 3, 4, 3)
    assert_close(got, 2 * np.einsum("ac,bd->abcd", np.eye(4), V.T @ V), rtol=1e-7, what="2 δac (V'V)bd")


def test_fd_hessian_of_log_sum_exp():
    x = _vec(4)
    p = np.exp(x) / np.exp(x).sum()
    got = numeric_derivative("log(sum(exp(x)))", "x", {"x": x}, order=2)
    assert_close(got, np.diag(p) - np.outer(p, p), rtol=1e-8, what="diag(p) - p p'")


def test_fd_third_derivative_of_sum_exp():
    x = _vec(4)
    got = numeric_derivative("sum(exp(x))", "x", {"x": x}, order=3)
    assert got.shape == (4, 4, 4)
    expected = np.zeros((4, 4, 4))
    expected[np.arange(4), np.arange(4), np.arange(4)] = np.exp(x)
    assert_close(got, expected, rtol=1e-6, what="δijk exp(xi)")


def test_fd_fourth_derivative_of_squared_norm_squared():
    x = _vec(3)
    got = numeric_derivative("(x'*x)^2", "x", {"x": x}, order=4)
    assert got.shape == (3, 3, 3, 3)
    d = np.eye(3)
    expected = 8 * (np.einsum("ij,kl->ijkl", d, d) + np.einsum("ik,jl->ijkl", d, d)
                    + np.einsum("il,jk->ijkl", d, d))
    assert_close(got, expected, rtol=1e-5, what="8(δijδkl + δikδjl + δilδjk)")


def test_fd_third_derivative_of_a_quadratic_is_zero():
    x = _vec(3)
    got = numeric_derivative("x'*x", "x", {"x": x}, order=3)
    assert got.shape == (3, 3, 3)
    assert_close(got, np.zeros((3, 3, 3)), rtol=1e-6, what="0")


def test_fd_second_order_wrt_list():
    v = {"x1": 0.5, "x2": -0.4}
    got = numeric_derivative("x1^2 - x2^2", ["x1", "x2"], v, kinds={"x1": "scalar", "x2": "scalar"}, order=2)
    assert_close(got, [[2, 0], [0, -2]], rtol=1e-8, what="diag(2, -2)")


# --- symmetric matrices: the unconstrained convention -----------------------------------------
def test_fd_symmetric_wrt_is_unconstrained():
    x, W = _vec(3), _spd(3)
    kinds = {"W": "symmetric matrix"}
    got = numeric_derivative("x'*W*x", "W", {"x": x, "W": W}, kinds=kinds)
    # entry (i, j) perturbed alone: x x', not the symmetrised 2 x x' - diag(x∘x)
    assert_close(got, np.outer(x, x), rtol=1e-8, what="x x'")
    # other variables stay symmetric: the evaluator still refuses a non-symmetric W
    with pytest.raises(ricci.BadValueError):
        ricci.evaluate("x'*W*x", {"x": x, "W": _mat(3, 3)}, kinds)


def test_fd_logdet_of_symmetric():
    W = _spd(4)
    got = numeric_derivative("logdet(W)", "W", {"W": W}, kinds={"W": "symmetric matrix"})
    assert_close(got, np.linalg.inv(W), rtol=1e-8, what="inv(W)")


def test_fd_other_symmetric_variable_unchanged():
    s, x, A, W = _vec(3), _vec(4), _mat(4, 3), _spd(4)
    got = numeric_derivative("(x - A*s)'*W*(x - A*s)", "s", {"x": x, "A": A, "s": s, "W": W},
                             kinds={"W": "symmetric matrix"})
    assert_close(got, -2 * A.T @ W @ (x - A @ s), rtol=1e-8, what="-2A'W(x - As)")


def test_fd_rejects_unknown_wrt():
    with pytest.raises(ValueError):
        numeric_derivative("x'*x", "y", {"x": _vec(3)})


# --- random values ----------------------------------------------------------------------------
def test_random_values_give_each_dimension_its_own_size():
    v = random_values("tr(A*X*B)")
    shapes = {n: np.shape(a) for n, a in v.items()}
    assert set(shapes) == {"A", "X", "B"}
    m, n = shapes["X"]
    assert m != n and shapes["A"][1] == m and shapes["B"][0] == n and shapes["A"][0] == shapes["B"][1]
    assert len({*shapes["A"], *shapes["X"]}) == 3


def test_random_values_sizes_and_kinds():
    v = random_values("a'*X*b + c", {"a": "vector", "b": "vector"}, sizes=4)
    assert v["X"].shape == (4, 4) and v["a"].shape == (4,) and isinstance(v["c"], float)
    v = random_values("x'*A*x")
    assert v["A"].shape == (3, 3) and not np.allclose(v["A"], v["A"].T)  # no accidental symmetry
    dims = ricci.parse("A*x").variables["A"].dims
    v = random_values("A*x", sizes={dims[0]: 6, dims[1]: 2})
    assert v["A"].shape == (6, 2) and v["x"].shape == (2,)


def test_random_values_domains():
    v = random_values("logdet(X) + det(Y) + sum(log(x)) + sum(sqrt(y)) + a'*inv(Z)*a",
                      {"a": "vector"})
    for name in ("X", "Y", "Z"):
        assert np.allclose(v[name], v[name].T) and np.all(np.linalg.eigvalsh(v[name]) > 0.5)
    assert np.all(v["x"] > 0) and np.all(v["y"] > 0)
    assert np.any(v["a"] < 0)
    w = random_values("x'*W*x", {"W": "symmetric matrix"})
    assert np.allclose(w["W"], w["W"].T)
    assert np.all(np.abs(random_values("sum(abs(x))", seed=3)["x"]) >= 0.1)
    assert np.all(random_values("x'*y", positive=True)["y"] > 0)


def test_random_values_are_reproducible():
    a, b = random_values("A*x", seed=7), random_values("A*x", seed=7)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = random_values("A*x", seed=8)
    assert not np.array_equal(a["A"], c["A"])


def test_dimension_sizes_and_resolve_shape():
    v = random_values("A*x")
    sizes = dimension_sizes("A*x", v)
    m, n = ricci.parse("A*x").variables["A"].dims
    assert sizes[m] == v["A"].shape[0] and sizes[n] == v["x"].shape[0]
    assert resolve_shape((m, m, n), sizes) == (v["A"].shape[0],) * 2 + (v["x"].shape[0],)
    assert resolve_shape((2,), sizes) == (2,)


# --- answers in the input language -------------------------------------------------------------
def test_parse_answer_uses_the_question_kinds():
    kinds = {"a": "vector", "b": "vector", "X": "matrix"}
    e = parse_answer("a*b'", kinds)
    assert e.kinds == {"a": "vector", "b": "vector"}
    assert parse_answer("a*b'", kinds) == parse_answer("a * b.T", kinds)
    assert parse_answer("x'*(B + B')", {"x": "vector", "B": "matrix"}) != parse_answer(
        "x'*(B' + B)", {"x": "vector", "B": "matrix"})


def test_evaluate_answer_pins_open_sizes():
    x = _vec(3)
    got = evaluate_answer("2*eye", {"x": x}, {"x": "vector"}, expression="x'*x", wrt="x", order=2)
    assert_close(got, 2 * np.eye(3), rtol=1e-12, what="2*eye")
    X = _mat(3, 4)
    got = evaluate_answer("2*sum(X)*matrix(1)", {"X": X}, {"X": "matrix"}, expression="sum(X)^2", wrt="X")
    assert_close(got, 2 * X.sum() * np.ones((3, 4)), rtol=1e-12, what="2 sum(X) 1 1'")
    with pytest.raises(ricci.BadValueError):
        evaluate_answer("eye", {}, {})


def test_assert_close():
    assert_close([1.0, 2.0], [1.0, 2.0 + 1e-9], rtol=1e-8, what="ok")
    with pytest.raises(AssertionError):
        assert_close([1.0, 2.0], [1.0, 2.1], rtol=1e-8, what="bad")
    with pytest.raises(AssertionError):
        assert_close(np.zeros((2, 3)), np.zeros((3, 2)), rtol=1e-8, what="shape")


def test_compact_length_ignores_spaces():
    assert compact_length("x' * (B + B')") == len("x'*(B+B')")


# --- the referee, against a stand-in engine ---------------------------------------------------
class _FakeDerivative:
    def __init__(self, text, shape, fn):
        self.text, self.shape, self._fn, self.latex = text, shape, fn, text

    def evaluate(self, values):
        return self._fn(values)


def _install(monkeypatch, answer):
    monkeypatch.setattr(ricci, "derivative", lambda e, wrt, order=1, kinds=None: answer, raising=False)


def test_check_derivative_accepts_a_right_answer(monkeypatch):
    kinds = {"a": "vector", "b": "vector"}
    m, n = ricci.parse("a'*X*b", kinds).variables["X"].dims
    _install(monkeypatch, _FakeDerivative("a*b'", (m, n), lambda v: np.outer(v["a"], v["b"])))
    r = check_derivative("a'*X*b", "X", kinds=kinds, closed=lambda v: np.outer(v["a"], v["b"]), book="a*b'")
    assert r.book_matches is True and r.got.shape == r.values["X"].shape


def test_check_derivative_records_a_different_but_equal_form(monkeypatch):
    n = ricci.parse("x'*B*x").variables["x"].dims[0]
    _install(monkeypatch, _FakeDerivative("x'*B + x'*B'", (n,), lambda v: (v["B"] + v["B"].T) @ v["x"]))
    r = check_derivative("x'*B*x", "x", closed=lambda v: (v["B"] + v["B"].T) @ v["x"], book="x'*(B + B')")
    assert r.book_matches is False


def test_check_derivative_rejects_a_transposed_answer(monkeypatch):
    kinds = {"a": "vector", "b": "vector"}
    m, n = ricci.parse("a'*X*b", kinds).variables["X"].dims
    _install(monkeypatch, _FakeDerivative("b*a'", (n, m), lambda v: np.outer(v["b"], v["a"])))
    with pytest.raises(AssertionError):
        check_derivative("a'*X*b", "X", kinds=kinds)


def test_check_derivative_rejects_text_that_disagrees(monkeypatch):
    n = ricci.parse("x'*B*x").variables["x"].dims[0]
    _install(monkeypatch, _FakeDerivative("2*x'*B", (n,), lambda v: (v["B"] + v["B"].T) @ v["x"]))
    with pytest.raises(AssertionError):
        check_derivative("x'*B*x", "x")


def test_check_derivative_rejects_a_wrong_closed_form_before_the_engine(monkeypatch):
    def engine(*args, **kwargs):  # pragma: no cover - must not be reached
        raise RuntimeError("the references are checked first")

    monkeypatch.setattr(ricci, "derivative", engine, raising=False)
    with pytest.raises(AssertionError):
        check_derivative("x'*B*x", "x", closed=lambda v: 2 * v["B"] @ v["x"])
    with pytest.raises(AssertionError):
        check_derivative("x'*B*x", "x", book="2*x'*B")


def test_check_derivative_tensor_skips_text(monkeypatch):
    M, N = ricci.parse("A*x").variables["A"].dims
    _install(monkeypatch, _FakeDerivative("δ_ij x_k", (M, M, N),
                                          lambda v: np.einsum("ij,k->ijk", np.eye(len(v["A"])), v["x"])))
    r = check_derivative("A*x", "A")
    assert r.text_value is None and r.got.ndim == 3


def test_random_values_shapes():
    v = random_values("logdet(X'*X)", shapes={"X": (5, 3)})
    assert v["X"].shape == (5, 3)
    v = random_values("det(X'*A*X)", shapes={"X": (5, 2)})
    assert v["X"].shape == (5, 2) and v["A"].shape == (5, 5)
    assert np.all(np.linalg.eigvalsh(v["A"]) > 0.5)  # square and under det: SPD
