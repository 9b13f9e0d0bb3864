"""Index notation for tensors (orders ≥ 3, or anything with no matrix form).

The derivative's free indices get lecture-style names (i, j for the function, k, l for the
variable, then p, q, …); summed indices get a, b, c, ….  Text uses ``δ_ij x_k``; LaTeX uses
``\\delta_{ij} x_{k}`` and ``\\sum_{a}``.
"""

from __future__ import annotations

import weakref

from ..functions import lookup
from ..ir.build import _bound_of
from ..ir.nodes import Add, Delta, Elem, MatFun, Mul, Node, Num, Pair, Pow, Size, Stack, Var
from .index_names import NAMING_FROM, _bindings, _names_for  # noqa: F401  (NAMING_FROM: tests)
from .text import format_number

_FREE_NAMES = "ijklpqrsuvw"
_SUM_NAMES = "abcdefgh"


def _names(node: Node, out: tuple, d) -> dict:
    """Lecture-style names: f_i by A_jk (Example 3); K_pq by R_ij (Example 4)."""
    taken = set(d.expression.variables) if d is not None else set()
    n_f = len(d.expression.shape) if d is not None else 0
    first = "pq" if n_f == 2 else ""
    order = first + "".join(c for c in _FREE_NAMES if c not in first)
    pool = [c for c in order if c not in taken] + [f"i{k}" for k in range(1, 50)]
    return {ix: pool[k] for k, ix in enumerate(out)}


def _matrix_form(arg: Node, r, c, d, latex: bool) -> str | None:
    """The argument of a matrix function in matrix notation (inv(x_i^2 + 1 δ..) reads as
    inv(diag(x.^2 + 1))), or None."""
    if d is None:
        return None
    from ..raise_matrix import NoMatrixForm, Raiser
    from ..simplify.matrix import MatrixForms
    from .latex import ast_to_latex
    from .text import to_text

    try:
        raiser = Raiser(MatrixForms(d.expression), d.lowered.bindings)
        ast = raiser.orient(raiser.raise_node(arg), r, c)
    except NoMatrixForm:
        return None
    return ast_to_latex(ast) if latex else to_text(ast)


