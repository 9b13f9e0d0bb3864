# Over 600 lines: raising is one recursion over the IR's nodes, the Raiser's methods calling one another.
"""Index IR → matrix notation ("raising"); the display forms of a derivative are assembled
from it in :mod:`ricci.display_forms`.

A product in index notation is a graph: factors are nodes, indices are edges.  It is raised by
repeatedly merging two factors (TENSOR_CALCULUS §4):

* a summed index shared by exactly two factors is a **matrix product** (each side transposed so
  that the index is the left's column and the right's row); a chain that closes on itself is a
  **trace**; two vectors give an **inner product**;
* an index shared by more factors, or a free index shared by two, is a **Hadamard** product
  (``.*`` for equal shapes, ``diag(v)*A`` to scale the rows of A by v);
* factors sharing nothing multiply as scalars or form an **outer product**.

Each partial result is a matrix-notation AST together with the index that runs along its rows
and the one along its columns (``None`` for a side of size 1), so orientation is never guessed.
What cannot be raised (more than two free indices, a sum over a broadcast) falls back to index
notation.  The matrix-level clean-up (transposes pushed to the leaves, products re-associated,
common factors pulled out of sums) lives in :mod:`ricci.simplify.matrix`.
"""

from __future__ import annotations

import heapq
from functools import partial
from typing import NamedTuple

from .functions import family_of, lookup, named
from .ir import build as B
from .ir.nodes import Add, Delta, Elem, Index, MatFun, Mul, Node, Num, Pair, Pow, Size, Stack, Var
from .language import ast as A
from .printing.text import to_text
from .limits import tick
from .simplify.matrix import M, S as SCALAR_KIND, MatrixForms


class _RawMul:
    """A list of factors seen as a product (for opening nested products)."""

    def __init__(self, factors):
        self.factors = factors


class NoMatrixForm(Exception):
    """Raised inside raising when a subterm has no matrix notation."""


class R(NamedTuple):
    """A raised tensor: ``ast`` whose rows run along ``row`` and columns along ``col``.

    A named tuple, equal, hashed and written as the frozen dataclass it was: made by
    :func:`_r`, tuple's own constructor, without the dataclass's Python-level ``__init__``
    (issue 21: ~1,000 such calls in the raise of the depth-64 network), its fields read in C."""

    ast: A.Expr
    row: Index | None
    col: Index | None

    @property
    def indices(self) -> set:
        row, col = self.row, self.col  # (no comprehension: asked of every factor merged)
        if row is None:
            return set() if col is None else {col}
        return {row} if col is None else {row, col}

    @property
    def is_scalar(self) -> bool:
        return self.row is None and self.col is None


#: ``_r((ast, row, col))``: an :class:`R` made in C (no Python-level call)
_r = partial(tuple.__new__, R)


