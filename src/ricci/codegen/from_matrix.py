"""Typed matrix AST → compute plan (the compute form of an answer that has a matrix form).

Each AST node becomes a plan node in the natural layout (vectors 1-D), its orientation known
from the node's type.  Products are collected into chains and handed to
:func:`ricci.codegen.chain.product`; a chain with a sum among its factors is also tried with
the product distributed over the sum, and the cheaper of the two is kept by the cost model
(``x'*(A + A')`` computes as ``x @ A + A @ x``: two passes over A instead of forming A + A').
``norm2(u)^2`` is the sum of squares ``u @ u``; ``where`` bindings keep their names.
"""

from __future__ import annotations

from ..functions import LOGSUMEXP, STABLE, lookup
from ..language import ast as A
from ..language.errors import RicciError
from ..evaluation import logsumexp_along
from ..stable import match as match_stable
from .chain import Factor, product
from .plan import Op, Plan, cost
from .shift import shifted_exps

#: At most this many terms in a sum are distributed over, and chains at most this long.
MAX_DISTRIBUTE_TERMS = 4
MAX_DISTRIBUTE_CHAIN = 8


class CodegenError(RicciError):
    """The derivative cannot be written as a Python function (e.g. a variable named like a
    Python keyword)."""

    kind = "codegen error"


