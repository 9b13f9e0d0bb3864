"""Numbers as the command line and the solver's report print them."""

from __future__ import annotations

import numpy as np


def format_value(v) -> str:
    """A number with 15 significant digits, an array as NumPy prints it (10 decimals)."""
    if isinstance(v, float):
        return f"{v:.15g}"
    with np.printoptions(precision=10, suppress=True, linewidth=100):
        return np.array2string(np.asarray(v), separator=", ")
