# Over 600 lines: the checker, its union-find of dimensions and the forced-kind search are one algorithm.
"""Kinds, symbolic dimensions, and type checking of the matrix AST.

Every value is a matrix type ``(rows, cols)``: a scalar is 1×1, a (column) vector n×1, a row
vector 1×n.  A dimension is a concrete int or a :class:`DimVar`, unified across the expression
with a union-find (``A*x`` makes x's length A's column count).

Kinds of names come, in order of precedence, from the user's declaration, from what the
expression forces, and from MatrixCalculus.org's naming rule (ARCHITECTURE §2).  "Forced" is
found by search: if the naming rule's kinds do not type-check, the smallest set of undeclared
names whose kinds can change so that the expression type-checks is taken, and those names are
reported as forced.  (A ``^`` base, a divisor, a literal entry, a name used as a product's
scalar, all force that way.)
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from . import ast as A
from .errors import KindError, RicciError, ShapeError, UnknownNameError
from ..functions import IDENTITY_NAMES, lookup, named
from ..functions.matrix_functions import REAL_POWER
from .sizes import SIZE_FUNCTIONS, SIZED_CONSTANTS, SIZED_SPELLINGS, SIZED_USAGE

SCALAR, VECTOR, MATRIX, SYMMETRIC = "scalar", "vector", "matrix", "symmetric matrix"
KINDS = (SCALAR, VECTOR, MATRIX, SYMMETRIC)
_KIND_SPELLINGS = {
    "scalar": SCALAR, "vector": VECTOR, "column vector": VECTOR, "matrix": MATRIX,
    "symmetric matrix": SYMMETRIC, "symmetric": SYMMETRIC, "sym": SYMMETRIC,
}
#: Greek names that are conventionally scalars although their first letter says otherwise.
SCALAR_GREEK = {"alpha", "beta", "gamma", "lambda", "mu", "sigma", "eta", "epsilon", "tau", "rho"}

#: How many undeclared names the kind search may change at once, how many checks it may run,
#: and how many node checks all of them together may take (so a large ill-typed input is
#: answered with its error in well under a second instead of searching for minutes).
MAX_FORCED = 3
MAX_SEARCH = 4000
MAX_SEARCH_WORK = 100_000
#: The largest |k| of a matrix power A^k (it is written out as a product of k factors).
MAX_MATRIX_POWER = 64


def normalise_kind(name: str, kind: str) -> str:
    k = " ".join(str(kind).lower().replace("_", " ").split())
    if k not in _KIND_SPELLINGS:
        raise KindError(
            f"unknown kind {kind!r} for {name}; use one of: scalar, vector, matrix, symmetric matrix"
        )
    return _KIND_SPELLINGS[k]


def naming_rule(name: str) -> str:
    """MatrixCalculus.org's rule: a–g scalars, h–z vectors, A–Z matrices (first letter)."""
    if name in SCALAR_GREEK:
        return SCALAR
    c = name[0]
    if "a" <= c <= "g":
        return SCALAR
    if "h" <= c <= "z":
        return VECTOR
    return MATRIX


class DimVar:
    """A symbolic dimension (identity-compared; unified through :class:`Dims`)."""

    __slots__ = ("id",)

    def __init__(self, id_: int):
        self.id = id_

    def __repr__(self) -> str:
        return f"?{self.id}"


Dim = "int | DimVar"


class Dims:
    """Union-find over dimensions; a class may be bound to a concrete size."""

    def __init__(self) -> None:
        self.parent: dict[DimVar, DimVar] = {}
        self.size: dict[DimVar, int] = {}
        self.count = 0
        #: root → span of the first operation that tied this dimension to another
        self.why: dict[DimVar, tuple] = {}
        #: root → (fast, slow, slow_first): a product of two dimensions, the length of vec(X)
        #: (X's rows run fastest) or a side of kron(A, B) (B's run fastest); slow_first says
        #: which factor the name writes first (vec(X) of an m×n X is mn long, kron's rows mp)
        self.products: dict[DimVar, tuple] = {}

    def new(self) -> DimVar:
        d = DimVar(self.count)
        self.count += 1
        self.parent[d] = d
        return d

    def find(self, d):
        if isinstance(d, int):
            return d
        root = d
        while self.parent[root] is not root:
            root = self.parent[root]
        while self.parent[d] is not root:  # path compression
            self.parent[d], d = root, self.parent[d]
        return self.size.get(root, root)

    def product(self, fast, slow, slow_first: bool = False):
        """The dimension of a pair of indices (vec, kron): a side of size 1 leaves the other."""
        fast, slow = self.find(fast), self.find(slow)
        if fast == 1:
            return slow
        if slow == 1:
            return fast
        if isinstance(fast, int) and isinstance(slow, int):
            return fast * slow
        d = self.new()
        self.products[d] = (fast, slow, slow_first)
        return d

    def _root(self, d: DimVar) -> DimVar:
        while self.parent[d] is not d:
            d = self.parent[d]
        return d

    def unify(self, a, b, why=None) -> bool:
        ok = self._unify(a, b)
        if ok and why is not None:
            for d in (a, b):
                if not isinstance(d, int):
                    self.why.setdefault(self._root(d), why)
        return ok

    def _unify(self, a, b) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra is rb or (isinstance(ra, int) and isinstance(rb, int) and ra == rb):
            return True
        if isinstance(ra, int) and isinstance(rb, int):
            return False
        if isinstance(ra, int) or isinstance(rb, int):
            concrete, var = (ra, rb) if isinstance(ra, int) else (rb, ra)
            if concrete == 1:  # a symbolic dimension is never 1: vectors and matrices stay so
                return False
            self.size[self._root(var)] = concrete
            return True
        old, new = self._root(ra), self._root(rb)
        self.parent[old] = new
        if old in self.why:
            self.why.setdefault(new, self.why[old])
        po, pn = self.products.pop(old, None), self.products.get(new)
        if po is not None and pn is None:
            self.products[new] = po
        elif po is not None:
            # two pairs of one length are taken as the same pair: vec(X) + vec(Y) has X and Y of
            # one shape, kron(A, B)*vec(X) has X of B's columns by A's (vec(B*X*A'))
            return self._unify(po[0], pn[0]) and self._unify(po[1], pn[1])
        return True


