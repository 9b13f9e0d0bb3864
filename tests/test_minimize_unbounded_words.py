"""A fast fall to −∞ (f below −10¹²·max(1, |f(x₀)|) during the solve, caught by the objective
before the end-of-solve ray test) says what would give a minimum in the surface's own words too:
``bounds=['x >= ...']`` in Python, ``--bound 'x >= ...'`` on the command line, the side a bound
must close read off the way the variable travelled (f = Σ xᵢ falls as x → −∞: a lower bound)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")  # the solve extra

import ricci  # noqa: E402
from ricci.cli import main  # noqa: E402
from ricci.solve import UnboundedError  # noqa: E402


def test_a_fast_fall_names_a_bound_in_pythons_words():
    with pytest.raises(UnboundedError) as e:
        ricci.minimize("x'*a", "x", {"a": np.ones(3)})
    message = str(e.value)
    assert "unbounded below" in message and "fell to" in message, message  # the objective's path
    assert "bounds=['x >= ...']" in message and "--bound" not in message, message


def test_a_fast_fall_names_the_flag_on_the_command_line(tmp_path, capsys):
    np.savetxt(tmp_path / "a.csv", np.array([[1.0, 1.0, 1.0]]), delimiter=",")
    code = main(["minimize", "x'*a", "--wrt", "x", "--data", f"a={tmp_path / 'a.csv'}"])
    err = capsys.readouterr().err
    assert code == 2 and "unbounded below" in err and "Traceback" not in err
    assert "--bound 'x >= ...'" in err and "bounds=[" not in err, err


def test_a_bounded_variable_gets_no_bound_hint():
    # with a lower bound f = Σ xᵢ has its minimum; an upper bound alone leaves the fall open
    with pytest.raises(UnboundedError) as e:
        ricci.minimize("x'*a", "x", {"a": np.ones(3)}, bounds=["x <= 5"])
    assert "bounds may give one" not in str(e.value), str(e.value)
