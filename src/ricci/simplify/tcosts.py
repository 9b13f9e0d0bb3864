"""What the transposes of a display form cost a reader (:meth:`TransposeCosts._t_cost`, which
decides where :meth:`~.matrix.MatrixForms.T` leaves a transpose), whether a product of matrices
sits inside a form, and the count of transposes written: the part of
:class:`~.matrix.MatrixForms` that weighs transposes, split from ``matrix.py`` to keep each
module one concern (and under 600 lines).  Each is kept per subtree (:mod:`.folds`)."""

from __future__ import annotations

from ..language import ast as A
from .folds import fold, unseen
from .mtypes import C, S


class TransposeCosts:
    """Mixin of :class:`~.matrix.MatrixForms` (its caches ``_t_costs``, ``_products`` and
    ``_t_counts``, its ``types`` and ``kind`` are made in MatrixForms.__init__)."""

    def _t_cost(self, a: A.Expr) -> tuple:
        """What transposes cost a reader, compared as (heavy, light).  Light: the transpose of a
        column built without a product of matrices or vectors (inner products aside), x' or
        (x - s)' or (x'*x*a)' (a row is how the lecture writes a gradient).  Heavy: every other,
        A' or ((A + A')*x + b)', whose product the reader has to reverse.  So ((A + A')*x + b)' becomes x'*(A + A') + b', while (x - s)' and
        (x - A*s)' stay as they are (ties keep the transpose outside)."""
        def own(n):
            if not isinstance(n, A.Transpose):
                return (0, 0)
            x = n.arg
            return (0, 1) if self.kind(x) == C and not self._has_product(x) else (1, 0)

        # _fold(a, self._t_costs, own, <(heavy, light) summed>) with the own cost of a node that
        # is no transpose and the sum read inline: three calls a node were most of a deep
        # answer's final transpose (issue 21: ~1,200 calls at the network's depth 64)
        memo = self._t_costs
        got = memo.get(id(a))
        if got is not None:
            return got[1]
        Transpose = A.Transpose
        for n, kids in unseen(a, memo):
            heavy, light = own(n) if isinstance(n, Transpose) else (0, 0)
            for c in kids:
                h, li = memo[id(c)][1]
                heavy += h
                light += li
            memo[id(n)] = (n, (heavy, light))
        return memo[id(a)][1]

    def _has_product(self, a: A.Expr) -> bool:
        """Whether a product of matrices or vectors (:meth:`_is_product`) is inside ``a``:
        ``_fold(a, self._products, self._is_product, any)`` with _is_product asked only of a
        ``*`` (it says False of any other node) and ``any`` read inline (issue 21)."""
        memo = self._products
        got = memo.get(id(a))
        if got is not None:
            return got[1]
        BinOp = A.BinOp
        for n, kids in unseen(a, memo):
            found = isinstance(n, BinOp) and n.op == "*" and self._is_product(n)
            if not found:
                for c in kids:
                    if memo[id(c)][1]:
                        found = True
                        break
            memo[id(n)] = (n, found)
        return memo[id(a)][1]

    def _is_product(self, m: A.Expr) -> bool:
        """A product of matrices or vectors (not a scalar's, nor a scalar times a form)."""
        if not (isinstance(m, A.BinOp) and m.op == "*"):
            return False
        memo = self.types._memo  # (kind()'s memo read inline: the three are typed, mostly)
        for x in (m, m.left, m.right):
            got = memo.get(id(x))
            if (got[1].kind if got is not None and got[0] is x else self.kind(x)) == S:
                return False
        return True

    def count_T(self, a: A.Expr) -> int:
        """The number of transposes written in ``a`` (prods._count_T), kept per subtree."""
        return self._fold(a, self._t_counts, lambda n: int(isinstance(n, A.Transpose)), sum)

    _fold = staticmethod(fold)  # (simplify/folds.py)
