"""Evaluate a typed expression with NumPy, directly from the matrix AST.

Every value is held as a 2-D array while computing (a scalar is 1×1, a column vector n×1, a row
vector 1×n), so that ``*`` is ``@`` unless a side is a scalar, exactly as in MATLAB.  At the end
scalars become floats and vectors 1-D arrays (ARCHITECTURE §1).

This evaluator is independent of the tensor IR: the test suite compares the two.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .functions import LOGSUMEXP, lookup
from .functions.spectral import SpectrumError
from .language import ast as A
from .hints import say
from .language.errors import BadValueError, RicciError, ShapeError, UnknownNameError
from .language.expression import Expression, parse
from .language.kinds import SCALAR, SYMMETRIC, VECTOR, Type
from .stable import match
from .stable import value as stable_value


def _snippet(source: str | None, span, default: str) -> str:
    """The source text under ``span`` for a message, shortened if long."""
    if not span or not source:
        return default
    text = source[span[0]:span[1]]
    return text if len(text) <= 40 else text[:37] + "..."


def _as_array(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise BadValueError(f"the value of {name} is not a number or an array of numbers") from None
    return arr


def _forced_hint(name: str, var, arr: np.ndarray, source: str | None):
    """Why a name given an array is a scalar, where the expression forced it and declaring
    the array's kind would read the expression another way (X^2 with X a matrix: a matrix
    power); empty otherwise (t*cos(t) has no reading with t a vector)."""
    if var.source != "forced" or not source:
        return ""
    kind = "matrix" if arr.ndim == 2 and min(arr.shape) > 1 else "vector"
    try:
        parse(source, {name: kind})
    except RicciError:
        return ""
    from .hints import Hint, option

    power = ": a ^ of it is then a matrix power" if kind == "matrix" and "^" in source else ""
    return say(" (the expression makes it one; ", option(f"declare it a {kind}", Hint("kinds", name, kind),
                                                         f"declare it a {kind}"),
               f" to read it as a {kind}{power})")


def bind_sizes(variables: dict, values: dict, source: str | None = None,
               reasons: dict | None = None, unused: str = "error",
               products: dict | None = None) -> tuple[dict, dict]:
    """Check each variable's value against its kind; bind dimension names to sizes.

    Returns (arrays, sizes): arrays in the 2-D working form, sizes {dim name: int}.  A value for
    a name the expression does not use is an error (``unused="error"``) or left out
    (``"ignore"``: the values of a function serve its derivative, which need not use them all).
    """
    unknown = [n for n in values if n not in variables]
    if unknown and unused == "ignore":
        values = {n: v for n, v in values.items() if n in variables}
    elif unknown:
        raise UnknownNameError(
            f"a value is given for {', '.join(sorted(map(str, unknown)))}, which the expression does not use",
            None, source)
    missing = [n for n in variables if n not in values]
    if missing:
        raise UnknownNameError(f"no value given for {', '.join(missing)}", None, source)
    sizes: dict = {}
    origin: dict = {}
    arrays: dict = {}
    for name, var in variables.items():
        arr = _as_array(name, values[name])
        if arr.size == 0:
            raise BadValueError(f"the value of {name} is empty", None, source)
        if not np.all(np.isfinite(arr)):
            raise BadValueError(f"the value of {name} contains inf or nan", None, source)
        kind = var.kind
        if kind == SCALAR:
            if arr.size != 1 or arr.ndim > 2:
                raise BadValueError(say(f"{name} is a scalar", _forced_hint(name, var, arr, source),
                                        f", but its value has shape {arr.shape}"), None, source)
            arrays[name] = arr.reshape(1, 1)
            continue
        if kind == VECTOR:
            if arr.ndim == 2 and 1 in arr.shape:
                arr = arr.reshape(-1)
            if arr.ndim != 1:
                raise BadValueError(
                    f"{name} is a vector, so its value must be a 1-D array, not shape {arr.shape}",
                    None, source)
        elif arr.ndim != 2:
            raise BadValueError(
                f"{name} is a {kind}, so its value must be a 2-D array, not shape {arr.shape}", None, source)
        this = f"{name} has length {arr.shape[0]}" if kind == VECTOR else f"{name} is {arr.shape[0]}×{arr.shape[1]}"
        for axis, (dim, n) in enumerate(zip(var.dims, arr.shape)):
            what = "length" if kind == VECTOR else ("rows" if axis == 0 else "columns")
            has = f"has length {n}" if kind == VECTOR else f"has {n} {what}"

            def needs(size, what=what, dim=dim):
                return f"length {dim} = {size}" if what == "length" else f"{dim} = {size} {what}"

            if isinstance(dim, int):
                if dim != n:
                    raise ShapeError(f"{name} {has}, but the expression needs {what} {dim}", None, source)
                continue
            if dim in sizes and sizes[dim] != n:
                span = (reasons or {}).get(dim)
                where = _snippet(source, span, "the expression")
                other = origin[dim]
                raise ShapeError(
                    f"{name} {has} but {where} needs {needs(sizes[dim])}"
                    + (f" ({other})" if not other.startswith(f"{name} ") else ""), span, source)
            if dim not in sizes:
                sizes[dim] = n
                origin[dim] = this
        if kind == SYMMETRIC and not np.allclose(arr, arr.T, rtol=1e-10, atol=1e-12):
            raise BadValueError(f"{name} is declared a symmetric matrix, but its value is not symmetric",
                                None, source)
        arrays[name] = arr.reshape(-1, 1) if kind == VECTOR else arr
    _product_sizes(sizes, products or {}, origin, source)
    return arrays, sizes


def _product_sizes(sizes: dict, products: dict, origin: dict, source) -> None:
    """The sizes of the product dimensions (vec(X) of an m×n X is mn long), from their factors;
    a variable of that length must agree (y'*vec(X) needs y of length m·n)."""
    for name, (fast, slow) in products.items():
        f = fast if isinstance(fast, int) else sizes.get(fast)
        s = slow if isinstance(slow, int) else sizes.get(slow)
        if f is None or s is None:
            continue
        if name in sizes and sizes[name] != f * s:
            raise ShapeError(f"{origin[name]}, but the expression needs length {fast}·{slow} = {f * s} "
                             f"(the entries of a {fast}×{slow} matrix, or a Kronecker product's side)",
                             None, source)
        sizes[name] = f * s


def logsumexp_along(node: A.Expr) -> tuple | None:
    """(u, axis) when ``node`` is log(exp(u)*vector(1)) (axis 1: each row's) or
    log(vector(1)'*exp(u)) (axis 0: each column's), as logsumexp(X, k) and softmax(X, k) are
    parsed (functions/reductions.py); else None."""
    if not (isinstance(node, A.Call) and node.func == LOGSUMEXP.log and len(node.args) == 1):
        return None
    inner = node.args[0]
    if not (isinstance(inner, A.BinOp) and inner.op == "*"):
        return None

    def ones(e):  # vector(1), with or without its size
        fn = lookup(e.func) if isinstance(e, A.Call) else None
        return (fn is not None and fn.family == "constant" and isinstance(e.args[0], A.Num)
                and e.args[0].value == 1.0)

    def exp_of(e):
        return e.args[0] if isinstance(e, A.Call) and e.func == LOGSUMEXP.exp and len(e.args) == 1 else None

    left, right = inner.left, inner.right
    if exp_of(left) is not None and ones(right):
        return exp_of(left), 1
    if isinstance(left, A.Transpose) and ones(left.arg) and exp_of(right) is not None:
        return exp_of(right), 0
    return None


def _size(d, sizes, node, source) -> int:
    if isinstance(d, int):
        return d
    if d not in sizes:
        raise BadValueError(
            f"the size {d} of {_snippet(source, node.span, 'a constant')} "
            f"is not fixed by any value; write it out, {_sized_example(node)}", node.span, source)
    return sizes[d]


def _sized_example(node) -> str:
    """How the constant ``node`` is written with its size (language/sizes.py)."""
    from .printing.text import to_text

    if isinstance(node, A.Call) and node.func in ("vector", "matrix") and node.args:
        c = to_text(node.args[0])
        return (f"vector({c}, len(x)) for x's length" if node.func == "vector"
                else f"matrix({c}, size(A)) for A's shape or matrix({c}, size(A, 1), len(x))")
    return "eye(len(x)) for x's length or eye(size(A, 1)) for A's rows"


def evaluate_expression(expr: Expression, values: dict, unused: str = "ignore") -> Any:
    # A size that no variable of the expression fixes is not taken from other values: the size
    # of eye in tr(A)*eye is not the length of whichever vector was given (an earlier guess took
    # x's length for A's rows); the text says it, eye(len(x)) (language/sizes.py).
    arrays, sizes = bind_sizes(expr.variables, values, expr.source, expr._checked.reasons, unused,
                               expr._checked.products)
    with np.errstate(all="ignore"):
        out = _Eval(expr, arrays, sizes).run(expr.tree, {})
    return to_public(out, expr.type)


def to_public(arr: np.ndarray, t: Type) -> float | np.ndarray:
    """2-D working form → the public form: float, 1-D vector, or 2-D matrix."""
    if t.is_scalar:
        return float(arr.reshape(()))
    if t.is_col or t.is_row:
        return arr.reshape(-1)
    return arr


class _Eval:
    def __init__(self, expr: Expression, arrays, sizes):
        self.expr = expr
        self.arrays = arrays
        self.sizes = sizes
        self.source = expr.source
        #: name → the expression a where binds it to (ricci.stable.match reads through names)
        self.bound: dict = {}

    def shape(self, node):
        t = self.expr.type_of(node)
        return (_size(t.rows, self.sizes, node, self.source), _size(t.cols, self.sizes, node, self.source))

    def finite(self, node, result: np.ndarray) -> np.ndarray:
        """``result`` if every entry is finite; otherwise a :class:`BadValueError` at ``node``.

        The values are checked finite on entry and every node is checked on exit, so the first
        node that yields a NaN or an infinity is the one whose arguments lie outside its domain
        (``log(-1)``, ``sqrt(-1)``, ``0/0``) or where it blows up (``1/0``, ``log(0)``, ``exp(1000)``).
        """
        if np.isfinite(result).all():
            return result
        text = _snippet(self.source, node.span, "a subexpression")
        if np.isnan(result).any():
            why = "undefined"
            hint = _hint(node, nan=True) or ""
        else:
            why = "infinite"
            hint = _hint(node, nan=False) or "the value is too large for a float (overflow)"
        raise BadValueError(
            f"{text} is {why} at these values{': ' + hint if hint else ''}", node.span, self.source)

    def run(self, node, env):
        along = logsumexp_along(node)
        if along is not None:  # logsumexp(X, k) as parsed: each row's (column's), shifted by its max
            u, axis = along
            x = self.run(u, env)
            with np.errstate(invalid="ignore"):
                m = np.max(x, axis=axis, keepdims=True)
            m = np.where(np.isfinite(m), m, 0.0)
            return self.finite(node, m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)))
        form = match(node, self.expr.type_of, self.bound)
        if form is not None:  # log(1 + exp(u)) as softplus(u), … (ricci.stable, docs/numerics.md)
            return self.finite(node, self._stable(form, env))
        return self.finite(node, self._run(node, env))

    def _stable(self, form, env):
        return stable_value(form, self.run(form.arg, env), lambda f, v: np.asarray(lookup(f).numpy(v), dtype=float))

    def _run(self, node, env):
        match node:
            case A.Num(value=v):
                return np.full((1, 1), v)
            case A.Name(name=n):
                if n in env:
                    return env[n]
                if n in self.arrays:
                    return self.arrays[n]
                return np.eye(self.shape(node)[0])
            case A.Neg(arg=a):
                return -self.run(a, env)
            case A.Transpose(arg=a):
                return self.run(a, env).T
            case A.BinOp(op=op, left=l, right=r):
                x, y = self.run(l, env), self.run(r, env)
                if op == "+":
                    return x + y
                if op == "-":
                    return x - y
                if op == "*":  # as the type checker reads it: scalar times anything, else @
                    if self.expr.type_of(l).is_scalar or self.expr.type_of(r).is_scalar:
                        return x * y
                    return x @ y
                if op in ("/", "./"):
                    return x / y
                if op == ".*":
                    return x * y
                return np.power(x, y)  # ^ and .^
            case A.Call(func="eye"):  # eye(n): the size is in the type
                return np.eye(self.shape(node)[0])
            case A.Call(func=f, args=(a, *_)):  # vector(c, n), matrix(c, m, n): sizes typed
                fn = lookup(f)
                x = self.run(a, env)
                if fn.family == "constant":
                    return np.full(self.shape(node), float(x.reshape(())))
                if fn.family == "diagonal":  # vector → diagonal matrix; square matrix → its diagonal
                    if not self.expr.type_of(a).is_matrix:
                        return np.diag(x.reshape(-1))
                    return np.diag(x).reshape(-1, 1).copy()
                if fn.family in ("frechet", "kronecker"):  # expm_frechet(X, E), kron(A, B): two arguments
                    return np.asarray(fn.numpy(x, self.run(node.args[1], env)), dtype=float)
                if fn.family == "inverse":
                    try:
                        return np.linalg.inv(x)
                    except np.linalg.LinAlgError:
                        raise BadValueError(
                            f"{_snippet(self.source, node.span, 'inv()')}: "
                            "the matrix is singular (not invertible) at these values",
                            node.span, self.source) from None
                try:
                    return np.asarray(fn.numpy(x), dtype=float)
                except SpectrumError as err:  # an eigenvector where its eigenvalue is repeated
                    raise BadValueError(str(err), node.span, self.source) from None
            case A.Literal(rows=rows):
                return np.array([[float(self.run(e, env).reshape(())) for e in row] for row in rows])
            case A.Where(body=body, bindings=bindings):
                inner = dict(env)
                for name, e in bindings:
                    inner[name] = self.run(e, inner)
                    self.bound[name] = e  # for the stable forms: 1 - s where s = sigmoid(u)
                return self.run(body, inner)
        raise TypeError(node)  # pragma: no cover


