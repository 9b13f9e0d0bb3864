"""Differentiation on the tensor IR: one rule per node type, in one table.

``differentiate(node, wrt, K)`` returns ∂node/∂wrt as a node whose free indices are the node's
own followed by ``K`` (the indices of the variable ``wrt``, fresh names): exactly the layout of
ARCHITECTURE §1.  Rules are forward mode over the hash-consed DAG, memoised per node, so a
shared subterm is differentiated once; higher orders differentiate the (normalised) result
again with fresh indices.

Symmetric matrices follow the unconstrained convention: ∂W_ij/∂W_kl = δ_ik δ_jl, the plain
partial derivative at a symmetric point (ARCHITECTURE §1); the symmetry is used only to
simplify the result.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from .functions import FUNCTIONS, named, on_change
from .functions.matrix_functions import REAL_POWER
from .language.errors import RicciError
from .ir import build as B
from .ir.nodes import Add, Delta, Elem, Index, MatFun, Mul, Node, Num, Pair, Pow, Size, Stack, Var


class _Diff:
    def __init__(self, name: str, K: tuple[Index, ...], bindings: dict | None = None):
        self.name = name
        self.bindings = bindings or {}
        self.K = tuple(K)
        self.memo: dict[int, Node] = {}
        self._keep: list = []

    def __call__(self, node: Node) -> Node:
        got = self.memo.get(id(node))
        if got is None:
            got = RULES[type(node)](self, node)
            self.memo[id(node)] = got
            self._keep.append(node)
        return got

    def zero(self, node: Node) -> Node:
        return B.zero(node.free + self.K)

    def out(self, node: Node) -> tuple:
        return node.free + self.K


# -- the rules -----------------------------------------------------------------------------------

def d_constant(D: _Diff, node: Node) -> Node:
    """∂c = 0 for numbers, δ, pairings (vec, kron) and sizes."""
    return D.zero(node)


def d_var(D: _Diff, node: Var) -> Node:
    """∂X_ij/∂X_kl = δ_ik δ_jl (any other variable: 0); a repeated index X_ii gives δ_ik δ_il.
    A name bound by ``where`` (x = g(t)) contributes its expression's derivative: the chain rule."""
    if node.name in D.bindings:
        ir, br, bc = D.bindings[node.name]
        d_ir = D(ir)
        mapping = {k: v for k, v in zip([i for i in (br, bc) if i is not None], node.idx)}
        return B.rename(d_ir, mapping)
    if node.name != D.name:
        return D.zero(node)
    return B.mul([B.delta(i, k) for i, k in zip(node.idx, D.K)], D.out(node))


def d_mul(D: _Diff, node: Mul) -> Node:
    """Product rule for the generalised product: ∂(a ·_out b) = ∂a ·_(out+K) b + a ·_(out+K) ∂b."""
    cyclic = _trace_of_power(D, node)
    if cyclic is not None:
        return cyclic
    out = node.free + D.K  # D.out(node), without the call
    terms = []
    fs = node.factors
    name, bindings = D.name, D.bindings
    for k, f in enumerate(fs):
        if type(f) is Var and f.name != name and f.name not in bindings:
            # another variable (W of W*a): its derivative is zero and its term left out, as
            # below, without making the zero first (issue 21: a zero tensor made and dropped
            # for each level of a deep network)
            continue
        # (the trace rule asked only of a matrix function, the one it applies to: a call less)
        df = (_trace_rule(D, f, node) if type(f) is MatFun else None) or D(f)
        # B.is_zero(df) written out (a call less for each factor)
        if (type(df) is Num and df.value == 0.0) or (type(df) is Mul and len(df.factors) == 1 and df.factors[0] is B.ZERO):
            continue
        terms.append(B.mul(list(fs[:k]) + [df] + list(fs[k + 1 :]), out))
    return B.add(terms) if terms else D.zero(node)


#: The shortest trace of a power the cyclic rule takes (tr(X^2) and tr(X^3) keep the product rule).
CYCLIC_MIN = 4


def _trace_of_power(D: _Diff, node: Mul) -> Node | None:
    """∂tr(Y^k) = k tr(Y^(k−1) ∂Y): a product that is one closed chain Σ Y_ab Y_bc … Y_za of k
    copies of one matrix Y (tr(X^k) and tr(X^-k) as parsed: X and inv(X)) is unchanged by
    turning the chain, so the product rule's k terms are one term k times.  Built once, not k
    times over a chain of k (issue 21: tr(X^64) by X took seconds, quadratic in k).  None where
    the product is not such a chain (then the product rule applies)."""
    if node.out:
        return None
    coef, links = _chain_links(node)
    if links is None or len(links) < CYCLIC_MIN:
        return None
    first = links[0]
    after = {f.free[0]: f for f in links}  # Y_ab is followed by the link that starts with b
    if len(after) != len(links) or any(f.free[1] not in after for f in links):
        return None
    chain, f = [first], after[first.free[1]]
    while f is not first and len(chain) <= len(links):
        chain.append(f)
        f = after[f.free[1]]
    if len(chain) != len(links):  # two or more closed chains: tr(X^2)*tr(X^3) is no power
        return None
    df = D(first)
    if B.is_zero(df):
        return D.zero(node)
    return B.mul([B.num(coef * len(links)), df] + chain[1:], D.out(node))


