"""ricci's LaTeX → matplotlib mathtext, with a plain-text fallback.

Mathtext is a subset of TeX: it lacks ``bmatrix`` environments and ``\\lVert``.  Those are
rewritten (a row vector becomes ``[a,\\ b]``, a matrix ``[a,\\ b;\\ c,\\ d]``); whatever mathtext
still cannot parse is shown as plain text, so that a title never breaks a figure.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

_MATRIX = re.compile(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", re.DOTALL)


def _matrix(m: re.Match) -> str:
    rows = [r.strip() for r in m.group(1).split(r"\\")]
    body = r";\ ".join(r",\ ".join(e.strip() for e in row.split("&")) for row in rows)
    return r"\left[" + body + r"\right]"


def to_mathtext(latex: str) -> str:
    """Rewrite the constructs mathtext lacks (the result may still fail; see :func:`label`)."""
    s = _MATRIX.sub(_matrix, latex)
    s = s.replace(r"\lVert", r"\Vert").replace(r"\rVert", r"\Vert")
    s = re.sub(r"\\text\{([^{}]*)\}", lambda m: r"\mathrm{" + m.group(1).strip().replace(" ", r"\ ") + r"}\ ", s)
    return s


@lru_cache(maxsize=256)
def _parses(s: str) -> bool:
    from matplotlib.mathtext import MathTextParser

    try:
        MathTextParser("path").parse(s)
    except ValueError:
        return False
    return True


def plain(text: str) -> str:
    """Text that matplotlib shows literally (a ``$`` would start mathtext)."""
    return text.replace("$", r"\$")


def label(latex: str, fallback: str) -> str:
    """``$…$`` when mathtext can show ``latex``, else ``fallback`` as plain text."""
    s = "$" + to_mathtext(latex) + "$"
    return s if _parses(s) else plain(fallback)


def number(v: float) -> str:
    """A number for a label: three significant digits, no ``-0``."""
    if math.isnan(v):
        return "nan"
    s = f"{v:.3g}"
    return "0" if s in ("-0", "0", "-0.0") else s
