"""What a dense result costs before any calculus: the floor under the 3-D tanh(W x) Jacobian.

Run by hand, never in CI:   python benchmarks/dense_floor.py [--m 200] [--n 300]

The Jacobian of tanh(W x) by W (W m×n) is an (m, m, n) array — 96 MB of float64 at 200×300 —
whose only nonzeros are the m slabs J[i, i, :].  Generated code and the closed form allocate
zeros and write the slabs; torch.func.jacrev writes every entry.  This script times, in one
process and pinned to one core, what producing such an array costs on this machine:

* ``np.zeros + slabs``: what ricci's generated code does (NumPy asks the kernel for
  transparent huge pages on large allocations, so touching one entry per 2 MiB page makes
  the kernel zero the whole page);
* ``np.zeros + one write per 4 KiB page``: every page faulted in (what any dense result pays);
* ``fill resident memory``: a memset of 96 MB already mapped (the memory bandwidth alone);
* ``mmap zeros + slabs``: anonymous memory without huge pages: only the pages written are
  mapped, so producing is cheap — but the cost moves to whoever reads the result first
  (the column ``then J.sum()``), which is why the generated code does not do this.

The acceptance point "4× faster than torch.func" asks for the Jacobian in a quarter of
torch.func's time; where that is below the first two rows, no code that returns a dense
array can meet it on this machine.
"""

from __future__ import annotations

import argparse
import mmap
import os
import statistics
import time

import numpy as np


def _time(make, repeats: int, read: bool = False) -> tuple[float, float]:
    produce, consume = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        J = make()
        t1 = time.perf_counter()
        if read:
            J.sum()
        t2 = time.perf_counter()
        produce.append(t1 - t0)
        consume.append(t2 - t1)
        del J
    return statistics.median(produce), statistics.median(consume)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--m", type=int, default=200)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=40)
    args = ap.parse_args()
    m, n = args.m, args.n
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((m, n)) / np.sqrt(n), rng.standard_normal(n)
    slab = np.einsum("i,j->ij", 1 - np.tanh(W @ x) ** 2, x)
    shape, nbytes = (m, m, n), m * m * n * 8

    def zeros_slabs():
        J = np.zeros(shape)
        np.einsum("aab->ab", J)[...] = slab
        return J

    def zeros_every_page():
        J = np.zeros(shape)
        J.reshape(-1)[:: 4096 // 8] = 1.0
        return J

    resident = np.ones(shape)

    def fill_resident():
        resident.fill(0.0)
        return resident

    def mmap_slabs():
        buf = mmap.mmap(-1, nbytes)
        if hasattr(mmap, "MADV_NOHUGEPAGE"):
            buf.madvise(mmap.MADV_NOHUGEPAGE)
        J = np.frombuffer(buf, dtype=np.float64).reshape(shape)
        np.einsum("aab->ab", J)[...] = slab
        return J

    print(f"(m, m, n) = {shape}: {nbytes / 1e6:.0f} MB of float64, one core, "
          f"medians of {args.repeats}")
    print(f"{'how':40s} {'produce':>10s} {'then J.sum()':>14s}")
    for name, make in [("np.zeros + slabs (generated code)", zeros_slabs),
                       ("np.zeros + one write per 4 KiB page", zeros_every_page),
                       ("fill resident memory", fill_resident),
                       ("mmap zeros + slabs", mmap_slabs)]:
        p, c = _time(make, args.repeats, read=True)
        print(f"{name:40s} {p * 1e3:8.2f} ms {c * 1e3:12.2f} ms")


if __name__ == "__main__":
    main()
