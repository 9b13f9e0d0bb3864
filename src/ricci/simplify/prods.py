"""The parts of a display form's product, ``coef · scalars · chain`` (:class:`Prod`), and the
predicates the matrix clean-up asks of a form (is it ones, a reciprocal, a diagonal of a
vector …): shared by the products (:mod:`ricci.simplify.matrix`) and the sums
(:mod:`ricci.simplify.sums`) of the display forms.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

from ..language import ast as A
from ..printing.text import to_text
from .mtypes import C, Rw


class Prod(NamedTuple):
    """coef · scalars · chain.  A named tuple rather than the dataclass it was, so that the
    display's hot paths make one with :func:`new_prod`, tuple's own constructor, without a
    Python-level ``__init__`` (issue 21: ~1,100 such calls in the raise of the depth-64
    network); its fields read in C as the dataclass's did.  Never changed once made, as
    before; equal as the dataclass was, field by field, and written as it was."""

    coef: float
    scalars: list
    chain: list

    def key(self):
        return (tuple(sorted(self.scalars, key=_scalar_key)), tuple(self.chain))


#: ``new_prod((coef, scalars, chain))``: a :class:`Prod` made in C (no Python-level call)
new_prod = partial(tuple.__new__, Prod)


def _is_recip(a: A.Expr) -> bool:
    return isinstance(a, A.BinOp) and a.op == "^" and isinstance(a.right, A.Num) and a.right.value == -1.0


def _is_ones(a: A.Expr, row: bool = False) -> bool:
    if row:
        return isinstance(a, A.Transpose) and _is_ones(a.arg)
    return isinstance(a, A.Call) and a.func == "vector" and a.args[0] == A.Num(1.0)


def _is_ones_matrix(a: A.Expr) -> bool:
    if isinstance(a, A.Transpose):
        return _is_ones_matrix(a.arg)
    return isinstance(a, A.Call) and a.func == "matrix" and a.args[0] == A.Num(1.0)


def _is_diag_of_vector(a: A.Expr, forms) -> bool:
    return isinstance(a, A.Call) and a.func == "diag" and forms.kind(a.args[0]) in (C, Rw)


def _inv_pair(a: A.Expr, b: A.Expr) -> bool:
    """a = inv(b), also as inv(M)' next to M'."""
    if isinstance(a, A.Call) and a.func == "inv" and a.args[0] == b:
        return True
    if isinstance(a, A.Transpose) and isinstance(b, A.Transpose):
        return _inv_pair(a.arg, b.arg)
    if isinstance(a, A.Call) and a.func == "inv" and isinstance(b, A.Transpose) \
            and isinstance(a.args[0], A.Transpose) and a.args[0].arg == b.arg:
        return True
    return False


def _chain_parts(a: A.Expr) -> list:
    """The factors of a matrix product A*B*C."""
    # a loop, not a call per factor (issue 21: a deep answer's chains are long)
    out, stack = [], [a]
    while stack:
        x = stack.pop()
        if isinstance(x, A.BinOp) and x.op == "*":
            stack.append(x.right)
            stack.append(x.left)
        else:
            out.append(x)
    return out


def _chain_of(factors: list) -> A.Expr:
    """The matrix product of ``factors`` as written, left to right (the inverse of
    :func:`_chain_parts`)."""
    out = factors[0]
    for f in factors[1:]:
        out = A.BinOp("*", out, f)
    return out


def _hadamard_parts(a: A.Expr) -> list:
    if isinstance(a, A.BinOp) and a.op == ".*":
        return _hadamard_parts(a.left) + _hadamard_parts(a.right)
    return [a]


def _hadamard_key(a: A.Expr):
    """Simple factors first: sigmoid(x).*(1 - sigmoid(x)), v.*(1 - tanh(z).^2)."""
    is_sum = isinstance(a, A.BinOp) and a.op in ("+", "-")
    return (is_sum, len(to_text(a)), to_text(a))


def _negate(a: A.Expr) -> A.Expr:
    """-a, the minus on the leftmost factor of an entrywise product: -y.*(X*w), not
    -(y.*(X*w)).  The grammar binds a unary minus tighter than .* and ./ (and looser than .^),
    so the text parses back to this tree, whose value is the same."""
    if isinstance(a, A.BinOp) and a.op in (".*", "./"):
        return A.BinOp(a.op, _negate(a.left), a.right)
    return A.Neg(a)


def _unnegate(a: A.Expr) -> A.Expr | None:
    """The inverse of :func:`_negate`: ``y.*(X*w)`` for ``-y.*(X*w)``; None when ``a`` has no
    minus on its leftmost entrywise factor.  (A sum must see that minus: ``a - y.*z``, not
    ``a + -y.*z``.)"""
    if isinstance(a, A.Neg):
        return a.arg
    if isinstance(a, A.BinOp) and a.op in (".*", "./"):
        inner = _unnegate(a.left)
        return None if inner is None else A.BinOp(a.op, inner, a.right)
    return None


def _is_leaf(a: A.Expr) -> bool:
    return isinstance(a, A.Name) or (isinstance(a, A.Transpose) and isinstance(a.arg, A.Name))


def _neg_power(a: A.Expr):
    """s^(-k) → (s, k) for a numeric k > 0, else None."""
    if isinstance(a, A.BinOp) and a.op == "^":
        e = a.right
        if isinstance(e, A.Num) and e.value < 0:
            return a.left, -e.value
        if isinstance(e, A.Neg) and isinstance(e.arg, A.Num):
            return a.left, e.arg.value
    return None


def _number(a: A.Expr) -> float | None:
    if isinstance(a, A.Num):
        return a.value
    if isinstance(a, A.Neg) and isinstance(a.arg, A.Num):
        return -a.arg.value
    return None


def _scaled_ones(a: A.Expr) -> float | None:
    """c when ``a`` is c times an array of ones (v.^0, vector(1), matrix(1)), else None."""
    if isinstance(a, A.Neg):
        c = _scaled_ones(a.arg)
        return None if c is None else -c
    if isinstance(a, A.BinOp) and a.op == "*":
        k = _number(a.left)
        c = None if k is None else _scaled_ones(a.right)
        return None if c is None else k * c
    if isinstance(a, A.BinOp) and a.op == ".^" and a.right == A.Num(0.0):
        return 1.0
    if isinstance(a, A.Call) and a.func in ("vector", "matrix") and isinstance(a.args[0], A.Num):
        return a.args[0].value
    return None


def _merge_roots(powers: list) -> list:
    """(base, k) pairs with sqrt(b)^k read as b^(k/2) and the powers of one base added:
    sqrt(u)^2 * u^0.5 in a denominator is u^1.5 (the derivative of 1/sqrt(u))."""
    merged: dict = {}
    for base, k in powers:
        if isinstance(base, A.Call) and base.func == "sqrt":
            base, k = base.args[0], k / 2
        merged[base] = merged.get(base, 0.0) + k
    return [(b, k) for b, k in merged.items() if k]


def _scalar_key(a: A.Expr):
    if isinstance(a, A.Num):
        rank = 0
    elif isinstance(a, A.Name):
        rank = 1
    elif isinstance(a, A.BinOp) and a.op == "^" and isinstance(a.left, A.Name):
        rank = 2
    elif isinstance(a, A.Call):
        rank = 3
    elif isinstance(a, A.BinOp) and a.op in ("+", "-"):
        rank = 5
    else:
        rank = 4
    return (rank, to_text(a))
