"""Index IR → compute plan, for answers with no matrix form (tensors of order ≥ 3, stacks).

Every IR node becomes a plan node together with the IR indices its axes carry.  A product
(``Mul``) is a contraction: two factors that make a matrix product, an outer product or a
broadcast scaling become exactly that (``V.T @ V``, ``g[:, None] * x``); anything else is one
``einsum`` with an optimised path (or, for the array-API backend, which has no einsum,
pairwise ``tensordot`` s and broadcast products).

A Kronecker δ between two free indices is never materialised: the product is computed on the
diagonal (the δ's two indices merged into one), and the result is a *scatter*: a tensor of
zeros with that value added onto its diagonal, ``H[r, :, r, :] += 2 * (V.T @ V)``.  A sum of
such terms adds each onto one buffer.

The numerics are the matrix path's (docs/numerics.md): a power of a sum of squares (Σ v²)^p is
``norm2(v)^2p``, the scaled norm of the printers' ``norm2_lines`` (as d.evaluate scales it);
an inverse contracted with a factor that it alone shares an index with is that matrix product
first, which :meth:`Plan.matmul` makes a solve, before the rest is one contraction (an einsum
would be handed the explicit inverse); codegen/solves.py then decides, for both paths, where
the inverse computed once serves better.
"""

from __future__ import annotations

import string

from ..functions import LOGSUMEXP, lookup
from ..ir.evaluate import squared
from ..ir.nodes import Add, Delta, Elem, MatFun, Mul, Node, Num, Pair, Pow, Size, Stack, Var
from ..ir.softmax import log_sum_exp, log_sum_exp_along, softmax_factors, softmax_factors_along
from .from_matrix import CodegenError
from .plan import Op, Plan, numel
from .powers import spread_over

_LETTERS = string.ascii_lowercase + string.ascii_uppercase


