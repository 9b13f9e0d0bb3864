"""Rewrite rules applied to a derivative before it is displayed (not before it is evaluated).

The normal form of the IR (ricci.ir.build) is about structure; these rules are about the forms
people write.  Each rule is a function of one node returning a node (itself when it does not
apply); :func:`display_rules` applies them bottom-up over the DAG.

* **sigmoid**: exp(z)^k / (1 + exp(z))^m → sigmoid(z)^min(k,m) · …, and a leftover
  1/(1 + exp(z)) is sigmoid(−z); exp(−z)·sigmoid(z) = sigmoid(−z).  This is what turns the
  logistic loss's derivatives into the textbook's σ forms.
* **common elementwise factors**: s − s² → s(1 − s), a sum whose terms are entrywise products
  with a common factor (to its smallest power) is that factor times the sum of the rest.
"""

from __future__ import annotations

from ..ir import build as B
from ..ir.nodes import Add, Elem, Mul, Node, Num, Pow
from ..ir.traverse import rewrite
from .textbook import (_one_plus_exp, broadcast_rule, cancel_rule, common_denominator_rule, exp_log_rule,
                       expand_rule, lone_sigmoid_rule, sign_rule)


def sigmoid_rule(node: Node) -> Node:
    """exp(z)^k (1 + exp(z))^(-m) → sigmoid(z)^j exp(z)^(k-j) sigmoid(-z)^(m-j), j = min(k, m)."""
    if not isinstance(node, Mul):
        return node
    changed = False
    factors = list(node.factors)
    for idx, f in enumerate(factors):
        if not (isinstance(f, Pow) and isinstance(f.exp, Num) and f.exp.value < 0
                and float(f.exp.value).is_integer()):
            continue
        e = _one_plus_exp(f.base)
        if e is None:
            continue
        m = int(-f.exp.value)
        k, where = 0, None
        for j2, g in enumerate(factors):
            if g is e:
                k, where = 1, j2
            elif isinstance(g, Pow) and g.base is e and isinstance(g.exp, Num) and g.exp.value > 0 \
                    and float(g.exp.value).is_integer():
                k, where = int(g.exp.value), j2
        j = min(k, m)
        z = e.arg
        new = []
        if j:
            new.append(B.power(B.elem("sigmoid", z), B.num(j)))
        if k - j:
            new.append(B.power(e, B.num(k - j)))
        if m - j:
            new.append(B.power(B.elem("sigmoid", B.neg(z)), B.num(m - j)))
        drop = {idx} | ({where} if where is not None else set())
        factors = [g for i, g in enumerate(factors) if i not in drop] + new
        changed = True
        break
    if not changed:
        return node
    return sigmoid_rule(B.mul(factors, node.out))


def exp_sigmoid_rule(node: Node) -> Node:
    """exp(−z)·sigmoid(z) → sigmoid(−z) (and exp(z)·sigmoid(−z) → sigmoid(z)), entry by entry."""
    if not isinstance(node, Mul):
        return node
    fs = list(node.factors)
    for i, f in enumerate(fs):
        if not (isinstance(f, Elem) and f.func == "exp"):
            continue
        target = B.neg(f.arg)
        for j, g in enumerate(fs):
            if isinstance(g, Elem) and g.func == "sigmoid" and g.arg is target:
                rest = [h for k, h in enumerate(fs) if k not in (i, j)]
                return exp_sigmoid_rule(B.mul(rest + [B.elem("sigmoid", f.arg)], node.out))
    return node


def _factor_multiset(term: Node):
    """(coefficient, [factor], {base: exponent}) of a term seen as a product."""
    factors = term.factors if isinstance(term, Mul) else (term,)
    coef, parts = 1.0, {}
    for f in factors:
        if isinstance(f, Num):
            coef *= f.value
            continue
        if isinstance(f, Pow) and isinstance(f.exp, Num) and f.exp.value > 0:
            base, e = f.base, f.exp.value
        else:
            base, e = f, 1.0
        parts[base] = parts.get(base, 0.0) + e
    return coef, parts


def _base_key(kv) -> tuple:
    """A pulled factor's place: its structure, then its indices' names (x_i and x_j share a
    signature; a tie left to the set of common factors would follow their hashes, i.e. memory
    addresses, and change between runs)."""
    return kv[0].sig, tuple(i.name for i in kv[0].free)


