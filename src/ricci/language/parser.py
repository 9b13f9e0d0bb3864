"""Text → matrix AST, with the grammar in ``grammar.lark`` (LALR, built once, lazily).

Limits are checked before lark sees the text, so that a megabyte of input or ten thousand
nested brackets are refused at once with a clear :class:`LimitError` instead of a hang or a
``RecursionError``.  Every lark exception is turned into a :class:`RicciSyntaxError` that
names the position and says what was expected, in words a student understands.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from . import ast
from .ast import BinOp, Call, Expr, Literal, Name, Neg, Num, Transpose, Where, depth, walk
from .errors import LimitError, RicciSyntaxError
from ..functions import ALIASES, lookup, named

#: Longest accepted input, in characters.
MAX_LENGTH = 10_000
#: Deepest accepted bracket nesting, and deepest accepted expression tree.
MAX_NESTING = 100
MAX_DEPTH = 300

#: Words of the language that cannot be names.
KEYWORDS = frozenset({"where"})

_BRACKETS = {"(": ")", "[": "]"}
_CLOSERS = {")": "(", "]": "["}

#: Tokens that can start an operand, and the tokens that can follow one (operators).
_OPERAND_START = {"NAME", "NUMBER", "LPAR", "LSQB"}
_OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "AT", "CIRCUMFLEX", "QUOTE", "_DOT", "_ODOT", "_OSLASH"}

_TOKEN_WORDS = {
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['", "COMMA": "','",
    "SEMICOLON": "';'", "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'",
    "NAME": "a name", "NUMBER": "a number", "EQUAL": "'='", "WHERE": "'where'",
    "CIRCUMFLEX": "'^'", "QUOTE": "a transpose (')", "$END": "the end of the input",
    "AT": "'@'", "_NORMBAR": "'‖'", "NORMSUB": "a norm's subscript (₂, _2, _F, ₁, _1)",
    "_DOT": "'·'", "_ODOT": "'⊙'", "_OSLASH": "'⊘'", "_SUPERT": "a transpose (ᵀ)",
    "STRING": "a word in quotes ('nuc')",
}


@lru_cache(maxsize=1)
def _lark():
    # lark is imported lazily (`import ricci` stays fast), and its tables are loaded prebuilt
    # when they match the grammar (grammar_cache: building them is most of a CLI start-up)
    from .grammar_cache import load

    return load()


def _check_limits(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise LimitError(
            f"the expression is {len(text):,} characters long; the limit is {MAX_LENGTH:,}",
            (MAX_LENGTH, len(text)),
            text,
        )
    if not text.strip():
        raise RicciSyntaxError("the expression is empty", (0, len(text)), text)
    stack: list[tuple[str, int]] = []
    for pos, ch in enumerate(text):
        if ch in _BRACKETS:
            stack.append((ch, pos))
            if len(stack) > MAX_NESTING:
                raise LimitError(
                    f"brackets nest more than {MAX_NESTING} deep", (pos, pos + 1), text
                )
        elif ch in _CLOSERS:
            if not stack:
                raise RicciSyntaxError(
                    f"'{ch}' closes a bracket that was never opened", (pos, pos + 1), text
                )
            opener, at = stack.pop()
            if opener != _CLOSERS[ch]:
                raise RicciSyntaxError(
                    f"'{ch}' does not match the '{opener}' opened at position {at}",
                    (pos, pos + 1),
                    text,
                )
    if stack:
        opener, at = stack[-1]
        raise RicciSyntaxError(
            f"'{opener}' is never closed (add '{_BRACKETS[opener]}')", (at, at + 1), text
        )


def _expected(tokens) -> str:
    """The tokens LALR expected, in words a student reads."""
    tokens = set(tokens)
    if _OPERAND_START <= tokens:
        return "an operand (a name, a number, '(' or '[')"
    if tokens & _OPERATORS:
        return "an operator such as + - * / ^ or '"
    words = sorted(_TOKEN_WORDS.get(t, t.lower()) for t in tokens)
    return " or ".join(words)


def _unexpected(tok, expected) -> str:
    """The message for an unexpected token ``tok`` where LALR ``expected`` other tokens."""
    shown = repr(str(tok))
    if tok.type == "EQUAL":
        return (f"unexpected {shown}: '=' only binds a name after 'where' "
                "(as in x1^2 where x1 = t*cos(t))")
    if tok.type == "_NORMBAR" and not (set(expected) & {"NAME", "NUMBER"}):
        return f"unexpected {shown}: it closes a norm ‖…‖ that was never opened"
    if tok.type in _OPERAND_START and not (set(expected) & {"NAME", "NUMBER"}):
        return f"unexpected {shown}: an operator is missing before it (write a*b for a product)"
    if tok.type in ("COMMA", "SEMICOLON") and not (set(expected) & {"COMMA", "SEMICOLON", "NAME"}):
        return (f"unexpected {shown}: ',' and ';' separate entries only inside [ ] "
                "or the arguments of a function")
    return f"unexpected {shown}: expected {_expected(expected)}"


#: Characters copied from papers and slides, and what to write instead (· ⋅ ⊙ ⊘ ᵀ ⊤ ‖ are
#: part of the language: grammar.lark).
_LOOKALIKES = {
    "×": "*", "∗": "*", "−": "-", "–": "-", "÷": "/", "’": "'",
    "′": "'", "∘": ".*", "²": "^2", "³": "^3", "⁻": "^-",
}


def _character_hint(ch: str) -> str:
    """A hint for a character outside the language: ``θ`` → write ``theta``."""
    import unicodedata

    if ch in _LOOKALIKES:
        return f" (write {_LOOKALIKES[ch]!r} instead)"
    words = unicodedata.name(ch, "").split()
    if len(words) == 4 and words[0] == "GREEK" and words[2] == "LETTER":
        letter = words[3].lower()
        return f" (names are ASCII: write {letter.capitalize() if words[1] == 'CAPITAL' else letter})"
    return ""


def _last_token_span(text: str) -> tuple[int, int]:
    """Span of the last token of ``text`` (where an unfinished expression stops)."""
    try:
        tokens = list(_lark().lex(text))
    except Exception:  # pragma: no cover - the parser has lexed this text already
        tokens = []
    if tokens:
        last = tokens[-1]
        return (last.start_pos, last.end_pos)
    end = len(text.rstrip())  # pragma: no cover
    return (max(0, end - 1), max(1, end))  # pragma: no cover


def parse_text(text: str, *, trusted: bool = False) -> Expr:
    """Parse ``text`` into a matrix AST (no kinds yet).  Raises :class:`RicciError`.

    ``trusted``: a text ricci wrote itself (a derivative's answer, parsed again to type it),
    which the limits of length, nesting and depth do not bind: the answer to an input inside
    them may be longer or deeper than the input (the gradient of a sum of 248 quadratic forms
    is 497 levels deep), and its size was bounded by the derivation's own budget."""
    if not isinstance(text, str):
        raise RicciSyntaxError(f"an expression must be a string, not {type(text).__name__}")
    if trusted:
        if not text.strip():
            raise RicciSyntaxError("the expression is empty", (0, len(text)), text)
    else:
        _check_limits(text)
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    try:
        tree = _lark().parse(text)
    except UnexpectedCharacters as e:
        pos = e.pos_in_stream or 0  # lark types it Optional; a character error always has it
        ch = text[pos]
        shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
        raise RicciSyntaxError(
            f"unexpected character {shown}{_character_hint(ch)}", (pos, pos + 1), text) from None
    except UnexpectedToken as e:
        tok = e.token
        if tok.type == "$END":
            span = _last_token_span(text)
            raise RicciSyntaxError(
                f"the expression ends too early after {text[span[0]:span[1]]!r}: "
                f"expected {_expected(e.expected)}",
                span,
                text,
            ) from None
        pos = tok.start_pos if tok.start_pos is not None else 0
        raise RicciSyntaxError(
            _unexpected(tok, e.expected), (pos, pos + max(1, len(str(tok)))), text
        ) from None
    except UnexpectedEOF as e:  # pragma: no cover - LALR reports UnexpectedToken($END)
        raise RicciSyntaxError("the expression ends too early", (len(text) - 1, len(text)), text) from e
    node = _Build(text).transform(tree)
    d = 0 if trusted else depth(node)
    if d > MAX_DEPTH:
        raise LimitError(
            f"the expression is {d} levels deep; the limit is {MAX_DEPTH} (split it with 'where' bindings)",
            (0, len(text)),
            text,
        )
    return node


def _make_builder():
    from lark import Tree

    class Build:
        """lark parse tree → AST; method names equal the grammar's aliases.  Each method takes
        the node's span (None for an empty one) and its children, built already."""

        def __init__(self, text: str):
            self.text = text

        def transform(self, tree):
            """The AST of ``tree``: lark's Transformer_NonRecursive's walk (children before
            their parent, left to right, without recursion: deep trees are fine), written out.
            The Transformer made a wrapper (functools.update_wrapper) and several calls for each
            node, about a fifth of the parse of a deep expression (issue 21); the same methods
            in the same order, so the same AST and the same first error."""
            rev_postfix = []
            q = [tree]
            while q:
                t = q.pop()
                rev_postfix.append(t)
                if isinstance(t, Tree):
                    q += t.children
            stack: list = []
            for x in reversed(rev_postfix):
                if isinstance(x, Tree):
                    size = len(x.children)
                    if size:
                        args = stack[-size:]
                        del stack[-size:]
                    else:
                        args = []
                    meta = x.meta
                    method = getattr(self, x.data, None)
                    if method is None:  # pragma: no cover - every rule of the grammar has a method
                        stack.append(Tree(x.data, args, meta))
                        continue
                    stack.append(method(None if meta.empty else (meta.start_pos, meta.end_pos), *args))
                else:
                    stack.append(x)  # a token: the methods read it
            (result,) = stack
            return result

        def number(self, span, tok):
            value = float(tok)
            if not math.isfinite(value):
                raise RicciSyntaxError(f"the number {tok} is too large", span, self.text)
            return Num(value, span)

        def _keyword(self, tok):
            if str(tok) in KEYWORDS:
                raise RicciSyntaxError(
                    f"'{tok}' is a keyword of the language, not a name",
                    (tok.start_pos, tok.end_pos), self.text)

        def name(self, span, tok):
            self._keyword(tok)
            return Name(str(tok), span)

        def string(self, span, tok):
            return ast.Word(str(tok)[1:-1], span)

        def call(self, span, name, *args):
            # Aliases (trace, asin, ...) become the canonical name, so that `trace(A)` and
            # `tr(A)` are the same expression and print the same way.
            self._keyword(name)
            func = ALIASES.get(str(name), str(name))
            entry = lookup(func)
            if entry is not None and entry.rewrite is not None:
                # written with other functions (max(x, c) is c + relu(x - c)): nothing after
                # the parser needs to know it
                try:
                    rewritten = entry.rewrite(ast, tuple(args))
                except ValueError as e:
                    message, k = e.args
                    span = args[k].span if k is not None and k < len(args) else span
                    raise RicciSyntaxError(message, span, self.text) from None
                if rewritten is not None:
                    return rewritten
            for a in args:  # a word no rewrite took
                if isinstance(a, ast.Word):
                    raise RicciSyntaxError(
                        f"'{a.word}' in quotes is not an argument of {func}(): a word in quotes is "
                        "only the kind of a norm, norm(X, 'nuc')", a.span, self.text)
            return Call(func, tuple(args), span)

        def _bin(op):  # noqa: N805 - a factory used in the class body
            def method(self, span, left, right):
                return BinOp(op, left, right, span)

            return method

        add = _bin("+")
        sub = _bin("-")
        mul = _bin("*")
        matmul = _bin("*")
        div = _bin("/")
        hadamard = _bin(".*")
        ediv = _bin("./")
        pow = _bin("^")
        pypow = _bin("^")
        epow = _bin(".^")

        def otimes(self, span, left, right):
            # A ⊗ B as papers print it: the Kronecker product, the table's function of that family
            return Call(named("kronecker"), (left, right), span)

        def neg(self, span, arg):
            return Neg(arg, span)

        def pos(self, span, arg):
            return arg

        def transpose(self, span, arg):
            return Transpose(arg, span)

        dot_t = transpose

        def norm(self, span, arg, *rest):
            # ‖x‖, ‖x‖₂, ‖X‖_F: the Euclidean / Frobenius norm; ‖x‖₁, ‖x‖_1: the sum of |x_i|
            sub = str(rest[-1]) if rest and rest[-1] is not None else "2"
            func = "norm1" if sub in ("₁", "_1") else "norm2"
            return Call(func, (arg,), span)

        def row(self, span, *entries):
            return tuple(entries)

        def literal(self, span, *rows):
            widths = {len(r) for r in rows}
            if len(widths) > 1:
                raise RicciSyntaxError(
                    "the rows of this literal have different lengths "
                    f"({', '.join(str(len(r)) for r in rows)})",
                    span,
                    self.text,
                )
            return Literal(tuple(rows), span)

        def binding(self, span, name, expr):
            self._keyword(name)
            return (str(name), expr, (name.start_pos, name.end_pos))

        def where(self, span, body, *bindings):
            seen: set[str] = set()
            for n, _, at in bindings:
                if n in seen:
                    raise RicciSyntaxError(f"{n} is bound twice in 'where'", at, self.text)
                seen.add(n)
            # Each binding may use the ones before it only: a name bound here and used in its own
            # expression or an earlier one would be a variable and a bound name at once.
            for k, (n, e, _) in enumerate(bindings):
                later = {m for m, _, _ in bindings[k:]}
                for node in walk(e):
                    if isinstance(node, Name) and node.name in later:
                        raise RicciSyntaxError(
                            f"{node.name} is used in the binding of {n} before it is bound in 'where' "
                            "(a binding may use only the bindings before it)", node.span, self.text)
            return Where(
                body,
                tuple((n, e) for n, e, _ in bindings),
                span,
                tuple(s for _, _, s in bindings),
            )

    return Build


class _Build:
    """The builder of the AST from lark's tree, its class made on first use (lark is only
    imported when parsing)."""

    _cls = None

    def __new__(cls, text: str) -> Any:  # an instance of the class _make_builder makes
        if cls._cls is None:
            cls._cls = _make_builder()
        return cls._cls(text)


__all__ = ["parse_text", "MAX_LENGTH", "MAX_NESTING", "MAX_DEPTH", "Num", "Name", "Call", "Neg",
           "BinOp", "Transpose", "Literal", "Where"]
