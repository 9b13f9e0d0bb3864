"""A slow reference for tests/test_scale_naming.py: ``ricci.simplify.naming`` as it was before
naming was made linear (issue 21: every name ranked every repeated class again and walked the
answer to its ties), kept word for word apart from its imports, to compare the names chosen.

Names for the repeated subterms of an answer, as a person would give them: ``… where
t = tanh(W*x)`` (the display's last pass; :meth:`ricci.simplify.matrix.MatrixForms.name_repeats`).

Apart from the matrix clean-up because it is a concern of its own: it counts structural classes
of subtrees and weighs text lengths, and reads the forms only for kinds, sizes and mnemonics.
The answer is walked once (:class:`_ClassDag`); each name then updates the classes' counts
where they change (:class:`_View`) and the named answer is built once at the end.
"""

from __future__ import annotations

from collections import Counter

from ricci.functions import IDENTITY_NAMES, lookup
from ricci.functions.spectral import EIGENVECTORS
from ricci.language import ast as A
from ricci.limits import tick
from ricci.printing.text import to_text
from ricci.simplify.mtypes import C, M, Rw, S


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
    texts: dict = {}  # to_text's memo: the answer shares its levels as objects (a DAG)
    long = len(to_text(tree, texts)) >= min_length
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

    # One walk over the answer's objects: its structural classes.  The greedy below then works
    # on the classes, each name updating only the counts it changes, and builds the named tree
    # once at the end; before, each name rebuilt and re-classified the whole answer (quadratic
    # in a network's depth: one name per layer).
    dag = _ClassDag(tree)
    view = _View(dag)
    occ = view.occ
    is_p: dict = {}  # quotient class → whether it is a distribution v/sum(v) (its kind decides)
    for _ in range(max_bindings):
        tick()  # the derivation's time budget (ricci.limits)
        # v/sum(v) reads as one thing: its two v count once (exp(x)/sum(exp(x)) keeps exp(x)).
        in_dists: Counter = Counter()
        for k in view.quotients:
            if view.is_dist_shape(k):
                if k not in is_p:
                    is_p[k] = mnemonic(forms, view.node(k)) == "p"
                if is_p[k]:
                    in_dists[view.kids(k)[0]] += occ[k]
        candidates = sorted(view.multi)
        best = None
        if long:
            # The most saved first; of equal savings, the larger subterm (fewer names); then
            # the one met last in a children-first walk of the answer as it reads now.
            ranked = []
            for k in candidates:
                count = occ[k] - in_dists.get(k, 0)
                if count >= 2 and not view.trivial(k) and view.size(k) >= 4:
                    ranked.append(((count - 1) * view.size(k), view.size(k), k))
            best = _first(view, sorted(ranked, reverse=True), lambda k: nameable(view.node(k)))
        if best is None:
            gains = []
            in_sums = None
            for k in candidates:
                count = occ[k] - in_dists.get(k, 0)
                if count < 2 or not dag.may_have_mnemonic(k):
                    continue
                node = view.node(k)
                if mnemonic(forms, node) is None:
                    continue
                if count == 2 and not _eigenvector(node):  # u*u' names its u even of a leaf S
                    if _of_a_leaf(node):
                        continue
                    in_sums = view.in_sums() if in_sums is None else in_sums
                    if k not in in_sums:
                        continue
                n, l_ = len(to_text(node, texts)), len(fresh(stem(node)))
                gain = count * (n - l_) - (l_ + 3 + n)
                if gain > 0 and nameable(node):
                    gains.append((gain, k))
            if gains:
                top = max(g for g, _ in gains)
                best = _first(view, [(g, k) for g, k in gains if g == top], lambda k: True)
        if best is None:
            break
        node = view.node(best)
        s = stem(node)
        name = fresh(s)
        taken.add(name)
        stem_of[name] = s
        forms.types.bind(name, forms.types.of(node))
        view.name(best, name)
    tree, bindings = dag.build(view.named)
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


def _first(view, ranked: list, ok) -> int | None:
    """The first class of ``ranked`` (best first, its last item the class) that is ``ok``;
    of equal scores, the one placed last in the view's children-first walk."""
    i = 0
    while i < len(ranked):
        j = i + 1
        while j < len(ranked) and ranked[j][:-1] == ranked[i][:-1]:
            j += 1
        group = [r[-1] for r in ranked[i:j]]
        if len(group) > 1:
            pos = view.pos_of(group)
            group.sort(key=pos.__getitem__, reverse=True)
        for k in group:
            if ok(k):
                return k
        i = j
    return None


