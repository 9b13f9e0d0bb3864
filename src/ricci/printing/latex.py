"""Matrix AST → LaTeX, in the lecture's notation (``^\\top``, ``\\operatorname{tr}``, ``\\odot``).

``bold`` (a set of names) prints those names in bold, as the lecture writes vectors and
matrices (``\\mathbf{x}``, ``\\boldsymbol{\\theta}``); by default every name is plain.
"""

from __future__ import annotations

import contextlib
import contextvars
import re

from ..functions import lookup
from ..language import ast as A
from .text import POSTFIX, PRODUCT, SUM, UNARY, format_number, level

GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
         "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
         "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}

def name_latex(name: str, bold: bool = False) -> str:
    if name in ("eye", "I"):
        return r"\mathbf{I}" if bold else "I"
    m = re.fullmatch(r"([A-Za-z]+?)_?(\d+)", name)
    base, sub = (m.group(1), m.group(2)) if m else (name, None)
    if "_" in base:
        base, sub2 = base.split("_", 1)
        sub = sub2 + (sub or "")
    b = "\\" + base if base in GREEK else (base if len(base) == 1 else rf"\mathrm{{{base}}}")
    if bold:
        b = rf"\boldsymbol{{{b}}}" if base in GREEK else rf"\mathbf{{{base}}}"
    return f"{b}_{{{sub}}}" if sub else b


#: the names of the dimensions that sizes stand for (len(w) → n), while a derivative's display
#: is printed (display_forms sets them: the language has no names for dimensions, LaTeX has)
_SIZE_NAMES: contextvars.ContextVar[dict] = contextvars.ContextVar("size_names", default={})


@contextlib.contextmanager
def size_names(names: dict):
    """Print the size arguments in ``names`` (AST → dimension name) as those names."""
    token = _SIZE_NAMES.set(names)
    try:
        yield
    finally:
        _SIZE_NAMES.reset(token)


def _sizes(sizes) -> tuple:
    """The sizes of a constant, with size(A) (both of A's) as its two."""
    if len(sizes) == 1 and isinstance(sizes[0], A.Call) and sizes[0].func == "size" and len(sizes[0].args) == 1:
        a = sizes[0].args[0]
        return (A.Call("size", (a, A.Num(1.0))), A.Call("size", (a, A.Num(2.0))))
    return tuple(sizes)


def size_latex(node: A.Expr) -> str:
    """A size: its dimension's name where known, else the size written out (a number,
    len(x), size(A, 1))."""
    name = _SIZE_NAMES.get().get(node)
    if name is not None:
        return name_latex(str(name))
    if isinstance(node, A.Num):
        return format_number(node.value)
    if isinstance(node, A.Call) and node.func == "len":
        return r"\operatorname{len}\left(" + ast_to_latex(node.args[0]) + r"\right)"
    if isinstance(node, A.Call) and node.func == "size" and len(node.args) == 2:
        return (r"\operatorname{size}\left(" + ast_to_latex(node.args[0]) + ", "
                + ast_to_latex(node.args[1]) + r"\right)")
    return ast_to_latex(node)


def _wrap(node: A.Expr, ok: bool, bold: frozenset = frozenset()) -> str:
    s = ast_to_latex(node, bold)
    return s if ok else rf"\left({s}\right)"


def _superscripted(node: A.Expr) -> bool:
    """Printed with a superscript already (A^\\top, X^{-1}): another one needs parentheses."""
    return isinstance(node, A.Transpose) or (isinstance(node, A.Call) and layout(node.func) == "inverse")


def layout(f: str) -> str:
    """How ``f(x)`` is laid out: the function table's ``Function.layout`` ("head" for a name
    that is no function of the table)."""
    fn = lookup(f)
    return fn.layout if fn is not None else "head"


