"""Rules that write a derivative as a textbook does (issue 17), applied before it is displayed.

Each rule is general, not a pattern of one Cookbook answer, and each either holds everywhere
(the value is the same at every point, 0 included) or is kept only where it shortens:

* **quotients of equal factors** cancel over summed indices too (s./s.*(1 − s) is 1 − s);
* **sign**: sign(u)^(2k+1) = sign(u); u·sign(u) = abs(u); an even power of sign(u) beside a
  factor that is 0 wherever u is (abs(u)^a, u^a, a > 0) is 1 there and 0·… = 0 where u = 0, so
  abs(u)·sign(u)^2 = abs(u) everywhere (sign(u)^2 alone is not 1 at 0, and stays);
* **expansion**: a sum whose terms are products of sums, multiplied out, where some monomials
  cancel to nothing and the sum gets shorter: s(1 − y) − y(1 − s) is s − y (monomials that
  only collect, s(1 − s)^2 − (1 − s)s^2 into s − 3s^2 + 2s^3, leave the factored form);
* **exp of a log**: exp(u + c·log(P)) is exp(u)·P^c (P > 0);
* **a broadcast multiplied out**: diag(p)*(eye - vector(1)*p') is diag(p) - p*p';
* **common denominator**: terms sharing a base D to negative powers, written over the highest
  power of D with the numerator multiplied out, where its terms cancel likewise and that is
  shorter: 1/(a + x) − x/(a + x)^2 is a/(a + x)^2;
* **a lone 1/(1 + exp(z))** is sigmoid(−z), after :func:`ricci.simplify.rules.sigmoid_rule` has
  paired every exp(z) of a product with it;
* **bindings folded** (:func:`fold_bindings`): a ``where``-bound expression inside the answer is
  its name in the IR too, so that cos(t)/x1 with x1 = cos(t) cancels to 1 (the raiser showed
  it as x1/x1).

"Shorter" is the number of nodes of the tree (shared subterms counted each time they occur, as
the text writes them).
"""

from __future__ import annotations

import itertools
import weakref

from ..functions import textbook_names
from ..ir import build as B
from ..ir.nodes import Add, Delta, Elem, MatFun, Mul, Node, Num, Pair, Pow, Size, Stack, Var
from ..ir.stable import _power_of
from ..ir.traverse import rewrite

N = textbook_names.TEXTBOOK

#: At most this many monomials when a sum is multiplied out (beyond, the rule leaves it).
MAX_MONOMIALS = 32
#: Sums raised to a power up to this are multiplied out ((a + x)^2 in a numerator).
MAX_EXPANDED_POWER = 3
#: How many levels of products inside products ``monomials`` distributes (see there).
MAX_DISTRIBUTED = 2


# -- sign ------------------------------------------------------------------------------------------
def _vanishes_with(f: Node, u: Node) -> bool:
    """Whether the factor f is 0 wherever u is: abs(u)^a or u^a with a > 0."""
    base, e = _power_of(f)
    return e > 0 and (base is u or isinstance(base, Elem) and base.func == N.abs and base.arg is u)


def sign_rule(node: Node) -> Node:
    """sign(u)^(2k+1) → sign(u); u·sign(u) → abs(u); sign(u)^(2k) beside abs(u)^a or u^a → 1."""
    if isinstance(node, Pow) and isinstance(node.exp, Num) and isinstance(node.base, Elem) \
            and node.base.func == N.sign and float(node.exp.value).is_integer() and node.exp.value > 1 \
            and int(node.exp.value) % 2 == 1:
        return node.base
    if not isinstance(node, Mul):
        return node
    fs = list(node.factors)
    for k, f in enumerate(fs):
        # _power_of inline: this runs on every product of the answer (issue 21)
        base, e = (f.base, f.exp.value) if isinstance(f, Pow) and isinstance(f.exp, Num) else (f, 1.0)
        if not (isinstance(base, Elem) and base.func == N.sign and float(e).is_integer() and e > 0):
            continue
        u = base.arg
        others = [g for j, g in enumerate(fs) if j != k]
        if int(e) % 2 == 0 and any(_vanishes_with(g, u) for g in others):
            return sign_rule(B.mul(others, node.out))
        if int(e) % 2 == 1 and u in others:
            others.remove(u)
            return sign_rule(B.mul(others + [B.elem(N.abs, u)], node.out))
    return node


