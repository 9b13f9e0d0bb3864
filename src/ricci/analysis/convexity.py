# Over 600 lines: the structural proof and the numerical witness search read one Hessian for one question.
"""Convexity: a structural proof read off the Hessian, and a numerical search for a witness.

f is convex on a convex domain exactly when its Hessian is PSD everywhere (concave: NSD).  The
proof walks the Hessian's matrix form (``Derivative.matrix``, with ``where`` inlined and
transposes pushed to the names) with these rules, each a textbook fact:

  gram        B'*B and B*B' are PSD (z'B'Bz = ‖Bz‖²); B'*M*B is PSD when M is (and NSD when M is)
  diag        diag(v) is PD / PSD / ND / NSD when every entry of v is > 0 / ≥ 0 / < 0 / ≤ 0
              (entry signs: :mod:`ricci.analysis.signs`, intervals then SymPy)
  identity    eye is PD
  assumed     a matrix assumed psd/pd/nsd/nd (``assume=``) is so; a fixed value (``at``) is
              classified by its eigenvalues; M' has the quadratic form of M
  scale       c*M with c > 0 keeps M's definiteness, c ≥ 0 weakens PD to PSD, c < 0 flips it
  sum         a sum of PSD terms is PSD (PD if one term is PD); likewise NSD
  merge       diagonal terms are added into one diag(Σ ±c_k v_k) before their signs are read
              (the logistic loss's diag(u./(1 + u) − u.^2./(1 + u).^2))
  schwarz     α*diag(p) − β*u*u' with u = p ≥ 0 (or α*eye − β*u*u') is PSD when β ≥ 0 and
              α − β*sum(p) ≥ 0 (α − β*u'*u ≥ 0): by Cauchy–Schwarz, (p'z)² ≤ sum(p)·Σ p_i z_i²;
              this is the Hessian of log-sum-exp, diag(p) − p*p' with p = softmax, and of norm2
  kron        for a 4-index Hessian c·Y_jk·Y_li (−logdet: Y = inv(X)) with Y PD and directions
              symmetric, z:H:z = c·tr(VYVY) = c·‖Y^½VY^½‖²; c·Y_ik·Y_jl gives c·tr(VYV'Y) for
              any V; c·Y_ij·Y_kl gives c·(Y:V)²
  minors      for a Hessian of a few scalars (SymPy): PSD iff every principal minor is ≥ 0,
              PD iff the leading principal minors are > 0 (Sylvester)

Whatever the proof says, random points are tried too (seeded): a point where the Hessian has a
negative eigenvalue is a witness that f is not convex (a positive one, not concave).  A proof
that a witness contradicts is reported as such, never silently kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..functions import family_of, lookup
from ..hints import Choice, Hint, option, say
from ..language import ast as A
from ..language.errors import RicciError
from ..printing.text import to_text
from ..language.sizes import without_sizes
from . import definiteness as D
from .signs import Context, shorten, divisor_sign, implies, mul_sign, prove_sign
from .structure import Typed, factors, normal_form, readings, retype, split_scalars, terms, transpose_of

PSD_LIKE = (D.PD, D.PSD, D.ZERO)
NSD_LIKE = (D.ND, D.NSD, D.ZERO)


@dataclass(frozen=True)
class Proof:
    """A proved definiteness of the Hessian everywhere (label None: nothing proved)."""

    label: str | None
    steps: tuple[str, ...] = ()
    method: str = "structure"
    #: what would let a rule apply (e.g. an assumption to declare), when none did
    hint: str | None = None


def _flip(label):
    return {D.PD: D.ND, D.PSD: D.NSD, D.ND: D.PD, D.NSD: D.PSD}.get(label, label)


def _weaken(label):
    return {D.PD: D.PSD, D.ND: D.NSD}.get(label, label)


def scale(label, sign: str | None):
    """The definiteness of c·M from M's and c's sign."""
    if label is None:
        return None
    if label == D.ZERO or sign == "zero":
        return D.ZERO
    if sign == "positive":
        return label
    if sign == "nonnegative":
        return _weaken(label)
    if sign == "negative":
        return _flip(label)
    if sign == "nonpositive":
        return _weaken(_flip(label))
    return None


def combine(labels) -> str | None:
    """The definiteness of a sum from its terms'."""
    labels = list(labels)
    if not labels or any(lb is None for lb in labels):
        return None
    if all(lb == D.ZERO for lb in labels):
        return D.ZERO
    if all(lb in PSD_LIKE for lb in labels):
        return D.PD if D.PD in labels else D.PSD
    if all(lb in NSD_LIKE for lb in labels):
        return D.ND if D.ND in labels else D.NSD
    return None


def _label_of_sign(sign):
    return {"positive": D.PD, "nonnegative": D.PSD, "negative": D.ND, "nonpositive": D.NSD,
            "zero": D.ZERO}.get(sign)


def _text(node) -> str:
    return shorten(to_text(node))