def ast_to_latex(node: A.Expr, bold: frozenset = frozenset()) -> str:
    """LaTeX of a matrix AST; the names in ``bold`` are set in bold."""
    match node:
        case A.Num(value=v):
            return format_number(v)
        case A.Name(name=n):
            return name_latex(n, n in bold)
        case A.Transpose(arg=A.Call(func=f, args=(x,))) if layout(f) == "inverse":
            return _wrap(x, level(x) >= POSTFIX and not _superscripted(x), bold) + r"^{-\top}"
        case A.Transpose(arg=a):
            return _wrap(a, level(a) >= POSTFIX and not _superscripted(a), bold) + r"^\top"
        case A.Neg(arg=a):
            return "-" + _wrap(a, level(a) > UNARY, bold)
        case A.Call(func="eye", args=(n,)):
            return (r"\mathbf{I}" if bold else "I") + "_{" + size_latex(n) + "}"
        case A.Call(func="vector" | "matrix" as f, args=(a, *sizes)) if sizes:
            # a constant with its size: 0 and 1 in bold with the shape beside (0_n, 1_{m×n})
            shape = r" \times ".join(size_latex(n) for n in _sizes(sizes))
            if isinstance(a, A.Num) and a.value in (0.0, 1.0):
                return rf"\mathbf{{{format_number(a.value)}}}_{{{shape}}}"
            return ast_to_latex(a, bold) + r"\,\mathbf{1}_{" + shape + "}"
        case A.Call(func=f, args=(a, b)) if layout(f) == "infix":
            # A ⊗ B, bracketed: as a call, it is one operand wherever it stands (kron(A, B)')
            return (r"\left(" + _wrap(a, level(a) > PRODUCT, bold) + " " + lookup(f).latex + " "
                    + _wrap(b, level(b) > PRODUCT, bold) + r"\right)")
        case A.Call(func=f, args=(a,)):
            inner = ast_to_latex(a, bold)
            how = layout(f)
            if how == "inverse":
                return _wrap(a, level(a) >= POSTFIX and not _superscripted(a), bold) + "^{-1}"
            if how == "norm":
                return rf"\left\lVert {inner} \right\rVert_{lookup(f).norm}"
            if how == "radical":
                return rf"\sqrt{{{inner}}}"
            if f == "vector":
                return (inner + r"\,") * (inner != "1") + r"\mathbf{1}"
            if f == "matrix":
                return (inner + r"\,") * (inner != "1") + r"\mathbf{1}\mathbf{1}^\top"
            fn = lookup(f)  # the function table's LaTeX head (\exp, \log\det, \sigma)
            head = (fn.latex if fn is not None else None) or r"\operatorname{" + f + "}"
            return head + r"\left(" + inner + r"\right)"
        case A.Call(func=f, args=args):  # expm_frechet(X, E): a function of two arguments
            fn = lookup(f)
            head = (fn.latex if fn is not None else None) or r"\operatorname{" + f.replace("_", r"\_") + "}"
            return head + r"\left(" + ", ".join(ast_to_latex(x, bold) for x in args) + r"\right)"
        case A.Literal(rows=rows):
            body = r" \\ ".join(" & ".join(ast_to_latex(e, bold) for e in row) for row in rows)
            return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"
        case A.BinOp(op=op, left=l, right=r):
            if op == "/":
                return rf"\frac{{{ast_to_latex(l, bold)}}}{{{ast_to_latex(r, bold)}}}"
            if op in ("^", ".^"):
                base = _wrap(l, level(l) >= POSTFIX and not _superscripted(l), bold)
                hat = r"{\circ " + ast_to_latex(r, bold) + "}" if op == ".^" else "{" + ast_to_latex(r, bold) + "}"
                return f"{base}^{hat}"
            p = {"+": SUM, "-": SUM}.get(op, PRODUCT)
            left = _wrap(l, level(l) >= p, bold)
            right = _wrap(r, level(r) > p and level(r) != UNARY, bold)
            if op in ("+", "-"):
                return f"{left} {op} {right}"
            if op == ".*":
                return rf"{left} \odot {right}"
            if op == "./":
                return rf"{left} \oslash {right}"
            sep = r" \cdot " if right[:1].isdigit() or (left[-1:].isdigit() and right[:1].isdigit()) else " "
            return f"{left}{sep}{right}"
        case A.Where(body=b, bindings=bs):
            binds = ", ".join(f"{name_latex(n, n in bold)} = {ast_to_latex(e, bold)}" for n, e in bs)
            return rf"{ast_to_latex(b, bold)} \quad \text{{where }} {binds}"
    raise TypeError(node)

