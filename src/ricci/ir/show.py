"""Index-notation text of IR nodes (debugging, and the fallback display for tensors)."""

from __future__ import annotations

from .nodes import Add, Delta, Elem, MatFun, Mul, Node, Num, Pow, Size, Stack, Var


def _ix(idx) -> str:
    return ",".join(i.name for i in idx)


def show(node: Node) -> str:
    match node:
        case Num():
            v = node.value
            return str(int(v)) if v == int(v) else repr(v)
        case Size():
            return str(node.dim)
        case Var():
            return f"{node.name}[{_ix(node.idx)}]" if node.idx else node.name
        case Delta():
            return f"δ[{node.i.name},{node.j.name}]"
        case Mul():
            inner = " ".join(_paren(f) for f in node.factors) or "1"
            summed = sorted({i.name for f in node.factors for i in f.free if i not in node.out})
            s = f"Σ_{','.join(summed)} " if summed else ""
            return f"({s}{inner})[{_ix(node.out)}]" if summed or not node.factors else inner
        case Add():
            return " + ".join(show(t) for t in node.terms)
        case Elem():
            return f"{node.func}({show(node.arg)})"
        case Pow():
            return f"{_paren(node.base)}^{_paren(node.exp)}"
        case MatFun():
            tail = f"[{_ix(node.out)}]" if node.out else ""
            return f"{node.func}({show(node.arg)})" + tail
        case Stack():
            return "[" + "; ".join(show(e) for e in node.entries) + f"][{_ix(node.axes)}]"
    return object.__repr__(node)


def _paren(n: Node) -> str:
    s = show(n)
    return f"({s})" if isinstance(n, Add) else s
