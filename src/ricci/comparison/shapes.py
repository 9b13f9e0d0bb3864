"""Shapes of a question's derivative and of a candidate answer, in the question's dimension names.

The candidate is parsed on its own, so its dimensions get their own names (``a*b'`` alone reads
``a (n), b (k)``).  :func:`candidate_type` renames them through the variables the two share
(``a`` is ``m`` in ``a'*X*b``), so both types speak of the same ``m`` and ``n``.  A dimension the
candidate does not tie to any variable (the size of ``eye``) stays *free* and may stand for any
size; :func:`unify` binds it.

The words for the expected shape follow the lecture's table (ARCHITECTURE §1, and "To note" in
the lecture: R → R gives a scalar, R^D → R a 1×D row, R → R^E an E×1 column, R^D → R^E an E×D
matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..language.kinds import SCALAR, SYMMETRIC, VECTOR


@dataclass(frozen=True)
class Free:
    """A candidate dimension that no variable fixes (the size of ``eye``, ``vector(1)``)."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Conflict:
    """The candidate ties two dimensions that the question keeps apart."""

    first: object
    second: object
    names: tuple[str, ...]  # variables that carry them
    span: tuple[int, int] | None  # the operation in the candidate that ties them


def expected_type(d) -> tuple | None:
    """(rows, cols) of the derivative in the question's dimension names; None for a tensor."""
    shape = tuple(d.shape)
    if len(shape) == 0:
        return (1, 1)
    if len(shape) == 2:
        return shape
    if len(shape) > 2:
        return None
    (n,) = shape
    if d.has_matrix_form:
        t = d.as_expression().type
        if t.is_row:
            return (1, n)
        if t.is_col:
            return (n, 1)
    return (1, n) if d.expression.type.is_scalar else (n, 1)


def candidate_type(question_vars: dict, cand) -> tuple[tuple, list[Conflict]]:
    """The candidate's (rows, cols) in the question's dimension names, and any conflicts."""
    mapping: dict = {}
    carriers: dict = {}
    conflicts: list[Conflict] = []
    reasons = cand._checked.reasons
    for name, var in cand.variables.items():
        qvar = question_vars[name]
        for cd, qd in zip(var.dims, qvar.dims):
            if isinstance(cd, int):
                continue
            if cd in mapping and mapping[cd] != qd:
                if not any(c.first == mapping[cd] and c.second == qd for c in conflicts):
                    conflicts.append(Conflict(mapping[cd], qd, (carriers[cd], name), reasons.get(cd)))
                continue
            mapping.setdefault(cd, qd)
            carriers.setdefault(cd, name)

    def rename(d):
        if d == 1 or isinstance(d, int):
            return d
        return mapping.get(d, Free(str(d)))

    t = cand.type
    return (rename(t.rows), rename(t.cols)), conflicts


def unify(got: tuple, want: tuple) -> bool:
    """Whether the candidate's type ``got`` (free dimensions allowed) can be ``want``."""
    bound: dict = {}
    for g, w in zip(got, want):
        if isinstance(g, Free):
            if (g in bound and bound[g] != w) or w == 1:
                return False
            bound[g] = w
        elif g != w:
            return False
    return True


def transposed(t: tuple) -> tuple:
    return (t[1], t[0])


def shape_words(t: tuple | None) -> str:
    """``(1, "n")`` → "1×n row vector", ``("m", "n")`` → "m×n matrix", ``(1, 1)`` → "scalar"."""
    if t is None:
        return "tensor"
    r, c = t
    if r == 1 and c == 1:
        return "scalar"
    if isinstance(r, Free) or isinstance(c, Free):  # a size left open, as by eye
        kind = "row vector" if r == 1 else "column vector" if c == 1 else \
            "square matrix" if r == c else "matrix"
        return f"{kind} of open size"
    if r == 1:
        return f"1×{c} row vector"
    if c == 1:
        return f"{r}×1 column vector"
    return f"{r}×{c} matrix"


