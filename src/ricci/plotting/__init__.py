"""The geometric view: plots of slopes, gradients and curvature (``ricci.plot``).

Stages: :mod:`.problem` checks the inputs and decides the view (no matplotlib), :mod:`.critical`
finds and classifies critical points, :mod:`.draw` draws.  matplotlib is an optional extra
(``pip install "ricci[plot]"``) imported only when a figure is made.  The package is called
``plotting`` so that no submodule shadows the function ``ricci.plot``.
"""

from __future__ import annotations

from .. import limits as _limits
from ..hints import Hint, say
from ..language.errors import BadValueError, RicciError
from .problem import PLOTTABLE, VIEWS, build


class MissingDependencyError(RicciError, ImportError):
    """matplotlib is not installed (an ImportError too, for code that checks for one)."""

    kind = "missing dependency"


def _matplotlib():
    try:
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(say("ricci.plot needs matplotlib: ", Hint("install", None, "plot"))) from None
    return Figure


def _count(v, what: str, lowest: int) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < lowest or v > 2000:
        raise BadValueError(f"{what} must be a whole number from {lowest} to 2000, not {v!r}")
    return v


def plot(expression, wrt, at=None, range=None, kinds=None, *, values=None, view=None,
         derivative=True, samples=None, arrows=None, critical=True, figsize=None, dpi=100,
         timeout: float | None = _limits.DEFAULT_TIMEOUT, max_elements: int | None = _limits.MAX_ELEMENTS):
    """Draw ``expression`` as the lecture draws derivatives; returns a matplotlib ``Figure``.

    Shapes (see :data:`PLOTTABLE`); ``view`` ("curve", "field", "path") overrides the choice:

    - f: R → R (``wrt`` one scalar): the curve, the tangent at ``at`` with its slope written on
      it, and f′ below (``derivative=False`` leaves it out);
    - f: R² → R (``wrt=["x1", "x2"]``, or a vector ``wrt="x"`` with ``at=[a, b]``): filled
      contours, gradient arrows on a grid (uphill, length ∝ ‖∇f‖), the gradient and the Hessian's
      eigen-directions at ``at``, and the critical points in the box marked by type
      (``critical=True``: ``ricci.analyse`` when available, else a numerical search;
      ``"numeric"``: the search only; ``False``: none);
    - a path, ``"f(x1, x2) where x1 = …(t), x2 = …(t)"`` with ``wrt="t"``: x(t) on the
      contours of f, and h(t) = f(x(t)) with its tangent at ``at`` (the chain rule).

    ``at``: the point (a number; two numbers; or a dict by name).  ``range``: (low, high), or
    for a field ((low1, high1), (low2, high2)); by default the range is around ``at`` (±3, ±2
    for a field; a path's field box is around the path).  Without ``at`` the point is the middle
    of ``range``, or the first of 0, 1, −1, ½ where f and its derivative are defined.
    ``values``: fixed values of the other variables, e.g. ``{"A": [[2, 1], [1, 3]]}``.
    ``samples``: points per axis of the curve or the contour grid; ``arrows``: arrows per axis
    (0: none).  Bad inputs raise :class:`ricci.RicciError`.

    ``timeout`` (seconds, as for :func:`ricci.derivative`) bounds the whole plot — its
    derivatives, the grid, the critical points; ``max_elements`` every numeric array.  Over
    either, a :class:`ricci.LimitError`.  A caller may also run it inside
    ``with ricci.limits.budget(seconds):`` (the earlier deadline wins).
    """
    if critical not in (True, False, "numeric"):
        raise BadValueError(f"critical must be True, False or 'numeric', not {critical!r}")
    samples = _count(samples, "samples", 5)
    arrows = _count(arrows, "arrows", 0)
    # matplotlib is imported before the clock starts: an import is never cut in half.
    Figure = _matplotlib()
    from . import draw  # noqa: F401 - imported here too, before the clock starts

    with _limits.budget(timeout, _limits.MAX_NODES, "the plot", max_elements, _limits.WORK_ADVICE):
        return _draw(Figure, expression, wrt, at, range, kinds, values, view, derivative, samples, arrows,
                     critical, figsize, dpi)


def _draw(Figure, expression, wrt, at, range, kinds, values, view, derivative, samples, arrows, critical,
          figsize, dpi):
    problem = build(expression, wrt, at=at, span=range, kinds=kinds, values=values, view=view)
    from . import draw

    default_size = {"curve": (7.5, 7.5) if derivative else (7.5, 5), "field": (7.5, 7.5), "path": (13, 6.2)}
    if figsize is None:
        figsize = default_size[problem.view]
        if problem.view == "field":  # a wide box: a lower figure, not white space (equal axes)
            (x_lo, x_hi), (y_lo, y_hi) = problem.field.range
            figsize = (7.5, 2.2 + 5.3 * min(1.0, max(0.5, (y_hi - y_lo) / (x_hi - x_lo))))
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    if problem.view == "curve":
        draw.draw_curve(fig, problem, derivative=bool(derivative), samples=samples)
    elif problem.view == "field":
        draw.draw_field(fig, problem, samples=samples, arrows=13 if arrows is None else arrows,
                        critical=critical)
    else:
        draw.draw_path(fig, problem, samples=samples, arrows=11 if arrows is None else arrows)
    return fig


__all__ = ["PLOTTABLE", "VIEWS", "MissingDependencyError", "plot"]
