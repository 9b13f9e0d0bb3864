"""Matrix AST → presentation MathML, in the lecture's notation (browsers render it natively).

The output of :func:`ast_to_mathml` is the *content* of a ``<math>`` element (a sequence of
``<mrow>``, ``<mi>``, … elements); :func:`math` wraps it in the element with its namespace.
Every string is well-formed XML: names are letters, digits and ``_`` (the grammar's rule), and
anything else (words of an explanation) goes through :func:`text`, which escapes it.

Invariants: parentheses exactly where :mod:`ricci.printing.latex` puts them (the precedence
table of :mod:`ricci.printing.text`); ``A'`` is ``A`` with a superscript ⊤; ``inv(X)`` is
``X⁻¹``; ``norm2(x)`` is ``‖x‖₂``; ``.*`` is ⊙; names in ``bold`` use ``mathvariant="bold"``.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from ..functions import lookup
from ..language import ast as A
from .latex import _SIZE_NAMES, GREEK, _sizes, layout
from .text import POSTFIX, PRODUCT, SUM, UNARY, format_number, level

NAMESPACE = "http://www.w3.org/1998/Math/MathML"

_GREEK_CHARS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ", "eta": "η",
    "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π",
    "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
assert set(_GREEK_CHARS) == GREEK


MINUS = "\u2212"
TRANSPOSE = "\u22a4"
APPLY = "\u2061"  # function application (invisible)
TIMES = "\u2062"  # invisible times


# -- elements -------------------------------------------------------------------------------------
def mi(s: str, variant: str | None = None) -> str:
    v = f' mathvariant="{variant}"' if variant else ""
    return f"<mi{v}>{escape(s)}</mi>"


def mo(s: str, **attrs) -> str:
    a = "".join(f' {k.rstrip("_")}="{v}"' for k, v in attrs.items())
    return f"<mo{a}>{escape(s)}</mo>"


def mn(s: str) -> str:
    return f"<mn>{escape(s)}</mn>"


def text(s: str) -> str:
    """Words inside a formula, escaped.  Spaces at the ends become no-break spaces: browsers
    trim ordinary ones inside <mtext>, which would glue "of" to the formula beside it."""
    body = escape(s)
    stripped = body.strip(" ")
    lead = len(body) - len(body.lstrip(" "))
    trail = len(body) - len(body.rstrip(" "))
    return f"<mtext>{'&#160;' * lead}{stripped}{'&#160;' * trail}</mtext>"


def row(*parts: str) -> str:
    return "<mrow>" + "".join(parts) + "</mrow>"


def sub(base: str, script: str) -> str:
    return f"<msub>{base}{script}</msub>"


def sup(base: str, script: str) -> str:
    return f"<msup>{base}{script}</msup>"


def frac(num: str, den: str) -> str:
    return f"<mfrac>{num}{den}</mfrac>"


def space(em: float = 1.0) -> str:
    return f'<mspace width="{em:g}em"/>'


def fenced(inner: str, left: str = "(", right: str = ")") -> str:
    return row(mo(left), inner, mo(right))


def math(content: str, display: str = "block") -> str:
    """A complete ``<math>`` element around ``content``."""
    return f'<math xmlns="{NAMESPACE}" display="{display}">{content}</math>'


def real_space(dims: list[str]) -> str:
    """ℝ^{d1×d2…}: the set a result lives in (``dims`` already formatted, e.g. ["1", "n"])."""
    r = mi("\u211d")
    if not dims:
        return r
    parts = []
    for k, d in enumerate(dims):
        if k:
            parts.append(mo("\u00d7"))
        parts.append(d)
    return sup(r, row(*parts))


# -- names ----------------------------------------------------------------------------------------
def _size_mathml(node, show) -> str:
    """A size argument: a number, len(x), size(A, 1) (the language has no names for dimensions)."""
    name = _SIZE_NAMES.get().get(node)
    if name is not None:  # the dimension's name, where the display knows it (I_n)
        return mi(str(name))
    if isinstance(node, A.Num):
        return mn(format_number(node.value))
    if isinstance(node, A.Call) and node.func in ("len", "size"):
        args = "".join((mo(",") if k else "") + show(x) for k, x in enumerate(node.args))
        return row(mi(node.func), mo(APPLY), mo("("), args, mo(")"))
    return show(node)


def name_mathml(name: str, bold: bool = False) -> str:
    """A variable's name: Greek letters as letters, a trailing number as a subscript (x1 → x₁)."""
    if name in ("eye", "I"):
        return mi("I", "bold" if bold else "normal")
    m = re.fullmatch(r"([A-Za-z]+?)_?(\d+)", name)
    base, subscript = (m.group(1), m.group(2)) if m else (name, None)
    if "_" in base:
        base, s2 = base.split("_", 1)
        subscript = s2 + (subscript or "")
    letter = _GREEK_CHARS.get(base, base)
    variant = "bold" if bold else ("normal" if len(letter) > 1 else None)
    b = mi(letter, variant) if len(letter) == 1 or bold else mi(letter)
    if subscript:
        s = mn(subscript) if subscript.isdigit() else mi(subscript)
        return sub(b, s)
    return b


