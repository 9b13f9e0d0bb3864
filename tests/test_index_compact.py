"""Compact index notation for higher orders (issue 21, acceptance 2): matrix powers as powers,
the family sum of a split power, symmetrised orbits ``Sym[t]`` and named repeated subterms.

Only the printing changed, so the values are the IR's (checked against finite differences by
``check_derivative``); here the printed notation itself is checked for meaning: the family's
text is built independently and its tensor computed with NumPy's matrix powers, each ``Sym[t]``
is summed over the distinct permutations of its derivative slots (told apart numerically, which
is what "distinct" means to a reader) and compared with the whole tensor, and each name of a
``where`` is evaluated from its matrix text against the subterm it stands for.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest
from helpers import check_derivative, numeric_derivative, random_values

import ricci
from ricci.printing.index import derivative_axes

mpow = np.linalg.matrix_power

#: The issue's higher-order answers and their total text at the start (86,005 characters,
#: benchmarks/RESULTS.md, "Derivation at scale (issue 21)").
HIGHER_ORDERS = [
    ("tr(X^8)", "X", 2), ("tr(X^12)", "X", 2), ("tr(X^16)", "X", 2),
    ("log(sum(exp(x)))", "x", 5), ("log(sum(exp(x)))", "x", 6), ("logdet(X)", "X", 6),
    ("x'*A*x/(x'*B*x)", "x", 5), ("sum(sigmoid(W3*sigmoid(W2*sigmoid(W1*x))))", "x", 3),
]
TOTAL_BEFORE = 86_005


def _kinds(expression: str) -> dict:
    return {n: "matrix" for n in ("X", "A", "B", "W1", "W2", "W3") if n in expression}


def _scaled(expression: str, seed: int = 0) -> dict:
    values = random_values(expression, _kinds(expression), seed=seed)
    X = values["X"]
    values["X"] = X / max(abs(np.linalg.eigvals(X)))  # powers of order 1: differences keep digits
    return values


def _family_text(k: int) -> str:
    """The Hessian of tr(X^k) as the notation writes it, from the formula, not from ricci."""
    return f"∂^2f/∂X_ij∂X_kl = Σ_{{r=0}}^{{{k - 2}}} {k} (X^r)_jk (X^({k - 2}-r))_li"


@pytest.mark.parametrize("k", [4, 8, 16])
def test_the_hessian_of_a_trace_of_a_power_is_one_family_sum(k):
    expression = f"tr(X^{k})"
    values = _scaled(expression)
    X = values["X"]
    # what the text says, read literally: Σ_r k (X^r)_jk (X^(k-2-r))_li at [i, j, k, l]
    said = sum(k * np.einsum("jk,li->ijkl", mpow(X, r), mpow(X, k - 2 - r)) for r in range(k - 1))
    r = check_derivative(expression, "X", kinds=_kinds(expression), values=values, order=2,
                         closed=lambda v: said)
    assert r.d.text == _family_text(k)
    if k == 16:
        assert len(r.d.text) < 400  # acceptance 2


def test_a_power_of_the_inverse_is_a_family_of_the_inverse():
    expression = "tr(X^-3)"
    values = random_values(expression, _kinds(expression), seed=2)
    n = values["X"].shape[0]
    values["X"] = values["X"] + n * np.eye(n)
    Y = np.linalg.inv(values["X"])
    # ∂²tr(X^-3): 3 Σ_{r=1}^{4} (inv(X)^r)_jk (inv(X)^(5-r))_li
    said = sum(3 * np.einsum("jk,li->ijkl", mpow(Y, r), mpow(Y, 5 - r)) for r in range(1, 5))
    r = check_derivative(expression, "X", kinds=_kinds(expression), values=values, order=2,
                         closed=lambda v: said)
    assert r.d.text == "∂^2f/∂X_ij∂X_kl = Σ_{r=1}^{4} 3 (inv(X)^r)_jk (inv(X)^(5-r))_li"


def test_a_chain_inside_a_product_is_a_power():
    # order 3 of tr(X^5): the three-index-pair terms keep their chains as powers
    d = ricci.derivative("tr(X^5)", "X", 3)
    assert "X_ja X_a" not in d.text and "(X^2)_" in d.text
    from ricci.simplify.index_compact import chains
    from ricci.ir import build as B
    from ricci.ir.nodes import Index

    i, j, a, b = (Index(n, "n") for n in ("i", "j", "_a", "_b"))
    X = lambda r, c: B.var("X", (r, c))  # noqa: E731
    found = chains((X(i, a), X(a, b), X(b, j)), (i, j))
    assert [(c.power, c.first, c.last) for c in found] == [(3, i, j)]
    assert chains((X(i, a), X(j, a)), (i, j)) == []  # X X' is no power
    assert chains((X(a, b), X(b, a)), ()) == []  # a closed chain (a trace) is left alone


def _evaluator(d, values):
    from ricci.evaluation import bind_sizes
    from ricci.ir.evaluate import IREvaluator

    variables = d.expression.variables
    arrays, sizes = bind_sizes(variables, values, d.expression.source, d.expression._checked.reasons,
                               unused="ignore", products=d.expression._checked.products)
    natural = {n: (a.reshape(-1) if variables[n].kind == "vector" else a) for n, a in arrays.items()}
    return IREvaluator(natural, sizes)


def _distinct_slot_images(t: np.ndarray, n_f: int, per: int, order: int) -> list:
    """The distinct tensors permuting t's derivative slots gives (numerically distinct)."""
    found = []
    for perm in itertools.permutations(range(order)):
        axes = list(range(n_f)) + [n_f + p * per + q for p in perm for q in range(per)]
        img = np.transpose(t, axes)
        if not any(np.allclose(img, f, rtol=1e-12, atol=1e-14) for f in found):
            found.append(img)
    return found


