"""Typed matrix forms (issue 16, acceptance 2): every form the raiser and the display rules
build is typed once, with its kind and its dimensions (ricci.simplify.mtypes), and nothing
types a form again from its printed text.

The types are checked against what does not come from them: the orientation the raiser was
asked for (the derivative's index dimensions, from the IR) and the language's own type checker
run on the answer's text (ricci.language.kinds.check), which is what the display used to run.
"""

from __future__ import annotations

import pathlib

import numpy as np
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
    for rel in ("simplify/matrix.py", "simplify/mtypes.py", "simplify/naming.py", "raise_matrix.py",
                "simplify/sizes.py", "analysis/structure.py"):
        src = (SRC / rel).read_text(encoding="utf-8")
        assert "import check" not in src and "check(" not in src and "_Checker" not in src, rel
        assert "parse(" not in src and "parse_typed" not in src, rel


# -- the answer as an Expression, and the structural proofs: typed from the tree, never parsed --
# (issue 16, acceptance 2: Derivative.as_expression printed the answer and parsed the text again,
# analysis/structure.py did the same with each rewritten Hessian, and simplify/sizes.py ran the
# type checker on the whole answer to size its constants.)

#: answers with what the parser rewrites or the checker sizes: written sizes (eye(len(w)),
#: vector(1, size(A, 1))), a softmax (exp(x - logsumexp(x)) when parsed), a matrix power
#: (inv(A + X)^2, a product when parsed), a constant sized by its neighbours, a where
TEXT_CASES = CASES + [
    ("A*x + b", "b", 1, None),
    ("log(sum(exp(x)))", "x", 1, None),
    ("tr(inv(X + A))", "X", 1, None),
    ("sum(A*x)", "A", 1, None),
    ("(S - u)/(lambda*a) where u = 0*S", "lambda", 1, {"S": "symmetric matrix"}),
    ("x'*(X'*X + lambda*eye)*x", "lambda", 1, None),
]


def _parsed_answer(d):
    """What Derivative.as_expression was: the answer's text parsed again with the kinds."""
    from ricci.language.expression import parse_typed

    used = {n.name for n in A.walk(d.matrix) if isinstance(n, A.Name)}
    kinds = {n: v.kind for n, v in d.expression.variables.items() if n in used}
    return parse_typed(d.text, kinds, trusted=True)


@pytest.mark.parametrize("text,wrt,order,kinds", TEXT_CASES)
def test_the_answer_expression_is_what_its_text_parses_to(text, wrt, order, kinds):
    # the tree the parser makes of d.text, and the type the checker gives each of its nodes
    # (in the checker's own dimension names, mapped to the function's through the variables)
    from ricci.codegen.emit import _dimmap

    d = ricci.derivative(text, wrt, order, kinds)
    old, new = _parsed_answer(d), d.as_expression()
    assert new.tree == old.tree, (d.text, to_text(new.tree))
    assert list(new.variables) == list(old.variables)
    to_ours = _dimmap(d, old)
    dim = lambda x: x if x == 1 or isinstance(x, int) else to_ours[x]  # noqa: E731
    for o, n in zip(A.walk(old.tree), A.walk(new.tree)):
        if id(o) not in old._checked.types:  # the 1 of size(A, 1): a size argument, untyped
            continue
        t = old.type_of(o)
        assert (dim(t.rows), dim(t.cols)) == (new.type_of(n).rows, new.type_of(n).cols), to_text(o)
    assert new.text == d.text


def _no_parsing(monkeypatch):
    """Every route to the parser and the type checker raises."""
    import ricci.language.expression as E
    import ricci.language.kinds as K
    import ricci.language.parser as P

    def refuse(*args, **kwargs):
        raise AssertionError("the answer was parsed or type-checked again")

    monkeypatch.setattr(P, "parse_text", refuse)
    monkeypatch.setattr(E, "parse_text", refuse)
    monkeypatch.setattr(K, "check", refuse)
    monkeypatch.setattr(E, "check", refuse)
    monkeypatch.setattr(K._Checker, "check", refuse)


