"""Matrix-AST helpers for the structural proofs: inline ``where``, push transposes to the
leaves, type, and take products and sums apart.

The proofs read a Hessian the way a person does: as a sum of terms, each a scalar coefficient
times a product of matrices.  To compare the factors of ``B'*M*B`` structurally, transposes
must sit on names only, so ``(A*B)'`` is rewritten ``B'*A'``, ``(A + B)'`` is ``A' + B'``,
``S'`` is ``S`` for a symmetric S, and ``diag(v)'`` is ``diag(v)``.  Each rewritten tree is
typed from the function's variables by the rule that types the display's forms
(:func:`ricci.simplify.mtypes.typed_expression`): no text is printed and parsed again.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..functions import IDENTITY_NAMES, family_of, lookup
from ..language import ast as A
from ..language.kinds import SYMMETRIC

#: Longest rewritten tree (in characters of its text) that is read (inlining ``where`` can
#: grow a tree).
MAX_TEXT = 20_000


def inline(node: A.Expr, env: dict | None = None) -> A.Expr:
    """The tree with every ``where``-bound name replaced by its expression."""
    env = env or {}
    match node:
        case A.Where(body=body, bindings=bs):
            inner = dict(env)
            for name, e in bs:
                inner[name] = inline(e, inner)
            return inline(body, inner)
        case A.Name(name=n):
            return env.get(n, node)
        case A.Num() | A.Call() | A.Neg() | A.Transpose() | A.BinOp() | A.Literal():
            return A.map_children(node, lambda a: inline(a, env))
    raise TypeError(node)


class Typed:
    """A typed tree: ``expr`` (an :class:`~ricci.language.expression.Expression`) and helpers;
    ``origin``, the function whose variables type it (``expr`` itself where not given)."""

    def __init__(self, expr, origin=None):
        self.expr = expr
        self.origin = expr if origin is None else origin
        self.tree = expr.tree
        self.variables = expr.variables

    def type(self, node):
        return self.expr.type_of(node)

    def is_scalar(self, node) -> bool:
        return self.type(node).is_scalar

    def is_col(self, node) -> bool:
        return self.type(node).is_col

    def is_identity(self, node) -> bool:
        return isinstance(node, A.Name) and node.name in IDENTITY_NAMES and node.name not in self.variables

    def symmetric(self, name: str) -> bool:
        v = self.variables.get(name)
        return v is not None and v.kind == SYMMETRIC


def retype(tree: A.Expr, origin) -> Typed | None:
    """``tree`` (a matrix form over the variables of the Expression ``origin``) typed, as the
    parser would read its text (None where that text is too long to read, or not well typed)."""
    from ..printing.text import to_text
    from ..simplify.mtypes import Mistyped, typed_expression

    text = to_text(tree)
    if len(text) > MAX_TEXT:
        return None
    try:
        return Typed(typed_expression(origin, tree, (None, None), text), origin)
    except Mistyped:  # a rewriting the rules got wrong: not read, rather than read wrongly
        return None


def push_transposes(t: Typed, node: A.Expr) -> A.Expr:
    """``node`` with transposes on names only (types from ``t``, the tree ``node`` belongs to)."""
    match node:
        case A.Transpose(arg=a):
            return _transpose(t, a)
        case A.Num() | A.Name():
            return node
        case A.Call(func=f, args=args):
            return A.Call(f, tuple(push_transposes(t, x) for x in args))
        case A.Neg(arg=a):
            return A.Neg(push_transposes(t, a))
        case A.BinOp(op=op, left=l, right=r):
            return A.BinOp(op, push_transposes(t, l), push_transposes(t, r))
        case A.Literal(rows=rows):
            return A.Literal(tuple(tuple(push_transposes(t, e) for e in row) for row in rows))
    raise TypeError(node)


def _transpose(t: Typed, a: A.Expr) -> A.Expr:
    """The transpose of the typed node ``a``, with transposes pushed down."""
    if t.is_scalar(a):
        return push_transposes(t, a)
    match a:
        case A.Transpose(arg=b):
            return push_transposes(t, b)
        case A.Name(name=n) if t.is_identity(a) or t.symmetric(n):
            return a
        case A.Neg(arg=b):
            return A.Neg(_transpose(t, b))
        case A.BinOp(op="*", left=l, right=r) if not (t.is_scalar(l) or t.is_scalar(r)):
            return A.BinOp("*", _transpose(t, r), _transpose(t, l))
        case A.BinOp(op=op, left=l, right=r) if op in ("+", "-", ".*", "./", ".^", "*"):
            return A.BinOp(op, _transpose(t, l), _transpose(t, r))
        case A.BinOp(op="/", left=l, right=r):
            return A.BinOp("/", _transpose(t, l), push_transposes(t, r))
        case A.Call(func=f, args=(x,)):
            fn = lookup(f)
            if fn is not None and fn.family == "diagonal" and not t.type(x).is_matrix:
                return A.Call(f, (push_transposes(t, x),))  # diag(v)' = diag(v)
            if fn is not None and fn.family in ("elementwise", "constant"):
                return A.Call(f, (_transpose(t, x),))
            if fn is not None and fn.family == "inverse":
                return A.Call(f, (_transpose(t, x),))  # inv(X)' = inv(X')
        case A.Literal(rows=rows):
            cols = list(zip(*rows))
            return A.Literal(tuple(tuple(push_transposes(t, e) for e in col) for col in cols))
    return A.Transpose(push_transposes(t, a))


def normal_form(tree: A.Expr, origin) -> Typed | None:
    """Inline ``where``, push transposes to names, and type the result (None if too long)."""
    first = retype(inline(tree), origin)
    if first is None:
        return None
    return retype(push_transposes(first, first.tree), origin)


# -- sums and products -----------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    """One term of a sum: ``sign · Π coef^power · core``; each coef is a scalar node of the
    typed tree and its power is 1 or −1 (a divisor)."""

    sign: int
    coefs: tuple
    core: A.Expr


def terms(t: Typed, node: A.Expr, sign: int = 1, coefs: tuple = ()) -> list[Term]:
    """``node`` as a signed sum of terms, scalar factors distributed over sums."""
    match node:
        case A.BinOp(op="+", left=l, right=r) if not t.is_scalar(node):
            return terms(t, l, sign, coefs) + terms(t, r, sign, coefs)
        case A.BinOp(op="-", left=l, right=r) if not t.is_scalar(node):
            return terms(t, l, sign, coefs) + terms(t, r, -sign, coefs)
        case A.Neg(arg=a) if not t.is_scalar(node):
            return terms(t, a, -sign, coefs)
        case A.BinOp(op="*" | ".*", left=l, right=r) if t.is_scalar(l) and not t.is_scalar(r):
            return terms(t, r, sign, coefs + ((l, 1),))
        case A.BinOp(op="*" | ".*", left=l, right=r) if t.is_scalar(r) and not t.is_scalar(l):
            return terms(t, l, sign, coefs + ((r, 1),))
        case A.BinOp(op="/" | "./", left=l, right=r) if t.is_scalar(r) and not t.is_scalar(l):
            return terms(t, l, sign, coefs + ((r, -1),))
    return [Term(sign, coefs, node)]


def factors(t: Typed, node: A.Expr) -> tuple[int, list, list]:
    """A product taken apart: (sign, scalar factors as (node, ±1), matrix factors in order)."""
    match node:
        case A.BinOp(op="*", left=l, right=r):
            s1, c1, m1 = factors(t, l)
            s2, c2, m2 = factors(t, r)
            return s1 * s2, c1 + c2, m1 + m2
        case A.BinOp(op="/", left=l, right=r) if t.is_scalar(r):
            s, c, m = factors(t, l)
            return s, c + [(r, -1)], m
        case A.Neg(arg=a):
            s, c, m = factors(t, a)
            return -s, c, m
    if t.is_scalar(node):
        return 1, [(node, 1)], []
    return 1, [], [node]


def split_scalars(t: Typed, node: A.Expr) -> tuple[int, list, A.Expr]:
    """An entrywise vector expression as (sign, scalar factors, core): ``exp(x)/s`` is
    (1, [(s, −1)], exp(x)); ``-c*v`` is (−1, [(c, 1)], v)."""
    match node:
        case A.Neg(arg=a):
            s, c, core = split_scalars(t, a)
            return -s, c, core
        case A.BinOp(op="*" | ".*", left=l, right=r) if t.is_scalar(l) and not t.is_scalar(r):
            s, c, core = split_scalars(t, r)
            return s, c + [(l, 1)], core
        case A.BinOp(op="*" | ".*", left=l, right=r) if t.is_scalar(r) and not t.is_scalar(l):
            s, c, core = split_scalars(t, l)
            return s, c + [(r, 1)], core
        case A.BinOp(op="/" | "./", left=l, right=r) if t.is_scalar(r) and not t.is_scalar(l):
            s, c, core = split_scalars(t, l)
            return s, c + [(r, -1)], core
    return 1, [], node


def transpose_of(t: Typed, node: A.Expr) -> A.Expr:
    """The transpose of a typed node, in the pushed-down form (for structural comparison)."""
    return _transpose(t, node)


# -- other readings of the same matrix ----------------------------------------------------------
#: Most monomials an expansion may produce (beyond, the expanded reading is not tried).
MAX_MONOMIALS = 64


@dataclass(frozen=True)
class Monomial:
    """``sign · Π coef^power · M1*…*Mk`` with every node from the typed tree."""

    sign: int
    coefs: tuple
    mats: tuple


def _expand(t: Typed, node) -> list[Monomial] | None:
    """``node`` as a sum of monomials: products distributed over sums (None if too many)."""
    match node:
        case A.BinOp(op="+" | "-", left=l, right=r) if not t.is_scalar(node):
            a, b = _expand(t, l), _expand(t, r)
            if a is None or b is None:
                return None
            s = 1 if node.op == "+" else -1
            out = a + [Monomial(s * m.sign, m.coefs, m.mats) for m in b]
        case A.Neg(arg=a) if not t.is_scalar(node):
            inner = _expand(t, a)
            out = None if inner is None else [Monomial(-m.sign, m.coefs, m.mats) for m in inner]
        case A.BinOp(op="*" | "/" | ".*" | "./", left=l, right=r) if t.is_scalar(r) and not t.is_scalar(l):
            inner = _expand(t, l)
            p = -1 if node.op in ("/", "./") else 1
            out = None if inner is None else [Monomial(m.sign, m.coefs + ((r, p),), m.mats) for m in inner]
        case A.BinOp(op="*" | ".*", left=l, right=r) if t.is_scalar(l) and not t.is_scalar(r):
            inner = _expand(t, r)
            out = None if inner is None else [Monomial(m.sign, m.coefs + ((l, 1),), m.mats) for m in inner]
        case A.BinOp(op="*", left=l, right=r) if not (t.is_scalar(node) or t.is_scalar(l) or t.is_scalar(r)):
            a, b = _expand(t, l), _expand(t, r)
            if a is None or b is None or len(a) * len(b) > MAX_MONOMIALS:
                return None
            out = [Monomial(x.sign * y.sign, x.coefs + y.coefs, x.mats + y.mats) for x in a for y in b]
        case _:
            out = [Monomial(1, ((node, 1),), ())] if t.is_scalar(node) else [Monomial(1, (), (node,))]
    if out is not None and len(out) > MAX_MONOMIALS:
        return None
    return None if out is None else [_tidy(t, m) for m in out]


def _tidy(t: Typed, m: Monomial) -> Monomial:
    """Drop identities from a product; diag(v)*vector(c) is c*v (a diagonal times ones)."""
    mats = [x for x in m.mats if not t.is_identity(x)] or list(m.mats[:1])
    coefs = list(m.coefs)
    k = 0
    while k + 1 < len(mats):
        d, ones = mats[k], mats[k + 1]
        if (isinstance(d, A.Call) and family_of(d.func) == "diagonal" and not t.type(d.args[0]).is_matrix
                and isinstance(ones, A.Call) and ones.func == "vector"):
            mats[k:k + 2] = [d.args[0]]
            if ones.args[0] != A.Num(1.0):
                coefs.append((ones.args[0], 1))
            continue
        k += 1
    return Monomial(m.sign, tuple(coefs), tuple(mats))


def product(nodes: list) -> A.Expr:
    out = nodes[0]
    for n in nodes[1:]:
        out = A.BinOp("*", out, n)
    return out


def _monomial_ast(m: Monomial) -> A.Expr:
    out = product(list(m.mats)) if m.mats else A.Num(1.0)
    for c, p in m.coefs:
        out = A.BinOp("*" if p > 0 else "/", out, c)
    return out


def _sum_ast(parts: list[tuple[int, A.Expr]]) -> A.Expr:
    out = None
    for sign, node in parts:
        if out is None:
            out = A.Neg(node) if sign < 0 else node
        else:
            out = A.BinOp("+" if sign > 0 else "-", out, node)
    return out


def readings(t: Typed) -> list[tuple[str, Typed]]:
    """The same matrix read three ways, for the proof to try in turn: as written; expanded (every
    product distributed over sums, ``diag(v)*vector(1)`` = v, identities dropped); and expanded
    then collected (monomials B'*M_k*B with the same B gathered into B'*(Σ M_k)*B)."""
    out = [("as written", t)]
    monos = _expand(t, t.tree)
    if monos is None or len(monos) < 1:
        return out
    expanded = retype(_sum_ast([(m.sign, _monomial_ast(m)) for m in monos]), t.origin)
    if expanded is not None and expanded.expr.text != t.expr.text:
        out.append(("expanded", expanded))
    groups: dict = {}
    order: list = []
    for m in monos:
        key = None
        if len(m.mats) >= 2 and m.mats[0] == transpose_of(t, m.mats[-1]):
            key = (m.mats[0], m.mats[-1])
        groups.setdefault(key if key is not None else id(m), []).append(m)
        if (key if key is not None else id(m)) not in order:
            order.append(key if key is not None else id(m))
    if all(len(g) == 1 for g in groups.values()):
        return out
    parts = []
    for key in order:
        g = groups[key]
        if len(g) == 1:
            parts.append((g[0].sign, _monomial_ast(g[0])))
            continue
        first, last = key
        middle = _sum_ast([(m.sign, _monomial_ast(Monomial(1, m.coefs, m.mats[1:-1] or (A.Name("eye"),))))
                           for m in g])
        parts.append((1, A.BinOp("*", A.BinOp("*", first, middle), last)))
    collected = retype(_sum_ast(parts), t.origin)
    if collected is not None:
        out.append(("expanded and collected", collected))
    return out
