# Over 600 lines: the lecture's steps are built in one walk over the derivation, each reading those before.
"""The derivation, step by step, the way the lecture does it.

The lecture derives every result in the same order, and so does :func:`explain`:

1. **the shape** of the result and why (ARCHITECTURE §1: scalar by vector → a 1 × n row, …);
2. **the decomposition** into inner functions and the chain rule as a product of Jacobians with
   their shapes (∂L/∂θ = ∂L/∂e · ∂e/∂θ, 1 × N times N × D);
3. **each rule** applied, naming the identity (with its Matrix Cookbook equation);
4. **the simplifications** (the product of the Jacobians collected, the inner function put back);
5. **the result** and its shape (for a tensor also its index notation and Kronecker form).

How the decomposition is found, on the typed AST: a sub-expression that is *affine* in the
variable (y − Φθ, A*x, x − A*s) and sits under a non-linear operation becomes the inner function
e when it is the only such place (it may occur several times: (x − As)'W(x − As) = e'We);
otherwise a function of one non-trivial argument (log(sum(exp(x)))) is split at its argument.
The outer function is the expression with the inner one replaced by a fresh name, declared of the
inner's kind, so that **every partial Jacobian is computed by ricci itself** on a sub-expression
(``ricci.derivative("norm2(e)^2", "e", kinds={"e": "vector"})``): the explanation chooses
rules and names, but never computes a result of its own, so it cannot disagree with ``d.text``.
The product of the Jacobians in terms of e is ricci's derivative of ``L(e) where e = …``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..functions import lookup
from ..language import ast as A
from ..language.sizes import walk_values
from ..language.errors import RicciError
from ..language.expression import Expression, typed_tree
from ..language.kinds import SCALAR, SYMMETRIC, free_names
from ..printing.text import to_text
from . import formula as F
from .identities import find as find_identity
from .shapes import derivative_dims, dim_name, reason, shape_words
from .methods import MethodSteps
from .steps import Step, Steps
from .tensor import entries_form, index_form, kronecker_form

#: How deep rules nest below a step before the explanation only states their results.
MAX_DEPTH = 3
#: The most steps one explanation makes (a long derivation stays readable).
MAX_STEPS = 60

_FRESH = {"vector": ("e", "u", "v", "z", "w", "r", "q"), "matrix": ("E", "U", "V", "Z", "Y", "G"),
          "scalar": ("u", "s", "r", "q", "v", "z")}


# =================================================================================================
# Context: one expression being explained
# =================================================================================================
@dataclass
class _Shared:
    """What every context of one explanation shares: names in use, options, a cache."""

    bold: bool
    taken: set
    cache: dict = field(default_factory=dict)
    count: int = 0


class Ctx:
    """A typed expression, the variable it is differentiated by, and how to show its dimensions."""

    def __init__(self, expr: Expression, wrt, var_dims: dict, shared: _Shared, tree: A.Expr | None = None):
        self.expr = expr
        self.tree = tree if tree is not None else expr.tree
        self.wrt = wrt
        self.shared = shared
        #: every name's display dimensions (variables and where-bound names)
        self.var_dims = dict(var_dims)
        self.kinds: dict = {n: v.kind for n, v in expr.variables.items()}
        self.bound: dict = {}
        if isinstance(expr.tree, A.Where):
            for n, e in expr.tree.bindings:
                self.bound[n] = e
                t = expr.type_of(e)
                self.kinds[n] = SCALAR if t.is_scalar else "vector" if t.is_col else "matrix" if t.is_matrix else "row"
        self.dimmap: dict = {}
        for n, v in expr.variables.items():
            for own, shown in zip(v.dims, var_dims.get(n, ())):
                self.dimmap[str(own)] = shown
        for n, e in self.bound.items():
            t = expr.type_of(e)
            self.var_dims.setdefault(n, tuple(self.dim(x) for x in (t.rows, t.cols) if x != 1))
        self._dep: dict = {}

    def with_wrt(self, wrt) -> "Ctx":
        return Ctx(self.expr, wrt, self.var_dims, self.shared, self.tree)

    # -- questions about nodes ---------------------------------------------------------------------
    def dim(self, d) -> str:
        return self.dimmap.get(str(d), str(d))

    def type_of(self, node: A.Expr):
        return self.expr.type_of(node)

    def dims_of(self, node: A.Expr) -> list[str]:
        """rows × cols of a node's value as displayed (1s kept; [] for a scalar)."""
        t = self.type_of(node)
        return [] if t.is_scalar else [self.dim(t.rows), self.dim(t.cols)]

    def is_symmetric(self, name: str) -> bool:
        return self.kinds.get(name) == SYMMETRIC

    def wrt_kind(self) -> str:
        if not isinstance(self.wrt, str):
            return "list"
        k = self.kinds.get(self.wrt, SCALAR)
        return "matrix" if k == SYMMETRIC else k

    def wrts(self) -> list[str]:
        return [self.wrt] if isinstance(self.wrt, str) else list(self.wrt)

    def depends(self, node: A.Expr) -> bool:
        key = id(node)
        got = self._dep.get(key)
        if got is None:
            names = self.wrts()
            got = False
            for n in walk_values(node):  # not the sizes of constants: vector(2, len(x)) is constant
                if isinstance(n, A.Name) and (n.name in names or (n.name in self.bound and self._bound_depends(n.name))):
                    got = True
                    break
            self._dep[key] = got
        return got

    def _bound_depends(self, name: str) -> bool:
        return self.depends(self.bound[name])

    # -- formulas -----------------------------------------------------------------------------------
    def bold_names(self) -> frozenset:
        if not self.shared.bold:
            return frozenset()
        return frozenset(n for n, k in self.kinds.items() if k != SCALAR)

    def name(self, n: str) -> F.Formula:
        return F.name(n, n in self.bold_names())

    def x(self) -> F.Formula:
        if isinstance(self.wrt, str):
            return self.name(self.wrt)
        return F.paren(F.join([self.name(n) for n in self.wrt], F.COMMA))

    def show(self, node: A.Expr) -> F.Formula:
        return F.expr(node, self.bold_names())

    # -- derivatives computed by ricci -------------------------------------------------------------
    def derive(self, tree: A.Expr, wrt=None, extra: dict | None = None, text: str | None = None):
        """ricci's derivative of ``tree`` (printed: ``text``, the cache's key; in this context's
        kinds), or None if it fails.  The tree is typed as it is (its text is not parsed again),
        a list's names as scalars, and handed to ricci.derivative typed."""
        wrt = self.wrt if wrt is None else wrt
        text = to_text(tree) if text is None else text
        names = set(free_names(tree, set()))
        kinds = {n: k for n, k in {**self.kinds, **(extra or {})}.items() if n in names and k != "row"}
        key = (text, tuple(wrt) if isinstance(wrt, list) else wrt, tuple(sorted(kinds.items())))
        if key not in self.shared.cache:
            from ..derivation import derivative

            try:
                forced = {n: SCALAR for n in wrt} if isinstance(wrt, list) else None
                expr = typed_tree(tree, kinds, source=text, forced=forced, unused="error")
                d = derivative(expr, wrt, 1, expr.kinds)  # its own kinds: taken as typed
                d.text  # noqa: B018  (display now, so that a failure is caught here)
            except (RicciError, RecursionError):
                d = None
            self.shared.cache[key] = d
        return self.shared.cache[key]

    def dims_for(self, d) -> dict:
        """Display names for a derivative computed from text (its dimensions are its own)."""
        m = {}
        for n, v in d.expression.variables.items():
            for own, shown in zip(v.dims, self.var_dims.get(n, ())):
                m[str(own)] = shown
        return m

    def result(self, d, label: F.Formula | None = None) -> F.Formula:
        """The answer of a computed derivative as a formula (index notation for a tensor)."""
        if d.matrix is not None:
            return F.expr(d.matrix, self.bold_names())
        f = index_form(d, label.text if label is not None else "f", self.bold_names())
        return f

    def shape(self, d) -> list[str]:
        return derivative_dims(d, self.dims_for(d))

    def fresh(self, kind: str, prefer: str | None = None) -> str:
        options = ((prefer,) if prefer else ()) + _FRESH[kind] + tuple(f"{_FRESH[kind][0]}{k}" for k in range(1, 20))
        for n in options:
            if n not in self.shared.taken:
                self.shared.taken.add(n)
                return n
        raise RuntimeError("no fresh name")  # pragma: no cover


