"""Generated code (``d.code`` / ``d.function``): right numbers on every backend, expert form.

* Numbers: for every lecture example (shared/LECTURE_CASES.md), every Matrix Cookbook test of
  ``test_cookbook.py`` and a broad set of gradients, Jacobians, Hessians, order-3/4 tensors,
  ``where`` bindings, symmetric matrices and lists of scalars, the generated function returns
  exactly what ``d.evaluate`` returns (same type, shape and numbers) at random values with a
  different size for every dimension: NumPy always; the array-API backend with NumPy and with
  ``array_api_strict`` as the namespace; JAX (under ``jax.jit``) and PyTorch when installed.
* Form: common subexpressions once, the cheap product order, no materialised diagonal or δ,
  the display form and the compute form chosen apart (``x'*(B + B')`` → ``x @ B + B @ x``).
* Snapshots: the generated code of the lecture examples is pinned in ``tests/snapshots/codegen``;
  regenerate with ``RICCI_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_codegen.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import random_values

import ricci
from ricci.codegen import CodegenError, python_name

SNAPSHOTS = Path(__file__).parent / "snapshots" / "codegen"
UPDATE = os.environ.get("RICCI_UPDATE_SNAPSHOTS") == "1"
RTOL = 1e-10

SYM = {"W": "symmetric matrix"}


def case(expr, wrt, order=1, kinds=None, values=None, **random):
    return {"expr": expr, "wrt": wrt, "order": order, "kinds": kinds, "values": values, "random": random}


# The lecture's examples, rows of shared/LECTURE_CASES.md.
LECTURE = {
    "row01": case("x'*a", "x", kinds={"a": "vector"}),
    "row02": case("a'*x", "x", kinds={"a": "vector"}),
    "row03": case("a'*X*b", "X", kinds={"a": "vector", "b": "vector"}),
    "row04": case("x'*B*x", "x"),
    "row05": case("(x - A*s)'*W*(x - A*s)", "s", kinds=SYM),
    "row06": case("A*x", "x"),
    "row07": case("norm2(y - Phi*theta)^2", "theta"),
    "row08": case("norm2(y - Phi*theta)^2", "theta", 2),
    "row09": case("x'*B*x", "x", 2),
    "row10": case("A*x", "A"),
    "row11": case("R'*R", "R"),
    "row12": case("exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)", "t", kinds={"t": "scalar"}),
    "row13": case("[t*cos(t); t*sin(t)]", "t", kinds={"t": "scalar"}),
    "row14": case("exp(x1*x2^2)", ["x1", "x2"]),
    "row15": case("x1^2*x2 where x1 = s*t, x2 = s + t", ["s", "t"]),
    "row16_R_to_R": case("sin(t)*t^2", "t", kinds={"t": "scalar"}),
    "row16_RD_to_R": case("sum(exp(x))", "x"),
    "row16_R_to_RE": case("t*v + t^2*u", "t", kinds={"t": "scalar"}),
    "row16_RD_to_RE": case("tanh(A*x)", "x"),
    "row17": case("x'*A*x", "x", 2, values={"x": np.array([0.3, -0.8]), "A": np.array([[2.0, 0.0], [0.0, 3.0]])}),
    "row18": case("x1^2 - x2^2", ["x1", "x2"], 2),
}

# Beyond the lecture: the benchmark problems and a spread of shapes and constructs.
BROAD = {
    "quadratic_gradient": case("x'*A*x", "x"),
    "quadratic_symmetric": case("x'*W*x", "x", kinds=SYM),
    "quadratic_symmetric_hessian": case("x'*W*x", "x", 2, kinds=SYM),
    "logistic_gradient": case("sum(log(1 + exp(-y .* (X*w))))", "w"),
    "logistic_hessian": case("sum(log(1 + exp(-y .* (X*w))))", "w", 2),
    "least_squares_hessian_scaled": case("0.5*norm2(Phi*theta - y)^2 + lambda*theta'*theta", "theta", 2),
    "logsumexp_gradient": case("log(sum(exp(x)))", "x"),
    "logsumexp_hessian": case("log(sum(exp(x)))", "x", 2),
    "factorisation_gradient": case("norm2(X - U*V')^2", "U"),
    "factorisation_hessian_4d": case("norm2(X - U*V')^2", "U", 2),
    "tanh_jacobian_x": case("tanh(W*x)", "x"),
    "tanh_jacobian_W_3d": case("tanh(W*x)", "W"),
    "cubic_order3": case("(x'*x)^2", "x", 3),
    "quadratic_order3_zero": case("x'*A*x", "x", 3),
    "inverse_4d": case("inv(X)", "X", spd=True),
    "logdet_gradient": case("logdet(X)", "X", spd=True),
    "det_gradient": case("det(X)", "X", spd=True),
    "inverse_quadratic": case("x'*inv(A)*x", "x", spd=True),
    "trace_product": case("tr(A*B*C)", "B"),
    "trace_product_hessian": case("tr(X'*A*X)", "X", 2),
    "diag_of_vector": case("x'*diag(v)*x", "v"),
    "diag_of_matrix": case("diag(X)'*v", "X"),
    "matrix_by_matrix": case("X*A", "X"),
    "chain_order": case("x'*A*B*C*y", "x"),
    "scalar_wrt_scalar_where": case("u^2 + sin(u) where u = a*b + exp(a)", "a"),
    "vector_where": case("sum(z .* z) where z = A*x - y", "x"),
    "list_of_scalars_hessian": case("exp(a*b) + a^3*c", ["a", "b", "c"], 2),
    "norm1": case("norm1(A*x - y)", "x"),
    "relu_sigmoid": case("sigmoid(x)'*relu(A*x)", "x"),
    "elementwise_functions": case("sum(arctan(x) + sqrt(x) .* log(x) + cos(x).^2)", "x", positive=True),
    "constant_vector": case("vector(1)'*A*x", "x"),
    "identity": case("x'*(A + 3*eye)*x", "x", 2),
    "identity_jacobian": case("x", "x"),
    "outer_product": case("x*x'", "x"),
    "frobenius": case("norm2(A*X*B)", "X"),
    "literal_matrix": case("[a*b, a; b^2, 1]", ["a", "b"]),
}


def _kinds_for(c) -> dict:
    kinds = dict(c["kinds"] or {})
    if isinstance(c["wrt"], list):
        kinds.update({n: "scalar" for n in c["wrt"]})
    return kinds


def _values(c) -> dict:
    if c["values"] is not None:
        return dict(c["values"])
    return random_values(c["expr"], _kinds_for(c), **c["random"])


def _derivative(c):
    return ricci.derivative(c["expr"], c["wrt"], c["order"], c["kinds"])


# -- the Cookbook's tests, collected by running each with a recorder in place of the checker -----

class _Recorded(Exception):
    pass


def _cookbook_cases() -> dict:
    import test_cookbook as cb

    found: dict = {}
    real = cb.check_derivative

    def recorder(expression, wrt, *, kinds=None, order=1, values=None, sizes=None, seed=0, **_):
        found[current] = {"expr": expression, "wrt": wrt, "order": order, "kinds": kinds,
                          "values": values, "random": {"sizes": sizes, "seed": seed}}
        raise _Recorded

    cb.check_derivative = recorder
    try:
        for current in [n for n in dir(cb) if n.startswith("test_")]:
            try:
                getattr(cb, current)()
            except _Recorded:
                pass
            except Exception:  # noqa: BLE001, S110 - a test failing before its check is test_cookbook's to report
                pass
    finally:
        cb.check_derivative = real
    return found


COOKBOOK = _cookbook_cases()
ALL = {**{f"lecture_{k}": v for k, v in LECTURE.items()}, **BROAD, **{f"cookbook_{k[5:]}": v for k, v in COOKBOOK.items()}}


# -- backends ------------------------------------------------------------------------------------

def _as_numpy(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


#: The package each backend needs that the test extra may not install.  The test skips where it
#: is missing *before* d.function runs: the generated code imports it (``import torch``) when it
#: is compiled, so a later importorskip would come too late and the test would fail instead.
OPTIONAL_PACKAGE = {"array_api_strict": "array_api_strict", "jax": "jax", "torch": "torch"}


def _run(d, backend, values, with_value):
    """Call the generated function with the backend's arrays; results as NumPy."""
    module = pytest.importorskip(OPTIONAL_PACKAGE[backend]) if backend in OPTIONAL_PACKAGE else None
    fn = d.function("array_api" if backend == "array_api_strict" else backend, with_value=with_value)
    values = {python_name(n): v for n, v in values.items()}  # lambda is the parameter lambda_
    if backend == "numpy":
        return fn(**values)
    if backend in ("array_api", "array_api_strict"):
        xp = np if backend == "array_api" else module
        args = {n: xp.asarray(np.asarray(v, dtype=float)) for n, v in values.items()}
        out = fn(**args, xp=xp)
    elif backend == "jax":
        jax = module
        jax.config.update("jax_enable_x64", True)
        args = {n: jax.numpy.asarray(np.asarray(v, dtype=float)) for n, v in values.items()}
        out = jax.jit(fn)(**args)
    elif backend == "torch":
        torch = module
        args = {n: torch.as_tensor(np.asarray(v, dtype=float), dtype=torch.float64) for n, v in values.items()}
        out = fn(**args)
    else:  # pragma: no cover
        raise ValueError(backend)
    if with_value:
        return tuple(_as_numpy(o) for o in out)
    return _as_numpy(out)


