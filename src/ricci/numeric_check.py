# Over 600 lines: sampler, evaluator, comparison (the differences are finite_differences.py); issue 16's one evaluator/sampler takes two out.
"""Numbers as the referee: a symbolic derivative checked against finite differences.

``d.check()`` (:func:`check`) draws random points that honour every kind and every domain the
expression needs, differentiates the function numerically there, and compares with the symbolic
derivative.  The pieces, usable on their own:

* :class:`ArrayEvaluator` — the typed matrix AST evaluated with any NumPy-like namespace
  (``numpy``, or ``jax.numpy`` for the JAX oracle of :mod:`ricci.testing`).  It is a second,
  independent reading of the language's semantics (:mod:`ricci.evaluation` is the first, the
  tensor IR of the derivative the third); a *watcher* sees the argument of every operation with
  a restricted domain (``log``, ``sqrt``, divisors, powers, ``arcsin``, ``inv``/``det``/``logdet``)
  and of every kink (``abs``, ``sign``, ``relu``, ``step``, ``norm1``).
* :func:`requirements` — what the values must satisfy, read off the AST: positive entries under
  ``log``/``sqrt``/a divisor/a fractional or negative power (with the sign flipped under a minus),
  small entries under ``arcsin``/``arccos``/``tan``, well-conditioned square matrices under
  ``inv``/``det``/``logdet`` (diagonally dominant, or SPD for a symmetric matrix).
* :func:`sample_point` — random values: a different size for every dimension, symmetric
  matrices symmetric, the requirements honoured; :func:`find_point` draws until the watcher
  finds every argument safely inside its domain, away from kinks and singular matrices.
* :func:`finite_difference` and :func:`mixed_difference` (:mod:`ricci.finite_differences`) —
  central differences at three steps, Richardson-extrapolated, with an estimate of their own
  error; the second at any order, from f's values.

How a derivative of order k is checked: level j (1 … k) compares ricci's order-j derivative
with j-th differences of f itself (evaluated by :class:`ArrayEvaluator`), never with
differences of ricci's order-(j − 1) derivative: the orders are computed by one evaluator,
and a flaw they share would cancel between two of them (issue 22).  A flaw of one order is
reported at that level alone.  At order j ≥ 2 the differences cost 3·2^j evaluations of f per
combination of j entries of wrt, so drawn points are smaller (:data:`SPARE`) and at most
:data:`MAX_COMBINATIONS` combinations are compared at a point (a random sample beyond); a
derivative below ten times the differences' own rounding (f's, amplified by 1/step^j) is
measured against that rounding.  A point where the finite differences cannot be trusted
(their error estimate is above a tenth of the tolerance at three ever smaller steps, or a step
crosses a kink or leaves a domain) is replaced by another.  For a symmetric ``wrt`` level 1
compares the plain partial derivative (the unconstrained convention, ARCHITECTURE §1: each
entry perturbed alone); at higher levels slot 1 is plain and the others move along symmetric
perturbations (E_ij + E_ji), the part that does not depend on how f is extended off the
symmetric matrices.  Where the answer has a matrix form, its text is parsed back and evaluated
too: the answer a person reads must give the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import limits as _limits
# finite_difference and symmetrise_last keep their names here too (tests and tools/ use them so)
from .finite_differences import STEPS, finite_difference as finite_difference, mixed_difference, \
    symmetrise_last as symmetrise_last, symmetrise_slots
from .functions import lookup
from .functions.spectral import no_derivative
from .hints import Choice, Hint, option, say
from .language import ast as A
from .language.errors import BadValueError, LimitError
from .stable import match as match_stable
from .stable import value as stable_value

#: Default tolerance of :func:`check` (relative to the derivative's largest entry).
RTOL = 1e-6
#: A derivative is compared relative to its largest entry, or to this fraction of the largest
#: value of the function it is the derivative of, whichever is larger.
FLOOR = 1e-5
#: Values below this (in absolute value) are compared absolutely when the text answer is checked
#: against the derivative's own numbers (see :func:`check_at`).
TEXT_FLOOR = 1e-8

#: At order k ≥ 2, at most this many combinations of k entries of wrt (the derivative is
#: symmetric in them) are compared at a point, drawn at random when there are more: each costs
#: 3·2^k evaluations of f (order 3 in a vector of 10 entries has 220).
MAX_COMBINATIONS = 220
#: How many sizes beyond the fewest that keep the dimensions apart a drawn point may use, by
#: the order checked (0 beyond those listed): every order is differenced from f, entry by entry
#: (see :data:`MAX_COMBINATIONS`), so the higher ones draw smaller arrays.
SPARE = {1: 3, 2: 1}
#: At order k ≥ 2 the step is made this many times smaller in turn while the extrapolation's
#: error is above a tenth of the tolerance (near a singularity, as sqrt's at a small entry).
SHRINK = (1, 4, 16)

#: How many points :func:`find_point` draws before it gives up.
MAX_DRAWS = 80
#: How many draws of the smallest sizes a check tries, when the usual sizes make the derivative
#: too large (:data:`ricci.limits.MAX_ELEMENTS`), before it refuses.
SMALL_DRAWS = 8

# ------------------------------------------------------------------------------------------------
# the evaluator
# ------------------------------------------------------------------------------------------------

# How each function evaluates (any array namespace) and what is watched in its argument are the
# function table's (ricci.functions: Function.xp, Function.watch).


def _bound_names(tree) -> set:
    return {n for w in A.walk(tree) if isinstance(w, A.Where) for n, _ in w.bindings}


def _int_exponent(node) -> int | None:
    """The exponent as an int when it is an integer literal (``2``, ``(-2)``), else None."""
    sign = 1
    while isinstance(node, A.Neg):
        sign, node = -sign, node.arg
    if isinstance(node, A.Num) and float(node.value).is_integer() and abs(node.value) < 1e6:
        return sign * int(node.value)
    return None


class ArrayEvaluator:
    """Evaluate a typed :class:`ricci.Expression` with the array namespace ``xp``.

    Values are held in the 2-D working form (a scalar 1×1, a column vector n×1), as MATLAB does;
    :meth:`__call__` takes and returns the public forms (floats, 1-D vectors, 2-D matrices).
    ``watch(what, node, value)`` is called with the argument of every watched operation (see
    ``Function.watch`` in ricci.functions; ``"positive"`` also for divisors and the bases of fractional or negative
    powers) and never changes a value.  ``stable``: read the compositions that ricci.evaluate
    computes in a stable form (``log(1 + exp(u))`` as softplus(u), …; :mod:`ricci.stable`) so,
    with the table's functions: :func:`check_at` does where f as written is not finite.
    """

    def __init__(self, expr, xp=np, watch=None, stable: bool = False):
        self.expr = expr
        self.xp = xp
        self.watch = watch
        self.stable = stable
        self.sizes: dict = {}
        #: name → the expression a where binds it to (the stable forms read through names)
        self.bound_ast: dict = {}

    def __call__(self, values: dict):
        xp = self.xp
        self.sizes = {}
        arrays = {}
        for name, var in self.expr.variables.items():
            v = xp.asarray(values[name], dtype=xp.float64)
            shape = tuple(v.shape)
            if var.kind == "vector":
                shape = (shape[0],)
                v = v.reshape(-1, 1)
            elif var.kind == "scalar":
                v = v.reshape(1, 1)
            for dim, n in zip(var.dims, shape):
                if not isinstance(dim, int):
                    self.sizes.setdefault(dim, int(n))
            arrays[name] = v
        self.arrays = arrays
        if not hasattr(self, "_bound"):  # the tree's and the variables' own: kept between calls
            self._bound = _bound_names(self.expr.tree)
            self._varying = {}
        out = self.run(self.expr.tree, {})
        t = self.expr.type
        if t.is_scalar:
            return out.reshape(())
        if t.is_col or t.is_row:
            return out.reshape(-1)
        return out

    # -- helpers ----------------------------------------------------------------------------------
    def size(self, d) -> int:
        if isinstance(d, int):
            return d
        if d not in self.sizes:
            raise BadValueError(f"the size {d} is not fixed by any value")
        return self.sizes[d]

    def shape(self, node) -> tuple:
        t = self.expr.type_of(node)
        return (self.size(t.rows), self.size(t.cols))

    def _see(self, what, node, value, arg=None):
        if self.watch is not None:
            self.watch(what, node, value, arg is None or self.varying(arg))

    def varying(self, node) -> bool:
        """Whether the subexpression depends on a variable (a bound name is taken to)."""
        memo = self.__dict__.setdefault("_varying", {})
        got = memo.get(id(node))
        if got is None:
            if isinstance(node, A.Name):
                got = node.name in self.arrays or node.name in self._bound
            else:
                got = any(self.varying(c) for c in A.children(node))
            memo[id(node)] = got
        return got

    # -- the interpreter ---------------------------------------------------------------------------
    def run(self, node, env):
        _limits.tick()  # numbers under a budget (d.check, ricci.analyse, ricci.plot) stop in time
        form = match_stable(node, self.expr.type_of, self.bound_ast) if self.stable else None
        value = self._run(node, env) if form is None else self._stable(node, form, env)
        self._see("value", node, value, node)
        return value

    def _stable(self, node, form, env):
        """A composition in its stable form (ricci.evaluation's reading, in ``xp``)."""
        xp = self.xp
        x = self.run(form.arg, env)
        fn = lookup(form.func)
        if fn.watch is not None:
            self._see(fn.watch, node, x, form.arg)
        return stable_value(form, x, lambda f, v: lookup(f).xp(xp, v))

    def _run(self, node, env):
        xp = self.xp
        match node:
            case A.Num(value=v):
                return xp.full((1, 1), float(v), dtype=xp.float64)
            case A.Name(name=n):
                if n in env:
                    return env[n]
                if n in self.arrays:
                    return self.arrays[n]
                return xp.eye(self.shape(node)[0], dtype=xp.float64)  # eye / I
            case A.Neg(arg=a):
                return -self.run(a, env)
            case A.Transpose(arg=a):
                return self.run(a, env).T
            case A.BinOp(op=op, left=left, right=right):
                return self._binop(node, op, left, right, env)
            case A.Call(func="eye"):  # eye(n): the size is in the type
                return xp.eye(self.shape(node)[0], dtype=xp.float64)
            case A.Call(func=f, args=(a, *_)):  # vector(c, n), matrix(c, m, n): sizes typed
                return self._call(node, lookup(f).name, a, env)
            case A.Literal(rows=rows):
                return xp.concatenate(
                    [xp.concatenate([self.run(e, env) for e in row], axis=1) for row in rows], axis=0)
            case A.Where(body=body, bindings=bindings):
                inner = dict(env)
                for name, e in bindings:
                    inner[name] = self.run(e, inner)
                    self.bound_ast[name] = e  # for the stable forms: 1 - s where s = sigmoid(u)
                return self.run(body, inner)
        raise TypeError(f"not an expression node: {node!r}")  # pragma: no cover

    def _binop(self, node, op, left, right, env):
        xp = self.xp
        if op in ("^", ".^"):
            k = _int_exponent(right)
            x = self.run(left, env)
            if k is not None:
                if k < 0:
                    self._see("nonzero", node, x, left)
                return x ** k
            self._see("positive", node, x, left)
            return xp.power(x, self.run(right, env))
        x, y = self.run(left, env), self.run(right, env)
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            if self.expr.type_of(left).is_scalar or self.expr.type_of(right).is_scalar:
                return x * y
            return x @ y
        if op == ".*":
            return x * y
        if op in ("/", "./"):
            self._see("nonzero", node, y, right)
            return x / y
        raise TypeError(op)  # pragma: no cover

    def _call(self, node, f, a, env):
        xp = self.xp
        x = self.run(a, env)
        fn = lookup(f)
        if fn.watch is not None:
            self._see(fn.watch, node, x, a)
        if fn.family == "constant":  # vector(c), matrix(c): the size is the typed one
            return xp.ones(self.shape(node), dtype=xp.float64) * x
        if fn.xp is not None:
            return fn.xp(xp, x)
        raise TypeError(f"no evaluation for {f}")  # pragma: no cover


# ------------------------------------------------------------------------------------------------
# what the values must satisfy
# ------------------------------------------------------------------------------------------------

def requirements(expr) -> dict[str, set]:
    """Variable name → a set of needs: ``"positive"``, ``"negative"`` (entries of that sign),
    ``"small"`` (entries in ±[0.05, 0.4]), ``"conditioned"``/``"-conditioned"`` (a square
    matrix well conditioned with a positive / negative determinant direction).

    Read off the AST with a sign that flips under a minus; a heuristic for drawing values
    (:func:`find_point` checks the values it draws)."""
    needs: dict[str, set] = {n: set() for n in expr.variables}
    bindings: dict[str, A.Expr] = {}
    seen: set = set()

    def visit(node, ctx: frozenset):
        match node:
            case A.Num():
                return
            case A.Name(name=n):
                if n in bindings:
                    key = (n, ctx)
                    if key not in seen:
                        seen.add(key)
                        visit(bindings[n], ctx)
                elif n in needs:
                    needs[n].update(ctx)
                return
            case A.Neg(arg=a):
                visit(a, _flip(ctx))
            case A.Transpose(arg=a):
                visit(a, ctx)
            case A.BinOp(op=op, left=left, right=right):
                if op in ("+", "*", ".*"):
                    visit(left, ctx)
                    visit(right, ctx)
                elif op == "-":
                    visit(left, ctx)
                    visit(right, _flip(ctx))
                elif op in ("/", "./"):
                    visit(left, ctx)
                    visit(right, (ctx - {"positive", "negative"}) | {"positive"})
                else:  # ^ .^
                    k = _int_exponent(right)
                    if k is None or k < 0:
                        visit(left, (ctx - {"positive", "negative"}) | {"positive"})
                        visit(right, ctx - {"positive", "negative"})
                    elif k % 2 == 0:
                        visit(left, ctx - {"positive", "negative"})
                    else:
                        visit(left, ctx)
            case A.Call(func=f, args=(a, *_)) if f != "eye":
                want = lookup(f).needs  # the function table's: what the argument must be
                if want == "positive":
                    visit(a, (ctx - {"positive", "negative"}) | {"positive"})
                elif want == "small":
                    visit(a, frozenset({"small"}))
                elif want == "conditioned":
                    visit(a, frozenset({"conditioned"}))
                elif want == "any sign":  # the value does not care about the sign of the entries
                    visit(a, ctx - {"positive", "negative", "conditioned", "-conditioned"})
                else:  # "pass" (sum, tr, diag, vector(c), matrix(c)): the sign passes through
                    visit(a, ctx)
            case A.Literal(rows=rows):
                for row in rows:
                    for e in row:
                        visit(e, ctx - {"conditioned", "-conditioned"})
            case A.Where(body=body, bindings=bs):
                for name, e in bs:
                    bindings[name] = e
                    visit(e, frozenset())
                visit(body, ctx)

    visit(expr.tree, frozenset())
    return needs


def _flip(ctx: frozenset) -> frozenset:
    swap = {"positive": "negative", "negative": "positive", "conditioned": "-conditioned",
            "-conditioned": "conditioned"}
    return frozenset(swap.get(c, c) for c in ctx)


# ------------------------------------------------------------------------------------------------
# random points
# ------------------------------------------------------------------------------------------------

def dimension_sizes(expr, rng, sizes: dict | None = None, low: int = 2, spare: int = 3) -> dict:
    """A size for every symbolic dimension of ``expr``'s variables: all different (and different
    from the sizes that literals fix), unless ``sizes`` gives them."""
    fixed = dict(sizes or {})
    symbols: list = []
    taken = set(int(v) for v in fixed.values())
    for var in expr.variables.values():
        for d in var.dims:
            if isinstance(d, int):
                taken.add(d)
            elif d not in fixed and d not in symbols:
                symbols.append(d)
    pool = [s for s in range(low, low + len(symbols) + len(taken) + spare) if s not in taken]
    chosen = rng.permutation(pool)[: len(symbols)]
    fixed.update({d: int(s) for d, s in zip(symbols, chosen)})
    return fixed


def sample_point(expr, rng, sizes: dict | None = None, style: int = 0, spare: int = 3) -> dict:
    """Random values for ``expr``'s variables (floats, 1-D vectors, 2-D matrices).

    Every dimension a different size (see :func:`dimension_sizes`); entries ±[0.2, 1];
    symmetric matrices symmetric; the :func:`requirements` honoured.  ``style`` varies the
    draw for another try: 1 halves every entry, 2 makes every entry positive, 3 does both."""
    needs = requirements(expr)
    dims = dimension_sizes(expr, rng, sizes, spare=spare)
    scale = 0.5 if style in (1, 3) else 1.0
    out: dict = {}
    for name, var in expr.variables.items():
        need = needs.get(name, set())
        shape = tuple(d if isinstance(d, int) else dims[d] for d in var.dims)
        if var.kind == "vector":
            shape = shape[:1]

        def entries(shape, need=need):
            mag = rng.uniform(0.2, 1.0, size=shape) * scale
            if "small" in need:
                mag = rng.uniform(0.05, 0.4, size=shape)
            if "positive" in need or style >= 2:
                sign = 1.0
            elif "negative" in need:
                sign = -1.0
            else:
                sign = rng.choice([-1.0, 1.0], size=shape)
            return sign * mag

        square = len(shape) == 2 and shape[0] == shape[1]
        conditioned = need & {"conditioned", "-conditioned"}
        if var.kind == "scalar":
            out[name] = float(entries(()))
        elif square and conditioned:
            n = shape[0]
            sign = -1.0 if conditioned == {"-conditioned"} else 1.0
            if var.kind == "symmetric matrix":
                g = entries(shape) if ("positive" in need or style >= 2) else rng.uniform(-1, 1, shape)
                value = g @ g.T / n + np.eye(n)
            else:
                value = rng.uniform(-1.0, 1.0, size=shape) * scale + (n + 1.0) * np.eye(n)
                if "positive" in need or style >= 2:
                    value = np.abs(value)
            out[name] = sign * value
        else:
            value = entries(shape)
            if var.kind == "symmetric matrix":
                value = (value + value.T) / 2
            out[name] = value
    return out


class Probe:
    """A watcher for :class:`ArrayEvaluator` that records how far every watched argument is from
    the edge of its domain or from a kink, and the sign pattern of the kinks' arguments."""

    #: smallest accepted margins
    #: (inside the domain is enough: a point too close to an edge for finite differences is
    #: refused by their own error estimate, or by a step that leaves the domain)
    POSITIVE = 1e-8
    UNIT = 0.98
    COND = 1e7
    #: a value "too large" is one near the float range's end (1e308), where a few steps of the
    #: differences, or a product of two such values, could overflow; a value merely large (a
    #: scale of 1e12 or 1e40) is checked as any other, the differences' own relative error
    #: estimate judging the point (at 1e10, every point of 1e12*x'*x was refused)
    HUGE = 1e100

    def __init__(self, values: bool = True):
        self.problem: str | None = None
        self.kinks: list = []
        self.value = None  #: the expression's value, which :func:`probe` computed anyway
        #: whether every node's value is watched too (finite, not huge); without, only domains
        #: and kinks: half the cost, for a point a step from one watched whole (its differences
        #: are checked finite, and their error estimate sees a value out of scale)
        self.values = values

    def __call__(self, what, node, value, varying=True):
        if self.problem is not None or (what == "value" and not self.values):
            return
        v = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(v)):
            self.problem = "a value is not finite"
        elif not varying and what != "kink":
            return  # a constant: no step can move it closer to an edge, or make it overflow
        elif what == "value":
            if v.size and np.max(np.abs(v)) > self.HUGE:
                self.problem = "a value is too large"
        elif what == "positive":
            if np.min(v) < self.POSITIVE:
                self.problem = "an argument that must be positive is too close to 0"
        elif what == "nonzero":
            if np.min(np.abs(v)) < self.POSITIVE:
                self.problem = "a divisor is too close to 0"
        elif what == "norm":
            if np.sqrt(np.sum(v * v)) < self.POSITIVE:
                self.problem = "the argument of norm2 is too close to 0"
        elif what == "unit":
            if np.max(np.abs(v)) > self.UNIT:
                self.problem = "an argument of arcsin/arccos is too close to ±1"
        elif what == "pole":
            if np.min(np.abs(np.cos(v))) < self.POSITIVE:
                self.problem = "an argument of tan is too close to a pole"
        elif what == "kink":
            # Any point will do (ricci's conventions at a kink are JAX's: sign(0) = step(0) = 0);
            # a finite-difference step must not cross one: check_at compares these signs.
            self.kinks.append(np.sign(v))
        elif what in ("invertible", "positive determinant"):
            if v.shape[0] != v.shape[1] or np.linalg.cond(v) > self.COND:
                self.problem = "a matrix to invert is badly conditioned"
            elif what == "positive determinant" and np.linalg.slogdet(v)[0] <= 0:
                self.problem = "the argument of logdet has a determinant ≤ 0"
        elif what == "spectrum":  # a repeated eigenvalue (singular value): no derivative there
            why = no_derivative(lookup(node.func).name, v)
            if why is not None:
                self.problem = f"the derivative does not exist here: {why}"