# =================================================================================================
# The public entry point
# =================================================================================================
def explain(d, name: str = "f", inner: str | None = None, dims: dict | None = None, bold: bool = False,
            outer: str | None = None) -> Steps:
    """The derivation of ``d`` step by step (see the module docstring).

    ``name`` names the function (the lecture's f, L, h or K); ``outer`` the outer function of a
    ``where`` composition (the lecture's h = f∘g: ``name="h", outer="f"``; default ``name``);
    ``inner`` the first inner function introduced (default ``e`` for a residual such as y − Φθ,
    ``u`` otherwise); ``dims`` maps
    ricci's dimension names to the ones to show (``{"m": "N", "n": "D"}``); ``bold`` sets
    vectors and matrices in bold in LaTeX and MathML.
    """
    expr = d.expression
    var_dims = {n: tuple(dim_name(x, dims) for x in v.dims) for n, v in expr.variables.items()}
    taken = set(expr.variables) | {name} | ({outer} if outer else set())
    if isinstance(expr.tree, A.Where):
        taken |= {n for n, _ in expr.tree.bindings}
    shared = _Shared(bold=bold, taken=taken)
    ctx = Ctx(expr, d.wrt, var_dims, shared)
    builder = _Builder(ctx, name, inner, outer)
    f = F.name(name)
    x = ctx.x()
    steps: list[Step] = []
    dd = derivative_dims(d, dims)
    lhs = F.partial(f, x, d.order)
    # the function as the user wrote it (tr(X^3), whose steps then work on tr(X*X*X))
    shown = ctx.show(ctx.expr.shown if ctx.tree is ctx.expr.tree else ctx.tree)
    steps.append(Step("shape", "Shape of the result", lhs + F.IN + F.reals(dd), F.words(reason(d, dims, name)),
                      before=shown, shape=tuple(dd)))
    if d.order == 1 and len(d.out) > 2 and isinstance(d.wrt, str):
        # the lecture's Examples 3 and 4: write out the entries, then differentiate them
        steps.append(Step("entries", "Write out the entries", entries_form(d, name, ctx.bold_names()),
                          F.words("a tensor result is found entry by entry"), depth=0))
    if d.order == 1:
        steps += builder.first_order(ctx, f, 0, top=True)
    else:
        steps += builder.higher_order(d, ctx, f, dims)
    steps += _result_steps(d, ctx, f, dims)
    heading = F.words("The derivative of ") + shown + F.words(" by ") + x
    if d.order > 1:
        heading = heading + F.words(f", order {d.order}")
    return MethodSteps(tuple(steps[:MAX_STEPS]), heading, derivative=d)


