"""Formulas in three notations at once: plain text, LaTeX and presentation MathML.

A :class:`Formula` is an immutable triple of strings that always mean the same thing, built by
the small combinators below (a name, a fraction, a partial derivative, ℝ^{1×n}, words) or from
a matrix AST (:func:`expr`).  The explanation (:mod:`ricci.explain.steps`) is assembled from
them, so its text, Markdown, LaTeX and HTML renderings can never disagree.

Invariants: ``mathml`` is a sequence of MathML elements with no ``<math>`` wrapper (so formulas
concatenate); ``latex`` is valid in math mode; ``text`` uses the input language where it can
(``A'``, ``inv(X)``) and Unicode (∂, ℝ, ×, ⊗) for what the language has no spelling for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..language import ast as A
from ..printing import mathml as M
from ..printing.latex import ast_to_latex, name_latex
from ..printing.text import to_text


@dataclass(frozen=True)
class Formula:
    """The same formula as plain text, LaTeX (math mode) and MathML (no ``<math>`` wrapper)."""

    text: str
    latex: str
    mathml: str
    #: Markdown: words as text, mathematics as $…$ (None: the whole formula is mathematics)
    md: str | None = None

    @property
    def markdown(self) -> str:
        if self.md is not None:
            return self.md
        return f"${self.latex}$" if self.latex.strip() else ""

    def __add__(self, other: "Formula") -> "Formula":
        md = None
        if self.md is not None or other.md is not None:
            a, b = self.markdown, other.markdown
            md = a[:-1] + b[1:] if a.endswith("$") and b.startswith("$") else a + b
        return Formula(self.text + other.text, self.latex + other.latex, self.mathml + other.mathml, md)

    def __str__(self) -> str:
        return self.text

    @property
    def grouped(self) -> "Formula":
        """The same formula with its MathML in one ``<mrow>`` (for scripts and fractions)."""
        return Formula(self.text, self.latex, M.row(self.mathml), self.md)

    def math(self, display: str = "block") -> str:
        """A complete ``<math>`` element."""
        return M.math(self.mathml, display)

    def _repr_latex_(self) -> str:
        return f"$${self.latex}$$"

    def _repr_html_(self) -> str:
        return self.math()


class ShowsFormula:
    """``text``, ``latex`` and ``mathml`` of an object that holds its answer as ``formula``."""

    formula: Formula

    @property
    def text(self) -> str:
        return self.formula.text

    @property
    def latex(self) -> str:
        return self.formula.latex

    @property
    def mathml(self) -> str:
        """A complete ``<math>`` element (presentation MathML)."""
        return self.formula.math()


EMPTY = Formula("", "", "", "")


def cat(*parts: Formula) -> Formula:
    out = EMPTY
    for p in parts:
        out = out + p
    return out


def join(parts, sep: Formula) -> Formula:
    out = EMPTY
    for k, p in enumerate(parts):
        out = out + (sep + p if k else p)
    return out


def op(text: str, latex: str | None = None, mathml: str | None = None) -> Formula:
    """An operator with spaces around it in text and LaTeX (``=``, ``+``, ``∈``)."""
    t = text.strip()
    return Formula(f" {t} ", f" {latex or t} ", M.mo(mathml or t))


EQ = op("=")
PLUS = op("+")
MINUS = op("-", "-", M.MINUS)
IN = op("∈", r"\in", "\u2208")
TIMES = Formula("*", " ", M.mo(M.TIMES))  # a matrix product: * in text, juxtaposition in print
JUX = Formula(" · ", " ", M.mo(M.TIMES))  # a product of derivatives, ∂L/∂e · ∂e/∂θ
DOT = op("·", r"\cdot", "\u22c5")
KRON = op("⊗", r"\otimes", "\u2297")
CROSS = op("×", r"\times", "\u00d7")
COMMA = Formula(", ", ",\\ ", M.mo(","))


#: Symbols that may appear in words, and their LaTeX outside ``\text{…}``.
_WORD_SYMBOLS = {"×": r"\times", "∂": r"\partial", "‖": r"\lVert", "²": "^2", "⊤": r"^\top", "Σ": r"\Sigma",
                 "³": "^3", "⁴": "^4", "⁵": "^5", "⁶": "^6",  # D⁴f, the differential method's orders
                 "δ": r"\delta", "∘": r"\circ", "⊙": r"\odot", "⊗": r"\otimes", "≠": r"\neq", "→": r"\to",
                 "ℝ": r"\mathbb{R}", "θ": r"\theta", "Φ": r"\Phi", "−": "-", "…": r"\ldots", "·": r"\cdot",
                 "ᵢ": "_i", "ⱼ": "_j", "ₖ": "_k", "ₚ": "_p", "∈": r"\in",
                 "^": r"{}^\wedge"}  # a caret left in words (they should hold none) stays visible
_TEX_SPECIAL = {"\\": r"\backslash ", "{": r"\{", "}": r"\}", "_": r"\_", "#": r"\#",
                "%": r"\%", "&": r"\&", "$": r"\$", "~": r"\~{}"}


def tex_words(s: str) -> str:
    """Words in math-mode LaTeX: plain runs in ``\text{…}`` (special characters escaped),
    mathematical symbols (×, ∂, ‖, …) as math."""
    out, run = [], ""
    for ch in s:
        if ch in _WORD_SYMBOLS:
            if run:
                out.append(r"\text{" + run + "}")
                run = ""
            out.append(_WORD_SYMBOLS[ch] + " ")
        else:
            run += _TEX_SPECIAL.get(ch, ch)
    if run:
        out.append(r"\text{" + run + "}")
    return "".join(out)


_SPACE = re.compile(r"R\^\(([^()]*(?:\([^()]*\)[^()]*)*)\)|R\^([A-Za-z0-9]+)")


def words(s: str) -> Formula:
    """Words inside a formula; a space written R^n or R^(m×n) in them is set as ℝ^{m×n}."""
    out = EMPTY
    pos = 0
    for m in _SPACE.finditer(s):
        if m.start() > pos:
            out = out + _plain(s[pos:m.start()])
        dims = m.group(1).split("×") if m.group(1) is not None else [m.group(2)]
        r = reals([d.strip() for d in dims])
        out = out + Formula(m.group(0), r.latex, r.mathml)
        pos = m.end()
    if pos < len(s):
        out = out + _plain(s[pos:])
    return out


def _plain(s: str) -> Formula:
    md = "".join("\\" + c if c in "\\`*_[]<>#|$" else c for c in s)
    return Formula(s, tex_words(s), M.text(s), md)


def number(v: float | int) -> Formula:
    from ..printing.text import format_number

    s = format_number(float(v))
    return Formula(s, s, M.mn(s))


def name(n: str, bold: bool = False) -> Formula:
    """A variable's or a function's name: x1 as x₁, theta as θ."""
    return Formula(n, name_latex(n, bold), M.name_mathml(n, bold))


def symbol(text: str, latex: str, mathml: str) -> Formula:
    return Formula(text, latex, mathml)


def paren(f: Formula, left: str = "(", right: str = ")") -> Formula:
    lt = {"(": r"\left(", "[": r"\left[", "{": r"\left\{"}[left]
    rt = {")": r"\right)", "]": r"\right]", "}": r"\right\}"}[right]
    return Formula(left + f.text + right, lt + f.latex + rt, M.fenced(f.mathml, left, right))


def _token(latex: str) -> bool:
    """One LaTeX token (a letter, or a command with its braced argument): needs no braces."""
    return re.fullmatch(r"[A-Za-z0-9]|\\[A-Za-z]+(\{[^{}]*\})?", latex.strip()) is not None


def sub(base: Formula, script: Formula) -> Formula:
    """base with a subscript: ``x_i`` (text keeps one-letter scripts unbracketed)."""
    s = script.text
    t = f"{base.text}_{s}" if len(s) <= 1 or s.isalnum() else f"{base.text}_({s})"
    b = base.latex.strip() if _token(base.latex) else f"{{{base.latex}}}"
    return Formula(t, f"{b}_{{{script.latex}}}", M.sub(M.row(base.mathml), M.row(script.mathml)))


def sup(base: Formula, script: Formula) -> Formula:
    s = script.text
    t = f"{base.text}^{s}" if len(s) <= 1 or s.isalnum() else f"{base.text}^({s})"
    b = base.latex.strip() if _token(base.latex) else f"{{{base.latex}}}"
    return Formula(t, f"{b}^{{{script.latex}}}", M.sup(M.row(base.mathml), M.row(script.mathml)))


def frac(num: Formula, den: Formula) -> Formula:
    nt = num.text if _simple(num.text) else f"({num.text})"
    dt = den.text if _simple(den.text) else f"({den.text})"
    return Formula(f"{nt}/{dt}", rf"\frac{{{num.latex}}}{{{den.latex}}}", M.frac(M.row(num.mathml), M.row(den.mathml)))


def _simple(t: str) -> bool:
    return all(c not in t for c in " +-*/") or (t.startswith("∂") and " " not in t)


PARTIAL = Formula("∂", r"\partial ", M.mo("\u2202"))


def partial(f: Formula, x: Formula, order: int = 1) -> Formula:
    """∂f/∂x (∂²f/∂x² for order 2): the lecture's notation for a derivative."""
    if order == 1:
        num = PARTIAL + f
        den = PARTIAL + x
    else:
        num = cat(sup(PARTIAL, number(order)), f)
        den = cat(PARTIAL, sup(x, number(order)))
    t = f"∂{'^' + str(order) if order > 1 else ''}{f.text}/∂{x.text}{'^' + str(order) if order > 1 else ''}"
    if " " in f.text:
        t = f"∂{'^' + str(order) if order > 1 else ''}({f.text})/∂{x.text}{'^' + str(order) if order > 1 else ''}"
    return Formula(t, rf"\frac{{{num.latex}}}{{{den.latex}}}", M.frac(M.row(num.mathml), M.row(den.mathml)))


