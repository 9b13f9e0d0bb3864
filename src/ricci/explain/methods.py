"""The two methods of derivation, and ``d.steps(method=…)`` choosing between them.

``d.steps`` is the lecture's method (the chain rule as a product of Jacobians, :mod:`.derive`);
called, ``d.steps(method="differentials")`` gives the differential method
(:mod:`.by_differentials`): dF rule by rule, the standard form, the identification.  The
derivation module is imported when asked for, so the lecture's steps do not load it.
"""

from __future__ import annotations

from ..language.errors import BadValueError
from . import METHODS  # the methods of ``d.steps(method=…)``, the lecture's first
from .steps import Steps


class MethodSteps(Steps):
    """The lecture's steps, which also answer ``d.steps(method=…)``."""

    def __call__(self, method: str = "jacobians", **options) -> Steps:
        """``d.steps(method=…)``: ``"jacobians"`` (these steps; with ``options`` as for
        ``d.explain``) or ``"differentials"`` (the differential method)."""
        return steps(self.derivative, method, **options) if (method != "jacobians" or options) else self


def steps(d, method: str = "jacobians", **options) -> Steps:
    """The steps of ``d`` by ``method``, one of :data:`METHODS`."""
    if method not in METHODS:
        raise BadValueError(f"method must be one of {', '.join(repr(m) for m in METHODS)}, not {method!r}")
    if method == "differentials":
        from .by_differentials import differentials

        return differentials(d)
    return d.explain(**options)