def _result_steps(d, ctx: Ctx, f: F.Formula, dims) -> list[Step]:
    dd = derivative_dims(d, dims)
    lhs = F.partial(f, ctx.x(), d.order)
    if d.matrix is not None:
        res = F.expr(d.matrix, ctx.bold_names())
        out = [Step("result", "Result", lhs + F.EQ + res + F.IN + F.reals(dd), F.words(shape_words(d, dims)),
                    after=res, shape=tuple(dd))]
    else:
        idx = index_form(d, f.text, ctx.bold_names())
        out = [Step("result", "Result in index notation", idx,
                    F.words(f"{shape_words(d, dims)}: it has no matrix form, so it is written entry by entry"),
                    after=idx, shape=tuple(dd))]
        k = kronecker_form(d, dims, ctx.bold_names())
        if k is not None:
            fx = d.expression.shape
            rows = " × ".join(dim_name(x, dims) for x in fx) or "1"
            cols = " × ".join(dim_name(x, dims) for x in d._wrt_shape)
            vec = F.Formula("vec ", r"\operatorname{vec} ", F.M.mi("vec") + F.M.mo(F.M.APPLY))
            lhs_v = F.frac(F.PARTIAL + vec + f, F.PARTIAL + vec + ctx.x())
            lhs_v = F.Formula(f"∂vec {f.text}/∂vec {ctx.x().text}", lhs_v.latex, lhs_v.mathml)
            out.append(Step("vectorised", "Vectorised (vec stacks the columns)",
                            lhs_v + F.EQ + k.formula + F.IN + F.reals([_group(rows), _group(cols)]),
                            F.words("K is the commutation matrix, K vec(X) = vec(X')") if "K_" in k.text else None,
                            after=k.formula, shape=(rows, cols)))
    return out


def _group(s: str) -> str:
    return f"({s})" if "×" in s else s


