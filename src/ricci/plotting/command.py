"""``ricci plot``: the command-line face of :func:`ricci.plot` (arguments in, an image file out).

``ricci plot EXPR --wrt x [--at 1.5] [--range=-2,2] -o out.png`` (also ``.svg``, ``.pdf``);
``--wrt x1,x2`` for two scalars; ``--at x1=1 --at x2=0.5`` or ``--at 1,0.5``; ``--range=lo,hi``
or ``--range=lo1,hi1,lo2,hi2``; ``--set A=[1,0;0,2]`` fixes another variable.  A value that
starts with a minus sign is the option's value (``--range -2,2``, ``--at -1``: ricci.cli_tokens).
"""

from __future__ import annotations

from pathlib import Path

from ..language.errors import BadValueError

FORMATS = (".png", ".svg", ".pdf")


def add_arguments(sp) -> None:
    sp.add_argument("--wrt", required=True,
                    help="the variable: a scalar x (a curve), x1,x2 or a vector x (a field), t (a path)")
    sp.add_argument("--at", action="append", metavar="POINT",
                    help="the point: 1.5, or 1,0.5, or NAME=VALUE (repeatable: --at x1=1 --at x2=0.5)")
    sp.add_argument("--range", metavar="LO,HI",
                    help="the range: lo,hi (both axes) or lo1,hi1,lo2,hi2, e.g. --range -2,2")
    sp.add_argument("--set", action="append", metavar="NAME=VALUE",
                    help="a fixed value of another variable: 3, 1,2 (vector) or [1,2;3,4] (matrix)")
    sp.add_argument("--view", choices=["curve", "field", "path"], help="override the picture chosen")
    sp.add_argument("--no-derivative", action="store_true", help="a curve without f′ below it")
    sp.add_argument("--no-critical", action="store_true", help="do not search for critical points")
    sp.add_argument("-o", "--output", required=True, metavar="FILE", help="the image: .png, .svg or .pdf")
    from ..cli_args import add_limits

    add_limits(sp, "the whole plot")


def _at(items: list[str] | None, wrt):
    from ..cli_args import parse_value

    if not items:
        return None
    named = [i for i in items if "=" in i]
    if named and len(named) != len(items):
        raise BadValueError("--at: give either one point (--at 1,2) or NAME=VALUE for each variable")
    if not named:
        if len(items) > 1:
            raise BadValueError("--at: give one point, e.g. --at 1,2 (or --at x1=1 --at x2=2)")
        return parse_value(items[0])
    out = {}
    for item in named:
        name, value = (s.strip() for s in item.split("=", 1))
        if name in out:
            raise BadValueError(f"--at gives {name} twice")
        out[name] = parse_value(value)
    if isinstance(wrt, str) and set(out) == {wrt}:
        return out[wrt]
    return out


def _range(text: str | None):
    if text is None:
        return None
    try:
        nums = [float(v) for v in text.replace(":", ",").split(",")]
    except ValueError:
        raise BadValueError(f"--range {text!r}: write lo,hi or lo1,hi1,lo2,hi2, e.g. --range=-2,2") from None
    if len(nums) == 2:
        return tuple(nums)
    if len(nums) == 4:
        return (tuple(nums[:2]), tuple(nums[2:]))
    raise BadValueError(f"--range {text!r}: write lo,hi or lo1,hi1,lo2,hi2, e.g. --range=-2,2")


def run(args) -> int:
    from ..cli_args import assignments, parse_value, wrt_names
    from . import plot

    out = Path(args.output)
    if out.suffix.lower() not in FORMATS:
        raise BadValueError(f"-o {args.output}: the file name must end in {', '.join(FORMATS)}")
    wrt = wrt_names(args.wrt)
    values = {n: parse_value(v) for n, v in assignments(args.set, "--set").items()}
    fig = plot(args.expression, wrt, at=_at(args.at, wrt), range=_range(args.range),
               kinds=assignments(args.kind, "--kind") or None, values=values or None, view=args.view,
               derivative=not args.no_derivative, critical=not args.no_critical,
               timeout=args.timeout, max_elements=args.max_elements)
    try:
        fig.savefig(out, format=out.suffix[1:].lower())
    except OSError as e:
        raise BadValueError(f"cannot write {args.output}: {e.strerror or e}") from None
    print(f"wrote {out}")
    return 0