def _coef_text(sign: int, coefs) -> str:
    parts = [("1/" if p < 0 else "") + _paren(to_text(n)) for n, p in coefs]
    body = "*".join(parts) if parts else "1"
    return ("-" if sign < 0 else "") + body


def _paren(s: str) -> str:
    return s if s.replace("_", "").isalnum() or s.replace(".", "").isdigit() else f"({s})"


class Prover:
    """The structural rules over one typed Hessian tree."""

    def __init__(self, typed: Typed, assume: dict, fixed: dict, kinds: dict):
        self.t = typed
        self.ctx = Context(typed, assume, fixed)
        self.kinds = kinds
        self.steps: list[str] = []

    # -- signs of scalar coefficients -----------------------------------------------------------
    def coef_sign(self, sign: int, coefs) -> str | None:
        """The sign of ``sign · Π coef^power``: factor by factor, else SymPy on the product."""
        out = "positive" if sign > 0 else "negative"
        for node, power in coefs:
            s = prove_sign(self.ctx, node).sign
            out = mul_sign(out, divisor_sign(s) if power < 0 else s)
        if out is None and coefs:
            out = self._sympy_coef_sign(sign, coefs)
        return out

    def _sympy_coef_sign(self, sign, coefs):
        from .to_sympy import EntryTranslator, sign_of_sympy, sympy

        if sympy() is None:
            return None
        tr = EntryTranslator(self.ctx)
        try:
            e = sign * sympy().Mul(*[tr.entry(n) ** p for n, p in coefs])
        except Exception:  # noqa: BLE001 - an untranslatable coefficient proves nothing
            return None
        return sign_of_sympy(e)[0]

    # -- the rules --------------------------------------------------------------------------------
    def definite(self, node) -> str | None:
        """The definiteness of ``node`` everywhere, or None; proof lines go to ``self.steps``."""
        t = self.t
        if t.is_scalar(node):
            p = prove_sign(self.ctx, node)
            if p.sign is not None:
                self.steps.append(f"{_text(node)}: {p.how}")
            return _label_of_sign(p.sign)
        ts = terms(t, node)
        if len(ts) == 1 and ts[0].sign == 1 and not ts[0].coefs:
            return self.core(ts[0].core)
        labels = [self.term(tm) for tm in ts]
        got = combine(labels)
        if got is not None:
            if len(ts) > 1:
                self.steps.append(f"{_text(node)}: a sum of terms that are all "
                                  f"{'PSD' if got in PSD_LIKE else 'NSD'} is {got} [sum]")
            return got
        return self.merged(node, ts, labels)

    def term(self, tm) -> str | None:
        core = self.core(tm.core)
        if not tm.coefs and tm.sign == 1:
            return core
        sign = self.coef_sign(tm.sign, tm.coefs)
        got = scale(core, sign)
        if got is not None and core is not None:
            self.steps.append(f"{_coef_text(tm.sign, tm.coefs)} is {sign}, so "
                              f"{_coef_text(tm.sign, tm.coefs)}*({_text(tm.core)}) is {got} [scale]")
        return got

    def core(self, node) -> str | None:
        t = self.t
        match node:
            case A.Name(name=n) if t.is_identity(node):
                self.steps.append(f"{n} (the identity) is PD [identity]")
                return D.PD
            case A.Name(name=n):
                return self.name(n)
            case A.Transpose(arg=a):
                return self.core(a)
            case A.Call(func=f, args=(v,)) if family_of(f) == "diagonal" and not t.type(v).is_matrix:
                p = prove_sign(self.ctx, v)
                if p.sign is not None:
                    got = _label_of_sign(p.sign)
                    self.steps.append(f"diag({_text(v)}) is {got}: {p.how} [diag]")
                    return got
                return None
            case A.Literal():
                return self.literal(node)
        sign, coefs, mats = factors(t, node)
        if mats == [node]:  # not a product: a sum is taken apart by definite(), else no rule
            if isinstance(node, A.BinOp) and node.op in ("+", "-"):
                return self.definite(node)
            return None
        if not mats:
            return None
        if coefs or sign < 0:
            return scale(self.chain(mats), self.coef_sign(sign, coefs))
        return self.chain(mats)

    def name(self, n: str) -> str | None:
        label = self.ctx.assume.get(n)
        if label in ("psd", "pd", "nsd", "nd"):
            got = label.upper()
            self.steps.append(f"{n} is assumed {got} [assumed]")
            return got
        if n in self.ctx.fixed:
            d = D.classify(np.asarray(self.ctx.fixed[n], dtype=float))
            ev = ", ".join(f"{v:.6g}" for v in d.eigenvalues)
            self.steps.append(f"{n} is fixed; (its symmetric part's) eigenvalues {ev}: {d.label} [fixed value]")
            return None if d.label == D.INDEFINITE else d.label
        return None

    def literal(self, node) -> str | None:
        if any(isinstance(m, A.Name) for m in A.walk(node)):
            return None
        from ..evaluation import evaluate_expression  # a constant matrix: its eigenvalues decide
        from ..language.expression import typed_tree

        try:
            value = evaluate_expression(typed_tree(node), {})
        except RicciError:
            return None
        d = D.classify(np.atleast_2d(value))
        self.steps.append(f"{_text(node)} is constant with eigenvalues "
                          f"{', '.join(f'{v:.6g}' for v in d.eigenvalues)}: {d.label}")
        return None if d.label == D.INDEFINITE else d.label

    def chain(self, mats) -> str | None:
        """A product M1*…*Mk: one factor, or B*(…)*B' (the gram rule)."""
        if len(mats) == 1:
            return self.core(mats[0])
        first, last = mats[0], mats[-1]
        if first != transpose_of(self.t, last):
            return None
        middle = mats[1:-1]
        b = _text(last)
        if not middle:
            self.steps.append(f"{_text(first)}*{b} is a Gram matrix B'*B with B = {b}: z'B'Bz = ‖Bz‖² ≥ 0, "
                              "so PSD [gram]")
            return D.PSD
        inner = self.chain(middle)
        if inner is None:
            return None
        got = D.ZERO if inner == D.ZERO else (D.PSD if inner in PSD_LIKE else D.NSD)
        self.steps.append(f"B'*M*B with B = {b} and M {inner} is {got} (z'B'MBz = (Bz)'M(Bz)) [gram]")
        return got

    # -- rules that look at several terms at once --------------------------------------------------
    def merged(self, node, ts, labels) -> str | None:
        rest = list(zip(ts, labels))
        rest = self._merge_diagonals(rest)
        rest = self._schwarz(rest)
        got = combine(lb for _, lb in rest)
        if got is not None:
            self.steps.append(f"{_text(node)}: after combining terms, every term is "
                              f"{'PSD' if got in PSD_LIKE else 'NSD'}: {got} [sum]")
        return got

    def _diagonal_vector(self, core):
        """The vector v with core = diag(v), or 1 for the identity; None if not diagonal."""
        match core:
            case A.Call(func=f, args=(v,)) if family_of(f) == "diagonal" and not self.t.type(v).is_matrix:
                return v
            case A.Name() if self.t.is_identity(core):
                return A.Num(1.0)
        return None

    def _merge_diagonals(self, rest):
        diag = [(tm, self._diagonal_vector(tm.core)) for tm, lb in rest]
        picked = [(tm, v) for tm, v in diag if v is not None]
        if len(picked) < 2:
            return rest
        total = None
        for tm, v in picked:
            part = v
            for c, p in tm.coefs:
                part = A.BinOp("*" if p > 0 else "/", part, c)
            part = A.Neg(part) if tm.sign < 0 else part
            total = part if total is None else A.BinOp("+", total, part)
        typed = retype(total, self.t.origin)
        if typed is None:
            return rest
        ctx = Context(typed, self.ctx.assume, self.ctx.fixed)
        p = prove_sign(ctx, typed.tree)
        if p.sign is None:
            return rest
        label = _label_of_sign(p.sign)
        self.steps.append(f"the diagonal terms add up to diag(v) with v = {_text(typed.tree)}; {p.how}; "
                          f"so they are {label} [merge, diag]")
        keep = [(tm, lb) for tm, lb in rest if self._diagonal_vector(tm.core) is None]
        return keep + [(None, label)]

    def _schwarz(self, rest):
        """α*diag(p) − β*u*u' (u = p ≥ 0), or α*eye − β*u*u': PSD by Cauchy–Schwarz."""
        from .to_sympy import sympy

        if sympy() is None:
            return rest
        for i, (dt, _) in enumerate(rest):
            p = None if dt is None else self._diagonal_vector(dt.core)
            if p is None:
                continue
            for j, (ot, _) in enumerate(rest):
                if j != i and ot is not None:
                    label = self._schwarz_pair(dt, p, ot)
                    if label is not None:
                        keep = [r for k, r in enumerate(rest) if k not in (i, j)]
                        return self._schwarz(keep + [(None, label)])
        return rest

    def _schwarz_pair(self, dt, p, ot) -> str | None:
        """The Cauchy–Schwarz rule for the diagonal term ``dt`` (diag(p), or eye when p is 1)
        and the outer-product term ``ot``; its label, or None when it does not apply."""
        from .to_sympy import EntryTranslator, sign_of_sympy, sympy

        sp, t = sympy(), self.t
        s, oc, mats = factors(t, ot.core)
        if len(mats) != 2 or not t.is_col(mats[0]) or mats[1] != transpose_of(t, mats[0]):
            return None
        _, ucoefs, u = split_scalars(t, mats[0])  # u*u' = (c·w)*(c·w)': the sign of c drops out
        eye = isinstance(p, A.Num)
        tr = EntryTranslator(self.ctx)
        try:
            beta = ot.sign * s * sp.Mul(*[tr.entry(n) ** q for n, q in list(ot.coefs) + oc]) \
                * sp.Mul(*[tr.entry(n) ** (2 * q) for n, q in ucoefs])
            alpha = dt.sign * sp.Mul(*[tr.entry(n) ** q for n, q in dt.coefs])
            if eye:  # α*eye − β*u*u': (u'z)² ≤ ‖u‖²‖z‖²
                bound, entries = tr.sum_entries(tr.entry(u) ** 2, "n"), "positive"
            else:  # α*diag(p) − β*p*p': (p'z)² ≤ sum(p)·Σ p_i z_i² for p ≥ 0
                ps, pcoefs, pcore = split_scalars(t, p)
                if _strip_t(pcore) != _strip_t(u):
                    return None
                alpha = alpha * ps * sp.Mul(*[tr.entry(n) ** q for n, q in pcoefs])
                proof = prove_sign(self.ctx, pcore, "nonnegative")
                if not implies(proof.sign, "nonnegative"):
                    return None
                bound, entries = tr.sum_entries(tr.entry(pcore), "n"), proof.sign
            # β ≥ 0 factor by factor (a divisor ≥ 0 is > 0 where f is defined)
            beta_sign = self.coef_sign(-ot.sign * s, list(ot.coefs) + oc)
            if any(q > 0 for _, q in ucoefs):
                beta_sign = mul_sign(beta_sign, "nonnegative")
            margin, form = sign_of_sympy(alpha + beta * bound, "nonnegative")
        except Exception:  # noqa: BLE001 - SymPy failing on a rewrite proves nothing
            return None
        if not (implies(beta_sign, "nonnegative") and implies(margin, "nonnegative")):
            return None
        label = D.PD if margin == "positive" and entries == "positive" else D.PSD
        self.steps.append(
            f"α*{'eye' if eye else 'diag(p)'} − β*u*u' with u = {_text(u)}{'' if eye else ' = p ≥ 0'}, "
            f"β = {sp.sstr(-beta)} ≥ 0 and α − β*{'u' + chr(39) + '*u' if eye else 'sum(p)'} = {sp.sstr(form)} ≥ 0: "
            f"{label} by Cauchy–Schwarz, (u'z)² ≤ {'‖u‖²‖z‖²' if eye else 'sum(p)·Σ p_i z_i²'} [schwarz]")
        return label


