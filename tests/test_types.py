"""The type checker (issue 16, Tidy): mypy, configured in pyproject.toml's [tool.mypy], checks
the public API's modules; their public functions carry type hints.

mypy is in the `test` extra, so the README's test command runs these; the skip is only for a
machine without that extra.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pathlib
import tomllib

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]


def _mypy(*args: str) -> tuple[str, int]:
    cwd = os.getcwd()
    os.chdir(ROOT)  # the config's paths are the repository's
    try:
        out, err, status = mypy_api.run(["--config-file", str(ROOT / "pyproject.toml"), *args])
    finally:
        os.chdir(cwd)
    return out + err, status


def test_mypy_passes_on_the_checked_modules():
    out, status = _mypy()
    assert status == 0, out
    assert "Success" in out


def test_mypy_catches_a_misuse_of_the_public_api(tmp_path):
    # the hints bite: an order given as text, a derivative used as a string, are reported
    use = tmp_path / "use_ricci.py"
    use.write_text("import ricci\n"
                   "d = ricci.derivative(\"x'*A*x\", \"x\", order=\"2\")\n"
                   "n: str = ricci.gradient(\"x'*x\", \"x\")\n", encoding="utf-8")
    out, status = _mypy(str(use))
    assert status == 1, out
    assert 'Argument "order" to "derivative" has incompatible type "str"; expected "int"' in out
    assert 'expression has type "Derivative", variable has type "str"' in out


def _module_name(path: str) -> str:
    rel = pathlib.Path(path).relative_to("src").with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _unhinted(fn) -> list[str]:
    sig = inspect.signature(fn)
    missing = [p for p, v in sig.parameters.items()
               if v.annotation is inspect.Parameter.empty and p not in ("self", "cls")]
    if sig.return_annotation is inspect.Signature.empty and fn.__name__ != "__init__":
        missing.append("return")
    return missing


@pytest.mark.parametrize("path", CONFIG["files"])
def test_the_public_functions_of_a_checked_module_have_hints(path):
    name = _module_name(path)
    module = importlib.import_module(name)
    public = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    found = []
    for n in public:
        obj = getattr(module, n, None)
        if getattr(obj, "__module__", None) != name:
            continue  # imported from elsewhere: checked where it is defined
        if inspect.isfunction(obj):
            found.append((n, obj))
        elif inspect.isclass(obj):
            for k, v in vars(obj).items():
                f = v.fget if isinstance(v, property) else v
                if (not k.startswith("_") or k == "__init__") and inspect.isfunction(f):
                    found.append((f"{n}.{k}", f))
    assert found, name
    missing = {n: m for n, f in found if (m := _unhinted(f))}
    assert not missing, f"{name}: public functions without type hints: {missing}"
