"""The domain of f for a minimiser: the arguments that the function table keeps inside a set.

A function's entry says where a minimiser must keep its argument (``Function.domain``): log's
entries > 0, sqrt's ≥ 0, logdet's matrix positive definite.  ``-logdet(S) + tr(C*S)`` of a general
matrix is defined wherever det S > 0 and is unbounded below there (S = −tI for an even size),
and a line search of L-BFGS-B, which knows nothing of the cone, can jump across det S = 0 from
one trial point to the next.  So every trial point is checked first: one outside the domain
gets f = +inf, which SciPy's line searches and trust regions reject (they backtrack or shrink),
and the start must be inside (a clear error naming the variable otherwise).

Only the arguments that read a variable minimised over, and that the sign analysis
(:mod:`ricci.analysis.signs`, with the data fixed) does not prove inside, are checked: the
logistic loss's ``log(1 + exp(…))`` is proved positive once, and costs nothing per evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..functions import lookup
from ..language import ast as A
from ..language.kinds import free_names
from ..printing.text import to_text
from .problem import is_lazy, say


@dataclass(frozen=True)
class Guard:
    """One argument kept in its domain: ``call`` (its text, ``logdet(S)``), ``domain`` (one of
    the table's DOMAINS), the argument as an expression, and the variables it reads."""

    call: str
    domain: str
    argument: object  # an Expression, or the name of a variable (a bare ``S``)
    reads: tuple
    scalar: bool = False

    def need(self) -> str:
        arg = self.argument if isinstance(self.argument, str) else self.argument.text
        entries = arg if self.scalar else f"every entry of {arg}"
        return {"positive": f"{entries} > 0", "nonnegative": f"{entries} ≥ 0",
                "positive definite": f"{arg} positive definite"}[self.domain]

    def holds(self, values: dict) -> bool:
        value = values[self.argument] if isinstance(self.argument, str) else self.argument.evaluate(
            {n: values[n] for n in self.argument.variables})
        value = np.asarray(value, dtype=float)
        if not _all(np.isfinite(value), axis=None):  # a ufunc's reduction: one call, np.all's five
            return False
        if self.domain == "positive":
            return bool(np.all(value > 0))
        if self.domain == "nonnegative":
            return bool(np.all(value >= 0))
        # positive definite: the symmetric part's Cholesky factor (for a general matrix M this
        # puts every eigenvalue's real part above 0, so det M > 0 and log det M is defined), by
        # LAPACK's potrf directly: a few µs, where np.linalg.cholesky's checks and wrapping cost
        # 15-30 µs of every trial point's evaluation (a symmetric value is its own symmetric part,
        # exactly; its transpose is the Fortran-ordered array LAPACK takes without a copy)
        if value.ndim != 2:
            return bool(value.reshape(-1)[0] > 0)
        part = 0.5 * (value + value.T)
        return _potrf()(part.T, lower=1, clean=0, overwrite_a=1)[1] == 0


def _potrf():
    """LAPACK's Cholesky factorisation (SciPy is there: minimize runs on it), looked up once:
    the import statement's machinery cost more than the factorisation of a small matrix."""
    global _DPOTRF
    if _DPOTRF is None:
        from scipy.linalg import lapack

        _DPOTRF = lapack.dpotrf
    return _DPOTRF


_DPOTRF = None


def _calls(tree):
    """(call node, the ``where`` bindings in scope) of every call, in reading order."""
    out: list = []

    def visit(node, scope: tuple):
        if isinstance(node, A.Where):
            inner = scope
            for name, e in node.bindings:
                visit(e, inner)
                inner = inner + ((name, e),)
            visit(node.body, inner)
            return
        if isinstance(node, A.Call):
            out.append((node, scope))
        for c in A.children(node):
            visit(c, scope)

    visit(tree, ())
    return out


#: the data-free part of :func:`guards` per (f's text, its variables' kinds, the names solved
#: for), kept for the next solve of the same problem as its generated code is (objective.py):
#: finding the calls, printing and typing each argument is ~85 % of the guards' work (~0.5 ms
#: of a p = 20 covariance solve's ~1.7 ms set-up), and none of it reads a value.  What reads the
#: data (the sign analysis with the data fixed, which data is Dask's) runs on every call, and so
#: does the look-up of each function's domain: an entry may be registered or replaced between
#: two solves (functions.registered).
_PLANS: dict = {}
_PLANS_MAX = 64  # bounded like objective.compiled's lru_cache


def _plan(problem) -> tuple:
    """(the one-argument calls of f as (call node, its argument's text, the where-bound names
    it reads, the bindings), f's Typed, the typed arguments met so far by text), kept."""
    from ..analysis.structure import Typed

    expr = problem.expression
    kinds = {n: v.kind for n, v in expr.variables.items()}
    key = (expr.source, tuple(sorted(kinds.items())), tuple(problem.names))
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    calls = []
    for node, scope in _calls(expr.tree):
        if len(node.args) != 1:
            continue
        arg = node.args[0]
        bound = {n for n, _ in scope}
        text = to_text(arg)
        reads_bound = bool(set(free_names(arg, set(kinds))) & bound)
        if reads_bound:  # the argument reads where-bound names: it carries the bindings
            text += " where " + ", ".join(f"{n} = {to_text(e)}" for n, e in scope)
        calls.append((node, text, reads_bound, scope))
    plan = (tuple(calls), Typed(expr), {})
    if len(_PLANS) >= _PLANS_MAX:
        del _PLANS[next(iter(_PLANS))]  # the oldest (a dict keeps insertion order)
    _PLANS[key] = plan
    return plan


def _argument(problem, typed_args: dict, node, text: str, reads_bound: bool, scope) -> tuple:
    """(the argument typed as it stands in f, the variables solved for that it reads, the
    guard's text), once per argument text for the kept plan."""
    out = typed_args.get(text)
    if out is None:
        from ..language.expression import typed_tree

        arg = node.args[0]
        tree = A.Where(arg, tuple(scope)) if reads_bound else arg
        kinds = {n: v.kind for n, v in problem.expression.variables.items()}
        argument = typed_tree(tree, kinds, source=text)  # typed as it stands in f, not printed and parsed
        reads = tuple(n for n in problem.names if n in argument.variables)
        out = typed_args[text] = (argument, reads, f"{node.func}({to_text(arg)})")
    return out


def guards(problem) -> list[Guard]:
    """The arguments of f that a trial point must keep in their domains (see the module's doc)."""
    from ..analysis.signs import Context, interval

    calls, typed, typed_args = _plan(problem)
    ctx = None
    out: list[Guard] = []
    seen: set = set()
    for node, text, reads_bound, scope in calls:
        fn = lookup(node.func)
        if fn is None or fn.domain is None:
            continue
        key = (fn.domain, text)
        if key in seen:
            continue
        seen.add(key)
        argument, reads, call = _argument(problem, typed_args, node, text, reads_bound, scope)
        if not reads or any(is_lazy(problem.data.get(n)) for n in argument.variables):
            continue  # data alone (checked at the start, as f), or Dask data (never pulled here)
        arg = node.args[0]
        if fn.domain in ("positive", "nonnegative") and not reads_bound:
            if ctx is None:
                ctx = Context(typed, fixed={n: v for n, v in problem.data.items() if not is_lazy(v)})
            iv = interval(ctx, arg)
            if iv.positive or (fn.domain == "nonnegative" and iv.nonnegative):
                continue  # proved inside for every value of the variables
        bare = isinstance(arg, A.Name) and arg.name in problem.names and not reads_bound
        out.append(Guard(call, fn.domain, arg.name if bare else argument, reads, not argument.shape))
    return out


_all = np.logical_and.reduce


def outside(guards_: list, values: dict) -> Guard | None:
    """The first guard that ``values`` (every variable of f, by name) break, or None."""
    for g in guards_:
        if not g.holds(values):
            return g
    return None


def start_message(guard: Guard, surface: str) -> str:
    n = guard.reads[0]
    return (f"the start is outside the domain of f: {guard.call} needs {guard.need()}, which fails at the "
            f"start; give a start inside it, {say(surface, 'x0', n=n)}")