def _strip_t(node):
    """A node with transposes of names removed (an entry does not change under transposition)."""
    match node:
        case A.Transpose(arg=a):
            return _strip_t(a)
        case A.Call(func=f, args=args):
            return A.Call(f, tuple(_strip_t(a) for a in args))
        case A.BinOp(op=op, left=l, right=r):
            return A.BinOp(op, _strip_t(l), _strip_t(r))
        case A.Neg(arg=a):
            return A.Neg(_strip_t(a))
    return node


# -- proofs from the whole Hessian ---------------------------------------------------------------
def _kinds(problem) -> dict:
    return {n: v.kind for n, v in problem.variables.items()}


def _params_fixed(problem) -> dict:
    return {n: v for n, v in problem.fixed.items() if n not in problem.wrt_names}


def _ir_zero(node) -> bool:
    from ..ir.nodes import Mul, Num

    if isinstance(node, Num):
        return node.value == 0
    return isinstance(node, Mul) and any(isinstance(f, Num) and f.value == 0 for f in node.factors)


def structural_proof(problem) -> Proof:
    """The rules of the module docstring over the Hessian's matrix form."""
    if _ir_zero(problem.hessian_d.node):
        return Proof(D.ZERO, ("the Hessian is identically zero",))
    # the rules read eye as the identity whatever its size: a written size (eye(len(x))) is dropped
    matrix = without_sizes(problem.hessian_d.matrix)
    if matrix is None:
        return tensor_proof(problem)
    kinds = _kinds(problem)
    typed = normal_form(matrix, problem.expression)
    if typed is None:
        return Proof(None, ("the Hessian's matrix form could not be re-read for the proof",))
    for how, reading in readings(typed):
        prover = Prover(reading, problem.assume, _params_fixed(problem), kinds)
        label = prover.definite(reading.tree)
        if label is not None:
            head = () if how == "as written" else (f"the Hessian {how}: {shorten(reading.expr.text, 200)}",)
            return Proof(label, head + tuple(dict.fromkeys(prover.steps)))
    return Proof(None)