def probe(expr, values: dict, every_value: bool = True, evaluator: ArrayEvaluator | None = None) -> Probe:
    """Evaluate ``expr`` at ``values`` with a :class:`Probe` watching; ``probe.problem`` is
    None when the point is safely inside every domain.  ``every_value``: see ``Probe.values``;
    ``evaluator``: one of ``expr`` to reuse (its watcher is replaced)."""
    p = Probe(every_value)
    evaluator = evaluator or ArrayEvaluator(expr, np)
    evaluator.watch = p
    try:
        with np.errstate(all="ignore"):
            p.value = evaluator(values)
    except (np.linalg.LinAlgError, BadValueError, ValueError) as e:
        p.problem = p.problem or f"cannot evaluate: {e}"
    return p


def find_point(expr, rng, sizes: dict | None = None, max_draws: int = MAX_DRAWS, spare: int = 3) -> dict:
    """A random point (:func:`sample_point`) where :func:`probe` finds no problem, trying the
    styles in turn and new sizes; a :class:`BadValueError` if ``max_draws`` draws fail.
    ``spare``: how many sizes beyond the fewest that keep the dimensions apart may be used
    (0: the sizes 2, 3, … one each)."""
    last = None
    for k in range(max_draws):
        _limits.tick()
        values = sample_point(expr, rng, sizes, style=k % 4, spare=spare)
        p = probe(expr, values)
        if p.problem is None:
            return values
        last = p.problem
    raise BadValueError(say(
        f"found no point where the expression is safely defined and smooth in {max_draws} random "
        f"draws ({last}); ", option("check at a point of your choice", Hint("values"),
                                    "the check needs a point where it is")))


