"""The problem of ``ricci.minimize``: f, the variables solved for, the data, sizes, start, bounds.

Everything the user gives is checked here, before any solver runs, with messages that name the
variable and the dimension ("y has 50 entries, but X fixes m = 100 (its rows)").  The variables
solved for are packed into one flat vector (each C-ordered, in the order of ``wrt``) for SciPy,
and unpacked into their kinds (a float, a 1-D or a 2-D array) for the generated functions.

Hints name what the user can change in the surface they use: ``x0={'w': ...}`` in Python,
``--x0 w=...`` on the command line (:data:`SURFACES`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from ..language.errors import BadValueError, KindError, UnknownNameError
from ..language.kinds import SCALAR, SYMMETRIC
from .bounds import parse_bound
from .errors import SolveError

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

#: How each surface spells a value, a start, a bound and a method.
SURFACES = {
    "python": {"data": "data={{'{n}': ...}}", "x0": "x0={{'{n}': ...}}", "method": "method='{m}'",
               "bound": "bounds=['{b}']", "kind": "kinds={{'{n}': '{k}'}}", "size": "sizes={{'{d}': ...}}",
               "backend": "backend='{b}'", "tol": "tol", "maxiter": "maxiter"},
    "cli": {"data": "--set {n}=... or --data {n}=FILE", "x0": "--x0 {n}=...", "method": "--method {m}",
            "bound": "--bound '{b}'", "kind": "--kind {n}={k}", "size": "--size {d}=...",
            "backend": "--backend {b}", "tol": "--tol", "maxiter": "--maxiter"},
}


def say(surface: str, what: str, **fields) -> str:
    return SURFACES[surface][what].format(**fields)


def split_wrt(wrt) -> list[str]:
    if isinstance(wrt, str):
        names = [w.strip() for w in wrt.split(",")]
    elif isinstance(wrt, (list, tuple)):
        names = [str(w).strip() for w in wrt]
    else:
        raise UnknownNameError(f"wrt must name the variables to minimise over, e.g. 'w' or 'U,V', not {wrt!r}")
    if not names or not all(_NAME.match(n) for n in names):
        raise UnknownNameError(f"wrt must name the variables to minimise over, e.g. 'w' or 'U,V', not {wrt!r}")
    if len(set(names)) != len(names):
        raise UnknownNameError(f"wrt names a variable twice: {', '.join(names)}")
    return names


def _axis_words(kind: str) -> tuple:
    return ("entries",) if kind == "vector" else ("rows", "columns")


def is_lazy(value) -> bool:
    """A Dask array (or another Dask collection): data that may not fit in this process's
    memory, never turned into a NumPy array here."""
    return hasattr(value, "__dask_graph__")


def _lazy_kind(name: str, kind: str, arr):
    """:func:`as_kind` for a Dask array: shape checks from its metadata; finiteness by one
    chunk-parallel pass on the cluster."""
    if kind == SCALAR:
        raise BadValueError(f"{name} is a scalar; give it as a number, not a Dask array")
    if kind == "vector" and arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if kind == "vector" and arr.ndim != 1:
        raise BadValueError(f"{name} is a vector, but its value has shape {arr.shape}")
    if kind != "vector" and arr.ndim != 2:
        raise BadValueError(f"{name} is a {kind}, but its value has shape {arr.shape} (a matrix has two axes)")
    import dask.array as da

    if not bool(da.isfinite(arr).all().compute()):
        raise BadValueError(f"the value of {name} is not finite somewhere; every value must be a finite number")
    return arr


def as_kind(name: str, kind: str, value, surface: str) -> np.ndarray | float:
    """``value`` as the kind's array: a float, a 1-D array (a vector; n×1 and 1×n accepted) or a
    2-D array; finite entries only.  A Dask array stays one (:func:`_lazy_kind`)."""
    if is_lazy(value):
        return _lazy_kind(name, kind, value)
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise BadValueError(f"the value of {name} is not a number or an array of numbers") from None
    if arr.size == 0:
        raise BadValueError(f"the value of {name} is empty")
    # one sum first: where it is finite, so is every entry (an inf or nan makes it inf or nan);
    # entry by entry only where it is not, so large data is read once without a boolean array
    # of its size (a few ms of a 100000×50 logistic regression's hundred)
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(arr)
    bad = None if np.isfinite(total) else ~np.isfinite(arr)
    if bad is not None and bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0]) if arr.ndim else ()
        at = f" at index {where[0] if len(where) == 1 else where}" if where else ""
        raise BadValueError(f"the value of {name} is not finite{at} ({arr[where] if where else arr}); "
                            "every value must be a finite number")
    if kind == SCALAR:
        if arr.size != 1:
            raise BadValueError(f"{name} is a scalar, but its value has shape {arr.shape}"
                                f"; to make it a vector or matrix use {say(surface, 'kind', n=name, k='vector')}")
        return float(arr.reshape(()))
    if kind == "vector":
        if arr.ndim == 2 and 1 in arr.shape:
            arr = arr.reshape(-1)
        if arr.ndim != 1:
            raise BadValueError(f"{name} is a vector, but its value has shape {arr.shape}")
        return arr
    if arr.ndim != 2:
        raise BadValueError(f"{name} is a {kind}, but its value has shape {arr.shape} (a matrix has two axes)")
    return arr


class Triangle(NamedTuple):
    """The packing of a symmetric n×n matrix by its lower triangle (row by row), an isometry:
    coordinate k of entry (i, j) is S_ij on the diagonal and √2·S_ij off it, so that the packed
    vector's Euclidean norm is S's Frobenius norm and f's gradient and Hessian in the packed
    coordinates have S's conditioning.  Without the √2 an off-diagonal coordinate stood for
    two entries: its gradient counted twice and its curvature four times the diagonal's, and
    at p = 20 a trust region took 98 products where it now takes fewer (benchmarks/RESULTS.md)."""

    rows: np.ndarray  # the entry (rows[k], cols[k]) of coordinate k
    cols: np.ndarray
    index: np.ndarray  # n×n: the coordinate of every entry (both S_ij and S_ji read it)
    weight: np.ndarray  # the fold of a gradient G: (G + G')[rows, cols]·weight (the chain rule)
    scale: np.ndarray  # coordinate k = S[rows[k], cols[k]]·scale[k]
    entry: np.ndarray  # n×n: S = p[index]·entry (1 on the diagonal, 1/√2 off it)


@lru_cache(maxsize=32)
def triangle(n: int) -> Triangle:
    """The packing of a symmetric n×n matrix (:class:`Triangle`)."""
    rows, cols = np.tril_indices(n)
    index = np.empty((n, n), dtype=np.intp)
    index[rows, cols] = np.arange(rows.size)
    index[cols, rows] = np.arange(rows.size)
    diagonal = rows == cols
    scale = np.where(diagonal, 1.0, math.sqrt(2.0))
    # ∂f/∂p_k = (G_ij + G_ji)/scale_k off the diagonal (S_ij = S_ji = p_k/√2), G_ii on it
    weight = np.where(diagonal, 0.5, 1.0 / math.sqrt(2.0))
    entry = np.where(np.eye(n, dtype=bool), 1.0, 1.0 / math.sqrt(2.0))
    for a in (rows, cols, index, weight, scale, entry):
        a.flags.writeable = False  # shared by every problem of this size
    return Triangle(rows, cols, index, weight, scale, entry)


@dataclass
class Problem:
    expression: object  # ricci Expression
    names: list  # the variables solved for, in order
    data: dict  # the other variables' values, in their kinds
    sizes: dict  # dimension name → size
    shapes: dict  # variable solved for → its shape (() for a scalar)
    surface: str = "python"
    lower: np.ndarray | None = None  # flat bounds, or None without bounds
    upper: np.ndarray | None = None
    bound_texts: list = field(default_factory=list)
    # symmetric matrices solved for: a point of the problem is a symmetric S, so S is packed by
    # its lower triangle (n(n+1)/2 coordinates), never n² free entries
    symmetric: tuple = ()

    def flat_size(self, name: str) -> int:
        shape = self.shapes[name]
        if name in self.symmetric:
            return shape[0] * (shape[0] + 1) // 2
        return int(math.prod(shape))  # not np.prod: called a dozen times a solve, at 5 µs each

    @property
    def size(self) -> int:
        return int(sum(self.flat_size(n) for n in self.names))

    @property
    def bounded(self) -> bool:
        return self.lower is not None

    def pack(self, values: dict) -> np.ndarray:
        parts = []
        for n in self.names:
            v = np.asarray(values[n], dtype=float)
            if n in self.symmetric:
                t = triangle(self.shapes[n][0])
                v = v[t.rows, t.cols] * t.scale
            parts.append(v.reshape(-1))
        return np.concatenate(parts)

    def fold(self, parts: dict) -> np.ndarray:
        """The flat gradient from each variable's gradient (a symmetric variable's through its
        triangle, :func:`triangle`); for the other variables the same as :meth:`pack`."""
        out = []
        for n in self.names:
            g = np.asarray(parts[n], dtype=float)
            if n in self.symmetric:
                t = triangle(self.shapes[n][0])
                g = (g + g.T)[t.rows, t.cols] * t.weight
            out.append(g.reshape(-1))
        return np.concatenate(out)

    def unpack(self, z: np.ndarray) -> dict:
        out, k = {}, 0
        for n in self.names:
            shape = self.shapes[n]
            size = self.flat_size(n)
            part = z[k:k + size]
            if n in self.symmetric:
                t = triangle(shape[0])
                out[n] = part[t.index] * t.entry  # a new array: symmetric by construction
            else:
                out[n] = float(part[0]) if shape == () else part.reshape(shape).copy()
            k += size
        return out

    def _plan(self) -> tuple:
        """(offset, end, shape, Triangle or None) of each variable, made once: the layout
        :meth:`split` and :meth:`join` read on every H·v product without a dict or a check."""
        plan = self.__dict__.get("_plan_cache")
        if plan is None:
            out, k = [], 0
            for n in self.names:
                size = self.flat_size(n)
                shape = self.shapes[n]
                out.append((k, k + size, shape, triangle(shape[0]) if n in self.symmetric else None))
                k += size
            plan = self.__dict__["_plan_cache"] = tuple(out)
        return plan

    def split(self, z: np.ndarray) -> list:
        """The variables' values at flat ``z``, in the order of ``names``, as :meth:`unpack` but a
        list, and an array (a view where it can be) for a scalar too: for a direction of H·v."""
        out = []
        for k, end, shape, t in self.__dict__.get("_plan_cache") or self._plan():
            part = z[k:end]
            out.append(part[t.index] * t.entry if t is not None else part.reshape(shape))
        return out

    def join(self, parts) -> np.ndarray:
        """:meth:`fold` of the variables' gradients given in the order of ``names``."""
        out = []
        for g, (_, _, _, t) in zip(parts, self.__dict__.get("_plan_cache") or self._plan()):
            g = np.asarray(g, dtype=float)
            out.append(((g + g.T)[t.rows, t.cols] * t.weight) if t is not None else g.reshape(-1))
        return np.concatenate(out)  # a new array even for one variable: H·v may return v itself

    def units(self) -> np.ndarray:
        """Each flat coordinate per unit of its entry: √2 off a symmetric variable's diagonal
        (:class:`Triangle`), 1 elsewhere."""
        return np.concatenate([triangle(self.shapes[n][0]).scale if n in self.symmetric
                               else np.ones(self.flat_size(n)) for n in self.names])

    def where(self, index: int) -> str:
        """The variable and entry of flat coordinate ``index``: ``w[3]``, ``U[1, 2]``, ``t``."""
        k = 0
        for n in self.names:
            shape = self.shapes[n]
            size = self.flat_size(n)
            if index < k + size:
                if shape == ():
                    return n
                if n in self.symmetric:
                    t = triangle(shape[0])
                    pos = (t.rows[index - k], t.cols[index - k])
                else:
                    pos = np.unravel_index(index - k, shape)
                return f"{n}[{', '.join(str(int(p)) for p in pos)}]"
            k += size
        return f"coordinate {index}"  # pragma: no cover


