"""Orders whose order k − 1 has no matrix form: Magnus and Neudecker's route through vec.

For a scalar f of a vector x, D²f is the Hessian (n×n), D³f = ∂vec(D²f)/∂x' (n²×n) and
D⁴f = ∂vec(D³f)/∂x' (n³×n): each order is the Jacobian of the vec of the one before.  ricci
writes the derivatives of order 3 and up as tensors (no matrix form), so the method cannot write
the differential of D³f's text.  It takes the highest order m that has a matrix form (m = 0: the
function itself) and differentiates it in a fixed direction h instead: f3 = df2 at dx = h has
vec f3 = D³f h, a matrix function of x again (linear in h).  Its differential is brought to
vec df3 = J vec dx as any other (:mod:`.identify`); since d(D³f h) = (dD³f) h,
vec d(D³f h) = (h' ⊗ I) vec dD³f = (h' ⊗ I) D⁴f dx, so J = (h' ⊗ I) D⁴f for every h and D⁴f
stacks J at h = e_1, …, e_n.  One fixed direction per missing order:
J = (h1' ⊗ I)(h2' ⊗ I)… D^k f.  The same holds for a matrix X (directions of X's shape, vec X for
x) and for a vector or matrix F.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..language import ast as A
from . import formula as F
from .dforms import d_of
from .differentials import Differentials, NoRule, fresh_name, names_in, substitute
from .steps import Step

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Direction:
    """One differential in a fixed direction: ``after`` = d``before`` at dx = ``h``."""

    h: str
    before: str
    after: str
    expr: object  # ``after`` typed, in the input language (h a variable of x's kind), with its bindings


@dataclass(frozen=True)
class Higher:
    """The route: the order ``below`` with a matrix form, its expression, the directions, and the
    last directional derivative (what the method differentiates once more)."""

    below: int
    first: object
    directions: tuple
    expr: object
    kinds: dict
    letter: str  # f for a scalar function, F otherwise

    def D(self, k: int) -> str:
        """D⁴f, DF: the derivative of order k in Magnus and Neudecker's notation."""
        return "D" + (str(k).translate(_SUPERSCRIPTS) if k > 1 else "") + self.letter


def order_name(m: int, letter: str) -> str:
    """The name the steps give the derivative of order m: f (the function), g, f2, f3, …"""
    return letter if m == 0 else "g" if m == 1 else f"f{m}"


def through_vec(p) -> Higher:
    """The route for the Problem ``p`` (order k ≥ 2, order k − 1 without a matrix form)."""
    from ..derivation import derivative
    from ..language.expression import typed_tree

    d = p.d
    if len(p.names) != 1:  # a list of scalars: every order is a matrix, so this is never reached
        raise NoRule("the differential method fixes directions of one variable, not of a list")
    # the function, or the highest order below with a matrix form: typed as it was built (the
    # function's Expression, the derivative's typed answer), not its text parsed again
    below, first = 0, d.expression
    for m in range(d.order - 2, 0, -1):
        prev = derivative(d.expression, d.wrt, m, p.kinds)  # typed: not parsed again
        if prev.matrix is not None:
            below, first = m, prev.as_expression()
            break
    letter = "f" if d.expression.type.is_scalar else "F"
    kinds = dict(p.kinds)
    expr = first
    x = p.names[0]
    count = d.order - 1 - below
    out = []
    for i in range(count):
        diff = Differentials(expr, (x,))
        taken = set(kinds) | names_in(expr.tree) | set(diff.dnames.values())
        letter_h = "h" if p.form_kinds[x] == "vector" else "H"
        h = fresh_name(letter_h if count == 1 else f"{letter_h}{i + 1}", taken)
        body = substitute(diff.total(), {diff.dnames[x]: A.Name(h)})
        kinds[h] = p.form_kinds[x]
        tree = A.Where(body, diff.bindings) if diff.bindings else body
        expr = typed_tree(tree, kinds)  # the tree itself, not its printed text
        out.append(Direction(h, order_name(below + i, letter), order_name(below + i + 1, letter), expr))
    return Higher(below, first, tuple(out), expr, kinds, letter)


