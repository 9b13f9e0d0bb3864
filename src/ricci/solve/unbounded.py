"""Is the end of a solve a minimum, or a walk towards infinity?

SciPy's optimisers stop where the gradient is small or the steps are, and both happen far out
along a direction where f keeps decreasing without a minimum: −Σ log xᵢ has ‖∇f‖ = √3/x, within
any tolerance once x is large enough (L-BFGS-B "converged" at x = 1.4e8), Σ exp(−xᵢ) and a
logistic regression on separable data approach an infimum no point attains.  The threshold of
:mod:`.objective` (f below −10¹²·max(1, |f(x₀)|)) only catches a fast fall.  So every solve
ends with a **ray test** (:func:`check`): f at y_k = z + 2^k·d, k = 0, 1, 2, …, along the way
d = z − x₀ the iterates travelled (projected onto the bounds; general constraints must hold
along it), for as long as f falls strictly with a negative slope along the ray:

* at a minimum f rises at once (f(z + d) ≥ f(z)): one evaluation, the usual cost;
* f falls, then rises: the solver stopped short of a minimum further out (a trust region that
  could not go on): the solve goes on from the best point of the ray (:data:`FURTHER`);
* f falls at every doubling out to ‖y − z‖ ≥ :data:`FAR`·max(1, ‖z‖), by about as much at the
  last doubling as at any (a logarithmic fall or faster): **unbounded below**, an
  :class:`UnboundedError`;
* f falls by ever smaller amounts (each at most half the one before) to a limit, or to a plateau
  where it no longer changes in floating point (exp(−x) underflows to 0): **the infimum is not
  attained**, ``success=False`` with status :data:`NOT_ATTAINED` (the point reached is kept, and
  may be what the user wants: the weights of a separating hyperplane).

The choice between the last two reads a finite sample, so it can be fooled by a function that
falls more slowly than any power and still tends to −∞ (−log log x) or whose minimum lies beyond
:data:`FAR` times the scale of the solution; both are said in the message with the numbers.

During a solve, :class:`Runaway` watches the iterates (the solve's callback): a run whose
distance from the start grows geometrically for :data:`GROWING` iterations while f falls (a
trust region doubling its radius along −Σ log xᵢ), or that stays at one point for
:data:`STUCK` iterations (SciPy's trust-krylov refusing step after step far out on a barrier,
where trlib's subproblem solve returns nan) is stopped early and handed to the ray test,
instead of running 10,000 iterations to "maximum number of iterations".
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .errors import SolveError, UnboundedError

#: the ray is followed out to ‖y − z‖ = FAR·max(1, ‖z‖): f still falling as fast there is unbounded
FAR = 1e12
#: a decrease at the ray's far end at least this part of its largest decrease: a fall without end
SUSTAINED = 0.25
#: most doublings of the ray (FAR is reached first unless d is tiny beside z)
DOUBLINGS = 80
#: the status of a result whose infimum is not attained (SciPy's own statuses are 0 to 2, 99)
NOT_ATTAINED = 3
#: the runaway watch: iterations of geometric growth, and of standing still, before a stop
GROWING, STUCK = 12, 30
#: growth by at least this factor an iteration counts as geometric
RATE = 1.5
#: every entry true (a ufunc's reduction: one C call)
_all = np.logical_and.reduce
#: the solve goes on from the ray's best point where it is lower by this much, relatively
FURTHER = 1e-8


class Verdict(NamedTuple):
    kind: str  # "minimum", "further" (a lower point on the ray) or "not attained"
    point: np.ndarray  # the ray's best point (z itself for a minimum)
    fun: float
    evaluations: int  # of f and ∇f, made by the check
    message: str = ""


class Stopped(Exception):
    """Raised by :class:`Runaway` from the solver's callback: the run is handed to the ray test."""

    def __init__(self, why: str, x: np.ndarray, nit: int):
        super().__init__(why)
        self.why, self.x, self.nit = why, x, nit