def _kind_of_value(value) -> str | None:
    if is_lazy(value):
        arr = value  # its shape, without computing it
    else:
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return None
    if arr.size == 1:
        return SCALAR
    if arr.ndim == 2 and 1 in arr.shape:  # a column read from a .csv file, or a row
        return "vector"
    return {1: "vector", 2: "matrix"}.get(arr.ndim)


def _parse_with_data(parse, expression, kinds, data):
    """Parse, letting the data decide the kind of a name that only the naming rule made (``c``
    with a vector value is a vector, as if declared); declared and forced kinds are kept."""
    from ..language.errors import RicciError

    expr = parse(expression, kinds)
    implied = {}
    for n, value in (data or {}).items():
        v = expr.variables.get(n)
        kind = _kind_of_value(value)
        if v is not None and v.source == "assumed" and kind is not None and kind != v.kind:
            implied[n] = kind
    if not implied:
        return expr
    try:
        other = parse(expression, {**implied, **dict(kinds or {})})
    except RicciError:  # the expression needs the naming rule's kind: the value's shape is wrong
        return expr
    # a reading that is no longer a scalar function is not what was meant: the value is wrong
    return expr if other.shape else other


def _bind(v, name, value, what, sizes: dict, origin: dict, surface: str):
    """``value`` as ``v``'s kind, its axes binding the dimensions in ``sizes`` (a clash names
    both variables and the dimension)."""
    arr = as_kind(name, v.kind, value, surface)
    if v.kind == SCALAR:
        return arr
    words = _axis_words(v.kind)
    for axis, (dim, size) in enumerate(zip(v.dims, arr.shape)):
        word = words[axis]
        if isinstance(dim, int):
            if size != dim:
                raise BadValueError(f"{what} {name} has {size} {word}, but the expression needs {dim}")
            continue
        if dim in sizes and sizes[dim] != size:
            other, other_word = origin[dim]
            raise BadValueError(f"{what} {name} has {size} {word}, but {other} has {sizes[dim]} {other_word}: "
                                f"both are the dimension {dim}")
        sizes[dim] = size
        origin.setdefault(dim, (name, word))
    return arr


