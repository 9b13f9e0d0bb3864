"""The function being analysed, as numbers: f, its gradient and its Hessian at any point.

A :class:`Problem` holds the typed expression, the symbolic gradient and Hessian (from
:func:`ricci.derivative`), the user's fixed values (``at``), assumptions (``assume``) and the
sizes they fix.  It maps a flat coordinate vector z of the variables differentiated by to a
values dict and back, so that the rest of the analysis works with ordinary vectors and square
matrices:

* a list of scalars ``[x1, x2]``, or one scalar: z holds their values;
* a vector x ∈ Rⁿ: z = x;
* a matrix X ∈ R^{m×n}: z = vec(X) (row-major);
* a symmetric matrix X: z holds X's coordinates in the orthonormal basis of symmetric
  matrices (:func:`definiteness.symmetric_basis`), so a direction never leaves the symmetric
  matrices, and the Hessian is the quadratic form on symmetric directions.

It also draws random points (for witnesses of non-convexity and for sampling checks) that
respect the kinds, the assumptions and the fixed values.  The random generator is seeded: an
analysis is reproducible.
"""

from __future__ import annotations

import numpy as np

from .. import limits as _limits
from ..language.errors import BadValueError, KindError, LimitError, RicciError, UnknownNameError
from ..language.kinds import MATRIX, SCALAR, SYMMETRIC, VECTOR
from . import definiteness as D

#: Assumptions accepted in ``assume``: matrix definiteness, and entry signs for any kind.
MATRIX_ASSUMPTIONS = {"psd": "psd", "positive semidefinite": "psd", "pd": "pd", "positive definite": "pd",
                      "nsd": "nsd", "negative semidefinite": "nsd", "nd": "nd", "negative definite": "nd"}
SIGN_ASSUMPTIONS = {"positive": "positive", "pos": "positive", "nonnegative": "nonnegative",
                    "nonneg": "nonnegative", "negative": "negative", "neg": "negative",
                    "nonpositive": "nonpositive"}

#: Sizes given to dimensions that no value fixes, when random points are drawn (distinct, so
#: that a transposition cannot hide in a square case).
DEFAULT_SIZES = (3, 2, 4, 5, 6, 7)


def normalise_assumptions(assume) -> dict[str, str]:
    if assume is None:
        return {}
    if not isinstance(assume, dict):
        raise RicciError(f"assume must be a dict such as {{'A': 'psd'}}, not {type(assume).__name__}")
    out = {}
    for name, label in assume.items():
        key = " ".join(str(label).lower().replace("_", " ").replace("-", " ").split())
        if key in MATRIX_ASSUMPTIONS:
            out[str(name)] = MATRIX_ASSUMPTIONS[key]
        elif key in SIGN_ASSUMPTIONS:
            out[str(name)] = SIGN_ASSUMPTIONS[key]
        else:
            raise KindError(f"unknown assumption {label!r} for {name}; use one of: psd, pd, nsd, nd "
                            "(a symmetric matrix), positive, nonnegative, negative, nonpositive (entries)")
    return out


def _public(arr: np.ndarray, kind: str):
    if kind == SCALAR:
        return float(arr.reshape(()))
    if kind == VECTOR:
        return arr.reshape(-1)
    return arr


def _second_derivative(derivative, source, wrt, kinds):
    """(the Hessian's Derivative, None), or (None, why) where ricci refuses to give it (a
    derivative of sv_u1 or polar: the norms' second derivatives are not given).  A limit of
    time or size is not a refusal: it is raised."""
    try:
        return derivative(source, wrt, 2, kinds or None), None
    except LimitError:
        raise
    except RicciError as e:  # its first clause names what is missing; the rest lists what ricci gives
        return None, f"not provided: {str(e).split(': ', 1)[0]}"


