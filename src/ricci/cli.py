"""The ``ricci`` command: composes the library's stages; no calculus lives here.

Every :class:`RicciError` is printed as the message with a caret line under the offending text,
and the command exits with status 2; nothing prints a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

from .cli_args import add_limits, assignments, parse_value, wrt_names
from .language.errors import RicciError

EXAMPLES = {
    "parse": 'ricci parse "x\'*A*x" --kind A="symmetric matrix"',
    "eval": 'ricci eval "x\'*A*x" --set x=1,2 --set "A=[1,2;3,4]"',
    "diff": 'ricci diff "x\'*A*x" --wrt x   |   ricci diff "norm2(y - Phi*theta)^2" --wrt theta --order 2',
    "plot": 'ricci plot "x1^2 - x2^2" --wrt x1,x2 --at 1,0.5 -o saddle.png',
    "compare": 'ricci compare "x\'*B*x" --wrt x --answer "2*x\'*B"',
    "analyse": 'ricci analyse "x1^2 - x2^2" --wrt x1,x2 --at x1=0 --at x2=0   |   '
               'ricci analyse "sin(x)*cos(y)" --wrt x,y --box=-4:4',
    "minimize": 'ricci minimize "norm2(X*w - y)^2 + lambda*w\'*w" --wrt w --data X=X.npy --data y=y.npy '
                '--set lambda=0.1',
}


def _cmd_parse(args) -> int:
    from . import parse

    e = parse(args.expression, assignments(args.kind, "--kind"))
    print(e.describe())
    return 0


def _cmd_eval(args) -> int:
    from . import evaluate
    from .printing.values import format_value  # NumPy's printing: only what prints values

    values = {n: parse_value(v, n) for n, v in assignments(args.set, "--set").items()}
    print(format_value(evaluate(args.expression, values, assignments(args.kind, "--kind"))))
    return 0


def _cmd_diff(args) -> int:
    from . import derivative

    d = derivative(args.expression, wrt_names(args.wrt), order=args.order, kinds=assignments(args.kind, "--kind"),
                   timeout=args.timeout)
    from .explain import command as _explain

    if _explain.wanted(args):  # --steps, --layout, --bold, --format mathml|markdown
        print(_explain.show(d, args))
        return 0
    if args.format == "latex":
        print(d.latex)
    elif args.format == "json":
        print(json.dumps(d.to_json(), indent=2))
    elif args.format == "python":
        print(d.code(args.backend, with_value=args.with_value), end="")
    else:
        print(d.describe())
        if d.order == 1 and len(d.shape) > 2:  # a Jacobian between matrices: also as the Cookbook writes it
            k = d.kronecker
            if k is not None:
                print(f"Kronecker form: ∂vec F/∂vec {d.wrt} = {k.text}")
    if args.check:
        report = d.check(timeout=args.timeout, max_elements=args.max_elements)
        print(report)
        return 0 if report.passed else 1
    return 0


def _cmd_plot(args) -> int:
    from .plotting.command import run

    return run(args)


def _cmd_compare(args) -> int:
    from .comparison.command import run

    return run(args)


def _cmd_analyse(args) -> int:
    from .analysis.command import run

    return run(args)


def _cmd_minimize(args) -> int:
    from .solve.command import run

    return run(args)


#: The subcommands, in the order ``ricci --help`` lists them.
COMMANDS = ("serve", "parse", "eval", "diff", "plot", "compare", "analyse", "minimize")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand; with ``command``, that one's flags only (the others are
    listed by name and help): each feature's flags live in its package, whose import costs more
    than the whole of ``ricci diff`` (issue 21: start-up within 2x of ``import numpy``)."""

    def wanted(name: str) -> bool:
        return command is None or command == name

    p = argparse.ArgumentParser(
        prog="ricci",
        description="Vector, matrix and tensor calculus in matrix notation.",
        epilog="examples:\n  " + "\n  ".join(EXAMPLES.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    from .web.command import register as _register_serve  # `ricci serve` takes no expression

    _register_serve(sub)  # (a light module: its server is imported when it runs)

    def add(name, helptext, func):
        sp = sub.add_parser(name, help=helptext, description=helptext,
                            epilog=f"example:\n  {EXAMPLES[name]}",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        sp.add_argument("expression", help="an expression in matrix notation, e.g. \"x'*A*x\"")
        sp.add_argument("--kind", action="append", metavar="NAME=KIND",
                        help="declare a kind: scalar, vector, matrix, symmetric matrix")
        sp.set_defaults(func=func)
        return sp

    add("parse", "print the canonical form, the kinds and dimensions, and the result's shape", _cmd_parse)
    ev = add("eval", "evaluate an expression at given values", _cmd_eval)
    ev.add_argument("--set", action="append", metavar="NAME=VALUE",
                    help="a value: 3, 1,2,3 (vector) or [1,2;3,4] (matrix)")
    df = add("diff", "differentiate: gradient, Jacobian, Hessian or higher derivative", _cmd_diff)
    df.add_argument("--wrt", required=True, help="the variable, or scalars x1,x2 for the row of partials")
    df.add_argument("--order", type=int, default=1, help="derivative order (default 1; 2 is the Hessian)")
    df.add_argument("--format", choices=["text", "latex", "json", "python", "mathml", "markdown"], default="text")
    if wanted("diff"):
        from .explain.command import add_arguments as _explain_arguments

        _explain_arguments(df)
    df.add_argument("--backend", choices=["numpy", "jax", "torch", "array_api"], default="numpy",
                    help="for --format python: the array library of the generated function")
    df.add_argument("--with-value", action="store_true",
                    help="for --format python: return the function's value and the derivative")
    add_limits(df, "the derivation, of its display, and of --check")
    df.add_argument("--check", action="store_true",
                    help="also compare with finite differences at 3 random points (exit status 1 "
                         "on a mismatch)")
    plot = add("plot", "draw slopes, gradients and curvature into an image file", _cmd_plot)
    if wanted("plot"):
        from .plotting.command import add_arguments as _plot_arguments

        _plot_arguments(plot)
    compare = add("compare", "check a hand-derived derivative: equal, other layout, which slip, or "
                             "different", _cmd_compare)
    if wanted("compare"):
        from .comparison.command import add_arguments as _compare_arguments

        _compare_arguments(compare)
    analyse = add("analyse", "analyse a scalar function: Hessian definiteness, critical points, "
                             "convexity", _cmd_analyse)
    if wanted("analyse"):
        from .analysis.command import add_arguments as _analyse_arguments

        _analyse_arguments(analyse)
    minimize = add("minimize", "minimise a scalar function over some of its variables, given the "
                               "others' values (SciPy with ricci's derivatives)", _cmd_minimize)
    if wanted("minimize"):
        from .solve.command import add_arguments as _minimize_arguments

        _minimize_arguments(minimize)
    return p


def _check_wrt(args) -> None:
    """The one check of ``--wrt`` against the expression, for every command that takes it: a
    name the expression does not use is refused, in a list too (ricci.derivation.check_wrt)."""
    if getattr(args, "wrt", None) is None or getattr(args, "expression", None) is None:
        return
    from .derivation import check_wrt

    declared = [item.split("=", 1)[0].strip() for item in args.kind or [] if "=" in item]
    check_wrt(args.expression, wrt_names(args.wrt), {n: "" for n in declared})


def main(argv: list[str] | None = None) -> int:
    from .cli_tokens import normalise

    argv = sys.argv[1:] if argv is None else list(argv)
    # the command is the first word (the top level takes no option but --help): only its flags
    # are registered; anything else (--help, a misspelt command) gets the full parser
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(normalise(parser, argv))
    try:
        _check_wrt(args)
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit where it would be a traceback
        return code
    except BrokenPipeError:
        # `ricci diff … | head -1`: the reader has gone; the Python docs' way to end quietly is
        # to point stdout at devnull, so that the interpreter's last flush cannot fail either
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command a closed pipe ended
    except RicciError as e:
        if e.source is None and getattr(args, "expression", None):
            e.source = args.expression if e.span else None
        print(e.pretty("cli"), file=sys.stderr)  # its advice names flags, not keywords
        return 2
    except RecursionError:  # a last line of defence; limits should stop this earlier
        print("limit: the expression is too deeply nested", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