class _Printer:
    def __init__(self, names: dict, latex: bool, d=None, compact=None):
        self.names = dict(names)
        self.latex = latex
        self.sum_count = 0
        self.d = d
        self.taken = set(d.expression.variables) if d is not None else set()
        # ricci.simplify.index_compact, handed down by the display (this module is below the
        # IR's layer): matrix powers, families, Sym[…]; None writes every term out
        self.compact = compact
        # Naming repeated subterms (issue 21), as the matrix notation's `where` does: None (off),
        # or {} while a first pass counts the candidates, then {matrix text: name}
        self.naming: dict | None = None
        self.seen: dict = {}  # matrix text → [occurrences, longest text shown, AST, indices]
        self.counting = False
        self._named_ids: set = set()  # ids of the subterms written by their names
        self._parts: dict = {}  # id of a product's factors → (them, _parts_of), once per product
        self._chains: dict = {}  # id of a product's factors → (them, its chains)
        self.uses: dict = {}  # name → times written (in the answer and in the bindings)
        self.used_ix: set = set()  # index names written
        self._raiser_ = None
        self._pieces: set = set()  # ids of the subterms shown in matrix notation
        # id → (node, its matrix form's text or None, the form's indices): a subterm shared by
        # the answer's DAG is printed once per occurrence, but raised and measured once
        self._forms: dict = {}
        # Summed indices are named a, b, c, …, skipping the names of variables (Σ_a A_ka a_a
        # would not say which a is the vector), then a1, b1, ….
        taken = set(d.expression.variables) if d is not None else set()
        self.sum_names = [n for k in range(50) for n in
                          (c + (str(k) if k else "") for c in _SUM_NAMES) if n not in taken]

    def ix(self, idx) -> str:
        parts = [self.names.get(i, i.name) for i in idx]
        self.used_ix.update(parts)
        if not parts:
            return ""
        if self.latex:
            return "_{" + "".join(parts) + "}" if all(len(p) == 1 for p in parts) else "_{" + ",".join(parts) + "}"
        return "_" + ("".join(parts) if all(len(p) == 1 for p in parts) else "(" + ",".join(parts) + ")")

    def show(self, n: Node) -> str:
        if self.naming is not None:
            named = self._named_piece(n)
            if named is not None:
                return named
        piece = self._matrix_piece(n)
        if piece is not None:
            return piece
        return self._show(n)

    def _matrix_piece(self, n: Node) -> str | None:
        """An elementwise function of a sum, with at most two free indices, in matrix notation,
        indexed: ``sigmoid(A*relu(B*x))_d`` for ``sigmoid(Σ_e relu(Σ_f B_ef x_f) A_de)``; None
        when it has no matrix form (or needs none)."""
        # Only a function's application: Σ_a A_ia x_a is the index notation the reader asked
        # for, exp(Σ_a x_a W_ia) a sum buried in an argument that reads better as exp(W*x)_i.
        if self.d is None or len(n.free) > 2 or not isinstance(n, Elem) or not _has_sum(n):
            return None
        got = self._forms.get(id(n))
        if got is None:
            got = self._forms[id(n)] = (n,) + self._matrix_form(n)
        _, text, idx = got
        if text is None or any(i not in self.names for i in idx):  # an index not named here
            return None
        self._pieces.add(id(n))
        return text + self.ix(idx) if idx else text

    def _matrix_form(self, n: Elem) -> tuple:
        """The text of ``n``'s matrix form (bracketed where an index follows) and the form's
        indices; None for the text where it has none or a long one."""
        from ..language import ast as A
        from ..raise_matrix import NoMatrixForm
        from .latex import ast_to_latex
        from .text import to_text

        try:
            r = self._raiser().raise_node(n)
        except NoMatrixForm:
            return None, ()
        if not self.latex and (_more_nodes_than(r.ast, 60) or len(to_text(r.ast)) > 60):
            return None, ()  # a long matrix form reads no better
        idx = tuple(i for i in (r.row, r.col) if i is not None)
        text = ast_to_latex(r.ast) if self.latex else to_text(r.ast)
        if idx and not isinstance(r.ast, (A.Name, A.Call)):
            text = f"\\left({text}\\right)" if self.latex else f"({text})"
        return text, idx

    def _named_piece(self, n: Node) -> str | None:
        """A repeated subterm with a matrix form, by its name (``u_i where u = (B + B')*x``);
        on the first pass (no names yet), counts it and prints it as it is."""
        if self.d is None or len(n.free) > 2 or not (
                isinstance(n, Add) or (isinstance(n, Mul) and _bound_of(n))
                or (isinstance(n, Elem) and _has_sum(n))):
            return None
        got = self._forms.get(("named", id(n)))
        if got is None:
            from .text import to_text

            ast, idx = self._raised(n)
            got = self._forms[("named", id(n))] = (n, ast, idx, None if ast is None else to_text(ast))
        _, ast, idx, key = got
        if ast is None or any(i not in self.names for i in idx):
            return None
        name = self.naming.get(key)
        if name is not None:
            self.uses[name] = self.uses.get(name, 0) + 1
            self._pieces.add(id(n))  # no brackets around it: a name, however long its sum
            self._named_ids.add(id(n))
            return (_latex_name(name) if self.latex else name) + self.ix(idx)
        if self.counting:
            shown = self._show_piece(n)
            seen = self.seen.setdefault(key, [0, 0, ast, len(idx)])
            seen[0] += 1
            seen[1] = max(seen[1], len(shown))
            return shown
        return None

    def _named_components(self, fs: tuple, out: tuple) -> dict:
        """{a part's first position: (its name with indices, its positions, its summed
        indices)} for the parts of a product, joined by sums of their own and with at most two
        indices out, that have names; on the counting pass, counts them and names none."""
        if self.d is None or self.naming is None or not (self.counting or self.naming):
            return {}
        got = self._parts.get(id(fs))
        if got is None:  # once per product (the product, held here, keeps its id its own)
            got = self._parts[id(fs)] = (fs, _parts_of(fs, out))
        found = {}
        for comp, sub, inner in got[1]:
            text = self._named_piece(sub)
            if text is not None and not self.counting:
                found[min(comp)] = (text, comp, inner)
        return found

    def _show_piece(self, n: Node) -> str:
        piece = self._matrix_piece(n)
        return piece if piece is not None else self._show(n)

    def _raised(self, n: Node) -> tuple:
        from ..raise_matrix import NoMatrixForm

        try:
            r = self._raiser().raise_node(n)
        except (NoMatrixForm, ValueError, TypeError, KeyError):
            return None, ()
        return r.ast, tuple(i for i in (r.row, r.col) if i is not None)

    def _raiser(self):
        if self._raiser_ is None:
            from ..raise_matrix import Raiser
            from ..simplify.matrix import MatrixForms

            self._raiser_ = Raiser(MatrixForms(self.d.expression), self.d.lowered.bindings)
        return self._raiser_

    def terms(self, ts) -> str:
        """A sum's terms (nodes, or the compact entries of :mod:`ricci.simplify.index_compact`).  Each term
        names its own summed indices (Σ_a … + Σ_a …), so names are scoped: their letters start
        again from the same one in every term."""
        saved, count, top = dict(self.names), self.sum_count, self.sum_count
        out = ""
        for k, t in enumerate(ts):
            self.names = dict(saved)
            top, self.sum_count = max(top, self.sum_count), count
            s = self.show(t) if isinstance(t, Node) else self.entry(t)
            out += s if k == 0 else (" - " + s[1:]) if s.startswith("-") else (" + " + s)
        self.names = saved
        self.sum_count = max(top, self.sum_count)
        return out

    def entry(self, e) -> str:
        """A family Σ_{r=0}^{14} 16 (X^r)_li (X^(14-r))_jk, or a symmetrised Sym[t]."""
        if e.kind == "sym":
            body = self.show(e.node)
            inner = f"\\operatorname{{Sym}}\\left[{body}\\right]" if self.latex else f"Sym[{body}]"
            return _times(e.coef, inner)
        r = next(c for c in "rstmgh" if c not in self.names.values() and c not in self.taken
                 and c not in (self.naming or {}).values())
        rest = f"{e.total}-{r}" if e.total else f"-{r}"
        parts = [self.power(e.base, r, *e.pairs[0]), self.power(e.base, rest, *e.pairs[1])]
        parts += [self.show(f) for f in sorted(e.others, key=_display_rank)]
        head = f"\\sum_{{{r}={e.lo}}}^{{{e.hi}}} " if self.latex else f"Σ_{{{r}={e.lo}}}^{{{e.hi}}} "
        return head + _times(e.coef, " ".join(parts))

    def power(self, base: Node, exp: str, first, last) -> str:
        """(X^3)_ad: a matrix's power, indexed."""
        whole = self.show(base)
        head = whole[:len(whole) - len(self.ix(base.idx if isinstance(base, Var) else base.out))]
        if self.latex:
            head = f"{{{head}}}" if "^" in head else head
            return f"({head}^{{{exp}}})" + self.ix((first, last))
        exp = exp if exp.isalnum() else f"({exp})"
        return f"({head}^{exp})" + self.ix((first, last))

    def _show(self, n: Node) -> str:
        match n:
            case Num(value=v):
                return format_number(v)
            case Size(dim=dm):
                return str(dm)
            case Var(name=name, idx=idx):
                if self.latex:
                    # {x_{1}}_{i}: a name with its own subscript needs braces before the index
                    base = _latex_name(name)
                    return (f"{{{base}}}" if "_" in base and idx else base) + self.ix(idx)
                return name + self.ix(idx)
            case Delta(i=i, j=j):
                return ("\\delta" if self.latex else "δ") + self.ix((i, j))
            case Pair(r=r, a=a, b=b):
                # 1 where r is the pair (a, b), a fastest: vec's and kron's index, δ_(r,(a,b))
                first, pair = self.names.get(r, r.name), ",".join(self.names.get(i, i.name) for i in (a, b))
                if self.latex:
                    return f"\\delta_{{{first},({pair})}}"
                return f"δ_({first},({pair}))"
            case Mul(factors=fs, out=out):
                # Every index of a factor that is not in the product's `out` is summed by this
                # product, whatever it was called elsewhere: canonical naming gives the bound
                # indices of equal products equal names, so exp(Σ_a x_a W_ia) and exp(Σ_b x_b W_kb)
                # are two sums over one IR index name, each with its own Σ and its own scope.
                # A chain X_ab X_bc X_cd of one matrix is the power (X^3)_ad (issue 21), its
                # inner indices neither named nor summed in the text.
                found = []
                if self.compact is not None:
                    got = self._chains.get(id(fs))
                    if got is None:  # once per product (held here: its id stays its own)
                        got = self._chains[id(fs)] = (fs, self.compact.chains(fs, out))
                    found = got[1]
                hidden = {i for c in found for i in c.inner}
                member = {m: c for c in found for m in c.members}
                # In a long answer, a part of the product joined by sums of its own (Σ_ab x_a x_b
                # A_ab: the scalar x'*A*x) is a subterm too, written by its name where it recurs.
                parts_named = self._named_components(fs, out) if not found else {}
                for k, (_, comp, inner) in parts_named.items():
                    hidden |= inner
                    member.update({m: k for m in comp})
                summed = []
                for f in fs:
                    for i in f.free:
                        if i not in out and i not in summed and i not in hidden:
                            summed.append(i)
                outer = {i: self.names[i] for i in summed if i in self.names}
                for i in summed:
                    self.names[i] = self.sum_names[self.sum_count % len(self.sum_names)]
                    self.sum_count += 1
                parts = []
                placed = set()
                for k, f in sorted(enumerate(fs), key=lambda kf: _display_rank(kf[1])):
                    if k in member:
                        c = member[k]
                        if isinstance(c, int):  # a named part, where its first factor stands
                            if c not in placed:
                                placed.add(c)
                                parts.append(parts_named[c][0])
                        elif k == c.members[0]:
                            parts.append(self.power(c.base, str(c.power), c.first, c.last))
                        continue
                    s = self.show(f)
                    parts.append(f"({s})" if isinstance(f, Add) and id(f) not in self._pieces else s)
                sub = "".join(self.names[i] for i in summed)
                for i in summed:
                    del self.names[i]
                self.names.update(outer)
                if parts and parts[0] == "-1":
                    parts = ["-" + (parts[1] if len(parts) > 1 else "1")] + parts[2:]
                body = " ".join(parts) if parts else "1"
                if summed:
                    return (f"\\sum_{{{sub}}} " if self.latex else f"Σ_{sub} ") + body
                return body
            case Add(terms=ts):
                return self.terms(ts)
            case Elem(func=f, arg=a):
                fn = f"\\operatorname{{{f}}}" if self.latex else f
                return f"{fn}({self.show(a)})"
            case Pow(base=b, exp=e):
                bs = self.show(b)
                if not isinstance(b, (Var, Num)) and id(b) not in self._named_ids:
                    bs = f"({bs})"
                es = self.show(e)
                return f"{bs}^{{{es}}}" if self.latex else f"{bs}^{es if isinstance(e, (Num, Var)) else '(' + es + ')'}"
            case MatFun(func=f, arg=a, r=r, c=c, out=o):
                inner = _matrix_form(a, r, c, self.d, self.latex)
                if inner is None:
                    dot = r"\cdot" if self.latex else "·"
                    self.names.setdefault(r, dot)
                    self.names.setdefault(c, dot)
                    inner = self.show(a)
                fn = lookup(f)
                if fn.layout == "inverse":
                    return (f"\\left({inner}\\right)^{{-1}}" if self.latex else f"{f}({inner})") + self.ix(o)
                # the table's LaTeX head where it is the command of the function's name (\det);
                # logdet keeps its name here
                head = fn.latex + f"({inner})" if self.latex and fn.latex == "\\" + f else f"{f}({inner})"
                return head + self.ix(o) if o else head  # expm(X)_pq, a Fréchet tensor's four indices
            case Stack(entries=es, axes=ax):
                shown = [self.show(e) for e in es]
                if len(ax) == 2 and isinstance(ax[1].dim, int) and ax[1].dim > 0:
                    # row-major entries: written as the literal they are, [a, b; c, d]_pq
                    n = ax[1].dim
                    rows = [", ".join(shown[k:k + n]) for k in range(0, len(shown), n)]
                    return "[" + "; ".join(rows) + "]" + self.ix(ax)
                return "[" + ", ".join(shown) + "]" + self.ix(ax)
        return repr(n)


