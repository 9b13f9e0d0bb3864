"""Names for the repeated subterms of an answer, as a person would give them: ``… where
t = tanh(W*x)`` (the display's last pass; :meth:`ricci.simplify.matrix.MatrixForms.name_repeats`).

Apart from the matrix clean-up because it is a concern of its own: it counts structural classes
of subtrees and weighs text lengths, and reads the forms only for kinds, sizes and mnemonics.
"""

from __future__ import annotations

from collections import Counter

from ..functions import lookup
from ..functions.spectral import EIGENVECTORS
from ..language import ast as A
from ..limits import tick
from ..printing.text import to_text
from .mtypes import C, M, Rw, S


def mnemonic(forms, node: A.Expr) -> str | None:
    """The letter a textbook gives a named subterm, or None: the initial of an elementwise
    function applied (s = sigmoid(x), t = tanh(W*x)), p for a vector divided by its sum (a
    distribution: p = exp(x)/sum(exp(x))); upper case for a matrix (T = tanh(W*X))."""
    letter = None
    if isinstance(node, A.Call) and len(node.args) == 1 and lookup(node.func).family == "elementwise":
        letter = node.func[0]
    elif _eigenvector(node):
        letter = "u"  # u*u' where u = eigvec_max(S): the unit eigenvector as the books write it
    elif isinstance(node, A.BinOp) and node.op == "/" and isinstance(node.right, A.Call) \
            and node.right.func == "sum" and node.right.args == (node.left,) and forms.kind(node) in (C, Rw):
        letter = "p"
    if letter is None:
        return None
    return letter.upper() if forms.kind(node) == M else letter


def _eigenvector(node: A.Expr) -> bool:
    """An eigen- or singular vector of a spectral function's derivative (eigvec_max(S))."""
    if not (isinstance(node, A.Call) and len(node.args) == 1):
        return False
    return node.func in EIGENVECTORS


