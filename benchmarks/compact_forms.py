"""How many Cookbook answers are exactly the book's compact form (acceptance point 2).

Runs every test of ``tests/test_cookbook.py`` (plain functions, no fixtures), which records in
``COMPACT_FORMS`` whether ``ricci.parse(d.text) == ricci.parse(book_form)`` for each identity
with a book form, and prints "N of M match the book's compact form" with the ones that differ.

    python benchmarks/compact_forms.py [--all]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

TESTS = pathlib.Path(__file__).resolve().parent.parent / "tests"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="list matching forms too")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(TESTS))
    import test_cookbook as cookbook

    tests = [(n, f) for n, f in vars(cookbook).items() if n.startswith("test_") and callable(f)]
    failed = []
    start = time.perf_counter()
    for name, fn in tests:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report every failure, keep going
            failed.append((name, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"))
    elapsed = time.perf_counter() - start

    forms = {entry["test"]: entry for entry in cookbook.COMPACT_FORMS}  # last run per test
    matched = [e for e in forms.values() if e["matches"]]
    width = max((len(e["test"]) for e in forms.values()), default=10)
    print(f"{len(matched)} of {len(forms)} match the book's compact form "
          f"({len(tests)} Cookbook tests, {len(failed)} failing, {elapsed:.1f} s)")
    print()
    for e in forms.values():
        if e["matches"] and not args.all:
            continue
        mark = "=" if e["matches"] else "≠"
        print(f"{mark} {e['test']:<{width}}  book: {e['book']}")
        if not e["matches"]:
            print(f"  {'':<{width}}  ricci: {e['text']}")
    if failed:
        print()
        print("failing tests (their forms are not counted):")
        for name, why in failed:
            print(f"  {name}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
