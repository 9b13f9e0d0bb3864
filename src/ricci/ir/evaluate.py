"""Evaluate IR nodes with NumPy: each node's value is an array with axes in ``node.free`` order.

Products are ``einsum`` calls with an optimised contraction path; shared subterms are computed
once (memo by node).  This is the reference evaluator of every derivative.
"""

from __future__ import annotations

import re
import string

import math

import numpy as np

from .. import limits as _limits
from ..functions import lookup
from ..functions.spectral import SpectrumError
from ..language.errors import BadValueError
from .nodes import Add, Delta, Elem, Index, MatFun, Mul, Node, Num, Pair, Pow, Size, Stack, Var
from .softmax import log_sum_exp, log_sum_exp_along, softmax_factors, softmax_factors_along
from .traverse import nodes

_LETTERS = string.ascii_letters
#: Operands of one call of np.einsum (NumPy 1.x takes at most 32; the ones of a broadcast may be added).
MAX_OPERANDS = 24


class IREvaluator:
    def __init__(self, values: dict, sizes: dict):
        #: values: variable name → ndarray (0-d, 1-d or 2-d)
        self.values = values
        self.sizes = sizes
        self.memo: dict[int, np.ndarray] = {}
        self._keep: list = []
        #: powers whose value left the float range (0 or inf) although the base is finite and
        #: nonzero: node id -> (m, k), the value exactly m * 2**k; only products read it
        self.scaled: dict[int, tuple[np.ndarray, int]] = {}

    def dim(self, d) -> int:
        return d if isinstance(d, int) else self.sizes[d]

    def shape_of(self, free) -> tuple:
        return tuple(self.dim(i.dim) for i in free)

    def value(self, node: Node, order: tuple | None = None) -> np.ndarray:
        """The value with axes in ``order`` (default: node.free)."""
        arr = self._value(node)
        if order is not None and tuple(order) != node.free:
            arr = np.transpose(arr, [node.free.index(i) for i in order])
        return arr

    def _value(self, node: Node) -> np.ndarray:
        key = id(node)
        got = self.memo.get(key)
        if got is not None:
            return got
        budget = _limits.current()
        if budget is not None:  # a check, analysis or plot under a budget: bound every node's array
            budget.check_time()
            budget.check_elements(math.prod(self.shape_of(node.free)), "an intermediate value")
        arr = self._compute(node)
        self.memo[key] = arr
        self._keep.append(node)
        return arr

    def _einsum(self, operands: list[tuple[np.ndarray, tuple]], out: tuple) -> np.ndarray:
        # NumPy's einsum takes a bounded number of operands (32 in NumPy 1.x): a product of more
        # factors (a1*a2*…*a300, inside the limits on inputs) is contracted a group at a time,
        # each group to the indices the rest of the product or its result still needs.
        while len(operands) > MAX_OPERANDS:
            group, rest = operands[:MAX_OPERANDS], operands[MAX_OPERANDS:]
            needed = set(out) | {i for _, idx in rest for i in idx}
            kept = tuple(dict.fromkeys(i for _, idx in group for i in idx if i in needed))
            operands = [(self._einsum(group, kept), kept)] + rest
        letters: dict[Index, str] = {}

        def sub(idx):
            return "".join(letters.setdefault(i, _LETTERS[len(letters)]) for i in idx)

        specs = [sub(idx) for _, idx in operands]
        out_spec = sub(out)
        arrays = [a for a, _ in operands]
        # Indices of out that no operand carries broadcast: multiply by ones over them.
        missing = [i for i in out if not any(i in idx for _, idx in operands)]
        if missing:
            arrays.append(np.ones(self.shape_of(tuple(missing))))
            specs.append(sub(tuple(missing)))
        if not arrays:
            return np.ones(self.shape_of(out))
        expr = ",".join(specs) + "->" + out_spec
        return np.einsum(expr, *arrays, optimize=len(arrays) > 2)

    def _compute(self, node: Node) -> np.ndarray:
        match node:
            case Num():
                return np.asarray(node.value, dtype=float)
            case Size():
                return np.asarray(float(self.dim(node.dim)))
            case Var():
                arr = np.asarray(self.values[node.name], dtype=float)
                if len(set(node.idx)) != len(node.idx):
                    return self._einsum([(arr, node.idx)], node.free)
                return arr
            case Delta():
                return np.eye(self.dim(node.i.dim))
            case Pair():
                # 1 where r = a + size(a)·b: the identity of size(a)·size(b), its columns read as
                # (b, a) in row-major order, then put in the order (r, a, b)
                na, nb = self.dim(node.a.dim), self.dim(node.b.dim)
                full = np.eye(na * nb).reshape(na * nb, nb, na).transpose(0, 2, 1)
                if len(node.free) < 3:  # a repeated index: its diagonal
                    return self._einsum([(full, (node.r, node.a, node.b))], node.free)
                return full
            case Mul():
                shifted = self._softmax_shifted(node)
                if shifted is not None:
                    return shifted
                return self._product(node)
            case Add():
                total = self.value(node.terms[0], node.free).copy()
                for t in node.terms[1:]:
                    total += self.value(t, node.free)
                return total
            case Elem():
                total = log_sum_exp(node)
                if total is not None:  # log Σ exp(v) = m + log Σ exp(v - m), m = max v (logsumexp)
                    v = self._value(total)
                    m = _finite_max(v)
                    if m is not None:
                        return np.asarray(m + np.log(np.sum(np.exp(v - m))))
                along = log_sum_exp_along(node)
                if along is not None:  # each row's logsumexp (logsumexp(X, 2)), shifted by its max
                    shifted = self._shifted_rows(*along)
                    if shifted is not None:
                        v, m, rest = shifted
                        return np.squeeze(m, axis=rest) + np.log(np.sum(np.exp(v - m), axis=rest))
                fn = lookup(node.func)
                return np.asarray(fn.numpy(self._value(node.arg)), dtype=float)
            case Pow():
                scaled = self._scaled_power(node)
                if scaled is not None:
                    return scaled
                free = node.free
                b = self._aligned(node.base, free)
                e = self._aligned(node.exp, free)
                r = np.power(b, e)
                self._note_out_of_range(node, b, e, r)
                return r
            case MatFun():
                a = self.value(node.arg, (node.r, node.c))
                fn = lookup(node.func)  # the table's NumPy form: inv, det, logdet (NaN for det ≤ 0)
                try:
                    m = fn.numpy(a)  # a Fréchet entry of one argument: its four-index tensor
                except SpectrumError as e:  # an eigenvector where the eigenvalue is repeated
                    raise BadValueError(str(e)) from None
                if len(node.out) == 1:  # eig(S), eigvec_max(S), …: a column
                    m = np.asarray(m).reshape(-1)
                if node.out:  # inv, expm, …: a matrix; a Fréchet derivative: a tensor
                    return self._einsum([(m, node.out)], node.free)
                return np.asarray(m).reshape(())
            case Stack():
                inner = node.entries[0].free
                parts = [self.value(e, inner) for e in node.entries]
                arr = np.stack(parts, axis=-1)  # inner..., flat
                arr = arr.reshape(arr.shape[:-1] + tuple(self.dim(a.dim) for a in node.axes))
                return self._einsum([(arr, inner + node.axes)], node.free)
        raise TypeError(node)  # pragma: no cover

    def _shifted_rows(self, u: Node, batch: tuple):
        """u's values with the batch axes first, each batch's finite maximum over the rest
        (keeping those axes, 0 where a batch has none) and the axes summed; None: u has no
        entries."""
        rest = tuple(i for i in u.free if i not in batch)
        v = self.value(u, tuple(batch) + rest)
        if not np.size(v):
            return None
        axes = tuple(range(len(batch), v.ndim))
        with np.errstate(invalid="ignore"):
            m = np.max(v, axis=axes)
        m = np.where(np.isfinite(m), m, 0.0)
        return v, m.reshape(m.shape + (1,) * len(axes)), axes

    def _softmax_shifted_rows(self, node: Mul) -> np.ndarray | None:
        """exp(u_bi)…exp(u_bk) (Σ_j exp(u_bj))^-a along an axis (softmax(X, 2)'s derivatives),
        each row b shifted by its own maximum: the same number, without inf/inf at 1000."""
        found = softmax_factors_along(node)
        if found is None:
            return None
        power, u, batch, tops = found
        shifted = self._shifted_rows(u, batch)
        if shifted is None:
            return None
        v, m, axes = shifted
        below = np.sum(np.exp(v - m), axis=axes) ** power.exp.value
        row = m.reshape(m.shape[:len(batch)])
        operands = []
        for f in node.factors:
            if f is power:
                operands.append((below, tuple(batch)))
            elif any(f is t for t in tops):
                rest = tuple(i for i in f.free if i not in batch)
                top = self.value(f.arg, tuple(batch) + rest)
                operands.append((np.exp(top - row.reshape(row.shape + (1,) * len(rest))), tuple(batch) + rest))
            else:
                operands.append((self._value(f), f.free))
        return self._einsum(operands, node.out)

    def _softmax_shifted(self, node: Mul) -> np.ndarray | None:
        """exp(u_i)…exp(u_k) (Σ_j exp(u_j))^-a (ir/softmax.py) as exp(u_i - m)…(Σ_j exp(u_j -
        m))^-a with m = max u: the same number, without inf/inf at u = 1000."""
        found = softmax_factors(node)
        if found is None:
            return self._softmax_shifted_rows(node)
        power, u, tops = found
        m = _finite_max(self._value(u))
        if m is None:
            return None
        below = np.sum(np.exp(self._value(u) - m)) ** power.exp.value
        operands = []
        for f in node.factors:
            if f is power:
                operands.append((np.asarray(below), ()))
            elif any(f is t for t in tops):
                operands.append((np.exp(self._value(f.arg) - m), f.free))
            else:
                operands.append((self._value(f), f.free))
        return self._einsum(operands, node.out)

    def _scaled_power(self, node: Pow) -> np.ndarray | None:
        """(Σ v²)^p, a power of a sum of squares (norm2 and its derivatives: x (x'x)^-0.5), as
        s^2p (Σ (v/s)²)^p with s = max |v|: the sum under- or overflows at entries of 1e-160 or
        1e160 although the power need not (the 'norm' rule, ricci.stable)."""
        f = squared(node)
        if f is None:
            return None
        v = self._value(f)
        s = float(np.max(np.abs(v))) if np.size(v) else 0.0
        if not 0.0 < s < math.inf:
            return None
        p = node.exp.value
        total = np.sum((v / s) ** 2)
        r = np.asarray(np.power(np.float64(s), 2 * p) * total ** p)  # inf, not OverflowError
        if r == 0.0 or not np.isfinite(r):  # ‖x‖^-3 at 1e155: kept as m * 2**k for the products
            self._keep_scaled(node, 2 * p * math.log2(s) + p * math.log2(float(total)), 1.0)
        return r

    # -- values beyond the float range inside a product whose value is not --------------------------
    def _keep_scaled(self, node: Node, log2: float, sign) -> None:
        k = math.floor(log2)
        self.scaled[id(node)] = (np.asarray(sign * np.exp2(log2 - k)), k)

    def _note_out_of_range(self, node: Pow, b: np.ndarray, e: np.ndarray, r: np.ndarray) -> None:
        """A power of a finite nonzero base that came out 0 or inf (x^-3 or x^3 at 1e155): its
        value as m * 2**k for the products that read it, where the exponent is one number."""
        lost = ((r == 0.0) | np.isinf(r)) & (b != 0.0) & np.isfinite(b)
        if not lost.any() or np.size(e) != 1 or not np.isfinite(e).all():
            return
        p = float(np.reshape(e, -1)[0])
        top = float(np.max(np.abs(b), where=np.isfinite(b), initial=0.0))
        kb = math.frexp(top)[1]  # b = bs * 2**kb exactly, |bs| < 1
        pk = p * kb
        k = math.floor(pk)
        self.scaled[id(node)] = (np.power(np.ldexp(b, -kb), p) * np.exp2(pk - k), k)

    def _product(self, node: Mul) -> np.ndarray:
        """The einsum of the factors; where a factor is beyond about 1e±75 or kept as m * 2**k,
        each factor is brought to a maximum near 1 by a power of two first and the product scaled
        back once (exact), so that x x x ‖x‖^-3 at 1e155 is of order one, not 0·inf."""
        arrays, exps, shift = [], [], 0
        for f in node.factors:
            a = self._value(f)  # first: computing a power is what keeps it scaled
            got = self.scaled.get(id(f))
            if got is not None:
                a, k = got
                shift += k
            arrays.append(a)
            top = float(max(a.max(), -a.min())) if a.size else 0.0
            exps.append(math.frexp(top)[1] if math.isfinite(top) and top != 0.0 else 0)  # top = t·2**e, t in [½, 1)
        operands = list(zip(arrays, (f.free for f in node.factors)))
        if not shift and all(abs(e) <= 250 for e in exps):
            return self._einsum(operands, node.out)
        scaled = [(np.ldexp(a, -k), idx) for (a, idx), k in zip(operands, exps)]
        return np.ldexp(self._einsum(scaled, node.out), shift + sum(exps))

    def _aligned(self, node: Node, free: tuple) -> np.ndarray:
        """node's value broadcast to axes ``free`` (node.free ⊆ free)."""
        arr = self._value(node)
        if not node.free:
            return arr
        order = [i for i in free if i in node.free]
        arr = np.transpose(arr, [node.free.index(i) for i in order])
        shape = [self.dim(i.dim) if i in node.free else 1 for i in free]
        return arr.reshape(shape)


