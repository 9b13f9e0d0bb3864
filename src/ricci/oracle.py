"""An independent oracle: JAX differentiates the original expression.

The typed matrix AST is evaluated with ``jax.numpy`` by :class:`ricci.numeric_check.ArrayEvaluator`
(a direct reading of the language, sharing nothing with ricci's tensor IR, its differentiation
rules or its simplifier) and differentiated with ``jax.jacfwd``/``jax.jacrev`` in float64.
The result has ricci's layout (ARCHITECTURE §1): f's shape, then wrt's shape once per order; a
list of scalar wrt gives one axis of their number, the partials stacked along it.  A symmetric
matrix wrt is an unconstrained matrix to JAX: the plain partial derivative, ricci's convention.

JAX is optional (``pip install "ricci[oracle]"``); :func:`available` says whether it imports.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return jax, jnp


def available() -> bool:
    """Whether JAX can be imported (the oracle's tests run only then)."""
    try:
        _jax()
    except ImportError:
        return False
    return True


def jax_derivative(expr, wrt, values: dict, order: int = 1, kinds: dict | None = None) -> np.ndarray:
    """∂^order f/∂wrt^order at ``values``, by JAX's automatic differentiation.

    ``expr`` is a :class:`ricci.Expression` (typically ``d.expression`` of the derivative being
    checked, so that both read the same kinds) or a text parsed with ``kinds``; ``wrt`` a
    variable's name or a list of scalar names; ``values`` floats and arrays in ricci's forms.
    Returns a float64 ndarray (0-d for a scalar)."""
    from .language.expression import Expression, parse_typed
    from .numeric_check import ArrayEvaluator

    jax, jnp = _jax()
    if not isinstance(expr, Expression):
        forced = {n: "scalar" for n in wrt} if isinstance(wrt, (list, tuple)) else None
        expr = parse_typed(expr, kinds, forced=forced)
    evaluator = ArrayEvaluator(expr, jnp)
    base = {n: jnp.asarray(np.asarray(v, dtype=float)) for n, v in values.items() if n in expr.variables}
    names = list(wrt) if isinstance(wrt, (list, tuple)) else None

    def f(w):
        vals = dict(base)
        if names is None:
            vals[wrt] = w
        else:
            for k, n in enumerate(names):
                vals[n] = w[k]
        return evaluator(vals)

    w0 = jnp.stack([base[n] for n in names]) if names is not None else base[wrt]
    scalar_out = expr.type.is_scalar
    g = f
    for k in range(order):
        g = (jax.jacrev if (k == 0 and scalar_out) else jax.jacfwd)(g)
    return np.asarray(g(w0), dtype=float)
