"""Critical points of f: R² → R inside the plotted box, each classified by its Hessian.

Two sources, tried in order:

1. ``ricci.analyse`` (the analysis stage), when it is installed, the field is a function of two
   named scalars without fixed parameters, and its answer can be read; its points are kept when
   ricci's own gradient vanishes there (a check, not a trust).  See :func:`_from_analysis`.
2. Otherwise a numerical search, documented here: Newton's method on ∇f = 0,
   p ← p − H(p)⁺ ∇f(p) (pseudo-inverse, so a singular Hessian is no failure), started from a
   ``starts`` × ``starts`` grid over the box and from the chosen point, at most ``MAX_STEPS``
   steps each.  A start counts when it ends inside the box with ‖∇f‖ ≤ ``tol``, where
   ``tol = 1e-7 · max(1, median ‖∇f‖ over the starts)``; points closer than 10⁻⁴ of the box are
   one point.  Like every multi-start search it can miss a point between the starts; it never
   reports a point where ∇f does not vanish.

Classification (the lecture's second-order test) by the eigenvalues λ of the Hessian, with
``eps = 1e-6 · max(1, max |λ|)``: all λ > eps a minimum, all λ < −eps a maximum, λ of both signs a
saddle, otherwise "degenerate" (the second-order test is inconclusive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import limits as _limits
from ..language.errors import RicciError
from .problem import Field

KINDS = ("minimum", "maximum", "saddle", "degenerate")
MAX_STEPS = 40


@dataclass(frozen=True)
class CriticalPoint:
    point: tuple[float, float]
    kind: str                        # one of KINDS
    eigenvalues: tuple[float, float]


def classify(eigenvalues) -> str:
    lam = np.asarray(eigenvalues, dtype=float)
    eps = 1e-6 * max(1.0, float(np.max(np.abs(lam))))
    if np.all(lam > eps):
        return "minimum"
    if np.all(lam < -eps):
        return "maximum"
    if np.any(lam > eps) and np.any(lam < -eps):
        return "saddle"
    return "degenerate"


def _eig(field: Field, p) -> np.ndarray:
    H = field.hessian(p)
    if not np.all(np.isfinite(H)):
        return np.array([np.nan, np.nan])
    return np.linalg.eigvalsh((H + H.T) / 2)


def _inside(p, box, slack=1e-9) -> bool:
    return all(lo - slack * (hi - lo) <= v <= hi + slack * (hi - lo) for v, (lo, hi) in zip(p, box))


def find(field: Field, starts: int = 6, use_analysis: bool = True) -> tuple[list[CriticalPoint], str]:
    """The critical points in ``field.range`` and the method that found them."""
    box = field.range
    grads = []
    for a in np.linspace(*box[0], starts):
        for b in np.linspace(*box[1], starts):
            g = field.gradient(np.array([a, b]))
            if np.all(np.isfinite(g)):
                grads.append(float(np.linalg.norm(g)))
    tol = 1e-7 * max(1.0, float(np.median(grads)) if grads else 1.0)

    if use_analysis and field.analysable is not None:
        found = _from_analysis(field, tol)
        if found is not None:
            return found, "ricci.analyse"
    return _search(field, starts, tol), "numeric search"


def _dedupe_and_classify(field: Field, points, tol) -> list[CriticalPoint]:
    box = field.range
    size = max(hi - lo for lo, hi in box)
    out: list[CriticalPoint] = []
    for p in points:
        if any(np.hypot(p[0] - q.point[0], p[1] - q.point[1]) < 1e-4 * size for q in out):
            continue
        lam = _eig(field, p)
        if not np.all(np.isfinite(lam)):
            continue
        # a coordinate within 10⁻⁶ of the box of 0 is 0 (Newton creeps to a degenerate point)
        clean = tuple(float(v) if abs(v) > 1e-6 * size else 0.0 for v in p)
        out.append(CriticalPoint(clean, classify(lam), (float(lam[0]), float(lam[1]))))
    return sorted(out, key=lambda c: c.point)


def _search(field: Field, starts: int, tol: float) -> list[CriticalPoint]:
    box = field.range
    diag = float(np.hypot(box[0][1] - box[0][0], box[1][1] - box[1][0]))
    seeds = [np.array([a, b]) for a in np.linspace(*box[0], starts) for b in np.linspace(*box[1], starts)]
    seeds.append(np.asarray(field.at, dtype=float))
    found = []
    for p in seeds:
        p = p.astype(float)
        for _ in range(MAX_STEPS):
            _limits.tick()
            g = field.gradient(p)
            if not np.all(np.isfinite(g)):
                break
            if np.linalg.norm(g) <= tol:
                break
            H = field.hessian(p)
            if not np.all(np.isfinite(H)):
                break
            step = np.linalg.pinv(H) @ g
            n = float(np.linalg.norm(step))
            if n == 0.0:
                break
            if n > 0.5 * diag:  # a wild step: shorten it, stay near the box
                step *= 0.5 * diag / n
            p = p - step
            if not _inside(p, box, slack=0.5):
                break
        g = field.gradient(p)
        if np.all(np.isfinite(g)) and np.linalg.norm(g) <= tol and _inside(p, box):
            found.append(p)
    return _dedupe_and_classify(field, found, tol)


def _from_analysis(field: Field, tol: float) -> list[CriticalPoint] | None:
    """Critical points from ``ricci.analyse``, or None when it is missing or unreadable.

    The analysis stage is being built alongside this module, so its result is read
    defensively: the box is passed as ``box={name: (lo, hi)}`` (and ``convexity=False``: only the
    points are needed) when ``analyse`` takes them; the
    points are a sequence under ``critical_points``, ``critical`` or ``critical.points``, each
    giving its point as ``values``/``point``/``at`` (a mapping name → value, or a sequence).
    Each point is classified here by the second-order test from ricci's Hessian, so the marks
    and the curvature drawn agree; where that test is inconclusive, the analysis' own
    ``classification`` is kept when it names a type (it may decide by higher-order terms).
    """
    import inspect

    try:
        import ricci

        analyse = getattr(ricci, "analyse", None)
        if analyse is None:
            return None
        expression, wrt, kinds = field.analysable
        extra = {"box": {n: tuple(iv) for n, iv in zip(wrt, field.range)}, "convexity": False}
        try:
            params = inspect.signature(analyse).parameters
            open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
            extra = {k: v for k, v in extra.items() if k in params or open_ended}
        except (TypeError, ValueError):
            extra = {}
        try:
            result = analyse(expression, wrt, kinds=kinds or None, **extra)
        except TypeError:  # an option it does not take after all
            result = analyse(expression, wrt, kinds=kinds or None)
        items = _critical_items(result)
        if items is None:
            return None
        points, verdicts = [], []
        for item in items:
            p = _read_point(item, wrt)
            if p is None:
                return None
            g = field.gradient(p)
            if _inside(p, field.range) and np.all(np.isfinite(g)) and np.linalg.norm(g) <= max(tol, 1e-6):
                points.append(p)
                verdicts.append(_verdict(item))
        found = _dedupe_and_classify(field, points, tol)
        for i, c in enumerate(found):
            if c.kind == "degenerate":
                k = next((v for p, v in zip(points, verdicts)
                          if v and np.allclose(p, c.point, atol=1e-4 * _size(field))), None)
                if k:
                    found[i] = CriticalPoint(c.point, k, c.eigenvalues)
        return found
    except (ImportError, AttributeError, TypeError, ValueError, KeyError, RicciError):
        return None


def _size(field: Field) -> float:
    return max(hi - lo for lo, hi in field.range)


def _get(obj, name):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _critical_items(result):
    for name in ("critical_points", "critical"):
        found = _get(result, name)
        if found is None:
            continue
        points = _get(found, "points")
        items = points if points is not None else found
        if isinstance(items, (list, tuple)):
            return items
    return None


def _verdict(item) -> str | None:
    """The analysis' type for a point, when its words name one of ours."""
    words = str(_get(item, "classification") or _get(item, "kind") or _get(item, "type") or "").lower()
    if "inconclusive" in words or "undecided" in words:
        return None
    named = [k for k in ("saddle", "minimum", "maximum") if k in words]
    return named[0] if len(named) == 1 else None


def _read_point(item, wrt) -> np.ndarray | None:
    for attr in ("values", "point", "at", "location"):
        v = _get(item, attr)
        if v is None:
            continue
        if isinstance(v, dict):
            if not all(n in v for n in wrt):
                return None
            v = [v[n] for n in wrt]
        try:
            arr = np.asarray(v, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            return None
        return arr if arr.size == 2 and np.all(np.isfinite(arr)) else None
    return None
