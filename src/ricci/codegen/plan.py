"""The compute plan: a small DAG of array operations, the form that code is generated from.

A plan node (:class:`Op`) is an operation on NumPy-like arrays in their *natural* layout
(a scalar is 0-D, a vector 1-D, a matrix 2-D, a tensor n-D; a vector has no orientation here:
``v @ A`` and ``A @ v`` say which side it is on).  Its ``shape`` is a tuple of dimensions:
dimension names of the original expression (``"n"``), concrete ints, or ``1`` for an axis
inserted for broadcasting.

Nodes are made only through the methods of :class:`Plan`, which hash-cons them (so a subterm
built twice, by the value and by the derivative, is one node and is computed once: CSE) and
which apply the rewrites that turn a *display* form into a *compute* form:

* no materialised diagonal: ``diag(v) @ A`` → ``v[:, None] * A``, ``diag(v) ± diag(w)`` →
  ``diag(v ± w)``, ``A + diag(v)`` → ``A`` with ``v`` added to its diagonal; the identity is
  ``diag(1)``, so ``eye @ A`` → ``A`` and ``A + 2*eye`` adds 2 to the diagonal;
* a transposed symmetric matrix is the matrix itself; ``v @ A.T`` → ``A @ v`` for a vector v;
* a product by a vector of all-equal entries is a sum along an axis (``1'*M`` → ``M.sum(0)``).

Product chains are ordered and sums distributed by :mod:`ricci.codegen.chain`, using
:func:`cost`, a model of the time an operation takes, counted in passes over memory plus
floating-point work; symbolic dimensions count as :data:`TYPICAL_SIZE`.
"""

from __future__ import annotations

import math

from ..functions import lookup
from .powers import spread_power

#: The size assumed for a symbolic dimension by the cost model.
TYPICAL_SIZE = 1000
#: Cost of one floating-point operation in a BLAS call, relative to one pass over an entry.
FLOP = 1.0 / 16
#: Cost of an elementwise transcendental function, per entry (passes included).
TRANSCENDENTAL = 8.0
#: The kind of the inverse's node (Plan.inv), which codegen/solves.py looks for.
INVERSE = "inv"


class Op:
    """One operation of the plan; identity is equality (hash-consed by :class:`Plan`)."""

    __slots__ = ("__weakref__", "args", "attrs", "key", "kind", "shape")

    def __init__(self, kind: str, args: tuple, attrs: tuple, shape: tuple):
        self.kind = kind
        self.args = args
        self.attrs = attrs
        self.shape = shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:  # debugging aid only
        inner = ", ".join([repr(a) for a in self.args] + [repr(a) for a in self.attrs])
        return f"{self.kind}({inner})"


def size_of(d) -> int:
    return d if isinstance(d, int) else TYPICAL_SIZE


def numel(shape: tuple) -> int:
    return math.prod(size_of(d) for d in shape)


