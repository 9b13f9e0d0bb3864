"""Constants with their sizes written out: ``eye(n)``, ``vector(c, n)``, ``matrix(c, m, n)``.

``eye``, ``vector(c)`` and ``matrix(c)`` take their size from the context (``A + eye``); where
nothing around a constant fixes its size (the Hessian ``lambda*eye`` of ``0.5*lambda*w'*w``, a
zero derivative), the size is written out, as MATLAB and NumPy write it: a whole number, or a
dimension of a variable — ``len(w)`` (NumPy's ``len``), ``size(A, 1)`` and ``size(A, 2)``
(MATLAB's), and ``matrix(c, size(A))`` for A's shape (MATLAB's ``zeros(size(A))``).  A size is
a type, not a value: the checker ties the constant's dimension to the variable's (kinds.py), so
lowering, evaluation and code generation see an ordinary constant of that size.
"""

from __future__ import annotations

#: Functions that name a size; they stand only as the size argument of a constant.
SIZE_FUNCTIONS = ("len", "size")
#: Constants that accept sizes, and how they are written (for error messages).
SIZED_CONSTANTS = ("eye",)
SIZED_USAGE = {
    "eye": "eye(n), e.g. eye(len(x)) or eye(size(A, 2))",
    "vector": "vector(c, n), e.g. vector(0, len(x))",
    "matrix": "matrix(c, m, n), e.g. matrix(0, size(A, 1), len(x)), or matrix(c, size(A))",
}

#: What MATLAB and NumPy users type for a sized constant or a size, and what to write instead.
SIZED_SPELLINGS = {
    "zeros": "vector(0, n) or matrix(0, m, n), e.g. matrix(0, size(A))",
    "ones": "vector(1, n) or matrix(1, m, n), e.g. vector(1, len(x))",
    "zeros_like": "matrix(0, size(A)) or vector(0, len(x))",
    "ones_like": "matrix(1, size(A)) or vector(1, len(x))",
    "identity": "eye(n), e.g. eye(len(x))",
    "length": "len(x), as the size of a constant: eye(len(x))",
    "numel": "len(x), as the size of a constant: eye(len(x))",
}


def is_sized(node) -> bool:
    """Whether ``node`` is a constant with its size written out (more than a value)."""
    from . import ast as A

    return isinstance(node, A.Call) and (node.func == "eye" or (
        node.func in ("vector", "matrix") and len(node.args) > 1))


def value_of(node):
    """The value argument of ``vector(c, …)`` / ``matrix(c, …)`` (None for ``eye(n)``)."""
    return None if node.func == "eye" else node.args[0]


def walk_values(node):
    """Every node of the tree whose value counts, parents first: the size arguments of sized
    constants are left out (``vector(2, len(x))`` does not depend on x's value)."""
    from . import ast as A

    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        kids = A.children(n)
        if is_sized(n):
            kids = () if n.func == "eye" else kids[:1]
        stack.extend(reversed(kids))


def without_sizes(node):
    """``node`` with every written size dropped (``eye(len(w))`` → ``eye``, ``vector(0, n)`` →
    ``vector(0)``): for readers that take a constant's size from its context, as a proof over
    the Hessian's structure does (the size does not change what a constant is)."""
    from . import ast as A

    if node is None:
        return None
    if isinstance(node, A.Call) and is_sized(node):
        return A.Name("eye", span=node.span) if node.func == "eye" else \
            A.Call(node.func, (without_sizes(node.args[0]),), span=node.span)
    if isinstance(node, A.Where):
        return A.Where(without_sizes(node.body), tuple((n, without_sizes(e)) for n, e in node.bindings),
                       span=node.span, name_spans=node.name_spans)
    return A.map_children(node, without_sizes)