def _chain_links(node: Mul) -> tuple:
    """(the number, the factors) of a product opened up: the products nested in it (the IR
    keeps a long product's links nested, ir/build.py's FLATTEN_LIMIT) spliced in, with their
    summed indices renamed apart.  The factors are (number, None) unless each carries two
    indices (a matrix's entries) and all have one signature (one matrix).  Linear in the
    number of factors: the names are mapped on the way down and each factor renamed once."""
    coef, links, sig = 1.0, [], None
    stack = [(node, {})]
    while stack:
        m, names = stack.pop()
        if not set(m.out) <= {i for f in m.factors for i in f.free}:
            return coef, None  # a broadcast (a product with ones)
        inner = dict(names)
        for b in B._bound_of(m):
            inner[b] = B.fresh(b.dim)
        for f in m.factors:
            if isinstance(f, Num):
                coef *= f.value
            elif isinstance(f, Mul):
                # its own indices are the ones it shows its parent, renamed as the parent's are
                stack.append((f, {o: inner.get(o, o) for o in f.out}))
            elif len(f.free) == 2 and f.free[0] != f.free[1] and sig in (None, f.sig):
                sig = f.sig
                links.append(B.rename(f, {i: inner[i] for i in f.free if i in inner}))
            else:
                return coef, None
    return coef, links


def d_add(D: _Diff, node: Add) -> Node:
    """∂ Σ terms = Σ ∂terms."""
    return B.add([D(t) for t in node.terms])


def d_elem(D: _Diff, node: Elem) -> Node:
    """Chain rule, entry by entry: ∂f(A)_ij = f′(A_ij) ∂A_ij (a Hadamard product with ∂A)."""
    da = D(node.arg)
    # B.is_zero(da) and D.out(node) written out: two calls less for each function of a deep
    # network (issue 21).  elementwise_derivative stays a call: it is the one place each
    # function's rule is applied, which tools/oracle_runs.RuleCoverage counts
    if (type(da) is Num and da.value == 0.0) or (type(da) is Mul and len(da.factors) == 1 and da.factors[0] is B.ZERO):
        return D.zero(node)
    return B.mul([elementwise_derivative(node.func, node.arg), da], node.free + D.K)


def d_pow(D: _Diff, node: Pow) -> Node:
    """∂(a^p) = p a^(p−1) ∂a + a^p log(a) ∂p (the second term only when p depends on wrt)."""
    a, p = node.base, node.exp
    out = D.out(node)
    terms = []
    da = D(a)
    if not B.is_zero(da):
        pm1 = B.add([p, B.const(-1.0, p.free)])
        terms.append(B.mul([p, B.power(a, pm1), da], out))
    dp = D(p)
    if not B.is_zero(dp):  # u^v = exp(v log u): the power rule itself names log
        terms.append(B.mul([node, B.elem("log", a), dp], out))
    return B.add(terms) if terms else D.zero(node)


def d_matfun(D: _Diff, node: MatFun) -> Node:
    """inv: ∂inv(A)_pq = −inv(A)_pa ∂A_ab inv(A)_bq  (Matrix Cookbook (59));
    det: ∂det(A) = det(A) inv(A)_ba ∂A_ab  (46);  logdet: ∂logdet(A) = inv(A)_ba ∂A_ab  (57)."""
    got = _d_argument(D, node)
    if got is None:
        return D.zero(node)
    dA, a, b = got
    arg, r, c = node.arg, node.r, node.c
    fn = FUNCTIONS[node.func]
    if fn.family == "analytic":
        return _d_analytic(D, node, fn, dA, a, b)
    if fn.family == "frechet":  # the Fréchet tensor itself depends on the variable
        raise RicciError(f"the derivative of {fn.name} (the Fréchet derivative of {fn.frechet}) by a "
                         f"variable it depends on is not available: ricci gives derivatives of {fn.frechet} "
                         "of order 2 only through the trace rule (tr(expm(X)))")
    if fn.family == "spectral":
        return B.mul([_spectral(fn, node, a, b), dA], D.out(node))
    inv = named("inverse")
    if fn.family == "inverse":
        p, q = node.out
        left = B.matfun(inv, arg, r, c, (p, a))
        right = B.matfun(inv, arg, r, c, (b, q))
        return B.neg(B.mul([left, dA, right], D.out(node)))
    inv_ba = B.matfun(inv, arg, r, c, (b, a))
    factors = [inv_ba, dA] + ([node] if fn.times_value else [])  # the table's: det (46), logdet (57)
    return B.mul(factors, D.out(node))


