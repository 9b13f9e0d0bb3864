"""The suite on a fresh machine: ``pip install -e ".[test]" && python -m pytest`` and nothing else.

A developer's machine often has more installed than the ``test`` extra (PyTorch, Dask,
array-api-strict…), so a test that needs one of those and imports it before it skips passes
there and fails for a new user.  These tests pin the rule from both sides:

* dynamically: a small pytest run over the tests that need an optional package, with those
  packages made unimportable (``sys.modules[name] = None``, the documented way to block an
  import), must report each of them *skipped*, with a reason naming the package — never failed;
* statically: every package a test imports by an ``import`` statement is a dependency of ricci
  or of its ``test`` extra; anything else is reached only through ``pytest.importorskip``;
* ``.ci/run`` runs exactly the README's test command, in a brand-new virtual environment.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The optional packages of the backends and the oracle.  JAX is in the test extra, but its
#: tests must still skip where it is missing (the extra may shrink; ``pip install -e .`` users).
BLOCKED = ("torch", "jax", "jaxlib", "array_api_strict", "array_api_compat", "dask", "autograd", "scipy")

#: Packages some part of ricci can use that the test extra does not install: a test imports them
#: only behind pytest.importorskip, installed here or not.
OPTIONAL = {*BLOCKED, "sklearn", "cupy", "tensorflow", "numba", "pandas", "atheris"}

#: Tests that need one of BLOCKED, one or two per backend and per file (cheap: a handful of
#: cases, not the 1,028 of test_codegen.py), with the package whose absence must skip them.
NEEDS = {
    "tests/test_codegen.py::test_backend_equals_evaluate[lecture_row07-torch]": "torch",
    "tests/test_codegen.py::test_backend_equals_evaluate[lecture_row12-torch]": "torch",
    "tests/test_codegen.py::test_backend_with_value[logistic_hessian-torch]": "torch",
    "tests/test_codegen.py::test_backend_equals_evaluate[lecture_row07-jax]": "jax",
    "tests/test_codegen.py::test_backend_with_value[logistic_hessian-jax]": "jax",
    "tests/test_codegen.py::test_backend_equals_evaluate[lecture_row07-array_api_strict]": "array_api_strict",
    "tests/test_codegen.py::test_dask_logistic_regression": "dask",
    "tests/test_identities_more.py::test_generated_jax_code_takes_numpy_arrays": "jax",
    "tests/test_differential.py::test_the_jax_oracle_knows_the_lecture": "jax",
    "tests/test_products.py::test_hvp_equals_dense_hessian_times_v[cookbook_hessian_of_det-torch]": "torch",
    "tests/test_products.py::test_linear_operator_of_a_hessian_and_a_jacobian": "scipy",
    "tests/test_minimize.py": "scipy",  # a module that skips as a whole is selected by its path
}

PLUGIN = f"""\
# Loaded with -p before any test module: the optional packages cannot be imported.
import sys
for _name in {BLOCKED!r}:
    sys.modules[_name] = None
