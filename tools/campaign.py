"""Random-expression differential testing: ricci's derivatives against an oracle, at scale.

    python tools/campaign.py --n 20000 --seed 0 --oracle jax --out campaign-0.jsonl

draws ``--n`` problems (random well-typed expression, a wrt of every kind, order 1 or 2) with
``campaign`` of ``tools/oracle_runs.py`` — deterministic for a seed — and compares ricci's derivative with
JAX's automatic differentiation of the original expression (``--oracle jax``) or with
finite differences (``--oracle fd``).  Every outcome that is not "ok" is written to ``--out``
(one JSON object a line, with the Python lines that reproduce it), then a summary: counts of
outcomes, of wrt kinds, targets and orders, and the coverage of differentiation rules.
Exit status 1 when any outcome is a mismatch, an error or a crash.

JAX compiles each primitive once per shape; ``--jax-cache DIR`` keeps those compilations on
disk, so that chunks of a long campaign run in parallel share them.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import time

#: Outcomes that are failures.  "no point" (no point where the expression is smooth, such as
#: norm2(x - x)) is reported, not a failure.
BAD = ("mismatch", "convention", "text mismatch", "text error", "value mismatch", "error", "crash")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--oracle", choices=["jax", "fd"], default="jax")
    p.add_argument("--orders", default="1,2")
    p.add_argument("--max-depth", type=int, default=3)
    p.add_argument("--out", default=None, help="JSON lines of the outcomes that are not ok")
    p.add_argument("--jax-cache", default=None, help="a folder for JAX's compilation cache")
    args = p.parse_args(argv)

    if args.oracle == "jax" and args.jax_cache:
        import jax

        jax.config.update("jax_compilation_cache_dir", args.jax_cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

    from oracle_runs import RuleCoverage, campaign  # tools/ (this script's folder)

    counts = collections.Counter()
    kinds = collections.Counter()
    started = time.time()
    out = open(args.out, "w") if args.out else None

    def on_outcome(o):
        counts[o.status] += 1
        pr = o.problem
        kinds[("wrt", pr.wrt_kind)] += 1
        kinds[("target", pr.target)] += 1
        kinds[("order", pr.order)] += 1
        kinds[("matrix form", o.matrix_form)] += 1
        if o.detail == "no matrix form":
            kinds[("note", "≤ 2 axes, no matrix form")] += 1
        total = sum(counts.values())
        if o.status != "ok" and out is not None:
            out.write(json.dumps({"status": o.status, "text": pr.text, "wrt": pr.wrt_arg, "order": pr.order,
                                  "kinds": pr.kinds, "seed": pr.seed, "detail": o.detail,
                                  "error": o.error, "reproducer": pr.reproducer(o.oracle)}) + "\n")
            out.flush()
        if total % 500 == 0:
            print(f"{total:6d} problems, {time.time() - started:7.0f} s: {dict(counts)}", flush=True)

    orders = tuple(int(k) for k in args.orders.split(","))
    with RuleCoverage() as coverage:
        campaign(args.n, args.seed, args.oracle, orders, args.max_depth, on_outcome)
    elapsed = time.time() - started
    if out is not None:
        out.close()
    print(f"\n{sum(counts.values())} problems (seed {args.seed}, oracle {args.oracle}) in {elapsed:.0f} s")
    for status, c in counts.most_common():
        print(f"  {status:16s} {c:7d}")
    print("by kind:")
    for key, c in sorted(kinds.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print(f"  {key[0]:12s} {str(key[1]):18s} {c:7d}")
    print("rules hit:")
    print(coverage.report())
    missing = coverage.missing()
    print("rules never hit:", ", ".join(missing) if missing else "none")
    return 1 if any(counts[s] for s in BAD) or missing else 0


if __name__ == "__main__":
    sys.exit(main())