class IndexToPlan:
    def __init__(self, plan: Plan, bindings: dict, variables: set, *, einsum: bool = True):
        self.plan = plan
        self.bindings = bindings
        self.variables = variables
        self.einsum_ok = einsum
        self.memo: dict = {}
        self.bound_ops: dict = {}

    # -- axes -------------------------------------------------------------------------------------
    def shape(self, axes) -> tuple:
        return tuple(i.dim for i in axes)

    def align(self, op: Op, axes: tuple, target: tuple) -> Op:
        """``op`` (axes ``axes`` ⊆ ``target``) permuted and expanded to broadcast over ``target``."""
        if op.ndim == 0:
            return op
        order = [i for i in target if i in axes]
        op = self.plan.permute(op, tuple(axes.index(i) for i in order))
        return self.plan.expand(op, tuple(i in axes for i in target))

    def ordered(self, op: Op, axes: tuple, target: tuple) -> Op:
        """``op`` with its axes permuted into ``target`` (the same set)."""
        if set(axes) != set(target) or len(axes) != len(target):
            raise CodegenError("internal: axes do not match")  # pragma: no cover
        return self.plan.permute(op, tuple(axes.index(i) for i in target))

    # -- nodes ------------------------------------------------------------------------------------
    def value(self, node: Node) -> tuple:
        got = self.memo.get(id(node))
        if got is None:
            got = self._value(node)
            self.memo[id(node)] = (got, node)
            return got
        return got[0]

    def _value(self, node: Node) -> tuple:
        p = self.plan
        match node:
            case Num(value=v):
                return p.num(v), ()
            case Size(dim=d):
                return p.dim(d), ()
            case Var():
                return self._var(node)
            case Delta(i=i, j=j):
                return p.eye(i.dim), (i, j)
            case Pair(r=r, a=a, b=b):  # 1 where r = a + size(a)·b: the identity's columns as (b, a)
                full = p.reshape(p.eye(r.dim), (r.dim, b.dim, a.dim))
                return p.permute(full, (0, 2, 1)), (r, a, b)
            case Mul():
                return self._mul(node)
            case Add():
                return self._add(node)
            case Elem():
                return self._elem(node)
            case Pow(base=b, exp=e) if squared(node) is not None:  # (Σ v²)^p: the scaled norm
                n = p.norm2(self.value(squared(node))[0])
                return (n if e.value == 0.5 else p.pow(n, p.num(2 * e.value))), ()
            case Pow(base=b, exp=e):
                free = node.free
                bo, ba = self.value(b)
                eo, ea = self.value(e)
                return p.pow(self.align(bo, ba, free), self.align(eo, ea, free)), free
            case MatFun():
                return self._matfun(node)
            case Stack():
                return self._stack(node)
        raise CodegenError(f"cannot generate code for {type(node).__name__}")

    def _var(self, node: Var) -> tuple:
        p = self.plan
        idx = node.idx
        if node.name in self.bindings:
            ir, br, bc = self.bindings[node.name]
            if node.name not in self.bound_ops:
                op, axes = self.value(ir)
                own = tuple(i for i in (br, bc) if i is not None)
                self.bound_ops[node.name] = p.let(node.name, self.ordered(op, axes, own))
            op = self.bound_ops[node.name]
        elif node.name in self.variables:
            op = p.var(node.name, tuple(i.dim for i in idx))
        else:  # pragma: no cover - lowering never makes such a Var
            raise CodegenError(f"unknown name {node.name}")
        if len(idx) == 2 and idx[0] == idx[1]:
            return p.diagonal(op), (idx[0],)
        return op, tuple(idx)

    def _matfun(self, node: MatFun) -> tuple:
        p = self.plan
        op, axes = self.value(node.arg)
        m = self.ordered(op, axes, (node.r, node.c))
        fn = lookup(node.func)
        if fn.family == "spectral":  # eig(S), eigvec_max(S), svd_u(X), …: the table's plan, its own shape
            op = fn.plan(p, m)
            if len(node.out) == 2 and node.out[0] == node.out[1]:
                return p.diagonal(op), node.out[:1]
            return op, node.out
        if fn.family == "frechet":  # T[p,q,a,b] = L_f(X, e_a e_b')_pq: the table's recipe with no direction
            op = p.make("func", (m,), (fn.name,), self.shape(node.out))
            if len(set(node.out)) != len(node.out):  # a diagonal of the tensor (diag(expm(X)) by X)
                return self._contract([(op, node.out)], node.free)
            return op, node.out
        if fn.family == "analytic":  # expm(X), …: a matrix, as inv below
            op = fn.plan(p, m)
            a, b = node.out
            return (p.diagonal(op), (a,)) if a == b else (op, (a, b))
        if fn.family != "inverse":  # det, logdet: the table's plan
            return fn.plan(p, m), ()
        inv = p.inv(m)
        a, b = node.out
        if a == b:
            return p.diagonal(inv), (a,)
        return inv, (a, b)

    def _stack(self, node: Stack) -> tuple:
        p = self.plan
        inner = node.entries[0].free
        parts = [self.ordered(*self.value(e), inner) for e in node.entries]
        shape = self.shape(inner) + tuple(a.dim for a in node.axes)
        if inner:
            op = p.make("stackn", parts, (), shape)
        else:
            op = p.stack(parts, shape)
        axes = inner + node.axes
        if len(set(axes)) != len(axes):  # a diagonal of a stack: rare; einsum takes it
            free = node.free
            letters = {ix: _LETTERS[k] for k, ix in enumerate(free)}
            spec = "".join(letters[i] for i in axes) + "->" + "".join(letters[i] for i in free)
            return p.einsum(spec, [op], self.shape(free)), free
        return op, axes

    # -- sums -------------------------------------------------------------------------------------
    def _add(self, node: Add) -> tuple:
        p = self.plan
        free = node.free
        values = [self.value(t) for t in node.terms]
        if any(op.kind == "scatter" for op, _ in values):
            return self._scatter_sum(values, free), free
        total = None
        for op, axes in values:
            term = self.align(op, axes, free) if set(axes) != set(free) else self.ordered(op, axes, free)
            total = term if total is None else p.add(total, term)
        return total, free

    def _scatter_sum(self, values, free) -> Op:
        entries = []
        for op, axes in values:
            if op.kind == "scatter":
                entries += _scatter_entries(op, axes, free)
            else:
                pattern = tuple(range(len(free)))
                groups = tuple(free.index(i) for i in axes)
                entries.append((op, (pattern, groups)))
        # Entries onto the same diagonal with the same axes are added before they are written.
        merged: dict = {}
        for op, spec in entries:
            merged[spec] = self.plan.add(merged[spec], op) if spec in merged else op
        return self.plan.scatter([(op, spec) for spec, op in merged.items()], self.shape(free))

    # -- products ---------------------------------------------------------------------------------
    def _mul(self, node: Mul) -> tuple:
        out = node.out
        coef = 1.0
        deltas = []
        factors = []
        # exp(u_i)…(Σ_j exp(u_j))^-a (ir/softmax.py): each exp(u_i - logsumexp(u)) and the
        # power dropped, the same number without inf/inf at u = 1000
        softmax = softmax_factors(node)
        power, u, tops = softmax if softmax is not None else (None, None, ())
        along = self._softmax_along(node) if softmax is None else None
        if along is not None:  # the same along an axis: each row b's own logsumexp
            power, tops, lse, batch = along
        for f in node.factors:
            if f is power:
                continue
            if along is not None and any(f is t for t in tops):
                op, axes = self.value(f.arg)
                shift = self.align(lse, batch, axes)
                factors.append((self.plan.func(LOGSUMEXP.exp, self.plan.sub(op, shift)), axes))
            elif any(f is t for t in tops):
                op, axes = self.value(f.arg)
                factors.append((self.plan.func(LOGSUMEXP.exp, self.plan.sub(op, self._logsumexp(u))), axes))
            elif isinstance(f, Num):
                coef *= f.value
            elif isinstance(f, Delta) and f.i in out and f.j in out:
                deltas.append(f)
            else:
                factors.append(self.value(f))
        if not deltas:
            return self.contract(factors, out, coef)
        # δ_ij with i, j free: compute on the diagonal (j renamed to i), then scatter.
        rep = {i: i for i in out}

        def find(i):
            while rep[i] != i:
                i = rep[i]
            return i

        for dl in deltas:
            a, b = find(dl.i), find(dl.j)
            if a != b:
                rep[b] = a
        merged = [(op, tuple(find(i) if i in rep else i for i in axes)) for op, axes in factors]
        reduced = tuple(dict.fromkeys(find(i) for i in out))
        op, axes = self.contract(merged, reduced, coef, broadcast=False)
        groups = {ix: k for k, ix in enumerate(reduced)}
        pattern = tuple(groups[find(i)] for i in out)
        letters = tuple(groups[i] for i in axes)
        return self.plan.scatter([(op, (pattern, letters))], self.shape(out)), out

    def _elem(self, node: Elem) -> tuple:
        u = log_sum_exp(node)
        if u is not None:
            return self._logsumexp(u), ()  # shifted by max(u) in its code
        along = self._lse_along(node)
        if along is not None:
            return along  # each row's, shifted by its max in its code
        op, axes = self.value(node.arg)
        return self.plan.func(node.func, op), axes

    def _lse_along(self, node: Elem) -> tuple | None:
        """(l, (b,)): log Σ_j exp(u_bj) of a matrix u as each row b's logsumexp, else None."""
        found = log_sum_exp_along(node)
        if found is None or len(found[1]) != 1 or len(found[0].free) != 2:
            return None
        u, (b,) = found
        return self._rows_lse(u, b), (b,)

    def _rows_lse(self, u: Node, b) -> Op:
        j = next(i for i in u.free if i != b)
        op, axes = self.value(u)
        rows = self.ordered(op, axes, (b, j))
        return self.plan.make("func", (rows, self.plan.num(1.0)), (LOGSUMEXP.logsumexp,), self.shape((b,)))

    def _softmax_along(self, node: Mul) -> tuple | None:
        """(power, tops, l, (b,)) for exp(u_bi)…(Σ_j exp(u_bj))^-a of a matrix u (softmax(X, 2)'s
        derivatives, ir/softmax.py), l = each row b's logsumexp over j; else None."""
        found = softmax_factors_along(node)
        if found is None or len(found[2]) != 1 or len(found[1].free) != 2:
            return None
        power, u, batch, tops = found
        (b,) = batch
        return power, tops, self._rows_lse(u, b), (b,)

    def _logsumexp(self, u: Node) -> Op:
        op, _ = self.value(u)
        return lookup(LOGSUMEXP.logsumexp).plan(self.plan, op)

    def contract(self, factors: list, out: tuple, coef: float = 1.0, *, broadcast: bool = True) -> tuple:
        """Σ over the indices not in ``out`` of the product of ``factors`` ((op, axes) pairs).

        Returns (op, axes) with axes ⊆ out; with ``broadcast``, indices of ``out`` that no
        factor carries are broadcast in (by a product with ones), so that axes == out as a set.
        """
        p = self.plan
        scalars = [op for op, axes in factors if not axes]
        tensors = [(op, axes) for op, axes in factors if axes]
        # a power among the scalars (‖x‖^-5) spread over the tensors smaller than the product,
        # never formed where it over- or underflows (codegen/powers.py)
        size = numel(self.shape(tuple(i for i in out if any(i in a for _, a in tensors))))
        tensors, scalars = spread_over(p, tensors, scalars, [k for k, (op, _) in enumerate(tensors)
                                                            if numel(op.shape) < size])
        scalar = p.num(coef)
        for s in scalars:
            scalar = p.mul(scalar, s)
        if not tensors:
            op, axes = scalar, ()
        else:
            # The scalar goes onto the smallest operand, unless the result is smaller still.
            out_size = numel(self.shape(tuple(i for i in out if any(i in a for _, a in tensors))))
            smallest = min(range(len(tensors)), key=lambda k: numel(tensors[k][0].shape))
            if p.value_of(scalar) != 1.0 and numel(tensors[smallest][0].shape) < out_size:
                op0, ax0 = tensors[smallest]
                tensors[smallest] = (p.mul(scalar, op0), ax0)
                scalar = p.num(1.0)
            op, axes = self._contract(tensors, out)
            op = p.mul(scalar, op)
        missing = tuple(i for i in out if i not in axes)
        if broadcast and missing:
            ones = p.full(p.num(1.0), self.shape(out))
            op = p.mul(self.align(op, axes, out), ones)
            axes = out
        return op, axes

    def _contract(self, tensors: list, out: tuple) -> tuple:
        p = self.plan
        if len(tensors) > 2:
            tensors = self._solves_first(tensors, out)
        if len(tensors) == 1:
            op, axes = tensors[0]
            if len(set(axes)) != len(axes):
                return self._einsum(tensors, out)
            for k in reversed(range(len(axes))):
                if axes[k] not in out:
                    op = p.sum(op, k)
                    axes = axes[:k] + axes[k + 1:]
            keep = tuple(i for i in out if i in axes)
            return self.ordered(op, axes, keep), keep
        if len(tensors) == 2:
            got = self._pair(tensors[0], tensors[1], out)
            if got is not None:
                return got
        if self.einsum_ok:
            return self._einsum(tensors, out)
        return self._pairwise(tensors, out)

    def _solves_first(self, tensors: list, out: tuple) -> list:
        """``tensors`` with each inverse's product with a factor that it alone shares a summed
        index with made first: :meth:`_pair` makes it a matrix product, which Plan.matmul turns
        into a solve (as on the matrix path), where one contraction of all would be handed
        the explicit inverse."""
        done = False
        while not done and len(tensors) > 2:
            done = True
            for x, (fo, fa) in enumerate(tensors):
                if not _inverse(fo) or len(fa) != 2 or fa[0] == fa[1]:
                    continue
                for y, other in enumerate(tensors):
                    rest = [t for k, t in enumerate(tensors) if k not in (x, y)]
                    needed = out + tuple(i for _, axes in rest for i in axes)
                    shared = [i for i in fa if i in other[1]]
                    if y == x or len(shared) != 1 or shared[0] in needed:
                        continue
                    got = self._pair((fo, fa), other, needed)
                    if got is not None:
                        tensors, done = rest + [got], False
                        break
                if not done:
                    break
        return tensors

    def _pair(self, a: tuple, b: tuple, out: tuple):
        """Two factors as a matrix product, an outer product or a broadcast scaling."""
        p = self.plan
        (ao, aa), (bo, ba) = a, b
        if len(set(aa)) != len(aa) or len(set(ba)) != len(ba) or len(aa) > 2 or len(ba) > 2:
            return None
        shared = [i for i in aa if i in ba]
        summed = [i for i in shared if i not in out]
        alone = [i for i in aa + ba if i not in shared and i not in out]
        if alone:
            return None
        if len(shared) == 1 and len(summed) == 1:
            k = summed[0]
            # Put k on the left's last axis and the right's first, transposing as little as possible.
            options = []
            for (lo, la), (ro, ra) in (((ao, aa), (bo, ba)), ((bo, ba), (ao, aa))):
                flips = (la[-1] != k) + (ra[0] != k)
                options.append((flips, lo, la, ro, ra))
            options.sort(key=lambda o: o[0])
            _, lo, la, ro, ra = options[0]
            if la[-1] != k:
                lo, la = p.T(lo), la[::-1]
            if ra[0] != k:
                ro, ra = p.T(ro), ra[::-1]
            return p.matmul(lo, ro), la[:-1] + ra[1:]
        if not summed:
            if not shared and len(aa) == 1 and len(ba) == 1:
                first, second = (a, b) if out.index(aa[0]) < out.index(ba[0]) else (b, a)
                return p.outer(first[0], second[0]), (first[1][0], second[1][0])
            big, small = (a, b) if len(aa) >= len(ba) else (b, a)
            if set(small[1]) <= set(big[1]):
                return p.mul(self.align(small[0], small[1], big[1]), big[0]), big[1]
        return None

    def _einsum(self, tensors: list, out: tuple) -> tuple:
        carried = {i for _, axes in tensors for i in axes}
        keep = tuple(i for i in out if i in carried)
        if not self.einsum_ok:
            return self._pairwise(tensors, out)
        letters: dict = {}

        def sub(axes):
            return "".join(letters.setdefault(i, _LETTERS[len(letters)]) for i in axes)

        specs = [sub(axes) for _, axes in tensors]
        spec = ",".join(specs) + "->" + sub(keep)
        return self.plan.einsum(spec, [op for op, _ in tensors], self.shape(keep)), keep

    def _pairwise(self, tensors: list, out: tuple) -> tuple:
        """A contraction without einsum: pairs of factors by tensordot or broadcast products."""
        p = self.plan
        items = [(op, axes) for op, axes in tensors]
        # Repeated indices within one factor (a diagonal) first.
        fixed = []
        for op, axes in items:
            while len(set(axes)) != len(axes):
                i = next(x for x in axes if axes.count(x) > 1)
                first = axes.index(i)
                second = axes.index(i, first + 1)
                rest = [k for k in range(len(axes)) if k not in (first, second)]
                op = p.permute(op, tuple(rest + [first, second]))
                op = p.make("diagonal", (op,), (), op.shape[:-1])
                axes = tuple(axes[k] for k in rest) + (i,)
            fixed.append((op, axes))
        items = fixed
        while len(items) > 1:
            # the pair whose product is smallest
            best = None
            for x in range(len(items)):
                for y in range(x + 1, len(items)):
                    union = tuple(dict.fromkeys(items[x][1] + items[y][1]))
                    size = numel(self.shape(union))
                    if best is None or size < best[0]:
                        best = (size, x, y)
            _, x, y = best
            (ao, aa), (bo, ba) = items[x], items[y]
            rest = [it for k, it in enumerate(items) if k not in (x, y)]
            needed = set(out) | {i for _, axes in rest for i in axes}
            shared = [i for i in aa if i in ba]
            summed = [i for i in shared if i not in needed]
            if shared and len(summed) == len(shared):
                op = p.make("tensordot", (ao, bo),
                            ((tuple(aa.index(i) for i in summed), tuple(ba.index(i) for i in summed)),),
                            tuple(d for k, d in enumerate(ao.shape) if aa[k] not in summed)
                            + tuple(d for k, d in enumerate(bo.shape) if ba[k] not in summed))
                axes = tuple(i for i in aa if i not in summed) + tuple(i for i in ba if i not in summed)
            else:
                union = tuple(dict.fromkeys(aa + ba))
                op = p.mul(self.align(ao, aa, union), self.align(bo, ba, union))
                axes = union
                for k in reversed(range(len(axes))):
                    if axes[k] not in needed:
                        op = p.sum(op, k)
                        axes = axes[:k] + axes[k + 1:]
            items = rest + [(op, axes)]
        op, axes = items[0]
        for k in reversed(range(len(axes))):
            if axes[k] not in out:
                op = p.sum(op, k)
                axes = axes[:k] + axes[k + 1:]
        keep = tuple(i for i in out if i in axes)
        return self.ordered(op, axes, keep), keep


