"""H·v prepared at a point (``Product.code(prepared=True)``, ``p.at(values)``): what does not read
the direction is computed once per point, and every product still equals the dense Hessian times
v, in every backend; ``ricci.minimize``'s Newton-CG and trust-krylov prepare once per point.

The reference is the dense Hessian of ``d.evaluate`` (ricci's IR evaluator, which the other
suites check against finite differences and JAX) contracted with random directions by NumPy,
as in tests/test_products.py; logistic regression's is also written out by hand.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest
from test_codegen import ALL, _derivative, _values
from test_products import HESSIANS, _close, _direction, _to_backend, _wrt_shape

import ricci
from ricci.codegen import python_name

LOGISTIC = "sum(log(1 + exp(-y .* (X*w)))) + lambda*w'*w"


def _prepared(product, backend, values):
    """The product prepared at ``values`` in ``backend`` (importorskip before generating)."""
    module = {"array_api_strict": "array_api_strict", "jax": "jax", "torch": "torch"}.get(backend)
    if module:
        pytest.importorskip(module)
    fn = product.function("array_api" if backend == "array_api_strict" else backend, prepared=True)
    args = {python_name(n): _to_backend(backend, v) for n, v in values.items()}
    if backend == "array_api":
        args["xp"] = np
    elif backend == "array_api_strict":
        args["xp"] = pytest.importorskip("array_api_strict")
    return fn(**args)


def _numbers(out):
    if hasattr(out, "detach"):
        out = out.detach().numpy()
    return np.asarray(out, dtype=float)


@pytest.mark.parametrize("backend", ["numpy", "array_api", "jax", "array_api_strict", "torch"])
@pytest.mark.parametrize("name", HESSIANS)
def test_prepared_hvp_equals_dense_hessian_times_each_direction(name, backend):
    c = ALL[name]
    d = _derivative(c)
    values = _values(c)
    shape = _wrt_shape(d, values)
    H = np.asarray(d.evaluate(values), dtype=float)
    apply = _prepared(d.hvp(), backend, values)
    # three directions at one point: the closure keeps nothing of the previous one
    for seed in (1, 2, 1):
        v = _direction(shape, seed)
        want = np.tensordot(H, v, axes=len(shape)) if shape else H * v
        _close(_numbers(apply(_to_backend(backend, v))), want, f"{backend} {name}, direction {seed}")


def _inner_source(source: str, name: str) -> str:
    """The source of the nested function ``name`` (the per-direction part)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.unparse(node)
    raise AssertionError(f"no function {name} in\n{source}")


def test_logistic_per_direction_part_is_x_v_and_its_transpose_product_only():
    p = ricci.hessian(LOGISTIC, "w").hvp()
    src = p.code(prepared=True)
    inner = _inner_source(src, "_hvp_0_in")
    assert "exp" not in inner and "X @ w" not in inner, src  # the sigmoids and X·w: once per point
    assert inner.count("@") == 2 and "X @ d_w" in inner, src  # X·v and (s ⊙ X·v)'·X
    assert "X @ w" in src and src.count("np.exp") == 2, src  # computed, once, at the point


class _CountingMatrix(np.ndarray):
    """An array that counts the matrix products it takes part in."""

    products = 0

    def __matmul__(self, other):
        _CountingMatrix.products += 1
        return np.asarray(self) @ other

    def __rmatmul__(self, other):
        _CountingMatrix.products += 1
        return other @ np.asarray(self)


def test_logistic_products_at_one_point_read_x_twice_each_and_x_w_once():
    rng = np.random.default_rng(0)
    m, n = 60, 5
    X = rng.standard_normal((m, n))
    y = np.sign(rng.standard_normal(m))
    w = rng.standard_normal(n)
    lam = 0.7
    p = ricci.hessian(LOGISTIC, "w").hvp()
    counted = X.view(_CountingMatrix)
    _CountingMatrix.products = 0
    apply = p.at({"X": counted, "y": y, "w": w, "lambda": lam})
    assert _CountingMatrix.products == 1  # X @ w
    s = 1 / (1 + np.exp(-y * (X @ w)))
    H = X.T @ ((s * (1 - s))[:, None] * X) + 2 * lam * np.eye(n)  # y² = 1; written by hand
    for k in range(4):
        v = rng.standard_normal(n)
        _close(apply(v), H @ v, f"direction {k}")
    assert _CountingMatrix.products == 1 + 2 * 4, _CountingMatrix.products


def test_at_refuses_a_missing_value():
    p = ricci.hessian(LOGISTIC, "w").hvp()
    with pytest.raises(ricci.RicciError, match="no value given for lambda"):
        p.at({"X": np.eye(2), "y": np.ones(2), "w": np.zeros(2)})


def test_linear_operator_prepares_once():
    pytest.importorskip("scipy")
    rng = np.random.default_rng(3)
    X, y, w = rng.standard_normal((40, 6)), np.sign(rng.standard_normal(40)), rng.standard_normal(6)
    d = ricci.hessian(LOGISTIC, "w")
    values = {"X": X, "y": y, "w": w, "lambda": 0.3}
    H = d.linear_operator(values)
    _close(H @ np.eye(6), np.asarray(d.evaluate(values), dtype=float), "H as an operator")


