"""``compare``: judge a hand-derived derivative against ricci's, and name the slip.

The stages:

1. ricci differentiates the question (an error here is the question's, and is raised);
2. the candidate is parsed in the same language, every variable declared with the kind the
   question inferred for it (:mod:`.lab`); a syntax error, an unknown name, or an answer that
   does not type-check is "invalid" — unless one transpose makes it fit and right;
3. shapes (:mod:`.shapes`): the candidate's type, renamed into the question's dimensions, must
   be the type of the lecture's shape table or its transpose; otherwise it is a wrong-shape slip;
4. numbers: both are evaluated at random points that honour the kinds (:mod:`.points`); equal
   there is "equal", and ``evidence.symbolic`` records whether both simplify to the same text;
5. otherwise the family of transformed answers of :mod:`.slips` is tested, numerically.
"""

from __future__ import annotations

from .. import limits as _limits
from ..language import ast as A
from ..language.errors import KindError, RicciError, ShapeError
from ..language.kinds import SCALAR
from . import rewrite as R
from .differential_form import differential_form
from .lab import POINTS, SAME, TRANSPOSED, Candidate, Lab, Question, assemble, bindings_text, typed
from .points import needs_of
from .shapes import shape_words, transposed, unify
from .slips import Judge, repair, wrong_shape
from .verdict import EQUAL, INVALID, Evidence, Verdict


def compare(expression, wrt, answer, order: int = 1, kinds: dict | None = None, *,
            points: int = POINTS, seed: int = 0, timeout: float | None = _limits.DEFAULT_TIMEOUT,
            max_elements: int | None = _limits.MAX_ELEMENTS) -> Verdict:
    """Judge ``answer``, a hand-derived ∂^order f/∂wrt^order of ``expression``, against ricci's.

    The answer is written in the input language; its variables take the kinds of the question
    (``kinds`` declares them, as for :func:`ricci.derivative`), and names bound by the question's
    ``where`` may be used as they are.  Returns a :class:`~ricci.comparison.verdict.Verdict`; an
    answer that cannot be read is judged "invalid", never raised.  Errors in the question itself
    (``expression``, ``wrt``, ``order``, ``kinds``) are raised as :class:`ricci.RicciError`.
    ``points`` random points are used, drawn from ``seed``.

    ``timeout`` (seconds, as for :func:`ricci.derivative`) bounds the whole comparison, the
    derivative and every candidate tried; ``max_elements`` every numeric array.  Over either, a
    :class:`ricci.LimitError` (never an "invalid" verdict).  A caller may also run it inside
    ``with ricci.limits.budget(seconds):`` (the earlier deadline wins).
    """
    with _limits.budget(timeout, _limits.MAX_NODES, "the comparison", max_elements, _limits.WORK_ADVICE):
        return _compare(expression, wrt, answer, order, kinds, points, seed)


def _compare(expression, wrt, answer, order, kinds, points, seed) -> Verdict:
    from ..derivation import derivative

    d = derivative(expression, wrt, order, kinds)
    form = differential_form(answer) if isinstance(answer, str) else None
    if form is not None:  # dF = …, df = tr(G'*dX), vec dF = …, f'(X)[dX] = …: judged as a linear map
        from .differentials import judge

        return judge(d, form, answer, points, seed, compare, invalid_words)
    q = Question(d)
    base = dict(right_answer=q.right_text, answer=answer if isinstance(answer, str) else repr(answer),
                expression=q.expr.text, wrt=d.wrt, order=order, expected_shape=_expected_words(q),
                kinds={n: v.describe().split(": ", 1)[1] for n, v in q.variables.items()})
    try:
        draft = assemble(q, answer)
    except RicciError as e:
        return Verdict(INVALID, None, invalid_words(e), Evidence(), **base)

    needs = needs_of(q.expr.tree) | needs_of(draft.tree)
    if q.right is not None:
        needs = needs | needs_of(q.right.tree)
    lab = Lab(q, needs, points, seed)

    try:
        cand = typed(q, draft)
    except (ShapeError, KindError) as e:
        found = repair(q, draft, e, lab)
        if found is None:
            return Verdict(INVALID, None, invalid_words(e), Evidence(), **base)
        evidence = Evidence(tuple(lab.points), found.errors, None, None, ("one factor transposed",))
        return Verdict(found.verdict, found.kind, found.message, evidence, fix=found.fix, **base)
    except RicciError as e:
        return Verdict(INVALID, None, invalid_words(e), Evidence(), **base)
    base["answer_shape"] = shape_words(cand.type_q)

    orients = []
    if q.expected is not None and not cand.conflicts:
        if unify(cand.type_q, q.expected):
            orients.append(SAME)
        if q.expected != (1, 1) and unify(cand.type_q, transposed(q.expected)):
            orients.append(TRANSPOSED)
    if orients:
        judge = Judge(q, cand, lab, orients)
        found = judge.run()
        tried = tuple(judge.tried)
    else:
        found = wrong_shape(q, cand, lab)
        tried = ("the shape",)
    symbolic = None
    message = found.message
    if found.verdict == EQUAL and orients:
        symbolic = _same_canonical(q, cand)
        message = equal_words(q, cand, len(lab.points), symbolic)
    evidence = Evidence(tuple(lab.points), found.errors, symbolic, found.witness, tried)
    return Verdict(found.verdict, found.kind, message, evidence, fix=found.fix, **base)


def _expected_words(q: Question) -> str:
    if q.expected is None:
        return "×".join(str(s) for s in q.d.shape) + " tensor"
    return shape_words(q.expected)


def equal_words(q: Question, cand: Candidate, n: int, symbolic: bool | None) -> str:
    how = ", and both simplify to the same form" if symbolic else ""
    written = "" if symbolic else f", written differently from ricci's {q.right_text}"
    borrowed = ""
    if cand.draft.borrowed:
        borrowed = f" (with {bindings_text(cand.draft.borrowed)} as in the question)"
    return (f"Right: your answer{borrowed} is the derivative{written}. Checked at {n} random points that "
            f"honour the kinds{how}.")


def invalid_words(e: RicciError) -> str:
    lead = {
        "syntax error": "Your answer is not an expression ricci can read",
        "unknown name": "Your answer uses a name ricci does not know",
        "shape error": "Your answer does not fit together: its shapes clash",
        "kind error": "Your answer applies an operation to the wrong kind of value",
        "limit": "Your answer is over a limit",
    }.get(e.kind, "Your answer cannot be read")
    _, _, caret = e.pretty().partition("\n")
    message = e.message[:1].upper() + e.message[1:]
    return f"{lead}. {message}." + (f"\n{caret}" if caret else "")


def _same_canonical(q: Question, cand: Candidate) -> bool | None:
    """Whether both answers simplify to the same text (ricci's simplifier, through ∂(s·e)/∂s = e)."""
    try:
        return _canonical(cand.expr, q) == _canonical(q.right, q)
    except RicciError:
        return None


def _canonical(expr, q: Question) -> str:
    from ..derivation import derivative
    from ..language.errors import BadValueError
    from ..language.expression import typed_tree

    if expr is None:
        raise BadValueError("no matrix form")
    scale = "s_cmp"
    while scale in q.variables or scale in q.bound:
        scale += "_"
    body, bindings = R.split_where(expr.tree)
    tree = R.with_bindings(A.BinOp("*", A.Name(scale), body), bindings)
    kinds = {n: v.kind for n, v in expr.variables.items()}
    kinds[scale] = SCALAR
    scaled = typed_tree(tree, kinds)  # typed as built, not printed and parsed again
    return derivative(scaled, scale, 1, scaled.kinds).text
