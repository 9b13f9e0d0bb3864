"""A size that no variable fixes, met inside the generated code (a constant sized where it stands:
vector(a) whose length nothing gives): every backend refuses with a CodegenError naming the
dimension, never a KeyError from the printer (found by tools/hunt.py; known_core_bugs.md #1 is the
same refusal for the answer's own shape)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ricci
from ricci.codegen.from_matrix import CodegenError

CASES = [
    ("-C*(W/a)*norm1(vector(a))", "W", 1, {"W": "symmetric matrix"}, "p"),
    ("det(K_2*K_2' + I)*(-a*z.T) where G = vector(a)*y', K_2 = G", "y", 2, None, "m"),
]


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch", "array_api"])
@pytest.mark.parametrize("expression, wrt, order, kinds, dim", CASES)
def test_an_unfixed_size_inside_the_code_is_a_clear_refusal(expression, wrt, order, kinds, dim, backend):
    d = ricci.derivative(expression, wrt, order, kinds)
    with pytest.raises(CodegenError, match=rf"the size of dimension {dim} is not fixed by any variable"):
        d.code(backend)


def test_the_cli_says_it_and_exits_2():
    run = subprocess.run([sys.executable, "-m", "ricci", "diff", "-C*(W/a)*norm1(vector(a))", "--wrt", "W",
                          "--kind", "W=symmetric matrix", "--format", "python"], capture_output=True, text=True)
    assert run.returncode == 2
    assert "not fixed by any variable" in run.stderr and "Traceback" not in run.stderr
