"""Derivation at scale (issue 21, acceptance 1): the display's product chains
(``simplify/matrix.py``) grown one factor at a time in work linear in the chain, and each new
product typed (``simplify/mtypes.py``) from its two parts' types.

The work is counted as the lines Python executes in those two modules while the answer is shown
(``sys.settrace``: deterministic, unlike a clock); each shortcut is compared with the walk it
replaces, written here; the answers that go through them are checked against finite differences.
"""

from __future__ import annotations


import numpy as np
import pytest
from helpers import check_derivative, lines_to_show, random_values

import ricci
import ricci.deep
from ricci.simplify import inverses as SI
from ricci.simplify import matrix as SM
from ricci.simplify import mtypes as MT
from ricci.simplify.mtypes import M, Rw


def _tanh_network(depth: int) -> str:
    inner = "x"
    for k in range(1, depth + 1):
        inner = f"tanh(W{k}*{inner})"
    return f"sum({inner})"


def _lines_to_show(monkeypatch, expression: str, wrt: str, only: str | None = None) -> int:
    """Lines executed in simplify/matrix.py, simplify/inverses.py and simplify/mtypes.py by
    ``d.text`` (or in the one function of those named ``only``)."""
    return lines_to_show(monkeypatch, expression, wrt, (SM.__file__, SI.__file__, MT.__file__), only)


@pytest.mark.parametrize("sign", ["", "-"])
def test_a_chain_grown_at_its_right_end_costs_work_linear_in_it(monkeypatch, sign):
    # tr(X^k)'s display multiplies its k - 1 factors one at a time; each product went through
    # build() whole: the identities filtered, the links looked up, the inverses cancelled and
    # the factors checked from the first one, and is_identity() asked of every factor again:
    # 8,444 lines at k = 16, 60,836 at k = 64 (×7.2 for ×4); tr(X^-k) 11,574 and 71,670.
    # Now 6,506 and 26,714 (×4.1); 10,175 and 37,967 (×3.7).
    small = _lines_to_show(monkeypatch, f"tr(X^{sign}16)", "X")
    large = _lines_to_show(monkeypatch, f"tr(X^{sign}64)", "X")
    assert large < 4 ** 1.1 * small, (small, large)


def test_a_new_product_is_typed_from_its_two_parts(monkeypatch):
    # The network's display grows its chain W_L*diag(…)*W_L-1*… at the left end: every link is
    # a new product, and Typing.of() walked down each new link of it when its kind was asked
    # (5,139 lines at depth 8, 46,836 at depth 32: ×9.1 for ×4).  Now each link is typed when
    # it is built, from its two parts' types: of() finds it typed (3,117 and 13,065: ×4.2).
    small = _lines_to_show(monkeypatch, _tanh_network(8), "x", only="of")
    large = _lines_to_show(monkeypatch, _tanh_network(32), "x", only="of")
    assert large < 4 ** 1.2 * small, (small, large)


CASES = [
    ("tr(X^9)", "X"), ("tr(X^-9)", "X"), ("tr(A*X*B*X*C)", "X"), ("x'*A*B*C*D*x", "x"),
    ("tr(inv(X)*A*X*B)", "X"), ("tr(X*inv(X*A)*B)", "X"), ("a'*inv(A*X)*A*X*b", "X"),
    ("sum(tanh(W3*tanh(W2*tanh(W1*x))))", "x"), ("sum(tanh(W3*tanh(W2*tanh(W1*x))))", "W1"),
    ("sum(exp(A*x)) + x'*eye*B*x", "x"), ("logdet(X + inv(X + inv(X)))", "X"),
]


@pytest.mark.parametrize("expression, wrt", CASES)
def test_the_kept_chains_are_what_the_walks_give(monkeypatch, expression, wrt):
    # every shortcut of a kept chain against the walk over the whole chain that it replaces
    MF = SM.MatrixForms
    seen = {"links": 0, "eyes": 0, "plain": 0, "cancel": 0}
    build_chain, without_eyes, plain_chain, cancel = (
        MF.build_chain, MF._without_eyes, MF._plain_chain, MF._cancel_inverses)
    link = MT.Typing.link

    def walk_links(self, chain, *key):
        # (the ids of the chain, where build() passes them on, are the chain's)
        assert not key or key[0] is None or key[0] == tuple(map(id, chain))
        got = build_chain(self, chain, *key)
        out = chain[0]
        for f in chain[1:]:
            out = self._links[(id(out), id(f))][2]
        assert out is got
        seen["links"] += 1
        return got

    def walk_eyes(self, chain, *key):
        # (the ids of the chain, where build() passes them on, are the chain's)
        assert not key or key[0] is None or key[0] == tuple(map(id, chain))
        got = without_eyes(self, chain, *key)
        assert [id(c) for c in got] == [id(c) for c in chain if not self.is_identity(c)]
        seen["eyes"] += 1
        return got

    def walk_plain(self, chain, *key):
        # (the ids of the chain, where build() passes them on, are the chain's)
        assert not key or key[0] is None or key[0] == tuple(map(id, chain))
        got = plain_chain(self, chain, *key)
        walked = True
        for k, x in enumerate(chain):
            d = self.decompose(x)
            whole = d.coef == 1.0 and not d.scalars and len(d.chain) == 1 and d.chain[0] is x
            walked = walked and whole and (k == 0 or self.kind(x) in (Rw, M))
        assert got == walked
        seen["plain"] += 1
        return got

    def walk_cancel(self, chain, *key):
        # (the ids of the chain, where build() passes them on, are the chain's)
        assert not key or key[0] is None or key[0] == tuple(map(id, chain))
        got = cancel(self, chain, *key)
        state = ()
        for c in chain:
            state, _ = self._cancel_step(state, c)
        assert got == (list(state) if state or not chain else [self.identity()])
        seen["cancel"] += 1
        return got

    def typed_as_of_types_it(self, a):
        link(self, a)
        got = self._memo.get(id(a))
        if got is not None:  # the type of a fresh Typing, walking a's whole tree
            fresh = MT.Typing(self.expr)
            fresh.names = dict(self.names)
            assert fresh.of(a) == got[1]

    monkeypatch.setattr(MF, "build_chain", walk_links)
    monkeypatch.setattr(MF, "_without_eyes", walk_eyes)
    monkeypatch.setattr(MF, "_plain_chain", walk_plain)
    monkeypatch.setattr(MF, "_cancel_inverses", walk_cancel)
    monkeypatch.setattr(MT.Typing, "link", typed_as_of_types_it)
    for order in (1, 2):
        try:
            d = ricci.derivative(expression, wrt, order)
        except ricci.RicciError:
            continue
        assert d.text
    assert seen["links"] and seen["cancel"]


@pytest.mark.parametrize("expression, wrt", CASES)
def test_the_answers_through_the_chains_are_right(expression, wrt):
    if expression.startswith("tr(X^"):
        k = int(expression[5:-1])
        values = random_values("tr(X)", {"X": "matrix"}, seed=3)
        n = values["X"].shape[0]
        values["X"] = values["X"] / n + np.eye(n)  # powers neither vanish nor blow up
        mp = np.linalg.matrix_power
        closed = (lambda v: k * mp(v["X"], k - 1).T) if k > 0 else (
            lambda v: k * mp(np.linalg.inv(v["X"]), 1 - k).T)
        check_derivative(expression, "X", kinds={"X": "matrix"}, values=values, closed=closed)
        return
    check_derivative(expression, wrt, seed=4)
