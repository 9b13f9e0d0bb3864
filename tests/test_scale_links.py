"""Derivation at scale (issue 21, acceptance 1): the chain rule's chain in the display, grown at
its left end, in work linear in its length.

The display holds a product left-nested (``A*B*C`` is ``(A*B)*C``), and the gradient of a deep
network is a chain ``(1 - …)'*W64*diag(…)*W63*…*W1`` that the raiser grows at its left end, one
nested product of the IR at a time: each longer chain shared no link with the one before, so
the display built 347, 1,172 and 3,908 links at depth 16, 32 and 64.  Every chain but the last
is read only as the factors of the next product; it is now a ``PendingChain`` (its links built
on first use, ``simplify/pending.py``), typed from its factors' types (``mtypes.ChainType``).

The work is counted (links built, forms typed, lines executed: deterministic, unlike a clock);
the pending chains are compared with the chains built link by link, their types with a fresh
typing's, the answers with those of the display that builds every chain at once, and the
values with finite differences.
"""

from __future__ import annotations

import itertools
import os
import pickle

import pytest
from helpers import check_derivative, count_calls, lines_to_show
from helpers import network as _network

import ricci
import ricci.deep
from ricci.language import ast as A
from ricci.simplify import matrix as SM
from ricci.simplify import mtypes as MT


def _shown_counts(monkeypatch, expression: str, wrt: str) -> tuple[int, int]:
    """(links built, forms typed) while ``d.text`` shows the derivative: each new product link is
    typed once when it is built (Typing.link), every form typed goes through Typing._compose."""
    monkeypatch.setattr(ricci.deep._local, "inside", True, raising=False)
    d = ricci.derivative(expression, wrt, timeout=600)
    links = count_calls(monkeypatch, MT.Typing, "link")
    typed = count_calls(monkeypatch, MT.Typing, "_compose")
    assert d.text
    monkeypatch.undo()
    return links[0], typed[0]


def test_the_chain_rules_chain_costs_links_linear_in_the_depth(monkeypatch):
    # Before: 347 links built and 666 forms typed at depth 16; 3,908 and 5,227 at depth 64
    # (×11.3 and ×7.8 for ×4).  Now 74 and 393; 298 and 1,617 (×4.0 and ×4.1).
    links16, typed16 = _shown_counts(monkeypatch, _network(16), "x")
    links64, typed64 = _shown_counts(monkeypatch, _network(64), "x")
    assert links64 <= 4.5 * links16, (links16, links64)
    assert typed64 <= 4.5 * typed16, (typed16, typed64)


def test_the_lines_that_show_the_chain_grow_linearly(monkeypatch):
    # Lines executed in the display's product and typing modules: 45,171 at depth 16 and
    # 255,137 at depth 64 before (×5.6); 38,654 and 146,729 now (×3.8).
    here = os.path.dirname(SM.__file__)
    files = [os.path.join(here, f) for f in ("matrix.py", "mtypes.py", "inverses.py", "pending.py")]
    small = lines_to_show(monkeypatch, _network(16), "x", files)
    large = lines_to_show(monkeypatch, _network(64), "x", files)
    assert large <= 4.2 * small, (small, large)


CASES = [
    (_network(1), "x"), (_network(2), "x"), (_network(3), "x"), (_network(5), "x"), (_network(9), "x"),
    (_network(4), "W1"), (_network(4), "W2"), (_network(6, f="sigmoid"), "x"), (_network(3, f="sigmoid"), "W1"),
    ("sum(exp(W3*log(1 + exp(W2*tanh(W1*x)))))", "x"), ("x'*A*B*C*D*x", "x"), ("tr(A*X*B*X*C)", "X"),
    ("a'*inv(A*X)*A*X*b", "X"), ("tr(X*inv(X*A)*B)", "X"), ("tr(X^9)", "X"), ("tr(X^-7)", "X"),
    ("logdet(X + inv(X + inv(X)))", "X"), ("sum(exp(A*x)) + x'*eye*B*x", "x"),
    ("log(sum(exp(W2*tanh(W1*x))))", "x"), ("norm2(W3*tanh(W2*tanh(W1*x)) - y)^2", "x"),
]


def _texts(d) -> dict:
    out = {"text": d.text, "latex": d.latex}
    if not d.has_matrix_form:
        out["index"] = d.index_notation
    try:
        out["code"] = d.code("numpy")
    except ricci.RicciError as e:
        out["code"] = f"error: {e}"
    return out


def _eager_chain_product(self, chain, key=None):
    """The product of ``chain`` built link by link at once, what the display did before."""
    out = self.build_chain(chain)
    if id(out) not in self._parts and self._plain_chain(chain):
        self._parts[id(out)] = (out, SM.Prod(1.0, [], list(chain)))
    return out


