"""The types of the matrix-notation forms the raiser and the display rules build.

Each form is typed once, when it is first asked about, from the types its parts carry: a leaf
from the declared variables (their kinds and dimension names) or from the binding that named
it, a compound from its children by the one rule of :meth:`Typing._compose`.  A type is the
form's kind, 's' scalar, 'c' column, 'r' row or 'm' matrix, with the dimensions of its rows
and columns (1 for a side of size 1, None for a constant sized where it stands: vector(1),
matrix(c), eye).  Nothing re-reads a type from the printed text: whether a subterm fixes its
own size (:meth:`Typing.sized_alone`) reads the dimensions carried here, the sides such a
constant takes from where it stands are handed down by :meth:`Typing.resolve` (simplify/sizes.py
writes out the ones nothing fixes), and :func:`typed_expression` makes the answer's typed
Expression (``Derivative.as_expression``, analysis/structure.py) from its tree, not its text.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

from ..functions import IDENTITY_NAMES, family_of, lookup
from ..language import ast as A
from ..language.errors import KindError
from ..language.expression import Expression, as_parsed
from ..language.kinds import COL_NAMES, ROW_NAMES, SYMMETRIC, Checked, Type, expand_matrix_powers, free_names
from ..language.sizes import SIZE_FUNCTIONS, is_sized

S, C, Rw, M = "s", "c", "r", "m"


class MType(NamedTuple):
    """A form's kind and dimensions; ``square`` for an identity of unknown size (its rows are
    its columns, so eye*A has A's rows)."""

    kind: str
    rows: object = None
    cols: object = None
    square: bool = False


#: ``_mtype((kind, rows, cols, square))``: an MType made in C, every field given (the
#: NamedTuple's own constructor is a Python-level call: ~400 of the depth-64 network's raise)
_mtype = partial(tuple.__new__, MType)
SCALAR = MType(S, 1, 1)
_UNKNOWN = MType(M)
_IDENTITY = MType(M, None, None, True)
_FLIP = {C: Rw, Rw: C}
#: (in :meth:`Typing.resolve`) the one open side of a square form whose size nothing fixes
_OPEN = "<open>"
#: (in :meth:`Typing.resolve`) a where binding, typed with the sides its uses give it
_USES = "<uses>"
#: the kind of a matrix product by the kinds of its two (non-scalar) factors
_PRODUCT = {(Rw, C): S, (C, Rw): M, (Rw, M): Rw, (M, C): C}


def is_open(t) -> bool:
    """Whether a resolved type (:meth:`Typing.resolve`) has a side nothing fixes."""
    return t.rows is None or t.cols is None or t.rows == _OPEN or t.cols == _OPEN


def of_variable(kind: str, dims: tuple) -> MType:
    if kind == "scalar":
        return SCALAR
    if kind == "vector":
        return MType(C, dims[0] if dims else None, 1)
    rows, cols = (tuple(dims) + (None, None))[:2]
    return MType(M, rows, cols)


def of_type(t) -> MType:
    """The MType of a checked :class:`ricci.language.kinds.Type` (a where-binding's)."""
    kind = S if t.is_scalar else C if t.is_col else Rw if t.is_row else M
    return MType(kind, t.rows, t.cols)


