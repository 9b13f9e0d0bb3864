"""f and ∇f over the rows of large data in blocks, each block's data read once from memory.

A loss summed over the rows of its data, ``sum(log(1 + exp(-y .* (X*w)))) + lambda*w'*w``, is
evaluated by the generated code in passes over X: ``X @ w``, then ``r @ X``.  When X is larger
than the processor's caches each pass reads it from memory, and that is the evaluation's cost
(logistic regression at 20000×200: two passes of 32 MB, about 2.3 ms each on one core, against
0.3 ms of arithmetic on the 20000 entries).  Over a block of rows that fits in the cache the
second pass reads the block the first just brought in.

This is exact for every f that is **affine in its rows**: f(D) = Σᵢ ℓ(w; row i of D) + R(w).  Then
for a partition of the rows into blocks D₁ … D_K, f(D) = Σ_b f(D_b) − (K − 1)·f(D_∅), where D_∅
has no rows (f(D_∅) = R(w)), and the same holds for ∇f, a linear function of f.  The generated
function is simply called on each block (row slices: views, no copy).  :func:`row_dimension`
proves the form from the expression's tree, soundly and not completely: a row-local value is
built from the data's rows by elementwise functions, a product with data of no rows on the
right, and entrywise operations with scalars of no rows; such values meet only through ``sum``
or a product that contracts the rows (``r'*X``, ``a'*b``), and what that gives enters f linearly
(scaled by, or added to, terms that read no rows).  Anything else, ``norm2(X*w - y)`` (a square
root of a sum) or ``log(sum(…))``, is not blocked.
"""

from __future__ import annotations

import math

import numpy as np

from ..functions import lookup
from ..language import ast as A
from ..language.kinds import SYMMETRIC

#: data of the row dimension below this many bytes is evaluated whole (it stays in the caches)
BLOCKED_FROM = 8 * 2**20
#: the bytes of data in one block: the second pass over a block then reads it from the cache
#: (measured, 20000×200 and 100000×50: 2048–4096 rows, 1.6–3.2 MB, beat both 1024 rows, where
#: the Python call per block costs more, and 8192; benchmarks/RESULTS.md)
BLOCK_BYTES = 4 * 2**20

# the row classes of a node
FREE = "free"  # reads no data of the row dimension
LOCAL = "local"  # rows × k: row i reads row i of the data only
LOCAL_T = "local'"  # k × rows: a row-local value transposed
SUMMED = "summed"  # no rows: a sum over the rows of row-local terms, linear in them
AFFINE = "affine"  # SUMMED plus FREE


class NotRowwise(Exception):
    """The expression is not shown to be affine in the rows of its data."""


def _class(expr, node, R: str, rowdata: set) -> str:
    t = expr.type_of(node)
    if not _reads(node, rowdata):
        if R in (t.rows, t.cols):  # a size of the rows without their data (eye(m), len(y))
            raise NotRowwise
        return FREE
    match node:
        case A.BinOp(op="^" | ".^", left=A.Call(func=f, args=(a,)), right=A.Num(value=2.0)) if (
                lookup(f) is not None and lookup(f).name == "norm2" and expr.type_of(a).cols == 1):
            # the squared Euclidean norm of a column: Σᵢ aᵢ², summed over the rows where a is row-local
            if _class(expr, a, R, rowdata) == LOCAL:
                return SUMMED
            raise NotRowwise
        case A.Name():
            if t.rows == R and t.cols != R:
                return LOCAL
            raise NotRowwise
        case A.Neg(arg=a):
            return _class(expr, a, R, rowdata)
        case A.Transpose(arg=a):
            c = _class(expr, a, R, rowdata)
            return {LOCAL: LOCAL_T, LOCAL_T: LOCAL}.get(c, c)
        case A.BinOp(op="+" | "-", left=l, right=r):
            return _add(expr, l, r, _class(expr, l, R, rowdata), _class(expr, r, R, rowdata))
        case A.BinOp(op=".*" | "./" | "*" | "/" | ".^" | "^", left=l, right=r):
            return _product(expr, node.op, l, r, _class(expr, l, R, rowdata), _class(expr, r, R, rowdata))
        case A.Call(func=f, args=(a,)):
            fn = lookup(f)
            c = _class(expr, a, R, rowdata)
            if fn is not None and fn.family == "elementwise" and c in (LOCAL, LOCAL_T):
                return c
            if fn is not None and fn.name == "sum" and c in (LOCAL, LOCAL_T):
                return SUMMED
    raise NotRowwise


def _scalar(expr, node) -> bool:
    return expr.type_of(node).is_scalar


def _add(expr, l, r, a: str, b: str) -> str:
    if a in (LOCAL, LOCAL_T) or b in (LOCAL, LOCAL_T):
        # row-local plus row-local of its shape, or plus a free scalar (the same on every row)
        if a == b or (a == FREE and _scalar(expr, l)) or (b == FREE and _scalar(expr, r)):
            return a if a != FREE else b
        raise NotRowwise
    if a == b == SUMMED:
        return SUMMED
    return AFFINE  # summed or affine, plus free, summed or affine


