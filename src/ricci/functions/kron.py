"""vec and kron: the columns of a matrix stacked into one, and the Kronecker product.

Both are written in index notation with the pairing of two indices into one (``Pair`` in
ricci.ir: 1 where r = a + size(a)·b), so that their derivatives of every order, by them and of
them, follow from the product rule: vec(X)_r = Σ_ab Pair_rab X_ab and
kron(A, B)_rc = Σ Pair_rki Pair_clj A_ij B_kl.  vec stacks columns (column-major), as the Matrix
Cookbook and Magnus and Neudecker do, so that vec(A*X*B) = kron(B', A)*vec(X) (Cookbook (520)).
Their sizes are products of dimensions (ricci.language.kinds): vec(X) of an m×n X has length mn.
"""

from __future__ import annotations

import numpy as np

from .base import Function, add


def _vec_lower(k):
    if k.ar is None or k.ac is None:  # a vector's (or a scalar's) entries are already in a column
        if k.ar is None and k.ac is None:
            return k.arg(None, None)
        return k.arg(k.r, None) if k.ar is not None else k.arg(None, k.r)
    return k.B.mul([k.B.pair(k.r, k.ar, k.ac), k.arg(k.ar, k.ac)], (k.r,))


def _kron_lower(k):
    ta, tb = k.ats
    factors = []

    def side(whole, fast_dim, slow_dim):
        # whole = fast + size(fast)·slow; a side of size 1 has no index, so the other is whole
        fast, slow = k.fresh(fast_dim, "i"), k.fresh(slow_dim, "j")
        if fast is not None and slow is not None:
            factors.append(k.B.pair(whole, fast, slow))
            return fast, slow
        return (whole if fast is not None else None), (whole if slow is not None else None)

    b_row, a_row = side(k.r, tb.rows, ta.rows)
    b_col, a_col = side(k.c, tb.cols, ta.cols)
    out = tuple(i for i in (k.r, k.c) if i is not None)
    return k.B.mul(factors + [k.arg(a_row, a_col), k.more(1, b_row, b_col)], out)


def _vec_code(p, a):
    # the transpose read row by row is the columns one after another, in every namespace
    return p.reshape(p.Code(f"{a.at(p.ATOM)}.T"), "(-1,)")


def _kron_code(p, a, b):
    if p.name == "array_api":  # the standard has no kron: the outer product, laid out
        m = p.m("reshape")
        return p.Code(f"{m}({a.at(p.ATOM)}[:, None, :, None] * {b.at(p.ATOM)}[None, :, None, :], "
                      f"({a.at(p.ATOM)}.shape[0] * {b.at(p.ATOM)}.shape[0], "
                      f"{a.at(p.ATOM)}.shape[1] * {b.at(p.ATOM)}.shape[1]))")
    return p.call(p.m("kron"), a.text, b.text)


def _vec_sympy(sp, x):
    return sp.ImmutableMatrix([[x[i, j]] for j in range(x.cols) for i in range(x.rows)])


def _kron_xp(xp, a, b):
    return xp.reshape(a[:, None, :, None] * b[None, :, None, :],
                      (a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]))


def _kron_sympy(sp, a, b):
    from sympy.physics.quantum import TensorProduct

    return sp.ImmutableMatrix(TensorProduct(sp.Matrix(a), sp.Matrix(b)))


add(
    Function("vec", "vectorise", lambda a: a.reshape(-1, 1, order="F"), r"\operatorname{vec}", None,
             "vec(X) stacks the columns of X (column-major): vec(X)_(i + m j) = X_ij; "
             "d vec(X) = vec(dX)",
             xp=lambda xp, x: xp.reshape(x.T, (-1, 1)), sympy=_vec_sympy,
             interval=lambda e, S: S.Interval(e.lo, e.hi, e.lo_open, e.hi_open), linear=True,
             code={"default": _vec_code}, lower=_vec_lower),
    Function("kron", "kronecker", np.kron, r"\otimes", None,
             "kron(A, B) = [A_ij B], the Kronecker product; "
             "d kron(A, B) = kron(dA, B) + kron(A, dB); vec(A*X*B) = kron(B', A)*vec(X)  "
             "(Matrix Cookbook (520))",
             xp=_kron_xp, sympy=_kron_sympy, mathml="⊗", layout="infix",
             code={"default": _kron_code}, lower=_kron_lower),
)
