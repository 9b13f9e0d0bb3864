"""A product of a display chain whose links are built when something first reads them.

The display holds a product left-nested, ``A*B*C`` as ``(A*B)*C``.  The chain rule's chain
``W64*diag(…)*W63*…`` grows at its left end, one level of the network at a time, so each
longer chain shares no link with the one before: built link by link, the display made 347,
1,172 and 3,908 new links at depth 16, 32 and 64 (issue 21), while every chain but the last
is read only as the factors of the next product (``MatrixForms.decompose``, which has them
kept) and by its type (typed from its factors' types).  :class:`PendingChain` is such a product:
a :class:`~ricci.language.ast.BinOp` ``*`` whose two sides are built on first use (a printer,
a walk, a comparison, a hash), after which it is an ordinary ``BinOp`` — its class too — with
the same structure the links built at once would have had.
"""

from __future__ import annotations

from ..language import ast as A


class _Side:
    """A side of a pending product (``left``, ``right``): reading it builds both.  A non-data
    descriptor: once built, the sides sit in the node's own ``__dict__`` and are read there."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, node, owner=None):
        if node is None:
            return self
        node._build()
        return node.__dict__[self.name]


class PendingChain(A.BinOp):
    """``factors[0]*factors[1]*…`` left-nested, its links built by ``forms.build_chain`` on
    first use.  Made only by :meth:`pending`; never compared, hashed or pickled unbuilt (each
    builds it first)."""

    left = _Side("left")
    right = _Side("right")

    @classmethod
    def pending(cls, forms, factors: tuple) -> "PendingChain":
        node = object.__new__(cls)  # the dataclass's __init__ would set the sides
        node.__dict__.update(op="*", span=None, _forms=forms, _factors=factors)
        return node

    def _build(self) -> None:
        d = self.__dict__
        forms, factors = d.pop("_forms"), d.pop("_factors")
        left = forms.build_chain(list(factors[:-1])) if len(factors) > 2 else factors[0]
        d["left"], d["right"] = left, factors[-1]
        # from now on an ordinary BinOp: type(node) is A.BinOp, its equality and pickling theirs
        object.__setattr__(self, "__class__", A.BinOp)
        forms._links.setdefault((id(left), id(factors[-1])), (left, factors[-1], self))

    def __eq__(self, other):
        self._build()
        return self == other  # the BinOp's equality now (an unbuilt other builds in turn)

    __hash__ = A.BinOp.__hash__  # reads the sides: builds first

    def __reduce_ex__(self, protocol):
        self._build()
        return self.__reduce_ex__(protocol)
