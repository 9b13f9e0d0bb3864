"""Convexity from the function table's facts (``Function.curvature``), for functions whose
Hessian exists only almost everywhere: ``lambda_max`` (convex), ``lambda_min`` (concave), the
spectral and nuclear norms (convex).  Their Hessians miss the points where an eigenvalue is
repeated, so the Hessian cannot prove them convex; the composition rules can:

* g convex (concave) and a affine in the variable: g(a) is convex (concave) (Boyd &
  Vandenberghe, Convex Optimization §3.2.2);
* c·h is convex for c > 0 and h convex, concave for c < 0; a sum of convex functions is convex.

So f = Σ c_k g_k(a_k) + (terms affine in the variable) is proved convex or concave here; any
other shape is left to the Hessian (``curvature_proof`` returns None).
"""

from __future__ import annotations

from ..functions import lookup
from ..language import ast as A
from ..language.errors import RicciError
from ..language.expression import typed_tree
from ..printing.text import to_text
from . import definiteness as D


def _terms(node: A.Expr, sign: float = 1.0):
    """(sign, term) of a sum, signs and numeric factors pulled out; None for a shape not read."""
    match node:
        case A.BinOp(op="+", left=l, right=r):
            return _join(_terms(l, sign), _terms(r, sign))
        case A.BinOp(op="-", left=l, right=r):
            return _join(_terms(l, sign), _terms(r, -sign))
        case A.Neg(arg=a):
            return _terms(a, -sign)
        case A.BinOp(op="*", left=A.Num(value=v), right=r):
            return _terms(r, sign * v)
        case A.BinOp(op="*", left=l, right=A.Num(value=v)):
            return _terms(l, sign * v)
        case A.BinOp(op="/", left=l, right=A.Num(value=v)) if v != 0:
            return _terms(l, sign / v)
        case A.Where():
            return None
    return [(sign, node)]


def _join(a, b):
    return None if a is None or b is None else a + b


def _uses(node: A.Expr, names: set) -> bool:
    return any(isinstance(n, A.Name) and n.name in names for n in A.walk(node))


def _affine(node: A.Expr, problem) -> bool:
    """Whether ``node`` is affine in the variable: its second derivative is zero."""
    from ..derivation import derivative  # below the analysis: the answer's own door

    if not _uses(node, set(problem.wrt_names)):
        return True
    try:
        # the term typed as it stands, with the problem's kinds (those of names it does not
        # use ignored: another term's B or c was an "unused kind" error, read as "not affine",
        # and the proof was lost), and not printed and parsed again
        d = derivative(typed_tree(node, problem.kinds or None), problem.wrt, 2)
    except RicciError:
        return False
    return _zero(d.node)


def _zero(node) -> bool:
    from ..ir import build as B

    return B.is_zero(node)


def curvature_proof(problem) -> tuple[str, tuple[str, ...]] | None:
    """(label, steps): f convex (label PSD) or concave (NSD) by the table's facts; or None."""
    terms = _terms(problem.expression.tree)
    if terms is None:
        return None
    names = set(problem.wrt_names)
    curvatures, steps = set(), []
    for sign, term in terms:
        if not _uses(term, names) or sign == 0:
            continue
        fn = lookup(term.func) if isinstance(term, A.Call) else None
        if fn is not None and fn.curvature is not None and len(term.args) == 1 and _affine(term.args[0], problem):
            kind = fn.curvature if sign > 0 else {"convex": "concave", "concave": "convex"}[fn.curvature]
            curvatures.add(kind)
            steps.append(f"{to_text(term)} is {fn.curvature} ({fn.name} is, the function table says) of an "
                         f"argument affine in {', '.join(problem.wrt_names)}"
                         + ("" if sign > 0 else f"; times {sign:g} it is {kind}"))
        elif _affine(term, problem):
            steps.append(f"{to_text(term)} is affine in {', '.join(problem.wrt_names)}")
        else:
            return None
    if len(curvatures) != 1:
        return None
    kind = curvatures.pop()
    steps.append(f"a sum of {kind} and affine terms is {kind}")
    return (D.PSD if kind == "convex" else D.NSD), tuple(steps)
