"""The order in which naming takes an answer's repeated subterms (:mod:`ricci.simplify.naming`),
kept up to date name by name: their ranking by what naming them saves (:class:`Ranking`), and
their places in a children-first walk, which break its ties (of two repeated subterms that save
as much, the one met last in the walk is named: :class:`WalkOrder`).

Walking the answer again after every name cost the answer's size per name, quadratic in a
deep network's depth (issue 21: one name per layer).  Naming a subterm b changes the walk only
where b was first visited; the rest keeps its order, so each place is a label kept between
names and only what b's first visit held is placed again.
"""

from __future__ import annotations

from heapq import heappop, heappush
from operator import itemgetter

from ..language.ast import Name, Neg, Num, Transpose

_LEAVES = (Name, Num)

#: the room between two labels when they are given anew: inserting halves it at worst, and
#: labelling every event again (which the ranking notices by :attr:`WalkOrder.relabelled`)
#: is needed only after some sixty insertions into the same gap
_GAP = 1 << 64


class WalkOrder:
    """The walk from the roots (the answer, then each binding in the order named) as a list
    of events — ``("e", k)`` enter k, ``("m", k, i)`` look at k's child i (one that may move
    later), ``("x", k)`` leave k — linked both ways and labelled by increasing integers; a key's place is the label of
    its leaving (:meth:`place`).  Keys are a view's: classes, and ``~c`` for the name of a
    named class c (a leaf).

    Naming b (:meth:`name`, after the view has put ``~b`` in b's parents): b's first visit is
    a contiguous run of events, those of the keys first met inside b.  It becomes the visit of
    the leaf ``~b``.  The other keys keep their order: the walk meets what they held later,
    where a key outside the run looks at it (those looks taken in the walk's order, each
    walking what it reaches of the run's keys not yet placed), and the rest in b's own walk,
    which comes last, b being the newest root."""

    def __init__(self, kids: dict, parents: list, roots: list, keys: set, multi: set):
        self._kids = kids  # the view's: class → its children's keys, names as ~c (kept current)
        self._parents = parents
        #: the view's repeated classes (kept current): only they, and names, can be inside a
        #: class named later (what a repeated class holds repeats) and so ever be looked for
        self._multi = multi
        self.head, self.tail = ("<",), (">",)
        self.nxt: dict = {self.head: self.tail}
        self.prv: dict = {self.tail: self.head}
        self.label: dict = {self.head: 0, self.tail: _GAP}
        #: set when every label was given anew (a ranking by labels must be rebuilt)
        self.relabelled = False
        pending = set(keys)
        for r in roots:
            self._insert(self.prv[self.tail], self._walk(r, pending))
        self.relabelled = False

    def place(self, k: int) -> int:
        """The key's place: later in the walk, larger (comparable only with other places)."""
        return self.label[("x", k)]

    def keys(self) -> list:
        """Every key, in the walk's order (for tests: the order a whole walk gives)."""
        out = []
        ev = self.nxt[self.head]
        while ev is not self.tail:
            if ev[0] == "x":
                out.append(ev[1])
            ev = self.nxt[ev]
        return out

    def _walk(self, start: int, pending: set) -> list:
        """The events of a walk from ``start`` entering only the keys of ``pending`` (each
        taken out of it when entered): the others were met before.  A look at a child that
        can never move (no longer repeated) is left out: nothing is placed after it."""
        kids, multi = self._kids, self._multi
        pending.discard(start)
        out: list = [("e", start)]
        add, enter = out.append, pending.discard
        stack = [(start, enumerate(kids[start] if start >= 0 else ()))]
        push = stack.append
        while stack:
            k, rest = stack[-1]
            for i, c in rest:
                if c < 0 or c in multi:
                    add(("m", k, i))
                if c in pending:
                    enter(c)
                    add(("e", c))
                    push((c, enumerate(kids[c] if c >= 0 else ())))
                    break
            else:
                stack.pop()
                add(("x", k))
        return out

    def _insert(self, after: tuple, events: list) -> None:
        """Link ``events`` in right after the event ``after``, labelled between its neighbours."""
        nxt, prv, label = self.nxt, self.prv, self.label
        last = nxt[after]
        lo = label[after]
        if last is self.tail:  # appending: the tail moves on, room is never short there
            label[last] = lo + _GAP * (len(events) + 1)
        step = (label[last] - lo) // (len(events) + 1)
        prev = after
        for ev in events:
            nxt[prev] = ev
            prv[ev] = prev
            lo += step
            label[ev] = lo
            prev = ev
        nxt[prev] = last
        prv[last] = prev
        if step == 0:
            self._relabel()

    def _relabel(self) -> None:
        label = self.label
        ev, j = self.head, 0
        while ev is not None:
            label[ev] = j * _GAP
            ev = self.nxt.get(ev)
            j += 1
        self.relabelled = True

    def name(self, b: int) -> list:
        """Update the walk for b named (the view already has ``~b`` where b stood); returns
        the keys whose place changed: those b's first visit held (b among them) and ``~b``."""
        nxt, prv, label = self.nxt, self.prv, self.label
        first, last = ("e", b), ("x", b)
        before = prv[first]
        held: list = []
        ev = first
        while True:
            if ev[0] == "e":
                held.append(ev[1])
            following = nxt.pop(ev)
            del prv[ev], label[ev]
            if ev == last:
                break
            ev = following
        nxt[before] = following
        prv[following] = before
        self._insert(before, [("e", ~b), ("x", ~b)])
        inside = set(held)
        pending = inside - {b}
        # the looks from outside the run at the keys it held, in the walk's order
        outside: dict = {}
        for y in held:
            if y != b:
                for p in self._parents[y if y >= 0 else ~y]:
                    if p not in inside:
                        outside[p] = None
        looks = []
        for p in outside:
            for i, c in enumerate(self._kids[p]):
                if c in pending:
                    ev = ("m", p, i)
                    looks.append((label[ev], ev, c))
        looks.sort(key=itemgetter(0))
        for _, ev, y in looks:
            if y in pending:
                self._insert(ev, self._walk(y, pending))
        pending.add(b)
        self._insert(prv[self.tail], self._walk(b, pending))
        return held + [~b]


