"""Convexity along random segments, for an f whose Hessian ricci does not give (the spectral and
nuclear norms: ``Problem.no_hessian``).

f is convex exactly when f((a + b)/2) ≤ (f(a) + f(b))/2 for every a, b of its (convex) domain
(midpoint convexity, with continuity).  Without a Hessian to sample, random segments are tried
(seeded, as the Hessian's points are): a segment where the midpoint lies above the chord is a
witness that f is not convex, one where it lies below that f is not concave.  No number of
segments proves convexity; the function table's facts (analysis/curvature.py) do that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..language.errors import RicciError

#: A midpoint counts as above (below) the chord by more than this times the values' scale.
RTOL = 1e-9


@dataclass
class Segments:
    """What the segments showed: ``above`` is (excess, a, b, f(midpoint), chord) for the segment
    whose midpoint lies furthest above the chord (f is not convex), ``below`` the same for below."""

    tried: int = 0
    defined: int = 0
    above: tuple | None = None
    below: tuple | None = None
    sizes: dict = field(default_factory=dict)


def segments(problem, samples: int = 60, seed: int = 0) -> Segments:
    """Try ``samples`` random segments (parameters random too, unless ``at`` fixes them)."""
    sizes = problem.complete_sizes()
    out = Segments(sizes=sizes)
    for rng, scale in problem.draws(samples, seed):
        a = problem.random_values(rng, sizes, scale)
        b = problem.random_values(rng, sizes, scale, wrt={n: problem.random_value(n, rng, sizes, scale)
                                                          for n in problem.wrt_names})
        b.update({n: v for n, v in a.items() if n not in problem.wrt_names})  # the same parameters
        mid = {n: (v + b[n]) / 2 if n in problem.wrt_names else v for n, v in a.items()}
        out.tried += 1
        try:
            fa, fb, fm = problem.f(a), problem.f(b), problem.f(mid)
        except RicciError:
            continue
        if not all(np.isfinite(v) for v in (fa, fb, fm)):
            continue
        out.defined += 1
        chord = (fa + fb) / 2
        tol = RTOL * max(1.0, abs(fa), abs(fb))
        excess = fm - chord
        if excess > tol and (out.above is None or excess > out.above[0]):
            out.above = (excess, a, b, fm, chord)
        if -excess > tol and (out.below is None or -excess > out.below[0]):
            out.below = (-excess, a, b, fm, chord)
    return out
