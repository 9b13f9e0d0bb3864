"""Derivation at scale (issue 21, acceptance 1): the raiser's contraction of a product
(``raise_matrix``'s ``_contract``) in work linear in the number of factors, merging the factors
in the same order as the plain scan that counts every index again at each merge.

The work is counted as the lines Python executes in ``raise_matrix.py`` while the answer is
shown (``sys.settrace``: deterministic, unlike a clock); the merges are compared with a plain
scan written here; the answers that go through them are checked against finite differences.
"""

from __future__ import annotations


import numpy as np
import pytest
from helpers import check_derivative, lines_to_show, random_values

import ricci
import ricci.deep
from ricci import raise_matrix as RM
from ricci.raise_matrix import R, Raiser


def _lines_to_show(monkeypatch, expression: str, wrt: str = "X") -> int:
    return lines_to_show(monkeypatch, expression, wrt, (RM.__file__,))


@pytest.mark.parametrize("sign", ["", "-"])
def test_a_chain_is_contracted_in_work_linear_in_its_length(monkeypatch, sign):
    # tr(X^k) by X is k*(X^(k-1))', shown from a product of k - 1 factors X_ab X_bc … that the
    # raiser merges two at a time; each merge counted every factor's indices again and scanned
    # them from the first: 2,341 lines at k = 16, 20,173 at k = 64 (×8.6 for ×4); tr(X^-k)
    # 3,082 and 22,450.  Now 2,510 and 10,526; 3,164 and 12,044.
    small = _lines_to_show(monkeypatch, f"tr(X^{sign}16)")
    large = _lines_to_show(monkeypatch, f"tr(X^{sign}64)")
    assert large < 4 ** 1.2 * small, (small, large)


def _scan_contract(raiser: Raiser, items: list, out: set) -> list:
    """The contraction as the plain scan: at every merge, count which factors carry each index
    (in the order of the factors, a row before a column) and take the first index that a rule
    applies to, the rules in order; the merged factor goes last."""
    items = list(items)
    scalars = []
    while True:
        uses: dict = {}
        for k, r in enumerate(items):
            for i in dict.fromkeys(i for i in (r.row, r.col) if i is not None):
                uses.setdefault(i, []).append(k)
        step = None
        for ix, ks in uses.items():  # 1. a summed index in two factors: a matrix product
            if ix not in out and len(ks) == 2:
                step = ("product", ix, *ks)
                break
        if step is None:  # 2. in three or more, or free in two: a Hadamard product
            for ix, ks in uses.items():
                if len(ks) >= 3 or (ix in out and len(ks) == 2):
                    nested = [(len(items[a].indices | items[b].indices), a, b) for a in ks for b in ks
                              if a < b and (items[a].indices <= items[b].indices
                                            or items[b].indices <= items[a].indices)]
                    if nested:
                        _, a, b = min(nested)
                        step = ("hadamard", ix, a, b)
                        break
        if step is None:  # 3. a summed index in one factor: a sum over it
            step = next((("sum", ix, ks[0], None) for ix, ks in uses.items()
                         if ix not in out and len(ks) == 1), None)
        if step is None and len(items) == 2 and all(len(r.indices) == 1 for r in items):
            step = ("outer", None, 0, 1)  # 4. two vectors: an outer product
        if step is None:
            return items + scalars
        kind, ix, a, b = step
        ra, rb = items[a], (items[b] if b is not None else None)
        if kind == "product":
            merged = raiser._product(ra, rb, ix, out, uses)
        elif kind == "hadamard":
            merged = raiser._hadamard(ra, rb, ix)
        elif kind == "sum":
            merged = raiser._sum_out(ra, ix, out, uses)
        else:
            merged = R(raiser.m.matmul(raiser.orient(ra, ra.row or ra.col, None),
                                       raiser.m.T(raiser.orient(rb, rb.row or rb.col, None))),
                       ra.row or ra.col, rb.row or rb.col)
        items = [r for k, r in enumerate(items) if k not in (a, b)]
        if merged.is_scalar:
            scalars.append(merged)
        else:
            items.append(merged)


CASES = [
    ("tr(X^9)", "X"), ("tr(X^-9)", "X"), ("x'*A*B*C*D*y", "B"), ("x'*A*X*B*X'*C*y", "X"),
    ("x'*diag(u)*A*diag(v)*y", "u"), ("sum(u.*(B*(v.*(D*x))))", "x"), ("sum(u.*(B*(v.*(D*x))))", "D"),
    ("sum(A*x)", "x"), ("(u'*x)*(v'*x)", "x"), ("x'*A*x*(y'*B*y)", "x"), ("sum(tanh(W3*tanh(W2*tanh(W1*x))))", "x"),
    ("sum(tanh(W3*tanh(W2*tanh(W1*x))))", "W2"), ("logdet(X + inv(X + inv(X)))", "X"),
    ("norm2(X - U*V')^2", "U"), ("sum(log(1 + exp(-y.*(X*w))))", "w"), ("x.*(A*x)", "x"),
    ("tr(A*X*B*X')", "X"), ("exp(u'*x)*x", "x"), ("(x'*x)*A*x", "x"),
]


@pytest.mark.parametrize("expression, wrt", CASES)
def test_the_factors_merge_as_the_plain_scan_merges_them(monkeypatch, expression, wrt):
    # every product the display contracts, at orders 1 and 2, is contracted by the plain scan
    # too: the same merges in the same order give the same matrix forms, so every answer's
    # text is what it was
    seen = []
    linear = Raiser._contract

    def both(self, items, out):
        got = linear(self, items, out)
        seen.append(len(items))
        assert got == _scan_contract(self, items, out), (items, out)
        return got

    monkeypatch.setattr(Raiser, "_contract", both)
    for order in (1, 2):
        try:
            d = ricci.derivative(expression, wrt, order, timeout=600)
            d.text, d.index_notation
        except ricci.RicciError:
            assert order == 2  # a third-order tensor with no matrix form, say
    assert seen


@pytest.mark.parametrize("k", [9, 17])
def test_a_long_power_is_still_right(k):
    # the values behind the counts above: k*(X^(k-1))' and -k*(inv(X)^(k+1))', against
    # NumPy's closed forms and finite differences
    values = random_values("tr(X)", {"X": "matrix"}, seed=5)
    n = values["X"].shape[0]
    values["X"] = values["X"] / n + np.eye(n)  # powers neither vanish nor blow up
    mp = np.linalg.matrix_power
    check_derivative(f"tr(X^{k})", "X", kinds={"X": "matrix"}, values=values,
                     closed=lambda v: k * mp(v["X"], k - 1).T)
    check_derivative(f"tr(X^-{k})", "X", kinds={"X": "matrix"}, values=values,
                     closed=lambda v: -k * mp(np.linalg.inv(v["X"]), k + 1).T)


@pytest.mark.parametrize("expression, wrt", [c for c in CASES if not c[0].startswith("tr(X^")])
def test_the_merged_answers_are_right(expression, wrt):
    # each rule of the contraction (products, Hadamard products, sums, outer products) in an
    # answer whose value finite differences check
    check_derivative(expression, wrt, seed=2)
