"""Fuzz the whole pipeline: any text through ``ricci diff`` gives a result or a RicciError.

    nice python tools/fuzz_pipeline.py --n 100000 --seed 0 --out fuzz-0.jsonl

draws ``--n`` texts from ``tools/fuzz_texts.py`` (token soups, random edits of well-typed
expressions, deep nestings, any unicode), deterministically for a seed, and runs each as
``ricci diff -- TEXT --wrt W [--order K] [--format F] [--kind …] [--check]`` in this process,
with a wrt that the text names (or not), an order from 1 to 3, every output format, now and
then a declared kind and ``--check``.  What counts as a failure, written to ``--out``:

* **crash** — any exception out of ``ricci.cli.main`` (only a RicciError is allowed, which
  ``main`` prints and turns into exit status 2; argparse's own exit is allowed too);
* **status** — an exit status other than 0 (result) or 2 (a RicciError), or 1 from ``--check``
  (a derivative that disagrees with finite differences);
* **hang** — one input running longer than ``--hang`` seconds: faulthandler prints every
  thread's stack and ends the process (so the input is known: it is logged before it runs).

Also reported: the slowest inputs.  Nothing here uses signals or threads in ricci itself; the
derivations are bounded by their own ``timeout`` (ricci.limits).
"""
from __future__ import annotations

import argparse
import contextlib
import faulthandler
import io
import json
import re
import sys
import time
import traceback

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None)
    p.add_argument("--hang", type=float, default=120.0, help="seconds after which one input is a hang")
    p.add_argument("--log", default=None, help="a file to write each input to before it runs")
    args = p.parse_args(argv)

    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    import ricci
    from ricci.cli import main as ricci_main
    from fuzz_texts import fuzz_texts  # tools/ (this script's folder)

    counts = {"inputs": 0, "ok": 0, "ricci error": 0, "usage error": 0, "crash": 0, "status": 0}
    slowest: list = []
    out = open(args.out, "w") if args.out else None
    log = open(args.log, "w") if args.log else None
    started = time.time()

    def record(kind, argv, detail):
        counts[kind] += 1
        if out is not None:
            out.write(json.dumps({"kind": kind, "argv": argv, "detail": detail}) + "\n")
            out.flush()

    @settings(max_examples=args.n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @hypothesis_seed(args.seed)
    @given(fuzz_texts(), st.data())
    def run(text, data):
        names = sorted(set(_NAME.findall(text))) or ["x"]
        wrt = data.draw(st.sampled_from(names + ["x", "A", "a", "x1,x2"]))
        argv = ["diff", "--wrt", wrt]
        if data.draw(st.integers(0, 2)) == 0:
            argv += ["--order", str(data.draw(st.integers(1, 3)))]
        fmt = data.draw(st.sampled_from(["text", "text", "latex", "json", "python"]))
        argv += ["--format", fmt]
        if data.draw(st.integers(0, 9)) == 0:
            argv += ["--kind", f"{data.draw(st.sampled_from(names))}="
                               f"{data.draw(st.sampled_from(['scalar', 'vector', 'matrix', 'symmetric', 'bogus']))}"]
        if data.draw(st.integers(0, 19)) == 0:
            argv += ["--check"]
        argv += ["--", text]
        if log is not None:
            log.write(json.dumps(argv) + "\n")
            log.flush()
        faulthandler.dump_traceback_later(args.hang, exit=True)
        t = time.perf_counter()
        stdout, stderr = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                rc = ricci_main(argv)
        except SystemExit as e:  # argparse: a usage error
            rc = e.code if isinstance(e.code, int) else 2
            counts["usage error"] += 1
            rc = None
        except BaseException as e:  # noqa: BLE001 - a crash is what the fuzzer looks for
            record("crash", argv, f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
            rc = None
        finally:
            faulthandler.cancel_dump_traceback_later()
        elapsed = time.perf_counter() - t
        counts["inputs"] += 1
        slowest.append((elapsed, argv))
        slowest.sort(key=lambda s: -s[0])
        del slowest[10:]
        if rc == 0:
            counts["ok"] += 1
        elif rc == 2:
            counts["ricci error"] += 1
            if not stderr.getvalue().strip():
                record("status", argv, "exit status 2 without a message")
        elif rc is not None:
            record("status", argv, f"exit status {rc}: {stdout.getvalue()[-500:]} {stderr.getvalue()[-500:]}")
        if counts["inputs"] % 2000 == 0:
            print(f"{counts['inputs']:7d} inputs, {time.time() - started:6.0f} s: {counts}", flush=True)

    _ = ricci
    run()
    if out is not None:
        out.close()
    print(f"\n{counts['inputs']} inputs (seed {args.seed}) in {time.time() - started:.0f} s: {counts}")
    print("slowest:")
    for s, argv in slowest:
        print(f"  {s:7.2f} s  {json.dumps(argv)[:160]}")
    return 1 if counts["crash"] or counts["status"] else 0


if __name__ == "__main__":
    sys.exit(main())
