"""Issue 22's two gaps in generated code (docs/numerics.md): ``inv(A)*b`` is a solve, never an
explicit inverse, where a solve serves; and ``norm2`` is scaled by max |x| in every backend, as
``ricci.evaluate`` and ``d.evaluate`` scale it."""

from __future__ import annotations

import numpy as np
import pytest

import ricci
from ricci.functions import lookup

BACKENDS = ["numpy", "jax", "torch", "array_api_strict"]


def _backend(name):
    """(to the backend's arrays, back to NumPy, the backend's name for d.function)."""
    if name == "numpy":
        return (lambda a: a), np.asarray, "numpy"
    if name == "jax":
        jax = pytest.importorskip("jax")
        jax.config.update("jax_enable_x64", True)
        return jax.numpy.asarray, np.asarray, "jax"
    if name == "torch":
        torch = pytest.importorskip("torch")
        return torch.as_tensor, (lambda r: r.numpy() if hasattr(r, "numpy") else np.asarray(r)), "torch"
    xps = pytest.importorskip("array_api_strict")
    return xps.asarray, np.asarray, "array_api"


def _ill_conditioned(n=8, cond=1e8, seed=0):
    # Q diag(1 .. 1/cond) R with orthogonal Q, R: invertible, condition number cond, not symmetric
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    r, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q @ np.diag(np.logspace(0, -np.log10(cond), n)) @ r, rng


# (expression, wrt, the answer by the inverse route from (A, x, y, B, C)) — each answer holds
# inv(A)*b, b'*inv(A) or inv(A)*B, which a solve serves
def _inv(v):
    return np.linalg.inv(v["A"])


PATTERNS = {
    "inv(A)*y": ("x'*inv(A)*y", "x", lambda v: _inv(v) @ v["y"]),
    "x'*inv(A)": ("x'*inv(A)*y", "y", lambda v: v["x"] @ _inv(v)),
    "x'*inv(A)*y by A": ("x'*inv(A)*y", "A", lambda v: -np.outer(_inv(v).T @ v["x"], _inv(v) @ v["y"])),
    "inv(A)*B": ("tr(C*inv(A)*B)", "C", lambda v: (_inv(v) @ v["B"]).T),
}


def _values(rng, A):
    n = A.shape[0]
    return {"A": A, "x": rng.standard_normal(n), "y": rng.standard_normal(n),
            "B": rng.standard_normal((n, 3)), "C": rng.standard_normal((3, n))}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_generated_code_solves_instead_of_inverting(pattern, backend):
    _, _, name = _backend(backend)
    text, wrt, _ = PATTERNS[pattern]
    source = ricci.derivative(text, wrt).code(name, with_value=True)
    body = source.split('"""')[-1]  # the docstring shows the mathematics, inv(A) included
    assert "solve(" in body, source
    assert "inv(" not in body, source


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_the_solves_equal_the_inverse_route_and_finite_differences(pattern, backend):
    to, back, name = _backend(backend)
    A, rng = _ill_conditioned()
    assert 1e7 < np.linalg.cond(A) < 1e9
    values = _values(rng, A)
    text, wrt, answer = PATTERNS[pattern]
    d = ricci.derivative(text, wrt)
    used = {k: values[k] for k in d.expression.variables}
    value, got = d.function(name, with_value=True)(**{k: to(v) for k, v in used.items()})
    got = back(got)
    want = answer(values)
    # the two routes agree to the accuracy the condition number allows
    assert np.allclose(got, want, rtol=1e-5, atol=1e-5 * np.max(np.abs(want)))
    assert np.isclose(float(value), float(np.asarray(ricci.evaluate(text, used))), rtol=1e-5)
    base = values[wrt]
    fd = np.zeros(base.shape)
    if wrt != "A":
        # central differences of ricci.evaluate, the function linear in the variable (x, y, C):
        # exact up to rounding
        h = 1e-3
        for idx in np.ndindex(base.shape):
            step = np.zeros(base.shape)
            step[idx] = h
            up = float(np.asarray(ricci.evaluate(text, {**used, wrt: base + step})))
            down = float(np.asarray(ricci.evaluate(text, {**used, wrt: base - step})))
            fd[idx] = (up - down) / (2 * h)
        assert np.allclose(got, fd, rtol=1e-4, atol=1e-4 * np.max(np.abs(fd)))
        return
    # By A, differences in double precision are as ill-conditioned as A: x'*inv(A)*y itself is
    # accurate to cond(A)·eps ≈ 1e-8 relative, which a step small beside σ_min = 1e-8 magnifies
    # past 1e-4 on some machines' LAPACK (1.5e-4 seen).  So the differences are taken of the
    # function in 50-digit arithmetic (mpmath, an independent oracle), where both errors vanish,
    # and the generated code must agree to what its own solves allow.
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(50):
        x, y = mpmath.matrix(values["x"].tolist()), mpmath.matrix(values["y"].tolist())
        h = mpmath.mpf("1e-20")

        def f(M):
            return (x.T * mpmath.lu_solve(M, y))[0]

        for idx in np.ndindex(base.shape):
            up, down = mpmath.matrix(base.tolist()), mpmath.matrix(base.tolist())
            up[idx] += h
            down[idx] -= h
            fd[idx] = float((f(up) - f(down)) / (2 * h))
    assert np.allclose(got, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(fd)))


