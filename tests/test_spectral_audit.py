"""Issue 18's audit: the spectral functions' gaps (svd at a matrix of any shape, the norms in
``ricci.analyse``) and the issue's acceptance points, each run against an independent reference
(NumPy/SciPy's own functions, central differences of them, mpmath where SciPy is the engine).

References are never ricci's own output: values come from NumPy/SciPy, derivatives from
central differences of NumPy/SciPy functions (``helpers.central_differences``)."""

import numpy as np
import pytest
from helpers import backend_array
from helpers import central_differences as _fd

import ricci
from ricci.language.errors import BadValueError

BACKENDS = ["numpy", "jax", "torch", "array_api"]


def _rng(seed):
    return np.random.default_rng(seed)


def _svd_padded(z):
    """NumPy's singular values, then n − m zeros for a wide m×n z (ricci's svd(X), documented)."""
    s = np.linalg.svd(z, compute_uv=False)
    return np.concatenate([s, np.zeros(z.shape[1] - s.size)])


# -- gap 1: svd and the norms at generic points of any shape --------------------------------------

SHAPES = [(5, 3), (3, 3), (3, 5), (2, 6)]  # tall, square, wide, very wide


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{m}x{n}" for m, n in SHAPES])
def test_svd_derivative_holds_at_a_matrix_of_any_shape(shape):
    # the padded zeros of a wide X are zero for every X of that shape: their derivative is 0;
    # the others' is u_i*v_i' (simple, positive singular values: a generic X)
    d = ricci.derivative("svd(X)", "X")
    for seed in range(3):
        x = _rng(seed).standard_normal(shape)
        np.testing.assert_allclose(d.evaluate({"X": x}), _fd(_svd_padded, x), atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5)], ids=["tall", "wide"])
def test_generated_svd_derivative_at_any_shape(backend, shape):
    x = _rng(3).standard_normal(shape)
    convert = backend_array(backend)  # skips where the backend is missing
    fn = ricci.derivative("svd(X)", "X").function(backend)
    np.testing.assert_allclose(np.asarray(fn(X=convert(x))), _fd(_svd_padded, x), atol=1e-6)


@pytest.mark.parametrize("expression", ["svd(X)", "norm(X, 2)", "norm(X, 'nuc')"])
def test_the_check_passes_at_random_points_of_any_shape(expression):
    d = ricci.derivative(expression, "X")
    for seed in range(4):  # the check draws its own sizes: some X wide, some tall
        assert "checked numerically" in str(d.check(seed=seed))
    for shape in SHAPES:
        x = _rng(5).standard_normal(shape)
        assert "checked numerically" in str(d.check({"X": x}))


def test_svd_still_refuses_where_a_singular_value_is_repeated_or_zero():
    u, _ = np.linalg.qr(_rng(6).standard_normal((3, 3)))
    v, _ = np.linalg.qr(_rng(7).standard_normal((5, 5)))
    d = ricci.derivative("svd(X)", "X")
    for spectrum in ([2.0, 2.0, 1.0], [2.0, 1.0, 0.0]):  # wide, a value repeated; rank deficient
        x = u @ np.diag(spectrum) @ v[:3]
        with pytest.raises(BadValueError, match="svd.X. has no derivative at this X"):
            d.evaluate({"X": x})


# -- gap 2: the norms and the extreme eigenvalues in ricci.analyse ---------------------------------

CURVATURE = [  # (expression, wrt, convex, concave): the function table's facts, composed
    ("norm(X, 2)", "X", True, False),
    ("norm(X, 'nuc')", "X", True, False),
    ("-norm(X, 'nuc') + tr(X)", "X", False, True),
    ("norm(A + t*B, 2)", "t", True, False),
    ("lambda_max(S)", "S", True, False),
    ("lambda_min(S)", "S", False, True),
]


@pytest.mark.parametrize("expression, wrt, convex, concave", CURVATURE, ids=[c[0] for c in CURVATURE])
def test_analyse_states_the_curvature_facts(expression, wrt, convex, concave):
    r = ricci.analyse(expression, wrt)
    c = r.convexity
    assert (c.convex, c.concave) == (convex, concave), c.verdict
    assert c.proof.method == "curvature"
    assert ("convex" if convex else "concave") in str(r)


@pytest.mark.parametrize("expression", ["norm(X, 2)", "norm(X, 'nuc')"])
def test_a_norms_hessian_is_said_to_be_not_provided(expression):
    r = ricci.analyse(expression, "X")
    assert r.hessian_text.startswith("not provided")
    assert "Hessian:  not provided" in str(r)
    assert r.to_json()["hessian"].startswith("not provided")


def test_a_norm_analysed_at_a_point_gives_f_and_the_gradient():
    x = _rng(8).standard_normal((4, 3))
    r = ricci.analyse("norm(X, 2)", "X", at={"X": x})
    p = r.point
    assert abs(p.f - np.linalg.norm(x, 2)) < 1e-12
    np.testing.assert_allclose(p.gradient, _fd(lambda z: np.linalg.norm(z, 2), x), atol=1e-6)
    assert p.hessian is None and p.definiteness is None
    assert "the Hessian is not provided" in str(r)


def test_without_a_hessian_a_segment_refutes_convexity():
    # -‖X‖₂² is concave, not convex; no rule reads a square, and no Hessian is given: a random
    # segment where f((a + b)/2) > (f(a) + f(b))/2 is the witness, recomputed here with NumPy
    c = ricci.analyse("-norm(X, 2)^2", "X").convexity
    assert c.convex is False
    a, b = c.segment["a"]["X"], c.segment["b"]["X"]
    np.testing.assert_allclose(c.witness["X"], (a + b) / 2)

    def f(z):
        return -np.linalg.norm(z, 2) ** 2

    assert f((a + b) / 2) > (f(a) + f(b)) / 2


# -- explain names the rules -----------------------------------------------------------------------

RULES = [  # (expression, wrt, the rule its steps name)
    ("tr(expm(X))", "X", "trace rule"),
    ("tr(logm(X))", "X", "trace rule"),
    ("tr(sqrtm(X))", "X", "trace rule"),
    ("expm(t*A)", "t", "commuting"),
    ("u'*expm(X)*v", "X", "Fréchet"),
    ("lambda_max(S)", "S", "Hellmann–Feynman"),
    ("eig(S)", "S", "Hellmann–Feynman"),
    ("svd(X)", "X", "Hellmann–Feynman"),
    ("norm(X, 2)", "X", "Hellmann–Feynman"),
    ("norm(X, 'nuc')", "X", "Hellmann–Feynman"),
]


@pytest.mark.parametrize("expression, wrt, rule", RULES, ids=[r[0] for r in RULES])
def test_the_steps_name_the_rule(expression, wrt, rule):
    assert rule in str(ricci.derivative(expression, wrt).steps)


@pytest.mark.parametrize("expression", ["lambda_max(S)", "lambda_min(S)"])
def test_the_differential_method_reads_an_answer_with_a_where(expression):
    # d lambda_max(S) = tr(G' dS) with G = u*u' written in (the gradient's where binding inside dF
    # could not be re-read: a syntax error before)
    steps = str(ricci.derivative(expression, "S").steps(method="differentials"))
    vec = expression.replace("lambda", "eigvec")
    assert f"∂f/∂S = {vec}*{vec}'" in steps
    s = _rng(9).standard_normal((4, 4))
    s = s + s.T
    q = np.linalg.eigh(s)[1][:, -1 if "max" in expression else 0]
    np.testing.assert_allclose(ricci.evaluate(f"{vec}*{vec}'", {"S": s}), np.outer(q, q), atol=1e-12)
