"""Derivation at scale (issue 21): a fast start, and every stage at the documented limits.

* Fast start: ``ricci diff`` loads the parser's prebuilt tables (``grammar.lark.parser``, kept
  current with the grammar by the test below) and imports only what the command uses.  The time
  itself is measured by ``benchmarks/start_up.py`` (a ratio against ``import numpy``), never
  asserted here; what is asserted is what makes it fast.
* The stages at the limits: the printers of the input (text, LaTeX, MathML), every code
  generator and the explanation, for inputs at the documented limits (10,000 characters, tree
  depth 300, brackets 100 deep), each with numbers checked against NumPy.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from helpers import count_calls, count_nodes_made
import pytest

import ricci
from ricci.language import grammar_cache
from ricci.language.ast import depth, walk
from ricci.language.parser import MAX_DEPTH, MAX_NESTING, _make_builder, parse_text

TEXTS = [
    "x'*A*x", "norm2(y - Phi*theta)^2 + lambda*theta'*theta", "[1, 2; 3, a]*x",
    "sum(tanh(W2*tanh(W1*x))) where W2 = B'*B", "‖x‖₂ + xᵀ⋅A⋅x ⊙ 2", "logdet(X + inv(X + A))",
    "-a^-2 .* b ./ c'", "sin(x1)*x2 where x1 = t^2, x2 = exp(t)", "X(1, 2)",
]


# -- the parser's prebuilt tables ----------------------------------------------------------------

def test_the_shipped_parser_is_current_and_parses_as_the_grammar_does():
    # A stale file (the grammar was edited) is regenerated here, so that it shows in `git status`
    # beside the grammar, and the test fails this once: commit the two together.  (A stale file
    # is never wrong, only slow: the parser is then built from the grammar.)
    if not grammar_cache.current():
        grammar_cache.save()
        pytest.fail("the shipped parser (grammar.lark.parser) was stale; regenerated: commit it with the grammar")
    from lark import Lark

    loaded = grammar_cache.load()
    assert loaded.source_path == "<deserialized>"  # loaded, not built
    built = Lark(grammar_cache.GRAMMAR.read_text(encoding="utf-8"), **grammar_cache.OPTIONS)
    for text in TEXTS:
        a, b = loaded.parse(text), built.parse(text)
        assert a == b, text
        # the positions the error messages and hints point at: the tokens', every one kept
        # (the parser's AST takes its spans from them)
        assert [(t.type, t.start_pos, t.end_pos) for t in a.scan_values(lambda v: True)] == \
               [(t.type, t.start_pos, t.end_pos) for t in b.scan_values(lambda v: True)]
    # and with the parser's own callbacks (lark's transformer=, the AST built while parsing)
    with_callbacks = grammar_cache.load(transformer=_make_builder())
    assert with_callbacks.source_path == "<deserialized>"
    rebuilt = Lark(grammar_cache.GRAMMAR.read_text(encoding="utf-8"), transformer=_make_builder(),
                   **grammar_cache.OPTIONS)

    def spans(value):  # a node's, or a bracketed one's (node, start, end)
        node = value[0] if isinstance(value, tuple) else value
        return [(type(n).__name__, n.span) for n in walk(node)]

    for text in TEXTS:
        a, b = with_callbacks.parse(text), rebuilt.parse(text)
        assert a == b and spans(a) == spans(b), text


def test_a_stale_or_broken_parser_file_is_not_used(tmp_path):
    stale = tmp_path / "stale.parser"
    stale.write_bytes(b"0" * 64 + b"\nnot a parser")
    broken = tmp_path / "broken.parser"
    broken.write_bytes(grammar_cache.key(grammar_cache.GRAMMAR.read_text(encoding="utf-8")) + b"\n\x80garbage")
    for path in (stale, broken, tmp_path / "missing.parser"):
        assert not grammar_cache.current(path) or path is broken
        parser = grammar_cache.load(path)
        assert parser.source_path != "<deserialized>"  # built from the grammar instead
        assert parser.parse("x'*A*x") == grammar_cache.load().parse("x'*A*x")
        built = grammar_cache.load(path, transformer=_make_builder())  # the parser's own callbacks
        assert built.source_path != "<deserialized>"
        assert built.parse("x'*A*x") == parse_text("x'*A*x")


# -- what `ricci diff` imports -------------------------------------------------------------------

#: Modules `ricci diff "x'*A*x" --wrt x` does not use: the other commands' features, and the
#: parts of the explain package its flags do not ask for.
NOT_FOR_DIFF = ("ricci.explain.derive", "ricci.explain.view", "ricci.explain.tensor",
                "ricci.explain.methods", "ricci.explain.steps", "ricci.printing.mathml",
                "ricci.plotting", "ricci.analysis", "ricci.comparison", "ricci.solve",
                "ricci.codegen", "ricci.printing.values", "scipy", "sympy", "matplotlib")


def _diff_in_a_fresh_process(*argv: str) -> dict:
    code = ("import sys, io, json, contextlib\n"
            "from ricci.cli import main\n"
            "out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            f"    status = main({list(argv)!r})\n"
            "from ricci.language.parser import _lark\n"
            "print(json.dumps({'status': status, 'out': out.getvalue(), 'modules': sorted(sys.modules),\n"
            "                  'parser': _lark().source_path}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_ricci_diff_loads_the_prebuilt_parser_and_imports_only_what_it_uses():
    got = _diff_in_a_fresh_process("diff", "x'*A*x", "--wrt", "x")
    assert got["status"] == 0 and got["out"].startswith("x'*(A + A')")
    assert got["parser"] == "<deserialized>"
    loaded = [m for m in got["modules"] if m.startswith(NOT_FOR_DIFF)]
    assert loaded == []


def test_the_lazy_flags_still_work():
    # each command registers its own flags only when it runs; --steps (explain) and the
    # flags of another command still parse, and a misspelt command still gets argparse's advice
    got = _diff_in_a_fresh_process("diff", "x'*A*x", "--wrt", "x", "--steps")
    assert got["status"] == 0 and "1. Shape of the result" in got["out"]
    got = _diff_in_a_fresh_process("diff", "x'*A*x", "--wrt", "x", "--layout", "denominator")
    assert got["out"].startswith("(A + A')*x")
    done = subprocess.run([sys.executable, "-c", "from ricci.cli import main; main(['dif', 'x'])"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "invalid choice: 'dif'" in done.stderr and "diff" in done.stderr
    done = subprocess.run([sys.executable, "-c", "from ricci.cli import main; main(['compare', '--help'])"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "--answer" in done.stdout


def test_the_explain_package_still_offers_its_names():
    import ricci.explain as E
    import ricci.explain.view  # noqa: F401 - the submodule of the same name as the function

    assert callable(E.view) and E.view.__name__ == "view"
    assert callable(E.explain) and E.explain.__name__ == "explain"
    with pytest.raises(AttributeError):
        E.no_such_name  # noqa: B018


# -- the stages at the documented limits --------------------------------------------------------

N = 3


def _deep_quadratics() -> tuple[str, dict, np.ndarray]:
    k = MAX_DEPTH - 3
    e = " + ".join(f"x'*A{i}*x" for i in range(1, k + 1))
    assert depth(parse_text(e)) == MAX_DEPTH
    rng = np.random.default_rng(7)
    values = {f"A{i}": rng.normal(size=(N, N)) / 2 for i in range(1, k + 1)}
    values["x"] = rng.normal(size=N)
    want = sum(values["x"] @ (a + a.T) for n, a in values.items() if n != "x")
    return e, values, want


def _nested_sin() -> tuple[str, dict, float]:
    e = "sin(" * (MAX_NESTING - 1) + "a" + ")" * (MAX_NESTING - 1)
    u, chain = 0.3, 1.0
    for _ in range(MAX_NESTING - 1):
        chain *= np.cos(u)
        u = np.sin(u)
    return e, {"a": 0.3}, chain


@pytest.mark.parametrize("case", ["quadratics", "nested_sin"])
def test_the_input_printers_at_the_limits(case):
    e = _deep_quadratics()[0] if case == "quadratics" else _nested_sin()[0]
    ex = ricci.parse(e)
    assert parse_text(ex.text) == parse_text(e)  # the canonical text reads back as the input
    assert ex.latex.count("\\sin") == (MAX_NESTING - 1 if case == "nested_sin" else 0)
    assert ex.mathml.startswith("<math") and ex.mathml.count("<mi>x</mi>") == \
           (2 * (MAX_DEPTH - 3) if case == "quadratics" else 0)


def _call(f, backend: str, values: dict):
    """The generated function called with the backend's own arrays; its result in NumPy."""
    if backend == "numpy":
        return f(**values)
    if backend == "array_api":
        xp = pytest.importorskip("array_api_strict")
        got = f(**{n: xp.asarray(np.asarray(v, dtype=float)) for n, v in values.items()}, xp=xp)
        return np.asarray(got._array)  # the strict namespace's arrays hide their NumPy array
    if backend == "jax":
        jax = pytest.importorskip("jax")
        jax.config.update("jax_enable_x64", True)
        return np.asarray(f(**{n: jax.numpy.asarray(np.asarray(v, dtype=float)) for n, v in values.items()}))
    torch = pytest.importorskip("torch")
    got = f(**{n: torch.as_tensor(np.asarray(v, dtype=float), dtype=torch.float64) for n, v in values.items()})
    return got.detach().numpy()


