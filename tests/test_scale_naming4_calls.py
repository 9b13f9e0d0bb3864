"""d.text after the raise, a third round (issue 21, acceptance 1): the depth-64 tanh network's
display steps (naming, display rules, printing, the last passes) in fewer Python calls, every
text as it was.

What changed (each counted here, never timed: ``sys.setprofile``'s call events, each call given
to the innermost step it happens in):

* display rules (``simplify/rules.py``, ``ir/traverse.py``): ``rewrite`` is a loop with a stack
  of frames reading each node's children off its fields (not a call of ``go`` and one of
  ``children()`` per node); a rule is called only on a node that holds what it needs (a bit per
  rule, read in one loop over a product's factors or a sum's terms: ``RULE_NEEDS``), and the
  late pass (lone_sigmoid_rule) is skipped where no power has a negative exponent (it would give
  the answer back as it is);
* naming (``simplify/naming*.py``): the named answer built by a loop (``_ClassDag._materialise``),
  not a call per object; the ranking's keys of the classes a name touches read in one call
  (``Ranking._keys``) with the sizes' sums inline; a class's node as it reads now built with its
  names and kept children read inline; the tie's looks sorted by ``itemgetter``;
* printing (``printing/text.py``): a name's or a number's text and level read inline;
* the last passes (``simplify/vocabulary.py``): a name or a number is its own result, read without
  calling ``go``; a node's children mapped inline; a chain rebuilt by a loop.

Each shortcut is compared with the work it replaces (the former code, kept here as references),
and the answers with finite differences and NumPy.
"""

from __future__ import annotations

from operator import is_

import pytest

import ricci
from helpers import DISPLAY_CASES, assert_network_text_is_its_gradient, calls_by_step, check_derivative
from helpers import network as _network
from ricci import display_forms
from ricci.ir import build as B
from ricci.ir.nodes import Add, Elem, MatFun, Mul, Num, Pow
from ricci.ir.traverse import _LEAVES, nodes, rebuild, rewrite
from ricci.language import ast as A
from ricci.printing import text as T
from ricci.simplify import naming, naming_order, rules, sizes, vocabulary
from ricci.simplify.symmetry import use_symmetry

