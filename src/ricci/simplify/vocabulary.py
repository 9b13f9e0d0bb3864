"""An answer written with the vocabulary people use (issue 17): the last pass over its matrix form.

* **softmax**: exp(u)/sum(exp(u)) and exp(u - logsumexp(u)) read softmax(u) (both are its
  value over all entries), so the Hessian of log(sum(exp(x))) is diag(p) - p*p' where
  p = softmax(x); log(sum(exp(u))) reads logsumexp(u) where the question used logsumexp (or
  softmax, log_softmax: they are written with it);
* **powers of a repeated factor**: k equal factors in a row of a matrix product are F^k, k equal
  transposed ones (F^k)', where that is shorter: inv(X)'*inv(X)'*inv(X)' is (inv(X)^3)'
  (F*F of a variable stays: X*X is no longer than X^2);
* **one transpose for a run of them**: A'*B'*C'*D' is (D*C*B*A)' where that is shorter
  (-inv(X)'*A'*B'*inv(X)' is -(inv(X)*B*A*inv(X))', the Cookbook's form).

Each is the same value entry by entry; the answer's text still parses to an expression that
evaluates (softmax(u) is read as exp(u - logsumexp(u)), F^k as F*…*F).
"""

from __future__ import annotations

from operator import is_

from ..functions import LOGSUMEXP, textbook_names
from ..language import ast as A
from ..language.kinds import MAX_MATRIX_POWER
from ..printing.text import to_text
from .mtypes import M, S
from .objects import objects
from .prods import _chain_of, _chain_parts

SOFTMAX = textbook_names.TEXTBOOK.softmax


def _call(node, func: str, n: int = 1):
    return isinstance(node, A.Call) and node.func == func and len(node.args) == n


def _sum_exp(node):
    """u when node is sum(exp(u)), else None."""
    if _call(node, LOGSUMEXP.sum) and _call(node.args[0], LOGSUMEXP.exp):
        return node.args[0].args[0]
    return None


def _lse(node):
    """u when node is logsumexp(u) or log(sum(exp(u))), else None."""
    if _call(node, LOGSUMEXP.logsumexp):
        return node.args[0]
    if _call(node, LOGSUMEXP.log):
        return _sum_exp(node.args[0])
    return None


def _softmax(node):
    """softmax(u) for exp(u)/sum(exp(u)) (and its transpose), exp(u - logsumexp(u)) and
    exp(u - log(sum(exp(u)))); else None."""
    if isinstance(node, A.BinOp) and node.op == "/":
        top, flip = (node.left.arg, True) if isinstance(node.left, A.Transpose) else (node.left, False)
        u = _sum_exp(node.right)
        if u is not None and _call(top, LOGSUMEXP.exp) and top.args[0] == u:
            s = A.Call(SOFTMAX, (u,))
            return A.Transpose(s) if flip else s
    if _call(node, LOGSUMEXP.exp) and isinstance(node.args[0], A.BinOp) and node.args[0].op == "-":
        u, rest = node.args[0].left, node.args[0].right
        if _lse(rest) == u:
            return A.Call(SOFTMAX, (u,))
    return None


def _power(f, k: int):
    if isinstance(f, A.Transpose):
        return A.Transpose(A.BinOp("^", f.arg, A.Num(float(k))))
    return A.BinOp("^", f, A.Num(float(k)))


def _powers(factors: list, kind_of):
    """``factors`` with runs of equal factors written as powers where each is shorter, or None
    when none is.  Only of a scalar or a matrix: in u'*(x - a)*(x - a) the two x - a are
    vectors, the first contracted with u', and (x - a)^2 means nothing."""
    out, changed, k = [], False, 0
    while k < len(factors):
        j = k
        # (equal only of one type: the test first, not a dataclass's __eq__ called per pair)
        while j + 1 < len(factors) and type(factors[j + 1]) is type(factors[k]) and factors[j + 1] == factors[k]:
            j += 1
        run = j - k + 1
        f = factors[k]
        kind = kind_of(f) if run > 1 and not isinstance(f, A.Num) else None
        if kind in (S, M):
            # a matrix power is read back only up to the language's largest exponent: a longer
            # run is written as powers of at most that many (tr(X^-64) by X has 65 factors
            # inv(X): inv(X)^65 did not parse, and its code, typed from it, failed)
            most = run if kind == S else MAX_MATRIX_POWER
            parts = [_power(f, min(most, run - i)) if min(most, run - i) > 1 else f for i in range(0, run, most)]
            if len(to_text(_chain_of(parts))) < len(to_text(_chain_of([f] * run))):
                out.extend(parts)
                changed = True
                k = j + 1
                continue
        out.extend(factors[k:j + 1])
        k = j + 1
    return out if changed else None


def _transposes(factors: list, kind_of):
    """``factors`` with each run of transposed matrices written as the transpose of the reversed
    product where that is shorter (A'*B'*C'*D' is (D*C*B*A)', one transpose for four), or None
    when none is.  (Not of vectors: a chain that contracts to a scalar midway is no one product.)"""
    out, changed, k = [], False, 0
    Transpose = A.Transpose
    while k < len(factors):
        j = k
        # (_matrix_t inline, a factor's kind asked only of a transpose: no call per factor)
        f = factors[k]
        if isinstance(f, Transpose) and kind_of(f.arg) == M:
            while j + 1 < len(factors):
                g = factors[j + 1]
                if not (isinstance(g, Transpose) and kind_of(g.arg) == M):
                    break
                j += 1
        run = factors[k:j + 1]
        if len(run) > 1:
            t = A.Transpose(_chain_of([f.arg for f in reversed(run)]))
            if len(to_text(t)) < len(to_text(_chain_of(run))):
                out.append(t)
                changed = True
                k = j + 1
                continue
        out.extend(run)
        k = j + 1
    return out if changed else None


