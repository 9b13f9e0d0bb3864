"""ricci.minimize keeps SciPy's internal floating-point warnings off the user's terminal: a
barrier with no minimum (sum(-log(x)), x → ∞) made trlib's subproblem solver (trust-krylov,
which method='auto' picks for a barrier) warn "invalid value encountered in multiply"."""

import warnings

import numpy as np
import pytest

import ricci
import ricci.solve


def test_a_barrier_without_a_minimum_is_said_without_a_warning():
    # it ended unconverged; the ray test (solve/unbounded.py) now says what it is: -Σ log xᵢ → -∞
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ricci.solve.UnboundedError, match="unbounded below"):
            ricci.minimize("sum(-log(x))", "x", sizes={"n": 3}, x0={"x": np.ones(3)}, maxiter=200)
