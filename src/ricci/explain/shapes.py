"""Shapes of derivatives, in symbols and in words (ARCHITECTURE §1, the lecture's table).

A shape is given as a list of formatted dimension names, the way the lecture writes the space
of the result: ``["1", "n"]`` is ℝ^{1×n}, ``["m", "(m × n)"]`` is the M × (M × N) tensor of
Example 3.  ``dims`` maps ricci's dimension names to display names (``{"m": "N", "n": "D"}``),
so that an explanation can use the lecture's letters.
"""

from __future__ import annotations

from ..language.kinds import Type


def dim_name(d, dims: dict | None = None) -> str:
    s = str(d)
    return (dims or {}).get(s, s)


def value_words(t: Type) -> str:
    if t.is_scalar:
        return "a scalar"
    if t.is_col:
        return "a column vector"
    if t.is_row:
        return "a row vector"
    return "a matrix"


def article(s: str) -> str:
    """'an' before a dimension name read as a letter with a vowel sound (an m × n, an M), else 'a'."""
    first = next((c for c in s if c.isalnum()), "")
    return "an" if first.lower() in "aefhilmnorsx8" and not (first.isalpha() and len(s.split()[0].strip("(")) > 1
                                                           and first.lower() not in "aeio") else "a"


def group(ds: list[str]) -> str:
    return ds[0] if len(ds) == 1 else "(" + " × ".join(ds) + ")"


def derivative_dims(d, dims: dict | None = None) -> list[str]:
    """The §1 shape of ``d`` as the lecture writes it: 1 × n for a gradient, m × n for a
    Jacobian, n × n for a Hessian, E × 1 for a vector by a scalar, m × (m × n) for a tensor."""
    from ..display_forms import target_orientation

    target = target_orientation(d)
    if target is not None:
        r, c = target
        return [] if r is None and c is None else [
            dim_name(r.dim, dims) if r is not None else "1", dim_name(c.dim, dims) if c is not None else "1"]
    f = [dim_name(x, dims) for x in d.expression.shape]
    per = [dim_name(x, dims) for x in d._wrt_shape]
    groups = ([group(f)] if f else []) + [group(per) for _ in range(d.order)]
    return groups


def shape_words(d, dims: dict | None = None) -> str:
    """'a row vector (1 × n)', 'an m × (m × n) tensor', … ."""
    ds = derivative_dims(d, dims)
    if not ds:
        return "a scalar"
    if len(d.out) > 2 or len(ds) != 2:  # (also the axis of a list of one scalar, wrt=["a"])
        s = " × ".join(ds)
        return f"{article(s)} {s} tensor"
    r, c = ds
    if r == "1":
        return f"a row vector (1 × {c})"
    if c == "1":
        return f"a column vector ({r} × 1)"
    return f"a matrix ({r} × {c})"


def _space(ds: list[str]) -> str:
    return "R" if not ds else ("R^" + ds[0] if len(ds) == 1 else "R^(" + "×".join(ds) + ")")


def reason(d, dims: dict | None = None, name: str = "f") -> str:
    """Why the result has its shape: the row of the lecture's table that applies, with the
    actual dimensions ("L is a scalar and theta ∈ R^D: scalar by vector, a 1 × D row vector")."""
    fshape = [dim_name(x, dims) for x in d.expression.shape]
    f_t = d.expression.type
    fk = "scalar" if not fshape else "vector" if len(fshape) == 1 else "matrix"
    if isinstance(d.wrt, list):
        xs = [str(len(d.wrt))]
        x_words = f"({', '.join(d.wrt)}) ∈ R^{len(d.wrt)}, a list of scalars collected as a vector"
        wk = "vector"
    else:
        v = d.expression.variables[d.wrt]
        xs = [dim_name(x, dims) for x in v.dims]
        wk = "scalar" if not xs else "vector" if len(xs) == 1 else "matrix"
        x_words = f"{d.wrt} ∈ {_space(xs)}" + (" (symmetric)" if v.kind == "symmetric matrix" else "")
    f_words = f"{name} is {value_words(f_t)}" + (f" in {_space(fshape)}" if fshape else "")
    out = " × ".join(derivative_dims(d, dims)) or "1 × 1"
    if d.order > 1:
        if fk == "scalar" and wk == "vector" and d.order == 2:
            rule = f"the Hessian collects the second partial derivatives: {article(xs[0])} {xs[0]} × {xs[0]} matrix"
        elif fk == "scalar" and wk == "scalar":
            rule = "a scalar"
        else:
            rule = f"each differentiation appends the shape of {d.wrt}: {shape_words(d, dims)}"
    else:
        rule = {
            ("scalar", "scalar"): "scalar by scalar gives a scalar",
            ("scalar", "vector"): f"scalar by vector gives a {out} row vector (the gradient, numerator layout)",
            ("vector", "scalar"): f"vector by scalar gives {article(out)} {out} column vector",
            ("vector", "vector"): f"vector by vector gives the {out} Jacobian, J(i, j) = ∂fᵢ/∂xⱼ",
            ("scalar", "matrix"): f"scalar by matrix gives {article(out)} {out} matrix, the shape of {d.wrt}",
            ("matrix", "scalar"): f"matrix by scalar gives {article(out)} {out} matrix, the shape of {name}",
        }.get((fk, wk), f"{fk} by {wk} gives {shape_words(d, dims)}")
    return f"{f_words} and {x_words}: {rule}"