# -- the printer ----------------------------------------------------------------------------------
def ast_to_mathml(node: A.Expr, bold: frozenset = frozenset()) -> str:
    """Presentation MathML of a matrix AST (without the ``<math>`` element)."""

    def show(n: A.Expr) -> str:
        return ast_to_mathml(n, bold)

    def wrap(n: A.Expr, ok: bool) -> str:
        s = show(n)
        return s if ok else fenced(s)

    match node:
        case A.Num(value=v):
            return mn(format_number(v)) if v >= 0 else row(mo(MINUS), mn(format_number(-v)))
        case A.Name(name=n):
            return name_mathml(n, n in bold)
        case A.Transpose(arg=a):
            return sup(wrap(a, level(a) >= POSTFIX), mi(TRANSPOSE, "normal"))
        case A.Neg(arg=a):
            return row(mo(MINUS), wrap(a, level(a) > UNARY))
        case A.Call(func="eye", args=(n,)):  # the identity with its size: I_len(w)
            return sub(name_mathml("eye", "eye" in bold), _size_mathml(n, show))
        case A.Call(func="vector" | "matrix", args=(a, *sizes)) if sizes:
            # a constant with its size, as LaTeX writes it: 0 and 1 in bold, the shape beneath
            shape = [_size_mathml(n, show) for n in _sizes(sizes)]
            script = row(*[x for k, s_ in enumerate(shape) for x in ((mo("\u00d7"),) if k else ()) + (s_,)])
            if isinstance(a, A.Num) and a.value in (0.0, 1.0):
                return sub(f'<mn mathvariant="bold">{format_number(a.value)}</mn>', script)
            return row(show(a), sub('<mn mathvariant="bold">1</mn>', script))
        case A.Call(func=f, args=(a, b)) if layout(f) == "infix":
            # A ⊗ B, bracketed: as a call, it is one operand wherever it stands (kron(A, B)')
            return fenced(row(wrap(a, level(a) > PRODUCT), mo(lookup(f).mathml or f), wrap(b, level(b) > PRODUCT)))
        case A.Call(func=f, args=(a,)):
            inner = show(a)
            how = layout(f)
            if how == "inverse":
                return sup(wrap(a, level(a) >= POSTFIX), row(mo(MINUS), mn("1")))
            if how == "norm":
                return sub(row(mo("\u2016", stretchy="true"), inner, mo("\u2016", stretchy="true")),
                           mn(lookup(f).norm))
            if how == "radical":
                return f"<msqrt>{inner}</msqrt>"
            if f in ("vector", "matrix"):
                one = '<mn mathvariant="bold">1</mn>'
                ones = one if f == "vector" else row(one, sup(one, mi(TRANSPOSE, "normal")))
                scale = [] if isinstance(a, A.Num) and a.value == 1 else [inner, mo(TIMES)]
                return row(*scale, ones)
            fn = lookup(f)  # the function table's MathML head (σ, log det), else the name
            head = (fn.mathml if fn is not None else None) or f
            return row(mi(head), mo(APPLY), fenced(inner))
        case A.Call(func=f, args=args):
            return row(mi(f), mo(APPLY), fenced("".join(
                (mo(",") if k else "") + show(x) for k, x in enumerate(args))))
        case A.Literal(rows=rows):
            body = "".join("<mtr>" + "".join(f"<mtd>{show(e)}</mtd>" for e in r) + "</mtr>" for r in rows)
            return fenced(f"<mtable>{body}</mtable>", "[", "]")
        case A.BinOp(op=op, left=l, right=r):
            if op == "/":
                return frac(show(l), show(r))
            if op in ("^", ".^"):
                base = wrap(l, level(l) >= POSTFIX)
                exp = show(r)
                return sup(base, row(mo("\u2218"), exp) if op == ".^" else exp)
            p = {"+": SUM, "-": SUM}.get(op, PRODUCT)
            left = wrap(l, level(l) >= p)
            right = wrap(r, level(r) > p and level(r) != UNARY)
            if op in ("+", "-"):
                return row(left, mo("+" if op == "+" else MINUS), right)
            if op == ".*":
                return row(left, mo("\u2299"), right)
            if op == "./":
                return row(left, mo("\u2298"), right)
            # A number next to a number needs a visible dot; otherwise juxtaposition.
            dot = isinstance(r, A.Num) or (isinstance(r, A.Neg) and isinstance(r.arg, A.Num))
            return row(left, mo("\u22c5" if dot else TIMES), right)
        case A.Where(body=b, bindings=bs):
            binds = []
            for k, (n, e) in enumerate(bs):
                if k:
                    binds.append(mo(","))
                binds.append(row(name_mathml(n, n in bold), mo("="), show(e)))
            return row(show(b), space(1), text("where"), space(0.5), *binds)
    raise TypeError(node)