@dataclass(frozen=True)
class Type:
    """A matrix type; dims are ints, DimVars (while checking) or names (after)."""

    rows: object
    cols: object

    @property
    def is_scalar(self) -> bool:
        return self.rows == 1 and self.cols == 1

    @property
    def is_col(self) -> bool:
        return self.cols == 1 and self.rows != 1

    @property
    def is_row(self) -> bool:
        return self.rows == 1 and self.cols != 1

    @property
    def is_matrix(self) -> bool:
        return self.rows != 1 and self.cols != 1

    @property
    def shape(self) -> tuple:
        """NumPy-style shape of dimension names: () scalar, (n,) vector (row or column), (m, n)."""
        r, c = self.rows, self.cols
        if r == 1:
            return () if c == 1 else (c,)
        return (r,) if c == 1 else (r, c)

    def describe(self) -> str:
        if self.is_scalar:
            return "scalar"
        return f"{self.rows}×{self.cols}"


SCALAR_T = Type(1, 1)


@dataclass(frozen=True)
class Variable:
    """What ricci knows of a free name: its kind, its dimensions and where the kind came from."""

    name: str
    kind: str
    dims: tuple
    source: str  # "declared", "forced" or "assumed" (naming rule)

    @property
    def symmetric(self) -> bool:
        return self.kind == SYMMETRIC

    def describe(self) -> str:
        dims = "×".join(str(d) for d in self.dims)
        shape = f" ({dims})" if dims else ""
        return f"{self.name}: {self.kind}{shape}, {self.source}"


@dataclass
class Checked:
    """The result of a successful check: a type per node and the variables' kinds."""

    types: dict  # id(node) -> Type
    variables: dict  # name -> Variable
    result: Type
    nodes: list = field(default_factory=list)  # keeps nodes alive so ids stay valid
    #: dimension name → span of the operation that forces it (for "A*x needs length n")
    reasons: dict = field(default_factory=dict)
    #: the tree the types belong to: the input, or (matrix powers written out as products) a
    #: rewritten one (an ast.Expr; None only while the checker builds it)
    tree: Any = None
    #: a product dimension's name → (fast, slow), its factors (vec, kron): "mn" → ("m", "n")
    products: dict = field(default_factory=dict)


def free_names(tree: A.Expr, declared: set[str]) -> list[str]:
    """Variables of the expression in order of first appearance (bound names excluded)."""
    return _names(tree, declared)[0]


def _names(tree: A.Expr, declared: set[str]) -> tuple[list[str], set[str]]:
    """(:func:`free_names`, the names ``where`` binds anywhere in ``tree``), in one walk
    without recursion (issue 21: a call per node was a fair part of parsing a deep expression).
    A node's children are walked in source order, a binding's expression seeing the names bound
    before it, the body all of them."""
    out: list[str] = []
    bound_anywhere: set[str] = set()
    stack: list = [(tree, frozenset())]
    push = stack.append
    while stack:
        node, bound = stack.pop()
        if isinstance(node, A.Name):
            n = node.name
            if n not in bound and n not in out and not (n in IDENTITY_NAMES and n not in declared):
                out.append(n)
        elif isinstance(node, A.Where):
            b = set(bound)
            scoped = []
            for name, e in node.bindings:
                scoped.append((e, frozenset(b)))
                b.add(name)
                bound_anywhere.add(name)
            push((node.body, frozenset(b)))
            stack.extend(reversed(scoped))
        else:
            kids = A.children(node)
            for k in range(len(kids) - 1, -1, -1):  # the first child on top: taken first
                push((kids[k], bound))
    return out, bound_anywhere


