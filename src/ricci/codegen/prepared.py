"""A product's generated function split at a fixed point: what does not read the direction is
computed once, the rest per direction.

Newton-CG and the trust-region Krylov methods apply the Hessian at one point x to many
directions v (a conjugate-gradient step per product).  The generated H·v of the logistic loss,
``(y * y * (X @ d_w) * s * (1 - s)) @ X`` with ``s = sigmoid(-y * (X @ w))``, recomputes
``X @ w`` and both sigmoids for every v; only ``X @ d_w``, one product and ``… @ X`` read v.

:func:`split` rewrites one generated function ``f(x…, v…)`` into ``f_at(x…)``, which runs every
statement and subexpression that does not read the directions and returns a closure
``f_in(v…)`` that runs the rest.  It works on the *generated* Python source (parsed by Python's
``ast``, never user text), so every backend and every product is split the same way:

* a statement that reads no direction (shape checks, ``t_0 = y * (X @ w)``, the ``if`` of a
  stable norm) moves to ``f_at`` whole;
* in a statement that does, the largest subexpressions that read none move to ``f_at`` as
  temporaries ``p_0, p_1, …``; a product chain ``a * b * (X @ v) * c`` (elementwise: its
  factors commute) is regrouped so that ``a * b * c`` is one of them, and likewise the divisors
  of ``… / a / b``.

Where the split could change what the function computes — a statement that writes into an
array made before it (``t[...] = v``), a name assigned on both sides, a statement of another
kind — :func:`split` returns None and the caller keeps the whole function per direction.
"""

from __future__ import annotations

import ast

from ..functions import named

#: statements that may read the directions and still be split into subexpressions
_SIMPLE = (ast.Assign, ast.Return, ast.Assert)
#: expressions whose parts are evaluated conditionally (or lazily): moved whole or not at all
_OPAQUE = (ast.IfExp, ast.BoolOp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
           ast.GeneratorExp, ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)


def _loads(node) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _stores(node) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}


def _writes_into(stmt) -> bool:
    """Whether ``stmt`` may change an existing array: a store through a subscript or an attribute,
    an augmented assignment, or a bare call (``np.fill_diagonal(t, v)``)."""
    if isinstance(stmt, ast.AugAssign) or (isinstance(stmt, ast.Expr) and not isinstance(stmt.value, ast.Constant)):
        return True
    return any(isinstance(n, (ast.Subscript, ast.Attribute, ast.Starred)) and isinstance(n.ctx, ast.Store)
               for n in ast.walk(stmt))


def _trivial(node) -> bool:
    """Nothing to compute: a name, a constant, an attribute or a slice of them (``X.T``, ``s[:, None]``)."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.Attribute):
        return _trivial(node.value)
    if isinstance(node, ast.Subscript):
        return _trivial(node.value) and _trivial(node.slice)
    if isinstance(node, ast.Slice):
        return all(p is None or _trivial(p) for p in (node.lower, node.upper, node.step))
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_trivial(e) for e in node.elts)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.operand, ast.Constant)
    return False


class _Hoister:
    """Moves the direction-free subexpressions of one statement into ``lines`` as temporaries."""

    def __init__(self, dependent: set, taken: set):
        self.dependent = dependent
        self.taken = taken
        self.lines: list = []
        self.counter = 0
        self.made: set = set()  # the ids of the temporaries' lines in ``lines``
        self.inverses: dict = {}  # the inverses hoisted by _solve: their text → (line, name)

    def _reads_direction(self, node) -> bool:
        return bool(_loads(node) & self.dependent)

    def _temp(self, node) -> ast.Name:
        while f"p_{self.counter}" in self.taken:
            self.counter += 1
        name = f"p_{self.counter}"
        self.taken.add(name)
        line = ast.Assign(targets=[ast.Name(name, ast.Store())], value=node, lineno=0)
        self.lines.append(line)
        self.made.add(id(line))
        return ast.Name(name, ast.Load())

    def lift(self, node):
        """``node`` with its direction-free parts replaced by temporaries."""
        if not isinstance(node, ast.expr) or isinstance(node, ast.Slice):
            return node
        if not self._reads_direction(node):
            return node if _trivial(node) else self._temp(node)
        if isinstance(node, _OPAQUE):
            return node
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
            return self._chain(node)
        if _solve_of_fixed(node, self._reads_direction):
            return self._solve(node)
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                setattr(node, field, [self.lift(v) if isinstance(v, ast.expr) else self._keyword(v) for v in value])
            elif isinstance(value, ast.expr):
                setattr(node, field, self.lift(value))
        return node

    def _solve(self, node):
        """``<xp>.linalg.solve(A, B)`` with A fixed at the point as ``p @ B``, ``p = <xp>.linalg.inv(A)``
        computed once: a factorisation per point instead of one per direction (the inverse
        covariance's ``S⁻¹·V·S⁻¹`` is two solves with S, 2·(p³/3) flops and two LAPACK calls
        per product, against two matrix products)."""
        # the table's inverse, inv, as every namespace's linalg spells it (codegen.backends)
        inverse = ast.Call(func=ast.Attribute(value=node.func.value, attr=named("inverse"), ctx=ast.Load()),
                           args=[node.args[0]], keywords=[])
        # the same A solved with twice (S⁻¹·V·S⁻¹) shares its inverse, where nothing but these
        # temporaries was hoisted in between (no name A reads can have been assigned again)
        key = ast.dump(inverse)
        index, name = self.inverses.get(key, (None, None))
        if name is None or any(id(line) not in self.made for line in self.lines[index:]):
            index, name = len(self.lines), self._temp(inverse).id
        self.inverses[key] = (index, name)
        return ast.BinOp(ast.Name(name, ast.Load()), ast.MatMult(), self.lift(node.args[1]))

    def _keyword(self, value):
        if isinstance(value, ast.keyword):
            value.value = self.lift(value.value)
        return value

    def _chain(self, node):
        """``a * b * (X @ v) / c`` as ``p * (X @ v)`` with ``p = a * b / c`` computed once (its
        factors are elementwise products and quotients, which commute)."""
        factors: list = []  # (is a divisor, operand), left to right

        def flatten(n, divisor: bool):
            if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Mult, ast.Div)):
                flatten(n.left, divisor)
                factors.append((isinstance(n.op, ast.Div), n.right))
            else:
                factors.append((divisor, n))

        flatten(node, False)
        free = [(d, f) for d, f in factors if not self._reads_direction(f)]
        bound = [(d, self.lift(f)) for d, f in factors if self._reads_direction(f)]
        numerators = [f for d, f in free if not d]
        divisors = [f for d, f in free if d]

        def product(items):
            out = items[0][1]
            for d, f in items[1:]:
                out = ast.BinOp(out, ast.Div() if d else ast.Mult(), f)
            return out

        if numerators:
            hoisted = product([(False, f) for f in numerators] + [(True, f) for f in divisors])
            items = [(False, hoisted if _trivial(hoisted) else self._temp(hoisted))] + bound
        elif divisors:  # the first factor reads v, so it is a numerator
            hoisted = product([(False, f) for f in divisors])
            items = bound + [(True, hoisted if _trivial(hoisted) else self._temp(hoisted))]
        else:
            items = bound
        return product(items)


def _solve_of_fixed(node, reads_direction) -> bool:
    """``<xp>.linalg.solve(A, B)`` (every backend spells it so) whose A does not read the
    directions and whose B does."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "solve"
            and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "linalg"
            and len(node.args) == 2 and not node.keywords and not reads_direction(node.args[0])
            and reads_direction(node.args[1]))