def _assert_same(got, want, what):
    if isinstance(want, float):
        got = float(np.asarray(got))
        assert np.isclose(got, want, rtol=RTOL, atol=1e-12), f"{what}: {got} != {want}"
        return
    got = np.asarray(got)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, d.evaluate has {want.shape}"
    assert np.allclose(got, want, rtol=RTOL, atol=1e-12), f"{what}: max error {np.abs(got - want).max()}"


@pytest.mark.parametrize("name", sorted(ALL))
def test_numpy_equals_evaluate(name):
    c = ALL[name]
    d = _derivative(c)
    values = _values(c)
    want = d.evaluate(values)
    got = _run(d, "numpy", values, False)
    # exactly what d.evaluate returns: a float for a scalar, an ndarray of the §1 shape otherwise
    assert type(got) is type(want), f"returns {type(got).__name__}, d.evaluate {type(want).__name__}"
    _assert_same(got, want, d.text)
    value, got2 = _run(d, "numpy", values, True)
    f = ricci.evaluate(c["expr"], values, _kinds_for(c))
    assert type(value) is type(f)
    _assert_same(value, f, "the value")
    _assert_same(got2, want, d.text)


@pytest.mark.parametrize("backend", ["array_api", "array_api_strict", "jax", "torch"])
@pytest.mark.parametrize("name", sorted(ALL))
def test_backend_equals_evaluate(name, backend):
    c = ALL[name]
    d = _derivative(c)
    values = _values(c)
    want = d.evaluate(values)
    _assert_same(_run(d, backend, values, False), want, f"{backend}: {d.text}")


