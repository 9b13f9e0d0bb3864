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
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..language import ast as A
from ..printing.text import to_text
from .mtypes import C, M, Rw, S, Typing, of_type
from .naming import name_repeats


@dataclass
class Prod:
    coef: float
    scalars: list
    chain: list

    def key(self):
        return (tuple(sorted(self.scalars, key=_scalar_key)), tuple(self.chain))


def _is_recip(a: A.Expr) -> bool:
    return isinstance(a, A.BinOp) and a.op == "^" and isinstance(a.right, A.Num) and a.right.value == -1.0


def _is_ones(a: A.Expr, row: bool = False) -> bool:
    if row:
        return isinstance(a, A.Transpose) and _is_ones(a.arg)
    return isinstance(a, A.Call) and a.func == "vector" and a.args[0] == A.Num(1.0)


def _is_ones_matrix(a: A.Expr) -> bool:
    if isinstance(a, A.Transpose):
        return _is_ones_matrix(a.arg)
    return isinstance(a, A.Call) and a.func == "matrix" and a.args[0] == A.Num(1.0)


def _is_diag_of_vector(a: A.Expr, forms) -> bool:
    return isinstance(a, A.Call) and a.func == "diag" and forms.kind(a.args[0]) in (C, Rw)


def _inv_pair(a: A.Expr, b: A.Expr) -> bool:
    """a = inv(b), also as inv(M)' next to M'."""
    if isinstance(a, A.Call) and a.func == "inv" and a.args[0] == b:
        return True
    if isinstance(a, A.Transpose) and isinstance(b, A.Transpose):
        return _inv_pair(a.arg, b.arg)
    if isinstance(a, A.Call) and a.func == "inv" and isinstance(b, A.Transpose) \
            and isinstance(a.args[0], A.Transpose) and a.args[0].arg == b.arg:
        return True
    return False


def _chain_parts(a: A.Expr) -> list:
    """The factors of a matrix product A*B*C."""
    if isinstance(a, A.BinOp) and a.op == "*":
        return _chain_parts(a.left) + _chain_parts(a.right)
    return [a]


def _hadamard_parts(a: A.Expr) -> list:
    if isinstance(a, A.BinOp) and a.op == ".*":
        return _hadamard_parts(a.left) + _hadamard_parts(a.right)
    return [a]


def _hadamard_key(a: A.Expr):
    """Simple factors first: sigmoid(x).*(1 - sigmoid(x)), v.*(1 - tanh(z).^2)."""
    is_sum = isinstance(a, A.BinOp) and a.op in ("+", "-")
    return (is_sum, len(to_text(a)), to_text(a))


def _negate(a: A.Expr) -> A.Expr:
    """-a, the minus on the leftmost factor of an entrywise product: -y.*(X*w), not
    -(y.*(X*w)).  The grammar binds a unary minus tighter than .* and ./ (and looser than .^),
    so the text parses back to this tree, whose value is the same."""
    if isinstance(a, A.BinOp) and a.op in (".*", "./"):
        return A.BinOp(a.op, _negate(a.left), a.right)
    return A.Neg(a)


def _unnegate(a: A.Expr) -> A.Expr | None:
    """The inverse of :func:`_negate`: ``y.*(X*w)`` for ``-y.*(X*w)``; None when ``a`` has no
    minus on its leftmost entrywise factor.  (A sum must see that minus: ``a - y.*z``, not
    ``a + -y.*z``.)"""
    if isinstance(a, A.Neg):
        return a.arg
    if isinstance(a, A.BinOp) and a.op in (".*", "./"):
        inner = _unnegate(a.left)
        return None if inner is None else A.BinOp(a.op, inner, a.right)
    return None


def _count_T(a: A.Expr) -> int:
    return sum(1 for n in A.walk(a) if isinstance(n, A.Transpose))


def _is_leaf(a: A.Expr) -> bool:
    return isinstance(a, A.Name) or (isinstance(a, A.Transpose) and isinstance(a.arg, A.Name))


