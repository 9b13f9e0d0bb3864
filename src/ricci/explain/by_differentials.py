"""The differential method, assembled: ``d.steps(method="differentials")`` and the linear map.

For a derivative ``d`` of order k, :func:`derivation` writes the differential of the function
(order 1) or of ricci's derivative of order k − 1 (the Hessian is the derivative of the
gradient, as the lecture says; where that is a tensor, :mod:`.higher`'s route through vec), rule
by rule (:mod:`.differentials`), brings it to a standard
form with the rearrangements named (:mod:`.identify`), and identifies the derivative with the
table that licenses it.  The identified derivative is the rearrangement's own expression; the
final "=" shows ricci's simplified answer beside it, and tests/test_differentials.py checks
with numbers that the two agree for every lecture and Cookbook case.

:class:`LinearMap` is the derivative as a linear map, ``f'(X)[dX] = dF`` in the input language
(dX a variable of X's kind), which evaluates on a direction: the JVP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..language import ast as A
from ..language.errors import BadValueError, RicciError
from ..printing import mathml as M
from ..printing.latex import name_latex
from ..printing.text import to_text
from . import formula as F
from .differentials import RULES, ZERO, Differentials, trace_name, add, mul, simplify_zero, substitute
from .differentials import EYE
from .identify import REARRANGEMENTS, TABLE, Comm, Diag, JTerm, Kron, Outer, Pull, Vec, merge, terms, tp
from .dforms import d_node, d_of, dformula, dname, textbook, vec_word
from .higher import identification, stacked, through_vec
from .higher import steps as higher_steps
from .higher import what as higher_what
from .steps import Step, Steps
from .tensor import commutation_matrix

# =================================================================================================
# The function the method differentiates, and its differential
# =================================================================================================
class Problem:
    """What is differentiated: the expression (order 1) or ricci's derivative of order k − 1."""

    def __init__(self, d):
        from ..derivation import derivative

        self.d = d
        self.order = d.order
        self.names = list(d.wrt) if isinstance(d.wrt, list) else [d.wrt]
        self.kinds = {n: v.kind for n, v in d.expression.variables.items()}
        #: the kinds of the forms: a symmetric matrix's differential is any matrix (the
        #: unconstrained derivative, ARCHITECTURE §1), so the form of its derivative is a matrix's
        self.form_kinds = {n: "matrix" if k == "symmetric matrix" else k for n, k in self.kinds.items()}
        #: the route through vec where the order k − 1 is a tensor (:mod:`.higher`)
        self.higher = None
        if d.order == 1:
            self.expr = d.expression
            self.source = d.expression.source
        elif (prev := derivative(d.expression, d.wrt, d.order - 1, self.kinds)).matrix is None:
            self.higher = through_vec(self)
            self.kinds = self.higher.kinds  # with the fixed directions
            self.expr = self.higher.expr
            self.source = to_text(self.expr.tree)
        else:
            # the previous order's typed answer, as it was built (not its text parsed again): its
            # dimensions are the function's; the steps read those of the forms they type (_sizes)
            self.source = prev.text
            self.expr = prev.as_expression()
        self.diff = Differentials(self.expr, tuple(self.names))
        self.dnames = {n: self.diff.dnames[n] for n in self.names}
        self.bindings = self.diff.bindings

    # -- texts ---------------------------------------------------------------------------------------
    def where(self, body: A.Expr) -> A.Expr:
        return A.Where(body, self.bindings) if self.bindings else body

    def total(self) -> A.Expr:
        """dF in terms of the variables' differentials only (bound ones put in)."""
        return self.diff.total()

    def direction_kinds(self) -> dict:
        kinds = dict(self.kinds)
        for n, dn in self.dnames.items():
            kinds[dn] = self.form_kinds[n]
        return kinds

    def typed(self, body: A.Expr):
        """The expression ``body`` (with the bindings) typed with the differentials declared (the
        tree itself, not its printed text)."""
        from ..language.expression import typed_tree

        return typed_tree(self.where(body), self.direction_kinds())

    def evaluate(self, body: A.Expr, values: dict, pin: str | None = None):
        """The value of ``body`` at ``values`` (``pin``: a name whose shape it has, for constants
        such as matrix(1) whose size nothing else fixes)."""
        if pin is not None:
            body = A.BinOp("+", body, A.BinOp("*", ZERO, A.Name(pin)))
        e = self.typed(body)
        return np.asarray(e.evaluate(values), dtype=float)


