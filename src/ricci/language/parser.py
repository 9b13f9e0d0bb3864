"""Text → matrix AST, with the grammar in ``grammar.lark`` (LALR, built once, lazily).

Limits are checked before lark sees the text, so that a megabyte of input or ten thousand
nested brackets are refused at once with a clear :class:`LimitError` instead of a hang or a
``RecursionError``.  Every lark exception is turned into a :class:`RicciSyntaxError` that
names the position and says what was expected, in words a student understands.
"""

from __future__ import annotations

import math
from functools import lru_cache

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

    return load(transformer=_make_builder())


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
    if type(tree) is _Fault:  # an error the builder met (syntax errors come first, above)
        if isinstance(tree[0], Exception):
            raise tree[0]
        raise RicciSyntaxError(tree[0], tree[1], text)
    node = tree[0] if type(tree) is _Box else tree
    d = 0 if trusted else depth(node)
    if d > MAX_DEPTH:
        raise LimitError(
            f"the expression is {d} levels deep; the limit is {MAX_DEPTH} (split it with 'where' bindings)",
            (0, len(text)),
            text,
        )
    return node


class _Box(tuple):
    """(node, start, end): a value whose extent in the text is not its node's span: ``(x)`` with
    its brackets, ``+x`` with its sign, a call the table rewrote (softmax(x), whose nodes span x).
    A parent's span runs from its first child's extent to its last child's (lark's
    propagate_positions: a bracketed operand's brackets belong to the product around it)."""

    __slots__ = ()


class _Fault(tuple):
    """(message, span): the first error of a subtree (in the order lark reduces: children before
    their parent, left to right), passed up and raised once the whole text has parsed, so that a
    syntax error anywhere still comes first, as when the AST was built after the parse.  (An
    exception a table's rewrite raised other than its ValueError, None): that exception."""

    __slots__ = ()


class _Bound(tuple):
    """(name, expr, name's span, end of the binding's extent): one binding of a ``where``."""

    __slots__ = ()


