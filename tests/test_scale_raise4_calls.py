"""The raise's constant factor again (issue 21, acceptance 1; after test_scale_raise_calls.py):
raising the depth-64 tanh network's gradient into matrix notation inside ``d.text`` makes a
third fewer Python calls than it did at 482abc4.

What went: the dataclass constructors of the raised tensors (``R``), a product's parts
(``Prod``) and the forms' types (``MType``, ``ChainType``), each a Python-level ``__init__`` or
``__new__`` (now tuples made by tuple's own constructor); the wrapper layers of every raised
node (``raise_node`` → ``_raise`` → ``_mul`` → ``_mul_factored`` → ``_factors``; the common
nodes raised in ``raise_node`` itself), of every chain's inverses (``_cancelled_to``) and of
every leaf taken apart (``decompose`` → ``_decompose``); the same function looked up for every
``tanh(…)`` and ``diag(…)`` typed; and memo reads made through a call where they can be read in
place.  The work is counted (Python calls, deterministic), never timed; the answers the changed
paths make are checked against finite differences and the chain rule in NumPy.
"""

from __future__ import annotations

import pickle
import sys

import pytest

import ricci
import ricci.deep
from ricci.language import ast as A
from helpers import assert_network_text_is_its_gradient, check_derivative
from helpers import network as _network
from test_scale_raise_calls import _raise_calls


def _network_raise_calls(monkeypatch, depth: int) -> int:
    monkeypatch.setattr(ricci.deep._local, "inside", True, raising=False)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    d = ricci.derivative(_network(depth), "x", timeout=600)
    monkeypatch.undo()
    return _raise_calls(monkeypatch, d)


def test_the_raise_of_the_depth_64_network_makes_a_third_fewer_calls(monkeypatch):
    calls = _network_raise_calls(monkeypatch, 64)
    # 20,212 calls at 482abc4 (about 315 per layer of the network), 13,186 after (0.65)
    assert calls < 14_500, calls


def test_the_raise_of_the_depth_32_network_makes_a_third_fewer_calls_too(monkeypatch):
    calls = _network_raise_calls(monkeypatch, 32)
    # 11,584 at 482abc4, 7,835 after (0.68)
    assert calls < 8_600, calls


@pytest.mark.parametrize("expression, wrt", [
    # sums with a constant term, a broadcast one (1 - t.^2) and an identity term distributed or
    # not (_add's and _has_identity_term's constants read in place)
    ("sum(tanh(W*x) + 1)", "x"),
    ("y'*(eye - vector(1)*p')*x + sum(2 - exp(x))", "x"),
    ("log(sum(exp(x)))", "x"),
    # diagonals typed without their lookups, leaves taken apart without _decompose
    ("sum(diag(exp(x))*vector(1, len(x)))", "x"),
    ("sum(diag(tanh(A*x))*B*x)", "x"),
    ("tr(diag(x)*A*diag(x))", "x"),
    # chains of inverses: long, short, grown at either end (_cancel_inverses in one piece)
    ("tr(inv(X)*A*inv(X)*B*X*C)", "X"),
    ("x'*inv(A)*A*B*x", "x"),
    ("tr(A*X*B*X*C*X)", "X"),
    ("tr(X^-3)", "X"),
    # products whose factors are opened (a nested product of three free indices), a Fréchet
    # tensor and a pairing (the special factors read before the rest)
    ("tr(expm(X)*A)", "X"),
    ("vec(A*X*B)'*vec(X)", "X"),
])
def test_the_changed_paths_give_the_finite_differences(expression, wrt):
    check_derivative(expression, wrt, text_has_matrix_form=True)


def test_the_log_sum_exp_hessian_gives_the_finite_differences():
    check_derivative("log(sum(exp(x)))", "x", order=2, text_has_matrix_form=True)


def test_the_depth_48_text_evaluates_to_the_chain_rule():
    assert_network_text_is_its_gradient(48, 3, seed=11)  # the gradient by hand: NumPy alone


def test_the_raised_parts_read_and_pickle_as_the_dataclasses_did():
    from ricci.raise_matrix import R, _r
    from ricci.simplify.mtypes import MType, _mtype
    from ricci.simplify.prods import Prod, new_prod

    a = A.Name("W")
    r = _r((a, "i", "j"))
    assert (r.ast, r.row, r.col) == (a, "i", "j") and r == R(a, "i", "j") and r.indices == {"i", "j"}
    assert repr(r) == "R(ast=Name(name='W'), row='i', col='j')"
    p = new_prod((2.0, [], [a]))
    assert (p.coef, p.scalars, p.chain) == (2.0, [], [a]) and p == Prod(2.0, [], [a]) and p != Prod(1.0, [], [a])
    assert repr(p) == "Prod(coef=2.0, scalars=[], chain=[Name(name='W')])"
    assert _mtype(("m", "n", "n", False)) == MType("m", "n", "n")
    for x in (r, p):
        y = pickle.loads(pickle.dumps(x))
        assert type(y) is type(x) and y == x
