"""``compare`` for answers written as differentials: ``dF = A*dX*B``, ``df = tr(G'*dX)``,
``vec dF = kron(B', A)*vec(dX)``, ``f'(X)[dX] = dX*A + A*dX``.

A differential is a linear map of dX, so it is judged as one: the right side is parsed in the
input language with the direction (``dX``, or the name in ``f'(X)[H]``) declared of X's kind,
and evaluated at the question's random points in random directions V against ricci's
derivative applied to V (the JVP; for ``vec dF = …`` against vec of it).  Equal everywhere is
"equal".  Otherwise the slips of this method come first —

* **missing commutation matrix** (a ``vec`` answer) / **lost transpose** (any other): the answer
  is the right map with vec(dX') taken for vec(dX) — a ``K`` left out, or in the trace trick
  tr(G dX) written for tr(G'dX), which reads off G' for G;

— then the slips ``compare`` knows for derivatives (a factor, a sign, a missing term, an
assumed symmetry, a missing transpose), judged on the derivative the answer identifies:
∂(answer)/∂dX, ricci's own derivative of the answer by its direction (df = tr(G'dX) gives G).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..language import ast as A
from ..language.errors import BadValueError, KindError, RicciError, ShapeError
from ..printing.text import to_text
from .differential_form import Form
from .lab import Lab, Question
from .points import needs_of
from .verdict import (DIFFERENT, EQUAL, INVALID, LOST_TRANSPOSE, MISSING_COMMUTATION, OTHER_LAYOUT, SIGN, SLIP,
                      FACTOR, Evidence, Verdict)

def judge(d, form: Form, answer: str, points: int, seed: int, compare, invalid_words) -> Verdict:
    """The verdict on a differential answer to the first derivative ``d``; ``compare`` and
    ``invalid_words`` are the engine's (passed in: the engine imports this module)."""
    q = Question(d)
    wrt = d.wrt if isinstance(d.wrt, list) else [d.wrt]
    base = dict(right_answer=_right_words(d), answer=answer, expression=q.expr.text, wrt=d.wrt, order=d.order,
                expected_shape="a differential: linear in " + ", ".join("d" + w for w in wrt),
                kinds={n: v.describe().split(": ", 1)[1] for n, v in q.variables.items()})
    if d.order != 1:
        return Verdict(INVALID, None, "A differential answers a first derivative: write the derivative of order "
                       f"{d.order} itself (or compare the first derivative's differential).", Evidence(), **base)
    directions = _directions(form, wrt, q)
    try:
        rhs = _parse(form, q, directions)
    except RicciError as e:
        return Verdict(INVALID, None, _invalid(e, form, invalid_words), Evidence(), **base)
    lab = Lab(q, needs_of(q.expr.tree) | needs_of(rhs.tree), points, seed)
    repaired = None
    try:
        trials = _trials(q, lab, rhs, wrt, directions, form, seed)
    except (ShapeError, KindError, BadValueError) as e:
        # tr(A'*dX) for a non-square X does not fit: right once dX is transposed? (the trace
        # trick's lost transpose, which only numbers tell for a square X)
        flipped = _parse(form, q, directions, transposed=True)
        try:
            trials = _trials(q, lab, flipped, wrt, directions, form, seed) if flipped is not None else None
        except RicciError:
            trials = None
        if trials is None:
            return Verdict(INVALID, None, _invalid(e, form, invalid_words), Evidence(), **base)
        repaired = e
    except RicciError as e:
        return Verdict(INVALID, None, _invalid(e, form, invalid_words), Evidence(), **base)
    if any(t[2].shape != t[3].shape for t in trials):
        want = trials[0][3].shape
        return Verdict(SLIP, "wrong shape", f"Your differential's value has the shape {_shape(trials[0][2])}, "
                       f"but d{'F' if want else 'f'} has the shape {_shape(trials[0][3])}"
                       + (" (vec dF is a column of all entries)" if form.kind == "vectorised" else "") + ".",
                       Evidence(tuple(lab.points)), **base)

    def errors(which):
        return tuple(float(np.max(np.abs(t[2] - which(t)), initial=0.0)) for t in trials)

    def close(which) -> bool:
        return all(np.allclose(t[2], which(t), rtol=1e-7, atol=1e-9 * (1 + np.max(np.abs(which(t)), initial=0)))
                   for t in trials)

    evidence = lambda which, tried: Evidence(tuple(lab.points), errors(which), None, None, tried)  # noqa: E731
    tried = ["the linear map"]
    if repaired is not None:
        tried.append("the direction transposed")
        if close(lambda t: t[3]):
            kind, words = _transposed_words(d, form)
            return Verdict(SLIP, kind, f"{words} (As written, it does not fit together: {repaired.message}.)",
                           evidence(lambda t: t[3], tuple(tried)), **base)
        return Verdict(INVALID, None, _invalid(repaired, form, invalid_words), Evidence(), **base)
    if close(lambda t: t[3]):
        return Verdict(EQUAL, None, "Right: your differential is f'(X)[dX], checked in random directions at "
                       f"{len(lab.points)} random points. It identifies {_identified(d)}.",
                       evidence(lambda t: t[3], tuple(tried)), **base)
    if form.kind == "vectorised":
        tried.append("the commutation matrices left out")
        without = _without_commutation(d, lab.points)
        if without is not None:
            alt = {id(t): without[k // 2] @ np.concatenate([np.ravel(t[1][w], order="F") for w in wrt])
                   for k, t in enumerate(trials)}
            if close(lambda t: alt[id(t)]):
                return Verdict(SLIP, *_transposed_words(d, form), evidence(lambda t: alt[id(t)], tuple(tried)), **base)
    square = all(t[4] is not None for t in trials)
    if square:
        tried.append("the direction transposed")
        if close(lambda t: t[4]):
            return Verdict(SLIP, *_transposed_words(d, form), evidence(lambda t: t[4], tuple(tried)), **base)
    tried.append("a sign")
    if close(lambda t: -t[3]):
        return Verdict(SLIP, SIGN, "Your differential is the right one with the opposite sign.",
                       evidence(lambda t: -t[3], tuple(tried)), **base)
    c = _factor(trials)
    tried.append("a constant factor")
    if c is not None:
        return Verdict(SLIP, FACTOR, f"Your differential is {_number(c)} times the right one.",
                       evidence(lambda t: c * t[3], tuple(tried)), **base)
    found = _as_derivative(d, form, rhs, directions, points, seed, compare)
    if found is not None:
        return replace(found, **base)
    errs = errors(lambda t: t[3])
    worst = max(range(len(trials)), key=errs.__getitem__)
    witness = {"point": trials[worst][0], "direction": trials[worst][1], "yours": trials[worst][2],
               "right": trials[worst][3]}
    return Verdict(DIFFERENT, None, "Your differential is not f'(X)[dX]: in the direction shown in the evidence "
                   f"it gives another value. The right one identifies {_identified(d)}.",
                   Evidence(tuple(lab.points), errs, None, witness, tuple(tried)), **base)


# -- reading the answer ---------------------------------------------------------------------------------
def _trials(q, lab, rhs, wrt, directions, form, seed) -> list:
    """(values, V, the answer's value, the right value, the right value at V') at each point and
    random direction (two per point)."""
    rng = np.random.default_rng(seed + 1)
    trials = []
    for values, right in zip(lab.points, lab.right):
        for _ in range(2):
            V = {w: _direction(q, w, values, rng) for w in wrt}
            got = _student(rhs, values, V, directions)
            trials.append((values, V, got, _jvp(right, V, wrt, form), _transposed(right, V, wrt, form)))
    return trials


def _directions(form: Form, wrt: list, q: Question) -> dict:
    """variable → the direction's name in the answer (dX, or the name in f'(X)[H])."""
    if form.kind == "map" and len(wrt) == 1:
        return {wrt[0]: form.direction}
    return {w: "d" + w for w in wrt}


def _without_commutation(d, points) -> list | None:
    """ricci's vec Jacobian with its commutation matrices left out, at each point (None: it has none)."""
    from ..explain.by_differentials import Derivation

    try:
        method = Derivation(d)
        out = [method.jacobian_without_commutation(p) for p in points]
    except RicciError:
        return None
    return None if any(o is None for o in out) else out


def _parse(form: Form, q: Question, directions: dict, transposed: bool = False):
    """The right side typed (the directions declared); ``transposed``: with each direction
    transposed, or None when that does not type-check either."""
    from ..explain.differentials import sum_name, substitute
    from ..language.expression import typed_tree

    if transposed:

        tree = substitute(_parse_plain(form.rhs), {dn: A.Transpose(A.Name(dn)) for dn in directions.values()})
        try:
            return _parse(Form(form.kind, form.direction, to_text(tree), form.offset), q, directions)
        except RicciError:
            return None

    kinds = dict(q.kinds)
    for w, dn in directions.items():
        kinds[dn] = "matrix" if q.kinds[w] == "symmetric matrix" else q.kinds[w]
    try:
        tree = _parse_plain(form.rhs)  # a syntax error is the answer's, at its position
    except RicciError as e:
        raise e.with_source(form.rhs)
    # each direction has its variable's sizes, and every name the sizes it has in the question:
    # + 0*sum(f) + 0*sum(dX - X) makes the type checker say so
    body, _ = _split(q.expr.tree)
    tree = A.BinOp("+", tree, A.BinOp("*", A.Num(0.0), A.Call(sum_name(), (body,))))
    for w, dn in directions.items():
        pin = A.BinOp("*", A.Num(0.0), A.Call(sum_name(), (A.BinOp("-", A.Name(dn), A.Name(w)),)))
        tree = A.BinOp("+", tree, pin)
    if q.bindings:
        tree = A.Where(tree, tuple(q.bindings))
    return typed_tree(tree, kinds)  # typed as built: its text is printed for messages, not parsed


def _split(tree):
    from .rewrite import split_where

    return split_where(tree)


def _parse_plain(text: str):
    from ..language.parser import parse_text

    return parse_text(text)


def _invalid(e: RicciError, form: Form, invalid_words) -> str:
    return invalid_words(e) + f"\n(the right side of your differential starts at character {form.offset + 1})"


# -- numbers -------------------------------------------------------------------------------------------------
def _direction(q: Question, w: str, values: dict, rng) -> np.ndarray:
    v = rng.standard_normal(np.shape(np.asarray(values[w], dtype=float)))
    if q.kinds[w] == "symmetric matrix":
        v = v + v.T  # a symmetric variable moves in symmetric directions
    return v


def _student(rhs, values: dict, V: dict, directions: dict) -> np.ndarray:
    vals = dict(values)
    for w, dn in directions.items():
        vals[dn] = V[w]
    return np.asarray(rhs.evaluate(vals), dtype=float)


def _jvp(right: np.ndarray, V: dict, wrt: list, form: Form) -> np.ndarray:
    if len(wrt) > 1:
        out = right @ np.array([float(V[w]) for w in wrt])
    else:
        v = V[wrt[0]]
        out = np.tensordot(right, v, axes=np.ndim(v)) if np.ndim(v) else right * float(v)
    return out.reshape(-1, order="F") if form.kind == "vectorised" else out


def _transposed(right: np.ndarray, V: dict, wrt: list, form: Form):
    """The right map in the transposed direction V' (square matrices only), else None."""
    if len(wrt) > 1 or np.ndim(V[wrt[0]]) != 2 or V[wrt[0]].shape[0] != V[wrt[0]].shape[1]:
        return None
    return _jvp(right, {wrt[0]: V[wrt[0]].T}, wrt, form)


def _factor(trials) -> float | None:
    num = sum(float(np.vdot(t[2], t[3])) for t in trials)
    den = sum(float(np.vdot(t[3], t[3])) for t in trials)
    if den == 0:
        return None
    c = num / den
    if abs(c - 1) < 1e-9 or abs(c) < 1e-12:
        return None
    ok = all(np.allclose(t[2], c * t[3], rtol=1e-7, atol=1e-9 * (1 + np.max(np.abs(t[3]), initial=0))) for t in trials)
    return c if ok else None


def _number(c: float) -> str:
    from ..printing.text import format_number

    return format_number(round(c, 10))


def _shape(v: np.ndarray) -> str:
    return "scalar" if v.ndim == 0 else " × ".join(str(n) for n in v.shape)


# -- words ----------------------------------------------------------------------------------------------------
def _identified(d) -> str:
    w = d.wrt if isinstance(d.wrt, str) else "(" + ", ".join(d.wrt) + ")"
    return f"∂f/∂{w} = {d.text}"


def _right_words(d) -> str:
    try:
        return d.linear_map.text
    except RicciError:
        return d.text


def _transposed_words(d, form: Form) -> tuple:
    w = d.wrt
    if form.kind == "vectorised":
        return (MISSING_COMMUTATION, f"Your vec dF takes vec(d{w}') for vec(d{w}): a commutation matrix is missing. "
                f"vec(X') = K vec(X), K the commutation matrix: where d{w}' appears, its vec is K vec(d{w}).")
    if d.expression.type.is_scalar:
        return (LOST_TRANSPOSE, f"Your differential is tr(G d{w}) where the trace trick needs tr(G' d{w}): it reads off "
                f"G' for ∂f/∂{w} = G, a transpose lost on the way to the standard form. With tr(A'B) = vec(A)'vec(B), "
                f"df = tr(G' d{w}) gives ∂f/∂{w} = G = {d.text}.")
    return (LOST_TRANSPOSE, f"Your differential has d{w} where d{w}' belongs (or the other way round): d(X') = (dX)'.")


def _as_derivative(d, form: Form, rhs, directions: dict, points: int, seed: int, compare):
    """The slips of an ordinary answer, judged on the derivative the differential identifies."""
    from ..derivation import derivative

    if form.kind == "vectorised" or len(directions) != 1:
        return None
    (w, dn), = directions.items()
    kinds = {n: v.kind for n, v in rhs.variables.items()}
    try:
        ident = derivative(rhs.source, dn, 1, kinds)
    except RicciError:
        return None
    if ident.matrix is None:
        return None
    text = ident.text
    try:
        v = compare(d.expression.source, d.wrt, text, 1, {n: x.kind for n, x in d.expression.variables.items()},
                    points=points, seed=seed)
    except (RicciError, BadValueError):
        return None
    if v.verdict in (EQUAL, INVALID, DIFFERENT):
        return None
    lead = f"Your differential identifies ∂f/∂{w} = {text}. "
    if v.verdict == OTHER_LAYOUT:
        return Verdict(SLIP, LOST_TRANSPOSE, lead + f"That is the transpose of ∂f/∂{w}: a transpose was lost on the "
                       f"way to the standard form (df = tr(G' d{w}) gives G, df = a' d{w} the row a').",
                       v.evidence, v.right_answer, v.answer, v.expression, v.wrt, v.order, v.expected_shape)
    return Verdict(v.verdict, v.kind_of_slip, lead + v.message, v.evidence, v.right_answer, v.answer, v.expression,
                   v.wrt, v.order, v.expected_shape, fix=("d" + ("f" if d.expression.type.is_scalar else "F") + " = "
                                                          + _fix(v.fix, dn, d) if v.fix else None))


def _fix(g: str, dn: str, d) -> str:
    """The corrected derivative g written back as a differential."""
    t = d.expression.variables[d.wrt].kind if isinstance(d.wrt, str) else "scalar"
    if t in ("matrix", "symmetric matrix"):
        return f"tr(({g})'*{dn})"
    return f"({g})*{dn}"
