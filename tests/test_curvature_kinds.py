"""The curvature rules (analysis/curvature.py) read each term of a sum with the problem's
declared kinds: a kind given for a name that the term does not use (another term's ``B``,
``c``) is no reason to call the term "not affine" and give up the proof."""

import numpy as np
import pytest

import ricci


def _sym(rng, n=3):
    a = rng.standard_normal((n, n))
    return (a + a.T) / 2


@pytest.mark.parametrize("expression, kinds", [
    ("lambda_max(X) + tr(B*X)", {"X": "symmetric matrix", "B": "symmetric matrix"}),
    ("lambda_max(X) + c*tr(X)", {"X": "symmetric matrix", "c": "scalar"}),
    ("2*lambda_max(X + B) - c*tr(X)", {"X": "symmetric matrix", "B": "symmetric matrix", "c": "scalar"}),
])
def test_a_kind_declared_for_another_term_keeps_the_proof(expression, kinds):
    c = ricci.analyse(expression, "X", kinds=kinds).convexity
    assert (c.convex, c.concave) == (True, False), c.verdict
    assert c.proof.method == "curvature"
    # the verdict checked independently: midpoint convexity along random segments, the
    # function evaluated by NumPy's eigvalsh, with the other names fixed
    rng = np.random.default_rng(3)
    fixed = {"B": _sym(rng), "c": 0.7}

    def f(x):
        b, s = fixed["B"], fixed["c"]
        if expression.startswith("2*"):
            return 2 * np.linalg.eigvalsh(x + b)[-1] - s * np.trace(x)
        extra = np.trace(b @ x) if "B*X" in expression else s * np.trace(x)
        return np.linalg.eigvalsh(x)[-1] + extra

    for _ in range(50):
        a, b = _sym(rng), _sym(rng)
        assert f((a + b) / 2) <= (f(a) + f(b)) / 2 + 1e-12
