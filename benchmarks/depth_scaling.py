"""Derivation at scale (issue 21): time and answer size per family, with log-log slopes.

Run by hand: ``python benchmarks/depth_scaling.py [--quick] [--orders] [--wall] [family …]``.
For each family it derives the answer at growing sizes (parse + differentiate + simplify + raise
+ ``d.text``), prints the median CPU time of ``--repeat`` runs and the length of the text, and fits the slope of
log(time) and of log(length) against log(size): 1 is linear, 2 quadratic.  The issue's
acceptance: every time slope at most 1.2, the depth-64 network's gradient and ``tr(X^-64)`` each
under 100 ms.  ``--orders`` adds the total text of the issue's higher-order answers (acceptance:
5x shorter than the 71,000 characters measured when it was filed; the Hessian of ``tr(X^16)``
under 400 characters).

The families:

* ``tanh``: ``sum(tanh(W_L*tanh(… tanh(W_1*x))))`` by x, by depth L;
* ``logdet_inv``: ``logdet(X + inv(X + inv(… X)))`` by X, by the number of levels;
* ``power``: ``tr(X^k)`` by X, by k (and ``tr(X^-k)``);
* ``quadratics``: ``x'*A1*x + … + x'*Ak*x`` by x, by k.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import ricci


def tanh_network(depth: int) -> str:
    inner = "x"
    for k in range(1, depth + 1):
        inner = f"tanh(W{k}*{inner})"
    return f"sum({inner})"


def nested_logdet_inv(levels: int) -> str:
    inner = "X"
    for _ in range(levels):  # levels = the number of inv
        inner = f"X + inv({inner})"
    return f"logdet({inner})"


def power(k: int) -> str:
    return f"tr(X^{k})"


def negative_power(k: int) -> str:
    return f"tr(X^-{k})"


def quadratics(k: int) -> str:
    return " + ".join(f"x'*A{i}*x" for i in range(1, k + 1))


#: name → (expression of the size, variable, sizes, sizes with --quick)
FAMILIES = {
    "tanh": (tanh_network, "x", (8, 16, 32, 64), (8, 16, 32)),
    "logdet_inv": (nested_logdet_inv, "X", (1, 2, 4, 8), (1, 2, 4)),
    "power": (power, "X", (8, 16, 32, 64), (8, 16, 32)),
    "negative_power": (negative_power, "X", (8, 16, 32, 64), (8, 16)),
    "quadratics": (quadratics, "x", (16, 32, 64, 128), (16, 32, 64)),
}

#: The issue's higher-order answers (expression, variable, order).
HIGHER_ORDERS = [
    ("tr(X^8)", "X", 2), ("tr(X^12)", "X", 2), ("tr(X^16)", "X", 2),
    ("log(sum(exp(x)))", "x", 5), ("log(sum(exp(x)))", "x", 6), ("logdet(X)", "X", 6),
    ("x'*A*x/(x'*B*x)", "x", 5), ("sum(sigmoid(W3*sigmoid(W2*sigmoid(W1*x))))", "x", 3),
]


#: The clock: CPU seconds of this process (all its threads), or wall seconds with --wall.  On a
#: shared machine the wall clock mostly measures the neighbours (the same derivation took 1.3 s
#: and 4.5 s an hour apart on the two loaded cores this was written on).
CLOCK = time.process_time


def measure(expr: str, wrt: str, order: int = 1, repeat: int = 3) -> tuple[float, int]:
    """Median seconds to derive and print, and the length of the text."""
    times = []
    for _ in range(repeat):
        t0 = CLOCK()
        text = ricci.derivative(expr, wrt, order=order, timeout=600).text
        times.append(CLOCK() - t0)
    return statistics.median(times), len(text)


def slope(xs, ys) -> float:
    """Least-squares slope of log(ys) against log(xs)."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def run_family(name: str, quick: bool, repeat: int) -> dict:
    make, wrt, sizes, quick_sizes = FAMILIES[name]
    rows = []
    for n in quick_sizes if quick else sizes:
        seconds, chars = measure(make(n), wrt, repeat=repeat)
        rows.append((n, seconds, chars))
        print(f"  {name:>15} {n:>4}: {seconds * 1e3:9.1f} ms {chars:7d} chars", flush=True)
    xs = [r[0] for r in rows]
    return {"rows": rows, "time_slope": slope(xs, [r[1] for r in rows]),
            "text_slope": slope(xs, [r[2] for r in rows])}


def main(argv=None) -> None:
    sys.setrecursionlimit(10_000)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (minutes less)")
    parser.add_argument("--orders", action="store_true", help="also the higher-order answers")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--wall", action="store_true", help="wall-clock time instead of CPU time")
    parser.add_argument("families", nargs="*", default=list(FAMILIES))
    args = parser.parse_args(argv)
    global CLOCK
    CLOCK = time.perf_counter if args.wall else time.process_time
    ricci.derivative(tanh_network(2), "x").text  # warm: the parser and the function table
    results = {name: run_family(name, args.quick, args.repeat) for name in args.families}
    print(f"\n{'family':>15} | {'time slope':>10} | {'text slope':>10}")
    for name, r in results.items():
        print(f"{name:>15} | {r['time_slope']:10.2f} | {r['text_slope']:10.2f}")
    if args.orders:
        print("\nhigher orders:")
        total = 0
        for expr, wrt, order in HIGHER_ORDERS:
            seconds, chars = measure(expr, wrt, order, repeat=1)
            total += chars
            print(f"  {expr:>45} order {order}: {chars:7d} chars ({seconds * 1e3:.0f} ms)", flush=True)
        print(f"  total {total} chars")


if __name__ == "__main__":
    main()