def _parts_of(fs: tuple, out: tuple) -> list:
    """(positions, the part as a product, its summed indices) for each part of a product joined
    by sums of its own with at most two indices out; none where the whole product is one."""
    from ..ir import build as B

    outset = set(out)
    comps = [c for c in B.summed_components(list(fs), outset) if len(c) >= 2]
    if len(comps) == 1 and len(comps[0]) == sum(1 for f in fs if not isinstance(f, Num)):
        return []  # the whole product: a subterm already
    parts = []
    for comp in comps:
        free = tuple(dict.fromkeys(i for k in comp for i in fs[k].free if i in outset))
        if len(free) <= 2:
            inner = {i for k in comp for i in fs[k].free if i not in outset}
            parts.append((tuple(comp), B.mul([fs[k] for k in comp], free), inner))
    return parts


def _display_rank(f: Node) -> tuple:
    """Where a factor stands in a product as printed: the number, then Kronecker deltas (the
    lecture's δ_ij x_k), then the other factors, then sums in brackets.  (The canonical order
    alone puts a sum first or last depending on where it came from.)  The other factors go by
    their structure without the variables' names — variables, then functions by name, then
    powers — so that renaming the variables does not reorder them (known_core_bugs.md #2: the
    canonical order is a digest that includes names); only factors equal up to names keep the
    canonical order between them."""
    if isinstance(f, Num):
        return (0,)
    if isinstance(f, (Delta, Pair)):
        return (1,)
    return (3 if isinstance(f, Add) else 2, _structure(f))


