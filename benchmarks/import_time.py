"""How long ``python -c "import ricci"`` takes: the median of 10 runs, each in a fresh process.

``import ricci`` must stay light (issue 2 asks for under 0.2 s): lark, NumPy and the engine are
imported by the first call that needs them.  The interpreter's own start-up (``python -c pass``)
is measured the same way and printed alongside, for reference.

    python benchmarks/import_time.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def median_seconds(code: str, runs: int) -> float:
    """Median wall time of ``python -c code`` over ``runs`` fresh processes."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    median_seconds("import ricci", 1)  # warm the file-system cache and the .pyc files
    ricci = median_seconds("import ricci", runs)
    bare = median_seconds("pass", runs)
    heavy = subprocess.run(
        [sys.executable, "-c",
         "import sys, ricci; print(sorted(m for m in ('numpy', 'lark', 'hypothesis', 'sympy') "
         "if m in sys.modules))"],
        check=True, capture_output=True, text=True).stdout.strip()
    print(f'python -c "import ricci": median of {runs} runs {ricci * 1000:.0f} ms')
    print(f'python -c "pass":         median of {runs} runs {bare * 1000:.0f} ms (interpreter start-up)')
    print(f"heavy modules loaded by import ricci: {heavy}")


if __name__ == "__main__":
    main()