def split(source: str, name: str, directions, at_name: str, in_name: str) -> str | None:
    """The function ``name`` of ``source`` (one generated ``def``) as ``at_name(<the other
    parameters>)`` returning ``in_name(<directions>)``; None where it cannot be split safely."""
    tree = ast.parse(source)
    fns = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    if len(fns) != 1:
        return None
    fn = fns[0]
    params = [a.arg for a in fn.args.args]
    directions = [d for d in directions if d in params]
    if not directions or fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs or fn.args.posonlyargs:
        return None
    body = list(fn.body)
    doc = None
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        doc = body.pop(0)
    dependent = set(directions)
    outer_names = set(params) - dependent  # assigned before or by the hoisted part
    taken = {n for n in _stores(fn) | _loads(fn)} | set(params)
    hoister = _Hoister(dependent, taken)
    hoisted: list = []
    inner: list = []
    for stmt in body:
        reads = _loads(stmt)
        stores = _stores(stmt)
        if not (reads & dependent):
            if stores & dependent:
                return None
            hoister.lines.append(stmt)
            outer_names |= stores
            continue
        if stores & outer_names or (_writes_into(stmt) and reads & outer_names):
            return None  # a name of the outer part assigned or written into per direction
        if isinstance(stmt, _SIMPLE):
            for field in ("value", "test", "msg"):
                if getattr(stmt, field, None) is not None:
                    setattr(stmt, field, hoister.lift(getattr(stmt, field)))
        inner.append(stmt)
        dependent |= stores
    hoisted = hoister.lines
    if not inner:  # pragma: no cover - a product reads its direction
        return None
    inner_fn = ast.FunctionDef(
        name=in_name, args=ast.arguments(posonlyargs=[], args=[ast.arg(d) for d in directions], vararg=None,
                                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=inner, decorator_list=[], returns=None, type_params=[])
    kept = [a for a in fn.args.args if a.arg not in directions]
    # defaults belong to the last parameters (xp=None): keep those of kept parameters
    defaults = fn.args.defaults
    first_default = len(fn.args.args) - len(defaults)
    kept_defaults = [dflt for a, dflt in zip(fn.args.args[first_default:], defaults) if a.arg not in directions]
    if any(a.arg in directions for a in fn.args.args[first_default:]):
        return None
    outer = ast.FunctionDef(
        name=at_name, args=ast.arguments(posonlyargs=[], args=kept, vararg=None, kwonlyargs=[], kw_defaults=[],
                                         kwarg=None, defaults=kept_defaults),
        body=([doc] if doc is not None else []) + hoisted + [inner_fn, ast.Return(ast.Name(in_name, ast.Load()))],
        decorator_list=[], returns=None, type_params=[])
    return ast.unparse(ast.fix_missing_locations(ast.Module(body=[outer], type_ignores=[])))