_STRUCTURE_RANK = {Num: 0, Size: 1, Var: 2, Delta: 3, Stack: 4, Elem: 5, MatFun: 6, Pow: 7, Mul: 8, Add: 9}


#: _structure and _has_sum of the nodes seen, by identity (nodes are immutable, hash-consed):
#: the printer asks at every level of a nested answer, and recomputing each level's subtree
#: made printing a depth-L network quadratic in L (issue 21)
_STRUCTURES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SUMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _structure(n: Node) -> tuple:
    """A key of ``n`` that names no variable and no index: node types, function names,
    numbers, how many indices a variable carries (every entry comparable with its peers)."""
    got = _STRUCTURES.get(n)
    if got is None:
        got = _STRUCTURES[n] = _structure_of(n)
    return got


def _structure_of(n: Node) -> tuple:
    rank = _STRUCTURE_RANK.get(type(n), 10)
    match n:
        case Num(value=v):
            return (rank, "", (v,))
        case Var(idx=idx):
            return (rank, "", (len(idx),))
        case Elem(func=f, arg=a):
            return (rank, f, (_structure(a),))
        case MatFun(func=f, arg=a):
            return (rank, f, (_structure(a),))
        case Pow(base=b, exp=e):
            return (rank, "", (_structure(b), _structure(e)))
        case Mul(factors=fs):
            return (rank, "", tuple(sorted(_structure(x) for x in fs)))
        case Add(terms=ts):
            return (rank, "", tuple(sorted(_structure(x) for x in ts)))
        case Stack(entries=es):
            return (rank, "", tuple(_structure(x) for x in es))
    return (rank, "", ())