# -- quotients of equal factors ---------------------------------------------------------------------
def cancel_rule(node: Node) -> Node:
    """b^p·b^q with p < 0 < q → b^(p+q), over summed indices too: Σ_a X_ak s_a^-1 s_a (1 − s_a)
    is Σ_a X_ak (1 − s_a).  (The normal form merges powers only over free indices, so that
    Σ_i x_i x_i stays an inner product; a quotient is never one.)"""
    if not isinstance(node, Mul):
        return node
    exps: dict = {}
    negative = False
    for f in node.factors:
        # _power_of inline: this runs on every product of the answer (issue 21)
        base, e = (f.base, f.exp.value) if isinstance(f, Pow) and isinstance(f.exp, Num) else (f, 1.0)
        if not isinstance(base, Num):
            exps.setdefault(base, []).append(e)
            negative = negative or e < 0
    if not negative:
        return node  # no quotient: nothing to merge
    merge = [b for b, es in exps.items() if min(es) < 0 < max(es)]
    if not merge:
        return node
    rest = [f for f in node.factors if _power_of(f)[0] not in merge]
    return B.mul(rest + [B.power(b, B.num(sum(exps[b]))) for b in merge], node.out)


# -- multiplying out -------------------------------------------------------------------------------
def monomials(node: Node, limit: int = MAX_MONOMIALS, depth: int = MAX_DISTRIBUTED) -> list[Node] | None:
    """``node`` multiplied out as a list of terms (sums inside products distributed, small
    integer powers of sums expanded), or None past ``limit`` terms.  Products are distributed
    ``depth`` levels deep only: the rule runs on every sum of the answer, so distributing all the
    way down re-expanded each nested level from every level above it (quadratic in the nesting,
    tests/test_scaling.py); a deeper sum is reached when the rule runs on it."""
    return _distribute(node, limit, depth, _as_is, _multiplied)


def _as_is(f: Node) -> Node:
    return f


def _multiplied(items: tuple, out: tuple) -> Node:
    return B.mul(list(items), out)


def _alone(f: Node) -> tuple:
    return (f,)


def _joined(items: tuple, out: tuple) -> tuple:
    return tuple(f for item in items for f in item)


def _distribute(node: Node, limit: int, depth: int, leaf, product) -> list | None:
    """:func:`monomials`, each monomial made by ``product(items, out)`` of its parts, each part
    by ``leaf``: the products built (B.mul), or only the lists of their factors
    (:func:`_may_cancel` reads those without building them)."""
    if isinstance(node, Add):
        out: list = []
        for t in node.terms:
            got = _distribute(t, limit, depth, leaf, product)
            if got is None or len(out) + len(got) > limit:
                return None
            out.extend(got)
        return out
    if isinstance(node, Pow) and isinstance(node.base, Add) and isinstance(node.exp, Num) \
            and float(node.exp.value).is_integer() and 1 < node.exp.value <= MAX_EXPANDED_POWER:
        # each copy of the base multiplied out, then their products (not B.mul of the copies:
        # that is the power again)
        base = _distribute(node.base, limit, depth, leaf, product)
        n = int(node.exp.value)
        if base is None or len(base) ** n > limit:
            return None
        return [product(c, node.free) for c in itertools.product(base, repeat=n)]
    if not isinstance(node, Mul) or depth == 0:
        return [leaf(node)]
    choices = []
    count = 1
    for f in node.factors:
        got = _distribute(f, limit, depth - 1, leaf, product) if isinstance(f, (Add, Pow)) else [leaf(f)]
        if got is None:
            return None
        count *= len(got)
        if count > limit:
            return None
        choices.append(got)
    if count == 1:
        return [leaf(node)]
    return [product(c, node.out) for c in itertools.product(*choices)]


def _has_sum_factor(term: Node) -> bool:
    return isinstance(term, Mul) and any(isinstance(f, Add) or isinstance(f, Pow) and isinstance(f.base, Add)
                                         for f in term.factors)