def _neg_power(a: A.Expr):
    """s^(-k) → (s, k) for a numeric k > 0, else None."""
    if isinstance(a, A.BinOp) and a.op == "^":
        e = a.right
        if isinstance(e, A.Num) and e.value < 0:
            return a.left, -e.value
        if isinstance(e, A.Neg) and isinstance(e.arg, A.Num):
            return a.left, e.arg.value
    return None


def _number(a: A.Expr) -> float | None:
    if isinstance(a, A.Num):
        return a.value
    if isinstance(a, A.Neg) and isinstance(a.arg, A.Num):
        return -a.arg.value
    return None


def _scaled_ones(a: A.Expr) -> float | None:
    """c when ``a`` is c times an array of ones (v.^0, vector(1), matrix(1)), else None."""
    if isinstance(a, A.Neg):
        c = _scaled_ones(a.arg)
        return None if c is None else -c
    if isinstance(a, A.BinOp) and a.op == "*":
        k = _number(a.left)
        c = None if k is None else _scaled_ones(a.right)
        return None if c is None else k * c
    if isinstance(a, A.BinOp) and a.op == ".^" and a.right == A.Num(0.0):
        return 1.0
    if isinstance(a, A.Call) and a.func in ("vector", "matrix") and isinstance(a.args[0], A.Num):
        return a.args[0].value
    return None


def _merge_roots(powers: list) -> list:
    """(base, k) pairs with sqrt(b)^k read as b^(k/2) and the powers of one base added:
    sqrt(u)^2 * u^0.5 in a denominator is u^1.5 (the derivative of 1/sqrt(u))."""
    merged: dict = {}
    for base, k in powers:
        if isinstance(base, A.Call) and base.func == "sqrt":
            base, k = base.args[0], k / 2
        merged[base] = merged.get(base, 0.0) + k
    return [(b, k) for b, k in merged.items() if k]


def _scalar_key(a: A.Expr):
    if isinstance(a, A.Num):
        rank = 0
    elif isinstance(a, A.Name):
        rank = 1
    elif isinstance(a, A.BinOp) and a.op == "^" and isinstance(a.left, A.Name):
        rank = 2
    elif isinstance(a, A.Call):
        rank = 3
    elif isinstance(a, A.BinOp) and a.op in ("+", "-"):
        rank = 5
    else:
        rank = 4
    return (rank, to_text(a))