class _Checker:
    """One type-checking pass under a fixed assignment of kinds."""

    def __init__(self, source: str, kinds: dict[str, str], matrix_powers: bool = False,
                 ties: dict | None = None):
        self.source = source
        self.kinds = kinds
        #: id of an ``eye`` that stands for A^0 → A (the identity gets A's size)
        self.ties = ties or {}
        #: whether ``A^k`` of a square matrix A and an integer k is read as a matrix power (the
        #: second reading, tried only when no kinds make every ``^`` base a scalar)
        self.matrix_powers = matrix_powers
        self.dims = Dims()
        self.types: dict[int, Type] = {}
        self.nodes: list = []
        self.var_types: dict[str, Type] = {}
        #: the innermost node whose check raised (the kind search starts from its names)
        self.failed_at = None
        for name, kind in kinds.items():
            if kind == SCALAR:
                t = SCALAR_T
            elif kind == VECTOR:
                t = Type(self.dims.new(), 1)
            elif kind == MATRIX:
                t = Type(self.dims.new(), self.dims.new())
            else:
                n = self.dims.new()
                t = Type(n, n)
            self.var_types[name] = t

    # -- helpers -------------------------------------------------------------------------------
    def text(self, node) -> str:
        if node.span and self.source:
            s = self.source[node.span[0] : node.span[1]]
            return s if len(s) <= 40 else s[:37] + "..."
        from ..printing.text import to_text

        return to_text(node)

    def show(self, t: Type) -> str:
        def d(x):
            x = self.dims.find(x)
            return str(x) if isinstance(x, int) else self._dim_label(x)

        if t.rows == 1 and t.cols == 1:
            return "scalar"
        return f"{d(t.rows)}×{d(t.cols)}"

    def _dim_label(self, x) -> str:
        # Names for messages, given as a successful check would name them (A is m×n, x is n).
        labels = getattr(self, "_labels", None)
        if labels is None:
            labels = self._labels = _name_dims(self, list(self.var_types), set(self.var_types))
        return labels.get(x, "?")

    def same_shape(self, a: Type, b: Type, why=None) -> bool:
        return self.dims.unify(a.rows, b.rows, why) and self.dims.unify(a.cols, b.cols, why)

    def scalarise(self, t: Type) -> Type:
        r, c = self.dims.find(t.rows), self.dims.find(t.cols)
        # the type itself where nothing in it is resolved further (a Type is immutable): no
        # new one made for most nodes (issue 21: a dataclass __init__ per node checked)
        return t if r is t.rows and c is t.cols else Type(r, c)

    # -- the check -----------------------------------------------------------------------------
    def check(self, node, env: dict[str, Type]) -> Type:
        # the common nodes dispatched here by their exact type, as _check would (issue 21: a
        # call fewer per node); every other node, a subclass too, takes _check's patterns
        cls = type(node)
        try:
            if cls is A.Name and (node.name in env or node.name in self.var_types):
                n = node.name
                t = env[n] if n in env else self.var_types[n]
            elif cls is A.BinOp:
                t = self._binop(node, node.op, self.check(node.left, env), self.check(node.right, env))
            elif cls is A.Call:
                t = self._call(node, env)
            else:
                t = self._check(node, env)
        except RicciError:
            if self.failed_at is None:
                self.failed_at = node
            raise
        # scalarise(t), read here: t itself while each of its dimensions is a size or a root
        # bound to no size (what find would give back unchanged)
        r, c = t.rows, t.cols
        parent, size = self.dims.parent, self.dims.size
        if not ((isinstance(r, int) or (parent[r] is r and r not in size))
                and (isinstance(c, int) or (parent[c] is c and c not in size))):
            t = self.scalarise(t)
        self.types[id(node)] = t
        self.nodes.append(node)
        return t

    def _check(self, node, env):
        match node:
            case A.Num():
                return SCALAR_T
            case A.Name(name=n):
                if n in env:
                    return env[n]
                if n in self.var_types:
                    return self.var_types[n]
                if n in IDENTITY_NAMES:
                    if id(node) in self.ties:  # A^0 written as eye: A's size (A is square)
                        t = self.check(self.ties[id(node)], env)
                        self.dims.unify(t.rows, t.cols, node.span)
                        return Type(t.rows, t.rows)
                    d = self.dims.new()
                    return Type(d, d)
                raise UnknownNameError(f"unknown name {n}", node.span, self.source)  # pragma: no cover
            case A.Neg(arg=a):
                return self.check(a, env)
            case A.Transpose(arg=a):
                t = self.check(a, env)
                return Type(t.cols, t.rows)
            case A.BinOp(op=op, left=l, right=r):
                return self._binop(node, op, self.check(l, env), self.check(r, env))
            case A.Call():
                return self._call(node, env)
            case A.Literal(rows=rows):
                for row in rows:
                    for e in row:
                        t = self.check(e, env)
                        if not t.is_scalar:
                            raise KindError(
                                f"the entries of a literal must be scalars, but {self.text(e)} is {self.show(t)}",
                                e.span, self.source,
                            )
                return Type(len(rows), len(rows[0]))
            case A.Where(body=body, bindings=bindings):
                inner = dict(env)
                for name, e in bindings:
                    inner[name] = self.check(e, inner)
                return self.check(body, inner)
        raise TypeError(node)  # pragma: no cover

    def _binop(self, node, op, lt: Type, rt: Type) -> Type:
        l, r = node.left, node.right
        if op in ("+", "-", ".*", "./", ".^"):
            if lt.is_scalar:
                return rt
            if rt.is_scalar:
                return lt
            if not self.same_shape(lt, rt, node.span):
                verb = {"+": "add", "-": "subtract", ".*": "multiply elementwise",
                        "./": "divide elementwise", ".^": "raise elementwise"}[op]
                raise ShapeError(
                    f"cannot {verb} {self.text(l)} ({self.show(lt)}) and {self.text(r)} "
                    f"({self.show(rt)}): the shapes differ", node.span, self.source)
            return lt
        if op == "*":
            if lt.is_scalar:
                return rt
            if rt.is_scalar:
                return lt
            if not self.dims.unify(lt.cols, rt.rows, node.span):
                raise ShapeError(
                    f"cannot multiply {self.text(l)} ({self.show(lt)}) by {self.text(r)} "
                    f"({self.show(rt)}): inner dimensions {self.show_dim(lt.cols)} and "
                    f"{self.show_dim(rt.rows)} differ", node.span, self.source)
            return Type(lt.rows, rt.cols)
        if op == "/":
            if not rt.is_scalar:
                raise KindError(
                    f"can only divide by a scalar, but {self.text(r)} is {self.show(rt)} "
                    "(use ./ for elementwise division)", r.span, self.source)
            return lt
        if op == "^":
            if not lt.is_scalar and self.matrix_powers:
                return self._matrix_power(node, lt)
            if not lt.is_scalar:
                raise KindError(
                    f"the base of ^ must be a scalar, but {self.text(l)} is {self.show(lt)} "
                    "(use .^ for an elementwise power)", l.span, self.source)
            if not rt.is_scalar:
                raise KindError(
                    f"the exponent of ^ must be a scalar, but {self.text(r)} is {self.show(rt)}",
                    r.span, self.source)
            return SCALAR_T
        raise TypeError(op)  # pragma: no cover

    def _matrix_power(self, node, lt: Type) -> Type:
        l, r = node.left, node.right
        if not lt.is_matrix:
            raise KindError(
                f"the base of ^ must be a scalar or a square matrix, but {self.text(l)} is "
                f"{self.show(lt)} (use .^ for an elementwise power)", l.span, self.source)
        if not self.dims.unify(lt.rows, lt.cols, node.span):
            raise ShapeError(
                f"a matrix power needs a square matrix, but {self.text(l)} is {self.show(lt)}",
                l.span, self.source)
        if integer_exponent(r) is None and real_exponent(r) is None:
            raise KindError(
                f"a matrix power needs an integer exponent from {-MAX_MATRIX_POWER} to {MAX_MATRIX_POWER} "
                f"or a real number p (X^p is expm(p*logm(X))), but {self.text(r)} is not one "
                f"(use .^ for an elementwise power of {self.text(l)})", r.span, self.source)
        return lt

    def show_dim(self, d) -> str:
        d = self.dims.find(d)
        return str(d) if isinstance(d, int) else self._dim_label(d)

    def _call(self, node: A.Call, env) -> Type:
        if node.func in SIZE_FUNCTIONS:
            raise KindError(
                f"{self.text(node)} is a size: it stands only as the size of a constant, "
                "eye(n), vector(c, n) or matrix(c, m, n)", node.span, self.source)
        if node.func in SIZED_CONSTANTS:
            return self._sized_constant(node, env)
        f = lookup(node.func)
        name_span = (node.span[0], node.span[0] + len(node.func)) if node.span else None
        if f is None:
            hint = ""
            if node.args and all(isinstance(a, A.Num) for a in node.args):
                hint = (f"; indexing such as {node.func}(1) is not part of the language: "
                        f"name the entries as scalars, {node.func}1, {node.func}2, …")
            if node.func in SIZED_SPELLINGS:  # MATLAB's and NumPy's words for sized constants
                hint = f"; write {SIZED_SPELLINGS[node.func]}"
            raise UnknownNameError(
                f"unknown function {node.func}() (known: {', '.join(sorted(_known()))}){hint}",
                name_span, self.source)
        if len(node.args) != 1 and f.family == "constant":
            return self._sized_constant(node, env)
        if f.family == "frechet":
            return self._frechet(node, f, env)
        if f.family == "kronecker":
            return self._kron(node, env)
        if len(node.args) != 1:
            raise KindError(
                f"{node.func}() takes 1 argument, not {len(node.args)}", node.span, self.source)
        arg = node.args[0]
        t = self.check(arg, env)
        fam = f.family
        if fam == "elementwise":
            return t
        if fam == "vectorise":  # vec(X): the columns stacked, X's rows running fastest
            return Type(self.dims.product(t.rows, t.cols), 1)
        if fam == "reduction":
            return SCALAR_T
        if fam == "constant":
            if not t.is_scalar:
                raise KindError(
                    f"{f.name}(c) needs a scalar c, but {self.text(arg)} is {self.show(t)}",
                    arg.span, self.source)
            if f.name == "vector":
                return Type(self.dims.new(), 1)
            return Type(self.dims.new(), self.dims.new())
        if fam in ("square", "inverse", "analytic"):
            if not t.is_matrix:
                raise KindError(
                    f"{f.name}() needs a square matrix, but {self.text(arg)} is "
                    f"{'a scalar' if t.is_scalar else self.show(t)}", node.span, self.source)
            if not self.dims.unify(t.rows, t.cols):
                raise ShapeError(
                    f"{f.name}() needs a square matrix, but {self.text(arg)} is {self.show(t)}",
                    node.span, self.source)
            return SCALAR_T if fam == "square" else Type(t.rows, t.rows)
        if fam == "diagonal":
            if t.is_scalar:
                raise KindError(
                    f"diag() needs a vector or a square matrix, but {self.text(arg)} is a scalar",
                    node.span, self.source)
            if t.is_col or t.is_row:
                n = t.rows if t.is_col else t.cols
                return Type(n, n)
            if not self.dims.unify(t.rows, t.cols):
                raise ShapeError(
                    f"diag() of a matrix needs a square matrix, but {self.text(arg)} is {self.show(t)}",
                    node.span, self.source)
            return Type(t.rows, 1)
        if fam == "spectral":  # eig, lambda_max, svd, …: the entry says its result's shape
            what = "a square matrix" if f.square else "a matrix"
            if f.result == "scalar" and not f.square and not t.is_scalar:
                return SCALAR_T  # a norm of a vector: its Euclidean norm
            if not t.is_matrix:
                raise KindError(
                    f"{f.name}() needs {what}, but {self.text(arg)} is "
                    f"{'a scalar' if t.is_scalar else 'a vector (' + self.show(t) + ')'}", node.span, self.source)
            if f.square and not self.dims.unify(t.rows, t.cols):
                raise ShapeError(
                    f"{f.name}() needs a square matrix, but {self.text(arg)} is {self.show(t)}",
                    node.span, self.source)
            return {"scalar": SCALAR_T, "rows": Type(t.rows, 1), "cols": Type(t.cols, 1),
                    "cols×cols": Type(t.cols, t.cols), "rows×cols": Type(t.rows, t.cols)}[f.result]
        raise TypeError(fam)  # pragma: no cover


    def _kron(self, node: A.Call, env) -> Type:
        """kron(A, B) of A (m×n) and B (p×q) is (mp)×(nq): B's indices run fastest."""
        if len(node.args) != 2:
            raise KindError(f"{node.func}(A, B) takes 2 arguments, not {len(node.args)}",
                            node.span, self.source)
        a, b = (self.check(x, env) for x in node.args)
        return Type(self.dims.product(b.rows, a.rows, True), self.dims.product(b.cols, a.cols, True))

    # -- constants with their sizes: eye(n), vector(c, n), matrix(c, m, n) ------------------------
    def _frechet(self, node: A.Call, f, env) -> Type:
        """expm_frechet(X, E): X square, E of X's size; the result too (a Fréchet derivative)."""
        if len(node.args) != 2:
            raise KindError(f"{f.name}() takes 2 arguments, the matrix X and the direction E, not "
                            f"{len(node.args)}", node.span, self.source)
        x, e = node.args
        tx, te = self.check(x, env), self.check(e, env)
        for arg, t in ((x, tx), (e, te)):
            if not t.is_matrix:
                raise KindError(f"{f.name}() needs square matrices, but {self.text(arg)} is "
                                f"{'a scalar' if t.is_scalar else self.show(t)}", arg.span, self.source)
        if not (self.dims.unify(tx.rows, tx.cols) and self.dims.unify(te.rows, tx.rows)
                and self.dims.unify(te.cols, tx.cols)):
            raise ShapeError(f"{f.name}() needs a square X and a direction E of its size, but "
                             f"{self.text(x)} is {self.show(tx)} and {self.text(e)} is {self.show(te)}",
                             node.span, self.source)
        return Type(tx.rows, tx.rows)

    def _sized_constant(self, node: A.Call, env) -> Type:
        """The type of a constant whose size is written out (language/sizes.py): each size
        is a dimension of its own, so eye(len(w)) is n×n where w has length n."""
        f, args = node.func, node.args
        usage = SIZED_USAGE[f]
        if f == "eye":
            if len(args) != 1:
                raise KindError(f"eye() takes 1 size, not {len(args)}: {usage}", node.span, self.source)
            d = self._size(args[0], env)
            return Type(d, d)
        if not args:  # vector() or matrix(): no value to fill it with
            raise KindError(f"{f}() takes a value and its sizes: {usage}", node.span, self.source)
        c, sizes = args[0], args[1:]
        t = self.check(c, env)
        if not t.is_scalar:
            raise KindError(f"{f}(c, …) needs a scalar c, but {self.text(c)} is {self.show(t)}",
                            c.span, self.source)
        if f == "vector":
            if len(sizes) != 1:
                raise KindError(f"vector() takes a value and 1 size, not {len(sizes)} sizes: {usage}",
                                node.span, self.source)
            return Type(self._size(sizes[0], env), 1)
        if len(sizes) == 1 and isinstance(sizes[0], A.Call) and sizes[0].func == "size" \
                and len(sizes[0].args) == 1:
            whole = sizes[0]
            st = self.check(whole.args[0], env)
            if not st.is_matrix:
                raise KindError(f"size() of one argument needs a matrix, but {self.text(whole.args[0])} "
                                f"is {self.show(st)}", whole.span, self.source)
            self._a_size(whole)
            return Type(st.rows, st.cols)
        if len(sizes) != 2:
            raise KindError(f"matrix() takes a value and 2 sizes, not {len(sizes)}: {usage}",
                            node.span, self.source)
        return Type(self._size(sizes[0], env), self._size(sizes[1], env))

    def _a_size(self, node):
        self.types[id(node)] = SCALAR_T  # a size is a number (it is never evaluated as one)
        self.nodes.append(node)

    def _size(self, node, env):
        """The dimension a size argument names: a whole number ≥ 2, len(v), size(A, 1|2)."""
        what = ("a size is a whole number of at least 2, len(v) (a vector's length), "
                "size(A, 1) (rows) or size(A, 2) (columns)")
        match node:
            case A.Num(value=v):
                if v != int(v) or v < 2:
                    raise ShapeError(
                        f"the size {self.text(node)} is not one: {what}"
                        + (" (a vector or matrix of size 1 is a scalar in this language)" if v == 1 else ""),
                        node.span, self.source)
                self._a_size(node)
                return int(v)
            case A.Call(func="len", args=args):
                if len(args) != 1:
                    raise KindError(f"len() takes 1 argument, not {len(args)}", node.span, self.source)
                t = self.check(args[0], env)
                if not (t.is_col or t.is_row):
                    raise KindError(f"len() needs a vector, but {self.text(args[0])} is "
                                    f"{'a scalar' if t.is_scalar else self.show(t)} (use size(A, 1) or "
                                    "size(A, 2) for a matrix)", node.span, self.source)
                self._a_size(node)
                return t.rows if t.is_col else t.cols
            case A.Call(func="size", args=(a, A.Num(value=k))) if k in (1, 2):
                t = self.check(a, env)
                d = t.rows if k == 1 else t.cols
                if self.dims.find(d) == 1:
                    raise ShapeError(f"size({self.text(a)}, {int(k)}) is 1, which is not a size: "
                                     f"{self.text(a)} is {self.show(t)}", node.span, self.source)
                self._a_size(node)
                return d
            case A.Call(func="size"):
                raise KindError(f"{self.text(node)}: size() takes a matrix and 1 or 2 "
                                "(size(A, 1) for the rows, size(A, 2) for the columns)",
                                node.span, self.source)
        raise KindError(f"{self.text(node)} is not a size: {what}", node.span, self.source)