def check_values(expr, problem, what: str) -> None:
    """The data and the variables' shapes against another expression of the problem (a
    constraint): the same messages as for f, prefixed by ``what``."""
    sizes: dict = {}
    origin: dict = {}
    for n, v in expr.variables.items():
        value = problem.data[n] if n in problem.data else np.zeros(problem.shapes[n])
        label = f"{what}: the data" if n in problem.data else f"{what}: the variable"
        _bind(v, n, value, label, sizes, origin, problem.surface)


def build(expression, wrt, data, x0, bounds, kinds, surface: str = "python", given_sizes=None,
          other_names=()):
    """The checked :class:`Problem` and the flat start."""
    from .parsing import parse  # kept per (text, kinds) for the next solve

    names = split_wrt(wrt)
    expr = _parse_with_data(parse, expression, kinds, data)
    if expr.shape:
        raise KindError(f"minimize needs a scalar function; {expr.text} has shape "
                        f"({', '.join(map(str, expr.shape))})")
    variables = expr.variables
    listed = ", ".join(variables) or "none"
    for n in names:
        if n not in variables:
            raise UnknownNameError(f"{n} does not appear in {expr.text}; its variables are {listed}")
    data = dict(data or {})
    x0 = dict(x0 or {})
    for n in data:
        if n in names:
            raise BadValueError(f"{n} is a variable minimised over; give its start as {say(surface, 'x0', n=n)}, "
                                "not as data")
        if n not in variables and n not in other_names:
            raise UnknownNameError(f"a value is given for {n}, which {expr.text} does not use (its variables are "
                                   f"{listed})")
    for n in x0:
        if n not in names:
            raise UnknownNameError(f"a start is given for {n}, which is not minimised over (wrt is "
                                   f"{', '.join(names)})")
    missing = [n for n in variables if n not in names and n not in data]
    if missing:
        raise UnknownNameError(f"no value given for {', '.join(missing)}: give "
                               + "; ".join(say(surface, "data", n=n) for n in missing))
    sizes: dict = {}
    origin: dict = {}
    dims = {d for v in variables.values() for d in v.dims if not isinstance(d, int)}
    for d, size in dict(given_sizes or {}).items():
        if d not in dims:
            raise UnknownNameError(f"a size is given for {d}, which is no dimension of {expr.text} (its dimensions "
                                   f"are {', '.join(sorted(map(str, dims))) or 'none'})")
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise BadValueError(f"the size {d} must be a positive integer, not {size!r}")
        sizes[d] = int(size)
        origin[d] = (f"the size {d}", "")

    def bind(name, value, what):
        return _bind(variables[name], name, value, what, sizes, origin, surface)

    values = {n: bind(n, data[n], "the data") for n in variables if n in data}
    # values of names only the constraints use: their own kinds (checked with the constraints)
    values.update({n: as_kind(n, _kind_of_value(data[n]) or "matrix", data[n], surface)
                   for n in data if n not in variables})
    starts = {n: bind(n, x0[n], "the start") for n in names if n in x0}
    shapes = {}
    for n in names:
        v = variables[n]
        if n in starts:
            shapes[n] = np.shape(starts[n])
            continue
        open_dims = [d for d in v.dims if not isinstance(d, int) and d not in sizes]
        if open_dims:
            raise BadValueError(f"the size {', '.join(map(str, open_dims))} of {n} is not fixed by the data; "
                                f"give a start, {say(surface, 'x0', n=n)}, or the size, "
                                f"{say(surface, 'size', d=open_dims[0])}")
        shapes[n] = tuple(d if isinstance(d, int) else sizes[d] for d in v.dims)
    symmetric = tuple(n for n in names if variables[n].kind == SYMMETRIC)
    for n in symmetric:
        if n in starts and not np.allclose(starts[n], starts[n].T, rtol=1e-12, atol=0):
            i, j = np.unravel_index(int(np.argmax(np.abs(starts[n] - starts[n].T))), shapes[n])
            raise BadValueError(f"the start of {n} is not symmetric: {n}[{i}, {j}] = {starts[n][i, j]:g} but "
                                f"{n}[{j}, {i}] = {starts[n][j, i]:g}; {n} is a symmetric matrix")
    problem = Problem(expr, names, values, sizes, shapes, surface, symmetric=symmetric)
    _set_bounds(problem, bounds)
    start = problem.pack({n: starts.get(n, np.zeros(shapes[n])) for n in names})
    if problem.bounded:
        given = {n for n in names if n in starts}
        outside = np.flatnonzero((start < problem.lower) | (start > problem.upper))
        for i in outside:
            n = problem.where(int(i)).split("[")[0]
            if n in given:
                u = problem.units()[i]  # the user's units (a symmetric variable's √2 off the diagonal)
                raise SolveError(f"the start is infeasible: {problem.where(int(i))} = {start[i] / u:g} is outside "
                                 f"[{problem.lower[i] / u:g}, {problem.upper[i] / u:g}]")
        # a default start (zeros) is moved into the box
        start = np.clip(start, problem.lower, problem.upper)
    return problem, start


