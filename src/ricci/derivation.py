"""The public derivative API (ARCHITECTURE §3): ``ricci.derivative`` and the result object.

The pipeline: parse → type-check → lower to IR → differentiate (order times) → normalise →
raise to matrix notation → print.  The result keeps every stage, so ``d.text`` (what a person
reads) and ``d.evaluate`` (the IR, the reference numbers) come from the same derivation.
"""

from __future__ import annotations

import importlib
import re
from functools import cached_property
from typing import Any, Iterable, Sequence

import numpy as np

from . import limits as _limits
from .deep import deep
from .diff import differentiate, differentiate_list
from .ir import build as B
from .ir.nodes import Node
from .language.errors import BadValueError, KindError, LimitError, RicciError, UnknownNameError
from .language.expression import Expression
from .language.kinds import SCALAR, normalise_kind
from .language.kinds import check as check_types
from .language.ast import Expr, walk as _walk
from .lower import Lowered, lower

#: Highest derivative order accepted.
MAX_ORDER = 6
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def _check_wrt(wrt) -> list[str] | str:
    """``wrt`` in its one form: a stripped name, or a list of distinct names (the row of partials)."""
    if isinstance(wrt, (list, tuple)):
        names = [str(w).strip() for w in wrt]
        if not names:
            raise UnknownNameError("wrt is an empty list; name at least one variable")
        for n in names:
            if not _NAME.match(n):
                raise UnknownNameError(f"wrt: {n!r} is not a variable name")
        if len(set(names)) != len(names):
            raise UnknownNameError(f"wrt names a variable twice: {', '.join(names)}")
        # A list is the row of partials even with one name: shape (1,) per order, as the
        # oracles (finite differences, JAX) lay it out, and its names must be scalars.
        return names
    if not isinstance(wrt, str) or not _NAME.match(wrt.strip()):
        raise UnknownNameError(f"wrt must be a variable name or a list of scalar names, not {wrt!r}")
    return wrt.strip()