@pytest.mark.parametrize("text,wrt,order,kinds", [
    ("0.5*lambda*w'*w", "w", 2, None),
    ("A*x + b", "b", 1, None),
    ("log(sum(exp(x)))", "x", 1, None),
    ("tr(inv(X + A))", "X", 1, None),
    ("x'*(X'*X + lambda*eye)*x", "lambda", 1, None),
    ("sum(sigmoid(W*x))", "x", 2, None),
])
def test_the_answer_and_its_code_are_made_without_parsing(monkeypatch, text, wrt, order, kinds):
    from helpers import numeric_derivative, random_values

    d = ricci.derivative(text, wrt, order, kinds)  # the input is parsed here, once
    with monkeypatch.context() as m:
        _no_parsing(m)
        answer = d.text  # sizes written out without the type checker
        e = d.as_expression()
        f = d.function("numpy")
    assert e is not None and answer == e.text
    values = random_values(text, kinds, seed=3)
    if "inv" in text:  # X + A well away from singular
        n = values["A"].shape[0]
        values["A"] = values["A"] + values["A"].T + 3 * n * np.eye(n)
    want = numeric_derivative(text, wrt, values, kinds, order=order)
    got = f(*(values[n] for n in d.expression.variables))  # the parameters, in this order
    assert np.allclose(np.asarray(got).reshape(np.shape(want)), want, rtol=1e-4, atol=1e-6), answer
    # and the answer's Expression evaluates to the same numbers
    v = e.evaluate({n: values[n] for n in e.variables})
    assert np.allclose(np.asarray(v).reshape(np.shape(want)), want, rtol=1e-4, atol=1e-6)


def test_the_structural_proof_reads_the_hessian_without_parsing(monkeypatch):
    from ricci.analysis.convexity import structural_proof
    from ricci.analysis.problem import Problem

    problem = Problem("norm2(A*x - y)^2 + lambda*x'*x", "x", None, {"lambda": "scalar"},
                      {"lambda": "positive"})
    with monkeypatch.context() as m:
        _no_parsing(m)
        proof = structural_proof(problem)
    assert proof.label in ("PSD", "PD"), proof
    # the Hessian 2*A'*A + 2*lambda*eye at a point: no negative eigenvalue
    rng = np.random.default_rng(0)
    values = {"A": rng.normal(size=(5, 3)), "y": rng.normal(size=5), "x": rng.normal(size=3), "lambda": 0.3}
    h = ricci.derivative("norm2(A*x - y)^2 + lambda*x'*x", "x", 2).evaluate(values)
    assert np.linalg.eigvalsh(h).min() > 0


def test_a_tree_that_does_not_fit_is_not_read():
    # a rewriting that turned a row into a column (vector(1)' into vector(1)) does not type: the
    # proofs get None, as they did when the parser refused its text
    from ricci.analysis.structure import retype
    from ricci.simplify.mtypes import Mistyped, typed_expression

    e = ricci.parse("x'*A*x")
    ones = A.Call("vector", (A.Num(1.0),))
    bad = A.BinOp("*", ones, A.BinOp("*", A.Name("A"), A.Name("x")))  # (n×1)*(n×1)
    assert retype(bad, e) is None
    with pytest.raises(Mistyped):
        typed_expression(e, bad, (None, None), to_text(bad))
    good = A.BinOp("*", A.Transpose(ones), A.BinOp("*", A.Name("A"), A.Name("x")))
    typed = retype(good, e)
    assert typed.is_scalar(typed.tree)
    with pytest.raises(ricci.RicciError):  # the checker agrees: the first is not in the language
        ricci.parse(to_text(bad), {"A": "matrix", "x": "vector"})
    ricci.parse(to_text(good), {"A": "matrix", "x": "vector"})


# -- explain: the steps type what they build, never its printed text (issue 16, acceptance 2) --
# (the differential method parsed the previous order's answer text and printed each differential
# it built to parse and type it again; the lecture's steps did the same with each outer function,
# each where body and the gradient they differentiate again)

def _no_reparsing(monkeypatch):
    """ricci.language's parse and parse_typed raise, wherever a module of ricci holds them, and
    so does the parser of texts, for every caller that looks it up when it runs (as
    ricci.derivative does: a text handed to it is parsed).  The steps' modules that read the
    function table's formulas and the identities' patterns (library texts, not answers) hold
    the parser from their import."""
    import sys

    import ricci.explain.by_differentials  # noqa: F401  (loaded first: their names are patched too)
    import ricci.explain.derive  # noqa: F401
    import ricci.explain.higher  # noqa: F401
    import ricci.language.expression as E
    import ricci.language.parser as P

    def refuse(*args, **kwargs):
        raise AssertionError(f"explain parsed a text again: {args[0]!r}"[:300])

    for name in ("parse", "parse_typed"):
        real = getattr(E, name)
        for module in list(sys.modules.values()):
            if getattr(module, "__name__", "").startswith("ricci") and getattr(module, name, None) is real:
                monkeypatch.setattr(module, name, refuse)
    monkeypatch.setattr(P, "parse_text", refuse)
    monkeypatch.setattr(E, "parse_text", refuse)


