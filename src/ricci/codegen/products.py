"""Matrix-free products: Hessian-vector, Jacobian-vector and vector-Jacobian products in closed form.

Each product is found by the engine itself, as the derivative of a *scalar* expression built in
the input language, so its closed form is never larger than a gradient:

* **H·v** (Hessian-vector): the Hessian of f applied to v is the gradient of the directional
  derivative ∇f(x)·v by x, with v a fresh variable of x's kind.  For ``x'*A*x`` that is the
  gradient of ``x'*(A + A')*v``, i.e. ``(A + A')*v``: an n-vector, never the n×n matrix.  The
  contraction is ``G*v`` for a scalar or a vector (G a row), ``sum(G .* V)`` for a matrix; for
  several variables, the sum of one contraction per variable (cross terms included).
* **u'·J** (vector-Jacobian): the gradient of ``u'*F`` (``sum(U .* F)`` for a matrix F) by x.
* **J·v** (Jacobian-vector): the derivative by a fresh scalar t of f(x + t·v) at t = 0, written
  ``F where z = x + t*v`` with x renamed z in F; the generated code is called with t = 0.

The products are compiled by the existing code generator (:mod:`.emit`), once per term; a small
wrapper function with the original variables and the direction as parameters sums the terms.
Nothing here evaluates text: the expressions built are parsed by ricci's own parser, and the
wrapper is assembled from validated identifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..language.errors import BadValueError, KindError, RicciError, ShapeError
from ..language.kinds import SCALAR, SYMMETRIC
from .emit import compile_function, generate, python_name

#: A name token of the input language, not part of a number (``1e5``) or of ``.T``.
_NAME_TOKEN = re.compile(r"(?<![A-Za-z0-9_.])[A-Za-z][A-Za-z0-9_]*")
_STACK = {"numpy": "np.stack", "jax": "jnp.stack", "torch": "torch.stack", "array_api": "xp.stack"}


class ProductError(RicciError):
    """A product that cannot be formed (a tensor-valued function, a derivative without a matrix form)."""

    kind = "product error"


def _tokens(source: str) -> set:
    return set(_NAME_TOKEN.findall(source))


def fresh_name(stem: str, taken) -> str:
    """``stem``, or ``stem_1``, ``stem_2``, … : the first not in ``taken``."""
    name, k = stem, 1
    while name in taken:
        name = f"{stem}_{k}"
        k += 1
    return name


def _split(tree) -> tuple[str, list[tuple[str, str]]]:
    """A matrix AST as (body text, [(bound name, text)]): a ``where`` stays at the top level."""
    from ..language import ast as A
    from ..printing.text import to_text

    if isinstance(tree, A.Where):
        return to_text(tree.body), [(n, to_text(e)) for n, e in tree.bindings]
    return to_text(tree), []


def _join(body: str, bindings: list[tuple[str, str]]) -> str:
    if not bindings:
        return body
    return body + " where " + ", ".join(f"{n} = {e}" for n, e in bindings)


def _contract(kind: str, body: str, direction: str, row_first: bool = True) -> str:
    """The scalar G·D for G of the given kind (a row or column for a vector)."""
    if kind == SCALAR:
        return f"({body})*{direction}"
    if kind == "vector":
        return f"({body})*{direction}" if row_first else f"({body})'*{direction}"
    return f"sum(({body}) .* {direction})"


def _direction_kind(kind: str) -> str:
    # A direction of a symmetric matrix is any matrix: the Hessian is the plain partial derivative.
    return "matrix" if kind == SYMMETRIC else kind


def _declared(expression, names) -> dict:
    return {n: v.kind for n, v in expression.variables.items() if n in names}


def _first_parsing(sources: list, kinds: dict) -> str:
    """The first of ``sources`` that type-checks (a vector may be a row or a column)."""
    from ..language.expression import parse

    last = None
    for src in sources:
        try:
            used = _tokens(src)
            parse(src, {n: k for n, k in kinds.items() if n in used})
            return src
        except ShapeError as e:
            last = e
    raise ProductError(f"cannot contract the derivative with the direction: {last}")  # pragma: no cover


def _contraction_source(answer_tree, kind: str, direction: str, parse_kinds: dict):
    """Source text of G·D, G the answer in matrix form; tries G as a row, then as a column."""
    body, bindings = _split(answer_tree)
    tries = [True, False] if kind == "vector" else [True]
    return _first_parsing([_join(_contract(kind, body, direction, row), bindings) for row in tries], parse_kinds)


@dataclass
class Term:
    """One closed-form piece of a product: a derivative and how the wrapper calls it."""

    derivative: object
    #: parameter name of the term's generated function → the wrapper's argument text
    arguments: dict = field(default_factory=dict)


@dataclass
class Product:
    """A matrix-free product of a derivative with a direction, in closed form.

    ``evaluate(values, direction)`` gives the reference numbers (ricci's IR evaluator);
    ``code(backend)`` / ``function(backend)`` the generated function
    ``name(<the function's variables>, <direction>)``.
    """

    what: str  # "hvp", "jvp" or "vjp"
    expression: object  # the function f (an Expression)
    wrt: object  # a name, a list of scalar names, or (for minimize) a tuple of names
    direction: str  # parameter name of the direction
    #: per output variable (one for a single wrt), the terms summed
    outputs: list  # list of (output name, list[Term])
    #: for a list of scalar names: stack the scalar outputs into one vector
    stacked: bool = False
    #: internal direction names, and how each is read from the direction argument
    direction_parts: dict = field(default_factory=dict)  # internal name → (index or None)
    constants: dict = field(default_factory=dict)  # internal name → float (t = 0 for a JVP)

    @property
    def direction_params(self) -> list:
        """The wrapper's direction parameters: one, or one per variable (``minimize``)."""
        named = [i for i in self.direction_parts.values() if isinstance(i, str)]
        return [python_name(n) for n in named] if named else [self.direction]

    # -- text -----------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        """The closed form (for several outputs, one line each, ``name: form``)."""
        parts = []
        for out, terms in self.outputs:
            forms = " + ".join(t.derivative.text for t in terms) if terms else "0"
            parts.append(forms if len(self.outputs) == 1 else f"{out}: {forms}")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return f"<ricci {self.what} of {self.expression.text}: {self.text}>"

    # -- numbers --------------------------------------------------------------------------------
    def _term_values(self, values: dict, direction) -> dict:
        vals = dict(values)
        for internal, index in self.direction_parts.items():
            vals[internal] = direction if index is None else (
                direction[index] if not isinstance(direction, dict) else direction[index])
        vals.update(self.constants)
        return vals

    def evaluate(self, values: dict, direction):
        """The product at ``values`` (every variable of f) in ``direction`` (of the wrt's shape;
        for several variables a dict by name; for a list of scalars a 1-D array)."""
        import numpy as np

        if not isinstance(values, dict):
            raise BadValueError("values must be a dict such as {'x': [1, 2], 'A': [[1, 2], [3, 4]]}")
        if isinstance(direction, dict):
            missing = [n for n in self.direction_parts.values() if n not in direction]
            if missing:
                raise BadValueError(f"the direction has no value for {', '.join(map(str, missing))}")
        else:
            direction = np.asarray(direction, dtype=float)
        vals = self._term_values(values, direction)
        results = []
        for out, terms in self.outputs:
            total = None
            for t in terms:
                v = t.derivative.evaluate({n: vals[n] for n in t.derivative.expression.variables})
                total = v if total is None else total + v
            if total is None:
                total = 0.0 * np.asarray(values[out], dtype=float) if out in values else 0.0
            results.append(total)
        if self.stacked:
            return np.array([float(r) for r in results])
        return results[0] if len(results) == 1 else tuple(results)

    # -- code -----------------------------------------------------------------------------------
    def code(self, backend: str = "numpy", name: str | None = None, prepared: bool = False) -> str:
        """Python source: one generated function per term, and ``name`` summing them.

        ``prepared=True``: ``name(<the variables>)`` returns a function of the direction alone,
        having computed once what does not depend on it (:mod:`.prepared`): for many products at
        one point, as Newton-CG makes."""
        import keyword

        from .printers import BACKENDS

        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        name = name or self.what
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"{name!r} is not a valid Python function name")
        params = [python_name(n) for n in self.expression.variables]
        if name in params or set(self.direction_params) & set(params):
            raise ProductError(f"the function name {name} or the direction {self.direction} is a variable's name")
        imports: list[str] = []
        bodies: list[str] = []
        calls: list[str] = []
        at_calls: list[str] = []
        counter = 0
        for out, terms in self.outputs:
            texts = []
            for t in terms:
                fname = f"_{name}_{counter}"
                counter += 1
                src = generate(t.derivative, backend, fname)
                head, _, body = src.partition(f"def {fname}(")
                for ln in head.strip().splitlines():
                    if ln and ln not in imports:
                        imports.append(ln)
                bodies.append(f"def {fname}(" + body)
                args = [f"{p}={self._argument(p, t)}" for p in
                        (python_name(n) for n in t.derivative.expression.variables)]
                if backend == "array_api":
                    args.append("xp=xp")
                if prepared:  # the term split at the point; called per direction as _in_k(...)
                    bodies[-1], args, at_call = self._prepared_term(bodies[-1], fname, args, counter - 1)
                    at_calls.append(at_call)
                texts.append(f"{fname}({', '.join(args)})")
            if not texts:  # f is linear in this variable: the block is zero (same shape and dtype)
                texts = [f"0.0 * {python_name(out)}"]
            calls.append(" + ".join(texts))
        sig = params + self.direction_params + (["xp=None"] if backend == "array_api" else [])
        lines = imports + ([""] if imports else [])
        for b in bodies:
            lines += ["", b.rstrip("\n"), ""]
        doc = (f'    """{_WHAT[self.what]} of {self.expression.text} by {self._wrt_text()}, '
               f'in direction {self.direction}.\n\n    Generated by ricci.\n    """')
        if prepared:
            return "\n".join(lines + self._prepared_wrapper(name, params, calls, at_calls, backend, doc)
                             ).lstrip("\n") + "\n"
        lines += ["", f"def {name}({', '.join(sig)}):", doc.replace("\\", "\\\\")]
        if self.stacked:
            if backend == "array_api":
                lines.append("    if xp is None:")
                lines.append(f"        xp = {self.direction}.__array_namespace__()")
            lines.append(f"    return {_STACK[backend]}([{', '.join(calls)}])")
        else:
            lines.append(f"    return {', '.join(calls)}")
        return "\n".join(lines).lstrip("\n") + "\n"

    def _is_direction(self, param: str) -> bool:
        return any(python_name(internal) == param for internal in self.direction_parts)

    def _prepared_term(self, body: str, fname: str, args: list, k: int) -> tuple[str, list, str]:
        """The term's function ``fname`` as ``fname_at`` (the point) returning ``fname_in`` (the
        direction); the arguments of the direction, called per direction; and the line that
        prepares the term, ``_in_k = fname_at(<the arguments of the point>)``."""
        from .prepared import split

        params = [a.split("=")[0] for a in args]
        directions = [p for p in params if self._is_direction(p)]
        point = [a for a, p in zip(args, params) if p not in directions]
        split_body = split(body, fname, directions, f"{fname}_at", f"{fname}_in")
        if split_body is None:  # not safely split: the whole function per direction
            passed = ", ".join(f"{p}={p}" for p in params)
            own = [p for p in params if p not in directions and p != "xp"] + (["xp=None"] if "xp" in params else [])
            split_body = (body.rstrip("\n") + f"\n\n\ndef {fname}_at({', '.join(own)}):\n"
                          f"    def {fname}_in({', '.join(directions)}):\n        return {fname}({passed})\n"
                          f"    return {fname}_in\n")
        at_call = f"_in_{k} = {fname}_at({', '.join(point)})"
        return split_body, [a for a, p in zip(args, params) if p in directions], at_call

    def _prepared_wrapper(self, name: str, params: list, calls: list, at_calls: list, backend: str,
                          doc: str) -> list:
        """``name(<variables>)``: every term prepared at the point, then ``name_in(<direction>)``."""
        sig = params + (["xp=None"] if backend == "array_api" else [])
        # each term's call _name_k(args) becomes _in_k(args)
        inner = [re.sub(rf"\b_{name}_(\d+)\(", r"_in_\1(", call) for call in calls]
        doc = doc.replace("in direction", "prepared at a point, then applied in direction", 1)
        lines = ["", f"def {name}({', '.join(sig)}):", doc.replace("\\", "\\\\")]
        lines += [f"    {c}" for c in at_calls]
        lines.append(f"    def {name}_in({', '.join(self.direction_params)}):")
        if self.stacked:
            stack = _STACK[backend]
            if backend == "array_api":
                stack = f"(xp if xp is not None else {self.direction}.__array_namespace__()).stack"
            lines.append(f"        return {stack}([{', '.join(inner)}])")
        else:
            lines.append(f"        return {', '.join(inner)}")
        lines.append(f"    return {name}_in")
        return lines

    def _argument(self, param: str, term: Term) -> str:
        for internal, index in self.direction_parts.items():
            if python_name(internal) == param:
                if index is None:
                    return self.direction
                if isinstance(index, int):
                    return f"{self.direction}[{index}]"
                return python_name(index)  # several variables: the direction's part is its own parameter
        for internal, value in self.constants.items():
            if python_name(internal) == param:
                return repr(float(value))
        return param

    def _wrt_text(self) -> str:
        return self.wrt if isinstance(self.wrt, str) else "[" + ", ".join(self.wrt) + "]"

    def function(self, backend: str = "numpy", name: str | None = None, prepared: bool = False):
        """:meth:`code`, compiled (its source in ``__ricci_source__``)."""
        name = name or self.what
        source = self.code(backend, name, prepared)
        fn = compile_function(source, name)
        fn.__ricci_source__ = source
        return fn

    def at(self, values: dict, backend: str = "numpy"):
        """The product at the point ``values`` (every variable of f, by name) as a function of the
        direction alone: ``p.at(values)(v)`` is ``p.function()(**values, v=v)``, with what does
        not depend on v (for logistic regression ``X @ w`` and its sigmoids) computed once here."""
        if not isinstance(values, dict):
            raise BadValueError("values must be a dict such as {'x': [1, 2], 'A': [[1, 2], [3, 4]]}")
        missing = [n for n in self.expression.variables if n not in values]
        if missing:
            raise BadValueError(f"no value given for {', '.join(missing)}")
        fn = self.function(backend, prepared=True)
        return fn(**{python_name(n): values[n] for n in self.expression.variables})


_WHAT = {"hvp": "Hessian-vector product", "jvp": "Jacobian-vector product",
         "vjp": "Vector-Jacobian product"}


# -- building the products ------------------------------------------------------------------------

def _gradients(source: str, names, kinds: dict):
    from ..derivation import derivative

    return {n: derivative(source, n, 1, kinds) for n in names}


def _used(source: str) -> set:
    """The variables of ``source`` (free names, not the ones a ``where`` binds)."""
    from ..language.kinds import free_names
    from ..language.parser import parse_text

    return set(free_names(parse_text(source), set()))


def hessian_products(expression, names, kinds: dict | None = None, directions: dict | None = None) -> Product:
    """H·v for f = ``expression`` (an Expression) by the variables ``names`` (their kinds from the
    expression); ``directions`` maps each variable to its direction's parameter name."""
    from ..derivation import derivative

    if expression.shape:
        raise ProductError(f"a Hessian-vector product needs a scalar function; {expression.text} has shape "
                           f"({', '.join(map(str, expression.shape))})")
    source = expression.source
    variables = expression.variables
    kinds = {n: v.kind for n, v in variables.items()} | dict(kinds or {})
    taken = _tokens(source) | set(variables) | set(directions.values() if directions else ())
    grads = _gradients(source, names, _declared(expression, _tokens(source)))
    internal = {}
    contractions = {}
    for n in names:
        g = grads[n]
        if g.matrix is None:
            raise ProductError(f"the gradient by {n} has no matrix form ({g.text}); no closed-form product")
        d = fresh_name(f"d_{n}", taken | _tokens(g.text))
        taken.add(d)
        internal[n] = d
        parse_kinds = dict(kinds) | {d: _direction_kind(variables[n].kind)}
        contractions[n] = (_contraction_source(g.matrix, variables[n].kind, d, parse_kinds), parse_kinds)
    outputs = []
    for j in names:
        terms = []
        for k in names:
            src, parse_kinds = contractions[k]
            used = _used(src)
            if j not in used:
                continue
            dj = derivative(src, j, 1, {n: kk for n, kk in parse_kinds.items() if n in used})
            terms.append(Term(dj))
        outputs.append((j, terms))
    return outputs, internal


def hvp(d) -> Product:
    """The Hessian-vector product of the function of ``d`` (a first or second derivative of a
    scalar function) by d's variable: ``p.evaluate(values, v)`` is H·v, of the variable's shape."""
    expr = d.expression
    if d.order not in (1, 2):
        raise ProductError(f"hvp is for a Hessian (or a gradient) of a scalar function; this is of order {d.order}")
    names = list(d.wrt) if isinstance(d.wrt, list) else [d.wrt]
    if not set(names) <= set(expr.variables):
        raise ProductError(f"{d.wrt} does not appear in {expr.text}: the Hessian is zero")
    direction = fresh_name("v", set(expr.variables))
    outputs, internal = hessian_products(expr, names)
    if isinstance(d.wrt, list):
        parts = {internal[n]: i for i, n in enumerate(names)}
        return Product("hvp", expr, d.wrt, direction, outputs, stacked=True, direction_parts=parts)
    return Product("hvp", expr, d.wrt, direction, outputs, direction_parts={internal[d.wrt]: None})


def several_hvp(expression, names) -> Product:
    """H·(v_1, …, v_k) for several variables (``minimize``): one output and one direction
    parameter (``d_<name>``) per variable."""
    outputs, internal = hessian_products(expression, names)
    parts = {internal[n]: internal[n] for n in names}
    return Product("hvp", expression, tuple(names), ", ".join(internal[n] for n in names), outputs,
                   direction_parts=parts)


def _single_wrt(d, what: str) -> str:
    if isinstance(d.wrt, list):
        raise ProductError(f"{what} is for a derivative by one variable; this one is by a list of scalars")
    if d.order != 1:
        raise ProductError(f"{what} is for a first derivative (a Jacobian or gradient); this is of order {d.order}")
    if d.wrt not in d.expression.variables:
        raise ProductError(f"{d.wrt} does not appear in {d.expression.text}: the Jacobian is zero")
    return d.wrt


def vjp(d) -> Product:
    """u'·J for the Jacobian ``d``: the gradient of u'*f by x (u of f's kind), of x's shape."""
    from ..derivation import derivative
    from ..language.expression import parse

    x = _single_wrt(d, "vjp")
    expr = d.expression
    fkind = _output_kind(expr)
    source = expr.source
    taken = _tokens(source) | set(expr.variables)
    u = fresh_name("u", taken)
    body, bindings = _split(parse(source, _declared(expr, _tokens(source))).tree)
    kinds = _declared(expr, _tokens(source)) | {u: fkind}
    # a column f contracts as u'*f, a row (x'*A) as f*u
    q = _first_parsing([_join(f"{u}'*({body})", bindings), _join(_contract(fkind, body, u), bindings)]
                       if fkind == "vector" else [_join(_contract(fkind, body, u), bindings)], kinds)
    used = _used(q)
    term = Term(derivative(q, x, 1, {n: k for n, k in kinds.items() if n in used}))
    return Product("vjp", expr, x, fresh_name("u", set(expr.variables)), [(x, [term])],
                   direction_parts={u: None})


def jvp(d) -> Product:
    """J·v for the Jacobian ``d``: d/dt f(x + t·v) at t = 0, of f's shape."""
    from ..derivation import derivative
    from ..language.expression import parse

    x = _single_wrt(d, "jvp")
    expr = d.expression
    source = expr.source
    taken = _tokens(source) | set(expr.variables)
    z = fresh_name(f"{x}_t", taken)
    t = fresh_name("t", taken | {z})
    v = fresh_name("v", taken | {z, t})
    body, bindings = _split(parse(source, _declared(expr, _tokens(source))).tree)

    def rename(text: str) -> str:
        return _NAME_TOKEN.sub(lambda m: z if m.group(0) == x else m.group(0), text)

    src = _join(rename(body), [(z, f"{x} + {t}*{v}")] + [(n, rename(e)) for n, e in bindings])
    kinds = _declared(expr, _tokens(source)) | {t: SCALAR, v: _direction_kind(expr.variables[x].kind)}
    used = _used(src)
    term = Term(derivative(src, t, 1, {n: k for n, k in kinds.items() if n in used}))
    return Product("jvp", expr, x, fresh_name("v", set(expr.variables)), [(x, [term])],
                   direction_parts={v: None}, constants={t: 0.0})


def _output_kind(expr) -> str:
    shape = tuple(expr.shape)
    if not shape:
        return SCALAR
    if len(shape) == 1:
        return "vector"
    if len(shape) == 2:
        return "matrix"
    raise KindError(f"{expr.text} is a tensor of order {len(shape)}; products are for scalars, vectors and matrices")


def linear_operator(d, values: dict):
    """A ``scipy.sparse.linalg.LinearOperator`` of the Hessian (order 2) or the Jacobian (order 1)
    of ``d`` at ``values``, applied through the generated NumPy products (SciPy imported here)."""
    import numpy as np
    from scipy.sparse.linalg import LinearOperator

    from ..evaluation import bind_sizes

    expr = d.expression
    _, sizes = bind_sizes(expr.variables, values, expr.source, expr._checked.reasons, unused="ignore",
                          products=expr._checked.products)

    def numel(dims) -> tuple:
        return tuple(int(sizes[dd]) if not isinstance(dd, int) else dd for dd in dims)

    if isinstance(d.wrt, list):
        in_shape: tuple = (len(d.wrt),)
    else:
        in_shape = numel(expr.variables[d.wrt].dims)
    n = int(np.prod(in_shape))
    args = {python_name(k): v for k, v in values.items() if k in expr.variables}

    if d.order == 2 and not expr.shape:
        p = hvp(d)
        at_values = p.function("numpy", prepared=True)(**args)  # what does not read v, once

        def matvec(v):
            return np.asarray(at_values(np.asarray(v, dtype=float).reshape(in_shape)), dtype=float).reshape(-1)

        return LinearOperator((n, n), matvec=matvec, rmatvec=matvec, dtype=float)
    if d.order != 1:
        raise ProductError("a linear operator is for a Hessian of a scalar function or a Jacobian")
    out_shape = numel(expr.shape)
    m = int(np.prod(out_shape)) if out_shape else 1
    fj = jvp(d)
    fv = vjp(d)
    jf, vf = fj.function("numpy"), fv.function("numpy")

    def jmatvec(v):
        return np.asarray(jf(**args, **{fj.direction: np.asarray(v, dtype=float).reshape(in_shape)}),
                          dtype=float).reshape(-1)

    def rmatvec(u):
        u = np.asarray(u, dtype=float).reshape(out_shape) if out_shape else float(np.asarray(u).reshape(-1)[0])
        return np.asarray(vf(**args, **{fv.direction: u}), dtype=float).reshape(-1)

    return LinearOperator((m, n), matvec=jmatvec, rmatvec=rmatvec, dtype=float)