# ------------------------------------------------------------------------------------------------
# the check
# ------------------------------------------------------------------------------------------------

@dataclass
class PointResult:
    """The comparison at one point: relative error per level (1 … order) and of the text."""

    values: dict
    level_errors: list
    text_error: float | None = None
    text_problem: str = ""  #: why the text answer does not evaluate (its error is then inf)

    @property
    def error(self) -> float:
        return max(self.level_errors + ([self.text_error] if self.text_error is not None else []))


@dataclass
class CheckReport:
    """What :func:`check` found.  ``bool(report)`` is ``passed``."""

    expression: str
    wrt: object
    order: int
    max_relative_error: float
    passed: bool
    rtol: float
    points: list = field(default_factory=list)  #: the values used, one dict per point
    results: list = field(default_factory=list)  #: one :class:`PointResult` per point
    given: bool = False  #: the points were given, not drawn
    rejected: int = 0  #: drawn points refused (finite differences not trustworthy there)
    text_checked: bool = False  #: the answer's text was parsed back and evaluated too

    def __bool__(self) -> bool:
        return self.passed

    @property
    def trials(self) -> int:
        return len(self.points)

    def __str__(self) -> str:
        where = "given" if self.given else "random"
        plural = "s" if self.trials != 1 else ""
        head = "checked numerically" if self.passed else "checked numerically: MISMATCH"
        line = (f"{head}: max relative error {format_error(self.max_relative_error)} "
                f"over {self.trials} {where} point{plural}")
        if not self.passed:
            worst = max(range(len(self.results)), key=lambda k: self.results[k].error)
            r = self.results[worst]
            levels = ", ".join(f"order {k + 1}: {format_error(e)}" for k, e in enumerate(r.level_errors))
            if r.text_problem:
                levels += f", the text answer does not evaluate: {r.text_problem}"
            elif r.text_error is not None:
                levels += f", the text answer: {format_error(r.text_error)}"
            line += f" (tolerance {self.rtol:g}; at point {worst + 1}: {levels})"
        return line

    def __repr__(self) -> str:
        return f"<CheckReport {self}>"