def tensor_proof(problem) -> Proof:
    """The kron rule on a 4-index Hessian (a matrix wrt), read from the IR."""
    from ..ir.nodes import MatFun, Mul, Num, Var

    d = problem.hessian_d
    node, out = d.node, d.out
    if len(out) != 4 or not isinstance(node, Mul):
        return Proof(None, ("the Hessian has no matrix form and no rule for its index form",))
    nums = [f for f in node.factors if isinstance(f, Num)]
    mats = [f for f in node.factors if not isinstance(f, Num)]
    if len(mats) != 2 or not all(isinstance(m, MatFun) and family_of(m.func) == "inverse" for m in mats):
        return Proof(None, ("the Hessian's index form matches no rule",))
    a, b = mats
    if a.arg is not b.arg or not isinstance(a.arg, Var) or a.arg.name != problem.wrt:
        return Proof(None, ("the Hessian's index form matches no rule",))
    if tuple(a.arg.idx) != (a.r, a.c) or (a.r, a.c) != (b.r, b.c):
        return Proof(None, ("the Hessian's index form matches no rule",))
    x = problem.wrt
    if problem.assume.get(x) not in ("pd", "nd"):
        return Proof(None, (), hint=say(f"the Hessian c·inv({x})·inv({x}) (index form) is definite where {x} is: ",
                                        option(f"assuming {x} positive definite restricts f to such {x}",
                                               Hint("assume", x, "pd"),
                                               f"f restricted to positive definite {x} would be settled")))
    c = float(np.prod([f.value for f in nums])) if nums else 1.0
    i, j, k, l_ = out
    pairs = {frozenset(a.out), frozenset(b.out)}
    symmetric = problem.wrt_kind == "symmetric matrix"
    if pairs == {frozenset((j, k)), frozenset((l_, i))} and symmetric:
        form = f"c·tr(V·Y·V·Y) = c·‖Y^½·V·Y^½‖² for symmetric V, Y = inv({x})"
    elif pairs == {frozenset((i, k)), frozenset((j, l_))}:
        form = f"c·tr(V·Y·V'·Y) = c·‖Y^½·V·Y^½‖², Y = inv({x})"
    elif pairs == {frozenset((i, j)), frozenset((k, l_))}:
        form = f"c·(Y:V)², Y = inv({x})"
    else:
        return Proof(None, ("the Hessian's index form matches no rule",))
    # Y = inv(X) is PD when X is PD (its eigenvalues are the reciprocals), ND when X is ND; the
    # forms tr(VYVY) and tr(VYV'Y) are unchanged by Y → −Y, so only c's sign matters.
    if c == 0:
        label = D.ZERO
    elif "(Y:V)" in form:
        label = D.PSD if c > 0 else D.NSD
    else:
        label = D.PD if c > 0 else D.ND
    step = (f"H_ijkl = {c:g}·Y·Y (index form {d.text.split('=', 1)[-1].strip()}); {x} is assumed "
            f"{problem.assume[x]}, so Y is definite; z:H:z = {form}: {label} [kron]")
    return Proof(label, (step,), "structure (index form)")


