"""Bounds in the input language's notation: ``w >= 0``, ``0 <= p <= 1``, ``x <= 2``.

A bound is a variable compared with numbers; it applies to every entry.  The text is read by a
regular expression over its tokens, never evaluated.  A general constraint (``sum(w) == 1``,
``A*x <= b``) given as a bound is refused with a pointer to where it goes (:mod:`.constraints`).
"""

from __future__ import annotations

import re

import numpy as np

from ..language.errors import BadValueError, RicciSyntaxError

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf"
_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_OP = r"<=|>=|=<|=>|<|>"
_BOUND = re.compile(rf"^\s*(?:(?P<lo>{_NUM})\s*(?P<op1>{_OP})\s*)?(?P<name>{_NAME})\s*(?:(?P<op2>{_OP})\s*(?P<hi>{_NUM}))?\s*$")


def _direction(op: str) -> str:
    return "<=" if op in ("<=", "=<", "<") else ">="


#: where a general constraint goes instead, on each surface
_CONSTRAINTS = {"python": "constraints=['{t}']", "cli": "--subject-to '{t}'"}


def parse_bound(text: str, surface: str = "python") -> tuple[str, float, float]:
    """``"0 <= p <= 1"`` → ``("p", 0.0, 1.0)``; ``"w >= 0"`` → ``("w", 0.0, inf)``."""
    if not isinstance(text, str):
        raise BadValueError(f"a bound is a text such as 'w >= 0', not {text!r}")
    m = _BOUND.match(text)
    lo, hi = -np.inf, np.inf
    if m and (m.group("op1") or m.group("op2")):
        name = m.group("name")
        if m.group("op1"):
            v = float(m.group("lo"))
            if _direction(m.group("op1")) == "<=":
                lo = v
            else:
                hi = v
        if m.group("op2"):
            v = float(m.group("hi"))
            if _direction(m.group("op2")) == "<=":
                hi = min(hi, v)
            else:
                lo = max(lo, v)
        if m.group("op1") and m.group("op2") and _direction(m.group("op1")) != _direction(m.group("op2")):
            raise RicciSyntaxError(f"a double bound reads lo <= {name} <= hi (both signs the same way)",
                                   (0, len(text)), text)
    else:
        if "==" in text or "(" in text or "*" in text:
            raise BadValueError(
                f"{text!r} is a general constraint, not a bound on a variable (w >= 0, 0 <= p <= 1): give "
                f"it as {_CONSTRAINTS[surface].format(t=text)}", (0, len(text)), text)
        raise RicciSyntaxError(f"cannot read the bound {text!r}: write w >= 0, 0 <= p <= 1 or x <= 2",
                               (0, len(text)), text)
    if lo > hi:
        raise BadValueError(f"the bound {text!r} leaves no value for {name}: {lo:g} > {hi:g}", (0, len(text)), text)
    return name, lo, hi
