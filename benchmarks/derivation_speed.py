"""Derivation speed: every lecture and Cookbook test expression, ricci vs SymPy.

Run by hand: ``python benchmarks/derivation_speed.py``.  Collects the (expression, wrt, order,
kinds) of tests/test_lecture.py and tests/test_cookbook.py by running them with the checking
function replaced by a recorder, then times ``ricci.derivative(...)`` plus ``d.text`` (parse,
differentiate, simplify, raise, print: the whole pipeline, each derivation from a fresh parse)
and, where the expression is in SymPy's reach (products, sums, transposes, traces, inverses,
determinants of MatrixSymbols, first order), SymPy's ``MatrixExpr.diff`` on the same
expression.  Prints medians (issue 3, acceptance 5: target under 10 ms per derivative).
"""

from __future__ import annotations

import pathlib
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import ricci  # noqa: E402
from ricci.language import ast as A  # noqa: E402


def collect() -> list[tuple]:
    import helpers

    cases = []

    def record(expression, wrt, *args, order=1, kinds=None, **kw):
        cases.append((expression, wrt, order, kinds))

        class R:  # what tests read back from the checker
            d = ricci.derivative(expression, wrt, order, kinds)
            book_matches = False
            values = {}

        return R

    helpers.check_derivative = record
    import test_cookbook
    import test_lecture

    test_cookbook.check_derivative = record
    test_lecture.check_derivative = record
    for mod in (test_lecture, test_cookbook):
        for name, fn in vars(mod).items():
            if name.startswith("test_") and callable(fn):
                try:
                    fn()
                except Exception:  # noqa: BLE001 - tests that read more than we record
                    pass
    seen, out = set(), []
    for c in cases:
        key = (c[0], str(c[1]), c[2], str(c[3]))
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def time_ricci(case, repeat=5) -> float:
    expression, wrt, order, kinds = case
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        d = ricci.derivative(expression, wrt, order, kinds)
        d.text
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


class NoSympy(Exception):
    pass


def to_sympy(case):
    """The expression as a SymPy matrix expression, or NoSympy."""
    import sympy as sp

    expression, wrt, order, kinds = case
    if order != 1 or not isinstance(wrt, str):
        raise NoSympy
    e = ricci.parse(expression, kinds)
    syms = {}
    dims = {}

    def dim(d):
        return d if isinstance(d, int) else dims.setdefault(d, sp.Symbol(str(d), integer=True, positive=True))

    for n, v in e.variables.items():
        if v.kind == "scalar":
            syms[n] = sp.Symbol(n)
        elif v.kind == "vector":
            syms[n] = sp.MatrixSymbol(n, dim(v.dims[0]), 1)
        else:
            syms[n] = sp.MatrixSymbol(n, dim(v.dims[0]), dim(v.dims[1]))

    def go(node):
        match node:
            case A.Num(value=v):
                return sp.Integer(int(v)) if v == int(v) else sp.Float(v)
            case A.Name(name=n):
                if n in syms:
                    return syms[n]
                raise NoSympy
            case A.Neg(arg=a):
                return -go(a)
            case A.Transpose(arg=a):
                x = go(a)
                return x.T if hasattr(x, "T") and not isinstance(x, sp.Symbol) else x
            case A.BinOp(op=op, left=l, right=r):
                a, b = go(l), go(r)
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
                if op == "/":
                    return a / b
                if op == "^" and not hasattr(a, "shape"):
                    return a ** b
                raise NoSympy
            case A.Call(func=f, args=(a,)):
                x = go(a)
                if f == "tr":
                    return sp.Trace(x)
                if f == "det":
                    return sp.Determinant(x)
                if f == "inv":
                    return sp.Inverse(x)
                if f == "logdet":
                    return sp.log(sp.Determinant(x))
                raise NoSympy
        raise NoSympy

    f = go(e.tree)
    return f, syms[wrt]


def time_sympy(case, repeat=3):
    try:
        f, x = to_sympy(case)
    except NoSympy:
        return None
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            f.diff(x)
        except Exception:  # noqa: BLE001 - SymPy cannot do this one
            return None
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    cases = collect()
    ours = [time_ricci(c) for c in cases]
    print(f"{len(cases)} derivations (lecture + Cookbook tests)")
    print(f"ricci: median {statistics.median(ours) * 1e3:.2f} ms, "
          f"90th percentile {sorted(ours)[int(0.9 * len(ours))] * 1e3:.2f} ms, max {max(ours) * 1e3:.1f} ms")
    try:
        import sympy  # noqa: F401
    except ImportError:
        print("SymPy is not installed: pip install sympy")
        return
    pairs = []
    for c, t in zip(cases, ours):
        s = time_sympy(c)
        if s is not None:
            pairs.append((c, t, s))
    if pairs:
        rt = statistics.median(t for _, t, _ in pairs)
        st = statistics.median(s for _, _, s in pairs)
        print(f"on the {len(pairs)} that SymPy's MatrixSymbol.diff can do: ricci median {rt * 1e3:.2f} ms, "
              f"SymPy median {st * 1e3:.2f} ms (diff only, no printing)")


if __name__ == "__main__":
    main()