def _listing(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def refuse_unused_wrt(tree: Expr, wrt: str | Sequence[str], declared: Iterable[str] = (), *,
                      lists_may_pad: bool = True) -> None:
    """The one check of ``wrt`` against the expression (ARCHITECTURE §2), shared by every surface:
    ``ricci.derivative`` and the features built on it (explain, analyse, plot, compare), the
    command line and the web API.

    ``tree`` is the parsed expression (:func:`ricci.language.parser.parse_text`), ``wrt`` a
    name or a list of names, ``declared`` the names given a kind (a matrix
    called ``eye`` is a variable only when declared).  Refused, as an :class:`UnknownNameError`
    that lists the variables the expression has: a name bound by ``where``, and a name the
    expression does not use — a typo, most likely, as a kind given for an unused name is.  The
    one exception is a list of scalars in Python (``lists_may_pad``): each name of the list is a
    coordinate the caller asked for explicitly, so an unused one is a zero column of the
    Jacobian.  The command line and the web API pass ``lists_may_pad=False``: there a list is
    typed in a box, and a name that is not in the expression is a typo there too."""
    from .language.kinds import _bound_names, free_names

    wrt = _check_wrt(wrt)
    names = [wrt] if isinstance(wrt, str) else list(wrt)
    bound = _bound_names(tree)
    inside = [n for n in names if n in bound]
    if inside and isinstance(wrt, str):
        raise UnknownNameError(
            f"wrt names {wrt}, which is bound by 'where'; differentiate by a variable it depends on")
    if inside:
        raise UnknownNameError(f"wrt names {', '.join(inside)}, bound by 'where'; differentiate by the "
                               "variables the bindings depend on")
    if isinstance(wrt, list) and lists_may_pad:
        return
    variables = free_names(tree, set(declared))
    unused = [n for n in names if n not in variables]
    if not unused:
        return
    there = f"its variables are {_listing(variables)}" if variables else "it has no variables"
    from .functions import IDENTITY_NAMES
    from .hints import Hint, Phrase

    identity = [n for n in unused if n in IDENTITY_NAMES and _mentions(tree, n)]
    if identity:
        # `I` (or `eye`) written in the expression is the identity matrix unless declared; a user
        # who differentiates by it means a variable of that name (known_core_bugs.md #4)
        n = identity[0]
        raise UnknownNameError(Phrase(
            f"the expression does not use {_listing(unused)} as a variable ({n} is the identity "
            f"there; {there}); to differentiate by a matrix called {n}, declare it: ",
            Hint("kinds", n, "matrix")))
    raise UnknownNameError(f"the expression does not use {_listing(unused)}; {there}")


def _mentions(tree, name: str) -> bool:
    from .language import ast as A

    return any(isinstance(n, A.Name) and n.name == name for n in _walk(tree))


def check_wrt(expression: str | Expression, wrt: str | Sequence[str], kinds: dict | None = None, *,
              lists_may_pad: bool = False) -> None:
    """:func:`refuse_unused_wrt` for a surface that has the text only (the command line, the web
    API): parses ``expression`` (its syntax errors are the usual ones) and checks ``wrt``,
    lists included unless ``lists_may_pad``."""
    from .language.parser import parse_text

    source = expression.source if isinstance(expression, Expression) else expression
    declared = kinds if isinstance(kinds, dict) else {}
    refuse_unused_wrt(parse_text(source), wrt, declared, lists_may_pad=lists_may_pad)


def _prepare(expression, wrt, kinds) -> Expression:
    """The typed expression, its text parsed once; ``wrt`` checked against it first (an unused
    name is reported as such, before a kind declared for it could be called a typo)."""
    from .language.parser import parse_text

    if isinstance(expression, Expression) and kinds is None:
        kinds = expression.kinds  # typed already: its kinds, declared or found, are the ones it has
    if isinstance(expression, Expression) and isinstance(kinds, dict) and kinds == expression.kinds and (
            isinstance(wrt, str) or all(n in expression.variables and expression.variables[n].kind == SCALAR
                                        for n in wrt)):
        # typed already, with these very kinds (the steps' sub-expressions, typed from their
        # trees): taken as it is, not parsed again; other kinds re-read its source with them
        refuse_unused_wrt(expression.tree, wrt, kinds)
        return expression
    source = expression.source if isinstance(expression, Expression) else expression
    kinds = dict(kinds or {})
    tree = parse_text(source)
    refuse_unused_wrt(tree, wrt, kinds, lists_may_pad=True)
    forced = None
    if isinstance(wrt, list):
        forced = {n: SCALAR for n in wrt}
        for n in wrt:
            if n in kinds and normalise_kind(n, kinds[n]) != SCALAR:
                raise KindError(f"wrt lists {n} as one of several scalars, but {n} is declared a {kinds[n]}")
    try:
        checked = check_types(tree, source, kinds, forced, "error")
    except RicciError as e:
        raise e.with_source(source)
    expr = Expression(source, checked.tree, checked, tree)
    if isinstance(wrt, list):
        for n in wrt:
            if expr.variables[n].kind != SCALAR:
                raise KindError(f"wrt lists {n}, but {n} is a {expr.variables[n].kind}; a list names scalars")
    return expr


# -- doors into the features -----------------------------------------------------------------------
# A Derivative is the pipeline's answer (language → IR → lower → diff → simplify → raise → print).
# The features sit above it and take a Derivative: ricci.explain, ricci.analysis, ricci.codegen,
# ricci.numeric_check.  The methods d.steps, d.display, d.analyse, d.code, d.hvp, d.check … are
# doors into them: each names its feature in this table, which loads it when the door is first
# used.  So the pipeline imports nothing above it (the layers contract in pyproject.toml; see
# README "The layout") and ``import ricci`` stays light; the one place the object reaches up is here.
_DOORS = {
    "explain": ("ricci.explain", "explain"),
    "view": ("ricci.explain", "view"),
    "analyse": ("ricci.analysis", "analyse"),
    "code": ("ricci.codegen", "generate"),
    "function": ("ricci.codegen", "function"),
    "hvp": ("ricci.codegen.products", "hvp"),
    "jvp": ("ricci.codegen.products", "jvp"),
    "vjp": ("ricci.codegen.products", "vjp"),
    "linear_operator": ("ricci.codegen.products", "linear_operator"),
    "check": ("ricci.numeric_check", "check"),
    "kronecker": ("ricci.explain", "kronecker_form"),
    "linear_map": ("ricci.explain.by_differentials", "linear_map"),
}


def _feature(door: str):
    """The function behind one of the Derivative's doors (see _DOORS)."""
    module, name = _DOORS[door]
    return getattr(importlib.import_module(module), name)


class Derivative:
    """The derivative of an expression: symbolic, printable, and evaluable."""

    def __init__(self, expr: Expression, wrt: str | list[str], order: int, lowered: Lowered, node: Node,
                 out: tuple, wrt_shape: tuple):
        self.expression = expr
        self.wrt = wrt
        self.order = order
        self.lowered = lowered
        #: the derivative in index notation (IR); free indices ``out``
        self.node = node
        self.out = out
        self._wrt_shape = wrt_shape
        #: (timeout, max_nodes) the derivation ran under, set by derivative(); its doors reuse them
        self._limits: tuple = (None, None)

    # -- shapes ------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        """Dimension names of the result: f's shape, then wrt's shape once per order (§1)."""
        return tuple(self.expression.shape) + tuple(self._wrt_shape) * self.order

    @property
    def kinds(self) -> dict:
        """Every variable's kind (and whether it was declared, forced or assumed)."""
        return {n: v.describe() for n, v in self.expression.variables.items()}

    # -- numbers -----------------------------------------------------------------------------------
    @deep
    def evaluate(self, values: dict) -> Any:
        """The derivative's value: a float, or an ndarray of exactly :attr:`shape`.  ``values`` needs
        every variable of the function; values of other names are left out."""
        from .evaluation import bind_sizes
        from .ir.evaluate import IREvaluator, not_finite
        from .ir.stable import stable

        if not isinstance(values, dict):
            raise BadValueError("values must be a dict such as {'x': [1, 2], 'A': [[1, 2], [3, 4]]}")
        variables = self.expression.variables
        arrays, sizes = bind_sizes(variables, values, self.expression.source,
                                   self.expression._checked.reasons, unused="ignore",
                                   products=self.expression._checked.products)
        natural = {}
        for n, a in arrays.items():
            v = variables[n]
            natural[n] = a.reshape(()) if v.kind == SCALAR else (a.reshape(-1) if v.kind == "vector" else a)
        with np.errstate(all="ignore"):
            try:
                ev = IREvaluator(natural, sizes)
                for name, (ir, br, bc) in self.lowered.bindings.items():
                    natural[name] = ev.value(stable(ir), tuple(i for i in (br, bc) if i is not None))
                arr = ev.value(stable(self.node), self.out)
            except KeyError as e:
                raise BadValueError(f"the size {e.args[0]} is not fixed by any value") from None
            except np.linalg.LinAlgError:
                raise BadValueError("a matrix to invert is singular at these values") from None
        arr = np.asarray(arr, dtype=float)
        if not np.isfinite(arr).all():  # never a silent NaN or inf (docs/numerics.md)
            not_finite(self, ev, values)
        return float(arr) if arr.ndim == 0 else arr

    def __repr__(self) -> str:
        return f"<ricci derivative of {self.expression.text} by {self.wrt}, order {self.order}: {self.text}>"

    # -- text --------------------------------------------------------------------------------------
    @cached_property
    def _display(self):
        return _show(self)

    @property
    def text(self) -> str:
        """The derivative in the input language (parseable by ricci), or index notation for tensors."""
        return self._display.text

    @property
    def latex(self) -> str:
        return _latex(self)

    @property
    def has_matrix_form(self) -> bool:
        return self._display.matrix is not None

    @property
    def matrix(self) -> Expr | None:
        """The answer as a matrix-notation AST (ricci.language.ast), or None for a tensor."""
        return self._display.matrix

    @deep
    def as_expression(self) -> Expression | None:
        """The answer as a typed :class:`Expression` (None when it has no matrix form): its
        tree as the parser reads ``d.text``, each node typed from the variables' kinds and
        dimensions (:func:`ricci.simplify.mtypes.typed_expression`; the text is not parsed)."""
        if self.matrix is None:
            return None
        from .display_forms import target_orientation
        from .simplify.mtypes import typed_expression

        target = tuple(1 if i is None else i.dim for i in target_orientation(self))
        return typed_expression(self.expression, self.matrix, target, self.text)

    @property
    def index_notation(self) -> str:
        return _index_notation(self)

    def describe(self) -> str:
        dims = [str(s) for s in self.shape]
        words = self._display.orientation_words
        if "row" in words:
            dims = ["1"] + dims  # the lecture's ∇f ∈ R^{1×n}
        elif "column" in words:
            dims = dims + ["1"]
        shape = " × ".join(dims) if dims else "scalar"
        lines = [self.text, f"shape: {shape}{words}"]
        lines += ["  " + v.describe() for v in self.expression.variables.values()]
        # the compact index notation's two signs that are not the language's (docs/derivatives.md)
        if "Sym[" in self.text:
            lines.append("  Sym[t]: the sum of the distinct terms that permuting the derivative's index groups of t gives")
        if "Σ_{r=" in self.text:
            lines.append("  Σ_{r=a}^{b} t: the sum of t for r = a, a + 1, …, b (X^0 is the identity)")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "expression": self.expression.text,
            "wrt": self.wrt,
            "order": self.order,
            "text": self.text,
            "latex": self.latex,
            "shape": [str(s) for s in self.shape],
            "matrix_form": self.has_matrix_form,
            "kinds": {n: {"kind": v.kind, "dims": [str(d) for d in v.dims], "source": v.source}
                      for n, v in self.expression.variables.items()},
        }

    # -- explanation and display options (ricci.explain) -----------------------------------------------
    @cached_property
    def kronecker(self):
        """The Jacobian ∂vec F/∂vec X of a matrix (or vec) by a matrix as Kronecker products,
        beside the index notation of :attr:`text`: ``d.kronecker.expression`` is ``kron(B', A)``
        for A*X*B by X, ``.text``/``.latex`` its display, ``.evaluate(values)`` its matrix
        (:func:`ricci.explain.kronecker_form`); None where the tensor has no such form."""
        return deep(_feature("kronecker"))(self)

    @cached_property
    def steps(self):
        """The derivation step by step, as the lecture does it: shape, chain rule, rules with
        their identities, simplification, result (:func:`ricci.explain.explain`)."""
        return deep(_feature("explain"))(self)

    @cached_property
    def linear_map(self) -> Any:
        """The first derivative as a linear map, ``f'(X)[dX] = …`` in the input language (the
        differential method, :mod:`ricci.explain.by_differentials`): ``.text``, ``.latex``, and
        ``.evaluate(values, direction)``, the JVP."""
        return deep(_feature("linear_map"))(self)

    @deep
    def explain(self, name: str = "f", **options: Any) -> Any:
        """:attr:`steps` with options: the function's ``name`` (``"L"``), ``outer``, ``inner``,
        ``dims`` ({"m": "N"}) and ``bold``."""
        return _feature("explain")(self, name, **options)

    @deep
    def display(self, layout: str = "numerator", symmetric: str | None = None, bold_vectors: bool = False,
                name: str = "f", dims: dict | None = None) -> Any:
        """The answer shown with options (:func:`ricci.explain.view`): ``layout="denominator"``
        (gradients as columns), ``symmetric="gradient"`` (Matrix Cookbook §2.8), bold vectors.
        The numbers of :meth:`evaluate` never change."""
        from .printing.latex import size_names

        view = _feature("view")

        sizes = {k: (dims or {}).get(str(v), v) for k, v in (self._display.sizes or {}).items()}
        with size_names(sizes):  # a written size shows as its dimension, I_n
            return view(self, layout, symmetric, bold_vectors, name, dims)

    def text_in(self, layout: str = "numerator") -> str:
        """:attr:`text` in the given layout."""
        return self.display(layout=layout).text

    def latex_with(self, bold_vectors: bool = False, layout: str = "numerator", symmetric: str | None = None,
                   equation: bool = False, name: str = "f") -> str:
        """LaTeX with options; ``equation=True`` gives ∂f/∂x = … ∈ ℝ^{1×n}."""
        v = self.display(layout, symmetric, bold_vectors, name)
        return v.equation.latex if equation else v.latex

    @property
    def mathml(self) -> str:
        """The answer as presentation MathML (a ``<math>`` element)."""
        return self.display().mathml

    def _repr_latex_(self) -> str:
        return f"$${self.display().equation.latex}$$"

    def _repr_html_(self) -> str:
        return self.display().equation.math()

    def _repr_markdown_(self) -> str:
        return f"$${self.display().equation.latex}$$"

    @deep
    def analyse(self, at: dict | None = None, **options: Any) -> Any:
        """:func:`ricci.analyse` of this derivative's function, by the same variable, with the
        kinds the user declared."""
        analyse = _feature("analyse")
        declared = {n: v.kind for n, v in self.expression.variables.items() if v.source == "declared"}
        return analyse(self.expression.source, self.wrt, at, declared or None, **options)

    # -- code (ricci.codegen) --------------------------------------------------------------------------
    @deep
    def code(self, backend: str = "numpy", name: str | None = None, with_value: bool = False, *,
             check_finite: bool = False) -> str:
        """Python source of a function of the variables (by their names) returning the derivative
        (``with_value``: the value and the derivative); backends numpy, jax, torch, array_api.
        ``check_finite``: it raises FloatingPointError instead of returning a NaN or an inf."""
        return _feature("code")(self, backend, name, with_value, check_finite)

    @deep
    def function(self, backend: str = "numpy", name: str | None = None, with_value: bool = False, *,
                 check_finite: bool = False) -> Any:
        """:meth:`code`, compiled to a callable."""
        return _feature("function")(self, backend, name, with_value, check_finite)

    # -- matrix-free products (ricci.codegen.products) ----------------------------------------------
    @deep
    def hvp(self) -> Any:
        """The Hessian-vector product H·v of this Hessian's (or gradient's) scalar function, in
        closed form, never forming H: ``.evaluate(values, v)``, ``.code(backend)``, ``.function``."""
        return _feature("hvp")(self)

    @deep
    def jvp(self) -> Any:
        """The Jacobian-vector product J·v of this first derivative, in closed form (f's shape)."""
        return _feature("jvp")(self)

    @deep
    def vjp(self) -> Any:
        """The vector-Jacobian product u'·J of this first derivative, in closed form (wrt's shape)."""
        return _feature("vjp")(self)

    @deep
    def linear_operator(self, values: dict) -> Any:
        """A ``scipy.sparse.linalg.LinearOperator`` of this Hessian (order 2) or Jacobian (order 1)
        at ``values``, applied matrix-free (needs SciPy: ``pip install "ricci[solve]"``)."""
        return _feature("linear_operator")(self, values)

    # -- trust (ricci.numeric_check) -------------------------------------------------------------------
    @deep
    def check(self, values: dict | None = None, trials: int = 3, seed: int | None = None, rtol: float = 1e-6, *,
              timeout: float | None = _limits.DEFAULT_TIMEOUT,
              max_elements: int | None = _limits.MAX_ELEMENTS) -> Any:
        """Compare with finite differences (Richardson-extrapolated) at ``trials`` random points
        that honour every kind and domain (or at ``values``); returns a report whose ``str`` is
        "checked numerically: max relative error 3e-10 over 3 random points".  ``timeout``
        (seconds) and ``max_elements`` (entries of the derivative at a point) bound it as
        :func:`derivative` is bounded; see :func:`ricci.numeric_check.check`."""
        return _feature("check")(self, values, trials, seed, rtol, timeout=timeout, max_elements=max_elements)