def _known():
    from ..functions import FUNCTIONS

    return [*FUNCTIONS.keys(), *SIZED_CONSTANTS]


ROW_NAMES = ["m", "p", "r", "u", "M", "P", "R"]
COL_NAMES = ["n", "k", "q", "l", "s", "v", "N", "K", "Q"]


def _name_dims(checker: _Checker, order: list[str], taken: set[str]) -> dict:
    """Give every symbolic dimension class a readable name (m×n for matrices, n for vectors)."""
    names: dict = {}
    rows = (n for n in ROW_NAMES if n not in taken)
    cols = (n for n in COL_NAMES if n not in taken)
    spare = (f"d{i}" for i in itertools.count(1))

    def give(d, pool):
        r = checker.dims.find(d)
        if isinstance(r, int) or r in names:
            return
        if r in checker.dims.products:  # named after its factors: mn, the length of vec(X)
            fast, slow, slow_first = checker.dims.products[r]
            for f in (fast, slow):
                give(f, pool)
            parts = [_dim_text(checker, names, f) for f in ((slow, fast) if slow_first else (fast, slow))]
            label = "".join(parts) if all(p.isidentifier() for p in parts) else "_".join(parts)
            while label in taken or label in names.values():
                label += "_"
            names[r] = label if label.isidentifier() else f"d{label}"
            return
        nm = next(pool, None)
        while nm is not None and nm in taken:
            nm = next(pool, None)
        names[r] = nm if nm is not None else next(spare)

    vts = checker.var_types
    for n in order:  # matrices first, so that A*x reads A (m×n), x (n)
        t = vts[n]
        if t.rows != 1 and t.cols != 1:
            square = checker.dims.find(t.rows) is checker.dims.find(t.cols)
            give(t.rows, cols if square else rows)
            give(t.cols, cols)
    for n in order:
        t = vts[n]
        for d in (t.rows, t.cols):
            if d != 1:
                give(d, cols)
    # constants' sizes (vector(1), eye) not tied to a variable; a dimension met again (one object:
    # nodes share their types) is named already, give would do nothing (issue 21: a call per node)
    given: set = set()
    for t in checker.types.values():
        d = t.rows
        if d != 1 and d not in given:
            given.add(d)
            give(d, rows)
        d = t.cols
        if d != 1 and d not in given:
            given.add(d)
            give(d, cols)
    return names


