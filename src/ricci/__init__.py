"""ricci: vector, matrix and tensor calculus in matrix notation.

The public API (ARCHITECTURE §3) is re-exported here explicitly; everything else is private.
``import ricci`` loads only the error classes: lark, NumPy and the engine are imported by the
first call that needs them, so that a command-line start stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence, TypeAlias

from .language.errors import (
    BadValueError,
    KindError,
    LimitError,
    RicciError,
    RicciSyntaxError,
    ShapeError,
    UnknownNameError,
)
from .deep import deep as _deep  # room to recurse inside the documented limits (ricci.deep)
from .limits import DEFAULT_TIMEOUT as _DEFAULT_TIMEOUT, MAX_NODES as _MAX_NODES

if TYPE_CHECKING:  # pragma: no cover - the types of the hints only (tests/test_types.py runs mypy)
    from .analysis.result import Analysis
    from .comparison.verdict import Verdict
    from .derivation import Derivative
    from .language.expression import Expression
    from .solve.result import MinimizeResult

    #: an expression as the API takes it: its text, or a parsed Expression
    Source: TypeAlias = "str | Expression"
    #: kinds declared by name: {"W": "symmetric matrix"}
    Kinds: TypeAlias = "dict[str, str] | None"
    #: what to differentiate by: a variable, or a list of scalar names
    Wrt: TypeAlias = "str | Sequence[str]"

__version__ = "0.1.0"


def parse(expression: Source, kinds: Kinds = None) -> Expression:
    """Parse and type-check ``expression``; ``kinds`` declares kinds, e.g. ``{"W": "symmetric matrix"}``."""
    from .language.expression import parse as _parse

    return _parse(expression, kinds)


@_deep
def evaluate(expression: Source, values: dict[str, Any], kinds: Kinds = None) -> Any:
    """The value of ``expression`` at ``values``: floats, 1-D arrays for vectors, 2-D for matrices."""
    from .evaluation import evaluate as _evaluate

    return _evaluate(expression, values, kinds)


def __getattr__(name):  # lazily exported classes
    if name == "Expression":
        from .language.expression import Expression

        return Expression
    raise AttributeError(f"module 'ricci' has no attribute {name!r}")


__all__ = [
    "parse",
    "evaluate",
    "Expression",
    "RicciError",
    "RicciSyntaxError",
    "UnknownNameError",
    "ShapeError",
    "KindError",
    "BadValueError",
    "LimitError",
]


def derivative(expression: Source, wrt: Wrt, order: int = 1, kinds: Kinds = None, *,
               timeout: float | None = _DEFAULT_TIMEOUT, max_nodes: int | None = _MAX_NODES) -> Derivative:
    """∂^order f/∂wrt^order, symbolically; see :class:`ricci.derivation.Derivative`.

    ``wrt`` is a variable of the expression, or a list of scalar names (the row of partials);
    a name the expression does not use is an :class:`UnknownNameError` listing its variables,
    except in a list, where it is a zero column (``wrt=["x1", "x3"]`` of ``x1^2``: ``[2*x1, 0]``).
    ``timeout`` (seconds) and ``max_nodes`` bound the work; see :mod:`ricci.limits`."""
    from .derivation import derivative as _derivative

    return _derivative(expression, wrt, order, kinds, timeout=timeout, max_nodes=max_nodes)


def gradient(expression: Source, wrt: Wrt, kinds: Kinds = None, *,
             timeout: float | None = _DEFAULT_TIMEOUT, max_nodes: int | None = _MAX_NODES) -> Derivative:
    """The first derivative of a scalar function (a row vector for a vector ``wrt``); ``timeout``
    and ``max_nodes`` as for :func:`derivative`."""
    return derivative(expression, wrt, 1, kinds, timeout=timeout, max_nodes=max_nodes)


def jacobian(expression: Source, wrt: Wrt, kinds: Kinds = None, *,
             timeout: float | None = _DEFAULT_TIMEOUT, max_nodes: int | None = _MAX_NODES) -> Derivative:
    """The first derivative of a vector-valued function, J[i, j] = ∂f_i/∂x_j; ``timeout`` and
    ``max_nodes`` as for :func:`derivative`."""
    return derivative(expression, wrt, 1, kinds, timeout=timeout, max_nodes=max_nodes)


def hessian(expression: Source, wrt: Wrt, kinds: Kinds = None, *,
            timeout: float | None = _DEFAULT_TIMEOUT, max_nodes: int | None = _MAX_NODES) -> Derivative:
    """The second derivative of a scalar function; ``timeout`` and ``max_nodes`` as for
    :func:`derivative`."""
    return derivative(expression, wrt, 2, kinds, timeout=timeout, max_nodes=max_nodes)


__all__ += ["derivative", "gradient", "jacobian", "hessian"]


@_deep
def plot(expression: Source, wrt: Wrt, at: dict[str, Any] | None = None, range: Any = None,
         kinds: Kinds = None, *, timeout: float | None = _DEFAULT_TIMEOUT, **options: Any) -> Any:
    """A matplotlib Figure of slopes, gradients and curvature; see :func:`ricci.plotting.plot`.
    ``timeout`` (seconds) bounds it as it bounds :func:`derivative`."""
    from .plotting import plot as _plot

    return _plot(expression, wrt, at, range, kinds, timeout=timeout, **options)


__all__ += ["plot"]


@_deep
def compare(expression: Source, wrt: Wrt, answer: str, order: int = 1, kinds: Kinds = None, *,
            timeout: float | None = _DEFAULT_TIMEOUT, **options: Any) -> Verdict:
    """Judge a hand-derived derivative against ricci's; see :func:`ricci.comparison.compare`.
    ``timeout`` (seconds) bounds it as it bounds :func:`derivative`."""
    from .comparison import compare as _compare

    return _compare(expression, wrt, answer, order, kinds, timeout=timeout, **options)


__all__ += ["compare"]


@_deep
def analyse(expression: Source, wrt: Wrt, at: dict[str, Any] | None = None, kinds: Kinds = None, *,
            timeout: float | None = _DEFAULT_TIMEOUT, **options: Any) -> Analysis:
    """Hessian definiteness, critical points and convexity; see :func:`ricci.analysis.analyse`.
    ``timeout`` (seconds) bounds it as it bounds :func:`derivative`."""
    from .analysis import analyse as _analyse

    return _analyse(expression, wrt, at, kinds, timeout=timeout, **options)


__all__ += ["analyse"]


@_deep
def minimize(expression: Source, wrt: Wrt, data: dict[str, Any] | None = None,
             **options: Any) -> MinimizeResult:
    """Minimise a scalar function over ``wrt`` given the other variables' values, with SciPy and
    ricci's generated derivatives; see :func:`ricci.solve.minimize`."""
    from .solve import minimize as _minimize

    return _minimize(expression, wrt, data, **options)


__all__ += ["minimize"]
