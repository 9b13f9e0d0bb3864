"""The texts of a problem parsed once per (text, kinds), for the next solve of the same problem.

``ricci.minimize`` parses f, each constraint and each side of a constraint on every call; on a
small problem that is most of the call (4 parses, about 2 ms of the 3-4 ms a simplex-constrained
quadratic at n = 200 takes, benchmarks/RESULTS.md).  A parse depends on the text and the kinds
only, never the data, so it is kept, as the generated code is (objective.py, constraints.py).
An Expression is not changed by anything that reads it.  Errors are not kept: a bad text is
parsed again, and refused again with the same message.
"""

from __future__ import annotations

from functools import lru_cache


def parse(source, kinds=None):
    """:func:`ricci.language.expression.parse`, kept for the next call with the same arguments."""
    from ..language.expression import parse as _parse

    if not isinstance(source, str) or not (kinds is None or isinstance(kinds, dict)):
        return _parse(source, kinds)  # its own message for what is not a text and a dict
    try:
        key = tuple(sorted((kinds or {}).items()))
        hash(key)
    except TypeError:  # a kind that is no text: the parser says what is wrong
        return _parse(source, kinds)
    return _parsed(source, key)


@lru_cache(maxsize=128)
def _parsed(source: str, kinds: tuple):
    from ..language.expression import parse as _parse

    return _parse(source, dict(kinds))


@lru_cache(maxsize=256)
def free_names(text: str) -> tuple:
    """The names a side of a constraint uses, in order of appearance (its parse tree's)."""
    from ..language.kinds import free_names as _free
    from ..language.parser import parse_text

    return tuple(_free(parse_text(text), set()))
