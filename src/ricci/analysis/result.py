"""The answer of ``ricci.analyse``: the analysis at a point, the critical points, the convexity
verdict; printed as text (``str``), JSON (``to_json``) and HTML (Jupyter, ``_repr_html_``)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from ..hints import hints_of, render
from ..language.errors import BadValueError, UnknownNameError
from . import definiteness as D
from .convexity import Convexity
from .critical import DEGENERATE, CriticalSearch, HigherOrder, classify_point, gradient_tolerance


def _fmt(v) -> str:
    if isinstance(v, (float, int)):
        return f"{float(v):.6g}"
    with np.printoptions(precision=6, suppress=True, linewidth=100):
        return np.array2string(np.asarray(v, dtype=float), separator=", ").replace("\n", "")


def _json(v):
    return float(v) if isinstance(v, (float, int)) else np.asarray(v, dtype=float).tolist()


@dataclass
class PointAnalysis:
    """f, ∇f and the Hessian at the point ``at`` gives, and what they say."""

    values: dict
    f: float
    gradient: object  # §1 shape, as Derivative.evaluate gives it
    hessian: object  # §1 shape; None where ricci does not give it (problem.no_hessian)
    square: np.ndarray | None  # the Hessian as the square matrix of its quadratic form
    definiteness: D.Definiteness | None
    gradient_norm: float
    gradient_tolerance: float
    critical: bool
    classification: str | None  # for a critical point
    reason: str
    higher_order: HigherOrder | None = None

    @property
    def locally(self) -> str:
        """The lecture's reading of the curvature at the point."""
        if self.definiteness is None:
            return "the Hessian is not provided: the second-order test cannot be run"
        lb = self.definiteness.label
        if lb == D.PD:
            return "locally convex (the Hessian is PD)"
        if lb == D.ND:
            return "locally concave (the Hessian is ND)"
        if lb == D.INDEFINITE:
            return "curved up along some directions and down along others (the Hessian is indefinite)"
        return f"the Hessian is {self.definiteness.words}"

    def to_json(self) -> dict:
        return {"values": {n: _json(v) for n, v in self.values.items()}, "f": self.f,
                "gradient": _json(self.gradient),
                "hessian": None if self.hessian is None else _json(self.hessian),
                "hessian_square": None if self.square is None else _json(self.square),
                "definiteness": None if self.definiteness is None else self.definiteness.to_json(),
                "gradient_norm": self.gradient_norm, "gradient_tolerance": self.gradient_tolerance,
                "critical": self.critical, "classification": self.classification, "reason": self.reason,
                "higher_order": None if self.higher_order is None else self.higher_order.to_json()}


def analyse_point(problem, rtol=D.RTOL, atol=D.ATOL) -> PointAnalysis:
    missing = problem.missing_params
    if missing:
        raise UnknownNameError(f"at gives the point but no value for {', '.join(missing)}: a point needs "
                               "every variable's value")
    sizes = problem.sizes
    values = dict(problem.fixed)
    f = problem.f(values)
    g = problem.gradient_d.evaluate(values)
    if problem.hessian_d is None:
        return _without_hessian(problem, values, f, g)
    h = problem.hessian_d.evaluate(values)
    flat, H = problem.flat_gradient(g, sizes), problem.square_hessian(h, sizes)
    if not (np.all(np.isfinite(flat)) and np.all(np.isfinite(H))):
        raise BadValueError(f"the gradient or the Hessian of {problem.expression.text} is not finite at this point "
                            "(f is not twice differentiable there)")
    norm = float(np.linalg.norm(flat))
    tol = gradient_tolerance(problem, values, sizes, H)
    if norm > tol:
        d = D.classify(H, rtol, atol)
        return PointAnalysis(values, f, g, h, H, d, norm, tol, False, None,
                             f"the gradient does not vanish (‖∇f‖ = {norm:.6g}): not a critical point")
    f_sym = flat_syms = exact = None
    try:
        from .critical import sympy_function
        from .to_sympy import number, sympy

        if sympy() is not None and problem.wrt_kind not in ("matrix", "symmetric matrix"):
            f_sym, flat_syms = sympy_function(problem)
            exact = [number(v) for v in problem.coords(values, sizes)]
    except Exception:  # noqa: BLE001 - without a SymPy form the classification is numerical
        f_sym = None
    d, cls, reason, higher, H = classify_point(problem, values, sizes, rtol, atol, exact, f_sym, flat_syms, H)
    return PointAnalysis(values, f, g, h, H, d, norm, tol, True, cls, reason, higher)


def _without_hessian(problem, values, f, g) -> PointAnalysis:
    """f and ∇f at the point, where ricci does not give the Hessian: whether ∇f vanishes, and
    no second-order verdict."""
    sizes = problem.sizes
    flat = problem.flat_gradient(g, sizes)
    norm = float(np.linalg.norm(flat))
    tol = gradient_tolerance(problem, values, sizes, np.zeros((0, 0)))
    why = f"the Hessian is {problem.no_hessian}"
    if norm > tol:
        return PointAnalysis(values, f, g, None, None, None, norm, tol, False, None,
                             f"the gradient does not vanish (‖∇f‖ = {norm:.6g}): not a critical point")
    return PointAnalysis(values, f, g, None, None, None, norm, tol, True, "unclassified",
                         f"{why}, so the second-order test cannot classify the point")