def minors_proof(problem) -> Proof:
    """For a function of a few scalars (sizes all fixed): the SymPy Hessian's principal minors."""
    from itertools import combinations

    from .to_sympy import MatrixTranslator, Unsupported, constant, sign_of_sympy, symbols_for, sympy

    sp = sympy()
    if sp is None:
        return Proof(None, (say("SymPy is not installed (", Hint("install", None, "analysis"), ")"),), "minors")
    n = problem.n_coords()
    if n is None or n > 4 or problem.wrt_kind == "symmetric matrix":
        return Proof(None, (), "minors")
    sizes = problem.sizes
    params = [p for p in problem.params if p not in problem.fixed]
    try:
        values, flat = symbols_for(problem.variables, problem.wrt_names, sizes, problem.assume)
        pvals, _ = symbols_for(problem.variables, params, sizes, problem.assume)
        values.update(pvals)
        for name, v in _params_fixed(problem).items():
            values[name] = constant(v, problem.variables[name].kind)
        f = MatrixTranslator(problem.expression, values, sizes).scalar()
        H = sp.hessian(f, flat)
    except (Unsupported, KeyError, TypeError, ValueError, ZeroDivisionError) as e:
        return Proof(None, (f"no SymPy Hessian: {e}",), "minors")
    shown = sp.sstr(H.tolist())
    if not H.free_symbols:
        d = D.classify(np.array(H.evalf().tolist(), dtype=float))
        label = None if d.label == D.INDEFINITE else d.label
        return Proof(label, ((f"the Hessian {shown} is constant with eigenvalues "
                             f"{', '.join(f'{v:.6g}' for v in d.eigenvalues)}: {d.label} [minors]"),), "minors")
    # Sylvester: PD iff leading minors > 0; PSD iff all principal minors ≥ 0 (likewise −H).
    for sign, (strict, weak) in ((1, (D.PD, D.PSD)), (-1, (D.ND, D.NSD))):
        M = sign * H
        leading = [M[:k, :k].det() for k in range(1, n + 1)]
        if all(implies(sign_of_sympy(m, "positive")[0], "positive") for m in leading):
            return Proof(strict, ((f"Hessian {shown}: the leading principal minors of "
                                  f"{'' if sign > 0 else '−'}H are > 0 (Sylvester): {strict} [minors]"),), "minors")
        minors = [M.extract(list(c), list(c)).det() for k in range(1, n + 1)
                  for c in combinations(range(n), k)]
        if all(implies(sign_of_sympy(m, "nonnegative")[0], "nonnegative") for m in minors):
            return Proof(weak, ((f"Hessian {shown}: every principal minor of "
                                f"{'' if sign > 0 else '−'}H is ≥ 0: {weak} [minors]"),), "minors")
    return Proof(None, (f"Hessian {shown}: no sign of its minors is provable",), "minors")