class Runaway:
    """The solve's watch on its iterates (called with each accepted iterate and f there)."""

    def __init__(self, start: np.ndarray, growth: bool = True):
        self.start = np.array(start, dtype=float)
        self.growth = growth  # watch for geometric growth too (not after the ray test sent it further)
        self.nit = 0
        self.last = None  # (x, f, distance)
        self.growing = self.still = 0

    def __call__(self, x: np.ndarray, f: float) -> None:
        self.nit += 1
        x = np.asarray(x, dtype=float)
        # ‖x - x0‖ as np.linalg.norm computes a flat vector's (the same dot product), and the
        # comparison as np.array_equal's: once an iteration, without their wrappers' ~15 calls
        d = (x - self.start).reshape(-1)
        r = math.sqrt(float(d.dot(d)))
        if self.last is not None:
            x_prev, f_prev, r_prev = self.last
            if x.shape == x_prev.shape and bool(_all(x == x_prev, axis=None)):
                self.still += 1
                if self.still >= STUCK:
                    raise Stopped(f"the iterate stood still for {STUCK} iterations", x.copy(), self.nit)
                return
            self.still = 0
            self.growing = self.growing + 1 if (r >= RATE * r_prev and f < f_prev) else 0
            if self.growing >= GROWING and self.growth:
                raise Stopped(f"the distance from the start grew {RATE}-fold or more at each of {GROWING} "
                              "iterations while f fell", x.copy(), self.nit)
        self.last = (x.copy(), f, r)


def moving(problem, d: np.ndarray) -> list[str]:
    """The variables the ray moves."""
    out, k = [], 0
    for n in problem.names:
        size = problem.flat_size(n)
        if np.any(d[k:k + size] != 0):
            out.append(n)
        k += size
    return out or list(problem.names)


def hint(problem, names, d: np.ndarray | None = None) -> str:
    """Bounds that would close the ray, in the surface's own words."""
    from .problem import say

    parts, k = [], 0
    for n in problem.names:
        size = problem.flat_size(n)
        part = d[k:k + size] if d is not None else None
        k += size
        if n not in names:
            continue
        if part is not None and np.all(part >= 0):
            text = f"{n} <= ..."
        elif part is not None and np.all(part <= 0):
            text = f"{n} >= ..."
        else:
            text = f"-... <= {n} <= ..."
        parts.append(say(problem.surface, "bound", b=text))
    return "bounds may give one: " + ", ".join(parts)


def _project(problem, y: np.ndarray) -> np.ndarray:
    return np.clip(y, problem.lower, problem.upper) if problem.bounded else y


def _feasible(problem, constraints, y, allowed) -> bool:
    values = {**problem.data, **problem.unpack(y)}
    for c, a in zip(constraints, allowed):
        v = np.asarray(c.value(values), dtype=float)
        if not np.all(np.isfinite(v)):
            return False
        if (np.abs(v).max() if c.equality else v.max()) > a:
            return False
    return True


def _slope(problem, y, g, d) -> float:
    """The derivative of f along the (projected) ray at y: d where y is free to move along it."""
    if problem.bounded:
        free = ~(((y <= problem.lower) & (d < 0)) | ((y >= problem.upper) & (d > 0)))
        d = np.where(free, d, 0.0)
    return float(g @ d)


