"""The function table (issue 16, part 1): one entry per function, read by every part of ricci.

``cube(u) = u^3``, registered here for the length of each test, goes through the whole of ricci:
parse, differentiate, evaluate, check, generate code, print LaTeX and MathML, explain, analyse,
plot.  And a function's name as a string literal appears in few source files, so that a new
parallel table cannot creep back in.
"""

from __future__ import annotations

import ast
import io
import math
import pathlib
import re
import tokenize

import numpy as np
import pytest

import ricci
from ricci.functions import ALIASES, FUNCTIONS, Function, lookup, registered


def _cube_code(p, a):
    return p.Code(f"{a.at(p.ATOM)} ** 3", p.POW)


def _cube_interval(a, S):
    return S.monotone(a, lambda v: v ** 3 if abs(v) < 1e100 else math.copysign(S.INF, v))


CUBE = Function(
    "cube", "elementwise", lambda a: a ** 3, r"\mathrm{cube}", "3*u^2",
    "d cube(u) = 3 u^2 du",
    xp=lambda xp, u: u * u * u, mathml="cube", code={"default": _cube_code},
    sympy=lambda sp, u: u ** 3, interval=_cube_interval, needs="pass",
)


@pytest.fixture
def cube():
    with registered(CUBE):
        yield CUBE
    assert lookup("cube") is None


def test_registered_is_gone_after_the_block():
    with registered(CUBE):
        assert lookup("cube") is CUBE
    assert "cube" not in FUNCTIONS
    with pytest.raises(ricci.RicciError):
        ricci.parse("cube(x)")


def test_cube_parses_and_differentiates(cube):
    d = ricci.derivative("sum(cube(x))", "x")
    x = np.array([1.0, -2.0, 0.5])
    assert np.allclose(d.evaluate({"x": x}), 3 * x ** 2)
    assert ricci.evaluate("sum(cube(x))", {"x": x}) == pytest.approx(np.sum(x ** 3))
    assert ricci.derivative("cube(a)", "a").evaluate({"a": 2.0}) == pytest.approx(12.0)
    h = ricci.hessian("sum(cube(x))", "x")
    assert np.allclose(h.evaluate({"x": x}), np.diag(6 * x))
    report = d.check({"x": x})
    assert report.passed and report.max_relative_error < 1e-6


def test_cube_checks_at_drawn_points(cube):
    report = ricci.derivative("sum(cube(A*x))", "x").check()
    assert report.passed and len(report.points) >= 1


X = np.array([1.0, -2.0, 0.5])
A = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]])


def _expected(x, a):
    ax = a @ x
    return np.sum(ax ** 3), 3 * (ax ** 2) @ a


@pytest.mark.parametrize("backend", ["numpy", "array_api"])
def test_cube_code(cube, backend):
    d = ricci.derivative("sum(cube(A*x))", "x")
    assert "t_0 ** 3" in d.code(backend, with_value=True)
    f = d.function(backend, with_value=True)
    value, gradient = f(A, X) if backend == "numpy" else f(A, X, xp=np)
    want_value, want_gradient = _expected(X, A)
    assert value == pytest.approx(want_value)
    assert np.allclose(gradient, want_gradient)


def test_cube_code_jax(cube):
    jnp = pytest.importorskip("jax.numpy")
    f = ricci.derivative("sum(cube(A*x))", "x").function("jax", with_value=True)
    value, gradient = f(jnp.asarray(A), jnp.asarray(X))
    want_value, want_gradient = _expected(X, A)
    assert float(value) == pytest.approx(want_value)
    assert np.allclose(np.asarray(gradient), want_gradient)


def test_cube_code_torch(cube):
    torch = pytest.importorskip("torch")
    f = ricci.derivative("sum(cube(A*x))", "x").function("torch", with_value=True)
    value, gradient = f(torch.tensor(A), torch.tensor(X))
    want_value, want_gradient = _expected(X, A)
    assert float(value) == pytest.approx(want_value)
    assert np.allclose(gradient.numpy(), want_gradient)


def test_cube_prints(cube):
    from ricci.printing.latex import ast_to_latex
    from ricci.printing.mathml import ast_to_mathml

    assert ricci.derivative("cube(a)", "a").text == "3*a^2"
    tree = ricci.parse("sum(cube(x))").tree
    assert ast_to_latex(tree) == r"\operatorname{sum}\left(\mathrm{cube}\left(x\right)\right)"
    assert "<mi>cube</mi><mo>\u2061</mo>" in ast_to_mathml(tree)
    d = ricci.derivative("sum(cube(A*x))", "x")
    assert d.text == "3*((A*x).^2)'*A"
    assert r"\mathrm{cube}" in ricci.derivative("exp(cube(a))", "a").latex


