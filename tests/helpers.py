"""Test helpers that do not depend on the differentiation engine.

* :func:`numeric_derivative` – derivatives of any order by central finite differences of
  ``ricci.evaluate`` (the NumPy evaluator of the language, independent of the tensor IR), laid
  out as ARCHITECTURE §1 says: f's shape, then wrt's shape once per order.
* :func:`central_differences` – the same for a NumPy function of an array (a reference from
  NumPy's or SciPy's own functions).
* :func:`random_values` – random inputs with a different size for every dimension, SPD matrices
  where ``det``/``logdet``/``inv`` need them, positive entries where ``log``/``sqrt`` need them.
* :func:`backend_array` – values as the arrays of a generated function's backend (NumPy, JAX,
  PyTorch, array_api_strict), skipping where the backend is missing.
* :func:`check_derivative` – the referee used by ``test_lecture.py`` and ``test_cookbook.py``:
  finite differences, a closed form written in NumPy, and the book's form in the input language
  are checked against each other *first* (so these references are trusted on their own), then
  ``ricci.derivative`` must agree with all of them, in shape, numbers and parseable text.
* :func:`pinned` – the referee with an exact text: the answer must read ``text``, and ``text``
  itself is checked as the book's form (``test_readability.py``, ``test_textbook_forms.py``).

The helpers are tested on their own in ``tests/test_helpers.py``.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pytest

import ricci

SYMMETRIC = "symmetric matrix"

#: Finite-difference stencils for a first derivative: (offset, weight); f' ≈ Σ w f(x + o h) / h.
CENTRAL_2 = ((-1, -0.5), (1, 0.5))  # error O(h²)
CENTRAL_4 = ((-2, 1 / 12), (-1, -8 / 12), (1, 8 / 12), (2, -1 / 12))  # error O(h⁴)

#: Relative step per order.  Order 1 uses CENTRAL_2 with h = 1e-5 (error ~1e-10 relative);
#: higher orders nest CENTRAL_4 (the k-fold tensor product of the stencil), with h balancing
#: truncation (h⁴) against rounding (eps / hᵏ): ~1e-10 for order 2, ~1e-8 for 3 and ~1e-7 for 4.
STEPS = {1: 1e-5, 2: 2e-3, 3: 5e-3, 4: 1e-2}

#: Default sizes given to the dimensions of an expression, in order of first appearance.
DEFAULT_SIZES = (3, 4, 5, 6, 7, 8, 2, 9)


# --------------------------------------------------------------------------------------------
# finite differences
# --------------------------------------------------------------------------------------------
def _fd_kinds(expr: "ricci.Expression", wrt_names: Sequence[str], kinds: Mapping | None) -> dict:
    """Kinds for finite differences: a symmetric variable differentiated by becomes a plain matrix.

    The convention (ARCHITECTURE §1) is the *unconstrained* partial derivative: entry (i, j) is
    perturbed alone, which leaves the symmetric matrices; the evaluator would refuse that value
    for a variable declared symmetric, so it is declared a plain matrix for the perturbations.
    """
    out = dict(kinds or {})
    for name in wrt_names:
        var = expr.variables.get(name)
        if var is not None and var.kind == SYMMETRIC:
            out[name] = "matrix"
    return out


def numeric_derivative(expression: str, wrt: str | Sequence[str], values: Mapping,
                       kinds: Mapping | None = None, order: int = 1) -> np.ndarray:
    """The order-``order`` derivative of ``expression`` by ``wrt`` at ``values``, by finite differences.

    ``wrt`` is a variable's name, or a list of scalar names (then the derivative is the row of
    partials: shape ``(len(wrt),)`` is appended per order).  The result has shape
    ``shape(f) + shape(wrt) * order`` (ARCHITECTURE §1); entry [..., i₁, …, i_k] is
    ∂ᵏf / ∂w_{i₁} … ∂w_{i_k}.  Mixed partials are computed once per sorted index tuple and
    copied to every permutation (they are symmetric for smooth f).
    """
    if order < 1:
        raise ValueError("order must be at least 1")
    names = [wrt] if isinstance(wrt, str) else list(wrt)
    expr = ricci.parse(expression, kinds)
    for name in names:
        if name not in expr.variables:
            raise ValueError(f"{name} is not a variable of {expression!r}")
    fd_expr = ricci.parse(expression, _fd_kinds(expr, names, kinds))

    base = {n: (float(v) if np.ndim(v) == 0 else np.array(v, dtype=float)) for n, v in values.items()}
    if isinstance(wrt, str):
        wrt_shape = np.shape(base[wrt])
        coords = [(wrt, idx) for idx in np.ndindex(*wrt_shape)]
    else:
        for name in names:
            if np.ndim(base[name]) != 0:
                raise ValueError(f"a list of wrt names must name scalars; {name} is not one")
        wrt_shape = (len(names),)
        coords = [(name, ()) for name in names]
    steps = [STEPS.get(order, 1e-2) * max(1.0, abs(float(np.asarray(base[n])[idx]))) for n, idx in coords]
    stencil = CENTRAL_2 if order == 1 else CENTRAL_4

    cache: dict = {}

    def f_at(displacement: tuple) -> np.ndarray:
        # displacement: sorted ((coordinate number, offset), ...) with non-zero offsets
        if displacement not in cache:
            vals = {n: (v.copy() if isinstance(v, np.ndarray) else v) for n, v in base.items()}
            for c, off in displacement:
                name, idx = coords[c]
                if idx == ():
                    vals[name] = vals[name] + off * steps[c]
                else:
                    vals[name][idx] += off * steps[c]
            cache[displacement] = np.asarray(fd_expr.evaluate(vals), dtype=float)
        return cache[displacement]

    f0 = np.asarray(fd_expr.evaluate(base), dtype=float)
    n = len(coords)
    out = np.zeros(f0.shape + (n,) * order)
    for combo in itertools.combinations_with_replacement(range(n), order):
        acc = np.zeros(f0.shape)
        for terms in itertools.product(stencil, repeat=order):
            shift: dict = {}
            weight = 1.0
            for c, (off, w) in zip(combo, terms):
                shift[c] = shift.get(c, 0) + off
                weight *= w
            key = tuple(sorted((c, o) for c, o in shift.items() if o != 0))
            acc = acc + weight * f_at(key)
        value = acc / np.prod([steps[c] for c in combo])
        for perm in set(itertools.permutations(combo)):
            out[(Ellipsis,) + perm] = value
    return out.reshape(f0.shape + tuple(wrt_shape) * order)


def central_differences(f: Callable, x, h: float = 1e-6) -> np.ndarray:
    """∂f/∂x of a NumPy function ``f`` at the array ``x``, by central differences with step ``h``:
    f's shape followed by x's (ricci's layout).  A reference from NumPy's or SciPy's own functions,
    independent of ``ricci.evaluate`` (which :func:`numeric_derivative` differentiates)."""
    x = np.asarray(x, dtype=float)
    out = None
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        d = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)
        if out is None:
            out = np.zeros(d.shape + x.shape)
        out[(...,) + idx] = d
    return out


# --------------------------------------------------------------------------------------------
# random inputs
# --------------------------------------------------------------------------------------------
def _dim_sizes(expr: "ricci.Expression", sizes) -> dict:
    """Dimension name → size: distinct defaults in order of first appearance, or as given."""
    out: dict = {}
    defaults = iter(DEFAULT_SIZES)
    for var in expr.variables.values():
        for dim in var.dims:
            if isinstance(dim, int) or dim in out:
                continue
            if isinstance(sizes, int):
                out[dim] = sizes
            elif sizes is not None and dim in sizes:
                out[dim] = sizes[dim]
            else:
                out[dim] = next(defaults)
    return out


def _auto_positive(source: str, names: Collection[str]) -> set:
    """Names that appear as the whole argument of log or sqrt (entries must be positive)."""
    return {n for n in names if re.search(rf"\b(log|sqrt)\(\s*{re.escape(n)}\s*\)", source)}


def random_values(expression: str, kinds: Mapping | None = None, sizes=None, *, seed: int = 0,
                  positive: bool | Collection[str] | None = None,
                  spd: bool | Collection[str] | None = None,
                  shapes: Mapping[str, tuple] | None = None) -> dict:
    """Random values for every variable of ``expression``.

    ``sizes``: an int (every dimension that size), a dict {dimension name: size}, or None (each
    dimension a different size: 3, 4, 5, … in order of first appearance, so that a transposition
    cannot hide in a square case); ``shapes`` {variable: shape} fixes the sizes of that variable's
    dimensions (e.g. ``{"X": (5, 3)}`` for a tall X).  Entries are ±[0.1, 0.9] (away from the kinks of abs, sign and
    relu and inside the domain of arcsin); ``positive`` names (default: the bare arguments of
    log/sqrt) get entries in [0.5, 2]; ``spd`` names (default: every square matrix when the
    expression uses det, logdet or inv) get symmetric positive definite values; a declared
    symmetric matrix gets a symmetric value.
    """
    expr = ricci.parse(expression, kinds)
    rng = np.random.default_rng(seed)
    variables = expr.variables
    if shapes:
        sizes = dict(sizes) if isinstance(sizes, Mapping) else ({} if sizes is None else sizes)
        for name, shape in shapes.items():
            if isinstance(sizes, int):
                raise ValueError("give sizes as a dict, or no sizes, together with shapes")
            for dim, n in zip(variables[name].dims, shape):
                if not isinstance(dim, int):
                    sizes[dim] = n
    dims = _dim_sizes(expr, sizes)
    if positive is None:
        positive = _auto_positive(expr.source, variables)
    elif positive is True:
        positive = set(variables)
    elif positive is False:
        positive = set()
    if spd is None:
        uses_inverse = re.search(r"\b(det|logdet|inv)\(", expr.source) is not None
        spd = {n for n, v in variables.items()
               if uses_inverse and len(v.dims) == 2 and v.dims[0] == v.dims[1]}
    elif spd is True:
        spd = {n for n, v in variables.items() if len(v.dims) == 2}
    elif spd is False:
        spd = set()

    def entries(shape, name):
        if name in positive:
            return rng.uniform(0.5, 2.0, size=shape)
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 0.9, size=shape)

    values: dict = {}
    for name, var in variables.items():
        shape = tuple(d if isinstance(d, int) else dims[d] for d in var.dims)
        if var.kind == "scalar":
            values[name] = float(entries((), name))
        elif name in spd:
            if shape[0] != shape[1]:
                raise ValueError(f"{name} must be square to be SPD, not {shape}")
            g = rng.uniform(-1.0, 1.0, size=shape)
            values[name] = g @ g.T / shape[0] + np.eye(shape[0])
        else:
            a = entries(shape, name)
            if var.kind == SYMMETRIC:
                a = (a + a.T) / 2
            values[name] = a
    return values


def dimension_sizes(expression: str, values: Mapping, kinds: Mapping | None = None) -> dict:
    """Dimension name → size, as bound by ``values`` (plus every int dimension by itself)."""
    expr = ricci.parse(expression, kinds)
    out: dict = {}
    for name, var in expr.variables.items():
        for dim, n in zip(var.dims, np.shape(values[name])):
            out[dim] = n
    for dim, factors in expr._checked.products.items():  # vec(X) is mn long, kron's sides mp, nq
        sizes = [f if isinstance(f, int) else out.get(f) for f in factors]
        if None not in sizes:
            out.setdefault(dim, sizes[0] * sizes[1])
    return out


# --------------------------------------------------------------------------------------------
# answers in the input language
# --------------------------------------------------------------------------------------------
_NAME = re.compile(r"(?<![0-9.])\b[A-Za-z_][A-Za-z0-9_]*")


def parse_answer(text: str, kinds: Mapping) -> "ricci.Expression":
    """Parse an answer with the kinds of the question, restricted to the names it uses."""
    used = set(_NAME.findall(text))
    return ricci.parse(text, {n: k for n, k in kinds.items() if n in used})


def _pin_term(expr: "ricci.Expression", wrt, order: int) -> str | None:
    """An expression of the derivative's matrix shape, to fix sizes that `eye`/`matrix(c)` leave open."""
    if not isinstance(wrt, str):
        return None
    kind = expr.variables[wrt].kind
    if expr.shape == ():
        if kind == "vector":
            return f"{wrt}'" if order == 1 else (f"{wrt}*{wrt}'" if order == 2 else None)
        if kind in ("matrix", SYMMETRIC) and order == 1:
            return wrt
        return None
    if len(expr.shape) == 1 and kind == "vector" and order == 1 and " where " not in expr.source:
        return f"({expr.source})*{wrt}'"
    return None


def evaluate_answer(text: str, values: Mapping, kinds: Mapping, *, expression: str | None = None,
                    wrt=None, order: int = 1) -> np.ndarray:
    """Evaluate an answer written in the input language at ``values`` (only the names it uses).

    An answer such as ``2*eye`` leaves its size open; then, when ``expression`` and ``wrt`` say
    what the size is, ``(answer) + 0*(a term of that shape)`` is evaluated instead.
    """
    parsed = parse_answer(text, kinds)
    try:
        return np.asarray(parsed.evaluate({n: values[n] for n in parsed.variables}), dtype=float)
    except ricci.BadValueError as e:
        pin = None
        if expression is not None and "not fixed" in str(e):
            pin = _pin_term(ricci.parse(expression, kinds), wrt, order)
        if pin is None:
            raise
        pinned = parse_answer(f"({text}) + 0*({pin})", kinds)
        return np.asarray(pinned.evaluate({n: values[n] for n in pinned.variables}), dtype=float)


# --------------------------------------------------------------------------------------------
# the referee
# --------------------------------------------------------------------------------------------
def assert_close(actual, expected, *, rtol: float, what: str) -> None:
    """|actual − expected| ≤ rtol·(|expected| + max(1, max|expected|)), entry by entry, same shape."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    err = np.abs(actual - expected)
    bound = rtol * (np.abs(expected) + scale)
    worst = float(np.max(err - bound)) if err.size else -1.0
    assert worst <= 0, (
        f"{what}: max error {float(np.max(err)):.3g} (scale {scale:.3g}, rtol {rtol:g})\n"
        f"actual:\n{actual}\nexpected:\n{expected}")


def fd_rtol(order: int) -> float:
    """Tolerance against finite differences for a derivative of this order."""
    return 1e-6 if order <= 2 else 1e-5


#: Tolerance between two exact computations (engine vs NumPy closed form vs parsed text).
EXACT_RTOL = 1e-8


@dataclass
class Checked:
    """What :func:`check_derivative` found, for further assertions in a test."""

    d: object  # the ricci derivative
    values: dict
    fd: np.ndarray
    got: np.ndarray
    sizes: dict
    text_value: np.ndarray | None
    book_matches: bool | None  # parse(d.text) == parse(book), None when no book form


def resolve_shape(shape: Sequence, sizes: Mapping) -> tuple:
    """d.shape (dimension names, or ints for fixed sizes) → the NumPy shape."""
    out = []
    for s in shape:
        if isinstance(s, (int, np.integer)):
            out.append(int(s))
        elif isinstance(s, str) and s.isdigit():
            out.append(int(s))
        else:
            assert s in sizes, f"d.shape names dimension {s!r}, unknown among {sorted(map(str, sizes))}"
            out.append(sizes[s])
    return tuple(out)


def check_derivative(expression: str, wrt: str | Sequence[str], *, kinds: Mapping | None = None,
                     order: int = 1, values: Mapping | None = None, sizes=None, seed: int = 0,
                     closed: Callable[[dict], np.ndarray] | None = None, book: str | None = None,
                     text_has_matrix_form: bool | None = None) -> Checked:
    """Check ``ricci.derivative(expression, wrt, order, kinds)`` every way the contract allows.

    1. The references agree among themselves, before the engine is called: finite differences
       vs ``closed(values)`` (NumPy) and vs ``book`` (the book's form in the input language).
    2. ``d.evaluate(values)`` has the §1 shape, which ``d.shape`` names, and the numbers of
       finite differences, of the closed form and of the book's form.
    3. Where the result has a matrix form (at most two axes), ``d.text`` parses and evaluates
       to the numbers of ``d.evaluate`` (acceptance point 6).
    """
    if values is None:
        values = random_values(expression, kinds, sizes, seed=seed)
    values = dict(values)
    expr = ricci.parse(expression, kinds)
    all_kinds = expr.kinds
    sizes_bound = dimension_sizes(expression, values, kinds)
    fd = numeric_derivative(expression, wrt, values, kinds, order)
    rtol = fd_rtol(order)

    # 1. the references, on their own
    expected = None
    if closed is not None:
        expected = np.asarray(closed(values), dtype=float)
        assert_close(expected, fd, rtol=rtol, what="closed form (NumPy) vs finite differences")
    book_value = None
    if book is not None:
        book_value = evaluate_answer(book, values, all_kinds, expression=expression, wrt=wrt, order=order)
        assert_close(book_value.reshape(fd.shape), fd, rtol=rtol,
                     what=f"book form {book!r} vs finite differences")

    # 2. the engine's numbers
    d = ricci.derivative(expression, wrt, order=order, kinds=kinds)
    got = np.asarray(d.evaluate(values), dtype=float)
    assert got.shape == fd.shape, f"d.evaluate has shape {got.shape}; §1 says {fd.shape}"
    assert resolve_shape(tuple(d.shape), sizes_bound) == fd.shape, (
        f"d.shape {d.shape} does not describe the value's shape {fd.shape}")
    assert_close(got, fd, rtol=rtol, what="d.evaluate vs finite differences")
    if expected is not None:
        assert_close(got, expected, rtol=EXACT_RTOL, what="d.evaluate vs closed form")
    if book_value is not None:
        assert_close(got, book_value.reshape(got.shape), rtol=EXACT_RTOL,
                     what=f"d.evaluate vs the book's form {book!r}")  # matches_compact_form

    # 3. the text answer, parsed again
    assert isinstance(d.text, str) and d.text.strip(), "d.text is empty"
    if text_has_matrix_form is None:
        text_has_matrix_form = got.ndim <= 2
    text_value = None
    if text_has_matrix_form:
        try:
            text_value = evaluate_answer(d.text, values, all_kinds, expression=expression, wrt=wrt,
                                         order=order)
        except ricci.RicciError as e:
            raise AssertionError(
                f"the result has a matrix form (shape {got.shape}), but d.text is not input language "
                f"that evaluates: {d.text!r}\n{type(e).__name__}: {e}") from e
        assert text_value.shape == got.shape, (
            f"d.text {d.text!r} evaluates to shape {text_value.shape}, d.evaluate to {got.shape}")
        assert_close(text_value, got, rtol=EXACT_RTOL, what=f"d.text {d.text!r} vs d.evaluate")

    book_matches = None
    if book is not None:
        try:
            book_matches = parse_answer(d.text, all_kinds) == parse_answer(book, all_kinds)
        except ricci.RicciError:
            book_matches = False
    return Checked(d, values, fd, got, sizes_bound, text_value, book_matches)


def pinned(expression: str, wrt, text: str, *, order: int = 1, kinds: Mapping | None = None,
           values: Mapping | None = None) -> Checked:
    """The derivative's text is exactly ``text``, and ``text`` has the derivative's numbers
    (:func:`check_derivative` with ``book=text``)."""
    r = check_derivative(expression, wrt, order=order, kinds=kinds, values=values, book=text)
    assert r.d.text == text
    return r


def backend_array(backend: str) -> Callable:
    """NumPy value → an array of the generated code's ``backend`` (``"numpy"``, ``"jax"`` with
    64-bit floats, ``"torch"``, ``"array_api"``: array_api_strict), float64 throughout; the test
    is skipped where the backend's package is not installed."""
    if backend == "jax":
        jnp = pytest.importorskip("jax.numpy")
        import jax

        jax.config.update("jax_enable_x64", True)
        return jnp.asarray
    if backend == "torch":
        torch = pytest.importorskip("torch")

        def convert(v):  # float64 also for a scalar (torch.tensor(1.5) is float32)
            return torch.tensor(np.asarray(v, dtype=float))
        return convert
    if backend == "array_api":
        return pytest.importorskip("array_api_strict").asarray
    return np.asarray


def compact_length(text: str) -> int:
    """Length of an answer with its spaces removed."""
    return len(re.sub(r"\s+", "", text))


# -- shared by the speed tests (counts, never timings) and the solver's simplex tests ----------------

def count_calls(monkeypatch, owner, attribute: str) -> list:
    """Count the calls of ``owner.attribute`` from now on (a list of one number)."""
    calls = [0]
    real = getattr(owner, attribute)

    def counting(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, attribute, counting)
    return calls


def count_nodes_made(monkeypatch) -> list:
    """Count the IR nodes made from now on (a list of one number): each new node is entered in
    the hash-consing table with one weak reference, a ``ricci.ir.nodes._Ref``, counted as it is
    made (the budget's charge of each node is written out in ricci.ir.nodes, not a call to count)."""
    import ricci.ir.nodes as N

    made = [0]

    class Counting(N._Ref):
        __slots__ = ()

        def __init__(self, *args):
            made[0] += 1
            super().__init__(*args)

    monkeypatch.setattr(N, "_Ref", Counting)
    return made


def simplex_data(n, seed):
    """Q (positive definite) and q of the simplex-constrained quadratic p'*Q*p + q'*p."""
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    return B @ B.T / n + 0.01 * np.eye(n), rng.standard_normal(n)


def simplex_kkt(Q, q, p):
    """The exact minimiser of p'Qp + q'p over the simplex on the support of ``p`` and the
    multiplier ν of sum(p) == 1 (2Q_SS p_S + q_S + ν = 0, 1'p_S = 1), checked to be the global
    minimum: p ≥ 0 and the multipliers 2Qp + q + ν of p ≥ 0 non-negative."""
    S = np.flatnonzero(p > 1e-8)
    k = S.size
    K = np.block([[2 * Q[np.ix_(S, S)], np.ones((k, 1))], [np.ones((1, k)), np.zeros((1, 1))]])
    sol = np.linalg.solve(K, np.concatenate([-q[S], [1.0]]))
    ref = np.zeros_like(p)
    ref[S] = sol[:k]
    nu = sol[k]
    assert (ref >= 0).all() and (2 * Q @ ref + q + nu >= -1e-8).all(), "not the KKT point: the support is wrong"
    return ref, nu


def lines_to_show(monkeypatch, expression: str, wrt: str, files: Collection[str], only: str | None = None) -> int:
    """Lines Python executes in ``files`` (or in the one function of theirs named ``only``) while
    ``d.text`` shows the derivative: a count of work that is deterministic, unlike a clock."""
    import sys

    import ricci.deep

    # the derivation runs in this thread (not ricci.deep's worker), where the trace is set
    monkeypatch.setattr(ricci.deep._local, "inside", True, raising=False)
    d = ricci.derivative(expression, wrt, timeout=600)
    files = set(files)
    lines = [0]

    def local(frame, event, arg):
        if event == "line":
            lines[0] += 1
        return local

    def calls(frame, event, arg):
        code = frame.f_code
        return local if code.co_filename in files and (only is None or code.co_name == only) else None

    before = sys.gettrace()
    sys.settrace(calls)
    try:
        assert d.text
    finally:
        sys.settrace(before)
    monkeypatch.undo()
    return lines[0]


def network(depth: int, *, f: str = "tanh", tag: str = "") -> str:
    """issue 21's deep network ``sum(f(W_L*…f(W_1*x)))`` (weights named W{tag}1 … W{tag}L), as
    benchmarks/depth_scaling.py's ``tanh_network`` writes it."""
    inner = "x"
    for k in range(1, depth + 1):
        inner = f"{f}(W{tag}{k}*{inner})"
    return f"sum({inner})"


def orthogonal_network(depth: int, *, n: int = 3, seed: int, scale: float) -> dict:
    """Values of :func:`network`'s x (``scale`` times a standard normal) and W1 … W{depth}
    orthogonal (each layer keeps the length): with a small x the tanh stay near their slope 1,
    and the gradient at depth 64 does not vanish (one worth comparing)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    values = {"x": scale * rng.standard_normal(n)}
    for k in range(1, depth + 1):
        q, r = np.linalg.qr(rng.standard_normal((n, n)))
        values[f"W{k}"] = q * np.sign(np.diag(r))
    return values


def network_value(values: dict, depth: int, x) -> float:
    """The tanh :func:`network`'s value at x in NumPy alone (the weights from ``values``)."""
    import numpy as np

    z = np.asarray(x, dtype=float)
    for k in range(1, depth + 1):
        z = np.tanh(values[f"W{k}"] @ z)
    return float(np.sum(z))


def network_values(depth: int, n: int, seed: int) -> tuple[dict, "np.ndarray"]:
    """Random values of :func:`network`'s x and W1 … W{depth} (n×n, scaled by 1/√n so the layers
    neither vanish nor saturate) and the tanh network's gradient by x there, by the chain rule
    backwards through the layers in NumPy alone: the reference a deep network's answer is held to."""
    import numpy as np

    rng = np.random.default_rng(seed)
    values = {"x": rng.standard_normal(n)}
    for k in range(1, depth + 1):
        values[f"W{k}"] = rng.standard_normal((n, n)) / np.sqrt(n)
    hs = [values["x"]]
    for k in range(1, depth + 1):
        hs.append(np.tanh(values[f"W{k}"] @ hs[-1]))
    g = np.ones(n)
    for k in range(depth, 0, -1):
        g = values[f"W{k}"].T @ (g * (1 - hs[k] ** 2))
    return values, g


def assert_network_text_is_its_gradient(depth: int, n: int, seed: int) -> None:
    """The depth-``depth`` network's gradient text, parsed back and evaluated, equals
    :func:`network_values`'s chain rule in NumPy: the display of a deep answer held to a
    reference that shares nothing with ricci."""
    import numpy as np

    import ricci

    values, g = network_values(depth, n, seed=seed)
    text = ricci.derivative(network(depth), "x", timeout=600).text
    np.testing.assert_allclose(ricci.parse(text).evaluate(values), g, rtol=1e-10, atol=1e-13)


@contextlib.contextmanager
def in_this_thread():
    """ricci's public calls run here, in this thread (not in ricci.deep's worker, where a profile
    set here would not see them), with room to recurse; both restored after."""
    import sys

    import ricci.deep

    inside = getattr(ricci.deep._local, "inside", False)
    limit = sys.getrecursionlimit()
    ricci.deep._local.inside = True
    sys.setrecursionlimit(max(limit, 20000))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)
        ricci.deep._local.inside = inside


