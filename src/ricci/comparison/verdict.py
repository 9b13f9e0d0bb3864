"""The verdict on a candidate answer: what it is, why, and the numbers that show it.

A :class:`Verdict` is immutable data.  ``str(v)`` is the text the command line prints,
``v._repr_html_()`` what a notebook shows, ``v.to_json()`` a plain dict for the web page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from ..hints import hints_of, render

#: The verdicts, best first.
EQUAL = "equal"
OTHER_LAYOUT = "equal in the other layout"
SLIP = "slip"
DIFFERENT = "different"
INVALID = "invalid"
VERDICTS = (EQUAL, OTHER_LAYOUT, SLIP, DIFFERENT, INVALID)

#: The known slips (``Verdict.kind_of_slip`` when the verdict is "slip").
FACTOR = "factor"
SIGN = "sign"
TRANSPOSE = "missing transpose"
MISSING_TERM = "missing term"
ASSUMED_SYMMETRIC = "assumed symmetric"
SYMMETRIC_CONVENTION = "symmetric-matrix convention"
WRONG_SHAPE = "wrong shape"
#: the differential method's own (comparison/differentials.py): tr(G dX) for tr(G'dX), and a K left out
LOST_TRANSPOSE = "lost transpose"
MISSING_COMMUTATION = "missing commutation matrix"
SLIPS = (FACTOR, SIGN, TRANSPOSE, MISSING_TERM, ASSUMED_SYMMETRIC, SYMMETRIC_CONVENTION, WRONG_SHAPE,
         LOST_TRANSPOSE, MISSING_COMMUTATION)


def _plain(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


@dataclass(frozen=True)
class Evidence:
    """The numbers behind a verdict.

    ``points``: the random points used (name → value); ``errors``: at each point, the largest
    |answer − right answer| entry after the transformation the verdict names (the layout, the
    factor, …), so they are ~0 for every verdict but "different"; ``symbolic``: whether both
    answers simplify to the same text (None: not tried or not available); ``witness``: for
    "different", the point where they differ most, both values and the difference; ``tried``:
    the transformed answers tested, in order.
    """

    points: tuple = ()
    errors: tuple = ()
    symbolic: bool | None = None
    witness: dict | None = None
    tried: tuple = ()

    def to_json(self) -> dict:
        return {"points": _plain(list(self.points)), "errors": [float(e) for e in self.errors],
                "symbolic": self.symbolic, "witness": _plain(self.witness), "tried": list(self.tried)}


@dataclass(frozen=True)
class Verdict:
    """What :func:`ricci.compare` found about a hand-derived answer."""

    verdict: str
    kind_of_slip: str | None
    message: str
    evidence: Evidence
    right_answer: str
    answer: str
    expression: str
    wrt: object
    order: int
    expected_shape: str
    answer_shape: str | None = None
    #: the answer corrected, where the slip names a correction (``inv(X')`` for ``inv(X)``)
    fix: str | None = None
    kinds: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the answer is right as the lecture writes it."""
        return self.verdict == EQUAL

    def __str__(self) -> str:
        return self.text("python")

    def text(self, surface: str = "python") -> str:
        """The verdict as text, its advice naming ``surface``'s controls ("python", "cli", "api",
        "page"; see :mod:`ricci.hints`)."""
        head = self.verdict if not self.kind_of_slip else f"{self.verdict}: {self.kind_of_slip}"
        lines = [head, render(self.message, surface)]
        if self.fix:
            lines.append(f"corrected: {self.fix}")
        if self.verdict != EQUAL:
            lines.append(f"ricci's answer: {self.right_answer}")
        lines.append(f"expected shape: {self.expected_shape}")
        if self.evidence.points:
            worst = f" (largest difference {max(self.evidence.errors):.3g})" if self.evidence.errors else ""
            lines.append(f"checked at {len(self.evidence.points)} random points{worst}")
        lines += ["  " + f"{n}: {k}" for n, k in self.kinds.items()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        slip = f", {self.kind_of_slip!r}" if self.kind_of_slip else ""
        return f"<ricci verdict {self.verdict!r}{slip} on {self.answer!r} (right: {self.right_answer!r})>"

    def to_json(self, surface: str = "python") -> dict:
        """The verdict as JSON; ``message`` in ``surface``'s words, ``hints`` its advice as data."""
        return {
            "verdict": self.verdict, "kind_of_slip": self.kind_of_slip, "message": render(self.message, surface),
            "hints": [h.to_json() for h in hints_of(self.message)],
            "right_answer": self.right_answer, "answer": self.answer, "expression": self.expression,
            "wrt": self.wrt, "order": self.order, "expected_shape": self.expected_shape,
            "answer_shape": self.answer_shape, "fix": self.fix, "kinds": dict(self.kinds),
            "evidence": self.evidence.to_json(),
        }

    def _repr_html_(self) -> str:
        e = html.escape
        colour = {EQUAL: "#1a7f37", OTHER_LAYOUT: "#9a6700"}.get(self.verdict, "#cf222e")
        head = e(self.verdict + (f": {self.kind_of_slip}" if self.kind_of_slip else ""))
        rows = [("your answer", self.answer), ("ricci's answer", self.right_answer),
                ("expected shape", self.expected_shape)]
        if self.fix:
            rows.insert(1, ("corrected", self.fix))
        table = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{e(k)}</th>"
                        f"<td><code>{e(v)}</code></td></tr>" for k, v in rows)
        message = e(self.message)
        return (f"<div class='ricci-verdict'><p><strong style='color:{colour}'>{head}</strong></p>"
                f"<p style='white-space:pre-wrap'>{message}</p><table>{table}</table></div>")
