"""What the textbook rules cost (issue 17): ricci.derivative + d.text with and without them.

Run by hand: ``python benchmarks/textbook_display.py [--repeat 5]``.  Takes the lecture and
Cookbook expressions (benchmarks/derivation_speed.py's collector) and times each derivation
with the display's textbook rules (simplify/textbook.py, simplify/vocabulary.py) and without
them (the three display rules before issue 17, no folding of bindings, no vocabulary pass),
alternating the two in one process.  Prints the median time per derivative of each and their
ratio, and the median of the per-expression ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import ricci  # noqa: E402
from derivation_speed import collect  # noqa: E402
from ricci import display_forms  # noqa: E402
from ricci.simplify import rules, textbook, vocabulary  # noqa: E402


@contextlib.contextmanager
def without_textbook_rules():
    saved = (rules.RULES, rules.LATE_RULES, textbook.fold_if_shorter, vocabulary.vocabulary)
    rules.RULES = (rules.sigmoid_rule, rules.exp_sigmoid_rule, rules.common_factor_rule)
    rules.LATE_RULES = ()
    textbook.fold_if_shorter = lambda node, bindings, apply: node
    vocabulary.vocabulary = lambda tree, uses: tree
    try:
        yield
    finally:
        rules.RULES, rules.LATE_RULES, textbook.fold_if_shorter, vocabulary.vocabulary = saved


def once(case) -> float:
    expression, wrt, order, kinds = case
    t0 = time.perf_counter()
    d = ricci.derivative(expression, wrt, order, kinds)
    d.text
    return time.perf_counter() - t0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    assert display_forms  # the display imports its rules when called: patched above
    cases = collect()
    on, off = [], []
    for case in cases:
        t_on, t_off = [], []
        for _ in range(args.repeat):
            t_on.append(once(case))
            with without_textbook_rules():
                t_off.append(once(case))
        on.append(statistics.median(t_on))
        off.append(statistics.median(t_off))
    ratios = [a / b for a, b in zip(on, off)]
    print(f"{len(cases)} derivations, median of {args.repeat} runs each, alternating")
    print(f"with the textbook rules:    median {1e3 * statistics.median(on):.2f} ms, total {sum(on):.2f} s")
    print(f"without:                    median {1e3 * statistics.median(off):.2f} ms, total {sum(off):.2f} s")
    print(f"ratio with/without: medians {statistics.median(on) / statistics.median(off):.2f}, "
          f"totals {sum(on) / sum(off):.2f}, median per expression {statistics.median(ratios):.2f}, "
          f"largest {max(ratios):.2f}")
    for r, case, a, b in sorted(zip(ratios, cases, on, off), key=lambda t: -t[0])[:3]:
        print(f"  {r:.2f}  {1e3 * a:.1f} ms vs {1e3 * b:.1f} ms  {case[0]} by {case[1]}, order {case[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