# -- numbers ---------------------------------------------------------------------------------------
@dataclass
class Sampling:
    """Hessian eigenvalues at random points: the most negative and most positive seen."""

    tried: int = 0
    defined: int = 0
    vanished: int = 0  # points where every eigenvalue was within the witness tolerance of 0
    worst_negative: tuple | None = None  # (λ_min, values, tolerance)
    worst_positive: tuple | None = None  # (λ_max, values, tolerance)
    sizes: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        def w(x):
            return None if x is None else {"eigenvalue": x[0], "at": _json_values(x[1]), "tolerance": x[2]}
        return {"tried": self.tried, "defined": self.defined, "vanished": self.vanished,
                "negative_witness": w(self.worst_negative), "positive_witness": w(self.worst_positive)}


#: Tolerance of a witness: an eigenvalue below −max(WITNESS_RTOL·max|λ|, WITNESS_ATOL).
WITNESS_RTOL = 1e-6
WITNESS_ATOL = 1e-9


def sample(problem, samples: int = 60, seed: int = 0) -> Sampling:
    """Evaluate the Hessian at ``samples`` random points (parameters random too, unless fixed)."""
    sizes = problem.complete_sizes()
    out = Sampling(sizes=sizes)
    for rng, scale in problem.draws(samples, seed):
        values = problem.random_values(rng, sizes, scale)
        out.tried += 1
        try:
            if not np.isfinite(problem.f(values)):
                continue
            H = problem.hessian(values, sizes)
        except RicciError:
            continue
        if not np.all(np.isfinite(H)):
            continue
        out.defined += 1
        with np.errstate(all="ignore"):
            ev = D.symmetric_eigenvalues(H)
        tol = D.tolerance(ev, WITNESS_RTOL, WITNESS_ATOL)
        out.vanished += bool(np.all(np.abs(ev) <= WITNESS_ATOL))
        if ev[0] < -tol and (out.worst_negative is None or ev[0] / max(abs(ev).max(), 1e-300) <
                             out.worst_negative[0] / max(out.worst_negative[3], 1e-300)):
            out.worst_negative = (float(ev[0]), values, tol, float(abs(ev).max()))
        if ev[-1] > tol and (out.worst_positive is None or ev[-1] / max(abs(ev).max(), 1e-300) >
                             out.worst_positive[0] / max(out.worst_positive[3], 1e-300)):
            out.worst_positive = (float(ev[-1]), values, tol, float(abs(ev).max()))
    return out


def _json_values(values: dict) -> dict:
    return {n: (v if isinstance(v, float) else np.asarray(v).tolist()) for n, v in values.items()}


def depends_on_wrt(problem) -> bool:
    """Whether the Hessian's IR mentions a variable differentiated by (through ``where`` too)."""
    from ..ir.nodes import Var
    from ..ir.traverse import nodes

    bindings = problem.hessian_d.lowered.bindings
    todo, seen = [problem.hessian_d.node], set()
    while todo:
        for n in nodes(todo.pop()):
            if isinstance(n, Var):
                if n.name in problem.wrt_names:
                    return True
                if n.name in bindings and n.name not in seen:
                    seen.add(n.name)
                    todo.append(bindings[n.name][0])
    return False


# -- the verdict -----------------------------------------------------------------------------------
@dataclass
class Convexity:
    """Convex / concave everywhere, not, or unknown; with the proof and the witnesses."""

    verdict: str
    convex: bool | None
    concave: bool | None
    strict: bool
    reason: list[str]
    proof: Proof
    sampling: Sampling
    witness: dict | None = None  # a point where the Hessian has a negative eigenvalue
    witness_eigenvalue: float | None = None
    notes: list[str] = field(default_factory=list)
    #: where ricci gives no Hessian: the random segment that refutes convexity, {"a": values,
    #: "b": values, "midpoint": f((a + b)/2), "chord": (f(a) + f(b))/2}; ``witness`` its midpoint
    segment: dict | None = None

    def to_json(self) -> dict:
        seg = self.segment
        return {"verdict": self.verdict, "convex": self.convex, "concave": self.concave,
                "strict": self.strict, "reason": self.reason, "proof_label": self.proof.label,
                "method": self.proof.method,
                "witness": None if self.witness is None else _json_values(self.witness),
                "witness_eigenvalue": self.witness_eigenvalue,
                "sampling": self.sampling.to_json(), "notes": self.notes,
                "segment": None if seg is None else {"a": _json_values(seg["a"]), "b": _json_values(seg["b"]),
                                                     "midpoint": seg["midpoint"], "chord": seg["chord"]}}