def _set_bounds(problem: Problem, bounds) -> None:
    if not bounds:
        return
    items: list = []
    if isinstance(bounds, dict):
        items = [(n, lohi, None) for n, lohi in bounds.items()]
    elif isinstance(bounds, (list, tuple)):
        for b in bounds:
            if isinstance(b, tuple) and len(b) == 2 and isinstance(b[0], str):  # (name, (lo, hi))
                items.append((b[0], b[1], None))
                continue
            name, lo, hi = parse_bound(b, problem.surface)
            items.append((name, (lo, hi), b))
    else:
        raise BadValueError(f"bounds must be a list such as ['w >= 0'] or a dict such as {{'w': (0, None)}}, "
                            f"not {bounds!r}")
    lower = np.full(problem.size, -np.inf)
    upper = np.full(problem.size, np.inf)
    offsets, k = {}, 0
    for n in problem.names:
        size = problem.flat_size(n)
        offsets[n] = (k, size)
        k += size
    for name, lohi, text in items:
        if name not in offsets:
            raise UnknownNameError(f"the bound {text or name!r} is on {name}, which is not minimised over "
                                   f"(wrt is {', '.join(problem.names)})")
        try:
            lo, hi = lohi
        except (TypeError, ValueError):
            raise BadValueError(f"the bounds of {name} must be a pair (lo, hi), not {lohi!r}") from None
        k, size = offsets[name]
        for arr, value, side in ((lower, lo, -np.inf), (upper, hi, np.inf)):
            if value is None:
                continue
            v = np.asarray(value, dtype=float)
            if v.ndim and v.shape != problem.shapes[name] and v.size != size:
                raise BadValueError(f"a bound of {name} has shape {v.shape}, but {name} has shape "
                                    f"{problem.shapes[name]}")
            if name in problem.symmetric and v.shape == problem.shapes[name]:  # its triangle
                t = triangle(v.shape[0])
                v = v[t.rows, t.cols]
            v = np.broadcast_to(v.reshape(-1) if v.ndim else v, (size,))
            if name in problem.symmetric:  # in the packed coordinates (√2·S_ij off the diagonal)
                v = v * triangle(problem.shapes[name][0]).scale
            if np.isnan(v).any():
                raise BadValueError(f"a bound of {name} is nan")
            if arr is lower:
                lower[k:k + size] = np.maximum(lower[k:k + size], v)
            else:
                upper[k:k + size] = np.minimum(upper[k:k + size], v)
        if (lower[k:k + size] > upper[k:k + size]).any():
            raise BadValueError(f"the bounds of {name} leave no value: a lower bound is above an upper bound")
        problem.bound_texts.append(text or f"{name} in [{lo}, {hi}]")
    problem.lower, problem.upper = lower, upper
