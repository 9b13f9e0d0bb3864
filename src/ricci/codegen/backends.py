"""How each backend spells the plan's operations: NumPy, JAX, PyTorch and the array API.

A printer turns one plan node, given its arguments' code, into Python: an *expression* with a
precedence (so that parentheses are exactly the needed ones), or, for the few operations that
write into a buffer (a diagonal added in place, a scatter onto the diagonals of a tensor), a
few *statements*.  The backends differ only in spelling and in what they can do in place:
NumPy and PyTorch write into fresh buffers, JAX uses ``.at[...].add``, and the array API (which
has neither in-place updates that every library honours nor ``einsum``) multiplies by an
identity matrix where a diagonal must be written, the one place where it materialises δ.
"""

from __future__ import annotations

import math
import string

from ..functions import lookup

# Python operator precedence, for printing with the fewest parentheses.
ATOM, POW, UNARY, MUL, ADD, CMP = 100, 90, 80, 70, 60, 50
#: a conditional expression (a if c else b), below every operator
COND = 10


class Code:
    """A piece of Python: text and the precedence of its outermost operator."""

    __slots__ = ("prec", "text")

    def __init__(self, text: str, prec: int = ATOM):
        self.text = text
        self.prec = prec

    def at(self, prec: int) -> str:
        """The text, parenthesised unless it binds at least as tightly as ``prec``."""
        return self.text if self.prec >= prec else f"({self.text})"


def number(v: float) -> Code:
    if math.isnan(v):
        return Code('float("nan")')
    if v in (float("inf"), float("-inf")):
        return Code('float("inf")' if v > 0 else '-float("inf")', ATOM if v > 0 else UNARY)
    text = str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))
    return Code(text, UNARY if v < 0 else ATOM)


def axes_index(pattern: tuple) -> str:
    """The subscript that keeps an axis (:) or inserts one (None) per entry of ``pattern``."""
    return "[" + ", ".join(":" if keep else "None" for keep in pattern) + "]"


def advanced_layout(pattern: tuple) -> tuple[list, list]:
    """For an out pattern of group ids (a group seen twice is a δ): which groups are indexed
    by integer arrays, and the order of groups in NumPy's result of that indexing."""
    counts: dict = {}
    for g in pattern:
        counts[g] = counts.get(g, 0) + 1
    adv = list(dict.fromkeys(g for g in pattern if counts[g] > 1))
    positions = [k for k, g in enumerate(pattern) if counts[g] > 1]
    slices = [g for g in pattern if counts[g] == 1]
    contiguous = positions == list(range(positions[0], positions[-1] + 1)) if positions else True
    if not adv:
        return [], list(pattern)
    if contiguous:  # NumPy puts the advanced dimensions where the first advanced index is
        before = [g for k, g in enumerate(pattern) if k < positions[0]]
        after = [g for k, g in enumerate(pattern) if k > positions[-1]]
        return adv, before + adv + after
    return adv, adv + slices


