"""The linter (pyproject.toml [tool.ruff]) finds nothing in the source, the tests and the tools.

ruff is in the test extra, so this always runs: an unused import, an undefined name or an unused
variable fails the README's test command, with ruff's report as the message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ruff(*paths: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           *paths], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    run = _ruff("src", "tests", "tools")
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_reports_an_unused_import(tmp_path):
    # the configuration is read and its rules are on: a finding fails, naming file and line
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text("import os\n\n\ndef f():\n    x = 1\n    return undefined\n")
    run = _ruff("src", cwd=tmp_path)
    assert run.returncode == 1
    assert "src/m.py:1:8: F401" in run.stdout
    assert "src/m.py:5:5: F841" in run.stdout
    assert "src/m.py:6:12: F821" in run.stdout
