"""Issue 16's loose ends in the public API: gradient, jacobian and hessian take the limits that
derivative takes; parse shows only its public keywords."""

from __future__ import annotations

import inspect

import pytest

import ricci
from ricci.language.errors import LimitError


@pytest.mark.parametrize("entry", [ricci.gradient, ricci.jacobian, ricci.hessian])
def test_the_named_derivatives_take_the_limits(entry):
    expression = "x'*A*x" if entry is not ricci.jacobian else "A*x"
    with pytest.raises(LimitError, match="nodes"):
        entry(expression, "x", max_nodes=3)
    d = entry(expression, "x", timeout=30.0, max_nodes=100_000)
    assert d.text == ricci.derivative(expression, "x", 2 if entry is ricci.hessian else 1).text


@pytest.mark.parametrize("entry", [ricci.gradient, ricci.jacobian, ricci.hessian, ricci.derivative])
def test_the_named_derivatives_have_one_signature(entry):
    keywords = inspect.signature(entry).parameters
    assert keywords["timeout"].default == ricci.derivative.__kwdefaults__["timeout"]
    assert keywords["max_nodes"].default == ricci.derivative.__kwdefaults__["max_nodes"]


@pytest.mark.parametrize("module", ["ricci", "ricci.language.expression"])
def test_parse_shows_only_its_public_keywords(module):
    import importlib

    parse = importlib.import_module(module).parse
    assert list(inspect.signature(parse).parameters) == ["expression", "kinds"]
    with pytest.raises(TypeError):
        parse("x'*x", _forced={"x": "scalar"})
    assert parse("x'*A*x", {"A": "symmetric matrix"}).variables["A"].kind == "symmetric matrix"
