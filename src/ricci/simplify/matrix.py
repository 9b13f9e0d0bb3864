"""Matrix-level clean-up of raised answers: the forms a textbook writes.

A product is held as ``coef · scalars · chain`` (scalars commute, the chain of matrices does
not); a sum as a list of such products.  Building either applies the rules below, so every AST
the raiser makes is already in display form:

* **transposes to the leaves**: (A*B)' → B'*A', (A + B)' → A' + B', W' → W for a declared
  symmetric W, s' → s for a scalar, eye' → eye;
* **products re-associated** into one left-to-right chain, identities dropped (A*eye → A);
* **like terms collected**, then **common factors pulled out** of sums: a common scalar, a
  common coefficient, a common leftmost or rightmost matrix (x'*B + x'*B' → x'*(B + B'));
* **reciprocals as divisions** (x'*norm2(x)^-1 → x'/norm2(x));
* **terms ordered** as people write them: positive terms first, fewer transposes first,
  shorter first (B + B', cos(t) - t*sin(t)).

This module holds the transposes and the products; the sums are :mod:`ricci.simplify.sums`
(mixed into :class:`MatrixForms`, as are what transposes cost a reader,
:mod:`ricci.simplify.tcosts`, and the inverses of :mod:`ricci.simplify.inverses`), a
product's parts and the predicates on forms :mod:`ricci.simplify.prods`, the forms' types
:mod:`ricci.simplify.mtypes`, and the names given to repeated subterms
:mod:`ricci.simplify.naming`.
"""

from __future__ import annotations

from ..functions import IDENTITY_NAMES
from ..language import ast as A
from .mtypes import C, M, Rw, S, Typing, chain_type, grown_left, grown_right, of_type, product_type  # noqa: F401 - M, S: raise_matrix reads the kinds here
from .naming import name_repeats
from .prods import (Prod, _hadamard_key, _hadamard_parts, _is_recip, _merge_roots, _neg_power, _negate, _number, _scalar_key, _scaled_ones,
                    _unnegate, new_prod)
from .inverses import InverseChains
from .tcosts import TransposeCosts
from .pending import PendingChain
from .sums import SumForms