def test_the_solves_residual_is_smaller_than_the_inverses():
    # g = inv(A)*y, the gradient of x'*inv(A)*y by x: a backward-stable solve leaves a residual
    # |A g - y| of the order of eps |A| |g|; the inverse times y one of eps |A| |inv(A)| |y|, which
    # is cond(A) times larger where g is of the size of y (y = A*g for a g of size 1)
    A, rng = _ill_conditioned()
    y = A @ rng.standard_normal(A.shape[0])
    g = ricci.derivative("x'*inv(A)*y", "x").function()(x=np.zeros(A.shape[0]), A=A, y=y)
    by_inverse = np.linalg.inv(A) @ y
    assert np.allclose(g, by_inverse, rtol=1e-5, atol=1e-5 * np.max(np.abs(by_inverse)))
    ours = np.linalg.norm(A @ g - y)
    theirs = np.linalg.norm(A @ by_inverse - y)
    assert ours < theirs / 10, (ours, theirs)


# -- norm2 scaled in generated code, as d.evaluate and ricci.evaluate scale it -------------------------

def _norm_mp(x):
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(50):
        total = mpmath.sqrt(sum(mpmath.mpf(float(v)) ** 2 for v in x))
        return float(total), np.array([float(mpmath.mpf(float(v)) / total) for v in x])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text", ["norm2(x)", "sqrt(x'*x)"])
@pytest.mark.parametrize("scale", [1e-200, 1e200, 1.0])
def test_generated_norm2_is_scaled_in_every_backend(text, scale, backend):
    to, back, name = _backend(backend)
    x = np.array([3.0, -4.0, 12.0]) * scale
    norm, grad = _norm_mp(x)
    d = ricci.derivative(text, "x")
    value, got = d.function(name, with_value=True, check_finite=True)(x=to(x))
    assert np.isclose(float(value), norm, rtol=1e-14, atol=0)
    assert np.allclose(back(got), grad, rtol=1e-14, atol=0)
    # one layer: the generated code, d.evaluate and ricci.evaluate give the same numbers
    assert np.allclose(back(got), d.evaluate({"x": x}), rtol=1e-14, atol=0)
    assert np.isclose(float(np.asarray(ricci.evaluate(text, {"x": x}))), float(value), rtol=1e-14, atol=0)


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])  # the entries' xp reshapes as these do
@pytest.mark.parametrize("scale", [1e-200, 1e200, 0.0])
def test_the_table_entrys_xp_norm2_is_scaled(scale, backend):
    to, back, _ = _backend(backend)
    mod = {"numpy": "numpy", "jax": "jax.numpy", "torch": "torch"}[backend]
    xp = pytest.importorskip(mod)
    x = np.array([[3.0], [-4.0], [12.0]]) * scale
    got = float(np.asarray(back(lookup("norm2").xp(xp, to(x)))).reshape(()))
    assert got == pytest.approx(13.0 * scale, rel=1e-14, abs=0)


# -- one factorisation per matrix (codegen/solves.py) -----------------------------------------------

FACTORED = {
    # the inverse is part of the answer: computed once, each product with it a product
    "inverse in the answer": ("logdet(A) + x'*inv(A)*y", "A",
                              lambda v: (_inv(v) - np.outer(_inv(v) @ v["y"], v["x"] @ _inv(v))).T),
    # four right-hand sides: four factorisations would cost more than one inverse
    "four right-hand sides": ("x'*inv(A)*y + y'*inv(A)*x + x'*inv(A)*x + y'*inv(A)*y", "x",
                              lambda v: (_inv(v) + _inv(v).T) @ (v["x"] + v["y"])),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(FACTORED))
def test_an_inverse_needed_anyway_is_computed_once_and_serves_every_product(case, backend):
    to, back, name = _backend(backend)
    text, wrt, answer = FACTORED[case]
    d = ricci.derivative(text, wrt)
    body = d.code(name, with_value=True).split('"""')[-1]
    assert body.count("inv(") == 1 and "solve(" not in body, body
    rng = np.random.default_rng(1)
    A = rng.standard_normal((5, 5)) + 5 * np.eye(5)
    values = _values(rng, A)
    used = {k: values[k] for k in d.expression.variables}
    _, got = d.function(name, with_value=True)(**{k: to(v) for k, v in used.items()})
    assert np.allclose(back(got), answer(values), rtol=1e-12, atol=1e-12)
    assert np.allclose(back(got), d.evaluate(used), rtol=1e-12, atol=1e-12)
