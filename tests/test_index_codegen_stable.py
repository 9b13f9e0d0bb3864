"""The generated code of answers in index notation (ricci.codegen.from_index) uses the matrix
path's numerics (issue 22): the scaled norm where a power of a sum of squares appears, and a
solve where an inverse only multiplies (codegen/solves.py then decides, as on the matrix path,
whether the inverse computed once serves better).  Every backend (each skipped where its
package is missing), against d.evaluate and against references computed here in NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

import ricci
from helpers import backend_array

BACKENDS = ["numpy", "jax", "torch", "array_api"]
RNG = np.random.default_rng(22)


def _unit(v):
    """v/‖v‖ without forming ‖v‖² (which under- or overflows at 1e±200)."""
    m = np.max(np.abs(v))
    w = v / m
    return w / np.sqrt(np.sum(w * w))


def _norm(v):
    m = np.max(np.abs(v))
    return m * np.sqrt(np.sum((v / m) ** 2))


def _body(code: str) -> str:
    """The generated code after its docstring (which quotes the expression, inv and all)."""
    return code.split('"""')[-1]


def _run(d, backend, values):
    convert = backend_array(backend)
    f = d.function(backend)
    with np.errstate(all="ignore"):
        return np.asarray(f(**{n: convert(values[n]) for n in d.expression.variables}), dtype=float)


X0 = RNG.uniform(-1, 1, 4)
A0 = RNG.uniform(-1, 1, (2, 3))
M0 = RNG.uniform(-1, 1, (3, 2))


def _norm_times_matrix(scale):
    # ∂(norm2(x)*A)/∂x: A_pq x_i/‖x‖
    x = X0 * scale
    return {"x": x, "A": A0}, np.einsum("pq,i->pqi", A0, _unit(x))


def _norm_times_itself(scale):
    # ∂(norm2(X)*X)/∂X: δ_pi δ_qj ‖X‖ + X_pq X_ij/‖X‖
    X = M0 * scale
    want = np.einsum("pi,qj->pqij", np.eye(3), np.eye(2)) * _norm(X) + np.einsum("pq,ij->pqij", _unit(X), X)
    return {"X": X}, want


NORMS = [("norm2(x)*A", "x", _norm_times_matrix), ("norm2(X)*X", "X", _norm_times_itself)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("scale", [1.0, 1e-200, 1e200])
@pytest.mark.parametrize("expression, wrt, case", NORMS, ids=[c[0] for c in NORMS])
def test_a_power_of_a_sum_of_squares_is_scaled(expression, wrt, case, scale, backend):
    d = ricci.derivative(expression, wrt)
    assert d.matrix is None  # the index path
    values, want = case(scale)
    got = _run(d, backend, values)
    assert np.all(np.isfinite(got)), d.code(backend)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    np.testing.assert_allclose(got, d.evaluate(values), rtol=1e-12, atol=0)


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_the_scaled_norm_keeps_float32(backend):
    d = ricci.derivative("norm2(x)*A", "x")
    values, want = _norm_times_matrix(1e-30)  # ‖x‖² underflows in float32 (below 1e-45)
    convert = backend_array(backend)
    f = d.function(backend)
    args = {n: convert(np.asarray(v, dtype=np.float32)) for n, v in values.items()}
    if backend == "torch":
        args = {n: v.float() for n, v in args.items()}
    elif backend == "jax":
        args = {n: v.astype("float32") for n, v in args.items()}
    got = f(**args)
    assert str(got.dtype).endswith("float32")
    np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=1e-5)


B0 = RNG.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)
SOLVES = [
    # ∂(A*x*(y'*inv(B)*z))/∂A = δ_ij x_k (y'*inv(B)*z)
    ("A*x*(y'*inv(B)*z)", "A",
     {"A": RNG.uniform(-1, 1, (2, 4)), "x": RNG.uniform(-1, 1, 4), "y": RNG.uniform(-1, 1, 3),
      "z": RNG.uniform(-1, 1, 3), "B": B0},
     lambda v: np.einsum("ij,k->ijk", np.eye(2), v["x"]) * (v["y"] @ np.linalg.solve(v["B"], v["z"]))),
    # ∂(sum(exp(A*inv(B)*z))*X)/∂X = δ_pi δ_qj Σ exp(A*inv(B)*z)
    ("sum(exp(A*inv(B)*z))*X", "X",
     {"A": RNG.uniform(-1, 1, (2, 3)), "z": RNG.uniform(-1, 1, 3), "B": B0, "X": RNG.uniform(-1, 1, (2, 4))},
     lambda v: np.einsum("pi,qj->pqij", np.eye(2), np.eye(4))
     * np.sum(np.exp(v["A"] @ np.linalg.solve(v["B"], v["z"])))),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("expression, wrt, values, reference", SOLVES, ids=[c[0] for c in SOLVES])
def test_an_inverse_that_only_multiplies_is_a_solve(expression, wrt, values, reference, backend):
    d = ricci.derivative(expression, wrt)
    assert d.matrix is None  # the index path
    code = _body(d.code(backend))
    assert "solve(" in code and "inv(" not in code and "inverse(" not in code, code
    got = _run(d, backend, values)
    want = reference(values)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, d.evaluate(values), rtol=1e-12, atol=1e-14)


def test_an_inverse_that_is_part_of_the_answer_is_computed_once():
    # ∂(inv(A)*b)/∂A = -b inv(A)_pi inv(A)_jq: the inverse's entries are the answer
    d = ricci.derivative("inv(A)*b", "A")
    code = _body(d.code("numpy"))
    assert code.count("linalg.inv(") == 1 and "solve(" not in code, code
    A = B0
    got = d.function("numpy")(A=A, b=2.0)
    inv = np.linalg.inv(A)
    np.testing.assert_allclose(got, -2.0 * np.einsum("pi,jq->pqij", inv, inv), rtol=1e-12)