def _d_argument(D: _Diff, node: MatFun) -> tuple | None:
    """(∂A_ab, a, b): the derivative of a matrix function's argument A with its row and column
    renamed to fresh indices a, b; None where it is zero."""
    dA = D(node.arg)
    if B.is_zero(dA):
        return None
    a, b = B.fresh(node.r.dim), B.fresh(node.c.dim)
    return B.rename(dA, {node.r: a, node.c: b}), a, b


def _spectral(fn, node: MatFun, a: Index, b: Index) -> Node:
    """A spectral function's rule, from its entry: ∂lambda_max(S)/∂S_ab = u_a u_b with
    u = eigvec_max(S) (Hellmann–Feynman), ∂eig(S)_i/∂S_ab = Q_ai Q_bi, ∂‖X‖_2 = u1 v1', …"""
    if fn.spectral_derivative is None:  # an eigen- or singular vector: its own derivative is not given
        raise RicciError(f"the derivative of {fn.name} (an eigen- or singular vector, or a resolvent) is not "
                         "available: ricci gives the first derivative of the spectral functions (eig, svd, "
                         "spectral_norm, nuclear_norm) and the first two of lambda_max and lambda_min")
    return fn.spectral_derivative(B, node, a, b)


def _trace_rule(D: _Diff, f: Node, node: Mul) -> Node | None:
    """The trace rule: Σ_p ∂f(X)_pp = f′(X)_ba ∂X_ab, i.e. ∂tr(f(X))/∂X = f′(X)' (the table's
    ``prime``), for a matrix function whose diagonal this product sums and nothing else reads.
    None where it does not apply (the product rule then differentiates f(X) as it stands)."""
    if not (isinstance(f, MatFun) and len(f.out) == 2 and f.out[0] == f.out[1]):
        return None
    fn = FUNCTIONS[f.func]
    p = f.out[0]
    if fn.family != "analytic" or p in node.out or any(p in g.free for g in node.factors if g is not f):
        return None
    power = _real_power(f)
    if power is not None:  # tr(Y^q), Y^q = expm(q*logm(Y)) as parsed: the trace rule of y^q
        return _trace_rule_of_power(D, *power)
    got = _d_argument(D, f)
    if got is None:
        return D.zero(f)
    dA, a, b = got
    # the diagonal's index p is summed here: the result no longer carries it
    return B.mul([fn.prime(B, f.arg, f.r, f.c, (b, a)), dA], D.K)


def _real_power(f: MatFun) -> tuple | None:
    """(q, the logm node) when ``f`` is expm(q*logm(Y)), Y^q for a real q as parsed, else None."""
    exp_, log_ = REAL_POWER
    arg = f.arg
    if f.func != exp_ or not isinstance(arg, Mul) or len(arg.factors) != 2:
        return None
    q, g = arg.factors
    if isinstance(q, Num) and isinstance(g, MatFun) and g.func == log_ and g.out == (f.r, f.c):
        return q.value, g
    return None


def _trace_rule_of_power(D: _Diff, q: float, g: MatFun) -> Node:
    """∂tr(Y^q) = q tr(Y^(q−1) dY): Y^q is the matrix function y ↦ y^q of Y, so the trace rule
    holds with f′(Y) = q Y^(q−1) = q expm((q−1)*logm(Y)), not a Fréchet operator of logm."""
    got = _d_argument(D, g)
    if got is None:
        return B.zero(D.K)
    dY, a, b = got
    exp_, log_ = REAL_POWER
    i, j = B.fresh(g.r.dim), B.fresh(g.c.dim)
    inner = B.mul([B.num(q - 1.0), B.matfun(log_, g.arg, g.r, g.c, (i, j))], (i, j))
    return B.mul([B.num(q), B.matfun(exp_, inner, i, j, (b, a)), dY], D.K)


