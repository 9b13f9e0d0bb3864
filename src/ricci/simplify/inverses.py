"""Inverses cancelled inside a display chain (``inv(A)*A*B`` → ``B``, ``inv(A*B)`` against its
factors), kept per chain so that a chain grown by one factor checks only its new factor (issue
21): the part of :class:`~.matrix.MatrixForms` that reads inverses, split from ``matrix.py``
to keep each module one concern."""

from __future__ import annotations

from ..functions import named
from ..language import ast as A
from .prods import _chain_parts, _inv_pair, _is_diag_of_vector, _is_ones


#: the functions whose calls a rule of _cancel_step reads: inv(P), inv(P1*…*Pk), vector(1)
_READ = frozenset(("inv", named("inverse"), "vector"))


class InverseChains:
    """Mixin of :class:`~.matrix.MatrixForms` (its caches ``_kept``, ``_kept_heads`` and
    ``_cancel_chains`` are made in MatrixForms.__init__)."""

    def _cancel_inverses(self, chain: list, key: tuple | None = None) -> list:
        """inv(M)*M and M*inv(M) are the identity: drop both (keep an eye if nothing is left).
        Also inside the inverse of a product of square matrices of one size, where
        inv(P*Q) = inv(Q)*inv(P): Q*inv(P*Q) = inv(P) and inv(P*Q)*P = inv(Q).  ``key``: the
        ids of ``chain`` where the caller has them."""
        # What is left after each factor depends only on the factors so far: kept per (what was
        # left, factor), so that a chain built link by link is not cancelled anew from its first
        # factor at every link (issue 21: quadratic in tr(X^-k)'s chain of k + 1 factors)
        memo = self._cancelled
        if key is None:
            key = tuple(map(id, chain))
        before = self._cancel_chains.get(key[:-1]) if len(chain) > 1 else None
        if before is not None:  # grown at its right end: one step from what was left of the rest
            state, c = before[1], chain[-1]
            got = memo.get((id(state), id(c)))
            if got is None:
                got = memo[(id(state), id(c))] = (state, c) + self._cancel_step(state, c)
            state, checked = got[2], before[2] and got[3]
        else:
            state = None
            if len(chain) <= 4:
                # a short chain none of whose factors a rule of _cancel_step reads (an inverse, a
                # column or row of ones, under any transposes) is left as it is, every two
                # neighbours checked: most chains, as _cancel_step would find step by step
                for c in chain:
                    while isinstance(c, A.Transpose):
                        c = c.arg
                    if isinstance(c, A.Call) and c.func in _READ:
                        break
                else:
                    state, checked = tuple(chain), True
            if state is None:
                state, checked = self._cancel_long(chain, key)
        # (what _cancelled_to did, inline: a call less for every chain built, issue 21)
        self._cancel_chains[key] = (tuple(chain), state, checked)
        if not state and chain:
            return [self.identity()]
        if len(state) > 1 and checked:
            # (the factors kept alive: their ids stay theirs).  A step only drops or merges
            # factors, so what is left as long as the chain is the chain: its ids are key
            self._kept[key if len(state) == len(key) else tuple(map(id, state))] = state
            self._kept_heads.add(id(state[0]))
        return list(state)

    def _cancel_long(self, chain: list, key: tuple) -> tuple[tuple, bool]:
        """What is left of ``chain`` (not grown at its right end from a chain seen before, nor a
        short one that no rule reads), and whether every two neighbours were checked.  ``key``:
        the ids of ``chain``."""
        memo = self._cancelled
        # A chain grown at its left end (W64*diag(…)*W63*…): its old part is a chain this left as
        # it was with every two neighbours checked (no factor rewritten in place), where no two
        # cancel, and each check reads only the last factor kept and the next: only the new
        # factors and the first old one need looking at.
        tail = None
        heads = self._kept_heads
        for j in range(1, len(chain) - 1):
            if key[j] in heads and key[j:] in self._kept:
                tail = j
                break
        state: tuple = ()
        checked = True  # every two neighbours of state were checked against each other
        for c in chain[:tail]:
            got = memo.get((id(state), id(c)))
            if got is None:
                got = memo[(id(state), id(c))] = (state, c) + self._cancel_step(state, c)
            state, checked = got[2], checked and got[3]
        if tail is not None:
            step, ok = self._cancel_step(state, chain[tail])
            if step == state + (chain[tail],):
                state = state + tuple(chain[tail:])
            else:  # the first old factor meets the new ones: the long way
                state, checked = step, checked and ok
                for c in chain[tail + 1:]:
                    state, ok = self._cancel_step(state, c)
                    checked = checked and ok
        return state, checked

    def _cancel_step(self, state: tuple, c: A.Expr) -> tuple[tuple, bool]:
        """What is left of a chain after ``state`` (what was left of the factors before) and
        ``c``, and whether its last factor was checked against the one before it (False where
        the last factor was rewritten in place: diag(v)*vector(1) = v)."""
        if state:
            # no rule reads two neighbours neither of which is an inverse or ones (under any
            # transposes): c is appended, checked (most steps)
            x, y = c, state[-1]
            while isinstance(x, A.Transpose):
                x = x.arg
            while isinstance(y, A.Transpose):
                y = y.arg
            if not (isinstance(x, A.Call) and x.func in _READ) and not (isinstance(y, A.Call) and y.func in _READ):
                return state + (c,), True
        out = list(state)
        while out:
            f = self._inv_factors(c)
            if f is not None and f[-1] == out[-1]:  # Pk*inv(P1*…*Pk) = inv(P1*…*Pk-1)
                out.pop()
                c = self._inv_of(f[:-1])
                continue
            f = self._inv_factors(out[-1])
            if f is not None and f[0] == c:  # inv(P1*…*Pk)*P1 = inv(P2*…*Pk)
                out.pop()
                c = self._inv_of(f[1:])
                continue
            break
        if out and (_inv_pair(out[-1], c) or _inv_pair(c, out[-1])):
            out.pop()
            return tuple(out), True
        # diag(v)*vector(1) = v and vector(1)'*diag(v) = v'
        if out and _is_ones(c) and _is_diag_of_vector(out[-1], self):
            out[-1] = self.orient_col(out[-1].args[0])
            return tuple(out), False
        if out and _is_ones(out[-1], row=True) and _is_diag_of_vector(c, self):
            out[-1] = self.T(self.orient_col(c.args[0]))
            return tuple(out), False
        out.append(c)
        return tuple(out), True

    def _square_dim(self, a: A.Expr):
        """n when ``a`` is a square n×n matrix variable, its transpose or its inverse, else None."""
        rows = self._outer_dim(a, 0)
        return rows if rows is not None and rows == self._outer_dim(a, 1) else None

    def _inv_factors(self, a: A.Expr) -> list | None:
        """[P1, …, Pk] when ``a`` is inv(P1*…*Pk) (or its transpose, inv of the transposed
        product) and every Pi is a square variable of one size (so each is invertible when
        the product is), else None."""
        transposed = isinstance(a, A.Transpose)
        if transposed:
            a = a.arg
        if not (isinstance(a, A.Call) and a.func == named("inverse")):
            return None
        parts = _chain_parts(a.args[0])
        if len(parts) < 2:
            return None
        dims = {self._square_dim(p) for p in parts}
        if len(dims) != 1 or None in dims:
            return None
        return [self.T(p) for p in reversed(parts)] if transposed else parts

    def _inv_of(self, factors: list) -> A.Expr:
        """inv(P1*…*Pk), written as the Cookbook does: inv(X)' for inv(X'), X for inv(inv(X))."""
        if len(factors) == 1:
            x = factors[0]
            if isinstance(x, A.Call) and x.func == named("inverse"):
                return x.args[0]
            if isinstance(x, A.Transpose):
                return self.T(A.Call(named("inverse"), (x.arg,)))
        return A.Call(named("inverse"), (self.build_chain(factors),))
