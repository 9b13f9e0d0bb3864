"""No answer gets longer: every derivative text that some tests print, recorded and compared.

Runs the given test files in this process (pytest) and records the text of every derivative
they show (``Derivative.text``), keyed by expression, variable, order and kinds.  ``--save``
writes the record; ``--compare`` reads an earlier one and lists the answers whose length (spaces
not counted) rose or fell, exiting 1 when one rose.  The usual use, around a change to the
display rules:

    python benchmarks/answer_lengths.py --save /tmp/before.json tests/test_cookbook.py …
    # … change the rules …
    python benchmarks/answer_lengths.py --compare /tmp/before.json tests/test_cookbook.py …
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_TESTS = ["tests/test_cookbook.py", "tests/test_lecture.py", "tests/test_readability.py",
                 "tests/test_textbook_forms.py", "tests/test_vocabulary.py", "tests/test_cancellation.py"]


def length(text: str) -> int:
    return len(re.sub(r"\s+", "", text))


class Recorder:
    """A pytest plugin: wraps Derivative.text for the session and keeps each answer shown."""

    def __init__(self):
        self.answers: dict[str, str] = {}

    def pytest_sessionstart(self, session):
        from ricci import derivation

        prop = derivation.Derivative.text
        answers = self.answers

        def text(d):
            t = prop.fget(d)
            kinds = ",".join(f"{n}:{v.kind}" for n, v in sorted(d.expression.variables.items()))
            answers[f"{d.expression.text} | {d.wrt} | {d.order} | {kinds}"] = t
            return t

        self._restore = (derivation.Derivative, prop)
        derivation.Derivative.text = property(text, doc=prop.__doc__)

    def pytest_sessionfinish(self, session):
        cls, prop = self._restore
        cls.text = prop


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", nargs="*", default=DEFAULT_TESTS)
    parser.add_argument("--save", metavar="JSON")
    parser.add_argument("--compare", metavar="JSON")
    args = parser.parse_args(argv)

    import pytest

    rec = Recorder()
    pytest.main(["-q", "-p", "no:cacheprovider", "--no-header", *args.tests], plugins=[rec])
    if args.save:
        pathlib.Path(args.save).write_text(json.dumps(rec.answers, indent=1, sort_keys=True))
        print(f"{len(rec.answers)} answers saved to {args.save}")
    if not args.compare:
        return 0
    before = json.loads(pathlib.Path(args.compare).read_text())
    longer, shorter, same = [], [], 0
    for key, text in sorted(rec.answers.items()):
        if key not in before:
            continue
        old = before[key]
        if length(text) > length(old):
            longer.append((key, old, text))
        elif length(text) < length(old):
            shorter.append((key, old, text))
        else:
            same += 1
    for title, rows in (("shorter", shorter), ("LONGER", longer)):
        for key, old, new in rows:
            print(f"{title}: {key}\n    before ({length(old)}): {old}\n    after  ({length(new)}): {new}")
    print(f"{len(shorter)} shorter, {len(longer)} longer, {same} of the same length "
          f"({len(rec.answers)} answers, {len(before)} before)")
    return 1 if longer else 0


if __name__ == "__main__":
    sys.exit(main())
