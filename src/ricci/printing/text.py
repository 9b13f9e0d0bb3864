"""Matrix AST → canonical text in the input language (parses back to an equal AST).

Parentheses are exactly those the precedence table needs (see ``grammar.lark``), plus a few
for readability that do not change the tree (``a*(-b)``, ``x^(-1)``).
"""

from __future__ import annotations

from ..language import ast as A

# Precedence levels, loosest first.
WHERE, SUM, PRODUCT, UNARY, POWER, POSTFIX, ATOM = range(7)
_LEVEL = {"+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT, ".*": PRODUCT, "./": PRODUCT,
          "^": POWER, ".^": POWER}


def format_number(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def level(node: A.Expr) -> int:
    match node:
        case A.Num(value=v):
            return UNARY if v < 0 else ATOM
        case A.Name() | A.Call() | A.Literal():
            return ATOM
        case A.Transpose():
            return POSTFIX
        case A.Neg():
            return UNARY
        case A.BinOp(op=op):
            return _LEVEL[op]
        case A.Where():
            return WHERE
    raise TypeError(node)


def _wrap(node: A.Expr, ok: bool, memo: dict | None = None) -> str:
    s = to_text(node, memo)
    return s if ok else f"({s})"


def to_text(node: A.Expr, memo: dict | None = None) -> str:
    """The canonical text of an AST.  ``memo`` (id → (node, text), kept by the caller across
    calls) lets a caller that prints many trees sharing subtrees print each subtree once: the
    display's sums printed every term whole, and a nested answer's terms share their levels
    (issue 21).  The node is kept with its text, so an id is never another node's."""
    if memo is not None:
        got = memo.get(id(node))
        if got is not None and got[0] is node:
            return got[1]
        text = _text(node, memo)
        memo[id(node)] = (node, text)
        return text
    return _text(node, None)


#: the level of a node of these types, whatever its fields (a BinOp's is its operator's, a
#: number's its sign's: :func:`level`)
_TYPE_LEVEL = {A.Name: ATOM, A.Call: ATOM, A.Literal: ATOM, A.Transpose: POSTFIX, A.Neg: UNARY, A.Where: WHERE}
_ELEMENTWISE = (".*", "./")


def _text(node: A.Expr, memo: dict | None) -> str:
    # The common cases by their exact type, a child's text and level found inline rather than by
    # a call each (issue 21: printing a deep answer made eight Python calls a node); the match
    # below is every case, subclasses (a pending chain) and the rarer nodes included.
    t = type(node)
    if t is A.Name:
        return node.name
    if t is A.BinOp:
        op, l, r = node.op, node.left, node.right
        p = _LEVEL[op]
        # a name's or a number's text and level read here, without a call (issue 21: each
        # level of a deep answer's 1 - t.^2 made three calls for its 1 and its 2)
        tl, tr = type(l), type(r)
        if tl is A.Name:
            left, ll = l.name, ATOM
        elif tl is A.Num:
            v = l.value
            a = -v if v < 0 else v  # format_number inline
            left = str(int(a)) if a == int(a) and abs(a) < 1e15 else repr(float(a))
            left, ll = ("-" + left, UNARY) if v < 0 else (left, ATOM)
        else:
            left = _text(l, None) if memo is None else to_text(l, memo)
            ll = _LEVEL[l.op] if tl is A.BinOp else _TYPE_LEVEL.get(tl)
            if ll is None:
                ll = level(l)
        if tr is A.Name:
            right, lr = r.name, ATOM
        elif tr is A.Num:
            v = r.value
            a = -v if v < 0 else v
            right = str(int(a)) if a == int(a) and abs(a) < 1e15 else repr(float(a))
            right, lr = ("-" + right, UNARY) if v < 0 else (right, ATOM)
        else:
            right = _text(r, None) if memo is None else to_text(r, memo)
            lr = _LEVEL[r.op] if tr is A.BinOp else _TYPE_LEVEL.get(tr)
            if lr is None:
                lr = level(r)
        if p == POWER:
            if ll < POWER:
                left = f"({left})"
            if lr < POSTFIX:
                right = f"({right})"
            return f"{left}{op}{right}"
        # A product mixing * with .* or ./ is unreadable unparenthesised (a.*v*x' is
        # (a.*v)*x'): the elementwise side gets parentheses, which change nothing.
        if not (ll >= p and not (p == PRODUCT and isinstance(l, A.BinOp) and _LEVEL[l.op] == PRODUCT
                                 and (l.op in _ELEMENTWISE) != (op in _ELEMENTWISE))):
            left = f"({left})"
        if not (lr > p and lr != UNARY):
            right = f"({right})"
        if p == SUM:
            return f"{left} {op} {right}"
        return f"{left}{op}{right}"
    if t is A.Call:
        args = node.args
        if len(args) == 1:  # (most calls: a name's text inline, no list by a comprehension)
            a = args[0]
            inner = a.name if type(a) is A.Name else _text(a, None) if memo is None else to_text(a, memo)
            return f"{node.func}({inner})"
        if memo is None:
            return f"{node.func}({', '.join([_text(a, None) for a in args])})"
        return f"{node.func}({', '.join([to_text(a, memo) for a in args])})"
    if t is A.Transpose or t is A.Neg:
        a = node.arg
        ta = type(a)
        if ta is A.Name:
            inner, la = a.name, ATOM
        else:
            inner = _text(a, None) if memo is None else to_text(a, memo)
            la = _LEVEL[a.op] if ta is A.BinOp else _TYPE_LEVEL.get(ta)
            if la is None:
                la = level(a)
        if t is A.Transpose:
            return (inner if la >= POSTFIX else f"({inner})") + "'"
        return "-" + (inner if la > UNARY else f"({inner})")
    match node:
        case A.Num(value=v):
            return "-" + format_number(-v) if v < 0 else format_number(v)
        case A.Name(name=n):
            return n
        case A.Call(func=f, args=args):
            return f"{f}({', '.join(to_text(a, memo) for a in args)})"
        case A.Literal(rows=rows):
            return "[" + "; ".join(", ".join(to_text(e, memo) for e in row) for row in rows) + "]"
        case A.Transpose(arg=a):
            return _wrap(a, level(a) >= POSTFIX, memo) + "'"
        case A.Neg(arg=a):
            return "-" + _wrap(a, level(a) > UNARY, memo)
        case A.BinOp(op=op, left=l, right=r):
            p = _LEVEL[op]
            if p == POWER:
                left = _wrap(l, level(l) >= POWER, memo)
                right = _wrap(r, level(r) >= POSTFIX, memo)
                return f"{left}{op}{right}"
            mixed = lambda x: isinstance(x, A.BinOp) and _LEVEL[x.op] == PRODUCT and (  # noqa: E731
                (x.op in _ELEMENTWISE) != (op in _ELEMENTWISE))
            left = _wrap(l, level(l) >= p and not (p == PRODUCT and mixed(l)), memo)
            right = _wrap(r, level(r) > p and level(r) != UNARY, memo)
            if p == SUM:
                return f"{left} {op} {right}"
            return f"{left}{op}{right}"
        case A.Where(body=b, bindings=bs):
            binds = ", ".join(f"{n} = {_wrap(e, level(e) > WHERE, memo)}" for n, e in bs)
            return f"{_wrap(b, level(b) > WHERE, memo)} where {binds}"
    raise TypeError(node)
