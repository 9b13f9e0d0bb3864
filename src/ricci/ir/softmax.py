"""The softmax shape in the IR: exp(u_i)…exp(u_k) (Σ_j exp(u_j))^-a, a product with as many
exp factors as the power a, and log Σ_j exp(u_j).

Every derivative of logsumexp (and of softmax, log_softmax) has this shape.  Computed as it
reads, it is inf/inf once u reaches about 710; the evaluator (ir/evaluate.py) and generated
code (codegen/from_index.py) compute it shifted by max(u) instead, the same number.
"""

from __future__ import annotations

from ..functions import LOGSUMEXP
from .nodes import Elem, Mul, Node, Num, Pow

_EXP = LOGSUMEXP.exp


def sum_of_exp(node: Node) -> Node | None:
    """u when node is Σ_j exp(u_j) over all of u's indices (a scalar), else None."""
    if (isinstance(node, Mul) and not node.free and len(node.factors) == 1
            and isinstance(node.factors[0], Elem) and node.factors[0].func == _EXP):
        return node.factors[0].arg
    return None


def log_sum_exp(node: Elem) -> Node | None:
    """u when node is log Σ_j exp(u_j), else None."""
    return sum_of_exp(node.arg) if node.func == LOGSUMEXP.log else None


def _negative_integer_powers(node: Mul):
    """Each factor b^-a of the product ``node``, a a positive integer: a softmax's denominator."""
    for f in node.factors:
        if isinstance(f, Pow) and isinstance(f.exp, Num) and f.exp.value < 0 and float(f.exp.value).is_integer():
            yield f


def softmax_factors(node: Mul) -> tuple | None:
    """(power, u, tops) when the product ``node`` holds (Σ_j exp(u_j))^-a (``power``) and
    exactly a factors exp(u_i) (``tops``, u the same up to the names of its indices)."""
    for f in _negative_integer_powers(node):
        u = sum_of_exp(f.base)
        if u is None:
            continue
        tops = [g for g in node.factors if isinstance(g, Elem) and g.func == _EXP and g.arg.sig == u.sig]
        if len(tops) == -f.exp.value:
            return f, u, tops
    return None


def sum_of_exp_along(node: Node) -> tuple | None:
    """(u, batch) when node is Σ_j exp(u_bj) over some of u's indices, the others (``batch``,
    node's free indices) kept: each row's Σ exp of softmax(X, 2) and logsumexp(X, 2)."""
    if (isinstance(node, Mul) and node.free and len(node.factors) == 1
            and isinstance(node.factors[0], Elem) and node.factors[0].func == _EXP
            and set(node.free) < set(node.factors[0].arg.free)):
        return node.factors[0].arg, node.free
    return None


def log_sum_exp_along(node: Elem) -> tuple | None:
    """(u, batch) when node is log Σ_j exp(u_bj) along some of u's indices, else None."""
    return sum_of_exp_along(node.arg) if node.func == LOGSUMEXP.log else None


def softmax_factors_along(node: Mul) -> tuple | None:
    """(power, u, batch, tops): the product holds (Σ_j exp(u_bj))^-a and exactly a factors
    exp(u_bk) of the same rows b (softmax along an axis and its derivatives), else None."""
    for f in _negative_integer_powers(node):
        found = sum_of_exp_along(f.base)
        if found is None:
            continue
        u, batch = found
        at = [u.free.index(b) for b in batch]
        tops = [g for g in node.factors if isinstance(g, Elem) and g.func == _EXP and g.arg.sig == u.sig
                and len(g.arg.free) == len(u.free) and all(g.arg.free[k] == b for k, b in zip(at, batch))]
        if len(tops) == -f.exp.value:
            return f, u, batch, tops
    return None