class _ClassDag:
    """The structural classes of an answer's subtrees, found in one walk over its objects, and
    :meth:`view` of them with some classes named: what the answer would be were those classes
    replaced by their names, read off the classes without rebuilding the answer.

    A view's keys are classes (the named ones only as the roots of their bindings) and ``~c``
    for the name of a named class c.  Naming cannot merge two classes (the name is fresh), so
    every class of the rebuilt answer is one key.  Answers share subtrees as Python objects (the
    raiser memoises), so the trees are DAGs whose unfolded size can be quadratic in their real
    size: occurrences flow from the classes' parents to their children, linear in the classes."""

    def __init__(self, tree: A.Expr):
        self.tree = tree
        self.cls: dict = {}  # id(object) → class (the tree keeps its objects alive)
        self.rep: list = []  # class → its first object, children before parents
        self.kids: list = []  # class → its children's classes
        table: dict = {}

        def visit(n) -> int:
            c = self.cls.get(id(n))
            if c is not None:
                return c
            ks = tuple(visit(x) for x in A.children(n))
            key = (type(n).__name__, _params(n), ks)
            c = table.get(key)
            if c is None:
                c = table[key] = len(self.rep)
                self.rep.append(n)
                self.kids.append(ks)
            self.cls[id(n)] = c
            return c

        tick()  # the derivation's time budget (ricci.limits)
        self.root = visit(tree)
        self.names: dict = {}  # name → its one Name object

    def may_have_mnemonic(self, k: int) -> bool:
        """Cheap test before :func:`mnemonic`: a call of one argument or a quotient."""
        if k < 0:
            return False
        n = self.rep[k]
        return (isinstance(n, A.Call) and len(n.args) == 1) or (isinstance(n, A.BinOp) and n.op == "/")

    def build(self, named: dict) -> tuple[A.Expr, dict]:
        """The answer and the bindings, each named class replaced by its name (once)."""
        mat = self._materialiser(named)
        return mat(self.tree, True), {name: mat(self.rep[c], True) for c, name in named.items()}

    def _materialiser(self, named: dict):
        memo: dict = {}
        cls, names = self.cls, self.names

        def mat(n, top=False):
            c = cls[id(n)]
            if not top and c in named:
                name = named[c]
                return names.setdefault(name, A.Name(name))
            got = memo.get(id(n))
            if got is not None:
                return got
            out = A.map_children(n, mat) if A.children(n) else n
            memo[id(n)] = out
            return out

        return mat


