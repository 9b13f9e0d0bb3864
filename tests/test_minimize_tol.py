"""``tol`` is the gradient's largest entry at the solution: an absolute figure in f's units, so a
summed loss over many rows may ask for one above 1 (scikit-learn's ``tol=1e-5`` on a mean over
m = 10⁵ rows is ``tol=1`` on the sum).  Only a positive finite number is refused, and the error
names the setting in the surface's words (``tol=`` in Python, ``--tol`` on the command line)."""

import math

import numpy as np
import pytest

pytest.importorskip("scipy")

import ricci
from ricci.cli import main


def _least_squares(m=400, n=5, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    y = X @ rng.standard_normal(n) + rng.standard_normal(m)
    return X, y


@pytest.mark.parametrize("tol", [1.0, 5.0, 40.0])
def test_a_tolerance_above_one_is_the_gradients_largest_entry(tol):
    X, y = _least_squares()
    r = ricci.minimize("norm2(X*w - y)^2", "w", {"X": X, "y": y}, tol=tol, method="L-BFGS-B")
    g = 2 * X.T @ (X @ r.x["w"] - y)  # the gradient by hand, not ricci's
    assert r.success
    assert np.abs(g).max() <= 10 * tol * max(1.0, abs(r.fun))  # ricci's own acceptance (docs/minimize.md)
    exact = np.linalg.lstsq(X, y, rcond=None)[0]
    f_exact = float(np.sum((X @ exact - y) ** 2))
    # a quadratic's excess over its minimum is ½ gᵀH⁻¹g exactly (H = 2XᵀX): the point is where ricci says
    excess = 0.5 * g @ np.linalg.solve(2 * X.T @ X, g)
    assert r.fun - f_exact == pytest.approx(excess, rel=1e-6, abs=1e-9 * f_exact)


@pytest.mark.parametrize("bad", [0, -1.0, math.inf, math.nan, True, "1e-8"])
def test_a_tolerance_that_is_not_positive_and_finite_is_refused_by_its_keyword(bad):
    X, y = _least_squares()
    with pytest.raises(ricci.BadValueError) as e:
        ricci.minimize("norm2(X*w - y)^2", "w", {"X": X, "y": y}, tol=bad)
    assert "tol must be a positive finite number" in str(e.value)
    assert "--tol" not in str(e.value)


def test_the_command_line_names_its_flag(tmp_path, capsys):
    np.savetxt(tmp_path / "a.csv", np.array([[1.0, 2.0, 3.0]]), delimiter=",")
    rc = main(["minimize", "norm2(x - a)^2", "--wrt", "x", "--data", f"a={tmp_path / 'a.csv'}", "--tol", "0"])
    err = capsys.readouterr().err
    assert rc == 2 and "--tol must be a positive finite number" in err
    rc = main(["minimize", "norm2(x - a)^2", "--wrt", "x", "--data", f"a={tmp_path / 'a.csv'}", "--tol", "2"])
    out = capsys.readouterr().out
    assert rc == 0 and "1" in out
