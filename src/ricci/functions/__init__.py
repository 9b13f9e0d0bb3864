"""The one table of functions: everything ricci knows about ``exp``, ``tr``, ``inv``, … in one
entry each (a :class:`Function`).

An entry says what the function accepts and returns (its *family*), its derivative (a formula
for an elementwise function; the Matrix Cookbook's rule for the matrix functions), how NumPy
and any array namespace evaluate it, its domain and kinks, its sign facts for the analysis, its
SymPy translation, its LaTeX, MathML and code spellings, and what the explanations call it.
Every other part of ricci looks the entry up (:func:`lookup`); ``docs/functions.md`` lists who
reads which field.

* :mod:`.base` – the :class:`Function` dataclass and the registry (:func:`registered` adds a
  function for the length of a ``with`` block, as tests do);
* :mod:`.elementwise` – exp, log, sin, …, relu, step, sigmoid;
* :mod:`.reductions` – sum, norm1, norm2, mean, logsumexp (softmax, log_softmax);
* :mod:`.matrix` – tr, det, logdet, inv, diag and the constants vector(c), matrix(c);
* :mod:`.spectral` – eig, lambda_max, lambda_min, svd, spectral_norm, nuclear_norm and the eigen- and
  singular vectors their derivatives are written with;
* :mod:`.matrix_functions` – expm, logm, sqrtm and their Fréchet derivatives (expm_frechet, …);
* :mod:`.kron` – vec (columns stacked) and kron (the Kronecker product);
* :mod:`.stable` – the names the stable forms are written with (docs/numerics.md).

Adding a function is adding an entry to one of these modules.
"""

from __future__ import annotations

from . import elementwise, matrix, reductions, spectral  # noqa: F401 - each adds its entries, in this order
from . import matrix_functions  # noqa: F401 - expm, logm, sqrtm and their Fréchet derivatives
from . import kron  # noqa: F401 - vec and kron
from .base import (ALIASES, FAMILIES, FUNCTIONS, Function, add, family_of, lookup, named, on_change, registered,
                   remove)
from .reductions import LOGSUMEXP
from .stable import STABLE

#: Names that denote the identity matrix (size implied), unless declared as variables.
IDENTITY_NAMES = ("eye", "I")

__all__ = ["ALIASES", "FAMILIES", "FUNCTIONS", "IDENTITY_NAMES", "LOGSUMEXP", "STABLE", "Function", "add", "family_of", "lookup",
           "named", "on_change", "registered", "remove"]
