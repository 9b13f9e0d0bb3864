"""How JAX, PyTorch and the array API spell what NumPy's :class:`~.backends.Printer` spells
differently (codegen/backends.py has the printer itself and NumPy's spellings); ``BACKENDS``
names the four printers by the ``backend`` keyword of ``d.code`` and ``d.function``.

Apart from NumPy's because each is a short list of overrides read against the base printer,
and together they pushed backends.py past the 600 lines a module should stay under.
"""

from __future__ import annotations

from .backends import ADD, ATOM, MUL, UNARY, Code, Printer, axes_index

def scaled_norm_lines(printer: Printer, target: str, op, x: Code, names, divisor) -> list[str]:
    """sqrt(Σ x²) into ``target`` as m·sqrt(Σ (x/m)²) with m = max |x|, for the backends that
    always scale (JAX, the array API); ``divisor(m)`` spells m where m > 0 and 1 where m = 0
    (x = 0: the norm 0, not 0/0), each backend without a branch on the array."""
    m, y = names.fresh(), names.fresh()
    return [f"{m} = {printer.m('max')}({printer.m('abs')}({x.text}))",
            f"{y} = {x.at(MUL)} / {divisor(m)}",
            f"{target} = {m} * {printer.m('sqrt')}({printer.sumsq(op, Code(y)).text})"]


class ArrayScalars(Printer):
    """The printers whose scalars stay arrays (JAX's traced values, PyTorch's tensors on a device,
    a lazy array API namespace): no Python branch on a value and no float() of the result, so
    log det's sign is selected with ``where`` and a scalar result is returned as it is."""

    float_scalars = False

    def logdet_lines(self, target, sign, a):
        return [f"{sign}, {target} = {self.m('linalg.slogdet')}({a.text})",
                f"{target} = {self.m('where')}({sign} > 0, {target}, {self.m('nan')})"]

    def scalar_result(self, code):
        return code


class JaxPrinter(ArrayScalars):
    name = "jax"
    module = "jnp"
    imports = ("import jax.numpy as jnp",)

    def dtype_kw(self) -> str:
        return f", dtype={self.dtype_ref}.dtype" if self.dtype_ref else ""

    def eye(self, n):
        return self.call(self.m("eye"), n + self.dtype_kw())

    def add_diag_lines(self, target, base, base_fresh, v, n):
        # jnp.asarray: the base may be a NumPy array (-A - A.T of NumPy inputs), which has no .at
        return [f"{target} = {self.m('asarray')}({base.text}).at[{self.m('diag_indices')}({n})].add({v.text})"]

    def add_into(self, target, idx, value, first=False):
        if idx is None:
            return f"{target} = {target} + {value.at(MUL)}"
        return f"{target} = {target}.at[{idx}].{'set' if first else 'add'}({value.text})"

    def norm2_lines(self, target, op, x, names):
        # always scaled by m = max |x|, without a branch: under jax.jit XLA fuses the scaling
        # into the sum of squares, and jax.lax.cond was slower there (67 µs against 47 µs over
        # 2000 entries on a CPU) and, called outside jit, traced its branches anew at every
        # call (0.9 s); a Python branch cannot read a traced s at all
        return scaled_norm_lines(self, target, op, x, names, lambda m: f"{self.m('where')}({m} > 0, {m}, 1)")

    def copy(self, code):
        return code  # JAX arrays are immutable: returning an argument is safe


class TorchPrinter(ArrayScalars):
    name = "torch"
    module = "torch"
    imports = ("import torch",)
    def dtype_kw(self):
        r = self.dtype_ref
        return f", dtype={r}.dtype, device={r}.device" if r else ", dtype=torch.float64"

    def sum(self, a, axis):
        if axis is None:
            return self.call("torch.sum", a.text)
        return self.call("torch.sum", a.text, f"dim={axis}")

    def sumsq(self, op, a):
        if op.ndim == 1:
            return Code(f"{a.at(MUL)} @ {a.at(UNARY)}", MUL)
        return self.call("torch.sum", f"{a.at(MUL)} * {a.at(UNARY)}")

    def full(self, op, v, dims):
        shape = self.shape_text(op.shape, dims)
        if op.args[0].kind == "num":
            return self.call("torch.full", shape, v.text + self.dtype_kw())
        return Code(f"{v.at(MUL)} * torch.ones({shape}{self.dtype_kw()})", MUL)

    def eye(self, n):
        return self.call("torch.eye", n + self.dtype_kw())

    def diagonal(self, op, a):
        if op.args[0].ndim == 2:
            return self.call("torch.diagonal", a.text)
        return self.call("torch.diagonal", a.text, "dim1=-2", "dim2=-1")

    def permute(self, a, perm):
        return Code(f"{a.at(ATOM)}.permute{perm}")

    def scalar_entry(self, op, a):
        if op.kind in ("num", "dim"):
            return self.call("torch.tensor", a.text + self.dtype_kw())
        return a

    def stack(self, op, args, dims):
        st = self.call("torch.stack", "[" + ", ".join(self.scalar_entry(o, a).text for o, a in
                                                      zip(op.args, args)) + "]")
        if op.ndim == 1:
            return st
        return self.reshape(st, self.shape_text(op.shape, dims))

    def stackn(self, op, args, dims):
        st = self.call("torch.stack", "[" + ", ".join(a.text for a in args) + "]", "dim=-1")
        return self.reshape(st, self.shape_text(op.shape, dims))

    def add_diag_lines(self, target, base, base_fresh, v, n):
        first = f"{target} = {base.text}" if base_fresh else f"{target} = {base.at(ATOM)}.clone()"
        return [first, f"{target}.diagonal().add_({v.text})"]

    def index_array(self, n):
        return f"torch.arange({n}{', device=' + self.dtype_ref + '.device' if self.dtype_ref else ''})"

    def copy(self, code):
        return Code(f"{code.at(ATOM)}.clone()")