"""


def test_tests_of_optional_packages_skip_where_they_are_missing(tmp_path):
    (tmp_path / "ricci_block_optional.py").write_text(PLUGIN)
    report = tmp_path / "report.xml"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "ricci_block_optional", "-p", "no:cacheprovider",
         "-rs", f"--junitxml={report}", *NEEDS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert report.exists(), r.stdout[-3000:] + r.stderr[-3000:]
    outcomes = {}
    for case in ET.parse(report).iter("testcase"):
        module, name = case.get("classname", ""), case.get("name", "")
        # a module skipped as a whole is reported with no class, named by its dotted path
        node = f"{module.replace('.', '/')}.py::{name}" if module else f"{name.replace('.', '/')}.py"
        child = next(iter(case), None)
        outcomes[node] = (child.tag if child is not None else "passed",
                          "" if child is None else f"{child.get('message')} {child.text}")
    assert set(outcomes) == set(NEEDS), (sorted(outcomes), r.stdout[-3000:])
    wrong = {n: o for n, o in outcomes.items() if o[0] != "skipped" or NEEDS[n] not in o[1].lower()}
    assert not wrong, f"not skipped with a reason naming the package: {wrong}\n{r.stdout[-3000:]}"
    assert r.returncode == 0, r.stdout[-3000:]


# -- every import statement of the tests is a declared dependency -----------------------------------


def _requirement_names(requirements) -> set[str]:
    return {re.match(r"[A-Za-z0-9._-]+", req).group(0).lower().replace("_", "-").replace(".", "-")
            for req in requirements}


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module.split(".")[0]]
    return []


def _skipped(node: ast.AST) -> list[str]:
    """The packages of the ``pytest.importorskip("…")`` calls in ``node``."""
    return [call.args[0].value.split(".")[0] for call in ast.walk(node)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "importorskip" and call.args
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)]


def _unguarded_imports(tree: ast.Module):
    """(package, line) of each import that is not behind a ``pytest.importorskip`` of it.

    At module level the importorskip must come first (it skips the whole module); inside a
    function or fixture, an importorskip of the package anywhere in the file is taken as its
    guard (the function that imports it is reached only after that skip)."""
    skipped_anywhere = set(_skipped(tree))
    skipped_so_far: set[str] = set()
    for statement in tree.body:
        for module in _imported(statement):
            if module not in skipped_so_far:
                yield module, statement.lineno
        skipped_so_far |= set(_skipped(statement))
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            continue
        for node in ast.walk(statement):
            for module in _imported(node):
                if module not in skipped_anywhere:
                    yield module, node.lineno


def _notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    lines = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    # IPython's magics and shell escapes are not Python
    return "\n".join(line for cell in lines for line in cell.splitlines() if not line.lstrip().startswith(("%", "!")))


def test_tests_import_only_declared_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _requirement_names(project["dependencies"]) | _requirement_names(
        project["optional-dependencies"]["test"])
    distributions = importlib.metadata.packages_distributions()
    local = {p.stem for p in (ROOT / "tests").glob("*.py")} | {"ricci"}
    sources = {p: p.read_text() for p in sorted((ROOT / "tests").glob("*.py"))}
    sources |= {p: _notebook_code(p) for p in sorted((ROOT / "examples").glob("*.ipynb"))}
    sources |= {p: p.read_text() for p in sorted((ROOT / "examples").glob("*.py"))}
    undeclared = []
    for path, text in sources.items():
        for module, line in _unguarded_imports(ast.parse(text)):
            if module in sys.stdlib_module_names or module in local:
                continue
            if module not in distributions and module not in OPTIONAL:
                continue  # a module the test writes itself; a missing package fails the import here
            dists = _requirement_names(distributions.get(module, [module]))
            if not dists & declared:
                undeclared.append(f"{path.relative_to(ROOT)}:{line}: import {module}")
    assert not undeclared, (
        "imported by a test but not in the test extra: add it to the extra, or reach it through "
        "pytest.importorskip so that the test skips where it is missing:\n" + "\n".join(undeclared))


# -- CI runs the README's test command in a new virtual environment ---------------------------------


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.*?)\n```", readme, re.S)[:2]


def test_ci_runs_the_readmes_test_command_in_a_new_venv():
    install, test = _readme_commands()
    assert install == 'pip install -e . && ricci diff "x\'*A*x" --wrt x'
    assert test == 'pip install -e ".[test]" && python -m pytest'
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert test in commands, "the README's test command, on a line of its own"
    assert 'python3 -m venv "$tmp/venv"' in commands
    assert "--system-site-packages" not in ci
    # the venv is made and entered before the test command runs
    assert commands.index('python3 -m venv "$tmp/venv"') < commands.index(test)
    assert any("activate" in c for c in commands[:commands.index(test)])


FAKE_PYTHON3 = """#!/usr/bin/env bash
# python3 -m venv DIR: a venv whose pip and python only log their arguments
[ "$1 $2" = "-m venv" ] || exit 90
mkdir -p "$3/bin"
printf 'VIRTUAL_ENV="%s"\\nexport PATH="%s/bin:$PATH"\\n' "$3" "$3" > "$3/bin/activate"
for tool in pip python; do
  printf '#!/usr/bin/env bash\\necho "$0 $* PYTHONPATH=${PYTHONPATH:-}" >> "$FAKE_LOG"\\n' > "$3/bin/$tool"
  chmod +x "$3/bin/$tool"
done
echo 'exit "$FAKE_PYTEST_STATUS"' >> "$3/bin/python"
"""


def _fake_ci(tmp_path, pytest_status: int):
    """.ci/run with python3 (and apt-get) replaced: what it runs, where, and its exit status."""
    repo, bin_dir, tmp = tmp_path / "repo", tmp_path / "bin", tmp_path / "tmp"
    for d in (repo / ".ci", bin_dir, tmp):
        d.mkdir(parents=True, exist_ok=True)
    (repo / ".ci" / "run").write_text((ROOT / ".ci" / "run").read_text())
    (bin_dir / "python3").write_text(FAKE_PYTHON3)
    (bin_dir / "apt-get").write_text('#!/usr/bin/env bash\necho "apt-get $*" >> "$FAKE_LOG"\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    log = tmp_path / "log"
    log.write_text("")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "TMPDIR": str(tmp),
           "FAKE_LOG": str(log), "FAKE_PYTEST_STATUS": str(pytest_status), "PYTHONPATH": "/outside"}
    r = subprocess.run(["bash", str(repo / ".ci" / "run")], env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=60, check=False)
    return r, [line for line in log.read_text().splitlines() if not line.startswith("apt-get")], tmp


def test_ci_runs_pip_and_pytest_of_the_new_venv_and_cleans_up(tmp_path):
    r, calls, tmp = _fake_ci(tmp_path, 0)
    assert r.returncode == 0, r.stderr
    assert len(calls) == 2, calls
    pip, pytest_call = calls
    # the venv's own pip and python, in a temporary folder, with nothing on PYTHONPATH
    assert re.fullmatch(rf"{re.escape(str(tmp))}/[^ ]+/venv/bin/pip install -e \.\[test\] PYTHONPATH=", pip), pip
    assert re.fullmatch(rf"{re.escape(str(tmp))}/[^ ]+/venv/bin/python -m pytest PYTHONPATH=", pytest_call)
    assert list(tmp.iterdir()) == [], "the temporary folder is removed on exit"


def test_ci_fails_when_pytest_fails_or_collects_nothing(tmp_path):
    r, _, _ = _fake_ci(tmp_path / "failed", 1)
    assert r.returncode == 1
    # pytest's exit code 5, "no tests were collected", is a failure with a word, not a pass
    r, _, tmp = _fake_ci(tmp_path / "empty", 5)
    assert r.returncode == 1 and "collected no tests" in r.stderr
    assert list(tmp.iterdir()) == []


def test_ricci_testing_without_hypothesis_says_what_to_install():
    # hypothesis is in the test extra only: after `pip install -e .` the module must say so
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "try:\n    import ricci.testing\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 'ricci.testing needs Hypothesis: pip install "hypothesis>=6.80"' in out