def profiled(work: Callable, profile: Callable) -> object:
    """``work()`` with ``profile`` as ``sys.setprofile``'s function, :func:`in_this_thread`; the
    profile removed after.

    The cyclic collector is run before and held off during: a collection in the middle of the
    work would free what earlier tests left (IR nodes among it), and each freed object's weakref
    callback (ir/nodes.py's ``_gone``, weakref.py's ``remove``) is a Python call that the profile
    would count as the work's, so a count depended on the tests run before (CI once counted 8,827
    naming calls where the work makes 4,324)."""
    import gc
    import sys

    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        with in_this_thread():
            sys.setprofile(profile)
            try:
                return work()
            finally:
                sys.setprofile(None)
    finally:
        if was:
            gc.enable()


def python_calls(work: Callable) -> tuple[object, int]:
    """(``work()``, the Python calls it made): ``sys.setprofile``'s call events, a count of work
    that is deterministic, unlike a clock (:func:`profiled`)."""
    seen = [0]

    def count(frame, event, arg):
        if event == "call":
            seen[0] += 1

    got = profiled(work, count)
    return got, seen[0]


def python_and_c_calls(work: Callable) -> tuple[object, int]:
    """(``work()``, the Python and C calls it made): ``sys.setprofile``'s call and c_call
    events (:func:`profiled`)."""
    seen = [0]

    def count(frame, event, arg):
        if event == "call" or event == "c_call":
            seen[0] += 1

    got = profiled(work, count)
    return got, seen[0]