def name_repeats(forms, tree: A.Expr, taken: set, min_length: int = 60,
                 max_bindings: int = 64) -> tuple[A.Expr, list]:
    """Name repeated subterms, as a person would: ``… where t = tanh(W1*x)``.

    Two rules, applied until neither finds anything (looking in the answer and in the
    bindings made so far, so that a deep composition gets one name per level and its text
    grows linearly):

    * in a long answer (``min_length`` characters or more), the repeated subterm whose naming
      saves the most (occurrences − 1 times its size);
    * in any answer, a function application (or a distribution v/sum(v)) whose name
      shortens the text, the word ``where`` itself not counted: k occurrences of a text of
      length n named by a name of length l pay when k·(n − l) > l + 3 + n (the ``name = …``
      binding).  Three occurrences suffice; two only when the function applies to more
      than a bare variable and takes part in the arithmetic of a sum, the way derivatives
      of sigmoid and tanh are polynomials in their values (t.*(1 - t.^2) where
      t = tanh(W*x); but sigmoid(x).*(1 - sigmoid(x)) and [x2^2*exp(x1*x2^2),
      2*x1*x2*exp(x1*x2^2)] read as easily as they stand).  The v of v/sum(v) counts once:
      exp(W*x)/sum(exp(W*x)) reads as one thing.

    A name is the mnemonic letter of :func:`mnemonic` (s, t, p …) unless a variable has it,
    else u for a vector, c for a scalar, G for a matrix; repeated letters are numbered in the
    order of binding (t, t2 …, innermost first).  ``taken`` are the names in use; the
    result's names are added to it.  Returns the new tree and the bindings in an order where
    each uses only earlier ones."""
    external = set(taken)
    long = len(to_text(tree)) >= min_length
    bindings: dict = {}
    stem_of: dict = {}
    kind_stems = {S: "c", C: "u", Rw: "u", M: "G"}

    def stem(node):
        letter = mnemonic(forms, node)
        return letter if letter is not None and letter not in external else kind_stems[forms.kind(node)]

    def fresh(s):
        k = 1
        while (s if k == 1 else f"{s}{k}") in taken:
            k += 1
        return s if k == 1 else f"{s}{k}"

    def nameable(node):
        return not _sizeless(node) or forms.types.sized_alone(node)

    for _ in range(max_bindings):
        roots = [tree] + list(bindings.values())
        cls, info = _classes(roots)
        # v/sum(v) reads as one thing: its two v count once (exp(x)/sum(exp(x)) keeps exp(x)).
        in_dists: Counter = Counter()
        for node, count, _ in info.values():
            if isinstance(node, A.BinOp) and node.op == "/" and mnemonic(forms, node) == "p":
                in_dists[cls[id(node.left)]] += count
        best = None
        if long:
            # The most saved first; of equal savings, the larger subterm (fewer names).
            ranked = sorted(((count - in_dists[cid] - 1) * size, size, cid)
                            for cid, (node, count, size) in info.items()
                            if count - in_dists[cid] >= 2 and size >= 4 and not _trivial(node))
            best = next((cid for _, _, cid in reversed(ranked) if nameable(info[cid][0])), None)
        if best is None:
            gains = []
            in_sums = None
            for cid, (node, count, _) in info.items():
                count -= in_dists[cid]
                if count < 2 or mnemonic(forms, node) is None:
                    continue
                if count == 2 and not _eigenvector(node):  # u*u' names its u even of a leaf S
                    if _of_a_leaf(node):
                        continue
                    in_sums = _in_sums(roots, cls) if in_sums is None else in_sums
                    if cid not in in_sums:
                        continue
                n, l_ = len(to_text(node)), len(fresh(stem(node)))
                gain = count * (n - l_) - (l_ + 3 + n)
                if gain > 0 and nameable(node):
                    gains.append((gain, cid))
            best = max(gains)[1] if gains else None
        if best is None:
            break
        node = info[best][0]
        s = stem(node)
        name = fresh(s)
        taken.add(name)
        stem_of[name] = s
        forms.types.bind(name, forms.types.of(node))
        new = A.Name(name)
        memo: dict = {}
        tree = _replace_class(tree, best, cls, new, memo)
        bindings = {n: _replace_class(e, best, cls, new, memo) for n, e in bindings.items()}
        bindings[name] = node
    ordered = _topological(bindings)
    # Number the names in the order they are bound (t, t2, t3 … innermost first).
    renamed: dict = {}
    counts: dict = {}
    for name, _ in ordered:
        s = stem_of[name]
        k = counts.get(s, 0) + 1
        while k > 1 and f"{s}{k}" in external or k == 1 and s in external:
            k += 1
        counts[s] = k
        renamed[name] = s if k == 1 else f"{s}{k}"
    if any(k != v for k, v in renamed.items()):
        tree = _rename_names(tree, renamed)
        ordered = [(renamed[n], _rename_names(e, renamed)) for n, e in ordered]
        types = {n: forms.types.names[n] for n in renamed}
        for old_name, new_name in renamed.items():
            forms.types.bind(new_name, types[old_name])
        taken -= set(renamed)
        taken |= set(renamed.values())
    return tree, ordered


def _in_sums(roots: list, cls: dict) -> set:
    """Classes of the subterms that are operands of a sum's arithmetic: reached from a + or −
    through products, quotients, powers and signs only (the t of 1 - t.^2, the s of 1 - 2*s;
    not the e of [x2^2*e, 2*x1*x2*e] or of diag(e))."""
    through = (A.BinOp, A.Neg)
    found: set = set()
    seen: set = set()
    stack = [(r, False) for r in roots]
    while stack:
        n, inside = stack.pop()
        if (id(n), inside) in seen:
            continue
        seen.add((id(n), inside))
        if inside:
            found.add(cls[id(n)])
        is_sum = isinstance(n, A.BinOp) and n.op in ("+", "-")
        keep = is_sum or (inside and isinstance(n, through))
        stack.extend((c, keep) for c in A.children(n))
    return found


def _of_a_leaf(node: A.Expr) -> bool:
    """f(x) of a variable, or of its transpose or negation: twice reads as easily as a name."""
    return isinstance(node, A.Call) and len(node.args) == 1 and _trivial(node.args[0])