def _family_value(e, d, values, ev):
    """Σ_{r=lo}^{hi} coef (P^r)_{pair 1} (P^(total-r))_{pair 2} Π others, with NumPy's powers."""
    from ricci.ir.nodes import Var

    P = values[e.base.name] if isinstance(e.base, Var) else np.linalg.inv(values[e.base.arg.name])
    assert isinstance(e.base, Var) or e.base.func == "inv"
    letters = {i: chr(ord("a") + k) for k, i in enumerate(d.out)}
    spec = [letters[e.pairs[0][0]] + letters[e.pairs[0][1]], letters[e.pairs[1][0]] + letters[e.pairs[1][1]]]
    spec += ["".join(letters[i] for i in o.free) for o in e.others]
    rhs = "".join(letters[i] for i in d.out)
    others = [ev.value(o, o.free) for o in e.others]
    return sum(e.coef * np.einsum(",".join(spec) + "->" + rhs, mpow(P, r), mpow(P, e.total - r), *others)
               for r in range(e.lo, e.hi + 1))


@pytest.mark.parametrize("expression, wrt, order", [
    ("logdet(X)", "X", 3), ("logdet(X)", "X", 4), ("log(sum(exp(x)))", "x", 4),
    ("x'*A*x/(x'*B*x)", "x", 3), ("tr(X^5)", "X", 3), ("tr(X^-2)", "X", 3),
])
def test_each_sym_is_the_sum_of_its_distinct_slot_permutations(expression, wrt, order):
    from ricci.display_forms import display
    from ricci.simplify.index_compact import Family, Sym, compact_terms
    from ricci.simplify.rules import display_rules
    from ricci.simplify.symmetry import use_symmetry

    kinds = _kinds(expression)
    values = random_values(expression, kinds, seed=3)
    if "X^" in expression:
        values = _scaled(expression, seed=3) if "-" not in expression else values
        if "-" in expression:
            values["X"] = values["X"] + values["X"].shape[0] * np.eye(values["X"].shape[0])
    d = ricci.derivative(expression, wrt, order, kinds=kinds)
    node = display_rules(use_symmetry(d.node, d.expression), tensor=True)
    assert display(d).text == d.text  # the node printed is this one
    shown = compact_terms(node, derivative_axes(d, d.out)[1])  # Sym[…] whether or not the text is long
    assert any(isinstance(e, (Sym, Family)) for e in shown)
    ev = _evaluator(d, values)
    n_f = len(d.expression.shape)
    per = (len(d.out) - n_f) // order
    total = 0
    for e in shown:
        if isinstance(e, Sym):
            images = _distinct_slot_images(ev.value(e.node, d.out), n_f, per, order)
            assert len(images) == e.size
            total = total + e.coef * sum(images)
        elif isinstance(e, Family):
            total = total + _family_value(e, d, values, ev)
        else:
            total = total + ev.value(e, d.out)
    np.testing.assert_allclose(total, d.evaluate(values), rtol=1e-9, atol=1e-12)
    if order <= 3:
        fd = numeric_derivative(expression, wrt, values, kinds, order=order)
        np.testing.assert_allclose(total, fd, rtol=1e-4, atol=1e-6)


def test_the_sixth_derivative_of_logdet_is_one_orbit():
    # d⁶ logdet = -Σ over the 5! cyclic orders of the six directions of tr(X⁻¹dX …): one term
    d = ricci.derivative("logdet(X)", "X", 6)
    assert d.text.count("Sym[") == 1 and d.text.count("inv(X)") == 6
    assert d.text.split(" = ")[1].startswith("-Sym[")


