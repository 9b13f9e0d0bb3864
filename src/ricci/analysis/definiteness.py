"""Definiteness of a symmetric matrix, read from its eigenvalues with a stated tolerance.

The lecture's definitions (Hessian section): for a square matrix H,
  PD:  z'Hz > 0,   PSD: z'Hz ≥ 0,   ND: z'Hz < 0,   NSD: z'Hz ≤ 0   for every z ≠ 0;
indefinite when z'Hz takes both signs.  Only the symmetric part of H enters z'Hz, so the
eigenvalues used are those of (H + H')/2.

An eigenvalue counts as zero when |λ| ≤ tol with ``tol = max(rtol · max|λ|, atol)``: relative to
the largest eigenvalue, with a small absolute floor so that rounding noise in an all-zero
Hessian is still zero.  The tolerance used is part of every answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Default tolerances for "this eigenvalue is zero".
RTOL = 1e-8
ATOL = 1e-12

PD, PSD, ND, NSD, INDEFINITE, ZERO = "PD", "PSD", "ND", "NSD", "indefinite", "zero"

#: Long names, as the lecture writes them.
WORDS = {
    PD: "positive definite",
    PSD: "positive semidefinite (singular)",
    ND: "negative definite",
    NSD: "negative semidefinite (singular)",
    INDEFINITE: "indefinite",
    ZERO: "zero (both PSD and NSD)",
}


@dataclass(frozen=True)
class Definiteness:
    """The definiteness of one symmetric matrix, with the eigenvalues and the tolerance used."""

    label: str  # PD, PSD, ND, NSD, indefinite, zero
    eigenvalues: tuple[float, ...]
    tolerance: float
    rtol: float
    atol: float

    @property
    def words(self) -> str:
        return WORDS[self.label]

    @property
    def counts(self) -> tuple[int, int, int]:
        """How many eigenvalues are (positive, zero, negative) at this tolerance."""
        ev = np.asarray(self.eigenvalues)
        pos = int(np.sum(ev > self.tolerance))
        neg = int(np.sum(ev < -self.tolerance))
        return pos, len(ev) - pos - neg, neg

    def describe(self) -> str:
        pos, zero, neg = self.counts
        return (f"{self.words}: {pos} positive, {zero} zero, {neg} negative eigenvalue(s) "
                f"(zero means |λ| ≤ {self.tolerance:.3g} = max({self.rtol:g}·max|λ|, {self.atol:g}))")

    def to_json(self) -> dict:
        return {"label": self.label, "words": self.words, "eigenvalues": list(self.eigenvalues),
                "tolerance": self.tolerance, "rtol": self.rtol, "atol": self.atol}


def tolerance(eigenvalues, rtol: float = RTOL, atol: float = ATOL) -> float:
    ev = np.asarray(eigenvalues, dtype=float)
    top = float(np.max(np.abs(ev))) if ev.size else 0.0
    return max(rtol * top, atol)


def symmetric_eigenvalues(H) -> np.ndarray:
    """Eigenvalues of the symmetric part of a square matrix, ascending."""
    H = np.atleast_2d(np.asarray(H, dtype=float))
    return np.linalg.eigvalsh(0.5 * (H + H.T))


def classify(H, rtol: float = RTOL, atol: float = ATOL) -> Definiteness:
    """The definiteness of the square matrix ``H`` (a float counts as a 1×1 matrix)."""
    ev = symmetric_eigenvalues(H)
    tol = tolerance(ev, rtol, atol)
    pos, neg = bool(np.any(ev > tol)), bool(np.any(ev < -tol))
    zero = bool(np.any(np.abs(ev) <= tol))
    if pos and neg:
        label = INDEFINITE
    elif pos:
        label = PSD if zero else PD
    elif neg:
        label = NSD if zero else ND
    else:
        label = ZERO
    return Definiteness(label, tuple(float(v) for v in ev), tol, rtol, atol)


def null_directions(H, d: Definiteness) -> np.ndarray:
    """Unit eigenvectors (columns) of the eigenvalues counted as zero."""
    H = np.atleast_2d(np.asarray(H, dtype=float))
    ev, vec = np.linalg.eigh(0.5 * (H + H.T))
    return vec[:, np.abs(ev) <= d.tolerance]


# -- the Hessian as a square matrix --------------------------------------------------------------
def symmetric_basis(n: int) -> np.ndarray:
    """An orthonormal basis of the symmetric n×n matrices, as columns of an (n², n(n+1)/2) array:
    E_ii, and (E_ij + E_ji)/√2 for i < j.  Directions at a symmetric matrix stay symmetric."""
    cols = []
    for i in range(n):
        for j in range(i, n):
            e = np.zeros((n, n))
            if i == j:
                e[i, i] = 1.0
            else:
                e[i, j] = e[j, i] = 2 ** -0.5
            cols.append(e.reshape(-1))
    return np.array(cols).T


def square(hessian, wrt_size: int, symmetric_n: int | None = None) -> np.ndarray:
    """The Hessian as the square matrix of the quadratic form z ↦ d²f[z, z].

    ``hessian`` has §1's shape (wrt shape twice); it is flattened to (N, N) with N the number
    of wrt entries.  For a symmetric matrix wrt (``symmetric_n`` = n) it is restricted to
    symmetric directions: Bᵀ H B with B from :func:`symmetric_basis`.
    """
    H = np.asarray(hessian, dtype=float).reshape(wrt_size, wrt_size)
    if symmetric_n is not None:
        B = symmetric_basis(symmetric_n)
        H = B.T @ H @ B
    return 0.5 * (H + H.T)


def flat_gradient(gradient, symmetric_n: int | None = None) -> np.ndarray:
    """The gradient as a flat vector (in the symmetric basis for a symmetric matrix wrt)."""
    g = np.asarray(gradient, dtype=float).reshape(-1)
    if symmetric_n is not None:
        g = symmetric_basis(symmetric_n).T @ g
    return g
