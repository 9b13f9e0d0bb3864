# Over 600 lines: the detectors are one Judge's methods, tried in order on shared numerical state.
"""The family of slips: transformed answers tested against ricci's values, and their sentences.

Each detector is one method of :class:`Judge` that returns a :class:`Finding` or None.  ``equal``
and ``other_layout`` run first; then every other detector in the lecture's orientation, then
every one again with the candidate transposed (for a square result both are possible), and the
first that fits names the verdict.  Every decision is numerical (:mod:`.lab`): a transformation
of the candidate or of ricci's answer is evaluated at the same random points and compared entry
by entry; no text is compared.

| detector | the candidate equals, at every point, … |
|---|---|
| ``equal`` | ricci's answer |
| ``other_layout`` | the transpose of ricci's answer |
| ``factor`` | c × ricci's answer for a constant c ≠ 1 (c = −1: a sign slip) |
| ``scalar_factor`` | ricci's answer without one of its scalar factors (``det(X)``, ``cos(t)``), or with one too many |
| ``missing_terms`` | ricci's answer less one to three of its terms, or with their signs flipped |
| ``one_transpose`` | ricci's answer, once one factor of the candidate is transposed (or un-transposed) |
| ``assumed_symmetric`` | ricci's answer at values where a general square matrix is symmetric |
| ``symmetric_convention`` | G + G' − diag(G) or (G + G')/2, G ricci's answer (wrt declared symmetric) |

A candidate of the wrong shape gets :func:`wrong_shape` (which may find it one transpose short of
right, another order's derivative, or the diagonal of a diagonal Jacobian); one that does not
type-check gets :func:`repair` (one transpose that makes it fit and right).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .. import limits as _limits
from ..hints import Hint, option, say
from ..language import ast as A
from ..language.errors import RicciError
from ..language.kinds import MATRIX, SCALAR, SYMMETRIC, VECTOR
from ..printing.text import to_text
from . import rewrite as R
from .lab import (
    SAME, TRANSPOSED, Candidate, Draft, Lab, Question, all_close, bindings_text, fit_factor,
    max_errors, nice_number,
)
from .points import symmetrised
from .shapes import Free, candidate_type, expected_type, shape_words, table_reason, transposed, unify, with_article
from .verdict import (
    ASSUMED_SYMMETRIC, DIFFERENT, EQUAL, FACTOR, MISSING_TERM, OTHER_LAYOUT, SIGN, SLIP,
    SYMMETRIC_CONVENTION, TRANSPOSE, WRONG_SHAPE,
)

#: At most this many factors are tried transposed, and this many scalar factors of ricci's answer
#: tried as a missing factor, so that a long answer is judged in well under a second.
MAX_TARGETS = 40
MAX_SCALARS = 40
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


@dataclass
class Finding:
    verdict: str
    kind: str | None
    message: str
    errors: tuple = ()
    fix: str | None = None
    witness: dict | None = None


class Judge:
    """Runs the family of transformed answers against ricci's values."""

    def __init__(self, q: Question, cand: Candidate, lab: Lab, orients: list[str]):
        self.q, self.cand, self.lab, self.orients = q, cand, lab, orients
        self.tried: list[str] = []
        self.mine = {o: lab.try_values(cand.expr.tree, o) for o in orients}

    @property
    def right(self) -> str:
        return self.q.right_text

    def run(self) -> Finding:
        for o in self.orients:
            if self.mine[o] is None:
                return self.undefined(o)
        found = self.equal() or self.other_layout()
        if found is not None:
            return found
        # every slip in the lecture's orientation first, then in the transposed one
        for o in self.orients:
            for check in (self.factor, self.scalar_factor, self.missing_terms, self.one_transpose,
                          self.assumed_symmetric, self.symmetric_convention):
                _limits.tick()
                found = check(o)
                if found is not None:
                    return found
        return self.different()

    def layout_note(self, orient: str) -> str:
        """A sentence on the layout, when the candidate's orientation is the other one."""
        if orient != TRANSPOSED:
            return ""
        if self.q.expected[0] == self.q.expected[1]:
            return f" Also, your answer is in the other layout, the transpose of the lecture's. {layout_words(self.q)}"
        return (f" Also, your answer is {with_article(shape_words(self.cand.type_q))}, where the lecture's "
                f"convention gives {with_article(shape_words(self.q.expected))}. {layout_words(self.q)}")

    def oriented(self, tree: A.Expr, orient: str) -> str:
        """A corrected answer as text, turned to the lecture's layout."""
        return self.cand.draft.display(tree) if orient == SAME else transposed_text(self.cand, tree)

    # -- the family --------------------------------------------------------------------------------
    def equal(self):
        if SAME not in self.orients:
            return None
        self.tried.append("as written")
        mine = self.mine[SAME]
        if all_close(mine, self.lab.right):
            return Finding(EQUAL, None, "", max_errors(mine, self.lab.right))
        return None

    def other_layout(self):
        if TRANSPOSED not in self.orients:
            return None
        self.tried.append("transposed (the other layout)")
        mine = self.mine[TRANSPOSED]
        if not all_close(mine, self.lab.right):
            return None
        fix = None
        if self.q.expected[0] == self.q.expected[1]:  # square: name the factor, if one will do
            leaf = self.one_transpose(SAME, record=False)
            fix = leaf.fix if leaf is not None else None
        fix = fix or transposed_text(self.cand, self.cand.expr.tree)
        msg = (f"Your answer is the transpose of ricci's {self.right}: right, but in the other layout. "
               f"{layout_words(self.q)} In the lecture's layout your answer reads {fix}.")
        return Finding(OTHER_LAYOUT, None, msg, max_errors(mine, self.lab.right), fix)

    def factor(self, o):
        self.tried.append(f"a constant factor ({o})")
        mine = self.mine[o]
        c = fit_factor(mine, self.lab.right)
        if c is None or abs(c - 1) < 1e-9 or abs(c) < 1e-12:
            return None
        errors = max_errors(mine, [c * r for r in self.lab.right])
        kind = SIGN if abs(c + 1) < 1e-9 else FACTOR
        return Finding(SLIP, kind, factor_words(c, self.q) + self.layout_note(o), errors)

    def _scalar_factors(self):
        """Scalar subexpressions of ricci's answer (not constants) and their values at the points."""
        if self.q.right is None:
            return []
        if not hasattr(self, "_scalars"):
            body, bindings = R.split_where(self.q.right.tree)
            seen: set[str] = set()
            self._scalars = []
            for node in A.walk(body):
                if node is body or not self.q.right_is_scalar(node):
                    continue
                if not any(isinstance(n, A.Name) for n in A.walk(node)):
                    continue  # a constant: the constant-factor check has tried it
                text = to_text(node)
                if text in seen:
                    continue
                seen.add(text)
                s = self.lab.try_values(R.with_bindings(node, bindings))
                if s is not None and all(abs(float(x)) > 1e-9 for x in s):
                    self._scalars.append((node, text, s))
                if len(self._scalars) >= MAX_SCALARS:
                    break
        return self._scalars

    def scalar_factor(self, o):
        """A scalar factor of ricci's answer missing from the candidate, or one too many."""
        mine = self.mine[o]
        for node, text, s in self._scalar_factors():
            self.tried.append(f"times or divided by {text} ({o})")
            times = [m * x for m, x in zip(mine, s)]
            if all_close(times, self.lab.right):
                body_c, binds_c = R.split_where(self.cand.expr.tree)
                fix = self.oriented(R.with_bindings(R.times(node, body_c), binds_c), o)
                msg = (f"Your answer is missing the factor {text}: times {text} it is right, {fix}. "
                       f"A factor from the chain rule (the derivative of an inner function) or of a "
                       f"determinant is easy to forget." + self.layout_note(o))
                return Finding(SLIP, FACTOR, msg, max_errors(times, self.lab.right), fix)
            over = [r * x for r, x in zip(self.lab.right, s)]
            if all_close(mine, over):
                msg = (f"Your answer has a factor {text} too many: divided by it, it is the right "
                       f"answer {self.right}." + self.layout_note(o))
                return Finding(SLIP, FACTOR, msg, max_errors(mine, over))
        return None

    def _term_sets(self):
        """ricci's answer split into terms at depths 1, 2, 3: (terms, values at the points, bindings)."""
        if self.q.right is None:
            return []
        if not hasattr(self, "_terms"):
            body, bindings = R.split_where(self.q.right.tree)
            self._terms = []
            seen = set()
            for depth in (1, 2, 3):
                terms = R.expand(body, depth, self.q.right_is_scalar)
                if len(terms) < 2 or len(terms) > 10 or tuple(terms) in seen:
                    continue
                seen.add(tuple(terms))
                values = [self.lab.try_values(R.with_bindings(R.term_ast(c, t), bindings)) for c, t in terms]
                if any(v is None for v in values):
                    continue
                total = [sum(v[i] for v in values) for i in range(len(self.lab.points))]
                if all_close(total, self.lab.right):  # else the expansion is not to be trusted
                    self._terms.append((terms, values, bindings))
        return self._terms

    def missing_terms(self, o):
        """ricci's answer with one to three of its terms left out (or with their signs flipped)."""
        mine = self.mine[o]
        n = len(self.lab.points)
        for terms, values, bindings in self._term_sets():
            self.tried.append(f"ricci's answer less some of its {len(terms)} terms ({o})")
            for k in range(1, min(3, len(terms) - 1) + 1):
                for subset in itertools.combinations(range(len(terms)), k):
                    part = [sum(values[j][i] for j in subset) for i in range(n)]
                    kept = [self.lab.right[i] - part[i] for i in range(n)]
                    if all_close(mine, kept):
                        msg = self.missing_words(terms, subset, bindings) + self.layout_note(o)
                        return Finding(SLIP, MISSING_TERM, msg, max_errors(mine, kept))
                    flipped = [self.lab.right[i] - 2 * part[i] for i in range(n)]
                    if all_close(mine, flipped):
                        msg = self.flipped_words(terms, subset, bindings) + self.layout_note(o)
                        return Finding(SLIP, SIGN, msg, max_errors(mine, flipped))
        return None

    def _product_rule_words(self) -> str:
        wrt = self.q.d.wrt
        names = set(wrt) if isinstance(wrt, list) else {wrt}
        count = sum(1 for n in A.walk(self.q.expr.tree) if isinstance(n, A.Name) and n.name in names)
        if count < 2:
            return ""
        return (f" {self.q.wrt_words} appears {count} times in {self.q.expr.text}, and the product rule "
                f"(with the chain rule) gives one term for each appearance.")

    def missing_words(self, terms, subset, bindings) -> str:
        gone = [terms[i] for i in subset]
        kept = [t for i, t in enumerate(terms) if i not in subset]
        what = "a term" if len(gone) == 1 else f"{len(gone)} terms"
        where = f" (where {bindings_text(bindings)})" if bindings else ""
        return (f"Your answer is missing {what} of the derivative: {_terms_text(gone)}. Written out term by "
                f"term, the right answer is {_terms_text(terms)}{where}; yours is only {_terms_text(kept)}."
                + self._product_rule_words())

    def flipped_words(self, terms, subset, bindings) -> str:
        wrong = [terms[i] for i in subset]
        what = "one term has" if len(wrong) == 1 else f"{len(wrong)} terms have"
        where = f" (where {bindings_text(bindings)})" if bindings else ""
        return (f"In your answer {what} the wrong sign: {_terms_text(wrong)}. Written out term by term, "
                f"the right answer is {_terms_text(terms)}{where}. Check the derivatives of cos (−sin), "
                f"of a difference, and of an inverse (d inv(X) = −inv(X) dX inv(X)).")

    def one_transpose(self, o, record: bool = True):
        tree = self.cand.expr.tree
        skip = [e for _, e in self.cand.draft.borrowed]
        targets = R.transpose_targets(tree, self.cand.type_of, self._symmetric, skip)
        want = self.q.expected if o == SAME else transposed(self.q.expected)
        found = _first_transpose_fix(self.q, self.lab, self.cand.draft, tree, targets, want, o,
                                     self.tried if record else None)
        if found is None:
            return None
        target, new, errors = found
        fix = self.oriented(new, o)
        msg = transpose_words(self.cand.draft, tree, target, self.cand.draft.display(new))
        if o == TRANSPOSED:
            msg += f" In the lecture's layout that reads {fix}."
        return Finding(SLIP, TRANSPOSE, msg + self.layout_note(o), errors, fix)

    def _symmetric(self, name: str) -> bool:
        return self.q.kinds.get(name) == SYMMETRIC

    def assumed_symmetric(self, o):
        general = [n for n, v in self.q.variables.items()
                   if v.kind == MATRIX and len(v.dims) == 2 and v.dims[0] == v.dims[1]]
        groups = [[n] for n in general] + ([general] if len(general) > 1 else [])
        for names in groups:
            pts = [symmetrised(p, names) for p in self.lab.points]
            try:
                right = self.lab.right_at(pts)
            except RicciError:
                continue
            self.tried.append(f"right when {', '.join(names)} symmetric ({o})")
            mine = self.lab.try_values(self.cand.expr.tree, o, pts)
            if all_close(mine, right):
                msg = say(symmetric_words(names, self.q), self.layout_note(o))
                return Finding(SLIP, ASSUMED_SYMMETRIC, msg, max_errors(mine, right))
        return None

    def symmetric_convention(self, o):
        wrt = self.q.d.wrt
        if isinstance(wrt, list) or self.q.kinds.get(wrt) != SYMMETRIC or self.q.d.order != 1:
            return None
        if o != SAME or 1 in self.q.expected:
            return None
        mine = self.mine[SAME]
        conventions = [
            ("G + G' - diag(diag(G))", lambda g: g + g.T - np.diag(np.diag(g)),
             "the convention for a symmetric matrix that counts X_ij and X_ji as one variable "
             "(the Matrix Cookbook's rule for symmetric matrices)"),
            ("(G + G')/2", lambda g: (g + g.T) / 2, "the symmetrised gradient"),
        ]
        for formula, f, words in conventions:
            self.tried.append(f"symmetric-matrix convention {formula}")
            target = [f(np.asarray(g)) for g in self.lab.right]
            if all_close(mine, target):
                msg = (f"Your answer follows {words}: it equals {formula} with G = {self.right}, the plain "
                       f"partial derivative. ricci, like the lecture, gives G itself for a symmetric {wrt} "
                       f"(each entry ∂f/∂{wrt}_ij taken as if the entries were independent). Both are right "
                       f"within their convention; say which one you use.")
                return Finding(SLIP, SYMMETRIC_CONVENTION, msg, max_errors(mine, target))
        return None

    def undefined(self, orient) -> Finding:
        try:
            self.lab.values(self.cand.expr.tree, orient)
            why = "it could not be evaluated"  # pragma: no cover - try_values failed, so values fails
        except RicciError as e:
            why = e.message
        msg = (f"Your answer cannot be evaluated at a random point where the derivative is defined: "
               f"{why}. The right answer is {self.right}.")
        return Finding(DIFFERENT, None, msg)

    def different(self) -> Finding:
        o = self.orients[0]
        mine, rights = self.mine[o], self.lab.right
        rel = []
        for m, r in zip(mine, rights):
            scale = max(1.0, float(np.max(np.abs(r)))) if np.size(r) else 1.0
            rel.append(float(np.max(np.abs(m - r))) / scale)
        k = int(np.argmax(rel))
        m, r = np.atleast_1d(mine[k]), np.atleast_1d(rights[k])
        idx = np.unravel_index(int(np.argmax(np.abs(m - r))), m.shape)
        entry = "" if np.ndim(rights[k]) == 0 else f" at entry ({', '.join(str(i + 1) for i in idx)})"
        diff = float(abs(m[idx] - r[idx]))
        sizes = _sizes_words(self.q.variables, self.lab.points[k])
        msg = (f"Your answer is not the derivative, and none of the usual slips explains the difference. "
               f"At a random point{sizes} they differ by up to {diff:.3g}{entry}: yours gives "
               f"{float(m[idx]):.4g}, the right answer {float(r[idx]):.4g} ({rel[k]:.0%} of the derivative's "
               f"largest entry). The right answer is {self.right}." + self.layout_note(o))
        witness = {"point": self.lab.points[k], "yours": mine[k], "right": rights[k], "difference": diff,
                   "relative": rel[k], "entry": [int(i) for i in idx] if np.ndim(rights[k]) else []}
        return Finding(DIFFERENT, None, msg, max_errors(mine, rights), witness=witness)


