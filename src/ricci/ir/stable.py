"""The stable forms in the IR: the rules of :mod:`ricci.stable` on index notation, applied to a
derivative before it is evaluated (``d.evaluate``) or turned into code from its index form.

A derivative comes out of the differentiator as calculus writes it: the gradient of
Σ log(1 + exp(u)) is exp(u)·(1 + exp(u))^-1, which is inf/inf at u = 800, although the
number is 1.  Each rule below rewrites one such shape into functions of the table that are
exact where the shape is not (here σ(u)); the rule's name is its entry in
:data:`ricci.stable.RULES` (docs/numerics.md says why each one holds).  The rewritten node
has the same value everywhere the original is finite.
"""

from __future__ import annotations

import weakref

from ..functions import STABLE as S
from . import build as B
from .nodes import Add, Elem, MatFun, Mul, Node, Num, Pow
from .traverse import rewrite

#: node → its stable form (None: the node is already stable), so that a derivative evaluated
#: at many points is rewritten once
_DONE: "weakref.WeakKeyDictionary[Node, Node | None]" = weakref.WeakKeyDictionary()


def stable(node: Node) -> Node:
    """``node`` with every stable form of :data:`ricci.stable.RULES` put in."""
    got = _DONE.get(node, False)
    if got is False:
        new = rewrite(node, _rule)
        got = None if new is node else new
        _DONE[node] = got
    return node if got is None else got


def _rule(node: Node) -> Node:
    match node:
        case Elem(func=S.log):
            return _log(node)
        case Pow():
            return _pow(node)
        case Mul():
            return _mul(node)
        case Add():
            return _add(node)
    return node


# -- shapes ------------------------------------------------------------------------------------------

def _arg(node: Node, func: str) -> Node | None:
    """u when ``node`` is func(u), else None."""
    return node.arg if isinstance(node, Elem) and node.func == func else None


def _is_const(node: Node, value: float) -> bool:
    return B.const_value(node) == value


def _wide(node: Node, free: tuple) -> Node:
    """``node`` broadcast over ``free`` (a constant's term of a sum carries every index)."""
    return node if set(node.free) == set(free) else B.mul([node], free)


def _parts(node: Node) -> tuple[float, list, tuple]:
    """(coefficient, factors, out) of a term of a sum."""
    c, rest = B._split_coef(node)
    if isinstance(rest, Mul):
        return c, list(rest.factors), rest.out
    return c, ([] if isinstance(rest, Num) else [rest]), rest.free


def _power_of(factor: Node) -> tuple[Node, float]:
    """(base, k) of a factor base^k (k = 1 for a plain factor)."""
    if isinstance(factor, Pow) and isinstance(factor.exp, Num):
        return factor.base, factor.exp.value
    return factor, 1.0


def _one_plus(node: Node) -> list | None:
    """The other terms of 1 + v₁ + … (a sum with the constant 1 among its terms), else None."""
    if not isinstance(node, Add):
        return None
    ones = [t for t in node.terms if _is_const(t, 1.0)]
    if len(ones) != 1:
        return None
    return [t for t in node.terms if t is not ones[0]]


def _sigmoid(u: Node) -> Node:
    return B.elem(S.sigmoid, u)


# -- the rules -----------------------------------------------------------------------------------------

def _log(node: Elem) -> Node:
    arg = node.arg
    rest = _one_plus(arg)
    if rest is not None:
        u = _arg(rest[0], S.exp) if len(rest) == 1 else None
        if u is not None and set(u.free) == set(arg.free):  # softplus: log(1 + exp(u))
            return B.elem(S.softplus, u)
        v = B.add(rest)
        if set(v.free) == set(arg.free):  # log1p: log(1 + v)
            return B.elem(S.log1p, v)
    u = _arg(arg, S.sigmoid)
    if u is not None:  # log_sigmoid: log σ(u) = -softplus(-u)
        return B.neg(B.elem(S.softplus, B.neg(u)))
    if isinstance(arg, MatFun) and arg.func == S.det:  # logdet: log det X through slogdet
        return B.matfun(S.logdet, arg.arg, arg.r, arg.c, arg.out)
    return node