class Problem:
    """f, ∇f and the Hessian of one analysis, evaluated on flat coordinates."""

    def __init__(self, expression, wrt, at=None, kinds=None, assume=None):
        from ..derivation import check_wrt, derivative
        from ..language.expression import Expression, parse

        if kinds is not None and not isinstance(kinds, dict):
            raise RicciError(f"kinds must be a dict such as {{'W': 'symmetric matrix'}}, not {type(kinds).__name__}")
        kinds = dict(kinds or {})
        self.assume = normalise_assumptions(assume)
        source = expression.source if isinstance(expression, Expression) else expression
        if self.assume:
            # A matrix assumed PSD/PD/… is symmetric unless the user declared it otherwise.
            plain = parse(source, kinds or None)
            for name, label in self.assume.items():
                if name not in plain.variables:
                    raise UnknownNameError(f"assume names {name}, which the expression does not use")
                if label in ("psd", "pd", "nsd", "nd") and name not in kinds:
                    if plain.variables[name].kind not in (MATRIX, SYMMETRIC):
                        raise KindError(f"{name} is assumed {label}, but it is a {plain.variables[name].kind}; "
                                        "definiteness is for (symmetric) matrices")
                    kinds[name] = SYMMETRIC
        self.kinds = kinds
        # ricci.derivation's one check of wrt, lists included: a coordinate f does not use has
        # nothing to analyse (its Hessian row and column would be zero)
        check_wrt(source, wrt, kinds, lists_may_pad=False)
        self.gradient_d = derivative(source, wrt, 1, kinds or None)
        #: None where ricci does not give the second derivative (the spectral and nuclear norms):
        #: the analysis then says so (``no_hessian``) and rests on the function table's facts
        self.hessian_d, self.no_hessian = _second_derivative(derivative, source, wrt, kinds)
        self.expression = self.gradient_d.expression
        self.wrt = self.gradient_d.wrt
        if self.expression.shape != ():
            dims = "×".join(map(str, self.expression.shape))
            raise KindError(f"analyse needs a scalar function, but {self.expression.text} has shape {dims}; "
                            "sum it, or take a norm, first")
        self.variables = self.expression.variables
        for name, label in self.assume.items():
            kind = self.variables[name].kind
            if label in ("psd", "pd", "nsd", "nd") and kind not in (MATRIX, SYMMETRIC):
                raise KindError(f"{name} is assumed {label}, but it is a {kind}")
        self.wrt_names = list(self.wrt) if isinstance(self.wrt, list) else [self.wrt]
        self.params = [n for n in self.variables if n not in self.wrt_names]
        self.wrt_kind = self.variables[self.wrt_names[0]].kind if not isinstance(self.wrt, list) else "list"
        self.fixed, self.sizes = self._bind(at)

    # -- the user's values ----------------------------------------------------------------------
    def _bind(self, at):
        from ..evaluation import bind_sizes

        if at is None:
            return {}, {}
        if not isinstance(at, dict):
            raise BadValueError("at must be a dict such as {'x': [1, 2], 'A': [[1, 0], [0, 2]]}")
        unknown = [str(n) for n in at if n not in self.variables]
        if unknown:
            raise UnknownNameError(f"at gives a value for {', '.join(sorted(unknown))}, "
                                   "which the expression does not use")
        subset = {n: self.variables[n] for n in at}
        arrays, sizes = bind_sizes(subset, dict(at), self.expression.source, self.expression._checked.reasons,
                                   products=self.expression._checked.products)
        fixed = {n: _public(a, self.variables[n].kind) for n, a in arrays.items()}
        for name, value in fixed.items():
            self._check_assumption(name, value)
        given = [n for n in self.wrt_names if n in fixed]
        if given and len(given) != len(self.wrt_names):
            missing = [n for n in self.wrt_names if n not in fixed]
            raise UnknownNameError(f"at gives {', '.join(given)} but not {', '.join(missing)}: "
                                   "give every variable differentiated by, or none")
        return fixed, sizes

    def _check_assumption(self, name, value):
        label = self.assume.get(name)
        if label is None:
            return
        arr = np.asarray(value, dtype=float)
        if label in ("psd", "pd", "nsd", "nd"):
            ev = D.symmetric_eigenvalues(arr)
            tol = D.tolerance(ev)
            ok = {"psd": ev.min() >= -tol, "pd": ev.min() > tol,
                  "nsd": ev.max() <= tol, "nd": ev.max() < -tol}[label]
        else:
            ok = {"positive": np.all(arr > 0), "nonnegative": np.all(arr >= 0),
                  "negative": np.all(arr < 0), "nonpositive": np.all(arr <= 0)}[label]
        if not ok:
            raise BadValueError(f"{name} is assumed {label}, but its value in at is not")

    @property
    def at_point(self) -> bool:
        """Whether ``at`` gives the point itself (every variable differentiated by)."""
        return all(n in self.fixed for n in self.wrt_names)

    @property
    def missing_params(self) -> list[str]:
        return [n for n in self.params if n not in self.fixed]

    # -- sizes and coordinates ------------------------------------------------------------------
    def size_of(self, dim, sizes=None):
        if isinstance(dim, int):
            return dim
        sizes = self.sizes if sizes is None else sizes
        return sizes.get(dim)

    def draws(self, samples: int, seed: int):
        """The seeded draws of the sampled checks (convexity's Hessians, the segments' chords):
        ``(rng, scale)`` per sample, the scale cycling through 1, 0.3 and 3 so that points near
        and far from 0 are both tried.  The time limit is charged per draw, before the caller's
        ``try``, so that it is never taken for an undefined point."""
        rng = np.random.default_rng(seed)
        scales = (1.0, 0.3, 3.0)
        for k in range(samples):
            _limits.tick()
            yield rng, scales[k % len(scales)]

    def complete_sizes(self) -> dict:
        """The known sizes, and a distinct default for each dimension no value fixes."""
        sizes = dict(self.sizes)
        spare = [s for s in DEFAULT_SIZES if s not in sizes.values()] + list(range(8, 40))
        for v in self.variables.values():
            for d in v.dims:
                if not isinstance(d, int) and d not in sizes:
                    sizes[d] = spare.pop(0)
        for d in self.hessian_d.shape if self.hessian_d is not None else ():
            if not isinstance(d, int) and d not in sizes:
                sizes[d] = spare.pop(0)
        return sizes

    def wrt_shape(self, sizes) -> tuple[int, ...] | None:
        """The concrete shape of the variable differentiated by (None if a size is open)."""
        if isinstance(self.wrt, list):
            return (len(self.wrt),)
        dims = self.variables[self.wrt].dims
        shape = tuple(self.size_of(d, sizes) for d in dims)
        return None if any(s is None for s in shape) else shape

    def symmetric_n(self, sizes) -> int | None:
        if self.wrt_kind == SYMMETRIC:
            return self.wrt_shape(sizes)[0]
        return None

    def n_coords(self, sizes=None) -> int | None:
        sizes = self.sizes if sizes is None else sizes
        shape = self.wrt_shape(sizes)
        if shape is None:
            return None
        n = self.symmetric_n(sizes)
        return n * (n + 1) // 2 if n is not None else int(np.prod(shape, dtype=int))

    def coords(self, values, sizes) -> np.ndarray:
        """Flat coordinates z of the wrt variables in ``values``."""
        if isinstance(self.wrt, list):
            return np.array([float(values[n]) for n in self.wrt])
        z = np.asarray(values[self.wrt], dtype=float).reshape(-1)
        n = self.symmetric_n(sizes)
        return D.symmetric_basis(n).T @ z if n is not None else z

    def point(self, z, sizes) -> dict:
        """The wrt variables' values for flat coordinates z."""
        z = np.asarray(z, dtype=float).reshape(-1)
        if isinstance(self.wrt, list):
            return {n: float(v) for n, v in zip(self.wrt, z)}
        shape = self.wrt_shape(sizes)
        n = self.symmetric_n(sizes)
        if n is not None:
            return {self.wrt: (D.symmetric_basis(n) @ z).reshape(n, n)}
        if self.wrt_kind == SCALAR:
            return {self.wrt: float(z[0])}
        return {self.wrt: z.reshape(shape)}

    # -- numbers -------------------------------------------------------------------------------
    def f(self, values) -> float:
        return float(self.expression.evaluate(values))

    def gradient(self, values, sizes) -> np.ndarray:
        """∇f at ``values`` as a flat vector of the coordinates."""
        return self.flat_gradient(self.gradient_d.evaluate(values), sizes)

    def hessian(self, values, sizes) -> np.ndarray:
        """The Hessian at ``values`` as the square matrix of its quadratic form in the coordinates."""
        if self.hessian_d is None:
            raise RicciError(f"the Hessian is {self.no_hessian}")
        return self.square_hessian(self.hessian_d.evaluate(values), sizes)

    def flat_gradient(self, gradient, sizes) -> np.ndarray:
        return D.flat_gradient(gradient, self.symmetric_n(sizes))

    def square_hessian(self, hessian, sizes) -> np.ndarray:
        wrt_size = int(np.prod(self.wrt_shape(sizes), dtype=int))
        return D.square(hessian, wrt_size, self.symmetric_n(sizes))

    # -- random points ---------------------------------------------------------------------------
    def random_value(self, name, rng, sizes, scale=1.0):
        """A random value for one variable, of its kind, that satisfies its assumption."""
        var = self.variables[name]
        label = self.assume.get(name)
        shape = tuple(self.size_of(d, sizes) for d in var.dims)
        if var.kind == SCALAR:
            v = scale * rng.standard_normal()
        else:
            v = scale * rng.standard_normal(shape)
        if label in ("psd", "pd", "nsd", "nd"):
            n = shape[0]
            B = rng.standard_normal((n, n)) * np.sqrt(scale / n)
            M = B @ B.T + (0.1 * scale * np.eye(n) if label in ("pd", "nd") else 0.0)
            if var.kind == MATRIX:  # a non-symmetric matrix with a definite symmetric part
                K = rng.standard_normal((n, n)) * scale
                M = M + 0.5 * (K - K.T)
            return M if label in ("psd", "pd") else -M
        if var.kind == SYMMETRIC:
            v = 0.5 * (v + v.T)
        if label in ("positive", "nonnegative"):
            v = np.abs(v) + (0.01 if label == "positive" else 0.0)
        elif label in ("negative", "nonpositive"):
            v = -np.abs(v) - (0.01 if label == "negative" else 0.0)
        return float(v) if var.kind == SCALAR else v

    def random_values(self, rng, sizes, scale=1.0, wrt=None) -> dict:
        """Random values of every variable.  Parameters fixed by ``at`` keep their values; the
        variables differentiated by take ``wrt`` (a values dict) when given, else random ones."""
        values = {}
        for name in self.variables:
            if name in self.wrt_names:
                values[name] = wrt[name] if wrt is not None else self.random_value(name, rng, sizes, scale)
            elif name in self.fixed:
                values[name] = self.fixed[name]
            else:
                values[name] = self.random_value(name, rng, sizes, scale)
        return values
