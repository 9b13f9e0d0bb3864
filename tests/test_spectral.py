"""Spectral functions (issue 18, part B): eig, lambda_max, lambda_min, svd, the spectral and
nuclear norms (NumPy's norm(X, 2) and norm(X, 'nuc')), their derivatives in closed form, and the
refusal where an eigenvalue (a singular value) is repeated.

Values are compared with NumPy; derivatives with central finite differences of NumPy's own
functions (not of ricci's), at random points whose spectra are distinct, with a different size
for every dimension so that a transpose cannot hide."""

import numpy as np
import pytest
from helpers import central_differences as _fd

import ricci
from ricci.language.errors import BadValueError, RicciError, RicciSyntaxError

M, N = 5, 3  # X is M×N (tall), W is N×M (wide), S is N×N


def _sym(z):
    return (z + z.T) / 2


def _rng(seed):
    return np.random.default_rng(seed)


def _symmetric(seed, n=N):
    a = _rng(seed).standard_normal((n, n))
    return a + a.T


# NumPy's meaning of each function (eigvalsh of the symmetric part: eig(S) is of (S + S')/2)
NUMPY = {
    "eig(S)": lambda z: np.linalg.eigvalsh(_sym(z)),
    "lambda_max(S)": lambda z: np.linalg.eigvalsh(_sym(z))[-1],
    "lambda_min(S)": lambda z: np.linalg.eigvalsh(_sym(z))[0],
    "svd(X)": lambda z: np.linalg.svd(z, compute_uv=False),
    "norm(X, 2)": lambda z: np.linalg.norm(z, 2),
    "norm(X, 'nuc')": lambda z: np.linalg.norm(z, "nuc"),
}


def _point(expression, seed):
    if "S" in expression:
        return "S", _symmetric(seed)
    return "X", _rng(seed).standard_normal((M, N))


@pytest.mark.parametrize("expression", sorted(NUMPY))
def test_values_are_numpys(expression):
    for seed in range(3):
        name, z = _point(expression, seed)
        got = ricci.evaluate(expression, {name: z})
        np.testing.assert_allclose(got, NUMPY[expression](z), rtol=1e-12, atol=1e-12)


def test_values_of_a_non_symmetric_s_are_those_of_its_symmetric_part():
    s = _rng(7).standard_normal((N, N))
    np.testing.assert_allclose(ricci.evaluate("eig(S)", {"S": s}), np.linalg.eigvalsh(_sym(s)), atol=1e-12)


def test_svd_of_a_wide_matrix_has_zeros_after_numpys():
    w = _rng(1).standard_normal((N, M))
    got = ricci.evaluate("svd(W)", {"W": w})
    np.testing.assert_allclose(got[:N], np.linalg.svd(w, compute_uv=False), atol=1e-12)
    np.testing.assert_allclose(got[N:], 0.0)
    np.testing.assert_allclose(got, np.sqrt(np.clip(np.linalg.eigvalsh(w.T @ w)[::-1], 0, None)), atol=1e-7)


def test_the_vectors_are_numpys_up_to_sign():
    s = _symmetric(3)
    w, v = np.linalg.eigh(s)
    for name, k in (("eigvec_max", -1), ("eigvec_min", 0)):
        u = ricci.evaluate(f"{name}(S)", {"S": s})
        assert abs(abs(u @ v[:, k]) - 1) < 1e-12
    q = ricci.evaluate("eigvecs(S)", {"S": s})
    np.testing.assert_allclose(np.abs(np.sum(q * v, axis=0)), 1.0, atol=1e-12)
    x = _rng(4).standard_normal((M, N))
    u, sv, vt = np.linalg.svd(x, full_matrices=False)
    np.testing.assert_allclose(ricci.evaluate("polar(X)", {"X": x}), u @ vt, atol=1e-12)
    u1, v1 = ricci.evaluate("sv_u1(X)", {"X": x}), ricci.evaluate("sv_v1(X)", {"X": x})
    np.testing.assert_allclose(np.outer(u1, v1), np.outer(u[:, 0], vt[0]), atol=1e-12)


@pytest.mark.parametrize("expression", sorted(NUMPY))
def test_derivatives_match_finite_differences(expression):
    d = ricci.derivative(expression, "S" if "S" in expression else "X")
    for seed in range(3):
        name, z = _point(expression, seed)
        np.testing.assert_allclose(d.evaluate({name: z}), _fd(NUMPY[expression], z), atol=1e-6)
        # the answer's text is the language again: it evaluates to the same numbers
        np.testing.assert_allclose(ricci.evaluate(d.text, {name: z}) if d.shape and len(d.shape) <= 2
                                   else d.evaluate({name: z}), d.evaluate({name: z}), atol=1e-12)


