"""``ricci.derivative`` of an ``Expression`` (issue 16: parse once, accept an Expression without
re-parsing): the expression is taken as typed, with the kinds it was parsed with.  Without
``kinds`` it re-read its source with none, so a declared symmetric matrix became a general one
(the gradient of x'*S*x was x'*(S + S') instead of 2*x'*S)."""

from __future__ import annotations

import numpy as np

import ricci
import ricci.language.parser as P


def test_a_parsed_expression_keeps_its_declared_kinds():
    e = ricci.parse("x'*S*x", {"S": "symmetric matrix"})
    d = ricci.derivative(e, "x")
    assert d.text == ricci.derivative("x'*S*x", "x", kinds={"S": "symmetric matrix"}).text == "2*x'*S"
    rng = np.random.default_rng(0)
    B = rng.normal(size=(3, 3))
    S, x = B + B.T, rng.normal(size=3)
    np.testing.assert_allclose(d.evaluate({"x": x, "S": S}), 2 * x @ S, rtol=1e-12)


def test_a_parsed_expression_is_not_parsed_again(monkeypatch):
    e = ricci.parse("sum(tanh(W*x))")

    def refuse(*_a, **_k):
        raise AssertionError("parsed again")

    monkeypatch.setattr(P, "parse_text", refuse)
    monkeypatch.setattr("ricci.derivation.parse_text", refuse, raising=False)
    d = ricci.derivative(e, "x")
    assert d.text == "(1 - tanh(W*x).^2)'*W"
