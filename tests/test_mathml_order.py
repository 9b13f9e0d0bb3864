"""An answer in index notation reads the same in its text and in its MathML (issue 15, point 8).

The page shows a derivative's MathML (``d.display()``, printed by ``ricci.explain.tensor``) beside
its text (``d.text``, printed by ``ricci.printing.index``).  ``R'*R`` by R once read
``δ_qj R_ip + δ_pj R_iq`` in the text and ``δ_jp R_iq + δ_jq R_ip`` in the MathML: the two
printers ordered terms, factors and a δ's indices each its own way.  Here every indexed symbol of
the MathML (δ_qj, R_ip, …) must come in the order, and with the indices, of the text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

import ricci

NS = "{http://www.w3.org/1998/Math/MathML}"

CASES = [
    ("R'*R", "R"),
    ("X*X", "X"),
    ("X'*B*X", "X"),
    ("A*x", "A"),
    ("X*A", "X"),
    ("tr(X'*A*X)", "X", 2),
]


def indexed_in_mathml(markup: str) -> list[str]:
    """``base_script`` for every <msub> of the formula's right side, in document order."""
    root = ET.fromstring(markup)
    out = []
    for sub in root.iter(f"{NS}msub"):
        base, script = ("".join(c.itertext()) for c in sub)
        out.append(f"{base.replace('∑', 'Σ')}_{script}")  # the text writes the sum sign as Σ
    return out


def indexed_in_text(text: str) -> list[str]:
    return [f"{b}_{s.strip('()').replace(',', '')}" for b, s in re.findall(r"(\w+?|δ)_(\(\w+,\w+\)|\w+)", text)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]} by {c[1]}")
def test_the_mathml_of_an_index_answer_orders_as_its_text(case):
    expression, wrt, *order = case
    d = ricci.derivative(expression, wrt, *order)
    assert not d.has_matrix_form, "a case in index notation"
    assert d.display().text == d.text
    assert indexed_in_mathml(d.mathml) == indexed_in_text(d.text)

