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


def _text(node: A.Expr, memo: dict | None) -> str:
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
            # A product mixing * with .* or ./ is unreadable unparenthesised (a.*v*x' is
            # (a.*v)*x'): the elementwise side gets parentheses, which change nothing.
            mixed = lambda x: isinstance(x, A.BinOp) and _LEVEL[x.op] == PRODUCT and (  # noqa: E731
                (x.op in (".*", "./")) != (op in (".*", "./")))
            left = _wrap(l, level(l) >= p and not (p == PRODUCT and mixed(l)), memo)
            right = _wrap(r, level(r) > p and level(r) != UNARY, memo)
            if p == SUM:
                return f"{left} {op} {right}"
            return f"{left}{op}{right}"
        case A.Where(body=b, bindings=bs):
            binds = ", ".join(f"{n} = {_wrap(e, level(e) > WHERE, memo)}" for n, e in bs)
            return f"{_wrap(b, level(b) > WHERE, memo)} where {binds}"
    raise TypeError(node)
