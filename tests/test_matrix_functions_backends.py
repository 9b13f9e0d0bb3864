"""expm, logm, sqrtm and their Fréchet derivatives in the JAX, PyTorch and array API backends,
on general (non-symmetric) square matrices (issue 18, acceptance 1).

Each backend's evaluation (the function table's ``xp`` form) and its generated code are compared
with SciPy: scipy.linalg.expm/logm/sqrtm for values, and for derivatives central finite
differences of those, and SciPy's f of the block matrix [X E; 0 X] (whose upper right block is
the Fréchet derivative L_f(X, E)), never with ricci's own output.  The backends skip, each
before it is imported, where its package is missing.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from helpers import backend_array
from helpers import central_differences as _fd

import ricci
from ricci.functions import lookup

scipy_linalg = pytest.importorskip("scipy.linalg")

BACKENDS = ["jax", "torch", "array_api"]
NAMES = ["expm", "logm", "sqrtm"]


def _scipy(name, x):
    f = {"expm": scipy_linalg.expm, "logm": scipy_linalg.logm, "sqrtm": scipy_linalg.sqrtm}[name]
    out = np.asarray(f(x))
    assert np.abs(out.imag).max(initial=0.0) < 1e-8 * max(1.0, np.abs(out).max())  # the real principal branch
    return out.real


def _rng(k: int) -> np.random.Generator:
    return np.random.default_rng(1850 + k)


def _general(rng, n):
    """Non-symmetric, eigenvalues in Re > 0 away from the negative axis."""
    return np.eye(n) * 2.0 + rng.uniform(-0.4, 0.4, size=(n, n))


def _rotating(rng, n):
    """Non-normal, with complex eigenvalue pairs 1 ± 1.5i (and 2): V diag-block V⁻¹, V well conditioned."""
    d = np.eye(n) * 2.0
    for k in range(0, n - 1, 2):
        d[k:k + 2, k:k + 2] = [[1.0, -1.5], [1.5, 1.0]]
    v = np.eye(n) + rng.uniform(-0.3, 0.3, size=(n, n))
    return v @ d @ np.linalg.inv(v)


def _jordan(n):
    """2I plus a nilpotent shift: defective, so no eigenvector basis diagonalises it."""
    return np.eye(n) * 2.0 + np.diag(np.full(n - 1, 0.7), 1)


def _points():
    return [_general(_rng(0), 3), _general(_rng(1), 6), _rotating(_rng(2), 5), _jordan(4)]


def _namespace(backend):
    """The array namespace of ``backend`` and NumPy → its array (64-bit floats)."""
    to = backend_array(backend)  # skips before importing a missing package
    if backend == "jax":
        import jax.numpy as xp
    else:  # optional packages: reached through importorskip, as tests/test_fresh_machine.py asks
        xp = pytest.importorskip("torch" if backend == "torch" else "array_api_strict")
    return xp, to


def _frechet_reference(name, x, e):
    """L_f(X, E) two ways, independent of ricci: SciPy's f of [X E; 0 X], and central differences."""
    n = x.shape[0]
    block = _scipy(name, np.block([[x, e], [np.zeros_like(x), x]]))[:n, n:]
    h = 1e-6
    diff = (_scipy(name, x + h * e) - _scipy(name, x - h * e)) / (2 * h)
    np.testing.assert_allclose(block, diff, rtol=1e-6, atol=1e-7)
    return block