def expand_rule(node: Node) -> Node:
    """A sum of products of sums, multiplied out where its terms cancel to something shorter."""
    if not isinstance(node, Add) or not any(_has_sum_factor(t) for t in node.terms):
        return node
    if not _may_cancel(node):
        # (issue 21: each level of logdet(X + inv(X + inv(…))) built its monomials, products as
        # long as the nesting below, to find that none cancels)
        return node
    terms = monomials(node)
    if terms is None:
        return node
    new = B.add(terms)
    return new if _cancelled(new, terms) and new.size < node.size else node


def _may_cancel(node: Add) -> bool:
    """Whether multiplying ``node`` out may cancel something, told without building a monomial:
    False only where :func:`_cancelled` is sure to be False (or :func:`monomials` gives up), so
    that :func:`expand_rule` keeps the sum as it is either way.

    Two monomials cancel only where their products, built by B.mul, are one node.  Each is read
    as the list of its factors (:func:`_distribute`), and summed up as a multiset of atoms
    (:func:`_atoms`: a number, δ or size counts nothing, a product the sum of its factors', a
    power its base's times the exponent, anything else one atom, known by its kind and the
    variables in it, never by its indices), which B.mul keeps: flattening, summing δ away,
    merging powers, splitting a lone square, folding a contraction and the canonical renaming
    only rename indices one to one and regroup factors.  So monomials whose multisets differ
    are different products.  Unsure, hence True: two equal multisets; a literal or pairing
    (B.mul contracts those into sums); a δ that would rename two indices of one factor into one
    (X_ab - X_ba summed with δ_ab is 0); a monomial that is a number times one sum (B.add opens
    it into its terms); a zero coefficient."""
    parts = _distribute(node, MAX_MONOMIALS, MAX_DISTRIBUTED, _alone, _joined)
    if parts is None:
        return False  # monomials() gives up too
    seen = set()
    for factors in parts:
        key = _monomial_key(factors, set(node.free))
        if key is None or key in seen:
            return True
        seen.add(key)
    return False


def _monomial_key(factors: tuple, out: set):
    """The multiset of atoms of the product of ``factors`` over ``out`` as a sorted tuple, or
    None where :func:`_may_cancel` is unsure of this product."""
    total: dict = {}
    coef = 1.0
    # index → another that a δ summed away renames it to or from (a union-find; a δ of two out
    # indices stays as it is)
    deltas: dict = {}
    shown: list = []  # every factor B.mul may keep, nested products' own included

    def find(i):
        while deltas.get(i, i) != i:
            i = deltas[i]
        return i

    stack = list(factors)
    while stack:
        f = stack.pop()
        if isinstance(f, Num):
            coef *= f.value
        elif isinstance(f, Mul):
            # B.mul flattens it or keeps it as one factor, whose indices a δ renames (its own
            # δs are read too: more joined indices, more "unsure")
            if not B._flattenable(f):
                shown.append(f)
            stack.extend(f.factors)
        elif isinstance(f, Delta):
            if f.i == f.j:
                return None
            if f.i in out and f.j in out:
                continue
            a, b = find(f.i), find(f.j)
            if a != b:
                deltas[a] = b
        else:
            shown.append(f)
        atoms = _atoms(f)
        if atoms is None:
            return None
        if not isinstance(f, Mul):
            for atom, e in atoms:
                total[atom] = total.get(atom, 0.0) + e
    if coef == 0.0:
        return None
    if deltas:
        for f in shown:
            roots = [find(i) for i in f.free]
            if len(set(roots)) < len(set(f.free)):
                return None
    key = tuple(sorted((a, e) for a, e in total.items() if e != 0.0))
    if len(key) == 1 and key[0][0][0] == "Add" and key[0][1] == 1.0:
        return None
    return key


#: node → its atoms (:func:`_atoms`), kept weakly: nodes are immutable and hash-consed, and the
#: inner levels of a nested answer are read again from every level above
_ATOMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: node → the names of the variables in it
_VARIABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _atoms(node: Node):
    """The multiset of atoms of ``node`` as a product (:func:`_may_cancel`) as a tuple of (atom,
    exponent), or None for a literal or a pairing (B.mul contracts those)."""
    got = _ATOMS.get(node)
    if got is None:
        if isinstance(node, (Stack, Pair)):
            got = None
        elif isinstance(node, (Num, Delta, Size)):
            got = ()
        elif isinstance(node, Mul):
            total: dict = {}
            for f in node.factors:
                atoms = _atoms(f)
                if atoms is None:
                    total = None
                    break
                for atom, e in atoms:
                    total[atom] = total.get(atom, 0.0) + e
            got = None if total is None else tuple(total.items())
        elif isinstance(node, Pow) and isinstance(node.exp, Num):
            base = _atoms(node.base)
            got = None if base is None else tuple((atom, e * node.exp.value) for atom, e in base)
        else:
            got = (((type(node).__name__, _variables(node)), 1.0),)
        _ATOMS[node] = got if got is not None else False
        return got
    return got if got is not False else None