# =================================================================================================
# wrong shapes and answers that do not type-check
# =================================================================================================
def wrong_shape(q: Question, cand: Candidate, lab: Lab) -> Finding:
    """The candidate's shape is neither the expected one nor its transpose."""
    yours = shape_words(cand.type_q)
    reason = table_reason(q.d)
    if q.expected is None:
        dims = "×".join(str(s) for s in q.d.shape)
        msg = (f"Your answer is {with_article(yours)}, but this derivative is {with_article(dims + ' tensor')}: "
               f"{reason}. ricci writes it in index notation: {q.right_text}.")
        return Finding(SLIP, WRONG_SHAPE, msg)
    if cand.type_q == (1, 1) and not cand.expr.variables:
        mine = lab.try_values(cand.expr.tree)
        if mine is not None and all(float(m) == 0 for m in mine) and all(not np.any(r) for r in lab.right):
            msg = (f"Right: the derivative is zero. ricci writes it as {q.right_text}, "
                   f"{with_article(shape_words(q.expected))}; the scalar 0 stands for it.")
            return Finding(EQUAL, None, msg)
    if cand.conflicts:
        c = cand.conflicts[0]
        head = (f"Your answer only fits together if {c.first} = {c.second}, but in {q.expr.text} they are "
                f"independent sizes ({_dim_owner(q, c.first)}, {_dim_owner(q, c.second)}).")
    else:
        head = (f"Your answer is {with_article(yours)}, but the derivative is "
                f"{with_article(shape_words(q.expected))}.")
    # one transpose may be all that is missing
    targets = R.transpose_targets(cand.expr.tree, cand.type_of, lambda n: q.kinds.get(n) == SYMMETRIC,
                                  [e for _, e in cand.draft.borrowed])
    found = _first_transpose_fix(q, lab, cand.draft, cand.expr.tree, targets, q.expected, SAME, None)
    if found is not None:
        target, new, errors = found
        fix = cand.draft.display(new)
        msg = f"{head} {transpose_words(cand.draft, cand.expr.tree, target, fix)}"
        return Finding(SLIP, TRANSPOSE, msg, errors, fix)
    msg = f"{head} Here {reason}." + ("" if cand.conflicts else _which_derivative(q, cand, lab))
    return Finding(SLIP, WRONG_SHAPE, msg + f" The right answer is {q.right_text}.")