def _make_builder():
    """The callbacks lark calls at each reduction of the LALR parse (its ``transformer=``
    option): the AST is built while parsing, without lark's parse tree or the positions it
    propagated to each tree node (issue 21: about half the calls of parsing a deep expression).
    Each method takes the rule's children, every token kept (``keep_all_tokens``: brackets,
    commas and signs give the spans), and returns an AST node, a :class:`_Box`, a
    :class:`_Fault`, a row (a tuple) or a :class:`_Bound`.  The methods hold no state: one
    parser serves every thread."""

    def node_of(v):
        return v[0] if type(v) is _Box else v

    def extent(v):
        return (v[1], v[2]) if type(v) is _Box else v.span

    def keyword(tok):
        # None, or the fault of a keyword written where a name stands
        if str(tok) in KEYWORDS:
            return _Fault((f"'{tok}' is a keyword of the language, not a name", (tok.start_pos, tok.end_pos)))
        return None

    class Build:
        """Method names equal the grammar's aliases (and ``atom``, its bracketed expression)."""

        def number(self, c):
            (tok,) = c
            span = (tok.start_pos, tok.end_pos)
            value = float(tok)
            if not math.isfinite(value):
                return _Fault((f"the number {tok} is too large", span))
            return Num(value, span)

        def name(self, c):
            (tok,) = c
            if str(tok) in KEYWORDS:
                return keyword(tok)
            return Name(str(tok), (tok.start_pos, tok.end_pos))

        def string(self, c):
            (tok,) = c
            return ast.Word(str(tok)[1:-1], (tok.start_pos, tok.end_pos))

        def atom(self, c):  # "(" expr ")": the expression, its extent the brackets'
            v = c[1]
            if type(v) is _Fault:
                return v
            return _Box((node_of(v), c[0].start_pos, c[2].end_pos))

        def call(self, c):
            name, span = c[0], (c[0].start_pos, c[-1].end_pos)
            args = c[2:-1:2]  # NAME "(" arg ("," arg)* ")"
            for a in args:
                if type(a) is _Fault:
                    return a
            if _Box in map(type, args):
                args = [a[0] if type(a) is _Box else a for a in args]
            if str(name) in KEYWORDS:
                return keyword(name)
            # Aliases (trace, asin, ...) become the canonical name, so that `trace(A)` and
            # `tr(A)` are the same expression and print the same way.
            func = ALIASES.get(str(name), str(name))
            entry = lookup(func)
            if entry is not None and entry.rewrite is not None:
                # written with other functions (max(x, c) is c + relu(x - c)): nothing after
                # the parser needs to know it
                try:
                    rewritten = entry.rewrite(ast, tuple(args))
                except ValueError as e:
                    message, k = e.args
                    return _Fault((message, args[k].span if k is not None and k < len(args) else span))
                except Exception as e:  # noqa: BLE001 - raised as it is, after the parse (below)
                    return _Fault((e, None))
                if rewritten is not None:
                    return _Box((rewritten, span[0], span[1]))
            for a in args:  # a word no rewrite took
                if isinstance(a, ast.Word):
                    return _Fault((f"'{a.word}' in quotes is not an argument of {func}(): a word in quotes is "
                                   "only the kind of a norm, norm(X, 'nuc')", a.span))
            return Call(func, tuple(args), span)

        def _bin(op):  # noqa: N805 - a factory used in the class body
            def method(self, c):
                left, right = c[0], c[2]
                if type(left) is _Fault:
                    return left
                if type(right) is _Fault:
                    return right
                if type(left) is _Box:
                    start, left = left[1], left[0]
                else:
                    start = left.span[0]
                if type(right) is _Box:
                    end, right = right[2], right[0]
                else:
                    end = right.span[1]
                return BinOp(op, left, right, (start, end))

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

        def otimes(self, c):
            # A ⊗ B as papers print it: the Kronecker product, the table's function of that family
            left, right = c[0], c[2]
            if type(left) is _Fault:
                return left
            if type(right) is _Fault:
                return right
            span = (extent(left)[0], extent(right)[1])
            return Call(named("kronecker"), (node_of(left), node_of(right)), span)

        def neg(self, c):
            sign, arg = c
            if type(arg) is _Fault:
                return arg
            if type(arg) is _Box:
                return Neg(arg[0], (sign.start_pos, arg[2]))
            return Neg(arg, (sign.start_pos, arg.span[1]))

        def pos(self, c):
            sign, arg = c
            if type(arg) is _Fault:
                return arg
            return _Box((node_of(arg), sign.start_pos, extent(arg)[1]))

        def transpose(self, c):
            arg, mark = c
            if type(arg) is _Fault:
                return arg
            if type(arg) is _Box:
                return Transpose(arg[0], (arg[1], mark.end_pos))
            return Transpose(arg, (arg.span[0], mark.end_pos))

        dot_t = transpose

        def norm(self, c):
            # ‖x‖, ‖x‖₂, ‖X‖_F: the Euclidean / Frobenius norm; ‖x‖₁, ‖x‖_1: the sum of |x_i|
            arg = c[1]
            if type(arg) is _Fault:
                return arg
            sub = str(c[3]) if len(c) == 4 else "2"
            func = "norm1" if sub in ("₁", "_1") else "norm2"
            return Call(func, (node_of(arg),), (c[0].start_pos, c[-1].end_pos))

        def row(self, c):
            entries = c[::2]  # expr ("," expr)*
            for e in entries:
                if type(e) is _Fault:
                    return e
            return tuple(node_of(e) for e in entries)

        def literal(self, c):
            rows = c[1:-1:2]  # "[" row (";" row)* "]"
            for r in rows:
                if type(r) is _Fault:
                    return r
            span = (c[0].start_pos, c[-1].end_pos)
            widths = {len(r) for r in rows}
            if len(widths) > 1:
                return _Fault(("the rows of this literal have different lengths "
                               f"({', '.join(str(len(r)) for r in rows)})", span))
            return Literal(tuple(rows), span)

        def binding(self, c):
            name, _, expr = c  # NAME "=" expr
            if type(expr) is _Fault:
                return expr
            fault = keyword(name)
            if fault is not None:
                return fault
            return _Bound((str(name), node_of(expr), (name.start_pos, name.end_pos), extent(expr)[1]))

        def where(self, c):
            body, bindings = c[0], c[2::2]  # expr "where" binding ("," binding)*
            if type(body) is _Fault:
                return body
            for b in bindings:
                if type(b) is _Fault:
                    return b
            seen: set[str] = set()
            for n, _, at, _ in bindings:
                if n in seen:
                    return _Fault((f"{n} is bound twice in 'where'", at))
                seen.add(n)
            # Each binding may use the ones before it only: a name bound here and used in its own
            # expression or an earlier one would be a variable and a bound name at once.
            for k, (n, e, _, _) in enumerate(bindings):
                later = {m for m, _, _, _ in bindings[k:]}
                for node in walk(e):
                    if isinstance(node, Name) and node.name in later:
                        return _Fault((
                            f"{node.name} is used in the binding of {n} before it is bound in 'where' "
                            "(a binding may use only the bindings before it)", node.span))
            return Where(
                node_of(body),
                tuple((n, e) for n, e, _, _ in bindings),
                (extent(body)[0], bindings[-1][3]),
                tuple(s for _, _, s, _ in bindings),
            )

    return Build()


__all__ = ["parse_text", "MAX_LENGTH", "MAX_NESTING", "MAX_DEPTH", "Num", "Name", "Call", "Neg",
           "BinOp", "Transpose", "Literal", "Where"]
