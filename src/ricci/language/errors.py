"""Errors of ricci: one hierarchy, each error knowing where in the source it is.

Every error a user can provoke is a :class:`RicciError`.  It carries the source text and the
span ``(start, end)`` of the offending part, so that :meth:`RicciError.pretty` can print the
expression with a caret line under it.  Nothing else should escape the public API.
"""

from __future__ import annotations

Span = tuple[int, int]


def caret_lines(source: str, span: tuple) -> tuple[str, str]:
    """The line of ``source`` that holds the start of ``span``, clipped to a readable width
    around it, and a caret line under the span (what :meth:`RicciError.pretty` shows)."""
    start, end = span
    start = max(0, min(start, len(source)))
    line_start = source.rfind("\n", 0, start) + 1
    line_end = source.find("\n", start)
    if line_end == -1:
        line_end = len(source)
    line = source[line_start:line_end]
    col = start - line_start
    width = max(1, min(end, line_end) - start)
    if len(line) > 100:  # a long input: show a window around the error
        lo = max(0, col - 40)
        line = ("…" if lo else "") + line[lo : lo + 80] + ("…" if lo + 80 < len(line) else "")
        col = col - lo + (1 if lo else 0)
        width = min(width, 80)
    line = "".join(ch if ch.isprintable() else "?" for ch in line)
    return line, " " * col + "^" * width


class RicciError(Exception):
    """Base class of every error ricci reports to a user."""

    kind = "error"

    def __init__(self, message: str, span: Span | None = None, source: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.source = source

    def with_source(self, source: str) -> "RicciError":
        if self.source is None:
            self.source = source
        return self

    def render(self, surface: str = "python") -> str:
        """The message in ``surface``'s words ("python", "cli", "api", "page"): a message built
        as a :class:`ricci.hints.Phrase` names that surface's controls; ``str(e)`` is Python's."""
        render = getattr(self.message, "render", None)
        return render(surface) if callable(render) else self.message

    def pretty(self, surface: str = "python") -> str:
        """The message, then the source with a caret line under the span (one line shown)."""
        head = f"{self.kind}: {self.render(surface)}"
        if self.source is None or self.span is None:
            return head
        line, carets = caret_lines(self.source, self.span)
        return f"{head}\n  {line}\n  {carets}"

    def __str__(self) -> str:
        return self.message


class RicciSyntaxError(RicciError):
    """The text is not an expression of the input language."""

    kind = "syntax error"


class UnknownNameError(RicciError):
    """An unknown function name, a variable with no value, or a `wrt` that names no variable."""

    kind = "unknown name"


class ShapeError(RicciError):
    """Operands whose shapes do not fit (inner dimensions of a product, sums of unequal shapes)."""

    kind = "shape error"


class KindError(RicciError):
    """An argument of the wrong kind for a function or operator (`tr` of a vector, `x^y` with vector x)."""

    kind = "kind error"


class BadValueError(RicciError):
    """A value that does not fit its variable, or a number outside a function's domain."""

    kind = "bad value"


class LimitError(RicciError):
    """An input over a documented limit (length, nesting depth, order, size, time)."""

    kind = "limit"