def typed_expression(expr, matrix: A.Expr, target: tuple, text: str):
    """The answer ``matrix`` of a derivative of ``expr`` as a typed
    :class:`~ricci.language.expression.Expression` (``Derivative.as_expression``), for code
    generation and the checks, built from the tree and the types it carries, not from its
    ``text`` (printed and parsed again, it was type-checked again).  ``target`` is the
    answer's (rows, cols): the derivative's dimension names, or 1.  The tree is the one the
    parser would make of ``text`` (:func:`~ricci.language.expression.as_parsed`), its
    variables those of ``expr`` it uses (their kinds and dimension names)."""
    tree = as_parsed(matrix)
    typing = Typing(expr)
    for node in A.walk(tree):
        if isinstance(node, A.Where):
            for name, e in node.bindings:
                typing.bind(name, typing.of(e))
    bases = {id(n.left): typing.of(n.left) for n in A.walk(tree) if isinstance(n, A.BinOp) and n.op == "^"}
    if any(t.kind != S for t in bases.values()):
        # inv(A + X)^2: a matrix power, written out as the parser's reading of it does
        tree = expand_matrix_powers(tree, {k: Type(t.rows, t.cols) if t.kind != S else Type(1, 1)
                                           for k, t in bases.items()}, {}, [])
    types = typing.resolve(tree, *target, check=True)
    if typing.mismatch is not None:
        from ..printing.text import to_text

        raise Mistyped(f"{to_text(typing.mismatch)} does not fit where it stands in {text}")
    variables = expr.variables
    used = free_names(tree, {n.name for n in A.walk(tree) if isinstance(n, A.Name) and n.name in variables})
    if any(t.rows in (None, _OPEN) or t.cols in (None, _OPEN) for t in types.values()):
        # a side nothing fixes (sum(log(c*vector(1))) of a broken answer): a name of its own,
        # as the type checker gives one, so that evaluation and code generation say which size
        # is not fixed (by name) as they did when the text was parsed again
        taken = set(variables) | {str(d) for n in used for d in variables[n].dims} | {
            n for w in A.walk(tree) if isinstance(w, A.Where) for n, _ in w.bindings}
        rows = next(n for n in ROW_NAMES + [f"d{i}" for i in range(1, 99)] if n not in taken)
        cols = next(n for n in COL_NAMES + [f"d{i}" for i in range(1, 99)] if n not in taken | {rows})
        name = {None: None, _OPEN: rows}
        types = {k: Type(name.get(t.rows, t.rows) or rows, name.get(t.cols, t.cols) or cols)
                 for k, t in types.items()}
    checked = Checked(types, {n: variables[n] for n in used}, types[id(tree)], [tree], {}, tree,
                      {k: v for k, v in expr._checked.products.items()})
    return Expression(text, tree, checked, matrix)


def _known(d) -> bool:
    return d is not None and d != _OPEN


def _differ(own, place) -> bool:
    return _known(own) and _known(place) and own != place


def _wrong(node: A.Expr, t: MType, typing: "Typing") -> bool:
    """Whether ``node`` breaks a rule its children's types alone show: a divisor or an exponent
    that is not a scalar, a function of square matrices of a side-by-side different argument."""
    match node:
        case A.BinOp(op="/" | "^", right=y):
            return typing.of(y).kind != S
        case A.Call(func=f, args=(x,)) if f not in SIZE_FUNCTIONS:
            fn = lookup(f)
            if fn is not None and (fn.family in ("square", "inverse", "analytic") or (f == "diag" and t.kind == C)):
                tx = typing.of(x)
                return _differ(tx.rows, tx.cols) or tx.kind in (C, Rw)
    return False


class Mistyped(KindError):
    """A tree built outside the raiser (a rewritten Hessian of the structural proofs) that is not
    well typed: its sides do not fit where they stand."""


#: (tl, tr) → product_type(tl, tr): the same few pairs of types recur for every link of a chain
#: (issue 21: a new MType per product was ~600 calls of a deep network's display); cleared when full
_PRODUCTS: dict = {}
_PRODUCTS_MAX = 4096


def product_type(tl: MType, tr: MType) -> MType:
    """The type of the matrix product of forms of types ``tl`` and ``tr`` (a scalar scales)."""
    if tl.kind == S:
        return tr
    if tr.kind == S:
        return tl
    got = _PRODUCTS.get((tl, tr))
    if got is not None:
        return got
    kind = _PRODUCT.get((tl.kind, tr.kind), M)
    if kind == S:
        return SCALAR
    rows = tl.rows if tl.rows is not None or not tl.square else tr.rows
    cols = tr.cols if tr.cols is not None or not tr.square else tl.cols
    if len(_PRODUCTS) >= _PRODUCTS_MAX:
        _PRODUCTS.clear()
    got = _PRODUCTS[(tl, tr)] = _mtype((kind, rows, cols, False))
    return got