#: Letters whose English name starts with a vowel sound ("an n×1 column", "an m×n matrix").
_VOWEL_LETTERS = set("aefhilmnorsxAEFHILMNORSX8")


def article(words: str) -> str:
    """"a" or "an" before ``words``: "an n×1 column vector", "a 1×n row vector", "a scalar"."""
    first = words.split("×")[0].split()[0] if words.strip() else ""
    if first.isdigit():
        return "an" if first in ("8", "11", "18") else "a"
    if len(first) == 1:
        return "an" if first in _VOWEL_LETTERS else "a"
    return "an" if first[:1].lower() in ("a", "e", "i", "o", "u") else "a"


def with_article(words: str) -> str:
    return f"{article(words)} {words}"


def _space(d) -> str:
    return f"R^{d}"


def table_reason(d) -> str:
    """Why the derivative has its shape, in the words of the lecture's shape table."""
    f = d.expression
    f_shape = tuple(f.shape)
    wrt = d.wrt
    order = d.order
    shape = tuple(d.shape)
    dims = "×".join(str(s) for s in shape)
    if isinstance(wrt, list):
        k = len(wrt)
        what = f"the {k} scalars {', '.join(wrt)}"
        if not f_shape and order == 1:
            return (f"f is a scalar and you differentiate by {what}, so the derivative is the 1×{k} row "
                    f"of partial derivatives [∂f/∂{wrt[0]}, …] (the lecture collects them in a row)")
        return f"f has shape {_dims(f_shape)} and you differentiate {order} time(s) by {what}, so it is {dims}"
    var = f.variables[wrt]
    kind = var.kind
    if order == 1:
        if not f_shape and kind == SCALAR:
            return "f: R → R, so the derivative is a scalar"
        if not f_shape and kind == VECTOR:
            n = var.dims[0]
            return (f"f: {_space(n)} → R, so the gradient is a 1×{n} row vector: the lecture collects the "
                    f"partial derivatives ∂f/∂{wrt}_i in a row, ∇f ∈ R^(1×{n})")
        if not f_shape:
            m, n = var.dims
            sym = " (declared symmetric; ricci gives the plain partial derivative)" if kind == SYMMETRIC else ""
            return (f"f is a scalar and {wrt} is {m}×{n}{sym}, so ∂f/∂{wrt} is {m}×{n}, the shape of {wrt}, "
                    f"with entry (i, j) = ∂f/∂{wrt}_ij (lecture: ∂(a'Xb)/∂X = ab')")
        if len(f_shape) == 1 and kind == SCALAR:
            e = f_shape[0]
            if f.type.is_row:
                return f"f is a 1×{e} row and {wrt} a scalar, so the derivative is a 1×{e} row"
            return (f"f: R → {_space(e)}, so the derivative is a {e}×1 column vector "
                    f"(lecture: for f: R → R^E the gradient is E×1)")
        if len(f_shape) == 1 and kind == VECTOR:
            m, n = f_shape[0], var.dims[0]
            return (f"f: {_space(n)} → {_space(m)}, so the derivative is the {m}×{n} Jacobian, "
                    f"J(i, j) = ∂f_i/∂{wrt}_j: one row per entry of f, one column per entry of {wrt}")
    if order == 2 and not f_shape and kind == VECTOR:
        n = var.dims[0]
        return (f"the second derivative of f: {_space(n)} → R is the {n}×{n} Hessian, "
                f"H(i, j) = ∂²f/∂{wrt}_i∂{wrt}_j")
    if order == 2 and not f_shape and kind == SCALAR:
        return "f: R → R, so its second derivative is a scalar"
    return (f"f has shape {_dims(f_shape)} and {wrt} has shape {_dims(var.dims)}, so the derivative has "
            f"shape {dims}: one index for each index of f, then one for each index of {wrt} per order "
            f"(lecture, Examples 3 and 4)")


def _dims(shape) -> str:
    return "×".join(str(s) for s in shape) if shape else "scalar"
