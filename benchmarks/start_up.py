"""Start-up: ``ricci diff "x'*A*x" --wrt x`` as a whole process against ``python -c "import numpy"``.

Issue 21 asks for the whole command within 2x of importing NumPy alone (ricci needs NumPy, so
that is the floor a command can reach).  Both are run alternately in fresh processes, in one run
of this script, and the ratio of their medians printed: a loaded machine slows both alike.

    python benchmarks/start_up.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def ricci_command() -> list[str]:
    """The installed console script beside this interpreter (a shim such as pyenv's would add
    a shell's start-up), else the same entry point through ``-c``."""
    script = Path(sys.executable).with_name("ricci")
    if script.exists():
        return [str(script)]
    found = shutil.which("ricci")
    if found and Path(found).read_bytes()[:2] == b"#!" and b"python" in Path(found).read_bytes()[:200]:
        return [found]
    return [sys.executable, "-c", "import sys; from ricci.cli import main; sys.exit(main())"]


#: The children may write their bytecode (.pyc), as an installed package has it: with
#: PYTHONDONTWRITEBYTECODE set (as in some CI shells) every run would compile ricci's sources anew.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def seconds(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def measure(runs: int) -> dict:
    diff = ricci_command() + ["diff", "x'*A*x", "--wrt", "x"]
    numpy = [sys.executable, "-c", "import numpy"]
    bare = [sys.executable, "-c", "pass"]
    for cmd in (diff, numpy, bare):  # warm the file-system cache and the .pyc files
        seconds(cmd)
    times: dict = {"diff": [], "numpy": [], "bare": []}
    for _ in range(runs):  # alternately, so that a change in the machine's load hits all three
        times["diff"].append(seconds(diff))
        times["numpy"].append(seconds(numpy))
        times["bare"].append(seconds(bare))
    med = {k: statistics.median(v) for k, v in times.items()}
    med["ratio"] = med["diff"] / med["numpy"]
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    m = measure(runs)
    print(f"medians of {runs} runs each, alternating, fresh processes:")
    print(f"  ricci diff \"x'*A*x\" --wrt x   {m['diff'] * 1000:6.0f} ms")
    print(f"  python -c \"import numpy\"      {m['numpy'] * 1000:6.0f} ms")
    print(f"  python -c \"pass\"              {m['bare'] * 1000:6.0f} ms  (the interpreter alone)")
    print(f"  ratio diff / import numpy      {m['ratio']:6.2f}  (issue 21: at most 2)")


if __name__ == "__main__":
    main()