# =================================================================================================
# The rules
# =================================================================================================
class _Builder:
    def __init__(self, root: Ctx, name: str, inner: str | None, outer: str | None = None):
        self.root = root
        self.name = name
        self.inner = inner
        self.outer = outer

    # -- order 1 --------------------------------------------------------------------------------------
    def first_order(self, ctx: Ctx, label: F.Formula, depth: int, top: bool = False) -> list[Step]:
        if isinstance(ctx.tree, A.Where):
            return self.where_chain(ctx, label, depth)
        if not isinstance(ctx.wrt, str):
            return self.partials(ctx, label, depth)
        return self.node(ctx, ctx.tree, label, depth, top=top)

    # -- one node -----------------------------------------------------------------------------------
    def node(self, ctx: Ctx, node: A.Expr, label: F.Formula | None, depth: int, top: bool = False) -> list[Step]:
        """The steps that differentiate ``node``: the first one states its derivative."""
        x = ctx.x()
        lhs = F.partial(label, x) if label is not None else F.partial_of(ctx.show(node), x)
        if not ctx.depends(node):
            return [Step("constant", "Constant", lhs + F.EQ + F.number(0),
                         F.words(f"{to_text(node)} does not depend on {ctx.x().text}"), before=ctx.show(node),
                         after=F.number(0), depth=depth, trivial=True)]
        d = ctx.derive(node)
        if d is None:
            return [Step("differentiate", "Differentiate", lhs, F.words("(no closed form shown)"),
                         before=ctx.show(node), depth=depth)]
        res = ctx.result(d, label)
        shape = ctx.shape(d)
        stated = lhs + F.EQ + res + F.IN + F.reals(shape) if d.matrix is not None else res + F.IN + F.reals(shape)
        if isinstance(node, A.Name) and node.name in ctx.wrts():
            return [Step("identity", "The variable itself", stated, F.words(f"∂{node.name}/∂{node.name} is the identity" if isinstance(ctx.wrt, str) else
                                 f"{node.name} is one of the variables"),
                         before=ctx.show(node), after=res, shape=tuple(shape), depth=depth, trivial=True)]
        ident = find_identity(node, ctx)
        if ident is not None:
            note = F.words(f"{ident.name}, {ident.source}")
            if not ident.tensor:
                gen = F.partial_of(F.expr(ident.tree), F.name(ident.wrt)) + F.EQ + F.expr(ident.result_tree)
                note = note + F.words(": ") + gen
            return [Step("identity", ident.name[0].upper() + ident.name[1:], stated, note, before=ctx.show(node),
                         after=res, shape=tuple(shape), source=ident.source, depth=depth)]
        if depth < MAX_DEPTH:
            found = self.find_inner(ctx, node)
            if found is not None:
                return self.chain(ctx, node, label, found, d, depth, top)
        return self.structural(ctx, node, label, d, res, shape, depth)

    # -- the decomposition -----------------------------------------------------------------------------
    def find_inner(self, ctx: Ctx, node: A.Expr) -> A.Expr | None:
        """The inner function of ``node``: its one affine part under a non-linear operation, or
        the one non-trivial argument of a function."""
        tops = []
        self._affine_tops(ctx, node, tops)
        if tops and not any(t is node for t in tops):
            # the outermost sub-expression that every affine part shares: y - Phi*theta, and
            # x - A*s for both (x - A*s)'*W and (x - A*s)
            chains = [_cores(ctx, t) for t in tops]
            for cand in chains[0]:
                if _is_var(_untransposed(cand), ctx):  # x' is the variable, shown transposed
                    break
                if all(any(c == cand for c in ch) for ch in chains[1:]):
                    return cand
        # a function of one non-trivial argument
        args = _dependent_args(ctx, node)
        if len(args) == 1 and _is_function(ctx, node) and not _is_var(_untransposed(args[0]), ctx):
            return args[0]
        return None

    def _affine_tops(self, ctx: Ctx, node: A.Expr, out: list) -> None:
        if not ctx.depends(node):
            return
        if _affine(ctx, node):
            out.append(node)
            return
        for c in A.children(node):
            self._affine_tops(ctx, c, out)

    def chain(self, ctx: Ctx, node: A.Expr, label, inner: A.Expr, d, depth: int, top: bool) -> list[Step]:
        t = ctx.type_of(inner)
        row = t.is_row
        kind = SCALAR if t.is_scalar else "matrix" if t.is_matrix else "vector"
        residual = isinstance(inner, A.BinOp) and inner.op == "-"
        prefer = self.inner if self.inner and self.inner not in ctx.shared.taken else ("e" if residual and kind == "vector" else None)
        self.inner = None if prefer == self.inner else self.inner
        e = ctx.fresh(kind, prefer)
        e_node: A.Expr = A.Transpose(A.Name(e)) if row else A.Name(e)
        inner_col = _column_of(inner) if row else inner
        outer_tree = _replace(node, inner, e_node)
        outer_text = to_text(outer_tree)
        inner_text = to_text(inner_col)
        # a row inner function is shown transposed, a column: its dims are the row's reversed
        # (the new Transpose node is not in the typed expression, so it is not asked for a type)
        e_dims = ctx.dims_of(inner)[::-1] if row else ctx.dims_of(inner)
        e_dims_shown = tuple(x for x in e_dims if x != "1")
        var_dims = {**ctx.var_dims, e: e_dims_shown}
        extra = {e: kind}
        try:
            names = {n.name for n in A.walk(outer_tree) if isinstance(n, A.Name)}
            kinds = {n: k for n, k in {**ctx.kinds, **extra}.items() if n in names and k != "row"}
            outer_expr = typed_tree(outer_tree, kinds, source=outer_text)
        except RicciError:
            return self.structural(ctx, node, label, d, ctx.result(d, label), ctx.shape(d), depth)
        octx = Ctx(outer_expr, e, var_dims, ctx.shared)
        L = label if label is not None else F.name("g" if "g" not in ctx.shared.taken else "h")
        E = ctx.name(e) if kind == SCALAR else F.name(e, ctx.shared.bold)
        if ctx.shared.bold and kind != SCALAR:
            octx.kinds[e] = kind
        x = ctx.x()
        res = ctx.result(d, label)
        shape = ctx.shape(d)
        lhs = F.partial(L, x)
        head_lhs = lhs if label is not None else F.partial_of(ctx.show(node), x)

        d_outer = octx.derive(outer_tree, e, text=outer_text)
        d_inner = ctx.derive(inner_col, text=inner_text)
        if d_outer is None or d_inner is None:
            return self.structural(ctx, node, label, d, res, shape, depth)
        s_outer = octx.shape(d_outer)
        s_inner = ctx.shape(d_inner)
        product_ok = _matrix_chain(ctx, kind, ctx.type_of(node))
        chain_formula = lhs + F.EQ + F.partial(L, E) + F.JUX + F.partial(E, x)
        if product_ok:
            note = F.words("a product of Jacobians: ") + _shape_product(s_outer, s_inner, shape)
        else:
            note = F.words(f"the chain rule sums over the entries of {e}: "
                           f"∂{L.text}/∂{ctx.wrt} = Σ ∂{L.text}/∂{e}ₖ · ∂{e}ₖ/∂{ctx.wrt}")
        decompose = (L + F.paren(E) + F.EQ + octx.show(outer_tree) + F.COMMA + E + F.EQ + ctx.show(inner_col)
                     + F.IN + F.reals(list(e_dims_shown)))
        below = depth + 1
        head: list[Step] = []
        if not top:
            stated = (head_lhs + F.EQ + res if d.matrix is not None else res) + F.IN + F.reals(shape)
            head.append(Step("chain rule", "Chain rule", stated,
                             F.words("with ") + L + F.paren(E) + F.EQ + octx.show(outer_tree) + F.COMMA + E + F.EQ
                             + ctx.show(inner_col), before=ctx.show(node), after=res, shape=tuple(shape), depth=depth))
            depth = depth + 1
        steps = head + [
            Step("decompose", "Decompose into inner functions", decompose,
                 F.words(f"{e} is {'a vector' if row else _kind_words(t)}"),
                 before=ctx.show(node), after=octx.show(outer_tree), shape=tuple(e_dims), depth=depth),
            Step("chain rule", "Chain rule", chain_formula, note, shape=tuple(shape), depth=depth),
        ]
        steps += self.node(octx, octx.tree, L, below)
        steps += self.node(ctx, inner_col, E, below)
        ctx.shared.taken.discard(e)  # a name for this branch only
        # the product of the Jacobians, in terms of the inner name (ricci's derivative of L(e) where e = …)
        combined = ctx.derive(A.Where(outer_tree, ((e, inner_col),)), extra=None,
                              text=f"{outer_text} where {e} = {inner_text}")
        r_outer = octx.result(d_outer, L)
        r_inner = ctx.result(d_inner, E)
        if combined is not None and combined.matrix is not None:
            body = combined.matrix
            if isinstance(body, A.Where) and [n for n, _ in body.bindings] == [e]:
                body = body.body
            elif isinstance(body, A.Where):
                body = None
            if body is not None:
                prod = ctx.show(body)
                raw = _factor(r_outer, d_outer.matrix) + F.TIMES + _factor(r_inner, d_inner.matrix) \
                    if product_ok and d_outer.matrix is not None and d_inner.matrix is not None else None
                formula = F.partial(L, E) + F.JUX + F.partial(E, x) + F.EQ + (raw + F.EQ if raw else F.EMPTY) + prod
                if raw is None or raw.text != prod.text:
                    steps.append(Step("multiply", "Multiply the Jacobians", formula,
                                      F.words("and collect the constants") if raw is not None else None,
                                      before=raw, after=prod, shape=tuple(shape), depth=depth))
                if prod.text != res.text:
                    steps.append(Step("substitute", f"Put {e} back", lhs + F.EQ + res + F.IN + F.reals(shape),
                                      F.words("with ") + E + F.EQ + ctx.show(inner_col), before=prod, after=res,
                                      shape=tuple(shape), depth=depth))
                return self._fold(steps, top)
        steps.append(Step("multiply", "Multiply the Jacobians", lhs + F.EQ + res + F.IN + F.reals(shape),
                          None, after=res, shape=tuple(shape), depth=depth))
        return self._fold(steps, top)

    @staticmethod
    def _fold(steps: list[Step], top: bool) -> list[Step]:
        """Inside another rule, a chain rule shows its two derivatives; the decomposition, the
        product and the substitution are in its headline and fold away."""
        if top:
            return steps
        from dataclasses import replace

        return [replace(s, trivial=True) if k and s.rule in ("decompose", "chain rule", "multiply", "substitute")
                and s.depth == steps[1].depth else s for k, s in enumerate(steps)]

    # -- rules by the kind of node ------------------------------------------------------------------
    def structural(self, ctx: Ctx, node: A.Expr, label, d, res, shape, depth: int) -> list[Step]:
        x = ctx.x()
        lhs = F.partial(label, x) if label is not None else F.partial_of(ctx.show(node), x)
        stated = (lhs + F.EQ + res if d.matrix is not None else res) + F.IN + F.reals(shape)
        rule, title, note, parts = _rule_of(ctx, node)
        constants = [c for c in A.children(node) if not ctx.depends(c) and not isinstance(c, A.Num)]
        if constants and rule in ("sum rule", "product rule", "linearity", "quotient rule", "Hadamard product"):
            shown = F.join([ctx.show(c) for c in constants[:3]], F.COMMA)
            note = (note + F.words("; ") if note is not None else F.EMPTY) + shown + F.words(
                f" {'does' if len(constants) == 1 else 'do'} not depend on ") + ctx.x()
        raw = self.raw_combination(ctx, node, rule, parts)
        if raw is not None and raw.text != res.text and d.matrix is not None:
            stated = lhs + F.EQ + raw + F.EQ + res + F.IN + F.reals(shape)
        steps = [Step(rule, title, stated, note, before=ctx.show(node), after=res, shape=tuple(shape), depth=depth)]
        if depth + 1 <= MAX_DEPTH:
            for p in parts:
                sub = self.node(ctx, p, None, depth + 1)
                if d.matrix is not None and sub and sub[0].after is not None and _is_tensor_step(sub[0]):
                    continue  # a tensor inside a matrix answer: the rule and its result say enough
                steps += sub
        return steps

    def raw_combination(self, ctx: Ctx, node: A.Expr, rule: str, parts: list) -> F.Formula | None:
        """The rule's formula before simplification (∂y/∂θ − ∂(Φθ)/∂θ = 0 − Φ), where it is a
        plain sum or a constant times one derivative."""
        if rule == "sum rule":
            terms = _sum_terms(node)
            shown = []
            for sign, t in terms:
                if not ctx.depends(t):
                    continue
                dt = ctx.derive(t)
                if dt is None or dt.matrix is None:
                    return None
                shown.append((sign, ctx.show(dt.matrix)))
            if not shown:
                return None
            out = shown[0][1] if shown[0][0] > 0 else F.Formula("-", "-", F.M.mo(F.M.MINUS)) + _wrap_sum(shown[0][1])
            for sign, f in shown[1:]:
                out = out + (F.PLUS if sign > 0 else F.MINUS) + (_wrap_sum(f) if sign < 0 else f)
            return out
        if rule == "linearity" and isinstance(node, A.BinOp) and node.op == "*" and len(parts) == 1:
            const = node.left if parts[0] is node.right else node.right
            tc = ctx.type_of(const)
            dp = ctx.derive(parts[0])
            if dp is None or dp.matrix is None or _is_one(dp.matrix):
                return None
            if tc.is_scalar or (const is node.left and ctx.type_of(parts[0]).is_col and ctx.wrt_kind() in ("vector", SCALAR)):
                return _wrap_product(ctx.show(const), const) + F.TIMES + _factor(ctx.show(dp.matrix), dp.matrix)
        if rule == "sign" and parts:
            dp = ctx.derive(parts[0])
            if dp is None or dp.matrix is None:
                return None
            return F.Formula("-", "-", F.M.mo(F.M.MINUS)) + F.paren(ctx.show(dp.matrix))
        return None

    # -- where-bindings: the lecture's Example 1 ------------------------------------------------------
    def where_chain(self, ctx: Ctx, label: F.Formula, depth: int) -> list[Step]:
        tree = ctx.tree
        outer = F.name(self.outer) if self.outer else label
        body, bindings = tree.body, tree.bindings
        x = ctx.x()
        dep = [(n, e) for n, e in bindings if ctx.depends(e)]
        direct = any(isinstance(n, A.Name) and n.name in ctx.wrts() for n in A.walk(body))
        body_text = to_text(body)
        d_all = ctx.derive(tree)
        if not dep or d_all is None or any(ctx.kinds.get(n) == "row" for n, _ in dep):
            return self.node(ctx, tree, label, depth)
        res = ctx.result(d_all, label)
        shape = ctx.shape(d_all)
        lhs = F.partial(label, x)
        binds = F.join([ctx.name(n) + F.EQ + ctx.show(e) for n, e in bindings], F.COMMA)
        scalars = all(ctx.kinds.get(n) == SCALAR for n, _ in dep)
        steps: list[Step] = []
        if scalars and len(dep) >= 2 and not direct and len(dep) == len(bindings) and len(shape_list(ctx)) <= 1:
            # collect the scalars in a vector, as the lecture does: x = [x1; x2] = g(t)
            vname = "x" if "x" not in ctx.shared.taken else ctx.fresh("vector")
            ctx.shared.taken.add(vname)
            V = ctx.name(vname)
            names = [n for n, _ in dep]
            col = A.Literal(tuple((e,) for _, e in dep))
            names_col = A.Literal(tuple((A.Name(n),) for n in names))
            k = str(len(names))
            wshape = shape_list(ctx)
            d_fx = ctx.derive(body, names, text=body_text)
            d_xt = ctx.derive(col)
            if d_fx is None or d_xt is None or d_fx.matrix is None or d_xt.matrix is None:
                return self.node(ctx, tree, label, depth)
            steps.append(Step("decompose", "Decompose into inner functions",
                              outer + F.paren(V) + F.EQ + ctx.show(body) + F.COMMA + V + F.EQ + ctx.show(names_col)
                              + F.EQ + ctx.show(col),
                              F.words(f"{outer.text}: R^{k} → R and {vname}: {_space(wshape)} → R^{k}"),
                              before=ctx.show(tree), depth=depth))
            s_fx = ["1", k]
            s_xt = [k, wshape[0] if wshape else "1"]
            steps.append(Step("chain rule", "Chain rule", lhs + F.EQ + F.partial(outer, V) + F.JUX + F.partial(V, x),
                              F.words("a product of Jacobians: ") + _shape_product(s_fx, s_xt, shape),
                              shape=tuple(shape), depth=depth))
            vctx = ctx.with_wrt(names)
            r_fx = ctx.show(d_fx.matrix)
            steps.append(Step("partials", "Outer gradient", F.partial(outer, V) + F.EQ + r_fx + F.IN + F.reals(s_fx),
                              F.words("the row of the partial derivatives"), after=r_fx, shape=tuple(s_fx), depth=depth + 1))
            for n in names:
                steps += self.node(vctx.with_wrt(n), body, outer, depth + 2)
            r_xt = ctx.show(d_xt.matrix)
            steps.append(Step("partials", "Inner Jacobian", F.partial(V, x) + F.EQ + r_xt + F.IN + F.reals(s_xt),
                              F.words("each entry differentiated"), after=r_xt, shape=tuple(s_xt), depth=depth + 1))
            for n, e in dep:
                steps += self.node(ctx, e, ctx.name(n), depth + 2)
            raw = r_fx + F.TIMES + r_xt
            steps.append(Step("multiply", "Multiply the Jacobians", lhs + F.EQ + raw + F.EQ + res,
                              None, before=raw, after=res, shape=tuple(shape), depth=depth))
            return steps
        # one inner function per bound name: ∂f/∂x = Σ_k ∂f/∂b_k · ∂b_k/∂x (+ the direct part)
        steps.append(Step("decompose", "Decompose into inner functions",
                          outer + F.EQ + ctx.show(body) + F.COMMA + binds,
                          F.words("each bound name is an inner function"), before=ctx.show(tree), depth=depth))
        terms = [F.partial(outer, ctx.name(n)) + F.JUX + F.partial(ctx.name(n), x) for n, _ in dep]
        if direct:
            terms.append(F.partial(label, x) + F.words("|direct"))
        steps.append(Step("chain rule", "Chain rule", lhs + F.EQ + F.join(terms, F.PLUS),
                          F.words("a sum over the inner functions"), shape=tuple(shape), depth=depth))
        bctx_kinds = {n: k for n, k in ctx.kinds.items()}
        bound_names = [n for n, _ in bindings]
        body_expr = None
        try:
            names = {n.name for n in A.walk(body) if isinstance(n, A.Name)}
            body_expr = typed_tree(body, {n: k for n, k in bctx_kinds.items() if n in names}, source=body_text)
        except RicciError:
            pass
        for n, e in dep:
            if body_expr is not None:
                bctx = Ctx(body_expr, n, ctx.var_dims, ctx.shared)
                steps += self.node(bctx, bctx.tree, outer, depth + 1)
            earlier = [(m, me) for m, me in bindings[:bound_names.index(n)]]
            used = {u.name for u in A.walk(e) if isinstance(u, A.Name)}
            needed = [(m, me) for m, me in earlier if m in used]
            text = to_text(e) + (" where " + ", ".join(f"{m} = {to_text(me)}" for m, me in needed) if needed else "")
            if needed:
                try:
                    ectx = Ctx(typed_tree(A.Where(e, tuple(needed)),
                                          {k: v for k, v in ctx.kinds.items() if k in ctx.expr.variables and k in text},
                                          source=text), ctx.wrt, ctx.var_dims, ctx.shared)
                    steps += self.node(ectx, ectx.tree, ctx.name(n), depth + 1)
                except RicciError:
                    pass
            else:
                steps += self.node(ctx, e, ctx.name(n), depth + 1)
        steps.append(Step("collect", "Collect", lhs + F.EQ + res + F.IN + F.reals(shape), None,
                          after=res, shape=tuple(shape), depth=depth))
        return steps

    # -- several scalars: the row of partial derivatives ----------------------------------------------
    def partials(self, ctx: Ctx, label: F.Formula, depth: int) -> list[Step]:
        x = ctx.x()
        d_all = ctx.derive(ctx.tree)
        steps = [Step("partials", "Collect the partial derivatives in a row",
                      F.partial(label, x) + F.EQ + F.paren(F.join([F.partial(label, ctx.name(n)) for n in ctx.wrt], F.COMMA), "[", "]"),
                      F.words("vary one variable at a time, keep the others constant"), depth=depth)]
        for n in ctx.wrt:
            steps += self.node(ctx.with_wrt(n), ctx.tree, label, depth + 1)
        if d_all is not None:
            res = ctx.result(d_all, label)
            steps.append(Step("collect", "Collect", F.partial(label, x) + F.EQ + res + F.IN + F.reals(ctx.shape(d_all)),
                              None, after=res, shape=tuple(ctx.shape(d_all)), depth=depth))
        return steps

    # -- order 2 and higher -----------------------------------------------------------------------------
    def higher_order(self, d, ctx: Ctx, f: F.Formula, dims) -> list[Step]:
        x = ctx.x()
        g = ctx.derive(ctx.tree)
        if g is None or g.matrix is None:
            return []
        gshape = ctx.shape(g)
        gres = ctx.show(g.matrix)
        steps = [Step("gradient", "First derivative", F.partial(f, x) + F.EQ + gres + F.IN + F.reals(gshape),
                      F.words("derived below"), after=gres, shape=tuple(gshape), depth=0)]
        steps += self.first_order(ctx, f, 1, top=True)
        if d.order != 2 or not ctx.expr.type.is_scalar or ctx.wrt_kind() not in ("vector", SCALAR, "list"):
            steps.append(Step("repeat", "Differentiate again", F.partial(f, x, d.order),
                              F.words(f"each differentiation appends the shape of {x.text}"), depth=0))
            return steps
        from ..simplify.matrix import MatrixForms

        if ctx.wrt_kind() in ("vector", "list"):
            forms = MatrixForms(g.expression)
            m = g.matrix
            col = A.Where(forms.T(m.body), m.bindings) if isinstance(m, A.Where) else forms.T(m)
            what = F.words("the Hessian is the Jacobian of the gradient written as a column; "
                           "it is symmetric, ∂²f/∂xᵢ∂xⱼ = ∂²f/∂xⱼ∂xᵢ")
        else:
            col = g.matrix
            what = F.words("differentiate the first derivative once more")
        text = to_text(col)
        try:
            names = {n.name for n in A.walk(col) if isinstance(n, A.Name)}
            gexpr = typed_tree(col, {n: k for n, k in ctx.kinds.items() if n in names and n in ctx.expr.variables},
                               source=text)
        except RicciError:
            return steps
        gctx = Ctx(gexpr, ctx.wrt, ctx.var_dims, ctx.shared)
        T = F.Formula("'", r"^\top", F.M.mo(F.M.TRANSPOSE)) if ctx.wrt_kind() in ("vector", "list") else F.EMPTY
        steps.append(Step("hessian", "Differentiate the gradient again",
                          F.partial(f, x, 2) + F.EQ + F.partial_of(F.paren(F.partial(f, x)) + T, x)
                          + F.EQ + F.partial_of(gctx.show(col), x), what, before=gctx.show(col), depth=0))
        steps += self.node(gctx, gctx.tree, None, 1)
        return steps