def format_error(e: float) -> str:
    if e == 0:
        return "0"
    if not math.isfinite(e):
        return str(e)
    return f"{e:.0e}" if e < 0.01 else f"{e:.2g}"


def relative_error(got, ref, floor: float = 0.0) -> float:
    """max |got − ref| / max(max |ref|, max |got|, floor); 0 when both are 0 (and no floor)."""
    got = np.asarray(got, dtype=float)
    ref = np.asarray(ref, dtype=float)
    if got.shape != ref.shape:
        return math.inf
    if got.size == 0:
        return 0.0
    err = float(np.max(np.abs(got - ref)))
    if not math.isfinite(err):
        return math.inf if not np.array_equal(got, ref, equal_nan=True) else 0.0
    scale = max(float(np.max(np.abs(ref))), float(np.max(np.abs(got))), floor)
    return err / scale if scale > 0 else 0.0


def _lower_orders(d):
    """ricci's derivatives of orders 1 … d.order − 1 (by the same wrt, with the same kinds); made
    under the running budget (its deadline binds them)."""
    from .derivation import derivative

    declared = {n: v.kind for n, v in d.expression.variables.items() if v.source != "assumed"}
    return [derivative(d.expression.source, d.wrt, k, declared) for k in range(1, d.order)]


def derivative_entries(d, values: dict) -> int:
    """How many entries ``d.evaluate(values)`` has: f's entries times wrt's, once per order
    (computed from the values' shapes, before anything is evaluated)."""
    sizes: dict = {}
    for name, var in d.expression.variables.items():
        if name not in values:
            continue
        shape = np.shape(values[name])
        if var.kind == "vector":
            shape = (int(np.prod(shape)),)
        for dim, n in zip(var.dims, shape):
            if not isinstance(dim, int):
                sizes.setdefault(dim, int(n))
    count = 1
    for dim in d.shape:
        count *= dim if isinstance(dim, int) else sizes.get(dim, 1)
    return count


