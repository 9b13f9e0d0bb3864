"""The JAX backend of ``ricci.minimize(..., backend="jax")``: ricci's generated ``jax.numpy`` code
of f and ∇f (fused), H·v and H, each under ``jax.jit``, in float64.

Float64 without changing the process's setting: every trace and every call runs inside JAX's
``enable_x64`` context (``jax.enable_x64(True)``, or ``jax.experimental.enable_x64()`` on older
JAX) instead of ``jax.config.update("jax_enable_x64", True)``, so a user's float32 JAX code
elsewhere in the process is left as it was.  The data goes to JAX's default device once (a GPU
where JAX finds one, by itself; nothing needs one); the flat point z and a direction v cross
over per call, and the results come back as NumPy arrays only where SciPy reads them.  The flat
vector is unpacked inside the jitted function (slices; a symmetric matrix from its triangle)
and the gradients folded back there, so one evaluation is one dispatch.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..codegen import python_name
from .errors import SolveError
from .problem import triangle


def x64():
    """A context in which JAX traces and computes in float64; the global flag is untouched."""
    import jax

    try:
        return jax.enable_x64(True)
    except (AttributeError, TypeError):  # pragma: no cover - JAX before jax.enable_x64
        from jax.experimental import enable_x64

        return enable_x64()


def _layout(problem) -> tuple:
    """(Python name, offset, size, shape, symmetric) of each variable in the flat vector: the
    part of the problem the jitted functions depend on (with the expression and the kinds)."""
    out, k = [], 0
    for n in problem.names:
        size = problem.flat_size(n)
        out.append((python_name(n), k, size, tuple(problem.shapes[n]), n in problem.symmetric))
        k += size
    return tuple(out)


def _unpack(z, layout) -> dict:
    out = {}
    for name, k, size, shape, symmetric in layout:
        part = z[k:k + size]
        if symmetric:  # as Problem.unpack: √2·S_ij off the diagonal
            t = triangle(shape[0])
            out[name] = part[t.index] * t.entry
        else:
            out[name] = part.reshape(shape)
    return out


def _fold(parts, layout):
    import jax.numpy as jnp

    out = []
    for g, (_, _, _, shape, symmetric) in zip(parts, layout):
        g = jnp.asarray(g)
        if symmetric:  # the chain rule through S = S(triangle), as Problem.fold
            t = triangle(shape[0])
            g = (g + g.T)[t.rows, t.cols] * t.weight
        out.append(g.reshape(-1))
    return jnp.concatenate(out)


@lru_cache(maxsize=32)
def _jitted(source: str, names: tuple, kinds: tuple, layout: tuple, what: str, compiled, compiled_hvp):
    """The jitted function ``what`` ("value_and_grad", "hvp" or "hess") of a problem; kept per
    expression, kinds and shapes (never the data), so a second solve neither generates nor traces
    again.  ``compiled`` and ``compiled_hvp`` are objective.py's generators (handed in: this
    module is imported by objective.py, never the other way)."""
    import jax

    if what == "value_and_grad":
        grads = [compiled(source, n, 1, kinds, k == 0, "jax") for k, n in enumerate(names)]

        def value_and_grad(z, data):
            args = {**data, **_unpack(z, layout)}
            f, g0 = grads[0](**args)
            return f, _fold([g0] + [g(**args) for g in grads[1:]], layout)

        return jax.jit(value_and_grad)
    if what == "hvp":
        product, fn = compiled_hvp(source, names, kinds, "jax")

        def hvp(z, v, data):
            args = {**data, **_unpack(z, layout)}
            directions = _unpack(v, layout)
            for internal, (name, *_) in zip(product.direction_params, layout):
                args[internal] = directions[name]
            out = fn(**args)
            return _fold(out if len(layout) > 1 else (out,), layout)

        return jax.jit(hvp)
    hessian = compiled(source, names[0], 2, kinds, False, "jax")
    size = layout[0][2]

    def hess(z, data):
        return hessian(**data, **_unpack(z, layout)).reshape(size, size)

    return jax.jit(hess)


class JaxFunctions:
    """f and ∇f, H·v, H of a problem on flat NumPy vectors, computed by JAX."""

    def __init__(self, problem, kinds: tuple, data: dict, compiled, compiled_hvp):
        try:
            import jax.numpy as jnp
        except ImportError:
            raise SolveError('the JAX backend needs JAX: pip install "ricci[jax]"') from None
        self._key = (problem.expression.source, tuple(problem.names), kinds, _layout(problem))
        self._generators = (compiled, compiled_hvp)
        with x64():
            # to the default device once; float64 kept (outside the context it would become float32)
            self.data = {n: jnp.asarray(v, dtype=jnp.float64) for n, v in data.items()}
        self.value_and_grad_fn = _jitted(*self._key, "value_and_grad", *self._generators)

    def value_and_grad(self, z) -> tuple[float, np.ndarray]:
        with x64(), np.errstate(all="ignore"):
            f, g = self.value_and_grad_fn(np.asarray(z, dtype=float), self.data)
            return float(f), np.asarray(g, dtype=float)

    def hessp(self, z, v) -> np.ndarray:
        fn = _jitted(*self._key, "hvp", *self._generators)
        with x64():
            return np.asarray(fn(np.asarray(z, dtype=float), np.asarray(v, dtype=float), self.data), dtype=float)

    def hess(self, z) -> np.ndarray:
        fn = _jitted(*self._key, "hess", *self._generators)
        with x64():
            return np.asarray(fn(np.asarray(z, dtype=float), self.data), dtype=float)
