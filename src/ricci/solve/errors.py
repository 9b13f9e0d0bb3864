"""Errors of ``ricci.minimize``: what stops a solve, each a :class:`ricci.RicciError`."""

from __future__ import annotations

from ..language.errors import RicciError


class SolveError(RicciError):
    """A problem that cannot be solved as posed: non-finite values on the way, an infeasible
    start, a method that cannot take the problem."""

    kind = "cannot solve"


class UnboundedError(SolveError):
    """f decreases without bound along the iterates: there is no minimum."""

    kind = "unbounded below"
