"""Matrix functions expm, logm, sqrtm and their Fréchet derivatives (issue 18, part A).

Every value is checked against SciPy (scipy.linalg.expm, logm, sqrtm, expm_frechet) or against
central finite differences of SciPy's functions computed here, never against ricci's own
output; the generated code of every installed backend is run and compared the same way.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from helpers import central_differences as _fd

import ricci
from ricci.language.errors import RicciError

scipy_linalg = pytest.importorskip("scipy.linalg")


def _rng(k: int) -> np.random.Generator:
    return np.random.default_rng(1800 + k)


def _general(rng, n=4):
    """A non-symmetric matrix whose eigenvalues lie in Re > 0 (away from the negative axis)."""
    return np.eye(n) * 2.0 + rng.uniform(-0.4, 0.4, size=(n, n))


def _spd(rng, n=4):
    g = rng.uniform(-1.0, 1.0, size=(n, n))
    return g @ g.T / n + np.eye(n)


SCIPY = {"expm": scipy_linalg.expm, "logm": lambda x: np.real(scipy_linalg.logm(x)),
         "sqrtm": lambda x: np.real(scipy_linalg.sqrtm(x))}


# -- values ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["expm", "logm", "sqrtm"])
@pytest.mark.parametrize("kind", ["general", "spd"])
def test_values_agree_with_scipy(name, kind):
    for k in range(3):
        rng = _rng(k)
        x = _general(rng) if kind == "general" else _spd(rng)
        got = ricci.evaluate(f"{name}(X)", {"X": x})
        np.testing.assert_allclose(got, SCIPY[name](x), rtol=1e-9, atol=1e-11)


def test_the_functions_invert_each_other():
    x = _general(_rng(4))
    np.testing.assert_allclose(ricci.evaluate("expm(logm(X))", {"X": x}), x, rtol=1e-10)
    np.testing.assert_allclose(ricci.evaluate("sqrtm(X)*sqrtm(X)", {"X": x}), x, rtol=1e-10)


@pytest.mark.parametrize("name", ["expm", "logm", "sqrtm"])
def test_frechet_values_agree_with_scipy_and_differences(name):
    for k, x in enumerate([_general(_rng(5)), _spd(_rng(6))]):
        e = _rng(7 + k).standard_normal(x.shape)
        got = ricci.evaluate(f"{name}_frechet(X, E)", {"X": x, "E": e})
        h = 1e-6
        want = (SCIPY[name](x + h * e) - SCIPY[name](x - h * e)) / (2 * h)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
        if name == "expm":
            np.testing.assert_allclose(got, scipy_linalg.expm_frechet(x, e, compute_expm=False), rtol=1e-10)


# -- derivatives in closed form --------------------------------------------------------------------------

def test_the_trace_rule():
    assert ricci.derivative("tr(expm(X))", wrt="X").text == "expm(X)'"
    assert ricci.derivative("tr(sqrtm(X))", wrt="X").text == "0.5*inv(sqrtm(X))'"
    # tr(logm(X)) and logdet(X) have one derivative (log det = tr log)
    assert ricci.derivative("tr(logm(X))", wrt="X").text == ricci.derivative("logdet(X)", wrt="X").text
    for name in ("expm", "logm", "sqrtm"):
        for x in (_general(_rng(8)), _spd(_rng(9))):
            got = ricci.derivative(f"tr({name}(X))", wrt="X").evaluate({"X": x})
            want = _fd(lambda y: np.trace(SCIPY[name](y)), x)
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_the_commuting_case_is_the_scalar_rule():
    d = ricci.derivative("expm(t*A)", wrt="t")
    assert d.text == "A*expm(t*A)"
    rng = _rng(10)
    a, t = rng.uniform(-1, 1, size=(4, 4)), 0.7
    h = 1e-6
    want = (scipy_linalg.expm((t + h) * a) - scipy_linalg.expm((t - h) * a)) / (2 * h)
    np.testing.assert_allclose(d.evaluate({"t": t, "A": a}), want, rtol=1e-7)


@pytest.mark.parametrize("name", ["expm", "logm", "sqrtm"])
def test_the_general_derivative_is_a_named_frechet_operator(name):
    d = ricci.derivative(f"u'*{name}(X)*v", wrt="X")
    assert d.text == f"{name}_frechet(X', u*v')"
    for x in (_general(_rng(11)), _spd(_rng(12))):
        rng = _rng(13)
        u, v = rng.standard_normal(4), rng.standard_normal(4)
        got = d.evaluate({"X": x, "u": u, "v": v})
        want = _fd(lambda y: u @ SCIPY[name](y) @ v, x)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_a_chain_through_a_matrix_function():
    # tr(A*sqrtm(W*W')) by W: the Fréchet operator inside the chain rule
    d = ricci.derivative("tr(A*sqrtm(W*W' + eye))", wrt="W")
    rng = _rng(14)
    a, w = rng.standard_normal((3, 3)), rng.uniform(-1, 1, (3, 3))
    got = d.evaluate({"A": a, "W": w})
    want = _fd(lambda y: np.trace(a @ SCIPY["sqrtm"](y @ y.T + np.eye(3))), w)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_the_jacobian_of_a_matrix_function_is_the_frechet_tensor():
    x = _general(_rng(15), 3)
    for name in ("expm", "logm", "sqrtm"):
        got = ricci.derivative(f"{name}(X)", wrt="X").evaluate({"X": x})
        np.testing.assert_allclose(got, _fd(SCIPY[name], x), rtol=1e-6, atol=1e-8)


def test_the_hessian_of_tr_expm():
    d = ricci.derivative("tr(expm(X))", wrt="X", order=2)
    x = _general(_rng(16), 3)
    want = _fd(lambda y: scipy_linalg.expm(y).T, x)
    # differences of entries ~10 carry ~1e-9 of rounding: the tolerance is relative to the largest
    np.testing.assert_allclose(d.evaluate({"X": x}), want, rtol=1e-6, atol=1e-7 * np.abs(want).max())


@pytest.mark.parametrize("text, wrt", [("tr(expm(X))", "X"), ("u'*logm(X)*v", "X"), ("x'*expm(t*A)*x", "t"),
                                       ("tr(sqrtm(X))", "X")])
def test_the_check_agrees(text, wrt):
    assert ricci.derivative(text, wrt=wrt).check(trials=2, timeout=120).passed


def test_a_second_derivative_through_the_frechet_operator_is_refused_by_name():
    with pytest.raises(RicciError, match="expm_frechet"):
        ricci.derivative("u'*expm(X)*v", wrt="X", order=2).text


# -- compare ------------------------------------------------------------------------------------------------

def test_compare_accepts_the_spellings_of_the_trace_rule():
    assert ricci.compare("tr(sqrtm(X))", "X", "inv(sqrtm(X))'/2").ok
    assert ricci.compare("tr(logm(X))", "X", "inv(X)'").ok
    assert ricci.compare("tr(logm(X))", "X", "inv(X)'").verdict == ricci.compare("logdet(X)", "X", "inv(X)'").verdict
    assert not ricci.compare("tr(sqrtm(X))", "X", "inv(sqrtm(X))'").ok
    assert ricci.compare("u'*expm(X)*v", "X", "expm_frechet(X', u*v')").ok
    assert not ricci.compare("u'*expm(X)*v", "X", "expm_frechet(X, u*v')").ok


# -- generated code in every backend -----------------------------------------------------------------------

CASES = [("u'*expm(X)*v", "X"), ("tr(expm(X))", "X"), ("x'*expm(t*A)*x", "t"), ("tr(logm(X))", "X"),
         ("tr(sqrtm(X))", "X"), ("tr(A*logm(X))", "X"), ("u'*sqrtm(X)*v", "X")]


def _point(rng, spd: bool):
    x = _spd(rng) if spd else _general(rng)
    a = rng.uniform(-1, 1, (4, 4))
    return {"X": x, "A": (a + a.T) / 2 if spd else a, "u": rng.standard_normal(4),
            "v": rng.standard_normal(4), "x": rng.standard_normal(4), "t": 0.3}


def _want(text, wrt, p):
    fs = {"u'*expm(X)*v": lambda q: q["u"] @ scipy_linalg.expm(q["X"]) @ q["v"],
          "tr(expm(X))": lambda q: np.trace(scipy_linalg.expm(q["X"])),
          "x'*expm(t*A)*x": lambda q: q["x"] @ scipy_linalg.expm(q["t"] * q["A"]) @ q["x"],
          "tr(logm(X))": lambda q: np.trace(SCIPY["logm"](q["X"])),
          "tr(sqrtm(X))": lambda q: np.trace(SCIPY["sqrtm"](q["X"])),
          "tr(A*logm(X))": lambda q: np.trace(q["A"] @ SCIPY["logm"](q["X"])),
          "u'*sqrtm(X)*v": lambda q: q["u"] @ SCIPY["sqrtm"](q["X"]) @ q["v"]}
    f = fs[text]
    if wrt == "t":
        h = 1e-6
        return (f({**p, "t": p["t"] + h}) - f({**p, "t": p["t"] - h})) / (2 * h)
    return _fd(lambda y: f({**p, "X": y}), p["X"])


def _run(d, backend, p, to_array):
    fn = d.function(backend=backend)
    names = list(fn.__code__.co_varnames[:fn.__code__.co_argcount])
    args = [to_array(p[n]) for n in names if n != "xp"]
    return np.asarray(fn(*args), dtype=float)


@pytest.mark.parametrize("text, wrt", CASES)
def test_numpy_code(text, wrt):
    p = _point(_rng(20), spd=False)
    d = ricci.derivative(text, wrt=wrt)
    np.testing.assert_allclose(_run(d, "numpy", p, np.asarray), _want(text, wrt, p), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("text, wrt", CASES)
def test_jax_code(text, wrt):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    p = _point(_rng(21), spd=True)  # general arguments: tests/test_matrix_functions_backends.py
    d = ricci.derivative(text, wrt=wrt)
    got = _run(d, "jax", p, lambda v: jnp.asarray(v))
    np.testing.assert_allclose(got, _want(text, wrt, p), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("text, wrt", CASES)
def test_torch_code(text, wrt):
    torch = pytest.importorskip("torch")
    p = _point(_rng(22), spd=True)
    d = ricci.derivative(text, wrt=wrt)
    got = _run(d, "torch", p, lambda v: torch.as_tensor(v, dtype=torch.float64))
    np.testing.assert_allclose(got, _want(text, wrt, p), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("text, wrt", [c for c in CASES if "frechet" not in c[0]])
def test_array_api_code(text, wrt):
    xp = pytest.importorskip("array_api_strict")
    p = _point(_rng(23), spd=True)
    d = ricci.derivative(text, wrt=wrt)
    got = _run(d, "array_api", p, lambda v: xp.asarray(np.asarray(v, dtype=float)))
    np.testing.assert_allclose(got, _want(text, wrt, p), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("ns", ["jax.numpy", "torch"])
def test_the_table_evaluates_in_other_namespaces(ns):
    mod = pytest.importorskip(ns.split(".")[0])
    from ricci.functions import lookup

    if ns == "jax.numpy":
        mod.config.update("jax_enable_x64", True)
        import jax.numpy as xp

        to = xp.asarray
    else:
        xp = mod
        to = lambda v: mod.as_tensor(v, dtype=mod.float64)  # noqa: E731
    x = _spd(_rng(24))
    e = _rng(25).standard_normal((4, 4))
    for name in ("expm", "logm", "sqrtm"):
        got = np.asarray(lookup(name).xp(xp, to(x)))
        np.testing.assert_allclose(got, SCIPY[name](x), rtol=1e-9, atol=1e-11)
        got = np.asarray(lookup(f"{name}_frechet").xp(xp, to(x), to(e)))
        h = 1e-6
        want = (SCIPY[name](x + h * e) - SCIPY[name](x - h * e)) / (2 * h)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


# -- domains and errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["logm", "sqrtm"])
def test_outside_the_principal_branch_the_error_says_why(name):
    x = np.diag([-1.0, 2.0])
    with pytest.raises(RicciError, match="negative real axis"):
        ricci.evaluate(f"{name}(X)", {"X": x})


def test_a_non_square_argument_is_refused_with_its_position():
    with pytest.raises(RicciError, match=r"expm\(\) needs a square matrix"):
        ricci.parse("expm(x)", kinds={"x": "vector"})
    with pytest.raises(RicciError, match="takes 2 arguments"):
        ricci.parse("expm_frechet(X)")


def test_without_scipy_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.linalg", None)
    with pytest.raises(ModuleNotFoundError, match=r"ricci\[matrix-functions\]"):
        ricci.evaluate("expm(X)", {"X": np.eye(2)})


# -- real powers ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.5, 1.5, -0.5, -1.25])
def test_a_real_power_of_a_positive_definite_matrix(p):
    x = _spd(_rng(30))
    got = ricci.evaluate(f"X^{p}", {"X": x}, kinds={"X": "matrix"})
    np.testing.assert_allclose(got, scipy_linalg.fractional_matrix_power(x, p), rtol=1e-9)
    d = ricci.derivative(f"tr(X^{p})", wrt="X")
    want = _fd(lambda y: np.trace(np.real(scipy_linalg.fractional_matrix_power(y, p))), x)
    np.testing.assert_allclose(d.evaluate({"X": x}), want, rtol=1e-6, atol=1e-8)
    # the trace rule for f(x) = x^p: p*X^(p-1)'
    np.testing.assert_allclose(want, p * scipy_linalg.fractional_matrix_power(x, p - 1).T, rtol=1e-6)


def test_the_trace_rule_of_a_real_power_is_a_power():
    # tr(X^p) by X is p*X^(p-1)' (f(x) = x^p), not a Fréchet operator of logm
    d = ricci.derivative("tr(X^1.5)", wrt="X")
    assert d.text == "1.5*expm(0.5*logm(X))'"
    x = _spd(_rng(31))
    np.testing.assert_allclose(d.evaluate({"X": x}), 1.5 * scipy_linalg.fractional_matrix_power(x, 0.5).T,
                               rtol=1e-9)


def test_integer_powers_stay_products():
    assert ricci.derivative("tr(X^2)", wrt="X").text == "2*X'"


def test_a_power_that_is_not_a_number_is_refused_by_name():
    with pytest.raises(RicciError, match="integer exponent from -64 to 64 or a real number p"):
        ricci.parse("tr(X^t)", kinds={"t": "vector"})


def test_the_four_index_frechet_tensor_has_code():
    # once refused ("four indices"); now the n² Fréchet derivatives stacked (tests/test_frechet_hessian_code.py)
    d = ricci.derivative("expm(X)", wrt="X")
    x = _spd(_rng(32))
    np.testing.assert_allclose(d.function()(x), _fd(scipy_linalg.expm, x), rtol=1e-6, atol=1e-8)
