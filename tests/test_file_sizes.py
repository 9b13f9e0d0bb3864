"""Small modules (issue 16; STYLE.md): a source file over 600 lines says why at its top, in one
line, ``# Over 600 lines: <the reason>``, or is split by concern."""

from __future__ import annotations

import pathlib

SRC = pathlib.Path(__file__).resolve().parent.parent / "src" / "ricci"
LIMIT = 600
MARK = "# Over 600 lines: "


def _sources() -> dict[str, list[str]]:
    """Each source file's lines, read once, by its path under src/ricci."""
    return {path.relative_to(SRC).as_posix(): path.read_text(encoding="utf-8").splitlines()
            for path in sorted(SRC.rglob("*.py"))}


def test_a_long_file_says_why_at_its_top():
    unexplained = [f"{rel} ({len(lines)} lines)" for rel, lines in _sources().items() if len(lines) > LIMIT
                   and not (lines[0].startswith(MARK) and len(lines[0]) > len(MARK) + 20)]
    assert not unexplained, "split by concern, or say why in one line at the top: " + ", ".join(unexplained)


def test_a_reason_is_not_left_on_a_short_file():
    stale = [rel for rel, lines in _sources().items()
             if lines and lines[0].startswith(MARK) and len(lines) <= LIMIT]
    assert not stale, "no longer over 600 lines: take the reason off " + ", ".join(stale)