def squared(node: Pow) -> Node | None:
    """v when ``node`` is (Σ v²)^p, a power of a plain sum of squares (the 'norm' rule of
    ricci.stable), else None; d.evaluate and the index path's code (codegen/from_index) scale it."""
    base = node.base
    if base.free or not isinstance(base, Mul) or not isinstance(node.exp, Num):
        return None
    fs = [f for f in base.factors if not isinstance(f, Num)]
    if len(fs) == 2 and fs[0] is fs[1]:
        f = fs[0]
    elif len(fs) == 1 and isinstance(fs[0], Pow) and isinstance(fs[0].exp, Num) and fs[0].exp.value == 2.0:
        f = fs[0].base
    else:
        return None
    if f.free != fs[-1].free or len(fs) != len(base.factors):
        return None  # a coefficient, or the two factors on different indices: not a plain sum of squares
    return f


def _finite_max(values: np.ndarray) -> float | None:
    m = float(np.max(values)) if np.size(values) else None
    return m if m is not None and math.isfinite(m) else None


def not_finite(d, ev: IREvaluator, values: dict):
    """Raise the clear error for a derivative ``d`` whose value at ``values`` has a NaN or an
    infinity (the evaluator ``ev`` holds its terms' values): never a silent NaN (docs/numerics.md).

    Where the function itself is undefined or overflows there, the error is ricci.evaluate's,
    naming the subexpression in the source; otherwise it names the derivative's first term
    (in the order of computing) that is not finite, and the variables in it.
    """
    from ..evaluation import evaluate_expression

    try:
        evaluate_expression(d.expression, values)
    except BadValueError as e:
        raise e.with_source(d.expression.source) from None
    for node in ev._keep:
        arr = ev.memo[id(node)]
        if np.isfinite(arr).all():
            continue
        nan = bool(np.isnan(arr).any())
        why = "undefined" if nan else "infinite"
        fn = lookup(node.func) if isinstance(node, (Elem, MatFun)) else None
        hint = (fn.nan_hint if nan else fn.inf_hint) if fn is not None else None
        if hint is None and isinstance(node, Pow):
            hint = "a negative base needs an integer exponent" if nan else "zero to a negative power, or an overflow"
        if hint is None and not nan:
            hint = "the value is too large for a float (overflow)"
        # index notation without its index names (x[k000000001]^-0.5 reads x^-0.5)
        text = re.sub(r"\[[^\[\]]*\]", "", repr(node))
        text = re.sub(r"Σ_\S+ ", "Σ ", text)  # and its sums without theirs: (Σ x x)^-0.5
        text = text if len(text) <= 60 else text[:57] + "..."
        names = sorted({n.name for n in nodes(node) if isinstance(n, Var)})
        raise BadValueError(
            f"the derivative of {d.expression.text} by {d.wrt} is {why} at these values, although the "
            f"function is not: its term {text} is {why}" + (f" ({hint})" if hint else "")
            + (f"; it depends on {', '.join(names)}" if names else ""))
    raise BadValueError(f"the derivative of {d.expression.text} by {d.wrt} is not finite at these values")
