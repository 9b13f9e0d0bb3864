"""Names for the repeated subterms of index notation (issue 21): ``… t^-3 … where t =
sum(exp(x))``, as the matrix notation names its repeats (:mod:`ricci.simplify.naming`'s
mnemonic letters, handed down with :mod:`ricci.simplify.index_compact`).

The printer (:mod:`ricci.printing.index`) writes a long answer once to count the subterms that
have a matrix form, by their matrix text; here the names that shorten the text are chosen, those
written only once are dropped, and the bindings are written with the earlier names inside the
later ones.
"""

from __future__ import annotations

from ..language import ast as A
from .latex import ast_to_latex, name_latex
from .text import to_text

#: An answer shorter than this is written out: naming its repeats would make it no easier to read
NAMING_FROM = 240


def _names_for(p, once_plain, once_full, avoid: set, forms) -> tuple[bool, dict]:
    """Whether the answer is long, and {matrix text: name} for its repeated subterms."""
    names0 = dict(p.names)
    p.naming, p.counting = {}, False
    first = once_plain()
    p.names = dict(names0)
    if len(first) < NAMING_FROM:
        return False, {}
    p.counting, p.seen = True, {}
    once_full()
    p.counting = False
    chosen = _choose_names(p, avoid, forms())
    for _ in range(3):  # a name written once (all its uses inside a longer named one) is dropped
        if not chosen:
            break
        p.names, p.naming, p.uses = dict(names0), chosen, {}
        once_full()
        _bindings(p, chosen)
        once_used = {n for n in chosen.values() if p.uses.get(n, 0) < 2}
        if not once_used:
            break
        chosen = {k: n for k, n in chosen.items() if n not in once_used}
    p.names, p.uses = names0, {}
    return True, chosen


def _choose_names(p, avoid: set, forms) -> dict:
    """{matrix text: name} for the subterms whose names shorten the text: k occurrences of a
    text of length n (as written in indices) named by l characters pay when k·(n − l) exceeds
    the binding ``name = matrix text``."""
    avoid = set(p.taken) | p.used_ix | avoid
    avoid |= {str(dm) for v in p.d.expression.variables.values() for dm in v.dims}
    chosen: dict = {}
    # the shortest first: the inner ones get the first names (s, s2, s3 from the inside out)
    for key, (k, shown, ast, nidx) in sorted(p.seen.items(), key=lambda kv: (len(kv[0]), kv[0])):
        if k < 2:
            continue
        try:
            letter = p.compact.mnemonic(forms, ast) if p.compact is not None else None
        except Exception:  # a form the types cannot read: a letter of our own
            letter = None
        name = _fresh_name(letter, avoid)
        width = len(name) + (nidx * 2 + 1 if nidx else 0)
        if k * (shown - width) > len(name) + 3 + len(key):
            chosen[key] = name
            avoid.add(name)
    # names in order of their texts' length: the inner ones first, as the bindings read
    order = sorted(chosen, key=lambda t: (len(t), t))
    return {t: chosen[t] for t in order}


def _fresh_name(letter: str | None, avoid: set) -> str:
    """The function's initial, numbered from 2 when taken (s, s2, s3: the matrix notation's
    way), else a letter no index and no variable uses."""
    stems = [letter] if letter else ["t", "y", "z", "m", "o"]
    for stem in stems:
        if stem not in avoid:
            return stem
    return next(f"{stems[0]}{k}" for k in range(2, 999) if f"{stems[0]}{k}" not in avoid)


def _bindings(p, chosen: dict) -> list[str]:
    """``name = matrix text`` for each name, the names already given used inside later ones."""
    out = []
    done: dict = {}
    for key, name in chosen.items():
        ast = p.seen[key][2]

        def sub(t):
            txt = to_text(t)
            if txt in done:
                p.uses[done[txt]] = p.uses.get(done[txt], 0) + 1
                return A.Name(done[txt])
            return A.map_children(t, sub)

        named = A.map_children(ast, sub)
        out.append(f"{name_latex(name)} = {ast_to_latex(named)}" if p.latex else f"{name} = {to_text(named)}")
        done[key] = name
    return out