def _bounded(d, values: dict) -> bool:
    """Whether the derivative at ``values`` (and the finite differences, of its size) stays
    under the size limit of the running budget."""
    limit = _limits.current().elements_limit() if _limits.current() is not None else _limits.MAX_ELEMENTS
    return limit is None or derivative_entries(d, values) <= limit


def _refuse_size(d, values: dict, drawn: bool):
    count = derivative_entries(d, values)
    limit = _limits.current().elements_limit() if _limits.current() is not None else _limits.MAX_ELEMENTS
    smallest = " even at the smallest sizes that keep the dimensions apart" if drawn else ""
    raise LimitError(say(
        f"the derivative of order {d.order} at the check's points would have {count:,} entries{smallest}, "
        f"more than the limit of {limit:,}; try ",
        Choice((("a lower order", Hint("order")), ("a larger size limit", Hint("max_elements"))),
                       "a lower order")))


def _text_value(d, values):
    """The answer's matrix form (``d.as_expression()``: the tree its text reads as) evaluated
    (None when it has no matrix form, or its size is not fixed by the variables it uses)."""
    if d.matrix is None:
        return None
    e = d.as_expression()
    try:
        with np.errstate(all="ignore"):
            v = e.evaluate({n: values[n] for n in e.variables})
    except BadValueError as err:
        if "not fixed" in str(err):
            return None
        raise
    return np.asarray(v, dtype=float)