@pytest.mark.parametrize("backend", ["numpy", "array_api", "jax", "torch"])
def test_every_code_generator_at_the_limits(backend):
    if backend != "numpy":
        pytest.importorskip({"array_api": "array_api_strict", "jax": "jax", "torch": "torch"}[backend])
    for e, values, want in (_deep_quadratics(), _nested_sin()):
        wrt = "x" if "x" in values else "a"
        d = ricci.derivative(e, wrt, timeout=300)
        got = _call(d.function(backend), backend, values)
        assert np.allclose(got, want, rtol=1e-8)


def test_the_explanation_and_the_displays_at_the_limits():
    e, values, want = _deep_quadratics()
    d = ricci.derivative(e, "x", timeout=300)
    v = d.display(layout="denominator")
    assert v.text and v.latex and v.mathml
    steps = d.explain()
    assert steps.text() and steps.latex()
    assert np.allclose(d.evaluate(values), want, rtol=1e-10)
    assert json.loads(json.dumps(d.to_json()))["text"] == d.text


# -- linear growth, counted (never timed: speed is for benchmarks/depth_scaling.py) -------------

def _nested_logdet_inv(levels: int, name: str) -> str:
    inner = name
    for _ in range(levels):
        inner = f"{name} + inv({inner})"
    return f"logdet({inner})"