#: orders 1–3, a vector, a matrix variable (a Jacobian of Kronecker factors, a tensor order 2 and
#: 3 through vec), a scalar, where bindings; each explained by both methods
EXPLAINED = [
    ("x'*A*x", "x", 1, None),
    ("x'*A*x", "x", 2, None),
    ("norm2(A*x - b)^2", "x", 2, None),
    ("sum(exp(x))", "x", 3, None),
    ("sin(t)*t", "t", 3, {"t": "scalar"}),
    ("A*X*B", "X", 1, None),
    ("tr(X'*A*X)", "X", 2, None),
    ("logdet(X)", "X", 2, None),
    ("det(X)", "X", 3, None),
    ("u where u = tanh(B*x)", "x", 2, None),
    ("v'*v where u = A*x, v = u - b", "x", 1, None),
]


@pytest.mark.parametrize("text,wrt,order,kinds", EXPLAINED)
def test_explain_types_its_own_trees_without_parsing(monkeypatch, text, wrt, order, kinds):
    from helpers import central_differences, numeric_derivative, random_values

    from ricci.explain.by_differentials import Derivation

    d = ricci.derivative(text, wrt, order, kinds)  # the user's expression is parsed here
    values = random_values(text, kinds, seed=5)  # X symmetric positive definite under det, logdet
    if order == 1:
        want = numeric_derivative(text, wrt, values, kinds)
    else:  # central differences of ricci's derivative of the order below
        below = ricci.derivative(text, wrt, order - 1, kinds)
        want = central_differences(lambda v: np.asarray(below.evaluate({**values, wrt: v}), dtype=float),
                                   values[wrt], h=1e-5)
    with monkeypatch.context() as m:
        _no_reparsing(m)
        lecture = d.steps.text(full=True)
        derivation = Derivation(d)
        by_differentials = derivation.steps().text(full=True)
        got = np.asarray(derivation.evaluate(values), dtype=float)
    assert "Result" in lecture and "Result" in by_differentials
    # the identified derivative, read off the differentials the method typed, has the numbers
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * (1 + np.abs(want).max()))
    # and the steps are those made with nothing patched
    assert lecture == ricci.derivative(text, wrt, order, kinds).steps.text(full=True)
    assert by_differentials == ricci.derivative(text, wrt, order, kinds).steps(method="differentials").text(full=True)


def test_the_explain_modules_do_not_parse_what_they_print():
    for rel in ("explain/derive.py", "explain/by_differentials.py", "explain/higher.py"):
        src = (SRC / rel).read_text(encoding="utf-8")
        assert "parse_typed" not in src and "parse(" not in src and "parse_text" not in src, rel


def test_a_tree_is_typed_as_its_text_is_parsed():
    # the language's entry for a tree ricci built: the tree, types and dimension names the parser
    # and the checker give its printed text (a softmax, a negative number, a matrix power)
    from ricci.language.expression import parse_typed, typed_tree

    x, X, A_ = A.Name("x"), A.Name("X"), A.Name("A")
    trees = [
        A.BinOp("*", A.Transpose(x), A.BinOp("*", A_, x)),
        A.Call("softmax", (A.BinOp("*", A_, x),)),
        A.BinOp("*", A.Num(-2.0), A.BinOp("^", A.BinOp("+", X, A_), A.Num(2.0))),
        A.Where(A.BinOp("*", A.Transpose(A.Name("u")), A.Name("u")), (("u", A.BinOp("-", A.BinOp("*", A_, x), A.Name("b"))),)),
    ]
    kinds = {"x": "vector", "X": "matrix", "A": "matrix", "b": "vector"}
    for tree in trees:
        new, old = typed_tree(tree, kinds), parse_typed(to_text(tree), kinds, trusted=True)
        assert new.tree == old.tree, to_text(tree)
        assert new.text == old.text and new.source == old.source
        assert {n: (v.kind, v.dims) for n, v in new.variables.items()} == \
            {n: (v.kind, v.dims) for n, v in old.variables.items()}
        for o, n in zip(A.walk(old.tree), A.walk(new.tree)):
            assert old.type_of(o) == new.type_of(n), to_text(o)
    with pytest.raises(ricci.RicciError):  # a tree that does not type is refused as its text is
        typed_tree(A.BinOp("*", x, x), {"x": "vector"})