def _variables(node: Node) -> tuple:
    """The names of the variables in ``node``, sorted."""
    got = _VARIABLES.get(node)
    if got is None:
        if isinstance(node, Var):
            got = (node.name,)
        else:
            got = tuple(sorted({n for c in node.children() for n in _variables(c)}))
        _VARIABLES[node] = got
    return got


def _cancelled(total: Node, terms: list) -> bool:
    """Whether some of ``terms`` cancel to nothing in their sum (s·y − y·s): multiplying out that
    cancels nothing only moves the text around (s(1 − s)^2 − (1 − s)s^2 collected to
    s − 3s^2 + 2s^3 is no shorter than the factored s(1 − s)(1 − 2s) that follows)."""
    if B.is_zero(total):
        return True
    kept = total.terms if isinstance(total, Add) else (total,)
    return len({B._split_coef(t)[1] for t in terms}) > len(kept)


def _broadcast(term: Node, free: tuple, others: set) -> bool:
    """Whether ``term`` of a sum over ``free`` is constant along one of those indices (a product
    whose out index no factor carries, or a term without it): the raiser writes it with
    vector(1) (eye - vector(1)*p').  A constant is none: 1 - t.^2 needs no vector(1)."""
    if B.const_value(term) is not None:
        return False
    # (a vector along one index of a matrix; a scalar beside a vector, x - b, reads as it is)
    carried = {i for f in term.factors for i in f.free} if isinstance(term, Mul) else set(term.free)
    return any(i in carried for i in free) and any(i not in carried and i in others for i in free)


def broadcast_rule(node: Node) -> Node:
    """a·(δ − b), where a term of the sum is constant along an index that another factor
    carries, multiplied out: diag(p)*(eye - vector(1)*p') is diag(p) - p*p'."""
    if not isinstance(node, Mul):
        return node
    for k, f in enumerate(node.factors):
        if not isinstance(f, Add):
            continue
        others = [g for j, g in enumerate(node.factors) if j != k]
        carried = {i for g in others for i in g.free}
        if any(_broadcast(t, f.free, carried) for t in f.terms):
            return B.add([B.mul(others + [t], node.out) for t in f.terms])
    return node


def exp_log_rule(node: Node) -> Node:
    """exp(u + c·log(P)) → exp(u)·P^c for P > 0: exp(x - log(sum(exp(x)))) is
    exp(x)/sum(exp(x)), which the display names softmax(x)."""
    if not (isinstance(node, Elem) and node.func == N.exp and isinstance(node.arg, Add)):
        return node
    rest, powers = [], []
    for t in node.arg.terms:
        # (c·log(P), broadcast over u's indices: the factors c and log(P) of a product)
        c, g = 1.0, t
        if isinstance(t, Mul) and (len(t.factors) == 1 or len(t.factors) == 2 and isinstance(t.factors[0], Num)):
            c = t.factors[0].value if len(t.factors) == 2 else 1.0
            g = t.factors[-1]
        if isinstance(g, Elem) and g.func == N.log and B.positive(g.arg):
            powers.append(B.power(g.arg, B.num(c)))
        else:
            rest.append(t)
    if not powers or not rest:
        return node
    return B.mul([B.elem(N.exp, B.add(rest))] + powers, node.free)


# -- a common denominator ----------------------------------------------------------------------------
def _denominators(term: Node) -> dict:
    """{base: k} for the factors base^-k (k > 0 an integer) of a term."""
    fs = term.factors if isinstance(term, Mul) else (term,)
    out = {}
    for f in fs:
        base, e = _power_of(f)
        if e < 0 and float(e).is_integer() and not isinstance(base, Num):
            out[base] = out.get(base, 0) - int(e)
    return out


