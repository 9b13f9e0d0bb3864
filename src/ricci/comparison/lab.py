"""The question, the candidate, and the numbers: everything the slip detectors measure with.

* :class:`Question` — ricci's side: the derivative, the type the lecture's table expects, the
  question's variables and ``where`` bindings.
* :func:`assemble` / :func:`typed` — the candidate read in the same language, every variable
  declared with the kind the question inferred; names bound by the question's ``where`` may be
  used without binding them again (the question's bindings are appended).
* :class:`Lab` — random points that honour the kinds (:mod:`.points`), ricci's values there, and
  the values of any answer AST at the same points, turned to the expected layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .. import limits as _limits
from ..language import ast as A
from ..language.errors import BadValueError, RicciError, RicciSyntaxError, UnknownNameError
from ..language.expression import Expression, parse
from ..language.kinds import MATRIX, SCALAR, SYMMETRIC, VECTOR, check, free_names
from ..language.parser import parse_text
from ..printing.text import to_text
from . import rewrite as R
from .points import Needs, sample
from .shapes import candidate_type, expected_type, transposed

#: Random points per comparison, and the tolerance: |yours − right| ≤ RTOL·(|right| + max(1, max|right|)).
POINTS = 4
RTOL = 1e-7
#: Draws allowed to find points where the question's function and derivative are defined.
MAX_DRAWS = 60
SAME, TRANSPOSED = "same", "transposed"


# =================================================================================================
# the question
# =================================================================================================
class Question:
    """ricci's side: the derivative, its expected type and the question's variables."""

    def __init__(self, d):
        self.d = d
        self.expr: Expression = d.expression
        self.variables = self.expr.variables
        self.kinds = {n: v.kind for n, v in self.variables.items()}
        _, self.bindings = R.split_where(self.expr.tree)
        self.bound = {n for n, _ in self.bindings}
        #: (rows, cols) in the question's dimension names; None for a tensor
        self.expected = expected_type(d)
        self.right_text = d.text
        #: ricci's answer re-parsed (typed), None when it has no matrix form
        self.right = d.as_expression() if d.has_matrix_form else None

    @property
    def wrt_words(self) -> str:
        w = self.d.wrt
        return "[" + ", ".join(w) + "]" if isinstance(w, list) else str(w)

    def is_scalar_name(self, node) -> bool:
        return isinstance(node, A.Name) and self.kinds.get(node.name) == SCALAR

    def right_is_scalar(self, node) -> bool:
        """Whether a node of ricci's answer (or one built from it) is a scalar."""
        try:
            return self.right.type_of(node).is_scalar
        except (KeyError, AttributeError):
            return isinstance(node, A.Num) or self.is_scalar_name(node)


# =================================================================================================
# the candidate
# =================================================================================================
@dataclass
class Draft:
    """The candidate parsed but not yet type-checked."""

    answer: str  # what the student wrote
    text: str  # what is type-checked: the answer, plus the question's bindings it uses
    tree: A.Expr
    borrowed: tuple  # the question's bindings appended

    def display(self, tree: A.Expr) -> str:
        """Text of ``tree`` without the bindings borrowed from the question."""
        if self.borrowed and isinstance(tree, A.Where):
            names = {n for n, _ in self.borrowed}
            tree = R.with_bindings(tree.body, [(n, e) for n, e in tree.bindings if n not in names])
        return to_text(tree)

    def node_text(self, node) -> str:
        """What the student wrote for ``node`` (its source text), or its canonical text."""
        if node.span and self.text:
            return self.text[node.span[0]:node.span[1]].strip()
        return to_text(node)


@dataclass
class Candidate:
    """The candidate, typed with the question's kinds."""

    draft: Draft
    expr: Expression
    type_q: tuple  # (rows, cols) in the question's dimension names
    conflicts: list

    def is_scalar(self, node) -> bool:
        try:
            return self.expr.type_of(node).is_scalar
        except KeyError:
            return isinstance(node, A.Num)

    def type_of(self, node):
        try:
            return self.expr.type_of(node)
        except KeyError:
            return None


