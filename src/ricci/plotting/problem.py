"""From ``plot(expression, wrt, at, range, …)`` to a plotting problem: which picture, and its numbers.

No matplotlib here.  This module decides the view, checks every input (a bad one is a
:class:`~ricci.RicciError` with a clear message), picks the defaults, and wraps ricci's own
derivatives as small NumPy functions of a point.  The calculus all comes from
``ricci.derivative`` and ``Expression.evaluate``; nothing is differentiated here.

Views (the shapes that can be plotted):

``curve``  f: R → R, wrt one scalar: f, the tangent at ``at``, f′.
``field``  f: R² → R, wrt two scalars ``["x1", "x2"]`` or a vector of length 2: contours,
           gradient arrows, curvature at ``at``, critical points.
``path``   ``f(x1, x2) where x1 = …(t), x2 = …(t)``, wrt t: the path x(t) on the contours of f,
           and h(t) = f(x(t)) with its tangent (the chain rule, lecture Example 1).

Invariants: every function returned here gives floats or float arrays, NaN where the
expression is undefined (log of a negative number, say), never an exception, once the chosen
point ``at`` has been checked with errors shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import limits as _limits
from ..hints import Hint, option, say
from ..language import ast as A
from ..language.errors import (
    BadValueError,
    KindError,
    RicciError,
    ShapeError,
    UnknownNameError,
)

VIEWS = ("curve", "field", "path")

PLOTTABLE = (
    "ricci.plot draws three shapes: f: R → R (wrt one scalar, e.g. wrt='x'); "
    "f: R² → R (wrt two scalars ['x1', 'x2'], or wrt a vector x with at=[a, b]); "
    "and a path x(t) through a field f(x) ('f(x1, x2) where x1 = …(t), x2 = …(t)' with wrt='t')"
)

#: Points tried, in order, when ``at`` is not given (the first where f and f′ are finite).
DEFAULT_POINTS = (0.0, 1.0, -1.0, 0.5)
#: Half-width of the default range around ``at``: curve and path, field.
HALF_WIDTH_1D = 3.0
HALF_WIDTH_2D = 2.0

Interval = tuple[float, float]


# -- the numbers of one ricci object -------------------------------------------------------------
class Numeric:
    """Values of a ricci Expression or Derivative at points, NaN where it is undefined.

    ``params`` holds the fixed values of the variables that are not plotted; only those the
    object uses are passed on.  ``strict`` evaluation lets errors through (used at ``at``).
    """

    def __init__(self, obj, params: dict, shape: tuple = ()):
        self.obj = obj
        expression = getattr(obj, "expression", obj)
        self.variables = set(expression.variables)
        self.params = {k: v for k, v in params.items() if k in self.variables}
        self.shape = shape

    def __call__(self, values: dict, strict: bool = False):
        _limits.tick()  # a plot's grid is evaluated point by point: its budget is read at each
        vals = dict(self.params)
        vals.update({k: v for k, v in values.items() if k in self.variables})
        try:
            with np.errstate(all="ignore"):
                out = self.obj.evaluate(vals)
        except BadValueError:  # undefined here (a domain error); the point was checked before
            if strict:
                raise
            return math.nan if not self.shape else np.full(self.shape, np.nan)
        if not self.shape:
            out = float(out)
            return out if math.isfinite(out) else math.nan
        arr = np.array(out, dtype=float).reshape(self.shape)
        arr[~np.isfinite(arr)] = np.nan
        return arr


# -- the three problems ---------------------------------------------------------------------------
@dataclass
class Curve:
    """f: R → R.  ``f(x)``, ``slope(x)`` = f′(x) (ricci's derivative)."""

    name: str
    f: Callable[[float], float]
    slope: Callable[[float], float]
    f_latex: str
    slope_latex: str
    at: float
    range: Interval


@dataclass
class Field:
    """f: R² → R.  ``f(p)``, ``gradient(p)`` (2,), ``hessian(p)`` (2, 2) at points p = (a, b)."""

    labels: tuple[str, str]          # axis labels, LaTeX
    names: tuple[str, str]           # axis names, plain text
    f: Callable[[np.ndarray], float]
    gradient: Callable[[np.ndarray], np.ndarray]
    hessian: Callable[[np.ndarray], np.ndarray]
    f_latex: str
    at: np.ndarray
    range: tuple[Interval, Interval]
    #: the argument list for "f(…)": (LaTeX, text), e.g. ("x_{1}, x_{2}", "x1, x2") or ("x", "x")
    signature: tuple[str, str] = ("", "")
    #: for ricci.analyse: (expression, wrt, kinds) when the field is of named scalars and has no
    #: fixed parameters; None otherwise (the numeric search is used)
    analysable: tuple | None = None


@dataclass
class Path:
    """x(t) through a field f(x): ``x(t)`` (2,), ``velocity(t)`` = x′(t) (2,), h(t) and h′(t)."""

    t: str
    field: Field
    x: Callable[[float], np.ndarray]
    velocity: Callable[[float], np.ndarray]
    h: Callable[[float], float]
    h_slope: Callable[[float], float]
    h_latex: str
    h_slope_latex: str
    binding_latex: tuple[str, str]
    at: float
    range: Interval


@dataclass
class Problem:
    view: str
    title: str                       # LaTeX of the expression, for the title
    plain: str                       # the expression as text, for a fallback title
    curve: Curve | None = None
    field: Field | None = None
    path: Path | None = None


# -- input checks ---------------------------------------------------------------------------------
def _number(v, what: str) -> float:
    if isinstance(v, bool):
        raise BadValueError(f"{what} must be a number, not {v!r}")
    try:
        x = float(np.asarray(v, dtype=float).reshape(()))
    except (TypeError, ValueError):
        raise BadValueError(f"{what} must be a number, not {v!r}") from None
    if not math.isfinite(x):
        raise BadValueError(f"{what} must be finite, not {x}")
    return x


def _numbers(v, n: int, what: str) -> np.ndarray:
    try:
        arr = np.asarray(v, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise BadValueError(f"{what} must be {n} numbers, not {v!r}") from None
    if arr.size != n:
        raise BadValueError(f"{what} must be {n} numbers, not {arr.size} ({v!r})")
    if not np.all(np.isfinite(arr)):
        raise BadValueError(f"{what} must be finite numbers, not {v!r}")
    return arr


def _interval(v, what: str) -> Interval:
    lo, hi = _numbers(v, 2, what)
    if not lo < hi:
        raise BadValueError(f"{what} must be (low, high) with low < high, not ({lo:g}, {hi:g})")
    return float(lo), float(hi)


def _range_1d(span, at: float | None, name: str) -> tuple[float | None, Interval | None]:
    if span is None:
        return at, None
    iv = _interval(span, f"range for {name}")
    if at is not None and not iv[0] <= at <= iv[1]:
        raise BadValueError(f"at = {at:g} lies outside the range ({iv[0]:g}, {iv[1]:g}) of {name}")
    return (at if at is not None else (iv[0] + iv[1]) / 2), iv


def _range_2d(span, at: np.ndarray | None, names) -> tuple[np.ndarray | None, tuple | None]:
    if span is None:
        return at, None
    try:
        arr = np.asarray(span, dtype=float)
    except (TypeError, ValueError):
        raise BadValueError(f"range must be (low, high) or ((low1, high1), (low2, high2)), not {span!r}") from None
    if arr.size == 2:
        ivs = (_interval(arr, "range"),) * 2
    elif arr.size == 4:
        flat = arr.reshape(2, 2)
        ivs = (_interval(flat[0], f"range for {names[0]}"), _interval(flat[1], f"range for {names[1]}"))
    else:
        raise BadValueError(f"range must be (low, high) or ((low1, high1), (low2, high2)), not {span!r}")
    if at is not None:
        for v, iv, n in zip(at, ivs, names):
            if not iv[0] <= v <= iv[1]:
                raise BadValueError(f"at: {n} = {v:g} lies outside the range ({iv[0]:g}, {iv[1]:g})")
        return at, ivs
    return np.array([(iv[0] + iv[1]) / 2 for iv in ivs]), ivs


def _names_in(tree: A.Expr) -> set[str]:
    return {n.name for n in A.walk(tree) if isinstance(n, A.Name)}


def _sub_kinds(kinds: dict, tree: A.Expr) -> dict:
    """The declared kinds of the names a sub-expression uses (ricci rejects kinds of unused names)."""
    used = _names_in(tree)
    return {k: v for k, v in kinds.items() if k in used}


# -- building the problem ------------------------------------------------------------------------
def build(expression, wrt, at=None, span=None, kinds=None, values=None, view=None) -> Problem:
    """Check the inputs and build the :class:`Problem` that ``ricci.plot`` draws."""
    from ..derivation import derivative, refuse_unused_wrt
    from ..language.expression import Expression, parse
    from ..language.parser import parse_text
    from ..printing.latex import ast_to_latex
    from ..printing.text import to_text

    if kinds is not None and not isinstance(kinds, dict):
        raise KindError(f"kinds must be a dict such as {{'A': 'matrix'}}, not {type(kinds).__name__}")
    kinds = dict(kinds or {})
    if values is not None and not isinstance(values, dict):
        raise BadValueError(f"values must be a dict such as {{'A': [[1, 0], [0, 2]]}}, not {type(values).__name__}")
    params = dict(values or {})
    if view is not None and view not in VIEWS:
        raise BadValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
    if isinstance(expression, Expression):
        expression = expression.source
    if not isinstance(expression, str):
        raise BadValueError(f"the expression must be a string such as \"x1^2 - x2^2\", not {type(expression).__name__}")

    if isinstance(wrt, str) and "," in wrt:
        wrt = [w.strip() for w in wrt.split(",")]
    if isinstance(wrt, (list, tuple)):
        wrt = list(wrt)
        if len(wrt) == 1:
            wrt = wrt[0]
        elif len(wrt) != 2:
            raise ShapeError(f"wrt names {len(wrt)} scalars, so f: R^{len(wrt)} → R; {PLOTTABLE}")
    if not isinstance(wrt, (str, list)):
        raise UnknownNameError(f"wrt must be a variable name or a list of two scalar names, not {wrt!r}")

    wrt_names = wrt if isinstance(wrt, list) else [wrt]
    clash = [n for n in wrt_names if n in params]
    if clash:
        raise BadValueError(say(f"values gives {', '.join(clash)}, which is plotted (wrt); ",
                                option("give its point", Hint("at"), "give its point")))

    # ricci.derivation's one check of wrt: a name f does not use is refused as by ricci.derivative
    refuse_unused_wrt(parse_text(expression), wrt, kinds)
    if isinstance(wrt, list):  # the names are scalars: ricci.derivative reads them so
        expr = derivative(expression, wrt, 1, kinds).expression
    else:
        expr = parse(expression, kinds)  # syntax, kinds and shapes, with the user's own errors
    tree = expr.tree
    if isinstance(wrt, str) and view != "field" and wrt not in kinds:
        expr = _scalar_reading(expr, expression, wrt, kinds, at)
    if not expr.type.is_scalar:
        raise ShapeError(f"f is {_shape_words(expr)}, not a scalar; {PLOTTABLE}")
    unknown = sorted(n for n in params if n not in expr.variables)
    if unknown:
        raise UnknownNameError(f"values gives {', '.join(unknown)}, which the expression does not use")

    title = ast_to_latex(tree)
    plain = to_text(tree)

    if isinstance(wrt, list):
        if view not in (None, "field"):
            raise ShapeError(f"wrt names two scalars, so the view is 'field', not {view!r}; {PLOTTABLE}")
        f = _field_of_scalars(expression, wrt, kinds, params, at, span)
        return Problem("field", title, plain, field=f)

    d1 = derivative(expression, wrt, 1, kinds)
    var = d1.expression.variables.get(wrt)
    kind = var.kind if var is not None else "scalar"
    _missing(d1.expression, [wrt], params)
    if kind == "vector":
        if view not in (None, "field"):
            raise ShapeError(f"{wrt} is a vector, so the view is 'field', not {view!r}; {PLOTTABLE}")
        f = _field_of_vector(expression, wrt, kinds, params, at, span, d1)
        return Problem("field", title, plain, field=f)
    if kind != "scalar":
        raise ShapeError(f"{wrt} is a {kind}, so f: R^(m×n) → R; {PLOTTABLE}")
    if view == "field":
        raise ShapeError(f"{wrt} is a scalar, so the view is 'curve' or 'path', not 'field'; {PLOTTABLE}")

    path_names = _path_names(expr, wrt) if isinstance(tree, A.Where) else None
    if view == "path" and path_names is None:
        raise ShapeError("the view 'path' needs 'f(x1, x2) where x1 = …(t), x2 = …(t)' with two scalar "
                         f"bound names that f uses and t = {wrt} only through them; {PLOTTABLE}")
    if path_names is not None and view != "curve":
        p = _path(expr, wrt, path_names, kinds, params, at, span, d1)
        return Problem("path", title, plain, path=p)
    c = _curve(expression, wrt, kinds, params, at, span, d1)
    return Problem("curve", title, plain, curve=c)


def _shape_words(expr) -> str:
    t, dims = expr.type, "×".join(str(d) for d in expr.shape)
    if t.is_col:
        return f"a column vector ({dims})"
    if t.is_row:
        return f"a row vector ({dims})"
    return f"a matrix ({dims})"


def _one_number(at, name: str) -> bool:
    if isinstance(at, dict):
        at = at.get(name) if set(at) == {name} else [0, 0]
    if at is None:
        return True
    try:
        return np.asarray(at, dtype=float).size == 1
    except (TypeError, ValueError):
        return True  # a bad value: reported when at is read


def _scalar_reading(expr, expression: str, wrt: str, kinds: dict, at):
    """Read wrt as a scalar when only the naming rule made it a vector (``log(x)``, ``x'*x``) and
    the plot asks for a curve: ``at`` is one number, or missing and f is no scalar otherwise."""
    from ..language.expression import parse

    var = expr.variables.get(wrt)
    if var is None or var.source != "assumed" or var.kind == "scalar" or not _one_number(at, wrt):
        return expr
    if at is None and expr.type.is_scalar:
        return expr  # f(x) = x'*x without a point: the field over R² reading stays
    try:
        as_scalar = parse(expression, {**kinds, wrt: "scalar"})
    except RicciError:
        return expr
    if not as_scalar.type.is_scalar:
        return expr
    kinds[wrt] = "scalar"
    return as_scalar


def _missing(expr, plotted: list[str], params: dict) -> None:
    missing = [n for n in expr.variables if n not in plotted and n not in params]
    if missing:
        names = ", ".join(missing)
        raise UnknownNameError(say(
            f"the plot varies {', '.join(plotted)} only; ",
            option(f"give {names} a value", Hint("values", missing[0]),
                   {"api": f"{names} would need a value, and a plot request has no field for one: write "
                           f"{'its value' if len(missing) == 1 else 'their values'} into the expression as numbers",
                    "page": f"{names} would need a value, and the page has no control for one: write "
                            f"{'its value' if len(missing) == 1 else 'their values'} into f as numbers"})))


#: Where the plotted point is chosen, on each surface (the page has no control for it).
_CHOOSE_POINT = option("choose a point", Hint("at"), "choose a point where f is defined")
_OTHER_POINT = option("choose another point", Hint("at"), "choose another point")


def _first_defined(candidates, check) -> object:
    """The first candidate where ``check`` (strict evaluation) succeeds with finite numbers."""
    first_error = None
    for c in candidates:
        try:
            if check(c):
                return c
        except BadValueError as e:
            first_error = first_error or e
    if first_error is not None:
        raise BadValueError(say(f"f is undefined at each default point ({first_error}); ", _CHOOSE_POINT))
    raise BadValueError(say("f or its derivative is not finite at any default point; ", _CHOOSE_POINT))


def _finite(*xs) -> bool:
    return all(np.all(np.isfinite(np.asarray(x, dtype=float))) for x in xs)


def _check_at(check, at, what: str) -> None:
    try:
        ok = check(at)
    except BadValueError as e:
        raise BadValueError(say(f"f is undefined at {what}: {e}; ", _OTHER_POINT)) from None
    if not ok:
        raise BadValueError(say(f"f or its derivative is not finite at {what}; ", _OTHER_POINT))


# -- f: R → R ------------------------------------------------------------------------------------
def _scalar_at(at, name: str) -> float | None:
    if at is None:
        return None
    if isinstance(at, dict):
        if set(at) != {name}:
            raise BadValueError(say(f"the point must give {name} only, not {', '.join(map(str, sorted(at)))}",
                                    option("", Hint("at", name, 1.0))))
        at = at[name]
    return _number(at, f"at ({name})")


def _curve(expression, wrt, kinds, params, at, span, d1) -> Curve:
    f = Numeric(d1.expression, params)
    slope = Numeric(d1, params)
    at = _scalar_at(at, wrt)
    at, iv = _range_1d(span, at, wrt)

    def check(x):
        v = {wrt: x}
        return _finite(f(v, strict=True), slope(v, strict=True))

    if at is None:
        at = float(_first_defined(DEFAULT_POINTS, check))
    else:
        _check_at(check, at, f"{wrt} = {at:g}")
    if iv is None:
        iv = (at - HALF_WIDTH_1D, at + HALF_WIDTH_1D)
    return Curve(name=wrt, f=lambda x: f({wrt: x}), slope=lambda x: slope({wrt: x}),
                 f_latex=_latex_of(d1.expression), slope_latex=d1.latex, at=at, range=iv)


def _latex_of(expr) -> str:
    from ..printing.latex import ast_to_latex

    return ast_to_latex(expr.tree)


# -- f: R² → R -----------------------------------------------------------------------------------
def _field_at(at, wrt: list[str]) -> np.ndarray | None:
    if at is None:
        return None
    if isinstance(at, dict):
        if set(at) != set(wrt):
            raise BadValueError(say(f"the point must give {' and '.join(wrt)}",
                                    option("", Hint("at", None, {wrt[0]: 1, wrt[1]: 2}))))
        return np.array([_number(at[n], f"at ({n})") for n in wrt])
    return _numbers(at, 2, f"at ({', '.join(wrt)})")


def _field(f: Numeric, grad: Numeric, hess: Numeric, pack, names, labels, signature, f_latex, at, span,
           analysable=None) -> Field:
    def check(p):
        v = pack(p)
        return _finite(f(v, strict=True), grad(v, strict=True))

    at, ivs = _range_2d(span, at, names)
    if at is None:
        at = _first_defined([np.array([c, c]) for c in DEFAULT_POINTS], check)
    else:
        _check_at(check, at, f"({at[0]:g}, {at[1]:g})")
    if ivs is None:
        ivs = tuple((float(a) - HALF_WIDTH_2D, float(a) + HALF_WIDTH_2D) for a in at)
    return Field(labels=labels, names=names,
                 f=lambda p: f(pack(p)), gradient=lambda p: grad(pack(p)), hessian=lambda p: hess(pack(p)),
                 f_latex=f_latex, at=np.asarray(at, dtype=float), range=ivs, signature=signature,
                 analysable=analysable)


def _field_of_scalars(expression, wrt, kinds, params, at, span) -> Field:
    from ..derivation import derivative
    from ..printing.latex import name_latex

    d1 = derivative(expression, wrt, 1, kinds)
    d2 = derivative(expression, wrt, 2, kinds)
    _missing(d1.expression, wrt, params)
    f = Numeric(d1.expression, params)
    grad = Numeric(d1, params, (2,))
    hess = Numeric(d2, params, (2, 2))
    a, b = wrt

    def pack(p):
        return {a: float(p[0]), b: float(p[1])}

    analysable = (expression, list(wrt), kinds) if not f.params else None
    return _field(f, grad, hess, pack, (a, b), (name_latex(a), name_latex(b)),
                  (f"{name_latex(a)}, {name_latex(b)}", f"{a}, {b}"),
                  _latex_of(d1.expression), _field_at(at, wrt), span, analysable)


def _field_of_vector(expression, wrt, kinds, params, at, span, d1) -> Field:
    from ..derivation import derivative
    from ..printing.latex import name_latex

    if isinstance(at, dict):
        if set(at) != {wrt}:
            raise BadValueError(say(f"the point must give {wrt} only", option("", Hint("at", wrt, [1, 2]))))
        at = at[wrt]
    if at is not None:
        try:
            n = np.asarray(at, dtype=float).size
        except (TypeError, ValueError):
            n = 2  # _numbers below reports the bad value
        if n != 2:
            raise ShapeError(f"at gives {wrt} {n} entries, so f: R^{n} → R; {PLOTTABLE}")
        at = _numbers(at, 2, f"at ({wrt})")
    d2 = derivative(expression, wrt, 2, kinds)
    f = Numeric(d1.expression, params)
    grad = Numeric(d1, params, (2,))
    hess = Numeric(d2, params, (2, 2))

    def pack(p):
        return {wrt: np.array([float(p[0]), float(p[1])])}

    base = name_latex(wrt)
    return _field(f, grad, hess, pack, (f"{wrt}[1]", f"{wrt}[2]"),
                  (f"{{{base}}}_{{1}}", f"{{{base}}}_{{2}}"), (base, wrt), _latex_of(d1.expression), at, span)


# -- a path x(t) through a field f(x) ------------------------------------------------------------
def _path_names(expr, t: str) -> tuple[str, str] | None:
    """The two scalar bound names through which f depends on t, or None if this is no path."""
    tree = expr.tree
    bound = [n for n, _ in tree.bindings]
    used = _names_in(tree.body)
    names = [n for n in bound if n in used]
    if len(names) != 2 or t in used:
        return None
    types = {n: expr.type_of(e) for n, e in tree.bindings}
    if not all(types[n].is_scalar for n in names):
        return None
    return names[0], names[1]


def _path(expr, t, names, kinds, params, at, span, d1) -> Path:
    from ..derivation import derivative
    from ..printing.latex import ast_to_latex, name_latex
    from ..printing.text import to_text

    tree = expr.tree
    body_text = to_text(tree.body)
    body_kinds = _sub_kinds(kinds, tree.body)
    body_params = {k: v for k, v in params.items() if k in _names_in(tree.body)}
    h = Numeric(d1.expression, params)
    h_slope = Numeric(d1, params)
    xs, vs = [], []
    for n in names:
        sub = A.Where(A.Name(n), tree.bindings)
        dn = derivative(to_text(sub), t, 1, _sub_kinds(kinds, sub))
        xs.append(Numeric(dn.expression, params))
        vs.append(Numeric(dn, params))

    def x_of(s, strict=False):
        return np.array([xi({t: s}, strict) for xi in xs])

    def v_of(s, strict=False):
        return np.array([vi({t: s}, strict) for vi in vs])

    def check(s):
        v = {t: s}
        return _finite(h(v, strict=True), h_slope(v, strict=True), x_of(s, True), v_of(s, True))

    at = _scalar_at(at, t)
    at, iv = _range_1d(span, at, t)
    if at is None:
        at = float(_first_defined(DEFAULT_POINTS, check))
    else:
        _check_at(check, at, f"{t} = {at:g}")
    if iv is None:
        iv = (at - HALF_WIDTH_1D, at + HALF_WIDTH_1D)

    # The field's box: around the path, padded, at least a little wide in each direction.
    ts = np.linspace(iv[0], iv[1], 201)
    pts = np.array([x_of(s) for s in ts])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    box = []
    for k in range(2):
        lo, hi = float(pts[:, k].min()), float(pts[:, k].max())
        pad = max(0.12 * (hi - lo), 0.25)
        box.append((lo - pad, hi + pad))
    field = _field_of_scalars(body_text, list(names), body_kinds, body_params,
                              x_of(at), tuple(box))
    bindings = dict(tree.bindings)
    binding_latex = tuple(f"{name_latex(n)}({name_latex(t)}) = {ast_to_latex(bindings[n])}" for n in names)
    return Path(t=t, field=field, x=x_of, velocity=v_of,
                h=lambda s: h({t: s}), h_slope=lambda s: h_slope({t: s}),
                h_latex=ast_to_latex(tree), h_slope_latex=d1.latex, binding_latex=binding_latex,
                at=at, range=iv)

