"""The LALR parser of ``grammar.lark``, built once and shipped: ``grammar.lark.parser``.

Building the parser tables from the grammar takes lark about 0.2 s, most of the start-up of
``ricci diff "x'*A*x" --wrt x`` (issue 21); loading the built parser (``Lark.save`` /
``Lark.load``) takes a few milliseconds.  The file ships as package data beside the grammar.
Its first line is a key: a digest of the grammar's text, the options and lark's version.  A file
whose key does not match (the grammar was edited, another lark is installed) is not used: the
parser is built from the grammar as before, so a stale file costs time, never a wrong parse.
``tests/test_scaling.py`` regenerates a stale file (:func:`save`); nothing writes it at run time,
so an installed package is never modified.

The file is a pickle (lark's own format for a saved parser) read only from ricci's own package
directory, never from user input.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

GRAMMAR = Path(__file__).with_name("grammar.lark")
PARSER_FILE = Path(__file__).with_name("grammar.lark.parser")

#: lark's options for ricci's grammar (part of the key: other options, another parser).
OPTIONS = {"parser": "lalr", "propagate_positions": True, "maybe_placeholders": False}


def key(grammar: str) -> bytes:
    """The first line of a parser file built from ``grammar`` by the installed lark."""
    import lark

    text = grammar + repr(sorted(OPTIONS.items())) + lark.__version__
    return hashlib.sha256(text.encode("utf-8")).hexdigest().encode("ascii")


def load(path: Path = PARSER_FILE):
    """The parser: from ``path`` when its key matches the grammar, else built from the grammar."""
    from lark import Lark

    grammar = GRAMMAR.read_text(encoding="utf-8")
    try:
        with open(path, "rb") as f:
            if f.readline().rstrip(b"\n") == key(grammar):
                return Lark.load(f)
    except Exception:  # missing, stale or unreadable (another lark's format): build it, below
        pass
    return Lark(grammar, **OPTIONS)


def current(path: Path = PARSER_FILE) -> bool:
    """Whether ``path`` holds the parser of today's grammar for the installed lark."""
    try:
        with open(path, "rb") as f:
            return f.readline().rstrip(b"\n") == key(GRAMMAR.read_text(encoding="utf-8"))
    except OSError:
        return False


def save(path: Path = PARSER_FILE) -> None:
    """Build the parser from the grammar and write it, with its key, to ``path``."""
    from lark import Lark

    grammar = GRAMMAR.read_text(encoding="utf-8")
    parser = Lark(grammar, **OPTIONS)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(key(grammar) + b"\n")
        parser.save(f)
    tmp.replace(path)  # whole or not at all: a parallel reader never sees half a file
