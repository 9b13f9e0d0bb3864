"""The identities a derivation step can name: a small table keyed by pattern.

Each entry is a pattern in the input language, the variable it differentiates by, ricci's
answer for it (numerator layout, ARCHITECTURE §1), a name, and where the identity is written
down (the lecture's list of identities, or an equation of The Matrix Cookbook, Petersen &
Pedersen, version of November 15, 2012, which writes gradients as columns: its ``a`` is our
``a'``).  :func:`find` matches a typed sub-expression against the table.

Matching is structural on the matrix AST: the pattern's variable (``x``, ``X``) must be the
variable differentiated by; every other pattern name is a *constant* that matches any
sub-expression not depending on it, of the pattern's kind (``a``, ``b`` vectors; ``A``, ``B``
matrices; ``W`` a declared symmetric matrix); a name used twice must match equal
sub-expressions.  Only the rule's *name* comes from here: the result shown next to it is always
ricci's own answer for the sub-expression, so a table entry can never make a step wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..functions import FUNCTIONS
from ..language import ast as A
from ..language.parser import parse_text

COOKBOOK = "Matrix Cookbook"
HIGHAM = "Higham, Functions of Matrices (SIAM 2008), §3.1-3.2"
#: the matrix functions of the table (expm, logm, sqrtm): the Fréchet identities name each
_ANALYTIC = tuple(n for n, f in FUNCTIONS.items() if f.family == "analytic")


@dataclass(frozen=True)
class Identity:
    pattern: str
    wrt: str
    result: str  # ricci's form (input language), or index notation for a tensor
    name: str
    source: str
    #: kinds of the pattern's constants: "vector", "matrix", "scalar", "symmetric", "any"
    kinds: dict = field(default_factory=dict)
    #: the wrt placeholder's kind
    wrt_kind: str = "vector"
    tensor: bool = False

    @cached_property
    def tree(self) -> A.Expr:
        return parse_text(self.pattern)

    @cached_property
    def result_tree(self) -> A.Expr | None:
        return None if self.tensor else parse_text(self.result)


def _I(pattern, result, name, source, wrt="x", wrt_kind="vector", tensor=False, **kinds):
    return Identity(pattern, wrt, result, name, source, kinds, wrt_kind, tensor)


V, Mx, S, SYM = "vector", "matrix", "scalar", "symmetric"

IDENTITIES: tuple[Identity, ...] = (
    # -- by a vector x (the lecture's identities; Cookbook §2.4) ------------------------------------
    _I("x", "eye", "identity", "the identity matrix"),
    _I("x'*a", "a'", "linear form", f"the lecture's identities; {COOKBOOK} (69)", a=V),
    _I("a'*x", "a'", "linear form", f"the lecture's identities; {COOKBOOK} (69)", a=V),
    _I("A*x", "A", "linear map", "the lecture's Jacobian example", A=Mx),
    _I("x'*A", "A'", "linear map (row)", f"{COOKBOOK} (69), transposed", A=Mx),
    _I("x'*x", "2*x'", "squared norm as an inner product", f"{COOKBOOK} (131)"),
    _I("norm2(x)^2", "2*x'", "squared Euclidean norm", f"{COOKBOOK} (131)"),
    _I("norm2(x)", "x'/norm2(x)", "Euclidean norm", f"{COOKBOOK} (129)"),
    _I("x'*W*x", "2*x'*W", "quadratic form, W symmetric", f"{COOKBOOK} (81) with W' = W", W=SYM),
    _I("x'*B*x", "x'*(B + B')", "quadratic form", f"the lecture's identities; {COOKBOOK} (81)", B=Mx),
    _I("x.*a", "diag(a)", "Hadamard product", f"{COOKBOOK} (38)", a=V),
    _I("a.*x", "diag(a)", "Hadamard product", f"{COOKBOOK} (38)", a=V),
    _I("sum(x)", "vector(1)'", "sum of the entries", "each entry counts once"),
    # -- by a matrix X (Cookbook §2.4–2.5, traces, determinants, inverses) ----------------------------
    _I("X", "δ_ik δ_jl", "single-entry matrices", f"{COOKBOOK} (73)", wrt="X", wrt_kind=Mx, tensor=True),
    _I("a'*X*b", "a*b'", "bilinear form", f"the lecture's identities; {COOKBOOK} (70)",
       wrt="X", wrt_kind=Mx, a=V, b=V),
    _I("a'*X'*b", "b*a'", "bilinear form, transposed", f"{COOKBOOK} (71)", wrt="X", wrt_kind=Mx, a=V, b=V),
    _I("a'*X*a", "a*a'", "bilinear form", f"{COOKBOOK} (72)", wrt="X", wrt_kind=Mx, a=V),
    _I("tr(X)", "eye", "trace", f"{COOKBOOK} (99)", wrt="X", wrt_kind=Mx),
    _I("tr(X*A)", "A'", "trace of a product", f"{COOKBOOK} (100)", wrt="X", wrt_kind=Mx, A=Mx),
    _I("tr(A*X)", "A'", "trace of a product", f"{COOKBOOK} (100), tr(AX) = tr(XA)", wrt="X", wrt_kind=Mx, A=Mx),
    _I("tr(A*X*B)", "A'*B'", "trace of a product", f"{COOKBOOK} (101)", wrt="X", wrt_kind=Mx, A=Mx, B=Mx),
    _I("tr(A*X'*B)", "B*A", "trace of a product", f"{COOKBOOK} (102)", wrt="X", wrt_kind=Mx, A=Mx, B=Mx),
    _I("tr(X'*A)", "A", "trace of a product", f"{COOKBOOK} (103)", wrt="X", wrt_kind=Mx, A=Mx),
    _I("tr(A*X')", "A", "trace of a product", f"{COOKBOOK} (104)", wrt="X", wrt_kind=Mx, A=Mx),
    _I("tr(X*X)", "2*X'", "trace of a square", f"{COOKBOOK} (106)", wrt="X", wrt_kind=Mx),
    _I("tr(X'*B*X)", "B*X + B'*X", "trace of a quadratic form", f"{COOKBOOK} (108)", wrt="X", wrt_kind=Mx, B=Mx),
    _I("tr(X'*X)", "2*X", "squared Frobenius norm as a trace", f"{COOKBOOK} (115)", wrt="X", wrt_kind=Mx),
    _I("tr(X*X')", "2*X", "squared Frobenius norm as a trace", f"{COOKBOOK} (115)", wrt="X", wrt_kind=Mx),
    _I("tr(A*inv(X)*B)", "-(inv(X)*B*A*inv(X))'", "trace with an inverse", f"{COOKBOOK} (124)",
       wrt="X", wrt_kind=Mx, A=Mx, B=Mx),
    _I("norm2(X)^2", "2*X", "squared Frobenius norm", f"{COOKBOOK} (132)", wrt="X", wrt_kind=Mx),
    _I("norm2(X)", "X/norm2(X)", "Frobenius norm", f"{COOKBOOK} (132) and the chain rule", wrt="X", wrt_kind=Mx),
    _I("det(X)", "det(X)*inv(X)'", "determinant (Jacobi's formula)", f"{COOKBOOK} (49)", wrt="X", wrt_kind=Mx),
    _I("logdet(X)", "inv(X)'", "log-determinant", f"{COOKBOOK} (57)", wrt="X", wrt_kind=Mx),
    _I("a'*inv(X)*b", "-inv(X)'*a*b'*inv(X)'", "bilinear form of the inverse", f"{COOKBOOK} (61)",
       wrt="X", wrt_kind=Mx, a=V, b=V),
    _I("inv(X)", "-(X⁻¹)_ki (X⁻¹)_jl", "inverse", f"{COOKBOOK} (59)-(60)",
       wrt="X", wrt_kind=Mx, tensor=True),
    _I("sum(X)", "matrix(1)", "sum of the entries", "each entry counts once", wrt="X", wrt_kind=Mx),
    _I("X*A", "δ_ik A_lj", "linear map", f"{COOKBOOK} (74)", wrt="X", wrt_kind=Mx, tensor=True, A=Mx),
    _I("X'*A", "δ_il A_kj", "linear map", f"{COOKBOOK} (75)", wrt="X", wrt_kind=Mx, tensor=True, A=Mx),
    _I("A*x", "δ_ij x_k", "vector by matrix", "the lecture, Example 3",
       wrt="A", wrt_kind=Mx, tensor=True, x=V),
    _I("X'*X", "δ_jp X_iq + δ_jq X_ip", "matrix by matrix", "the lecture, Example 4",
       wrt="X", wrt_kind=Mx, tensor=True),
    _I("X'*B*X", "δ_lj (X'B)_ki + δ_kj (BX)_il", "quadratic form by a matrix", f"{COOKBOOK} (79)",
       wrt="X", wrt_kind=Mx, tensor=True, B=Mx),
    # -- matrix functions (issue 18; docs/matrix_functions.md) ---------------------------------------
    _I("tr(expm(X))", "expm(X)'", "the trace rule, ∂tr(f(X))/∂X = f′(X)'", HIGHAM, wrt="X", wrt_kind=Mx),
    _I("tr(logm(X))", "inv(X)'", "the trace rule, ∂tr(f(X))/∂X = f′(X)' (tr(logm(X)) = logdet(X))", HIGHAM,
       wrt="X", wrt_kind=Mx),
    _I("tr(sqrtm(X))", "0.5*inv(sqrtm(X))'", "the trace rule, ∂tr(f(X))/∂X = f′(X)'", HIGHAM, wrt="X", wrt_kind=Mx),
    *(_I(f"a'*{f}(X)*b", f"{FUNCTIONS[f].frechet}(X', a*b')", "the Fréchet derivative, its adjoint L(X', ·)",
         HIGHAM, wrt="X", wrt_kind=Mx, a=V, b=V) for f in _ANALYTIC),
    *(_I(f"tr(A*{f}(X))", f"{FUNCTIONS[f].frechet}(X', A')", "the Fréchet derivative, its adjoint L(X', ·)",
         HIGHAM, wrt="X", wrt_kind=Mx, A=Mx) for f in _ANALYTIC),
    *(_I(f"{f}(X)", f"L_{f}(X)_ijkl", "the Fréchet derivative", HIGHAM, wrt="X", wrt_kind=Mx, tensor=True)
      for f in _ANALYTIC),
    _I("expm(x*A)", "A*expm(x*A)", "the commuting case, d/dt expm(t*A) = A*expm(t*A)", HIGHAM,
       wrt="x", wrt_kind=S, A=Mx),
)


def _kind_ok(kind: str, t, node, ctx) -> bool:
    if kind == "any":
        return True
    if kind == "scalar":
        return t.is_scalar
    if kind == "vector":
        return t.is_col
    if kind == "matrix":
        return t.is_matrix
    if kind == "symmetric":
        return isinstance(node, A.Name) and ctx.is_symmetric(node.name)
    return False


def match(identity: Identity, node: A.Expr, ctx) -> dict | None:
    """The binding of the pattern's constants if ``node`` is an instance of ``identity``."""
    binding: dict = {}

    def go(p: A.Expr, n: A.Expr) -> bool:
        if isinstance(p, A.Name):
            if p.name == identity.wrt:
                return isinstance(n, A.Name) and n.name == ctx.wrt
            if p.name in ("eye", "I"):
                return isinstance(n, A.Name) and n.name in ("eye", "I")
            if ctx.depends(n):
                return False
            if not _kind_ok(identity.kinds.get(p.name, "any"), ctx.type_of(n), n, ctx):
                return False
            if p.name in binding:
                return binding[p.name] == n
            binding[p.name] = n
            return True
        if type(p) is not type(n):
            return False
        match p:
            case A.Num(value=v):
                return n.value == v
            case A.BinOp(op=op):
                return n.op == op and go(p.left, n.left) and go(p.right, n.right)
            case A.Call(func=f, args=args):
                return n.func == f and len(n.args) == len(args) and all(go(a, b) for a, b in zip(args, n.args))
            case A.Neg(arg=a) | A.Transpose(arg=a):
                return go(a, n.arg)
        return False

    wrt_type = ctx.wrt_kind()
    if wrt_type != identity.wrt_kind:
        return None
    return binding if go(identity.tree, node) else None


def find(node: A.Expr, ctx) -> Identity | None:
    """The first identity of the table that ``node`` is an instance of."""
    if not isinstance(ctx.wrt, str):
        return None
    for ident in IDENTITIES:
        if match(ident, node, ctx) is not None:
            return ident
    return None