def _pow(node: Pow) -> Node:
    # sigmoid: (1 + exp(u))^-k = σ(-u)^k; 1/(1 + exp(u)) overflows to 0 correctly, but its
    # products with exp(u) (the softplus derivatives) are inf·0 at u = 800
    if not (isinstance(node.exp, Num) and node.exp.value < 0):
        return node
    rest = _one_plus(node.base)
    u = _arg(rest[0], S.exp) if rest is not None and len(rest) == 1 else None
    if u is None or set(u.free) != set(node.base.free):
        return node
    return B.power(_sigmoid(B.neg(u)), B.num(-node.exp.value))


def _mul(node: Mul) -> Node:
    # sigmoid: exp(u)^a·σ(-u)^b = σ(u)^a·σ(-u)^(b - a) for 0 < a ≤ b, since exp(u)·σ(-u) = σ(u)
    factors = list(node.factors)
    changed = False
    for k, f in enumerate(factors):
        base, a = _power_of(f)
        u = _arg(base, S.exp)
        if u is None or a <= 0:
            continue
        below = _sigmoid(B.neg(u))
        for j, g in enumerate(factors):
            gb, b = _power_of(g)
            if j != k and gb is below and b >= a:
                factors[k] = B.power(_sigmoid(u), B.num(a))
                factors[j] = B.power(below, B.num(b - a))
                changed = True
                break
    return B.mul(factors, node.out) if changed else node


def _add(node: Add) -> Node:
    terms = list(node.terms)
    free = node.free
    ones = [t for t in terms if _is_const(t, 1.0)]
    minus_ones = [t for t in terms if _is_const(t, -1.0)]
    for t in terms:
        c, fs, _ = _parts(t)
        if len(fs) != 1:
            continue
        base, k = _power_of(fs[0])
        if ones and c == -1.0 and k == 1.0 and _arg(base, S.sigmoid) is not None:
            # one_minus_sigmoid: 1 - σ(u) = σ(-u), exact where σ(u) rounds to 1
            new = _wide(_sigmoid(B.neg(base.arg)), free)
            return _rebuilt(terms, (ones[0], t), new)
        if ones and c == -1.0 and k == 2.0 and _arg(base, S.tanh) is not None:
            # sech2: 1 - tanh(u)^2 = cosh(u)^-2, exact where tanh(u) rounds to ±1
            new = _wide(B.power(B.elem(S.cosh, base.arg), B.num(-2.0)), free)
            return _rebuilt(terms, (ones[0], t), new)
        if minus_ones and c == 1.0 and k == 1.0 and _arg(base, S.exp) is not None:
            # expm1: exp(u) - 1, exact for small u
            new = _wide(B.elem(S.expm1, base.arg), free)
            return _rebuilt(terms, (minus_ones[0], t), new)
    return _sigmoid_variance(node) or node


def _rebuilt(terms: list, gone: tuple, new: Node) -> Node:
    kept = [t for t in terms if not any(t is g for g in gone)]
    return _rule(B.add(kept + [new])) if kept else new


def _sigmoid_variance(node: Add) -> Node | None:
    """sigmoid_variance: c·σ(u)·R - c·σ(u)²·R = c·σ(u)·σ(-u)·R (the softplus Hessian's two terms
    cancel to 1 - 1 once σ(u) rounds to 1; σ(-u) keeps every digit)."""
    once: dict = {}
    for t in node.terms:
        c, fs, out = _parts(t)
        for k, f in enumerate(fs):
            base, p = _power_of(f)
            if p == 1.0 and _arg(base, S.sigmoid) is not None:
                once[(base, tuple(fs[:k] + fs[k + 1:]), out)] = (c, t)
    for t in node.terms:
        c, fs, out = _parts(t)
        for k, f in enumerate(fs):
            base, p = _power_of(f)
            if p != 2.0 or _arg(base, S.sigmoid) is None:
                continue
            got = once.get((base, tuple(fs[:k] + fs[k + 1:]), out))
            if got is None or got[0] != -c:
                continue
            rest = fs[:k] + fs[k + 1:]
            new = B.mul([B.num(got[0]), base, _sigmoid(B.neg(base.arg)), *rest], out)
            return _rebuilt(list(node.terms), (got[1], t), new)
    return None