def common_factor_rule(node: Node) -> Node:
    """Σ_t c_t Π b^e(t,b) with a factor b in every term → b^min_e · Σ_t (the rest).

    Works across summations too (Σ_a X_ai X_aj y_a u_a − Σ_a X_ai X_aj y_a u_a² →
    Σ_a X_ai X_aj y_a u_a (1 − u_a)): the canonical naming gives a shared factor the same bound
    indices in every term, and what is left of each term keeps its own sums inside."""
    if not isinstance(node, Add) or not node.free:
        # Scalar sums are factored in matrix notation (simplify.matrix), which pulls out equal
        # factors only: the lecture writes x2^2*(…) + 2*x1*x2*(…), not x2*(x2*(…) + …).
        return node
    out = node.free
    split = [_factor_multiset(t) for t in node.terms]
    common = set(split[0][1])
    for _, p in split[1:]:
        common &= set(p)
    if not common:
        return node
    powers = {b: min(p[b] for _, p in split) for b in common}
    pulled = [B.power(b, B.num(e)) for b, e in sorted(powers.items(), key=_base_key)]
    if not set(out) <= {i for f in pulled for i in f.free}:
        # What is left would be a tensor the pulled part only scales along some axes
        # (diag(e)*(eye/s - 1*e'/s^2)): worse than the sum as it was.
        return node
    # Indices of the pulled factors: the rests are tensors over them and the outer indices.
    shared = tuple(dict.fromkeys(list(out) + [i for f in pulled for i in f.free]))
    rest_factors = []
    for coef, p in split:
        rest_factors.append([B.num(coef)] + [B.power(b, B.num(e - powers.get(b, 0.0)))
                                             for b, e in p.items() if e != powers.get(b, 0.0)])
    # The sum of the rests runs over the shared indices that some rest actually uses.
    used = {i for fs in rest_factors for f in fs for i in f.free}
    rest_out = tuple(i for i in shared if i in used)
    rests = [B.mul(fs, rest_out) for fs in rest_factors]
    return B.mul(pulled + [B.add(rests)], out)


#: Applied bottom-up in this order.  There is no rule for a lone 1/(1 + exp(z)): applied to a
#: factor before its product is seen it would hide the exp(z) that sigmoid_rule pairs it with.
#: The textbook rules (simplify/textbook.py) come before the factoring: a sum multiplied out
#: or put over one denominator is factored afterwards.
RULES = (exp_log_rule, cancel_rule, sign_rule, broadcast_rule, sigmoid_rule, exp_sigmoid_rule, expand_rule, common_denominator_rule, common_factor_rule)
#: A second pass, once every product has been seen whole (the lone 1/(1 + exp(z)) above).
LATE_RULES = (lone_sigmoid_rule,)


#: The node types each rule can change (it returns any other node as it is): a rule is called
#: only on those (issue 21: nine rules called on every node of a deep answer, leaves included,
#: were a tenth of its display).  A rule missing here is called on every node.
RULE_TYPES = {exp_log_rule: (Elem,), cancel_rule: (Mul,), sign_rule: (Pow, Mul), broadcast_rule: (Mul,),
              sigmoid_rule: (Mul,), exp_sigmoid_rule: (Mul,), expand_rule: (Add,),
              common_denominator_rule: (Add,), common_factor_rule: (Add,), lone_sigmoid_rule: (Pow,)}


def display_rules(node: Node, tensor: bool = False) -> Node:
    """The rules applied bottom-up; for a ``tensor`` (shown in index notation, where a
    broadcast costs nothing) without the one that multiplies a broadcast out."""
    early = tuple(r for r in RULES if r is not broadcast_rule) if tensor else RULES
    for rules in (early, LATE_RULES):
        typed = tuple((rule, RULE_TYPES.get(rule, object)) for rule in rules)
        # a rule may change a node's type: the next rule is chosen by the type it has then
        def apply(n: Node, typed=typed) -> Node:
            for rule, types in typed:
                if isinstance(n, types):
                    n = rule(n)
            return n

        types = tuple(dict.fromkeys(t for _, ts in typed for t in (ts if isinstance(ts, tuple) else (ts,))))
        node = rewrite(node, apply, None if object in types else types)
    return node
