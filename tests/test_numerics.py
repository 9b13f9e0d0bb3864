"""Numbers at the edges (issue 22): no silent NaN from d.evaluate, ricci.evaluate or generated code.

The oracle is mpmath at 60 digits: each function or composition is written there as the
mathematics reads (log(1 + exp(t)), not softplus), and its derivatives are mpmath's numerical
derivatives at that precision, so that nothing here repeats ricci's own formulas.  An answer
passes when every entry is within 1e-12 of the oracle's (relative; absolutely below the
smallest normal float, where no float has relative precision), or when the true value is not a
float (overflow) and ricci says so with a clear error.  Never a NaN, never an infinity.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ricci
from ricci.language.errors import BadValueError

mpmath = pytest.importorskip("mpmath")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

mp = mpmath.mp
RTOL = 1e-12
#: below the smallest normal float64 a value has no relative precision to speak of
TINY = 2.3e-308
FLOAT_MAX = 1.7976931348623157e308


# -- the oracle -------------------------------------------------------------------------------------

def _oracle(fn, points, order: int) -> np.ndarray | None:
    """fn's derivatives of ``order`` at each point (elementwise), at 60 digits; None where one
    is not a float64 (it overflows)."""
    out = []
    for t in points:
        with mp.workdps(_digits([t])):
            v = mp.diff(fn, mp.mpf(float(t)), order) if order else fn(mp.mpf(float(t)))
            if abs(v) > FLOAT_MAX:
                return None
            out.append(float(v))
    return np.array(out)


def _digits(values) -> int:
    """60 digits beyond those that a tiny entry needs to be seen beside 1 (1 + 1e-300)."""
    return 60 + max([0] + [-math.floor(math.log10(abs(float(t)))) for t in values if t])


def _close(got, want, scale=None) -> bool:
    """Within RTOL of ``want``, relative to |want| (or to ``scale``, the size of the terms that
    a result near 0 is the difference of)."""
    got = np.asarray(got, dtype=float)
    scale = np.abs(want) if scale is None else scale
    return bool(np.all(np.isfinite(got)) and np.all(np.abs(got - want) <= RTOL * scale + TINY))


def _sig(t):
    return 1 / (1 + mp.exp(-t))


#: name → (elementwise form in x, its mpmath reading, orders checked, the values it allows)
FORMS = {
    "softplus": ("log(1 + exp(x))", lambda t: mp.log(1 + mp.exp(t)), (0, 1, 2), "any"),
    "log_sigmoid": ("log(sigmoid(x))", lambda t: mp.log(_sig(t)), (0, 1, 2), "any"),
    "log_one_minus_sigmoid": ("log(1 - sigmoid(x))", lambda t: mp.log(1 - _sig(t)), (0, 1, 2), "any"),
    "one_minus_sigmoid": ("1 - sigmoid(x)", lambda t: 1 - _sig(t), (0, 1), "any"),
    "sigmoid": ("sigmoid(x)", _sig, (0, 1), "any"),
    "sigmoid_variance": ("sigmoid(x).*(1 - sigmoid(x))", lambda t: _sig(t) * (1 - _sig(t)), (0,), "any"),
    "log1p": ("log(1 + x)", lambda t: mp.log(1 + t), (0, 1, 2), "positive"),
    "expm1": ("exp(x) - 1", lambda t: mp.exp(t) - 1, (0, 1, 2), "any"),
    "tanh": ("tanh(x)", mp.tanh, (0, 1, 2), "any"),
}


def _magnitudes(domain: str):
    """Entries with magnitudes from 1e-300 to 1e3, both signs where the domain allows."""
    mag = st.floats(-300, 3).map(lambda e: 10.0 ** e)
    if domain == "positive":
        return mag
    return st.tuples(mag, st.booleans()).map(lambda p: -p[0] if p[1] else p[0])


def _expect(got_fn, want, where: str, scale=None):
    """got_fn() matches ``want`` (None: it must refuse with a clear error)."""
    try:
        with np.errstate(all="ignore"):
            got = got_fn()
    except (BadValueError, FloatingPointError) as e:
        assert want is None, f"{where}: refused ({e}) although the answer {want} is a float"
        assert str(e)
        return
    assert want is not None, f"{where}: gave {got} where the true value overflows (a clear error was due)"
    assert _close(got, want, scale), f"{where}: {got} but the answer is {want}"


@pytest.mark.parametrize("name", sorted(FORMS))
def test_forms_against_mpmath(name):
    text, fn, orders, domain = FORMS[name]
    derivs = {k: ricci.derivative(f"sum({text})", "x", order=k) for k in orders if k}
    codes = {k: d.function(check_finite=True) for k, d in derivs.items()}

    @settings(max_examples=25, deadline=None, derandomize=True, database=None)
    @given(st.lists(_magnitudes(domain), min_size=1, max_size=3))
    def run(entries):
        x = np.array(entries)
        for k in orders:
            want = _oracle(fn, x, k)
            where = f"{name} order {k} at x = {list(x)}"
            if k == 0:
                _expect(lambda: ricci.evaluate(text, {"x": x}), want, where + " (ricci.evaluate)")
                continue
            if k == 2 and want is not None:
                want = np.diag(want)
            _expect(lambda: derivs[k].evaluate({"x": x}), want, where + " (d.evaluate)")
            _expect(lambda: codes[k](x), want, where + " (d.function)")

    run()


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=4))
def test_logsumexp_and_softmax_against_mpmath(entries):
    x = np.array(entries)
    with mp.workdps(_digits(x)):
        xs = [mp.mpf(float(t)) for t in x]
        lse = mp.log(mp.fsum(mp.exp(t) for t in xs))
        p = [float(mp.exp(t - lse)) for t in xs]
    d = ricci.derivative("log(sum(exp(x)))", "x")
    # log Σ exp(x) near 0 is max(x) minus nearly as much: relative to max |x| (the rounding of
    # the float max(x) itself is that large)
    _expect(lambda: ricci.evaluate("log(sum(exp(x)))", {"x": x}), float(lse), "value",
            scale=max(abs(float(lse)), float(np.max(np.abs(x)))))
    _expect(lambda: d.evaluate({"x": x}), np.array(p), "gradient (d.evaluate)")
    _expect(lambda: d.function(check_finite=True)(x), np.array(p), "gradient (d.function)")


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(st.floats(-300, 3), st.floats(0.1, 10))
def test_logdet_of_scaled_matrices_against_mpmath(e, c):
    # X = s·M with s from 1e-300 to 1e3: det(X) under- or overflows long before log det X does
    s = 10.0 ** e
    M = np.array([[2.0, c], [0.5, 3.0]])
    X = s * M
    with mp.workdps(60):
        Xm = mp.matrix([[mp.mpf(float(v)) for v in row] for row in X])
        want = float(mp.log(mp.det(Xm)))
        grad = np.array(mp.inverse(Xm).T.tolist(), dtype=float)
    _expect(lambda: ricci.evaluate("log(det(X))", {"X": X}), want, "log det (ricci.evaluate)")
    d = ricci.derivative("log(det(X))", "X")
    _expect(lambda: d.evaluate({"X": X}), grad, "gradient (d.evaluate)")
    _expect(lambda: d.function(check_finite=True)(X), grad, "gradient (d.function)")


# -- the issue's three rows ----------------------------------------------------------------------

def _logistic(values):
    X, y, w = values["X"], values["y"], values["w"]
    with mp.workdps(60):
        m = [mp.mpf(float(v)) for v in X @ w]  # X*w is exact at these values
        return np.array([float(mp.fsum(-y[i] * X[i, j] / (1 + mp.exp(y[i] * m[i])) for i in range(len(y))))
                         for j in range(X.shape[1])])


ROWS = {
    "logistic": ("sum(log(1 + exp(-y.*(X*w))))", "w",
                 {"X": np.array([[1000.0, 0.0], [0.0, 1.0]]), "y": np.array([-1.0, 1.0]), "w": np.array([1.0, 1.0])},
                 _logistic),
    "softplus": ("sum(log(1 + exp(x)))", "x", {"x": np.array([800.0, 1.0])},
                 lambda v: _oracle(lambda t: mp.log(1 + mp.exp(t)), v["x"], 1)),
    "logsumexp": ("log(sum(exp(x)))", "x", {"x": np.array([1000.0, 1000.0])}, lambda v: np.array([0.5, 0.5])),
}


def _backend(name):
    if name == "numpy":
        return (lambda a: a), (lambda r: np.asarray(r))
    if name == "jax":
        jax = pytest.importorskip("jax")
        jax.config.update("jax_enable_x64", True)
        return jax.numpy.asarray, np.asarray
    if name == "torch":
        torch = pytest.importorskip("torch")
        return torch.as_tensor, (lambda r: r.numpy())
    xps = pytest.importorskip("array_api_strict")
    return xps.asarray, np.asarray


@pytest.mark.parametrize("row", sorted(ROWS))
def test_the_issue_rows_from_d_evaluate(row):
    text, wrt, values, answer = ROWS[row]
    want = answer(values)
    assert np.allclose(want, {"logistic": [1000, -0.2689414213699951], "softplus": [1, 0.7310585786300049],
                              "logsumexp": [0.5, 0.5]}[row], rtol=1e-12)
    assert _close(ricci.derivative(text, wrt).evaluate(values), want)


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch", "array_api_strict"])
@pytest.mark.parametrize("row", sorted(ROWS))
def test_the_issue_rows_from_every_backend(row, backend):
    text, wrt, values, answer = ROWS[row]
    to, back = _backend(backend)
    d = ricci.derivative(text, wrt)
    f = d.function("array_api" if backend == "array_api_strict" else backend, with_value=True)
    value, got = f(**{n: to(v) for n, v in values.items()})
    assert _close(back(got), answer(values))
    assert math.isfinite(float(value))
    assert _close(float(value), ricci.evaluate(text, values))


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
@pytest.mark.parametrize("row", sorted(ROWS))
def test_float32_stays_float32_with_the_stable_forms(row, backend):
    text, wrt, values, answer = ROWS[row]
    to, back = _backend(backend)
    d = ricci.derivative(text, wrt)
    got = d.function(backend)(**{n: to(np.asarray(v, dtype=np.float32)) for n, v in values.items()})
    assert str(got.dtype).endswith("float32")
    # float32's own precision: exp(x - logsumexp(x)) at x = 1000 inherits the rounding of
    # logsumexp(x) = 1000.69 in float32 (6e-5)
    assert np.allclose(back(got), answer(values), rtol=2e-4, atol=1e-6)


# -- never a silent NaN ---------------------------------------------------------------------------

def test_d_evaluate_raises_ricci_evaluates_error_where_the_function_overflows():
    values = {"x": np.array([800.0, 1.0])}
    with pytest.raises(BadValueError) as f_error:
        ricci.evaluate("sum(exp(x))", values)
    with pytest.raises(BadValueError) as d_error:
        ricci.derivative("sum(exp(x))", "x", order=2).evaluate(values)
    assert str(d_error.value) == str(f_error.value)
    assert "exp(x)" in str(d_error.value)


def test_d_evaluate_names_the_term_where_only_the_derivative_is_not_finite():
    # sqrt(x) is finite at 0, its derivative 0.5*x^-0.5 is not
    with pytest.raises(BadValueError) as e:
        ricci.derivative("sum(sqrt(x))", "x").evaluate({"x": np.array([0.0, 1.0])})
    message = str(e.value)
    assert "derivative of sum(sqrt(x)) by x is infinite" in message
    assert "x^-0.5" in message and "zero to a negative power" in message and "depends on x" in message


def test_generated_code_checks_finite_when_asked():
    d = ricci.derivative("sum(exp(x))", "x")
    x = np.array([800.0, 1.0])
    with np.errstate(over="ignore"):
        assert np.isinf(d.function()(x)).any()  # off by default (benchmarks): the numbers as they come
        with pytest.raises(FloatingPointError, match="gradient of sum"):
            d.function(check_finite=True)(x)
        with pytest.raises(FloatingPointError, match="value of sum"):
            d.function(with_value=True, check_finite=True)(x)
    assert np.allclose(d.function(check_finite=True)(np.array([1.0, 2.0])), np.exp([1.0, 2.0]))
    assert "isfinite" in d.code(check_finite=True) and "isfinite" not in d.code()


@pytest.mark.parametrize("backend", ["torch", "jax", "array_api_strict"])
def test_check_finite_in_other_backends(backend):
    to, back = _backend(backend)
    d = ricci.derivative("sum(exp(x))", "x")
    f = d.function("array_api" if backend == "array_api_strict" else backend, check_finite=True)
    assert np.allclose(back(f(to(np.array([1.0, 2.0])))), np.exp([1.0, 2.0]))
    with pytest.raises(FloatingPointError), np.errstate(over="ignore"):
        f(to(np.array([800.0, 1.0])))


# -- the rules are rules: written forms and their stable forms agree where both are finite ----------

@pytest.mark.parametrize("text", [v[0] for v in FORMS.values()] + ["log(det(X))", "log(1 - x)"])
def test_stable_forms_agree_with_the_written_form_at_ordinary_values(text):
    # the reference: the checker's evaluator, which reads the expression as written
    from ricci.numeric_check import ArrayEvaluator

    e = ricci.parse(text)
    values = {"x": np.array([0.3, -0.2, 0.05])} if "x" in e.variables else {"X": np.array([[2.0, 0.3], [0.1, 1.5]])}
    naive = ArrayEvaluator(e)(values)
    assert np.allclose(ricci.evaluate(text, values), naive, rtol=1e-13, atol=0)


# -- d.evaluate and d.function() agree on the test suite's derivatives, at random and extreme points --

def _corpus():
    # the corpus of tests/test_codegen.py: the lecture's examples, a broad set, every Cookbook test
    import test_codegen

    return test_codegen


CORPUS = _corpus()
#: random points (1), and the same points stretched until exp, powers and products overflow
SCALES = (1.0, 40.0, 1000.0)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("name", sorted(CORPUS.ALL))
def test_d_evaluate_and_generated_code_agree_on_the_corpus(name, scale):
    c = CORPUS.ALL[name]
    d = CORPUS._derivative(c)
    values = {n: np.asarray(v, dtype=float) * scale for n, v in CORPUS._values(c).items()}
    results = []
    for run in (lambda: d.evaluate(values),
                lambda: d.function(check_finite=True)(**{CORPUS.python_name(n): v for n, v in values.items()})):
        try:
            with np.errstate(all="ignore"):
                results.append(np.asarray(run(), dtype=float))
        except (BadValueError, FloatingPointError) as e:
            results.append(e)
    want, got = results
    if isinstance(want, Exception) or isinstance(got, Exception):
        assert isinstance(want, Exception) and isinstance(got, Exception), \
            f"{d.text} at ×{scale}: d.evaluate gives {want!r}, the generated code {got!r}"
        return
    assert np.all(np.isfinite(want)) and np.all(np.isfinite(got))
    assert got.shape == want.shape
    # 1e-13 absolutely: an entry that is the difference of terms near 1 (p - p^2 of a softmax
    # that is nearly one-hot) is rounding in both
    assert np.allclose(got, want, rtol=1e-9, atol=1e-9 * np.max(np.abs(want), initial=0.0) + 1e-13), \
        f"{d.text} at ×{scale}: max difference {np.max(np.abs(got - want))}"


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(st.lists(_magnitudes("any"), min_size=1, max_size=4))
def test_the_norm_scaled_against_mpmath(entries):
    # sqrt(x'*x) at entries of 1e-300 (or 1e3): x'*x alone underflows to 0
    x = np.array(entries)
    with mp.workdps(_digits(x)):
        norm = mp.sqrt(mp.fsum(mp.mpf(float(t)) ** 2 for t in x))
        grad = np.array([float(mp.mpf(float(t)) / norm) for t in x])
    for text in ("sqrt(x'*x)", "norm2(x)"):
        _expect(lambda: ricci.evaluate(text, {"x": x}), float(norm), f"{text} (ricci.evaluate)")
        _expect(lambda: ricci.derivative(text, "x").evaluate({"x": x}), grad, f"{text} gradient (d.evaluate)")
