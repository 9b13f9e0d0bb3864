"""Tensor results as the lecture writes them: index notation and the vectorised (Kronecker) form.

* :func:`index_form` prints a derivative in index notation the way Examples 3 and 4 do:
  ``∂f_i/∂A_jk = δ_ij x_k`` and ``∂K_pq/∂R_ij = δ_qj R_ip + δ_pj R_iq`` — free indices named as
  in the lecture (i for f, then j, k for the variable; p, q for a matrix f), Kronecker deltas
  first; terms, factors and a δ's two indices in the order of the answer's text
  (:mod:`ricci.printing.index`), so that the MathML the page shows reads as ``d.text`` does.
* :func:`kronecker_form` finds ∂vec F/∂vec X as a sum of Kronecker products where each term of
  the index form splits into two factors, one over the "slow" and one over the "fast" indices
  of vec (vec stacks columns, so a matrix's row index runs fastest):

  ====================================  ==========================================
  term T[(i, j), (k, l)]                 Kronecker expression
  ====================================  ==========================================
  P_jl Q_ik                              P ⊗ Q
  P_jk Q_il                              (P ⊗ Q) K, with K vec(X) = vec(X') (commutation)
  P_ij Q_kl                              vec(P) vec(Q)'
  ====================================  ==========================================

  (i, j: rows and columns of F; k, l: of X.)  So ∂(A x)/∂vec(A) = x' ⊗ I and
  ∂vec(R'R)/∂vec(R) = I ⊗ R' + (R' ⊗ I) K.  A term that fits none of the patterns (exp(X) by
  X, a diagonal) has no Kronecker form, and :func:`kronecker_form` returns None.

The Kronecker form is a display (the language has no ⊗); :meth:`KroneckerForm.evaluate`
computes it with ``np.kron`` from the same factors, so tests can check it against the tensor
reshaped in column-major order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..functions import IDENTITY_NAMES, lookup, named
from ..ir import build as B
from ..ir.nodes import Add, Delta, Elem, Index, MatFun, Mul, Node, Num, Pair, Pow, Size, Stack, Var
from ..language import ast as A
from ..printing import mathml as M
from ..printing.latex import ast_to_latex
from ..printing.text import format_number, to_text
from . import formula as F
from .shapes import dim_name

_FREE_NAMES = "ijklpqrsuvw"
_JUX = F.Formula(" ", " ", M.mo(M.TIMES))  # factors in index notation sit side by side
_SUM_NAMES = "abcdefgh"


# =================================================================================================
# Index notation, lecture style
# =================================================================================================
def _display_node(d) -> Node:
    from ..simplify.rules import display_rules
    from ..simplify.symmetry import use_symmetry

    return display_rules(use_symmetry(d.node, d.expression))


def _free_names(d) -> dict:
    """Lecture-style names: f_i by A_jk (Example 3); K_pq by R_ij (Example 4)."""
    taken = set(d.expression.variables)
    n_f = len(d.expression.shape)
    first = "pq" if n_f == 2 else ""
    order = first + "".join(c for c in _FREE_NAMES if c not in first)
    pool = [c for c in order if c not in taken] + [f"i{k}" for k in range(1, 50)]
    return {ix: pool[k] for k, ix in enumerate(d.out)}


class _IndexPrinter:
    """IR → :class:`Formula` in index notation (one printer for text, LaTeX and MathML)."""

    def __init__(self, names: dict, bold: frozenset = frozenset(), as_text: bool = False):
        self.names = dict(names)
        self.bold = bold
        self.count = 0
        # as_text: factors, terms and δ's indices in the order of the answer's own text
        # (ricci.printing.index), so that a derivative's MathML and its text read alike; that
        # order does not depend on the variables' names (known_core_bugs.md #2), an order by
        # the printed text would.
        self.as_text = as_text

    def ix_name(self, i: Index) -> str:
        if i not in self.names:
            k = self.count
            self.count += 1
            self.names[i] = _SUM_NAMES[k % len(_SUM_NAMES)] + (str(k // len(_SUM_NAMES)) if k >= len(_SUM_NAMES) else "")
        return self.names[i]

    def script(self, idx) -> F.Formula:
        parts = [self.ix_name(i) for i in idx]
        joined = "".join(parts) if all(len(p) == 1 for p in parts) else ",".join(parts)
        return F.Formula(joined, joined, M.mi(joined))

    def indexed(self, base: F.Formula, idx) -> F.Formula:
        return F.sub(base, self.script(idx)) if idx else base

    def factor_key(self, f: Node):
        if self.as_text:
            from ..printing.index import _display_rank

            return _display_rank(f)
        # δ first, then matrices before vectors (f_i = Σ_a A_ia x_a, as the lecture writes it)
        return (0 if isinstance(f, Delta) else 1, -len(f.free))

    def show(self, n: Node, top: bool = False) -> F.Formula:
        match n:
            case Num(value=v):
                return F.number(v) if v >= 0 else F.Formula("-" + format_number(-v), "-" + format_number(-v),
                                                              M.row(M.mo(M.MINUS), M.mn(format_number(-v))))
            case Size(dim=dm):
                return F.Formula(str(dm), str(dm), M.mi(str(dm)))
            case Var(name=name, idx=idx):
                return self.indexed(F.name(name, name in self.bold), idx)
            case Delta(i=i, j=j):
                a, b = self.ix_name(i), self.ix_name(j)
                if not self.as_text:
                    a, b = sorted([a, b])
                s = a + b if len(a) == len(b) == 1 else f"{a},{b}"
                return F.sub(F.Formula("δ", r"\delta", M.mi("δ")), F.Formula(s, s, M.mi(s)))
            case Pair(r=r, a=a, b=b):  # vec's and kron's pairing: 1 where r is the pair (a, b)
                s = f"{self.ix_name(r)},({self.ix_name(a)},{self.ix_name(b)})"
                return F.sub(F.Formula("δ", r"\delta", M.mi("δ")), F.Formula(s, s, M.mi(s)))
            case Mul():
                return self.product(n)
            case Add(terms=ts):
                return self.sum(ts, sort=top and not self.as_text)
            case Elem(func=f, arg=a):
                fn = lookup(f)  # the table's LaTeX and MathML heads
                head = F.Formula(f, fn.latex or r"\operatorname{" + f + "}", M.mi(fn.mathml or f))
                return head + F.paren(self.show(a))
            case Pow(base=b, exp=e):
                bs = self.show(b)
                if not isinstance(b, (Var, Num, Delta)):
                    bs = F.paren(bs)
                return F.sup(bs, self.show(e))
            case MatFun(func=f, arg=a, r=r, c=c, out=o):
                inner = self.matrix_of(a, r, c)
                fn = lookup(f)
                if fn.layout == "inverse":
                    base = F.sup(inner if isinstance(a, Var) else F.paren(inner), F.Formula("-1", "-1", M.row(M.mo(M.MINUS), M.mn("1"))))
                    return self.indexed(F.paren(base) if o else base, o)
                head = F.Formula(f, fn.latex or r"\operatorname{" + f.replace("_", r"\_") + "}",
                                 M.mi(fn.mathml or f))  # the table's spellings
                return self.indexed(head + F.paren(inner), o) if o else head + F.paren(inner)  # expm(X)_pq
            case Stack(entries=es, axes=ax):
                body = F.join([self.show(e) for e in es], F.COMMA)
                return self.indexed(F.paren(body, "[", "]"), ax)
        raise TypeError(n)

    def matrix_of(self, a: Node, r: Index, c: Index) -> F.Formula:
        """The argument of a matrix function as a matrix (X, or X' when its indices are swapped)."""
        if isinstance(a, Var) and a.idx == (r, c):
            return F.name(a.name, a.name in self.bold)
        if isinstance(a, Var) and a.idx == (c, r):
            return F.name(a.name, a.name in self.bold) + F.Formula("'", r"^\top", M.mo(M.TRANSPOSE))
        self.names.setdefault(r, "·")
        self.names.setdefault(c, "·")
        return self.show(a)

    def product(self, n: Mul) -> F.Formula:
        from ..simplify.index_compact import chains

        factors = list(n.factors)
        coef = 1.0
        if factors and isinstance(factors[0], Num):
            coef = factors.pop(0).value
        # a chain X_ab X_bc X_cd of one matrix is written (X^3)_ad, as in the text (issue 21)
        found = chains(tuple(factors), n.out) if self.as_text else []
        member = {id(factors[m]): c for c in found for m in c.members}  # the factors' own objects
        hidden = {i for c in found for i in c.inner}
        factors.sort(key=self.factor_key)
        summed = []  # the indices this product sums over (each term names its own)
        for f in factors:
            for i in f.free:
                if i not in n.out and i not in summed and i not in hidden:
                    summed.append(i)
        parts, done = [], set()
        for f in factors:
            c = member.get(id(f))
            if c is not None:
                if id(c) not in done:  # identity: which chain is written, never an order
                    done.add(id(c))
                    parts.append(self.power(c.base, F.number(c.power), c.first, c.last))
                continue
            s = self.show(f)
            parts.append(F.paren(s) if isinstance(f, Add) else s)
        body = F.join(parts, _JUX) if parts else F.number(1)
        if coef == -1.0 and parts:
            body = F.Formula("-", "-", M.mo(M.MINUS)) + body
        elif coef != 1.0:
            body = F.join([self.show(B.num(coef)), body], _JUX) if parts else self.show(B.num(coef))
        if summed:
            sub = "".join(self.ix_name(i) for i in summed)
            sigma = F.Formula(f"Σ_{sub} ", rf"\sum_{{{sub}}} ", M.sub(M.mo("\u2211"), M.mi(sub)))
            return sigma + body
        return body

    def power(self, base: Node, exp: F.Formula, first: Index, last: Index) -> F.Formula:
        """(X^3)_ad: a matrix's power, indexed."""
        if isinstance(base, Var):
            head = F.name(base.name, base.name in self.bold)
        else:  # inv(X): the matrix function without its indices
            head = self._matrix_head(base)
        return self.indexed(F.paren(F.sup(head, exp)), (first, last))

    def _matrix_head(self, base: MatFun) -> F.Formula:
        inner = self.matrix_of(base.arg, base.r, base.c)
        fn = lookup(base.func)
        if fn.layout == "inverse":
            return F.sup(inner if isinstance(base.arg, Var) else F.paren(inner),
                         F.Formula("-1", "-1", M.row(M.mo(M.MINUS), M.mn("1"))))
        return F.Formula(base.func, fn.latex or r"\operatorname{" + base.func + "}", M.mi(fn.mathml or base.func)) \
            + F.paren(inner)

    def entry(self, e) -> F.Formula:
        """A family Σ_{r=0}^{14} 16 (X^r)_li (X^(14-r))_jk, or a symmetrised Sym[t]
        (:mod:`ricci.simplify.index_compact`)."""
        from ..simplify.index_compact import Sym

        if isinstance(e, Sym):
            body = F.Formula("Sym", r"\operatorname{Sym}", M.mi("Sym")) + F.paren(self.show(e.node), "[", "]")
        else:
            r = next(c for c in "rstmgh" if c not in self.names.values())
            rest = f"{e.total}-{r}" if e.total else f"-{r}"
            parts = [self.power(e.base, F.Formula(r, r, M.mi(r)), *e.pairs[0]),
                     self.power(e.base, F.Formula(rest, rest, M.row(M.mn(str(e.total)), M.mo(M.MINUS), M.mi(r))),
                                *e.pairs[1])]
            parts += [self.show(f) for f in sorted(e.others, key=self.factor_key)]
            lo, hi = str(e.lo), str(e.hi)
            sigma = F.Formula(f"Σ_{{{r}={lo}}}^{{{hi}}} ", rf"\sum_{{{r}={lo}}}^{{{hi}}} ",
                              M.row(M.sub(M.mo("\u2211"), M.row(M.mi(r), M.mo("="), M.mn(lo))), M.mn(hi)))
            if e.coef != 1.0:  # the number after the Σ, as the text writes it
                parts.insert(0, self.show(B.num(e.coef)))
            return sigma + F.join(parts, _JUX)
        if e.coef == 1.0:
            return body
        if e.coef == -1.0:
            return F.Formula("-", "-", M.mo(M.MINUS)) + body
        return F.join([self.show(B.num(e.coef)), body], _JUX)

    def sum(self, terms, sort: bool) -> F.Formula:
        shown = [self.show(t) if isinstance(t, Node) else self.entry(t) for t in terms]
        if sort:
            shown.sort(key=lambda s: (s.text.startswith("-"), s.text))
        out = shown[0]
        for s in shown[1:]:
            if s.text.startswith("-"):
                out = out + F.MINUS + F.Formula(s.text[1:], s.latex[1:], s.mathml.replace(M.mo(M.MINUS), "", 1))
            else:
                out = out + F.PLUS + s
        return out


def index_form(d, name: str = "f", bold: frozenset = frozenset()) -> F.Formula:
    """``∂f_i/∂A_jk = δ_ij x_k``: the derivative in index notation, as the lecture writes it."""
    from ..printing.index import derivative_axes
    from ..simplify.index_compact import compact_terms

    node = _display_node(d)
    p = _IndexPrinter(_free_names(d), bold, as_text=True)
    lhs = _lhs(d, p, name, bold)
    # powers and families, and Sym[…] where the text uses it (a long answer; issue 21)
    shown = compact_terms(node, derivative_axes(d, d.out)[1], sym="Sym[" in d.index_notation)
    body = p.show(node, top=True) if shown is None else p.sum(shown, sort=False)
    return lhs + F.EQ + body


def entries_form(d, name: str = "f", bold: frozenset = frozenset()) -> F.Formula:
    """``f_i = Σ_a A_ia x_a``: the function itself in index notation (the lecture's first step
    in Examples 3 and 4), its indices named as in :func:`index_form`."""
    lw = d.lowered
    p = _IndexPrinter(_free_names(d), bold)
    n_f = len(d.expression.shape)
    lhs = p.indexed(F.name(name), d.out[:n_f])
    node = lw.node
    own = lw.indices
    if own != d.out[:n_f]:  # the lowered indices are the derivative's first ones; rename if not
        node = B.rename(node, dict(zip(own, d.out[:n_f])))
    return lhs + F.EQ + p.show(node, top=True)


def _lhs(d, p: _IndexPrinter, name: str, bold: frozenset) -> F.Formula:
    from ..printing.index import derivative_axes, wrt_name

    f_ix, parts = derivative_axes(d, d.out)
    order = d.order
    wrt = wrt_name(d)
    fname = p.indexed(F.name(name), f_ix)
    num = (F.sup(F.PARTIAL, F.number(order)) if order > 1 else F.PARTIAL) + fname
    den = F.join([F.PARTIAL + p.indexed(F.name(wrt, wrt in bold), q) for q in parts], F.EMPTY)
    return F.frac(num, den)


# =================================================================================================
# The vectorised form ∂vec F / ∂vec X
# =================================================================================================
@dataclass(frozen=True)
class _KronTerm:
    coef: float
    kind: str  # "kron", "kron_K" or "outer"
    P: tuple  # (node, row index or None, col index or None)
    Q: tuple
    k_dims: tuple = ()  # for "kron_K": X's (rows, cols)


@dataclass(frozen=True)
class KroneckerForm(F.ShowsFormula):
    """∂vec F/∂vec X as a sum of Kronecker products (see the module docstring)."""

    formula: F.Formula
    terms: tuple
    derivative: object

    def evaluate(self, values: dict) -> np.ndarray:
        """The matrix ∂vec F/∂vec X at ``values``, computed with ``np.kron`` from the factors."""
        from ..ir.evaluate import IREvaluator

        natural, sizes = _natural(self.derivative, values)
        ev = IREvaluator(natural, sizes)

        def mat(part):
            node, r, c = part
            order = tuple(i for i in (r, c) if i is not None)
            arr = np.asarray(ev.value(node, order), dtype=float)
            return arr.reshape(sizes_of(r), sizes_of(c))

        def sizes_of(i):
            return 1 if i is None else (i.dim if isinstance(i.dim, int) else sizes[i.dim])

        total = None
        for t in self.terms:
            P, Q = mat(t.P), mat(t.Q)
            if t.kind == "outer":
                v = np.outer(P.reshape(-1, order="F"), Q.reshape(-1, order="F"))
            else:
                v = np.kron(P, Q)
                if t.kind == "kron_K":
                    v = v @ commutation_matrix(sizes_of(t.k_dims[0]), sizes_of(t.k_dims[1]))
            v = t.coef * v
            total = v if total is None else total + v
        return total

    @property
    def expression(self) -> str | None:
        """The form in the input language, ``kron(B', A)`` for A*X*B (or vec(A*X*B)) by X: it
        parses, and evaluates to :meth:`evaluate`'s matrix.  None where a term needs the
        commutation matrix K, which the language has no name for."""
        text = ""
        for t in self.terms:
            if t.kind == "kron_K":
                return None
            p, q = _language(self.derivative, t.P), _language(self.derivative, t.Q)
            if p is None or q is None:
                return None
            if t.kind == "kron":
                body = f"{named('kronecker')}({p}, {q})"
            else:
                body = f"{named('vectorise')}({p})*{named('vectorise')}({q})'"
            c = abs(t.coef)
            body = body if c == 1.0 else f"{format_number(c)}*{body}"
            text += (" - " if text else "-") + body if t.coef < 0 else (" + " if text else "") + body
        return text

    def _repr_latex_(self) -> str:
        return f"$${self.latex}$$"

    def _repr_html_(self) -> str:
        return self.mathml


def _language(d, part) -> str | None:
    """One Kronecker factor in the input language (an identity with its size: eye(len(x)))."""
    node, r, c = part
    ident = isinstance(node, Delta) or (isinstance(node, Mul) and len(node.factors) == 1
                                        and isinstance(node.factors[0], Delta))
    if not ident:
        ast = _raise(d, part)
        if ast is None:
            return None
        if not (isinstance(ast, A.Name) and ast.name in IDENTITY_NAMES and ast.name not in d.expression.variables):
            return to_text(ast)
    dim = (r or c).dim
    if isinstance(dim, int):
        return f"eye({dim})"
    for name, v in d.expression.variables.items():  # a size the language can write: len(x), size(A, 1)
        if dim in v.dims:
            return f"eye(len({name}))" if len(v.dims) == 1 else f"eye(size({name}, {v.dims.index(dim) + 1}))"
    return None


def commutation_matrix(m: int, n: int) -> np.ndarray:
    """K (mn × mn) with K vec(X) = vec(X') for X of shape m × n (vec stacks columns)."""
    K = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            K[j + n * i, i + m * j] = 1.0
    return K


def _natural(d, values: dict):
    """Values in the IR's natural form (scalars 0-d, vectors 1-d) with the bindings evaluated."""
    from ..evaluation import bind_sizes
    from ..ir.evaluate import IREvaluator

    variables = d.expression.variables
    arrays, sizes = bind_sizes(variables, values, d.expression.source, d.expression._checked.reasons,
                               products=d.expression._checked.products)
    natural = {}
    for n, a in arrays.items():
        kind = variables[n].kind
        natural[n] = a.reshape(()) if kind == "scalar" else (a.reshape(-1) if kind == "vector" else a)
    ev = IREvaluator(natural, sizes)
    for bname, (ir, br, bc) in d.lowered.bindings.items():
        natural[bname] = ev.value(ir, tuple(i for i in (br, bc) if i is not None))
    return natural, sizes


def _terms(node: Node) -> list[tuple[float, list]]:
    ts = node.terms if isinstance(node, Add) else (node,)
    out = []
    for t in ts:
        if isinstance(t, Mul):
            fs = list(t.factors)
            coef = 1.0
            if fs and isinstance(fs[0], Num):
                coef = fs.pop(0).value
            out.append((coef, fs))
        else:
            out.append((1.0, [t]))
    return out


def kronecker_form(d, dims: dict | None = None, bold: frozenset = frozenset()) -> KroneckerForm | None:
    """∂vec F/∂vec X as Kronecker products, or None where there is none (or no tensor)."""
    if d.order != 1 or isinstance(d.wrt, list) or len(d.out) < 3:
        return None
    n_f = len(d.expression.shape)
    f_ix, x_ix = d.out[:n_f], d.out[n_f:]
    f1, f2 = (f_ix + (None, None))[:2]
    x1, x2 = (x_ix + (None, None))[:2]
    node = _display_node(d)
    if B.is_zero(node):
        return None
    terms = []
    for coef, factors in _terms(node):
        f1, f2 = (f_ix + (None, None))[:2]
        pair = next((g for g in factors if isinstance(g, Pair) and f2 is None and g.r == f1
                     and g.a not in d.out and g.b not in d.out and g.a != g.b), None)
        if pair is not None:  # F = vec(G): ∂vec F/∂vec X is ∂vec G/∂vec X, G's rows and columns a, b
            factors = [g for g in factors if g is not pair]
            f1, f2 = pair.a, pair.b
        free = set(x_ix) | {i for i in (f1, f2) if i is not None}
        options = [
            ("kron", (f2, x2), (f1, x1)),
            ("kron_K", (f2, x1), (f1, x2)),
            ("outer", (f1, f2), (x1, x2)),
        ]
        comps = [[factors[k] for k in c] for c in B.summed_components(factors, free)]
        chosen = None
        for kind, p_ix, q_ix in options:
            pset = {i for i in p_ix if i is not None}
            qset = {i for i in q_ix if i is not None}
            P, Q, ok = [], [], True
            for c in comps:
                cfree = {i for g in c for i in g.free if i in free}
                if cfree <= pset:
                    P += c
                elif cfree <= qset:
                    Q += c
                else:
                    ok = False
                    break
            if not ok:
                continue
            covered = {i for g in P + Q for i in g.free}
            if not (pset | qset) <= covered:
                continue
            chosen = (kind, p_ix, q_ix, P, Q)
            break
        if chosen is None:
            return None
        kind, p_ix, q_ix, P, Q = chosen
        p_out = tuple(i for i in p_ix if i is not None)
        q_out = tuple(i for i in q_ix if i is not None)
        pn = B.mul(P, p_out) if P else B.num(1.0)
        qn = B.mul(Q, q_out) if Q else B.num(1.0)
        if kind == "kron_K" and x2 is None:
            kind = "kron"  # vec(x') = vec(x): no commutation for a vector
        k_dims = (x1, x2) if kind == "kron_K" else ()
        terms.append(_KronTerm(coef, kind, (pn, *p_ix), (qn, *q_ix), k_dims))
    shown = []
    for t in terms:
        s = _show_term(d, t, dims, bold)
        if s is None:
            return None
        shown.append(s)
    body = shown[0]
    for s in shown[1:]:
        if s.text.startswith("-"):
            body = body + F.MINUS + F.Formula(s.text[1:], s.latex[1:], s.mathml.replace(M.mo(M.MINUS), "", 1))
        else:
            body = body + F.PLUS + s
    return KroneckerForm(body, tuple(terms), d)


def _raise(d, part) -> A.Expr | None:
    """The matrix AST of one Kronecker factor (rows and columns as given), or None."""
    from ..raise_matrix import NoMatrixForm, Raiser
    from ..simplify.matrix import MatrixForms

    node, r, c = part
    forms = MatrixForms(d.expression)
    try:
        raiser = Raiser(forms, dict(d.lowered.bindings))
        rr = raiser.raise_node(node)
        if rr.is_scalar and (r is not None or c is not None):
            return None
        return forms.finish(raiser.orient(rr, r, c))
    except NoMatrixForm:
        return None


def _factor(d, part, dims, bold) -> F.Formula | None:
    node, r, c = part
    if isinstance(node, Delta) or (isinstance(node, Mul) and len(node.factors) == 1 and isinstance(node.factors[0], Delta)):
        dim = dim_name((r or c).dim, dims)
        return F.sub(F.Formula("I", r"\mathbf{I}" if bold else "I", M.mi("I", "bold" if bold else "normal")),
                     F.Formula(dim, dim, M.mi(dim)))
    ast = _raise(d, part)
    if ast is None:
        return None
    if isinstance(ast, A.Name) and ast.name in ("eye", "I"):
        dim = dim_name((r or c).dim, dims)
        return F.sub(F.Formula("I", "I", M.mi("I", "normal")), F.Formula(dim, dim, M.mi(dim)))
    f = F.expr(ast, bold)
    from ..printing.text import PRODUCT, level

    if level(ast) <= PRODUCT:  # ⊗ binds tighter than juxtaposition would suggest
        f = F.paren(f)
    return f


def _show_term(d, t: _KronTerm, dims, bold) -> F.Formula | None:
    P = _factor(d, t.P, dims, bold)
    Q = _factor(d, t.Q, dims, bold)
    if P is None or Q is None:
        return None
    if t.kind == "outer":
        vec = F.Formula("vec", r"\operatorname{vec}", M.mi("vec") + M.mo(M.APPLY))
        body = vec + F.paren(P) + _JUX + vec + F.paren(Q) + F.Formula("'", r"^\top", M.mo(M.TRANSPOSE))
    else:
        body = P + F.KRON + Q
        if t.kind == "kron_K":
            m = dim_name(t.k_dims[0].dim, dims)
            n = dim_name(t.k_dims[1].dim, dims)
            body = F.paren(body) + F.TIMES + F.Formula(f"K_({m},{n})", f"K_{{{m}{n}}}", M.sub(M.mi("K"), M.mi(m + n)))
    if t.coef == 1.0:
        return body
    if t.coef == -1.0:
        return F.Formula("-", "-", M.mo(M.MINUS)) + (F.paren(body) if t.kind != "kron_K" else body)
    return F.number(t.coef) + F.TIMES + F.paren(body)


_ = to_text, ast_to_latex