def _has_sum(node: Node) -> bool:
    """Whether a product inside ``node`` sums over an index."""
    got = _SUMS.get(node)
    if got is None:
        got = _SUMS[node] = (isinstance(node, Mul) and bool(_bound_of(node))) or any(
            _has_sum(c) for c in node.children())
    return got


def _more_nodes_than(tree, limit: int) -> bool:
    """Whether a matrix AST has more than ``limit`` nodes, counting no further: each node prints
    as one character at least, so its text is then longer than ``limit`` too (printing it to
    find out cost a whole subtree's text at every level of a nested answer)."""
    from ..language import ast as A

    todo, seen = [tree], 0
    while todo:
        seen += 1
        if seen > limit:
            return True
        todo.extend(A.children(todo.pop()))
    return False


def derivative_axes(d, out: tuple) -> tuple[tuple, list]:
    """The free indices of a derivative: the function's (f_pq), then one group per order (∂R_ij)."""
    n_f = len(d.expression.shape)
    f_ix, rest = out[:n_f], out[n_f:]
    per = len(rest) // d.order if d.order else 0
    return f_ix, [rest[k * per:(k + 1) * per] for k in range(d.order)]


def _lhs(p: _Printer, out: tuple, d, latex: bool) -> str:
    if d is None:
        return "D" + p.ix(out)
    f_ix, parts = derivative_axes(d, out)
    order = d.order
    wrt = wrt_name(d)
    if latex:
        num = r"\partial" + (f"^{{{order}}}" if order > 1 else "") + " f" + p.ix(f_ix)
        w = _latex_name(wrt)
        w = f"{{{w}}}" if "_" in w else w
        den = " ".join(r"\partial " + w + p.ix(q) for q in parts)
        return rf"\frac{{{num}}}{{{den}}}"
    num = "∂" + (f"^{order}" if order > 1 else "") + "f" + p.ix(f_ix)
    den = "".join("∂" + wrt + p.ix(q) for q in parts)
    return f"{num}/{den}"


