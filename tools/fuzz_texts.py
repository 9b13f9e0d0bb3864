"""Texts that are almost, or not at all, expressions: the Hypothesis strategy
:func:`fuzz_texts` that ``tests/test_fuzz.py`` and ``tools/fuzz_pipeline.py`` feed the parser
and the pipeline.

Moved out of ``ricci.testing`` (issue 16, Tidy): ricci's own fuzzing, not something users
import.  Import it with ``tools/`` on ``sys.path``.
"""

from __future__ import annotations

from hypothesis import strategies as st

from ricci.testing import expressions


#: Pieces of the language (and a few of other languages) that fuzzed texts are made of.
TOKENS = ("x", "y", "A", "B", "W", "a", "t", "x1", "theta", "Phi", "w1", "2", "0.5", "1e3", "1e-300",
          "1e308", "0", "+", "-", "*", "/", "@", "^", "**", ".*", "./", ".^", "'", ".T", "(", ")",
          "[", "]", ",", ";", " ", "exp", "log", "sqrt", "tr", "trace", "inv", "det", "logdet", "diag",
          "sum", "norm1", "norm2", "vector", "matrix", "eye", "I", "relu", "abs", "sigmoid", "where",
          "=", "\n", "\t", "é", "∂", "#", "$", "\\", "\"", "`", "!", "%", "&", "|", "~", "<", ">",
          "{", "}", ":", "?", "_", ".", "1.", ".5e", "e", "E", "nan", "inf", "\x00")


def fuzz_texts(max_size: int = 30):
    """A strategy of texts for fuzzing the parser and the pipeline: token soups over
    :data:`TOKENS`, expressions of :func:`expressions` with random edits (a slice deleted,
    repeated or swapped, a token inserted, a character replaced), deep nestings, and any
    unicode text."""
    soup = st.lists(st.sampled_from(TOKENS), max_size=max_size).map("".join)
    nested = st.tuples(st.sampled_from(["(", "[", "-", "exp(", "x'*(", "inv("]), st.integers(1, 400),
                       st.sampled_from(["x", "a", "A"]), st.sampled_from([")", "]", "", "'"])
                       ).map(lambda t: t[0] * t[1] + t[2] + t[3] * t[1])
    return st.one_of(soup, _mutated(), nested, st.text(max_size=max_size))


@st.composite
def _mutated(draw):
    text = draw(expressions(max_depth=3)).text
    for _ in range(draw(st.integers(1, 3))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 8)))
        op = draw(st.sampled_from(["delete", "repeat", "insert", "replace", "swap", "truncate"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "repeat":
            text = text[:j] + text[i:j] * draw(st.integers(1, 3)) + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]
        elif op == "replace":
            text = text[:i] + draw(st.characters()) + text[i + 1:]
        elif op == "swap" and j < n:
            k = draw(st.integers(j, n))
            text = text[:i] + text[j:k] + text[i:j] + text[k:]
        else:
            text = text[:i]
    return text
