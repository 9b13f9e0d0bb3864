"""One factorisation per matrix: which of a plan's solves stay solves (docs/numerics.md).

:meth:`Plan.matmul <ricci.codegen.plan.Plan.matmul>` turns every product with an inverse into a
solve (``inv(A) @ b`` → ``solve(A, b)``) where it is made, before the whole plan is known. Seen
whole, a solve is the better choice only while the inverse is not computed anyway:

* where ``inv(A)`` is itself part of the answer (``inv(A)'``, ``tr(inv(A)*B)``), it is computed
  once and each product with it is a product (n² per vector), not one more factorisation (n³);
* where more than :data:`MAX_SOLVES` different right-hand sides are solved with A (or A'), their
  factorisations (2n³/3 flops each) cost more than the inverse (2n³) once: the inverse, computed
  once, serves them all.

Otherwise every solve stays a solve: cheaper than the inverse and backward stable (its residual
eps |A| |x| against the inverse's eps |A| |inv(A)| |b|).
"""

from __future__ import annotations

from .plan import INVERSE, Op, Plan

#: More solves than this with one matrix (and its transpose) cost more than its inverse once.
MAX_SOLVES = 3


def _matrix(m: Op) -> tuple[Op, bool]:
    """The matrix a solve factorises and whether the solve is with its transpose."""
    return (m.args[0], True) if m.kind == "T" else (m, False)


def factor_solves(plan: Plan, roots: list) -> list:
    """``roots`` with the solves that an inverse serves better written as products with it."""
    order, seen, todo = [], set(), [r for r in roots if r is not None]
    while todo:  # every reachable node, each once
        op = todo.pop()
        if id(op) in seen:
            continue
        seen.add(id(op))
        order.append(op)
        todo.extend(op.args)
    solves: dict[int, list] = {}
    inverted: set = set()
    for op in order:
        if op.kind == "solve":
            m, _ = _matrix(op.args[0])
            solves.setdefault(id(m), []).append(op)
        elif op.kind == INVERSE:
            inverted.add(id(op.args[0]))
    use_inverse = {k for k, ops in solves.items() if k in inverted or len(ops) > MAX_SOLVES}
    if not use_inverse:
        return roots
    new: dict[int, Op] = {}

    def rebuilt(op: Op) -> Op:
        args = tuple(new.get(id(a), a) for a in op.args)
        if op.kind == "solve":
            m, transposed = _matrix(args[0])
            if id(_matrix(op.args[0])[0]) in use_inverse:
                inverse = plan.inv(m)
                left = plan.T(inverse) if transposed else inverse
                # made directly: Plan.matmul would turn it back into a solve
                return plan.make("matmul", (left, args[1]), (), op.shape)
        if all(a is b for a, b in zip(args, op.args)):
            return op
        return plan.make(op.kind, args, op.attrs, op.shape)

    # children before parents: the reverse of a depth-first post-order
    done: set = set()
    for root in roots:
        if root is None:
            continue
        stack = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in done:
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((a, False) for a in node.args if id(a) not in done)
                continue
            done.add(id(node))
            out = rebuilt(node)
            if out is not node:
                new[id(node)] = out
                if id(node) in plan.labels:  # a where binding's name follows its node
                    plan.labels[id(out)] = (plan.labels[id(node)][0], out)
    return [None if r is None else new.get(id(r), r) for r in roots]