class _Unknown:
    """The type of a node in an answer that did not type-check: assume it is not a scalar."""

    is_scalar = False


class _Scalar:
    is_scalar = True


def repair(q: Question, draft: Draft, error: RicciError, lab: Lab) -> Finding | None:
    """An answer that does not type-check, made right by transposing one factor (or None)."""
    if q.expected is None:
        return None

    def type_of(node):
        # without a type check: a node is a scalar when every name in it is a scalar
        leaves = [n for n in A.walk(node) if isinstance(n, (A.Name, A.Literal, A.Call))]
        scalar = all(isinstance(n, A.Name) and q.kinds.get(n.name, SCALAR) == SCALAR for n in leaves
                     if not isinstance(n, A.Call) or n.func in ("vector", "matrix"))
        return _Scalar if scalar else _Unknown

    targets = R.transpose_targets(draft.tree, type_of, lambda n: q.kinds.get(n) == SYMMETRIC,
                                  [e for _, e in draft.borrowed])
    for o, want in ((SAME, q.expected), (TRANSPOSED, transposed(q.expected))):
        found = _first_transpose_fix(q, lab, draft, draft.tree, targets, want, o, None)
        if found is not None:
            target, new, errors = found
            fix = draft.display(new)
            msg = (f"As written, your answer does not fit together: {error.message}. "
                   + transpose_words(draft, draft.tree, target, fix))
            if o == TRANSPOSED:
                msg += (f" That is the transpose of ricci's {q.right_text}, the other layout. "
                        + layout_words(q))
                fix = _transposed_draft(draft, new, q)
            return Finding(SLIP, TRANSPOSE, msg, errors, fix)
    return None


