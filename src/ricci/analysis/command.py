"""``ricci analyse``: the command-line face of :func:`ricci.analysis.analyse` (no calculus here).

  ricci analyse "x1^2 - x2^2" --wrt x1,x2 --at x1=0 --at x2=0
  ricci analyse "x'*A*x" --wrt x --at "A=[2,0;0,3]"
  ricci analyse "sin(x)*cos(y)" --wrt x,y --box=-4:4
  ricci analyse "x'*A*x" --wrt x --kind A=symmetric --assume A=psd
"""

from __future__ import annotations

import json

from ..language.errors import BadValueError


def add_arguments(sp) -> None:
    sp.add_argument("--wrt", required=True, help="the variable, or scalars x1,x2")
    sp.add_argument("--at", action="append", metavar="NAME=VALUE",
                    help="a value: of the variable(s) differentiated by (the point), or of a parameter")
    sp.add_argument("--assume", action="append", metavar="NAME=WHAT",
                    help="psd, pd, nsd, nd (a symmetric matrix); positive, nonnegative, negative, nonpositive")
    sp.add_argument("--box", action="append", metavar="[NAME=]LO:HI",
                    help="where to list critical points: --box -4:4 for every coordinate, "
                         "or x=-4:4 per variable")
    sp.add_argument("--method", choices=["auto", "symbolic", "numeric"], default="auto",
                    help="critical points: SymPy then numerical (auto), or one of them")
    sp.add_argument("--samples", type=int, default=60, help="random points tried for convexity witnesses")
    sp.add_argument("--seed", type=int, default=0, help="seed of the random points")
    sp.add_argument("--no-convexity", action="store_true", help="skip the convexity analysis")
    sp.add_argument("--format", choices=["text", "json"], default="text")
    from ..cli_args import add_limits

    add_limits(sp, "the whole analysis")


def _box(items):
    if not items:
        return None
    out = {}
    for item in items:
        name, _, rng = item.rpartition("=")
        lo, sep, hi = rng.partition(":")
        try:
            pair = (float(lo), float(hi))
        except ValueError:
            raise BadValueError(f"--box {item!r} must look like LO:HI or NAME=LO:HI, e.g. -4:4") from None
        if not sep:
            raise BadValueError(f"--box {item!r} must look like LO:HI or NAME=LO:HI, e.g. -4:4")
        if not name:
            if len(items) > 1:
                raise BadValueError("give either one --box LO:HI for every coordinate, or NAME=LO:HI for each")
            return pair
        out[name.strip()] = pair
    return out


def run(args) -> int:
    from ..cli_args import assignments, parse_value, wrt_names
    from . import analyse

    at = {n: parse_value(v) for n, v in assignments(args.at, "--at").items()}
    result = analyse(args.expression, wrt_names(args.wrt), at or None, assignments(args.kind, "--kind") or None,
                     assume=assignments(args.assume, "--assume") or None, box=_box(args.box),
                     method=args.method, convexity=not args.no_convexity, samples=args.samples, seed=args.seed,
                     timeout=args.timeout, max_elements=args.max_elements)
    if args.format == "json":
        print(json.dumps(result.to_json("cli"), indent=2, ensure_ascii=False))
    else:
        print(result.text("cli"))  # its advice names this command's flags
    return 0