#: the steps of display_forms.display, by the code each runs in (the innermost one counts)
STEPS = {
    naming.name_repeats.__code__: "naming",
    rules.display_rules.__code__: "display rules",
    T.to_text.__code__: "printing",
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
    ricci.derivative(_network(64), "x", timeout=600).text  # warm-up: imports, the functions' tables
    d = ricci.derivative(_network(64), "x", timeout=600)
    return _calls_by_step(lambda: d.text)


# Before (482abc4, the tree this change starts from), at depth 64: naming 8,532 calls, display
# rules 6,696, printing 1,471, the last passes 2,650 (19,349 together); after (482abc4 with this
# change's files alone): 4,404, 1,538, 705, 1,180 (7,827).  The bounds leave about 10% of room.
def test_the_display_rules_at_depth_64_make_a_quarter_of_the_calls(deep_steps):
    assert deep_steps["display rules"] < 1_700, deep_steps


def test_naming_at_depth_64_makes_about_half_the_calls(deep_steps):
    assert deep_steps["naming"] < 4_900, deep_steps


def test_printing_at_depth_64_makes_about_half_the_calls(deep_steps):
    assert deep_steps["printing"] < 800, deep_steps


def test_the_last_passes_at_depth_64_make_about_half_the_calls(deep_steps):
    assert deep_steps["last passes"] < 1_300, deep_steps


def test_these_steps_together_at_depth_64(deep_steps):
    ours = sum(v for k, v in deep_steps.items() if k in set(STEPS.values()))
    assert ours < 8_600, deep_steps  # 19,349 before


# -- the cases -------------------------------------------------------------------------------
CASES = DISPLAY_CASES + [
    ("sum(abs(x).^3)", "x", 2), ("sum(1/(1 + exp(-A*x)))", "x", 1), ("sum(exp(-x).*sigmoid(x))", "x", 1),
    ("log(1 + exp(a'*x))", "x", 2), ("sum(x./(1 + x.^2))", "x", 2), ("sum(abs(x))*sum(sign(x).^2)", "x", 1),
    ("tr(X^-3)", "X", 1), ("a'*X^4*b", "X", 1), ("logdet(X + inv(X + inv(X)))", "X", 1)
]


@pytest.fixture(scope="module")
def derivatives() -> list:
    return [ricci.derivative(e, w, o) for e, w, o in CASES]


def _ir_trees(derivatives) -> list:
    """Each case's IR as display_rules is handed it, and as the rules leave it."""
    out = []
    for d in derivatives:
        node = use_symmetry(d.node, d.expression)
        out += [node, rules.display_rules(node), rules.display_rules(node, tensor=True)]
    return out


# -- ir/traverse.py: rewrite as a loop --------------------------------------------------------------
def _former_rewrite(node, rule, types=None):
    """ir/traverse.py's rewrite before this change, word for word (the reference)."""
    memo: dict = {}
    keep: list = []

    def go(n):
        kids = () if type(n) in _LEAVES else n.children()
        if kids:
            new = []
            for c in kids:
                got = memo.get(id(c))
                if got is None:
                    if type(c) in _LEAVES and types is not None and not isinstance(c, types):
                        got = memo[id(c)] = c
                        keep.append(c)
                    else:
                        got = go(c)
                new.append(got)
            res = n if all(map(is_, new, kids)) else rebuild(n, tuple(new))
        else:
            res = n
        if types is None or isinstance(res, types):
            res = rule(res)
        memo[id(n)] = res
        keep.append(n)
        return res

    return go(node)


def _recording(rule, seen: list):
    def rec(n):
        seen.append(n)
        return rule(n)

    return rec


@pytest.mark.parametrize("types", [None, (Mul, Pow), (Add, Elem, MatFun, Num)])
def test_rewrite_calls_the_rule_on_the_same_nodes_in_the_same_order(derivatives, types):
    # every display rule in turn, and a rule that changes each number (a leaf) and each sum:
    # the same result (the IR is hash-consed: one object per structure) and the same calls
    def scale_numbers(n):
        if isinstance(n, Num) and n.value not in (0.0, 1.0, -1.0):
            return B.num(2 * n.value)
        if isinstance(n, Add) and len(n.terms) > 2:
            return B.add(list(n.terms[:2]))
        return n

    checked = 0
    for tree in _ir_trees(derivatives)[::3]:  # (as handed to the rules)
        for rule in (rules.cancel_rule, rules.sigmoid_rule, rules.common_factor_rule, rules.exp_log_rule,
                     rules.lone_sigmoid_rule, scale_numbers):
            old, new = [], []
            want = _former_rewrite(tree, _recording(rule, old), types)
            got = rewrite(tree, _recording(rule, new), types)
            assert got is want, (rule.__name__, tree)
            assert len(old) == len(new) and all(map(is_, old, new)), (rule.__name__, tree)
            checked += len(new)
    assert checked > 300, checked


def test_rewrite_of_a_leaf_and_of_a_shared_child():
    x = B.var("x", ())
    assert rewrite(x, lambda n: B.num(3.0) if n is x else n) is B.num(3.0)
    assert rewrite(x, lambda n: B.num(3.0), (Mul,)) is x
    both = B.mul([B.elem("tanh", x), B.elem("tanh", x), x], ())
    assert rewrite(both, lambda n: n) is both
    seen: list = []
    rewrite(both, _recording(lambda n: n, seen))
    assert sorted(map(id, seen)) == sorted(set(map(id, seen)))  # each node once


# -- simplify/rules.py: a rule called only where it may change a node --------------------------------
def test_a_rule_not_called_would_have_given_the_node_back(derivatives):
    # on every node of the answers (as handed to the rules and as the rules leave them): each
    # rule, behind its bit, gives what the rule gives called itself
    called = skipped = 0
    for tree in _ir_trees(derivatives):
        for n in nodes(tree):
            for rule, types in rules.RULE_TYPES.items():
                if not isinstance(n, types):
                    continue
                hit: list = []
                got = rules._apply(n, ((_recording(rule, hit), types, rules.RULE_NEEDS.get(rule, 0)),))
                assert got is rule(n), (rule.__name__, n)
                if hit:
                    called += 1
                else:
                    skipped += 1
                    assert rule(n) is n, (rule.__name__, n)
    assert called > 100 and skipped > 1_000, (called, skipped)


def test_each_rule_behind_its_bit_changes_what_it_changed():
    # nodes each rule changes: the bit lets it through
    x, y = B.var("x", ()), B.var("y", ())
    ex = B.elem("exp", x)
    cases = [
        (rules.sigmoid_rule, B.mul([ex, B.power(B.add([B.num(1.0), ex]), B.num(-1.0))], ())),
        (rules.lone_sigmoid_rule, B.power(B.add([B.num(1.0), ex]), B.num(-2.0))),
        (rules.exp_sigmoid_rule, B.mul([B.elem("exp", B.neg(x)), B.elem("sigmoid", x)], ())),
        (rules.sign_rule, B.power(B.elem("sign", x), B.num(3.0))),
        (rules.sign_rule, B.mul([x, B.elem("sign", x)], ())),
        (rules.exp_log_rule, B.elem("exp", B.add([x, B.mul([B.num(-1.0), B.elem("log", B.elem("exp", y))], ())]))),
    ]
    for rule, n in cases:
        if not isinstance(n, rules.RULE_TYPES[rule]):
            continue  # (the smart constructors normalised it to another type)
        changed = rule(n)
        got = rules._apply(n, ((rule, rules.RULE_TYPES[rule], rules.RULE_NEEDS[rule]),))
        assert got is changed, (rule.__name__, n)


def test_the_late_pass_is_skipped_only_without_a_negative_power(derivatives):
    seen = {True: 0, False: 0}
    for tree in _ir_trees(derivatives):
        has: dict = {}  # id(node) → whether a negative power is in it (plain recursion)

        def holds(n):
            if id(n) not in has:
                own = isinstance(n, Pow) and isinstance(n.exp, Num) and n.exp.value < 0
                has[id(n)] = any([own] + [holds(c) for c in n.children()])
            return has[id(n)]

        for n in nodes(tree):
            want = holds(n)
            assert rules._has_negative_power(n) == want, n
            seen[want] += 1
        if not has[id(tree)]:
            assert rewrite(tree, rules.lone_sigmoid_rule) is tree
    assert seen[True] > 50 and seen[False] > 500, seen


def _every_rule_on_every_node(node, tensor: bool):
    """display_rules as it was before RULE_TYPES: every rule on every node, both passes (the
    reference, by the former rewrite)."""
    early = tuple(r for r in rules.RULES if r is not rules.broadcast_rule) if tensor else rules.RULES
    for rs in (early, rules.LATE_RULES):
        def apply(n, rs=rs):
            for rule in rs:
                n = rule(n)
            return n

        node = _former_rewrite(node, apply)
    return node


def test_the_display_rules_give_what_every_rule_on_every_node_gives(derivatives):
    changed = 0
    for d in derivatives:
        node = use_symmetry(d.node, d.expression)
        for tensor in (False, True):
            got = rules.display_rules(node, tensor=tensor)
            assert got is _every_rule_on_every_node(node, tensor), (d.expression, tensor)
            changed += got is not node
    assert changed >= 10, changed


# -- naming ----------------------------------------------------------------------------------------
def _former_key(ranking, k: int):
    """naming_order.Ranking._key before this change, word for word (the reference)."""
    view = ranking.view
    if k < 0 or k not in view.multi:
        return None
    count = ranking.occ[k] - ranking.inside.get(k, 0)
    if count < 2:
        return None
    rep = view.dag.rep
    t = type(rep[k])
    if t is A.Name or t is A.Num:
        return None
    if t is A.Transpose or t is A.Neg:
        j = view._kids[k][0]
        if j < 0 or type(rep[j]) in (A.Name, A.Num):
            return None
    size = view._size.get(k) or view.size(k)
    if size < 4:
        return None
    return (-(count - 1) * size, -size, -view.order.label[("x", k)] if ranking.placed else 0)


def _former_node(view, k: int, memo: dict) -> A.Expr:
    """naming._View.node's subterm, computed afresh (no kept node): the reference."""
    if k < 0:
        return A.Name(view.named[~k])
    if k not in memo:
        n = view.dag.rep[k]
        old = A.children(n)
        if old:
            new = [_former_node(view, j, memo) for j in view._kids[k]]
            if not all(map(is_, new, old)):
                ks = iter(new)
                n = A.map_children(n, lambda _: next(ks))
        memo[k] = n
    return memo[k]


def test_the_ranking_and_the_nodes_are_as_before(monkeypatch):
    # after every update of every ranking: each ranked class's entry is the former _key's, and
    # every class the former would rank is ranked; each repeated class's node reads as before
    update = naming_order.Ranking.update
    checked = [0, 0]

    def check(self, keys):
        update(self, keys)
        view = self.view
        want = {k: _former_key(self, k) for k in sorted(view.multi)}
        assert self.rank == {k: v for k, v in want.items() if v is not None}
        checked[0] += 1
        fresh: dict = {}
        for k in sorted(view.multi):
            a, b = view.node(k), _former_node(view, k, fresh)
            assert T.to_text(a, {}) == T.to_text(b, {}), k
            checked[1] += 1

    monkeypatch.setattr(naming_order.Ranking, "update", check)
    for e, w, o in [(_network(7), "x", 1), (_network(3, f="sigmoid"), "x", 1), ("logdet(X + inv(X + inv(X)))", "X", 1),
                    ("sum(sigmoid(W3*sigmoid(W2*sigmoid(W1*x))))", "W2", 1), ("log(sum(exp(x)))", "x", 2)]:
        ricci.derivative(e, w, o).text
    assert checked[0] >= 20 and checked[1] >= 100, checked


# -- printing ---------------------------------------------------------------------------------------
def _former_text(node) -> str:
    """printing/text.py's to_text as the match writes it, every child by a call (the reference)."""
    LEVEL, POWER, POSTFIX, UNARY, PRODUCT, SUM, WHERE = (T._LEVEL, T.POWER, T.POSTFIX, T.UNARY, T.PRODUCT,
                                                        T.SUM, T.WHERE)
    level = T.level

    def wrap(x, ok):
        s = _former_text(x)
        return s if ok else f"({s})"

    match node:
        case A.Num(value=v):
            return "-" + T.format_number(-v) if v < 0 else T.format_number(v)
        case A.Name(name=n):
            return n
        case A.Call(func=f, args=args):
            return f"{f}({', '.join(_former_text(a) for a in args)})"
        case A.Literal(rows=rows):
            return "[" + "; ".join(", ".join(_former_text(e) for e in row) for row in rows) + "]"
        case A.Transpose(arg=a):
            return wrap(a, level(a) >= POSTFIX) + "'"
        case A.Neg(arg=a):
            return "-" + wrap(a, level(a) > UNARY)
        case A.BinOp(op=op, left=left, right=right):
            p = LEVEL[op]
            if p == POWER:
                return f"{wrap(left, level(left) >= POWER)}{op}{wrap(right, level(right) >= POSTFIX)}"
            mixed = isinstance(left, A.BinOp) and LEVEL[left.op] == PRODUCT and (
                (left.op in (".*", "./")) != (op in (".*", "./")))
            lt = wrap(left, level(left) >= p and not (p == PRODUCT and mixed))
            rt = wrap(right, level(right) > p and level(right) != UNARY)
            return f"{lt} {op} {rt}" if p == SUM else f"{lt}{op}{rt}"
        case A.Where(body=b, bindings=bs):
            binds = ", ".join(f"{n} = {wrap(e, level(e) > WHERE)}" for n, e in bs)
            return f"{wrap(b, level(b) > WHERE)} where {binds}"
    raise TypeError(node)


def test_numbers_and_names_beside_operators_print_as_before():
    x, y = A.Name("x"), A.Name("y")
    nums = [A.Num(v) for v in (0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.25, 1e20, -1e20, 1e15, 3.0e-7, 123456.0)]
    leaves = nums + [x, A.Call("f", (x,)), A.Transpose(x), A.Neg(x), A.BinOp("+", x, y)]
    checked = 0
    for op in ("+", "-", "*", "/", ".*", "./", "^", ".^"):
        for a in leaves:
            for b in leaves:
                for n in (A.BinOp(op, a, b), A.Transpose(A.BinOp(op, a, b)), A.Call("g", (a,)),
                          A.Call("h", (a, b)), A.Neg(a), A.Transpose(a), A.BinOp(op, A.BinOp(".*", a, b), b)):
                    want = _former_text(n)
                    assert T.to_text(n) == want, n
                    assert T.to_text(n, {}) == want, n
                    checked += 1
    assert checked > 10_000


def test_the_answers_print_as_before(derivatives):
    for d in derivatives:
        if d._display.matrix is not None:
            assert d.text == _former_text(d._display.matrix)


# -- the last passes: vocabulary ---------------------------------------------------------------------
def _former_vocabulary(tree, uses_lse: bool, kind_of):
    """vocabulary.vocabulary before this change, in substance: each node by a call of go, leaves
    included, children mapped by A.map_children (the reference; its results compared by value)."""
    V = vocabulary
    memo: dict = {}

    def go(node):
        got = memo.get(id(node))
        if got is not None:
            return got[0]
        if isinstance(node, A.Where):
            new = A.Where(go(node.body), tuple((n, go(e)) for n, e in node.bindings))
        elif isinstance(node, A.BinOp) and node.op == "*":
            factors = [go(f) for f in V._chain_parts(node)]
            p, neg = V._chain_forms(factors, kind_of), False
            if p is None and isinstance(factors[0], A.Neg):
                neg = True
                p = V._chain_forms([factors[0].arg] + factors[1:], kind_of)
            new = rebuilt(node) if p is None else A.Neg(p) if neg else p
        else:
            new = A.map_children(node, go)
        if (isinstance(new, A.BinOp) and new.op == "/") or (isinstance(new, A.Call) and new.func == V.LOGSUMEXP.exp):
            new = V._softmax(new) or new
        if uses_lse and V._call(new, V.LOGSUMEXP.log):
            u = V._sum_exp(new.args[0])
            if u is not None:
                new = A.Call(V.LOGSUMEXP.logsumexp, (u,))
        memo[id(node)] = (new, node)
        return new

    def rebuilt(node):
        if isinstance(node, A.BinOp) and node.op == "*":
            return A.BinOp("*", rebuilt(node.left), go(node.right), span=node.span)
        return go(node)

    return go(tree)


def test_the_vocabulary_pass_gives_what_it_gave(monkeypatch):
    seen: list = []
    original = vocabulary.vocabulary

    def keep(tree, uses_lse, kind_of):
        got = original(tree, uses_lse, kind_of)
        seen.append((tree, uses_lse, kind_of, got))
        return got

    monkeypatch.setattr(vocabulary, "vocabulary", keep)  # (display() imports it when called)
    extra = [("-x'*inv(X)'*A'*B'*inv(X)'*y", "X", 1), ("tr(X^-4)", "X", 1), ("logsumexp(x)", "x", 2),
             ("log_softmax(x)", "x", 1), ("a'*inv(X)'*inv(X)'*inv(X)'*b", "X", 1)]
    for e, w, o in CASES + extra:
        ricci.derivative(e, w, o).text
    assert len(seen) >= 30
    for tree, uses_lse, kind_of, got in seen:
        want = _former_vocabulary(tree, uses_lse, kind_of)
        assert T.to_text(got, {}) == T.to_text(want, {}), T.to_text(tree, {})


# -- the answers -------------------------------------------------------------------------------------
@pytest.mark.parametrize("expression,wrt,sizes_", [
    (_network(6), "x", {"n": 3}), (_network(4, f="sigmoid"), "x", {"n": 3}),
    ("sum(log(1 + exp(A*x)))", "x", None), ("sum(abs(x))*sum(sign(x).^2)", "x", None),
    ("sum(exp(-x).*sigmoid(x))", "x", None), ("log(sum(exp(x)))", "x", None),
])
def test_the_answers_are_their_differences(expression, wrt, sizes_):
    r = check_derivative(expression, wrt, sizes=sizes_)
    assert r.d.text


def test_the_depth_64_text_evaluates_to_the_gradient():
    assert_network_text_is_its_gradient(64, 3, seed=5)  # the gradient by hand: NumPy alone
