"""Every object of a matrix AST once, without a Python call per node.

The display's passes ask questions of the whole answer (is there a size-less constant, a
bound name, a logsumexp?).  Asked through :func:`ricci.language.ast.walk` (a generator, and
``children`` called per node) they walked a deep answer's unfolded tree, three or four Python
calls a node (issue 21); the answers share their subtrees as objects, and a question about
what is in the tree is answered by each object once.
"""

from __future__ import annotations

from ..language import ast as A


def objects(tree: A.Expr) -> list:
    """The objects of ``tree``, each once (a shared subtree once), parents before children in
    the order of a depth-first walk from the left."""
    out: list = []
    seen: set = set()
    stack = [tree]
    BinOp, Call, Name, Num, Neg, Transpose = A.BinOp, A.Call, A.Name, A.Num, A.Neg, A.Transpose
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        out.append(n)
        t = type(n)
        if t is BinOp:
            stack.append(n.right)
            stack.append(n.left)
        elif t is Name or t is Num:
            continue
        elif t is Call:
            stack.extend(reversed(n.args))
        elif t is Transpose or t is Neg:
            stack.append(n.arg)
        else:  # the rarer nodes, and a pending chain (built here, as A.children builds it)
            stack.extend(reversed(A.children(n)))
    return out

