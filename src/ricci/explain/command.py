"""``ricci diff … --steps / --layout / --bold / --format mathml|markdown``: composes
:mod:`ricci.explain`; no calculus here."""

from __future__ import annotations

import json

from . import METHODS  # not from .methods: it loads the steps and their MathML printer, which `ricci diff` need not

FORMATS = ("mathml", "markdown")


def add_arguments(p) -> None:
    p.add_argument("--steps", nargs="?", const="jacobians", default=None, choices=METHODS,
                   help="show the derivation step by step: --steps (or --steps jacobians) as the lecture "
                        "does it (shape, chain rule as a product of Jacobians, rules, result), --steps "
                        "differentials by the differential method (dF rule by rule, the standard form, "
                        "the identification); with --format latex, markdown, mathml (HTML) or json")
    p.add_argument("--layout", choices=["numerator", "denominator"], default="numerator",
                   help="numerator (the lecture's: gradients are rows) or denominator (gradients are "
                        "columns); the numbers do not change")
    p.add_argument("--bold", action="store_true", help="vectors and matrices in bold (LaTeX, MathML)")
    p.add_argument("--name", default="f", help="the function's name in the steps and displays (the lecture's L, h, K)")
    p.add_argument("--symmetric-gradient", action="store_true",
                   help="for a symmetric matrix variable: G + G' - diag(diag(G)) (Matrix Cookbook §2.8)")


def wanted(args) -> bool:
    """Whether the explain options decide the output."""
    return (args.steps or args.layout != "numerator" or args.bold or args.symmetric_gradient
            or args.format in FORMATS or args.name != "f")


def show(d, args) -> str:
    fmt = args.format
    if args.steps == "differentials":
        steps = d.steps(method="differentials")
    elif args.steps:
        steps = d.explain(args.name, bold=args.bold)
    if args.steps:
        if fmt == "latex":
            return steps.latex()
        if fmt == "markdown":
            return steps.markdown()
        if fmt == "mathml":
            return steps.html()
        if fmt == "json":
            return json.dumps(steps.to_dict(), indent=2, ensure_ascii=False)
        return steps.text()
    v = d.display(layout=args.layout, symmetric="gradient" if args.symmetric_gradient else None,
                  bold_vectors=args.bold, name=args.name)
    if fmt == "latex":
        return v.latex
    if fmt == "mathml":
        return v.mathml
    if fmt == "markdown":
        return v._repr_markdown_()
    if fmt == "json":
        out = d.to_json()
        out.update({"layout": args.layout, "text": v.text, "latex": v.latex, "mathml": v.mathml,
                    "displayed_shape": list(v.shape)})
        return json.dumps(out, indent=2, ensure_ascii=False)
    lines = [v.text, "shape: " + (" × ".join(v.shape) if v.shape else "scalar")]
    if v.note:
        lines.append(v.note)
    return "\n".join(lines)
