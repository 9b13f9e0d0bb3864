"""The layers of the package (README "The layout"; pyproject.toml [tool.importlinter]).

import-linter is in the test extra, so the contract always runs here: an import that points up
the layers, or a new circle of imports, fails these tests.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The circles of imports left, each a debt (issue 16); tools/import_cycles.py -v shows the
# imports that close them.  Remove one when it is broken; never add one.
KNOWN_CIRCLES = [
    # the plot asks ricci.analyse (the public function, which the tests stand a fake in for)
    ["ricci", "ricci.plotting", "ricci.plotting.critical", "ricci.plotting.draw"],
    # the interval rules fall back to SymPy, which falls back to the interval rules
    ["ricci.analysis.signs", "ricci.analysis.to_sympy"],
    # Expression.evaluate and the evaluator's own parse of a text
    ["ricci.evaluation", "ricci.language.expression"],
]


def _tool():
    spec = importlib.util.spec_from_file_location("ricci_import_cycles", ROOT / "tools" / "import_cycles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# the `lint-imports` command of this interpreter's import-linter (not whichever is first on PATH)
_LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def _lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = None
    if pythonpath is not None:
        env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run([sys.executable, "-c", _LINT_IMPORTS, "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_layers_contract_is_kept():
    run = _lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 kept, 0 broken" in run.stdout


def test_an_import_up_the_layers_breaks_the_contract(tmp_path):
    # the contract is not vacuous: the pipeline importing a feature (inside a function, as a
    # lazy import would) is reported, naming both modules
    shutil.copytree(ROOT / "src" / "ricci", tmp_path / "src" / "ricci",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    diff = tmp_path / "src" / "ricci" / "diff.py"
    diff.write_text(diff.read_text(encoding="utf-8")
                    + "\n\ndef _upward():\n    from .explain import explain\n\n    return explain\n",
                    encoding="utf-8")
    run = _lint_imports(tmp_path, tmp_path / "src")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "ricci.diff is not allowed to import ricci.explain" in run.stdout
    assert "0 kept, 1 broken" in run.stdout


def test_no_new_circle_of_imports():
    tool = _tool()
    found = tool.cycles(tool.graph())
    assert [c for c in found if c not in KNOWN_CIRCLES] == [], \
        "a new circle of imports (python tools/import_cycles.py -v shows the imports that close it)"
    assert [c for c in KNOWN_CIRCLES if c not in found] == [], "a circle is gone: remove it from KNOWN_CIRCLES"


def test_the_circle_finder_finds_a_circle(tmp_path):
    package = tmp_path / "ricci"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .sub import b\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("def f():\n    from ..a import x\n")  # inside a function
    (package / "c.py").write_text("import ricci.a\n")
    tool = _tool()
    assert tool.cycles(tool.graph(tmp_path)) == [["ricci.a", "ricci.sub.b"]]


def test_every_door_of_a_derivative_opens_onto_a_function():
    # d.steps, d.check, d.code … load their feature by name (ricci.derivation._DOORS), so that
    # the pipeline imports nothing above it; a renamed feature function must fail here
    from ricci.derivation import _DOORS, _feature

    assert set(_DOORS) >= {"explain", "view", "analyse", "code", "function", "hvp", "jvp", "vjp",
                           "linear_operator", "check"}
    for door in sorted(_DOORS):
        assert callable(_feature(door)), door


def test_the_doors_give_the_features_answers():
    import ricci
    from ricci.codegen import generate
    from ricci.explain import explain

    d = ricci.derivative("x'*A*x", "x")
    assert d.steps.rules() == explain(d).rules()
    assert d.code("numpy") == generate(d, "numpy", None, False)
    assert str(d.check(trials=1, seed=0)).startswith("checked numerically")
    with pytest.raises(KeyError):
        from ricci.derivation import _feature

        _feature("no such door")
