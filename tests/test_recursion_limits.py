"""No RecursionError inside the documented limits (issue 21): every stage at the limits.

The limits (ricci.limits): 10,000 characters, brackets nested 100 deep, trees 300 levels deep.
Each input below sits at one of them, and goes through every stage: parsing and type checking
(``ricci.parse``), lowering and differentiation (``ricci.derivative``), simplification, raising
and the printers (``d.text``, ``d.latex``, ``d.mathml``, ``d.index_notation``), code generation
(``d.function``) and evaluation (``ricci.evaluate``, ``d.evaluate``), whose numbers are compared
with a closed form.  Before ricci.deep, ``d.text`` of the issue's sum of 248 quadratic forms
raised a bare RecursionError, and ``d.evaluate`` of a product of 300 scalars NumPy's
"too many operands".
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import ricci
from ricci.language.ast import depth
from ricci.language.parser import MAX_DEPTH, MAX_LENGTH, MAX_NESTING, parse_text

#: Generous budgets: these inputs are meant to be large, and the machine may be loaded.
BUDGET = {"timeout": 120}
N = 3  # every dimension's size in the numbers


def _matrices(names, seed=0):
    rng = np.random.default_rng(seed)
    return {n: rng.normal(size=(N, N)) / 2 for n in names}


def _every_stage(expression: str, wrt: str, values: dict):
    """Drive ``expression`` through every stage; return the derivative and its value."""
    ricci.parse(expression)
    d = ricci.derivative(expression, wrt, **BUDGET)
    assert d.text and d.latex and d.mathml and d.index_notation
    got = d.evaluate(values)
    assert np.allclose(d.function("numpy")(**values), got, rtol=1e-10, atol=1e-12)
    ricci.evaluate(expression, values)
    return d, got


def _quadratic_sum(n: int, stem: str = "A", shifted: bool = False) -> str:
    if shifted:
        return " + ".join(f"(x - m{i})'*{stem}{i}*(x - m{i})" for i in range(1, n + 1))
    return " + ".join(f"x'*{stem}{i}*x" for i in range(1, n + 1))


@pytest.mark.parametrize("n, shifted", [(248, False), (166, True)])
def test_the_issues_sums_of_quadratic_forms(n, shifted):
    # The issue's examples (2,865 and 4,653 characters): d.text raised a RecursionError in
    # simplify/matrix.py (kind(), _replace_class()).
    e = _quadratic_sum(n, shifted=shifted)
    A = _matrices([f"A{i}" for i in range(1, n + 1)])
    rng = np.random.default_rng(1)
    x = rng.normal(size=N)
    m = {f"m{i}": rng.normal(size=N) for i in range(1, n + 1)} if shifted else {}
    d, got = _every_stage(e, "x", {"x": x, **A, **m})
    want = sum((x - m.get(f"m{i}", 0.0)) @ (A[f"A{i}"] + A[f"A{i}"].T) for i in range(1, n + 1))
    assert np.allclose(got, want, rtol=1e-10)
    assert d.text.startswith("x'*(A1 + A2 + A3") if not shifted else "(x - m2)'*A2" in d.text


def test_a_sum_of_ten_thousand_characters_at_the_depth_limit():
    stem = "A" + "a" * 22  # names long enough to reach both limits at once
    n = MAX_DEPTH - 3
    e = _quadratic_sum(n, stem)
    assert MAX_LENGTH - 20 < len(e) <= MAX_LENGTH and depth(parse_text(e)) == MAX_DEPTH
    A = _matrices([f"{stem}{i}" for i in range(1, n + 1)])
    x = np.random.default_rng(2).normal(size=N)
    _, got = _every_stage(e, "x", {"x": x, **A})
    assert np.allclose(got, sum(x @ (a + a.T) for a in A.values()), rtol=1e-10)


def test_a_chain_of_products_at_the_depth_limit():
    k = MAX_DEPTH - 3
    e = "x'*" + "*".join(f"A{i}" for i in range(1, k + 1)) + "*x"
    assert depth(parse_text(e)) == MAX_DEPTH
    A = _matrices([f"A{i}" for i in range(1, k + 1)])
    x = np.random.default_rng(3).normal(size=N)
    P = np.linalg.multi_dot([A[f"A{i}"] for i in range(1, k + 1)])
    _, got = _every_stage(e, "x", {"x": x, **A})
    assert np.allclose(got, x @ (P + P.T), rtol=1e-8, atol=1e-300)


def test_a_product_of_three_hundred_scalars():
    # d.evaluate made one np.einsum call of 300 operands: ValueError "too many operands"
    k = MAX_DEPTH
    e = "*".join(f"a{i}" for i in range(1, k + 1))
    values = {f"a{i}": 1.0 + 0.001 * i for i in range(1, k + 1)}
    _, got = _every_stage(e, "a1", values)
    assert got == pytest.approx(np.prod([values[f"a{i}"] for i in range(2, k + 1)]), rel=1e-12)


def test_nested_functions_at_the_bracket_limit_inside_a_sum_at_the_depth_limit():
    inner = "sin(" * (MAX_NESTING - 1) + "a" + ")" * (MAX_NESTING - 1)
    terms = 1
    while depth(parse_text(inner + "".join(f" + b{i}*a" for i in range(1, terms + 1)))) < MAX_DEPTH:
        terms += 1
    e = inner + "".join(f" + b{i}*a" for i in range(1, terms + 1))
    assert depth(parse_text(e)) == MAX_DEPTH
    values = {"a": 0.3, **{f"b{i}": 0.01 * i for i in range(1, terms + 1)}}
    _, got = _every_stage(e, "a", values)
    # d/da of sin^(99)(a): the product of cos of each level
    u, chain = 0.3, 1.0
    for _ in range(MAX_NESTING - 1):
        chain *= np.cos(u)
        u = np.sin(u)
    assert got == pytest.approx(chain + sum(0.01 * i for i in range(1, terms + 1)), rel=1e-10)


@pytest.mark.parametrize("e, want", [
    ("-" * (MAX_DEPTH - 1) + "a", -1.0),  # 299 minus signs: odd
    ("a" + "'" * (MAX_DEPTH - 1), 1.0),   # a scalar transposed 299 times
])
def test_unary_chains_at_the_depth_limit(e, want):
    assert depth(parse_text(e)) == MAX_DEPTH
    _, got = _every_stage(e, "a", {"a": 0.7})
    assert got == want


def test_a_recursion_beyond_the_deep_limit_is_a_limit_error_naming_the_limit():
    from ricci import deep

    def down(k):
        return down(k + 1) + 1

    before = sys.getrecursionlimit()
    with pytest.raises(ricci.LimitError) as info:
        deep.call_deep(down, 0)
    assert f"more than {deep.RECURSION_LIMIT:,} steps deep" in info.value.message
    assert f"limited to {MAX_DEPTH} levels" in info.value.message
    assert sys.getrecursionlimit() == before  # raised only while deep work runs


def test_deep_work_runs_under_the_callers_budget():
    # the deep thread runs in a copy of the caller's context: a budget opened around the call
    # still binds the work (without it this derivation would take seconds and succeed)
    from ricci import limits

    with pytest.raises(ricci.LimitError, match="time budget of 0.01 s"):
        with limits.budget(0.01):
            ricci.derivative("sin(tan(exp(a*b)^a)^b)*cos(sigmoid(a*b^2))^a", "a", 6)


def test_a_call_never_waits_behind_another():
    # a web worker may abandon a call at its deadline; the next calls must not queue behind it,
    # even when more calls hang than deep threads are kept
    import threading

    from ricci import deep

    release = threading.Event()
    hanging = deep.WORKERS + 1
    started = threading.Semaphore(0)

    def hold():
        started.release()
        release.wait(60)
        return "held"

    held = []
    callers = [threading.Thread(target=lambda: held.append(deep.call_deep(hold))) for _ in range(hanging)]
    try:
        for c in callers:
            c.start()
        for _ in range(hanging):
            assert started.acquire(timeout=30)
        answer = []
        asker = threading.Thread(target=lambda: answer.append(ricci.derivative("x'*B*x", "x").text))
        asker.start()
        asker.join(30)  # it does not wait for the held calls (they end only when released)
        assert answer == ["x'*(B + B')"]
    finally:
        release.set()
        for c in callers:
            c.join(60)
    assert held == ["held"] * hanging


def test_the_kind_of_a_long_sum_is_found_without_recursion():
    # the site the issue names (simplify/matrix.py, kind()): a sum of matrices as long as the
    # interpreter's default recursion limit, walked in this (ordinary) thread
    from ricci.language import ast as A
    from ricci.simplify.matrix import MatrixForms

    forms = MatrixForms(ricci.parse("x'*A*x"))
    chain = A.Name("A")
    for _ in range(2 * sys.getrecursionlimit()):
        chain = A.BinOp("+", chain, A.Name("A"))
    assert forms.kind(A.BinOp("*", A.Transpose(A.Name("x")), chain)) == "r"


def test_when_no_thread_can_start_the_work_runs_in_the_callers_thread(monkeypatch):
    # a web worker's memory limit (RLIMIT_AS) counts a thread's reserved stack: starting one may
    # fail, and the call must still be answered (a RecursionError there still a LimitError)
    import threading

    from ricci import deep

    def refuse(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(deep, "_idle", [])
    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert ricci.derivative("x'*B*x", "x").text == "x'*(B + B')"

    def down(k):
        return down(k + 1) + 1

    with pytest.raises(ricci.LimitError, match="steps deep"):
        deep.call_deep(down, 0)