# =================================================================================================
# The derivation
# =================================================================================================
@dataclass
class Identified:
    """The derivative read off the standard form: its text (the rearrangement's expression or a
    Jacobian of Kronecker factors), the standard form, the table's entry, and its value."""

    kind: str
    standard: F.Formula
    result: F.Formula
    value: object  # values -> ndarray, of ricci's shape for the derivative
    rules: tuple = ()


class Derivation:
    """The differential method for one derivative: the differential, the standard form, the
    identification; :meth:`steps` renders it, :meth:`evaluate` gives the identified numbers."""

    def __init__(self, d):
        self.problem = p = Problem(d)
        self.d = d
        self.dF = p.total()
        wrt_kind = p.form_kinds[p.names[0]]
        fscalar = p.expr.type.is_scalar
        if isinstance(d.wrt, list) or wrt_kind == "scalar":
            self.identified = self._coefficients()
        elif fscalar:
            self.identified = self._trace_form(wrt_kind)
        else:
            self.identified = self._vec_form()
        if p.higher is not None:
            self.identified = stacked(self.identified, p.higher, p)

    # -- the three identifications ------------------------------------------------------------------
    def _coefficients(self) -> Identified:
        """df = a dt (+ b ds …): each coefficient is dF with its differential 1 and the others 0."""
        p = self.problem
        coefs = []
        for n in p.names:
            sub = {dn: (A.Num(1.0) if m == n else ZERO) for m, dn in p.dnames.items()}
            coefs.append(simplify_zero(substitute(self.dF, sub)))
        lhs = self._lhs()
        standard = lhs + F.EQ + F.join([_dx(p, c, n) for c, n in zip(coefs, p.names)], F.PLUS)
        fshape = p.expr.type.shape

        def value(values):
            vs = [np.broadcast_to(p.evaluate(c, values), _shape_of(p, values)) if not fshape else
                  p.evaluate(A.BinOp("+", c, A.BinOp("*", ZERO, p.expr.tree if not p.bindings else p.expr.tree.body)),
                             values) for c in coefs]
            if isinstance(self.d.wrt, list):
                return np.stack([np.asarray(v, dtype=float) for v in vs], axis=-1)
            return np.asarray(vs[0], dtype=float)

        if len(coefs) == 1:
            result = self._ddt() + F.EQ + self._expr(coefs[0])
        else:
            result = self._ddt() + F.EQ + F.paren(F.join([self._expr(c) for c in coefs], F.COMMA), "[", "]")
        return Identified("scalar", standard, result, value)

    def _trace_form(self, kind: str) -> Identified:
        p = self.problem
        dn = p.dnames[p.names[0]]
        form = p.typed(self.dF)
        body = form.tree.body if isinstance(form.tree, A.Where) else form.tree
        self.rearranged = []
        total = None
        row = None
        rules: list = []
        for t in terms(body):
            pull = Pull(form, (dn,))
            pull.run(t, A.Num(1.0))
            g = pull.out.get(dn)
            if g is None:
                continue
            self.rearranged.append((t, g, tuple(pull.rules)))
            rules += [r for r in pull.rules if r not in rules]
            total = add(total, g)
            row = add(row, tp(g, False, p.direction_kinds()))
        total = total if total is not None else ZERO
        row = row if row is not None else ZERO
        self.G = total
        name = p.names[0]
        if kind == "vector":
            std = self._expr(mul(_paren_sum(row), A.Name(dn)))
            result = self._ddt() + F.EQ + self._expr(row)
        else:
            std = self._expr(A.Call(trace_name(), (mul(_paren_sum(tp(total, False, p.direction_kinds())), A.Name(dn)),)))
            result = self._ddt() + F.EQ + self._expr(total)
        return Identified(kind, self._lhs() + F.EQ + std, result,
                          lambda values: p.evaluate(total, values, pin=name), tuple(rules))

    def _vec_form(self) -> Identified:
        p = self.problem
        dn = p.dnames[p.names[0]]
        form = p.typed(self.dF)
        body = form.tree.body if isinstance(form.tree, A.Where) else form.tree

        def pull(s):
            pl = Pull(form, (dn,))
            pl.run(s, A.Num(1.0))
            return pl.out.get(dn) or ZERO

        vec = Vec(form, dn, pull)
        js = [merge(j) for j in vec.jac(body)]
        self.J = js
        self.form = form  # the factors' dimensions are this form's (_sizes)
        ftype = p.expr.type
        vector = ftype.cols == 1 and p.form_kinds[p.names[0]] == "vector"
        jf = self._jsum(js)
        if vector:
            std = self._lhs() + F.EQ + (F.paren(jf) if len(js) > 1 else jf) + F.TIMES + dname(dn)
            kind = "jacobian"
        else:
            std = (vec_word() + self._lhs() + F.EQ + (F.paren(jf) if len(js) > 1 else jf) + F.words(" ") + vec_word()
                   + dname(dn))
            kind = "vec"
        result = F.name("J") + F.EQ + jf

        def value(values):
            return self._jvalue(js, values)

        return Identified(kind, std, result, value, tuple(vec.rules))

    # -- numbers of the Jacobian ---------------------------------------------------------------------
    def _sizes(self, values) -> dict:
        """Each dimension of the form the Jacobian's factors were read from (the checker's names
        for it, which need not be the function's) → its size in ``values``; a differential dX
        has X's."""
        of = {dn: n for n, dn in self.problem.dnames.items()}
        out = {1: 1}
        for n, v in self.form.variables.items():
            n = n if n in values else of.get(n)
            if n in values:
                shape = np.shape(np.asarray(values[n], dtype=float))
                for dim, size in zip(v.dims, shape):
                    out[dim] = size
        return out

    def _jvalue(self, js, values, commutation: bool = True) -> np.ndarray:
        p = self.problem
        sizes = self._sizes(values)
        xname = p.names[0]
        xshape = np.shape(np.asarray(values[xname], dtype=float))
        nx = int(np.prod(xshape)) if xshape else 1

        def mat(e):
            typed = p.typed(e)  # parsed once: its value, and its type for a vector
            v = np.asarray(typed.evaluate(values), dtype=float)
            if v.ndim == 1:  # a vector: a row or a column, as its type says
                return v.reshape(1, -1) if typed.type.is_row else v.reshape(-1, 1)
            return v.reshape(1, 1) if v.ndim == 0 else v

        def vec(e, pin=None):
            return p.evaluate(e, values, pin).reshape(-1, order="F")

        total = None
        for j in js:
            acc = None
            for f in reversed(j.factors):
                if isinstance(f, Kron):
                    P = np.eye(sizes[f.pdim]) if f.p is None else mat(f.p)
                    Q = np.eye(sizes[f.qdim]) if f.q is None else mat(f.q)
                    m = np.kron(P, Q)
                elif isinstance(f, Comm):  # without it (commutation=False): the slip of a K left out
                    m = commutation_matrix(sizes[f.m], sizes[f.n]) if commutation else np.eye(sizes[f.m] * sizes[f.n])
                elif isinstance(f, Diag):
                    m = np.diag(mat(f.b).reshape(-1, order="F"))
                elif isinstance(f, Outer):
                    rows, cols = sizes[f.shape[0]], sizes[f.shape[1]]
                    entry = _constant(f.c)
                    c = (np.eye(rows) if f.c == EYE else np.full((rows, cols), entry) if entry is not None
                         else np.broadcast_to(mat(f.c), (rows, cols)))
                    m = np.outer(c.reshape(-1, order="F"), vec(f.g, xname))
                else:  # Embed
                    n = sizes[f.n]
                    m = np.zeros((n * n, n)) if f.into else np.zeros((n, n * n))
                    for i in range(n):
                        if f.into:
                            m[i + n * i, i] = 1.0
                        else:
                            m[i, i + n * i] = 1.0
                acc = m if acc is None else m @ acc
            if acc is None:
                acc = np.eye(nx)
            c = 1.0 if j.coef is None else float(p.evaluate(j.coef, values))
            total = c * acc if total is None else total + c * acc
        return total

    # -- formulas -------------------------------------------------------------------------------------
    def _expr(self, e: A.Expr) -> F.Formula:
        return dformula(e, self.problem.dnames | {n: self.problem.diff.dnames[n] for n in self.problem.diff.bound})

    def _lhs(self) -> F.Formula:
        p = self.problem
        if p.order > 1:
            return d_of(_prev_name(p))
        return d_of("f" if p.expr.type.is_scalar else "F")

    def _ddt(self) -> F.Formula:
        p = self.problem
        wrt = ", ".join(p.names)
        if p.order == 1:
            return F.partial(F.name("f" if p.expr.type.is_scalar else "F"), F.name(wrt) if len(p.names) == 1
                             else F.words(f"({wrt})"))
        return F.partial(F.name(_prev_name(p)), F.name(wrt) if len(p.names) == 1 else F.words(f"({wrt})"))

    def _jsum(self, js) -> F.Formula:
        """The terms of J joined with their signs: A - B, not A + -1*B (a coefficient ±1 is a sign)."""
        if not js:
            return F.number(0)
        out = F.EMPTY
        for k, j in enumerate(js):
            coef, negative = j.coef, False
            while isinstance(coef, A.Neg):
                coef, negative = coef.arg, not negative
            if isinstance(coef, A.Num) and coef.value == 1:
                coef = None
            term = self._jterm(JTerm(coef, j.factors))
            if k == 0:
                out = F.words("-") + term if negative else term
            else:
                out = out + (F.MINUS if negative else F.PLUS) + term
        return out

    def _jterm(self, j) -> F.Formula:
        parts = []
        if j.coef is not None:
            parts.append(self._expr(j.coef) if not isinstance(j.coef, A.BinOp) or j.coef.op in "*/"
                         else F.paren(self._expr(j.coef)))
        for f in j.factors:
            parts.append(self._factor(f))
        if not parts:
            return F.Formula("I", "I", M.mi("I", "normal"))
        return F.join(parts, F.TIMES)

    def _factor(self, f) -> F.Formula:
        if isinstance(f, Kron):
            if f.p is None and (f.pdim == 1):
                return self._expr(f.q)
            if f.q is None and (f.qdim == 1):
                return self._expr(f.p)
            left = _identity(f.pdim) if f.p is None else self._expr(f.p)
            right = _identity(f.qdim) if f.q is None else self._expr(f.q)
            return F.Formula(f"kron({left.text}, {right.text})", r"\left(" + left.latex + r" \otimes " + right.latex
                             + r"\right)", M.fenced(left.mathml + M.mo("\u2297") + right.mathml))
        if isinstance(f, Comm):
            return F.sub(F.name("K"), F.words(f"{f.m},{f.n}"))
        if isinstance(f, Diag):
            if f.column:  # the vec of a column is the column
                return F.words("diag(") + self._expr(f.b) + F.words(")")
            return F.words("diag(vec(") + self._expr(f.b) + F.words("))")
        if isinstance(f, Outer):
            c = self._expr(f.c) if f.shape[1] == 1 else F.words("vec(") + self._expr(f.c) + F.words(")")
            vector = self.problem.form_kinds[self.problem.names[0]] == "vector"
            g = self._expr(f.g) + F.words("'") if vector else F.words("vec(") + self._expr(f.g) + F.words(")'")
            return c + F.TIMES + g
        return F.sub(F.name("D" if f.into else "S"), F.words(str(f.n)))

    # -- the steps ------------------------------------------------------------------------------------
    @property
    def hessian(self) -> bool:
        """A second derivative of a scalar function of a vector: d²f = dx'H dx."""
        p = self.problem
        return p.order == 2 and p.d.expression.type.is_scalar and p.form_kinds[p.names[0]] == "vector"

    def steps(self) -> Steps:
        p = self.problem
        idf = self.identified
        out: list[Step] = []
        what = p.d.expression.text if p.order == 1 else f"{p.source}, ricci's derivative of order {p.order - 1}"
        if p.higher is not None:
            what = higher_what(p.higher, p)
        heading = F.words(f"The derivative of {p.d.expression.text} by {', '.join(p.names)}, by differentials")
        if p.higher is not None:
            out += higher_steps(p.higher, p)
        elif p.order > 1:
            out.append(Step("differentiate again", f"Differentiate the derivative of order {p.order - 1}",
                            F.words(f"{_prev_name(p)} = ") + F.expr(p.expr.shown),
                            F.words("a derivative of order k is the derivative of the one of order k − 1"
                                    + (" (the Hessian: of the gradient)" if self.hessian else ""))))
        lhs = self._lhs()
        dvars = ", ".join(f"d{n}" for n in p.names)
        differential = self._expr(p.diff.result) if p.diff.result is not None else F.number(0)
        out.append(Step("differential", "Differential", lhs + F.EQ + differential,
                        F.words(f"of {what}, one rule per operation; {dvars}: the differential of {', '.join(p.names)}")))
        for r in p.diff.records[::-1]:
            if r.depth > 2 or r.rule == "binding" or len(out) > 14:
                continue
            rule = RULES[r.rule]
            out.append(Step(rule.name, rule.name[:1].upper() + rule.name[1:],
                            d_node(r.node) + F.EQ + self._expr(r.result), textbook(rule.formula),
                            source=rule.source, depth=1))
        for n, e in p.bindings:
            if n in p.diff.bound:
                out.append(Step("chain rule", f"Differential of {n}", d_of(n) + F.EQ + self._expr(p.diff.bound[n]),
                                F.words(f"{n} = {to_text(e)} depends on {', '.join(p.names)}: d{n} is put in"),
                                depth=1))
        right = self._answer()
        # the standard form: the differential, its rearrangement, and ricci's simplified form of it
        std = idf.standard
        if idf.kind in ("vector", "matrix") and right is not None:
            dn = A.Name(p.dnames[p.names[0]])
            ans = right if idf.kind == "vector" else tp(right, False, p.kinds)
            body = mul(ans, dn) if idf.kind == "vector" else A.Call(trace_name(), (mul(ans, dn),))
            std = lhs + F.EQ + differential
            if to_text(body) != differential.text:
                std = std + F.EQ + self._expr(body)
        elif idf.kind == "scalar" and p.diff.result is not None and differential.text != _rhs(std)[0]:
            std = lhs + F.EQ + differential + F.EQ + F.Formula(*_rhs(std))
        form, gives = TABLE["hessian" if self.hessian else idf.kind]
        if self.hessian:
            std = F.words("d²f = ") + d_of(_prev_name(p)) + F.TIMES + dname(p.dnames[p.names[0]]) + F.EQ \
                + self._expr(mul(p.diff.result or ZERO, A.Name(p.dnames[p.names[0]]))) + F.words(" = dx'*J'*dx with ") \
                + idf.result
        note = F.words("the form ") + textbook(form)
        if idf.rules:
            note = note + F.words("; rearranged with ") + _rules(idf.rules)
        out.append(Step("standard form", "Standard form", std, note))
        for t, g, used in getattr(self, "rearranged", ()):
            g = tp(g, False, p.direction_kinds())
            dn = A.Name(p.dnames[p.names[0]])
            term = mul(g, dn) if idf.kind == "vector" else A.Call(trace_name(), (mul(g, dn),))
            if to_text(term) != to_text(t):
                out.append(Step("rearrange", "Rearrange", self._expr(t) + F.EQ + self._expr(term), _rules(used),
                                depth=1))
        result = idf.result
        if self.hessian:
            result = F.partial(F.name("f"), F.name(p.names[0]), 2) + F.EQ + textbook("(J + J')/2")
        if right is not None and (idf.kind != "vec" or self.hessian):
            shown = self._expr(right)
            if shown.text != _rhs(result)[0]:
                result = result + F.EQ + shown
        why = textbook(form) + F.words(f" gives {gives}")
        if p.higher is not None:
            why = why + identification(p.higher, p)
        out.append(Step("identification", "Identify", result, why))
        answer = self._expr(right) if right is not None else F.words(p.d.text)
        out.append(Step("result", "Result", answer, F.words("ricci's answer, with the same numbers")))
        return Steps(tuple(out), heading, derivative=self.d)

    def _answer(self):
        try:
            return self.d.matrix if self.d.matrix is not None else None
        except RicciError:
            return None

    # -- numbers --------------------------------------------------------------------------------------
    def jacobian_without_commutation(self, values: dict):
        """∂vec F/∂vec X with every commutation matrix left out (a student's slip), or None
        when the Jacobian has none."""
        js = getattr(self, "J", None)
        if not js or not any(isinstance(f, Comm) for j in js for f in j.factors):
            return None
        return self._jvalue(js, values, commutation=False)

    def evaluate(self, values: dict) -> np.ndarray:
        """The identified derivative's numbers, laid out as ricci's answer (``d.evaluate``); a
        Jacobian J of matrices is reshaped from vec (column-major) to the tensor's axes."""
        v = self.identified.value(values)
        if self.hessian and v is not None:  # d²f = dx'J'dx: the Hessian is J's symmetric part
            v = (np.asarray(v) + np.asarray(v).T) / 2
        if self.identified.kind in ("jacobian", "vec"):
            shape = np.shape(self.d.evaluate(values))
            if v is None:  # dF = 0: the zero map
                return np.zeros(shape)
            return np.asarray(v).reshape(shape, order="F") if len(shape) != 2 or self.identified.kind == "vec" \
                else np.asarray(v).reshape(shape)
        return np.asarray(v, dtype=float)


