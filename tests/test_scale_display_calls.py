"""The display's constant factor (issue 21, acceptance 1): ``d.text`` of the depth-64 tanh
network's gradient does its naming, display rules, sums, printing and last passes in fewer
Python calls per node, with every text as it was.

What changed, step by step (each counted here, never timed: ``sys.setprofile``'s call events,
each call given to the innermost step it happens in):

* naming (``simplify/naming.py``): the answer's classes found in one loop, not a call per
  object; whether the answer is long told from its classes, not by printing it whole; the
  answer built once with the names it ends with, not built and then copied to renumber them;
  sizes, walks and ranking keys without a call per class;
* display rules (``simplify/rules.py``, ``ir/traverse.py``, ``simplify/textbook.py``): each rule
  called only on the node types it can change, a shared child or a leaf looked up without a
  call, a product without a quotient left by the cancelling rule at once;
* sums (``simplify/sums.py``): terms whose first keys differ ordered without printing them;
* printing (``printing/text.py``): a child's text and level found inline;
* the last passes (sizes, vocabulary, the bound names): each object of the answer once, the
  test inline, not a generator and a call per node of the unfolded tree.

The rewrites are compared with the work they replace (every rule on every node, the former
printer kept here word for word, a whole walk), and answers with finite differences.
"""

from __future__ import annotations


import pytest

import ricci
import ricci.deep
from helpers import DISPLAY_CASES, assert_network_text_is_its_gradient, calls_by_step, check_derivative
from helpers import network as _network
from ricci import display_forms
from ricci.ir.traverse import rewrite
from ricci.language import ast as A
from ricci.printing import text as T
from ricci.simplify import naming, naming_classes, rules, sizes, vocabulary
from ricci.simplify.sums import SumForms
from ricci.simplify.symmetry import use_symmetry

#: the steps of display_forms.display, by the code each runs in (the innermost one counts)
STEPS = {
    naming.name_repeats.__code__: "naming",
    rules.display_rules.__code__: "display rules",
    T.to_text.__code__: "printing",
    SumForms.sum.__code__: "sums",
    SumForms.add.__code__: "sums",
    sizes.size_constants.__code__: "last passes",
    vocabulary.vocabulary.__code__: "last passes",
    vocabulary.uses_logsumexp.__code__: "last passes",
    display_forms._used_bindings.__code__: "last passes",
}


def _calls_by_step(work) -> dict:
    """The Python calls ``work()`` makes, by the innermost step of STEPS each is made in."""
    return calls_by_step(work, STEPS)


@pytest.fixture(scope="module")
def deep_steps() -> dict:
    # a warm-up first (imports, the functions' tables), then a fresh derivative's text
    ricci.derivative(_network(64), "x", timeout=600).text
    d = ricci.derivative(_network(64), "x", timeout=600)
    return _calls_by_step(lambda: d.text)


# Before (f5a7a74), at depth 64: naming 28,129 calls, display rules 21,232, printing 10,532
# (naming's print of the whole answer to learn whether it is long, each level's sum printing
# its terms to order them, the answer), sums 7,645, the last passes 10,537; 78,075 in all.
# After (f5a7a74 with this change alone): 9,966, 6,952, 1,471, 7,017, 2,665; 28,071.  The
# bounds leave room for the other areas' changes (naming types its names, sums build products).
def test_naming_at_depth_64_makes_a_third_of_the_calls(deep_steps):
    assert deep_steps["naming"] < 12_000, deep_steps


def test_the_display_rules_at_depth_64_make_two_fifths_of_the_calls(deep_steps):
    assert deep_steps["display rules"] < 8_500, deep_steps


def test_printing_at_depth_64_makes_a_fifth_of_the_calls(deep_steps):
    assert deep_steps["printing"] < 2_500, deep_steps


def test_the_last_passes_at_depth_64_make_under_two_fifths_of_the_calls(deep_steps):
    assert deep_steps["last passes"] < 4_000, deep_steps


def test_the_display_steps_together_at_depth_64(deep_steps):
    ours = sum(v for k, v in deep_steps.items() if k in set(STEPS.values()))
    assert ours < 36_000, deep_steps  # 78,075 before


# -- the same work ---------------------------------------------------------------------------------
CASES = DISPLAY_CASES


def _derivatives():
    for expression, wrt, order in CASES:
        yield ricci.derivative(expression, wrt, order)