class Ranking:
    """The repeated classes in the order the long answer's rule takes them: the most saved
    ((occurrences − 1) × size) first, then the larger, then the one met last in the walk — a
    heap of (−saving, −size, −place, class), each class's entry pushed anew when a name
    changes one of the three (stale entries are skipped when met).  Ranking every repeated
    class again for every name was quadratic in a network's depth (issue 21).  Until a tie
    asks for places (:meth:`ricci.simplify.naming._View.place`) the entries go without them."""

    def __init__(self, view, occ: dict, inside: dict):
        # a class's count is its occurrences less those as the v of a distribution v/sum(v)
        self.view, self.occ, self.inside = view, occ, inside
        self._rebuild()

    def _rebuild(self) -> None:
        self.placed = self.view.order is not None
        if self.placed:
            self.view.order.relabelled = False
        self.rank: dict = {}
        self.heap: list = []
        self.update(sorted(self.view.multi))

    def _key(self, k: int):
        """The class's entry in the ranking, or None where it is not ranked (what
        :meth:`update` reads inline; kept for the tests and the rebuild's reference)."""
        return self._keys([k])[k]

    def _keys(self, keys) -> dict:
        # the count, whether the class is trivial (a name or number, alone, transposed or
        # negated) and its size and place, inline: this runs for every class a name touches
        # (issue 21: three Python calls each, then one)
        view = self.view
        multi, occ, inside, rep, kids = view.multi, self.occ, self.inside, view.dag.rep, view._kids
        sizes = view._size
        label = view.order.label if self.placed else None
        out: dict = {}
        for k in keys:
            out[k] = None
            if k < 0 or k not in multi:
                continue
            count = occ[k] - inside.get(k, 0)
            if count < 2:
                continue
            t = type(rep[k])
            if t is Name or t is Num:
                continue  # trivial
            if t is Transpose or t is Neg:
                j = kids[k][0]
                if j < 0 or type(rep[j]) in _LEAVES:
                    continue  # trivial
            size = sizes.get(k)
            if size is None:  # (view.size's sum inline where the children's sizes are kept)
                size = 1
                for j in kids[k]:
                    if j < 0:
                        size += 1
                    else:
                        got = sizes.get(j)
                        size += got if got is not None else view.size(j)
                sizes[k] = size
            if size < 4:
                continue
            out[k] = (-(count - 1) * size, -size, -label[("x", k)] if label is not None else 0)
        return out

    def update(self, keys) -> None:
        if self.placed and self.view.order.relabelled:  # every place given anew: all stale
            self._rebuild()
            return
        rank, heap = self.rank, self.heap
        keys = dict.fromkeys(keys)
        found = self._keys(keys)  # (a class no longer repeated is None: passed over where unranked)
        for k in keys:
            key = found.get(k)
            if key is None and k not in rank:
                continue
            if key != rank.get(k):
                if key is None:
                    del rank[k]
                else:
                    rank[k] = key
                    heappush(heap, (*key, k))

    def best(self, ok) -> int | None:
        """The first class in the order that is ``ok``; the others looked at stay ranked."""
        rank, heap = self.rank, self.heap
        aside: list = []
        found = None
        while heap:
            entry = heappop(heap)
            k = entry[-1]
            if rank.get(k) != entry[:-1]:
                continue  # stale: the class's rank changed since
            if not self.placed and heap and self._tied(entry):
                heappush(heap, entry)  # a tie: walk for the places, rank with them
                for e in aside:
                    heappush(heap, e)
                self.view.place(k)
                self._rebuild()
                return self.best(ok)
            if ok(k):
                found = k
                break
            aside.append(entry)
        for entry in aside:
            heappush(heap, entry)
        return found

    def _tied(self, entry: tuple) -> bool:
        """Whether another class ranks as ``entry`` does (the same saving and size)."""
        rank, heap = self.rank, self.heap
        while heap and (rank.get(heap[0][-1]) != heap[0][:-1] or heap[0] == entry):
            heappop(heap)  # stale, or the same entry again (a rank changed and changed back)
        return bool(heap) and heap[0][:2] == entry[:2]