def check_at(d, values: dict, lower: list | None = None, rtol: float = RTOL,
             text: bool = True, rng=None) -> tuple[PointResult | None, str]:
    """Compare ``d`` with finite differences at one point.  Returns (result, "") or (None, why)
    when the finite differences cannot be trusted there.  ``rng`` draws the entries compared
    at an order with more than :data:`MAX_COMBINATIONS` of them (default: seed 0)."""
    if rng is None:
        rng = np.random.default_rng(0)
    expr = d.expression
    wrt = d.wrt
    symmetric = isinstance(wrt, str) and expr.variables[wrt].kind == "symmetric matrix"
    if lower is None:
        lower = _lower_orders(d)
    levels = lower + [d]
    base = probe(expr, values)
    stable = False
    if base.problem is not None:
        # f as written may overflow where f does not (exp(800) in log(1 + exp(x)) at x = 800):
        # f read through the stable forms of ricci.evaluate instead (still f, differenced; never
        # the derivative's evaluator, whose stable forms are the index form's: ricci/ir/stable.py)
        again = probe(expr, values, evaluator=ArrayEvaluator(expr, np, stable=True))
        if again.problem is not None:
            return None, base.problem
        base, stable = again, True

    watched = ArrayEvaluator(expr, np, stable=stable)

    def look(moved, every_value=True):
        """f at a moved point, or None where the step crossed a kink or left a domain."""
        p = probe(expr, moved, every_value, watched)
        same = p.problem is None and len(p.kinks) == len(base.kinks) and all(
            np.array_equal(a, b) for a, b in zip(p.kinks, base.kinks))
        return np.asarray(p.value, dtype=float) if same else None

    evaluator = ArrayEvaluator(expr, np, stable=stable)

    def f(v):
        with np.errstate(all="ignore"):
            return np.asarray(evaluator(v), dtype=float)

    errors = []
    for j, dj in enumerate(levels, start=1):
        # Every order from differences of f itself: never of a lower order's evaluation, which
        # could share a flaw with the order it checks.
        got = np.asarray(dj.evaluate(values), dtype=float)
        if symmetric and j > 1:
            got = symmetrise_slots(got, j)
        for shrink in ((1,) if j == 1 else SHRINK):
            if j == 1:
                fd = finite_difference(f, wrt, values, accept=lambda moved: look(moved) is not None)
            else:
                fd = mixed_difference(f, wrt, values, j, symmetric=symmetric, look=lambda m: look(m, False),
                                      limit=MAX_COMBINATIONS,
                                      rng=rng, step=STEPS.get(j, STEPS[max(STEPS)]) / shrink)
            if not fd.ok:
                return None, fd.why
            ref, mine = fd.value, got
            if fd.measured is not None:  # a sample of the entries (MAX_COMBINATIONS)
                ref, mine = ref[..., fd.measured], mine[..., fd.measured]
            # A derivative far smaller than the function is measured against the function:
            # finite differences cannot resolve it any better; nor, at order k ≥ 2, below ten
            # times their rounding (f's, amplified by 1/step^k): an honest tolerance, not a refusal.
            floor = max(FLOOR * max(1.0, fd.magnitude), fd.noise / (0.1 * rtol))
            scale = max(float(np.max(np.abs(ref))) if ref.size else 0.0,
                        float(np.max(np.abs(mine))) if mine.size else 0.0, floor)
            if fd.uncertainty <= 0.1 * rtol * scale:
                break
        else:
            return None, "the finite differences are not precise enough at this point"
        errors.append(relative_error(mine, ref, floor))
    text_error = None
    text_problem = ""
    if text:
        from .language.errors import RicciError

        try:
            tv = _text_value(d, values)
        except RicciError as e:  # the answer a person reads does not even evaluate
            tv, text_error, text_problem = None, math.inf, f"{type(e).__name__}: {e}"
        if tv is not None:
            got = np.asarray(d.evaluate(values), dtype=float)
            # Both are computed from the same numbers, only in other orders: round-off of order
            # 1e-16 on terms of order 1 that cancel (a derivative that is 0 at this point) is
            # not a mismatch, hence an absolute floor well above it (1e-8; any two values above
            # it are still compared relatively).
            text_error = relative_error(tv.reshape(got.shape) if tv.size == got.size else tv, got, TEXT_FLOOR)
    return PointResult(values, errors, text_error, text_problem), ""