class Analysis:
    """What ``ricci.analyse`` finds: ``point``, ``critical``, ``convexity`` (each may be None)."""

    def __init__(self, problem, point: PointAnalysis | None, critical: CriticalSearch | None,
                 convexity: Convexity | None, notes: list[str]):
        self.problem = problem
        self.expression = problem.expression.text
        self.wrt = problem.wrt
        self.kinds = {n: v.describe() for n, v in problem.variables.items()}
        self.assume = dict(problem.assume)
        self.gradient_text = problem.gradient_d.text
        self.hessian_text = problem.hessian_d.text if problem.hessian_d is not None else problem.no_hessian
        self.point = point
        self.critical = critical
        self.convexity = convexity
        self.notes = notes

    # -- text ------------------------------------------------------------------------------------
    def lines(self, surface: str = "python") -> list[str]:
        """The text, line by line; advice names ``surface``'s controls (:mod:`ricci.hints`)."""
        def r(t):
            return render(t, surface)

        wrt = ", ".join(self.wrt) if isinstance(self.wrt, list) else self.wrt
        out = [f"f = {self.expression}, by {wrt}"]
        out += ["  " + k for k in self.kinds.values()]
        if self.assume:
            out.append("  assumed: " + ", ".join(f"{n} {a}" for n, a in self.assume.items()))
        out += [f"gradient: {self.gradient_text}", f"Hessian:  {self.hessian_text}"]
        if self.point is not None:
            p = self.point
            out += ["", "at " + ", ".join(f"{n} = {_fmt(v)}" for n, v in p.values.items()) + ":",
                    f"  f = {_fmt(p.f)}", f"  gradient = {_fmt(p.gradient)}"]
            if p.definiteness is not None:
                out += [f"  Hessian = {_fmt(p.square)}",
                        f"  eigenvalues: {', '.join(f'{v:.6g}' for v in p.definiteness.eigenvalues)}",
                        f"  definiteness: {p.definiteness.describe()}"]
            out.append(f"  {p.locally}")
            if p.critical:
                out.append(f"  the gradient vanishes (‖∇f‖ = {p.gradient_norm:.3g} ≤ {p.gradient_tolerance:.3g}): "
                           f"{p.classification}")
                out.append(f"    because {p.reason}")
                if p.higher_order is not None:
                    out.append(f"    higher order: {p.higher_order.verdict} — {p.higher_order.how}")
            else:
                out.append(f"  {p.reason}")
        if self.critical is not None and self.critical.method == "not attempted":
            out += ["", "critical points: not searched"] + [f"  {r(n)}" for n in self.critical.notes]
        elif self.critical is not None:
            c = self.critical
            out += ["", f"critical points — {c.method}" + (f", box {c.box}" if c.box else "") + ":"]
            for fam in c.families:
                out.append(f"  family: {fam}")
            for cp in c.points:
                where = ", ".join(f"{n} = {cp.exact[n] if cp.exact else _fmt(v)}" for n, v in cp.values.items())
                out.append(f"  {where}: {cp.classification} (f = {_fmt(cp.value)})")
                out.append(f"    because {cp.reason}")
                if cp.higher_order is not None:
                    out.append(f"    higher order: {cp.higher_order.verdict} — {cp.higher_order.how}")
            if not c.points and not c.families:
                out.append("  none found")
            out += [f"  note: {r(n)}" for n in c.notes]
        if self.convexity is not None:
            v = self.convexity
            out += ["", f"convexity: {v.verdict}"]
            out += [f"  {r(x)}" for x in v.reason]
            s = v.sampling
            where = "points" if self.problem.hessian_d is not None else "segments"
            out.append(f"  checked at {s.defined} random {where} (of {s.tried} tried; seeded)")
            out += [f"  note: {r(n)}" for n in v.notes]
        out += [f"note: {r(n)}" for n in self.notes]
        return out

    def text(self, surface: str = "python") -> str:
        """The analysis as text, its advice in ``surface``'s words ("python", "cli", "api", "page")."""
        return "\n".join(self.lines(surface))

    @property
    def hints(self) -> list:
        """The advice of the text as data (:class:`ricci.hints.Hint`), each once."""
        c, v = self.critical, self.convexity
        return hints_of(c.notes if c else [], v.reason if v else [], v.notes if v else [], self.notes)

    def __str__(self) -> str:
        return self.text("python")

    def __repr__(self) -> str:
        verdict = self.convexity.verdict if self.convexity else "no convexity check"
        return f"<ricci analysis of {self.expression} by {self.wrt}: {verdict}>"

    def to_json(self, surface: str = "python") -> dict:
        """The analysis as JSON: its notes and reasons in ``surface``'s words, ``hints`` as data."""
        out = self._json()
        for part, keys in (("critical_points", ("notes",)), ("convexity", ("reason", "notes"))):
            for k in keys:
                if out[part] is not None:
                    out[part][k] = render(out[part][k], surface)
        out["notes"] = render(out["notes"], surface)
        out["hints"] = [h.to_json() for h in self.hints]
        return out

    def _json(self) -> dict:
        return {
            "expression": self.expression, "wrt": self.wrt, "kinds": self.kinds, "assume": self.assume,
            "gradient": self.gradient_text, "hessian": self.hessian_text,
            "point": None if self.point is None else self.point.to_json(),
            "critical_points": None if self.critical is None else self.critical.to_json(),
            "convexity": None if self.convexity is None else self.convexity.to_json(),
            "notes": self.notes,
        }

    def _repr_html_(self) -> str:
        """Jupyter: the same content as ``str``, as a small HTML document fragment."""
        parts = ["<div class='ricci-analysis'>"]
        block: list[str] = []
        for line in self.lines() + [""]:
            if line == "":
                if block:
                    head, rest = block[0], block[1:]
                    parts.append(f"<p><b>{html.escape(head)}</b></p>")
                    if rest:
                        parts.append("<ul>" + "".join(f"<li>{html.escape(r.strip())}</li>" for r in rest) + "</ul>")
                block = []
            else:
                block.append(line)
        parts.append("</div>")
        return "".join(parts)


__all__ = ["DEGENERATE", "Analysis", "PointAnalysis", "analyse_point"]
