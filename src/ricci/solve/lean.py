"""The solver's generated NumPy code with NumPy's LAPACK wrappers cut short.

A minimiser calls the generated f, ∇f and the prepared H·v many times on small matrices: the
covariance problem at p = 20 evaluates f and ∇f 12 times and prepares H·v at 10 points, each
with ``np.linalg.slogdet`` and ``np.linalg.inv`` of a 20×20 matrix.  There the wrappers —
converting the argument, checking it is square, choosing the signature, entering and leaving
an ``errstate`` — cost more than LAPACK: about 30 of an evaluation's ~86 Python-level calls.
The same LAPACK routines are called here through NumPy's own generalised ufuncs
(``numpy.linalg._umath_linalg``, what the wrappers call) for a float64 array, so every number is
the one the wrapper returns; anything else, and any inverse with a non-finite entry (a singular
matrix, where ``np.linalg.inv`` raises its ``LinAlgError``), goes to NumPy's own function, so the
behaviour is NumPy's in every case.

:func:`lean` rebinds a generated function (and the functions of its module, such as a prepared
product's inner function) to a namespace whose ``np`` is NumPy with these two replaced; the
function the derivative gave is untouched.  Where NumPy lacks the private module, nothing changes.
Only the solver's own copies are rebound (:mod:`.objective`): ``d.function()`` is NumPy's, as
written in its source.
"""

from __future__ import annotations

import types

import numpy as np

try:  # NumPy's generalised ufuncs behind np.linalg (NumPy 1.x and 2.x)
    from numpy.linalg import _umath_linalg as _gufuncs
except ImportError:  # pragma: no cover - every NumPy ricci supports has it
    _gufuncs = None

_ndarray, _float64 = np.ndarray, np.dtype(np.float64)
_finite = np.isfinite
_all = np.logical_and.reduce
_inv, _slogdet = np.linalg.inv, np.linalg.slogdet


def inv(a):
    """``np.linalg.inv``: the same gufunc for a float64 array; NumPy's function otherwise and
    wherever the result is not finite (its LinAlgError at a singular matrix)."""
    if a.__class__ is _ndarray and a.dtype == _float64 and a.ndim >= 2:
        out = _gufuncs.inv(a, signature="d->d")
        if _all(_finite(out), axis=None):
            return out
    return _inv(a)


def slogdet(a):
    """``np.linalg.slogdet``: (sign, log|det|), the same gufunc for a float64 array (NumPy's
    function returns these two in a named tuple)."""
    if a.__class__ is _ndarray and a.dtype == _float64 and a.ndim >= 2:
        return _gufuncs.slogdet(a, signature="d->dd")
    return _slogdet(a)


def _namespace() -> types.ModuleType:
    linalg = types.ModuleType("numpy.linalg")
    linalg.__dict__.update(np.linalg.__dict__)
    linalg.inv, linalg.slogdet = inv, slogdet
    module = types.ModuleType("numpy")
    module.__dict__.update(np.__dict__)  # NumPy's module-level __getattr__ (lazy submodules) too
    module.linalg = linalg
    return module


_NP = _namespace() if _gufuncs is not None else None


def lean(fn):
    """``fn`` (generated NumPy code: its module imports NumPy) rebound to the lean ``np``: a new
    function object, and new ones for the other functions of its module, which it may call."""
    if _NP is None or not isinstance(fn, types.FunctionType):
        return fn
    old = fn.__globals__
    aliases = [k for k, v in old.items() if v is np]  # "np", or "_np" where a variable is np
    if not aliases or old.get(fn.__name__) is not fn:
        return fn
    new = dict(old, **{k: _NP for k in aliases})
    for k, v in old.items():
        if isinstance(v, types.FunctionType) and v.__globals__ is old:
            g = types.FunctionType(v.__code__, new, v.__name__, v.__defaults__, v.__closure__)
            g.__kwdefaults__ = v.__kwdefaults__
            g.__dict__.update(v.__dict__)
            new[k] = g
    return new[fn.__name__]
