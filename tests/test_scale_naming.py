"""Derivation at scale (issue 21, acceptance 1): naming the repeated subterms of an answer
(``… where t = tanh(W1*x), t2 = tanh(W2*t)``, ``ricci.simplify.naming``) costs about the same
per name at any depth.

Before, every name ranked every repeated class again and broke a tie by walking the answer to
the tied classes: a depth-d network's gradient gets d − 1 names, and the work grew as d² (lines
run in naming: 33,794 at depth 16, 423,750 at depth 64, 12.5 times).  Now the classes are ranked
once in a heap updated where a name changes counts and sizes, and the walk's places are kept up
to date (``ricci.simplify.naming_order``).  The work is counted here, never timed; the names
chosen are compared with the former algorithm, kept as a slow reference in
tests/naming_reference.py, and a few named answers checked against finite differences.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import ricci
import ricci.simplify.matrix as MM
from helpers import check_derivative, lines_to_show
from helpers import network as _network
from ricci.printing.text import to_text
from ricci.simplify import naming

import naming_reference

# naming and the walk order it keeps (absent before: then naming alone)
FILES = [str(pathlib.Path(naming.__file__).with_name(f)) for f in ("naming.py", "naming_order.py")]


def _nested(levels: int) -> str:
    inner = "X"
    for _ in range(levels):
        inner = f"X + inv({inner})"
    return f"logdet({inner})"


def test_naming_costs_about_the_same_per_name_at_any_depth(monkeypatch):
    # depth 16 against 64: 4 times the names (15 → 63) and the answer; linear work is 4 times,
    # n·log2(n) 6 times (the names split the network's levels in halves: each name moves what
    # it holds, half the levels left between its neighbours); quadratic was 12.5 times
    small = lines_to_show(monkeypatch, _network(16, tag="a"), "x", FILES)
    large = lines_to_show(monkeypatch, _network(64, tag="b"), "x", FILES)
    assert large <= 5.5 * small, (small, large)


CASES = [
    (_network(1), "x", 1), (_network(3), "x", 1), (_network(5), "x", 1), (_network(8), "x", 1),
    (_network(13), "x", 1), (_network(24), "x", 1), (_network(3, f="sigmoid"), "x", 1),
    (_network(3, f="sigmoid"), "x", 2), (_network(3), "x", 2), ("sum(tanh(W2*tanh(W1*X)))", "X", 1),
    ("sum(sigmoid(W2*sigmoid(W1*X)))", "X", 1),
    (_nested(1), "X", 1), (_nested(2), "X", 1), (_nested(3), "X", 1), (_nested(4), "X", 1),
    (_nested(7), "X", 1),
    ("log(sum(exp(x)))", "x", 2), ("log(sum(exp(W*x)))", "x", 2), ("exp(W*x)/sum(exp(W*x))", "x", 1),
    ("x'*A*x/(x'*B*x)", "x", 2), ("x'*inv(A + x*x')*x", "x", 2), ("tr(inv(A + X*B*X'))", "X", 1),
    ("logdet(inv(X + A) + inv(X + B))", "X", 1), ("x1*exp(x1*x2^2)", ["x1", "x2"], 2),
    ("lambda_max(S)", "S", 1),
    (" + ".join(f"(x - m{i})'*A{i}*(x - m{i})" for i in range(1, 9)), "x", 1),
]


@pytest.mark.parametrize("expression, wrt, order", CASES)
def test_the_names_are_the_former_algorithms(monkeypatch, expression, wrt, order):
    # every call of the display's naming compared with the former algorithm on the same input:
    # the same named answer and the same bindings, in the same order (text for text)
    real = MM.name_repeats
    seen = []

    def both(forms, tree, taken, *args, **kwargs):
        before = set(taken)
        ref_tree, ref_bindings = naming_reference.name_repeats(forms, tree, set(taken), *args, **kwargs)
        got_tree, got_bindings = real(forms, tree, taken, *args, **kwargs)
        ref = (to_text(ref_tree), [(n, to_text(e)) for n, e in ref_bindings])
        got = (to_text(got_tree), [(n, to_text(e)) for n, e in got_bindings])
        seen.append((ref, got, before))
        return got_tree, got_bindings

    monkeypatch.setattr(MM, "name_repeats", both)
    kinds = {"S": "symmetric"} if "lambda" in expression else None
    assert ricci.derivative(expression, wrt, order, kinds, timeout=600).text
    assert seen, "naming was not asked"
    for ref, got, _ in seen:
        assert got == ref


def test_the_comparison_sees_names():
    # the cases above are not all trivial: most get names, some several, some ties
    named = 0
    for expression, wrt, order in CASES:
        text = ricci.derivative(expression, wrt, order, {"S": "symmetric"} if "lambda" in expression else None).text
        named += " where " in text
    assert named >= len(CASES) // 2, named


def test_the_places_kept_are_the_whole_walks(monkeypatch):
    # after every name the kept walk order (walked at the first name, not the first tie) is the
    # order a whole children-first walk of the answer as it reads now gives
    real = naming._View.name
    checked = [0]

    def name(view, b, label):
        view.place(b)  # the walk from the first name on
        changed = real(view, b, label)
        assert view.order.keys() == view.postorder(view.roots)
        checked[0] += 1
        return changed

    monkeypatch.setattr(naming._View, "name", name)
    for expression, wrt, order in [(_network(12, tag="p"), "x", 1), (_nested(5), "X", 1),
                                   (_network(3, tag="q", f="sigmoid"), "x", 2), (_nested(2), "X", 2),
                                   ("logdet(inv(X + A) + inv(X + B))", "X", 2)]:
        assert ricci.derivative(expression, wrt, order, timeout=600).text
    assert checked[0] >= 20, checked


def _network_by_differences(depth: int, values: dict, f) -> np.ndarray:
    def value(x):
        for k in range(1, depth + 1):
            x = f(values[f"W{k}"] @ x)
        return x.sum()

    x, h = values["x"], 1e-6
    return np.array([(value(x + h * e) - value(x - h * e)) / (2 * h) for e in np.eye(x.size)])


@pytest.mark.parametrize("depth, f, npf, names", [(6, "tanh", np.tanh, 5),
                                                  (4, "sigmoid", lambda z: 1 / (1 + np.exp(-z)), 4)])
def test_a_named_network_gradient_is_its_differences(depth, f, npf, names):
    rng = np.random.default_rng(depth)
    n = 3
    values = {f"W{k}": rng.normal(size=(n, n)) / 2 for k in range(1, depth + 1)}
    values["x"] = rng.normal(size=n)
    r = check_derivative(_network(depth, f=f), "x", values=values,
                         closed=lambda v: _network_by_differences(depth, v, npf))
    # named: every level but tanh's last (sigmoid's last is twice in s.*(1 - s))
    assert r.d.text.count(f" = {f}(") == names, r.d.text


def test_a_named_nested_logdet_inv_is_its_differences():
    rng = np.random.default_rng(5)
    n = 4
    X = n * np.eye(n) + rng.standard_normal((n, n))
    r = check_derivative(_nested(5), "X", kinds={"X": "matrix"}, values={"X": X})
    assert "G5 = inv(G4 + X)" in r.d.text, r.d.text
