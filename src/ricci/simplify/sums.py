"""Sums of display forms: like terms collected, common factors pulled out, terms ordered as
people write them (B + B', cos(t) - t*sin(t)), diagonals merged, inner products written as
norms (norm2(A*x - b)^2).  A part of :class:`ricci.simplify.matrix.MatrixForms` (which mixes it
in), apart from the products and transposes there because it is a concern of its own.
"""

from __future__ import annotations

from collections import Counter

from ..language import ast as A
from ..printing.text import to_text
from .mtypes import C, M, Rw, S
from .prods import Prod, _chain_parts, _is_leaf, _is_ones, _is_ones_matrix, _scaled_ones


def _distinct(keys: list) -> bool:
    """Whether no two of ``keys`` are equal (then they alone order the terms)."""
    return len(set(keys)) == len(keys)


class SumForms:
    """The sum half of the display forms (``self`` is a MatrixForms: it also builds products)."""

    # -- sums ------------------------------------------------------------------------------------------
    def decompose_sum(self, a: A.Expr) -> list[Prod]:
        match a:
            case A.BinOp(op="+", left=l, right=r):
                return self.decompose_sum(l) + self.decompose_sum(r)
            case A.BinOp(op="-", left=l, right=r):
                return self.decompose_sum(l) + [Prod(-t.coef, t.scalars, t.chain) for t in self.decompose_sum(r)]
            case A.Neg(arg=x) if isinstance(x, A.BinOp) and x.op in ("+", "-"):
                return [Prod(-t.coef, t.scalars, t.chain) for t in self.decompose_sum(x)]
        return [self.decompose(a)]

    def add(self, terms: list) -> A.Expr:
        prods = []
        for t in terms:
            prods.extend(self.decompose_sum(t))
        # (a sum that cancels to a number here is given its shape by the raiser, which sizes it
        # with a variable: raise_matrix.Raiser.raise_node)
        return self.sum(prods)

    def transposed(self, a: A.Expr) -> A.Expr:
        """``self.T(a)``, where ``a`` (or -a) is a sum whose transpose is sure to stay outside, (a)', told
        without pushing it in (issue 21: the answer of logdet(X + inv(X + inv(…))) is a sum of
        chains as long as the nesting, each built again reversed and transposed, and the sum of
        those ordered and factored, only to lose to (…)' at the end)."""
        s = a.arg if isinstance(a, A.Neg) else a  # T(-s) is -T(s)
        if id(s) not in self._transposed and isinstance(s, A.BinOp) and s.op in ("+", "-") \
                and self.kind(s) != S and self._transpose_stays(s):
            self._transposed[id(s)] = (s, A.Transpose(s))
        return self.T(a)

    def _transpose_stays(self, a: A.Expr) -> bool:
        """Whether T() keeps the sum ``a`` as (a)' (see :meth:`transposed`): False where unsure.

        T() pushes the transpose in where that costs fewer transposes (``_t_cost``, heavy ones
        first) than (a)'.  Sure to lose: ``a`` has no transpose and (a)' one heavy one, and every
        term, pushed, keeps a heavy one: a factor of its chain whose transpose has one (reversing
        the chain moves it, writing a run of transposed factors as one (…)' keeps one, factoring
        the sum keeps each pulled factor once).  Not sure, hence False: a term without a chain
        (its transpose is itself), or whose one factor transposes into a sum (which the pushed
        sum would open into its terms).  Left aside: pushed terms that cancel to nothing, which
        would make ``a`` zero in every entry."""
        if self._t_cost(a) != (0, 0) or self._t_cost(A.Transpose(a)) != (1, 0):
            return False
        for t in self.decompose_sum(a):
            if not t.chain:
                return False
            if len(t.chain) == 1:
                pushed = self.T(t.chain[0])
                if isinstance(pushed, A.BinOp) and pushed.op in ("+", "-"):
                    return False
            if not any(self._t_cost(self.T(c))[0] for c in t.chain):
                return False
        return True

    def _keep_shape(self, out: A.Expr, kind: str | None) -> A.Expr:
        """A sum of kind ``kind`` whose tensor parts cancelled (y/b + (1 - y/b) is 1 in every
        entry) keeps its shape as ones, sized where it stands: else a contraction with it
        (sign(u)'*…, where a transpose is pushed into the sum) would lose its sum and turn a
        scalar into a column."""
        if kind is None or kind == S or self.kind(out) != S or out == A.Num(0.0):
            return out
        ones = {C: A.Call("vector", (A.Num(1.0),)), Rw: A.Transpose(A.Call("vector", (A.Num(1.0),))),
                M: A.Call("matrix", (A.Num(1.0),))}[kind]
        return ones if out == A.Num(1.0) else A.BinOp("*", out, ones)

    def sum(self, prods: list[Prod]) -> A.Expr:
        terms = self._like_terms(prods)
        # A term that is a number times a sum, 2*(1 - y/b^2)/c beside 2*y/(c*b^2), is opened
        # when that cancels something: then the sum reads 2/c, not 2*(y/b^2 + (1 - y/b^2))/c.
        opened = self._open_sums(prods)
        if opened is not None:
            flat = self._like_terms(opened)
            if len(flat) < len(terms):
                terms = flat
        if not terms:
            return A.Num(0.0)
        terms = self._merge_diags(terms)
        return self.factor(terms)

    @staticmethod
    def _like_terms(prods: list[Prod]) -> list[Prod]:
        # each term's key looked up once: a key is a tuple of trees, whose hash is computed
        # anew at every lookup, and a nested answer's trees share their levels (issue 21: the
        # nested logdet/inv spent much of its display hashing the same trees four times over)
        place: dict = {}
        coefs: list = []
        first: list = []
        for p in prods:
            j = place.setdefault(p.key(), len(coefs))
            if j == len(coefs):
                coefs.append(0.0)
                first.append(p)
            coefs[j] += p.coef
        return [Prod(c, f.scalars, f.chain) for c, f in zip(coefs, first) if c != 0.0]

    def _open_sums(self, prods: list[Prod]) -> list[Prod] | None:
        """The terms with each c·s·(u + v) (one sum as the whole chain) opened into c·s·u + c·s·v;
        None when there is none to open."""
        out, opened = [], False
        for p in prods:
            if len(prods) > 1 and len(p.chain) == 1 and isinstance(p.chain[0], A.BinOp) and p.chain[0].op in ("+", "-"):
                for q in self.decompose_sum(p.chain[0]):
                    out.append(Prod(p.coef * q.coef, p.scalars + q.scalars, q.chain))
                opened = True
            else:
                out.append(p)
        return out if opened else None

    def _inner(self, chain: list) -> A.Expr:
        """A scalar chain as written: v'*ones is sum(v), (x - y)'*(x - y) is norm2(x - y)^2."""
        if len(chain) == 2:
            for v, ones in (chain, chain[::-1]):
                if _scaled_ones(ones) == 1.0 and self.kind(ones) in (C, Rw):
                    return A.Call("sum", (v.arg if isinstance(v, A.Transpose) else v,))
        return self._gram_norm(self.build_chain(chain))

    def _gram_norm(self, a: A.Expr) -> A.Expr:
        """u'*u as norm2(u)^2 when u is a sum, the residual of a least-squares problem or a
        distance: norm2(x - y)^2 and norm2(A*x - b)^2 read as the user wrote them, (x - y)'*(x - y)
        does not.  A quadratic form stays one: x'*x, x'*A'*A*x."""
        half = self._gram_half(a)
        core = half.arg if isinstance(half, A.Transpose) else half
        if not (isinstance(core, A.BinOp) and core.op in ("+", "-")):
            return a
        return A.BinOp("^", A.Call("norm2", (half,)), A.Num(2.0))

    def _gram_half(self, a: A.Expr) -> A.Expr | None:
        """P when ``a`` is tr(P*P') (any rotation of the chain) or u'*u written out; else None.
        Of several, the one with the fewest transposes (norm2(A*X*B), not norm2(B'*X'*A'))."""
        if isinstance(a, A.Call) and a.func == "tr":
            chain, rotations = _chain_parts(a.args[0]), None
        else:
            chain, rotations = _chain_parts(a), 1
        if len(chain) < 2 or len(chain) % 2 or any(self.kind(c) == S for c in chain):
            return None
        k = len(chain) // 2
        found = []
        for r in range(rotations or len(chain)):
            rot = chain[r:] + chain[:r]
            first, second = rot[:k], rot[k:]
            if [self.T(x) for x in reversed(first)] == second:
                half = self.build_chain(first)
                found.append(self.T(half) if self.kind(half) == Rw else half)
        return min(found, key=self.count_T) if found else None

    def _merge_diags(self, terms: list[Prod]) -> list[Prod]:
        """c1*diag(u) + c2*diag(v) → diag(c1*u + c2*v): diag is linear."""
        def is_diag(t):
            return len(t.chain) == 1 and isinstance(t.chain[0], A.Call) and t.chain[0].func == "diag" \
                and self.kind(t.chain[0].args[0]) in (C, Rw)

        diags = [t for t in terms if is_diag(t)]
        if len(diags) < 2:
            return terms
        inner = [Prod(t.coef, t.scalars, [self.orient_col(t.chain[0].args[0])]) for t in diags]
        merged = Prod(1.0, [], [A.Call("diag", (self.sum(inner),))])
        return [t for t in terms if not is_diag(t)] + [merged]

    def orient_col(self, v: A.Expr) -> A.Expr:
        return self.T(v) if self.kind(v) == Rw else v

    def factor(self, terms: list[Prod]) -> A.Expr:
        if len(terms) == 1:
            return self.build(terms[0])
        # A common coefficient (equal magnitudes ≠ 1).
        mags = {abs(t.coef) for t in terms}
        g = mags.pop() if len(mags) == 1 else 1.0
        if all(t.coef < 0 for t in terms):
            g = -g
        # Common scalars (as a multiset): none where a term has none (the common case, told
        # without a multiset per term)
        if all([t.scalars for t in terms]):
            common = Counter(terms[0].scalars)
            for t in terms[1:]:
                common &= Counter(t.scalars)
        else:
            common = Counter()
        # Common leftmost / rightmost matrices.
        prefix = []
        suffix = []
        if all(len(t.chain) >= 2 for t in terms):
            heads = {t.chain[0] for t in terms}
            if len(heads) == 1 and self._same_size_beside(terms, 0):
                prefix = [terms[0].chain[0]]
            else:
                tails = {t.chain[-1] for t in terms}
                if len(tails) == 1 and self._same_size_beside(terms, -1):
                    suffix = [terms[0].chain[-1]]
        if g == 1.0 and not common and not prefix and not suffix:
            return self._partial_factor(terms)
        inner_terms = []
        for t in terms:
            sc = list((Counter(t.scalars) - common).elements())
            # keep the original order of the remaining scalars
            rest = Counter(sc)
            kept = []
            for s in t.scalars:
                if rest[s] > 0:
                    kept.append(s)
                    rest[s] -= 1
            chain = t.chain[len(prefix): len(t.chain) - len(suffix)]
            inner_terms.append(Prod(t.coef / g, kept, chain))
        inner = self.factor(inner_terms) if len(inner_terms) > 1 else self.build(inner_terms[0])
        common_scalars = list(common.elements())
        if any(t.chain for t in inner_terms):
            return self.build(Prod(g, common_scalars, prefix + [inner] + suffix))
        return self.build(Prod(g, common_scalars + [inner], prefix + suffix))

    def _same_size_beside(self, terms: list[Prod], end: int) -> bool:
        """Whether the equal first (``end`` = 0) or last (-1) factor of every term may be taken
        out: yes unless it is a constant whose size only its context fixes (vector(1)', eye,
        matrix(c)), whose contexts must then fix one size — vector(1)'*C and vector(1)'*B are
        ones of C's and of B's row count, which differ (vector(1)'*(s*C + t*B) would not
        type-check with C p×n and B m×n)."""
        a = terms[0].chain[end]
        while isinstance(a, A.Transpose):
            a = a.arg
        if not ((isinstance(a, A.Call) and a.func in ("vector", "matrix")) or self.is_identity(a)):
            return True
        side = 0 if end == 0 else 1
        sizes = {self._outer_dim(t.chain[1 if end == 0 else -2], side) for t in terms}
        return len(sizes) == 1 and None not in sizes

    def _outer_dim(self, a: A.Expr, side: int):
        """The dimension name of ``a``'s rows (side 0) or columns (1) where ``a`` is a variable,
        its transpose or its inverse; else None."""
        flip = False
        while isinstance(a, A.Transpose) or (isinstance(a, A.Call) and a.func == "inv"):
            flip ^= isinstance(a, A.Transpose)
            a = a.arg if isinstance(a, A.Transpose) else a.args[0]
        v = self.expr.variables.get(a.name) if isinstance(a, A.Name) else None
        if v is None or not v.dims:
            return None
        dims = v.dims if len(v.dims) == 2 else (v.dims[0], 1)
        return dims[side ^ flip]

    def _partial_factor(self, terms: list[Prod]) -> A.Expr:
        """Factor the largest group of terms that share a leftmost or rightmost matrix
        (b + A*x + A'*x → (A + A')*x + b); the other terms stay as they are."""
        best = None
        for end in (0, -1):
            groups: dict = {}
            for k, t in enumerate(terms):
                if len(t.chain) >= 2:
                    groups.setdefault(t.chain[end], []).append(k)
            for ks in groups.values():
                if len(ks) >= 2 and len(ks) < len(terms) and (best is None or len(ks) > len(best)) \
                        and self._same_size_beside([terms[k] for k in ks], end):
                    best = ks
        if best is None:
            return self._plain_sum(terms)
        grouped = self.factor([terms[k] for k in best])
        rest = [t for k, t in enumerate(terms) if k not in best]
        return self._plain_sum(rest + [self.decompose(grouped)])

    def _unbroadcast(self, terms: list[Prod]) -> list[Prod]:
        """A scalar times ones beside a term with a shape is the scalar alone, which the language
        broadcasts in a sum: W*x + b, not W*x + b*vector(1) (the lowering's spelling of W*x + b)."""
        def ones_only(t: Prod) -> bool:
            return len(t.chain) == 1 and (_is_ones(t.chain[0]) or _is_ones(t.chain[0], row=True)
                                          or _is_ones_matrix(t.chain[0]))

        only = [ones_only(t) for t in terms]  # once a term
        if all(only) or not any(only):
            return terms
        if any(not o and self.kind(self.build(t)) == S for o, t in zip(only, terms)):
            return terms  # a scalar term: the sum's shape would rest on the ones alone
        return [Prod(t.coef, t.scalars, []) if o else t for o, t in zip(only, terms)]

    def _built(self, p: Prod) -> A.Expr:
        """``self.build(p)``, kept per (coefficient, scalars, chain) as objects: a nested answer
        is raised one level at a time, and each level's sum took every term of the levels
        below apart and built it again, chain and all (issue 21: cubic in the nesting of
        logdet(X + inv(X + inv(…))), whose terms are chains as long as the nesting)."""
        key = (p.coef, tuple(map(id, p.scalars)), tuple(map(id, p.chain)))
        got = self._builds.get(key)
        if got is None:
            # the parts are kept with the form, so that no id in the key is reused
            got = self._builds[key] = (self.build(p), tuple(p.scalars), tuple(p.chain))
        return got[0]

    def _plain_sum(self, terms: list[Prod]) -> A.Expr:
        terms = self._unbroadcast(terms)
        # each term built once, with its sign (whole) and without it (body): the shape, the
        # order and the sum written out all read them
        whole = {id(t): self._built(t) for t in terms}
        body = {id(t): self._built(Prod(-t.coef, t.scalars, t.chain)) if t.coef < 0 else whole[id(t)]
                for t in terms}
        shaped = len(terms) > 1 and any(self.kind(whole[id(t)]) != S for t in terms)
        # once, not once per term inside order() (a sum of k names built k² terms: issue 21)
        all_leaves = all(_is_leaf(whole[id(u)]) for u in terms)

        def first(t: Prod):
            # Positive terms first; among them, in a sum with a shape, a scalar that broadcasts
            # last (x + c, W*x + b; but 1 - t.^2 and 1 + exp(x) keep a number first); a bare name
            # or number last (B*x + b, x - a); fewer transposes first (B + B'); then shorter
            # first (sin(t) + t*cos(t)).  A multiple of the identity goes last, as a broadcast
            # scalar does (X'*X + lambda*eye, the textbook's A + λI).
            bare = _is_leaf(body[id(t)])
            broadcast = shaped and bool(t.scalars) and self.kind(whole[id(t)]) == S
            identity = len(terms) > 1 and len(t.chain) == 1 and self.is_identity(t.chain[0])
            return (t.coef < 0, broadcast or identity, bare and len(terms) > 1 and not all_leaves)

        def order(t: Prod):
            txt = to_text(body[id(t)], self._texts)
            return first(t) + (txt.count("'"), len(txt), txt)

        firsts = [first(t) for t in terms]
        if _distinct(firsts):
            # the texts decide nothing where the first keys differ: not printed (issue 21: each
            # level of a deep answer's 1 - t.^2 printed t whole, the levels below included)
            terms = [terms[k] for k in sorted(range(len(terms)), key=firsts.__getitem__)]
        else:
            terms = sorted(terms, key=order)
        out = whole[id(terms[0])]
        for t in terms[1:]:
            out = A.BinOp("-" if t.coef < 0 else "+", out, body[id(t)])
        return out