def _dim_text(checker: _Checker, names: dict, d) -> str:
    d = checker.dims.find(d)
    return str(d) if isinstance(d, int) else names[d]


def _products(checker: _Checker, names: dict) -> dict:
    """name of a product dimension → (fast, slow): its factors' names or sizes."""
    out = {}
    for root, (fast, slow, _) in checker.dims.products.items():
        r = checker.dims.find(root)
        if not isinstance(r, int) and r in names:
            out[names[r]] = tuple(checker.dims.find(f) if isinstance(checker.dims.find(f), int)
                                  else names[checker.dims.find(f)] for f in (fast, slow))
    return out


def _dim_name(checker: _Checker, names: dict, d):
    """The name of dimension ``d`` (its size where it has one)."""
    d = checker.dims.find(d)
    return d if isinstance(d, int) else names[d]


def _resolve(checker: _Checker, names: dict, t: Type) -> Type:
    def r(d):
        d = checker.dims.find(d)
        return d if isinstance(d, int) else names[d]

    return Type(r(t.rows), r(t.cols))


def check(tree: A.Expr, source: str, declared: dict[str, str] | None = None,
          forced: dict[str, str] | None = None, unused: str = "error") -> Checked:
    """Type-check ``tree``; kinds: ``declared`` (user), ``forced`` (e.g. by a list ``wrt``).
    A declared kind of a name the expression does not use is an error (``unused="error"``: a
    typo, most likely) or is left out (``"ignore"``: the kinds of a function serve the text of
    its derivative, which need not use every variable)."""
    declared = {n: normalise_kind(n, k) for n, k in (declared or {}).items()}
    forced = dict(forced or {})
    names, bound = _names(tree, set(declared))
    for n, k in list(declared.items()):
        if n not in names and n not in forced:
            if n in bound:
                raise KindError(f"{n} is bound by 'where', so its kind comes from its expression; "
                                "do not declare it", None, source)
            if unused == "ignore":
                del declared[n]
                continue
            raise UnknownNameError(
                f"a kind is given for {n}, but the expression does not use {n}", None, source)
    extra = [n for n in forced if n not in names]
    all_names = names + extra
    base: dict[str, str] = {}
    source_of: dict[str, str] = {}
    for n in all_names:
        if n in declared:
            base[n], source_of[n] = declared[n], "declared"
            if n in forced and forced[n] != declared[n] and not (forced[n] == MATRIX and declared[n] == SYMMETRIC):
                raise KindError(f"{n} is declared a {declared[n]} but is used as a {forced[n]}", None, source)
        elif n in forced:
            base[n], source_of[n] = forced[n], "forced"
        else:
            base[n], source_of[n] = naming_rule(n), "assumed"

    def attempt(kinds):
        c = _Checker(source, kinds)
        return c, c.check(tree, {})

    first_checker = _Checker(source, base)
    try:
        checker, result = first_checker, first_checker.check(tree, {})
    except RicciError as first:
        found = _search_kinds(tree, names, base, source_of, attempt, first_checker.failed_at)
        if not found and _has_power(tree):
            found = _matrix_power_reading(tree, source, names, base, source_of, first)
        if not found:
            raise first from None
        (checker, result), combo, kinds = found
        base = kinds
        for n in combo:
            source_of[n] = "forced"
        if checker.matrix_powers:
            # A^k is written out as the product A*A*…*A (inv(A)*… for k < 0, eye for k = 0), so
            # that every later stage (lowering, derivation, evaluation, code) sees products only.
            ties: dict = {}
            copies: list = []
            tree = expand_matrix_powers(tree, checker.types, ties, copies)
            checker = _Checker(source, base, ties=ties)
            result = checker.check(tree, {})
            for group in copies:  # the factors of one power: square, and all of one size
                t0 = checker.types[id(group[0])]
                checker.dims.unify(t0.rows, t0.cols)
                for c in group[1:]:
                    checker.same_shape(checker.types[id(c)], t0)

    taken = set(all_names) | bound
    dim_names = _name_dims(checker, all_names, taken)
    # each distinct pair of dimensions resolved once (DimVars by identity, sizes by value), its
    # Type shared by the nodes of that type: a deep expression has a few types, each met at
    # hundreds of nodes (issue 21)
    resolved: dict = {}
    named: dict = {}  # a dimension (a DimVar, by identity, or a size) → its name or size
    made: dict = {}  # a pair of names → its Type
    types = {}
    for k, t in checker.types.items():
        pair = (t.rows, t.cols)
        got = resolved.get(pair)
        if got is None:
            r, c = named.get(t.rows), named.get(t.cols)
            if r is None:
                r = named[t.rows] = _dim_name(checker, dim_names, t.rows)
            if c is None:
                c = named[t.cols] = _dim_name(checker, dim_names, t.cols)
            got = made.get((r, c))  # one Type for each pair of names
            if got is None:
                got = made[(r, c)] = Type(r, c)
            resolved[pair] = got
        types[k] = got
    variables = {}
    for n in all_names:
        t = _resolve(checker, dim_names, checker.var_types[n])
        variables[n] = Variable(n, base[n], t.shape, source_of[n])
    reasons = {}
    for d, span in checker.dims.why.items():
        r = checker.dims.find(d)
        if not isinstance(r, int) and r in dim_names:
            reasons.setdefault(dim_names[r], span)
    return Checked(types, variables, _resolve(checker, dim_names, result), checker.nodes, reasons,
                   tree, _products(checker, dim_names))