class MatrixToPlan:
    """Convert the nodes of one typed :class:`~ricci.language.expression.Expression`."""

    def __init__(self, plan: Plan, expr, dimmap: dict, variables: set, bound: dict | None = None):
        self.plan = plan
        self.expr = expr
        #: dimension names of ``expr`` → dimension names of the original expression
        self.dimmap = dimmap
        self.variables = variables
        #: names bound by ``where`` → their plan nodes
        self.env: dict = dict(bound or {})
        #: names bound by ``where`` → their expressions (ricci.stable.match reads through names)
        self.bound_ast: dict = {}
        #: exp(U) computed shifted along an axis (codegen/shift.py), found when first asked
        self.shifts: dict | None = None

    # -- types ------------------------------------------------------------------------------------
    def dim(self, d):
        if d == 1 or isinstance(d, int):
            return d
        if d not in self.dimmap:
            raise CodegenError(f"the size of dimension {d} is not fixed by any variable")
        return self.dimmap[d]

    def rc(self, node) -> tuple:
        t = self.expr.type_of(node)
        return self.dim(t.rows), self.dim(t.cols)

    def shape(self, node) -> tuple:
        return tuple(d for d in self.rc(node) if d != 1)

    def is_scalar(self, node) -> bool:
        return self.expr.type_of(node).is_scalar

    # -- conversion -------------------------------------------------------------------------------
    def convert(self, node) -> Op:
        p = self.plan
        form = match_stable(node, self.expr.type_of, self.bound_ast)
        if form is not None:  # log(1 + exp(u)) as softplus(u), … (ricci.stable, docs/numerics.md)
            return self._stable(form)
        match node:
            case A.Num(value=v):
                return p.num(v)
            case A.Name(name=n):
                if n in self.env:
                    return self.env[n]
                if n in self.variables:
                    return p.var(n, self.shape(node))
                rows, _ = self.rc(node)
                return p.eye(rows)  # eye / I
            case A.Neg(arg=a):
                if not self.is_scalar(a) and _is_product(a, self):
                    return self.chain(node)
                return p.neg(self.convert(a))
            case A.Transpose(arg=a):
                if _is_product(a, self):
                    return self.chain(node)
                return p.T(self.convert(a))
            case A.BinOp(op="*"):
                return self.chain(node)
            case A.BinOp(op=op, left=left, right=right):
                return self._binop(node, op, left, right)
            case A.Call():
                return self._call(node)
            case A.Literal(rows=rows):
                entries = [self.convert(e) for row in rows for e in row]
                return p.stack(entries, self.shape(node))
            case A.Where(body=body, bindings=bindings):
                for name, e in bindings:
                    self.env[name] = p.let(name, self.convert(e))
                    self.bound_ast[name] = e  # for the stable forms: 1 - s where s = sigmoid(u)
                return self.convert(body)
        raise CodegenError(f"cannot generate code for {type(node).__name__}")

    def _binop(self, node, op, left, right) -> Op:
        p = self.plan
        fn = lookup(left.func) if isinstance(left, A.Call) else None
        squared = fn.plan_squared if fn is not None else None
        if op == "^" and squared is not None and isinstance(right, A.Num) and right.value == 2.0:
            return squared(p, self.convert(left.args[0]))  # ‖u‖² = u·u, without the square root
        a, b = self.convert(left), self.convert(right)
        if op == "+":
            return p.add(a, b)
        if op == "-":
            return p.sub(a, b)
        if op == ".*":
            return p.mul(a, b)
        if op in ("/", "./"):
            return p.div(a, b)
        if op in ("^", ".^"):
            return p.pow(a, b)
        raise CodegenError(f"operator {op}")  # pragma: no cover

    def _stable(self, form) -> Op:
        p = self.plan
        if form.shifted:
            return self._softmax(form.arg, form.transposed)
        if form.rule == "sigmoid_variance":
            return self._sigmoid_variance(self.convert(form.arg))
        x = self.convert(form.arg)
        x = p.neg(x) if form.neg_arg else x
        f = lookup(form.func)
        out = self._elementwise(f.name, x) if f.family == "elementwise" else f.plan(p, x)
        if form.power != 1.0:
            out = p.pow(out, p.num(form.power))
        return p.neg(out) if form.neg else out

    def _elementwise(self, name: str, x) -> Op:
        """f(x), entry by entry.  Where the plan shares exponentials (NumPy-like backends:
        ``plan.shared_exp``), e = exp(-|x|) and v = 1 + e serve softplus and a sigmoid beside
        it: softplus(x) = relu(x) + log1p(e), with log1p(e) as log(v) + (e - (v - 1)), and
        sigmoid(x) = (1 where x ≥ 0, else e)/v.  A logistic loss and its gradient cost one exp
        and one log, as the naive log(1 + exp(x)) and exp(x)/(1 + exp(x)) do, and both are
        exact everywhere (docs/numerics.md)."""
        p = self.plan
        shared = p.shared_exp
        if shared is None or name not in (STABLE.softplus, STABLE.sigmoid):
            return p.func(name, x)
        base = x.args[0] if x.kind == "neg" else x  # |-v| is |v|: sigmoid(v) and softplus(-v) share
        if p.exp_branch:  # NumPy: one block for softplus(x) and sigmoid(x), a branch on max(x)
            if name == STABLE.sigmoid and id(x) not in shared:
                other = shared.get(id(p.neg(x)))  # sigmoid(-x) beside softplus(x): 1/v, or the selection
                if other is not None:
                    return p.make("pick", (other[1],), ("sig_neg",), x.shape)
                return p.func(name, x)  # alone, the table's sigmoid is cheaper
            block = p.make("softplus_block", (x, base), (), x.shape)
            shared[id(x)] = (x, block)  # x kept alive: its id stays unique
            return p.make("pick", (block,), ("sp" if name == STABLE.softplus else "sig",), x.shape)
        if name == STABLE.sigmoid and id(base) not in shared:
            return p.func(name, x)  # alone, the table's sigmoid is cheaper
        e = p.func(STABLE.exp, p.neg(p.func(STABLE.abs, base)))
        shared[id(base)] = (base, e)  # base kept alive: its id stays unique
        one = p.num(1.0)
        v = p.add(one, e)
        if name == STABLE.softplus:
            # v - 1 is exact (v is in [1, 2]) and r = e - (v - 1) is the rounding error of 1 + e,
            # exactly: log1p(e) = log(v) + log1p(r/v), and log(v) + r is that within |r|·e ≤
            # 1.2e-16·e, below 2e-16 of log1p(e) ≥ e·log(2) (log1p(ε) = ε where v = 1); NumPy's
            # log1p costs as much as log and these two passes again (benchmarks/RESULTS.md).
            # The plan never simplifies (1 + e) - 1 to e, which would lose r.
            return p.add(p.add(p.func(STABLE.relu, x), p.func(STABLE.log, v)), p.sub(e, p.sub(v, one)))
        return p.div(p.one_or(x, e), v)

    def _sigmoid_variance(self, x) -> Op:
        # σ(x)·σ(-x), which is e/(1 + e)^2 with e = exp(-|x|): one exp, as the naive
        # σ(x)·(1 - σ(x)), where the plan shares exponentials; else each the backend's own
        p = self.plan
        if p.shared_exp is None:
            return p.mul(p.func(STABLE.sigmoid, x), p.func(STABLE.sigmoid, p.neg(x)))
        e = p.func(STABLE.exp, p.neg(p.func(STABLE.abs, x)))
        below = p.add(p.num(1.0), e)
        return p.div(e, p.mul(below, below))

    def _softmax(self, u, transposed: bool) -> Op:
        # exp(u)/sum(exp(u)) computed as exp(u - logsumexp(u)): the same number, shifted by
        # max(u) inside logsumexp's code, so that u = 1000 gives 1/n and not inf/inf
        p = self.plan
        x = self.convert(u)
        e = p.exp_minus(x, p.shift(x))
        e = p.div(e, p.sum(e))  # exp(x - max)/sum: one exp per entry, shared with logsumexp's plan
        return p.T(e) if transposed else e

    def _call(self, node: A.Call) -> Op:
        p = self.plan
        if node.func == "eye":  # eye(n): the size is in the type
            return p.eye(self.rc(node)[0])
        f = lookup(node.func)
        arg = node.args[0]  # vector(c, n), matrix(c, m, n): the sizes are in the type
        if f.family == "constant":
            return p.full(self.convert(arg), self.shape(node))
        along = logsumexp_along(node)
        if along is not None and self.shape(along[0]) and len(self.shape(along[0])) == 2:
            # log(exp(X)*vector(1)): each row's logsumexp (softmax(X, 2) as parsed), shifted by
            # the row's maximum in its code, as ricci.evaluate computes it
            return p.make("func", (self.convert(along[0]), p.num(float(along[1]))), (LOGSUMEXP.logsumexp,),
                          self.shape(node))
        if node.func == LOGSUMEXP.exp and self._shift(arg) is not None:
            return self._shifted_exp(arg, self._shift(arg))
        x = self.convert(arg)
        if f.family == "elementwise":
            return self._elementwise(f.name, x)
        if f.family == "frechet":  # expm_frechet(X, E): the direction is the second argument
            return f.plan(p, x, self.convert(node.args[1]))
        if f.family == "vectorise":  # the columns stacked; a vector's entries already are
            return x if x.ndim < 2 else p.make("func", (x,), (f.name,), self.shape(node))
        if f.family == "kronecker":  # of two matrices (a vector as its column), then the typed shape
            y = self.convert(node.args[1])
            ab = [v if v.ndim == 2 else p.reshape(v, (v.shape[0] if v.ndim else 1, 1)) for v in (x, y)]
            out = p.make("func", tuple(ab), (f.name,), self.rc(node))
            return out if len(self.shape(node)) == 2 else p.reshape(out, self.shape(node))
        if f.plan is not None:  # the function table's operations for it
            return f.plan(p, x)
        raise CodegenError(f"function {node.func}")  # pragma: no cover

    def _shift(self, u) -> int | None:
        if self.shifts is None:
            self.shifts = shifted_exps(self.expr, self.expr.tree)
        return self.shifts.get(u)

    def _shifted_exp(self, u, axis: int) -> Op:
        # exp(U) as exp(U - l) with l each row's (axis 1) or column's (axis 0) logsumexp: the
        # answer is unchanged (codegen/shift.py proves it), and no entry overflows at U = 1000
        p = self.plan
        x = self.convert(u)
        rows, cols = self.shape(u)
        lse = p.make("func", (x, p.num(float(axis))), (LOGSUMEXP.logsumexp,), (rows,) if axis else (cols,))
        return p.func(LOGSUMEXP.exp, p.sub(x, p.expand(lse, (True, False) if axis else (False, True))))

    # -- products ---------------------------------------------------------------------------------
    def flatten(self, node, transposed: bool, scalars: list, factors: list) -> None:
        """Collect the scalar and matrix factors of a product, in order (under a transpose,
        reversed and each transposed)."""
        match node:
            case A.BinOp(op="*", left=left, right=right):
                parts = [left, right]
                if transposed:
                    parts.reverse()
                for part in parts:
                    if self.is_scalar(part):
                        scalars.append(self.convert(part))
                    else:
                        self.flatten(part, transposed, scalars, factors)
                return
            case A.Transpose(arg=a) if _is_product(a, self):
                self.flatten(a, not transposed, scalars, factors)
                return
            case A.Neg(arg=a) if not self.is_scalar(a):
                scalars.append(self.plan.num(-1.0))
                self.flatten(a, transposed, scalars, factors)
                return
        factors.append((node, transposed))

    def factor(self, node, transposed: bool) -> Factor:
        rows, cols = self.rc(node)
        op = self.convert(node)
        if transposed:
            return Factor(self.plan.T(op), cols, rows)
        return Factor(op, rows, cols)

    def chain(self, node) -> Op:
        scalars: list = []
        factors: list = []
        self.flatten(node, False, scalars, factors)
        return self._chain(scalars, factors).op

    def _chain(self, scalars: list, factors: list) -> Factor:
        plain = product(self.plan, [self.factor(n, t) for n, t in factors], scalars)
        if len(factors) < 2 or len(factors) > MAX_DISTRIBUTE_CHAIN:
            return plain
        # Try distributing over the first factor that is a sum of matrices.
        for k, (n, t) in enumerate(factors):
            terms = _sum_terms(n)
            if terms is None or len(terms) > MAX_DISTRIBUTE_TERMS or self.is_scalar(n):
                continue
            if not self.expr.type_of(n).is_matrix or any(self.is_scalar(t_) for _, t_ in terms):
                continue
            total = None
            for sign, term in terms:
                sub_scalars = list(scalars) + ([self.plan.num(-1.0)] if sign < 0 else [])
                sub_factors = [*factors[:k], (term, t), *factors[k + 1:]]
                part = self._chain_terms(sub_scalars, sub_factors)
                total = part if total is None else Factor(self.plan.add(total.op, part.op), total.rows, total.cols)
            if total is not None and cost(total.op) < cost(plain.op):
                return total
            break
        return plain

    def _chain_terms(self, scalars: list, factors: list) -> Factor:
        # A term substituted for a sum may itself be a product: flatten it into the chain.
        flat: list = []
        for n, t in factors:
            if _is_product(n, self):
                sub: list = []
                inner: list = []
                self.flatten(n, t, sub, inner)
                scalars = scalars + sub
                flat.extend(inner)
            else:
                flat.append((n, t))
        return self._chain(scalars, flat)


def _is_product(node, conv: MatrixToPlan) -> bool:
    match node:
        case A.BinOp(op="*"):
            return True
        case A.Transpose(arg=a):
            return _is_product(a, conv)
        case A.Neg(arg=a):
            return not conv.is_scalar(a) and _is_product(a, conv)
    return False


def _sum_terms(node) -> list | None:
    """The signed terms of a sum (a + b - c), or None when ``node`` is not a sum."""
    match node:
        case A.BinOp(op="+" | "-", left=left, right=right):
            out = _sum_terms(left) or [(1, left)]
            right_terms = _sum_terms(right) or [(1, right)]
            sign = 1 if node.op == "+" else -1
            return out + [(s * sign, t) for s, t in right_terms]
    return None