def _open_cols(t: MType) -> bool:
    """Whether a factor takes its columns from the product before it (product_type's cols)."""
    return t.cols is None and t.square


class ChainType(NamedTuple):
    """The type of a chain's left-nested product ``((f1*f2)*f3)*…``, each link typed by
    :func:`product_type`, with what typing the chain one factor longer at its left end needs:
    the first factor's type, whether every later factor is a matrix, whether every later one
    is a row or a matrix, and whether every later one takes its columns from the product
    before it.  The display grows the chain rule's chain
    ``W64*diag(…)*W63*…`` at its left end, where the links of the longer chain are all new
    (issue 21): typed from this, it is typed in constant time, not by typing every link."""

    type: MType
    first: MType
    later_m: bool
    later_rm: bool
    later_open: bool


_chaintype = partial(tuple.__new__, ChainType)  # (made in C, as _mtype)


def chain_type(types) -> ChainType:
    """The :class:`ChainType` of a chain whose factors have the ``types`` (at least one)."""
    first = types[0]
    out = _chaintype((first, first, True, True, True))
    for t in types[1:]:
        out = grown_right(out, t)
    return out


def grown_right(c: ChainType, t: MType) -> ChainType:
    """The chain ``c`` with a factor of type ``t`` after its last: one more link."""
    return _chaintype((product_type(c.type, t), c.first, c.later_m and t.kind == M,
                       c.later_rm and t.kind in (Rw, M), c.later_open and _open_cols(t)))


def grown_left(t: MType, c: ChainType) -> ChainType | None:
    """The chain ``c`` with a factor of type ``t`` before its first, where every factor of the
    longer chain after its first is a row or a matrix (a chain the display takes apart into its
    factors, ``MatrixForms._plain_chain``) and ``t`` is no scalar; None elsewhere.  Following
    product_type link by link: no link is a scalar's nor closes into one (that takes a column
    after the first factor), so the rows are the first link's; the kind is a row only from a
    row followed by matrices alone (a row times a row is read as a matrix); the columns are
    the last factor's that has its own, else the first's."""
    if t.kind not in (C, Rw, M) or c.first.kind not in (Rw, M) or not c.later_rm:
        return None
    kind = Rw if t.kind == Rw and c.first.kind == M and c.later_m else M
    rows = t.rows if t.rows is not None or not t.square else c.first.rows
    opened = c.later_open and _open_cols(c.first)
    return _chaintype((_mtype((kind, rows, t.cols if opened else c.type.cols, False)), t,
                       c.first.kind == M and c.later_m, True, opened))


def _unary_rule(f: str, fn) -> bool | str:
    """Which case of :meth:`Typing._compose` types a call of ``f`` (its entry ``fn``) with one
    argument: True for the first (an elementwise function: the argument's type), "diag" for
    the diagonal's (reached where no case before it, nor a family the generic case reads
    first, takes it), False for the match (every other)."""
    if fn is not None and fn.family == "elementwise" and f not in SIZE_FUNCTIONS and f != "eye":
        return True
    if f == "diag" and fn is not None and f not in SIZE_FUNCTIONS and fn.family not in (
            "elementwise", "vectorise", "reduction", "square", "rewritten", "spectral"):
        return "diag"
    return False


def _side(a, b):
    return a if a is not None else b


def _of_sides(rows, cols) -> MType:
    """The type of a form known by its sides alone (a kron): its kind read from the sides of 1."""
    kind = S if rows == cols == 1 else C if cols == 1 else Rw if rows == 1 else M
    return MType(kind, rows, cols)