def _every_rule_on_every_node(node, tensor: bool):
    """display_rules as it was: every rule called on every node (the reference)."""
    early = tuple(r for r in rules.RULES if r is not rules.broadcast_rule) if tensor else rules.RULES
    for rs in (early, rules.LATE_RULES):
        def apply(n, rs=rs):
            for rule in rs:
                n = rule(n)
            return n

        node = rewrite(node, apply)
    return node


def test_each_rule_is_called_on_every_node_it_can_change():
    # the same nodes (the IR is hash-consed: one object per structure) as every rule called
    # on every node, for answers where rules apply (sigmoid, sign, softmax, common factors)
    changed = 0
    for d in _derivatives():
        node = use_symmetry(d.node, d.expression)
        for tensor in (False, True):
            got = rules.display_rules(node, tensor=tensor)
            assert got is _every_rule_on_every_node(node, tensor), (d.expression, tensor)
            changed += got is not node
    assert changed >= 6, changed


def test_a_rule_returns_any_other_node_as_it_is():
    # RULE_TYPES says which node types each rule can change: on every node of the answers of
    # another type, each rule returns the node itself
    from ricci.ir.traverse import nodes

    seen = 0
    for d in _derivatives():
        for n in nodes(d.node):
            for rule, types in rules.RULE_TYPES.items():
                if not isinstance(n, types):
                    assert rule(n) is n, (rule.__name__, n)
                    seen += 1
    assert seen > 1_000, seen


def _former_text(node, memo=None):
    """printing/text.py's to_text before this change, word for word (the reference)."""
    def wrap(x, ok):
        s = _former_text(x, memo)
        return s if ok else f"({s})"

    level, LEVEL, PRODUCT, POWER, POSTFIX, UNARY, SUM, WHERE = (
        T.level, T._LEVEL, T.PRODUCT, T.POWER, T.POSTFIX, T.UNARY, T.SUM, T.WHERE)
    match node:
        case A.Num(value=v):
            return "-" + T.format_number(-v) if v < 0 else T.format_number(v)
        case A.Name(name=n):
            return n
        case A.Call(func=f, args=args):
            return f"{f}({', '.join(_former_text(a, memo) for a in args)})"
        case A.Literal(rows=rows):
            return "[" + "; ".join(", ".join(_former_text(e, memo) for e in row) for row in rows) + "]"
        case A.Transpose(arg=a):
            return wrap(a, level(a) >= POSTFIX) + "'"
        case A.Neg(arg=a):
            return "-" + wrap(a, level(a) > UNARY)
        case A.BinOp(op=op, left=l, right=r):
            p = LEVEL[op]
            if p == POWER:
                return f"{wrap(l, level(l) >= POWER)}{op}{wrap(r, level(r) >= POSTFIX)}"
            mixed = lambda x: isinstance(x, A.BinOp) and LEVEL[x.op] == PRODUCT and (  # noqa: E731
                (x.op in (".*", "./")) != (op in (".*", "./")))
            left = wrap(l, level(l) >= p and not (p == PRODUCT and mixed(l)))
            right = wrap(r, level(r) > p and level(r) != UNARY)
            if p == SUM:
                return f"{left} {op} {right}"
            return f"{left}{op}{right}"
        case A.Where(body=b, bindings=bs):
            binds = ", ".join(f"{n} = {wrap(e, level(e) > WHERE)}" for n, e in bs)
            return f"{wrap(b, level(b) > WHERE)} where {binds}"
    raise TypeError(node)


def _trees():
    for d in _derivatives():
        if d.has_matrix_form:
            yield d._display.matrix
        yield d.expression.tree
    for text in ["-(-x)'", "a - -b", "a - (b - c)", "(a*b).*c", "a.*(b*c)", "a*(b.*c)", "(a.*b)*c",
                 "x.^-2", "(-x)^2", "-x^2", "2^-x", "(x')'", "(a + b)'", "-(a*b)", "a/(b*c)", "a./b./c",
                 "[1, -2; x', a + b]", "f(x, y) where f = 1", "x^(a + b)", "(x^2)^3", "x'^2",
                 "-2*x", "a + -2", "a*-b", "(A*B)'*C", "exp(-x)'", "vector(-1.5, len(x))"]:
        try:
            yield ricci.parse(text, {"x": "vector", "y": "vector"}).tree
        except ricci.RicciError:
            continue