def test_cube_explains(cube):
    text = str(ricci.derivative("sum(cube(x))", "x").steps)
    assert "Elementwise cube: ∂/∂x (cube(x)) = 3*diag(x.^2)" in text
    assert "d cube(u) = 3 u^2 du, entry by entry" in text
    # the index form of a tensor answer prints the entry's LaTeX head too
    latex = ricci.derivative("exp(cube(A*x))", "A").steps.latex()
    assert r"x_{k} \exp\left(\mathrm{cube}\left(\sum_{a} x_{a} A_{ia}\right)\right)" in latex


def _sign(expression, assume):
    from ricci.analysis.signs import Context, prove_sign
    from ricci.analysis.structure import Typed

    e = ricci.parse(expression)
    return prove_sign(Context(Typed(e), assume), e.tree).sign


def test_cube_sign_facts_come_from_the_entry(cube):
    assert _sign("cube(a)", {"a": "positive"}) == "positive"
    assert _sign("cube(a)", {"a": "negative"}) == "negative"
    assert _sign("cube(a)", {}) is None


def test_without_sign_facts_the_sign_is_unknown():
    from dataclasses import replace

    with registered(replace(CUBE, interval=None, sympy=None)):
        assert _sign("cube(a)", {"a": "positive"}) is None


def test_cube_analyses(cube):
    a = ricci.analyse("sum(cube(x))", "x", at={"x": [1.0, 2.0]}, assume={"x": "positive"})
    assert np.allclose(a.point.gradient, [3.0, 12.0])
    assert np.allclose(a.point.hessian, [[6.0, 0.0], [0.0, 12.0]])
    assert a.convexity.convex and not a.convexity.concave
    b = ricci.analyse("sum(cube(x))", "x", at={"x": [1.0, 2.0]})
    assert not b.convexity.convex and not b.convexity.concave  # diag(6x) changes sign


def test_cube_plots(cube):
    pytest.importorskip("matplotlib")
    fig = ricci.plot("cube(t)", "t", at=1.0, kinds={"t": "scalar"})
    curve = fig.axes[0].lines[0]
    t, y = curve.get_xdata(), curve.get_ydata()
    assert np.allclose(y, t ** 3)
    slope = fig.axes[1].lines[0]
    assert np.allclose(slope.get_ydata(), 3 * slope.get_xdata() ** 2)


def test_a_new_entry_under_an_old_name_is_differentiated_afresh():
    from dataclasses import replace

    with registered(CUBE):
        assert ricci.derivative("cube(a)", "a").text == "3*a^2"
    with registered(replace(CUBE, derivative="2*u")):  # not the cube any more: a new formula
        assert ricci.derivative("cube(a)", "a").text == "2*a"


# -- a function's name is spelled in few places ------------------------------------------------------

SRC = pathlib.Path(ricci.__file__).resolve().parent
TABLE = "functions/"  # the table itself, one place however many modules it has
MAX_PLACES = 3

#: Function names that are also the kinds every part of ricci speaks of ("vector", "matrix"):
#: a string literal cannot tell the kind from the constant vector(c), so they are not counted.
KIND_WORDS = {"vector", "matrix"}

#: The same word with another meaning: (name, file) → what it is there.
OTHER_MEANING = {
    ("exp", "ir/nodes.py"): "Pow's exponent slot",
    ("sign", "codegen/emit.py"): "the prefix of a generated variable's name",
    ("sign", "comparison/verdict.py"): "a kind of slip",
    ("sign", "explain/derive.py"): "the rule of a unary minus",
    ("trace", "explain/identities.py"): "an identity's title",
    ("norm", "numeric_check.py"): "what a check watches (Function.watch)",
    ("norm", "printing/latex.py"): "a layout (Function.layout: ‖x‖)",
    ("norm", "printing/mathml.py"): "a layout (Function.layout: ‖x‖)",
    ("vec", "explain/tensor.py"): "the Kronecker form's displayed vec(P) vec(Q)'",
    ("vec", "explain/derive.py"): "the displayed ∂vec F/∂vec X",
    ("vec", "explain/identify.py"): "a kind of identification (vec dF = J vec dX)",
    ("vec", "explain/by_differentials.py"): "a kind of identification (vec dF = J vec dX)",
    ("vec", "explain/dforms.py"): "the differential method's displayed vec",
    **{(op, f): "an operation of the code plan (and NumPy's function of that name)"
       for op, files in {"sum": ["codegen/backends.py", "codegen/printers.py", "codegen/plan.py"],
                         "trace": ["codegen/backends.py", "codegen/printers.py", "codegen/plan.py"],
                         "diag": ["codegen/backends.py", "codegen/plan.py", "codegen/emit.py", "codegen/chain.py"],
                         "inv": ["codegen/backends.py", "codegen/printers.py", "codegen/plan.py", "codegen/emit.py"],
                         "det": ["codegen/backends.py", "codegen/printers.py", "codegen/plan.py"],
                         "logdet": ["codegen/plan.py", "codegen/emit.py"]}.items() for f in files},
}

