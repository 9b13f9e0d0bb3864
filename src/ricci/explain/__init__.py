"""Explaining a derivative: the derivation step by step, display options, tensors, Jupyter.

* :func:`explain` — the derivation as the lecture does it (shape, decomposition and chain rule,
  each rule with its identity, simplification, result), as :class:`Steps` that render as text,
  Markdown, LaTeX and HTML/MathML.  ``d.steps`` is ``explain(d)``.
* :func:`view` — the answer with display options: ``layout="denominator"`` (gradients as
  columns), ``symmetric="gradient"`` (Matrix Cookbook §2.8), ``bold_vectors=True``; ``d.display``.
* :func:`index_form`, :func:`kronecker_form` — tensors as the lecture writes Examples 3 and 4,
  and ∂vec F/∂vec X as Kronecker products (evaluated with ``np.kron``).
* :mod:`ricci.printing.mathml` — presentation MathML of any answer (``d.mathml``).

None of this computes a derivative of its own: every result shown is ricci's answer for the
expression or a sub-expression of it.
"""

from __future__ import annotations

import importlib
import sys
import types

#: The methods of ``d.steps(method=…)``, the lecture's first (:mod:`.methods`).  Here, with the
#: package, so that `ricci diff`'s flags (.command) name them without loading the steps' modules.
METHODS = ("jacobians", "differentials")

# Each name is imported from its module when first asked for (PEP 562), not with the package:
# `ricci diff` reads its flags from .command, and the rest costs a third of its start-up.
_HOME = {
    "explain": "derive", "Formula": "formula", "shape_words": "shapes", "Step": "steps",
    "Steps": "steps", "KroneckerForm": "tensor", "commutation_matrix": "tensor",
    "entries_form": "tensor", "index_form": "tensor", "kronecker_form": "tensor",
    "LAYOUTS": "view", "SYMMETRIC_NOTE": "view", "View": "view", "view": "view",
}


class _Package(types.ModuleType):
    """The package, whose ``view`` stays the function: importing the submodule ``view`` (which
    sets the package's attribute of that name) leaves it alone, as the eager imports did."""

    def __setattr__(self, name, value):
        if name in _HOME and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # `view` the function, not the submodule of that name
    return value

__all__ = [
    "explain", "Steps", "Step", "Formula", "view", "View", "LAYOUTS", "SYMMETRIC_NOTE",
    "index_form", "entries_form", "kronecker_form", "KroneckerForm", "commutation_matrix", "shape_words",
]
