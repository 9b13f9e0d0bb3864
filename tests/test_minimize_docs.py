"""docs/minimize.md runs as written: its data script, every ``ricci minimize`` command (what a
command is shown to print is what it prints: the same lines, the same numbers to 1e-6) and its
Python blocks, in a fresh folder.

The numbers shown in the page were printed by these commands; the Python blocks check their
answers against independent ones (the normal equations, a gradient written by hand, C⁻¹).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scipy")  # the solve extra

from ricci.cli import main  # noqa: E402

PAGE = Path(__file__).resolve().parents[1] / "docs" / "minimize.md"
_BLOCK = re.compile(r"```(python|bash)\n(.*?)```", re.S)
_NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")
# lines whose numbers are the solver's path (iterations, evaluations, residuals near zero), not
# the answer: these are compared by their words only
_PATH = ("‖∇f‖ =", "converged", "constraint violation")


def _blocks(kind: str) -> list[str]:
    return [body for k, body in _BLOCK.findall(PAGE.read_text(encoding="utf-8")) if k == kind]


def _commands() -> list[tuple[str, str | None]]:
    """(command line, the output shown under it or None) for every ricci minimize in the page."""
    out = []
    for body in _blocks("bash"):
        for chunk in re.split(r"\n(?=\$ )", body.strip()):
            first, _, shown = chunk.partition("\n")
            if first.startswith("$ ricci minimize"):
                out.append((first[2:], shown))
            elif first.startswith("ricci minimize"):
                out.extend((line, None) for line in chunk.splitlines() if line.startswith("ricci minimize"))
    return out


def _same(got: str, shown: str) -> None:
    got_lines, shown_lines = got.rstrip("\n").splitlines(), shown.rstrip("\n").splitlines()
    assert len(got_lines) == len(shown_lines), got
    for g, s in zip(got_lines, shown_lines):
        if s.strip().startswith("converged:"):
            # which of SciPy's stops ends a solve converged to rounding ("ABNORMAL" from the line
            # search, or "RELATIVE REDUCTION OF F") is the rounding of f at the optimum, and so
            # the machine's BLAS: the page's reason is its machine's, the test asks for success
            assert g.strip().startswith("converged:"), (g, s)
            continue
        assert _NUMBER.sub("#", g) == _NUMBER.sub("#", s), (g, s)
        if g.strip().startswith(_PATH):
            continue
        a = np.array([float(x) for x in _NUMBER.findall(g)])
        b = np.array([float(x) for x in _NUMBER.findall(s)])
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8, err_msg=g)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = _blocks("python")[0]
    assert "np.save(" in data
    exec(compile(data, "docs/minimize.md (data)", "exec"), {})  # the page's own script, not user input
    return tmp_path


def test_the_page_has_the_commands():
    commands = _commands()
    assert sum(shown is not None for _, shown in commands) >= 6
    assert any("--backend jax" in c for c, _ in commands) and any("S=symmetric" in c for c, _ in commands)


def test_every_command_prints_what_the_page_shows(folder, capsys):
    for command, shown in _commands():
        if "--backend jax" in command:
            pytest.importorskip("jax")
        argv = shlex.split(command)[1:]
        assert main(argv) == 0, command
        out = capsys.readouterr().out
        if shown is not None:
            _same(out, shown)


def test_the_python_blocks_run(folder):
    pytest.importorskip("matplotlib")
    pytest.importorskip("jax")  # one line shows backend="jax"
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict = {}
    ran = 0
    for body in _blocks("python")[1:]:
        if "dask" in body or "data=None, *" in body:  # the cluster example (tests/test_minimize.py) and the signature
            continue
        exec(compile(body, "docs/minimize.md", "exec"), namespace)  # the page's own code, not user input
        ran += 1
    assert ran >= 5
    assert np.allclose(namespace["r"].x["S"], np.linalg.inv(np.load("C.npy")))