def bindings_text(bindings) -> str:
    return ", ".join(f"{n} = {to_text(e)}" for n, e in bindings)


def assemble(q: Question, answer) -> Draft:
    """Parse the answer (syntax only); refuse names the question does not have."""
    if not isinstance(answer, str):
        raise RicciSyntaxError(f"the answer must be text in the input language, not {type(answer).__name__}")
    tree = parse_text(answer)
    names = free_names(tree, set(q.variables))
    unknown = [n for n in names if n not in q.variables and n not in q.bound]
    if unknown:
        them = ", ".join(unknown)
        known = ", ".join(list(q.variables) + sorted(q.bound)) or "none"
        verb = "is not a variable" if len(unknown) == 1 else "are not variables"
        raise UnknownNameError(f"your answer uses {them}, which {verb} of {q.expr.text} "
                               f"(its names: {known})", _first_span(tree, set(unknown)), answer)
    if not any(n in q.bound for n in names):
        return Draft(answer, answer, tree, ())
    used = max(i for i, (n, _) in enumerate(q.bindings) if n in names)
    borrowed = q.bindings[: used + 1]
    body, own = R.split_where(tree)
    # appended as text when the answer has no bindings of its own, so that its spans stay valid
    text = to_text(A.Where(body, borrowed + own)) if own else f"{answer} where {bindings_text(borrowed)}"
    return Draft(answer, text, parse_text(text), borrowed)


def kinds_for(q: Question, tree: A.Expr) -> dict:
    """The question's kinds for the variables ``tree`` uses."""
    return {n: q.kinds[n] for n in free_names(tree, set(q.variables)) if n in q.kinds}


def typed(q: Question, draft: Draft) -> Candidate:
    """Type-check the draft with the question's kinds (ShapeError/KindError when it does not fit)."""
    expr = parse(draft.text, kinds_for(q, draft.tree))
    type_q, conflicts = candidate_type(q.variables, expr)
    return Candidate(draft, expr, type_q, conflicts)


def _first_span(tree, names: set):
    for node in A.walk(tree):
        if isinstance(node, A.Name) and node.name in names:
            return node.span
    return None


# =================================================================================================
# numbers
# =================================================================================================
def close(a, b, rtol: float = RTOL) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    return bool(np.all(np.abs(a - b) <= rtol * (np.abs(b) + scale)))


def all_close(xs, ys) -> bool:
    return xs is not None and len(xs) == len(ys) and all(close(x, y) for x, y in zip(xs, ys))


def max_errors(xs, ys) -> tuple:
    return tuple(float(np.max(np.abs(np.asarray(x) - np.asarray(y)), initial=0.0)) for x, y in zip(xs, ys))


def fit_factor(cs, rs) -> float | None:
    """The constant c with cs ≈ c·rs at every point, if there is one (and rs is not zero)."""
    num = sum(float(np.sum(np.asarray(c) * np.asarray(r))) for c, r in zip(cs, rs))
    den = sum(float(np.sum(np.asarray(r) ** 2)) for r in rs)
    if den < 1e-20:
        return None
    c = num / den
    if all(close(x, c * np.asarray(r)) for x, r in zip(cs, rs)):
        return c
    return None


def nice_number(c: float) -> str:
    """2 → "2", 0.5 → "1/2", -1.5 → "-3/2", 0.3183 → "0.3183"."""
    fr = Fraction(c).limit_denominator(12)
    if abs(float(fr) - c) <= 1e-8 * max(1.0, abs(c)):
        return str(fr.numerator) if fr.denominator == 1 else f"{fr.numerator}/{fr.denominator}"
    return f"{c:.4g}"