# =================================================================================================
# Helpers on the typed AST
# =================================================================================================
def shape_list(ctx: Ctx) -> list[str]:
    if isinstance(ctx.wrt, list):
        return [str(len(ctx.wrt))]
    dims = ctx.var_dims.get(ctx.wrt, ())
    return list(dims)


def _space(dims: list[str]) -> str:
    if not dims:
        return "R"
    return "R^" + "×".join(dims) if len(dims) > 1 else "R^" + dims[0]


def _is_var(node: A.Expr, ctx: Ctx) -> bool:
    return isinstance(node, A.Name) and node.name in ctx.wrts()


def _untransposed(node: A.Expr) -> A.Expr:
    return node.arg if isinstance(node, A.Transpose) else node


def _column_of(row: A.Expr) -> A.Expr:
    """The column whose transpose is ``row``, as the steps name it: -z for -z', x - m for
    (x - m)' (a transpose of a transpose is not written out)."""
    if isinstance(row, A.Transpose):
        return row.arg
    if isinstance(row, A.Neg) and isinstance(row.arg, A.Transpose):
        return A.Neg(row.arg.arg)
    return A.Transpose(row)


def _affine(ctx: Ctx, node: A.Expr) -> bool:
    """node is affine in the variable: sums, constant factors, transposes, sum/tr/diag of such."""
    if not ctx.depends(node):
        return True
    match node:
        case A.Name(name=n):
            return n in ctx.wrts()
        case A.Neg(arg=a) | A.Transpose(arg=a):
            return _affine(ctx, a)
        case A.BinOp(op="+" | "-", left=l, right=r):
            return _affine(ctx, l) and _affine(ctx, r)
        case A.BinOp(op="*" | ".*", left=l, right=r):
            dl, dr = ctx.depends(l), ctx.depends(r)
            return not (dl and dr) and _affine(ctx, l) and _affine(ctx, r)
        case A.BinOp(op="/" | "./", left=l, right=r):
            return not ctx.depends(r) and _affine(ctx, l)
        case A.Call(func=f, args=(a,)) if _linear(f):
            return _affine(ctx, a)
    return False