class Raiser:
    def __init__(self, forms: MatrixForms, bindings: dict | None = None):
        self.m = forms
        self.bindings = bindings or {}
        #: bound names whose expression is a row vector: in the IR a bound name carries only its
        #: free indices, so that a row's one index reads like a column's.
        self.rows = {n for n, (_, br, bc) in self.bindings.items() if br is None and bc is not None}
        self.memo: dict = {}
        #: printed texts of the forms compared by length (to_text's memo): a nested answer's
        #: forms share their inner levels, which were printed again at every level (issue 21:
        #: a third of the display of logdet(X + inv(X + inv(…))) at 12 levels)
        self.texts: dict = {}
        #: (factors, sum, out) → the product distributed over the sum (:meth:`_spread`)
        self.spreads: dict = {}
        self.raised = 0  # nodes raised: the clock is read at every 8th (tick)
        self.names: dict = {}  # variable's name → its one A.Name (_raise)

    # -- orientation -------------------------------------------------------------------------------
    def orient(self, r: R, row: Index | None, col: Index | None) -> A.Expr:
        """The AST whose rows run along ``row`` and columns along ``col``."""
        if (r.row, r.col) == (row, col):
            return r.ast
        if (r.col, r.row) == (row, col):
            if isinstance(r.ast, A.Call) and family_of(r.ast.func) == "kronecker":
                # kron(P, Q)' = kron(P', Q'): the transpose goes to the factors, as for a product
                return A.Call(r.ast.func, tuple(self.m.T(a) for a in r.ast.args))
            t = self.m.transposed(r.ast)  # T(), a sum's transpose kept outside without pushing it in
            # a zero with a shape, vector(0)', must not fold into the scalar 0
            return self._constant(_r((t, row, col))).ast if self.m.kind(t) == SCALAR_KIND else t
        if r.is_scalar and (row is not None or col is not None):
            raise NoMatrixForm("a scalar where a tensor is needed")
        raise NoMatrixForm(f"cannot orient {r} as ({row}, {col})")

    def flip(self, r: R) -> R:
        return _r((self.m.T(r.ast), r.col, r.row))

    # -- nodes ---------------------------------------------------------------------------------------
    def raise_node(self, node: Node) -> R:
        got = self.memo.get(id(node))
        if got is None:
            if not self.raised & 7:
                tick()  # the derivation's time budget (ricci.limits), at the first node and every 8th
            self.raised += 1
            # the nodes of every layer of a network, raised here as _raise would, without its
            # call (issue 21); the rest, and every node where names are bound, by _raise
            t = type(node)
            if self.bindings:
                got = self._raise(node)
            elif t is Mul:
                got = self._mul_factored(node)
                for k, f in enumerate(node.factors):
                    if type(f) is Add and _has_identity_term(f):
                        got = self._or_spread(node, k, got)
                        break
            elif t is Var:
                idx = node.idx
                if len(idx) == 2 and idx[0] != idx[1]:  # a matrix, W3 (_var's last case)
                    leaf = self.names.get(node.name)
                    if leaf is None:
                        leaf = self.names[node.name] = A.Name(node.name)
                    got = _r((leaf, idx[0], idx[1]))
                else:
                    got = self._var(node)
            elif t is Elem:
                ra = self.raise_node(node.arg)
                x = ra[0]
                ast = A.Call(node.func, (x,))
                got = _r((ast, ra[1], ra[2]))
                typing = self.m.types
                tx = typing._memo.get(id(x))
                if tx is not None and tx[0] is x and typing.unary.get(node.func) is True:
                    # typed as Typing._compose types it, its argument's type: no of() below
                    typing._memo[id(ast)] = (ast, tx[1])
            elif t is Add:
                got = self._add(node)
            elif t is Pow:
                got = self._pow(node.base, node.exp)
            else:
                got = self._raise(node)
            if got.row is not None or got.col is not None:
                # (the kind, Typing.kind's memo read inline: a call less for every tensor raised)
                ast = got.ast
                typed = self.m.types._memo.get(id(ast))
                scalar = (typed[1] if typed is not None and typed[0] is ast else self.m.types.of(ast)).kind == SCALAR_KIND
            else:
                scalar = False
            if scalar:
                # a sum that cancelled in matrix notation (z' - (z' + s) is -s in every entry)
                # keeps its shape: vector(0), -s*z.^0', not the scalar 0 or -s
                got = self._constant(got)
            self.memo[id(node)] = (got, node)
            return got
        return got[0]

    def _binding(self, node: Node) -> R | None:
        """A subterm that is a ``where``-bound expression (tanh(B*x) for u = tanh(B*x)) is
        shown by its name.  Products are left alone: t*cos(t) inside sin(t) + t*cos(t) reads
        better as it stands than as x1."""
        for name, (ir, br, bc) in self.bindings.items():
            if ir is node or (ir.sig == node.sig and len(ir.free) == len(node.free) and ir.free):
                mapping = dict(zip(ir.free, node.free))
                if ir is node or B.rename(ir, mapping) is node:
                    return _r((A.Name(name), mapping.get(br) if br else None, mapping.get(bc) if bc else None))
        return None

    def _raise(self, node: Node) -> R:
        if self.bindings and isinstance(node, (Elem, MatFun, Pow, Add)):
            b = self._binding(node)
            if b is not None:
                return b
        match node:
            case Num(value=v):
                return _r((self.m.number(v), None, None))
            case Size(dim=dim):
                # The language has no name for a dimension: count the entries of a variable of
                # that size instead, sum(x.^0) = n, so that the text still evaluates.
                col = _sized(self.m.expr, dim, self.m)
                if col is None:
                    raise NoMatrixForm("a dimension's size")
                return _r((A.Call("sum", (A.BinOp(".^", col, A.Num(0.0)),)), None, None))
            case Var():
                return self._var(node)
            case Delta(i=i, j=j):
                return _r((self.m.identity(), i, j))
            case Add():
                return self._add(node)
            case Elem(func=f, arg=a):
                ra = self.raise_node(a)
                return _r((A.Call(f, (ra.ast,)), ra.row, ra.col))
            case Pow(base=b, exp=e):
                return self._pow(b, e)
            case MatFun():
                return self._matfun(node)
            case Stack():
                return self._stack(node)
            case Mul():
                return self._mul(node)
        raise NoMatrixForm(type(node).__name__)

    def _var(self, node: Var) -> R:
        # one Name per variable: each of its uses (W3 with other indices) is that object,
        # taken apart and typed once
        name, idx = node.name, node.idx
        leaf = self.names.get(name)
        if leaf is None:
            leaf = self.names[name] = A.Name(name)
        if len(idx) == 0:
            return _r((leaf, None, None))
        if len(idx) == 1:
            if name in self.rows:
                return _r((leaf, None, idx[0]))
            return _r((leaf, idx[0], None))
        if idx[0] == idx[1]:
            return _r((A.Call("diag", (leaf,)), idx[0], None))
        return _r((leaf, idx[0], idx[1]))

    def _add(self, node: Add) -> R:
        raised = []
        for t in node.terms:
            # B.const_value(t) inline (a call less for every term, issue 21): a number, or the
            # product of a product's factors where every one is a number (math.prod's order and
            # start, 1: the product of none is 1, the broadcast ones of 1 - t.^2)
            tt, v = type(t), None
            if tt is Num:
                v = t.value
            elif tt is Mul:
                v = 1
                for f in t.factors:
                    if type(f) is not Num:
                        v = None
                        break
                    v = v * f.value
            # A constant broadcast over the indices (1 + exp(x)): the scalar broadcasts.
            raised.append(_r((self.m.number(v), None, None)) if v is not None else self.raise_node(t))
        # Orientation of the sum: that of its first term with a tensor shape.
        ref = raised[0]
        for r in raised:
            if r.row is not None or r.col is not None or not node.free:
                ref = r
                break
        terms = []
        free = set(node.free)
        ref_row, ref_col = ref.row, ref.col
        for t, r in zip(node.terms, raised):
            ast, row, col = r
            # (r.indices and r.is_scalar read inline: the properties' calls for every term)
            if ((set() if col is None else {col}) if row is None else ({row} if col is None else {row, col})) != free:
                # A constant broadcast over the indices (x + 1): the scalar broadcasts.
                if row is None and col is None:
                    terms.append(ast)
                    continue
                raise NoMatrixForm("a sum whose terms have different shapes")
            # (orient's first case inline: most terms are oriented as the first)
            terms.append(ast if row == ref_row and col == ref_col else self.orient(r, ref_row, ref_col))
        return _r((self.m.add(terms), ref.row, ref.col))

    def _pow(self, b: Node, e: Node) -> R:
        if isinstance(e, Num) and e.value in (0.5, -0.5, 1.0, -1.0) and isinstance(b, Mul) and not b.out \
                and len(b.factors) == 2 and b.factors[0] is b.factors[1] and b.factors[0].free:
            # (Σ u_i u_i)^(±1/2) is ±norm2(u): the Euclidean / Frobenius norm.
            ru = self.raise_node(b.factors[0])
            norm = A.Call("norm2", (ru.ast,))
            if e.value in (0.5, -0.5):
                return _r((norm if e.value > 0 else self.m.recip(norm), None, None))
        if isinstance(e, Num) and not float(e.value).is_integer() and isinstance(b, Mul) and not b.out \
                and len(b.factors) == 2 and b.factors[0] is b.factors[1] and b.factors[0].free:
            # (u'u)^1.5 = norm2(u)^3
            ru = self.raise_node(b.factors[0])
            return _r((self.m.power(A.Call("norm2", (ru.ast,)), self.m.number(2 * e.value), elementwise=False),
                     None, None))
        rb, re_ = self.raise_node(b), self.raise_node(e)
        # (R.is_scalar of each, read once inline: four calls a power of every layer, issue 21)
        b_scalar = rb.row is None and rb.col is None
        e_scalar = re_.row is None and re_.col is None
        if b_scalar and e_scalar:
            return _r((self.m.power(rb.ast, re_.ast, elementwise=False), None, None))
        ref = rb if not b_scalar else re_
        left = rb.ast if b_scalar else self.orient(rb, ref.row, ref.col)
        right = re_.ast if e_scalar else self.orient(re_, ref.row, ref.col)
        return _r((self.m.power(left, right, elementwise=True), ref.row, ref.col))

    def _matfun(self, node: MatFun) -> R:
        ra = self.raise_node(node.arg)
        arg = self.orient(ra, node.r, node.c)
        if node.func in ("det", "logdet"):
            return _r((A.Call(node.func, (arg,)), None, None))
        if family_of(node.func) == "spectral":  # eig(S), eigvec_max(S), svd_u(X), …: its own shape
            call = A.Call(node.func, (arg,))
            if len(node.out) < 2:
                return _r((call, node.out[0] if node.out else None, None))
            p, q = node.out
            return _r((A.Call("diag", (call,)), p, None)) if p == q else _r((call, p, q))
        if len(node.out) != 2:  # a Fréchet derivative's four indices: raised in a product (_frechet)
            raise NoMatrixForm("a Fréchet derivative not applied to a matrix")
        p, q = node.out
        if family_of(node.func) == "analytic":  # expm(X), logm(X), sqrtm(X)
            call = A.Call(node.func, (arg,))
            return _r((A.Call("diag", (call,)), p, None)) if p == q else _r((call, p, q))
        if isinstance(arg, A.Call) and arg.func == "inv":
            inv = arg.args[0]  # inv(inv(X)) = X
        else:
            inv = A.Call("inv", (arg,))
        if p == q:
            return _r((A.Call("diag", (inv,)), p, None))
        return _r((inv, p, q))

    def _stack(self, node: Stack) -> R:
        if len(node.axes) == 1 and all(isinstance(e, Stack) and len(e.axes) == 1 and e.axes == node.entries[0].axes
                                       for e in node.entries):
            # A stack of stacks (the Hessian by a list of scalars): rows along the inner axis.
            inner = node.entries[0].axes[0]
            cols = [[self.raise_node(x) for x in e.entries] for e in node.entries]
            if any(not r.is_scalar for col in cols for r in col):
                raise NoMatrixForm("a literal whose entries are tensors")
            rows = tuple(tuple(col[i].ast for col in cols) for i in range(len(cols[0])))
            return _r((A.Literal(rows), inner, node.axes[0]))
        raised = [self.raise_node(e) for e in node.entries]
        if len(node.axes) == 1 and node.entries and len(node.entries[0].free) == 1:
            return self._stack_of_vectors(node, raised)
        if any(not r.is_scalar for r in raised):
            raise NoMatrixForm("a literal whose entries are tensors")
        asts = [r.ast for r in raised]
        if len(node.axes) == 1:
            return _r((A.Literal(tuple((a,) for a in asts)), node.axes[0], None))
        if len(node.axes) == 2:
            n_rows, n_cols = node.axes[0].dim, node.axes[1].dim
            if node.axes[0] == node.axes[1]:
                raise NoMatrixForm("the diagonal of a literal")
            rows = tuple(tuple(asts[i * n_cols : (i + 1) * n_cols]) for i in range(n_rows))
            return _r((A.Literal(rows), node.axes[0], node.axes[1]))
        raise NoMatrixForm("a literal of more than two axes")

    def _stack_of_vectors(self, node: Stack, raised: list) -> R:
        """A literal whose entries depend on a vector (its Jacobian): Σ_k e_k * ∇entry_k,
        each unit column e_k a literal, e.g. [0; 1]*x' for ∂[t; x'*x/2]/∂x."""
        axis = node.axes[0]
        (f,) = node.entries[0].free
        n = len(node.entries)
        terms = []
        for k, (e, r) in enumerate(zip(node.entries, raised)):
            if B.is_zero(e):
                continue
            unit = A.Literal(tuple((A.Num(1.0 if i == k else 0.0),) for i in range(n)))
            terms.append(self.m.matmul(unit, self.orient(r, None, f)))
        if not terms:
            raise NoMatrixForm("a zero literal")
        return _r((self.m.add(terms), axis, f))

    # -- products ------------------------------------------------------------------------------------
    @staticmethod
    def _factors(node: Mul) -> list:
        """The factors of a product, with nested products of more than two free indices (kept
        apart by the IR to avoid quadratic flattening) opened up: only their parts have a
        matrix form."""
        out = []
        for f in node.factors:
            if isinstance(f, Mul) and len(f.free) > 2:
                ren = {b: B.fresh(b.dim) for b in B._bound_of(f)}
                inner = [B.rename(g, ren) for g in f.factors]
                out.extend(Raiser._factors(_RawMul(inner)))
            else:
                out.append(f)
        return out

    def _mul(self, node: Mul) -> R:
        factored = self._mul_factored(node)
        for k, f in enumerate(node.factors):
            if isinstance(f, Add) and _has_identity_term(f):
                return self._or_spread(node, k, factored)
        return factored

    def _or_spread(self, node: Mul, k: int, factored: R) -> R:
        """y'*(eye - 1*p') reads worse than y'*... distributed (sum(y)*p' - y'): a product
        whose ``k``-th factor is a sum with an identity or all-ones term is tried both ways,
        and the shorter text wins."""
        others = list(node.factors[:k]) + list(node.factors[k + 1:])
        try:
            spread = self.raise_node(self._spread(others, node.factors[k], node.out))
        except NoMatrixForm:
            return factored
        if spread is factored:  # _mul_factored distributed it already (a sum of tensors)
            return factored
        if (spread.indices == factored.indices
                and len(to_text(spread.ast, self.texts)) < len(to_text(factored.ast, self.texts))):
            return spread
        return factored

    def _spread(self, others: list, add: Add, out: tuple) -> Node:
        """The product of ``others`` and ``add`` distributed over its terms, built once per
        (factors, sum, out): the "distribute or not" choice of :meth:`_mul` and the product over
        a sum with no matrix form of :meth:`_mul_factored` distribute the same product at every
        level of a nested answer, and each build canonicalises products as long as the chain
        so far (issue 21: a third of the IR built by the display of logdet(X + inv(…)))."""
        key = (tuple(id(f) for f in others), id(add), out)
        got = self.spreads.get(key)
        if got is None:
            # the factors are kept with the result, so that no id in the key is reused
            got = (B.add([B.mul(others + [t], out) for t in add.terms]), others, add)
            self.spreads[key] = got
        return got[0]

    def _mul_factored(self, node: Mul) -> R:
        out = set(node.out)
        coef = 1.0
        items: list[R] = []
        factors = node.factors  # (read, never changed)
        special = False
        for g in factors:
            # a nested product of more than two free indices is opened (_factors, a call less
            # where none is); only a Fréchet tensor or a pairing starts either rule below: most
            # products have neither
            t = type(g)
            if t is Mul and len(g.free) > 2:
                factors = self._factors(node)
                special = any(isinstance(f, (MatFun, Pair)) for f in factors)
                break
            if t is MatFun or t is Pair:
                special = True
        if special:
            adjoint = self._frechet(factors, out)
            if adjoint is not None:  # a'*expm(X)*b by X: expm_frechet(X', a*b')
                item, factors = adjoint
                items.append(item)
            paired = self._paired(factors, out)
            while paired is not None:  # Σ_ab δ_(r,(a,b)) T_ab: vec(T); two blocks apart: kron(P, Q)
                item, factors = paired
                items.append(item)
                paired = self._paired(factors, out)
        for k, f in enumerate(factors):
            if isinstance(f, Num):
                coef *= f.value
                continue
            try:
                if isinstance(f, Add) and len(f.free) > 2:
                    raise NoMatrixForm("a sum of tensors")
                items.append(self.raise_node(f))
            except NoMatrixForm:
                if not isinstance(f, Add):
                    raise
                # Distribute the product over a sum that has no matrix form on its own (the
                # 4-index ∂(X'AX)/∂X inside a chain rule): each term may contract to a matrix.
                others = list(factors[:k]) + list(factors[k + 1:])
                return self.raise_node(self._spread(others, f, node.out))
        if coef == 0.0:
            if len(node.out) > 2:
                raise NoMatrixForm("a zero tensor")
            return self._zero((tuple(node.out) + (None, None))[:2])
        # Indices of out that no factor carries: a broadcast, a product with ones.
        carried = set()
        for r in items:  # (each item's .indices, without making a set per item)
            if r.row is not None:
                carried.add(r.row)
            if r.col is not None:
                carried.add(r.col)
        missing = sorted(out - carried)
        if len(missing) == 2:
            items.append(_r((A.Call("matrix", (A.Num(1.0),)), missing[0], missing[1])))
        elif len(missing) == 1:
            items.append(_r((A.Call("vector", (A.Num(1.0),)), missing[0], None)))
        elif missing:
            raise NoMatrixForm("a broadcast over more than two indices")
        scalars, tensors = [], []
        for r in items:
            if r.row is None and r.col is None:
                scalars.append(r.ast)
            else:
                tensors.append(r)
        tensors = self._contract(tensors, out)
        # A contraction can close into a scalar (x'*A*x): it joins the scalar factors.
        left = []
        for r in tensors:
            if r.row is None and r.col is None:
                scalars.append(r.ast)
            else:
                left.append(r)
        tensors = left
        if len(tensors) > 1:
            raise NoMatrixForm("factors that do not combine into one matrix")
        if tensors:
            t = tensors[0]
            return _r((self.m.product(coef, scalars, t.ast), t.row, t.col))
        return _r((self.m.product(coef, scalars, None), None, None))

    def _frechet(self, factors: list, out: set) -> tuple[R, list] | None:
        """A Fréchet tensor T_pq,ab = ∂f(X)_pq/∂X_ab contracted on p, q with the factors M_pq
        that carry them: Σ_pq M_pq T_pq,ab = L_f(X', M)_ab, the adjoint of the Fréchet
        derivative at X being the Fréchet derivative at X' (a power series with real
        coefficients).  Returns that matrix (rows a, columns b) and the factors left, or None."""
        k = next((k for k, f in enumerate(factors) if isinstance(f, MatFun) and len(f.out) == 4), None)
        if k is None:
            return None
        t = factors[k]
        p, q, a, b = t.out
        if p == q or a == b or {p, q} & out:
            return None
        rest = [f for j, f in enumerate(factors) if j != k]
        # the factors joined to p or q through summed indices form M_pq
        group, reach = set(), {p, q}
        changed = True
        while changed:
            changed = False
            for j, f in enumerate(rest):
                if j not in group and set(f.free) & reach:
                    group.add(j)
                    reach |= {i for i in f.free if i not in out and i not in (a, b)}
                    changed = True
        inner = [rest[j] for j in sorted(group)]
        others = [f for j, f in enumerate(rest) if j not in group]
        extra = {i for f in inner for i in f.free} - {p, q}
        if not inner or extra & (out | {a, b}) or any(set(f.free) & extra for f in others):
            return None
        m = self.orient(self.raise_node(B.mul(inner, (p, q))), p, q)
        x = self.orient(self.raise_node(t.arg), t.r, t.c)
        return _r((A.Call(lookup(t.func).name, (self.m.T(x), m)), a, b)), others

    def _paired(self, factors: list, out: set) -> tuple[R, list] | None:
        """A pairing Pair_rab (r = a + size(a)·b) whose a and b are summed, with the factors that
        carry them: vec(T) where one block T_ab carries both, kron(P, Q) where a and b lie in two
        blocks, P with b (and the columns' slow index) and Q with a (a second pairing of the
        columns, or a column index of one of them).  Returns the raised item (rows r) and the
        factors left, or None."""
        for k, t in enumerate(factors):
            if not isinstance(t, Pair) or (t.a in out and t.b in out) or t.a == t.b:
                continue
            rest = [f for j, f in enumerate(factors) if j != k]
            if t.a in out or t.b in out:
                # a free index of the pair is an identity's column: δ_(r,(j,a)) y_a is kron(y, I)
                free = t.a if t.a in out else t.b
                inner = B.fresh(free.dim)
                rest.append(B.delta(inner, free))
                t = B.pair(t.r, inner, t.b) if free == t.a else B.pair(t.r, t.a, inner)
            cols = next((f for f in rest if isinstance(f, Pair) and f.a not in out
                         and f.b not in out), None)
            if cols is not None and t.r not in out and cols.r in out:
                # the free side is the rows: kron(A, B) by x, not kron(A', B')'
                rest[rest.index(cols)], t, cols = t, cols, t
            rest_np = [f for f in rest if f is not cols]

            def block(start: set, stop: set):
                # the factors joined to ``start`` through summed indices (not through ``stop``)
                group, reach, changed = [], set(start), True
                while changed:
                    changed = False
                    for f in rest_np:
                        if f not in group and not isinstance(f, Pair) and set(f.free) & reach:
                            group.append(f)
                            reach |= {i for i in f.free if i not in out and i not in stop}
                            changed = True
                return group

            joint = block({t.a, t.b}, set())
            fast, slow = block({t.a}, {t.b}), block({t.b}, {t.a})
            if not joint:
                continue
            others = [f for f in rest if f not in joint and f is not cols]
            overlap = {id(f) for f in fast} & {id(f) for f in slow}
            if cols is None and overlap:  # one block carries a and b: vec(T)
                outer = {i for f in joint for i in f.free if i in out}
                if outer:
                    continue
                m = self.orient(self.raise_node(B.mul(joint, (t.a, t.b))), t.a, t.b)
                return _r((A.Call(named("vectorise"), (m,)), t.r, None)), others
            if not fast or not slow or overlap:
                continue
            if cols is not None:
                p_col, q_col, col = cols.b, cols.a, cols.r
            else:
                p_out = [i for f in slow for i in f.free if i in out]
                q_out = [i for f in fast for i in f.free if i in out]
                p_out, q_out = list(dict.fromkeys(p_out)), list(dict.fromkeys(q_out))
                if len(p_out) + len(q_out) > 1:
                    continue
                p_col = p_out[0] if p_out else None
                q_col = q_out[0] if q_out else None
                col = p_col or q_col
            try:
                pm = self.orient(self.raise_node(B.mul(slow, tuple(i for i in (t.b, p_col) if i is not None))), t.b, p_col)
                qm = self.orient(self.raise_node(B.mul(fast, tuple(i for i in (t.a, q_col) if i is not None))), t.a, q_col)
            except NoMatrixForm:
                continue
            return _r((A.Call(named("kronecker"), (pm, qm)), t.r, col)), others
        return None

    def _constant(self, r: R) -> R:
        """The scalar ``r.ast`` in every entry of ``r``'s shape."""
        if r.ast == A.Num(0.0):
            return self._zero((r.row, r.col))

        def ones(i):
            # a column of ones of i's length, sized by a variable where one has it (x.^0)
            col = _sized(self.m.expr, i.dim, self.m)
            return A.Call("vector", (A.Num(1.0),)) if col is None else A.BinOp(".^", col, A.Num(0.0))

        if r.row is not None and r.col is not None:
            shape = A.BinOp("*", ones(r.row), A.Transpose(ones(r.col)))
        elif r.row is not None:
            shape = ones(r.row)
        else:
            shape = A.Transpose(ones(r.col))
        return _r((A.BinOp("*", r.ast, shape), r.row, r.col))

    def _zero(self, orientation) -> R:
        """A zero with rows along ``row`` and columns along ``col``, written as a zero of that
        shape (vector(0), matrix(0)', sized at the end where nothing fixes the size): 0 alone
        would be a scalar, and the text around it would change meaning."""
        row, col = orientation
        return _r((_zero_ast(self.m.expr, (row, col)), row, col))

    def _contract(self, items: list[R], out: set) -> list[R]:
        """Merge the factors two at a time, by the first rule that applies: 1. a summed index
        in exactly two factors: a matrix product; 2. an index in three or more factors, or a
        free index in two: a Hadamard product (of two factors whose indices nest); 3. a summed
        index in one factor only: a sum over it; 4. two vectors with nothing in common: an
        outer product.  Each rule takes the first index in the order of the factors (the
        product's own, then each merge's result, last), a factor's row before its column.

        The factors are numbered in that order, and for each index the numbers of the factors
        that carry it are kept up to date merge by merge, with the indices waiting for rules 1
        and 3 (and 2) in heaps keyed by that order: counting every factor's indices again and
        scanning them at every merge was quadratic in a chain (issue 21: tr(X^64)'s 63 factors).
        Never the set r.indices for the order: a set of indices iterates in hash order, which
        PYTHONHASHSEED changes."""
        if len(items) == 2:
            # two factors that share one summed index, every other index the product's own (W*t,
            # a layer of a network): rule 1 on that index is the one merge there is, with no
            # trace or diagonal (the two ends are other indices)
            ra, rb = items
            if (ra.row is None or ra.row != ra.col) and (rb.row is None or rb.row != rb.col):
                ia, ib = {ra.row, ra.col}, {rb.row, rb.col}  # R.indices, without the two calls
                ia.discard(None)
                ib.discard(None)
                shared = ia & ib
                if len(shared) == 1:
                    (ix,) = shared
                    if ix not in out and (ia | ib) - shared <= out:
                        return [self._product(ra, rb, ix, out, {ix: [0, 1]})]
        alive: dict[int, R] = {}
        uses: dict = {}  # index → numbers of the factors that carry it, ascending
        for k, r in enumerate(items):
            alive[k] = r
            row, col = r.row, r.col
            if row is not None:
                uses.setdefault(row, []).append(k)
            if col is not None and col != row:
                uses.setdefault(col, []).append(k)
        # (first carrier, 0 its row / 1 its column, index): an entry whose index has since
        # changed is dropped when met; (first, side) names one index, so no two indices tie
        products: list = []
        hadamards: list = []
        sums: list = []
        push, pop = heapq.heappush, heapq.heappop

        for ix, ks in uses.items():  # in the order of the key already: appended, each list is a heap
            m = len(ks)
            if m == 2 and ix not in out:
                products.append((ks[0], alive[ks[0]].row != ix, ix))
            elif ix not in out or m >= 2:  # wait(ix, ks, list.append), without the call
                heap = hadamards if ix in out else (products if m == 2 else (hadamards if m > 2 else sums))
                heap.append((ks[0], alive[ks[0]].row != ix, ix))
        joined = len(items)
        scalars: list[R] = []

        def ready(heap: list, carriers: int) -> bool:
            """Whether ``heap``'s first entry (the stale ones dropped) is an index still carried
            by ``carriers`` factors, the first of them the entry's, and not the product's own."""
            while heap:
                first, _, ix = heap[0]
                ks = uses.get(ix)
                if ks is not None and ks[0] == first and len(ks) == carriers and ix not in out:
                    return True
                pop(heap)
            return False

        while True:
            if products and ready(products, 2):  # (an empty heap is not ready: no call)
                ix = products[0][2]
                a, b = uses[ix]
                ra, rb = alive[a], alive[b]
                # the merge reads the counts before it (a trace closes on an index used nowhere else)
                merged = self._product(ra, rb, ix, out, uses)
            else:
                step = self._hadamard_step(hadamards, alive, uses, out) if hadamards else None
                if step is None:
                    if sums and ready(sums, 1):
                        ix = sums[0][2]
                        a, b = uses[ix][0], None
                        ra, rb = alive[a], None
                        merged = self._sum_out(ra, ix, out, uses)
                    elif len(alive) == 2 and all(len(r.indices) == 1 for r in alive.values()):
                        (a, ra), (b, rb) = alive.items()  # two vectors: an outer product
                        merged = _r((self.m.matmul(self.orient(ra, ra.row or ra.col, None),
                                                 self.m.T(self.orient(rb, rb.row or rb.col, None))),
                                   ra.row or ra.col, rb.row or rb.col))
                    else:
                        break
                else:
                    ix, a, b = step
                    ra, rb = alive[a], alive[b]
                    merged = self._hadamard(ra, rb, ix)
            touched = []
            for k, r in ((a, ra), (b, rb)):
                if r is None:
                    continue
                del alive[k]
                row, col = r.row, r.col
                for i in ((row, col) if col != row else (row,)):
                    if i is not None:
                        ks = uses[i]
                        ks.remove(k)
                        if not ks:
                            del uses[i]
                        touched.append(i)
            if merged.row is None and merged.col is None:
                # A contraction that closes (x'*x) leaves a scalar factor; it no longer takes part.
                scalars.append(merged)
            else:
                alive[joined] = merged
                row, col = merged.row, merged.col
                for i in ((row, col) if col != row else (row,)):
                    if i is not None:
                        uses.setdefault(i, []).append(joined)  # the largest number yet
                        touched.append(i)
                joined += 1
            for i in dict.fromkeys(touched):
                ks = uses.get(i)
                if ks:  # wait(i, ks), without the call (a merge of every layer of a network)
                    m = len(ks)
                    if i in out:
                        if m < 2:
                            continue
                        heap = hadamards
                    else:
                        heap = products if m == 2 else (hadamards if m > 2 else sums)
                    push(heap, (ks[0], alive[ks[0]].row != i, i))
        return list(alive.values()) + scalars

    @staticmethod
    def _hadamard_step(hadamards: list, alive: dict, uses: dict, out: set) -> tuple | None:
        """Rule 2 of :meth:`_contract`: the first index in three or more factors (or a free
        index in two) with two factors whose indices nest, and the two; None if there is none."""
        live = []
        for entry in hadamards:
            first, _, ix = entry
            ks = uses.get(ix)
            if ks is not None and ks[0] == first and (len(ks) > 2 or (len(ks) == 2 and ix in out)):
                live.append(entry)
        live = sorted(dict.fromkeys(live))  # the same entry queued twice counts once
        hadamards[:] = live  # a sorted list is a heap
        for _, _, ix in live:
            ks = uses[ix]
            sets = {}  # each carrier's indices, made once (R.indices inline)
            for k in ks:
                _, row, col = alive[k]
                sets[k] = (set() if col is None else {col}) if row is None else ({row} if col is None else {row, col})
            pairs = [(a, b) for a in ks for b in ks if a < b and (sets[a] <= sets[b] or sets[b] <= sets[a])]
            if pairs:
                if len(pairs) > 1:  # (one pair has nothing to sort: no key to compute)
                    # Vectors with vectors first (y .* e), then a vector scaling a matrix.
                    pairs.sort(key=lambda p: len(sets[p[0]] | sets[p[1]]))
                return (ix,) + pairs[0]
        return None

    def _product(self, ra: R, rb: R, ix: Index, out: set, uses: dict) -> R:
        # Put the index on the left's columns and the right's rows; prefer keeping the order
        # (ra left) unless only the other order needs no transposes.
        # whether each side must be transposed: counted first, and only the chosen option's
        # transposes built (building both options' transposed the whole chain so far at every
        # link: quadratic in a product of k factors, issue 21)
        options = []
        for left, right in ((ra, rb), (rb, ra)):
            # 0: the index already on the left's columns (the right's rows), 1: after a flip
            fl = 0 if left.col == ix else (1 if left.row == ix else None)
            fr = 0 if right.row == ix else (1 if right.col == ix else None)
            if fl is None or fr is None:
                continue
            # A row vector on the left (x'*A) reads best; a lone column on the right (A*x) too.
            options.append((fl + fr, left is rb, left, right, fl, fr))
        best = options[0]
        if len(options) > 1 and options[1][:2] < best[:2]:  # the first of the least, as a stable sort
            best = options[1]
        _, _, l, r, fl, fr = best
        l, r = (self.flip(l) if fl else l), (self.flip(r) if fr else r)
        ast = self.m.matmul(l.ast, r.ast)
        row, col = l.row, r.col
        if row is not None and row == col:
            # The chain closed on an index: a trace if summed and used nowhere else, else the diagonal.
            if row in out or len(uses.get(row, ())) > 2:
                return _r((A.Call("diag", (ast,)), row, None))
            return _r((A.Call("tr", (ast,)), None, None))
        return _r((ast, row, col))

    def _hadamard(self, ra: R, rb: R, ix: Index) -> R:
        (_, ar, ac), (_, br, bc) = ra, rb  # (R.indices of each, inline)
        ia = (set() if ac is None else {ac}) if ar is None else ({ar} if ac is None else {ar, ac})
        ib = (set() if bc is None else {bc}) if br is None else ({br} if bc is None else {br, bc})
        big, small = (ra, rb) if len(ia) >= len(ib) else (rb, ra)
        if ia == ib:
            other = small.ast if (small.row, small.col) == (big.row, big.col) else self.orient(small, big.row, big.col)
            return _r((self.m.hadamard(big.ast, other), big.row, big.col))
        # A vector scaling the rows (or columns) of a matrix: diag(v)*A or A*diag(v).
        v = self.orient(small, small.row or small.col, None)
        d = A.Call("diag", (v,))
        k = small.row or small.col
        if big.row == k:
            return _r((self.m.matmul(d, big.ast), big.row, big.col))
        if big.col == k:
            return _r((self.m.matmul(big.ast, d), big.row, big.col))
        raise NoMatrixForm("a Hadamard product across unrelated indices")

    def _sum_out(self, r: R, ix: Index, out: set | None = None, uses: dict | None = None) -> R:
        others = r.indices - {ix}
        if out is not None and others and all(i not in out and len(uses.get(i, ())) == 1 for i in others):
            return _r((A.Call("sum", (r.ast,)), None, None))  # every index summed here: sum(X)
        if r.indices == {ix}:
            if isinstance(r.ast, A.Call) and r.ast.func == "diag" and self.m.kind(r.ast.args[0]) == M:
                return _r((A.Call("tr", r.ast.args), None, None))  # the sum of a diagonal: tr(A)
            return _r((A.Call("sum", (r.ast,)), None, None))
        if r.row == ix:  # column sums: 1'*M, a row along the columns
            return _r((self.m.matmul(A.Transpose(A.Call("vector", (A.Num(1.0),))), r.ast), None, r.col))
        return _r((self.m.matmul(r.ast, A.Call("vector", (A.Num(1.0),))), r.row, None))


