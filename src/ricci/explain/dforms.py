"""Formulas of the differential method as a textbook sets them: \\mathrm{d}X, tr, vec, ⊗.

* :func:`dformula` – an expression of the input language in which the differential of X is the
  variable ``dX``, with dX set as d X (upright d) in LaTeX and MathML;
* :func:`textbook` – a rule as the rule tables write it (``d(XY) = dX Y + X dY``,
  ``vec(AXB) = (B' ⊗ A) vec X``, words before a colon), in the three notations: upright d,
  ``\\operatorname{tr}``, ``\\operatorname{vec}``, ``X^{-1}`` for inv(X), ``^\\top``, ``\\otimes``.
"""

from __future__ import annotations

import re

from ..language import ast as A
from ..printing import mathml as M
from ..printing.latex import name_latex
from . import formula as F

_UPRIGHT_D = M.mi("d", "normal")


def dformula(e: A.Expr, dnames: dict) -> F.Formula:
    """``e`` in the three notations, each differential dX (``dnames``: X → dX) set as d X."""
    f = F.expr(e)
    latex, mathml = f.latex, f.mathml
    for var, dn in sorted(dnames.items(), key=lambda kv: -len(kv[1])):
        latex = latex.replace(name_latex(dn), r"\mathrm{d}" + name_latex(var))
        mathml = mathml.replace(M.name_mathml(dn), M.row(_UPRIGHT_D, M.name_mathml(var)))
    return F.Formula(f.text, latex, mathml)


def dname(dn: str) -> F.Formula:
    """The differential called ``dn`` (dX) alone."""
    return d_of(dn[1:].lstrip("_"))


def d_of(name: str) -> F.Formula:
    """d followed by a name: df, dX."""
    return F.Formula("d" + name, r"\mathrm{d}" + name_latex(name), M.row(_UPRIGHT_D, M.name_mathml(name)))


def d_node(node: A.Expr) -> F.Formula:
    """d(…) of an expression (dX of a name)."""
    inner = F.expr(node)
    if isinstance(node, A.Name):
        return F.Formula("d" + inner.text, r"\mathrm{d}" + inner.latex, M.row(_UPRIGHT_D, inner.mathml))
    return F.Formula(f"d({inner.text})", r"\mathrm{d}\left(" + inner.latex + r"\right)",
                     M.row(_UPRIGHT_D, M.fenced(inner.mathml)))


def vec_word() -> F.Formula:
    return F.Formula("vec ", r"\operatorname{vec} ", M.mi("vec") + M.mo("\u2061"))


# -- rules as the tables write them -----------------------------------------------------------------
_SYMBOLS = {"⊗": (r"\otimes", "\u2297"), "⊙": (r"\odot", "\u2299"), "⊘": (r"\oslash", "\u2298"),
            "∂": (r"\partial", "\u2202"), "=": ("=", "="), "+": ("+", "+"), "-": ("-", "\u2212"),
            "/": ("/", "/"), "(": ("(", "("), ")": (")", ")"), ",": (",", ","), "²": None, "^": None}
_TOKEN = re.compile(r"inv\(([A-Za-z])\)|d(?=[A-Z(]|[a-z]\b)|[A-Za-z]+|\d+|'|[⊗⊙⊘∂=+\-/(),²^]|\s+|.")


def textbook(s: str) -> F.Formula:
    """A rule's formula (words before the last ': ' stay words) in the three notations."""
    words, sep, math = s.rpartition(": ")
    head = F.words(words + sep) if sep else F.EMPTY
    return head + _math(math if sep else s)


def _operator(tok: str):
    """The table's entry of a function written in a rule (one with a LaTeX head of its own)."""
    from ..functions import lookup

    fn = lookup(tok)
    return fn if fn is not None and fn.latex and fn.latex.startswith("\\") and len(tok) > 1 else None


def _math(s: str) -> F.Formula:
    latex: list[str] = []
    mathml: list[str] = []
    for m in _TOKEN.finditer(s):
        tok = m.group(0)
        if m.group(1):  # inv(X) → X⁻¹
            latex.append(m.group(1) + "^{-1}")
            mathml.append(M.sup(M.mi(m.group(1)), M.row(M.mo("\u2212"), M.mn("1"))))
        elif tok == "d":  # the rules write no variable d: it is the differential's
            latex.append(r"\mathrm{d}")
            mathml.append(_UPRIGHT_D)
        elif tok.isspace():
            latex.append(" ")
        elif tok == "'":
            latex.append(r"^\top ")
            if mathml:
                mathml[-1] = M.sup(mathml[-1], M.mi("\u22a4", "normal"))
        elif tok == "²":
            latex.append("^2")
            if mathml:
                mathml[-1] = M.sup(mathml[-1], M.mn("2"))
        elif _operator(tok) is not None:  # tr, det, vec, diag: set as the function table says
            fn = _operator(tok)
            latex.append((fn.latex or rf"\operatorname{{{tok}}}") + " ")
            mathml.append(M.mi(fn.mathml or tok) + M.mo("\u2061"))
        elif tok.isalpha() and len(tok) > 1 and (tok.islower() and len(tok) > 2):
            latex.append(r"\text{" + tok + "}")  # a word
            mathml.append(M.text(tok))
        elif tok.isalpha() and len(tok) > 1:  # XY, AXB, ab: a product of one-letter names
            latex.append(" ".join(tok) + " ")
            mathml.append(M.mo("\u2062").join(M.mi(c) for c in tok))
        elif tok.isalpha():
            latex.append(tok)
            mathml.append(M.mi(tok))
        elif tok.isdigit():
            latex.append(tok)
            mathml.append(M.mn(tok))
        elif _SYMBOLS.get(tok):
            lt, ml = _SYMBOLS[tok]
            latex.append(" " + lt + " " if tok in "=+⊗⊙⊘" else lt)
            mathml.append(M.mo(ml))
        else:
            latex.append(F.tex_words(tok))
            mathml.append(M.mo(tok))
    return F.Formula(s, re.sub(" +", " ", "".join(latex)).strip(), "".join(mathml))
