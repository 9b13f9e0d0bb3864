"""Every function of the table, called with the wrong number or the wrong kind of arguments, gets a
clear error (a ``ricci.RicciError`` naming the function and a position), never a Python traceback.

Found by a reviewer: ``softmax()`` reached the table's rewrite of softmax, which read its first
argument without asking whether there was one, and the user saw an ``IndexError``.  The draw below
is every name and alias of the table (so a function added later is covered without a new test)
against argument lists of every length from 0 to 3, with names, numbers and quoted words.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import ricci
from ricci.functions import ALIASES, FUNCTIONS

ARGUMENTS = ("", "x", "X", "2", "'nuc'", "x, 2", "X, 2", "X, 3", "X, x", "X, 'nuc'", "X, 2, 3", "x, X, 2")
NAMES = sorted(FUNCTIONS) + sorted(ALIASES)


@pytest.mark.parametrize("name", NAMES)
def test_every_argument_list_parses_or_is_refused_clearly(name):
    for arguments in ARGUMENTS:
        text = f"{name}({arguments})"
        try:
            ricci.parse(text)
        except ricci.RicciError as e:
            message = str(e)
            assert message.strip(), text
            assert e.span is not None and 0 <= e.span[0] <= e.span[1] <= len(text), (text, e.span)
        # anything else (IndexError, TypeError, ...) fails the test with its traceback


@pytest.mark.parametrize("name, words", [("softmax", "softmax() takes"), ("log_softmax", "log_softmax() takes")])
def test_softmax_without_an_argument_says_what_it_takes(name, words):
    with pytest.raises(ricci.RicciError) as e:
        ricci.parse(f"{name}()")
    assert words in str(e.value)
    assert "softmax(x)" in str(e.value)  # the form that works, in the language's words
    with pytest.raises(ricci.RicciError) as e:  # three: the axis's refusal (tests/test_kron_vec.py)
        ricci.parse(f"{name}(X, 2, 1)")
    assert "1 (each column) or 2 (each row)" in str(e.value)


def test_the_cli_answers_softmax_without_an_argument_in_one_line():
    out = subprocess.run([sys.executable, "-m", "ricci", "diff", "softmax()", "--wrt", "x"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert "softmax() takes" in out.stderr
