"""Products of several matrices: the cheapest order, diagonals as scaling, scalars where cheap.

A chain is a list of :class:`Factor` s, each a plan node with its orientation in the 2-D view
(``rows``/``cols`` are dimensions, or 1 for the side of a vector or scalar).  :func:`product`

1. drops identity factors and lifts multiples of the identity into the scalar coefficient;
2. applies each ``diag(v)`` factor as a scaling of its cheaper neighbour (``v[:, None] * A``);
3. orders the remaining products by the classical matrix-chain dynamic programme, with the cost
   of :func:`ricci.codegen.plan.local_cost` (so ``x'*A*B`` is ``(x @ A) @ B``, never ``A @ B``);
4. multiplies the scalar coefficient into the smallest operand or intermediate result
   (``-2*(y - Phi*theta)'*Phi`` scales a vector, never the N×D matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

from .plan import FLOP, Op, Plan, numel, size_of


@dataclass(frozen=True)
class Factor:
    op: Op
    rows: object
    cols: object

    def shape2(self) -> tuple:
        return (self.rows, self.cols)


def _is_identity(f: Factor) -> bool:
    return f.op.kind == "diag" and f.op.args[0].ndim == 0


def _apply_diagonals(plan: Plan, factors: list[Factor], scalars: list[Op]) -> list[Factor]:
    fs = []
    for f in factors:
        if _is_identity(f) and len(factors) > 1:
            scalars.append(f.op.args[0])
            continue
        fs.append(f)
    changed = True
    while changed and len(fs) > 1:
        changed = False
        for k, f in enumerate(fs):
            if f.op.kind != "diag":
                continue
            v = f.op.args[0]
            left = fs[k - 1] if k > 0 else None
            right = fs[k + 1] if k + 1 < len(fs) else None
            # Scale the smaller neighbour (ties: the right one, scaling its rows).
            if right is not None and (left is None or numel(right.op.shape) <= numel(left.op.shape)):
                fs[k:k + 2] = [Factor(plan.scale_rows(right.op, v), right.rows, right.cols)]
            else:
                fs[k - 1:k + 1] = [Factor(plan.scale_cols(left.op, v), left.rows, left.cols)]
            changed = True
            break
    return fs


def _pair(plan: Plan, a: Factor, b: Factor) -> Factor:
    """The product of two oriented factors, as the fitting array operation."""
    if a.cols == 1:  # inner dimension 1: an outer product or a scaling
        if a.rows != 1 and b.cols != 1:
            op = plan.outer(a.op, b.op)
        else:
            op = plan.mul(a.op, b.op)
    else:
        op = plan.matmul(a.op, b.op)
    return Factor(op, a.rows, b.cols)


def _pair_cost(a_shape: tuple, b_shape: tuple) -> float:
    """:func:`~ricci.codegen.plan.local_cost` of the product of an (m, k) and a (k, n) factor."""
    (m, k), (_, n) = a_shape, b_shape
    sm, sk, sn = (size_of(d) if d != 1 else 1 for d in (m, k, n))
    if sk == 1:  # an outer product or a scaling: one write per entry
        return float(sm * sn)
    return sm * sk + sk * sn + sm * sn + 2 * FLOP * sm * sk * sn


#: Longer chains are ordered greedily: the DP is cubic in the length (a chain of 296 matrices,
#: inside the limits on inputs, took 84 s to generate code for).
MAX_DP_CHAIN = 40


def _greedy_order(fs: list[Factor]):
    """Repeatedly the cheapest adjacent product (the leftmost of equal ones): quadratic in the
    length, and a vector at either end is multiplied in first (x'*A1*…*A300 as ((x'*A1)*A2)…),
    as the DP would."""
    items = [(k, f.shape2()) for k, f in enumerate(fs)]
    while len(items) > 1:
        costs = [_pair_cost(items[k][1], items[k + 1][1]) for k in range(len(items) - 1)]
        k = costs.index(min(costs))
        (ta, sa), (tb, sb) = items[k], items[k + 1]
        items[k:k + 2] = [((ta, tb), (sa[0], sb[1]))]
    return items[0][0]


def _order(fs: list[Factor]):
    """Matrix-chain DP: the cheapest parenthesisation, as nested (i, j) split tuples."""
    n = len(fs)
    if n > MAX_DP_CHAIN:
        return _greedy_order(fs)
    best: dict = {}
    for i in range(n):
        best[(i, i)] = (0.0, None, fs[i].shape2())
    for length in range(2, n + 1):
        for i in range(n - length + 1):
            j = i + length - 1
            cand = None
            for k in range(i, j):
                cl, _, sl = best[(i, k)]
                cr, _, sr = best[(k + 1, j)]
                c = cl + cr + _pair_cost(sl, sr)
                if cand is None or c < cand[0] - 1e-9:
                    cand = (c, k, (sl[0], sr[1]))
            best[(i, j)] = cand

    def tree(i, j):
        if i == j:
            return i
        k = best[(i, j)][1]
        return (tree(i, k), tree(k + 1, j))

    return tree(0, n - 1)


def product(plan: Plan, factors: list[Factor], scalars: list[Op]) -> Factor:
    """The product of ``scalars`` and the chain ``factors`` (in order), computed cheaply."""
    scalars = list(scalars)
    fs = _apply_diagonals(plan, list(factors), scalars)
    scalar = _scalar(plan, scalars)
    if not fs:
        return Factor(scalar, 1, 1)
    tree = _order(fs)
    # The smallest operand or intermediate result takes the scalar (ties: plan.scale_results).
    candidates: list = []

    def build(t, scale_at=None) -> Factor:
        f = fs[t] if isinstance(t, int) else _pair(plan, build(t[0], scale_at), build(t[1], scale_at))
        if scale_at is None:
            on_result = (t != tree) if plan.scale_results else (t == tree)
            candidates.append((numel(f.op.shape), on_result, len(candidates), t))
        elif t == scale_at:
            f = Factor(plan.mul(scalar, f.op), f.rows, f.cols)
        return f

    plain = build(tree)
    if plan.value_of(scalar) == 1.0:
        return plain
    target = min(candidates)[3]
    return build(tree, target)


def _scalar(plan: Plan, scalars: list[Op]) -> Op:
    """The product of the scalar factors: numbers folded into one coefficient."""
    coef = 1.0
    others: list[Op] = []
    for s in scalars:
        v = plan.value_of(s)
        if v is not None:
            coef *= v
        elif s.kind == "neg":
            coef = -coef
            others.append(s.args[0])
        else:
            others.append(s)
    out = plan.num(coef)
    for s in others:
        out = plan.mul(out, s)
    return out
