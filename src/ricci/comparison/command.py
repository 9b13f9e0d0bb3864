"""``ricci compare``: the command-line face of :func:`ricci.compare` (no judging lives here).

Exit status: 0 when the answer is right ("equal"), 1 for any other verdict (the verdict is
printed), 2 when the question itself is wrong (printed as an error with a caret, by ``cli.main``).
"""

from __future__ import annotations

import json


def add_arguments(sp) -> None:
    """Options of ``ricci compare`` (the expression and ``--kind`` come from cli.add)."""
    sp.add_argument("--wrt", required=True, help="the variable, or scalars x1,x2 for the row of partials")
    sp.add_argument("--answer", required=True, metavar="ANSWER",
                    help="your derivative, in the same language, e.g. \"x'*(B + B')\"")
    sp.add_argument("--order", type=int, default=1, help="derivative order (default 1; 2 is the Hessian)")
    sp.add_argument("--format", choices=["text", "json"], default="text")
    from ..cli import add_limits

    add_limits(sp, "the whole comparison")


def run(args) -> int:
    from .. import compare
    from ..cli import _assignments, _wrt

    v = compare(args.expression, _wrt(args.wrt), args.answer, order=args.order,
                kinds=_assignments(args.kind, "--kind"), timeout=args.timeout, max_elements=args.max_elements)
    # the verdict's advice names this command's flags (--kind B=symmetric), not Python's keywords
    print(json.dumps(v.to_json("cli"), indent=2, ensure_ascii=False) if args.format == "json" else v.text("cli"))
    return 0 if v.verdict == "equal" else 1