@pytest.mark.parametrize("expression, wrt", CASES)
def test_the_answers_are_those_of_the_chains_built_at_once(monkeypatch, expression, wrt):
    for order in (1, 2):
        try:
            got = _texts(ricci.derivative(expression, wrt, order))
        except ricci.RicciError:
            continue
        with monkeypatch.context() as m:
            m.setattr(SM.MatrixForms, "_chain_product", _eager_chain_product)
            assert _texts(ricci.derivative(expression, wrt, order)) == got


@pytest.mark.parametrize("expression, wrt", CASES)
def test_every_pending_chain_is_the_chain_built_link_by_link(monkeypatch, expression, wrt):
    made = []
    pending = SM.PendingChain.pending.__func__

    def recording(cls, forms, factors):
        node = pending(cls, forms, factors)
        made.append((node, factors, forms))
        return node

    monkeypatch.setattr(SM.PendingChain, "pending", classmethod(recording))
    for order in (1, 2):
        try:
            d = ricci.derivative(expression, wrt, order)
        except ricci.RicciError:
            continue
        _texts(d)
    if expression.startswith("sum(tanh(W9"):
        assert len(made) > 5  # the network's chain is the case
    for node, factors, forms in made:
        typed = forms.types._memo[id(node)][1]
        assert node.op == "*"
        walked = factors[0]
        for f in factors[1:]:
            walked = A.BinOp("*", walked, f)
        assert node == walked  # builds it
        assert type(node) is A.BinOp
        left, n = node, len(factors)
        while n > 1:  # left-nested over exactly these factors, the same objects
            assert left.right is factors[n - 1]
            left, n = left.left, n - 1
        assert left is factors[0]
        fresh = MT.Typing(forms.expr)
        fresh.names = dict(forms.types.names)
        assert fresh.of(walked) == typed, to_text(walked)


def to_text(a):
    from ricci.printing.text import to_text as text

    return text(a)


_SIDES = (None, 1, "n")
_TYPES = [MT.MType(k, r, c, sq) for k in (MT.C, MT.Rw, MT.M) for r in _SIDES for c in _SIDES
          for sq in (False, True)]


def _fold(types):
    """The type of the left-nested product, link by link (what Typing gives each link)."""
    out = types[0]
    for t in types[1:]:
        out = MT.product_type(out, t)
    return out


def test_a_chain_grown_at_either_end_is_typed_as_its_links_are():
    # every chain of up to two factors after the first that the display takes apart (each
    # factor after the first a row or a matrix), of every kind and side: grown at its left end
    # (grown_left) and at its right end (grown_right), against the link-by-link fold
    later = [t for t in _TYPES if t.kind in (MT.Rw, MT.M)]
    checked = 0
    for n in (1, 2):
        for rest in itertools.product(later, repeat=n):
            c = MT.chain_type(list(rest))
            assert c.type == _fold(list(rest))
            for t in _TYPES:
                grown = MT.grown_left(t, c)
                assert grown is not None
                assert grown == MT.chain_type([t, *rest]), (t, rest)
                assert grown.type == _fold([t, *rest]), (t, rest)
                checked += 1
    assert checked > 10_000
    # a chain with a column after its first factor is not one the shortcut types
    assert MT.grown_left(MT.MType(MT.Rw, 1, "n"), MT.chain_type([MT.MType(MT.M, "n", 1), MT.MType(MT.C, "n", 1)])) is None


def test_an_answer_holds_no_pending_chain_and_one_pickles_built():
    # the answer's tree (d.matrix), as the printers and d.as_expression() read it, has every
    # product built: no node a PendingChain
    d = ricci.derivative(_network(12), "x")
    assert d.text.count("diag(") >= 8
    kinds = {type(n) for n in A.walk(d.matrix)}
    assert A.BinOp in kinds and SM.PendingChain not in kinds
    assert pickle.loads(pickle.dumps(d.matrix)) == d.matrix
    # the web server's workers pickle answers: a pending chain pickles as the BinOp it builds
    node = SM.PendingChain.pending(SM.MatrixForms(ricci.parse("A*B*C")), (A.Name("A"), A.Name("B"), A.Name("C")))
    assert pickle.loads(pickle.dumps(node)) == A.BinOp("*", A.BinOp("*", A.Name("A"), A.Name("B")), A.Name("C"))


def _sizes(expression: str) -> dict:
    """Each dimension a size, neighbours different (a transposed factor would not fit)."""
    dims = list(dict.fromkeys(d for v in ricci.parse(expression).variables.values() for d in v.dims))
    return {d: (3, 4, 2, 5)[k % 4] for k, d in enumerate(dims)}


@pytest.mark.parametrize("expression, wrt", [c for c in CASES if not c[0].startswith("tr(X^")])
def test_the_answers_through_the_pending_chains_are_right(expression, wrt):
    check_derivative(expression, wrt, seed=5, sizes=_sizes(expression))


@pytest.mark.parametrize("depth", [7, 12])
def test_the_deep_networks_gradient_is_right(depth):
    check_derivative(_network(depth), "x", seed=depth, sizes=_sizes(_network(depth)))