def _values_text(values: dict) -> str:
    parts = []
    for n, v in values.items():
        if isinstance(v, float):
            parts.append(f"{n} = {v:.4g}")
        else:
            with np.printoptions(precision=3, suppress=True):
                parts.append(f"{n} = {np.array2string(np.asarray(v), separator=', ').replace(chr(10), '')}")
    return ", ".join(parts)


def _assumption(problem, name: str) -> str:
    """The assumption that would make a Hessian in ``name`` PSD: psd for a matrix, else positive."""
    kind = problem.variables[name].kind
    return "psd" if kind in ("matrix", "symmetric matrix") else "positive"


def _attempt(prove, problem) -> Proof:
    """A proof, or none when the prover fails: a proof is an extra, so an internal error in one
    (a Hessian in a form no rule expected) is reported, not raised; the numbers still decide."""
    try:
        return prove(problem)
    except RecursionError:
        return Proof(None, (), hint="the Hessian is too deeply nested for the structural rules")
    except Exception as e:  # noqa: BLE001 - see the docstring
        return Proof(None, (), hint=f"the {prove.__name__.replace('_', ' ')} stopped on an internal error "
                                    f"({type(e).__name__}: {e}); please report it")


def _nonsmooth(problem) -> list[str]:
    """The functions of f whose derivatives exist only almost everywhere (``Function.nonsmooth``
    in the function table): their Hessian misses the kinks (relu'' = 0 a.e., yet relu is not
    concave), so it proves nothing about convexity."""
    return sorted({n.func for n in A.walk(problem.expression.tree)
                   if isinstance(n, A.Call) and (fn := lookup(n.func)) is not None and fn.nonsmooth})


def _curvature(problem):
    """The table's curvature facts (analysis/curvature.py), or None where they prove nothing or
    the reading stops on an internal error (reported by the numbers, as _attempt's)."""
    from .curvature import curvature_proof

    try:
        return curvature_proof(problem)
    except Exception:  # noqa: BLE001 - a proof is an extra (see _attempt)
        return None


def analyse_convexity(problem, samples: int = 60, seed: int = 0) -> Convexity:
    kinks = _nonsmooth(problem)
    facts = _curvature(problem) if kinks and all(lookup(k).curvature for k in kinks) else None
    if problem.hessian_d is None:
        return _without_hessian(problem, facts, samples, seed)
    if facts is not None:  # lambda_max, the norms: convex by the table's facts, not by a Hessian
        proof = Proof(facts[0], facts[1], "curvature")
    elif kinks:
        proof = Proof(None, (), hint=f"f uses {', '.join(kinks)}, which is not twice differentiable everywhere: "
                                     "the Hessian (almost everywhere) cannot show convexity, only refute it")
    else:
        proof = _attempt(structural_proof, problem)
    if proof.label is None and not kinks:
        other = _attempt(minors_proof, problem)
        if other.label is not None:
            proof = other
        elif other.steps or other.hint:
            proof = Proof(None, proof.steps + other.steps, proof.method, proof.hint or other.hint)
    s = sample(problem, samples, seed)
    notes = []
    convex = concave = None
    label = proof.label
    if label is not None:
        convex = label in PSD_LIKE or None
        concave = label in NSD_LIKE or None
    neg, pos = s.worst_negative, s.worst_positive
    if convex and neg is not None:
        notes.append(f"inconsistent: the proof says {label}, but at {_values_text(neg[1])} the Hessian "
                     f"has eigenvalue {neg[0]:.6g}; the proof is withdrawn")
        convex, label = None, None
    if concave and pos is not None:
        notes.append(f"inconsistent: the proof says {proof.label}, but at {_values_text(pos[1])} the "
                     f"Hessian has eigenvalue {pos[0]:.6g}; the proof is withdrawn")
        concave, label = None, None
    if convex is None and neg is not None:
        convex = False
    if concave is None and pos is not None:
        concave = False
    reason = list(proof.steps) if label is not None else []
    witness = lam = None
    free_params = [p for p in problem.missing_params]
    hess = problem.hessian_d.text
    if convex and concave:
        verdict = "affine (convex and concave): the Hessian is zero"
    elif convex:
        verdict = "convex everywhere" + (" (strictly: the Hessian is PD)" if label == D.PD else "")
    elif concave:
        verdict = "concave everywhere" + (" (strictly: the Hessian is ND)" if label == D.ND else "")
    elif convex is False and not depends_on_wrt(problem) and free_params:
        verdict = "unknown"
        p0 = free_params[0]
        reason = [say(f"the Hessian {shorten(hess)} does not depend on {', '.join(problem.wrt_names)}: f is convex "
                      f"exactly where it is PSD, which depends on {', '.join(free_params)}; ",
                      Choice(((f"declare that {p0} is {_assumption(problem, p0)}",
                               Hint("assume", p0, _assumption(problem, p0))),
                              (f"fix {p0}'s value", Hint("at", p0))),
                             {"api": f"a request has no field for an assumption on {p0} or a value of it, "
                                     f"so {p0} is drawn at random",
                              "page": f"the page has no control for an assumption on {p0} or a value of it, "
                                      f"so {p0} is drawn at random"}))]
        witness, lam = neg[1], neg[0]
        reason.append(f"for example at {_values_text(neg[1])} it has eigenvalue {neg[0]:.6g} < 0")
    elif convex is False:
        witness, lam = neg[1], neg[0]
        verdict = "not convex" + (" and not concave" if concave is False else "")
        reason = [(f"at {_values_text(neg[1])} the Hessian has eigenvalue {neg[0]:.6g} < 0 "
                  f"(tolerance {neg[2]:.3g})")]
        if concave is False:
            reason.append(f"at {_values_text(pos[1])} it has eigenvalue {pos[0]:.6g} > 0")
        if free_params:
            reason.append(say(f"(with {', '.join(free_params)} drawn at random too",
                              option("; give them values to ask about particular ones", Hint("at", free_params[0])),
                              ")"))
    elif concave is False:
        verdict = "unknown (not concave)"
        reason = [(f"no structural rule proves the Hessian PSD; no negative eigenvalue at {s.defined} "
                  f"random points (so it looks convex, unproven); at {_values_text(pos[1])} it has "
                  f"eigenvalue {pos[0]:.6g} > 0, so f is not concave")] + list(proof.steps)
    else:
        verdict = "unknown"
        reason = [("no structural rule decides the Hessian's definiteness, and no random point gave a "
                  f"witness ({s.defined} of {s.tried} points in the domain)")] + list(proof.steps)
        if s.defined and s.vanished == s.defined and not kinks:
            verdict = "unknown (the Hessian vanished at every point tried: f looks affine)"
    if proof.hint and not (convex or concave):
        notes.append(proof.hint)
    return Convexity(verdict, convex, concave, label in (D.PD, D.ND), reason, proof, s, witness, lam, notes)