def _has_identity_term(add: Add) -> bool:
    """A term with a δ (eye) or an outer product with ones (1*p'): distributing a product over
    such a sum usually simplifies it.  A constant term (1 - s) does not count."""
    for t in add.terms:
        tt = type(t)
        if tt is Num:  # (B.const_value(t) is not None, called only where it may be: _add)
            continue
        if tt is Mul:
            for f in t.factors:
                if type(f) is not Num:
                    break
            else:  # a product of numbers alone: a constant (its B.const_value is a number)
                continue
        fs = t.factors if tt is Mul else (t,)
        for f in fs:
            if isinstance(f, Delta):
                return True
        if tt is Mul:
            carried = set()  # (the indices the factors carry, without a comprehension's call)
            for f in t.factors:
                carried.update(f.free)
            if set(t.out) - carried:
                return True
    return False


def _sized(expr, dim, forms) -> A.Expr | None:
    """A column of length ``dim`` built from the variables (so that 0*it has a fixed size)."""
    if isinstance(dim, int):
        return A.Literal(tuple((A.Num(0.0),) for _ in range(dim)))
    for name, v in expr.variables.items():
        if v.dims == (dim,):
            return A.Name(name)
    for name, v in expr.variables.items():
        if len(v.dims) == 2 and dim in v.dims:
            m = A.Name(name) if v.dims[0] == dim else forms.T(A.Name(name))
            return A.BinOp("*", m, A.Call("vector", (A.Num(1.0),)))
    return None


def _zero_ast(expr, target) -> A.Expr | None:
    """0 of the target's shape, written so that it reads as zero and parses back to that shape:
    ``vector(0)``, ``vector(0)'``, ``matrix(0)`` (their sizes are written out where nothing
    else fixes them: simplify/sizes.py), or a literal of zeros where the sizes are numbers."""
    zero = A.Num(0.0)
    if target is None:
        return None
    r, c = target
    if r is None and c is None:
        return zero
    if all(i is None or isinstance(i.dim, int) for i in (r, c)):
        # a zero of known sizes is a literal: [0, 0; 0, 0], [0; 0], [0, 0]
        return A.Literal(tuple(tuple(zero for _ in range(c.dim if c is not None else 1))
                               for _ in range(r.dim if r is not None else 1)))
    if r is not None and c is not None:
        return A.Call("matrix", (zero,))
    column = A.Call("vector", (zero,))
    return column if c is None else A.Transpose(column)