def test_the_printer_writes_what_it_wrote():
    compared = 0
    for tree in _trees():
        for n in A.walk(tree):
            assert T.to_text(n) == _former_text(n), n
            memo: dict = {}
            assert T.to_text(n, memo) == _former_text(n), n
            compared += 1
    assert compared > 1_000, compared


def test_the_objects_are_those_of_a_walk():
    # each object of the tree once, in the order a walk first meets it
    from ricci.simplify.objects import objects

    for tree in _trees():
        first: dict = {}
        for n in A.walk(tree):
            first.setdefault(id(n), n)
        assert [id(n) for n in objects(tree)] == list(first), tree


def _naming_inputs(monkeypatch) -> list:
    """The answers the display hands to naming, for the cases and two deeper ones."""
    import ricci.simplify.matrix as MM

    real, seen = MM.name_repeats, []

    def record(forms, tree, *args, **kwargs):
        seen.append(tree)
        return real(forms, tree, *args, **kwargs)

    monkeypatch.setattr(MM, "name_repeats", record)
    for d in _derivatives():
        assert d.text
    for expression in (_network(12), "logdet(X + inv(X + inv(X + inv(X))))"):
        assert ricci.derivative(expression, "X" if "logdet" in expression else "x").text
    monkeypatch.undo()
    return seen


def test_the_least_text_is_at_most_the_text(monkeypatch):
    # the lower bound that tells a long answer without printing it: never above the text's
    # length, and where it says long, long; most long answers are told so without printing
    long_told = long = 0
    for tree in _naming_inputs(monkeypatch) + list(_trees()):
        if isinstance(tree, A.Where):
            continue
        dag = naming._ClassDag(tree)
        view = naming._View(dag)
        text = len(T.to_text(tree))
        least = naming._least_text(dag, view.occ, 10**9)
        assert least <= text, (T.to_text(tree), least)
        long_told += naming._least_text(dag, view.occ, 60) >= 60
        long += text >= 60
    assert long_told >= 5 and long_told >= long // 2, (long_told, long)


def test_the_size_less_flags_are_the_walks(monkeypatch):
    # naming tells that a class holds no size-less constant (vector(1), matrix(c), eye) from
    # a flag of its first reading instead of building it as it reads now and walking it
    flagged = 0
    for tree in _naming_inputs(monkeypatch) + list(_trees()):
        if isinstance(tree, A.Where):
            continue
        dag = naming._ClassDag(tree)
        for k, n in enumerate(dag.rep):
            assert dag.sizeless[k] == naming._sizeless(n), T.to_text(n)
            flagged += dag.sizeless[k]
    assert flagged >= 5, flagged


def test_a_sum_ordered_without_its_texts_is_ordered_as_with_them(monkeypatch):
    # where the first keys of a sum's terms all differ, their texts are not printed to order
    # them: every answer as when they are (the texts consulted in every sum)
    from ricci.simplify import sums

    texts = {}
    for expression, wrt, order in CASES:
        texts[expression, order] = ricci.derivative(expression, wrt, order).text
    monkeypatch.setattr(sums, "_distinct", lambda keys: False)
    for expression, wrt, order in CASES:
        assert ricci.derivative(expression, wrt, order).text == texts[expression, order], expression


def test_the_classes_are_numbered_children_first():
    # the loop numbers the classes as the former recursive visit did (the order of ties)
    for tree in _trees():
        if isinstance(tree, A.Where):
            continue
        dag = naming._ClassDag(tree)
        cls, rep, table = {}, [], {}

        def visit(n):
            c = cls.get(id(n))
            if c is not None:
                return c
            ks = tuple(visit(x) for x in A.children(n))
            key = (type(n).__name__, naming_classes._params(n), ks)
            c = table.get(key)
            if c is None:
                c = table[key] = len(rep)
                rep.append(n)
            cls[id(n)] = c
            return c

        assert visit(tree) == dag.root
        assert [id(n) for n in rep] == [id(n) for n in dag.rep]


def test_the_network_gradients_are_their_differences():
    for depth, f in [(6, "tanh"), (4, "sigmoid")]:
        r = check_derivative(_network(depth, f=f), "x", sizes={"n": 3}, text_has_matrix_form=True)
        assert " where " in r.d.text


def test_the_depth_64_text_evaluates_to_the_gradient():
    assert_network_text_is_its_gradient(64, 3, seed=5)  # the gradient by hand: NumPy alone