class MatrixForms(TransposeCosts, InverseChains, SumForms):
    """Constructors of display-form matrix ASTs for one expression's variables."""

    def __init__(self, expr):
        self.expr = expr
        #: every form's kind and dimensions, typed once (ricci.simplify.mtypes)
        self.types = Typing(expr)
        self._transposed: dict = {}  # id(form) → (form, its transpose): T()
        self._texts: dict = {}  # id(form) → (form, its text): the sums' ordering (to_text's memo)
        self._parts: dict = {}  # id(form) → (form, its Prod): decompose()
        self._links: dict = {}  # (id(chain so far), id(factor)) → (both, their product): build_chain()
        self._cancelled: dict = {}  # (id(what was left), id(factor)) → (both, what is left): _cancel_inverses
        self._plain: dict = {}  # id(form) → (form, one factor of its own?, its kind): _plain_chain
        self._kept: dict = {}  # ids of a chain _cancel_inverses left as it was → that chain
        self._kept_heads: set = set()  # ids of their first factors (kept alive there)
        # A chain grows by one factor at a time, at either end: what build() and its passes made
        # of each chain is kept by the ids of its factors (the factors kept alive beside), so that
        # the next chain reads the one before it instead of walking it again (issue 21)
        self._chains: dict = {}  # ids of a chain → (its factors, their product): build_chain()
        self._no_eyes: dict = {}  # ids of a chain with no identity in it → its factors: build()
        self._cancel_chains: dict = {}  # ids of a chain → (its factors, what is left, checked)
        self._plain_chains: dict = {}  # ids of a chain _plain_chain() found plain → (its factors, ChainType)
        # id(form) → (form, its count): count_T(), _t_cost() and its products (_fold)
        self._t_counts: dict = {}
        self._t_costs: dict = {}
        self._products: dict = {}
        self._builds: dict = {}  # (coef, ids of scalars, ids of chain) → (its form, …): sums._built
        #: id(form) → (form, ids of the chain it was built from, coefficient 1 and no scalar): a
        #: form that build() makes again from those parts (product())
        self._fixed: dict = {}
        self.kind = self.types.kind  # 's', 'c', 'r' or 'm': the hot path, bound once
        self.sym: set[str] = self.types.symmetric
        #: each name's place in the input, first occurrence first, and the first names of the
        #: two sides of each u'*… written there (b'*x: (b, x)): ties follow the user's order
        self.source_order: dict[str, int] = {}
        self.source_pairs: set = set()
        wheres = False
        for node in _source_walk(expr.tree):
            if isinstance(node, A.Name):
                self.source_order.setdefault(node.name, len(self.source_order))
            elif isinstance(node, A.BinOp) and node.op == "*" and isinstance(node.left, A.Transpose):
                self.source_pairs.add((_first_name(node.left), _first_name(node.right)))
            elif isinstance(node, A.Where):
                wheres = True
        # (both walks meet the same nodes: a question with no where is not walked again)
        for node in A.walk(expr.tree) if wheres else ():
            if isinstance(node, A.Where):
                for name, e in node.bindings:
                    self.types.bind(name, of_type(expr.type_of(e)))

    def identity(self) -> A.Expr:
        """The identity matrix: eye, or I when a variable is called eye, or diag(vector(1))
        when both names are variables (a matrix may be called eye or I)."""
        variables = self.expr.variables
        if "eye" not in variables:
            return A.Name("eye")
        if "I" not in variables:
            return A.Name("I")
        return A.Call("diag", (A.Call("vector", (A.Num(1.0),)),))

    def is_identity(self, a: A.Expr) -> bool:
        """eye or I where that name is not a variable; eye(n) with its size; diag(vector(1))."""
        if isinstance(a, A.Name):
            return a.name in IDENTITY_NAMES and a.name not in self.expr.variables
        if isinstance(a, A.Call) and a.func == "eye":
            return True
        return (isinstance(a, A.Call) and a.func == "diag" and len(a.args) == 1
                and isinstance(a.args[0], A.Call) and a.args[0].func == "vector"
                and a.args[0].args[0] == A.Num(1.0))

    # -- leaves ------------------------------------------------------------------------------------
    @staticmethod
    def number(v: float) -> A.Expr:
        return A.Neg(A.Num(-v)) if v < 0 else A.Num(v)

    # -- transpose -----------------------------------------------------------------------------------
    def T(self, a: A.Expr) -> A.Expr:
        # kept per object (the raiser shares subtrees): a nested answer transposed level by
        # level pushed each transpose through every inner level again (issue 21)
        got = self._transposed.get(id(a))
        if got is None:
            got = self._transposed[id(a)] = (a, self._T(a))  # a kept: its id stays its own
        return got[1]

    def _T(self, a: A.Expr) -> A.Expr:
        if self.kind(a) == S:
            return a
        match a:
            case A.Name(name=n):
                if n in self.sym or self.is_identity(a):
                    return a
                return A.Transpose(a)
            case A.Transpose(arg=x):
                return x
            case A.Neg(arg=x):
                return A.Neg(self.T(x))
            case A.BinOp(op="*"):
                p = self.decompose(a)
                return self.build(new_prod((p.coef, p.scalars, [self.T(c) for c in reversed(p.chain)])))
            case A.BinOp(op=op) if op in ("+", "-", ".*", "./", ".^"):
                # Push the transpose into a sum or an elementwise product only when that adds no
                # transposes: (B + B')' → B' + B and diag(u) - diag(v) stay put, but
                # (x - A*s)' stays as the lecture writes it rather than x' - s'*A'.
                pushed = self._push_T(a)
                return pushed if self._t_cost(pushed) < self._t_cost(A.Transpose(a)) else A.Transpose(a)
            case A.BinOp(op="/", left=l, right=r):
                return A.BinOp("/", self.T(l), r)
            case A.Call(func=f, args=(x,)):
                # exp(x)' stays exp(x)' (not exp(x')); inv(X)' too, as the Cookbook writes X^-T,
                # but inv(W)' = inv(W) for a symmetric W (a transpose that costs nothing).
                if f == "inv":
                    tx = self.T(x)
                    if self.count_T(tx) < self.count_T(x) or (self.count_T(tx) == self.count_T(x) and tx == x):
                        return A.Call(f, (tx,))
                if f == "diag" and self.kind(x) in (C, Rw):
                    return a
                if f == "matrix":
                    return a
            case A.Literal(rows=rows):
                return A.Literal(tuple(zip(*rows)))
        return A.Transpose(a)

    def _push_T(self, a: A.Expr) -> A.Expr:
        if a.op in ("+", "-"):
            prods = []
            for t in self.decompose_sum(a):
                q = self.decompose(self.T(self.build_chain(t.chain))) if t.chain else new_prod((1.0, [], []))
                prods.append(new_prod((t.coef * q.coef, t.scalars + q.scalars, q.chain)))
            return self._keep_shape(self.sum(prods), {C: Rw, Rw: C}.get(self.kind(a), self.kind(a)))
        return A.BinOp(a.op, self.T(a.left), self.T(a.right))

    # -- products ------------------------------------------------------------------------------------
    def decompose(self, a: A.Expr) -> Prod:
        # kept per object, as T() is (the Prod is shared: read, never changed): a chain built
        # link by link was taken apart again from its first factor at every link (issue 21:
        # tr(X^-64) shown as a chain of 65 factors)
        got = self._parts.get(id(a))
        if got is not None:
            return got[1]
        t = type(a)
        if t is A.Name or t is A.Transpose or (t is A.Call and a.func != "diag"):
            # a leaf of a chain, taken apart as _decompose's last case does (none of its other
            # cases reads a name, a transpose or a call other than diag): a call less a factor
            typed = self.types._memo.get(id(a))  # (kind()'s memo read inline)
            kind = typed[1].kind if typed is not None and typed[0] is a else self.kind(a)
            p = new_prod((1.0, [a], [])) if kind == S else new_prod((1.0, [], [a]))
        else:
            p = self._decompose(a)
        self._parts[id(a)] = (a, p)
        return p

    def _decompose(self, a: A.Expr) -> Prod:
        match a:
            case A.Num(value=v):
                return new_prod((v, [], []))
            case A.Neg(arg=x):
                p = self.decompose(x)
                return new_prod((-p.coef, p.scalars, p.chain))
            case A.BinOp(op=".*" | "./") if _unnegate(a) is not None:
                p = self.decompose(_unnegate(a))
                return new_prod((-p.coef, p.scalars, p.chain))
            case A.Call(func="diag", args=(x,)) if _unnegate(x) is not None and self.kind(x) in (C, Rw):
                p = self.decompose(A.Call("diag", (_unnegate(x),)))  # diag(-v) = -diag(v)
                return new_prod((-p.coef, p.scalars, p.chain))
            case A.BinOp(op="*", left=l, right=r):
                pl, pr = self.decompose(l), self.decompose(r)
                chain = pl.chain + pr.chain
                typed = self.types._memo.get(id(a)) if chain else None  # (kind()'s memo read inline)
                if chain and (typed[1].kind if typed is not None and typed[0] is a else self.kind(a)) == S:
                    # x'*A*x is one scalar factor: its chain must not mix with other matrices.
                    chain = self._inner_order(chain)
                    return new_prod((pl.coef * pr.coef, pl.scalars + pr.scalars + [self._inner(chain)], []))
                return new_prod((pl.coef * pr.coef, pl.scalars + pr.scalars, chain))
            case A.BinOp(op="/", left=l, right=r) if self.kind(r) == S:
                pl = self.decompose(l)
                pr = self.decompose(r)
                recips = [self.recip(s) for s in pr.scalars] + (
                    [self.recip(self.build_chain(pr.chain))] if pr.chain else [])
                return new_prod((pl.coef / pr.coef, pl.scalars + recips, pl.chain))
        if self.kind(a) == S:
            return new_prod((1.0, [a], []))
        return new_prod((1.0, [], [a]))

    def _inner_order(self, chain: list) -> list:
        """u'*v = v'*u: of the two, the one with fewer transposes, else the one written in the
        input (exp(a'*x) stays a'*x, x'*a stays x'*a), else the one whose names come first there."""
        if len(chain) != 2 or self.kind(chain[0]) != Rw or self.kind(chain[1]) != C:
            return chain
        swapped = [self.T(chain[1]), self.T(chain[0])]

        def rank(c):
            first = [_first_name(x) for x in c]
            places = tuple(self.source_order.get(n, len(self.source_order)) for n in first)
            return sum(self.count_T(x) for x in c), tuple(first) not in self.source_pairs, places

        return swapped if rank(swapped) < rank(chain) else chain

    @staticmethod
    def recip(s: A.Expr) -> A.Expr:
        if _is_recip(s):
            return s.left
        return A.BinOp("^", s, A.Num(-1.0))

    def build_chain(self, chain: list, key: tuple | None = None) -> A.Expr:
        """The product of ``chain`` left to right, as :func:`_chain_of` writes it, each link
        the object made for the same two objects before: a chain that grows at its right end
        shares its first links with the one before, which decompose() then finds taken apart.
        ``key``: the ids of ``chain`` where the caller has them."""
        if key is None:
            key = tuple(map(id, chain))
        kept = self._chains.get(key)
        if kept is not None:
            return kept[1]
        before = self._chains.get(key[:-1]) if len(chain) > 2 else None
        links, link = self._links, self.types.link
        if before is not None:  # grown at its right end: one link more
            out, rest = before[1], chain[-1:]
        else:
            out, rest = chain[0], chain[1:]
        for f in rest:
            got = links.get((id(out), id(f)))
            if got is None:
                got = links[(id(out), id(f))] = (out, f, A.BinOp("*", out, f))
                link(got[2])  # typed from its two parts' types now: never walked again
            out = got[2]
        self._chains[key] = (tuple(chain), out)
        return out

    def build(self, p: Prod) -> A.Expr:
        """coef · scalars · chain as an AST (a negative coefficient as a leading minus)."""
        if p.coef == 0.0:
            return A.Num(0.0)
        # the ids of the chain, taken once: the passes below key their memos by them, and each
        # of the two passes that leaves the chain as long as it was left its factors as they
        # were (they only drop or merge factors), so the same key serves the next one (issue 21:
        # six keys of up to 128 ids were built for every product of the depth-64 network's chain)
        key = tuple(map(id, p.chain))
        chain = self._without_eyes(p.chain, key) if len(p.chain) > 1 else list(p.chain)
        if not chain and p.chain:
            chain = [p.chain[0]]
        ckey = key if len(chain) == len(key) else tuple(map(id, chain))
        chain = self._cancel_inverses(chain, ckey)
        ckey = ckey if len(chain) == len(ckey) else None  # (None: _chain_product takes them)
        numer, denom = [], []
        if p.scalars:  # (most products have none: nothing to split, merge or sort)
            for s in p.scalars:
                np_ = _neg_power(s)
                if np_ is None:
                    numer.append(s)
                else:
                    base, k = np_
                    normalised, k = self._normalise(chain, base, k)
                    if normalised is not chain:  # factors rewritten in place: other ids
                        chain, ckey = normalised, None
                    if k:
                        denom.append((base, k))
            denom = [b if k == 1.0 else A.Call("sqrt", (b,)) if k == 0.5 else A.BinOp("^", b, A.Num(k))
                     for b, k in _merge_roots(denom)]
            numer.sort(key=_scalar_key)
            denom.sort(key=_scalar_key)
        mag = abs(p.coef)
        parts = ([A.Num(mag)] if mag != 1.0 or not (numer or chain) else []) + numer + chain
        if not parts:
            parts = [A.Num(1.0)]
        if p.coef < 0:
            parts[0] = _negate(parts[0])
        if not denom and p.coef == 1.0 and not numer and len(chain) > 1:
            out = self._chain_product(chain, ckey)
            if not p.scalars:
                # the same parts build the same form again (what is left of them, then the chain's
                # product kept by its factors: _chains): product() of it returns it unbuilt
                self._fixed[id(out)] = (out, key)
            return out
        out = self.build_chain(parts)
        if denom:
            den = self.build_chain(denom)
            out = A.BinOp("/", out, den)
        return out

    def _chain_product(self, chain: list, key: tuple | None = None) -> A.Expr:
        """The product of ``chain`` (of two factors or more), as build_chain() writes it.  A new
        chain that decompose() takes apart into exactly its factors (_plain_chain) and that is not
        the one before it grown at its right end (one link more) is a :class:`PendingChain`:
        its links are built when something reads them, typed now from its factors' types.  The
        chain rule's chain grows at its left end, where each longer chain shares no link with
        the one before, and every chain but the last is read only as the factors of the next
        product (issue 21: 3,908 links built for the depth-64 network's chain of 128 factors).
        ``key``: the ids of ``chain`` where the caller has them."""
        if key is None:
            key = tuple(map(id, chain))
        kept = self._chains.get(key)
        if kept is not None:
            out = kept[1]
        elif len(chain) > 2 and key[:-1] not in self._chains and (key in self._plain_chains or self._plain_chain(chain, key)):
            out = PendingChain.pending(self, tuple(chain))
            self.types.put(out, self._plain_chains[key][1].type)
            self._chains[key] = (tuple(chain), out)
        else:
            out = self.build_chain(chain, key)
        if id(out) not in self._parts and (key in self._plain_chains or self._plain_chain(chain, key)):
            # what decompose() would make of the product just built, kept for the next link: a
            # chain grown at its left end (W64*diag(…)*W63*… of a deep network) was taken apart
            # again from its first factor at every link (issue 21)
            self._parts[id(out)] = (out, new_prod((1.0, [], list(chain))))
        return out

    def _without_eyes(self, chain: list, key: tuple | None = None) -> list:
        """``chain`` without its identities (A*eye → A): a chain one factor longer than one
        known to hold none has its new factor checked alone.  ``key``: the ids of ``chain``
        where the caller has them."""
        if key is None:
            key = tuple(map(id, chain))
        known = self._no_eyes
        if key in known:
            return list(chain)
        if key[:-1] in known:
            new = chain[-1:]
        else:
            new = (chain[:_grown_at_left(key, known)] if len(chain) > 2 else None) or chain
        for c in new:
            t = type(c)
            # what is_identity says False of, told without the call: a product, a transpose, a
            # name no identity has, a call of neither eye nor diag (most factors of a chain)
            if t is A.BinOp or t is A.Transpose or (t is A.Name and c.name not in IDENTITY_NAMES) or (
                    t is A.Call and c.func != "eye" and (c.func != "diag" or not c.args or type(c.args[0]) is not A.Call
                                                         or c.args[0].func != "vector")):
                continue
            if self.is_identity(c):
                return [c for c in chain if not self.is_identity(c)]
        known[key] = tuple(chain)
        return list(chain)

    def _plain_chain(self, chain: list, key: tuple | None = None) -> bool:
        """Whether decompose() takes the product of ``chain`` (written left to right) apart into
        exactly these factors: each factor is one factor of its own, and no product of the first
        ones closes into a scalar (that takes a column after a row: every factor after the first
        is a row or a matrix).  A chain one factor longer than one found plain, or a few factors
        longer at its left end, has only its new factors (and, grown at the left, the old first
        one) looked at.  ``key``: the ids of ``chain`` where the caller has them."""
        if key is None:
            key = tuple(map(id, chain))
        known = self._plain_chains
        if key in known:
            return True
        right, grown = known.get(key[:-1]), 0
        if right is not None:
            todo = ((len(chain) - 1, chain[-1]),)
        else:
            grown = _grown_at_left(key, known) if len(chain) > 2 else 0
            todo = enumerate(chain[:grown + 1] if grown else chain)
        plain = self._plain
        for k, x in todo:
            got = plain.get(id(x))
            if got is None:
                d = self.decompose(x)
                whole = d.coef == 1.0 and not d.scalars and len(d.chain) == 1 and d.chain[0] is x
                tx = self.types._memo.get(id(x))  # (Typing.of's memo read inline)
                got = plain[id(x)] = (x, whole, tx[1] if tx is not None and tx[0] is x else self.types.of(x))
            if not got[1] or (k > 0 and got[2].kind not in (Rw, M)):
                return False
        # the type of the chain's product, from the one before it where it grew at either end
        # (ChainType: a chain grown at its left end is typed without typing its links)
        typed = None
        if right is not None:
            typed = grown_right(right[1], plain[id(chain[-1])][2])
        elif grown:
            typed = known[key[grown:]][1]
            for x in reversed(chain[:grown]):
                typed = grown_left(plain[id(x)][2], typed)
                if typed is None:
                    break
        if typed is None:
            typed = chain_type([plain[id(x)][2] for x in chain])
        known[key] = (tuple(chain), typed)
        return True

    def _normalise(self, chain: list, base: A.Expr, k: float) -> tuple[list, float]:
        """v*v'/sum(v)^2 → (v/sum(v))*(v/sum(v))': a factor of the chain that is the vector
        summed in the denominator takes one power of it (the softmax p = exp(x)/sum(exp(x))
        appears as itself, so that the Hessian of log-sum-exp reads diag(p) - p*p')."""
        if not (isinstance(base, A.Call) and base.func == "sum" and float(k).is_integer()):
            return chain, k
        v = base.args[0]
        if self.kind(v) != C:
            return chain, k
        p_ = A.BinOp("/", v, base)
        out = []
        for c in chain:
            if k >= 1 and c == v:
                out.append(p_)
            elif k >= 1 and isinstance(c, A.Transpose) and c.arg == v:
                out.append(A.Transpose(p_))
            elif k >= 1 and isinstance(c, A.Call) and c.func == "diag" and c.args[0] == v:
                out.append(A.Call("diag", (p_,)))
            else:
                out.append(c)
                continue
            k -= 1
        return out, k

    def product(self, coef: float, scalars: list, tensor: A.Expr | None) -> A.Expr:
        if coef == 1.0 and not scalars and tensor is not None:
            # the form alone: build() of its parts (decompose() keeps them; build() never changes
            # a Prod), or the form itself where build() made it from those very parts (_fixed)
            q = self._parts.get(id(tensor))  # (decompose()'s memo read inline: a form taken apart, mostly)
            q = q[1] if q is not None else self.decompose(tensor)
            if q.coef == 1.0 and not q.scalars:
                got = self._fixed.get(id(tensor))
                if got is not None and got[0] is tensor and got[1] == tuple(map(id, q.chain)):
                    return tensor
            return self.build(q)
        p = new_prod((coef, [], []))
        for s in scalars:
            q = self.decompose(s)
            p = new_prod((p.coef * q.coef, p.scalars + q.scalars, p.chain + q.chain))
        if tensor is not None:
            q = self.decompose(tensor)
            p = new_prod((p.coef * q.coef, p.scalars + q.scalars, p.chain + q.chain))
        return self.build(p)

    def matmul(self, a: A.Expr, b: A.Expr) -> A.Expr:
        # decompose() of a*b without making the node a*b: its parts' parts, joined, where the
        # product is no scalar (a scalar's chain is one factor of its own: _decompose); the
        # node was made, typed and taken apart for build() to make the product again
        parts = self._parts  # decompose()'s memo read inline: both sides are taken apart already, mostly
        pl, pr = parts.get(id(a)), parts.get(id(b))
        pl = pl[1] if pl is not None else self.decompose(a)
        pr = pr[1] if pr is not None else self.decompose(b)
        chain = pl.chain + pr.chain
        if chain:
            types = self.types
            memo = types._memo  # (Typing.of's memo read inline: both sides are typed already, mostly)
            ta, tb = memo.get(id(a)), memo.get(id(b))
            ta = ta[1] if ta is not None and ta[0] is a else types.of(a)
            tb = tb[1] if tb is not None and tb[0] is b else types.of(b)
            # product_type(ta, tb).kind != S, read off the kinds (product_type's cases: a scalar
            # scales the other side; of two tensors only a row times a column is a scalar)
            ka, kb = ta.kind, tb.kind
            if not ((ka == S and kb == S) or (ka == Rw and kb == C)):
                return self.build(new_prod((pl.coef * pr.coef, pl.scalars + pr.scalars, chain)))
        return self.build(self.decompose(A.BinOp("*", a, b)))

    def hadamard(self, a: A.Expr, b: A.Expr) -> A.Expr:
        if self.kind(a) == S or self.kind(b) == S:
            return self.matmul(a, b)
        if a == b:
            return A.BinOp(".^", a, A.Num(2.0))
        for x, y in ((a, b), (b, a)):
            if isinstance(y, A.BinOp) and y.op == "./" and y.left == A.Num(1.0):
                return A.BinOp("./", x, y.right)  # e .* (1./d) → e ./ d
        # Flatten nested entrywise products and order them: y.^2.*u.*(1 - u).
        parts = _hadamard_parts(a) + _hadamard_parts(b)
        # Ones times c (c*y.^0, where a sum such as y + (1 - y) cancelled) only scale the rest.
        # A minus on a factor goes to the front: -s.*(1 - s), not s.*(-(1 - s)).
        coef, rest = 1.0, []
        for p_ in parts:
            c = _scaled_ones(p_)
            if c is not None:
                coef *= c
                continue
            while _unnegate(p_) is not None:
                p_, coef = _unnegate(p_), -coef
            rest.append(p_)
        if rest:
            parts = rest
        else:  # only ones: keep them as they are, they carry the shape
            coef = 1.0
        parts = sorted(parts, key=_hadamard_key)
        out = parts[0]
        for p_ in parts[1:]:
            out = A.BinOp(".*", out, p_)
        return out if coef == 1.0 else self.product(coef, [], out)

    def power(self, base: A.Expr, exp: A.Expr, elementwise: bool) -> A.Expr:
        if isinstance(exp, A.Num) and exp.value == 1.0:
            return base
        if not elementwise:
            if (isinstance(base, A.BinOp) and base.op == "^" and isinstance(base.left, A.Call)
                    and base.left.func == "norm2" and isinstance(base.right, A.Num)
                    and isinstance(exp, A.Num) and float(exp.value).is_integer()):
                return self.power(base.left, self.number(base.right.value * exp.value), elementwise=False)
            half = self._gram_half(base)
            e = _number(exp)
            if half is not None and e is not None and not float(e).is_integer():
                # tr(P*P')^(k/2) and (u'*u)^(k/2) are norm2(P)^k
                norm = A.Call("norm2", (half,))
                return norm if 2 * e == 1 else self.power(norm, self.number(2 * e), elementwise=False)
            if isinstance(exp, A.Neg) and isinstance(exp.arg, A.Num) and exp.arg.value == 1.0:
                return A.BinOp("^", base, A.Num(-1.0))
            if isinstance(exp, A.Num) and exp.value == 0.5:
                return A.Call("sqrt", (base,))
            return A.BinOp("^", base, exp)
        if isinstance(exp, A.Num) and exp.value == 0.5:
            return A.Call("sqrt", (base,))
        if isinstance(exp, A.Neg) and isinstance(exp.arg, A.Num):
            k = exp.arg.value  # b.^(-k) → 1./b.^k
            den = base if k == 1.0 else A.Call("sqrt", (base,)) if k == 0.5 else A.BinOp(".^", base, A.Num(k))
            return A.BinOp("./", A.Num(1.0), den)
        return A.BinOp(".^", base, exp)

    # -- the last pass -----------------------------------------------------------------------------------
    def name_repeats(self, tree: A.Expr, taken: set, min_length: int = 60,
                     max_bindings: int = 64) -> tuple[A.Expr, list]:
        """Name repeated subterms, as a person would (:func:`ricci.simplify.naming.name_repeats`)."""
        return name_repeats(self, tree, taken, min_length, max_bindings)

    def finish(self, a: A.Expr) -> A.Expr:
        """The last pass over a whole answer (hook for rules that need the complete tree)."""
        return a


def _grown_at_left(key: tuple, known: dict, most: int = 8) -> int:
    """The fewest factors, at most ``most``, that the chain of ids ``key`` has before a chain in
    ``known`` (a chain of two factors or more), or 0.  The chain rule's chain grows at its left
    end by the few factors of each nested product of the IR (FLATTEN_LIMIT) at a time."""
    for j in range(1, min(most, len(key) - 2) + 1):
        if key[j:] in known:
            return j
    return 0


def _first_name(a: A.Expr) -> str | None:
    """The leftmost name of an expression (x for x'*A, None for a number)."""
    return next((n.name for n in A.walk(a) if isinstance(n, A.Name)), None)


def _source_walk(node: A.Expr):
    """The nodes of an input in the order they are written (a where's body before its bindings)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        kids = (n.body,) + tuple(e for _, e in n.bindings) if isinstance(n, A.Where) else A.children(n)
        stack.extend(reversed(kids))