@pytest.mark.parametrize("backend", ["array_api", "jax", "torch"])
@pytest.mark.parametrize("name", ["logistic_hessian", "lecture_row12", "factorisation_hessian_4d",
                                  "tanh_jacobian_W_3d", "lecture_row15", "logdet_gradient"])
def test_backend_with_value(name, backend):
    c = ALL[name]
    d = _derivative(c)
    values = _values(c)
    value, deriv = _run(d, backend, values, True)
    _assert_same(value, ricci.evaluate(c["expr"], values, _kinds_for(c)), f"{backend}: the value")
    _assert_same(deriv, d.evaluate(values), f"{backend}: {d.text}")


# -- the calling convention ----------------------------------------------------------------------

def test_keyword_call_in_any_order():
    d = ricci.hessian("sum(log(1 + exp(-y .* (X*w))))", "w")
    values = random_values("sum(log(1 + exp(-y .* (X*w))))")
    f = d.function()
    got = f(w=values["w"], y=values["y"], X=values["X"])
    _assert_same(got, d.evaluate(values), "keyword call")
    assert list(__import__("inspect").signature(f).parameters) == list(d.expression.variables)


def test_shape_asserts_at_the_top():
    d = ricci.gradient("norm2(y - Phi*theta)^2", "theta")
    f = d.function()
    Phi = np.ones((5, 3))
    with pytest.raises(AssertionError, match="theta"):
        f(y=np.ones(5), Phi=Phi, theta=np.ones(4))
    with pytest.raises(AssertionError, match="Phi"):
        f(y=np.ones(5), Phi=np.ones((4, 3)), theta=np.ones(3))


def test_result_does_not_alias_an_argument():
    d = ricci.jacobian("A*x", "x")
    A = np.arange(6.0).reshape(2, 3)
    J = d.function()(A=A, x=np.ones(3))
    J[0, 0] = 100.0
    assert A[0, 0] == 0.0


def test_names_and_errors():
    d = ricci.gradient("x'*B*x", "x")
    assert d.code(name="grad_f").splitlines()[3].startswith("def grad_f(x, B):")
    assert "def value_and_gradient(x, B):" in d.code(with_value=True)
    with pytest.raises(ValueError, match="backend"):
        d.code("fortran")
    for bad in ("1f", "f-g", "class", "f; import os"):
        with pytest.raises(ValueError, match="not a valid Python function name"):
            d.code(name=bad)
    # a variable named like a Python keyword is the parameter with "_" appended (PEP 8)
    d = ricci.gradient("lambda*x'*x", "x")
    assert "def gradient(lambda_, x):" in d.code()
    assert d.function()(lambda_=2.0, x=np.array([1.0, 2.0])).tolist() == [4.0, 8.0]
    assert issubclass(CodegenError, ricci.RicciError)


