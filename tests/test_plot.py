"""ricci.plot and ``ricci plot``: every view rendered with Agg, and the drawn numbers checked.

What a picture claims is read back from the figure's own artists (found by ``gid``) and
compared with closed forms written here in NumPy: the tangent's slope is f′, the arrows are ∇f,
the eigen-directions are the Hessian's, the saddle of x1² − x2² is at the origin, and the spiral
of the lecture's chain-rule Example 1 is (t cos t, t sin t) with h′ = ∇f · x′.
Grids are small (``samples``, ``arrows``) to keep the tests fast.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.image import imread

import ricci
from ricci.cli import main
from ricci.plotting import critical as C
from ricci.plotting.mathtext import label, to_mathtext

SADDLE = "x1^2 - x2^2"
SPIRAL = "exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)"  # lecture, chain rule Example 1


def render(fig) -> np.ndarray:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    buf.seek(0)
    return imread(buf)


def assert_drawn(img: np.ndarray, size_px: tuple[int, int]) -> None:
    """The PNG has the expected size (width, height) and is a picture, not a blank canvas."""
    assert img.shape[:2] == (size_px[1], size_px[0])
    rgb = img[..., :3]
    assert rgb.std() > 0.05
    colours = np.unique((rgb * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 100


def one(fig, gid: str):
    found = fig.findobj(lambda a: a.get_gid() == gid)
    assert len(found) == 1, f"{gid}: {found}"
    return found[0]


def line_xy(fig, gid: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = one(fig, gid).get_data()
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def points(fig, gid: str) -> np.ndarray:
    """The marks of one artist as rows (x, y)."""
    return np.c_[line_xy(fig, gid)]


def slope_of(fig, gid: str) -> float:
    x, y = line_xy(fig, gid)
    return float((y[-1] - y[0]) / (x[-1] - x[0]))


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


# -- f: R → R ------------------------------------------------------------------------------------
def test_curve_renders_with_expected_size():
    fig = ricci.plot("x^3 - 3*x", "x", at=1.5, samples=60)
    assert_drawn(render(fig), (750, 750))
    fig = ricci.plot("x^3 - 3*x", "x", at=1.5, samples=60, derivative=False, figsize=(6, 4), dpi=80)
    assert_drawn(render(fig), (480, 320))
    assert len(fig.axes) == 1


@pytest.mark.parametrize("expression, at, slope", [
    ("x^3 - 3*x", 1.5, 3 * 1.5**2 - 3),                   # 3.75
    ("sin(x)*exp(x)", 0.3, np.exp(0.3) * (np.sin(0.3) + np.cos(0.3))),
    ("log(x)", 2.0, 0.5),
    ("1/(1 + exp(-x))", -1.0, np.exp(1.0) / (1 + np.exp(1.0)) ** 2),
])
def test_tangent_slope_is_the_derivative(expression, at, slope):
    fig = ricci.plot(expression, "x", at=at, samples=40)
    assert slope_of(fig, "tangent") == pytest.approx(slope, rel=1e-10)
    scalar = {"x": "scalar"}  # log(x) alone would make x a vector; the plot reads it as a scalar
    assert slope_of(fig, "tangent") == pytest.approx(ricci.derivative(expression, "x", 1, scalar).evaluate({"x": at}))
    x, y = line_xy(fig, "tangent")  # the tangent touches f at the point
    assert (x[0] + x[-1]) / 2 == pytest.approx(at)
    assert (y[0] + y[-1]) / 2 == pytest.approx(ricci.evaluate(expression, {"x": at}, scalar))


def test_curve_and_derivative_panel_numbers():
    fig = ricci.plot("x^3 - 3*x", "x", range=(-2, 2), samples=41)
    x, y = line_xy(fig, "curve")
    assert x[0] == -2 and x[-1] == 2 and len(x) == 41
    np.testing.assert_allclose(y, x**3 - 3 * x, atol=1e-12)
    xd, yd = line_xy(fig, "derivative")
    np.testing.assert_allclose(yd, 3 * xd**2 - 3, atol=1e-12)
    assert slope_of(fig, "tangent") == pytest.approx(-3.0)  # at = 0, the middle of the range


def test_curve_has_no_slope_where_f_is_undefined():
    fig = ricci.plot("log(x)", "x", samples=31)  # at 0 log is undefined: the default point is 1
    assert slope_of(fig, "tangent") == pytest.approx(1.0)
    x, y = line_xy(fig, "derivative")
    assert np.all(np.isnan(y[x <= 0])) and np.all(np.isfinite(y[x > 0]))
    np.testing.assert_allclose(y[x > 0], 1 / x[x > 0])


# -- f: R² → R -----------------------------------------------------------------------------------
def test_field_renders_with_expected_size():
    fig = ricci.plot(SADDLE, ["x1", "x2"], at=[1, 0.5], samples=21, arrows=7)
    assert_drawn(render(fig), (750, 750))
    assert fig.axes[0].get_xlabel() == "$x_{1}$" and fig.axes[0].get_ylabel() == "$x_{2}$"


def quiver(fig):
    q = one(fig, "gradient-field")
    X, Y = np.asarray(q.X, dtype=float), np.asarray(q.Y, dtype=float)
    U, V = np.ma.filled(q.U, np.nan), np.ma.filled(q.V, np.nan)
    return q, X, Y, U, V


@pytest.mark.parametrize("expression, grad", [
    (SADDLE, lambda a, b: (2 * a, -2 * b)),
    ("sin(x1)*cos(x2) + x1*x2", lambda a, b: (np.cos(a) * np.cos(b) + b, -np.sin(a) * np.sin(b) + a)),
])
def test_arrows_are_the_gradient_at_their_points(expression, grad):
    fig = ricci.plot(expression, ["x1", "x2"], at=[0.5, 0.5], range=(-2, 2), samples=15, arrows=6,
                     critical=False)
    q, X, Y, U, V = quiver(fig)
    assert len(X) == 36
    gx, gy = grad(X, Y)
    np.testing.assert_allclose(U, gx, atol=1e-12)  # direction and length: uphill, ∝ ‖∇f‖
    np.testing.assert_allclose(V, gy, atol=1e-12)
    # the longest arrow fills 0.9 of a grid cell (4/6 wide), so every length is ‖∇f‖ / scale
    assert np.max(np.hypot(U, V)) / q.scale == pytest.approx(0.9 * 4 / 6)
    assert q.angles == "xy" and q.scale_units == "xy"


def test_gradient_and_hessian_directions_at_the_point():
    fig = ricci.plot(SADDLE, ["x1", "x2"], at=[1, 0.5], samples=15, arrows=0, critical=False)
    (start, tip) = one(fig, "gradient-at")._posA_posB
    np.testing.assert_allclose(start, [1, 0.5])
    np.testing.assert_allclose(unit(np.subtract(tip, start)), unit([2, -1]))  # ∇f = [2x1, -2x2]
    # Hessian diag(2, -2): λ1 = -2 along x2 (dashed: curves down), λ2 = 2 along x1 (solid)
    e1, e2 = one(fig, "eigen-1"), one(fig, "eigen-2")
    x, y = e1.get_data()
    assert abs(unit([x[1] - x[0], y[1] - y[0]]) @ [0, 1]) == pytest.approx(1)
    assert (x[0] + x[1]) / 2 == pytest.approx(1) and (y[0] + y[1]) / 2 == pytest.approx(0.5)
    x, y = e2.get_data()
    assert abs(unit([x[1] - x[0], y[1] - y[0]]) @ [1, 0]) == pytest.approx(1)
    assert e1.get_linestyle() == "--" and e2.get_linestyle() == "-"


@pytest.mark.parametrize("critical", [True, "numeric"])  # ricci.analyse if there, the search
def test_saddle_of_x1_squared_minus_x2_squared_is_marked_at_the_origin(critical):
    fig = ricci.plot(SADDLE, ["x1", "x2"], samples=15, arrows=5, critical=critical)
    x, y = line_xy(fig, "critical-saddle")
    np.testing.assert_allclose(np.c_[x, y], [[0.0, 0.0]], atol=1e-9)
    for kind in ("minimum", "maximum", "degenerate"):
        assert not fig.findobj(lambda a, k=kind: a.get_gid() == f"critical-{k}")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "saddle at (0, 0)" in legend
    methods = ["numeric search"] if critical == "numeric" else ["numeric search", "ricci.analyse"]
    assert any(f"critical points (by {m}):" in legend for m in methods)
    fig = ricci.plot(SADDLE, ["x1", "x2"], samples=15, arrows=5, critical=False)
    assert not fig.findobj(lambda a: str(a.get_gid()).startswith("critical"))


def test_critical_points_of_each_type():
    # f = x1³ − 3x1 + x2²: ∇f = [3x1² − 3, 2x2] = 0 at (±1, 0); H = diag(6x1, 2)
    fig = ricci.plot("x1^3 - 3*x1 + x2^2", ["x1", "x2"], range=(-2, 2), samples=15, arrows=0)
    np.testing.assert_allclose(points(fig, "critical-minimum"), [[1, 0]], atol=1e-9)
    np.testing.assert_allclose(points(fig, "critical-saddle"), [[-1, 0]], atol=1e-9)
    fig = ricci.plot("-(x1^2 + x2^2) + x1", ["x1", "x2"], samples=15, arrows=0)
    np.testing.assert_allclose(points(fig, "critical-maximum"), [[0.5, 0]], atol=1e-9)
    # x1⁴ + x2⁴: a minimum, but H = 0 there: the second-order test is inconclusive
    fig = ricci.plot("x1^4 + x2^4", ["x1", "x2"], samples=15, arrows=0)
    np.testing.assert_allclose(points(fig, "critical-degenerate"), [[0, 0]], atol=1e-6)


def test_classify():
    assert C.classify([1, 2]) == "minimum"
    assert C.classify([-1, -2]) == "maximum"
    assert C.classify([-1, 2]) == "saddle"
    assert C.classify([0, 2]) == "degenerate"


class _Found:
    def __init__(self, points):
        self.critical_points = [{"point": p, "kind": "whatever"} for p in points]


def test_critical_points_from_analysis_when_it_is_there(monkeypatch):
    # ricci.analyse's points are used when they are critical points; each is classified by
    # ricci's Hessian.  (1, 1) is no critical point of x1² − x2² and is dropped.
    monkeypatch.setattr(ricci, "analyse", lambda e, w, kinds=None: _Found([(0.0, 0.0), (1.0, 1.0)]),
                        raising=False)
    fig = ricci.plot(SADDLE, ["x1", "x2"], samples=15, arrows=0)
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "by ricci.analyse" in legend
    np.testing.assert_allclose(points(fig, "critical-saddle"), [[0, 0]])

    def broken(*args, **kwargs):
        raise ImportError("sympy is not installed")

    monkeypatch.setattr(ricci, "analyse", broken, raising=False)
    fig = ricci.plot(SADDLE, ["x1", "x2"], samples=15, arrows=0)
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "by numeric search" in legend
    np.testing.assert_allclose(points(fig, "critical-saddle"), [[0, 0]], atol=1e-9)


def test_analysis_result_shape_and_its_verdict_where_the_hessian_test_is_inconclusive(monkeypatch):
    # The analysis stage's likely shape: result.critical.points, each with values {name: v} and
    # a classification.  At 0, x1⁴ + x2⁴ has H = 0, so its verdict (by higher-order terms) is kept.
    seen = {}

    def analyse(expression, wrt, at=None, kinds=None, box=None):
        seen.update(expression=expression, wrt=wrt, box=box)
        point = SimpleNamespace(values={"x1": 0.0, "x2": 0.0}, classification="minimum (higher-order test)")
        return SimpleNamespace(critical=SimpleNamespace(points=[point]))

    monkeypatch.setattr(ricci, "analyse", analyse, raising=False)
    fig = ricci.plot("x1^4 + x2^4", ["x1", "x2"], range=(-1, 2), samples=9, arrows=0)
    assert seen == {"expression": "x1^4 + x2^4", "wrt": ["x1", "x2"], "box": {"x1": (-1, 2), "x2": (-1, 2)}}
    np.testing.assert_allclose(points(fig, "critical-minimum"), [[0, 0]])
    # a fixed parameter: analyse is not asked (it takes no values); the numeric search is used
    seen.clear()
    ricci.plot("a*x1^2 - x2^2", ["x1", "x2"], values={"a": 2.0}, samples=9, arrows=0)
    assert seen == {}


def test_vector_of_length_two_and_fixed_values():
    A = np.array([[2.0, 1.0], [0.0, -1.0]])
    fig = ricci.plot("x'*A*x", "x", at=[1, 1], values={"A": A}, range=(-1, 1), samples=15, arrows=4)
    _, X, Y, U, V = quiver(fig)
    G = np.c_[X, Y] @ (A + A.T)  # ∇ₓ x'Ax = x'(A + A')
    np.testing.assert_allclose(np.c_[U, V], G, atol=1e-12)
    _, vecs = np.linalg.eigh(A + A.T)
    x, y = one(fig, "eigen-1").get_data()
    assert abs(unit([x[1] - x[0], y[1] - y[0]]) @ vecs[:, 0]) == pytest.approx(1)
    assert fig.axes[0].get_xlabel() == "${x}_{1}$"
    x, y = line_xy(fig, "critical-saddle")  # det(A + A') < 0: a saddle at 0
    np.testing.assert_allclose(np.c_[x, y], [[0, 0]], atol=1e-9)
    assert fig._suptitle.get_text() == r"$f(x) = x^\top A x$"


# -- a path x(t) through f(x): the chain rule --------------------------------------------------
def test_spiral_path_and_h_of_t():
    fig = ricci.plot(SPIRAL, "t", at=2.0, range=(0, 3), samples=61, arrows=4)
    assert_drawn(render(fig), (1300, 620))
    t = np.linspace(0, 3, 61)
    x, y = line_xy(fig, "path")
    np.testing.assert_allclose(x, t * np.cos(t), atol=1e-12)
    np.testing.assert_allclose(y, t * np.sin(t), atol=1e-12)
    th, h = line_xy(fig, "h")
    np.testing.assert_allclose(th, t)
    np.testing.assert_allclose(h, np.exp(t * np.cos(t) * (t * np.sin(t)) ** 2), rtol=1e-12)
    # h′(t) = exp(x1 x2²)(x2²(cos t − t sin t) + 2 x1 x2 (sin t + t cos t)), the lecture's answer
    s = 2.0
    x1, x2 = s * np.cos(s), s * np.sin(s)
    dx = np.array([np.cos(s) - s * np.sin(s), np.sin(s) + s * np.cos(s)])
    grad = np.exp(x1 * x2**2) * np.array([x2**2, 2 * x1 * x2])
    assert slope_of(fig, "h-tangent") == pytest.approx(grad @ dx, rel=1e-10)
    # the arrows at x(2): x′(2) and ∇f(x(2))
    for gid, vec in (("velocity", dx), ("gradient-at", grad)):
        start, tip = one(fig, gid)._posA_posB
        np.testing.assert_allclose(start, [x1, x2])
        np.testing.assert_allclose(unit(np.subtract(tip, start)), unit(vec))
    # the path's box holds the whole path
    (xlo, xhi), (ylo, yhi) = fig.axes[0].get_xlim(), fig.axes[0].get_ylim()
    assert xlo < x.min() and x.max() < xhi and ylo < y.min() and y.max() < yhi
    note = " ".join(t.get_text() for t in one(fig, "h").axes.texts)
    assert f"= {grad @ dx:.3g}" in note and "ricci's dh/dt" in note


def test_where_expression_as_a_plain_curve():
    fig = ricci.plot(SPIRAL, "t", at=1.0, view="curve", samples=21)
    d = ricci.derivative(SPIRAL, "t")
    assert slope_of(fig, "tangent") == pytest.approx(d.evaluate({"t": 1.0}))


# -- bad inputs: each a RicciError that says what is wrong ----------------------------------------
@pytest.mark.parametrize("args, kwargs, error, words", [
    (("A*x", "x"), {}, ricci.ShapeError, "ricci.plot draws three shapes"),
    (("x1*x2*x3", ["x1", "x2", "x3"]), {}, ricci.ShapeError, "R^3 → R"),
    (("x'*x", "x"), {"at": [1, 2, 3]}, ricci.ShapeError, "R^3 → R"),
    (("tr(X)", "X"), {}, ricci.ShapeError, "matrix"),
    (("x'*A*x", "x"), {"at": [1, 2]}, ricci.UnknownNameError, "values={'A'"),
    (("x^2", "x"), {"at": 5, "range": (-1, 1)}, ricci.BadValueError, "outside the range"),
    (("x^2", "x"), {"range": (1, -1)}, ricci.BadValueError, "low < high"),
    (("x^2", "x"), {"at": "one"}, ricci.BadValueError, "must be a number"),
    (("x1^2", ["x1", "x2"]), {"at": [1]}, ricci.BadValueError, "2 numbers"),
    (("x^2", "x"), {"view": "surface"}, ricci.BadValueError, "curve, field, path"),
    (("x^2", "x"), {"view": "path"}, ricci.ShapeError, "where"),
    (("x^2", "x"), {"samples": 1}, ricci.BadValueError, "samples"),
    (("x^2", "x"), {"values": {"q": 1}}, ricci.UnknownNameError, "does not use"),
    (("log(x)", "x"), {"at": -1}, ricci.BadValueError, "undefined"),
    (("log(-x^2 - 1)", "x"), {}, ricci.BadValueError, "choose a point (at=)"),
    (("x^2 +", "x"), {}, ricci.RicciSyntaxError, ""),
    (("x^2", "x"), {"critical": "maybe"}, ricci.BadValueError, "critical"),
])
def test_bad_inputs_raise_ricci_errors(args, kwargs, error, words):
    with pytest.raises(error) as got:
        ricci.plot(*args, **{"samples": 9, **kwargs})
    assert words in str(got.value)


# -- the command line -----------------------------------------------------------------------------
def test_cli_writes_png_and_svg(tmp_path, capsys):
    out = tmp_path / "saddle.png"
    assert main(["plot", SADDLE, "--wrt", "x1,x2", "--at", "x1=1", "--at", "x2=0.5", "--range=-1,1",
                 "-o", str(out)]) == 0
    assert_drawn(imread(out), (750, 750))
    assert f"wrote {out}" in capsys.readouterr().out
    svg = tmp_path / "cube.svg"
    assert main(["plot", "x^3 - 3*x", "--wrt", "x", "--at", "1.5", "--no-derivative", "-o", str(svg)]) == 0
    assert "<svg" in svg.read_text()[:1000]


def test_cli_vector_with_values(tmp_path):
    out = tmp_path / "quad.png"
    assert main(["plot", "x'*A*x", "--wrt", "x", "--at", "1,1", "--set", "A=[2,1;0,-1]", "--range=-1,1,-1,1",
                 "--no-critical", "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize("argv, words", [
    (["plot", "x^2", "--wrt", "x", "-o", "f.jpg"], ".png, .svg, .pdf"),
    (["plot", "A*x", "--wrt", "x", "-o", "f.png"], "ricci.plot draws three shapes"),
    (["plot", "x^2", "--wrt", "x", "--range=1", "-o", "f.png"], "--range"),
    (["plot", "x1^2 + x2", "--wrt", "x1,x2", "--at", "1", "--at", "x2=1", "-o", "f.png"], "--at"),
])
def test_cli_errors(tmp_path, capsys, argv, words):
    argv = [a if a != "f.png" and a != "f.jpg" else str(tmp_path / a) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())


# -- pieces ------------------------------------------------------------------------------------------
def test_mathtext_of_ricci_latex():
    assert to_mathtext(r"\begin{bmatrix} 2 x_{1} & -2 x_{2} \end{bmatrix}") == r"\left[2 x_{1},\ -2 x_{2}\right]"
    assert to_mathtext(r"\left\lVert x \right\rVert_2") == r"\left\Vert x \right\Vert_2"
    assert label(r"x^\top A x", "x'*A*x") == r"$x^\top A x$"
    assert label(r"\unknowncommand{x}", "f $") == r"f \$"  # plain text when mathtext cannot


def test_plot_is_the_function_not_the_package():
    import ricci.plotting

    assert callable(ricci.plot) and ricci.plot.__module__ == "ricci"
    assert "plot" in ricci.__all__


def test_matplotlib_is_imported_only_to_draw():
    import subprocess
    import sys

    code = ("import sys, ricci, ricci.cli; ricci.cli.build_parser(); "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_without_matplotlib_a_ricci_error_says_how_to_install_it(monkeypatch):
    import sys

    from ricci.plotting import MissingDependencyError

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "ricci\[plot\]"') as got:
        ricci.plot("x^2", "x", samples=9)
    assert isinstance(got.value, ricci.RicciError) and isinstance(got.value, ImportError)
