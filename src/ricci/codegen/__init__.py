"""Code generation: a derivative as the source of a fast Python function (ARCHITECTURE §4).

``generate(d, backend)`` returns source text; ``function(d, backend)`` compiles it.  The stages:
the answer's matrix form (or, for tensors, its index form) becomes a compute plan
(:mod:`.plan`, :mod:`.from_matrix`, :mod:`.from_index`, :mod:`.chain`), chosen by a cost model
separately from the form that is displayed; the plan is printed for one backend
(:mod:`.backends`) and assembled into a function (:mod:`.emit`).
"""

from __future__ import annotations

from .printers import BACKENDS
from .emit import compile_function, default_name, generate, python_name
from .from_matrix import CodegenError


def function(d, backend: str = "numpy", name: str | None = None, with_value: bool = False,
             check_finite: bool = False):
    """The compiled function of :func:`generate` (its source is in ``__ricci_source__``)."""
    name = name or default_name(d, with_value)
    source = generate(d, backend, name, with_value, check_finite)
    fn = compile_function(source, name)
    fn.__ricci_source__ = source
    return fn


__all__ = ["BACKENDS", "CodegenError", "function", "generate", "python_name"]
