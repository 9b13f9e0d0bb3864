"""Matrix-free products (``d.hvp()``, ``d.jvp()``, ``d.vjp()``, ``d.linear_operator``): each equals
the dense derivative applied to a direction, in every backend, and the generated code never forms
the dense Hessian or Jacobian.

The reference is the dense derivative of ``d.evaluate`` contracted with a random direction by
NumPy (``tensordot``), so the closed form is checked against ricci's IR evaluator, which the
other suites check against finite differences and JAX.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from test_codegen import ALL, _derivative, _values

import ricci
from ricci.codegen import python_name
from ricci.codegen.products import ProductError

RTOL = 1e-9

#: every Hessian (order 2, scalar function) of tests/test_codegen.py's table
HESSIANS = sorted(n for n, c in ALL.items() if c["order"] == 2 and not ricci.parse(
    c["expr"], dict(c["kinds"] or {}) | ({w: "scalar" for w in c["wrt"]} if isinstance(c["wrt"], list) else {})
).shape)
#: every first derivative of a scalar, vector or matrix function by one variable
JACOBIANS = sorted(n for n, c in ALL.items() if c["order"] == 1 and isinstance(c["wrt"], str)
                   and len(ricci.parse(c["expr"], c["kinds"]).shape) <= 2)


def _direction(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def _wrt_shape(d, values):
    if isinstance(d.wrt, list):
        return (len(d.wrt),)
    return np.shape(values[d.wrt])


def _to_backend(backend, a):
    if backend in ("numpy", "array_api"):
        return np.asarray(a, dtype=float) if np.ndim(a) else float(a)
    if backend == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        return jax.numpy.asarray(np.asarray(a, dtype=float))
    if backend == "array_api_strict":
        import array_api_strict as xp

        return xp.asarray(np.asarray(a, dtype=float))
    import torch

    return torch.as_tensor(np.asarray(a, dtype=float), dtype=torch.float64)


def _call(product, backend, values, direction):
    """The generated product in ``backend`` (importorskip before anything generates for it)."""
    if backend == "jax":
        pytest.importorskip("jax")
    elif backend == "torch":
        pytest.importorskip("torch")
    elif backend == "array_api_strict":
        pytest.importorskip("array_api_strict")
    fn = product.function("array_api" if backend == "array_api_strict" else backend)
    args = {python_name(n): _to_backend(backend, v) for n, v in values.items()}
    args[product.direction] = _to_backend(backend, direction)
    if backend == "array_api":
        args["xp"] = np
    elif backend == "array_api_strict":
        import array_api_strict

        args["xp"] = array_api_strict
    if backend == "jax":
        import jax

        out = jax.jit(fn)(**args)
    else:
        out = fn(**args)
    if hasattr(out, "detach"):
        out = out.detach().numpy()
    return np.asarray(out, dtype=float)


def _close(got, want, what):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    scale = max(1.0, float(np.abs(want).max()))
    assert np.allclose(got, want, rtol=RTOL, atol=1e-10 * scale), f"{what}: max error {np.abs(got - want).max()}"


# -- H·v ----------------------------------------------------------------------------------------

def test_the_table_has_hessians():
    # the parametrised tests below must not pass by running over nothing
    assert len(HESSIANS) >= 10 and "factorisation_hessian_4d" in HESSIANS


@pytest.mark.parametrize("backend", ["numpy", "array_api", "jax", "array_api_strict", "torch"])
@pytest.mark.parametrize("name", HESSIANS)
def test_hvp_equals_dense_hessian_times_v(name, backend):
    c = ALL[name]
    d = _derivative(c)
    values = _values(c)
    shape = _wrt_shape(d, values)
    v = _direction(shape)
    H = np.asarray(d.evaluate(values), dtype=float)
    want = np.tensordot(H, v, axes=len(shape)) if shape else H * v
    p = d.hvp()
    _close(p.evaluate(values, v), want, f"evaluate {name}: {p.text}")
    _close(_call(p, backend, values, v), want, f"{backend} {name}: {p.text}")


def test_hvp_of_a_quadratic_form_is_a_plus_a_transpose_times_v():
    # the example: the Hessian of x'*A*x applied to v is (A + A')*v, an n-vector
    p = ricci.hessian("x'*A*x", "x").hvp()
    rng = np.random.default_rng(0)
    A, x, v = rng.standard_normal((5, 5)), rng.standard_normal(5), rng.standard_normal(5)
    _close(p.function()(x=x, A=A, v=v), (A + A.T) @ v, p.text)
    assert "A + A'" in p.text


def _generated_body(src: str) -> str:
    return "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("#", '"')))


def test_factorisation_hvp_never_forms_the_4d_hessian():
    # ‖X − UV'‖² by U: the Hessian is m×k×m×k; its product with a direction is 2·D·V'V (m×k).
    d = ricci.hessian("norm2(X - U*V')^2", "U")
    p = d.hvp()
    src = p.code()
    body = _generated_body(src)
    assert "einsum" not in body and "zeros" not in body, src
    assert "d_U @ (V.T @ V)" in body, src  # the cheap order: k×k first, never (m×k)(k×n)(n×k)
    m, n, k = 300, 200, 5
    rng = np.random.default_rng(0)
    X, U, V, D = (rng.standard_normal(s) for s in ((m, n), (m, k), (n, k), (m, k)))
    fn = p.function()
    fn(X=X, U=U, V=V, v=D)  # warm-up: first-call allocations of NumPy are not the product's
    tracemalloc.start()
    try:
        out = fn(X=X, U=U, V=V, v=D)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _close(out, 2 * D @ V.T @ V, "2*D*V'*V")
    hessian_bytes = (m * k) ** 2 * 8  # 18 MB
    assert peak < 4 * m * k * 8 + 100_000, f"peak {peak} bytes; the dense Hessian is {hessian_bytes}"


def test_logistic_hvp_arrays_are_at_most_data_sized():
    # the logistic Hessian X'*diag(...)*X is n×n; H·v is X'*(c .* (X*v)): no n×n array at all
    p = ricci.hessian("sum(log(1 + exp(-y .* (X*w))))", "w").hvp()
    body = _generated_body(p.code())
    assert "X.T @ " not in body or "X @ d_w" in body, body
    assert "[:, None] * X" not in body, body  # the Hessian's scaled rows are never made
    m, n = 400, 300
    rng = np.random.default_rng(0)
    X, y, w, v = rng.standard_normal((m, n)), np.sign(rng.standard_normal(m)), rng.standard_normal(n), \
        rng.standard_normal(n)
    fn = p.function()
    fn(X=X, y=y, w=w, v=v)
    tracemalloc.start()
    try:
        fn(X=X, y=y, w=w, v=v)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < n * n * 8 / 4, f"peak {peak} bytes; an n×n array is {n * n * 8}"


# -- J·v and u'·J ---------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("name", JACOBIANS)
def test_jvp_and_vjp_equal_dense_jacobian_products(name, backend):
    c = ALL[name]
    d = _derivative(c)
    values = _values(c)
    J = np.asarray(d.evaluate(values), dtype=float)
    x_shape = np.shape(values[d.wrt])
    f_shape = J.shape[:J.ndim - len(x_shape)]
    v, u = _direction(x_shape, 2), _direction(f_shape, 3)
    jv = np.tensordot(J, v, axes=len(x_shape)) if x_shape else J * v
    uj = np.tensordot(u, J, axes=len(f_shape)) if f_shape else u * J
    pj, pv = d.jvp(), d.vjp()
    _close(pj.evaluate(values, v), jv, f"jvp {name}: {pj.text}")
    _close(pv.evaluate(values, u), uj, f"vjp {name}: {pv.text}")
    _close(_call(pj, backend, values, v), jv, f"{backend} jvp {name}: {pj.text}")
    _close(_call(pv, backend, values, u), uj, f"{backend} vjp {name}: {pv.text}")


def test_jvp_of_a_linear_map_is_the_map_applied():
    p = ricci.jacobian("A*x", "x").jvp()
    assert p.text == "A*v"
    p = ricci.jacobian("A*x", "x").vjp()
    assert p.text == "u'*A"


# -- the SciPy view -------------------------------------------------------------------------------

def test_linear_operator_of_a_hessian_and_a_jacobian():
    pytest.importorskip("scipy")
    from scipy.sparse.linalg import cg

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 6)), rng.standard_normal(40)
    d = ricci.hessian("0.5*norm2(X*w - y)^2 + lambda*w'*w", "w")
    values = {"X": X, "y": y, "w": np.zeros(6), "lambda": 0.3}
    H = d.linear_operator(values)
    assert H.shape == (6, 6)
    dense = X.T @ X + 0.6 * np.eye(6)
    _close(H @ np.eye(6), dense, "H as an operator")
    sol, info = cg(H, X.T @ y, rtol=1e-12)
    assert info == 0
    _close(sol, np.linalg.solve(dense, X.T @ y), "CG on the operator")
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    J = ricci.jacobian("tanh(W*x)", "x").linear_operator({"W": W, "x": x})
    dense = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    assert J.shape == (3, 4)
    _close(J @ np.eye(4), dense, "J")
    _close(J.T @ np.eye(3), dense.T, "J'")


# -- errors ---------------------------------------------------------------------------------------

def test_products_refuse_what_they_cannot_be():
    with pytest.raises(ProductError, match="scalar function"):
        ricci.jacobian("A*x", "x").hvp()
    with pytest.raises(ProductError, match="order 2"):
        ricci.hessian("x'*A*x", "x").jvp()
    assert issubclass(ProductError, ricci.RicciError)