def calls_by_step(work: Callable, steps: Mapping) -> dict:
    """The Python calls ``work()`` makes, by the innermost step each is made in: ``steps`` maps a
    function's code object to the step's name; a call outside every step counts as "other"."""
    counts: dict = {}
    stack: list = []

    def count(frame, event, arg):
        if event == "call":
            step = steps.get(frame.f_code)
            if step is not None:
                stack.append((frame, step))
            top = stack[-1][1] if stack else "other"
            counts[top] = counts.get(top, 0) + 1
        elif event == "return" and stack and stack[-1][0] is frame:
            stack.pop()

    assert profiled(work, count)
    return counts


#: derivatives whose display the call-counting tests compare with a former step's work (the
#: display's steps, tests/test_scale_display_calls.py and test_scale_naming4_calls.py)
DISPLAY_CASES = [
    ("x'*A*x", "x", 1), ("tr(A*X*B)", "X", 1), ("sum(tanh(W*x))", "x", 1), ("logdet(X)", "X", 1),
    ("tr(inv(X))", "X", 1), ("norm2(A*x - b)^2", "x", 1), ("sum(log(1 + exp(A*x)))", "x", 1),
    ("sum(log(1 + exp(A*x)))", "x", 2), ("tanh(W*x)", "x", 1), ("A*X*B", "X", 1), ("det(X)", "X", 1),
    ("sum(W*x + b)", "b", 1), ("log(sum(exp(x)))", "x", 2), ("softmax(x)", "x", 1), ("tr(X^3)", "X", 2),
    ("0.5*lambda*w'*w", "w", 2), ("sum(sigmoid(W2*sigmoid(W1*x)))", "x", 2), ("x'*inv(A + x*x')*x", "x", 2),
    ("logdet(inv(X + A) + inv(X + B))", "X", 1), ("sign(x)'*x", "x", 1), ("sum(abs(x))", "x", 2),
    ("exp(x - log(sum(exp(x))))", "x", 1), ("x'*A*x/(x'*B*x)", "x", 2), ("y'*log(sigmoid(X*w))", "w", 2),
    ("x1*exp(x1*x2^2)", ["x1", "x2"], 2), ("-x'*inv(X)'*A'*B'*inv(X)'*y", "X", 1),
    (network(3), "x", 2), (network(9), "x", 1), (network(4, f="sigmoid"), "x", 1),
]


def dag_nodes(root) -> list:
    """Every node of an IR DAG once, in a fixed order (a shared node where it is first met)."""
    seen, out, stack = {}, [], [root]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen[id(n)] = n
        out.append(n)
        stack.extend(n.children())
    return out
