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

#: lark's options for ricci's grammar (part of the key: other options, another parser).  Every
#: token is kept (the brackets and signs give the AST's spans, parser.py) and no positions are
#: propagated through a parse tree: the parser builds the AST while parsing (``transformer=``).
OPTIONS = {"parser": "lalr", "propagate_positions": False, "maybe_placeholders": False,
           "keep_all_tokens": True}


def key(grammar: str) -> bytes:
    """The first line of a parser file built from ``grammar`` by the installed lark."""
    import lark

    text = grammar + repr(sorted(OPTIONS.items())) + lark.__version__
    return hashlib.sha256(text.encode("utf-8")).hexdigest().encode("ascii")


def load(path: Path = PARSER_FILE, transformer=None):
    """The parser: from ``path`` when its key matches the grammar, else built from the grammar.
    ``transformer``: lark's LALR callbacks, one method per rule (the tables do not depend on it)."""
    from lark import Lark

    grammar = GRAMMAR.read_text(encoding="utf-8")
    try:
        with open(path, "rb") as f:
            if f.readline().rstrip(b"\n") == key(grammar):
                if transformer is None:
                    return Lark.load(f)
                # Lark.load takes no options; _load is what lark's own cache (Lark(cache=...))
                # loads its saved tables with, a transformer among the options it allows there.
                # Another lark without it: the parser is built from the grammar, below.
                return Lark.__new__(Lark)._load(f, transformer=transformer)
    except Exception:  # missing, stale or unreadable (another lark's format): build it, below
        pass
    if transformer is None:
        return Lark(grammar, **OPTIONS)
    return Lark(grammar, transformer=transformer, **OPTIONS)


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