def integer_exponent(node) -> int | None:
    """The exponent of a matrix power, when ``node`` is an integer literal within bounds."""
    sign = 1
    if isinstance(node, A.Neg):
        sign, node = -1, node.arg
    if not isinstance(node, A.Num) or not math.isfinite(node.value) or node.value != int(node.value):
        return None
    k = sign * int(node.value)
    return k if abs(k) <= MAX_MATRIX_POWER else None


def real_exponent(node) -> float | None:
    """A real, non-integer exponent written as a number (X^0.5, X^-1.5): the power of a matrix
    with no eigenvalue on the closed negative real axis, expm(p*logm(X))."""
    sign = 1.0
    if isinstance(node, A.Neg):
        sign, node = -1.0, node.arg
    if not isinstance(node, A.Num) or not math.isfinite(node.value) or node.value == int(node.value):
        return None
    return sign * node.value


def _has_power(tree) -> bool:
    return any(isinstance(n, A.BinOp) and n.op == "^" for n in A.walk(tree))


def _matrix_power_reading(tree, source, names, base, source_of, first):
    """Check ``tree`` reading ``A^k`` of a square matrix as a matrix power (the reading taken
    only when no kinds make every ``^`` base a scalar, so that ``X^2`` alone keeps forcing X to
    be a scalar, as ARCHITECTURE §2 says).  Its own error is raised where it says more about a
    matrix power than ``first`` does; None where this reading fails as well."""
    def attempt(kinds):
        c = _Checker(source, kinds, matrix_powers=True)
        return c, c.check(tree, {})

    c = _Checker(source, base, matrix_powers=True)
    try:
        return (c, c.check(tree, {})), (), base
    except RicciError as err:
        found = _search_kinds(tree, names, base, source_of, attempt, c.failed_at)
        if found:
            return found
        if "matrix power" in err.message:
            raise err from None
        return None


