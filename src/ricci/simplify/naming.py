"""Names for the repeated subterms of an answer, as a person would give them: ``… where
t = tanh(W*x)`` (the display's last pass; :meth:`ricci.simplify.matrix.MatrixForms.name_repeats`).

Apart from the matrix clean-up because it is a concern of its own: it counts structural classes
of subtrees and weighs text lengths, and reads the forms only for kinds, sizes and mnemonics.
The answer is walked once (:class:`_ClassDag`); each name then updates the classes' counts,
sizes, places and ranks where they change (:class:`_View`,
:class:`~ricci.simplify.naming_order.Ranking`) and the named
answer is built once at the end.
"""

from __future__ import annotations

from operator import is_

from ..functions import IDENTITY_NAMES, lookup
from ..functions.spectral import EIGENVECTORS
from ..language import ast as A
from ..limits import tick
from ..printing.text import to_text
from .mtypes import C, M, Rw, S
from .naming_classes import _ClassDag, _least_text, _sizeless
from .naming_order import Ranking, WalkOrder


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
    stem_of: dict = {}
    kind_stems = {S: "c", C: "u", Rw: "u", M: "G"}

    first_free: dict = {}  # stem → the first number that may be free (taken only grows)

    def fresh(s):
        k = first_free.get(s, 1)
        while (s if k == 1 else f"{s}{k}") in taken:
            k += 1
        first_free[s] = k
        return s if k == 1 else f"{s}{k}"

    def nameable(k):
        if not dag.sizeless[k] and not taken_identity:
            # nothing of the class as it first read is a size-less constant, and none of the
            # names it may read now is one: sure without building it (issue 21: building each
            # candidate as it reads now, half the answer for the first, was n log n)
            return True
        return view.kept(k, "nameable", lambda node: not _sizeless(node) or forms.types.sized_alone(node))

    taken_identity = False  # whether a name given is one of the identity's (I)

    def letter(k):
        return view.kept(k, "mnemonic", lambda node: mnemonic(forms, node))

    def stem(k):
        got = letter(k)
        return got if got is not None and got not in external else kind_stems[forms.kind(view.node(k))]

    # One walk over the answer's objects: its structural classes.  The greedy below then works
    # on the classes, each name updating only the counts, sizes, places and ranks it changes,
    # and builds the named tree once at the end; before, each name rebuilt and re-classified
    # the whole answer, and later ranked every repeated class again (quadratic in a network's
    # depth: one name per layer).
    dag = _ClassDag(tree)
    view = _View(dag)
    occ = view.occ
    # whether the answer is long, told from its classes where that is sure (issue 21: the whole
    # answer printed only to learn that it has 60 characters was 4% of a deep answer's display)
    long = _least_text(dag, occ, min_length) >= min_length or len(to_text(tree, texts)) >= min_length
    dists = _Distributions(view, forms)
    inside_dists = dists.inside

    def count(k):
        # v/sum(v) reads as one thing: its two v count once (exp(x)/sum(exp(x)) keeps exp(x)).
        return occ[k] - inside_dists.get(k, 0)

    # The most saved first; of equal savings, the larger subterm (fewer names); then the one
    # met last in a children-first walk of the answer as it reads now.
    ranking = Ranking(view, occ, inside_dists) if long else None
    for _ in range(max_bindings):
        tick()  # the derivation's time budget (ricci.limits)
        best = ranking.best(nameable) if ranking is not None else None
        if best is None:
            gains = []
            in_sums = None
            fresh_of: dict = {}
            for k in sorted(k for k in view.multi if dag.may_have_mnemonic(k)):
                n_k = count(k)
                if n_k < 2 or letter(k) is None:
                    continue
                node = view.node(k)
                if n_k == 2 and not _eigenvector(node):  # u*u' names its u even of a leaf S
                    if _of_a_leaf(node):
                        continue
                    in_sums = view.in_sums() if in_sums is None else in_sums
                    if k not in in_sums:
                        continue
                s = stem(k)
                if s not in fresh_of:
                    fresh_of[s] = fresh(s)
                n, l_ = len(to_text(node, texts)), len(fresh_of[s])
                gain = n_k * (n - l_) - (l_ + 3 + n)
                if gain > 0 and nameable(k):
                    gains.append((gain, k))
            if gains:
                top = max(g for g, _ in gains)
                tied = [k for g, k in gains if g == top]
                best = tied[0] if len(tied) == 1 else max(tied, key=view.place)  # the one met last
        if best is None:
            break
        node = view.node(best)
        s = stem(best)
        name = fresh(s)
        taken_identity = taken_identity or name in IDENTITY_NAMES
        taken.add(name)
        stem_of[name] = s
        forms.types.bind(name, forms.types.of(node))
        changed = view.name(best, name)
        changed += dists.update(changed)
        if ranking is not None:
            ranking.update(changed)
    named = view.named
    ordered = _topological(list(named.values()), {name: view.names_in(c) for c, name in named.items()})
    # Number the names in the order they are bound (t, t2, t3 … innermost first).
    renamed: dict = {}
    counts: dict = {}
    for name in ordered:
        s = stem_of[name]
        k = counts.get(s, 0) + 1
        while k > 1 and f"{s}{k}" in external or k == 1 and s in external:
            k += 1
        counts[s] = k
        renamed[name] = s if k == 1 else f"{s}{k}"
    # the answer built once, with the names it ends with (issue 21: built with the names in the
    # order given, then copied whole to number them in the order bound)
    tree, bindings = dag.build({c: renamed[name] for c, name in named.items()})
    ordered = [(renamed[n], bindings[renamed[n]]) for n in ordered]
    if any(k != v for k, v in renamed.items()):
        types = {n: forms.types.names[n] for n in renamed}
        for old_name, new_name in renamed.items():
            forms.types.bind(new_name, types[old_name])
        taken -= set(renamed)
        taken |= set(renamed.values())
    return tree, ordered


