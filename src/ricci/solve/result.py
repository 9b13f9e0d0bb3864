"""The answer of ``ricci.minimize``: a SciPy-like result with a certificate.

:class:`MinimizeResult` reads like SciPy's ``OptimizeResult`` (a dict whose keys are also
attributes), with the solution per variable in ``x`` and ``certificate`` saying what is known
about it: a global minimum when ricci's convexity analysis proves f convex from its Hessian's
structure (and the feasible set, a box, is convex), a local one otherwise.
"""

from __future__ import annotations

import numpy as np

from ..printing.values import format_value

GLOBAL = "global minimum: the problem is convex (proved from the Hessian's structure)"
LOCAL = "local: not proved convex"


class MinimizeResult(dict):
    """x (per variable), fun, grad_norm, kkt_residual (with bounds; in the variables' own units),
    nit, nfev, njev, nhev, check_nfev (the evaluations of :mod:`.unbounded`'s check that the end
    is a minimum, not in nfev), time, message, success, status (3: no minimum, the infimum not
    attained), method, certificate, convex, notes, backend, and history:
    {"fun": [...], "grad_norm": [...]}, f and ‖∇f‖ at the start and after each iteration."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self):
        return list(self.keys())

    def __repr__(self) -> str:
        return f"<ricci MinimizeResult fun={self['fun']:.10g} success={self['success']} {self['certificate']!r}>"

    def __str__(self) -> str:
        subject = list(self["bounds"]) + list(self.get("constraints") or [])
        lines = [f"minimum of {self['expression']} over {', '.join(self['x'])}"
                 + (f" subject to {', '.join(subject)}" if subject else ""),
                 f"  {self['certificate']}"]
        lines += [f"  {n} = {format_value(v)}".replace("\n", "\n" + " " * (5 + len(n))) for n, v in self["x"].items()]
        lines.append(f"  f = {self['fun']:.15g}")
        if self.get("constraints"):
            lines.append(f"  constraint violation {self['constraint_violation']:.3g}; multipliers "
                         + ", ".join(f"{t}: {format_value(m) if isinstance(m, float) else format_value(np.asarray(m))}"
                                     for t, m in self["multipliers"].items()).replace("\n", " "))
        stat = f"  ‖∇f‖ = {self['grad_norm']:.3g}"
        if self["kkt_residual"] is not None:
            what = "" if self.get("constraints") else " (projected gradient)"
            stat += f", KKT residual{what} {self['kkt_residual']:.3g}"
        stat += f"; {self['nit']} iterations of {self['method']}, {self['nfev']} evaluations"
        if self.get("rounds"):
            stat += f", {self['rounds']} round{'s' if self['rounds'] != 1 else ''} of the augmented Lagrangian"
        if self.get("backend", "numpy") != "numpy":
            stat += f"; backend {self['backend']}"
        lines.append(stat)
        lines.append(f"  {'converged' if self['success'] else 'NOT converged'}: {self['message']}")
        lines += [f"  note: {n}" for n in self["notes"]]
        return "\n".join(lines)

    def to_json(self) -> dict:
        out = {}
        for k, v in self.items():
            if k == "x":
                out[k] = {n: (float(a) if isinstance(a, float) else np.asarray(a).tolist()) for n, a in v.items()}
            elif isinstance(v, (np.floating, np.integer)):
                out[k] = v.item()
            else:
                out[k] = v
        return out


def certificate(problem, surface: str, constraints=()) -> tuple[str, bool | None, list[str]]:
    """(certificate, convex, reasons) from :mod:`ricci.analysis.convexity`, with the data fixed;
    with constraints, a global minimum needs a convex feasible set too (:func:`feasible_set`)."""
    cert, convex, reasons = _objective(problem, surface)
    if convex and constraints:
        bad = feasible_set(problem, constraints)
        if bad:
            return (f"{LOCAL} (f is convex, but {bad}: the feasible set may not be convex)", None,
                    reasons + [bad])
        reasons = reasons + ["every equality constraint is affine and every inequality c <= 0 has c convex"]
    return cert, convex, reasons


def feasible_set(problem, constraints) -> str | None:
    """Why the feasible set is not known to be convex, or None when it is: an equality must be
    affine (its Jacobian free of the variables), an inequality c <= 0 needs c convex (affine, or
    proved by the analysis for a scalar c of one variable)."""
    for c in constraints:
        if c.affine:  # found when its VJPs were generated (constraints.py)
            continue
        declared = {n: v.kind for n, v in c.expression.variables.items()}
        if c.equality:
            return f"the equality {c.text!r} is not affine"
        if c.expression.shape or len(problem.names) > 1:
            return f"the inequality {c.text!r} is not affine and its convexity is not analysed"
        from ..analysis.convexity import analyse_convexity
        from ..analysis.problem import Problem as Analysed

        data = {n: v for n, v in problem.data.items() if n in c.expression.variables}
        conv = analyse_convexity(Analysed(c.source, problem.names[0], data, declared, None), 0, 0)
        if not (conv.convex and conv.proof is not None and conv.proof.label is not None):
            return f"the inequality {c.text!r} is not proved convex"
    return None


def _objective(problem, surface: str) -> tuple[str, bool | None, list[str]]:
    if len(problem.names) > 1:
        return (LOCAL + " (the convexity analysis takes one variable at a time; "
                f"{', '.join(problem.names)} are minimised jointly)", None, [])
    from ..analysis.convexity import analyse_convexity
    from ..analysis.problem import Problem as Analysed
    from ..language.errors import RicciError

    name = problem.names[0]
    declared = {n: v.kind for n, v in problem.expression.variables.items()}
    try:
        from .problem import is_lazy

        # Dask data stays on its cluster: the proof then treats those arrays as symbols
        data = {n: v for n, v in problem.data.items() if n in problem.expression.variables and not is_lazy(v)}
        analysed = Analysed(problem.expression.source, name, data, declared, None)
        conv = analyse_convexity(analysed, 0, 0)  # the proof only: no random points
    except RicciError as e:
        return f"{LOCAL} (the convexity analysis could not run: {e})", None, []
    if conv.convex and conv.proof is not None and conv.proof.label is not None:
        return GLOBAL, True, list(conv.reason)
    if conv.convex is False:
        return f"{LOCAL} (f is not convex: {conv.reason[0]})", False, list(conv.reason)
    if conv.concave and conv.strict:  # an ND Hessian: strictly concave, so not convex
        return f"{LOCAL} (f is not convex: it is strictly concave, {conv.reason[-1]})", False, list(conv.reason)
    return LOCAL, None, list(conv.reason)
