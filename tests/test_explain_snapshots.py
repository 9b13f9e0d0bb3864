"""Snapshots of every explained example (tests/explain_cases.py): the answer's text, LaTeX and
MathML, and the steps as text, Markdown and LaTeX, pinned in tests/snapshots/explain/<id>.txt.

The core's display forms still change; regenerate the files with

    RICCI_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_explain_snapshots.py

and read the diff.  Independently of the snapshots, every LaTeX string is converted to MathML by
latex2mathml (it must parse), every MathML string and HTML rendering must be well-formed XML,
and the steps' final result must be ricci's answer.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import latex2mathml.converter
import pytest
from explain_cases import CASES

import ricci

SNAPSHOTS = Path(__file__).parent / "snapshots" / "explain"
UPDATE = os.environ.get("RICCI_UPDATE_SNAPSHOTS") == "1"
IDS = [c[0] for c in CASES]


def render(case) -> tuple[str, dict]:
    cid, expr, wrt, order, kinds, options = case
    d = ricci.derivative(expr, wrt, order, kinds)
    steps = d.explain(**options)
    dims = options.get("dims")
    view = d.display(name=options.get("name", "f"), dims=dims)
    bold = d.display(name=options.get("name", "f"), dims=dims, bold_vectors=True)
    parts = {
        "text": view.text,
        "latex": view.equation.latex,
        "latex, bold": bold.equation.latex,
        "mathml": view.equation.math(),
        "steps": steps.text(),
        "steps, markdown": steps.markdown(),
        "steps, latex": steps.latex(),
    }
    head = f"# {cid}\n# ricci.derivative({expr!r}, {wrt!r}, {order}, {kinds!r}).explain(**{options!r})\n"
    body = "".join(f"\n## {k}\n{v}\n" for k, v in parts.items())
    return head + body, {"d": d, "steps": steps, "view": view, "bold": bold, "parts": parts}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_snapshot(case):
    text, _ = render(case)
    path = SNAPSHOTS / f"{case[0]}.txt"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"no snapshot {path.name}; run with RICCI_UPDATE_SNAPSHOTS=1 to write it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (f"{path.name} differs; if the change is intended, regenerate with "
                              "RICCI_UPDATE_SNAPSHOTS=1 and review the diff")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_latex_compiles_and_mathml_is_well_formed(case):
    _, r = render(case)
    d, steps, view, bold = r["d"], r["steps"], r["view"], r["bold"]
    latex_strings = [("equation", view.equation.latex), ("bold", bold.equation.latex), ("answer", view.latex),
                     ("steps", steps.latex()), ("steps, full", steps.latex(full=True))]
    latex_strings += [(f"step {k}", s.formula.latex) for k, s in enumerate(steps) if s.formula is not None]
    for name, latex in latex_strings:
        mathml = latex2mathml.converter.convert(latex)
        ET.fromstring(mathml)
        assert "<mi>\\" not in mathml and "<mtext>\\" not in mathml, f"{name}: an unknown command in {latex}"
    for name, xml in [("equation", view.equation.math()), ("answer", view.mathml), ("bold", bold.mathml),
                      ("steps", "<div>" + steps.html() + "</div>"), ("steps, full", steps.html(full=True))]:
        ET.fromstring(xml)
    # the last step states ricci's answer
    result = steps.find("result")[0]
    if d.matrix is not None:
        assert result.after.text == d.text


def test_every_snapshot_has_a_case():
    files = {p.stem for p in SNAPSHOTS.glob("*.txt")}
    assert files == set(IDS), f"stale snapshots: {sorted(files - set(IDS))}; missing: {sorted(set(IDS) - files)}"
