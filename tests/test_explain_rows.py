"""Steps of a function whose inner function is a row (x'*A, -z', (x - m)'): the chain rule names
the column e whose transpose the row is.  Before, asking the new transpose e = (row)' for its
type raised a bare KeyError from both methods (30 of 1,088 derivations of
tests/test_determinism.py's corpus at orders 1 and 2)."""

from __future__ import annotations

import numpy as np
import pytest

import ricci

ROWS = [
    ("norm1(-z')", "z", "-z"),
    ("sum(exp((x - m)'))", "x", "x - m"),
    ("norm2(x'*A)^2", "x", "(x'*A)'"),
    ("sum(tanh(x'*W))", "x", "(x'*W)'"),
]


@pytest.mark.parametrize("source, wrt, column", ROWS)
def test_the_steps_of_a_row_inner_function_name_its_column(source, wrt, column):
    d = ricci.derivative(source, wrt)
    text = d.steps().text()
    # the chain rule decomposes once, into the column, and ends at ricci's answer
    assert f", e = {column} ∈" in text
    assert "e''" not in text and "u = e'" not in text
    assert text.rstrip().splitlines()[-2].startswith(f"6. Result: ∂f/∂{wrt} = {d.text} ∈")
    # the answer the steps end at is the derivative: central differences at a random point
    rng = np.random.default_rng(3)
    point = {n: rng.normal(size=(4, 3) if n in ("A", "W") else 4) for n in d.expression.variables}
    h, x0 = 1e-6, point[wrt]
    fd = np.array([(ricci.evaluate(source, {**point, wrt: x0 + h * e})
                    - ricci.evaluate(source, {**point, wrt: x0 - h * e})) / (2 * h) for e in np.eye(x0.size)])
    np.testing.assert_allclose(np.ravel(d.evaluate(point)), np.ravel(fd), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("source, wrt, _", ROWS)
def test_the_differential_method_on_a_row_gives_steps_or_says_why(source, wrt, _):
    d = ricci.derivative(source, wrt)
    try:
        text = d.steps(method="differentials").text()
    except ricci.RicciError as e:  # a rule the method lacks is said, never a KeyError
        assert "no rule" in str(e)
    else:
        assert d.text.replace(" ", "") in text.replace(" ", "")
