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

from functools import partial

from ..ir import build as B
from ..ir.nodes import Add, Elem, Mul, Node, Num, Pow
from ..ir.traverse import _LEAVES, rewrite
from .textbook import (N, _one_plus_exp, broadcast_rule, cancel_rule, common_denominator_rule, exp_log_rule,
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


#: What a node must hold for a rule to change it, a bit each (read in one loop over a product's
#: factors or a sum's terms, :func:`_apply`): a rule is not called on a node that lacks what it
#: needs (issue 21: every product of a deep answer went through five rules and every sum through
#: three, each looping over the factors or terms to find nothing).  Each bit is implied by its
#: rule's own first tests, so that a rule not called would have given the node back as it is:
#: on a product, a factor that is a power with a negative number for exponent (cancel_rule's
#: quotient, sigmoid_rule's 1/(1 + exp(z))), a sign or a power of one (sign_rule's sign(u)^k), a
#: sum (broadcast_rule's), an exp (exp_sigmoid_rule's exp(−z)); on a power, a negative number for
#: exponent (lone_sigmoid_rule's) or a sign for base (sign_rule's); on a sum, a term that is a
#: product with a sum or a sum's power among its factors (expand_rule's), two terms with a
#: quotient among their factors (common_denominator_rule's shared D), free indices and no term
#: that is a number alone (common_factor_rule's: a number has no factor to share); on an exp, a
#: sum for argument (exp_log_rule's).
_NEG_POW, _SIGN, _SUM, _EXP, _SUM_FACTOR, _QUOTIENTS, _NO_NUMBER, _EXP_OF_SUM = 1, 2, 4, 8, 16, 32, 64, 128
RULE_NEEDS = {cancel_rule: _NEG_POW, sigmoid_rule: _NEG_POW, lone_sigmoid_rule: _NEG_POW, sign_rule: _SIGN,
              broadcast_rule: _SUM, exp_sigmoid_rule: _EXP, expand_rule: _SUM_FACTOR,
              common_denominator_rule: _QUOTIENTS, common_factor_rule: _NO_NUMBER, exp_log_rule: _EXP_OF_SUM}


def _has_negative_power(node: Node) -> bool:
    """Whether a power with a negative number for exponent is anywhere in ``node`` (each shared
    subterm once, children read inline: a loop, no call per node).  Where none is, the late
    pass (:data:`LATE_RULES`: lone_sigmoid_rule, which needs one) would give ``node`` back as
    it is."""
    seen: set = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        t = type(n)
        if t is Mul:
            stack.extend(n.factors)
        elif t is Add:
            stack.extend(n.terms)
        elif t is Pow:
            e = n.exp
            if isinstance(e, Num) and e.value < 0:
                return True
            stack.append(n.base)
            stack.append(e)
        elif t is Elem:
            stack.append(n.arg)
        elif t not in _LEAVES:
            stack.extend(n.children())
    return False


def _apply(n: Node, typed: tuple) -> Node:
    """The rules ``typed`` ((rule, types, bits needed) each) in order on ``n``: a rule may change
    a node's type, so the next rule is chosen by the type it has then, and by what it holds
    then (:data:`RULE_NEEDS`, read again after a rule changed it)."""
    start = 0
    while True:
        # what n holds, inline (a call per node was a third of this pass's calls)
        if isinstance(n, Mul):
            has = 0
            for f in n.factors:
                if isinstance(f, Pow):
                    e, b = f.exp, f.base
                    if isinstance(e, Num) and e.value < 0:
                        has |= _NEG_POW
                    if isinstance(b, Elem) and b.func == N.sign:
                        has |= _SIGN
                elif isinstance(f, Elem):
                    if f.func == N.sign:
                        has |= _SIGN
                    elif f.func == N.exp:
                        has |= _EXP
                elif isinstance(f, Add):
                    has |= _SUM
        elif isinstance(n, Pow):
            e, b = n.exp, n.base
            has = (_NEG_POW if isinstance(e, Num) and e.value < 0 else 0) | (
                _SIGN if isinstance(b, Elem) and b.func == N.sign else 0)
        elif isinstance(n, Add):
            has = _NO_NUMBER if n.free else 0
            quotients = 0
            for t in n.terms:
                product = isinstance(t, Mul)
                number, quotient = True, False
                for f in (t.factors if product else (t,)):
                    if isinstance(f, Num):
                        continue
                    number = False
                    if isinstance(f, Pow):
                        e = f.exp
                        if isinstance(e, Num) and e.value < 0:
                            quotient = True
                        if product and isinstance(f.base, Add):
                            has |= _SUM_FACTOR
                    elif product and isinstance(f, Add):
                        has |= _SUM_FACTOR
                if number:
                    has &= ~_NO_NUMBER
                quotients += quotient
            if quotients > 1:
                has |= _QUOTIENTS
        elif isinstance(n, Elem):
            has = _EXP_OF_SUM if n.func == N.exp and isinstance(n.arg, Add) else 0
        else:
            has = -1  # every rule that takes a node of this type is called
        for k in range(start, len(typed)):
            rule, types, need = typed[k]
            if isinstance(n, types) and (not need or has & need):
                got = rule(n)
                if got is not n:
                    n, start = got, k + 1
                    break
        else:
            return n


def display_rules(node: Node, tensor: bool = False) -> Node:
    """The rules applied bottom-up; for a ``tensor`` (shown in index notation, where a
    broadcast costs nothing) without the one that multiplies a broadcast out."""
    early = tuple(r for r in RULES if r is not broadcast_rule) if tensor else RULES
    for rules in (early, LATE_RULES):
        if rules is LATE_RULES and not _has_negative_power(node):
            break  # lone_sigmoid_rule would change nothing: no pass over the answer for it
        typed = tuple((rule, RULE_TYPES.get(rule, object), RULE_NEEDS.get(rule, 0)) for rule in rules)

        apply = partial(_apply, typed=typed)  # (a partial: no call of its own per node)
        types = tuple(dict.fromkeys(t for _, ts, _ in typed for t in (ts if isinstance(ts, tuple) else (ts,))))
        node = rewrite(node, apply, None if object in types else types)
    return node
