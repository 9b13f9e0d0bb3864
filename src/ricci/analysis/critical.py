# Over 600 lines: the symbolic and numerical searches find the same points and share their classification.
"""Critical points (∇f = 0) of a function of a few scalars, and their classification.

Finding them:

* **symbolic** (SymPy, when installed): f is translated from ricci's typed AST
  (:mod:`ricci.analysis.to_sympy`), differentiated by SymPy, and ∇f = 0 solved — with
  ``solve`` when the equations are polynomial (complete: Gröbner bases), with ``nonlinsolve``
  otherwise.  Periodic solution sets (``2nπ + π/2``) are enumerated inside ``box``; families
  (the line x = y) are reported as such, with members classified.  Every solution is checked
  against ricci's own gradient before it is reported.
* **numerical multi-start** (no SymPy, or SymPy could not solve): from ``starts`` seeded random
  points in ``box`` (default [−5, 5] per coordinate), Newton steps on ∇f(z) = 0 (its Jacobian is
  the Hessian), then Levenberg–Marquardt steps z ← z − (H'H + μI)⁻¹H'∇f that must lower ‖∇f‖;
  points with ‖∇f‖ ≤ GTOL·scale are kept, duplicates merged.  It may miss critical points, and
  says so.

Classifying one (the lecture's second-order test): the Hessian PD → local minimum, ND → local
maximum, eigenvalues of both signs → saddle point; otherwise (PSD or NSD with a zero
eigenvalue) "degenerate: the second-order test is inconclusive", because along the Hessian's
null directions the quadratic term vanishes and higher-order terms decide.  Then ricci tries to
decide anyway, and says how: SymPy proves f − f(p) ≥ 0 (a global minimum), or finds along a null
direction v that f(p + t·v) − f(p) = c·tᵏ + … with k odd (so it changes sign: a saddle); failing
that, f is probed numerically around p (evidence, not proof).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import limits as _limits
from ..hints import Hint, installable, option, say
from ..language.errors import BadValueError, RicciError, UnknownNameError
from ..language.kinds import MATRIX, SYMMETRIC
from . import definiteness as D

#: Most coordinates for which critical points are searched.
MAX_COORDS = 6
#: Default search box (per coordinate) of the numerical method.
DEFAULT_BOX = (-5.0, 5.0)
#: ∇f counts as zero when ‖∇f‖ ≤ GTOL · max(1, max|H_ij|, ‖z‖) (scaled by the Hessian and the point).
GTOL = 1e-9
#: ∇f = 0 goes to SymPy when it is polynomial (``solve``: Gröbner bases, of total degree at most
#: MAX_DEGREE) or when every component has at most MAX_TRANSCENDENTAL_OPS operations and no
#: nested functions (``nonlinsolve``); beyond that SymPy may take minutes, so the numerical
#: search is used instead.
MAX_DEGREE = 8
MAX_TRANSCENDENTAL_OPS = 24
#: Most points listed from periodic families inside a box.
MAX_POINTS = 400

MINIMUM, MAXIMUM, SADDLE = "local minimum", "local maximum", "saddle point"
DEGENERATE = "degenerate: the second-order test is inconclusive"


@dataclass
class HigherOrder:
    """What decides a degenerate critical point, when something does."""

    verdict: str  # "minimum", "maximum", "saddle point", or "undecided"
    how: str
    proven: bool

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "how": self.how, "proven": self.proven}


@dataclass
class CriticalPoint:
    values: dict  # wrt name -> float or ndarray
    exact: dict | None  # wrt name -> SymPy text, for symbolic solutions
    value: float  # f at the point
    gradient_norm: float
    hessian: np.ndarray  # the square Hessian (quadratic form in the coordinates)
    definiteness: D.Definiteness
    classification: str
    reason: str
    higher_order: HigherOrder | None = None
    family: str | None = None  # the family this point is a member of, if any

    def to_json(self) -> dict:
        return {
            "values": {n: (v if isinstance(v, float) else np.asarray(v).tolist()) for n, v in self.values.items()},
            "exact": self.exact, "f": self.value, "gradient_norm": self.gradient_norm,
            "hessian": np.asarray(self.hessian).tolist(), "definiteness": self.definiteness.to_json(),
            "classification": self.classification, "reason": self.reason,
            "higher_order": None if self.higher_order is None else self.higher_order.to_json(),
            "family": self.family,
        }


@dataclass
class CriticalSearch:
    method: str  # "symbolic (SymPy)", "numerical multi-start", or "not attempted"
    complete: bool  # True when every critical point (in the box) is listed
    points: list[CriticalPoint] = field(default_factory=list)
    families: list[str] = field(default_factory=list)
    box: list | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"method": self.method, "complete": self.complete, "points": [p.to_json() for p in self.points],
                "families": self.families, "box": self.box, "notes": self.notes}


# -- boxes ---------------------------------------------------------------------------------------
def normalise_box(problem, box, n: int):
    """(lo, hi) arrays over the n coordinates, or None.  ``box`` is (lo, hi) for every
    coordinate, or {name: (lo, hi)} (a vector's entries share its interval)."""
    if box is None:
        return None
    lo, hi = np.full(n, -np.inf), np.full(n, np.inf)

    def pair(v, what):
        try:
            a, b = (float(v[0]), float(v[1]))
            if len(v) != 2:
                raise ValueError
        except (TypeError, ValueError, IndexError):
            raise BadValueError(f"box for {what} must be a pair (lo, hi), not {v!r}") from None
        if not (np.isfinite(a) and np.isfinite(b) and a < b):
            raise BadValueError(f"box for {what} must have finite lo < hi, not {v!r}")
        return a, b

    if isinstance(box, dict):
        names = problem.wrt_names
        unknown = [k for k in box if k not in names]
        if unknown:
            raise UnknownNameError(f"box names {', '.join(map(str, unknown))}, which is not differentiated by "
                                   f"({', '.join(names)})")
        for k, v in box.items():
            a, b = pair(v, k)
            idx = [names.index(k)] if isinstance(problem.wrt, list) else range(n)
            for i in idx:
                lo[i], hi[i] = a, b
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            missing = [nm for i, nm in enumerate(names) if isinstance(problem.wrt, list) and not np.isfinite(lo[i])]
            raise BadValueError(f"box gives no interval for {', '.join(missing)}")
    else:
        a, b = pair(box, "every coordinate")
        lo[:], hi[:] = a, b
    return lo, hi


# -- classification ------------------------------------------------------------------------------
def _vec_text(v) -> str:
    return "(" + ", ".join(f"{x + 0.0:.4g}" for x in v) + ")"  # + 0.0: no "-0"


def classify_point(problem, values: dict, sizes, rtol=D.RTOL, atol=D.ATOL, exact=None, f_sym=None,
                   flat_syms=None, H=None) -> tuple:
    """(Definiteness, classification, reason, higher order, H) at a critical point; ``H`` is the
    square Hessian there when the caller has it already."""
    H = problem.hessian(values, sizes) if H is None else H
    d = D.classify(H, rtol, atol)
    ev = ", ".join(f"{v:.6g}" for v in d.eigenvalues)
    if d.label == D.PD:
        return d, MINIMUM, f"the Hessian is positive definite (eigenvalues {ev})", None, H
    if d.label == D.ND:
        return d, MAXIMUM, f"the Hessian is negative definite (eigenvalues {ev})", None, H
    if d.label == D.INDEFINITE:
        return d, SADDLE, f"the Hessian is indefinite (eigenvalues {ev}: both signs)", None, H
    null = D.null_directions(H, d)
    dirs = ", ".join(_vec_text(null[:, k]) for k in range(null.shape[1]))
    reason = (f"the Hessian is {d.words} (eigenvalues {ev}); along its null direction(s) {dirs} the "
              "quadratic term vanishes, so the second-order test cannot decide: higher-order terms do")
    higher = None
    if f_sym is not None and exact is not None:
        higher = _higher_order_sympy(f_sym, flat_syms, exact, null, d)
    if higher is None or not higher.proven:
        probe = _probe(problem, values, sizes, null)
        higher = probe if higher is None or higher.verdict == "undecided" else higher
    return d, DEGENERATE, reason, higher, H


def _rational_direction(sp, v):
    v = np.asarray(v, dtype=float)
    v = v / np.abs(v).max()
    return [sp.nsimplify(round(float(x), 9), rational=True) for x in v]


def _higher_order_sympy(f, syms, exact, null, d) -> HigherOrder | None:
    """A proof for a degenerate point with SymPy: f − f(p) of one sign, or an odd leading term."""
    from .to_sympy import sign_of_sympy, sympy

    sp = sympy()
    try:
        params = sorted(set().union(*[getattr(e, "free_symbols", set()) for e in exact]), key=str)
        fresh = {s: sp.Dummy(f"{s.name}0", real=True) for s in params}
        point = [sp.sympify(e).xreplace(fresh) if hasattr(e, "xreplace") else e for e in exact]
        f_p = f.xreplace(dict(zip(syms, point)))
        delta = f - f_p
        for want, verdict in (("nonnegative", "minimum"), ("nonpositive", "maximum")):
            sign, form = sign_of_sympy(delta, want)
            if sign is not None and sign in (want, "positive" if want == "nonnegative" else "negative"):
                where = "every point of the family" if params else "the point"
                return HigherOrder(verdict, f"f − f(p) = {sp.sstr(form)} is {'≥' if verdict == 'minimum' else '≤'} 0 "
                                            f"everywhere (SymPy), so {where} is a global {verdict}", True)
        if params:
            return None
        t = sp.Dummy("t", real=True)
        signs = []
        for k in range(null.shape[1]):
            v = _rational_direction(sp, null[:, k])
            g = f.xreplace({s: p + t * c for s, p, c in zip(syms, point, v)})
            lead = None
            for order in range(1, 9):
                c = sp.simplify(sp.diff(g, t, order).subs(t, 0) / sp.factorial(order))
                if c != 0:
                    lead = (order, c)
                    break
            if lead is None:
                continue
            order, c = lead
            vt = "(" + ", ".join(sp.sstr(x) for x in v) + ")"
            if order % 2 == 1:
                return HigherOrder("saddle point", f"along v = {vt}, f(p + t·v) − f(p) = {sp.sstr(c)}·t^{order} + …, "
                                                   f"an odd power: it changes sign with t, so p is a saddle point (SymPy)",
                                   True)
            cs = sign_of_sympy(c)[0]
            signs.append((cs, order, sp.sstr(c), vt))
        pos_ev, _, neg_ev = d.counts
        rises = pos_ev > 0 or any(s in ("positive",) for s, *_ in signs)
        falls = neg_ev > 0 or any(s in ("negative",) for s, *_ in signs)
        if rises and falls:
            return HigherOrder("saddle point", "f rises along some directions and falls along others "
                                               "(Hessian eigenvalues and leading terms along null directions): "
                                               "a saddle point (SymPy)", True)
        if signs and all(s == "positive" for s, *_ in signs) and neg_ev == 0:
            terms = "; ".join(f"along {vt}: {c}·t^{o}" for _, o, c, vt in signs)
            return HigherOrder("minimum", f"along each null direction the first non-zero term is even and "
                                          f"positive ({terms}): consistent with a minimum, but tests along lines "
                                          "cannot prove one", False)
        if signs and all(s == "negative" for s, *_ in signs) and pos_ev == 0:
            terms = "; ".join(f"along {vt}: {c}·t^{o}" for _, o, c, vt in signs)
            return HigherOrder("maximum", f"along each null direction the first non-zero term is even and "
                                          f"negative ({terms}): consistent with a maximum, but not proven", False)
    except Exception:  # noqa: BLE001 - SymPy failing here leaves the point to numerical probing
        return None
    return None


def _probe(problem, values, sizes, null) -> HigherOrder:
    """Evidence from f around p: along null directions and random ones, at a few radii."""
    rng = np.random.default_rng(1)
    z = problem.coords(values, sizes)
    full = problem.random_values(rng, sizes, wrt=values)
    try:
        f0 = problem.f(full)
    except RicciError:
        return HigherOrder("undecided", "f is not defined at the point", False)
    n = z.size
    dirs = [null[:, k] for k in range(null.shape[1])]
    dirs += [v / np.linalg.norm(v) for v in rng.standard_normal((12, n))]
    thr = 1e-12 * (1 + abs(f0))
    up = down = None
    for v in dirs:
        for s in (1, -1):
            for h in (1e-1, 3e-2, 1e-2):
                r = h * (1 + np.linalg.norm(z))
                try:
                    df = problem.f(dict(full, **problem.point(z + s * r * v, sizes))) - f0
                except RicciError:
                    continue
                if df > thr and up is None:
                    up = s * v
                if df < -thr and down is None:
                    down = s * v
    if up is not None and down is not None:
        return HigherOrder("saddle point", f"numerically, f rises along {_vec_text(up)} and falls along "
                                           f"{_vec_text(down)} near p (evidence, not a proof)", False)
    if up is not None:
        return HigherOrder("minimum", "numerically, f does not fall in any probed direction near p: it looks "
                                      "like a minimum (evidence, not a proof)", False)
    if down is not None:
        return HigherOrder("maximum", "numerically, f does not rise in any probed direction near p: it looks "
                                      "like a maximum (evidence, not a proof)", False)
    return HigherOrder("undecided", "f looks constant near p", False)


# -- finding them --------------------------------------------------------------------------------
def eligible(problem) -> str | None:
    """Why critical points are not searched for, or None when they are."""
    if problem.wrt_kind in (MATRIX, SYMMETRIC):
        return "critical points are searched for scalars and vectors of a small fixed size, not matrices"
    n = problem.n_coords()
    if n is None:
        x = problem.wrt
        return say(f"the length of {x} is not fixed: ",
                   option("give a value of a variable that fixes it", Hint("at"), "a value would fix it"),
                   ", or use a literal such as [x1; x2]")
    if n > MAX_COORDS:
        return f"{n} coordinates is more than the {MAX_COORDS} for which critical points are searched"
    if problem.missing_params:
        missing = problem.missing_params
        return say(f"the parameters {', '.join(missing)} have no values",
                   option("; give them values to search for critical points", Hint("at", missing[0])))
    return None


def find_critical_points(problem, box=None, method: str = "auto", starts: int = 100, seed: int = 0,
                         rtol: float = D.RTOL, atol: float = D.ATOL) -> CriticalSearch:
    if method not in ("auto", "symbolic", "numeric"):
        raise BadValueError(f"method must be 'auto', 'symbolic' or 'numeric', not {method!r}")
    why = eligible(problem)
    n = problem.n_coords()
    bounds = normalise_box(problem, box, n) if why is None else None
    if why is not None:
        if box is not None:
            raise BadValueError(f"box is given, but {why}")
        return CriticalSearch("not attempted", False, notes=[why])
    box_list = None if bounds is None else [[float(a), float(b)] for a, b in zip(*bounds)]
    notes = []
    if method in ("auto", "symbolic"):
        from .to_sympy import sympy

        if sympy() is None:
            if method == "symbolic":
                raise RicciError(say(option("the symbolic method", Hint("method", None, "symbolic"),
                                            "the symbolic method"), " needs SymPy: ", Hint("install", None, "analysis")))
            notes.append("SymPy is not installed: numerical search instead")
        else:
            found = _symbolic(problem, bounds, rtol, atol)
            if isinstance(found, CriticalSearch):
                found.box = box_list
                found.notes = notes + found.notes
                return found
            notes.append(found)
            if method == "symbolic":
                return CriticalSearch("not attempted", False, box=box_list, notes=notes)
    result = _numeric(problem, bounds, starts, seed, rtol, atol)
    result.box = box_list if bounds is not None else [list(DEFAULT_BOX)] * n
    result.notes = notes + result.notes
    return result


def gradient_tolerance(problem, values, sizes, H) -> float:
    """The size below which ‖∇f‖ counts as zero at ``values`` (see :data:`GTOL`)."""
    z = problem.coords(values, sizes)
    return GTOL * max(1.0, float(np.abs(H).max()) if H.size else 1.0, float(np.linalg.norm(z)))


def _gradient_ok(problem, values, sizes) -> tuple[bool, float, np.ndarray | None]:
    """Whether ∇f vanishes at ``values``; ‖∇f‖; and the square Hessian there."""
    try:
        g = problem.gradient(values, sizes)
        H = problem.hessian(values, sizes)
    except RicciError:
        return False, float("inf"), None
    norm = float(np.linalg.norm(g))
    return bool(np.isfinite(norm) and norm <= gradient_tolerance(problem, values, sizes, H)), norm, H


def sympy_function(problem):
    """f as a SymPy expression of the wrt coordinates (parameters at their fixed values), and the
    coordinate symbols.  Raises :class:`~ricci.analysis.to_sympy.Unsupported` (or KeyError for an
    open size) when it cannot."""
    from .to_sympy import MatrixTranslator, constant, symbols_for

    sizes = problem.sizes
    values, flat = symbols_for(problem.variables, problem.wrt_names, sizes, problem.assume)
    for name, v in problem.fixed.items():
        if name not in problem.wrt_names:
            values[name] = constant(v, problem.variables[name].kind)
    return MatrixTranslator(problem.expression, values, sizes).scalar(), flat


def _symbolic(problem, bounds, rtol, atol):
    """A CriticalSearch, or a string saying why SymPy did not give one."""
    from .to_sympy import Unsupported, sympy

    sp = sympy()
    try:
        f, flat = sympy_function(problem)
        grad = [sp.diff(f, s) for s in flat]
    except (Unsupported, KeyError, TypeError, ValueError, ZeroDivisionError) as e:
        return f"SymPy could not take f ({e}): numerical search instead"
    try:
        if any(g.has(sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min) for g in grad):
            return "f is not differentiable everywhere (abs, sign, relu, step): numerical search instead"
        if all(g.is_polynomial(*flat) for g in grad):
            if max(sp.Poly(g, *flat).total_degree() for g in grad) > MAX_DEGREE:
                return f"∇f = 0 is polynomial of degree above {MAX_DEGREE}: numerical search instead"
            raw = [tuple(sol.get(s, s) for s in flat) for sol in sp.solve(grad, flat, dict=True)]
            how = "solve (polynomial system: complete)"
        elif not all(sp.count_ops(g) <= MAX_TRANSCENDENTAL_OPS and not _nested(sp, g) for g in grad):
            return ("∇f = 0 is neither polynomial nor a small system of unnested elementary functions, which "
                    "is where SymPy's nonlinsolve is quick and reliable: numerical search instead")
        else:
            got = sp.nonlinsolve(grad, flat)
            if got == sp.EmptySet:
                got = sp.FiniteSet()
            if not isinstance(got, sp.FiniteSet):
                return "SymPy's nonlinsolve gave no explicit solution set: numerical search instead"
            raw = [tuple(t) for t in got]
            how = "nonlinsolve"
    except Exception as e:  # noqa: BLE001 - SymPy raises many kinds of "cannot solve"
        return f"SymPy could not solve ∇f = 0 ({type(e).__name__}): numerical search instead"
    out = CriticalSearch("symbolic (SymPy " + how + ")", True)
    try:
        return _collect(problem, out, raw, f, flat, rtol, atol, bounds)
    except _Disagreement as e:
        return str(e)


def _collect(problem, out, raw, f, flat, rtol, atol, bounds):
    """The solutions SymPy gave, as classified points (periodic ones in the box, families)."""
    from .to_sympy import sympy

    sp = sympy()
    seen: list = []
    for sol in raw:
        if any(e == sp.EmptySet for e in sol):
            continue  # nonlinsolve's way of saying: no solution
        if any(isinstance(e, sp.Set) and not isinstance(e, sp.ImageSet) for e in sol):
            return "SymPy's solution set has a form that is not enumerated: numerical search instead"
        if any(isinstance(e, sp.ImageSet) for e in sol):
            members, desc = _periodic(sp, sol, flat, bounds)
            if members is None:
                return desc
            if not members:
                continue  # no member in the box
            out.families.append(desc)
            if bounds is None:
                out.complete = False
                out.notes.append(say(f"{desc}: infinitely many; shown for n = 0",
                                     option(" — list those in a box", Hint("box"))))
            for m in members:
                _add(problem, out, m, f, flat, rtol, atol, seen, bounds, family=desc)
            continue
        free = set().union(*[getattr(e, "free_symbols", set()) for e in sol]) & set(flat)
        if free:
            desc = ", ".join(f"{s} = {sp.sstr(e)}" for s, e in zip(flat, sol) if e != s) or "every point"
            desc += f" ({len(free)}-parameter family; {', '.join(sorted(map(str, free)))} free)"
            out.families.append(desc)
            out.notes.append(f"critical points are not isolated: {desc}; members are shown")
            for member in _family_members(sp, sol, sorted(free, key=str), flat, bounds):
                _add(problem, out, member, f, flat, rtol, atol, seen, bounds, family=desc, param_point=sol)
            continue
        _add(problem, out, sol, f, flat, rtol, atol, seen, bounds)
    if not out.points and not out.families:
        out.notes.append("∇f = 0 has no real solution" + (" in the box" if bounds is not None else ""))
    return out


def _nested(sp, e) -> bool:
    """Whether a function is applied to an expression that holds another function (exp(atan(x)))."""
    return any(isinstance(f, sp.Function) and any(a.atoms(sp.Function) for a in f.args)
               for f in e.atoms(sp.Function))


def _periodic(sp, sol, flat, bounds):
    """Members of a tuple of ImageSets/numbers inside the box (n = 0 without a box)."""
    import itertools

    choices, parts = [], []
    for k, (s, e) in enumerate(zip(flat, sol)):
        if isinstance(e, sp.ImageSet):
            lam = e.lamda
            if len(lam.variables) != 1 or e.base_sets[0] != sp.Integers:
                return None, "a periodic solution SymPy wrote in a form not enumerated: numerical search instead"
            nvar = lam.variables[0]
            expr = lam.expr
            a, b = sp.diff(expr, nvar), expr.subs(nvar, 0)
            if a.free_symbols or b.free_symbols or not expr.is_polynomial(nvar) or sp.degree(expr, nvar) != 1:
                return None, "a periodic solution not linear in its integer: numerical search instead"
            parts.append(f"{s} ∈ {{{sp.sstr(expr.subs(nvar, sp.Symbol('k')))} : k ∈ ℤ}}")
            if bounds is None:
                choices.append([b])
            else:
                lo, hi = bounds[0][k], bounds[1][k]
                af, bf = float(a), float(b)
                k0, k1 = int(np.ceil((lo - bf) / af - 1e-12)), int(np.floor((hi - bf) / af + 1e-12))
                if af < 0:
                    k0, k1 = int(np.ceil((hi - bf) / af - 1e-12)), int(np.floor((lo - bf) / af + 1e-12))
                choices.append([expr.subs(nvar, j) for j in range(k0, k1 + 1)])
        else:
            parts.append(f"{s} = {sp.sstr(e)}")
            choices.append([e])
    count = int(np.prod([len(c) for c in choices]))
    if count > MAX_POINTS:
        return None, f"more than {MAX_POINTS} critical points in the box: make it smaller"
    return list(itertools.product(*choices)), "periodic: " + ", ".join(parts)


def _family_members(sp, sol, free, flat, bounds):
    """A few members of a family: its free coordinates at 0, 1, −1 (or inside the box)."""
    picks = []
    for k in range(3):
        sub = {}
        for s in free:
            i = flat.index(s)
            if bounds is not None:
                lo, hi = bounds[0][i], bounds[1][i]
                v = lo + (hi - lo) * (0.5, 0.25, 0.75)[k]
            else:
                v = (0, 1, -1)[k]
            sub[s] = sp.nsimplify(v, rational=True)
        picks.append(tuple(sp.sympify(e).xreplace(sub) if hasattr(e, "xreplace") else e for e in sol))
    return picks


class _Disagreement(Exception):
    """A SymPy solution that ricci's own gradient does not confirm: SymPy's result is not used."""


def _add(problem, out, sol, f, flat, rtol, atol, seen, bounds, family=None, param_point=None):
    sp_vals = list(sol)
    try:
        nums = [complex(e.evalf()) for e in sp_vals]
    except (TypeError, AttributeError):
        return
    if any(abs(c.imag) > 1e-12 * (1 + abs(c.real)) for c in nums):
        return  # a complex solution
    z = np.array([c.real for c in nums])
    if bounds is not None and (np.any(z < bounds[0] - 1e-12) or np.any(z > bounds[1] + 1e-12)):
        return
    if any(np.allclose(z, s, rtol=1e-10, atol=1e-12) for s in seen):
        return
    seen.append(z)
    sizes = problem.sizes
    values = problem.point(z, sizes)
    full = dict(problem.fixed, **values)
    ok, norm, H = _gradient_ok(problem, full, sizes)
    if not ok:
        raise _Disagreement(f"SymPy's solution {_vec_text(z)} does not zero ricci's gradient "
                            f"(‖∇f‖ = {norm:.3g}): numerical search instead")
    exact_point = list(param_point) if param_point is not None else sp_vals
    d, cls, reason, higher, H = classify_point(problem, full, sizes, rtol, atol, exact_point, f, flat, H)
    from .to_sympy import sympy

    sp = sympy()
    exact = {}
    if isinstance(problem.wrt, list) or problem.wrt_kind == "scalar":
        exact = {n: sp.sstr(e) for n, e in zip(problem.wrt_names, sp_vals)}
    else:
        exact = {problem.wrt: "[" + ", ".join(sp.sstr(e) for e in sp_vals) + "]"}
    out.points.append(CriticalPoint(values, exact, problem.f(full), norm, H, d, cls, reason, higher, family))


def _numeric(problem, bounds, starts, seed, rtol, atol) -> CriticalSearch:
    sizes = problem.sizes
    n = problem.n_coords()
    lo, hi = bounds if bounds is not None else (np.full(n, DEFAULT_BOX[0]), np.full(n, DEFAULT_BOX[1]))
    rng = np.random.default_rng(seed)
    inits = [0.5 * (lo + hi)] + [lo + (hi - lo) * rng.random(n) for _ in range(max(1, starts) - 1)]
    found: list[np.ndarray] = []
    out = CriticalSearch(f"numerical multi-start (Newton, then Levenberg–Marquardt, from {len(inits)} "
                         "seeded starts in the box)", False)
    fixed = {k: v for k, v in problem.fixed.items() if k not in problem.wrt_names}

    def at(z):
        return dict(fixed, **problem.point(z, sizes))

    for z in inits:
        _limits.tick()
        with np.errstate(all="ignore"):  # a start that runs into an overflow just fails
            z = _solve_from(problem, z, at, sizes, [f for f, *_ in found], (lo, hi))
        if z is None:
            continue
        if np.any(z < lo - 1e-9 * (1 + np.abs(lo))) or np.any(z > hi + 1e-9 * (1 + np.abs(hi))):
            continue
        ok, norm, H = _gradient_ok(problem, at(z), sizes)
        if not ok:
            continue
        if any(np.linalg.norm(z - s) <= 1e-6 * (1 + np.linalg.norm(s)) for s, *_ in found):
            continue
        found.append((z, norm, H))
    for z, norm, H in sorted(found, key=lambda v: tuple(np.round(v[0], 9))):
        full = at(z)
        d, cls, reason, higher, H = classify_point(problem, full, sizes, rtol, atol, H=H)
        out.points.append(CriticalPoint(problem.point(z, sizes), None, problem.f(full), norm, H, d, cls,
                                        reason, higher))
    singular = [p for p in out.points if p.definiteness.label not in (D.PD, D.ND, D.INDEFINITE)]
    if len(singular) > 3:
        out.notes.append("several critical points have a singular Hessian: they may not be isolated "
                         "(a curve or surface of critical points)")
    install = installable("sympy", "analysis")
    # SymPy is suggested only where it is missing (where it is there, it was tried and gave up)
    out.notes.append(say("a numerical search may miss critical points",
                         *(("; SymPy (", install, ") solves ∇f = 0 exactly when it can") if install else ())))
    return out


def _solve_from(problem, z, at, sizes, found=(), bounds=None, newton: int = 40, damped: int = 60):
    """A critical point from the start z, or None.

    First plain Newton steps on ∇f(z) = 0 (the Jacobian of ∇f is the Hessian H): δ = −H⁺∇f,
    least squares where H is singular, taken even when ‖∇f‖ grows for a while (Newton crosses a
    curved valley in a few steps); then Levenberg–Marquardt from the best point seen,
    δ = −(H'H + μ·s·I)⁻¹H'∇f with s = tr(H'H)/n, taken only when it lowers ‖∇f‖.  A start whose
    iterate comes within 1e-4 of a point in ``found`` stops there (it returns None), and so does
    one that leaves the box enlarged twice around its centre (``bounds``).
    """
    n = len(z)
    if bounds is not None:
        centre, half = 0.5 * (bounds[0] + bounds[1]), 0.5 * (bounds[1] - bounds[0])

    def far(z, factor=2.0):
        return bounds is not None and bool(np.any(np.abs(z - centre) > factor * half))

    def evaluate(z):
        try:
            g, H = problem.gradient(at(z), sizes), problem.hessian(at(z), sizes)
        except RicciError:
            return None, None
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
            return None, None
        return g, H

    def near_found(z):
        return any(np.linalg.norm(z - f) <= 1e-4 * (1 + np.linalg.norm(f)) for f in found)

    g, H = evaluate(z)
    if g is None:
        return None
    best = (float(g @ g), z, g, H)
    for _ in range(newton):
        _limits.tick()
        delta = -np.linalg.lstsq(H, g, rcond=None)[0]
        z = z + delta
        g, H = evaluate(z)
        if g is None:
            break
        if float(g @ g) < best[0]:
            best = (float(g @ g), z, g, H)
        if near_found(z):
            return None
        if far(z, 10.0) or best[0] == 0.0 or np.linalg.norm(delta) <= 1e-15 * (1 + np.linalg.norm(z)):
            break
    gn, z, g, H = best
    mu = 1e-3
    for _ in range(damped):
        _limits.tick()
        if gn == 0.0:
            return z
        A = H.T @ H
        s = float(np.trace(A)) / n or 1.0
        for _ in range(12):
            try:
                delta = -np.linalg.solve(A + mu * s * np.eye(n), H.T @ g)
            except np.linalg.LinAlgError:
                mu *= 10
                continue
            gz, Hz = evaluate(z + delta)
            if gz is not None and float(gz @ gz) < gn:
                mu = max(mu / 10, 1e-12)
                break
            mu *= 10
        else:
            return z
        z, g, H, gn = z + delta, gz, Hz, float(gz @ gz)
        if near_found(z) or far(z):
            return None
        if np.linalg.norm(delta) <= 1e-15 * (1 + np.linalg.norm(z)):
            return z
    return z