def test_names_that_shadow_the_module_alias():
    # a variable called np (a vector by the naming rule) must not hide NumPy
    d = ricci.gradient("np'*A*np", "np")
    values = random_values("np'*A*np")
    src = d.code()
    assert "import numpy as _np" in src
    _assert_same(d.function()(**values), d.evaluate(values), "np as a variable")


def test_temporaries_never_capture_a_binding():
    # variables and bindings named like the temporaries t_0, t_1, ...
    d = ricci.derivative("u^2 + t_0*u where u = t_0*exp(t_1)", "t_0", kinds={"t_0": "scalar", "t_1": "scalar"})
    values = {"t_0": 0.3, "t_1": -0.2}
    _assert_same(d.function()(**values), d.evaluate(values), d.text)
    assert len(set(re.findall(r"^    (\w+) = ", _body(d.code()), re.MULTILINE))) == len(
        re.findall(r"^    (\w+) = ", _body(d.code()), re.MULTILINE))


# -- the form of the code: what an expert writes --------------------------------------------------

def _body(src: str) -> str:
    """The code without its docstring."""
    return re.sub(r'"""(.|\n)*?"""', "", src)


def test_display_and_compute_forms_are_chosen_apart():
    # x'*(B + B') reads best; x @ B + B @ x computes fastest (no pass forming B + B')
    d = ricci.gradient("x'*B*x", "x")
    assert d.text == "x'*(B + B')"
    body = _body(d.code())
    assert "B.T" not in body and "x @ B" in body and "B @ x" in body


def test_common_subexpressions_once():
    d = ricci.gradient("norm2(y - Phi*theta)^2", "theta")
    body = _body(d.code(with_value=True))
    assert body.count("Phi @ theta") == 1  # the residual, shared by the value and the gradient
    d = ricci.gradient("sum(log(1 + exp(-y .* (X*w))))", "w")
    body = _body(d.code(with_value=True))
    # one exp on each side of the softplus block's branch (docs/numerics.md), of which one runs
    # (test_stable_cost_forms counts the exps a call makes)
    assert body.count("X @ w") == 1 and body.count("np.exp") == 2 and body.count("else:") == 1


def test_cheapest_product_order():
    d = ricci.gradient("x'*A*B*C*y", "x")
    body = _body(d.code())
    # matrix-vector products only: no matrix-matrix product of A, B, C
    assert not re.search(r"[ABC](\.T)? @ [ABC]\b", body), body


def test_scalars_scale_the_smallest_operand():
    d = ricci.gradient("norm2(y - Phi*theta)^2", "theta")
    assert "-2 * (" in _body(d.code())  # the length-D result, not the N×D matrix
    d = ricci.hessian("log(sum(exp(x)))", "x")
    body = _body(d.code())
    assert 'np.einsum("i,j->ij", -' in body  # -p p' as outer(-p, p): n work, not n² for the sign


def test_no_materialised_diagonal():
    for expr in ("sum(log(1 + exp(-y .* (X*w))))", "x'*diag(v)*A*x"):
        body = _body(ricci.hessian(expr, "x" if "v" in expr else "w").code())
        assert "np.diag(" not in body and "np.eye" not in body, body
        assert "[:, None] * " in body  # diag(v)*X as v[:, None] * X
    body = _body(ricci.hessian("log(sum(exp(x)))", "x").code())
    assert "np.diag(" not in body and "np.eye" not in body
    assert "[np.diag_indices(n)] +=" in body  # diag(p) - p p' written onto the diagonal in place
    body = _body(ricci.hessian("x'*(A + 3*eye)*x", "x").code())
    assert "np.eye" not in body
    assert ".copy()" not in body  # 6 is added onto the diagonal of the fresh A + A', in place


def test_no_materialised_delta_in_tensors():
    for expr, wrt, order in (("A*x", "A", 1), ("norm2(X - U*V')^2", "U", 2), ("tanh(W*x)", "W", 1),
                             ("R'*R", "R", 1)):
        body = _body(ricci.derivative(expr, wrt, order).code())
        assert "eye" not in body and "np.zeros(" in body, body
    body = _body(ricci.hessian("norm2(X - U*V')^2", "U").code())
    assert "V.T @ V" in body  # the k×k block, by one matrix product
    # (A_ik + A_ki) δ_lj: the two terms on one diagonal are added first, then written once
    body = _body(ricci.hessian("tr(X'*A*X)", "X").code())
    assert len(re.findall(r"\] \+?= ", body)) == 1, body