def _product(expr, op: str, l, r, a: str, b: str) -> str:
    local = (LOCAL, LOCAL_T)
    if op == "*" and not (_scalar(expr, l) or _scalar(expr, r)):  # a matrix product
        if a == LOCAL and b == FREE:
            return LOCAL  # (rows × k)·(k × j): row i from row i
        if a == FREE and b == LOCAL_T:
            return LOCAL_T
        if a == LOCAL_T and b == LOCAL:
            return SUMMED  # contracts the rows: Σᵢ (row i)ᵀ(row i)
        if a in (SUMMED, AFFINE) and b == FREE or a == FREE and b in (SUMMED, AFFINE):
            return a if b == FREE else b  # linear in the summed factor
        raise NotRowwise
    if op in ("^", ".^"):  # a power of a row-local value by a free exponent
        if a in local and b == FREE and _scalar(expr, r):
            return a
        raise NotRowwise
    if a in local and b in local:  # entrywise, row by row
        if a == b and op in (".*", "./"):
            return a
        raise NotRowwise
    if a in local and b == FREE and _scalar(expr, r) or a == FREE and b in local and _scalar(expr, l):
        if op in ("./", "/") and b in local:
            return b  # a scalar divided by each entry: still row by row
        return a if a in local else b
    # a sum scaled by what reads no rows (divided by it, not dividing it)
    if a in (SUMMED, AFFINE) and b == FREE:
        return a
    if a == FREE and b in (SUMMED, AFFINE) and op not in ("/", "./"):
        return b
    raise NotRowwise


def _reads(node, names: set) -> bool:
    if isinstance(node, A.Name):
        return node.name in names
    return any(_reads(c, names) for c in A.children(node))


def row_dimension(expr, names, data: dict) -> str | None:
    """The dimension of ``expr`` whose data f is affine in (module docstring), the one with the
    most bytes of data where several are; None where there is none.  ``names``: the variables
    solved for (none of them may have the dimension); ``data``: the other variables' values."""
    variables = expr.variables
    solved = {d for n in names for d in variables[n].dims}
    candidates: dict = {}
    for n, v in variables.items():
        if n in names or not v.dims or v.kind == SYMMETRIC or not hasattr(data.get(n), "nbytes"):
            continue
        candidates[v.dims[0]] = candidates.get(v.dims[0], 0) + data[n].nbytes
    for R, _ in sorted(candidates.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        if R in solved or isinstance(R, int):
            continue
        rowdata = {n for n, v in variables.items() if R in v.dims}
        if any(n in names or variables[n].dims[0] != R or R in variables[n].dims[1:] for n in rowdata):
            continue
        try:
            if _class(expr, expr.tree, R, rowdata) in (SUMMED, AFFINE):
                return R
        except NotRowwise:
            continue
        except (KeyError, AttributeError, TypeError):  # a node this analysis does not know: whole,
            continue  # which is always right (the blocks only save time)
    return None


def blocked(expr, names, data: dict, functions: list, python_names: dict) -> list:
    """``functions`` (generated, called with keyword arguments) evaluated over blocks of rows
    where that pays (data of the row dimension of at least :data:`BLOCKED_FROM` bytes), else
    the functions themselves.  ``python_names``: each variable's keyword in the generated code."""
    from .blas import numpy_blas_one_thread

    big = [n for n, v in data.items() if getattr(v, "nbytes", 0) >= BLOCKED_FROM // 2]
    R = row_dimension(expr, names, data) if big else None
    if R is None:
        return functions
    rowdata = [n for n, v in expr.variables.items() if n in data and R in v.dims]
    size = sum(data[n].nbytes for n in rowdata)
    rows = data[rowdata[0]].shape[0]
    # one BLAS thread only: a threaded BLAS wakes its threads for each block's two products (a
    # logistic regression's solve at 20000×200 took 3.7 times as long in 16 blocks as whole, on
    # 2 busy cores), and its threads share the passes out anyway
    if size < BLOCKED_FROM or rows < 2 or not numpy_blas_one_thread():
        return functions
    count = min(rows, math.ceil(size / BLOCK_BYTES))
    edges = [rows * k // count for k in range(count + 1)]
    keys = [python_names[n] for n in rowdata]
    blocks = [{k: data[n][a:b] for k, n in zip(keys, rowdata)} for a, b in zip(edges, edges[1:])]
    empty = {k: data[n][:0] for k, n in zip(keys, rowdata)}
    return [_Blocked(fn, blocks, empty) for fn in functions]


class _Blocked:
    """One generated function summed over blocks of rows, less K − 1 times its value on none."""

    def __init__(self, fn, blocks: list, empty: dict):
        self.fn, self.blocks, self.empty = fn, blocks, empty
        self.__globals__ = fn.__globals__  # what the code calls (.blas: SciPy's BLAS or not)

    def __call__(self, **args):
        fn = self.fn
        if self.blocks is None:
            return fn(**args)
        try:  # the terms that read no rows; generated code that cannot run on no rows runs whole
            rest = fn(**{**args, **self.empty})
        except (ValueError, IndexError, ZeroDivisionError, FloatingPointError):
            rest = None
        if rest is None or not all(np.isfinite(r).all() for r in (rest if isinstance(rest, tuple) else (rest,))):
            self.blocks = None
            return fn(**args)
        total = None
        for block in self.blocks:
            out = fn(**{**args, **block})
            total = out if total is None else _plus(total, out)
        return _plus(total, rest, 1 - len(self.blocks))


def _plus(a, b, scale: float = 1.0):
    if isinstance(a, tuple):
        return tuple(_plus(x, y, scale) for x, y in zip(a, b))
    return a + scale * b
