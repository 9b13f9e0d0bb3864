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


@pytest.mark.parametrize("expression, wrt", [("svd(A*B)", "A"), ("svd(A*B)", "B"), ("norm(A*X, 'nuc')", "X"),
                                             ("eig(A*A')", "A"), ("lambda_min(B'*B)", "B")])
def test_the_check_draws_sizes_where_the_derivative_exists(expression, wrt):
    # A*B has rank at most its inner size: drawn smaller than the outer ones, A*B is rank
    # deficient (zero singular values, repeated) and the derivative does not exist there; the
    # sampler reads that from the function table (watch "spectrum") and draws again
    d = ricci.derivative(expression, wrt)
    for seed in range(4):
        report = d.check(seed=seed)
        assert report.passed, report
        for point in report.points:  # an independent look: NumPy's spectrum of the argument
            arg = ricci.evaluate(expression.split("(", 1)[1].rsplit(")", 1)[0].split(",")[0], point)
            sv = np.linalg.svd(np.atleast_2d(arg), compute_uv=False)
            if expression.startswith(("svd", "norm")):
                assert sv[-1] > 1e-6 * sv[0]


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


# -- acceptance 1: values and derivatives against SciPy/NumPy, in every backend -------------------

def _spd(seed, n=4):
    a = _rng(seed).standard_normal((n, n))
    return a @ a.T / n + np.eye(n)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_hessian_of_logdet_in_every_backend(backend):
    # ∂logdet/∂X = inv(X)' (NumPy), its differences against the generated Hessian
    scipy_linalg = pytest.importorskip("scipy.linalg")
    assert scipy_linalg is not None
    x = _spd(10)
    convert = backend_array(backend)
    fn = ricci.derivative("logdet(X)", "X", order=2).function(backend)
    want = _fd(lambda z: np.linalg.inv(z).T, x)
    np.testing.assert_allclose(np.asarray(fn(X=convert(x))), want, atol=1e-6)


def test_the_hessian_of_tr_expm_against_scipy():
    # ∂tr(expm(X))/∂X = expm(X)' (SciPy), its differences against ricci's Fréchet tensor
    scipy_linalg = pytest.importorskip("scipy.linalg")
    d = ricci.derivative("tr(expm(X))", "X", order=2)
    for x in (_spd(11), _rng(12).standard_normal((3, 3))):
        np.testing.assert_allclose(d.evaluate({"X": x}), _fd(lambda z: scipy_linalg.expm(z).T, x), atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_real_power_in_every_backend(backend):
    # tr(X^1.5) by X is 1.5*(X^0.5)' (SciPy's fractional_matrix_power), for an SPD X
    scipy_linalg = pytest.importorskip("scipy.linalg")
    x = _spd(13)
    convert = backend_array(backend)
    fn = ricci.derivative("tr(X^1.5)", "X").function(backend, with_value=True)
    value, grad = fn(X=convert(x))
    want = np.trace(scipy_linalg.fractional_matrix_power(x, 1.5)).real
    assert abs(float(value) - want) < 1e-9 * abs(want)
    np.testing.assert_allclose(np.asarray(grad), _fd(lambda z: np.trace(scipy_linalg.fractional_matrix_power(z, 1.5)).real,
                                                     x), atol=1e-6)


# -- acceptance 2: the closed forms and compare -----------------------------------------------------

def test_tr_logm_and_logdet_have_equal_derivatives_and_compare_says_so():
    x = _spd(14)
    a, b = ricci.derivative("tr(logm(X))", "X"), ricci.derivative("logdet(X)", "X")
    np.testing.assert_allclose(a.evaluate({"X": x}), np.linalg.inv(x).T, atol=1e-10)
    np.testing.assert_allclose(b.evaluate({"X": x}), np.linalg.inv(x).T, atol=1e-10)
    assert ricci.compare("tr(logm(X))", "X", b.text).verdict == "equal"
    assert ricci.compare("logdet(X)", "X", a.text).verdict == "equal"
    assert ricci.compare("tr(sqrtm(X))", "X", "inv(sqrtm(X))'/2").verdict == "equal"


def test_expm_of_t_a_by_t_and_lambda_max_by_s_read_as_the_books():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    d = ricci.derivative("expm(t*A)", "t")
    assert d.text == "A*expm(t*A)"
    a = _rng(15).standard_normal((3, 3))
    h = 1e-6
    want = (scipy_linalg.expm((0.4 + h) * a) - scipy_linalg.expm((0.4 - h) * a)) / (2 * h)
    np.testing.assert_allclose(d.evaluate({"t": 0.4, "A": a}), want, atol=1e-6)
    assert ricci.derivative("lambda_max(S)", "S").text == "u*u' where u = eigvec_max(S)"


# -- acceptance 3: a repeated eigenvalue, on every surface ----------------------------------------

REPEATED = "S=[3,0,0;0,3,0;0,0,1]"


def test_the_command_line_refuses_a_repeated_eigenvalue(capsys):
    from ricci.cli import main

    for argv in (["eval", "eigvec_max(S)", "--set", REPEATED],
                 ["analyse", "lambda_max(S)", "--wrt", "S", "--at", REPEATED]):
        try:
            code = main(argv)
        except SystemExit as e:  # the status, however the command hands it back
            code = e.code
        assert code == 2
        err = capsys.readouterr().err
        assert "no derivative at this S" in err and "subgradient" in err and "Traceback" not in err


def test_the_web_api_refuses_a_repeated_eigenvalue():
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from webtools import BASE, TestClient

    from ricci.web.app import Settings, create_app

    app = create_app(Settings(workers=1, time_budget=20.0, grace=1.0))
    with TestClient(app, base_url=BASE) as client:
        request = {"expression": "lambda_max(S)", "wrt": "S"}
        r = client.post("/api/evaluate", json={**request, "values": {"S": [[3, 0, 0], [0, 3, 0], [0, 0, 1]]}})
        assert r.status_code == 422
        error = r.json()["error"]
        assert error["kind"] == "bad value" and "subgradient" in error["message"]
        s = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
        body = client.post("/api/evaluate", json={**request, "values": {"S": s.tolist()}}).json()
        q = np.linalg.eigh(s)[1][:, -1]
        np.testing.assert_allclose(body["value"], np.outer(q, q), atol=1e-12)