#: Why an operation gives NaN (its argument is outside its domain) ...  (a function's own
#: reasons are its entry's, ``Function.nan_hint`` and ``inf_hint`` in ricci.functions)
_NAN_HINTS = {
    "^": "a negative base needs an integer exponent",
    ".^": "a negative base needs an integer exponent",
    "/": "zero divided by zero",
    "./": "zero divided by zero",
}
#: ... and why it gives an infinity.
_INF_HINTS = {
    "/": "division by zero",
    "./": "division by zero",
    "^": "zero to a negative power, or an overflow",
    ".^": "zero to a negative power, or an overflow",
}


def _hint(node, nan: bool) -> str | None:
    """Why ``node`` gave a NaN (``nan``) or an infinity, or None when nothing is known."""
    if isinstance(node, A.Call):
        fn = lookup(node.func)
        return None if fn is None else (fn.nan_hint if nan else fn.inf_hint)
    if isinstance(node, A.BinOp):
        return (_NAN_HINTS if nan else _INF_HINTS).get(node.op)
    return None


def evaluate(expression: str | Expression, values: dict, kinds: dict | None = None) -> Any:
    """The value of ``expression`` at ``values`` (floats, 1-D arrays for vectors, 2-D for matrices).

    ``values`` and ``kinds`` may hold names the expression does not use (they are left out), so
    that a function's values and kinds serve the text of its derivative as they are."""
    expr = parse(expression, kinds)
    if not isinstance(values, dict):
        raise BadValueError("values must be a dict such as {'x': [1, 2], 'A': [[1, 2], [3, 4]]}")
    try:
        return evaluate_expression(expr, values)
    except BadValueError as e:
        raise e.with_source(expr.source)
