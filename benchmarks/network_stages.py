"""The three stages of one derivation, timed apart: ``ricci.parse``, ``ricci.derivative`` and
``d.text`` of the depth-64 tanh network's gradient (issue 21's acceptance 1: the whole under
100 ms), the depth-32 network and eight levels of ``logdet(X + inv(…))``.

    taskset -c 1 python benchmarks/network_stages.py            # medians of 5, CPU clock, ms

Run it alternately on an old tree (``PYTHONPATH=/tmp/old/src``) and the new one: on a shared
machine the clock moves by a third between runs, so compare rounds, not single figures.
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ricci  # noqa: E402
from depth_scaling import nested_logdet_inv, tanh_network  # noqa: E402

REPEAT = 5


def timed(f):
    start = time.process_time()
    out = f()
    return time.process_time() - start, out


def stages(expression: str, wrt: str) -> tuple:
    """The medians (seconds) of the parse, the derivative of the parsed expression and its text."""
    parse, derive, text = [], [], []
    for _ in range(REPEAT):
        tp, parsed = timed(lambda: ricci.parse(expression))
        td, d = timed(lambda: ricci.derivative(parsed, wrt))
        tt, _ = timed(lambda: d.text)
        parse.append(tp)
        derive.append(td)
        text.append(tt)
    return tuple(statistics.median(v) for v in (parse, derive, text))


def main() -> None:
    for name, expression, wrt in (("tanh64", tanh_network(64), "x"), ("tanh32", tanh_network(32), "x"),
                                  ("ldi8", nested_logdet_inv(8), "X")):
        p, d, t = stages(expression, wrt)
        print(f"{name} parse {1000 * p:.1f} derive {1000 * d:.1f} text {1000 * t:.1f} ms "
              f"(total {1000 * (p + d + t):.1f})", flush=True)


if __name__ == "__main__":
    main()
