"""Typed matrix forms (issue 16, acceptance 2): every form the raiser and the display rules
build is typed once, with its kind and its dimensions (ricci.simplify.mtypes), and nothing
types a form again from its printed text.

The types are checked against what does not come from them: the orientation the raiser was
asked for (the derivative's index dimensions, from the IR) and the language's own type checker
run on the answer's text (ricci.language.kinds.check), which is what the display used to run.
"""

from __future__ import annotations

import pathlib

import pytest

import ricci
from ricci.display_forms import target_orientation
from ricci.language import ast as A
from ricci.language.kinds import check
from ricci.printing.text import to_text
from ricci.simplify.matrix import MatrixForms

SRC = pathlib.Path(__file__).resolve().parent.parent / "src" / "ricci"

CASES = [
    ("x'*A*x", "x", 1, None),
    ("x'*A*x", "x", 2, None),
    ("x'*X*y", "X", 1, None),
    ("tr(A*X*B)", "X", 1, None),
    ("logdet(X)", "X", 1, None),
    ("norm2(A*x - b)^2", "x", 1, None),
    ("norm2(A*x - b)^2", "x", 2, None),
    ("sum(sigmoid(W*x))", "W", 1, None),
    ("sum(sigmoid(W*x))", "x", 2, None),
    ("tanh(W*x)", "x", 1, None),
    ("exp(x)/sum(exp(x))", "x", 1, None),
    ("log(sum(exp(x)))", "x", 2, None),
    ("0.5*lambda*w'*w", "w", 2, None),
    ("A*x + b", "b", 1, None),
    ("x'*S*x", "S", 1, {"S": "symmetric matrix"}),
    ("a'*inv(X)*b", "X", 1, {"a": "vector", "b": "vector"}),
    ("det(X'*X + lambda*eye)", "X", 1, None),
    ("sin(t)*t", "t", 2, {"t": "scalar"}),
    ("u where u = tanh(B*x)", "x", 1, None),
    ("(x'*y)*z", "y", 1, None),
    ("sum(a*matrix(1) + C)", "C", 1, None),
]


def _typed(d):
    """The carried type of d's displayed answer (a where's names typed from their bindings)."""
    forms = MatrixForms(d.expression)
    tree = d.matrix
    if isinstance(tree, A.Where):
        for name, e in tree.bindings:
            forms.types.bind(name, forms.types.of(e))
        tree = tree.body
    return forms.types.of(tree)


@pytest.mark.parametrize("text,wrt,order,kinds", CASES)
def test_the_answer_is_typed_as_the_raiser_oriented_it(text, wrt, order, kinds):
    d = ricci.derivative(text, wrt, order, kinds)
    assert d.matrix is not None
    row, col = target_orientation(d)
    want = (1 if row is None else row.dim, 1 if col is None else col.dim)
    t = _typed(d)
    # a side sized where it stands (ones of a broadcast, eye) may be open; a known one is right
    for got, expected in zip((t.rows, t.cols), want):
        assert got is None or got == expected, (d.text, t, want)
    kind = {(True, True): "s", (False, True): "c", (True, False): "r", (False, False): "m"}[
        (want[0] == 1, want[1] == 1)]
    if t.rows is not None and t.cols is not None:
        assert t.kind == kind, (d.text, t)


def test_the_types_agree_with_the_language_type_checker():
    # every subterm of the answers made of the function's variables: its carried kind and, where
    # carried, the size of each side are those the type checker finds on its text
    seen = 0
    for text, wrt, order, kinds in CASES:
        d = ricci.derivative(text, wrt, order, kinds)
        forms = MatrixForms(d.expression)
        variables = d.expression.variables
        tree = d.matrix.body if isinstance(d.matrix, A.Where) else d.matrix
        for node in A.walk(tree):
            names = {n.name for n in A.walk(node) if isinstance(n, A.Name)}
            if not names or not names <= set(variables):
                continue
            if any(isinstance(n, A.Call) and n.func in ("vector", "matrix", "eye", "len", "size")
                   for n in A.walk(node)):
                continue  # a constant sized where it stands: alone, the checker sizes it afresh
            checked = check(node, to_text(node), {n: variables[n].kind for n in names})
            t, r = forms.types.of(node), checked.result
            kind = "s" if r.is_scalar else "c" if r.is_col else "r" if r.is_row else "m"
            assert t.kind == kind, (to_text(node), t, r.describe())
            # the checker names dimensions afresh: compare through the variables' own
            rename = {}
            for n in names:
                for mine, its in zip(variables[n].dims, checked.variables[n].dims):
                    rename[its] = mine
            for got, its in ((t.rows, r.rows), (t.cols, r.cols)):
                assert got is None or got == rename.get(its, its), (to_text(node), t, r.describe())
            seen += 1
    assert seen > 50


def test_a_name_for_a_subterm_is_sized_by_its_own_variables():
    # sized_alone reads the carried dimensions: a*matrix(1) + C has C's size, matrix(1)*C does not
    d = ricci.derivative("sum(a*matrix(1) + C)", "C")
    forms = MatrixForms(d.expression)
    ones = A.Call("matrix", (A.Num(1.0),))
    assert forms.types.sized_alone(A.BinOp("+", A.BinOp("*", A.Name("a"), ones), A.Name("C")))
    assert not forms.types.sized_alone(A.BinOp("*", ones, A.Name("C")))
    assert not forms.types.sized_alone(ones)
    assert forms.types.sized_alone(A.BinOp("*", A.Transpose(A.Call("vector", (A.Num(1.0),))), A.Name("C")))


def test_no_form_is_typed_from_its_text():
    # the display's modules type forms from what they carry: no type check of a printed subterm
    for rel in ("simplify/matrix.py", "simplify/mtypes.py", "simplify/naming.py", "raise_matrix.py"):
        src = (SRC / rel).read_text(encoding="utf-8")
        assert "import check" not in src and "check(" not in src, rel
        assert "parse(" not in src and "parse_typed" not in src, rel