def _cores(ctx: Ctx, node: A.Expr) -> list:
    """node, then what is left as transposes, signs and constant factors are taken off it:
    (x - A*s)'*W → (x - A*s)' → x - A*s → A*s → s."""
    out = [node]
    while True:
        match node:
            case A.Transpose(arg=a) | A.Neg(arg=a):
                node = a
            case A.BinOp(op="*" | ".*", left=l, right=r) if ctx.depends(l) != ctx.depends(r):
                node = l if ctx.depends(l) else r
            case A.BinOp(op="/" | "./", left=l):
                node = l
            case A.Call(func=f, args=(a,)) if _linear(f):
                node = a
            case _:
                return out
        out.append(node)


def _linear(f: str) -> bool:
    """A function linear in its argument (sum, tr, diag: ``Function.linear`` in the table)."""
    fn = lookup(f)
    return fn is not None and fn.linear


def _dependent_args(ctx: Ctx, node: A.Expr) -> list:
    return [c for c in A.children(node) if ctx.depends(c)]


def _is_function(ctx: Ctx, node: A.Expr) -> bool:
    """A non-linear function of its argument(s): exp, log, det, inv, norms, powers."""
    match node:
        case A.Call(func=f) if not _linear(f):
            return True
        case A.BinOp(op="^" | ".^", right=r):
            return not ctx.depends(r)
    return False


