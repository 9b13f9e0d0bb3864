"""Finite differences of a function of arrays, at any order: the numbers ``d.check`` compares
ricci's derivatives with (:mod:`ricci.numeric_check`).

* :func:`finite_difference` — the first derivative: central differences at the steps h, h/2,
  h/4, Richardson-extrapolated (error O(h⁴)), with an estimate of their own error.
* :func:`mixed_difference` — the derivative of order k ≥ 2, from the function's own values
  (never from a derivative that is itself being checked, so that a flaw shared by the orders, or
  by the evaluator that computes them, cannot hide): for k directions d₁ … d_k the product of k
  central differences, Σ over signs s ∈ {±1}^k of s₁⋯s_k f(x + t Σ s_m d_m) / (2t)^k, whose
  error is a series in t², Richardson-extrapolated as at order 1.  The derivative is symmetric
  in its directions, so only their combinations (not their orderings) are computed: order 3
  in a vector of 10 entries is 220 combinations of 8 points at 3 steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations_with_replacement, permutations, product

import numpy as np

from . import limits as _limits

#: Relative step of the first differences (then h/2 and h/4).
STEP = 4e-3
#: Relative step of the differences of order k ≥ 2 (the largest order's for any higher one):
#: larger than :data:`STEP`, since the rounding of f is amplified by 1/t^k, while the error of
#: the extrapolation is O(t⁴) at every order; each balances the two for entries of order 1.
STEPS = {2: 1e-2, 3: 2e-2}

_EPS = np.finfo(float).eps


@dataclass
class Differences:
    """Finite-difference derivative: ``value`` (shape g + wrt axes) and ``uncertainty`` (the
    largest difference between two Richardson extrapolations), ``magnitude`` (max |g|)."""

    value: np.ndarray
    uncertainty: float
    magnitude: float
    ok: bool = True
    why: str = ""
    #: the rounding of f's values, amplified by the differences (set by :func:`mixed_difference`:
    #: below it no order-k derivative can be told from another)
    noise: float = 0.0
    #: which entries were measured (wrt's axes, ``order`` times), when not all were: the others
    #: are NaN (see ``limit`` of :func:`mixed_difference`)
    measured: np.ndarray | None = None


def _directions(wrt, point: dict, symmetric: bool):
    """(axis index, {name: (entry index, weight)}) for every coordinate of wrt."""
    if isinstance(wrt, list):
        return [((k,), [(name, (), 1.0)]) for k, name in enumerate(wrt)]
    x = np.asarray(point[wrt], dtype=float)
    if x.ndim == 0:
        return [((), [(wrt, (), 1.0)])]
    if x.ndim == 1:
        return [((i,), [(wrt, (i,), 1.0)]) for i in range(x.shape[0])]
    out = []
    for i, j in np.ndindex(*x.shape):
        if symmetric and i != j:
            out.append(((i, j), [(wrt, (i, j), 1.0), (wrt, (j, i), 1.0)]))
        else:
            out.append(((i, j), [(wrt, (i, j), 1.0)]))
    return out


def _wrt_shape(wrt, point: dict) -> tuple:
    if isinstance(wrt, list):
        return (len(wrt),)
    return np.shape(point[wrt])


def _moved(point: dict, moves, t: float) -> dict:
    out = dict(point)
    for name, idx, w in moves:
        if idx == ():
            out[name] = float(out[name]) + w * t
        else:
            a = np.array(out[name], dtype=float)
            a[idx] += w * t
            out[name] = a
    return out


def finite_difference(g, wrt, point: dict, *, symmetric: bool = False, step: float = STEP,
                      accept=None) -> Differences:
    """∂g/∂wrt at ``point`` by central differences at steps h, h/2, h/4, Richardson-extrapolated.

    ``g(values) → array``; the result has g's shape followed by wrt's (for a list of scalars,
    one axis of their number).  ``symmetric``: a matrix wrt is moved along E_ij + E_ji, so that
    it stays symmetric (entry (i, j) then holds the derivative in that direction).  ``accept``
    (values → bool) may refuse a moved point (one that crosses a kink or leaves a domain);
    the step is then made ten times smaller, twice, before the point is given up (``ok``)."""
    g0 = np.asarray(g(point), dtype=float)
    shape = _wrt_shape(wrt, point)
    out = np.zeros(g0.shape + tuple(shape))
    uncertainty = 0.0
    magnitude = float(np.max(np.abs(g0))) if g0.size else 0.0
    for axes, moves in _directions(wrt, point, symmetric):
        _limits.tick()
        x0 = max(abs(float(np.asarray(point[name])[idx])) for name, idx, _ in moves)
        h = step * max(1.0, x0)
        for _attempt in range(3):
            values = {}
            good = True
            for t in (h, h / 2, h / 4):
                for s in (t, -t):
                    moved = _moved(point, moves, s)
                    if accept is not None and not accept(moved):
                        good = False
                        break
                    values[s] = np.asarray(g(moved), dtype=float)
                if not good:
                    break
            if good:
                break
            h /= 10
        else:
            return Differences(out, math.inf, magnitude, False, "a step crosses a kink or leaves a domain")
        d = [(values[t] - values[-t]) / (2 * t) for t in (h, h / 2, h / 4)]
        r1 = (4 * d[1] - d[0]) / 3
        r2 = (4 * d[2] - d[1]) / 3
        out[(Ellipsis,) + axes] = r2
        if r2.size:
            uncertainty = max(uncertainty, float(np.max(np.abs(r1 - r2))))
            magnitude = max(magnitude, *(float(np.max(np.abs(v))) for v in values.values()))
            noise = 4 * _EPS * magnitude / (h / 4)
            uncertainty = max(uncertainty, noise)
    if not np.all(np.isfinite(out)):
        return Differences(out, math.inf, magnitude, False, "a finite difference is not finite")
    return Differences(out, uncertainty, magnitude)


def symmetrise_last(G: np.ndarray, n_axes: int = 2) -> np.ndarray:
    """The derivative along symmetric directions: entry (i, j) of the last two axes becomes
    G_ij + G_ji for i ≠ j, and stays G_ii on the diagonal (what :func:`finite_difference` with
    ``symmetric=True`` measures)."""
    T = np.swapaxes(G, -1, -2)
    out = G + T
    n = G.shape[-1]
    idx = np.arange(n)
    out[..., idx, idx] = G[..., idx, idx]
    return out


def symmetrise_slots(G: np.ndarray, order: int) -> np.ndarray:
    """:func:`symmetrise_last` applied to each of the slots 2 … ``order`` of an order-``order``
    derivative by a matrix (its last 2·order axes, a pair per slot): what
    :func:`mixed_difference` with ``symmetric=True`` measures."""
    for s in range(1, order):
        a = G.ndim - 2 * order + 2 * s
        G = np.moveaxis(symmetrise_last(np.moveaxis(G, (a, a + 1), (-2, -1))), (-2, -1), (a, a + 1))
    return G


def _combinations(first: list, rest: list, order: int, symmetric: bool):
    """The combinations of directions to difference along, as index tuples (slot 1 into
    ``first``, the others into ``rest``), and for each the orderings of the slots that share its
    value (the derivative is symmetric in the slots whose directions are of one kind)."""
    if not symmetric:
        for c in combinations_with_replacement(range(len(rest)), order):
            yield c, list(dict.fromkeys(permutations(c)))
        return
    for a in range(len(first)):
        for c in combinations_with_replacement(range(len(rest)), order - 1):
            yield (a,) + c, [(a,) + p for p in dict.fromkeys(permutations(c))]


def mixed_difference(f, wrt, point: dict, order: int, *, symmetric: bool = False,
                     step: float | None = None, look=None, limit: int | None = None,
                     rng=None) -> Differences:
    """∂^order f/∂wrt^order at ``point`` from f's own values (see the module's docstring).

    ``f(values) → array``; the result has f's shape followed by wrt's, ``order`` times.
    ``symmetric``: slot 1 moves a matrix wrt entry by entry (the plain partial derivative, as at
    order 1), the others along E_ij + E_ji (the part that does not depend on how f is extended
    off the symmetric matrices; compare with :func:`symmetrise_slots` of the derivative).
    ``look(values) → array | None`` gives f's value at a moved point, or None to refuse it (a
    step that crosses a kink or leaves a domain); it is asked at the largest step of every
    combination (the points of the smaller steps lie between those and ``point``), ``f`` at the
    others.  A refused step is made four times smaller, twice, before the point is given up.
    ``limit``: at most that many combinations, drawn with ``rng`` (a NumPy generator), when
    there are more; the entries of the others are NaN and ``measured`` says which are not.

    The three steps' sums are extrapolated twice (error O(t⁶)); the uncertainty is the
    estimated error of the once-extrapolated value, |r₁ − r₂|/15, or the rounding, whichever is
    larger."""
    if step is None:
        step = STEPS.get(order, STEPS[max(STEPS)])
    f0 = np.asarray(f(point), dtype=float)
    first = _directions(wrt, point, False)
    rest = _directions(wrt, point, symmetric)
    out = np.zeros(f0.shape + tuple(_wrt_shape(wrt, point)) * order)
    magnitude = float(np.max(np.abs(f0))) if f0.size else 0.0
    uncertainty, noise = 0.0, 0.0
    seen: dict = {(): (f0, True)}  # f at a point (its moves, scaled), and whether it was looked at

    def value(coefficients: dict, t: float, looked: bool):
        key = tuple(sorted((name, idx, c * t) for (name, idx), c in coefficients.items() if c))
        got = seen.get(key)
        if got is None or (looked and not got[1]):
            moved = _moved(point, [(name, idx, c) for (name, idx), c in coefficients.items() if c], t)
            v = look(moved) if looked else f(moved)
            got = seen[key] = (None if v is None else np.asarray(v, dtype=float), looked)
        return got[0]

    combinations = list(_combinations(first, rest, order, symmetric))
    measured = None
    if limit is not None and len(combinations) > limit:
        chosen = sorted(int(i) for i in rng.choice(len(combinations), size=limit, replace=False))
        combinations = [combinations[i] for i in chosen]
        out[...] = np.nan
        measured = np.zeros(out.shape[f0.ndim:], dtype=bool)
    for combo, slots in combinations:
        _limits.tick()
        directions = [first[combo[0]] if symmetric else rest[combo[0]]] + [rest[i] for i in combo[1:]]
        x0 = max(abs(float(np.asarray(point[name])[idx])) for _, moves in directions for name, idx, _ in moves)
        h = step * max(1.0, x0)
        for _attempt in range(3):
            sums = []
            for t in (h, h / 2, h / 4):
                total = np.zeros_like(f0)
                for signs in product((1, -1), repeat=order):
                    coefficients: dict = {}
                    for s, (_, moves) in zip(signs, directions):
                        for name, idx, w in moves:
                            coefficients[(name, idx)] = coefficients.get((name, idx), 0.0) + s * w
                    v = value(coefficients, t, look is not None and t == h)
                    if v is None:
                        break
                    total = total + math.prod(signs) * v
                    magnitude = max(magnitude, float(np.max(np.abs(v))) if v.size else 0.0)
                else:
                    sums.append(total / (2 * t) ** order)
                    continue
                break
            if len(sums) == 3:
                break
            h /= 4
        else:
            return Differences(out, math.inf, magnitude, False, "a step crosses a kink or leaves a domain")
        r1 = (4 * sums[1] - sums[0]) / 3
        r2 = (4 * sums[2] - sums[1]) / 3
        for s in slots:
            axes = tuple(a for k, i in enumerate(s) for a in (first if symmetric and k == 0 else rest)[i][0])
            out[(Ellipsis,) + axes] = (16 * r2 - r1) / 15
            if measured is not None:
                measured[axes] = True
        if r2.size:
            uncertainty = max(uncertainty, float(np.max(np.abs(r1 - r2))) / 15)
            # each sum adds 2^k values of f over (2t)^k; the extrapolations multiply that by < 3
            noise = max(noise, 4 * _EPS * magnitude / (h / 4) ** order)
    uncertainty = max(uncertainty, noise)
    if not np.all(np.isfinite(out if measured is None else out[..., measured])):
        return Differences(out, math.inf, magnitude, False, "a finite difference is not finite")
    return Differences(out, uncertainty, magnitude, noise=noise, measured=measured)
