"""Affine constraints as matrices, and affine equalities eliminated by variable reduction.

A constraint whose Jacobian reads none of the variables (``sum(p) == 1``, ``A*x <= b``,
``a'*x == 1``) is c(z) = A·z + c₀ on the flat vector z of :class:`~.problem.Problem`: its rows
are its vector-Jacobian products with the unit cotangents (ricci's generated ``d.vjp()``, one
call per row, once per solve), c₀ = c(z) − A·z at the start.  The augmented Lagrangian then
takes its value and its J'·u as two products with A, never a call through the generated code.

**Variable reduction** (Wolfe's reduced gradient; Abadie & Carpentier's GRG; Nocedal & Wright,
*Numerical Optimization*, §15.3).  Affine equalities A·z + c₀ = 0 (m rows, full row rank) are
kept exactly instead of penalised: m *basic* coordinates B are computed from the others,

    z_B = −A_B⁻¹ (A_N·z_N + c₀),        ∇_N F = g_N − A_N' A_B⁻ᵀ g_B,

so L-BFGS-B moves in the remaining coordinates only (the basic ones are held at zero by the
bounds [0, 0] of the reduced vector y, which is z with y_B = 0).  The equalities then hold at
every iterate to rounding, and need no multiplier rounds.  What elimination leaves is the
bounds of the basic coordinates, lo_B ≤ z_B ≤ hi_B: affine inequalities, which the augmented
Lagrangian keeps.  GRG's rule chooses the basic coordinates away from their bounds (there the
inequalities are inactive and cost nothing): among the columns of a row whose pivot is at
least :data:`THRESHOLD` of the row's largest (a stable elimination), the one with the most room
to its bounds.  When a round ends with a basic coordinate near a bound while another basis has
more room, the basis is chosen again at that point (:meth:`Reduction.better`).
"""

from __future__ import annotations

import numpy as np

#: rows of affine constraints made into matrices, in all (each row costs one VJP call at the start)
MAX_ROWS = 256
#: at most this many entries in the matrices (rows × coordinates)
MAX_ENTRIES = 4_000_000
#: a pivot is eligible when at least this fraction of the largest in its row (threshold pivoting)
THRESHOLD = 0.1


def rows(constraint, problem, z: np.ndarray, size: int) -> np.ndarray:
    """The Jacobian of an affine constraint on the flat vector: row i is e_i'·J, its
    vector-Jacobian product with the i-th unit cotangent (generated code; never a formed tensor)."""
    from ..codegen import python_name

    args = {python_name(n): v for n, v in {**problem.data, **problem.unpack(z)}.items()}
    out = np.empty((size, z.size))
    for i in range(size):
        u = np.zeros(size)
        u[i] = 1.0
        parts = {n: np.zeros(problem.shapes[n]) for n in problem.names}
        for n in problem.names:
            add = constraint.vjp(n, args, u)
            if add is not None:
                parts[n] = parts[n] + np.asarray(add, dtype=float)
        out[i] = problem.fold(parts)
    return out


def room(z: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """How far each coordinate is from its nearer bound, as s/(1 + s) in [0, 1] (1: no bound),
    0 at or beyond a bound."""
    s = np.maximum(np.minimum(z - lower, upper - z), 0.0)
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(s), 1.0, s / (1.0 + s))


def choose(A: np.ndarray, weight: np.ndarray, threshold: float = THRESHOLD) -> list[int] | None:
    """m basic columns of A (m × N): Gaussian elimination row by row, each pivot the column with
    the largest weight among those within ``threshold`` of the row's largest entry; None when A is
    rank deficient (a redundant or inconsistent equality: the augmented Lagrangian keeps them)."""
    R = np.array(A, dtype=float)
    scale = float(np.abs(A).max()) if A.size else 0.0
    basis: list[int] = []
    for i in range(R.shape[0]):
        row = np.abs(R[i])
        row[basis] = 0.0
        top = float(row.max())
        if not top > 1e-10 * scale:
            return None
        eligible = np.flatnonzero(row >= threshold * top)
        j = int(eligible[np.argmax(weight[eligible])])  # ties: the first (deterministic)
        basis.append(j)
        below = R[i + 1:, j] / R[i, j]
        R[i + 1:] -= np.outer(below, R[i])
    return basis


class Reduction:
    """Affine equalities A·z + c₀ = 0 kept exactly by computing the basic coordinates."""

    def __init__(self, A: np.ndarray, c0: np.ndarray, basis: list[int]):
        self.A, self.c0 = A, c0
        self.basis = np.array(basis, dtype=np.intp)
        # A_B is small (m × m) and well pivoted; its inverse is applied twice per evaluation
        self.inverse = np.linalg.inv(A[:, self.basis])

    def point(self, y: np.ndarray) -> np.ndarray:
        """z from the reduced vector y (whose basic entries are zero)."""
        z = np.array(y, dtype=float)
        z[self.basis] = -self.inverse @ (self.A @ y + self.c0)
        return z

    def reduced(self, z: np.ndarray) -> np.ndarray:
        y = np.array(z, dtype=float)
        y[self.basis] = 0.0
        return y

    def weights(self, G: np.ndarray) -> np.ndarray:
        """w = A_B⁻ᵀ G_B: at a stationary point, −w are the multipliers of the equalities."""
        return self.inverse.T @ G[self.basis]

    def gradient(self, G: np.ndarray) -> np.ndarray:
        """The reduced gradient G − A'w (zero on the basic coordinates)."""
        out = G - self.A.T @ self.weights(G)
        out[self.basis] = 0.0
        return out

    def better(self, z: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> list[int] | None:
        """Another basis, chosen at z, when the present one has a coordinate with less than half
        the room of the other's tightest (else None)."""
        weight = room(z, lower, upper)
        basis = choose(self.A, weight)
        if basis is None or sorted(basis) == sorted(self.basis.tolist()):
            return None
        if weight[self.basis].min() >= 0.5 * weight[basis].min():
            return None
        return basis