def _replace(tree: A.Expr, target: A.Expr, new: A.Expr) -> A.Expr:
    """``tree`` with every sub-expression equal to ``target`` replaced by ``new``."""
    if tree == target:
        return new
    match tree:
        case A.Call(func=f, args=args):
            return A.Call(f, tuple(_replace(a, target, new) for a in args))
        case A.Neg(arg=a):
            return A.Neg(_replace(a, target, new))
        case A.Transpose(arg=a):
            if a == target and isinstance(new, A.Transpose):
                return new.arg  # (inner')' where inner' = e' is e
            return A.Transpose(_replace(a, target, new))
        case A.BinOp(op=op, left=l, right=r):
            return A.BinOp(op, _replace(l, target, new), _replace(r, target, new))
        case A.Literal(rows=rows):
            return A.Literal(tuple(tuple(_replace(e, target, new) for e in row) for row in rows))
    return tree


def _matrix_chain(ctx: Ctx, inner_kind: str, f_type) -> bool:
    """The chain rule is a product of (at most 2-D) Jacobians: no matrix in the middle or at the
    ends, except a scalar inner function."""
    wk = ctx.wrt_kind()
    if inner_kind == SCALAR:
        return not (f_type.is_matrix and wk in ("matrix", "vector")) and not (not f_type.is_scalar and wk == "matrix")
    if inner_kind == "matrix":
        return False
    return not f_type.is_matrix and wk in ("vector", SCALAR)


