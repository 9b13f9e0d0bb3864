"""A derivation as a list of structured steps, and its renderings (text, Markdown, LaTeX, HTML).

A :class:`Step` is data: the rule applied (a short tag such as ``"chain rule"``), a title, the
expression before and after, the shape of the result, a note saying why (the identity and its
Matrix Cookbook equation), its depth in the derivation, and whether it is *trivial* (∂y/∂θ = 0
for a constant y, ∂x/∂x = I).  :class:`Steps` is the ordered list; renderings show the trivial
steps only with ``full=True`` — they are already named in their parent's note, so a long
derivation stays readable.

Each step's ``formula`` is a :class:`~ricci.explain.formula.Formula`, so the four renderings
are made from one source and never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from ..printing import mathml as M
from .formula import Formula, tex_words


@dataclass(frozen=True)
class Step:
    """One step of a derivation."""

    #: what was done: "shape", "decompose", "chain rule", "identity", "sum rule", "product rule",
    #: "linearity", "function", "partials", "multiply", "substitute", "simplify", "result", …
    rule: str
    #: a few words for the reader: "Shape of the result", "∂L/∂e", …
    title: str
    #: the step as one displayed formula (e.g. ∂L/∂e = 2e' ∈ ℝ^{1×N})
    formula: Formula | None = None
    #: why: the identity's name and source, or the rule in words (may contain formulas)
    note: Formula | None = None
    #: the expression differentiated (or rewritten) and what it became
    before: Formula | None = None
    after: Formula | None = None
    #: the shape of ``after`` as the lecture writes it, e.g. ("1", "N")
    shape: tuple = ()
    #: the reference for the rule, e.g. "Matrix Cookbook (131)"
    source: str | None = None
    depth: int = 0
    trivial: bool = False

    def to_dict(self) -> dict:
        return {
            "rule": self.rule, "title": self.title, "depth": self.depth, "trivial": self.trivial,
            "formula": self.formula.text if self.formula else None,
            "latex": self.formula.latex if self.formula else None,
            "note": self.note.text if self.note else None,
            "before": self.before.text if self.before else None,
            "after": self.after.text if self.after else None,
            "shape": list(self.shape), "source": self.source,
        }


@dataclass(frozen=True)
class Steps:
    """The derivation of a derivative, step by step, as the lecture does it."""

    steps: tuple = field(default_factory=tuple)
    #: a one-line heading: "∂/∂θ of norm2(y - Phi*theta)^2"
    heading: Formula | None = None
    #: the Derivative explained (``d.steps(method=…)`` asks it for the other method: .methods)
    derivative: object = field(default=None, compare=False, repr=False)

    # -- a sequence ---------------------------------------------------------------------------------
    def __iter__(self):
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, k):
        return self.steps[k]

    def shown(self, full: bool = False) -> list[Step]:
        """The steps a rendering shows: all with ``full``, else the non-trivial ones."""
        return [s for s in self.steps if full or not s.trivial]

    def rules(self) -> list[str]:
        return [s.rule for s in self.steps]

    def find(self, rule: str) -> list[Step]:
        return [s for s in self.steps if s.rule == rule]

    def _numbers(self, full: bool) -> list[tuple[str, Step]]:
        counters: list[int] = []
        out = []
        prev = -1
        for s in self.shown(full):
            d = min(s.depth, prev + 1)  # a step whose parent is folded away moves up
            prev = d
            if d != s.depth:
                from dataclasses import replace

                s = replace(s, depth=d)
            del counters[d + 1:]
            while len(counters) <= d:
                counters.append(0)
            counters[d] += 1
            out.append((".".join(str(c) for c in counters[:d + 1]), s))
        return out

    # -- renderings ---------------------------------------------------------------------------------
    def text(self, full: bool = False) -> str:
        lines = [self.heading.text] if self.heading else []
        for num, s in self._numbers(full):
            pad = "   " * s.depth
            line = f"{pad}{num}. {s.title}"
            if s.formula is not None:
                line += f": {s.formula.text}"
            lines.append(line)
            if s.note is not None and s.note.text:
                lines.append(f"{pad}   ({s.note.text})")
        return "\n".join(lines)

    def markdown(self, full: bool = False) -> str:
        lines = [self.heading.markdown, ""] if self.heading else []
        for num, s in self._numbers(full):
            pad = "   " * s.depth
            line = f"{pad}{num.split('.')[-1]}. **{_md_escape(s.title)}**"
            if s.formula is not None:
                line += f": {s.formula.markdown}"
            if s.note is not None and s.note.text:
                line += f" ({s.note.markdown})"
            lines.append(line)
        return "\n".join(lines)

    def latex(self, full: bool = False) -> str:
        """Math-mode LaTeX (an ``array`` of lines), for a document's display math or MathJax."""
        rows = []
        if self.heading:
            rows.append(self.heading.latex)
        for num, s in self._numbers(full):
            indent = r"\quad " * s.depth
            row = indent + tex_words(f"{num}. {s.title}" + (": " if s.formula else ""))
            if s.formula is not None:
                row += s.formula.latex
            if s.note is not None and s.note.text:
                row += r" \quad \text{(}" + s.note.latex + r"\text{)}"
            rows.append(row)
        return r"\begin{array}{l}" + r" \\ ".join(rows) + r"\end{array}"

    def html(self, full: bool = False) -> str:
        """An HTML fragment: nested ordered lists with MathML formulas (no JavaScript)."""
        out = ['<div class="ricci-steps">']
        if self.heading:
            out.append(f"<p><strong>{self.heading_html()}</strong></p>")
        depth = -1
        for _, s in self._numbers(full):
            while depth < s.depth:
                out.append("<ol>")
                depth += 1
            while depth > s.depth:
                out.append("</li></ol>")
                depth -= 1
            if out[-1] not in ("<ol>",):
                out.append("</li>")
            item = f"<li><strong>{escape(s.title)}</strong>"
            if s.formula is not None:
                item += ": " + M.math(s.formula.mathml, "inline")
            if s.note is not None and s.note.text:
                item += f' <span class="note">({M.math(s.note.mathml, "inline")})</span>'
            out.append(item)
        while depth >= 0:
            out.append("</li></ol>")
            depth -= 1
        out.append("</div>")
        return "".join(out)

    def heading_html(self) -> str:
        return M.math(self.heading.mathml, "inline") if self.heading else ""

    def to_dict(self) -> list[dict]:
        return [s.to_dict() for s in self.steps]

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<ricci steps: {len(self.shown())} shown, {len(self.steps)} in all>"

    # -- Jupyter ------------------------------------------------------------------------------------
    def _repr_markdown_(self) -> str:
        return self.markdown()

    def _repr_latex_(self) -> str:
        return f"$${self.latex()}$$"

    def _repr_html_(self) -> str:
        return self.html()


def _md_escape(s: str) -> str:
    return s.replace("*", r"\*").replace("_", r"\_")
