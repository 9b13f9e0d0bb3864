"""Check a hand-derived derivative against ricci's, and say what kind of mistake it is.

``ricci.compare(expression, wrt, answer)`` returns a :class:`Verdict`: "equal", "equal in the
other layout", "slip" (with ``kind_of_slip``: a factor, a sign, a missing transpose, a missing
term, an assumed symmetry, the symmetric-matrix convention, a wrong shape), "different" (with a
witness point) or "invalid".  The package is named ``comparison`` rather than ``compare`` so that
importing it never shadows the function ``ricci.compare``.

Modules: :mod:`.engine` (the judging), :mod:`.points` (random values that honour kinds),
:mod:`.shapes` (expected and candidate shapes), :mod:`.rewrite` (AST rewrites for the slips),
:mod:`.verdict` (the result object).
"""

from __future__ import annotations

from .engine import compare
from .verdict import SLIPS, VERDICTS, Evidence, Verdict

__all__ = ["compare", "Verdict", "Evidence", "VERDICTS", "SLIPS"]