def _first_transpose_fix(q: Question, lab: Lab, draft: Draft, tree, targets, want, orient, tried):
    """The first target whose transposition makes ``tree`` ricci's answer: (target, new tree, errors)."""
    # fewer for a long answer: every try type-checks the whole answer again
    budget = max(8, min(MAX_TARGETS, 20_000 // max(1, len(draft.text))))
    for target in targets[:budget]:
        if tried is not None:
            tried.append(f"{draft.node_text(target)} transposed ({orient})")
        new = R.transposed_at(tree, target)
        try:
            parsed = lab.parse(new)
        except RicciError:
            continue
        t, conflicts = candidate_type(q.variables, parsed)
        if conflicts or not unify(t, want):
            continue
        mine = lab.try_values(new, orient)
        if all_close(mine, lab.right):
            return target, new, max_errors(mine, lab.right)
    return None


def _which_derivative(q: Question, cand: Candidate, lab: Lab) -> str:
    """A wrong-shaped answer may be the derivative of another order, or the diagonal of this one."""
    from ..derivation import derivative

    exp = q.expected
    rows, cols = cand.type_q
    if exp[0] == exp[1] and exp[0] != 1 and (rows == 1) != (cols == 1):
        n = cols if rows == 1 else rows
        if n == exp[0] or isinstance(n, Free):
            mine = lab.try_values(cand.expr.tree, want=cand.type_q)
            if mine is not None and all(np.allclose(r, np.diag(np.diag(r)), atol=1e-12) for r in lab.right) \
                    and all_close(mine, [np.diag(r) for r in lab.right]):
                return (f" Your answer is its diagonal: the off-diagonal entries are zero, and the derivative "
                        f"holds them too, as the matrix {q.right_text}.")
    for other in (q.d.order + 1, q.d.order - 1):
        if other < 1:
            continue
        try:
            od = derivative(q.expr.source, q.d.wrt, other, q.kinds)
        except RicciError:
            continue
        ot = expected_type(od)
        if ot is None:
            continue
        for orient, want in ((SAME, ot), (TRANSPOSED, transposed(ot))):
            if not unify(cand.type_q, want):
                continue
            mine = lab.try_values(cand.expr.tree, orient, want=want)
            rights = [np.asarray(od.evaluate(p), dtype=float) for p in lab.points]
            if all_close(mine, rights):
                name = {1: "first derivative (the gradient)", 2: "second derivative (the Hessian)"}.get(
                    other, f"derivative of order {other}")
                return f" Your answer is the {name}, {od.text}, not the derivative of order {q.d.order}."
    return ""


# =================================================================================================
# sentences
# =================================================================================================
def layout_words(q: Question) -> str:
    """Why the lecture's layout is what it is, for the case at hand."""
    d, exp, wrt = q.d, q.expected, q.wrt_words
    f_scalar = d.expression.type.is_scalar
    kind = None if isinstance(d.wrt, list) else q.kinds[d.wrt]
    if f_scalar and exp[0] == 1 and isinstance(d.wrt, list):
        return (f"The lecture collects the partial derivatives by the scalars {', '.join(d.wrt)} in a 1×{exp[1]} "
                f"row (numerator layout), so that it multiplies the column of their changes in the chain rule; "
                f"a column of partial derivatives is the denominator layout.")
    if f_scalar and exp[0] == 1:
        n = exp[1]
        return (f"The lecture uses numerator layout: the derivative of a scalar by the column vector {wrt} is "
                f"the 1×{n} row of partial derivatives, so that df = (∂f/∂{wrt}) d{wrt} and the chain rule "
                f"multiplies left to right. A column gradient ∇f = (∂f/∂{wrt})' is denominator layout, common "
                f"in machine-learning texts.")
    if exp[1] == 1:
        return ("For f: R → R^E the lecture's derivative is an E×1 column (numerator layout); "
                "a row is the denominator-layout version.")
    if f_scalar and kind in (MATRIX, SYMMETRIC):
        square = (f" Because {wrt} is square, both have the same shape, so only the numbers tell them apart."
                  if exp[0] == exp[1] else "")
        return (f"The lecture writes ∂f/∂{wrt} in the shape of {wrt} ({exp[0]}×{exp[1]}), with entry (i, j) = "
                f"∂f/∂{wrt}_ij; the transpose, with ∂f/∂{wrt}_ji at (i, j), is the numerator layout some texts "
                f"use for derivatives by a matrix.{square}")
    if len(d.expression.shape) == 1 and kind == VECTOR:
        return (f"The lecture's Jacobian is {exp[0]}×{exp[1]}, J(i, j) = ∂f_i/∂{wrt}_j, one row per entry of f "
                f"(numerator layout); its transpose is the denominator layout.")
    return "The lecture uses numerator layout (ARCHITECTURE §1); the transpose is the denominator layout."


def factor_words(c: float, q: Question) -> str:
    s = nice_number(c)
    right = q.right_text
    if abs(c + 1) < 1e-9:
        hint = ""
        if any(isinstance(n, A.Neg) or (isinstance(n, A.BinOp) and n.op == "-") for n in A.walk(q.expr.tree)):
            hint = (" A minus sign from an inner derivative is easy to lose: the derivative of a difference "
                    "such as y - A*x by x is -A.")
        return f"Your answer has the wrong sign: it is -1 times the right one, {right}.{hint}"
    if abs(c - 0.5) < 1e-9:
        return (f"Your answer is half the right one, {right}: a factor 2 is missing. It usually comes from a "
                f"square or from a variable that appears twice: d(u'u) = 2u' du, d(x'Bx) = x'(B + B') dx.")
    if abs(c - 2) < 1e-9:
        return f"Your answer is twice the right one, {right}: it has a factor 2 too many."
    if abs(c + 0.5) < 1e-9 or abs(c + 2) < 1e-9:
        word = "half" if abs(c + 0.5) < 1e-9 else "twice"
        return (f"Your answer is minus {word} the right one, {right}: both the sign and a factor 2 are off "
                f"(it is {s} times the right one).")
    return (f"Your answer is {s} times the right one, {right}: a constant factor is off (a factor from an "
            f"inner derivative, such as d(c*t)/dt = c, is easy to lose).")


def symmetric_words(names, q: Question) -> str:
    them = " and ".join(names)
    be = "is" if len(names) == 1 else "are"
    how = "declared" if {q.variables[n].source for n in names} == {"declared"} else "taken"
    declare = [option(f"declare {n} symmetric" if len(names) > 1 else "declare it",
                      Hint("kinds", n, "symmetric matrix"), f"declare {n} a symmetric matrix") for n in names]
    joined = [p for k, o in enumerate(declare) for p in ((" and ", o) if k else (o,))]
    return say(f"Your answer is right only when {them} {be} symmetric: at values with {names[0]}' = {names[0]} "
               f"it agrees with ricci's, but {them} {be} {how} as a general matrix here, and then the derivative "
               f"is {q.right_text}. If {them} {be} symmetric in your problem, ", *joined, " and ricci will agree.")


def transpose_words(draft: Draft, tree, target, fix: str) -> str:
    text = draft.node_text(target)
    nth = _ordinal(tree, target)
    which = f"the {nth} {text}" if nth else text
    if isinstance(target, A.Transpose):
        return (f"Your answer has one transpose too many: {which} should not be transposed. Without it your "
                f"answer is right: {fix}.")
    return (f"Your answer is missing a transpose on one factor: {which} should be {_quoted(text)}. With it "
            f"your answer is right: {fix}.")


def transposed_text(cand: Candidate, tree: A.Expr) -> str:
    """``tree`` (the candidate or a corrected one) transposed: pushed through its products, with
    its number in front."""
    return _transposed(cand.draft, tree, cand.is_scalar)


def _transposed_draft(draft: Draft, tree: A.Expr, q: Question) -> str:
    return _transposed(draft, tree, lambda n: isinstance(n, A.Num) or q.is_scalar_name(n))


def _transposed(draft: Draft, tree: A.Expr, is_scalar) -> str:
    body, bindings = R.split_where(tree)
    t = R.transpose(body, is_scalar)
    if any(isinstance(n, A.Num) for n in A.walk(t)):
        t = R.sum_ast(R.expand(t, 0, is_scalar))
    return draft.display(R.with_bindings(t, bindings))


def _terms_text(terms) -> str:
    return to_text(R.sum_ast(terms))


def _ordinal(tree, target) -> str:
    same = [n for n in A.walk(tree) if type(n) is type(target) and n == target]
    if len(same) < 2:
        return ""
    i = next(i for i, n in enumerate(same) if n is target)
    return _ORDINALS[i] if i < len(_ORDINALS) else f"{i + 1}th"


def _quoted(text: str) -> str:
    return f"{text}'" if text.replace("_", "").isalnum() else f"({text})'"


def _dim_owner(q: Question, dim) -> str:
    """"m is the length of y", "n is the number of columns of Phi"."""
    for n, v in q.variables.items():
        if v.kind == VECTOR and v.dims[0] == dim:
            return f"{dim} is the length of {n}"
    for n, v in q.variables.items():
        if len(v.dims) == 2 and dim in v.dims:
            return f"{dim} is the number of {'rows' if v.dims[0] == dim else 'columns'} of {n}"
    return f"{dim} is a size of its own"


def _sizes_words(variables, point) -> str:
    sizes: dict = {}
    for n, v in variables.items():
        for d, s in zip(v.dims, np.shape(point[n])):
            if not isinstance(d, int):
                sizes[d] = s
    return f" ({', '.join(f'{d} = {s}' for d, s in sizes.items())})" if sizes else ""