class ArrayAPIPrinter(ArrayScalars):
    """Only functions of the array API standard (and its ``linalg`` extension), through the
    namespace ``xp`` that the generated function takes as an argument."""

    name = "array_api"
    module = "xp"
    imports = ()
    einsum = False
    def dtype_kw(self):
        return f", dtype={self.dtype_ref}.dtype" if self.dtype_ref else ""

    def sumsq(self, op, a):
        if op.ndim == 1:
            return Code(f"{a.at(MUL)} @ {a.at(UNARY)}", MUL)
        return self.call(self.m("sum"), f"{a.at(MUL)} * {a.at(UNARY)}")

    def one_or(self, x, cmp, e):
        # the standard's maximum takes two real arrays: the comparison in e's dtype
        return self.call(self.m("maximum"), e.text, f"{self.m('astype')}({x.at(ADD)} {cmp} 0, {e.at(ATOM)}.dtype)")

    def expr(self, op, args, dims):
        if op.kind == "outer":
            return Code(f"{args[0].at(ATOM)}[:, None] * {args[1].at(UNARY)}", MUL)
        if op.kind in ("trace", "inv", "det"):
            return self.call(self.m("linalg." + op.kind), args[0].text)
        return super().expr(op, args, dims)

    def full(self, op, v, dims):
        shape = self.shape_text(op.shape, dims)
        if op.args[0].kind == "num":
            return self.call(self.m("full"), shape, v.text + self.dtype_kw())
        return Code(f"{v.at(MUL)} * {self.m('ones')}({shape}{self.dtype_kw()})", MUL)

    def eye(self, n):
        return self.call(self.m("eye"), n + self.dtype_kw())

    def diag(self, op, v, dims):
        n = self.shape_text((op.attrs[0],), dims)[1:-2]
        eye = self.eye(n)
        if op.args[0].kind == "num" and op.args[0].attrs[0] == 1.0:
            return eye
        return Code(f"{v.at(MUL)} * {eye.text}", MUL)  # diag(v) = v * I (columns scaled)

    def diagonal(self, op, a):
        return self.call(self.m("linalg.diagonal"), a.text)

    def permute(self, a, perm):
        return self.call(self.m("permute_dims"), a.text, str(perm))

    def reshape(self, a, shape):
        return self.call(self.m("reshape"), a.text, shape)

    def scalar_entry(self, op, a):
        if op.kind in ("num", "dim"):
            return self.call(self.m("asarray"), a.text + self.dtype_kw())
        return a

    def stack(self, op, args, dims):
        st = self.call(self.m("stack"), "[" + ", ".join(self.scalar_entry(o, a).text for o, a in
                                                        zip(op.args, args)) + "]")
        if op.ndim == 1:
            return st
        return self.reshape(st, self.shape_text(op.shape, dims))

    def stackn(self, op, args, dims):
        st = self.call(self.m("stack"), "[" + ", ".join(a.text for a in args) + "]", "axis=-1")
        return self.reshape(st, self.shape_text(op.shape, dims))

    def add_diag_lines(self, target, base, base_fresh, v, n):
        return [f"{target} = {base.at(ADD)} + {self.eye(n).text} * {v.at(UNARY)}"]

    def scatter_lines(self, target, shape, entries, names):
        lines = [f"{target} = {self.zeros(shape)}"]
        for code, pattern, letters, gdims in entries:
            # Each group at its first position; every further position of a group is a δ,
            # written as a product with an identity matrix over the two positions.
            layout = list(pattern)
            firsts = []
            for k, g in enumerate(pattern):
                firsts.append(g not in pattern[:k])
            present = [g for k, g in enumerate(pattern) if firsts[k] and g in letters]
            perm = tuple(letters.index(g) for g in present)
            if perm != tuple(range(len(perm))):
                code = self.permute(code, perm)
            expand = tuple(firsts[k] and pattern[k] in letters for k in range(len(pattern)))
            if not all(expand) and letters:
                code = Code(f"{code.at(ATOM)}{axes_index(expand)}")
            factors = [code.at(MUL)]
            for k, g in enumerate(pattern):
                if firsts[k]:
                    continue
                first = pattern.index(g)
                eye = self.eye(gdims[g]).text
                idx = tuple(j in (first, k) for j in range(len(layout)))
                factors.append(f"{eye}{axes_index(idx)}")
            lines.append(f"{target} = {target} + {' * '.join(factors)}")
        return lines

    def norm2_lines(self, target, op, x, names):
        # always scaled by m = max |x|, without a branch: the standard lets a lazy array refuse
        # bool(), and a namespace such as NumPy's warns where x·x overflows (m ≥ 0, so that
        # 1 - sign(m) is 1 only where m = 0: the norm 0, not 0/0)
        return scaled_norm_lines(self, target, op, x, names, lambda m: f"({m} + (1 - {self.m('sign')}({m})))")

    def copy(self, code):
        return self.call(self.m("asarray"), code.text, "copy=True")


BACKENDS = {"numpy": Printer, "jax": JaxPrinter, "torch": TorchPrinter, "array_api": ArrayAPIPrinter}
