"""Derivation speed of two source trees in one run: is a change no slower?

    git worktree add /tmp/old <commit>
    python benchmarks/derivation_speed_ab.py /tmp/old/src src --rounds 5

times every case of ``derivation_speed.py`` (the lecture and Cookbook tests' derivations,
``ricci.derivative`` + ``d.text``, each from a fresh parse) with the package of each tree.  Two
versions of one package cannot be imported into one process, so each tree gets a long-lived
worker process, and the driver asks them in turn, case by case (A then B, or B then A, at
random), so that a shared machine's load falls on both alike.  Prints each tree's median over
the cases (of the per-case medians over the rounds) and the median of the per-case ratios
B/A: a ratio ≤ 1.0 is "no slower".
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent

_WORKER = """
import json, statistics, sys, time
sys.path.insert(0, {bench!r})
import derivation_speed as ds
import ricci
cases = ds.collect()
print(json.dumps([repr(c) for c in cases]), flush=True)
clock = time.{clock}
for line in sys.stdin:
    expression, wrt, order, kinds = cases[int(line)]
    times = []
    for _ in range({repeat}):
        t0 = clock()
        ricci.derivative(expression, wrt, order, kinds).text
        times.append(clock() - t0)
    print(statistics.median(times), flush=True)
"""
#: --clock: wall time, or the process's CPU time (all its threads: ricci derives in a thread of its
#: own), which a loaded machine disturbs less
_CLOCKS = {"wall": "perf_counter", "cpu": "process_time"}


def _worker(src: str, repeat: int, clock: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(src).resolve()))
    code = _WORKER.format(bench=str(HERE), repeat=repeat, clock=_CLOCKS[clock])
    return subprocess.Popen([sys.executable, "-c", code], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=HERE.parent)


def _ask(w: subprocess.Popen, k: int) -> float:
    w.stdin.write(f"{k}\n")
    w.stdin.flush()
    return float(w.stdout.readline())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", help="the baseline's src folder (the one holding ricci/)")
    p.add_argument("b", help="the changed tree's src folder")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--repeat", type=int, default=3, help="timings per case and round (their median is kept)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--clock", choices=sorted(_CLOCKS), default="wall")
    args = p.parse_args(argv)
    workers = {"a": _worker(args.a, args.repeat, args.clock), "b": _worker(args.b, args.repeat, args.clock)}
    cases = {s: json.loads(w.stdout.readline()) for s, w in workers.items()}
    if cases["a"] != cases["b"]:
        raise SystemExit("the two trees collected different cases")
    rng = random.Random(args.seed)
    times: dict = {"a": [[] for _ in cases["a"]], "b": [[] for _ in cases["a"]]}
    for _ in range(args.rounds):
        for k in range(len(cases["a"])):
            for side in rng.sample(["a", "b"], 2):
                times[side][k].append(_ask(workers[side], k))
    for w in workers.values():
        w.stdin.close()
        w.wait()
    med = {s: [statistics.median(t) for t in times[s]] for s in times}
    ratios = [b / a for a, b in zip(med["a"], med["b"])]
    ma, mb = statistics.median(med["a"]), statistics.median(med["b"])
    print(f"{len(ratios)} derivations, {args.rounds} rounds, interleaved case by case, {args.clock} clock")
    print(f"A {args.a}: median {ma * 1e3:.3f} ms")
    print(f"B {args.b}: median {mb * 1e3:.3f} ms")
    print(f"ratio of medians B/A {mb / ma:.3f}; median of per-case ratios B/A {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