class MatrixForms:
    """Constructors of display-form matrix ASTs for one expression's variables."""

    def __init__(self, expr):
        self.expr = expr
        #: every form's kind and dimensions, typed once (ricci.simplify.mtypes)
        self.types = Typing(expr)
        self._transposed: dict = {}  # id(form) → (form, its transpose): T()
        self.kind = self.types.kind  # 's', 'c', 'r' or 'm': the hot path, bound once
        self.sym: set[str] = self.types.symmetric
        #: each name's place in the input, first occurrence first, and the first names of the
        #: two sides of each u'*… written there (b'*x: (b, x)): ties follow the user's order
        self.source_order: dict[str, int] = {}
        self.source_pairs: set = set()
        for node in _source_walk(expr.tree):
            if isinstance(node, A.Name):
                self.source_order.setdefault(node.name, len(self.source_order))
            elif isinstance(node, A.BinOp) and node.op == "*" and isinstance(node.left, A.Transpose):
                self.source_pairs.add((_first_name(node.left), _first_name(node.right)))
        for node in A.walk(expr.tree):
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
            return a.name in ("eye", "I") and a.name not in self.expr.variables
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
                return self.build(Prod(p.coef, p.scalars, [self.T(c) for c in reversed(p.chain)]))
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
                    if _count_T(tx) < _count_T(x) or (_count_T(tx) == _count_T(x) and tx == x):
                        return A.Call(f, (tx,))
                if f == "diag" and self.kind(x) in (C, Rw):
                    return a
                if f == "matrix":
                    return a
            case A.Literal(rows=rows):
                return A.Literal(tuple(zip(*rows)))
        return A.Transpose(a)

    def _t_cost(self, a: A.Expr) -> tuple:
        """What transposes cost a reader, compared as (heavy, light).  Light: the transpose of a
        column built without a product of matrices or vectors (inner products aside), x' or
        (x - s)' or (x'*x*a)' (a row is how the lecture writes a gradient).  Heavy: every other,
        A' or ((A + A')*x + b)', whose product the reader has to reverse.  So ((A + A')*x + b)' becomes x'*(A + A') + b', while (x - s)' and
        (x - A*s)' stay as they are (ties keep the transpose outside)."""
        heavy = light = 0
        for n in A.walk(a):
            if not isinstance(n, A.Transpose):
                continue
            x = n.arg
            if self.kind(x) == C and not any(
                    isinstance(m, A.BinOp) and m.op == "*" and self.kind(m) != S
                    and self.kind(m.left) != S and self.kind(m.right) != S for m in A.walk(x)):
                light += 1
            else:
                heavy += 1
        return heavy, light

    def _push_T(self, a: A.Expr) -> A.Expr:
        if a.op in ("+", "-"):
            prods = []
            for t in self.decompose_sum(a):
                q = self.decompose(self.T(self.build_chain(t.chain))) if t.chain else Prod(1.0, [], [])
                prods.append(Prod(t.coef * q.coef, t.scalars + q.scalars, q.chain))
            return self._keep_shape(self.sum(prods), {C: Rw, Rw: C}.get(self.kind(a), self.kind(a)))
        return A.BinOp(a.op, self.T(a.left), self.T(a.right))

    # -- products ------------------------------------------------------------------------------------
    def decompose(self, a: A.Expr) -> Prod:
        match a:
            case A.Num(value=v):
                return Prod(v, [], [])
            case A.Neg(arg=x):
                p = self.decompose(x)
                return Prod(-p.coef, p.scalars, p.chain)
            case A.BinOp(op=".*" | "./") if _unnegate(a) is not None:
                p = self.decompose(_unnegate(a))
                return Prod(-p.coef, p.scalars, p.chain)
            case A.Call(func="diag", args=(x,)) if _unnegate(x) is not None and self.kind(x) in (C, Rw):
                p = self.decompose(A.Call("diag", (_unnegate(x),)))  # diag(-v) = -diag(v)
                return Prod(-p.coef, p.scalars, p.chain)
            case A.BinOp(op="*", left=l, right=r):
                pl, pr = self.decompose(l), self.decompose(r)
                chain = pl.chain + pr.chain
                if chain and self.kind(a) == S:
                    # x'*A*x is one scalar factor: its chain must not mix with other matrices.
                    chain = self._inner_order(chain)
                    return Prod(pl.coef * pr.coef, pl.scalars + pr.scalars + [self._inner(chain)], [])
                return Prod(pl.coef * pr.coef, pl.scalars + pr.scalars, chain)
            case A.BinOp(op="/", left=l, right=r) if self.kind(r) == S:
                pl = self.decompose(l)
                pr = self.decompose(r)
                recips = [self.recip(s) for s in pr.scalars] + (
                    [self.recip(self.build_chain(pr.chain))] if pr.chain else [])
                return Prod(pl.coef / pr.coef, pl.scalars + recips, pl.chain)
        if self.kind(a) == S:
            return Prod(1.0, [a], [])
        return Prod(1.0, [], [a])

    def _inner_order(self, chain: list) -> list:
        """u'*v = v'*u: of the two, the one with fewer transposes, else the one written in the
        input (exp(a'*x) stays a'*x, x'*a stays x'*a), else the one whose names come first there."""
        if len(chain) != 2 or self.kind(chain[0]) != Rw or self.kind(chain[1]) != C:
            return chain
        swapped = [self.T(chain[1]), self.T(chain[0])]

        def rank(c):
            first = [_first_name(x) for x in c]
            places = tuple(self.source_order.get(n, len(self.source_order)) for n in first)
            return sum(_count_T(x) for x in c), tuple(first) not in self.source_pairs, places

        return swapped if rank(swapped) < rank(chain) else chain

    @staticmethod
    def recip(s: A.Expr) -> A.Expr:
        if _is_recip(s):
            return s.left
        return A.BinOp("^", s, A.Num(-1.0))

    def build_chain(self, chain: list) -> A.Expr:
        out = chain[0]
        for c in chain[1:]:
            out = A.BinOp("*", out, c)
        return out

    def build(self, p: Prod) -> A.Expr:
        """coef · scalars · chain as an AST (a negative coefficient as a leading minus)."""
        if p.coef == 0.0:
            return A.Num(0.0)
        chain = [c for c in p.chain if not self.is_identity(c)] \
            if len(p.chain) > 1 else list(p.chain)
        if not chain and p.chain:
            chain = [p.chain[0]]
        chain = self._cancel_inverses(chain)
        numer, denom = [], []
        for s in p.scalars:
            np_ = _neg_power(s)
            if np_ is None:
                numer.append(s)
            else:
                base, k = np_
                chain, k = self._normalise(chain, base, k)
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
        out = self.build_chain(parts)
        if denom:
            den = self.build_chain(denom)
            out = A.BinOp("/", out, den)
        return out

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

    def _cancel_inverses(self, chain: list) -> list:
        """inv(M)*M and M*inv(M) are the identity: drop both (keep an eye if nothing is left).
        Also inside the inverse of a product of square matrices of one size, where
        inv(P*Q) = inv(Q)*inv(P): Q*inv(P*Q) = inv(P) and inv(P*Q)*P = inv(Q)."""
        out: list = []
        for c in chain:
            while out:
                f = self._inv_factors(c)
                if f is not None and f[-1] == out[-1]:  # Pk*inv(P1*…*Pk) = inv(P1*…*Pk-1)
                    out.pop()
                    c = self._inv_of(f[:-1])
                    continue
                f = self._inv_factors(out[-1])
                if f is not None and f[0] == c:  # inv(P1*…*Pk)*P1 = inv(P2*…*Pk)
                    out.pop()
                    c = self._inv_of(f[1:])
                    continue
                break
            if out and (_inv_pair(out[-1], c) or _inv_pair(c, out[-1])):
                out.pop()
                continue
            # diag(v)*vector(1) = v and vector(1)'*diag(v) = v'
            if out and _is_ones(c) and _is_diag_of_vector(out[-1], self):
                out[-1] = self.orient_col(out[-1].args[0])
                continue
            if out and _is_ones(out[-1], row=True) and _is_diag_of_vector(c, self):
                out[-1] = self.T(self.orient_col(c.args[0]))
                continue
            out.append(c)
        if not out and chain:
            return [self.identity()]
        return out

    def _square_dim(self, a: A.Expr):
        """n when ``a`` is a square n×n matrix variable, its transpose or its inverse, else None."""
        rows = self._outer_dim(a, 0)
        return rows if rows is not None and rows == self._outer_dim(a, 1) else None

    def _inv_factors(self, a: A.Expr) -> list | None:
        """[P1, …, Pk] when ``a`` is inv(P1*…*Pk) (or its transpose, inv of the transposed
        product) and every Pi is a square variable of one size (so each is invertible when
        the product is), else None."""
        transposed = isinstance(a, A.Transpose)
        if transposed:
            a = a.arg
        if not (isinstance(a, A.Call) and a.func == "inv"):
            return None
        parts = _chain_parts(a.args[0])
        if len(parts) < 2:
            return None
        dims = {self._square_dim(p) for p in parts}
        if len(dims) != 1 or None in dims:
            return None
        return [self.T(p) for p in reversed(parts)] if transposed else parts

    def _inv_of(self, factors: list) -> A.Expr:
        """inv(P1*…*Pk), written as the Cookbook does: inv(X)' for inv(X'), X for inv(inv(X))."""
        if len(factors) == 1:
            x = factors[0]
            if isinstance(x, A.Call) and x.func == "inv":
                return x.args[0]
            if isinstance(x, A.Transpose):
                return self.T(A.Call("inv", (x.arg,)))
        return A.Call("inv", (self.build_chain(factors),))

    def product(self, coef: float, scalars: list, tensor: A.Expr | None) -> A.Expr:
        p = Prod(coef, [], [])
        for s in scalars:
            q = self.decompose(s)
            p = Prod(p.coef * q.coef, p.scalars + q.scalars, p.chain + q.chain)
        if tensor is not None:
            q = self.decompose(tensor)
            p = Prod(p.coef * q.coef, p.scalars + q.scalars, p.chain + q.chain)
        return self.build(p)

    def matmul(self, a: A.Expr, b: A.Expr) -> A.Expr:
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
        coefs: dict = {}
        first: dict = {}
        for p in prods:
            k = p.key()
            coefs[k] = coefs.get(k, 0.0) + p.coef
            first.setdefault(k, p)
        return [Prod(coefs[k], first[k].scalars, first[k].chain) for k in coefs if coefs[k] != 0.0]

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
        def raw(x):
            if isinstance(x, A.BinOp) and x.op == "*":
                return raw(x.left) + raw(x.right)
            return [x]

        if isinstance(a, A.Call) and a.func == "tr":
            chain, rotations = raw(a.args[0]), None
        else:
            chain, rotations = raw(a), 1
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
        return min(found, key=_count_T) if found else None

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
        # Common scalars (as a multiset).
        common = Counter(terms[0].scalars)
        for t in terms[1:]:
            common &= Counter(t.scalars)
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

        if all(ones_only(t) for t in terms) or not any(ones_only(t) for t in terms):
            return terms
        if any(not ones_only(t) and self.kind(self.build(t)) == S for t in terms):
            return terms  # a scalar term: the sum's shape would rest on the ones alone
        return [Prod(t.coef, t.scalars, []) if ones_only(t) else t for t in terms]

    def _plain_sum(self, terms: list[Prod]) -> A.Expr:
        terms = self._unbroadcast(terms)
        shaped = len(terms) > 1 and any(self.kind(self.build(t)) != S for t in terms)
        # once, not once per term inside order() (a sum of k names built k² terms: issue 21)
        all_leaves = all(_is_leaf(self.build(u)) for u in terms)

        def order(t: Prod):
            # Positive terms first; among them, in a sum with a shape, a scalar that broadcasts
            # last (x + c, W*x + b; but 1 - t.^2 and 1 + exp(x) keep a number first); a bare name
            # or number last (B*x + b, x - a); fewer transposes first (B + B'); then shorter
            # first (sin(t) + t*cos(t)).  A multiple of the identity goes last, as a broadcast
            # scalar does (X'*X + lambda*eye, the textbook's A + λI).
            body = self.build(Prod(abs(t.coef), t.scalars, t.chain))
            txt = to_text(body)
            bare = isinstance(body, A.Name) or (isinstance(body, A.Transpose) and isinstance(body.arg, A.Name))
            broadcast = shaped and bool(t.scalars) and self.kind(self.build(t)) == S
            identity = len(terms) > 1 and len(t.chain) == 1 and self.is_identity(t.chain[0])
            return (t.coef < 0, broadcast or identity,
                    bare and len(terms) > 1 and not all_leaves,
                    txt.count("'"), len(txt), txt)

        terms = sorted(terms, key=order)
        out = self.build(terms[0])
        for t in terms[1:]:
            if t.coef < 0:
                out = A.BinOp("-", out, self.build(Prod(-t.coef, t.scalars, t.chain)))
            else:
                out = A.BinOp("+", out, self.build(t))
        return out

    # -- the last pass -----------------------------------------------------------------------------------
    def name_repeats(self, tree: A.Expr, taken: set, min_length: int = 60,
                     max_bindings: int = 64) -> tuple[A.Expr, list]:
        """Name repeated subterms, as a person would (:func:`ricci.simplify.naming.name_repeats`)."""
        return name_repeats(self, tree, taken, min_length, max_bindings)

    def finish(self, a: A.Expr) -> A.Expr:
        """The last pass over a whole answer (hook for rules that need the complete tree)."""
        return a


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
