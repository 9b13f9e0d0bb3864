"""The display forms of a derivative: its text, LaTeX and index notation, and the words for its
orientation, assembled from the raised matrix form (:mod:`ricci.raise_matrix`) or, where there
is none, from index notation (:mod:`ricci.printing.index`).

Apart from the raiser so that raising only raises: the raiser never imports the index printer,
which raises a matrix function's argument, and the two make no circle of imports (the layers of
pyproject.toml; README "The layout").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from .ir import build as B
from .ir.nodes import Var
from .language import ast as A
from .raise_matrix import NoMatrixForm, Raiser, _zero_ast
from .simplify.matrix import MatrixForms


@dataclass
class Display:
    text: str
    latex: str
    matrix: A.Expr | None
    index: str
    orientation_words: str
    #: size arguments of the answer (len(w)) → the dimension they stand for (n), for LaTeX/MathML
    sizes: dict = None
    #: where ``index`` is None (an answer with a matrix form): what writes its index notation,
    #: on first use (``d.index_notation``), not with every ``d.text`` (issue 21: a third of the
    #: display of a deep answer went to an index notation nobody read)
    index_of: object = None
    #: where ``latex`` is None: what writes the LaTeX, on first use (``d.latex``), for the same
    #: reason (issue 21: ``d.text`` never reads it)
    latex_of: object = None


def target_orientation(d) -> tuple:
    """(row index, column index) of the displayed matrix, or None when it is a tensor."""
    out = d.out
    if any(i.dim == 1 for i in out):
        # the axis of a list of one scalar (wrt=["a"]): no matrix form keeps it ([s] is a scalar)
        return None
    if len(out) == 0:
        return (None, None)
    if len(out) == 1:
        t = d.expression.type
        if t.is_col and d.lowered.row == out[0]:
            return (out[0], None)  # a column: f ∈ R^E by a scalar
        return (None, out[0])  # a row: the gradient of a scalar (lecture: ∇f ∈ R^{1×n})
    if len(out) == 2:
        return (out[0], out[1])
    return None


def display(d) -> Display:
    from .printing.index import index_text
    from .printing.text import to_text
    from .simplify.sizes import size_constants
    from .simplify.symmetry import use_symmetry

    from .simplify import index_compact  # powers, families, Sym[…] in index notation (issue 21)
    from .simplify.rules import display_rules
    from .simplify.textbook import fold_if_shorter
    from .simplify.vocabulary import uses_logsumexp, vocabulary

    expr = d.expression
    bindings = {n: b for n, b in d.lowered.bindings.items()}
    target = target_orientation(d)

    def rules(n):
        return display_rules(n, tensor=target is None)

    node = fold_if_shorter(rules(use_symmetry(d.node, expr)), bindings, rules)
    forms = MatrixForms(expr)
    matrix = None
    if target is not None:
        try:
            if B.is_zero(node):
                raise _Zero
            raiser = Raiser(forms, bindings)
            r = raiser.raise_node(node)
            if r.is_scalar and target != (None, None):
                raise NoMatrixForm("a scalar where a tensor is expected")
            matrix = forms.finish(raiser.orient(r, *target))
            binds = []
            names = list(bindings)
            for name in _used_bindings(matrix, bindings):
                ir, br, bc = bindings[name]
                # A binding's expression may use the names bound before it, not itself.
                earlier = {n: bindings[n] for n in names[:names.index(name)]}
                if B.is_zero(ir) and (br is not None or bc is not None):
                    # 0 alone would be a scalar: a zero of the binding's shape (vector(0), matrix(0))
                    binds.append((name, _zero_ast(expr, (br, bc))))
                    continue
                r_b = Raiser(forms, earlier).raise_node(ir)
                binds.append((name, forms.finish(raiser.orient(r_b, br, bc))))
            taken = set(expr.variables) | set(bindings) | set(_dimension_names(expr))
            matrix, auto = forms.name_repeats(matrix, taken)
            binds += auto
            if binds:
                matrix = A.Where(matrix, tuple(binds))
        except NoMatrixForm:
            matrix = None
        except _Zero:
            matrix = _zero_ast(expr, target)
    words = _orientation_words(d, target, matrix)
    if matrix is not None:
        # where nothing in the answer fixes a constant's size, the size is written out
        dims = tuple(1 if i is None else i.dim for i in target)
        matrix, names = size_constants(matrix, expr, dims)
        # last: the type checker of size_constants reads softmax(u) only as the parser writes it
        matrix = vocabulary(matrix, uses_logsumexp(expr.tree), forms.kind)
        return Display(to_text(matrix), None, matrix, None, words, names,
                       # a partial of a module's function, not a lambda: a Derivative
                       # pickles after d.text too
                       partial(_index_text, node, d.out, d), partial(_matrix_latex, matrix, names))
    idx_text = index_text(node, d.out, d, index_compact)
    return Display(idx_text, None, None, idx_text, words, latex_of=partial(_index_latex, node, d.out, d))


def _matrix_latex(matrix, names) -> str:
    from .printing.latex import ast_to_latex, size_names

    with size_names(names):
        return ast_to_latex(matrix)


def _index_latex(node, out, d) -> str:
    from .printing.index import index_latex
    from .simplify import index_compact

    return index_latex(node, out, d, index_compact)


def _index_text(node, out, d) -> str:
    from .printing.index import index_text
    from .simplify import index_compact

    return index_text(node, out, d, index_compact)


class _Zero(Exception):
    """The derivative is identically zero."""


def _used_bindings(tree: A.Expr, bindings: dict) -> list[str]:
    """The bound names the answer uses, with those their expressions need, in binding order."""
    if not bindings:
        return []  # (most answers: nothing to look for in the whole answer)
    need = _names(tree)
    from .ir.traverse import nodes

    for name in reversed(list(bindings)):  # a binding may use earlier ones
        if name in need:
            need |= {v.name for v in nodes(bindings[name][0]) if isinstance(v, Var)}
    return [n for n in bindings if n in need]


def _names(tree: A.Expr) -> set:
    """The names ``tree`` uses, each shared subtree read once (the raised answer shares its
    inner levels: walked as a tree, a nested answer is far larger than its text)."""
    seen, names, stack = set(), set(), [tree]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, A.Name):
            names.add(n.name)
        stack.extend(A.children(n))
    return names


def _dimension_names(expr) -> set:
    return {str(d) for v in expr.variables.values() for d in v.dims}


def _orientation_words(d, target, matrix) -> str:
    if target is None or matrix is None:
        return " (a tensor, shown in index notation)" if len(d.out) > 2 else ""
    if target == (None, None):
        return ""
    if target[0] is None:
        return " (a row vector)"
    if target[1] is None:
        return " (a column vector)"
    return " (a matrix)"
