"""Expression swell: derivation time and answer size for sum(tanh(W_L*tanh(…tanh(W_1*x)))).

Run by hand: ``python benchmarks/depth_scaling.py``.  Prints, for each depth L, the median time
to derive (parse + differentiate + simplify + raise + print) the gradient by x and by W1, the
number of distinct IR nodes of the answer and the length of its text.  Growth should be about
linear in L (issue 3, acceptance 4).
"""

from __future__ import annotations

import statistics
import sys
import time

sys.setrecursionlimit(10_000)

import ricci  # noqa: E402
from ricci.ir.build import count_nodes  # noqa: E402


def chain(depth: int) -> str:
    inner = "x"
    for k in range(1, depth + 1):
        inner = f"tanh(W{k}*{inner})"
    return f"sum({inner})"


def measure(expr: str, wrt: str, repeat: int = 3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        d = ricci.derivative(expr, wrt)
        text = d.text
        times.append(time.perf_counter() - t0)
    return statistics.median(times), count_nodes(d.node), len(text), text


def main(depths=(1, 2, 4, 8, 16, 32)) -> None:
    print(f"{'L':>3} | {'by x: ms':>9} {'nodes':>6} {'chars':>6} | {'by W1: ms':>9} {'nodes':>6} {'chars':>6}")
    for L in depths:
        e = chain(L)
        tx, nx, cx, _ = measure(e, "x")
        tw, nw, cw, _ = measure(e, "W1")
        print(f"{L:>3} | {tx * 1e3:9.1f} {nx:6d} {cx:6d} | {tw * 1e3:9.1f} {nw:6d} {cw:6d}")
    print("\nL = 2, by x:", measure(chain(2), "x")[3])


if __name__ == "__main__":
    main()