class Lab:
    """Random points for a question, ricci's values there, and the values of any answer."""

    def __init__(self, q: Question, needs: Needs, n_points: int, seed: int):
        self.q = q
        rng = np.random.default_rng(seed)
        self.points: list[dict] = []
        self.right: list[np.ndarray] = []
        everything = Needs(frozenset(q.variables), needs.invertible)
        draws = 0
        while len(self.points) < n_points and draws < MAX_DRAWS:
            _limits.tick()
            # half-way through, give up on signs: every entry positive
            values = sample(q.variables, needs if draws < MAX_DRAWS // 2 else everything, rng,
                            shift=len(self.points))
            draws += 1
            r = self._right_at(values)
            if r is not None:
                self.points.append(values)
                self.right.append(r)
        if not self.points:
            raise BadValueError(f"found no point where {q.expr.text} and its derivative are defined")
        self._parsed: dict[str, Expression | RicciError] = {}

    def _right_at(self, values):
        try:
            f = np.asarray(self.q.expr.evaluate(values), dtype=float)
            r = np.asarray(self.q.d.evaluate(values), dtype=float)
        except RicciError:
            return None
        if not (np.all(np.isfinite(f)) and np.all(np.isfinite(r))):
            return None
        return r

    def right_at(self, points) -> list:
        return [np.asarray(self.q.d.evaluate(p), dtype=float) for p in points]

    # -- evaluating answers ------------------------------------------------------------------------
    def parse(self, tree: A.Expr) -> Expression:
        """``tree`` type-checked with the question's kinds (cached by its text)."""
        text = to_text(tree)
        got = self._parsed.get(text)
        if got is None:
            try:  # type-check the tree itself: the text is only its name (no second lark parse)
                checked = check(tree, text, kinds_for(self.q, tree))
                got = Expression(text, checked.tree, checked, tree)
            except RicciError as e:
                got = e
            self._parsed[text] = got
        if isinstance(got, RicciError):
            raise got
        return got

    def values(self, tree: A.Expr, orient: str = SAME, points=None, want: tuple | None = None) -> list:
        """The values of ``tree`` at the points, turned to the expected layout; RicciError if it fails.

        ``want`` is the type that fixes a size the answer leaves open (default: the expected type,
        transposed for ``orient`` "transposed").
        """
        points = self.points if points is None else points
        expr = self.parse(tree)
        try:
            out = [np.asarray(expr.evaluate({n: p[n] for n in expr.variables}), dtype=float) for p in points]
        except BadValueError as e:
            if "not fixed" not in e.message:
                raise
            if want is None:
                want = self.q.expected if orient == SAME else transposed(self.q.expected)
            expr = self.parse(self._pinned(tree, want))
            out = [np.asarray(expr.evaluate({n: p[n] for n in expr.variables}), dtype=float) for p in points]
        if orient == TRANSPOSED:
            out = [a.T for a in out]
        return out

    def try_values(self, tree, orient=SAME, points=None, want=None):
        try:
            return self.values(tree, orient, points, want)
        except RicciError:
            return None

    def _pinned(self, tree: A.Expr, want: tuple | None) -> A.Expr:
        """``tree + 0*(something of type want)``: fixes the size that ``eye`` leaves open."""
        if want is None or want == (1, 1):
            raise BadValueError("the answer's size is not fixed by any variable")
        rows, cols = want
        if rows == 1:
            pin = A.Transpose(self._column(cols))
        elif cols == 1:
            pin = self._column(rows)
        else:
            pin = A.BinOp("*", self._column(rows), A.Transpose(self._column(cols)))
        body, bindings = R.split_where(tree)
        return R.with_bindings(A.BinOp("+", body, A.BinOp("*", A.Num(0.0), pin)), bindings)

    def _column(self, dim) -> A.Expr:
        """An expression whose value is a column of length ``dim``."""
        if isinstance(dim, int):
            return A.Literal(tuple((A.Num(0.0),) for _ in range(dim)))
        for n, v in self.q.variables.items():
            if v.kind == VECTOR and v.dims[0] == dim:
                return A.Name(n)
        ones = A.Call("vector", (A.Num(1.0),))
        for n, v in self.q.variables.items():
            if v.kind in (MATRIX, SYMMETRIC):
                if v.dims[0] == dim:
                    return A.BinOp("*", A.Name(n), ones)
                if v.dims[1] == dim:
                    return A.BinOp("*", A.Transpose(A.Name(n)), ones)
        raise BadValueError(f"no variable fixes the size {dim}")
