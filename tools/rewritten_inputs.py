"""The same expression written another way, for the confluence tests: its commutative
operations shuffled (:func:`reorder`) or its variables renamed (:func:`rename`, undone in an
answer by :func:`rename_back`).

Moved out of ``ricci.testing`` (issue 16, Tidy): ricci's own testing machinery
(``tests/test_confluence.py``), not something users import.  Import it with ``tools/`` on
``sys.path``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ricci.language.expression import Expression


def reorder(expr: "Expression", rng) -> str:
    """``expr``'s text with its commutative operations shuffled: the terms of every sum (a
    difference's terms keep their signs: ``a - b`` may become ``-b + a``), the operands of every
    ``.*`` and of every product with a scalar side, at random (``rng``: a
    ``numpy.random.Generator``).  The value is the same for every value of the variables."""
    from ricci.printing.text import to_text

    return to_text(_reorder(expr, expr.tree, rng))


def _reorder(expr, node, rng):
    from ricci.language import ast as A

    def again(n):
        return _reorder(expr, n, rng)

    match node:
        case A.BinOp(op="+" | "-"):
            terms = []
            _signed_terms(node, 1, terms)
            terms = [(s, again(t)) for s, t in terms]
            order = rng.permutation(len(terms))
            out = None
            for k in order:
                s, t = terms[k]
                if out is None:
                    out = t if s > 0 else A.Neg(t)
                else:
                    out = A.BinOp("+" if s > 0 else "-", out, t)
            return out
        case A.BinOp(op=".*", left=left, right=right):
            left, right = again(left), again(right)
            return A.BinOp(".*", right, left) if rng.random() < 0.5 else A.BinOp(".*", left, right)
        case A.BinOp(op="*", left=left, right=right):
            scalar = expr.type_of(node.left).is_scalar or expr.type_of(node.right).is_scalar
            left, right = again(left), again(right)
            if scalar and rng.random() < 0.5:
                return A.BinOp("*", right, left)
            return A.BinOp("*", left, right)
        case A.Where(body=body, bindings=bs):
            return A.Where(again(body), tuple((n, again(e)) for n, e in bs))
    return A.map_children(node, again)


def _signed_terms(node, sign, out):
    from ricci.language import ast as A

    if isinstance(node, A.BinOp) and node.op in ("+", "-"):
        _signed_terms(node.left, sign, out)
        _signed_terms(node.right, sign if node.op == "+" else -sign, out)
    else:
        out.append((sign, node))


#: Names :func:`rename` gives, in an order unrelated to the names they replace.
_NEW_NAMES = ("qz", "qa", "qm", "qc", "qx", "qe", "qt", "qb", "qr", "qk", "qg", "qw", "qd", "qs")


def rename(expr: "Expression", rng) -> tuple[str, dict, dict]:
    """``expr``'s text with its variables renamed at random.  Returns (text, kinds, names):
    every kind declared (the new names would mean other kinds by the naming rule), and
    ``names`` old → new.  :func:`rename_back` undoes it in an answer's text."""
    from ricci.printing.text import to_text

    old = list(expr.variables)
    new = list(rng.permutation(_NEW_NAMES[: max(len(old), 1)]))[: len(old)] if old else []
    names = dict(zip(old, (str(n) for n in new)))
    text = to_text(_rename_tree(expr.tree, names))
    kinds = {names[n]: v.kind for n, v in expr.variables.items()}
    return text, kinds, names


def _rename_tree(node, names):
    from ricci.language import ast as A

    def again(n):
        return _rename_tree(n, names)

    match node:
        case A.Name(name=n):
            return A.Name(names.get(n, n))
        case A.Where(body=body, bindings=bs):
            return A.Where(again(body), tuple((n, again(e)) for n, e in bs))
    return A.map_children(node, again)


def rename_back(text: str, names: dict) -> str:
    """Undo :func:`rename` in a text (an answer, index notation included)."""
    import re

    back = {new: old for old, new in names.items()}
    if not back:
        return text
    # a name ends where a word does, or at the "_" of an index subscript (qz_ij, qz_(a1,b1))
    pattern = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, back)) + r")(?![A-Za-z0-9])")
    return pattern.sub(lambda m: back[m.group(1)], text)