class _View:
    """The classes of the answer with the classes named so far replaced by their names: each
    key's occurrences, size and place in a children-first walk (the order of ties: the one
    met last wins, as the class ids of the former full re-walk had it), kept up to date name by name.

    Naming a class changes the occurrences only inside it (its interior is now written once,
    in its binding) and the sizes only of the classes around it; the sizes (and what is kept
    of a class as it reads: :meth:`node`, :meth:`kept`) are recomputed when asked (an invalid
    size's parents are invalid too, so invalidating stops at the first one already invalid),
    the places moved where the named class stood (:class:`~ricci.simplify.naming_order.WalkOrder`)."""

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
        self._kept: dict = {}  # class → what is kept of it as it reads now (its node …)
        #: the places, walked the first time a tie asks for them and kept up to date from then
        #: on (most answers have no tie: a nested logdet/inv's savings all differ)
        self.order: WalkOrder | None = None

    def place(self, k: int) -> int:
        """The key's place in a children-first walk of the answer as it reads now (later, larger)."""
        if self.order is None:
            keys = set(range(len(self.dag.rep)))
            keys.update(~c for c in self.named)
            self.order = WalkOrder(self._kids, self._parents, self.roots, keys, self.multi)
        return self.order.place(k)

    @property
    def roots(self) -> list:
        return [self.dag.root] + list(self.named)

    def kids(self, k: int) -> tuple:
        return () if k < 0 else self._kids[k]

    def size(self, k: int) -> int:
        if k < 0:
            return 1
        sizes = self._size
        got = sizes.get(k)
        if got is None:
            got = 1  # a name is 1; a class kept is looked up here, not by a call (issue 21)
            for j in self._kids[k]:
                got += 1 if j < 0 else sizes.get(j) or self.size(j)
            sizes[k] = got
        return got

    def postorder(self, starts) -> list:
        """The keys reachable from ``starts``, each once, children before parents."""
        order: list = []
        seen: set = set()
        kids = self._kids
        for r in starts:
            if r in seen:
                continue
            # a loop, not a call per key (issue 21); each key's children in order, each once
            seen.add(r)
            stack = [(r, iter(kids[r] if r >= 0 else ()))]
            while stack:
                k, rest = stack[-1]
                for j in rest:
                    if j not in seen:
                        seen.add(j)
                        stack.append((j, iter(kids[j] if j >= 0 else ())))
                        break
                else:
                    stack.pop()
                    order.append(k)
        return order

    def name(self, b: int, name: str) -> list:
        """Replace class ``b`` by ``name`` wherever it stands; ``b`` becomes a binding's root.
        Returns the keys whose occurrences, size, place or children changed, and the parents
        of b's parents (whose v/sum(v) shape may have changed), repeats allowed."""
        kids, occ = self._kids, self.occ
        # b's interior, parents before children, and each key's occurrences in one b
        order = self.postorder((b,))
        within = dict.fromkeys(order, 0)
        within[b] = 1
        for k in reversed(order):
            if k >= 0:  # (a name ~c has no children)
                for j in kids[k]:
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
            kids[p] = tuple([~b if j == b else j for j in kids[p]])
        self.named[b] = name
        changed = order + self._parents[b]
        for p in self._parents[b]:
            changed += self._parents[p]
        # sizes are asked of repeated classes only, and a class occurs at most as often as
        # any of its parts: the classes around b that repeat are reached through ones that do
        stack = list(self._parents[b])
        while stack:
            p = stack.pop()
            self._kept.pop(p, None)
            if self._size.pop(p, None) is not None and p not in self.named and p in self.multi:
                stack.extend(self._parents[p])
                changed += self._parents[p]
        return changed + (self.order.name(b) if self.order is not None else [])

    def names_in(self, b: int) -> set:
        """The names that the binding of the named class ``b`` uses (as its text reads)."""
        kids, named = self._kids, self.named
        out: set = set()
        seen: set = set()
        stack = [b]
        while stack:
            for j in kids[stack.pop()]:
                if j < 0:
                    out.add(named[~j])
                elif j not in seen:
                    seen.add(j)
                    stack.append(j)
        return out

    def node(self, k: int) -> A.Expr:
        """The key's subterm as it reads now (with the names), built once while it reads so."""
        if k < 0:
            name = self.named[~k]
            got = self.dag.names.get(name)
            return got if got is not None else self.dag.names.setdefault(name, A.Name(name))
        # what is kept of a class that no longer repeats is stale: invalidating stops there
        multi, kept_of = self.multi, self._kept
        kept = kept_of.get(k) if k in multi else None
        if kept is not None and "node" in kept:
            return kept["node"]
        n = self.dag.rep[k]
        ks = self._kids[k]
        if ks:
            # each child as it reads now: a name, a kept node, or built (a call only then)
            new = []
            names, named = self.dag.names, self.named
            for j in ks:
                if j < 0:
                    got = names.get(named[~j])
                else:
                    got = kept_of.get(j) if j in multi else None
                    got = got.get("node") if got is not None else None
                new.append(got if got is not None else self.node(j))
            t = type(n)
            if t is A.BinOp:
                left, right = new
                if left is not n.left or right is not n.right:
                    n = A.BinOp(n.op, left, right, span=n.span)
            elif t is A.Call:
                if not all(map(is_, new, n.args)):
                    n = A.Call(n.func, tuple(new), span=n.span)
            elif t is A.Transpose or t is A.Neg:
                if new[0] is not n.arg:
                    n = t(new[0], span=n.span)
            elif not all(map(is_, new, A.children(n))):  # else the class reads as its object
                it = iter(new)
                n = A.map_children(n, lambda _: next(it))
        if k in multi:  # kept while its size is (what a name invalidates: repeated classes)
            if k not in self._size:
                self.size(k)
            kept_of.setdefault(k, {})["node"] = n
        return n

    def kept(self, k: int, what: str, compute):
        """``compute(node)`` of the key's subterm, kept while it reads the same."""
        kept = self._kept.get(k) if k in self.multi else None
        if kept is None or what not in kept:
            got = compute(self.node(k))
            if k in self.multi:
                self._kept[k][what] = got  # node() made the entry
            return got
        return kept[what]

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