def _without_hessian(problem, facts, samples: int, seed: int) -> Convexity:
    """The verdict where ricci does not give the Hessian (the spectral and nuclear norms): the
    function table's facts prove (analysis/curvature.py), random segments refute
    (analysis/segments.py); nothing else is claimed."""
    from .segments import segments

    proof = Proof(facts[0], facts[1], "curvature") if facts is not None else Proof(None, (), "segments")
    seg = segments(problem, samples, seed)
    convex = concave = None
    if proof.label is not None:
        convex = proof.label in PSD_LIKE or None
        concave = proof.label in NSD_LIKE or None
    notes = ["without the Hessian, f is tried along random segments: f((a + b)/2) against the chord's "
             "midpoint (f(a) + f(b))/2"]
    for holds, broken, word in ((convex, seg.above, "above"), (concave, seg.below, "below")):
        if holds and broken is not None:
            notes.append(f"inconsistent: the proof says {proof.label}, but a random segment has its midpoint "
                         f"{word} the chord by {broken[0]:.3g}; the proof is withdrawn")
            convex = concave = None
    if convex is None and seg.above is not None:
        convex = False
    if concave is None and seg.below is not None:
        concave = False
    wrt = problem.wrt_names

    def ends(broken):
        _, a, b, fm, chord = broken
        return (f"from {_values_text({n: a[n] for n in wrt})} to {_values_text({n: b[n] for n in wrt})} "
                f"f((a + b)/2) = {fm:.6g}"), fm, chord

    reason = list(proof.steps) if (convex or concave) else []
    witness = segment = None
    if convex and concave:
        verdict = "affine (convex and concave)"
    elif convex:
        verdict = "convex everywhere"
    elif concave:
        verdict = "concave everywhere"
    elif convex is False:
        _, a, b, fm, chord = seg.above
        verdict = "not convex" + (" and not concave" if concave is False else "")
        text, _, _ = ends(seg.above)
        reason = [f"on the segment {text} > {chord:.6g} = (f(a) + f(b))/2: the midpoint lies above the chord"]
        if concave is False:
            text, fm2, chord2 = ends(seg.below)
            reason.append(f"on the segment {text} < {chord2:.6g}: below the chord")
        witness = {n: (a[n] + b[n]) / 2 for n in wrt}
        segment = {"a": {n: a[n] for n in wrt}, "b": {n: b[n] for n in wrt}, "midpoint": fm, "chord": chord}
    elif concave is False:
        verdict = "unknown (not concave)"
        text, _, chord = ends(seg.below)
        reason = [f"no rule of the function table decides; on the segment {text} < {chord:.6g} = "
                  "(f(a) + f(b))/2, so f is not concave"]
    else:
        verdict = "unknown"
        reason = [f"no rule of the function table decides, and no random segment gave a witness "
                  f"({seg.defined} of {seg.tried} in the domain)"]
    sampling = Sampling(tried=seg.tried, defined=seg.defined, sizes=seg.sizes)
    return Convexity(verdict, convex, concave, False, reason, proof, sampling, witness, None, notes, segment)