def expand_matrix_powers(tree, types: dict, ties: dict, copies: list):
    """``tree`` with every ``A^k`` whose base is a matrix (by ``types``, id → Type) written
    out as a product of k copies of A.  Every copy is a new tree (a size-less constant such as
    matrix(2) gets its own sizes in each, so the copies are entered in ``copies`` for the caller
    to make them square and of one size); an ``A^0`` becomes ``eye``, entered in ``ties`` (its
    id → A) so that a check gives it A's size."""
    def walk(node):
        match node:
            case A.BinOp(op="^", left=l, right=r) if not types[id(l)].is_scalar and real_exponent(r) is not None:
                # X^p, p real: expm(p*logm(X)), the principal power (docs/matrix_functions.md)
                exp_, log_ = REAL_POWER
                inner = A.BinOp("*", A.Num(real_exponent(r), span=r.span), A.Call(log_, (walk(l),), span=node.span),
                                span=node.span)
                return A.Call(exp_, (inner,), span=node.span)
            case A.BinOp(op="^", left=l, right=r) if not types[id(l)].is_scalar:
                k = integer_exponent(r)
                if k == 0:
                    eye = A.Name("eye", span=node.span)
                    ties[id(eye)] = walk(l)
                    return eye
                group = [walk(l) for _ in range(abs(k))]
                copies.append(group)
                factors = [A.Call(named("inverse"), (b,), span=node.span) if k < 0 else b for b in group]
                out = factors[0]
                for b in factors[1:]:
                    out = A.BinOp("*", out, b, span=node.span)
                return out
            case A.Num() | A.Name():
                return dataclasses.replace(node)  # a new node: each copy is typed on its own
            case A.Where(body=b, bindings=bs):
                return A.Where(walk(b), tuple((n, walk(e)) for n, e in bs), span=node.span,
                               name_spans=node.name_spans)
        return A.map_children(node, walk)

    return walk(tree)


