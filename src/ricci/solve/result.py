"""The answer of ``ricci.minimize``: a SciPy-like result with a certificate.

:class:`MinimizeResult` reads like SciPy's ``OptimizeResult`` (a dict whose keys are also
attributes), with the solution per variable in ``x`` and ``certificate`` saying what is known
about it: a global minimum when ricci's convexity analysis proves f convex from its Hessian's
structure (and the feasible set, a box, is convex), a local one otherwise.
"""

from __future__ import annotations

import numpy as np

GLOBAL = "global minimum: the problem is convex (proved from the Hessian's structure)"
LOCAL = "local: not proved convex"


class MinimizeResult(dict):
    """x (per variable), fun, grad_norm, kkt_residual (with bounds), nit, nfev, njev, nhev,
    time, message, success, status, method, certificate, convex, notes."""

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
        lines = [f"minimum of {self['expression']} over {', '.join(self['x'])}"
                 + (f" subject to {', '.join(self['bounds'])}" if self["bounds"] else ""),
                 f"  {self['certificate']}"]
        lines += [f"  {n} = {format_value(v)}".replace("\n", "\n" + " " * (5 + len(n))) for n, v in self["x"].items()]
        lines.append(f"  f = {self['fun']:.15g}")
        stat = f"  ‖∇f‖ = {self['grad_norm']:.3g}"
        if self["kkt_residual"] is not None:
            stat += f", KKT residual (projected gradient) {self['kkt_residual']:.3g}"
        stat += f"; {self['nit']} iterations of {self['method']}, {self['nfev']} evaluations"
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


def format_value(v) -> str:
    """A number with 15 significant digits, an array as NumPy prints it (10 decimals)."""
    if isinstance(v, float):
        return f"{v:.15g}"
    with np.printoptions(precision=10, suppress=True, linewidth=100):
        return np.array2string(np.asarray(v), separator=", ")


def certificate(problem, surface: str) -> tuple[str, bool | None, list[str]]:
    """(certificate, convex, reasons) from :mod:`ricci.analysis.convexity`, with the data fixed."""
    if len(problem.names) > 1:
        return (LOCAL + " (the convexity analysis takes one variable at a time; "
                f"{', '.join(problem.names)} are minimised jointly)", None, [])
    from ..analysis.convexity import analyse_convexity
    from ..analysis.problem import Problem as Analysed
    from ..language.errors import RicciError

    name = problem.names[0]
    declared = {n: v.kind for n, v in problem.expression.variables.items()}
    try:
        analysed = Analysed(problem.expression.source, name, dict(problem.data), declared, None)
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