def partial_of(body: Formula, x: Formula) -> Formula:
    """∂/∂x (body): the derivative of an expression written out."""
    den = PARTIAL + x
    return Formula(f"∂/∂{x.text} ({body.text})",
                   rf"\frac{{\partial}}{{{den.latex}}} \left({body.latex}\right)",
                   M.frac(M.mo("\u2202"), M.row(den.mathml)) + M.fenced(body.mathml))


def reals(dims: list[str]) -> Formula:
    """ℝ^{1×n}: the space a result lives in; ``dims`` are formatted dimension names (a group
    of several, as in a tensor's (M × N), is given already parenthesised)."""
    if not dims:
        return Formula("R", r"\mathbb{R}", M.mi("\u211d"))
    dims = [d.replace(" ", "") for d in dims]
    t = "R^(" + "×".join(dims) + ")" if len(dims) > 1 else "R^" + dims[0]
    lt = r"\mathbb{R}^{" + r" \times ".join(_dim_latex(d) for d in dims) + "}"
    return Formula(t, lt, M.real_space([_dim_mathml(d) for d in dims]))


def _dim_latex(d: str) -> str:
    return d.replace("×", r" \times ").replace("(", r"(").replace(")", ")")


def _dim_mathml(d: str) -> str:
    parts = []
    tok = ""
    for ch in d:
        if ch in "()×":
            if tok.strip():
                parts.append(M.mn(tok.strip()) if tok.strip().isdigit() else M.mi(tok.strip()))
            tok = ""
            parts.append(M.mo(ch))
        else:
            tok += ch
    if tok.strip():
        parts.append(M.mn(tok.strip()) if tok.strip().isdigit() else M.mi(tok.strip()))
    return M.row(*parts)


def expr(node: A.Expr, bold: frozenset = frozenset()) -> Formula:
    """A matrix-notation AST in the three notations."""
    return Formula(to_text(node), ast_to_latex(node, bold), M.ast_to_mathml(node, bold))
