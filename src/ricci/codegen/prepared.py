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
                if isinstance(n.op, ast.Mult) and isinstance(n.right, ast.BinOp) and isinstance(
                        n.right.op, (ast.Mult, ast.Div)):
                    # a factor that is itself a chain, lambda*(d/sqrt(G)): its factors join this
                    # one, so that lambda/sqrt(G) is computed once per point and a product pays one
                    # multiplication for the term (~1 ulp from the grouping as written). A divisor's
                    # chain, a/(b/c), stays one factor: a*c/b would differ where b = c = 0
                    flatten(n.right, divisor)
                    return
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


def _terms(node) -> list:
    """The signed terms of a sum ``a + b - c`` as written (left to right), [(negated, term)]."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return _terms(node.left) + [(isinstance(node.op, ast.Sub), node.right)]
    return [(False, node)]


def _floating(node, definitions: dict) -> bool:
    """Whether ``node`` is surely a floating-point value whatever the data: a true quotient, or
    arithmetic on one, through the point's assignments (a mask ``x > 0``, or a product of masks,
    is not: ``m1 - m2`` of booleans is an error in NumPy and ``m1 + m2`` a logical or)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, float)
    if isinstance(node, ast.Name):
        value = definitions.get(node.id)
        return value is not None and _floating(value, definitions)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Div):
            return True
        return isinstance(node.op, (ast.Mult, ast.Add, ast.Sub)) and (
            _floating(node.left, definitions) or _floating(node.right, definitions))
    return False


def _combine(node, hoister, temps: dict, definitions: dict):
    """``node``, a sum, with its terms ``p_i * d`` of one direction ``d`` and point temporaries
    ``p_i`` written as one ``p * d``, ``p = p_1 - p_2`` computed once per point (the elementwise
    part of a Hessian applied as one multiplication: the covariance's λ/√G − λS²/G^1.5); None
    where there is nothing to combine.  The sum's rounding changes (~1 ulp of its terms)."""
    terms = _terms(node)
    groups: dict = {}
    for k, (_, term) in enumerate(terms):
        if (isinstance(term, ast.BinOp) and isinstance(term.op, ast.Mult) and isinstance(term.left, ast.Name)
                and term.left.id in temps and _trivial(term.right) and hoister._reads_direction(term.right)
                and _floating(term.left, definitions)):
            groups.setdefault(ast.dump(term.right), []).append(k)
    shared = [ks for ks in groups.values() if len(ks) > 1]
    if not shared:
        return None
    for ks in shared:
        negated, first = terms[ks[0]]
        coefficient = ast.UnaryOp(ast.USub(), first.left) if negated else first.left
        for k in ks[1:]:
            coefficient = ast.BinOp(coefficient, ast.Sub() if terms[k][0] else ast.Add(), terms[k][1].left)
        terms[ks[0]] = (False, ast.BinOp(hoister._temp(coefficient), ast.Mult(), first.right))
        for k in ks[1:]:
            terms[k] = None
    kept = [t for t in terms if t is not None]
    out = kept[0][1] if not kept[0][0] else ast.UnaryOp(ast.USub(), kept[0][1])
    for negated, term in kept[1:]:
        out = ast.BinOp(out, ast.Sub() if negated else ast.Add(), term)
    return out


def _fuse(inner: list, hoister) -> list:
    """The per-direction statements with the terms of one direction combined (:func:`_combine`),
    a temporary used once, by the next statement, written into it where that lets its terms
    join (``t_1 = A + p_1 * d; return t_1 - p_2 * d`` as ``return A + p_3 * d``)."""
    # the point's temporaries and what each is (the names it reads are the point's assignments)
    temps = {line.targets[0].id: line.value for line in hoister.lines if id(line) in hoister.made}
    definitions = {line.targets[0].id: line.value for line in hoister.lines
                   if isinstance(line, ast.Assign) and len(line.targets) == 1 and isinstance(line.targets[0], ast.Name)}
    out = list(inner)
    for stmt in out:
        if isinstance(stmt, (ast.Assign, ast.Return)) and stmt.value is not None:
            stmt.value = _combine(stmt.value, hoister, temps, definitions) or stmt.value
    k = 0
    while k + 1 < len(out):
        stmt, following = out[k], out[k + 1]
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and isinstance(following, (ast.Assign, ast.Return)) and following.value is not None):
            name = stmt.targets[0].id
            uses = [n for n in ast.walk(following.value) if isinstance(n, ast.Name) and n.id == name]
            if len(uses) == 1 and not any(name in _loads(s) | _stores(s) for s in out[k + 2:]) and not (
                    isinstance(following, ast.Assign) and name in _stores(following)):
                written = _Inline(name, stmt.value).visit(_copy(following.value))
                combined = _combine(written, hoister, temps, definitions)
                if combined is not None:
                    following.value = combined
                    del out[k]
                    continue
        k += 1
    return out


class _Inline(ast.NodeTransformer):
    def __init__(self, name: str, value):
        self.name, self.value = name, value

    def visit_Name(self, node):
        return self.value if node.id == self.name and isinstance(node.ctx, ast.Load) else node


def _copy(node):
    return ast.parse(ast.unparse(node), mode="eval").body


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
    inner = _fuse(inner, hoister)
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