def _inverse(op: Op) -> bool:
    """Whether ``op`` is an inverse or its transpose (a product with it can be a solve)."""
    return op.kind == "inv" or (op.kind == "T" and op.args[0].kind == "inv")


def to_plan(plan: Plan, node: Node, out: tuple, bindings: dict, variables: set, *, einsum: bool = True) -> Op:
    """The plan of IR ``node`` with its axes in the order ``out``."""
    conv = IndexToPlan(plan, bindings, variables, einsum=einsum)
    op, axes = conv.value(node)
    if op.kind == "scatter":
        return _reorder_scatter(plan, op, axes, out)
    if set(axes) != set(out):
        op, axes = conv.contract([(op, axes)], out)
    return conv.ordered(op, axes, out)


def _scatter_entries(op: Op, axes: tuple, target: tuple) -> list:
    """The entries of a scatter whose axes are ``axes``, re-expressed for the axes ``target``."""
    pos = {ix: k for k, ix in enumerate(axes)}
    return [(e, (tuple(pattern[pos[ix]] for ix in target), groups))
            for e, (pattern, groups) in zip(op.args, op.attrs[0])]


def _reorder_scatter(plan: Plan, op: Op, axes: tuple, out: tuple) -> Op:
    return plan.scatter(_scatter_entries(op, axes, out), tuple(i.dim for i in out))