def common_denominator_rule(node: Node) -> Node:
    """Σ_t n_t / D^k_t → (Σ_t n_t D^(k − k_t)) / D^k, k the largest k_t, the numerator multiplied
    out: kept where that is shorter (the numerator's terms cancel)."""
    if not isinstance(node, Add):
        return node
    dens = [_denominators(t) for t in node.terms]
    counts: dict = {}
    for d in dens:
        for base in d:
            counts[base] = counts.get(base, 0) + 1
    best = node
    for base in sorted((b for b, n in counts.items() if n > 1), key=lambda b: b.sig):
        if not set(base.free) <= set(node.free):
            continue  # a denominator inside a summation is not one of the whole sum
        k = max(d.get(base, 0) for d in dens)
        numer = []
        for t in node.terms:
            got = monomials(B.mul([t, B.power(base, B.num(float(k)))], node.free))
            if got is None:
                break
            numer.extend(got)
        else:
            top = B.add(numer)
            new = B.mul([top, B.power(base, B.num(-float(k)))], node.free)
            if _cancelled(top, numer) and new.size < best.size:
                best = new
    return best


# -- a lone 1/(1 + exp(z)) ----------------------------------------------------------------------------
def _one_plus_exp(node: Node):
    """node = 1 + exp(z) (the 1 possibly broadcast) → exp(z), else None (also
    :func:`ricci.simplify.rules.sigmoid_rule`'s)."""
    if isinstance(node, Add) and len(node.terms) == 2:
        a, b = node.terms
        for c, e in ((a, b), (b, a)):
            if B.const_value(c) == 1.0 and isinstance(e, Elem) and e.func == N.exp:
                return e
    return None


def lone_sigmoid_rule(node: Node) -> Node:
    """(1 + exp(z))^-m → sigmoid(−z)^m (1/(1 + exp(−u)) reads sigmoid(u)); applied after the
    rules that pair exp(z) with it in a product, so that none is hidden."""
    if isinstance(node, Pow) and isinstance(node.exp, Num) and node.exp.value < 0:
        e = _one_plus_exp(node.base)
        if e is not None:
            return B.power(B.elem(N.sigmoid, B.neg(e.arg)), B.num(-node.exp.value))
    return node


# -- bindings ---------------------------------------------------------------------------------------
def _binding_var(bindings: dict, node: Node) -> Node | None:
    """The bound name's variable where ``node`` is a ``where``-bound expression (as
    :meth:`ricci.raise_matrix.Raiser._binding` finds it: not a product), else None."""
    if not isinstance(node, (Elem, MatFun, Pow, Add)):
        return None
    for name, (ir, br, bc) in bindings.items():
        if ir is node:
            mapping = {}
        elif ir.sig == node.sig and len(ir.free) == len(node.free) and ir.free:
            mapping = dict(zip(ir.free, node.free))
            if B.rename(ir, mapping) is not node:
                continue
        else:
            continue
        return B.var(name, tuple(mapping.get(i, i) for i in (br, bc) if i is not None))
    return None


def shown_size(node: Node, bindings: dict) -> int:
    """The tree's size with each ``where``-bound expression counted as its name (1)."""
    memo: dict = {}

    def size(n: Node) -> int:
        got = memo.get(id(n))
        if got is None:
            got = 1 if _binding_var(bindings, n) is not None else 1 + sum(size(c) for c in n.children())
            memo[id(n)] = got
        return got

    return size(node)


def fold_bindings(node: Node, bindings: dict) -> Node:
    """``node`` with every ``where``-bound expression replaced by its name's variable."""
    if not bindings:
        return node
    return rewrite(node, lambda n: _binding_var(bindings, n) or n)


def fold_if_shorter(node: Node, bindings: dict, rules) -> Node:
    """``node`` with its bound expressions folded into their names and ``rules`` applied again,
    where that is shorter as shown (x1/x1 cancelled); else ``node`` as it was."""
    if not bindings:
        return node
    folded = fold_bindings(node, bindings)
    if folded is node:
        return node  # no bound expression inside: nothing to apply the rules to again
    folded = rules(folded)
    return folded if shown_size(folded, bindings) < shown_size(node, bindings) else node
