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

from .derive import explain
from .formula import Formula
from .shapes import shape_words
from .steps import Step, Steps
from .tensor import KroneckerForm, commutation_matrix, entries_form, index_form, kronecker_form
from .view import LAYOUTS, SYMMETRIC_NOTE, View, view

__all__ = [
    "explain", "Steps", "Step", "Formula", "view", "View", "LAYOUTS", "SYMMETRIC_NOTE",
    "index_form", "entries_form", "kronecker_form", "KroneckerForm", "commutation_matrix", "shape_words",
]