def _search_kinds(tree, names, base, source_of, attempt, failed):
    """The smallest set of assumed names whose kinds can change so that ``tree`` type-checks.

    Sets of 1, then 2, then up to :data:`MAX_FORCED` names are tried, the names of the part
    that failed first, ``failed`` (a bound name stands for the names of its expression), so that
    ``t*cos(t)`` makes ``t`` a scalar at once.  The search is bounded by :data:`MAX_SEARCH`
    checks and :data:`MAX_SEARCH_WORK` node checks; past either it gives up (the caller then
    reports the first error).  Returns ``((checker, type), names changed, kinds)`` or None.
    """
    free = [n for n in names if source_of[n] == "assumed"]
    near = [n for n in (_names_under(tree, failed) if failed is not None else []) if n in free]
    nodes = sum(1 for _ in A.walk(tree))
    budget = min(MAX_SEARCH, max(1, MAX_SEARCH_WORK // max(1, nodes)))
    tries = 0
    tried: set[frozenset[str]] = set()
    for pool in (near, free):  # first the names where the check failed, then all of them
        for k in range(1, min(MAX_FORCED, len(pool)) + 1):
            for combo in itertools.combinations(pool, k):
                if frozenset(combo) in tried:
                    continue
                tried.add(frozenset(combo))
                alts = [[x for x in (SCALAR, VECTOR, MATRIX) if x != base[n]] for n in combo]
                for choice in itertools.product(*alts):
                    tries += 1
                    if tries > budget:
                        return None
                    kinds = dict(base)
                    kinds.update(zip(combo, choice))
                    try:
                        return attempt(kinds), combo, kinds
                    except RicciError:
                        continue
    return None


def _names_under(tree, target) -> list[str]:
    """Free names in the subtree ``target`` of ``tree``, a bound name replaced by the names of
    its expression, in order of appearance."""
    expansions: dict[str, list[str]] = {}

    def names_in(node, bound_here: dict[str, list[str]]) -> list[str]:
        out: list[str] = []
        for n in A.walk(node):
            if isinstance(n, A.Name):
                for m in bound_here.get(n.name, [n.name]):
                    if m not in out:
                        out.append(m)
        return out

    # bound names in scope at ``target``: every binding of the (single, top-level) where
    for node in A.walk(tree):
        if isinstance(node, A.Where):
            for name, e in node.bindings:
                expansions[name] = names_in(e, dict(expansions))
    return names_in(target, expansions)


def _bound_names(tree) -> set[str]:
    return {n for node in A.walk(tree) if isinstance(node, A.Where) for n, _ in node.bindings}