def _ir_nodes_made(monkeypatch, expression: str, wrt: str, values: dict, want) -> int:
    """IR nodes created while deriving and showing ``expression``; its value checked."""
    import gc

    gc.collect()
    made = count_nodes_made(monkeypatch)
    d = ricci.derivative(expression, wrt, timeout=600)
    assert d.text
    monkeypatch.undo()
    assert np.allclose(d.evaluate(values), want(values), rtol=1e-7)
    return made[0]


def _nested_value(levels: int, name: str):
    def want(v):
        # by finite differences of the value (central, h = 1e-6 relative)
        X = v[name]
        f = lambda M: np.linalg.slogdet(_nested_matrix(M, levels))[1]  # noqa: E731
        G = np.zeros_like(X)
        for i in range(X.shape[0]):
            for j in range(X.shape[1]):
                E = np.zeros_like(X)
                E[i, j] = 1e-6
                G[i, j] = (f(X + E) - f(X - E)) / 2e-6
        return G  # entry (i, j): ∂f/∂X_ij (ARCHITECTURE §1: f's shape, then X's)
    return want


def _nested_matrix(X, levels: int):
    M = X
    for _ in range(levels):
        M = X + np.linalg.inv(M)
    return M


def test_nested_logdet_inv_makes_nodes_linear_in_depth(monkeypatch):
    # logdet(X + inv(X + inv(… X))): each level doubled the work (23,375 IR nodes at 8 levels,
    # 1,272 at 4: the sum's coefficient split off and put back renamed the whole product anew)
    rng = np.random.default_rng(5)
    made = {}
    for levels in (4, 8):
        name = f"Xq{levels}"  # a name of its own: no node of the other size is reused
        X = rng.normal(size=(N, N)) / 4 + 2 * np.eye(N)
        made[levels] = _ir_nodes_made(monkeypatch, _nested_logdet_inv(levels, name), name,
                                      {name: X}, _nested_value(levels, name))
    assert made[8] < 3 * made[4], made


def test_a_sum_of_quadratic_forms_builds_linearly(monkeypatch):
    # x'*A1*x + … + x'*Ak*x: ordering the display's sum built every term once per term (k²)
    from ricci.simplify.matrix import MatrixForms

    built = {}
    for k in (32, 64):
        calls = count_calls(monkeypatch, MatrixForms, "build")
        e = " + ".join(f"x'*Q{k}_{i}*x" for i in range(1, k + 1))
        assert ricci.derivative(e, "x", timeout=600).text.startswith("x'*(Q")
        monkeypatch.undo()
        built[k] = calls[0]
    assert built[64] < 2.5 * built[32], built