#: Files that still spell functions outside the table (issue 16, part 1, left to do), with why.
#: The list may only shrink: an entry a file no longer needs fails test_the_lists_are_current.
NOT_YET = {
    "ir/build.py": ({"exp", "log", "sqrt", "abs", "sigmoid", "relu", "step", "det", "inv"},
                    "the IR normal form's identities (log(exp(u)) = u, exp > 0, sqrt as a power)"),
    "simplify/rules.py": ({"exp", "sigmoid"}, "display rules (1/(1 + exp(-z)) is sigmoid(z))"),
    "simplify/matrix.py": ({"sqrt", "inv", "diag", "sum", "norm2"},
                           "the matrix forms' clean-up writes and matches these calls"),
    "simplify/sums.py": ({"tr", "inv", "diag", "sum", "norm2"},
                         "the sums of the matrix forms write and match these calls (moved from matrix.py)"),
    "simplify/prods.py": ({"sqrt", "inv", "diag"},
                          "the matrix forms' predicates match these calls (moved from matrix.py)"),
    "raise_matrix.py": ({"tr", "det", "logdet", "inv", "diag", "sum", "norm2"},
                        "raising index notation writes these calls"),
    "testing.py": ({"exp", "tanh", "tr", "det", "logdet", "inv", "diag", "sum", "norm1", "norm2"},
                   "the strategies write these names (the fuzz texts went to tools/fuzz_texts.py)"),
}


def _spelled() -> dict[str, set[str]]:
    """Function name → the files under src/ricci with it as a whole string literal."""
    names = set(FUNCTIONS) | set(ALIASES)
    out: dict[str, set[str]] = {n: set() for n in names}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
            if tok.type != tokenize.STRING:
                continue
            try:
                value = ast.literal_eval(tok.string)
            except (ValueError, SyntaxError):  # an f-string: its parts are not names
                continue
            if isinstance(value, str) and value in names:
                out[value].add(TABLE if rel.startswith(TABLE) else rel)
    return out


def _places(name: str, files: set[str]) -> set[str]:
    return {f for f in files if (name, f) not in OTHER_MEANING and name not in NOT_YET.get(f, ((), ""))[0]}


@pytest.mark.parametrize("name", sorted((set(FUNCTIONS) | set(ALIASES)) - KIND_WORDS))
def test_a_function_is_spelled_in_at_most_three_places(name):
    places = _places(name, _spelled()[name])
    assert TABLE in places
    assert len(places) <= MAX_PLACES, f"{name!r} is spelled in {sorted(places)}: read the table instead"
    for rel in sorted(places - {TABLE}):
        text = (SRC / rel).read_text(encoding="utf-8")
        assert re.search(r"from \.+functions import|from ricci\.functions import", text), \
            f"{rel} spells {name!r} without reading the function table"


def test_the_lists_are_current():
    spelled = _spelled()
    stale = [(n, f) for (n, f) in OTHER_MEANING if f not in spelled[n]]
    stale += [(n, f) for f, (names, _) in NOT_YET.items() for n in names if f not in spelled[n]]
    assert not stale, f"no longer spelled there, take them off the lists: {stale}"


def test_a_registered_function_is_counted():
    with registered(CUBE):
        assert "cube" in set(FUNCTIONS)
        assert _spelled()["cube"] == set()  # nothing of ricci spells it: the entry is enough


def test_named_finds_the_one_function_of_a_family():
    from ricci.functions import named

    assert (named("inverse"), named("diagonal")) == ("inv", "diag")
    second = Function("pinv", "inverse", np.linalg.pinv, r"\operatorname{pinv}", doc="pseudo-inverse")
    with registered(second):
        with pytest.raises(LookupError, match="2 functions of the family 'inverse'"):
            named("inverse")
    assert named("inverse") == "inv"


def test_the_cookbook_reference_is_read_off_the_formula():
    assert [lookup(n).cookbook for n in ("det", "logdet", "inv", "tr")] == ["(46)", "(57)", "(59)", None]