COMPOSED = [
    # (expression, wrt, NumPy's function of wrt with the other values fixed)
    ("lambda_max(A'*A)", "A", lambda a, v: np.linalg.eigvalsh(a.T @ a)[-1]),
    ("lambda_max(S + t*B)", "t", lambda t, v: np.linalg.eigvalsh(_sym(v["S"] + t * v["B"]))[-1]),
    ("u'*X*v + norm(X, 'nuc')", "X", lambda x, v: v["u"] @ x @ v["v"] + np.linalg.norm(x, "nuc")),
    ("norm(X, 2)^2", "X", lambda x, v: np.linalg.norm(x, 2) ** 2),
    ("eig(S)'*y", "S", lambda s, v: np.linalg.eigvalsh(_sym(s)) @ v["y"]),
    ("lambda_min(S) - lambda_max(S)", "S", lambda s, v: np.ptp(np.linalg.eigvalsh(_sym(s)))),
]


@pytest.mark.parametrize("expression, wrt, f", COMPOSED, ids=[c[0] for c in COMPOSED])
def test_composed_derivatives_match_finite_differences(expression, wrt, f):
    rng = _rng(11)
    values = {"A": rng.standard_normal((M, N)), "S": _symmetric(12), "B": _symmetric(13),
              "t": 0.3, "X": rng.standard_normal((M, N)), "u": rng.standard_normal(M),
              "v": rng.standard_normal(N), "y": rng.standard_normal(N)}
    d = ricci.derivative(expression, wrt)
    used = {k: values[k] for k in ricci.parse(expression).variables}
    expected = _fd(lambda z: f(z, values), np.asarray(values[wrt], dtype=float))
    if expression.startswith("lambda_min(S) - "):
        expected = -expected  # ptp is max - min
    np.testing.assert_allclose(d.evaluate(used), expected, atol=1e-6)


def test_lambda_max_is_u_u_transposed_with_u_named():
    d = ricci.derivative("lambda_max(S)", "S")
    assert d.text == "u*u' where u = eigvec_max(S)"
    s = _symmetric(5)
    w, v = np.linalg.eigh(s)
    np.testing.assert_allclose(d.evaluate({"S": s}), np.outer(v[:, -1], v[:, -1]), atol=1e-12)
    assert ricci.derivative("lambda_min(S)", "S").text == "u*u' where u = eigvec_min(S)"


def test_the_other_closed_forms():
    assert ricci.derivative("norm(X, 2)", "X").text == "sv_u1(X)*sv_v1(X)'"
    assert ricci.derivative("norm(X, 'nuc')", "X").text == "polar(X)"
    # ∂λ_i/∂S_jk = q_i(j) q_i(k): a tensor, in index notation
    assert ricci.derivative("eig(S)", "S").text == "∂f_i/∂S_jk = eigvecs(S)_ji eigvecs(S)_ki"
    assert ricci.derivative("svd(X)", "X").text == "∂f_i/∂X_jk = svd_u(X)_ji svd_v(X)_ki"


def test_the_steps_name_hellmann_feynman():
    assert "Hellmann–Feynman" in str(ricci.derivative("lambda_max(S)", "S").steps)


BACKENDS = ["numpy", "jax", "torch", "array_api"]


def _skip_without(backend):
    # before d.function(backend): the generated module imports its backend when compiled
    module = {"jax": "jax", "torch": "torch", "array_api": "array_api_strict"}.get(backend)
    if module:
        pytest.importorskip(module)


def _call(fn, backend, name, z):
    if backend == "jax":
        jnp = pytest.importorskip("jax.numpy")
        import jax

        jax.config.update("jax_enable_x64", True)
        return np.asarray(fn(**{name: jnp.asarray(z)}))
    if backend == "torch":
        torch = pytest.importorskip("torch")
        return fn(**{name: torch.asarray(z)}).numpy()
    if backend == "array_api":
        xp = pytest.importorskip("array_api_strict")
        return np.asarray(fn(**{name: xp.asarray(z)}))
    return np.asarray(fn(**{name: z}))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("expression", sorted(NUMPY))