def test_einsum_only_without_a_matrix_form():
    for c in LECTURE.values():
        d = _derivative(c)
        body = _body(d.code())
        if d.matrix is not None:
            # no contraction by einsum; an outer product is written with NumPy's fast kernel
            assert body.count("einsum") == body.count('np.einsum("i,j->ij", '), d.text
    body = _body(ricci.jacobian("inv(X)", "X").code())
    assert "np.einsum(" in body and '"i,j->ij"' not in body


def test_inverse_times_vector_is_one_product_order():
    d = ricci.gradient("x'*inv(A)*x", "x")
    body = _body(d.code())
    # x'*(inv(A) + inv(A)'): two solves (2n³/3 flops each), not two inverses nor one (2n³) —
    # docs/numerics.md, codegen/solves.py
    assert "np.linalg.inv(" not in body and body.count("np.linalg.solve(") == 2


def test_array_api_uses_only_the_namespace():
    src = ricci.hessian("sum(log(1 + exp(-y .* (X*w))))", "w").code("array_api")
    assert "import" not in src and "np." not in src
    assert "def hessian(y, X, w, xp=None):" in src


def test_jax_code_is_pure():
    src = ricci.hessian("log(sum(exp(x)))", "x").code("jax")
    assert "+=" not in src and ".at[" in src


# -- snapshots -------------------------------------------------------------------------------------

SNAPSHOT_CASES = [(f"lecture_{k}", "numpy", False) for k in LECTURE] + [
    ("lecture_row07", "numpy", True), ("lecture_row07", "jax", False), ("lecture_row07", "torch", False),
    ("lecture_row07", "array_api", False), ("lecture_row11", "jax", False), ("lecture_row11", "torch", False),
    ("lecture_row11", "array_api", False), ("logistic_hessian", "numpy", True),
    ("logsumexp_hessian", "numpy", False), ("factorisation_hessian_4d", "numpy", False),
    ("quadratic_gradient", "numpy", True),
]


@pytest.mark.parametrize("name,backend,with_value", SNAPSHOT_CASES)
def test_snapshot(name, backend, with_value):
    d = _derivative(ALL[name])
    src = d.code(backend, with_value=with_value)
    path = SNAPSHOTS / f"{name}_{backend}{'_with_value' if with_value else ''}.py"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"no snapshot {path.name}; run with RICCI_UPDATE_SNAPSHOTS=1 to write it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(src)
    assert src == path.read_text(), (
        f"generated code changed for {name} ({backend}); if the change is right, regenerate with "
        f"RICCI_UPDATE_SNAPSHOTS=1")


# -- the command line ------------------------------------------------------------------------------

def test_cli_format_python():
    from ricci.cli import main

    def run(args):
        return subprocess.run([sys.executable, "-m", "ricci.cli", *args], capture_output=True, text=True,
                              check=False)

    r = run(["diff", "x'*B*x", "--wrt", "x", "--format", "python"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == ricci.gradient("x'*B*x", "x").code()
    r = run(["diff", "norm2(y - Phi*theta)^2", "--wrt", "theta", "--order", "2", "--format", "python",
             "--backend", "jax"])
    assert r.returncode == 0, r.stderr
    assert "import jax.numpy as jnp" in r.stdout and "def hessian(y, Phi, theta):" in r.stdout
    _ = main


# -- Dask: the array-API code on chunked arrays ------------------------------------------------------

def test_dask_logistic_regression():
    da = pytest.importorskip("dask.array")
    compat = pytest.importorskip("array_api_compat")
    xp = compat.array_namespace(da.ones(2))
    expr = "sum(log(1 + exp(-y .* (X*w))))"
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 7))
    y = np.sign(rng.standard_normal(1000))
    w = rng.standard_normal(7) * 0.1
    for d in (ricci.gradient(expr, "w"), ricci.hessian(expr, "w")):
        f = d.function("array_api")
        dX = da.from_array(X, chunks=(250, 7))  # four chunks
        got = f(y=da.from_array(y, chunks=250), X=dX, w=da.from_array(w), xp=xp)
        assert isinstance(got, da.Array)
        _assert_same(np.asarray(got.compute()), d.evaluate({"X": X, "y": y, "w": w}), "dask")
