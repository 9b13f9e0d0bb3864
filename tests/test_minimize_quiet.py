"""ricci.minimize keeps SciPy's internal floating-point warnings off the user's terminal: a
barrier with no minimum (sum(-log(x)), x → ∞) made trlib's subproblem solver (trust-krylov,
which method='auto' picks for a barrier) warn "invalid value encountered in multiply"."""

import warnings

import numpy as np

import ricci


def test_a_barrier_without_a_minimum_ends_unconverged_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = ricci.minimize("sum(-log(x))", "x", sizes={"n": 3}, x0={"x": np.ones(3)}, maxiter=200)
    assert not r.success
    # f fell as the entries grew (no minimum at finite x): checked against f's own formula
    x = r.x["x"]
    assert np.all(x > 1) and abs(r.fun - (-np.log(x).sum())) < 1e-9
