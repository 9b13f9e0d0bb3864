"""The structural classes of an answer's subtrees, for naming its repeated subterms
(:mod:`ricci.simplify.naming`): one walk over the answer's objects finds each class, its
children, its first object and whether it holds a size-less constant, and :meth:`_ClassDag.view`
reads what the answer would be with some classes named, without rebuilding it.  Apart from the
naming's choices (which class to name, in which order, under which name) because it is the
answer's structure alone."""

from __future__ import annotations

from operator import is_

from ..functions import IDENTITY_NAMES
from ..language import ast as A
from ..limits import tick
from .objects import objects


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
        #: class → whether it holds a size-less constant (:func:`_sizeless`), as first read
        self.sizeless: list = []
        cls, rep, kids, sizeless = self.cls, self.rep, self.kids, self.sizeless
        BinOp, Call, Name, Num, Transpose, Neg = A.BinOp, A.Call, A.Name, A.Num, A.Transpose, A.Neg

        # Children before parents, each child in order and each object once: the order the
        # classes are numbered in (a loop, not a call per object: issue 21).  An object is
        # looked at again once its children have their classes.
        tick()  # the derivation's time budget (ricci.limits)
        stack = [tree]
        while stack:
            n = stack[-1]
            if id(n) in cls:
                stack.pop()
                continue
            t = type(n)
            if t is BinOp:
                ch, p = (n.left, n.right), n.op
            elif t is Name:
                ch, p = (), n.name
            elif t is Call:
                ch, p = n.args, n.func
            elif t is Num:
                ch, p = (), n.value
            elif t is Transpose or t is Neg:
                ch, p = (n.arg,), None
            else:  # a pending chain is built here, as by A.children before
                ch = A.children(n)
                p = _params(n)
            todo = None
            for x in reversed(ch):
                if id(x) not in cls:
                    if todo is None:
                        todo = []
                    todo.append(x)
            if todo is not None:
                stack += todo  # the first child last: on top
                continue
            stack.pop()
            ks = tuple(map(cls.__getitem__, map(id, ch)))
            key = (type(n).__name__, p, ks)
            c = table.get(key)
            if c is None:
                c = table[key] = len(rep)
                rep.append(n)
                kids.append(ks)
                flag = (t is Call and p in _SIZELESS_CALLS) or (t is Name and p in IDENTITY_NAMES)
                if not flag:
                    for j in ks:
                        if sizeless[j]:
                            flag = True
                            break
                sizeless.append(flag)
            cls[id(n)] = c
        self.root = cls[id(tree)]
        self.names: dict = {}  # name → its one Name object

    def may_have_mnemonic(self, k: int) -> bool:
        """Cheap test before :func:`mnemonic`: a call of one argument or a quotient."""
        if k < 0:
            return False
        n = self.rep[k]
        return (isinstance(n, A.Call) and len(n.args) == 1) or (isinstance(n, A.BinOp) and n.op == "/")

    def build(self, named: dict) -> tuple[A.Expr, dict]:
        """The answer and the bindings, each named class replaced by its name (once)."""
        memo: dict = {}  # id(object) → what it reads as (its binding's root: what it holds)
        mat = self._materialise
        return mat(self.tree, named, memo), {name: mat(self.rep[c], named, memo) for c, name in named.items()}

    def _materialise(self, root: A.Expr, named: dict, memo: dict) -> A.Expr:
        """``root`` with each object of a named class below it replaced by the name (``root``
        itself kept: a binding's right side), each object read once (``memo``).  A loop with a
        stack, children before parents, not a call per object (issue 21)."""
        got = memo.get(id(root))
        if got is not None:
            return got
        cls, names = self.cls, self.names
        BinOp, Call, Name, Num, Transpose, Neg = A.BinOp, A.Call, A.Name, A.Num, A.Transpose, A.Neg
        stack = [root]
        while stack:
            n = stack[-1]
            if id(n) in memo:  # (a child met twice before it was done: done once)
                stack.pop()
                continue
            t = type(n)
            if t is BinOp:
                ch = (n.left, n.right)
            elif t is Name or t is Num:
                memo[id(n)] = n
                stack.pop()
                continue
            elif t is Call:
                ch = n.args
            elif t is Transpose or t is Neg:
                ch = (n.arg,)
            else:
                ch = A.children(n)
            new = []
            todo = None
            for x in ch:
                c = cls[id(x)]
                if c in named:
                    name = named[c]
                    y = names.get(name)
                    if y is None:
                        y = names[name] = Name(name)
                else:
                    y = memo.get(id(x))
                    if y is None:
                        if todo is None:
                            todo = []
                        todo.append(x)
                new.append(y)
            if todo is not None:
                stack += reversed(todo)  # the first child last: on top
                continue
            stack.pop()
            # a node none of whose children changed is kept as it is, not copied (issue 21)
            if t is BinOp:
                left, right = new
                out = n if left is n.left and right is n.right else BinOp(n.op, left, right, span=n.span)
            elif t is Call:
                out = n if all(map(is_, new, ch)) else Call(n.func, tuple(new), span=n.span)
            elif t is Transpose or t is Neg:
                out = n if new[0] is n.arg else t(new[0], span=n.span)
            elif ch:
                ks = iter(new)
                out = A.map_children(n, lambda _: next(ks))
            else:
                out = n
            memo[id(n)] = out
        return memo[id(root)]


def _least_text(dag: _ClassDag, occ: dict, enough: int) -> int:
    """At most the length of the answer's text (or at least ``enough``): each class's own
    characters (an operator, with the spaces of + and −; a name; a function's name, its
    parentheses and commas; one for anything else) times its occurrences.  Parentheses a
    printer adds and the digits of a number past the first are not counted."""
    total = 0
    sums = ("+", "-")
    for c, n in enumerate(dag.rep):
        t = type(n)
        if t is A.BinOp:
            own = len(n.op) + 2 if n.op in sums else len(n.op)
        elif t is A.Name:
            own = len(n.name)
        elif t is A.Call:
            own = len(n.func) + 2 * max(len(n.args), 1)
        else:
            own = 1
        total += own * occ[c]
        if total >= enough:
            break
    return total


_SIZELESS_CALLS = ("vector", "matrix")


def _sizeless(node: A.Expr) -> bool:
    """Whether a subterm holds a constant whose size comes from where it stands (vector(1),
    matrix(c), eye): one name for it could not have two shapes (a*matrix(1) beside C and C')."""
    for n in objects(node):  # each object once, no call per node (issue 21)
        t = type(n)
        if (t is A.Call and n.func in _SIZELESS_CALLS) or (t is A.Name and n.name in IDENTITY_NAMES):
            return True
    return False


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
