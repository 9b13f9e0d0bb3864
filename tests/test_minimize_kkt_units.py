"""The KKT residual of a bounded symmetric matrix variable is in the user's units, the entries of
S: the largest |S − clip(S − ∇f, lo, hi)| with ∇f the gradient over the symmetric matrices
(the symmetric part of the partial derivative), not in SciPy's packed coordinates, where an
off-diagonal coordinate is √2·S_ij.

The truth is computed here from r.x["S"] alone: f = ‖S − C‖²_F with C symmetric has the
gradient 2(S − C), written by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")  # the solve extra

import ricci  # noqa: E402

C = np.array([[1.0, -0.5, 0.2], [-0.5, 2.0, 0.3], [0.2, 0.3, -1.0]])
SYM = {"S": "symmetric matrix"}


def _residual(S: np.ndarray) -> float:
    G = 2 * (S - C)
    return float(np.abs(S - np.clip(S - G, 0.0, np.inf)).max())


def test_the_projected_gradient_of_a_bounded_symmetric_variable_is_in_entries_of_S():
    # one iteration: a point that is not yet the solution, so the residual is not zero
    r = ricci.minimize("norm2(S - C)^2", "S", {"C": C}, kinds=SYM, x0={"S": np.full((3, 3), 2.0)},
                       bounds=["S >= 0"], maxiter=1)
    S = r.x["S"]
    assert np.array_equal(S, S.T) and S.min() >= 0
    expected = _residual(S)
    assert expected > 1e-3  # not converged: the units matter
    assert r.kkt_residual == pytest.approx(expected, rel=1e-12)


def test_at_the_solution_the_residual_is_zero_in_any_units():
    r = ricci.minimize("norm2(S - C)^2", "S", {"C": C}, kinds=SYM, x0={"S": np.full((3, 3), 2.0)},
                       bounds=["S >= 0"])
    np.testing.assert_allclose(r.x["S"], np.clip(C, 0, None), atol=1e-8)  # the projection onto S >= 0
    assert r.kkt_residual == pytest.approx(_residual(r.x["S"]), abs=1e-12)
    assert r.kkt_residual <= 1e-8


def test_with_a_general_constraint_the_stationarity_is_in_entries_of_S_too():
    # tr(S) <= 100 is inactive (its multiplier 0): the Lagrangian's stationarity is f's own
    r = ricci.minimize("norm2(S - C)^2", "S", {"C": C}, kinds=SYM, x0={"S": np.full((3, 3), 2.0)},
                       bounds=["S >= 0"], constraints=["tr(S) <= 100"], maxiter=1)
    S = r.x["S"]
    assert r.multipliers["tr(S) <= 100"] == 0 and r.constraint_violation == 0
    expected = _residual(S)
    assert expected > 1e-3
    assert r.kkt_residual == pytest.approx(expected, rel=1e-12)
