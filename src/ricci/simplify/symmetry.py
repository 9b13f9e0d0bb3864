"""Declared symmetry: W_ij ≡ W_ji for a symmetric matrix W (TENSOR_CALCULUS §3.4).

Used only after differentiation (the derivative follows the unconstrained convention), so that
``x'*(W + W')`` becomes ``2*x'*W``: each symmetric variable's two indices are put in one
canonical order, after which the normalising constructors collect the now-equal terms.
"""

from __future__ import annotations

from ..ir import build as B
from ..ir.nodes import Node, Var
from ..ir.traverse import transform
from ..language.kinds import SYMMETRIC


def use_symmetry(node: Node, expr=None) -> Node:
    if expr is not None and not any(v.kind == SYMMETRIC for v in expr.variables.values()):
        return node  # no symmetric variable: nothing to turn (a walk of the whole answer saved)

    def leaf(n: Node) -> Node:
        if isinstance(n, Var) and n.sym and len(n.idx) == 2 and n.idx[0] != n.idx[1]:
            i, j = n.idx
            if _key(j) < _key(i):
                return B.var(n.name, (j, i), True)
        return n

    # Renaming summed indices can reorder them: repeat until nothing changes.
    for _ in range(4):
        new = transform(node, leaf)
        if new is node:
            break
        node = new
    return node


def _key(ix):
    # Free indices before bound ones, then by name: stable under the canonical naming.
    return (ix.bound, ix.name)
