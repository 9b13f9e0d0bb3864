"""The command line's argument helpers, which every ``ricci`` subcommand reads its arguments with.

They live apart from :mod:`ricci.cli` (which registers the subcommands and so imports every
``*/command.py``) so that a command can import them without importing the CLI back: the layers
contract in pyproject.toml keeps the features below the CLI.  Nothing here evaluates anything.
"""

from __future__ import annotations

from .language.errors import BadValueError


def parse_value(text: str, name: str | None = None):
    """A value on the command line: ``3``, ``1,2,3`` (vector), ``[1,2;3,4]`` (matrix, rows by ';').

    Inside brackets the entries of a row may be separated by commas or by spaces, as in MATLAB:
    ``[1 2; 3 4]``.  A column ``[1;2;3]`` or a row ``[1,2,3]`` is accepted for a vector.
    """
    import numpy as np  # here, not at the top: `ricci diff` reads no value and need not load NumPy

    t = text.strip()
    what = f"the value {text!r} of {name}" if name else f"the value {text!r}"
    try:
        if t.startswith("["):
            if not t.endswith("]"):
                raise ValueError
            rows = [r.split(",") if "," in r else r.split() for r in t[1:-1].split(";")]
            data = [[float(v) for v in r] for r in rows]
            if not all(data):
                raise ValueError
            if len({len(r) for r in data}) != 1:
                raise BadValueError(
                    f"cannot read {what}: its rows have different lengths "
                    f"({', '.join(str(len(r)) for r in data)})")
            return np.array(data)
        if "," in t:
            return np.array([float(v) for v in t.split(",")])
        return float(t)
    except ValueError:
        raise BadValueError(
            f"cannot read {what}: write a number (3), a vector (1,2,3) or a matrix ([1,2;3,4])"
        ) from None


def assignments(items, what: str) -> dict:
    """``NAME=VALUE`` items (``--set``, ``--kind``, ``--at``) as a dict of texts."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise BadValueError(f"{what} {item!r} must look like NAME=VALUE")
        name, value = item.split("=", 1)
        out[name.strip()] = value.strip()
    return out


def wrt_names(text: str):
    """``--wrt x`` is one name, ``--wrt x1,x2`` a list of scalar names."""
    parts = [p.strip() for p in text.split(",")]
    return parts if len(parts) > 1 else parts[0]


def add_limits(sp, what: str) -> None:
    """``--timeout`` and ``--max-elements``: the limits of ricci.limits, on every command that
    computes (the Python keywords timeout= and max_elements=)."""
    from .limits import DEFAULT_TIMEOUT, MAX_ELEMENTS

    sp.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                    help=f"time budget of {what} (default {DEFAULT_TIMEOUT:g})")
    sp.add_argument("--max-elements", type=int, default=MAX_ELEMENTS, metavar="N",
                    help=f"most entries of one numeric array (default {MAX_ELEMENTS:,})")