def _logistic_data(m=200, n=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    y = np.sign(X @ rng.standard_normal(n) + rng.standard_normal(m))
    return X, y


def _gradient(X, y, lam, w):
    # written by hand: -X'(y ⊙ σ(-y ⊙ Xw)) + 2λw
    return -X.T @ (y / (1 + np.exp(y * (X @ w)))) + 2 * lam * w


@pytest.mark.parametrize("method", ["newton-cg", "trust-krylov"])
def test_minimize_prepares_h_v_once_per_point(monkeypatch, method):
    pytest.importorskip("scipy")
    from ricci.solve import objective

    X, y = _logistic_data()
    prepared: list = []
    real = objective.compiled_hvp

    def counting(*args):
        p, fn = real(*args)

        def at(**values):
            prepared.append(np.array(values["w"]))
            return fn(**values)
        return p, at

    monkeypatch.setattr(objective, "compiled_hvp", counting)
    r = ricci.minimize(LOGISTIC, "w", {"X": X, "y": y, "lambda": 1.0}, method=method, tol=1e-10)
    assert r.success, r.message
    assert np.abs(_gradient(X, y, 1.0, r.x["w"])).max() < 1e-8
    # one preparation per point at which products were asked: fewer than the products
    distinct = {tuple(z) for z in prepared}
    assert len(prepared) == len(distinct), "a point was prepared twice in a row"
    assert r.nhev > len(prepared) >= 1, (r.nhev, len(prepared))


def test_minimize_compares_the_point_by_value(monkeypatch):
    # SciPy may hand the same x in a new array or reuse one array changed in place
    pytest.importorskip("scipy")
    from ricci.solve.objective import Objective
    from ricci.solve.problem import build

    X, y = _logistic_data(m=50, n=4)
    problem, start = build(LOGISTIC, "w", {"X": X, "y": y, "lambda": 0.5}, None, None, None)
    obj = Objective(problem, start)
    rng = np.random.default_rng(1)
    z = rng.standard_normal(4)
    s = 1 / (1 + np.exp(-y * (X @ z)))
    H = X.T @ ((s * (1 - s))[:, None] * X) + np.eye(4)
    v = rng.standard_normal(4)
    _close(obj.hessp(z, v), H @ v, "at z")
    z2 = z + 0.5
    s2 = 1 / (1 + np.exp(-y * (X @ z2)))
    H2 = X.T @ ((s2 * (1 - s2))[:, None] * X) + np.eye(4)
    z += 0.5  # the same array, changed in place: a new point
    _close(obj.hessp(z, v), H2 @ v, "at z changed in place")
    _close(obj.hessp(z2.copy(), v), H2 @ v, "at an equal copy")


@pytest.mark.parametrize("method", ["newton-cg", "trust-krylov", "newton"])
def test_several_variables_and_a_symmetric_one_solve_with_prepared_products(method):
    pytest.importorskip("scipy")
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((50, 4))
    C = Z.T @ Z / 50
    r = ricci.minimize("-logdet(S) + tr(C*S)", "S", {"C": C}, kinds={"S": "symmetric matrix"},
                       x0={"S": np.eye(4)}, method=method)
    assert r.success, r.message
    np.testing.assert_allclose(r.x["S"], np.linalg.inv(C), rtol=1e-6)  # the maximum-likelihood inverse
    X = rng.standard_normal((12, 8))
    r = ricci.minimize("norm2(X - U*V')^2", "U,V", {"X": X}, sizes={"k": 3}, method=method, tol=1e-9)
    assert r.success, r.message
    U, V = r.x["U"], r.x["V"]
    R = X - U @ V.T  # the gradients written by hand, -2RV and -2R'U, vanish there
    assert max(np.abs(R @ V).max(), np.abs(R.T @ U).max()) < 1e-7


# -- the split itself, on small hand-written functions ----------------------------------------------

def _split_function(source, name="f"):
    from ricci.codegen.emit import compile_function
    from ricci.codegen.prepared import split

    text = split(source, name, ["v"], "f_at", "f_in")
    return text, (compile_function("import numpy as np\n" + text, "f_at") if text else None)


def test_split_regroups_products_and_quotients_and_keeps_the_numbers():
    src = ("def f(a, b, v):\n"
           "    t = np.exp(a) * 2\n"
           "    u = a / (b @ v) / b * t\n"
           "    return (v / b / t) @ u + np.sum(a) * v[0]\n")
    text, f_at = _split_function(src)
    inner = _inner_source(text, "f_in")
    assert "exp" not in inner and "np.sum" not in inner, text
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(4), rng.uniform(1, 2, 4)
    from ricci.codegen.emit import compile_function

    whole = compile_function("import numpy as np\n" + src, "f")
    apply = f_at(a=a, b=b)
    for seed in (1, 2):
        v = np.random.default_rng(seed).standard_normal(4)
        assert np.isclose(apply(v), whole(a, b, v), rtol=1e-13)


@pytest.mark.parametrize("body", [
    "    t = a * 2\n    t[0] += v[0]\n    return t\n",  # writes into an array made at the point
    "    t = a * 2\n    t = t + v\n    return t\n",  # a name of the point assigned per direction
    "    a = a + v\n    return a\n",  # a parameter assigned per direction
])
def test_split_refuses_what_would_change_the_numbers(body):
    text, _ = _split_function("def f(a, v):\n" + body)
    assert text is None


def test_a_product_that_cannot_be_split_is_prepared_whole(monkeypatch):
    from ricci.codegen import prepared

    monkeypatch.setattr(prepared, "split", lambda *args: None)
    rng = np.random.default_rng(4)
    X, y, w = rng.standard_normal((30, 5)), np.sign(rng.standard_normal(30)), rng.standard_normal(5)
    d = ricci.hessian(LOGISTIC, "w")
    values = {"X": X, "y": y, "w": w, "lambda": 0.2}
    H = np.asarray(d.evaluate(values), dtype=float)
    for backend in ("numpy", "array_api"):
        apply = _prepared(d.hvp(), backend, values)
        v = rng.standard_normal(5)
        _close(apply(v), H @ v, backend)