def check(d, values=None, trials: int = 3, seed=None, rtol: float = RTOL, *,
          timeout: float | None = _limits.DEFAULT_TIMEOUT,
          max_elements: int | None = _limits.MAX_ELEMENTS) -> CheckReport:
    """Check the derivative ``d`` numerically (see the module's docstring); the implementation
    of ``Derivative.check``.

    ``values``: a dict of values (or a list of them) to check at, instead of ``trials`` random
    points drawn with ``seed``.  ``rtol``: the largest relative error that passes.

    Bounded as the derivation is (:mod:`ricci.limits`): the check (its lower-order derivatives,
    the points, the finite differences) runs under a budget of ``timeout`` seconds, inside any
    budget the caller runs (``with ricci.limits.budget(5):``), and refuses at once a derivative
    with more than ``max_elements`` entries at its points — drawn points first fall back to the
    smallest sizes that keep the dimensions apart.  Over either, a :class:`LimitError`."""
    if not (isinstance(trials, int) and not isinstance(trials, bool) and trials >= 1):
        raise BadValueError(f"trials must be a positive int, not {trials!r}")
    with _limits.budget(timeout, _limits.MAX_NODES, "the numerical check", max_elements, _limits.WORK_ADVICE):
        return _check(d, values, trials, seed, rtol)


