"""Rewrite rules applied to a derivative before it is displayed (not before it is evaluated).

The normal form of the IR (ricci.ir.build) is about structure; these rules are about the forms
people write.  Each rule is a function of one node returning a node (itself when it does not
apply); :func:`display_rules` applies them bottom-up over the DAG.

* **sigmoid**: exp(z)^k / (1 + exp(z))^m → sigmoid(z)^min(k,m) · …, and a leftover
  1/(1 + exp(z)) is sigmoid(−z).  This is what turns the logistic loss's derivatives into the
  textbook's σ forms.
"""

from __future__ import annotations

from ..ir import build as B
from ..ir.nodes import Add, Elem, Mul, Node, Num, Pow
from ..ir.traverse import rewrite


def _one_plus_exp(node: Node):
    """node = 1 + exp(z) (the 1 possibly broadcast) → exp(z), else None."""
    if not isinstance(node, Add) or len(node.terms) != 2:
        return None
    a, b = node.terms
    for c, e in ((a, b), (b, a)):
        if B.const_value(c) == 1.0 and isinstance(e, Elem) and e.func == "exp":
            return e
    return None


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


def reciprocal_rule(node: Node) -> Node:
    """A lone 1/(1 + exp(z)) (not inside a product) is sigmoid(−z)."""
    if isinstance(node, Pow) and isinstance(node.exp, Num) and node.exp.value == -1.0:
        e = _one_plus_exp(node.base)
        if e is not None:
            return B.elem("sigmoid", B.neg(e.arg))
    return node


#: Applied bottom-up in this order.  reciprocal_rule is not among them: applied to a factor
#: before its product is seen it would hide the exp(z) that sigmoid_rule pairs it with.
RULES = (sigmoid_rule,)


def display_rules(node: Node) -> Node:
    def apply(n: Node) -> Node:
        for rule in RULES:
            n = rule(n)
        return n

    return rewrite(node, apply)
