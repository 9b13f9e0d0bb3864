"""``ricci minimize``: the command-line face of :func:`ricci.solve.minimize` (no calculus here).

  ricci minimize "norm2(X*w - y)^2 + lambda*w'*w" --wrt w --data X=X.npy --data y=y.npy --set lambda=0.1
  ricci minimize "norm2(X*w - y)^2" --wrt w --data X=X.csv --data y=y.csv --bound "w >= 0" -o w.npz
  ricci minimize "norm2(X - U*V')^2" --wrt U,V --data X=X.npy --x0 U=U0.npy --method newton-cg
  ricci minimize "p'*Q*p + q'*p" --wrt p --data Q=Q.npy --data q=q.npy --subject-to "sum(p) == 1" --bound "p >= 0"

Data files are read with NumPy: ``.npy`` (never with pickle) or ``.csv`` (commas, no header).
The solution is printed, or written with ``-o`` to ``.npz`` (one array per variable), ``.npy``
or ``.csv`` (one variable) or ``.json``.  On a run longer than a second, progress lines go to
stderr (``--quiet`` silences them), so stdout holds only the answer.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from ..language.errors import BadValueError


def add_arguments(sp) -> None:
    sp.add_argument("--wrt", required=True, help="the variable(s) to minimise over: w, or U,V")
    sp.add_argument("--data", action="append", metavar="NAME=FILE",
                    help="a variable's value from a .npy or .csv file (repeat for each)")
    sp.add_argument("--set", action="append", metavar="NAME=VALUE",
                    help="a variable's value: 3, 1,2,3 (vector) or [1,2;3,4] (matrix)")
    sp.add_argument("--x0", action="append", metavar="NAME=VALUE|FILE",
                    help="the start of a variable minimised over (default zeros)")
    sp.add_argument("--size", action="append", metavar="DIM=N",
                    help="a dimension no value fixes, e.g. the rank k of U*V'")
    sp.add_argument("--bound", action="append", metavar="BOUND",
                    help="a bound on every entry of a variable: 'w >= 0', '0 <= p <= 1'")
    sp.add_argument("--subject-to", action="append", metavar="CONSTRAINT",
                    help="a constraint in the language: 'sum(p) == 1', 'norm2(w)^2 <= 1', 'A*x <= b' "
                         "(an augmented Lagrangian around L-BFGS-B)")
    sp.add_argument("--method", default="auto",
                    help="auto (L-BFGS-B), newton-cg, trust-krylov (Hessian-vector products), newton "
                         "(trust-exact, the dense Hessian)")
    sp.add_argument("--backend", default="numpy",
                    help="numpy (default) or jax: the generated code under jax.jit, float64 (a GPU where JAX has one)")
    sp.add_argument("--tol", type=float, default=1e-8, help="gradient-norm tolerance (default 1e-8)")
    sp.add_argument("--maxiter", type=int, default=10_000, help="most iterations (default 10000)")
    sp.add_argument("--seed", type=int, default=0, help="seed of a random start (only where zero is critical)")
    sp.add_argument("--no-certificate", action="store_true", help="skip the convexity analysis")
    sp.add_argument("-o", "--output", metavar="FILE", help="write the solution: .npz, .npy, .csv or .json")
    sp.add_argument("--format", choices=["text", "json"], default="text")
    sp.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def load(name: str, path: str):
    """A value from a ``.npy`` or ``.csv`` file, named in the error messages by ``--data``."""
    p = Path(path)
    if not p.is_file():
        raise BadValueError(f"--data {name}={path}: no such file")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(p, allow_pickle=False)
        if suffix in (".csv", ".txt"):
            return np.loadtxt(p, delimiter=",", ndmin=2)
    except ValueError as e:
        raise BadValueError(f"--data {name}={path}: cannot read it as numbers ({e})") from None
    raise BadValueError(f"--data {name}={path}: give a .npy or .csv file")


def _value(name: str, text: str):
    from ..cli_args import parse_value

    if text.lower().endswith((".npy", ".csv", ".txt")):
        return load(name, text)
    return parse_value(text, name)


def _write(path: str, result) -> None:
    p = Path(path)
    x = result.x
    suffix = p.suffix.lower()
    if suffix == ".npz":
        np.savez(p, **{n: np.asarray(v) for n, v in x.items()})
    elif suffix == ".json":
        p.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    elif suffix in (".npy", ".csv"):
        if len(x) != 1:
            raise BadValueError(f"-o {path}: {', '.join(x)} are several variables; write them to a .npz or .json")
        (v,) = x.values()
        if suffix == ".npy":
            np.save(p, np.asarray(v))
        else:
            np.savetxt(p, np.atleast_1d(np.asarray(v)), delimiter=",", fmt="%.17g")
    else:
        raise BadValueError(f"-o {path}: write to a .npz, .npy, .csv or .json file")


def run(args) -> int:
    from ..cli_args import assignments, parse_value
    from . import minimize

    if args.output and Path(args.output).suffix.lower() not in (".npz", ".npy", ".csv", ".json"):
        raise BadValueError(f"-o {args.output}: write to a .npz, .npy, .csv or .json file")
    data = {n: load(n, f) for n, f in assignments(args.data, "--data").items()}
    for n, v in assignments(args.set, "--set").items():
        if n in data:
            raise BadValueError(f"{n} is given twice, by --data and by --set")
        data[n] = parse_value(v, n)
    x0 = {n: _value(n, v) for n, v in assignments(args.x0, "--x0").items()} or None
    sizes = {}
    for d, v in assignments(args.size, "--size").items():
        try:
            sizes[d] = int(v)
        except ValueError:
            raise BadValueError(f"--size {d}={v}: a size is a positive integer") from None
    started = time.perf_counter()
    last = [started]

    def progress(k, f, gnorm):
        now = time.perf_counter()
        if not args.quiet and now - started > 1.0 and now - last[0] > 0.5:
            print(f"  iteration {k}: f = {f:.10g}, ‖∇f‖ = {gnorm:.3g}", file=sys.stderr, flush=True)
            last[0] = now

    result = minimize(args.expression, args.wrt, data, x0=x0, bounds=args.bound, constraints=args.subject_to,
                      method=args.method,
                      kinds=assignments(args.kind, "--kind") or None, tol=args.tol, maxiter=args.maxiter,
                      sizes=sizes or None, certify=not args.no_certificate, seed=args.seed, callback=progress, backend=args.backend,
                      _surface="cli")
    if args.output:
        _write(args.output, result)
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        print(result)
        if args.output:
            print(f"  solution written to {args.output}")
    return 0 if result.success else 1
