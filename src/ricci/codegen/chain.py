"""Products of several matrices: the cheapest order, diagonals as scaling, scalars where cheap.

A chain is a list of :class:`Factor` s, each a plan node with its orientation in the 2-D view
(``rows``/``cols`` are dimensions, or 1 for the side of a vector or scalar).  :func:`product`

1. drops identity factors and lifts multiples of the identity into the scalar coefficient;
2. applies each ``diag(v)`` factor as a scaling of its cheaper neighbour (``v[:, None] * A``);
3. orders the remaining products by the classical matrix-chain dynamic programme, with the cost
   of :func:`ricci.codegen.plan.local_cost` (so ``x'*A*B`` is ``(x @ A) @ B``, never ``A @ B``);
4. multiplies the scalar coefficient into the smallest operand or intermediate result
   (``-2*(y - Phi*theta)'*Phi`` scales the length-D result, not the N×D matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

from .plan import Op, Plan, local_cost, numel


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
    m, k = a_shape
    _, n = b_shape
    from .plan import size_of

    sm, sk, sn = size_of(m) if m != 1 else 1, size_of(k) if k != 1 else 1, size_of(n) if n != 1 else 1
    if sk == 1:
        return float(sm * sn)
    from .plan import FLOP

    return sm * sk + sk * sn + sm * sn + 2 * FLOP * sm * sk * sn


def _order(fs: list[Factor]):
    """Matrix-chain DP: the cheapest parenthesisation, as nested (i, j) split tuples."""
    n = len(fs)
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
    shape = tree = None
    if fs:
        tree = _order(fs)
    # The scalar coefficient: numbers folded, other scalars multiplied together.
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
    scalar = plan.num(coef)
    for s in others:
        scalar = plan.mul(scalar, s) if plan.value_of(scalar) != 1.0 else s
    if tree is None:
        return Factor(scalar, 1, 1)

    def build(t, scale_at):
        if isinstance(t, int):
            f = fs[t]
        else:
            f = _pair(plan, build(t[0], scale_at), build(t[1], scale_at))
        if scale_at is not None and t == scale_at:
            f = Factor(plan.mul(scalar, f.op), f.rows, f.cols)
        return f

    if plan.value_of(scalar) == 1.0:
        return build(tree, None)
    # Where to multiply by the scalar: the smallest operand or intermediate (ties: the result).
    plain = build(tree, None)
    sizes: list = []

    def collect(t, f_op):
        sizes.append((numel(f_op.shape), 0 if t == tree else 1, t))

    def walk(t):
        if isinstance(t, int):
            collect(t, fs[t].op)
            return fs[t]
        f = _pair(plan, walk(t[0]), walk(t[1]))
        collect(t, f.op)
        return f

    walk(tree)
    sizes.sort(key=lambda s: (s[0], s[1]))
    target = sizes[0][2]
    scaled = build(tree, target)
    _ = plain, shape, local_cost
    return scaled