def _check(d, values, trials: int, seed, rtol: float) -> CheckReport:
    given = values is not None
    if given:
        points = [values] if isinstance(values, dict) else list(values)
        for v in points:
            if not isinstance(v, dict):
                raise BadValueError("values must be a dict such as {'x': [1, 2]} (or a list of them)")
    lower = _lower_orders(d)
    results: list = []
    rejected = 0
    if given:
        for v in points:
            v = _public_values(d.expression, v)
            if not _bounded(d, v):
                _refuse_size(d, v, drawn=False)
            d.evaluate(v)  # a clear error for a value that does not fit
            r, why = check_at(d, v, lower, rtol, rng=np.random.default_rng(len(results)))
            if r is None:
                raise BadValueError(f"cannot check the derivative at the given values: {why}")
            results.append(r)
    else:
        rng = np.random.default_rng(seed)
        spare, too_large = SPARE.get(d.order, 0), 0
        while len(results) < trials:
            v = find_point(d.expression, rng, spare=spare)
            if not _bounded(d, v):
                # then the smallest sizes that keep the dimensions apart (2, 3, … in some order:
                # a few draws, since which dimension gets the 2 matters)
                too_large += 1
                if spare == 0 and too_large > SMALL_DRAWS:
                    _refuse_size(d, v, drawn=True)
                spare = 0
                continue
            r, why = check_at(d, v, lower, rtol, rng=rng)
            if r is None:
                rejected += 1
                if rejected > MAX_DRAWS:
                    raise BadValueError(say(
                        f"found no point where finite differences can be trusted ({why}); ",
                        option("check at a point of your choice", Hint("values"),
                               "the check needs a point where they can")))
                continue
            results.append(r)
    worst = max(r.error for r in results)
    return CheckReport(
        expression=d.expression.source, wrt=d.wrt, order=d.order, max_relative_error=worst,
        passed=bool(worst <= rtol), rtol=rtol, points=[r.values for r in results], results=results,
        given=given, rejected=rejected, text_checked=any(r.text_error is not None for r in results))


def _public_values(expr, values: dict) -> dict:
    """Values as floats and float arrays (a list becomes an array)."""
    out = {}
    for name, v in values.items():
        a = np.asarray(v, dtype=float)
        out[name] = float(a.reshape(())) if a.size == 1 and name in expr.variables and \
            expr.variables[name].kind == "scalar" else a
    return out
