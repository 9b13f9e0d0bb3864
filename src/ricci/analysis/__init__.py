"""Analyse a scalar function: the Hessian's definiteness at a point, critical points and their
classification, and convexity (the lecture's Hessian section).

``analyse`` composes the modules of this package:

* :mod:`.problem`      f, ∇f and the Hessian on flat coordinates; random points;
* :mod:`.definiteness` eigenvalues → PD / PSD / ND / NSD / indefinite, with the tolerance;
* :mod:`.critical`     ∇f = 0, solved with SymPy or searched numerically; classification;
* :mod:`.convexity`    structural proofs over the Hessian's matrix form, and witnesses;
* :mod:`.signs`, :mod:`.to_sympy`, :mod:`.structure`   the tools the proofs use;
* :mod:`.result`       the answer object (text, JSON, HTML).

SymPy is optional (``pip install "ricci[analysis]"``): without it, critical points are searched
numerically and the proofs that need algebra (merged diagonals, Cauchy–Schwarz) say "unknown".
"""

from __future__ import annotations

from .. import limits as _limits
from . import definiteness as _D
from .result import Analysis


def analyse(expression, wrt, at=None, kinds=None, *, assume=None, box=None, method: str = "auto",
            convexity: bool = True, samples: int = 60, starts: int = 100, seed: int = 0,
            rtol: float = _D.RTOL, atol: float = _D.ATOL,
            timeout: float | None = _limits.DEFAULT_TIMEOUT,
            max_elements: int | None = _limits.MAX_ELEMENTS) -> Analysis:
    """Analyse the scalar function ``expression`` of ``wrt`` (a name, or a list of scalar names).

    at        values: of the variables differentiated by (the point to analyse) and/or of the
              other variables (parameters: fixed for the whole analysis; they also fix sizes)
    kinds     declared kinds, as for :func:`ricci.derivative`
    assume    {"A": "psd" | "pd" | "nsd" | "nd"} for matrices (then symmetric unless declared
              otherwise), {"c": "positive" | "nonnegative" | "negative" | "nonpositive"} for entries
    box       where to list critical points: (lo, hi) for every coordinate or {name: (lo, hi)}
    method    critical points: "auto" (SymPy, then numerical), "symbolic", or "numeric"
    samples   random points tried for witnesses of (non-)convexity; ``starts`` for the numerical
              critical-point search; ``seed`` makes both reproducible
    rtol/atol an eigenvalue λ counts as zero when |λ| ≤ max(rtol·max|λ|, atol)
    timeout   seconds for the whole analysis (its derivatives, points, searches), as for
              :func:`ricci.derivative`; ``max_elements`` bounds every numeric array.  Over either,
              a :class:`ricci.LimitError`.  A caller may also run it inside
              ``with ricci.limits.budget(seconds):`` (the earlier deadline wins).  SymPy's solver
              cannot be interrupted: the clock is read before and after each of its calls.
    """
    with _limits.budget(timeout, _limits.MAX_NODES, "the analysis", max_elements, _limits.WORK_ADVICE):
        return _analyse(expression, wrt, at, kinds, assume, box, method, convexity, samples, starts, seed,
                        rtol, atol)


def _analyse(expression, wrt, at, kinds, assume, box, method, convexity, samples, starts, seed,
             rtol, atol) -> Analysis:
    from ..language.errors import BadValueError
    from .convexity import analyse_convexity
    from .critical import find_critical_points
    from .problem import Problem
    from .result import analyse_point

    for name, v in (("samples", samples), ("starts", starts), ("seed", seed)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise BadValueError(f"{name} must be a non-negative integer, not {v!r}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
            raise BadValueError(f"{name} must be a number in [0, 1), not {v!r}")
    problem = Problem(expression, wrt, at, kinds, assume)
    notes: list[str] = []
    point = critical = None
    if problem.at_point:
        if box is not None:
            raise BadValueError("box is for the critical-point search; at already gives the point")
        point = analyse_point(problem, rtol, atol)
    elif problem.hessian_d is None:  # the search solves ∇f = 0 with the Hessian and classifies by it
        from .critical import CriticalSearch, eligible

        why = eligible(problem) or f"the Hessian, which the search needs, is {problem.no_hessian}"
        if box is not None:
            raise BadValueError(f"box is given, but {why}")
        critical = CriticalSearch("not attempted", False, notes=[why])
    else:
        critical = find_critical_points(problem, box, method, starts, seed, rtol, atol)
    conv = analyse_convexity(problem, samples, seed) if convexity else None
    if conv is not None and conv.convex and critical is not None and critical.points:
        notes.append("f is convex, so every critical point is a global minimum")
    if conv is not None and conv.concave and critical is not None and critical.points:
        notes.append("f is concave, so every critical point is a global maximum")
    return Analysis(problem, point, critical, conv, notes)


__all__ = ["Analysis", "analyse"]
