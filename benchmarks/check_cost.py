"""What an independent ``d.check`` costs (issue 22): every order differenced from f itself
(ricci.finite_differences.mixed_difference, the check since issue 22) against the chained check
it replaced (order k from first differences of ricci's own order k − 1, rebuilt here from the
same public pieces), both at the same point, in this process, interleaved; medians of the time
of one point's comparison (``check_at``), and their ratio.

    python benchmarks/check_cost.py [--repeats 15] [--clock cpu]

``--clock cpu`` times each call by this thread's CPU time (time.thread_time): on a shared
machine the wall clock also counts the time spent waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import ricci  # noqa: E402
from ricci import numeric_check as nc  # noqa: E402


def chained_check_at(d, values, lower):
    """The check before issue 22: level 1 against differences of f, level j ≥ 2 against first
    differences of ricci's order j − 1 (returns the relative error per level)."""
    expr = d.expression
    base = nc.probe(expr, values)

    def accept(moved):
        p = nc.probe(expr, moved)
        return p.problem is None and all(np.array_equal(a, b) for a, b in zip(p.kinks, base.kinks))

    evaluator = nc.ArrayEvaluator(expr, np)
    symmetric = isinstance(d.wrt, str) and expr.variables[d.wrt].kind == "symmetric matrix"
    levels = lower + [d]
    errors = []
    for j, dj in enumerate(levels, start=1):
        g = (lambda v: np.asarray(evaluator(v), dtype=float)) if j == 1 else \
            (lambda v, dd=levels[j - 2]: np.asarray(dd.evaluate(v), dtype=float))
        fd = nc.finite_difference(g, d.wrt, values, symmetric=symmetric and j > 1, accept=accept)
        got = np.asarray(dj.evaluate(values), dtype=float)
        if symmetric and j > 1:
            got = nc.symmetrise_last(got)
        errors.append(nc.relative_error(got, fd.value, nc.FLOOR * max(1.0, fd.magnitude)))
    return errors


def cases():
    rng = np.random.default_rng(0)
    x10 = rng.uniform(-1, 1, 10)
    A = rng.uniform(-1, 1, (6, 10))
    S = rng.uniform(-1, 1, (3, 3))
    S = S @ S.T / 3 + np.eye(3)
    return [
        ("log(sum(exp(x))), n = 10", "log(sum(exp(x)))", "x", None, {"x": x10}),
        ("logistic loss by x, 6×10", "sum(log(1 + exp(A*x)))", "x", None, {"x": x10, "A": A}),
        ("logdet(S), S symmetric 3×3", "logdet(S)", "S", {"S": "symmetric matrix"}, {"S": S}),
    ]


def _fmt(t: float) -> str:
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = ap.parse_args()
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    print("| problem | order | from f (issue 22) | chained (before) | ratio |")
    print("|---|---|---|---|---|")
    for label, text, wrt, kinds, values in cases():
        for order in (1, 2, 3):
            d = ricci.derivative(text, wrt, order, kinds)
            lower = nc._lower_orders(d)
            new = lambda: nc.check_at(d, values, lower, text=False)  # noqa: E731
            old = lambda: chained_check_at(d, values, lower)  # noqa: E731
            r, why = new()
            assert r is not None and max(r.level_errors) < 1e-6, (label, order, why)
            assert max(old()) < 1e-6
            times: dict = {"new": [], "old": []}
            for k in range(args.repeats):  # interleaved, the first of each pair alternating
                for name, run in (("new", new), ("old", old)) if k % 2 == 0 else (("old", old), ("new", new)):
                    t0 = clock()
                    run()
                    times[name].append(clock() - t0)
            a, b = statistics.median(times["new"]), statistics.median(times["old"])
            print(f"| {label} | {order} | {_fmt(a)} | {_fmt(b)} | {a / b:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