def broadcast_shapes(*shapes: tuple) -> tuple:
    n = max((len(s) for s in shapes), default=0)
    out = []
    for k in range(n):
        dims = {s[len(s) - n + k] for s in shapes if len(s) - n + k >= 0} - {1}
        if len(dims) > 1:
            raise ValueError(f"shapes {shapes} do not broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


class Plan:
    """The factory of plan nodes: hash-consing and the local rewrites (see the module docstring)."""

    def __init__(self, symmetric: frozenset = frozenset(), *, scale_results: bool = True):
        self.table: dict = {}
        #: where a scalar goes when an operand and the product are equally large: onto the
        #: product (NumPy: one pass either way), or onto the operand (XLA fuses a scaling of an
        #: operand into the producer, but a scaling of a dot's result makes it leave its fast kernel)
        self.scale_results = scale_results
        #: names of variables declared symmetric (W' is W)
        self.symmetric = symmetric
        #: id(node) → (name, node): the names of where bindings
        self.labels: dict = {}
        #: id(v) → (v, exp(-|v|)) where softplus and sigmoid of one argument share that exp
        #: (set by codegen/emit.py for the NumPy-like backends; None: each is the backend's own)
        self.shared_exp: dict | None = None
        #: NumPy: softplus and sigmoid of one argument as one block with a branch on max(x)
        #: (Plan.softplus_block, the printer's softplus_lines); else the shared exp above
        self.exp_branch = False

    def make(self, kind: str, args=(), attrs=(), shape=(), *, commutative: bool = False) -> Op:
        """The node, made once: a commutative node found again with its arguments swapped is
        the first one made (so ``s + t`` keeps the order it was written in, and ``t + s`` is it)."""
        args, attrs, shape = tuple(args), tuple(attrs), tuple(shape)
        ids = tuple(id(a) for a in args)
        key = (kind, tuple(sorted(ids)) if commutative else ids, attrs, shape)
        node = self.table.get(key)
        if node is None:
            node = Op(kind, args, attrs, shape)
            self.table[key] = (node, args)  # args kept alive so their ids stay unique
            return node
        return node[0]

    # -- leaves -----------------------------------------------------------------------------------
    def var(self, name: str, shape: tuple) -> Op:
        return self.make("var", (), (name,), shape)

    def num(self, value: float) -> Op:
        value = float(value)
        return self.make("num", (), (0.0 if value == 0 else value,), ())

    def dim(self, name) -> Op:
        """The size of a dimension, as a float scalar."""
        if isinstance(name, int):
            return self.num(name)
        return self.make("dim", (), (name,), ())

    def full(self, value: Op, shape: tuple) -> Op:
        """An array of ``shape`` whose every entry is the scalar ``value``."""
        if not shape:
            return value
        return self.make("full", (value,), (), shape)

    def eye(self, n) -> Op:
        return self.diag(self.num(1.0), n)

    def let(self, name: str, a: Op) -> Op:
        """``a``, to be shown under ``name`` (a ``where`` binding) on a line of its own.  The
        node itself is unchanged, so that the value and the derivative still share it."""
        if a.kind not in ("var", "num", "dim"):
            self.labels.setdefault(id(a), (name, a))
        return a

    # -- elementwise --------------------------------------------------------------------------------
    @staticmethod
    def value_of(a: Op):
        return a.attrs[0] if a.kind == "num" else None

    def neg(self, a: Op) -> Op:
        if a.kind == "num":
            return self.num(-a.attrs[0])
        if a.kind == "neg":
            return a.args[0]
        if a.kind == "diag":
            return self.diag(self.neg(a.args[0]), a.attrs[0])
        if a.kind == "mul" and a.args[0].kind == "num":
            return self.mul(self.num(-a.args[0].attrs[0]), a.args[1])
        if a.kind == "sub":
            return self.sub(a.args[1], a.args[0])
        pushed = self._push_scalar(a, self.neg)
        if pushed is not None:
            return pushed
        return self.make("neg", (a,), (), a.shape)

    @staticmethod
    def _scalar_full(a: Op, b: Op) -> Op:
        """A constant array the shape of ``b`` is, in an elementwise operation, its scalar."""
        return a.args[0] if a.kind == "full" and a.shape == b.shape else a

    def add(self, a: Op, b: Op) -> Op:
        if a.kind == "full" and b.kind == "full" and a.shape == b.shape:
            # both constant arrays: one constant array (each alone would be its scalar)
            return self.full(self.add(a.args[0], b.args[0]), a.shape)
        a, b = self._scalar_full(a, b), self._scalar_full(b, a)
        if self.value_of(a) == 0.0:
            return b if b.shape == broadcast_shapes(a.shape, b.shape) else self._binary("add", a, b)
        if self.value_of(b) == 0.0:
            return a if a.shape == broadcast_shapes(a.shape, b.shape) else self._binary("add", a, b)
        if a.kind == "num" and b.kind == "num":
            return self.num(a.attrs[0] + b.attrs[0])
        if b.kind == "neg":
            return self.sub(a, b.args[0])
        if a.kind == "neg" and b.kind != "neg":
            return self.sub(b, a.args[0])
        if b.kind == "mul" and self.value_of(b.args[0]) is not None and b.args[0].attrs[0] < 0:
            return self.sub(a, self.neg(b))
        if a.kind == "diag" and b.kind == "diag":
            return self.diag(self.add(a.args[0], b.args[0]), a.attrs[0])
        if b.kind == "diag" and a.ndim == 2:
            return self.add_diag(a, b.args[0])
        if a.kind == "diag" and b.ndim == 2:
            return self.add_diag(b, a.args[0])
        if a.kind == "add_diag" and b.ndim == 2:  # the diagonal is written last, onto the sum
            return self.add_diag(self.add(a.args[0], b), a.args[1])
        if b.kind == "add_diag" and a.ndim == 2:
            return self.add_diag(self.add(a, b.args[0]), b.args[1])
        if a.kind != "num" and b.kind == "num":
            a, b = b, a  # a number first: 1 + x
        return self._binary("add", a, b, commutative=True)

    def sub(self, a: Op, b: Op) -> Op:
        if a.kind == "full" and b.kind == "full" and a.shape == b.shape:
            # both constant arrays: one constant array (each alone would be its scalar)
            return self.full(self.sub(a.args[0], b.args[0]), a.shape)
        a, b = self._scalar_full(a, b), self._scalar_full(b, a)
        if self.value_of(b) == 0.0 and a.shape == broadcast_shapes(a.shape, b.shape):
            return a
        if self.value_of(a) == 0.0 and b.shape == broadcast_shapes(a.shape, b.shape):
            return self.neg(b)
        if a.kind == "num" and b.kind == "num":
            return self.num(a.attrs[0] - b.attrs[0])
        if b.kind == "neg":
            return self.add(a, b.args[0])
        if a.kind == "diag" and b.kind == "diag":
            return self.diag(self.sub(a.args[0], b.args[0]), a.attrs[0])
        if b.kind == "diag" and a.ndim == 2:
            return self.add_diag(a, self.neg(b.args[0]))
        if a.kind == "diag" and b.ndim == 2:
            return self.add_diag(self.neg(b), a.args[0])
        if a.kind == "add_diag" and b.ndim == 2:
            return self.add_diag(self.sub(a.args[0], b), a.args[1])
        if b.kind == "add_diag" and a.ndim == 2:
            return self.add_diag(self.sub(a, b.args[0]), self.neg(b.args[1]))
        return self._binary("sub", a, b)

    def mul(self, a: Op, b: Op) -> Op:
        """Elementwise product (NumPy broadcasting); a scalar factor is kept on the left."""
        if a.kind == "full" and b.kind == "full" and a.shape == b.shape:
            # both constant arrays: one constant array (each alone would be its scalar)
            return self.full(self.mul(a.args[0], b.args[0]), a.shape)
        a, b = self._scalar_full(a, b), self._scalar_full(b, a)
        if b.ndim == 0 and a.ndim > 0:
            a, b = b, a
        va, vb = self.value_of(a), self.value_of(b)
        if va is not None and vb is not None:
            return self.num(va * vb)
        if va == 1.0:
            return b
        if vb == 1.0 and a.shape == b.shape:
            return a
        if va == -1.0:
            return self.neg(b)
        if a.kind == "neg":
            return self.neg(self.mul(a.args[0], b))
        if b.kind == "neg":
            return self.neg(self.mul(a, b.args[0]))
        if a.ndim == 0:
            if b.kind == "diag":
                return self.diag(self.mul(a, b.args[0]), b.attrs[0])
            if b.kind == "full":
                return self.full(self.mul(a, b.args[0]), b.shape)
            if a.kind == "div" and self.value_of(a.args[0]) == 1.0:  # (1/s) * b is b / s
                return self.div(b, a.args[1])
            if b.kind == "mul" and b.args[0].ndim == 0 and va is not None and self.value_of(b.args[0]) is not None:
                return self.mul(self.num(va * b.args[0].attrs[0]), b.args[1])
            spread = spread_power(self, a, b, 1)
            if spread is not None:
                return spread
            pushed = self._push_scalar(b, lambda x: self.mul(a, x))
            if pushed is not None:
                return pushed
        elif b.ndim > 0 and numel(b.shape) < numel(a.shape):
            a, b = b, a  # the scaling vector first: v[:, None] * A
        return self._binary("mul", a, b, commutative=True)

    def _push_scalar(self, b: Op, scale):
        """``scale`` applied to the smaller operand of the product ``b``, when one is smaller
        than the product itself (s * outer(u, v) is outer(s * u, v): n work, not n²)."""
        if b.kind not in ("matmul", "outer"):
            return None
        k = min(range(2), key=lambda j: numel(b.args[j].shape))
        if numel(b.args[k].shape) > numel(b.shape) or (
                numel(b.args[k].shape) == numel(b.shape) and self.scale_results):
            return None
        args = list(b.args)
        args[k] = scale(args[k])
        return self.matmul(*args) if b.kind == "matmul" else self.outer(*args)

    def div(self, a: Op, b: Op) -> Op:
        vb = self.value_of(b)
        if vb == 1.0:
            return a
        if a.kind == "diag" and b.ndim == 0:
            return self.diag(self.div(a.args[0], b), a.attrs[0])
        if a.kind == "full" and b.ndim == 0:
            return self.full(self.div(a.args[0], b), a.shape)
        if self.value_of(a) is not None and vb is not None and vb != 0:
            return self.num(a.attrs[0] / vb)
        if b.ndim == 0:
            spread = spread_power(self, b, a, -1)
            if spread is not None:
                return spread
            pushed = self._push_scalar(a, lambda x: self.div(x, b))
            if pushed is not None:
                return pushed
        return self._binary("div", a, b)

    def pow(self, a: Op, b: Op) -> Op:
        vb = self.value_of(b)
        if vb == 1.0:
            return a
        return self._binary("pow", a, b)

    def _binary(self, kind: str, a: Op, b: Op, commutative: bool = False) -> Op:
        return self.make(kind, (a, b), (), broadcast_shapes(a.shape, b.shape), commutative=commutative)

    def func(self, name: str, a: Op) -> Op:
        return self.make("func", (a,), (name,), a.shape)

    def one_or(self, x: Op, e: Op) -> Op:
        """1 where x ≥ 0, else e, for e in [0, 1] (exp(-|x|)): max(e, x ≥ 0), one comparison
        and one maximum.  Of -v, read as v ≤ 0 (no negation)."""
        if x.kind == "neg":
            return self.make("one_or", (x.args[0], e), ("<=",), broadcast_shapes(x.shape, e.shape))
        return self.make("one_or", (x, e), (">=",), broadcast_shapes(x.shape, e.shape))

    def expand(self, a: Op, pattern: tuple) -> Op:
        """Insert broadcast axes: ``pattern`` has one entry per result axis, True for an axis of
        ``a`` (in order) and False for a new axis of length 1 (``v[:, None]`` is (True, False))."""
        if all(pattern):
            return a
        it = iter(a.shape)
        shape = tuple(next(it) if keep else 1 for keep in pattern)
        return self.make("expand", (a,), (tuple(pattern),), shape)

    # -- shapes -------------------------------------------------------------------------------------
    def T(self, a: Op) -> Op:
        """Transpose of a matrix; a vector or scalar is its own transpose (1-D layout)."""
        if a.ndim < 2:
            return a
        if a.kind == "T":
            return a.args[0]
        if a.kind == "var" and a.attrs[0] in self.symmetric:
            return a
        if a.kind in ("diag", "full"):
            return a if a.shape[0] == a.shape[1] or a.kind == "diag" else self.full(a.args[0], a.shape[::-1])
        if a.kind == "neg":
            return self.neg(self.T(a.args[0]))
        if a.kind == "mul" and a.args[0].ndim == 0:
            return self.mul(a.args[0], self.T(a.args[1]))
        return self.make("T", (a,), (), a.shape[::-1])

    def permute(self, a: Op, perm: tuple) -> Op:
        perm = tuple(perm)
        if perm == tuple(range(len(perm))):
            return a
        if len(perm) == 2:
            return self.T(a)
        return self.make("permute", (a,), (perm,), tuple(a.shape[p] for p in perm))

    def reshape(self, a: Op, shape: tuple) -> Op:
        return self.make("reshape", (a,), (), shape)

    # -- reductions and products --------------------------------------------------------------------
    def sum(self, a: Op, axis: int | None = None) -> Op:
        if a.ndim == 0:
            return a
        if axis is None:
            if a.kind == "pick" and a.attrs[0] == "sp":  # a softplus block's sum: its own line
                return self.make("pick", a.args, ("sp_sum",), ())
            if a.kind == "sum":  # the sum of column sums is the sum
                return self.sum(a.args[0])
            if a.kind == "full":
                return self.mul(a.args[0], self._count(a.shape))
            return self.make("sum", (a,), (None,), ())
        shape = a.shape[:axis] + a.shape[axis + 1:]
        if a.kind == "T":
            return self.sum(a.args[0], a.ndim - 1 - axis)
        return self.make("sum", (a,), (axis,), shape)

    def _count(self, shape: tuple) -> Op:
        out = self.num(1.0)
        for d in shape:
            out = self.mul(out, self.dim(d))
        return out

    def sumsq(self, a: Op) -> Op:
        """Σ a², the squared Euclidean / Frobenius norm."""
        return self.make("sumsq", (a,), (), ())

    def shift(self, x: Op) -> Op:
        """What softmax and logsumexp shift x by before exp: max(x), or 0 where exp(x) can
        neither overflow nor lose an entry that the shift would keep (the printer's
        ``shift_lines``; docs/numerics.md)."""
        return self.make("shift", (x,), (), ())

    def exp_minus(self, x: Op, c: Op) -> Op:
        """exp(x - c) for c = shift(x): without the subtraction where c is 0."""
        return self.make("exp_minus", (x, c), (), x.shape)

    def norm2(self, a: Op) -> Op:
        """sqrt(Σ a²), exact where Σ a² under- or overflows: the printer's ``norm2_lines`` take
        the square root of one sum of squares where that is a normal float, and scale by
        max |a| only where it is not (docs/numerics.md).  Its kind is "hypot", which scales as
        this does (the table's name is the table's to spell)."""
        return self.make("hypot", (a,), (), ())

    def matmul(self, a: Op, b: Op) -> Op:
        """NumPy's ``@`` on 1-D and 2-D operands (one product; chains: :mod:`.chain`)."""
        if a.kind == "diag" and b.ndim >= 1:
            return self.scale_rows(b, a.args[0])
        if b.kind == "diag" and a.ndim >= 1:
            return self.scale_cols(a, b.args[0])
        if a.kind == "full" and a.ndim == 1:
            return self.mul(a.args[0], self.sum(b, 0))
        if b.kind == "full" and b.ndim == 1:
            return self.mul(b.args[0], self.sum(a, a.ndim - 1))
        if a.ndim == 1 and b.kind == "T":  # v @ A.T is A @ v, which reads A in its own order
            return self.matmul(b.args[0], a)
        solved = self._solve_product(a, b)
        if solved is not None:
            return solved
        if a.ndim == 1 and b.ndim == 1:
            shape = ()
        elif a.ndim == 1:
            shape = b.shape[1:]
        elif b.ndim == 1:
            shape = a.shape[:1]
        else:
            shape = (a.shape[0], b.shape[1])
        return self.make("matmul", (a, b), (), shape)

    def scale_rows(self, m: Op, v: Op) -> Op:
        """diag(v) @ m without forming diag(v)."""
        if m.kind == "diag":
            return self.diag(self.mul(v, m.args[0]), m.attrs[0])
        if m.kind == "outer":  # diag(v) u w' = (v .* u) w'
            return self.outer(self.mul(v, m.args[0]), m.args[1])
        if m.kind == "add_diag":  # diag(v) (M + diag(d)) = diag(v) M + diag(v .* d)
            return self.add_diag(self.scale_rows(m.args[0], v), self.mul(v, m.args[1]))
        if m.kind == "neg":
            return self.neg(self.scale_rows(m.args[0], v))
        if v.ndim == 0 or m.ndim == 1:
            return self.mul(v, m)
        return self.mul(self.expand(v, (True, False)), m)

    def scale_cols(self, m: Op, v: Op) -> Op:
        """m @ diag(v) without forming diag(v)."""
        if m.kind == "diag":
            return self.diag(self.mul(m.args[0], v), m.attrs[0])
        if m.kind == "outer":  # u w' diag(v) = u (w .* v)'
            return self.outer(m.args[0], self.mul(m.args[1], v))
        if m.kind == "add_diag":
            return self.add_diag(self.scale_cols(m.args[0], v), self.mul(m.args[1], v))
        if m.kind == "neg":
            return self.neg(self.scale_cols(m.args[0], v))
        return self.mul(v, m) if v.ndim == 0 else self.mul(m, v)

    def outer(self, a: Op, b: Op) -> Op:
        if a.ndim == 0 or b.ndim == 0:
            return self.mul(a, b)
        return self.make("outer", (a, b), (), (a.shape[0], b.shape[0]))

    def einsum(self, spec: str, operands: list, shape: tuple) -> Op:
        return self.make("einsum", tuple(operands), (spec,), shape)

    # -- diagonals ------------------------------------------------------------------------------------
    def diag(self, v: Op, n) -> Op:
        """The diagonal matrix with diagonal v (a vector, or a scalar for a multiple of I)."""
        return self.make("diag", (v,), (n,), (n, n))

    def add_diag(self, m: Op, v: Op) -> Op:
        """m + diag(v), writing v onto m's diagonal instead of forming diag(v)."""
        if m.kind == "add_diag":
            return self.add_diag(m.args[0], self.add(m.args[1], v))
        return self.make("add_diag", (m, v), (), m.shape)

    def diagonal(self, m: Op) -> Op:
        if m.kind == "diag":
            v = m.args[0]
            return v if v.ndim == 1 else self.full(v, (m.attrs[0],))
        if m.kind == "matmul" and m.args[0].ndim == 2 and m.args[1].ndim == 2:
            # diag(A @ B)_i = Σ_k A_ik B_ki, without the product
            a, b = m.args
            return self.sum(self.mul(a, self.T(b)), 1)
        return self.make("diagonal", (m,), (), m.shape[:1])

    def trace(self, m: Op) -> Op:
        if m.kind == "diag":
            v = m.args[0]
            return self.sum(v) if v.ndim == 1 else self.mul(v, self.dim(m.attrs[0]))
        if m.kind == "matmul" and m.args[0].ndim == 2 and m.args[1].ndim == 2:
            # tr(A @ B) = Σ_ij A_ij B_ji: a pass over the entries instead of a product
            a, b = m.args
            return self.sum(self.mul(a, self.T(b)))
        return self.make("trace", (m,), (), ())

    # -- linear algebra -----------------------------------------------------------------------------
    def inv(self, m: Op) -> Op:
        return self.make("inv", (m,), (), m.shape)

    def det(self, m: Op) -> Op:
        return self.make("det", (m,), (), ())

    def solve(self, m: Op, b: Op) -> Op:
        """inv(m) @ b without the inverse: one LU factorisation, backward stable (docs/numerics.md)."""
        return self.make("solve", (m, b), (), b.shape)

    def _solve_product(self, a: Op, b: Op) -> Op | None:
        """A product with an inverse as a solve, which is cheaper (one factorisation, 2n³/3 flops,
        against the inverse's 2n³) and more accurate (its residual is eps |A| |x|, the inverse's
        eps cond(A) |A| |x|): inv(A) @ b, inv(A).T @ b, v @ inv(A) = solve(A.T, v), M @ inv(A)
        = solve(A.T, M.T).T; None where neither side is an inverse."""
        if b.ndim >= 1 and a.kind == "inv":
            return self.solve(a.args[0], b)
        if b.ndim >= 1 and a.kind == "T" and a.args[0].kind == "inv":
            return self.solve(self.T(a.args[0].args[0]), b)
        if a.ndim >= 1 and b.kind in ("inv", "T") and (b.kind == "inv" or b.args[0].kind == "inv"):
            m = b.args[0] if b.kind == "inv" else b.args[0].args[0]
            m = self.T(m) if b.kind == "inv" else m
            return self.T(self.solve(m, self.T(a))) if a.ndim == 2 else self.solve(m, a)
        return None

    def logdet(self, m: Op) -> Op:
        return self.make("logdet", (m,), (), ())

    # -- tensors --------------------------------------------------------------------------------------
    def stack(self, entries: list, shape: tuple) -> Op:
        """Scalars laid out row-major into ``shape`` (a literal such as [a, b; c, d])."""
        return self.make("stack", tuple(entries), (), shape)

    def scatter(self, entries: list, shape: tuple) -> Op:
        """A tensor of zeros with each entry written onto a diagonal.  ``entries`` are
        (op, (pattern, groups)) pairs: ``pattern`` gives a group number to each axis of the
        result (a number seen twice is a δ: those axes run together), ``groups`` the group of
        each axis of the entry (a group the entry lacks is broadcast)."""
        ops = tuple(e for e, _ in entries)
        specs = tuple(s for _, s in entries)
        return self.make("scatter", ops, (specs,), shape)


# -- the cost model ----------------------------------------------------------------------------------

def local_cost(op: Op) -> float:
    """Time of one operation alone, in units of one pass over one entry of memory."""
    k = op.kind
    out = numel(op.shape)
    if k in ("var", "num", "dim", "T", "let", "expand", "permute"):
        return 0.0
    if k in ("add", "sub", "mul", "div", "pow", "one_or"):
        reads = sum(numel(a.shape) for a in op.args if a.ndim)
        strided = sum(numel(a.shape) for a in op.args if a.kind == "T")
        return reads + out + strided + (4 * out if k == "pow" else 0)
    if k == "neg":
        return 2.0 * out
    if k == "func":
        return out * (2.0 if lookup(op.attrs[0]).cheap else TRANSCENDENTAL)  # the table's Function.cheap
    if k == "matmul":
        a, b = op.args
        inner = size_of(a.shape[-1])
        return numel(a.shape) + numel(b.shape) + out + 2 * FLOP * out * inner
    if k == "exp_minus":
        return out * TRANSCENDENTAL
    if k in ("sum", "sumsq", "hypot", "shift", "diagonal", "trace"):
        return float(numel(op.args[0].shape)) + out
    if k in ("outer", "full", "stack", "reshape"):
        return float(out)
    if k == "diag":
        return float(out)
    if k == "add_diag":
        return float(size_of(op.shape[0]))
    if k in ("inv", "det", "logdet"):
        n = size_of(op.args[0].shape[0])
        return FLOP * n ** 3 + n * n
    if k == "solve":  # an LU factorisation (a third of an inverse) and the triangular solves
        n = size_of(op.args[0].shape[0])
        return FLOP * n ** 3 / 3 + n * n + 2 * FLOP * numel(op.shape) * n
    if k == "einsum":
        return float(out) + sum(numel(a.shape) for a in op.args) * 2
    if k == "scatter":
        return float(out) + sum(numel(a.shape) for a in op.args)
    return float(out)


def cost(*roots: Op) -> float:
    """Total cost of computing ``roots``, each shared node counted once."""
    seen: set = set()
    total = 0.0
    todo = list(roots)
    while todo:
        op = todo.pop()
        if id(op) in seen:
            continue
        seen.add(id(op))
        total += local_cost(op)
        todo.extend(op.args)
    return total
