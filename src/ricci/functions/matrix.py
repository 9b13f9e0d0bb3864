"""The matrix functions (``tr``, ``det``, ``logdet``, ``inv``, ``diag``) and the constants
``vector(c)``, ``matrix(c)``.

Derivatives: ``tr`` and ``diag`` are linear (their lowering to index notation carries them);
``inv``, ``det`` and ``logdet`` are IR nodes of their own with the Matrix Cookbook's rules in
ricci.diff.  The sized constants ``eye(n)``, ``vector(c, n)`` are typed by ricci.language.sizes.
"""

from __future__ import annotations

import numpy as np

from .base import Function, add


def _one(sp, v):
    return sp.ImmutableMatrix([[v]])


def _logdet(a):
    sign, value = np.linalg.slogdet(a)
    return np.asarray(value if sign > 0 else np.nan).reshape(1, 1)


def _diag_xp(xp, x):
    # vector → diagonal matrix; square matrix → the column of its diagonal (1×1: either, alike)
    if x.shape[0] == 1 or x.shape[1] == 1:
        return xp.diag(x.reshape(-1))
    return xp.diag(x).reshape(-1, 1)


def _diag_sympy(sp, x):
    if x.rows > 1 and x.cols > 1:
        return sp.ImmutableMatrix([[x[i, i]] for i in range(x.rows)])
    return sp.ImmutableMatrix(sp.diag(*list(x)))


def _diag_lower(k):
    if k.at.is_col or k.at.is_row:  # vector → diagonal matrix: v_r δ_rc
        v = k.arg(k.r, None) if k.at.is_col else k.arg(None, k.r)
        return k.B.mul([v, k.B.delta(k.r, k.c)], (k.r, k.c))
    return k.arg(k.r, k.r)  # matrix → its diagonal


def _diag_plan(p, x):
    return p.diag(x, x.shape[0]) if x.ndim == 1 else p.diagonal(x)


add(
    Function("tr", "square", lambda a: np.trace(a).reshape(1, 1), r"\operatorname{tr}", None,
             "tr(X) = Σ_i X_ii",
             xp=lambda xp, x: xp.trace(x).reshape(1, 1), sympy=lambda sp, x: _one(sp, x.trace()),
             linear=True, plan=lambda p, x: p.trace(x),
             lower=lambda k: k.B.mul([k.arg(k.ar, k.ar)], ())),  # Σ_i X_ii
    Function("det", "square", lambda a: np.asarray(np.linalg.det(a)).reshape(1, 1), r"\det", None,
             "d det(X) = det(X) tr(inv(X) dX)  (Matrix Cookbook (46))",
             xp=lambda xp, x: xp.linalg.det(x).reshape(1, 1), sympy=lambda sp, x: _one(sp, x.det()),
             watch="invertible", needs="conditioned", plan=lambda p, x: p.det(x),
             lower=lambda k: k.B.matfun("det", k.arg(k.ar, k.ac), k.ar, k.ac), times_value=True),
    Function("logdet", "square", lambda a: _logdet(a), r"\log\det", None,
             "d logdet(X) = tr(inv(X) dX)  (Matrix Cookbook (57)); needs det(X) > 0",
             xp=lambda xp, x: xp.linalg.slogdet(x)[1].reshape(1, 1), mathml="log det",
             sympy=lambda sp, x: _one(sp, sp.log(x.det())),
             watch="positive determinant", needs="conditioned", domain="positive definite",
             plan=lambda p, x: p.logdet(x), times_value=False,
             lower=lambda k: k.B.matfun("logdet", k.arg(k.ar, k.ac), k.ar, k.ac),
             nan_hint="logdet needs a matrix with a positive determinant"),
    Function("inv", "inverse", np.linalg.inv, r"^{-1}", None,
             "d inv(X) = -inv(X) dX inv(X)  (Matrix Cookbook (59))",
             xp=lambda xp, x: xp.linalg.inv(x), sympy=lambda sp, x: sp.ImmutableMatrix(x.inv()),
             watch="invertible", needs="conditioned", layout="inverse",
             plan=lambda p, x: p.inv(x),
             lower=lambda k: k.B.matfun("inv", k.arg(k.ar, k.ac), k.ar, k.ac, (k.r, k.c))),
    Function("diag", "diagonal", None, r"\operatorname{diag}", None,
             "diag(v) = Σ_i v_i e_i e_i'; diag(X) = (X_11, …, X_nn)'",
             xp=_diag_xp, sympy=_diag_sympy, linear=True, plan=_diag_plan, lower=_diag_lower),
    # the constants take their size from the context: the evaluators fill the typed shape
    Function("vector", "constant", None, None, None, "vector(c): every entry c"),
    Function("matrix", "constant", None, None, None, "matrix(c): every entry c"),
    aliases={"trace": "tr"},
)