def test_named_subterms_mean_what_they_name():
    """Each ``name = matrix text`` of the where, evaluated by ricci's language evaluator (not
    the IR), equals the subterm it names in the IR; names are used at least twice."""
    import re

    from ricci.printing import index as P
    from ricci.simplify.rules import display_rules
    from ricci.simplify.symmetry import use_symmetry

    expression = "x'*A*x/(x'*B*x)"
    kinds = _kinds(expression)
    values = random_values(expression, kinds, seed=4)
    d = ricci.derivative(expression, "x", 3, kinds=kinds)
    body, where = d.text.split(" where ")
    binds = [b.split(" = ", 1) for b in where.split(", ")]
    assert binds
    node = display_rules(use_symmetry(d.node, d.expression), tensor=True)
    from ricci.simplify import index_compact

    p = P._Printer(P._names(node, d.out, d), latex=False, d=d, compact=index_compact)
    P._body(p, node, d.out, d)
    ev = _evaluator(d, values)
    chosen = {name: key for key, name in P._NAMED[node][2].items()}
    known = {}
    for name, text in binds:
        # its binding and two uses at least
        assert len(re.findall(rf"(?<![A-Za-z0-9]){name}(?![A-Za-z0-9])", d.text)) >= 3
        assert len(re.findall(rf"(?<![A-Za-z0-9]){name}(?![A-Za-z0-9])", text)) == 0
        source = text
        for earlier, etext in known.items():  # the earlier names written out
            source = re.sub(rf"(?<![A-Za-z0-9]){earlier}(?![A-Za-z0-9])", f"({etext})", source)
        known[name] = source
        got = ricci.parse(source, kinds).evaluate(values)
        # the IR subterm of that text, evaluated by the IR evaluator
        key = chosen[name]
        ir = next(f[0] for k, f in p._forms.items() if isinstance(k, tuple) and f[3] == key)
        r = p._raiser().raise_node(ir)
        idx = tuple(i for i in (r.row, r.col) if i is not None)
        want = ev.value(ir, idx)
        if r.row is None and r.col is not None and np.ndim(got) == 2:
            got = np.ravel(got)
        np.testing.assert_allclose(np.squeeze(got), np.squeeze(want), rtol=1e-10, atol=1e-12)


def test_a_short_answer_is_written_out():
    # under NAMING_FROM characters written out, no Sym and no names: the lecture's answers read
    # as before
    assert ricci.derivative("log(sum(exp(W*x)))", "W", 2).text.count(" where ") == 0
    d = ricci.derivative("tr(X*A*X)", "X", 2, kinds={"X": "matrix", "A": "matrix"})
    assert d.text == "∂^2f/∂X_ij∂X_kl = δ_il A_jk + δ_jk A_li"
    values = random_values("tr(X*A*X)", {"X": "matrix", "A": "matrix"}, seed=5)
    n = values["X"].shape[0]
    said = np.einsum("il,jk->ijkl", np.eye(n), values["A"]) + np.einsum("jk,li->ijkl", np.eye(n), values["A"])
    np.testing.assert_allclose(d.evaluate(values), said, rtol=1e-12)
    assert "Sym[" not in ricci.derivative("logdet(X)", "X", 3).text


def test_the_issues_higher_orders_are_five_times_shorter():
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    lengths = {(e, o): len(ricci.derivative(e, w, o, timeout=600).text) for e, w, o in HIGHER_ORDERS}
    total = sum(lengths.values())
    assert total * 5 <= TOTAL_BEFORE, lengths
    assert lengths[("tr(X^16)", 2)] == len(_family_text(16)) < 400


def test_latex_writes_the_same_notation():
    d = ricci.derivative("tr(X^6)", "X", 2)
    assert d.latex == r"\frac{\partial^{2} f}{\partial X_{ij} \partial X_{kl}} = \sum_{r=0}^{4} 6 (X^{r})_{jk} (X^{4-r})_{li}"
    d = ricci.derivative("logdet(X)", "X", 4)
    assert r"\operatorname{Sym}\left[" in d.latex
    d = ricci.derivative("log(sum(exp(x)))", "x", 5)
    assert r"\quad\text{where } t = " in d.latex and " where t = sum(exp(x))" in d.text


def test_mathml_writes_the_same_notation():
    from ricci.explain import index_form

    d = ricci.derivative("tr(X^6)", "X", 2)
    f = index_form(d)
    assert f.text == d.text
    assert "<mo>∑</mo>" in f.mathml and "<mi>r</mi>" in f.mathml
    d = ricci.derivative("logdet(X)", "X", 4)
    f = index_form(d)
    assert f.text.startswith("∂^4f/∂X_ij∂X_kl∂X_pq∂X_rs = -Sym[") and "<mi>Sym</mi>" in f.mathml


def test_the_cli_description_says_what_the_compact_signs_mean():
    # Sym[…] and the family sum are not the input language's: the description (what `ricci diff`
    # prints) says what they mean, once, where the answer uses them, and only there
    long_ = ricci.derivative("logdet(X)", "X", 5)
    family = ricci.derivative("tr(X^6)", "X", 2)
    plain = ricci.derivative("x'*A*x", "x", 2)
    assert "Sym[" in long_.text and "Σ_{r=" in family.text
    assert long_.describe().count("Sym[t]:") == 1 and "Σ_{r=a}^{b} t:" not in long_.describe()
    assert family.describe().count("Σ_{r=a}^{b} t:") == 1 and "Sym[t]:" not in family.describe()
    assert "Sym[t]:" not in plain.describe() and "Σ_{r=a}" not in plain.describe()