# -- the function table's evaluation per namespace ----------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_values_of_general_matrices_agree_with_scipy(backend, name):
    xp, to = _namespace(backend)
    for x in _points():
        got = np.asarray(lookup(name).xp(xp, to(x)))
        np.testing.assert_allclose(got, _scipy(name, x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_frechet_derivatives_of_general_matrices_agree_with_scipy(backend, name):
    xp, to = _namespace(backend)
    for k, x in enumerate(_points()):
        e = _rng(10 + k).standard_normal(x.shape)
        got = np.asarray(lookup(f"{name}_frechet").xp(xp, to(x), to(e)))
        np.testing.assert_allclose(got, _frechet_reference(name, x, e), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", ["logm", "sqrtm"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_outside_the_principal_branch_the_value_is_nan_never_a_number(backend, name):
    xp, to = _namespace(backend)
    rng = _rng(20)
    v = np.eye(4) + rng.uniform(-0.3, 0.3, size=(4, 4))
    x = v @ np.diag([-1.0, 2.0, 3.0, 0.5]) @ np.linalg.inv(v)  # an eigenvalue −1
    e = rng.standard_normal((4, 4))
    assert np.all(np.isnan(np.asarray(lookup(name).xp(xp, to(x)))))
    assert np.all(np.isnan(np.asarray(lookup(f"{name}_frechet").xp(xp, to(x), to(e)))))


# -- generated code ----------------------------------------------------------------------------------------

def _run(text, wrt, backend, p, order=1):
    _, to = _namespace(backend)
    d = ricci.derivative(text, wrt=wrt, kinds={"t": "scalar"} if wrt == "t" else None, order=order)
    fn = d.function(backend=backend)
    names = list(fn.__code__.co_varnames[:fn.__code__.co_argcount])
    return np.asarray(fn(*[to(p[n]) for n in names if n != "xp"]), dtype=float)


def _point(x, k):
    rng = _rng(30 + k)
    n = x.shape[0]
    return {"X": x, "A": rng.uniform(-1, 1, (n, n)), "u": rng.standard_normal(n),
            "v": rng.standard_normal(n), "t": 0.7}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_generated_code_evaluates_the_function_itself(backend, name):
    # the derivative by t of t*u'*f(X)*v is u'*f(X)*v: the code computes f(X) of a general X
    for k, x in enumerate(_points()):
        p = _point(x, k)
        got = _run(f"t*u'*{name}(X)*v", "t", backend, p)
        np.testing.assert_allclose(got, p["u"] @ _scipy(name, x) @ p["v"], rtol=1e-10, atol=1e-12)


GRADIENTS = {
    "u'*expm(X)*v": lambda p, x: p["u"] @ _scipy("expm", x) @ p["v"],
    "u'*logm(X)*v": lambda p, x: p["u"] @ _scipy("logm", x) @ p["v"],
    "u'*sqrtm(X)*v": lambda p, x: p["u"] @ _scipy("sqrtm", x) @ p["v"],
    "tr(A*logm(X))": lambda p, x: np.trace(p["A"] @ _scipy("logm", x)),
    "tr(A*sqrtm(X))": lambda p, x: np.trace(p["A"] @ _scipy("sqrtm", x)),
    "tr(expm(X))": lambda p, x: np.trace(_scipy("expm", x)),
    "tr(logm(X))": lambda p, x: np.trace(_scipy("logm", x)),
    "tr(sqrtm(X))": lambda p, x: np.trace(_scipy("sqrtm", x)),
}


@functools.cache
def _gradient_reference(text, k):
    """Central differences of SciPy at point k (SciPy's logm is slow: once for all backends)."""
    x = _points()[k]
    return _fd(lambda y: GRADIENTS[text](_point(x, k), y), x)


@pytest.mark.parametrize("text", list(GRADIENTS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_generated_gradients_match_differences_of_scipy(backend, text):
    for k, x in enumerate(_points()):
        got = _run(text, "X", backend, _point(x, k))
        np.testing.assert_allclose(got, _gradient_reference(text, k), rtol=1e-6, atol=1e-7)


SECOND = {
    "u'*expm(t*A)*v": lambda p, t: p["u"] @ _scipy("expm", t * p["A"]) @ p["v"],
    "u'*logm(t*X)*v": lambda p, t: p["u"] @ _scipy("logm", t * p["X"]) @ p["v"],
    "u'*sqrtm(t*X)*v": lambda p, t: p["u"] @ _scipy("sqrtm", t * p["X"]) @ p["v"],
}


@pytest.mark.parametrize("text", list(SECOND))
@pytest.mark.parametrize("backend", BACKENDS)
def test_second_derivatives_in_the_commuting_case(backend, text):
    for k, x in enumerate(_points()[:3]):
        p = _point(x, k)
        h, t = 1e-3, p["t"]
        f = SECOND[text]
        # the fourth-order central stencil of f'' (error O(h⁴) ~ 1e-12)
        want = (-f(p, t + 2 * h) + 16 * f(p, t + h) - 30 * f(p, t) + 16 * f(p, t - h) - f(p, t - 2 * h)) / (12 * h * h)
        got = _run(text, "t", backend, p, order=2)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_hessian_of_logdet_of_a_general_matrix(backend):
    x = _general(_rng(40), 4)  # det > 0: eigenvalues near 2
    got = _run("logdet(X)", "X", backend, {"X": x}, order=2)
    # the gradient inv(X)' from NumPy, differenced: H[i, j, k, l] = ∂(inv(X)')_ij/∂X_kl
    want = _fd(lambda y: np.linalg.inv(y).T, x)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_the_hessian_of_tr_expm_of_a_general_matrix():
    # the four-index Fréchet tensor: d.evaluate gives it (generated code refuses it by name)
    x = _general(_rng(41), 3)
    got = ricci.derivative("tr(expm(X))", wrt="X", order=2).evaluate({"X": x})
    want = _fd(lambda y: _scipy("expm", y).T, x)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("text", ["u'*logm(X)*v", "u'*sqrtm(X)*v"])
def test_the_jitted_jax_gradient_takes_its_fixed_steps_and_agrees(text):
    # under jax.jit the values are traced: the iterations take a fixed number of steps
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    fn = ricci.derivative(text, wrt="X").function(backend="jax")
    names = list(fn.__code__.co_varnames[:fn.__code__.co_argcount])
    k = 2  # complex eigenvalues, non-normal
    p = _point(_points()[k], k)
    got = np.asarray(jax.jit(fn)(*[jnp.asarray(p[n]) for n in names]))
    np.testing.assert_allclose(got, _gradient_reference(text, k), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("backend", BACKENDS)
def test_generated_code_needs_nothing_of_ricci(backend):
    # the iterations' source travels in the module: it imports no ricci (and d.function
    # compiles it in an empty namespace, so it runs on its own)
    p = _point(_points()[0], 0)
    for text in ("u'*logm(X)*v", "tr(sqrtm(X))", "u'*expm(X)*v"):
        code = ricci.derivative(text, wrt="X").code(backend=backend)
        assert "import ricci" not in code and "from ricci" not in code
        np.testing.assert_allclose(_run(text, "X", backend, p), _gradient_reference(text, 0), rtol=1e-6, atol=1e-7)
