"""Round trip: the canonical text of an expression parses back to the same expression.

For random well-typed expressions over the whole language (``ricci.testing.expressions``),
``parse(str(e)) == e`` (same tree, same kinds), the canonical form is a fixed point, and both
texts evaluate to the same, finite numbers at random values (``ricci.testing.values_for``).
500 examples drawn freely, then a few with each construct of the language at the top, so that
every construct (every function of the table included) is certainly met.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ricci
from ricci.functions import ALIASES
from ricci.testing import (
    FEATURES,
    NONSMOOTH,
    TARGETS,
    GeneratedExpression,
    expressions,
    values_for,
)


def check_round_trip(sample: GeneratedExpression, values_strategy_draw) -> None:
    e = ricci.parse(sample.text, sample.kinds)
    canonical = str(e)
    again = ricci.parse(canonical, sample.kinds)
    assert again == e
    assert str(again) == canonical  # the canonical text is a fixed point
    assert again.variables == e.variables  # kinds, dimensions and their sources
    assert again.shape == e.shape
    values = values_strategy_draw(values_for(e))
    original = ricci.evaluate(e, values)
    printed = ricci.evaluate(again, values)
    assert np.shape(original) == np.shape(printed)
    assert np.all(np.isfinite(original))
    np.testing.assert_allclose(printed, original, rtol=1e-12, atol=1e-12)


@settings(max_examples=500, derandomize=True, deadline=None)
@given(expressions(), st.data())
def test_canonical_text_round_trips(sample: GeneratedExpression, data):
    check_round_trip(sample, data.draw)


def _uses(feature: str, text: str) -> bool:
    """Whether ``text`` visibly uses the construct ``feature`` of ricci.testing.FEATURES."""
    called = {ALIASES.get(f, f) for f in re.findall(r"[A-Za-z_][A-Za-z0-9_]*(?=\()", text)}
    if feature.endswith("()"):
        return feature[:-2] in called
    special = {
        "+ -": lambda: " + " in text or " - " in text,
        "unary -": lambda: "-" in text,
        "scalar times": lambda: "*" in text,
        "inner product": lambda: "*" in text,
        "[a; b]": lambda: "[" in text and ";" in text,
        "[a, b]": lambda: "[" in text,
        "diag(matrix)": lambda: "diag" in called,
        "diag(vector)": lambda: "diag" in called,
        "vector(c)": lambda: "vector" in called,
        "matrix(c)": lambda: "matrix" in called,
        "eye I": lambda: re.search(r"\b(eye|I)\b", text) is not None,
        "where": lambda: " where " in text,
    }
    if feature in special:
        return special[feature]()
    return feature in text


@pytest.mark.parametrize("feature", FEATURES)
def test_every_construct_round_trips(feature):
    @settings(max_examples=6, derandomize=True, deadline=None)
    @given(expressions(feature=feature), st.data())
    def round_trip(sample, data):
        assert _uses(feature, sample.text), sample.text
        check_round_trip(sample, data.draw)

    round_trip()


def test_the_features_cover_the_language():
    elementwise = {n for n, f in ricci.functions.FUNCTIONS.items() if f.family == "elementwise"}
    assert {f"{n}()" for n in elementwise} <= set(FEATURES)
    for construct in ("'", ".T", "+ -", "unary -", "*", "@", "/", ".*", "./", ".^", "^", "**",
                      "sum()", "tr()", "norm2()", "norm1()", "det()", "logdet()", "inv()",
                      "diag(vector)", "diag(matrix)", "vector(c)", "matrix(c)", "eye I",
                      "[a; b]", "[a, b]", "where"):
        assert construct in FEATURES


@pytest.mark.parametrize("target", TARGETS)
def test_target_fixes_the_kind_of_the_value(target):
    @settings(max_examples=15, derandomize=True, deadline=None)
    @given(expressions(target=target))
    def check(sample):
        e = ricci.parse(sample.text, sample.kinds)
        t = e.type
        kind = ("scalar" if t.is_scalar else "vector" if t.is_col else
                "row vector" if t.is_row else "matrix")
        assert sample.target == kind == target

    check()


@settings(max_examples=60, derandomize=True, deadline=None)
@given(expressions(target="scalar", max_depth=2), st.data())
def test_values_honour_kinds_and_sizes_differ(sample, data):
    e = ricci.parse(sample.text, sample.kinds)
    values = data.draw(values_for(e))
    sizes: dict = {}
    for name, var in e.variables.items():
        v = values[name]
        if var.kind == "scalar":
            assert isinstance(v, float)
            continue
        assert v.ndim == len(var.dims)
        for dim, n in zip(var.dims, v.shape):
            assert sizes.setdefault(dim, n) == n
        if var.kind == "symmetric matrix":
            np.testing.assert_array_equal(v, v.T)
    assert len(set(sizes.values())) == len(sizes)  # a different size for every dimension
    assert isinstance(ricci.evaluate(e, values), float)


@settings(max_examples=20, derandomize=True, deadline=None)
@given(st.data())
def test_values_for_takes_given_sizes(data):
    e = ricci.parse("y'*A*x + [1, 2]*u")
    values = data.draw(values_for(e, {"m": 6}))
    assert values["A"].shape[0] == 6 and values["y"].shape == (6,)
    assert values["u"].shape == (2,)  # fixed by the literal
    assert values["A"].shape[1] == values["x"].shape[0] not in (2, 6)


def test_the_strategies_reject_bad_arguments():
    with pytest.raises(ValueError):
        expressions(target="tensor")
    with pytest.raises(ValueError):
        expressions(feature="no such construct")
    with pytest.raises(ValueError):
        expressions(target="scalar", feature="inv()")
    with pytest.raises(ValueError):
        expressions(feature="relu()", smooth=True)
    with pytest.raises(ValueError):
        values_for(ricci.parse("x"), {"n": 0})


@settings(max_examples=100, derandomize=True, deadline=None)
@given(expressions(smooth=True))
def test_smooth_expressions_leave_out_the_kinks(sample):
    called = {ALIASES.get(f, f) for f in re.findall(r"[A-Za-z_][A-Za-z0-9_]*(?=\()", sample.text)}
    assert not called & NONSMOOTH
    ricci.parse(sample.text, sample.kinds)