def wrt_name(d) -> str:
    """The name wrt goes by in index notation: its own, or for a list of scalars (one vector of
    partials) x, or another letter when a variable is called x."""
    if isinstance(d.wrt, str):
        return d.wrt
    taken = set(d.expression.variables)
    return next(n for n in ("x", "w", "z", "u", "v", "s", "t", "theta") + tuple(f"x{k}" for k in range(99))
                if n not in taken)


def _latex_name(name: str) -> str:
    from .latex import name_latex

    return name_latex(name)


def _times(coef: float, body: str) -> str:
    if coef == 1.0:
        return body
    return ("-" if coef == -1.0 else format_number(coef) + " ") + body


#: node → (its free indices, the names chosen, the subterms seen), weakly: the LaTeX takes the
#: names the text chose (one decision, so the two read alike, and one counting pass less)
_NAMED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _body(p: _Printer, node: Node, out: tuple, d) -> str:
    """The right-hand side: powers and families always; in a long answer (NAMING_FROM
    characters written out) also the orbits as Sym[…] and the repeated subterms named (``…
    where u = (B + B')*x``).  A short answer reads best written out: the Hessian of tr(X*A*X)
    stays ``δ_il A_jk + δ_jk A_li``."""
    groups = derivative_axes(d, out)[1] if d is not None else []
    full = p.compact.compact_terms(node, groups) if p.compact is not None else None
    plain = p.compact.compact_terms(node, groups, sym=False) if p.compact is not None else None

    def once(shown) -> str:
        p.sum_count = 0
        return p.show(node) if shown is None else p.terms(shown)

    if d is None:
        return once(plain)
    got = _NAMED.get(node)
    if got is not None and got[0] == out:
        long, chosen, p.seen = got[1:]
    else:
        def forms():
            from ..simplify.matrix import MatrixForms

            return MatrixForms(d.expression)

        avoid = {"f", wrt_name(d)}  # nor the left-hand side's letters
        long, chosen = _names_for(p, lambda: once(plain), lambda: once(full), avoid, forms)
        _NAMED[node] = (out, long, chosen, p.seen)
    p.naming = chosen
    body = once(full if long else plain)
    if not chosen:
        return body
    sep = r" \quad\text{where } " if p.latex else " where "
    return body + sep + ", ".join(_bindings(p, chosen))


def index_text(node: Node, out: tuple, d=None, compact=None) -> str:
    """``compact``: :mod:`ricci.simplify.index_compact` for the compact forms of higher orders."""
    p = _Printer(_names(node, out, d), latex=False, d=d, compact=compact)
    body = _body(p, node, out, d)
    return f"{_lhs(p, out, d, False)} = {body}"


def index_latex(node: Node, out: tuple, d=None, compact=None) -> str:
    p = _Printer(_names(node, out, d), latex=True, d=d, compact=compact)
    body = _body(p, node, out, d)
    return f"{_lhs(p, out, d, True)} = {body}"