# =================================================================================================
# The derivative as a linear map (the JVP)
# =================================================================================================
class LinearMap:
    """f'(X)[dX] = dF: the first derivative as a linear map, written in the input language.

    ``text`` is ``f'(X)[dX] = …``; :meth:`evaluate` applies it to a direction (the JVP)."""

    def __init__(self, d):
        if d.order != 1:
            raise BadValueError("the linear map is the first derivative's: take ricci.derivative(…, order=1)")
        self.problem = p = Problem(d)
        self.d = d
        self.body = p.total()
        self.direction = {n: p.dnames[n] for n in p.names}
        dn = ", ".join(self.direction.values())
        self.lhs = f"f'({', '.join(p.names)})[{dn}]"
        #: the map's body in the input language (dX a variable of X's kind)
        self.expression = to_text(p.where(self.body))
        self.text = f"{self.lhs} = {self.expression}"
        body = dformula(self.body, p.dnames)
        self.formula = F.Formula(self.lhs, _lhs_latex(p), M.text(self.lhs)) + F.EQ + body
        self.latex = self.formula.latex

    def evaluate(self, values: dict, direction):
        """dF at ``values`` in the direction ``direction`` (an array of X's shape; a dict by the
        differential's name or the variable's for several variables)."""
        p = self.problem
        vals = dict(values)
        if not isinstance(direction, dict):
            if len(p.names) != 1:
                raise BadValueError(f"give one direction per variable: a dict by {', '.join(p.names)}")
            direction = {p.names[0]: direction}
        for n, dn in p.dnames.items():
            v = direction.get(n, direction.get(dn))
            if v is None:
                raise BadValueError(f"no direction for {n} (give it as {n!r} or {dn!r})")
            vals[dn] = v
        pin = p.names[0] if p.expr.type.is_scalar is False else None
        out = p.evaluate(self.body, vals) if pin is None else p.evaluate(
            A.BinOp("+", self.body, A.BinOp("*", ZERO, p.expr.tree.body if p.bindings else p.expr.tree)), vals)
        return float(out) if np.ndim(out) == 0 else out

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<ricci linear map {self.text}>"

    def _repr_latex_(self) -> str:
        return f"$${self.latex}$$"