class Printer:
    """The NumPy spelling; the other backends override what differs."""

    name = "numpy"
    module = "np"
    imports = ("import numpy as np",)
    # the piece of code and the precedences, for the function table's code recipes
    # (ricci.functions sits below codegen and imports nothing of it)
    Code = Code
    ATOM, POW, UNARY, MUL, ADD = ATOM, POW, UNARY, MUL, ADD
    #: whether the plan may use einsum (the array API has none)
    einsum = True
    #: whether the returned scalar is a Python float (only NumPy's is)
    float_scalars = True

    def __init__(self, module_alias: str | None = None):
        if module_alias:
            self.module = module_alias
        self.dtype_ref: str | None = None  # a variable whose dtype/device constants take
        # imports a function's recipe asks for (math for NumPy's erf), added to the module's
        self.extra_imports: list[str] = []

    # -- helpers ------------------------------------------------------------------------------------
    def m(self, name: str) -> str:
        return f"{self.module}.{name}"

    def outer(self, a: Code, b: Code) -> Code:
        # NumPy's einsum has a kernel for the outer product that writes the n×m result 2.4 times
        # as fast as np.outer or a[:, None] * b (2.8 ms against 6.7 ms at n = m = 2000 on one
        # core here: benchmarks/RESULTS.md); the other backends fuse or dispatch theirs well.
        if self.name == "numpy":
            return self.call(self.m("einsum"), '"i,j->ij"', a.text, b.text)
        return self.call(self.m("outer"), a.text, b.text)

    def call(self, fn: str, *args: str) -> Code:
        return Code(f"{fn}({', '.join(args)})")

    def shape_text(self, shape: tuple, dims: dict) -> str:
        for d in shape:  # a constant sized where it stands, whose size no variable gives (vector(a) alone)
            if not isinstance(d, int) and d not in dims:
                self.refuse(f"the size of dimension {d} is not fixed by any variable, so the generated function "
                            "could not know it; add a variable of that size")
        parts = [str(d) if isinstance(d, int) else dims[d] for d in shape]
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"

    def dtype_kw(self) -> str:
        return ""

    def refuse(self, message: str):
        """A recipe's function has no spelling in this backend (erf in the array API): the
        CodegenError that says so, in ``message``'s words."""
        from .from_matrix import CodegenError  # the printer's error, beside it in codegen

        raise CodegenError(message)

    def need_import(self, line: str) -> None:
        """A recipe's code needs ``line`` (``import math``) at the top of the module."""
        if line not in self.extra_imports:
            self.extra_imports.append(line)

    def import_lines(self) -> list[str]:
        lines = list(self.imports) + [ln for ln in self.extra_imports if ln not in self.imports]
        if self.module != type(self).module:
            lines = [ln.replace(f" as {type(self).module}", f" as {self.module}") for ln in lines]
        return lines

    # -- elementwise functions --------------------------------------------------------------------
    def func(self, name: str, a: Code, *more: Code) -> Code:
        """``name`` applied to ``a`` (and ``more``: a Fréchet derivative's direction), as the
        function table spells it in this backend (``Function.code``: a function of the
        namespace, or a recipe given this printer)."""
        spelling = lookup(name).code_for(self.name)
        if callable(spelling):
            return spelling(self, a, *more)
        return self.call(self.m(spelling), a.text)

    # -- one operation as an expression -----------------------------------------------------------
    def expr(self, op, args: list[Code], dims: dict) -> Code:
        k = op.kind
        m = self.m
        if k == "add":
            return Code(f"{args[0].at(ADD)} + {args[1].at(MUL)}", ADD)
        if k == "sub":
            return Code(f"{args[0].at(ADD)} - {args[1].at(MUL)}", ADD)
        if k in ("mul", "div", "matmul"):
            # ``*`` and ``@`` bind alike in Python; a mix of them is parenthesised for the reader
            mixed = ("matmul",) if k != "matmul" else ("mul", "div")
            left = args[0].at(MUL) if op.args[0].kind not in mixed else args[0].at(UNARY)
            sym = {"mul": "*", "div": "/", "matmul": "@"}[k]
            return Code(f"{left} {sym} {args[1].at(UNARY)}", MUL)
        if k == "pow":
            return Code(f"{args[0].at(ATOM)} ** {args[1].at(UNARY)}", POW)
        if k == "neg":
            return Code(f"-{args[0].at(UNARY)}", UNARY)
        if k == "one_or":  # Plan.one_or: e in [0, 1], so that max(e, 1) is 1 and max(e, 0) is e
            return self.one_or(args[0], op.attrs[0], args[1])
        if k == "exp_minus":  # exp(x - c), c = Plan.shift(x): a name (shift_lines)
            return self.exp_minus(args[0], args[1])
        if k == "func":
            return self.func(op.attrs[0], *args)  # expm_frechet(X, E) has two
        if k == "T":
            return Code(f"{args[0].at(ATOM)}.T")
        if k == "expand":
            return Code(f"{args[0].at(ATOM)}{axes_index(op.attrs[0])}")
        if k == "num":
            return number(op.attrs[0])
        if k == "sum":
            axis = op.attrs[0]
            return self.sum(args[0], axis)
        if k == "sumsq":
            return self.sumsq(op.args[0], args[0])
        if k == "outer":
            return self.outer(args[0], args[1])
        if k == "full":
            return self.full(op, args[0], dims)
        if k == "diag":
            return self.diag(op, args[0], dims)
        if k == "diagonal":
            return self.diagonal(op, args[0])
        if k == "trace":
            return self.call(m("trace"), args[0].text)
        if k == "inv":
            return self.call(m("linalg.inv"), args[0].text)
        if k == "solve":  # inv(A) @ b as a solve (Plan.solve)
            return self.call(m("linalg.solve"), args[0].text, args[1].text)
        if k == "det":
            return self.call(m("linalg.det"), args[0].text)
        if k == "einsum":
            return self.einsum_code(op, args)
        if k == "tensordot":
            a_axes, b_axes = op.attrs[0]
            return self.call(m("tensordot"), args[0].text, args[1].text, f"axes=({a_axes}, {b_axes})")
        if k == "permute":
            return self.permute(args[0], op.attrs[0])
        if k == "reshape":
            return self.reshape(args[0], self.shape_text(op.shape, dims))
        if k == "stack":
            return self.stack(op, args, dims)
        if k == "stackn":
            return self.stackn(op, args, dims)
        raise KeyError(k)

    def one_or(self, x: Code, cmp: str, e: Code) -> Code:
        return self.call(self.m("maximum"), e.text, f"{x.at(ADD)} {cmp} 0")

    def softplus_lines(self, out: dict, e: str, v: str, x: Code, base: Code, negated: bool,
                       scalar: bool) -> list[str]:
        """softplus(x) ("sp"), its sum ("sp_sum"), sigmoid(x) ("sig") and sigmoid(-x) ("sig_neg")
        into the names ``out``
        gives, with one exp and one log (NumPy; from_matrix's _elementwise).  Where x ≤ 88
        throughout (exp(88) = 1.7e38 is finite in float32 too) the naive e = exp(x), v = 1 + e:
        sigmoid(x) = e/v is exact, and softplus(x) = log(v) + r/v, r = e - (v - 1) the rounding
        error of 1 + e (v - 1 is exact for v below 2^53, and r then too: beyond, r/v is below
        2^-53 of log(v) > 36); the sum of log(v) alone is within m·2^-53 of the sum of softplus
        (m entries, each |r|/v ≤ 2^-53), 2^-51 of it relatively where it is at least m/4, the
        rounding of the sum itself: only below that are the corrections added.  Elsewhere the
        stable e = exp(-|x|): softplus(x) = relu(x) + log(v) + r, sigmoid(x) = max(e, x ≥ 0)/v.
        The naive side costs what log(1 + exp(x)) and exp(x)/(1 + exp(x)) cost, plus max(x)
        (benchmarks/RESULTS.md); ``negated``: x is -base, whose min is read (no negation);
        ``scalar``: x is a scalar, perhaps a Python float (compared as it is)."""
        m = self.m
        # initial=: an empty x (no data) takes the naive side, which gives its sum, 0
        low, high = (f"{base.at(ADD)}", f"{x.at(ADD)}") if scalar else (
            f"{base.at(ATOM)}.min(initial={m('inf')})", f"{x.at(ATOM)}.max(initial=-{m('inf')})")
        fits = f"{low} >= -88" if negated else f"{high} <= 88"
        r = f"({e} - ({v} - 1))"
        lines = [f"if {fits}:", f"    {e} = {m('exp')}({x.text})", f"    {v} = 1 + {e}"]
        if "sp" in out:
            lines.append(f"    {out['sp']} = {m('log')}({v}) + {r} / {v}")
        if "sp_sum" in out:
            s = out["sp_sum"]
            lines += [f"    {s} = {m('log')}({v}).sum()", f"    if {s} < {e}.size / 4:",
                      f"        {s} += ({r} / {v}).sum()"]
        if "sig" in out:
            lines.append(f"    {out['sig']} = {e} / {v}")
        if "sig_neg" in out:  # sigmoid(-x) = 1/(1 + exp(x))
            lines.append(f"    {out['sig_neg']} = 1 / {v}")
        lines += ["else:", f"    {e} = {m('exp')}(-{m('abs')}({base.text}))", f"    {v} = 1 + {e}"]
        stable = f"{m('maximum')}({x.text}, 0) + {m('log')}({v}) + {r}"
        if "sp" in out:
            lines.append(f"    {out['sp']} = {stable}")
        if "sp_sum" in out:
            lines.append(f"    {out['sp_sum']} = {out['sp']}.sum()" if "sp" in out else f"    {out['sp_sum']} = ({stable}).sum()")
        if "sig" in out:
            numerator = self.one_or(base, "<=", Code(e)) if negated else self.one_or(x, ">=", Code(e))
            lines.append(f"    {out['sig']} = {numerator.text} / {v}")
        if "sig_neg" in out:
            numerator = self.one_or(base, ">=", Code(e)) if negated else self.one_or(x, "<=", Code(e))
            lines.append(f"    {out['sig_neg']} = {numerator.text} / {v}")
        return lines

    def shift_lines(self, target: str, x: Code) -> list[str]:
        """c = max(x) into ``target``, and 0 in its place where 0 ≤ c ≤ 60 (NumPy: a branch on
        a scalar costs nothing beside the subtraction it saves; the other backends always
        shift: XLA fuses x - c into the exp, and a branch on a device's scalar waits for it).
        There exp(x) cannot overflow (the sum of n entries is below n·1.2e26: float32 holds
        3.4e38), and an entry whose exp underflows has a softmax below its exp (the sum is at
        least exp(c) ≥ 1), which the shifted exp could not hold either: as exact as the shift."""
        if self.name != "numpy":
            return [f"{target} = {self.func('max', x).text}"]
        return [f"{target} = {x.at(ATOM)}.max()", f"if 0 <= {target} <= 60:", f"    {target} = 0.0"]

    def exp_minus(self, x: Code, c: Code) -> Code:
        shifted = self.call(self.m("exp"), f"{x.at(ADD)} - {c.at(MUL)}")
        if self.name != "numpy":
            return shifted
        return Code(f"{shifted.text} if {c.text} else {self.m('exp')}({x.text})", COND)

    def sum(self, a: Code, axis) -> Code:
        # NumPy: the array's own method, a microsecond of Python cheaper than np.sum's dispatch
        # (a fifth of a softmax over 2000 entries: benchmarks/RESULTS.md)
        if self.name == "numpy":
            return Code(f"{a.at(ATOM)}.sum()" if axis is None else f"{a.at(ATOM)}.sum(axis={axis})")
        if axis is None:
            return self.call(self.m("sum"), a.text)
        return self.call(self.m("sum"), a.text, f"axis={axis}")

    def sumsq(self, op, a: Code) -> Code:
        if op.ndim == 1:
            return Code(f"{a.at(MUL)} @ {a.at(UNARY)}", MUL)
        return self.call(self.m("vdot"), a.text, a.text)

    def full(self, op, v: Code, dims) -> Code:
        if op.args[0].kind == "num":
            if op.args[0].attrs[0] == 0.0:
                return self.call(self.m("zeros"), self.shape_text(op.shape, dims) + self.dtype_kw())
            v = Code(repr(float(op.args[0].attrs[0])), v.prec)
        return self.call(self.m("full"), self.shape_text(op.shape, dims), v.text + self.dtype_kw())

    def eye(self, n: str) -> Code:
        return self.call(self.m("eye"), n)

    def diag(self, op, v: Code, dims) -> Code:
        n = self.shape_text((op.attrs[0],), dims)[1:-2]
        if op.args[0].ndim == 1:
            return self.call(self.m("diag"), v.text)
        eye = self.eye(n)
        if op.args[0].kind == "num" and op.args[0].attrs[0] == 1.0:
            return eye
        return Code(f"{v.at(MUL)} * {eye.text}", MUL)

    def diagonal(self, op, a: Code) -> Code:
        if op.args[0].ndim == 2:
            return self.call(self.m("diagonal"), a.text)
        return self.call(self.m("diagonal"), a.text, "axis1=-2", "axis2=-1")

    def einsum_code(self, op, args: list[Code]) -> Code:
        spec = op.attrs[0]
        # NumPy contracts pairwise with BLAS only when asked; JAX and PyTorch always optimise
        wanted = len(args) > 2 or (len(args) == 2 and self._contracts(spec))
        extra = ["optimize=True"] if wanted and self.name == "numpy" else []
        return self.call(self.m("einsum"), f'"{spec}"', *[a.text for a in args], *extra)

    @staticmethod
    def _contracts(spec: str) -> bool:
        ins, out = spec.split("->")
        return any(c not in out for c in ins.replace(",", ""))

    def permute(self, a: Code, perm: tuple) -> Code:
        return self.call(self.m("transpose"), a.text, str(perm))

    def reshape(self, a: Code, shape: str) -> Code:
        return Code(f"{a.at(ATOM)}.reshape{shape if shape.startswith('(') else '(' + shape + ')'}")

    def scalar_entry(self, op, a: Code) -> Code:
        if op.kind == "num":  # a float, so that the array is one of floats
            return Code(repr(float(op.attrs[0])), a.prec)
        return a

    def stack(self, op, args: list[Code], dims) -> Code:
        entries = [self.scalar_entry(o, a).text for o, a in zip(op.args, args)]
        if op.ndim == 1:
            return self.call(self.m("array"), "[" + ", ".join(entries) + "]")
        rows, cols = op.shape
        body = ", ".join("[" + ", ".join(entries[r * cols:(r + 1) * cols]) + "]" for r in range(rows))
        return self.call(self.m("array"), "[" + body + "]")

    def stackn(self, op, args: list[Code], dims) -> Code:
        st = self.call(self.m("stack"), "[" + ", ".join(a.text for a in args) + "]", "axis=-1")
        return self.reshape(st, self.shape_text(op.shape, dims))

    # -- statements ---------------------------------------------------------------------------------
    def zeros(self, shape: str) -> str:
        return f"{self.m('zeros')}({shape}{self.dtype_kw()})"

    def add_diag_lines(self, target: str, base: Code, base_fresh: bool, v: Code, n: str) -> list[str]:
        first = f"{target} = {base.text}" if base_fresh else f"{target} = {base.at(ATOM)}.copy()"
        return [first, f"{target}[{self.m('diag_indices')}({n})] += {v.text}"]

    def index_array(self, n: str) -> str:
        return f"{self.m('arange')}({n})"

    def scatter_lines(self, target: str, shape: str, entries: list, names) -> list[str]:
        """``entries``: (code, pattern, letters, dims of each group)."""
        lines = [f"{target} = {self.zeros(shape)}"]
        for e, (code, pattern, letters, gdims) in enumerate(entries):
            adv, layout = advanced_layout(pattern)
            if adv and self.name == "numpy":
                # A diagonal slab as a view, np.einsum("iij->ij", t)[...] = v: a strided write
                # into the zeros, 1.3-1.5 times as fast as t[r, r, :] = v, whose advanced
                # indexing gathers the positions first (the 3-D tanh(W*x) Jacobian by W).
                order = list(dict.fromkeys(pattern))
                sub = {g: string.ascii_lowercase[k] for k, g in enumerate(order)}
                spec = "".join(sub[g] for g in pattern) + "->" + "".join(sub[g] for g in order)
                view = f'{self.m("einsum")}("{spec}", {target})'
                value = self.align(code, letters, order)
                lines.append(f"{view}[...] {'=' if e == 0 else '+='} {value.text}")
                continue
            aligned = self.align(code, letters, layout)
            if not adv:
                lines.append(self.add_into(target, None, aligned, first=e == 0))
                continue
            arrays = {}
            for k, g in enumerate(adv):
                base = names.index_array(gdims[g], self)
                if len(adv) > 1:
                    base += axes_index(tuple(j == k for j in range(len(adv))))
                arrays[g] = base
            idx = ", ".join(arrays.get(g, ":") for g in pattern)
            lines.append(self.add_into(target, idx, aligned, first=e == 0))
        return lines

    def add_into(self, target: str, idx: str | None, value: Code, first: bool = False) -> str:
        """``target[idx] += value``; the first entry into the zeros is a plain assignment."""
        op = "=" if first else "+="
        return f"{target}[{idx if idx is not None else '...'}] {op} {value.text}"

    def align(self, code: Code, letters: tuple, layout: list) -> Code:
        """Permute and expand an entry whose axes are the groups ``letters`` to ``layout``."""
        present = [g for g in layout if g in letters]
        perm = tuple(letters.index(g) for g in present)
        if perm != tuple(range(len(perm))):
            code = self.permute(code, perm) if len(perm) > 2 else Code(f"{code.at(ATOM)}.T")
        pattern = tuple(g in letters for g in layout)
        while pattern and not pattern[0]:  # broadcasting adds leading axes by itself
            pattern = pattern[1:]
        if not all(pattern) and letters:
            code = Code(f"{code.at(ATOM)}{axes_index(pattern)}")
        return code

    def logdet_lines(self, target: str, sign: str, a: Code) -> list[str]:
        return [f"{sign}, {target} = {self.m('linalg.slogdet')}({a.text})",
                f"{target} = {target} if {sign} > 0 else {self.m('nan')}"]

    def sumsq_quiet(self, op, a: Code) -> Code:
        """Σ a² that says nothing where it overflows: NumPy's vdot (its ``@`` and dot warn
        'overflow encountered', which norm2_lines answers by scaling)."""
        if self.name == "numpy":
            return self.call(self.m("vdot"), a.text, a.text)
        return self.sumsq(op, a)

    def norm2_lines(self, target: str, op, x: Code, names) -> list[str]:
        """sqrt(Σ x²) into ``target``: one sum of squares s and its square root where s is
        finite and s*s does not underflow (s ≥ 1 is tested first, so that s*s never
        overflows); elsewhere x scaled by m = max |x| first, as hypot does.  Where s*s > 0 the
        squares that underflowed each add less than the smallest normal float to s (2.2e-308;
        1.2e-38 in float32) and s is at least sqrt of the smallest subnormal (2.2e-162;
        3.7e-23): n·1e-146 (n·3e-16) relatively, so that the fast side is as exact as the
        scaled one.  A Python branch on a scalar (NumPy, PyTorch eager) costs nothing beside
        the pass for max |x| that it saves."""
        m, y = names.fresh(), names.fresh()
        return [f"{target} = {self.sumsq_quiet(op, x).text}",
                f"if {target} < {self.m('inf')} and ({target} >= 1 or {target} * {target} > 0):",
                f"    {target} = {self.m('sqrt')}({target})",
                "else:",
                f"    {m} = {self.m('max')}({self.m('abs')}({x.text}))",
                f"    {y} = {x.at(MUL)} / {m} if {m} > 0 else {x.text}",
                f"    {target} = {m} * {self.m('sqrt')}({self.sumsq_quiet(op, Code(y)).text})"]

    # -- results ------------------------------------------------------------------------------------
    def scalar_result(self, code: Code) -> Code:
        return Code(f"float({code.text})")

    def copy(self, code: Code) -> Code:
        return Code(f"{code.at(ATOM)}.copy()")
