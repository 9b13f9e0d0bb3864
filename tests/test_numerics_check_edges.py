"""Issue 22: ``d.check`` at the issue's own rows.  Its reference, finite differences of f read
by the checker's evaluator as written, refused x = [800, 1] for sum(log(1 + exp(x))): exp(800)
is inf there although f is 801.3.  Where f as written is not finite, the reference now reads f
through ricci.evaluate's stable forms (ricci.numeric_check.check_at) — still f, differenced,
never the derivative's evaluator — and the check compares as anywhere else.
"""

from __future__ import annotations

import numpy as np
import pytest

import ricci
from ricci.language.errors import BadValueError

ROWS = [
    ("sum(log(1 + exp(-y.*(X*w))))", "w", {"X": [[1000.0, 0.0], [0.0, 1.0]], "y": [-1.0, 1.0], "w": [1.0, 1.0]}),
    ("sum(log(1 + exp(x)))", "x", {"x": [800.0, 1.0]}),
    ("log(sum(exp(x)))", "x", {"x": [1000.0, 1000.0]}),
]


@pytest.mark.parametrize("text, wrt, values", ROWS, ids=[r[0] for r in ROWS])
def test_the_check_passes_at_the_issue_s_rows(text, wrt, values):
    report = ricci.derivative(text, wrt).check(values)
    assert report, str(report)


@pytest.mark.parametrize("text, wrt, values", ROWS, ids=[r[0] for r in ROWS])
def test_the_check_still_sees_a_wrong_derivative_there(text, wrt, values, monkeypatch):
    # the reference is f's own differences: a derivative 1e-3 off is caught at these points
    d = ricci.derivative(text, wrt)
    right = d.evaluate(values)
    monkeypatch.setattr(type(d), "evaluate", lambda self, v, *a, **k: np.asarray(right) * (1 + 1e-3))
    try:
        report = d.check(values)
    except BadValueError as e:  # a refusal would not be a pass either
        pytest.fail(f"refused: {e}")
    assert not report, str(report)


def test_where_f_itself_is_not_finite_the_check_still_refuses():
    with pytest.raises(BadValueError):
        ricci.derivative("sum(exp(x))", "x").check({"x": [800.0, 1.0]})


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_a_matrix_to_solve_with_that_underflowed_to_0_is_check_finite_s_error(backend):
    # X'*A*X at entries of 1e-340 is 0: NumPy's (PyTorch's) solve raised LinAlgError from inside
    # the generated code; with check_finite it is the FloatingPointError of any other refusal,
    # as d.evaluate refuses with its BadValueError
    if backend == "torch":
        torch = pytest.importorskip("torch")
        to = lambda v: torch.tensor(np.asarray(v, dtype=float))  # noqa: E731
    else:
        to = np.asarray
    d = ricci.derivative("det(X'*A*X)", "X", 1, {"A": "matrix"})
    values = {"X": np.array([[1.0, 2.0], [3.0, 4.0]]) * 1e-170, "A": np.array([[2.0, 0.5], [0.3, 1.0]])}
    with pytest.raises(BadValueError):
        d.evaluate(values)
    f = d.function(backend, check_finite=True)
    with pytest.raises(FloatingPointError, match="singular"):
        f(**{n: to(v) for n, v in values.items()})
    # at ordinary values the same function gives d.evaluate's numbers
    ordinary = {n: v * (1e170 if n == "X" else 1.0) for n, v in values.items()}
    got = f(**{n: to(v) for n, v in ordinary.items()})
    got = got.detach().numpy() if hasattr(got, "detach") else got
    assert np.allclose(got, d.evaluate(ordinary), rtol=1e-12)
