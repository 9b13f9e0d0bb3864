"""Random points that honour the kinds of a question, for comparing two answers numerically.

Invariants of every point :func:`sample` returns:

* every named dimension gets its own size, and the sizes change from point to point, so that a
  transposition or a swapped pair of dimensions cannot hide in a square or equal-size case;
* a ``symmetric matrix`` is symmetric; where ``inv``/``det``/``logdet`` appear it is symmetric
  positive definite;
* a general square matrix under ``inv``/``det``/``logdet`` is *not* symmetric (a symmetric value
  would hide ``inv(X)`` written for ``inv(X')``): it is ``I + E`` with ``‖E‖₂ < 1``, so its
  determinant is positive and it is well conditioned;
* names under ``log``, ``sqrt`` or a non-integer power get positive entries in [0.5, 2];
* every other entry is ±[0.1, 0.9], away from 0 (the kinks of ``abs``, ``sign``, ``relu``) and
  inside the domain of ``arcsin``/``arccos``.

Points where the right answer is not finite are thrown away and drawn again by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..functions import lookup
from ..language import ast as A
from ..language.kinds import MATRIX, SCALAR, SYMMETRIC, VECTOR

#: Sizes given to the named dimensions, rotated from one point to the next (all distinct).
SIZE_POOL = (3, 4, 5, 2, 6, 7, 8, 9, 10, 11)



@dataclass(frozen=True)
class Needs:
    """What the functions of the expressions ask of the values."""

    positive: frozenset[str] = frozenset()
    invertible: frozenset[str] = frozenset()

    def __or__(self, other: "Needs") -> "Needs":
        return Needs(self.positive | other.positive, self.invertible | other.invertible)


def _is_integer_exponent(node: A.Expr) -> bool:
    while isinstance(node, A.Neg):
        node = node.arg
    return isinstance(node, A.Num) and float(node.value).is_integer()


def needs_of(tree: A.Expr) -> Needs:
    """Names whose values must be positive or invertible for ``tree`` to be defined.

    A bound name stands for the names of its expression (``log(u) where u = t*x``).
    """
    expansions: dict[str, set[str]] = {}
    if isinstance(tree, A.Where):
        for name, e in tree.bindings:
            expansions[name] = _names_in(e, expansions)
    positive: set[str] = set()
    invertible: set[str] = set()
    for node in A.walk(tree):
        # what a function asks of its argument is its entry's (Function.needs in ricci.functions)
        fn = lookup(node.func) if isinstance(node, A.Call) else None
        needs = fn.needs if fn is not None else None
        if needs == "positive":
            for arg in node.args:
                positive |= _names_in(arg, expansions)
        elif needs == "conditioned":
            for arg in node.args:
                invertible |= _names_in(arg, expansions)
        elif isinstance(node, A.BinOp) and node.op in ("^", ".^") and not _is_integer_exponent(node.right):
            positive |= _names_in(node.left, expansions)
    return Needs(frozenset(positive), frozenset(invertible))


def _names_in(node: A.Expr, expansions: dict[str, set[str]]) -> set[str]:
    out: set[str] = set()
    for n in A.walk(node):
        if isinstance(n, A.Name):
            out |= expansions.get(n.name, {n.name})
    return out


def dimension_sizes(variables: dict, shift: int) -> dict:
    """Named dimension → size: distinct sizes from :data:`SIZE_POOL`, rotated by ``shift``."""
    dims: list = []
    for v in variables.values():
        for d in v.dims:
            if not isinstance(d, int) and d not in dims:
                dims.append(d)
    pool = list(SIZE_POOL) + list(range(SIZE_POOL[-1] + 1, SIZE_POOL[-1] + 1 + len(dims)))
    return {d: pool[(i + shift) % len(pool)] for i, d in enumerate(dims)}


def sample(variables: dict, needs: Needs, rng: np.random.Generator, shift: int) -> dict:
    """One random point: name → float (scalar), 1-D array (vector) or 2-D array (matrix)."""
    sizes = dimension_sizes(variables, shift)
    values: dict = {}
    for name, var in variables.items():
        shape = tuple(d if isinstance(d, int) else sizes[d] for d in var.dims)
        positive = name in needs.positive
        if var.kind == SCALAR:
            mag = rng.uniform(0.5, 2.0) if positive else rng.uniform(0.3, 1.2)
            values[name] = float(mag if positive else rng.choice([-1.0, 1.0]) * mag)
            continue
        if var.kind == VECTOR:
            values[name] = _entries(rng, shape, positive)
            continue
        square = len(shape) == 2 and shape[0] == shape[1]
        if var.kind == SYMMETRIC:
            values[name] = _symmetric(rng, shape[0], positive, name in needs.invertible)
        elif var.kind == MATRIX and square and name in needs.invertible:
            values[name] = _invertible(rng, shape[0], positive)
        else:
            values[name] = _entries(rng, shape, positive)
    return values


def symmetrised(values: dict, names) -> dict:
    """The same point with the matrices ``names`` replaced by their symmetric parts (M + M')/2.

    ``I + E`` with ``‖E‖₂ < 1`` stays positive definite, so a domain is kept.
    """
    out = dict(values)
    for n in names:
        m = np.asarray(out[n])
        out[n] = (m + m.T) / 2
    return out


def _entries(rng, shape, positive: bool) -> np.ndarray:
    if positive:
        return rng.uniform(0.5, 2.0, size=shape)
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 0.9, size=shape)


def _invertible(rng, n: int, positive: bool) -> np.ndarray:
    """A non-symmetric n×n matrix with a positive determinant, well conditioned."""
    if positive:  # positive entries, strictly diagonally dominant
        return np.eye(n) + rng.uniform(0.1, 0.5, size=(n, n)) / n
    e = rng.uniform(-1.0, 1.0, size=(n, n))
    e *= 0.6 / max(1e-12, np.linalg.norm(e, 2))
    return np.eye(n) + e


def _symmetric(rng, n: int, positive: bool, definite: bool) -> np.ndarray:
    if positive:
        a = rng.uniform(0.1, 0.5, size=(n, n)) / n
        return np.eye(n) + (a + a.T) / 2 if definite else 0.5 + (a + a.T)
    if definite:
        g = rng.uniform(-1.0, 1.0, size=(n, n))
        return g @ g.T / n + np.eye(n)
    a = _entries(rng, (n, n), False)
    return (a + a.T) / 2
