"""General constraints in the input language: ``sum(w) == 1``, ``norm2(w)^2 <= 1``, ``A*x <= b``.

A constraint is two expressions of the language around one comparison; it becomes
``c(x) = lhs - rhs`` with ``c = 0`` (``==``) or ``c <= 0`` (``<=``; ``>=`` is read as
``rhs - lhs <= 0``), entry by entry for a vector or matrix c.  The comparison is found by a
regular expression (the language itself has no ``<``, ``>`` or ``==``); each side is parsed by
ricci's parser, never evaluated as Python.  A constraint that is only a bound on a variable
(``w >= 0``, ``0 <= p <= 1``) is handed to the bounds, which L-BFGS-B keeps exactly.

What the augmented Lagrangian needs of a constraint — its value and u'·J for a multiplier u —
comes from ricci: the value from generated code (the gradient of u'·c by u; the evaluator
where that fails or c is not finite, for its message), u'·J from :func:`ricci.codegen.products.vjp`
(the gradient of ``u'*c``, generated code, never the Jacobian).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..codegen import python_name
from ..language.errors import BadValueError, RicciError, RicciSyntaxError
from .bounds import parse_bound

_COMPARE = re.compile(r"==|<=|>=|=<|=>|<|>")


@dataclass
class Constraint:
    text: str  # as the user wrote it
    equality: bool
    source: str  # c(x) in the language: c = 0 or c <= 0
    expression: object  # the parsed c
    vjps: dict  # variable minimised over → (Product, compiled function)
    #: c as generated code, (function, {parameter: variable}, u's parameter or None), or None:
    #: see _value_code
    code: tuple | None = None
    #: its Jacobian reads none of the variables minimised over: c = A·z + c₀ (see .affine)
    affine: bool = False

    def __post_init__(self):
        if not self.expression.shape:  # a scalar c: value() goes to the generated code from its
            self._cshape = ()          # first call, without the evaluator's walk for its shape

    def value(self, values: dict) -> np.ndarray:
        from ..evaluation import evaluate_expression

        if self.code is not None and hasattr(self, "_cshape"):
            fn, params, u = self.code
            call = {p: values[n] for p, n in params.items()}
            if u is not None:  # the generated code reads c's size from u's shape
                call[u] = np.zeros(self._cshape)
            with np.errstate(all="ignore"):
                out = np.asarray(fn(**call), dtype=float).reshape(-1)
            if np.isfinite(out).all():
                return out
            # not finite: the evaluator below names the subexpression where it happens
        with np.errstate(all="ignore"):
            out = evaluate_expression(self.expression, values)
        self._cshape = np.shape(out)
        return np.atleast_1d(np.asarray(out, dtype=float)).reshape(-1)

    def vjp(self, name: str, args: dict, u: np.ndarray):
        """u'·∂c/∂name, of name's shape (zero when c does not use it)."""
        if name not in self.vjps:
            return None
        product, fn = self.vjps[name]
        shape = tuple(int(s) for s in self._shape(args))
        cot = float(u[0]) if shape == () else u.reshape(shape)
        call = {python_name(n): args[python_name(n)] for n in self.expression.variables}
        with np.errstate(all="ignore"):
            return fn(**call, **{product.direction: cot})

    def _shape(self, args):
        if not hasattr(self, "_cshape"):
            from ..evaluation import evaluate_expression

            values = {n: args[python_name(n)] for n in self.expression.variables}
            self._cshape = np.shape(evaluate_expression(self.expression, values))
        return self._cshape


def _value_code(source: str, expr, declared: dict):
    """c as generated NumPy code, or None.  ricci generates code for derivatives, and the
    gradient of u'·c by a fresh u is c itself; the augmented Lagrangian evaluates c at every
    step, where the evaluator's walk over the tree costs more than c (``sum(p) - 1``)."""
    from ..codegen.products import fresh_name
    from ..derivation import derivative

    t = expr.type
    u = fresh_name("u", set(expr.variables) | set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", source)))
    if t.is_scalar:
        kind, wrapped = "scalar", f"{u}*({source})"
    elif t.is_col:
        kind, wrapped = "vector", f"{u}'*({source})"
    elif t.is_row:
        kind, wrapped = "vector", f"({source})*{u}"
    else:
        kind, wrapped = "matrix", f"tr({u}'*({source}))"
    try:
        fn = derivative(wrapped, u, 1, {**declared, u: kind}).function("numpy")
    except RicciError:  # c stays with the evaluator
        return None
    wanted = inspect.signature(fn).parameters
    params = {python_name(n): n for n in expr.variables if python_name(n) in wanted}
    return fn, params, python_name(u) if python_name(u) in wanted else None


def split(text: str) -> tuple[str, str, str]:
    """``"A*x <= b"`` → ``("A*x", "<=", "b")``; exactly one comparison."""
    if not isinstance(text, str):
        raise BadValueError(f"a constraint is a text such as 'sum(w) == 1', not {text!r}")
    found = list(_COMPARE.finditer(text))
    if len(found) != 1:
        what = "no comparison" if not found else f"{len(found)} comparisons"
        span = (0, len(text)) if not found else (found[1].start(), found[1].end())
        raise RicciSyntaxError(f"a constraint has one comparison (==, <= or >=), this has {what}: "
                               "write sum(w) == 1, norm2(w)^2 <= 1 or A*x <= b", span, text)
    m = found[0]
    op = {"=<": "<=", "=>": ">=", "<": "<=", ">": ">="}.get(m.group(0), m.group(0))
    lhs, rhs = text[:m.start()].strip(), text[m.end():].strip()
    if not lhs or not rhs:
        raise RicciSyntaxError(f"the constraint {text!r} needs an expression on each side of {m.group(0)}",
                               (m.start(), m.end()), text)
    return lhs, op, rhs


def is_bound(text: str) -> bool:
    try:
        parse_bound(text)
    except RicciError:
        return False
    return True


def build(texts, problem, kinds: dict, surface: str) -> list[Constraint]:
    """Each constraint parsed with the kinds of f's variables (and the data's), checked against
    the data's shapes, with its VJPs generated."""
    from .parsing import parse
    from .problem import check_values

    out = []
    for text in texts:
        lhs, op, rhs = split(text)
        source = f"({rhs}) - ({lhs})" if op == ">=" else f"({lhs}) - ({rhs})"
        if rhs.strip() in ("0", "0.0") and op != ">=":
            source = lhs
        expr = _parse(parse, source, text, kinds)
        used = set(expr.variables)
        if not used & set(problem.names):
            raise BadValueError(f"the constraint {text!r} does not involve {', '.join(problem.names)}, "
                                "the variables minimised over")
        missing = [n for n in used if n not in problem.names and n not in problem.data]
        if missing:
            from .problem import say

            raise BadValueError(f"the constraint {text!r} uses {', '.join(missing)}, which has no value: give "
                                + "; ".join(say(surface, "data", n=n) for n in missing))
        check_values(expr, problem, f"the constraint {text!r}")
        declared = tuple(sorted((n, v.kind) for n, v in expr.variables.items()))
        vjps, code, affine = _generated(source, tuple(n for n in problem.names if n in used), declared)
        out.append(Constraint(text, op == "==", source, expr, vjps, code, affine))
    return out


@lru_cache(maxsize=64)
def _generated(source: str, names: tuple, declared: tuple):
    """The VJPs and the value's code of c, and whether c is affine in the variables: they depend
    on c and the kinds only, never the data, so a second solve with the same constraint reuses
    them (as the objective's, objective.py)."""
    from ..derivation import derivative
    from ..language.expression import parse

    kinds = dict(declared)
    vjps = {}
    affine = True
    for n in names:
        d = derivative(source, n, 1, kinds)
        affine = affine and not reads(d, names)  # the Jacobian reads no variable: c = A·z + c₀
        p = d.vjp()
        vjps[n] = (p, p.function("numpy"))
    return vjps, _value_code(source, parse(source, kinds), kinds), affine


def reads(d, names) -> bool:
    """Whether the derivative ``d`` (its IR, through its where bindings) reads any of ``names``
    (not its text: a size such as ``len(p)`` is no dependence on p's values)."""
    from ..ir.nodes import Var
    from ..ir.traverse import nodes

    todo, seen = [d.node], set()
    while todo:
        node = todo.pop()
        for n in nodes(node):
            if isinstance(n, Var) and n.name not in seen:
                seen.add(n.name)
                if n.name in d.lowered.bindings:
                    todo.append(d.lowered.bindings[n.name][0])
    return not seen.isdisjoint(names)


def _parse(parse, source: str, text: str, kinds: dict):
    from ..language.errors import RicciError as _E

    used_kinds = dict(kinds)
    try:
        expr = parse(source, {n: k for n, k in used_kinds.items() if re.search(rf"(?<![A-Za-z0-9_]){n}(?![A-Za-z0-9_])", source)})
    except _E as e:
        raise type(e)(f"in the constraint {text!r}: {e.message}") from None
    return expr