def _d_analytic(D: _Diff, node: MatFun, fn, dA: Node, a: Index, b: Index) -> Node:
    """∂f(X)_pq = L_f(X, ∂X)_pq: the Fréchet derivative, a four-index tensor T_pq,ab (the
    table's Fréchet entry) contracted with ∂X_ab; where ∂X commutes with X (expm(t*A) by a
    scalar t: ∂X = A) the scalar chain rule, (∂X f′(X))_pq."""
    p, q = node.out
    arg, r, c = node.arg, node.r, node.c
    if not D.K and _commutes(arg, B.rename(dA, {a: r, b: c})):
        s = B.fresh(r.dim)
        return B.mul([B.rename(dA, {a: p, b: s}), fn.prime(B, arg, r, c, (s, q))], D.out(node))
    tensor = B.matfun(fn.frechet, arg, r, c, (p, q, a, b))
    return B.mul([tensor, dA], D.out(node))


def _matrix_part(node: Node) -> tuple:
    """The factors of ``node`` that carry indices (a product's scalars left out)."""
    if isinstance(node, Mul):
        return tuple(f for f in node.factors if f.free)
    return (node,) if node.free else ()


def _commutes(arg: Node, d_arg: Node) -> bool:
    """∂X commutes with X: both are scalars times the same matrix (t*A and A), or ∂X is a
    multiple of the identity."""
    dm = _matrix_part(d_arg)
    if len(dm) == 1 and isinstance(dm[0], Delta):
        return True
    am = _matrix_part(arg)
    return bool(dm) and dm == am and (not isinstance(arg, Mul) or not isinstance(d_arg, Mul)
                                      or arg.out == d_arg.out)


def d_stack(D: _Diff, node: Stack) -> Node:
    """A literal is differentiated entry by entry."""
    return B.stack([D(e) for e in node.entries], node.axes)


RULES: dict[type, Callable] = {
    Num: d_constant,
    Size: d_constant,
    Delta: d_constant,
    Pair: d_constant,
    Var: d_var,
    Mul: d_mul,
    Add: d_add,
    Elem: d_elem,
    Pow: d_pow,
    MatFun: d_matfun,
    Stack: d_stack,
}


# -- elementwise derivatives from the function table -----------------------------------------------

@lru_cache(maxsize=None)
def _formula(func: str) -> Node:
    """The IR of f′(u) for a scalar placeholder u, from the table's formula text."""
    from .language.expression import parse_typed
    from .lower import lower

    text = FUNCTIONS[func].derivative
    e = parse_typed(text, forced={"u": "scalar"})  # forced, not declared: "0" does not use u
    return lower(e).node


on_change(_formula.cache_clear)  # a function added or removed: its formula is parsed anew


def elementwise_derivative(func: str, arg: Node) -> Node:
    """f′ applied entry by entry to ``arg``: the formula's scalar ops lifted to arg's indices."""
    return _lift(_formula(func), arg)


def _lift(f: Node, arg: Node) -> Node:
    free = arg.free
    match f:
        case Num():
            return f
        case Var(name="u"):
            return arg
        case Mul():
            # loops with the leaves lifted in place, not a comprehension and a call per factor
            # (issue 21: each elementwise function of a deep network lifts its derivative)
            lifted = []
            for g in f.factors:
                lifted.append(g if type(g) is Num else arg if type(g) is Var and g.name == "u" else _lift(g, arg))
            return B.mul(lifted, free)
        case Add():
            terms = []
            for t in f.terms:
                # _lift_full(t, arg) written out, a number lifted in place (issue 21)
                lt = t if type(t) is Num else _lift(t, arg)
                terms.append(lt if set(lt.free) == set(free) else B.mul([lt], free))
            return B.add(terms)
        case Elem():
            g = f.arg
            return B.elem(f.func, g if type(g) is Num else arg if type(g) is Var and g.name == "u" else _lift(g, arg))
        case Pow():
            g, h = f.base, f.exp
            return B.power(g if type(g) is Num else arg if type(g) is Var and g.name == "u" else _lift(g, arg),
                           h if type(h) is Num else arg if type(h) is Var and h.name == "u" else _lift(h, arg))
    raise TypeError(f"cannot lift {f!r}")  # pragma: no cover


def _lift_full(t: Node, arg: Node) -> Node:
    """A lifted term broadcast to arg's indices (a constant term of 1 − u² must have them too)."""
    lt = _lift(t, arg)
    return lt if set(lt.free) == set(arg.free) else B.mul([lt], arg.free)


# -- entry points ------------------------------------------------------------------------------------

def differentiate(node: Node, name: str, K: tuple[Index, ...], bindings: dict | None = None) -> Node:
    """∂node/∂(variable ``name`` with indices K); free indices: node.free + K."""
    return _Diff(name, K, bindings)(node)


def differentiate_list(node: Node, names: list[str], axis: Index, bindings: dict | None = None) -> Node:
    """The row of partials ∂node/∂(x1, x2, …) for scalar names: a stack along ``axis``."""
    return B.stack([_Diff(n, (), bindings)(node) for n in names], (axis,))