class Typing:
    """The types of one expression's forms (memoised by object: answers share subtrees)."""

    def __init__(self, expr):
        self.expr = expr
        #: the types of names: variables, then the where-bindings of the input and the names
        #: the display gives repeated subterms (:meth:`bind`)
        self.names: dict[str, MType] = {
            n: of_variable(v.kind, v.dims) for n, v in expr.variables.items()}
        self.symmetric = {n for n, v in expr.variables.items() if v.kind == SYMMETRIC}
        self._memo: dict = {}
        #: function name → which case of :meth:`_compose` types its call of one argument: True
        #: for its argument's type (tanh(u)), "diag" for the diagonal's, False for the match
        #: (:func:`_unary_rule`): looked up once per function, not once per call
        self.unary: dict[str, bool | str] = {}
        #: the first node :meth:`resolve` found whose own side is not the one its place gives
        #: it (a product's inner sides, the shapes of a sum, a square argument): None in an answer
        self.mismatch = None

    def bind(self, name: str, t: MType) -> None:
        self.names[name] = t

    def kind(self, a: A.Expr) -> str:
        got = self._memo.get(id(a))
        if got is not None and got[0] is a:  # the common case first: asked again and again
            return got[1].kind
        return self.of(a).kind

    def link(self, a: A.BinOp) -> None:
        """Type the product ``a`` just built from its two parts' types, when both are known:
        the display grows a chain one link at a time, each link a new product, and :meth:`of`
        asked later would walk down every new link again (issue 21)."""
        memo = self._memo
        left, right = memo.get(id(a.left)), memo.get(id(a.right))
        if (left is None or left[0] is not a.left or right is None or right[0] is not a.right) \
                and not (self._typed_alone(a.left) and self._typed_alone(a.right)):
            return
        memo[id(a)] = (a, self._compose(a))

    def put(self, a: A.Expr, t: MType) -> None:
        """Type ``a`` as ``t``, known without walking it (a chain's product still to be built,
        typed from its factors: :class:`ChainType`)."""
        self._memo[id(a)] = (a, t)

    def _typed_alone(self, a: A.Expr) -> bool:
        """Whether ``a`` is typed, after typing it here when its own parts are (a part made
        with a link: the coefficient, a minus; a call is left to :meth:`of`, typed where asked)."""
        memo = self._memo
        got = memo.get(id(a))
        if got is not None and got[0] is a:
            return True
        if isinstance(a, A.Call) or any(memo.get(id(c), (None,))[0] is not c for c in A.children(a)):
            return False
        memo[id(a)] = (a, self._compose(a))
        return True

    def of(self, a: A.Expr) -> MType:
        got = self._memo.get(id(a))
        if got is not None and got[0] is a:
            return got[1]
        # Children first, without recursion: an answer's sum of 500 terms is a chain 500 deep
        # (issue 21: the typing raised a RecursionError there); _compose finds them memoised.
        # (The memo is read inline: this loop runs for every form the display builds.)
        memo = self._memo
        stack = [a]
        while stack:
            n = stack[-1]
            pending = []
            t = type(n)  # A.children(n) inline for the common nodes (a call less per node)
            kids = (n.left, n.right) if t is A.BinOp else n.args if t is A.Call else () if (
                t is A.Name or t is A.Num) else (n.arg,) if (t is A.Transpose or t is A.Neg) else A.children(n)
            for c in kids:
                got = memo.get(id(c))
                if got is None or got[0] is not c:
                    pending.append(c)
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            got = memo.get(id(n))
            if got is None or got[0] is not n:
                memo[id(n)] = (n, self._compose(n))
        return memo[id(a)][1]

    def _compose(self, a: A.Expr) -> MType:
        """The type of ``a`` from its children's (already in the memo: :meth:`of` made them first)."""
        memo = self._memo  # the children's types: memo[id(child)][1]
        if type(a) is A.Call and len(a.args) == 1:
            # the match's first case (tanh(u)) and its diag case, the function looked up once
            # per function (self.unary: True, "diag", or False for the match below)
            f = a.func
            same = self.unary.get(f)
            if same is None:
                fn = lookup(f)
                same = self.unary[f] = _unary_rule(f, fn)
            if same is True:
                return memo[id(a.args[0])][1]
            if same == "diag":  # the match's case of diag(x), read without its three lookups
                tx = memo[id(a.args[0])][1]
                if tx.kind in (C, Rw):
                    n = tx.rows if tx.kind == C else tx.cols
                    return _mtype((M, n, n, n is None))
                return _mtype((C, tx.rows, 1, False))
        match a:
            case A.Num():
                return SCALAR
            case A.Name(name=n):
                t = self.names.get(n)
                if t is not None:
                    return t
                return _IDENTITY if n in IDENTITY_NAMES else _UNKNOWN
            case A.Transpose(arg=x):
                t = memo[id(x)][1]
                return _mtype((_FLIP.get(t.kind, t.kind), t.cols, t.rows, t.square))
            case A.Neg(arg=x):
                return memo[id(x)][1]
            case A.BinOp(op=op, left=l, right=r):
                tl, tr = memo[id(l)][1], memo[id(r)][1]
                if op == "^":
                    return SCALAR
                if op == "/":
                    return tl
                if op != "*":  # entrywise: a scalar broadcasts
                    if tl.kind == S:
                        return tr
                    if tr.kind == S:
                        return tl
                    rows, cols = _side(tl.rows, tr.rows), _side(tl.cols, tr.cols)
                    if tl.square or tr.square:  # eye - v*p': the whole is square as eye is (n × n)
                        rows, cols = _side(rows, cols), _side(cols, rows)
                    return _mtype((tl.kind, rows, cols, (tl.square or tr.square) and rows is None))
                return product_type(tl, tr)
            case A.Call(func=f, args=(x,)) if (fn := lookup(f)) is not None and fn.family == "elementwise" \
                    and f not in SIZE_FUNCTIONS and f != "eye":
                return memo[id(x)][1]  # tanh(u): u's type (the case below, its function looked up once)
            case A.Call(func=f) if f in SIZE_FUNCTIONS:
                return SCALAR  # len(w), size(A, 1): written out by simplify/sizes.py
            case A.Call(func=f, args=args) if f == "eye" or (f in ("vector", "matrix") and len(args) > 1):
                # (is_sized(a) inline: a call less, and is_sized's import, for every call typed)
                return self._sized(a)  # eye(len(w)), vector(0, len(z)), matrix(1, size(A))
            case A.Call(func=f, args=(x, y)) if family_of(f) == "kronecker":
                # kron(A, B): each side the product of A's and B's, B's running fastest
                tx, ty = memo[id(x)][1], memo[id(y)][1]
                return _of_sides(self._product(ty.rows, tx.rows), self._product(ty.cols, tx.cols))
            case A.Call(func=f, args=(x,)) if family_of(f) == "vectorise":
                tx = memo[id(x)][1]  # vec(X): a column of X's rows times its columns, rows fastest
                return MType(C, self._product(tx.rows, tx.cols), 1)
            case A.Call(func=f, args=(x,)):
                fn = lookup(f)
                if fn.family == "elementwise":
                    return memo[id(x)][1]
                if fn.family in ("reduction", "square"):
                    return SCALAR
                if fn.family == "rewritten":
                    # softmax(u), log_softmax(u) in an answer (simplify/vocabulary.py): the one-
                    # argument rewrites keep their argument's shape
                    return memo[id(x)][1]
                tx = memo[id(x)][1]
                if fn.family == "spectral":  # eig(S), eigvec_max(S), svd_u(X), …: the entry's shape
                    return {"scalar": SCALAR, "rows": MType(C, tx.rows, 1), "cols": MType(C, tx.cols, 1),
                            "cols×cols": MType(M, tx.cols, tx.cols, True),
                            "rows×cols": MType(M, tx.rows, tx.cols)}[fn.result]
                if f == "diag":
                    if tx.kind in (C, Rw):
                        n = tx.rows if tx.kind == C else tx.cols
                        return MType(M, n, n, n is None)
                    return MType(C, tx.rows, 1)
                if f == "vector":
                    return MType(C, None, 1)
                if fn.family in ("inverse", "analytic"):  # inv(X), expm(X): square, as X
                    return MType(M, _side(tx.rows, tx.cols), _side(tx.cols, tx.rows), True)
                return _UNKNOWN
            case A.Literal(rows=rows):
                nr, nc = len(rows), len(rows[0])
                kind = S if nr == nc == 1 else C if nc == 1 else Rw if nr == 1 else M
                return MType(kind, nr, nc)
            case A.Where(body=b):
                return memo[id(b)][1]
        return _UNKNOWN

    def _sized(self, a: A.Call) -> MType:
        """A constant with its size written out: each size names a dimension of a variable
        (or is a number), as the type checker reads it (language/sizes.py)."""
        if a.func == "eye":
            n = self._size(a.args[0])
            return MType(M, n, n, n is None)
        sizes = a.args[1:]
        if a.func == "vector":
            return MType(C, self._size(sizes[0]), 1)
        if len(sizes) == 1:  # matrix(c, size(A)): A's shape
            t = self.of(sizes[0].args[0])
            return MType(M, t.rows, t.cols)
        return MType(M, self._size(sizes[0]), self._size(sizes[1]))

    def _size(self, s: A.Expr):
        """The dimension a size argument names: a number, len(v), size(A, 1|2)."""
        if isinstance(s, A.Num):
            return int(s.value)
        t = self.of(s.args[0])
        if s.func == "len":
            return t.rows if t.kind == C else t.cols
        return t.rows if s.args[1].value == 1 else t.cols

    def resolve(self, tree: A.Expr, rows=None, cols=None, check: bool = False) -> dict:
        """Every node of ``tree`` (by id) → its :class:`~ricci.language.kinds.Type`, each side
        the node's own or, where it has none (a constant sized where it stands: ``eye`` in
        ``X'*X + lambda*eye``, ``vector(1)'`` in ``vector(1)'*X``), the side its place in
        the tree gives it, from the answer's own (``rows``, ``cols``: the derivative's
        dimensions) down.  The types are the ones made on the way up (:meth:`of`), not a second
        inference: this only hands each open side the one its parent already holds.  A side
        nothing fixes stays None.  ``tree`` must not share a node between two places (each
        place may give it another size): :func:`ricci.language.expression.as_parsed` makes
        such a tree.  ``check``: note in :attr:`mismatch` the first node whose own side is not
        the one its place gives it."""
        out: dict = {}
        #: a name's sides where it is used (a where binding's size-less matrix(0) takes them)
        uses: dict = {}
        stack = [(tree, rows, cols)]
        while stack:
            node, r, c = stack.pop()
            if r is _USES:  # a binding, after the body and the later bindings that use it
                r, c = uses.get(c, (None, None))
            elif isinstance(node, A.Name) and (r is not None or c is not None):
                was = uses.get(node.name, (None, None))
                uses[node.name] = (_side(was[0], r), _side(was[1], c))
            if isinstance(node, A.Where):
                for name, e in node.bindings:  # bound before the body is typed: it reads them
                    self.bind(name, self.of(e))
            t = self.of(node)
            if check and self.mismatch is None and (
                    _differ(t.rows, r) or _differ(t.cols, c) or _wrong(node, t, self)):
                self.mismatch = node  # a tree that is not one of the language's (see Mistyped)
            r = t.rows if t.rows is not None else None if r is _OPEN else r
            c = t.cols if t.cols is not None else None if c is _OPEN else c
            if t.square:  # eye's rows are its columns
                r = c if r is None else r
                c = r if c is None else c
                if r is None:
                    r = c = _OPEN
            out[id(node)] = Type(r, c)
            stack.extend(self._places(node, t, r, c))
        return out

    def _places(self, node: A.Expr, t: MType, r, c) -> list:
        """``node``'s children with the sides their place gives them (None: their own)."""
        own = [(x, None, None) for x in A.children(node)]
        match node:
            case A.Transpose(arg=x):
                return [(x, c, r)]
            case A.Neg(arg=x):
                return [(x, r, c)]
            case A.BinOp(op="^"):
                return own
            case A.BinOp(op="/", left=x, right=y):
                return [(x, r, c), (y, None, None)]
            case A.BinOp(op="*", left=x, right=y):
                tx, ty = self.of(x), self.of(y)
                if tx.kind == S or ty.kind == S:
                    return [(z, None, None) if tz.kind == S else (z, r, c) for z, tz in ((x, tx), (y, ty))]
                inner = _side(tx.cols, ty.rows)
                return [(x, r, inner), (y, inner, c)]
            case A.BinOp(left=x, right=y):  # entrywise: a scalar broadcasts
                return [(z, None, None) if self.of(z).kind == S else (z, r, c) for z in (x, y)]
            case A.Call(func=f, args=(x, y)) if family_of(f) == "kronecker":
                # a side of kron(A, B) one of whose factors is open (kron(y, eye), the Jacobian of
                # vec(x*y') by x) is the other factor of the side its place gives the product
                tx, ty = self.of(x), self.of(y)
                return [(x, self._factor(r, ty.rows, False), self._factor(c, ty.cols, False)),
                        (y, self._factor(r, tx.rows, True), self._factor(c, tx.cols, True))]
            case A.Call(func=f, args=(x,)) if family_of(f) == "vectorise":
                tx = self.of(x)
                return [(x, self._factor(r, tx.cols, True), self._factor(r, tx.rows, False))]
            case A.Call(func=f, args=(x,)) if f not in SIZE_FUNCTIONS and not is_sized(node):
                fn = lookup(f)
                if fn is not None and fn.family in ("elementwise", "rewritten", "inverse", "analytic"):
                    return [(x, r, c)]
                tx = self.of(x)
                if f == "diag" and t.kind == M:  # diag(v): v's length is the side
                    return [(x, r, 1) if tx.kind != Rw else (x, 1, r)]
                if (f == "diag" and tx.kind == M) or (fn is not None and fn.family == "square"):
                    n = _side(tx.rows, tx.cols) if f != "diag" else _side(r, _side(tx.rows, tx.cols))
                    return [(x, n, n) if n is not None else (x, _OPEN, _OPEN)]  # a square argument
                return own
            case A.Where(body=b, bindings=bs):
                return [(e, _USES, name) for name, e in bs] + [(b, r, c)]
        return own

    def _product(self, fast, slow):
        """The side of a pair of sides (vec, kron; ``fast`` runs fastest) as the type checker
        names it (the expression's product dimensions: mn, the length of vec(X)), or None where
        a factor is not known or the product has no name."""
        if fast == 1:
            return slow
        if slow == 1:
            return fast
        if not (_known(fast) and _known(slow)):
            return None
        if isinstance(fast, int) and isinstance(slow, int):
            return fast * slow
        return next((name for name, pair in self.expr._checked.products.items() if tuple(pair) == (fast, slow)),
                    None)

    def _factor(self, whole, known, known_is_slow: bool):
        """The factor that makes the side ``whole`` with the factor ``known`` (the slow one where
        ``known_is_slow``): where a kron's or vec's place gives its side and one factor is its own."""
        if not (_known(whole) and _known(known)):
            return None
        if known == 1:
            return whole
        pair = self.expr._checked.products.get(whole)
        if pair is not None:
            fast, slow = pair
            if known_is_slow and slow == known:
                return fast
            if not known_is_slow and fast == known:
                return slow
            return None
        if isinstance(whole, int) and isinstance(known, int) and known and whole % known == 0:
            return whole // known
        return 1 if whole == known else None

    def sized_alone(self, node: A.Expr) -> bool:
        """Whether a subterm with a size-less constant (a*matrix(1) + C) gets its whole shape
        from its own variables, so that a name for it has one shape wherever it stands: each
        dimension of its type is one of theirs (read from the carried types, not by checking
        the subterm's text again)."""
        names = {n.name for n in A.walk(node) if isinstance(n, A.Name)}
        variables = self.expr.variables
        if not names <= set(variables) | set(IDENTITY_NAMES):
            return False
        dims = {d for n in names if n in variables for d in variables[n].dims}
        t = self.of(node)
        return all(d in dims for d in (t.rows, t.cols) if d != 1)
