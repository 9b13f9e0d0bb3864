"""The typed expression: the object ``ricci.parse`` returns.

It holds the AST, the type of every node, and the variables with their kinds, dimensions and
the source of each kind (declared, forced, assumed).  ``str()`` is canonical text that parses
back to an equal expression.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from ..deep import deep
from . import ast as A
from .errors import KindError, RicciError
from .kinds import Checked, Type, Variable, check
from .parser import parse_text


class Expression:
    """A parsed, type-checked expression of the input language."""

    def __init__(self, source: str, tree: A.Expr, checked: Checked, shown: A.Expr | None = None):
        self.source = source
        #: the tree every stage works on (a matrix power A^k written out as a product)
        self.tree = tree
        #: the tree as the user wrote it, for display (``a'*X^3*b``, not ``a'*(X*X*X)*b``)
        self.shown = tree if shown is None else shown
        self._checked = checked

    # -- what a user asks of it ------------------------------------------------------------------
    @property
    def variables(self) -> dict[str, Variable]:
        """Each free name → :class:`Variable` (kind, dimension names, declared/forced/assumed)."""
        return dict(self._checked.variables)

    @property
    def kinds(self) -> dict[str, str]:
        return {n: v.kind for n, v in self._checked.variables.items()}

    @property
    def type(self) -> Type:
        """The matrix type of the value: rows and columns (1 for a scalar side)."""
        return self._checked.result

    @property
    def shape(self) -> tuple:
        """Dimension names of the value: () scalar, ("n",) vector, ("m", "n") matrix."""
        return self._checked.result.shape

    def type_of(self, node: A.Expr) -> Type:
        return self._checked.types[id(node)]

    @property
    def text(self) -> str:
        from ..printing.text import to_text

        return to_text(self.shown)

    def describe(self) -> str:
        """Several lines: canonical form, the value's shape, and each variable's kind."""
        dims = "×".join(str(d) for d in self.shape)
        lines = [self.text, f"value: {_shape_words(self.type)}" + (f" ({dims})" if dims else "")]
        lines += ["  " + v.describe() for v in self._checked.variables.values()]
        return "\n".join(lines)

    def evaluate(self, values: dict) -> Any:
        from ..evaluation import evaluate_expression

        return evaluate_expression(self, values)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"ricci.parse({self.text!r})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Expression):
            return NotImplemented
        return self.tree == other.tree and self.kinds == other.kinds

    def __hash__(self) -> int:
        return hash(self.tree)

    @property
    def latex(self) -> str:
        from ..printing.latex import ast_to_latex

        return ast_to_latex(self.shown)

    @property
    def mathml(self) -> str:
        """Presentation MathML (a ``<math>`` element)."""
        from ..printing.mathml import ast_to_mathml, math

        return math(ast_to_mathml(self.shown))

    # -- Jupyter -------------------------------------------------------------------------------------
    def _repr_latex_(self) -> str:
        return f"$${self.latex}$$"

    def _repr_html_(self) -> str:
        from xml.sax.saxutils import escape

        rows = "".join(f"<li><code>{escape(v.describe())}</code></li>" for v in self._checked.variables.values())
        return f"{self.mathml}<ul>{rows}</ul>"

    def _repr_markdown_(self) -> str:
        rows = "\n".join(f"- `{v.describe()}`" for v in self._checked.variables.values())
        return f"$${self.latex}$$\n\n{rows}"


def _shape_words(t: Type) -> str:
    if t.is_scalar:
        return "scalar"
    if t.is_col:
        return "column vector"
    if t.is_row:
        return "row vector"
    return "matrix"


def parse(expression: str | Expression, kinds: dict[str, str] | None = None) -> Expression:
    """Parse and type-check ``expression`` (a string, or an :class:`Expression` to re-check).

    ``kinds`` may name variables the expression does not use: they are left out, so that the
    kinds of a function serve the text of its derivative as well (``ricci.derivative`` itself
    refuses them, as a likely typo)."""
    return parse_typed(expression, kinds)


@deep
def parse_typed(expression: str | Expression, kinds: dict[str, str] | None = None, *,
                forced: dict[str, str] | None = None, unused: str = "ignore", trusted: bool = False) -> Expression:
    """:func:`parse` with the pipeline's own options (not ricci.parse's): ``forced`` kinds, which
    count as forced by the expression, not declared; ``unused``, what a declared kind of an
    unused name is; ``trusted``, a text ricci made itself (a derivative's, not held to the
    input's limits)."""
    if isinstance(expression, Expression):
        if not kinds and not forced:
            return expression
        expression = expression.source
    if kinds is not None and not isinstance(kinds, dict):
        raise KindError(f"kinds must be a dict such as {{'W': 'symmetric matrix'}}, not {type(kinds).__name__}")
    tree = parse_text(expression, trusted=trusted)
    try:
        checked = check(tree, expression, kinds, forced, unused)
    except RicciError as e:
        raise e.with_source(expression)
    return Expression(expression, checked.tree, checked, as_written(tree))


@deep
def typed_tree(tree: A.Expr, kinds: dict[str, str] | None = None, *, source: str | None = None,
               forced: dict[str, str] | None = None, unused: str = "ignore") -> Expression:
    """A tree ricci built itself (an answer, the steps' differentials and outer functions)
    typed as :func:`parse_typed` types the text it prints, without printing and parsing it
    again: the tree is read as the parser reads that text (:func:`as_parsed`) and checked with
    ``kinds`` (and ``forced``, ``unused``: as parse_typed's).  The dimensions are the checker's
    own names, as the text's would be.  ``source``: the text for messages and ``.source``
    (printed when not given: printing is cheap, parsing is what this saves)."""
    if source is None:
        from ..printing.text import to_text

        source = to_text(tree)
    parsed = as_parsed(tree)
    try:
        checked = check(parsed, source, kinds, forced, unused)
    except RicciError as e:
        raise e.with_source(source)
    return Expression(source, checked.tree, checked, tree)


def _written(node: A.Expr, rewrites: list) -> A.Call | None:
    """The one-argument call the user wrote where ``node`` is what the parser rewrote it to,
    else None.  The parser gives a rewrite's nodes the span of its argument (softmax(x) is
    exp(x - logsumexp(x)), every node spanning x), which a call the user wrote never has: its
    span covers its name and brackets too."""
    span = node.span
    if span is None or not any(c.span == span for c in A.children(node)):
        return None
    todo, inside = [node], []
    while todo:  # the nodes that share the span: the rewrite's and its argument
        for c in A.children(todo.pop()):
            if c.span == span:
                inside.append(c)
                todo.append(c)
    for u in inside:
        for f in rewrites:
            try:
                if f.rewrite(A, (u,)) == node:
                    return A.Call(f.name, (u,), span)
            except (ValueError, TypeError, IndexError):  # another number of arguments
                continue
    return None


def _any_written(tree: A.Expr, rewrites: list) -> bool:
    """Whether :func:`_written` finds a call at some node of ``tree``.  Only a node with a child
    of its own span can be one, and that is read here, in one loop: a call of _written and of a
    generator per node was a sixth of the parse of a deep expression (issue 21)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        kids = A.children(node)
        span = node.span
        if span is not None:
            for c in kids:
                if c.span == span:
                    if _written(node, rewrites) is not None:
                        return True
                    break
        stack.extend(kids)
    return False


def as_parsed(tree: A.Expr) -> A.Expr:
    """``tree`` as the parser reads its text: each call the function table writes with other
    functions (softmax(u) is exp(u - logsumexp(u)), :func:`as_written`'s inverse) rewritten, and
    every node its own object, so that a type per node (by id) is one per place.  For a tree
    ricci made itself (a derivative's answer, to type and compile without printing and parsing
    its text again)."""
    from ..functions import lookup

    def go(node: A.Expr) -> A.Expr:
        match node:
            case A.Where(body=b, bindings=bs):
                return replace(node, body=go(b), bindings=tuple((n, go(e)) for n, e in bs))
            case A.Num(value=v) if math.copysign(1.0, v) < 0:
                return A.Neg(A.Num(-v), node.span)  # printed -2, read as the sign and 2
            case A.Num() | A.Name():
                return replace(node)
            case A.Call(func=f, args=args):
                args = tuple(go(a) for a in args)
                entry = lookup(f)
                if entry is not None and entry.rewrite is not None:
                    rewritten = entry.rewrite(A, args)
                    if rewritten is not None:
                        return rewritten
                return A.Call(f, args, node.span)
        return A.map_children(node, go)

    return go(tree)


def as_written(tree: A.Expr) -> A.Expr:
    """``tree`` with each one-argument rewrite of the parser shown as the call the user wrote,
    for display: ``ricci.parse("softmax(x)")`` prints softmax(x), while the expression (its
    ``tree``, equality, evaluation) is exp(x - logsumexp(x))."""
    from ..functions import FUNCTIONS

    rewrites = [f for f in FUNCTIONS.values() if f.rewrite is not None]
    if not rewrites or not _any_written(tree, rewrites):
        return tree

    def go(node: A.Expr) -> A.Expr:
        w = _written(node, rewrites)
        if w is not None:
            return A.Call(w.func, (go(w.args[0]),), w.span)
        if isinstance(node, A.Where):
            return replace(node, body=go(node.body), bindings=tuple((n, go(e)) for n, e in node.bindings))
        return A.map_children(node, go)

    return go(tree)