class _Distributions:
    """How many of each class's occurrences are the v of a distribution v/sum(v) (its kind
    decides: :func:`mnemonic`'s p), kept up to date name by name: a quotient's share changes
    only where its occurrences or its children (or its sum's) do."""

    def __init__(self, view: _View, forms):
        self.view, self.forms = view, forms
        self.quotients = set(view.quotients)
        self.is_p: dict = {}  # quotient → whether it is a distribution (decided when first v/sum(v))
        self.share: dict = {}  # quotient → (its v, its occurrences), or None
        self.inside: dict = {}  # class → its occurrences as the v of a distribution
        for q in view.quotients:
            self._refresh(q)

    def _refresh(self, q: int) -> list:
        view = self.view
        new = None
        if view.is_dist_shape(q):
            if q not in self.is_p:
                self.is_p[q] = mnemonic(self.forms, view.node(q)) == "p"
            if self.is_p[q]:
                new = (view.kids(q)[0], view.occ[q])
        old = self.share.get(q)
        if new == old:
            return []
        self.share[q] = new
        touched = []
        for v, times in [x for x in (old, new) if x is not None]:
            self.inside[v] = self.inside.get(v, 0) + (times if (v, times) == new else -times)
            touched.append(v)
        return touched

    def update(self, keys: list) -> list:
        """Refresh the quotients among ``keys``; returns the classes whose share changed."""
        touched: list = []
        for q in dict.fromkeys(keys):
            if q in self.quotients:
                touched += self._refresh(q)
        return touched


def _of_a_leaf(node: A.Expr) -> bool:
    """f(x) of a variable, or of its transpose or negation: twice reads as easily as a name."""
    return isinstance(node, A.Call) and len(node.args) == 1 and _trivial(node.args[0])


def _trivial(node: A.Expr) -> bool:
    return isinstance(node, (A.Name, A.Num)) or (
        isinstance(node, (A.Transpose, A.Neg)) and isinstance(node.arg, (A.Name, A.Num)))


def _topological(names: list, uses: dict) -> list:
    """The names (in the order bound) ordered so that each binding uses only names bound
    before it (``uses``: name → the names its binding uses): passes over the bindings in the
    order bound, each taking those whose names are taken already.  A binding's pass is found
    from its names' (one pass after a name bound later), not by passing over them all again
    and again (quadratic in the names)."""
    index = {n: i for i, n in enumerate(names)}
    passes: dict = {}

    def pass_of(n, seen=()):
        got = passes.get(n)
        if got is None:
            if n in seen:  # pragma: no cover - a cycle cannot arise from nested subterms
                raise RuntimeError("cyclic bindings")
            got = max([pass_of(u, seen + (n,)) + (index[u] > index[n]) for u in uses[n]], default=0)
            passes[n] = got
        return got

    # Readability: the innermost names first is already the order; keep it.
    return sorted(names, key=lambda n: (pass_of(n), index[n]))
