"""examples/minimize.ipynb runs top to bottom and plots the convergence, and the result's
``history`` it plots holds f and ‖∇f‖ at the start and at each iterate.

The notebook asserts its own answers against independent ones (NumPy's least squares, the
logistic gradient written by hand, C⁻¹ for the covariance), so an error in any cell fails here.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scipy")  # the solve extra

import ricci  # noqa: E402

NOTEBOOK = Path(__file__).parent.parent / "examples" / "minimize.ipynb"
LEAST_SQUARES = "norm2(y - Phi*theta)^2"


@pytest.fixture(scope="module")
def lecture():
    rng = np.random.default_rng(3)
    Phi = rng.standard_normal((50, 4))
    y = Phi @ rng.standard_normal(4) + 0.1 * rng.standard_normal(50)
    return Phi, y


@pytest.mark.parametrize("method", ["L-BFGS-B", "Newton-CG", "trust-krylov", "newton"])
def test_history_holds_the_start_and_every_iterate(lecture, method):
    Phi, y = lecture
    seen = []
    theta0 = np.ones(4)
    r = ricci.minimize(LEAST_SQUARES, "theta", {"Phi": Phi, "y": y}, x0={"theta": theta0}, method=method,
                       callback=lambda k, f, g: seen.append((k, f, g)))
    fun, gnorm = np.array(r.history["fun"]), np.array(r.history["grad_norm"])
    assert len(fun) == len(gnorm) == r.nit + 1
    # the start, computed here
    e0 = y - Phi @ theta0
    assert fun[0] == pytest.approx(e0 @ e0, rel=1e-13)
    assert gnorm[0] == pytest.approx(np.linalg.norm(-2 * e0 @ Phi), rel=1e-12)
    # the end: the answer's own numbers; on the way, f never rises (each iterate is accepted,
    # never a rejected trial point of a line search or trust region)
    assert fun[-1] == pytest.approx(r.fun, rel=1e-12, abs=1e-14)
    assert np.all(np.diff(fun) <= 1e-12 * fun[0])
    theta = np.linalg.lstsq(Phi, y, rcond=None)[0]
    assert fun[-1] == pytest.approx(np.sum((y - Phi @ theta) ** 2), rel=1e-9)
    # the callback saw the same numbers
    assert [k for k, _, _ in seen] == list(range(1, r.nit + 1))
    np.testing.assert_array_equal([f for _, f, _ in seen], fun[1:])
    np.testing.assert_array_equal([g for _, _, g in seen], gnorm[1:])


def test_history_with_constraints_is_of_f(lecture):
    Phi, y = lecture
    r = ricci.minimize(LEAST_SQUARES, "theta", {"Phi": Phi, "y": y}, constraints=["sum(theta) == 1"])
    assert len(r.history["fun"]) == r.nit + 1
    theta = r.x["theta"]
    assert r.history["fun"][-1] == pytest.approx(np.sum((y - Phi @ theta) ** 2), rel=1e-10)
    assert r.to_json()["history"]["fun"] == r.history["fun"]  # JSON-ready: plain floats


def test_the_notebook_runs_and_plots_the_convergence():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    pytest.importorskip("jax")  # a cell shows the JAX backend
    stored = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(stored)
    # stored executed: every code cell that shows something has its output saved, plots included
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    assert sum("image/png" in o.get("data", {}) for c in code for o in c.outputs) == 2
    nb = nbformat.read(NOTEBOOK, as_version=4)
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's path migration, not ours
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2  # the two convergence plots
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "global minimum: the problem is convex" in text