def test_generated_code_matches_finite_differences(expression, backend):
    _skip_without(backend)
    d = ricci.derivative(expression, "S" if "S" in expression else "X")
    fn = d.function(backend)
    for seed in range(2):
        name, z = _point(expression, seed)
        np.testing.assert_allclose(_call(fn, backend, name, z), _fd(NUMPY[expression], z), atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("expression", sorted(NUMPY))
def test_generated_values_are_numpys(expression, backend):
    _skip_without(backend)
    fn = ricci.derivative(expression, "S" if "S" in expression else "X").function(backend, with_value=True)
    name, z = _point(expression, 2)
    value = _call(lambda **kw: fn(**kw)[0], backend, name, z)
    np.testing.assert_allclose(value, NUMPY[expression](z), atol=1e-12)


def test_jax_jit_of_the_generated_gradient():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    d = ricci.derivative("lambda_max(S)", "S")
    s = _symmetric(8)
    np.testing.assert_allclose(np.asarray(jax.jit(d.function("jax"))(S=s)), _fd(NUMPY["lambda_max(S)"], s),
                               atol=1e-6)


def test_checked_at_random_points():
    for expression, wrt in (("lambda_max(S)", "S"), ("eig(S)", "S"), ("norm(X, 2)", "X"),
                            ("norm(X, 'nuc')", "X")):
        assert "checked numerically" in str(ricci.derivative(expression, wrt).check())


# -- acceptance 3: a repeated eigenvalue -----------------------------------------------------------

def _repeated(top=True, scale=1.0):
    q, _ = np.linalg.qr(_rng(21).standard_normal((4, 4)))
    spectrum = [1.0, 2.0, 3.0, 3.0] if top else [1.0, 1.0, 2.0, 3.0]
    return scale * (q @ np.diag(spectrum) @ q.T)


@pytest.mark.parametrize("scale", [1.0, 1e-6, 1e6])
def test_a_repeated_top_eigenvalue_is_refused_not_a_number(scale):
    s = _repeated(scale=scale)
    d = ricci.derivative("lambda_max(S)", "S")
    for attempt in (lambda: d.evaluate({"S": s}), lambda: d.check({"S": s})):
        with pytest.raises(BadValueError, match="no derivative at this S.*subgradient"):
            attempt()
    # the value itself is fine there
    assert abs(ricci.evaluate("lambda_max(S)", {"S": s}) - 3 * scale) < 1e-9 * scale


@pytest.mark.parametrize("backend", ["numpy", "torch", "array_api", "jax"])
def test_generated_code_refuses_a_repeated_eigenvalue(backend):
    _skip_without(backend)
    fn = ricci.derivative("lambda_max(S)", "S").function(backend)
    with pytest.raises(ValueError, match="not unique here.*does not exist"):
        _call(fn, backend, "S", _repeated())


def test_the_tolerance_is_relative_to_the_spectrums_scale():
    q, _ = np.linalg.qr(_rng(22).standard_normal((3, 3)))
    d = ricci.derivative("lambda_max(S)", "S")
    for scale in (1e-8, 1.0, 1e8):
        # a relative gap of 1e-4: distinct at every scale, and the derivative is u*u' (u = q_3)
        s = scale * (q @ np.diag([1.0, 1.9999, 2.0]) @ q.T)
        np.testing.assert_allclose(d.evaluate({"S": s}), np.outer(q[:, 2], q[:, 2]), atol=1e-6)


def test_a_repeated_bottom_eigenvalue_refuses_lambda_min_only():
    s = _repeated(top=False)
    assert np.isfinite(ricci.derivative("lambda_max(S)", "S").evaluate({"S": s})).all()
    with pytest.raises(BadValueError, match="lambda_min.S. has no derivative.*supergradient"):
        ricci.derivative("lambda_min(S)", "S").evaluate({"S": s})
    with pytest.raises(BadValueError, match="eig.S. has no derivative"):
        ricci.derivative("eig(S)", "S").evaluate({"S": s})


def test_norms_refuse_where_they_have_no_derivative():
    u, _ = np.linalg.qr(_rng(23).standard_normal((M, N)))
    v, _ = np.linalg.qr(_rng(24).standard_normal((N, N)))
    tied = u @ np.diag([2.0, 2.0, 1.0]) @ v.T  # σ_1 repeated
    with pytest.raises(BadValueError, match="spectral_norm.X. has no derivative.*subgradient"):
        ricci.derivative("norm(X, 2)", "X").evaluate({"X": tied})
    low = u @ np.diag([2.0, 1.0, 0.0]) @ v.T  # rank 2
    with pytest.raises(BadValueError, match="nuclear_norm.X. has no derivative.*subgradient"):
        ricci.derivative("norm(X, 'nuc')", "X").evaluate({"X": low})
    # a wide X of rank 1 < 2: a zero singular value that is not one of the padded zeros
    with pytest.raises(BadValueError, match="svd.X. has no derivative"):
        ricci.derivative("svd(X)", "X").evaluate({"X": np.ones((2, 3))})


# -- the language ----------------------------------------------------------------------------------

def test_numpys_spellings_of_the_norms():
    assert ricci.parse("norm(X, 2)") == ricci.parse("spectral_norm(X)")
    assert ricci.parse("norm(X, 'nuc')") == ricci.parse('norm(X, "nuc")') == ricci.parse("nuclear_norm(X)")
    assert ricci.parse("norm(X, 'fro')") == ricci.parse("norm2(X)")
    x = _rng(30).standard_normal(M)
    assert abs(ricci.evaluate("norm(x, 2)", {"x": x}) - np.linalg.norm(x, 2)) < 1e-12
    np.testing.assert_allclose(ricci.derivative("norm(x, 2)", "x").evaluate({"x": x}), x / np.linalg.norm(x))
    # the transpose is not a quote: A' and 'nuc' meet in one call
    assert ricci.parse("norm(A', 'nuc')") == ricci.parse("nuclear_norm(A')")


@pytest.mark.parametrize("text, position, words", [
    ("norm(X, 1)", 8, "2 .the spectral norm., 'nuc'"),
    ("norm(X, 'inf')", 8, "'nuc'"),
    ("exp(X, 'nuc')", 7, "not an argument of exp"),
    ("exp('nuc')", 4, "unexpected"),
])
def test_bad_norm_spellings_name_their_position(text, position, words):
    with pytest.raises(RicciSyntaxError, match=words) as e:
        ricci.parse(text)
    assert e.value.span[0] == position


@pytest.mark.parametrize("text, words", [
    ("eig(x)", "needs a square matrix, but x is a vector"),
    ("svd(t)", "needs a matrix, but t is a scalar"),
])
def test_kinds_are_checked(text, words):
    kinds = {"x": "vector", "t": "scalar"}
    with pytest.raises(RicciError, match=words):
        ricci.parse(text, kinds={k: v for k, v in kinds.items() if k in text})


def test_a_non_square_matrix_is_refused_with_its_shape():
    with pytest.raises(RicciError, match="A"):
        ricci.evaluate("lambda_max(A)", {"A": np.ones((2, 3))})


def test_a_derivative_not_given_is_refused_by_name():
    with pytest.raises(RicciError, match="derivative of gap_pinv_max .* not available"):
        ricci.derivative("lambda_max(S)", "S", order=3)
    with pytest.raises(RicciError, match="derivative of sv_v1 .* not available"):
        ricci.derivative("norm(X, 2)", "X", order=2)


@pytest.mark.parametrize("backend", [None] + BACKENDS)
@pytest.mark.parametrize("expression", ["lambda_max(S)", "lambda_min(S)"])
def test_hessians_of_the_extreme_eigenvalues_match_finite_differences(expression, backend):
    _skip_without(backend)
    # d²λ = 2 u'·dP·G·dP·u with G = (λI − P)^+ (gap_pinv_max(S)): against differences of the gradient
    d2 = ricci.derivative(expression, "S", order=2)
    s = _symmetric(40, 4)
    grad = np.linalg.eigh(_sym(s))[1][:, -1 if "max" in expression else 0]
    assert abs(abs(grad @ ricci.evaluate(expression.replace("lambda", "eigvec"), {"S": s})) - 1) < 1e-12

    def gradient(z):
        w, v = np.linalg.eigh(_sym(z))
        u = v[:, -1 if "max" in expression else 0]
        return np.outer(u, u)

    got = d2.evaluate({"S": s}) if backend is None else _call(d2.function(backend), backend, "S", s)
    np.testing.assert_allclose(got, _fd(gradient, s), atol=1e-6)


def test_analysis_knows_the_curvature_facts():
    for expression, wrt, convex, concave in (("lambda_max(S)", "S", True, False),
                                             ("lambda_min(S)", "S", False, True),
                                             ("-lambda_min(S) + tr(S)", "S", True, False),
                                             ("lambda_max(A + t*B)", "t", True, False)):
        c = ricci.analyse(expression, wrt).convexity
        assert (c.convex, c.concave) == (convex, concave), (expression, c.verdict)
        assert c.proof.method == "curvature"
    # not a composition the rules read: left to the Hessian, which cannot prove it
    assert ricci.analyse("lambda_max(S)^2", "S").convexity.convex is None


@pytest.mark.parametrize("expression, order", [(e, 1) for e in sorted(NUMPY)] + [("lambda_max(S)", 2),
                                                                              ("lambda_min(S)", 2)])
def test_the_jax_oracle_agrees(expression, order):
    # JAX differentiates its own eigh/svd through the language read directly (ricci.oracle),
    # sharing nothing with ricci's rules
    pytest.importorskip("jax")
    from ricci.oracle import jax_derivative

    wrt = "S" if "S" in expression else "X"
    d = ricci.derivative(expression, wrt, order=order)
    name, z = _point(expression, 9)
    np.testing.assert_allclose(d.evaluate({name: z}), jax_derivative(d.expression, wrt, {name: z}, order),
                               atol=1e-8)