@deep
def _show(d: Derivative):
    """The display forms of ``d`` (text, LaTeX, index notation), under their own budget and with
    room to recurse (ricci.deep): an answer may be deeper than its question."""
    from .limits import budget
    from .display_forms import display

    timeout, max_nodes = d._limits
    with budget(timeout, max_nodes, "showing the derivative"):
        return display(d)


def _latex(d: Derivative) -> str:
    """The LaTeX of ``d``, written on first use (``d.text`` never reads it: ricci.display_forms)."""
    return _on_first_use(d, "latex")


def _index_notation(d: Derivative) -> str:
    """The index notation of ``d``, written on first use (an answer with a matrix form leaves it
    out of ``d.text``: ricci.display_forms)."""
    return _on_first_use(d, "index")


@deep
def _on_first_use(d: Derivative, field: str) -> str:
    """The display's ``field`` (``latex``, ``index``), written by its ``<field>_of`` on first
    use under the display's budget, and kept."""
    shown = d._display
    if getattr(shown, field) is None:
        timeout, max_nodes = d._limits
        with _limits.budget(timeout, max_nodes, "showing the derivative"):
            setattr(shown, field, getattr(shown, f"{field}_of")())
    return getattr(shown, field)


@deep
def derivative(expression: str | Expression, wrt: str | Sequence[str], order: int = 1, kinds: dict | None = None, *,
               timeout: float | None = _limits.DEFAULT_TIMEOUT,
               max_nodes: int | None = _limits.MAX_NODES) -> Derivative:
    """∂^order f / ∂wrt^order, symbolically (ARCHITECTURE §3).

    ``wrt`` is a variable's name, or a list of scalar names whose derivative is the row of
    partial derivatives.  A name that the expression does not use is an
    :class:`UnknownNameError` that lists the variables it has (a typo, most likely), and so is
    a name bound by ``where``; only a list may hold a scalar the expression does not use, as a
    coordinate asked for explicitly: ``derivative("x1^2", ["x1", "x3"])`` is ``[2*x1, 0]``.
    ``timeout`` (seconds) and ``max_nodes`` bound the work (:mod:`ricci.limits`): over either,
    a :class:`LimitError`; the display forms, made on first use of ``d.text``, get the same.
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise BadValueError(f"order must be a positive integer, not {order!r}")
    if order > MAX_ORDER:
        raise LimitError(f"order {order} is above the limit of {MAX_ORDER}")
    with _limits.budget(timeout, max_nodes):
        d = _derive(expression, wrt, order, kinds)
    d._limits = (timeout, max_nodes)
    return d


def _derive(expression, wrt, order: int, kinds) -> Derivative:
    wrt = _check_wrt(wrt)
    expr = _prepare(expression, wrt, kinds)
    lw = lower(expr)
    node = lw.node
    out = lw.indices
    if isinstance(wrt, list):
        wrt_shape = (len(wrt),)
        for _ in range(order):
            _limits.tick()
            axis = B.fresh(len(wrt), "k")
            node = differentiate_list(node, wrt, axis, lw.bindings)
            out = out + (axis,)
    else:
        wrt_shape = expr.variables[wrt].dims
        for _ in range(order):
            _limits.tick()
            K = tuple(B.fresh(d, "k") for d in wrt_shape)
            node = differentiate(node, wrt, K, lw.bindings)
            out = out + K
    return Derivative(expr, wrt, order, lw, node, out, wrt_shape)

