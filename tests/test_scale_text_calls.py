"""The display's constant factor (issue 21, acceptance 1): ``d.text`` of the depth-64 tanh
network's gradient does only the work its text needs.

Before, every ``d.text`` also wrote the answer's LaTeX (``ast_to_latex`` over the whole raised
answer, or ``index_latex`` for a tensor), which ``d.text`` never reads; now the LaTeX is written
on first use of ``d.latex`` (as the index notation already was), under the same budget.  The
work is counted (Python calls, deterministic), never timed; the deferred LaTeX is compared with
one written eagerly from the same display, and the answers are checked against finite
differences.
"""

from __future__ import annotations

import pickle
import sys

import numpy as np

import ricci
import ricci.deep
from helpers import check_derivative, network_values, python_calls
from helpers import network as _network
from ricci.printing.index import index_latex
from ricci.printing.latex import ast_to_latex, size_names
from ricci.simplify import index_compact


def _calls(monkeypatch, d, attribute: str) -> int:
    """Python calls made while reading ``d.<attribute>`` (in this thread: the profile is set here)."""
    got, calls = python_calls(lambda: getattr(d, attribute))
    assert got
    return calls


def test_the_text_of_the_depth_64_network_writes_no_latex(monkeypatch):
    monkeypatch.setattr(ricci.deep._local, "inside", True, raising=False)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    d = ricci.derivative(_network(64), "x", timeout=600)
    monkeypatch.undo()
    text_calls = _calls(monkeypatch, d, "text")
    latex_calls = _calls(monkeypatch, d, "latex")
    # 124,774 calls before (the LaTeX written with every text: about 3,500 of them); the LaTeX
    # read afterwards does that work then, once
    assert text_calls < 124_500, text_calls
    assert latex_calls > 1_000, latex_calls
    again = _calls(monkeypatch, d, "latex")  # written once, then kept
    assert again < 50, again


CASES = [
    ("x'*A*x", "x"),
    ("tr(A*X*B)", "X"),
    ("sum(tanh(W*x))", "x"),
    ("logdet(X)", "X"),
    ("tr(inv(X))", "X"),
    ("norm2(A*x - b)^2", "x"),
    ("sum(exp(x))", "x"),
    ("tr(X'*X)", "X"),
    ("sum(log(1 + exp(A*x)))", "x"),
    ("x'*x*A*x", "x"),
    ("tanh(W*x)", "x"),  # a Jacobian: a matrix
    ("A*X*B", "X"),  # a tensor: index notation
    ("X*X", "X"),
    ("det(X)", "X"),
    ("sum(W*x + b)", "b"),
    ("sum(sin(x)) + x'*vector(1, len(x))", "x"),
    ("log(sum(exp(x)))", "x"),
    ("softmax(x)", "x"),
    ("tr(X^3)", "X"),
    ("sum(sum(X))", "X"),
    ("a*x", "a"),
    (_network(4), "x"),
]


def _eager_latex(d) -> str:
    """The LaTeX as display() wrote it with every text before: from the same raised answer and
    size names, or from index notation where there is no matrix form."""
    shown = d._display
    if shown.matrix is not None:
        with size_names(shown.sizes):
            return ast_to_latex(shown.matrix)
    return index_latex(d.node, d.out, d, index_compact)


def test_the_latex_written_on_first_use_is_the_latex_written_eagerly():
    for expression, wrt in CASES:
        d = ricci.derivative(expression, wrt)
        assert d.text
        assert d._display.latex is None, expression  # not written by d.text
        assert d.latex == _eager_latex(d), expression
        # read first, before the text: the same LaTeX
        first = ricci.derivative(expression, wrt)
        assert first.latex == d.latex, expression
        assert first.text == d.text, expression


def test_a_derivative_pickles_with_its_latex_unwritten_and_writes_it_after():
    d = ricci.derivative("x'*A*x + tanh(W*x)'*x", "x")
    text = d.text
    back = pickle.loads(pickle.dumps(d))
    assert back.text == text
    assert back.latex == d.latex
    tensor = ricci.derivative("A*X*B", "X")
    assert tensor.text
    back = pickle.loads(pickle.dumps(tensor))
    assert back.latex == tensor.latex


def test_the_network_gradient_and_its_text_give_the_finite_differences():
    for depth in (1, 2, 5):
        check_derivative(_network(depth), "x", sizes={"n": 3}, text_has_matrix_form=True)


def test_the_depth_64_text_evaluates_to_the_gradient():
    values, g = network_values(64, 3, seed=3)  # the gradient by hand: NumPy alone
    d = ricci.derivative(_network(64), "x", timeout=600)
    np.testing.assert_allclose(d.evaluate(values), g, rtol=1e-10, atol=1e-13)
    back = ricci.parse(d.text)
    np.testing.assert_allclose(back.evaluate(values), g, rtol=1e-10, atol=1e-13)
