"""The same answer on every run (issue 21): no order may depend on ``hash()`` or object identity.

Python salts the hashes of strings per process (``PYTHONHASHSEED``), so a canonical order that
iterates a set of names, or sorts by ``hash``/``id``, gives a different text from run to run.
This test derives a broad corpus — the issue's three Hessians, tests/test_codegen.py's ``ALL``
table (the lecture, the broad cases, the Cookbook), tests/test_lecture.py's rows and a fixed-seed
sample of tools/hunt.py's generator — in one subprocess per seed and compares every text: the
matrix text, the LaTeX, the index notation of tensors and the generated NumPy code.

Run as a script (``python tests/test_determinism.py``), this module prints the corpus's texts as
JSON; the test runs that script under five seeds.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = ("0", "1", "2", "123", "4242")

#: The issue's examples whose Hessian text changed with PYTHONHASHSEED (203, 204 or 219
#: characters; one run named the same scalar twice: c = x'*G'*x, c2 = x'*G*x).
ISSUE = [
    ("x'*inv(A + x*x')*x", "x", 2, None),
    ("tr(inv(A + X*B*X'))", "X", 2, None),
    ("logdet(inv(X + A) + inv(X + B))", "X", 2, None),
]

#: Found later: δ's classes in index notation were named by a tie broken in a set's order, so
#: whether Sym[…] closed changed with the seed (200 or 240 characters; seed 123 wrote it out).
FOUND = [
    ("x*y.T*tan(q) @ (A*tan(0.8*tanh(0.5))) where q = (diag(A)*(x' @ B))'", "A", 2, None),
]

#: How many problems of tools/hunt.py's generator, from a fixed seed.
HUNT_SAMPLE = 60


class _Recorded(Exception):
    pass


def _lecture_rows() -> list:
    """tests/test_lecture.py's rows, collected by running each test with a recorder in place of
    its checker (as tests/test_codegen.py collects the Cookbook)."""
    import test_lecture as tl

    found = []
    real = tl.check_derivative

    def recorder(expression, wrt, *, kinds=None, order=1, **_):
        found.append((expression, wrt, order, kinds))
        raise _Recorded

    tl.check_derivative = recorder
    try:
        for name in sorted(n for n in dir(tl) if n.startswith("test_")):
            try:
                getattr(tl, name)()
            except Exception:  # noqa: BLE001, S110 - the recorder stops each test at its first check
                pass
    finally:
        tl.check_derivative = real
    return found


def _hunt_sample() -> list:
    sys.path.insert(0, str(HERE.parent / "tools"))
    import hunt

    rng = random.Random(21)
    gen = hunt.Generator(rng)
    out = []
    while len(out) < HUNT_SAMPLE:
        try:
            _, text, wrt, order, kinds = hunt.draw(rng, gen, 3)
        except hunt.Reject:
            continue
        if wrt is not None:
            out.append((text, wrt, order, kinds))
    return out


def corpus() -> list:
    from test_codegen import ALL

    cases = list(ISSUE) + FOUND
    cases += [(c["expr"], c["wrt"], c["order"], c["kinds"]) for _, c in sorted(ALL.items())]
    cases += _lecture_rows()
    cases += _hunt_sample()
    return cases


def _case_texts(ricci, expression, wrt, order, kinds) -> dict:
    try:
        d = ricci.derivative(expression, wrt, order, kinds)
        got = {"text": d.text, "latex": d.latex}
        if not d.has_matrix_form:
            got["index"] = d.index_notation
    except ricci.RicciError as e:
        return {"error": str(e)}
    try:  # the generated code names its intermediate values: in the same order too
        got["code"] = d.code("numpy")
    except ricci.RicciError as e:
        got["code"] = f"error: {e}"
    return got


def texts(cases: list | None = None, *, crashes: bool = False) -> dict:
    """Every case's texts, keyed by the case (its repr): text, LaTeX, index notation of tensors,
    NumPy code, or the error's message.  ``cases``: (expression, wrt, order, kinds) of each, this
    file's corpus by default; ``crashes``: any other exception is that case's answer too (a
    comparison of two trees, tools/same_answers.py), not raised."""
    import ricci

    out = {}
    for expression, wrt, order, kinds in corpus() if cases is None else cases:
        try:
            got = _case_texts(ricci, expression, wrt, order, kinds)
        except Exception as e:
            if not crashes:
                raise
            got = {"crash": f"{type(e).__name__}: {e}"}
        out[repr((expression, wrt, order, kinds))] = got
    return out


def _start(seed: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve())], cwd=HERE, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _texts_of(proc: subprocess.Popen) -> dict:
    stdout, stderr = proc.communicate()
    assert proc.returncode == 0, stderr[-3000:]
    return json.loads(stdout)


def test_same_texts_under_five_hash_seeds():
    # two at a time: the processes are independent, and the machine may have few cores
    runs = {}
    for pair in (SEEDS[0:2], SEEDS[2:4], SEEDS[4:]):
        procs = {seed: _start(seed) for seed in pair}
        runs.update({seed: _texts_of(p) for seed, p in procs.items()})
    first = runs[SEEDS[0]]
    assert len(first) > 150, f"the corpus is too small: {len(first)} cases"
    # every issue example gave a result, not an error
    for expression, wrt, order, kinds in ISSUE:
        assert "text" in first[repr((expression, wrt, order, kinds))]
    differ = []
    for seed in SEEDS[1:]:
        for key, got in runs[seed].items():
            if got != first.get(key):
                differ.append(f"{key} under PYTHONHASHSEED={seed}: {got} vs {first.get(key)}")
    assert not differ, f"{len(differ)} texts depend on the hash seed:\n" + "\n".join(differ[:10])


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    json.dump(texts(), sys.stdout, sort_keys=True)
