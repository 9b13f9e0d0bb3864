"""Reading an answer written as a differential: ``dF = …``, ``vec dF = …``, ``f'(X)[dX] = …``.

Only the left side is read here (which form, and the direction's name in ``f'(X)[H]``); the
right side is an expression of the input language, with ``vec dX`` (no brackets, as books write
it) bracketed and a product written by juxtaposition before ``vec`` made explicit.  An ordinary
derivative never starts with ``name =``, so the forms cannot be mistaken for one.
"""

from __future__ import annotations

import re


class Form:
    """A differential answer read: its kind ("d", "vectorised", "map"), the direction's name (from
    ``f'(X)[H]``; None: d + the variable's name), the right side, and where it starts."""

    def __init__(self, kind: str, direction: str | None, rhs: str, offset: int):
        self.kind = kind
        self.direction = direction
        self.rhs = rhs
        self.offset = offset


#: dF = …, df = …, d f = …
_D = re.compile(r"\s*d\s*([A-Za-z]\w*)\s*=(?!=)\s*")
#: vec dF = …, vec(dF) = …
_VEC = re.compile(r"\s*vec\s*(?:\(\s*d\s*([A-Za-z]\w*)\s*\)|d\s*([A-Za-z]\w*))\s*=(?!=)\s*")
#: f'(X)[dX] = …, the derivative as a linear map (MIT's notation)
_MAP = re.compile(r"\s*([A-Za-z]\w*)\s*'\s*\(\s*[A-Za-z][\w\s,]*\)\s*\[\s*([A-Za-z]\w*)\s*\]\s*=(?!=)\s*")
#: vec dX written without brackets, and a product written by juxtaposition before it
_VEC_WORD = re.compile(r"\bvec\s+(d?[A-Za-z]\w*)")
_JUXTAPOSED = re.compile(r"([\w')\]])\s+(vec\s*\()")



def differential_form(answer: str) -> Form | None:
    """The answer as a differential, or None for an ordinary derivative."""
    for kind, pattern in (("vectorised", _VEC), ("map", _MAP), ("d", _D)):
        m = pattern.match(answer)
        if m is None:
            continue
        direction = m.group(2) if kind == "map" else None
        rhs = _JUXTAPOSED.sub(r"\1*\2", _VEC_WORD.sub(r"vec(\1)", answer[m.end():]))
        return Form(kind, direction, rhs, m.end())
    return None