# -- the steps ---------------------------------------------------------------------------------------
def _wrt(p) -> str:
    x = p.names[0]
    return f"{x}'" if p.form_kinds[x] == "vector" else f"(vec {x})'"


def steps(higher: Higher, p) -> list[Step]:
    """The steps before the differential: the order with a matrix form, and each fixed direction."""
    k, m, x = p.order, higher.below, p.names[0]
    first = order_name(m, higher.letter)
    what = "the function" if m == 0 else f"the derivative of order {m}"
    out = [Step("differentiate again", f"Differentiate {what}", F.words(f"{first} = ") + F.expr(higher.first.shown),
                F.words(f"the derivative of order {k - 1} has no matrix form (a tensor); as Magnus and Neudecker, "
                        f"{higher.D(k)} = ∂vec {higher.D(k - 1)}/∂{_wrt(p)}, the Jacobian of the vec of the order "
                        f"below: {first} is differentiated in a fixed direction for each order without a matrix "
                        "form, then once more"))]
    for i, r in enumerate(higher.directions):
        hs = ", ".join(s.h for s in higher.directions[: i + 1])
        out.append(Step("direction", f"Differential in a fixed direction {r.h}",
                        F.words(f"{r.after} = ") + d_of(r.before) + F.words(f" at d{x} = {r.h} = ") + F.expr(r.expr.shown),
                        F.words(f"{r.h} is held fixed (d{r.h} = 0): vec {r.after} is {higher.D(m + i + 1)} "
                                f"applied to {hs}")))
    return out


def what(higher: Higher, p) -> str:
    hs = ", ".join(r.h for r in higher.directions)
    return f"{higher.directions[-1].after}, ricci's derivative of order {p.order - 1} applied to {hs}"


def identification(higher: Higher, p) -> F.Formula:
    """Why J gives D^k f: J = (h1' ⊗ I)… D^k f for every choice of the directions."""
    k = p.order
    x = p.names[0]
    vector = p.form_kinds[x] == "vector"
    factors = "".join(f"({r.h}' ⊗ I)" if vector else f"((vec {r.h})' ⊗ I)" for r in higher.directions)
    units = "the unit vectors e_1, …, e_n" if vector else f"the unit matrices of {x}'s shape, in vec order"
    hs = ", ".join(r.h for r in higher.directions)
    return F.words(f"; J is {higher.D(k)} applied to {hs}: with {higher.D(k)} = ∂vec {higher.D(k - 1)}/∂{_wrt(p)}, "
                   f"{factors} {higher.D(k)} = J for every {hs}, so {higher.D(k)} stacks J at {hs} = {units}")


# -- the numbers --------------------------------------------------------------------------------------
def stacked(identified, higher: Higher, p):
    """``identified`` with its value D^k f (vec F by the directions and x, as vec stacks it) built
    from J at each choice of unit directions."""
    value = identified.value
    x = p.names[0]
    j = len(higher.directions)

    def at_units(values):
        shape = np.shape(np.asarray(values[x], dtype=float))
        nx = int(np.prod(shape))
        out = None
        for idx in np.ndindex(*(nx,) * j):
            at = dict(values)
            for r, a in zip(higher.directions, idx):
                e = np.zeros(nx)
                e[a] = 1.0
                at[r.h] = e.reshape(shape, order="F")
            J = value(at)
            if J is None:  # dF = 0 whatever the directions
                return None
            J = np.asarray(J, dtype=float).reshape(-1, nx)
            if out is None:
                out = np.zeros((J.shape[0],) + (nx,) * j + (nx,))
            out[(slice(None),) + idx + (slice(None),)] = J
        return out.reshape((-1, nx), order="F")

    return replace(identified, value=at_units)
