"""Every answer's texts (text, LaTeX, index notation, NumPy code) for a broad corpus, as JSON:
the identity check of a change that must not change any answer (a constant-factor cut, a
refactoring of the derivation or the display).

Usage (the old tree against the new one, in separate processes; from the checkout's root):

    git worktree add /tmp/old HEAD
    PYTHONPATH=/tmp/old/src python tools/same_answers.py old.json
    python tools/same_answers.py new.json
    python tools/same_answers.py --diff old.json new.json     # exit 1 if any answer differs

The corpus (602 answers): tests/test_determinism.py's corpus, benchmarks/depth_scaling.py's
families at several sizes (order 1, some at order 2), higher orders, ``tr(X^±k)``, and 300
tools/hunt.py problems (seeds 7 and 11, 150 each).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def corpus() -> list[tuple]:
    """(expression, wrt, order, kinds) of every case, in a fixed order."""
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks"), str(ROOT / "tools")]
    import depth_scaling as ds
    import hunt
    import test_determinism as td

    cases = [tuple(c) for c in td.corpus()]
    for _, (make, wrt, sizes, *_) in sorted(ds.FAMILIES.items()):
        for n in sorted(set(sizes) | {1, 2, 3, 5, 12}):
            cases.append((make(n), wrt, 1, None))
    for n in (1, 2, 3, 5):
        cases.append((ds.tanh_network(n), "x", 2, None))
        cases.append((ds.nested_logdet_inv(n), "X", 2, None))
    for k in (2, 3, 5, 8, 16):
        cases += [(f"tr(X^{k})", "X", 2, None), (f"tr(X^-{k})", "X", 2, None)]
    for k in (24, 33, 64):
        cases += [(f"tr(X^{k})", "X", 1, None), (f"tr(X^-{k})", "X", 1, None)]
    for e, w, o in [("log(sum(exp(x)))", "x", 4), ("logdet(X)", "X", 3), ("x'*A*x/(x'*B*x)", "x", 3),
                    ("sum(sigmoid(W3*sigmoid(W2*sigmoid(W1*x))))", "x", 3), ("x'*inv(A + x*x')*x", "x", 2),
                    ("tr(inv(A + X*B*X'))", "X", 2), ("logdet(inv(X + A) + inv(X + B))", "X", 2)]:
        cases.append((e, w, o, None))
    for seed in (7, 11):
        rng = random.Random(seed)
        gen = hunt.Generator(rng)
        got = 0
        while got < 150:
            try:
                _, text, wrt, order, kinds = hunt.draw(rng, gen, 4)
            except hunt.Reject:
                continue
            if wrt is not None:
                cases.append((text, wrt, order, kinds))
                got += 1
    return cases


def answers() -> dict:
    """The texts of every case of :func:`corpus` (tests/test_determinism.py's ``texts``), a
    crash recorded as that case's answer."""
    cases = corpus()  # puts tests/ on the path
    import test_determinism as td

    return td.texts(cases, crashes=True)


def diff(old_file: str, new_file: str) -> int:
    with open(old_file) as f:
        a = json.load(f)
    with open(new_file) as f:
        b = json.load(f)
    bad = [k for k in a if a[k] != b.get(k)]
    print(f"{len(a)} cases, {len(bad)} differ")
    for k in bad[:20]:
        print("CASE", k)
        for field in sorted(set(a[k]) | set(b.get(k, {}))):
            if a[k].get(field) != b.get(k, {}).get(field):
                print("  ", field, "OLD:", str(a[k].get(field))[:300])
                print("  ", field, "NEW:", str(b.get(k, {}).get(field))[:300])
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    sys.setrecursionlimit(10000)
    if argv[:1] == ["--diff"] and len(argv) == 3:
        return diff(argv[1], argv[2])
    if len(argv) != 1:
        print(__doc__)
        return 2
    out = answers()
    with open(argv[0], "w") as f:
        json.dump(out, f, indent=0, sort_keys=True)
    print(len(out), "cases written to", argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
