"""Stable forms: compositions that floating point gets wrong as written, and what ricci computes
instead (docs/numerics.md).

``log(1 + exp(u))`` is right on paper and inf at u = 800; ``softplus(u)`` is the same function
and exact there.  Each rule of :data:`RULES` names such a composition and the functions of the
table (ricci.functions) that compute it stably; every evaluator and every code backend applies
the same rules, so that they cannot disagree:

* on the matrix AST (this module's :func:`match`): ``ricci.evaluate`` (ricci.evaluation) and the
  generated code of a value or of an answer with a matrix form (ricci.codegen.from_matrix);
* on the index IR (ricci.ir.stable): ``d.evaluate`` and the generated code of an answer in index
  notation (ricci.codegen.from_index).

The stable evaluation of each function itself (softplus through logaddexp, sigmoid through
tanh, logsumexp shifted by its maximum) is its table entry's ``numpy``/``xp``/``code``.  The
evaluator that a check compares with (ricci.numeric_check.ArrayEvaluator) reads the expression
as written, on purpose: a flaw of the stable forms cannot hide behind itself; only where f as
written is not finite (exp(800) in log(1 + exp(x))) does the check read f through these rules
(numeric_check.check_at), never the derivative's (ricci.ir.stable).
"""

from __future__ import annotations

from dataclasses import dataclass

from .functions import LOGSUMEXP, STABLE as S, lookup
from .language import ast as A

#: rule → (written, computed as, why).  The IR's rules (ricci.ir.stable) carry the same names.
RULES: dict[str, tuple[str, str, str]] = {
    "softplus": ("log(1 + exp(u))", "softplus(u)",
                 "exp overflows at u ≈ 710; softplus(u) = max(u, 0) + log1p(exp(-|u|)) never does"),
    "log_sigmoid": ("log(sigmoid(u))", "-softplus(-u)", "σ(u) underflows to 0 for u below about -745"),
    "log_one_minus_sigmoid": ("log(1 - sigmoid(u))", "-softplus(u)",
                              "1 - σ(u) is 0 once σ(u) rounds to 1 (u above about 37)"),
    "one_minus_sigmoid": ("1 - sigmoid(u)", "sigmoid(-u)", "cancellation: every digit is lost for u > 37"),
    "sigmoid": ("exp(u)/(1 + exp(u)), 1/(1 + exp(u))", "sigmoid(u), sigmoid(-u)",
                "the derivatives of softplus: inf/inf at u = 800 (index form only: the display "
                "already writes sigmoid)"),
    "sigmoid_variance": ("sigmoid(u).*(1 - sigmoid(u)), sigmoid(u) - sigmoid(u)^2", "sigmoid(u).*sigmoid(-u)",
                         "the Hessian of softplus and logistic losses: 1 - 1 once σ(u) rounds to 1"),
    "log1p": ("log(1 + u)", "log1p(u)", "1 + u rounds away u's digits when |u| is small"),
    "expm1": ("exp(u) - 1", "expm1(u)", "cancellation for small u"),
    "sech2": ("1 - tanh(u)^2", "cosh(u)^-2", "tanh(u) rounds to ±1 for |u| > 19: the derivative of tanh was 0"),
    "norm": ("sqrt(x'*x)", "norm2(x), scaled by max |x| (and (x'*x)^p in index form)",
             "x'*x under- or overflows at entries of 1e-160 or 1e160; the norm does not (d.evaluate, "
             "ricci.evaluate and generated code, matrix and index forms alike)"),
    "logdet": ("log(det(X))", "logdet(X)", "det overflows or underflows for large matrices; slogdet does not"),
    "logsumexp": ("log(sum(exp(u)))", "logsumexp(u)", "shifted by max(u): exp(1000) is inf (ricci.ir.softmax)"),
    "softmax": ("exp(u)/sum(exp(u)), exp(u - logsumexp(u))", "exp(u - max(u))/sum(exp(u - max(u)))",
                "inf/inf at u = 1000; one exp per entry (ricci.ir.softmax finds it in index notation)"),
}


@dataclass(frozen=True)
class Form:
    """``±func(±arg)^power``: the stable form of a matched node, ``arg`` one of its subnodes."""

    rule: str
    func: str
    arg: object
    neg_arg: bool = False
    neg: bool = False
    power: float = 1.0
    #: softmax: func(arg - logsumexp(arg)), transposed when the numerator is exp(u)'
    shifted: bool = False
    transposed: bool = False


def _call_arg_bound(node, func: str, bound=None):
    """u when ``node`` is func(u) (or a name that ``bound`` binds to func(u)), else None."""
    if bound and isinstance(node, A.Name) and node.name in bound:
        node = bound[node.name]
    if node is not None and isinstance(node, A.Call) and node.func == func and len(node.args) == 1:
        return node.args[0]
    return None


def _one(node, other, type_of) -> bool:
    """Whether ``node`` is the number 1, or vector(1)/matrix(1) of ``other``'s type."""
    if isinstance(node, A.Num):
        return node.value == 1.0
    if isinstance(node, A.Call) and node.args and isinstance(node.args[0], A.Num) and node.args[0].value == 1.0:
        fn = lookup(node.func)
        return fn is not None and fn.family == "constant" and type_of(node) == type_of(other)
    return False