# =================================================================================================
# entry points
# =================================================================================================
def differentials(d) -> Steps:
    """The differential method's steps for ``d`` (``d.steps(method="differentials")``)."""
    return Derivation(d).steps()


def linear_map(d) -> LinearMap:
    return LinearMap(d)


def _rules(keys) -> F.Formula:
    """The rearrangement rules used, named and stated."""
    return F.join([textbook(REARRANGEMENTS[k]) for k in keys], F.words("; "))


def _dx(p: Problem, coef: A.Expr, name: str) -> F.Formula:
    return dformula(mul(coef, A.Name(p.dnames[name])), p.dnames)


def _identity(dim) -> F.Formula:
    return F.sub(F.Formula("I", "I", M.mi("I", "normal")), F.words(str(dim)))


def _prev_name(p: Problem) -> str:
    return "g" if p.order == 2 else f"f{p.order - 1}"


def _lhs_latex(p: Problem) -> str:
    xs = ", ".join(name_latex(n) for n in p.names)
    ds = ", ".join(r"\mathrm{d}" + name_latex(n) for n in p.names)
    return f"f'({xs})[{ds}]"


def _rhs(f: F.Formula) -> tuple:
    return (f.text.split(" = ", 1)[-1], f.latex.split(" = ", 1)[-1], f.mathml.split(M.mo("="), 1)[-1])


def _constant(e: A.Expr):
    """The entry of vector(c), matrix(c), vector(c)' (their size is the context's), else None."""
    from ..functions import lookup

    if isinstance(e, A.Transpose):
        e = e.arg
    if isinstance(e, A.Call) and len(e.args) == 1 and isinstance(e.args[0], A.Num):
        fn = lookup(e.func)
        if fn is not None and fn.family == "constant":
            return e.args[0].value
    return None


def _paren_sum(e: A.Expr) -> A.Expr:
    return e  # the printer brackets a sum inside a product


def _shape_of(p: Problem, values) -> tuple:
    return ()


__all__ = ["Derivation", "LinearMap", "differentials", "linear_map", "dformula"]