class _View:
    """The classes of the answer with the classes named so far replaced by their names: each
    key's occurrences, size and place in a children-first walk (the order of ties: the one
    met last wins, as the class ids of the former full re-walk had it), kept up to date name by name.

    Naming a class changes the occurrences only inside it (its interior is now written once,
    in its binding) and the sizes only of the classes around it; the sizes are recomputed when
    asked (an invalid size's parents are invalid too, so invalidating stops at the first one
    already invalid), the places only when a tie asks for them."""

    def __init__(self, dag: _ClassDag):
        self.dag = dag
        self.named: dict = {}
        n = len(dag.kids)
        self._kids: dict = dict(enumerate(dag.kids))
        parents: list = [[] for _ in range(n)]
        for c, ks in enumerate(dag.kids):
            for j in dict.fromkeys(ks):
                parents[j].append(c)
        self._parents = parents
        occ = dict.fromkeys(range(n), 0)
        occ[dag.root] = 1
        for c in range(n - 1, -1, -1):  # a class's id is above its children's: parents first
            for j in dag.kids[c]:
                occ[j] += occ[c]
        self.occ = occ
        #: the classes that occur twice or more (the names ~c never count: a name is trivial)
        self.multi = {c for c in range(n) if occ[c] >= 2}
        self.quotients = [c for c in range(n) if isinstance(dag.rep[c], A.BinOp) and dag.rep[c].op == "/"]
        self._size: dict = {}
        self._pos: dict | None = None
        self._mat = None

    @property
    def roots(self) -> list:
        return [self.dag.root] + list(self.named)

    def kids(self, k: int) -> tuple:
        return () if k < 0 else self._kids[k]

    def size(self, k: int) -> int:
        if k < 0:
            return 1
        got = self._size.get(k)
        if got is None:
            got = self._size[k] = 1 + sum(self.size(j) for j in self._kids[k])
        return got

    def pos(self) -> dict:
        """Each key's place in a children-first walk from the roots (computed for ties only)."""
        if self._pos is None:
            self._pos = {k: i for i, k in enumerate(self.postorder(self.roots))}
        return self._pos

    def pos_of(self, keys) -> dict:
        """:meth:`pos` of ``keys`` alone: the walk stops once it has placed them all.  A tie is
        broken after every name, and the whole walk each time grew as the answer times its names
        (issue 21: the depth-64 network's 63 names); the keys tied are mostly deep in it, placed
        early in a children-first walk."""
        if self._pos is not None:
            return self._pos
        want = set(keys)
        found: dict = {}
        seen: set = set()
        placed = 0
        kids = self._kids
        # the children-first walk with a stack of (key, its children not yet walked), not a
        # recursive visit: two Python calls per key walked, for every tie (issue 21)
        for r in self.roots:
            if r in seen:
                continue
            seen.add(r)
            stack = [(r, iter(() if r < 0 else kids[r]))]
            while stack:
                k, rest = stack[-1]
                for j in rest:
                    if j not in seen:
                        seen.add(j)
                        stack.append((j, iter(() if j < 0 else kids[j])))
                        break
                else:
                    stack.pop()
                    if k in want:
                        found[k] = placed
                    placed += 1
                    if len(found) == len(want):
                        return found
        return found

    def postorder(self, starts) -> list:
        """The keys reachable from ``starts``, each once, children before parents."""
        order: list = []
        seen: set = set()

        def visit(k):
            seen.add(k)
            for j in self.kids(k):
                if j not in seen:
                    visit(j)
            order.append(k)

        for r in starts:
            if r not in seen:
                visit(r)
        return order

    def name(self, b: int, name: str) -> None:
        """Replace class ``b`` by ``name`` wherever it stands; ``b`` becomes a binding's root."""
        kids, occ = self._kids, self.occ
        # b's interior, parents before children, and each key's occurrences in one b
        order = self.postorder((b,))
        within = dict.fromkeys(order, 0)
        within[b] = 1
        for k in reversed(order):
            for j in self.kids(k):
                within[j] += within[k]
        times = occ[b] - 1  # the copies of b that become its name
        for k in order[:-1]:
            occ[k] -= times * within[k]
            if occ[k] < 2:
                self.multi.discard(k)
        occ[~b] = occ[b]
        occ[b] = 1
        self.multi.discard(b)
        for p in self._parents[b]:
            kids[p] = tuple(~b if j == b else j for j in kids[p])
        self.named[b] = name
        stack = list(self._parents[b])
        while stack:
            p = stack.pop()
            if self._size.pop(p, None) is not None and p not in self.named:
                stack.extend(self._parents[p])
        self._pos = None
        self._mat = None

    def node(self, k: int) -> A.Expr:
        """The key's subterm as it reads now (with the names)."""
        if k < 0:
            name = self.named[~k]
            return self.dag.names.setdefault(name, A.Name(name))
        if self._mat is None:
            self._mat = self.dag._materialiser(self.named)
        return self._mat(self.dag.rep[k], True)

    def is_dist_shape(self, k: int) -> bool:
        """v/sum(v) as it reads now (the kind is :func:`mnemonic`'s to check)."""
        if k < 0:
            return False
        n = self.dag.rep[k]
        if not (isinstance(n, A.BinOp) and n.op == "/"):
            return False
        left, right = self._kids[k]
        r = self.dag.rep[right] if right >= 0 else None
        return isinstance(r, A.Call) and r.func == "sum" and self._kids[right] == (left,)

    def trivial(self, k: int) -> bool:
        """:func:`_trivial` of the key's subterm as it reads now."""
        if k < 0:
            return True
        n = self.dag.rep[k]
        if isinstance(n, (A.Name, A.Num)):
            return True
        if isinstance(n, (A.Transpose, A.Neg)):
            j = self._kids[k][0]
            return j < 0 or isinstance(self.dag.rep[j], (A.Name, A.Num))
        return False

    def in_sums(self) -> set:
        """The keys that are operands of a sum's arithmetic: reached from a + or − through
        products, quotients, powers and signs only (the t of 1 - t.^2, the s of 1 - 2*s; not
        the e of [x2^2*e, 2*x1*x2*e] or of diag(e))."""
        rep = self.dag.rep
        found: set = set()
        seen: set = set()
        stack = [(r, False) for r in self.roots]
        while stack:
            k, inside = stack.pop()
            if (k, inside) in seen:
                continue
            seen.add((k, inside))
            if inside:
                found.add(k)
            n = rep[k] if k >= 0 else None
            is_sum = isinstance(n, A.BinOp) and n.op in ("+", "-")
            keep = is_sum or (inside and isinstance(n, (A.BinOp, A.Neg)))
            stack.extend((j, keep) for j in self.kids(k))
        return found


def _of_a_leaf(node: A.Expr) -> bool:
    """f(x) of a variable, or of its transpose or negation: twice reads as easily as a name."""
    return isinstance(node, A.Call) and len(node.args) == 1 and _trivial(node.args[0])


def _sizeless(node: A.Expr) -> bool:
    """Whether a subterm holds a constant whose size comes from where it stands (vector(1),
    matrix(c), eye): one name for it could not have two shapes (a*matrix(1) beside C and C')."""
    return any((isinstance(n, A.Call) and n.func in ("vector", "matrix"))
               or (isinstance(n, A.Name) and n.name in IDENTITY_NAMES) for n in A.walk(node))


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
        for n in bindings:  # in the order bound
            if n not in done and uses[n] <= done:
                order.append((n, bindings[n]))
                done.add(n)
                progressed = True
        if not progressed:  # pragma: no cover - a cycle cannot arise from nested subterms
            raise RuntimeError("cyclic bindings")
    # Readability: the innermost names first is already the order; keep it.
    return order