def _one_plus(node, type_of):
    """v when ``node`` is 1 + v or v + 1, else None."""
    if isinstance(node, A.BinOp) and node.op == "+":
        if _one(node.left, node.right, type_of):
            return node.right
        if _one(node.right, node.left, type_of):
            return node.left
    return None


def _one_minus(node, type_of):
    """v when ``node`` is 1 - v, else None."""
    if node is not None and isinstance(node, A.BinOp) and node.op == "-" and _one(node.left, node.right, type_of):
        return node.right
    return None


def match(node, type_of, bound=None) -> Form | None:
    """The stable form of ``node`` (a typed matrix AST node; ``type_of`` its expression's), or
    None when it is computed as written.  ``bound``: the expressions of the names that ``where``
    binds (s.*(1 - s) where s = sigmoid(u) is sigmoid(u).*sigmoid(-u))."""
    def _call_arg(n, func):
        return _call_arg_bound(n, func, bound)

    if isinstance(node, A.Name):  # a bound name is its binding's value, computed once
        return None
    if isinstance(node, A.Call):
        arg = _call_arg(node, S.sqrt)
        if (isinstance(arg, A.BinOp) and arg.op == "*" and isinstance(arg.left, A.Transpose)
                and arg.left.arg == arg.right and type_of(arg.right).is_col):
            return Form("norm", S.norm2, arg.right)  # sqrt(x'*x): scaled by max |x|
        arg = _call_arg(node, S.exp)
        if isinstance(arg, A.BinOp) and arg.op == "-" and _call_arg(arg.right, LOGSUMEXP.logsumexp) == arg.left:
            # softmax(u), as the parser writes it: exp(u - max(u))/sum(…), one exp per entry
            return Form("softmax", LOGSUMEXP.exp, arg.left, shifted=True)
        arg = _call_arg(node, S.log)
        if arg is None:
            return None
        v = _one_plus(arg, type_of)
        if v is not None:
            u = _call_arg(v, S.exp)
            return Form("softplus", S.softplus, u) if u is not None else Form("log1p", S.log1p, v)
        v = _one_minus(arg, type_of)
        if v is not None:
            u = _call_arg(v, S.sigmoid)
            if u is not None:
                return Form("log_one_minus_sigmoid", S.softplus, u, neg=True)
            return Form("log1p", S.log1p, v, neg_arg=True)
        u = _call_arg(arg, S.sigmoid)
        if u is not None:
            return Form("log_sigmoid", S.softplus, u, neg_arg=True, neg=True)
        u = _call_arg(arg, S.det)
        if u is not None:
            return Form("logdet", S.logdet, u)
        u = _call_arg(_call_arg(arg, LOGSUMEXP.sum), LOGSUMEXP.exp)
        if u is not None:
            return Form("logsumexp", LOGSUMEXP.logsumexp, u)
        return None
    if isinstance(node, A.BinOp) and node.op in ("/", "./"):
        u = _call_arg(_call_arg(node.right, LOGSUMEXP.sum), LOGSUMEXP.exp)
        top = node.left.arg if isinstance(node.left, A.Transpose) else node.left
        if u is not None and _call_arg(top, LOGSUMEXP.exp) == u:
            return Form("softmax", LOGSUMEXP.exp, u, shifted=True, transposed=top is not node.left)
        return None
    if isinstance(node, A.BinOp) and node.op == ".*":
        for a, b in ((node.left, node.right), (node.right, node.left)):
            u = _call_arg(a, S.sigmoid)
            if u is not None and _call_arg(_one_minus(b, type_of), S.sigmoid) == u:
                return Form("sigmoid_variance", S.sigmoid, u)
        return None
    if isinstance(node, A.BinOp) and node.op == "-":
        v = _one_minus(node, type_of)
        if v is not None:
            u = _call_arg(v, S.sigmoid)
            if u is not None:
                return Form("one_minus_sigmoid", S.sigmoid, u, neg_arg=True)
            if isinstance(v, A.BinOp) and v.op in ("^", ".^") and isinstance(v.right, A.Num) and v.right.value == 2.0:
                u = _call_arg(v.left, S.tanh)
                if u is not None:
                    return Form("sech2", S.cosh, u, power=-2.0)
        if _one(node.right, node.left, type_of):
            u = _call_arg(node.left, S.exp)
            if u is not None:
                return Form("expm1", S.expm1, u)
    return None


def value(form: Form, x, call):
    """The value of ``form`` at its argument's value ``x``, read as ricci.evaluate reads it
    (ricci.evaluation, and numeric_check's array-namespace evaluator); ``call(name, v)`` applies
    the table's function ``name`` (NumPy's, or an array namespace's)."""
    if form.shifted:  # softmax: exp(u - logsumexp(u)), shifted by max(u) inside logsumexp
        out = call(form.func, x - call(LOGSUMEXP.logsumexp, x))
        return out.T if form.transposed else out
    if form.rule == "sigmoid_variance":  # σ(u)·σ(-u): no 1 - σ(u) to cancel
        return call(form.func, x) * call(form.func, -x)
    out = call(form.func, -x if form.neg_arg else x)
    if form.power != 1.0:
        out = out ** form.power
    return -out if form.neg else out