def _shape_product(a: list[str], b: list[str], c: list[str]) -> F.Formula:
    def s(ds):
        return " × ".join(ds) if ds else "1 × 1"

    if not a and not b and not c:
        return F.words("scalars, an ordinary product")
    return F.words(f"({s(a)}) · ({s(b)}) = {s(c)}")


def _kind_words(t) -> str:
    if t.is_scalar:
        return "a scalar"
    if t.is_col:
        return "a vector"
    return "a matrix"


def _is_tensor_step(step: Step) -> bool:
    return len(step.shape) > 2 or any("×" in str(x) for x in step.shape)


def _is_one(node: A.Expr) -> bool:
    return ((isinstance(node, A.Num) and node.value == 1) or (isinstance(node, A.Name) and node.name in ("eye", "I"))
            or (isinstance(node, A.Call) and node.func == "eye"))  # eye(len(x)): the identity, sized


def _sum_terms(node: A.Expr, sign: int = 1) -> list[tuple[int, A.Expr]]:
    if isinstance(node, A.BinOp) and node.op in ("+", "-"):
        return _sum_terms(node.left, sign) + _sum_terms(node.right, sign if node.op == "+" else -sign)
    return [(sign, node)]


def _factor(f: F.Formula, node: A.Expr) -> F.Formula:
    """A Jacobian as a factor of a product: parenthesised unless it is a name, a call or a
    literal (diag(exp(e))*y, (2*e')*(-Phi))."""
    atom = isinstance(node, (A.Name, A.Call, A.Literal)) or (
        isinstance(node, A.Transpose) and isinstance(node.arg, (A.Name, A.Call)))
    return f if atom else F.paren(f)


def _wrap_sum(f: F.Formula) -> F.Formula:
    return F.paren(f) if (" + " in f.text or " - " in f.text) else f


def _wrap_product(f: F.Formula, node: A.Expr) -> F.Formula:
    from ..printing.text import PRODUCT, level

    return F.paren(f) if level(node) < PRODUCT or (isinstance(node, A.BinOp) and node.op in ("+", "-")) else f


_POWER_RULE = F.Formula("∂(u^k) = k u^(k-1) ∂u", r"\partial (u^k) = k\, u^{k-1}\, \partial u",
                        F.M.row(F.M.mo("\u2202"), F.M.fenced(F.M.sup(F.M.mi("u"), F.M.mi("k"))), F.M.mo("="),
                                F.M.mi("k"), F.M.sup(F.M.mi("u"), F.M.row(F.M.mi("k"), F.M.mo(F.M.MINUS), F.M.mn("1"))),
                                F.M.mo("\u2202"), F.M.mi("u")))
# the power rule's own formula (not a table entry's): u^v written through exp and log
_EXP_LOG = F.Formula("u^v = exp(v log u)", r"u^v = \exp(v \log u)",
                     F.M.row(F.M.sup(F.M.mi("u"), F.M.mi("v")), F.M.mo("="), F.M.mi("exp"), F.M.mo(F.M.APPLY),
                             F.M.fenced(F.M.row(F.M.mi("v"), F.M.mo(F.M.TIMES), F.M.mi("log"), F.M.mo(F.M.APPLY),
                                                F.M.mi("u")))))


def _rule_of(ctx: Ctx, node: A.Expr) -> tuple[str, str, F.Formula | None, list]:
    """(rule, title, note, the sub-expressions whose derivatives it needs)."""
    deps = _dependent_args(ctx, node)
    match node:
        case A.BinOp(op="+" | "-"):
            return "sum rule", "Sum rule", F.words("the derivative of a sum is the sum of the derivatives"), \
                [t for _, t in _sum_terms(node) if ctx.depends(t)]
        case A.Neg(arg=a):
            return "sign", "Constant factor −1", None, [a]
        case A.Transpose(arg=a):
            return "transpose", "Transpose", F.words("differentiate, then transpose the function's index"), [a]
        case A.BinOp(op="*" | "/") if len(deps) == 1:
            return "linearity", "Constant factor", F.words("a constant factor stays; differentiate the rest"), deps
        case A.BinOp(op="*"):
            return "product rule", "Product rule", F.words("∂(UV) = ∂U · V + U · ∂V, each factor in turn"), deps
        case A.BinOp(op="/"):
            return "quotient rule", "Quotient rule", F.words("∂(u/s) = ∂u/s − u ∂s/s²"), deps
        case A.BinOp(op=".*" | "./") if len(deps) == 1:
            return "linearity", "Hadamard product with a constant", F.words("∂(a ⊙ u) = diag(a) ∂u"), deps
        case A.BinOp(op=".*" | "./"):
            return "Hadamard product", "Hadamard product rule", F.words("entry by entry, the product rule"), deps
        case A.BinOp(op="^" | ".^", right=r) if not ctx.depends(r):
            return "power rule", "Power rule", _POWER_RULE + F.words(", k = ") + ctx.show(r), deps
        case A.BinOp(op="^" | ".^"):
            return "power rule", "Power with a variable exponent", _EXP_LOG, deps
        case A.Call(func=f, args=(a,)) if _linear(f):
            return "linearity", f"Linearity of {f}", F.words(f"{f} is linear: differentiate its argument"), deps
        case A.Call(func=f, args=(a,)):
            fn = lookup(f)
            doc = fn.doc if fn is not None else ""
            if fn is not None and fn.family == "elementwise" and not ctx.type_of(a).is_scalar:
                return "function", f"Elementwise {f}", F.words(f"{doc}, entry by entry: a diagonal Jacobian"), deps
            return "function", f"Derivative of {f}", F.words(doc) if doc else None, deps
        case A.Literal():
            return "entries", "Entry by entry", F.words("each entry differentiated"), deps
    return "differentiate", "Differentiate", None, deps