def _sizeless(node: A.Expr) -> bool:
    """Whether a subterm holds a constant whose size comes from where it stands (vector(1),
    matrix(c), eye): one name for it could not have two shapes (a*matrix(1) beside C and C')."""
    return any((isinstance(n, A.Call) and n.func in ("vector", "matrix"))
               or (isinstance(n, A.Name) and n.name in ("eye", "I")) for n in A.walk(node))


def _trivial(node: A.Expr) -> bool:
    return isinstance(node, (A.Name, A.Num)) or (
        isinstance(node, (A.Transpose, A.Neg)) and isinstance(node.arg, (A.Name, A.Num)))


def _params(node: A.Expr):
    match node:
        case A.Num(value=v):
            return v
        case A.Name(name=n):
            return n
        case A.Call(func=f):
            return f
        case A.BinOp(op=op):
            return op
        case A.Literal(rows=rows):
            return (len(rows), len(rows[0]))
    return None


def _classes(roots: list) -> tuple[dict, dict]:
    """Structural classes of all subtrees: id(node) → class id, and class id → (a node, how
    many times it occurs in the trees, its size as a tree).

    Answers share subtrees as Python objects (the raiser memoises), so the trees are DAGs whose
    unfolded size can be quadratic in their real size: counting works on the DAG (occurrences
    flow from parents to children in topological order), linear in the distinct objects."""
    tick()  # the derivation's time budget (ricci.limits)
    table: dict = {}
    cls: dict = {}
    order: list = []  # distinct objects, children before parents
    kids: dict = {}

    def visit(n) -> int:
        cid = cls.get(id(n))
        if cid is not None:
            return cid
        children = A.children(n)
        kids[id(n)] = children
        key = (type(n).__name__, _params(n), tuple(visit(c) for c in children))
        cid = table.setdefault(key, len(table))
        cls[id(n)] = cid
        order.append(n)
        return cid

    for r in roots:
        visit(r)
    size: dict = {}
    for n in order:
        size[id(n)] = 1 + sum(size[id(c)] for c in kids[id(n)])
    occ: dict = {id(n): 0 for n in order}
    for r in roots:
        occ[id(r)] += 1
    for n in reversed(order):  # parents before children
        for c in kids[id(n)]:
            occ[id(c)] += occ[id(n)]
    info: dict = {}
    for n in order:
        cid = cls[id(n)]
        if cid in info:
            info[cid][1] += occ[id(n)]
        else:
            info[cid] = [n, occ[id(n)], size[id(n)]]
    return cls, {k: tuple(v) for k, v in info.items()}


def _replace_class(tree: A.Expr, target: int, cls: dict, new: A.Expr, memo: dict | None = None) -> A.Expr:
    """Every subtree of structural class ``target`` replaced by ``new`` (memoised on shared objects)."""
    memo = {} if memo is None else memo
    got = memo.get(id(tree))
    if got is not None:
        return got[1]
    if cls.get(id(tree)) == target:
        out = new
    elif not A.children(tree):
        out = tree
    else:
        out = A.map_children(tree, lambda x: _replace_class(x, target, cls, new, memo))
    memo[id(tree)] = (tree, out)
    return out


def _rename_names(tree: A.Expr, mapping: dict) -> A.Expr:
    if isinstance(tree, A.Name):
        return A.Name(mapping.get(tree.name, tree.name))
    return A.map_children(tree, lambda x: _rename_names(x, mapping))


def _topological(bindings: dict) -> list:
    """Bindings ordered so that each uses only names bound before it."""
    names = set(bindings)
    uses = {n: {x.name for x in A.walk(e) if isinstance(x, A.Name) and x.name in names}
            for n, e in bindings.items()}
    order: list = []
    done: set = set()
    while len(order) < len(bindings):
        progressed = False
        for n in sorted(bindings, key=lambda k: list(bindings).index(k)):
            if n not in done and uses[n] <= done:
                order.append((n, bindings[n]))
                done.add(n)
                progressed = True
        if not progressed:  # pragma: no cover - a cycle cannot arise from nested subterms
            raise RuntimeError("cyclic bindings")
    # Readability: the innermost names first is already the order; keep it.
    return order