def _chain_forms(factors: list, kind_of):
    """The product of ``factors`` with the rules of a chain applied, or None when none applies."""
    changed = False
    for rule in (_powers, _transposes):
        got = rule(factors, kind_of)
        if got is not None:
            factors, changed = got, True
    return _chain_of(factors) if changed else None


def _rebuilt(node, go):
    """A chain that no rule above changed, its factors (``go``) in place and its nesting kept.
    Its left-nested prefixes are not read again as chains of their own: a run in a prefix is
    in a run of the whole at least as long, its first factor (a sign) is the whole's, and a
    longer run is the more worth writing as one power or one transpose, so no rule changes a
    prefix of a chain it left as it was.  (Reading every prefix of W64*diag(…)*W63*… again
    was quadratic in the chain: issue 21.)  A right operand is read as before."""
    # down the left side of the products, then up again: a loop, not a call per link (issue
    # 21), ``go`` of the innermost left operand first, then of each right one, inside out
    spine = []
    while isinstance(node, A.BinOp) and node.op == "*":
        spine.append(node)
        node = node.left
    Name, Num = A.Name, A.Num  # (a name or a number is itself: no call of go)
    out = node if type(node) is Name or type(node) is Num else go(node)
    for link in reversed(spine):
        x = link.right
        out = A.BinOp("*", out, x if type(x) is Name or type(x) is Num else go(x), span=link.span)
    return out


def vocabulary(tree: A.Expr, uses_logsumexp: bool, kind_of) -> A.Expr:
    """``tree`` (an answer, a ``where`` included) with the rules above applied bottom-up;
    ``kind_of`` gives a subterm's kind (simplify.mtypes: S, C, Rw, M)."""
    memo: dict = {}
    Name, Num, BinOp, Call = A.Name, A.Num, A.BinOp, A.Call

    def go(node):
        got = memo.get(id(node))
        if got is not None:
            return got[0]
        t = type(node)
        if isinstance(node, A.Where):
            new = A.Where(go(node.body), tuple((n, go(e)) for n, e in node.bindings))
        elif isinstance(node, A.BinOp) and node.op == "*":
            # the whole chain at once: a run is seen whatever the nesting of the products
            factors = []
            for f in _chain_parts(node):  # (a name or a number is itself: no call of go)
                factors.append(f if type(f) is A.Name or type(f) is A.Num else go(f))
            # -F*F is -(F*F): the sign of the first factor is the chain's
            p, neg = _chain_forms(factors, kind_of), False
            if p is None and isinstance(factors[0], A.Neg):
                neg = True
                p = _chain_forms([factors[0].arg] + factors[1:], kind_of)
            new = _rebuilt(node, go) if p is None else A.Neg(p) if neg else p
        elif t is Name or t is Num:
            new = node
        # A.map_children(node, go), the node itself where no child changed (issue 21: every
        # node of a deep answer copied), the common nodes by their type, inline: no call per
        # node, and a name or a number as its own result, without calling go (what go gives)
        elif t is BinOp:
            x, y = node.left, node.right
            left = x if type(x) is Name or type(x) is Num else go(x)
            right = y if type(y) is Name or type(y) is Num else go(y)
            new = node if left is x and right is y else BinOp(node.op, left, right, span=node.span)
        elif t is Call:
            if len(node.args) == 1:  # (most calls: no list made by a comprehension's call)
                x = node.args[0]
                y = x if type(x) is Name or type(x) is Num else go(x)
                new = node if y is x else Call(node.func, (y,), span=node.span)
            else:
                args = tuple([go(a) for a in node.args])
                new = node if all(map(is_, args, node.args)) else Call(node.func, args, span=node.span)
        elif t is A.Transpose or t is A.Neg:
            x = node.arg
            arg = x if type(x) is Name or type(x) is Num else go(x)
            new = node if arg is x else t(arg, span=node.span)
        else:
            new = A.map_children(node, go)
        # (softmax reads only a quotient or an exp: the test inline, not a call per node)
        if (isinstance(new, A.BinOp) and new.op == "/") or (isinstance(new, A.Call) and new.func == LOGSUMEXP.exp):
            new = _softmax(new) or new
        if uses_logsumexp and _call(new, LOGSUMEXP.log):
            u = _sum_exp(new.args[0])
            if u is not None:
                new = A.Call(LOGSUMEXP.logsumexp, (u,))
        memo[id(node)] = (new, node)
        return new

    return go(tree)


def uses_logsumexp(tree: A.Expr) -> bool:
    """Whether a question's tree calls logsumexp (softmax and log_softmax are written with it)."""
    name = LOGSUMEXP.logsumexp
    for n in objects(tree):  # each object once, no call per node (issue 21)
        if type(n) is A.Call and n.func == name and len(n.args) == 1:
            return True
    return False
