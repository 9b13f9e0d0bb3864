"""The differential of an expression, one rule per node: the first half of the differential method.

Magnus and Neudecker's method writes dF in terms of dX with a rule per operation, then brings
dF to a standard form and reads the derivative off (:mod:`.identify`).  This module is the
rules: :data:`RULES` is the one table of them, each with its name and the formula a textbook
prints, and :class:`Differentials` applies them to a typed expression, node by node, giving dF
as an expression of the input language in which the differential of a variable X is a new
variable ``dX`` of X's kind.  So dF is a linear map of dX that ricci can parse, print and
evaluate: ``f'(X)[dX]``, the JVP (:class:`LinearMap`).

A function's rule is read off its entry of the function table (:mod:`ricci.functions`), never
a list of names here: an elementwise function's ``derivative`` gives d f(X) = f'(X) ⊙ dX; a
``linear`` one (tr, sum, diag) is its own differential, d f(X) = f(dX); ``times_value`` says
d f(X) = f(X) tr(inv(X) dX) (det) or tr(inv(X) dX) (logdet); the "inverse" family is
-inv(X) dX inv(X).  Any other scalar-valued function gets d f(U) = tr(G' dU) with G ricci's own
gradient of f, so that no function ricci differentiates is left without a differential.

Invariants: a node that does not depend on the variables has differential None (zero);
every rule's result has the node's type; nothing here evaluates numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..functions import lookup
from ..language import ast as A
from ..language.errors import RicciError
from ..language.expression import as_parsed, typed_tree
from ..language.parser import parse_text
from ..printing.text import to_text


class NoRule(RicciError):
    """The differential method has no rule for a part of the expression."""

    kind = "no rule"


@dataclass(frozen=True)
class Rule:
    """A differential rule as a textbook states it."""

    name: str
    formula: str
    source: str | None = None


#: The rules of the differential method, one per kind of node (Magnus & Neudecker, ch. 8–9;
#: The Matrix Cookbook §2.1).  Steps name them; docs/explain.md prints this table.
RULES: dict[str, Rule] = {
    "constant": Rule("constant", "dA = 0 for A that does not depend on X"),
    "variable": Rule("variable", "the differential of X is dX"),
    "addition": Rule("sum rule", "d(X + Y) = dX + dY"),
    "product": Rule("product rule", "d(XY) = dX Y + X dY", "Matrix Cookbook (37)"),
    "scalar product": Rule("constant factor", "d(aX) = a dX", "Matrix Cookbook (34)"),
    "quotient": Rule("quotient rule", "d(X/s) = dX/s - X ds/s^2"),
    "hadamard": Rule("product rule (elementwise)", "d(X ⊙ Y) = dX ⊙ Y + X ⊙ dY", "Matrix Cookbook (38)"),
    "hadamard quotient": Rule("quotient rule (elementwise)", "d(X ⊘ Y) = dX ⊘ Y - X ⊙ dY ⊘ (Y ⊙ Y)"),
    "power": Rule("power rule", "d(s^p) = p s^(p-1) ds"),
    "elementwise power": Rule("power rule (elementwise)", "d(X.^p) = p X.^(p-1) ⊙ dX"),
    "transpose": Rule("transpose", "d(X') = (dX)'", "Matrix Cookbook (35)"),
    "elementwise": Rule("elementwise function", "d f(X) = f'(X) ⊙ dX"),
    "linear": Rule("linear map", "d f(X) = f(dX) for a linear f (tr, sum, diag)", "Matrix Cookbook (36)"),
    "determinant": Rule("determinant", "d det(X) = det(X) tr(inv(X) dX)", "Matrix Cookbook (46)"),
    "log-determinant": Rule("log-determinant", "d log det X = tr(inv(X) dX)", "Matrix Cookbook (57)"),
    "inverse": Rule("inverse", "d inv(X) = -inv(X) dX inv(X)", "Matrix Cookbook (59)"),
    "gradient": Rule("the function's gradient", "d f(U) = tr(G' dU) with G = ∂f/∂U"),
    "literal": Rule("entry by entry", "d[a, b; c, d] = [da, db; dc, dd]"),
    "binding": Rule("chain rule", "d f(u) with u = g(X): du = dg, put in"),
}


@dataclass
class Record:
    """One rule applied: the node, the rule's key, and the node's differential."""

    node: A.Expr
    rule: str
    result: A.Expr
    depth: int


# -- smart constructors: keep the differential as a person writes it ------------------------------
ONE = A.Num(1.0)
ZERO = A.Num(0.0)
#: the identity the rearrangement writes (tr(A) = tr(I'A)); a product drops it
EYE = A.Name("eye")


def is_num(e, v=None) -> bool:
    return isinstance(e, A.Num) and (v is None or e.value == v)


def add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(b, A.Neg):
        return A.BinOp("-", a, b.arg)
    if isinstance(b, A.BinOp) and b.op in ("*", ".*", "/", "./") and isinstance(b.left, A.Neg):
        return A.BinOp("-", a, A.BinOp(b.op, b.left.arg, b.right))  # a - t*sin(t), not a + -t*sin(t)
    if isinstance(b, A.Num) and b.value < 0:
        return A.BinOp("-", a, A.Num(-b.value))
    return A.BinOp("+", a, b)


def neg(a):
    if a is None:
        return None
    if isinstance(a, A.Neg):
        return a.arg
    if isinstance(a, A.BinOp) and a.op in ("*", ".*", "/", "./"):
        return A.BinOp(a.op, neg(a.left), a.right)  # -inv(X)*dX*inv(X), not -(inv(X)*dX*inv(X))
    return A.Neg(a)


def mul(a, b, op: str = "*"):
    """a*b, with a factor 1 dropped and a sign moved to the front."""
    if a is None or b is None:
        return None
    if op == "*":
        if is_num(a, 1.0):
            return b
        if is_num(b, 1.0):
            return a
    if isinstance(a, A.Neg):
        return neg(mul(a.arg, b, op))
    if isinstance(b, A.Neg) and op in ("*", ".*"):
        return neg(mul(a, b.arg, op))
    return A.BinOp(op, a, b)


def mmul(a, b):
    """The matrix product a*b of two non-scalars, the identity dropped (L'*I = L')."""
    if a == EYE:
        return b
    if b == EYE:
        return a
    return mul(a, b)


def substitute(node: A.Expr, names: dict) -> A.Expr:
    """``node`` with each Name in ``names`` replaced (iteratively deep trees are rare here)."""
    if isinstance(node, A.Name) and node.name in names:
        return names[node.name]
    if isinstance(node, A.Where):
        return A.Where(substitute(node.body, names), tuple((n, substitute(e, names)) for n, e in node.bindings))
    return A.map_children(node, lambda c: substitute(c, names))


def names_in(node: A.Expr) -> set:
    return {n.name for n in A.walk(node) if isinstance(n, A.Name)}


def _parsed(text: str) -> A.Expr:
    return _PARSED.setdefault(text, parse_text(text))


_PARSED: dict = {}


# =================================================================================================
# The differential of a typed expression
# =================================================================================================
@dataclass
class Differentials:
    """dF of a typed :class:`~ricci.language.expression.Expression` by the variables ``wrt``.

    ``dnames`` maps each variable to its differential's name (``X`` → ``dX``); names bound by
    ``where`` that depend on a variable get one too (``x1`` → ``dx1``), with their differential
    in :attr:`bound`.  :attr:`records` lists each rule applied, parents first."""

    expr: object
    wrt: tuple
    dnames: dict = field(default_factory=dict)
    bound: dict = field(default_factory=dict)
    records: list = field(default_factory=list)

    def __post_init__(self):
        taken = set(self.expr.variables) | names_in(self.expr.tree)
        for v in self.wrt:
            self.dnames[v] = fresh_name("d" + v, taken)
        self._depends: dict = {}
        self._memo: dict = {}
        tree = self.expr.tree
        self.body = tree.body if isinstance(tree, A.Where) else tree
        self.bindings = tree.bindings if isinstance(tree, A.Where) else ()
        for n, e in self.bindings:
            self._depends[n] = bool(self._uses(e))
            if self._depends[n]:
                self.dnames[n] = fresh_name("d" + n, taken)
        for n, e in self.bindings:
            if self._depends[n]:
                self.bound[n] = self.d(e, 1) or A.Num(0.0)
        self.result = self.d(self.body, 0)

    def total(self) -> A.Expr:
        """dF in terms of the variables' differentials only (each bound name's put in)."""
        sub: dict = {}
        for n, _ in self.bindings:
            if n in self.bound:
                sub[self.dnames[n]] = substitute(self.bound[n], sub)
        return substitute(self.result, sub) if self.result is not None else ZERO

    # -- what depends on the variables ----------------------------------------------------------------
    def _uses(self, node) -> set:
        return {n for n in names_in(node) if n in self.wrt or self._depends.get(n)}

    def depends(self, node) -> bool:
        return bool(self._uses(node))

    def type(self, node):
        return self.expr.type_of(node)

    def scalar(self, node) -> bool:
        return self.type(node).is_scalar

    # -- the rules -----------------------------------------------------------------------------------
    def d(self, node, depth: int):
        """The differential of ``node`` (None: zero), recording the rule used."""
        key = id(node)
        if key in self._memo:
            return self._memo[key]
        if not self.depends(node):
            out, rule = None, "constant"
        else:
            out, rule = self._rule(node, depth)
        self._memo[key] = out
        if out is not None and rule not in ("variable", "constant"):
            self.records.append(Record(node, rule, out, depth))
        return out

    def _rule(self, node, depth):
        k = depth + 1
        match node:
            case A.Name(name=n):
                return A.Name(self.dnames[n]), "variable" if n in self.wrt else "binding"
            case A.Neg(arg=a):
                return neg(self.d(a, k)), "scalar product"
            case A.Transpose(arg=a):
                return A.Transpose(self.d(a, k)), "transpose"
            case A.BinOp(op="+" | "-", left=l, right=r):
                dl, dr = self.d(l, k), self.d(r, k)
                return add(dl, dr if node.op == "+" else neg(dr)), "addition"
            case A.BinOp(op="*" | ".*", left=l, right=r):
                dl, dr = self.d(l, k), self.d(r, k)
                rule = "hadamard" if node.op == ".*" else "product"
                if dl is not None and self.scalar(l) and self.scalar(r):
                    return add(mul(r, dl), mul(l, dr, node.op)), rule  # cos(t)*dt, not dt*cos(t)
                if dl is None or dr is None:
                    rule = "scalar product" if self.scalar(r if dl is None else l) else rule
                return add(mul(dl, r, node.op), mul(l, dr, node.op)), rule
            case A.BinOp(op="/" | "./", left=l, right=r):
                dl, dr = self.d(l, k), self.d(r, k)
                first = mul(dl, r, node.op)
                if dr is None:
                    return first, "scalar product"
                square = A.BinOp("^" if node.op == "/" else ".^", r, A.Num(2.0))
                rest = mul(mul(l, dr, "*" if node.op == "/" else ".*"), square, node.op)
                return add(first, neg(rest)), "quotient" if node.op == "/" else "hadamard quotient"
            case A.BinOp(op="^" | ".^", left=b, right=p):
                return self._power(node, b, p, k)
            case A.Call():
                return self._call(node, k)
            case A.Literal(rows=rows):
                return A.Literal(tuple(tuple(self.d(e, k) or A.Num(0.0) for e in row) for row in rows)), "literal"
        raise NoRule(f"the differential method has no rule for {to_text(node)}")

    def _power(self, node, b, p, k):
        db = self.d(b, k)
        if self.depends(p):
            raise NoRule(f"the differential method takes constant exponents only, not {to_text(node)}")
        lower = A.Num(p.value - 1) if is_num(p) else A.BinOp("-", p, ONE)
        powered = b if is_num(lower, 1.0) else A.BinOp(node.op, b, lower)
        head = mul(p, powered, "*" if node.op == "^" else ".*")
        if node.op == "^" or self.scalar(b):
            return mul(head, db), "power"
        return mul(head, db, ".*"), "elementwise power"

    def _call(self, node, k):
        fn = lookup(node.func)
        if fn is None:  # eye(n), len(x): sizes and constants of the language, not functions of X
            return None, "constant"
        if len(node.args) != 1:
            raise NoRule(f"the differential method has no rule for {node.func} with {len(node.args)} arguments")
        (u,) = node.args
        du = self.d(u, k)
        if fn.family == "elementwise":
            prime = _parsed(fn.derivative)
            if isinstance(du, A.BinOp) and du.op == "*" and du.left == u and _is_reciprocal(prime):
                # d log(det X) = (det X)⁻¹ det X tr(inv(X) dX) = tr(inv(X) dX)
                return du.right, "log-determinant"
            fprime = substitute(prime if self.scalar(u) else _entrywise(prime), {"u": u})
            return mul(fprime, du, "*" if self.scalar(u) else ".*"), "elementwise"
        if fn.linear:
            return A.Call(node.func, (du,)), "linear"
        if fn.times_value is not None:
            trace = A.Call(trace_name(), (mul(A.Call(_inverse_name(), (u,)), du),))
            if fn.times_value:
                return mul(node, trace), "determinant"
            return trace, "log-determinant"
        if fn.family == "inverse":
            return neg(mul(mul(node, du), node)), "inverse"
        if self.scalar(node):
            return self._by_gradient(node, u, du), "gradient"
        raise NoRule(f"the differential method has no rule for {node.func} (a matrix-valued function "
                     "without a differential in the function table)")

    def _by_gradient(self, node, u, du):
        """d f(U) = tr(G' dU), G ricci's gradient of f at U (reductions without a rule of their own)."""
        from ..derivation import derivative

        t = self.type(u)
        kind = "scalar" if t.is_scalar else "vector" if t.is_col else "matrix" if t.is_matrix else None
        if kind is None:
            raise NoRule(f"the differential method has no rule for {node.func} of a row")
        u_kinds = {"u": kind}
        grad = derivative(typed_tree(A.Call(node.func, (A.Name("u"),)), u_kinds), "u", 1, u_kinds)
        if grad.matrix is None:  # pragma: no cover - a scalar's gradient by a scalar, vector or matrix has one
            raise NoRule(f"the differential method has no rule for {node.func}: its gradient has no matrix form")
        g = as_parsed(grad.matrix)  # the answer's tree, as its text reads (not the text parsed again)
        if isinstance(g, A.Where):  # u2*u2' where u2 = eigvec_max(u): written in, for one term of dF
            bound: dict = {}
            for n, e in g.bindings:
                bound[n] = substitute(e, bound)
            g = substitute(g.body, bound)
        g = substitute(g, {"u": u})
        if kind == "matrix":
            return A.Call(trace_name(), (mul(A.Transpose(g), du),))
        return mul(g, du)


_ENTRYWISE = {"*": ".*", "/": "./", "^": ".^"}


def _entrywise(e: A.Expr) -> A.Expr:
    """A formula in a scalar u made entry by entry (1 - tanh(u)^2 → 1 - tanh(u).^2), for a
    matrix u: the table writes f′(u) for one entry."""
    if isinstance(e, A.BinOp):
        return A.BinOp(_ENTRYWISE.get(e.op, e.op), _entrywise(e.left), _entrywise(e.right))
    return A.map_children(e, _entrywise)


def simplify_zero(e: A.Expr):
    """``e`` with its zero terms and factors gone (after a differential was set to 0)."""
    match e:
        case A.Num() | A.Name():
            return e
        case A.Neg(arg=a):
            a = simplify_zero(a)
            return ZERO if is_num(a, 0.0) else neg(a)
        case A.Transpose(arg=a):
            a = simplify_zero(a)
            return ZERO if is_num(a, 0.0) else A.Transpose(a)
        case A.BinOp(op="+" | "-", left=l, right=r):
            l, r = simplify_zero(l), simplify_zero(r)
            if is_num(r, 0.0):
                return l
            if is_num(l, 0.0):
                return r if e.op == "+" else neg(r)
            return add(l, r) if e.op == "+" else A.BinOp("-", l, r)
        case A.BinOp(op="*" | ".*" | "/" | "./", left=l, right=r):
            l, r = simplify_zero(l), simplify_zero(r)
            if is_num(l, 0.0) or (is_num(r, 0.0) and e.op in ("*", ".*")):
                return ZERO
            return mul(l, r, e.op)
        case A.Call(func=f, args=args):
            args = tuple(simplify_zero(a) for a in args)
            fn = lookup(f)
            if fn is not None and fn.linear and all(is_num(a, 0.0) for a in args):
                return ZERO
            return A.Call(f, args)
        case A.Literal(rows=rows):
            return A.Literal(tuple(tuple(simplify_zero(x) for x in row) for row in rows))
    return e


def _is_reciprocal(e) -> bool:
    """Whether f'(u) is 1/u (the logarithm's)."""
    return isinstance(e, A.BinOp) and e.op in ("/", "./") and is_num(e.left, 1.0) and e.right == A.Name("u")


def trace_name() -> str:
    from ..functions import FUNCTIONS

    # the square function that is linear: tr (read off the table, not spelled here)
    return next(n for n, f in FUNCTIONS.items() if f.family == "square" and f.linear)


def sum_name() -> str:
    from ..functions import FUNCTIONS

    # the linear reduction with a lowering and a rewrite: sum (read off the table, not spelled here)
    return next(n for n, f in FUNCTIONS.items() if f.family == "reduction" and f.linear
                and f.lower is not None and f.rewrite is not None)


def _inverse_name() -> str:
    from ..functions import named

    return named("inverse")


def fresh_name(name: str, taken: set) -> str:
    """``name``, or dX → d_X → d__X … until no name in ``taken`` has it; the result is taken."""
    while name in taken:
        name = name[:1] + "_" + name[1:]
    taken.add(name)
    return name