def check(obj, problem, start, z, method: str, constraints=(), tol: float = 1e-8) -> Verdict:
    """The ray test at the solve's end z (module docstring).  Raises :class:`UnboundedError`;
    returns a :class:`Verdict` otherwise.  Its evaluations are not the solver's: the objective's
    counters, its last evaluations and best point are kept as they were."""
    z = np.asarray(z, dtype=float)
    d = z - np.asarray(start, dtype=float)
    f_z = obj.value_and_grad(z)[0]  # the solver's last point, as a rule: no new evaluation
    if not np.any(d) or not np.isfinite(f_z):
        return Verdict("minimum", z, f_z, 0)
    saved = (obj.nfev, obj.njev, obj._recent, obj.best, obj.best_z, obj.rejected, obj.iterations)
    allowed = []
    if constraints:  # what the constraints may be violated by along the ray: no more than at z
        at_z = {**problem.data, **problem.unpack(z)}
        for c in constraints:
            v = np.asarray(c.value(at_z), dtype=float)
            allowed.append(max(1e-6, 2 * float(np.abs(v).max() if c.equality else max(0.0, v.max()))))
    norm_d = float(np.linalg.norm(d))
    far = FAR * max(1.0, float(np.linalg.norm(z)))
    decreases: list[float] = []
    best, best_f, best_t = z, f_z, 0.0
    f_prev, y_prev = f_z, z
    ending = "rise"
    try:
        for k in range(DOUBLINGS):
            t = 2.0 ** k
            y = _project(problem, z + t * d)
            if np.array_equal(y, y_prev):  # the bounds stop the ray: f is constant from here
                ending = "plateau"
                break
            if constraints and not _feasible(problem, constraints, y, allowed):
                break
            rejected = obj.rejected
            try:
                f, g = obj.value_and_grad(y)
            except UnboundedError:
                f_low = obj.threshold  # f fell below the threshold of .objective on the ray
                raise _unbounded(obj, problem, z, d, method, f_z, f_low, t, y, decreases, below=True) from None
            except SolveError:  # f not finite there (overflow): not a fall
                break
            if obj.rejected != rejected:  # outside f's domain: the barrier closes the ray
                break
            noise = 4 * np.finfo(float).eps * max(abs(f), abs(f_prev))
            slope = _slope(problem, y, g, d)
            if f < f_prev - noise and slope <= 0:
                decreases.append(f_prev - f)
                best, best_f, best_t = y, f, t
                f_prev, y_prev = f, y
                if slope == 0:  # f no longer changes along the ray (exp(-x) underflowed to 0 there)
                    ending = "plateau"
                    break
                if t * norm_d >= far:
                    ending = "far"
                    break
                continue
            if abs(f - f_prev) <= noise:
                ending = "plateau"
            break
        else:
            ending = "far"
    finally:
        evaluations = obj.nfev - saved[0]
        obj.nfev, obj.njev, obj._recent, obj.best, obj.best_z, obj.rejected, obj.iterations = saved
    fell = f_z - best_f
    if not decreases or not fell > 64 * np.finfo(float).eps * max(1.0, abs(f_z)):
        return Verdict("minimum", z, f_z, evaluations)
    shrinking = len(decreases) >= 3 and decreases[-1] <= 0.5 * decreases[-2] <= 0.25 * decreases[-3]
    if ending == "far" and decreases[-1] >= SUSTAINED * max(decreases):
        raise _unbounded(obj, problem, z, d, method, f_z, best_f, best_t, best, decreases)
    if ending == "far" or (ending == "plateau" and shrinking):
        names = moving(problem, d)
        where = ", ".join(names)
        message = (f"no minimum: f decreases along a ray, {where} = {where}₁ + t·d ({where}₁ where {method} "
                   f"stopped, d the way it travelled from the start), towards about {best_f:.6g}, which no "
                   f"point attains (the infimum of f is not attained: f = {f_z:.6g} at t = 0, {best_f:.6g} at "
                   f"t = {best_t:.3g}, each doubling of t lowering it less)")
        return Verdict("not attained", best, best_f, evaluations, message)
    if fell > FURTHER * max(1.0, abs(f_z)):
        return Verdict("further", best, best_f, evaluations,
                       f"f is lower further along the way the iterates travelled ({best_f:.6g} at "
                       f"{best_t:.3g} times that way beyond where {method} stopped, {f_z:.6g} there)")
    return Verdict("minimum", z, f_z, evaluations)


def _unbounded(obj, problem, z, d, method, f_z, f_low, t, y, decreases, below: bool = False) -> UnboundedError:
    names = moving(problem, d)
    where = ", ".join(names)
    size = float(np.linalg.norm(np.concatenate([np.ravel(v) for n, v in problem.unpack(y).items()
                                                if n in names])))
    rate = (f" about {decreases[-1]:.3g} lower at each doubling of t," if decreases and not below else "")
    fell = (f"below {f_low:.3g}" if below else f"to {f_low:.6g}")
    exponent = f"2^{round(math.log2(t))}" if t >= 2 else f"{t:g}"
    return UnboundedError(
        f"{problem.expression.text} is unbounded below: f keeps falling along a ray, {where} = {where}₁ + t·d "
        f"({where}₁ where {method} stopped, d the way it travelled from the start): from {f_z:.6g} at t = 0 "
        f"{fell} at t = {exponent},{rate} with ‖{where}‖ grown to {size:.3g}; there is no minimum "
        f"({hint(problem, names, d)})")
