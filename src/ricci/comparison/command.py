"""``ricci compare``: the command-line face of :func:`ricci.compare` (no judging lives here).

The exit status says what the verdict is, so that a script can grade without reading text
(:data:`EXIT_STATUS`): 0 equal, 1 wrong (a slip, or different), 2 invalid input (the question,
as every command's RicciError, or an answer that cannot be read), 3 equal in the other layout.
"""

from __future__ import annotations

import json


#: verdict → exit status; 2 is also every command's status for an error in the question.
EXIT_STATUS = {"equal": 0, "slip": 1, "different": 1, "invalid": 2, "equal in the other layout": 3}

EPILOG = """
exit status:
  0  equal: the answer is right
  1  slip or different: the answer is wrong (the verdict says how)
  2  invalid input: the question (a syntax error, a --wrt the expression does not use, ...)
     or the answer cannot be read
  3  equal in the other layout: right, but transposed (denominator layout)"""


def add_arguments(sp) -> None:
    """Options of ``ricci compare`` (the expression and ``--kind`` come from cli.add)."""
    sp.epilog = (sp.epilog or "") + "\n" + EPILOG
    sp.add_argument("--wrt", required=True, help="the variable, or scalars x1,x2 for the row of partials")
    sp.add_argument("--answer", required=True, metavar="ANSWER",
                    help="your derivative, in the same language, e.g. \"x'*(B + B')\"")
    sp.add_argument("--order", type=int, default=1, help="derivative order (default 1; 2 is the Hessian)")
    sp.add_argument("--format", choices=["text", "json"], default="text")
    from ..cli_args import add_limits

    add_limits(sp, "the whole comparison")


def run(args) -> int:
    from ..cli_args import assignments, wrt_names
    from ..deep import deep
    from .engine import compare as _compare

    compare = deep(_compare)  # as ricci.compare runs it (the feature itself, not the package above)

    v = compare(args.expression, wrt_names(args.wrt), args.answer, order=args.order,
                kinds=assignments(args.kind, "--kind"), timeout=args.timeout, max_elements=args.max_elements)
    # the verdict's advice names this command's flags (--kind B=symmetric), not Python's keywords
    print(json.dumps(v.to_json("cli"), indent=2, ensure_ascii=False) if args.format == "json" else v.text("cli"))
    return EXIT_STATUS[v.verdict]
