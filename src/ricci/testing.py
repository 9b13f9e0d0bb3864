# Over 600 lines: one type-directed generator over every construct of the language, with the domains it keeps.
"""Hypothesis strategies for ricci: random well-typed expressions, and values for them.

Test suites (ricci's own, and anyone's who builds on it) use these to check a property on
many expressions at once: printing round-trips, evaluation, and later derivatives against
finite differences::

    from hypothesis import given, settings, strategies as st
    import ricci
    from ricci.testing import expressions, values_for

    @given(expressions(), st.data())
    def test_evaluates(sample, data):
        e = ricci.parse(sample.text, sample.kinds)
        values = data.draw(values_for(e))
        ricci.evaluate(e, values)          # finite: the generator keeps to every domain

``hypothesis`` is a test dependency, imported by this module only; ``import ricci`` never
imports it (nor this module).

This module holds what users import: the strategies and the oracle check
(:func:`check_derivative`, :func:`assert_matches_derivative`).  ricci's own testing machinery
lives in ``tools/``: campaigns against an oracle and rule coverage (``tools/oracle_runs.py``),
renamed and reordered inputs (``tools/rewritten_inputs.py``), fuzz texts (``tools/fuzz_texts.py``).

How expressions are built
-------------------------
*Type-directed*: to make an expression of a target type (scalar, column vector of dimension
n, row vector, m×n matrix) the generator picks a construct that yields that type and makes
its operands, of the types the construct needs, the same way, down to a depth limit.  The
construct at the top is drawn uniformly from :data:`FEATURES` (or given: ``feature=``), so
that a few hundred examples certainly meet every construct.  Leaves
are the variables of :data:`VARIABLES` (a fixed pool with known kinds and dimensions, named by
MatrixCalculus.org's naming rule so that they mean the same with or without a declaration),
numbers, and the bound names of ``where``.  Every construct of the language appears: ``'`` and
``.T``, ``+ -`` (with a scalar broadcasting), unary ``-``, ``*`` and ``@``, ``/`` by a scalar,
``.* ./ .^``, ``^`` and ``**``, every elementwise function of :data:`ricci.functions.FUNCTIONS`
(a new entry is picked up automatically), ``sum tr norm1 norm2 det logdet inv diag``,
``vector(c) matrix(c) eye I``, literals and ``where``; aliases such as ``trace`` and
redundant parentheses appear now and then, so that the canonical text differs from the input.

Invariants the generated expressions keep, so that :func:`values_for` can draw any values:

* **Domains.** An argument that must be positive is built positive (``exp(u)``,
  ``u.*u + 1``), one that must lie in (-1, 1) as ``0.5*tanh(u)`` (see :data:`DOMAINS`); a
  divisor is positive; a non-integer power has a positive base; ``inv``, ``det`` and ``logdet``
  get symmetric positive definite matrices ``E'*E + eye`` (eigenvalues ≥ 1, so inverses stay
  bounded) or ``diag(exp(v))``.  Arguments of ``exp`` and of powers with a variable exponent
  are shallow, so that nothing overflows at values in [-1, 1] (the round-trip test checks
  that every value is finite).
* **Smoothness** on request: ``expressions(smooth=True)`` leaves out the functions of
  :data:`NONSMOOTH` (``abs``, ``sign``, ``relu``, ``step``, ``norm1``), whose derivatives exist
  only almost everywhere — for tests that compare derivatives with finite differences.
* **Sizes.** Every dimension of every subexpression is tied, through the operations, to a
  variable or a literal, so that ``vector(c)``, ``matrix(c)`` and ``eye`` always have a size.
  A literal fixes its dimension to the length in :data:`DIMENSIONS`; the other dimensions stay
  symbolic and :func:`values_for` gives each a different size, so a transposition cannot pass
  by accident.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as e:  # the strategies are Hypothesis's; the core does not need it
    raise ImportError('ricci.testing needs Hypothesis: pip install "hypothesis>=6.80" '
                      '(or pip install "ricci[test]")', name="hypothesis") from e

from .functions import ALIASES, FUNCTIONS

if TYPE_CHECKING:  # pragma: no cover
    from .language.expression import Expression

__all__ = [
    "DIMENSIONS",
    "DOMAINS",
    "FEATURES",
    "GeneratedExpression",
    "NONSMOOTH",
    "TARGETS",
    "VARIABLES",
    "WRT_KINDS",
    "DerivativeProblem",
    "assert_matches_derivative",
    "check_derivative",
    "derivative_problems",
    "expressions",
    "points",
    "values_for",
]

# -- the pool ----------------------------------------------------------------------------------

#: The generator's dimensions, each with the length a literal of that dimension gets.
DIMENSIONS: dict[str, int] = {"n": 2, "m": 3, "k": 4}

#: A type is (rows, columns): 1 or a dimension of :data:`DIMENSIONS`.
Type = tuple

SCALAR = (1, 1)

#: The variables expressions are made of: name → (kind, type).  The names follow the naming
#: rule (``a``–``g`` and ``alpha`` scalars, ``h``–``z`` and ``theta`` vectors, capitals
#: matrices); symmetric matrices must be declared, the others are declared at random.
VARIABLES: dict[str, tuple[str, Type]] = {
    "a": ("scalar", SCALAR),
    "b": ("scalar", SCALAR),
    "alpha": ("scalar", SCALAR),
    "x": ("vector", ("n", 1)),
    "x_1": ("vector", ("n", 1)),
    "y": ("vector", ("m", 1)),
    "theta": ("vector", ("m", 1)),
    "z": ("vector", ("k", 1)),
    "A": ("matrix", ("m", "n")),
    "B": ("matrix", ("n", "k")),
    "C": ("matrix", ("m", "m")),
    "Phi": ("matrix", ("m", "k")),
    "S": ("symmetric matrix", ("n", "n")),
    "W": ("symmetric matrix", ("k", "k")),
}

#: Names ``where`` binds (never variables of the pool).
BOUND_NAMES = ("w1", "w2")

#: How an elementwise function's argument is kept inside its domain:
#: ``"positive"`` (built as exp(u), u.*u + 1, ...), ``"unit"`` (0.5*tanh(u), inside (-1, 1)
#: and away from its ends), ``"shallow"`` (a small expression, so that exp cannot overflow).
#: A function not listed takes any argument.  Read off the function table (``Function.sample``
#: in ricci.functions): a new function with a restricted domain says so in its entry (the
#: round-trip test fails until it does).
DOMAINS: dict[str, str] = {n: f.sample for n, f in FUNCTIONS.items() if f.sample is not None}

#: Functions differentiable only almost everywhere, left out by ``expressions(smooth=True)``
#: (``Function.nonsmooth`` in the function table).
NONSMOOTH = frozenset(n for n, f in FUNCTIONS.items() if f.nonsmooth)

#: The targets :func:`expressions` accepts.
TARGETS = ("scalar", "vector", "row vector", "matrix")

_NUMBERS = ("2", "0.5", "3", "1e-3", "1.5", ".5", "3.0", "2.5e-1")
_INT_EXPONENTS = ("2", "3")
_POSITIVE_EXPONENTS = ("0.5", "-1", "-0.5", "1.5", "(-2)", "-2")

# Precedence levels of the grammar, loosest first (as in printing/text.py, kept separate on
# purpose: the generator is an independent writer of the language).
_SUM, _PRODUCT, _UNARY, _POWER, _POSTFIX, _ATOM = range(1, 7)

_ALIASES_OF: dict[str, list[str]] = {}
for _alias, _name in ALIASES.items():
    _ALIASES_OF.setdefault(_name, []).append(_alias)


class GeneratedExpression(NamedTuple):
    """One expression drawn by :func:`expressions`.

    ``text`` is in the input language; ``kinds`` declares some of its variables (always the
    symmetric ones) and is meant for ``ricci.parse(text, kinds)``; ``target`` is the kind of
    its value, one of :data:`TARGETS`.
    """

    text: str
    kinds: dict[str, str]
    target: str


class _Piece(NamedTuple):
    """A generated subexpression: its text, the precedence level of its top operator, and
    the free names it uses."""

    text: str
    level: int
    names: frozenset


# -- text assembly -----------------------------------------------------------------------------


def _operand(draw, p: _Piece, level: int) -> str:
    """``p``'s text as an operand that needs at least ``level``: parenthesised if it binds
    more loosely, and now and then anyway (redundant parentheses must not matter)."""
    if p.level < level or draw(st.integers(0, 11)) == 0:
        return f"({p.text})"
    return p.text


def _binary(draw, left: _Piece, op: str, right: _Piece) -> _Piece:
    level = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "@": _PRODUCT, "/": _PRODUCT,
             ".*": _PRODUCT, "./": _PRODUCT}[op]
    lmin, rmin = (_SUM, _PRODUCT) if level == _SUM else (_PRODUCT, _UNARY)
    space = " " if level == _SUM or draw(st.integers(0, 4)) == 0 else ""
    text = f"{_operand(draw, left, lmin)}{space}{op}{space}{_operand(draw, right, rmin)}"
    return _Piece(text, level, left.names | right.names)


def _power(draw, base: _Piece, op: str, exponent: str | _Piece) -> _Piece:
    """``base op exponent`` for ``^``, ``**`` and ``.^``; a string exponent is a number text."""
    if isinstance(exponent, _Piece):
        exp_text, names = _operand(draw, exponent, _POSTFIX), exponent.names
    else:
        exp_text, names = exponent, frozenset()
    return _Piece(f"{_operand(draw, base, _POWER)}{op}{exp_text}", _POWER, base.names | names)


def _call(draw, func: str, arg: _Piece) -> _Piece:
    name = func
    if func in _ALIASES_OF and draw(st.integers(0, 3)) == 0:
        name = draw(st.sampled_from(_ALIASES_OF[func]))
    return _Piece(f"{name}({arg.text})", _ATOM, arg.names)


def _transpose(draw, p: _Piece, mark: str | None = None) -> _Piece:
    mark = mark or draw(st.sampled_from(["'", ".T"]))
    return _Piece(f"{_operand(draw, p, _POSTFIX)}{mark}", _POSTFIX, p.names)


def _neg(draw, p: _Piece) -> _Piece:
    return _Piece(f"-{_operand(draw, p, _UNARY)}", _UNARY, p.names)


def _atom(text: str, names=frozenset()) -> _Piece:
    return _Piece(text, _ATOM, frozenset(names))


def _transposed(t: Type) -> Type:
    return (t[1], t[0])


def _eye(draw) -> _Piece:
    return _atom(draw(st.sampled_from(["eye", "I"])))


# -- the generator -----------------------------------------------------------------------------


class _Gen:
    """Draws subexpressions of a given type; ``scope`` maps usable names to their types.

    Every ``make_*`` method takes the target type ``t`` and the depth ``d`` left for its
    operands, and returns a :class:`_Piece` of type ``t``.
    """

    def __init__(self, draw, scope: dict[str, Type], prefer: tuple[str, ...] = (),
                 smooth: bool = False):
        self.draw = draw
        self.scope = scope
        self.prefer = prefer  # bound names, used more often than pool variables
        self.smooth = smooth  # leave out the functions of NONSMOOTH

    # leaves ---------------------------------------------------------------------------------
    def leaf(self, t: Type) -> _Piece:
        draw = self.draw
        names = [n for n, nt in self.scope.items() if nt == t]
        flipped = [n for n, nt in self.scope.items() if nt == _transposed(t) and t != SCALAR]
        preferred = [n for n in self.prefer if n in names]
        if preferred and draw(st.booleans()):
            return _atom(draw(st.sampled_from(preferred)))  # a bound name: not a free name
        options = []
        if t == SCALAR:
            options.append("number")
        options += ["name"] * bool(names) + ["flipped"] * bool(flipped)
        choice = draw(st.sampled_from(options))
        if choice == "number":
            return _atom(draw(st.sampled_from(_NUMBERS)))
        if choice == "name":
            n = draw(st.sampled_from(names))
            return _atom(n, self._free(n))
        n = draw(st.sampled_from(flipped))
        return _transpose(draw, _atom(n, self._free(n)))

    def _free(self, name: str) -> set:
        return set() if name in BOUND_NAMES else {name}

    # the recursive case ---------------------------------------------------------------------
    def expr(self, t: Type, depth: int) -> _Piece:
        """Any expression of type ``t``, at most ``depth`` constructs deep."""
        draw = self.draw
        if depth <= 0 or draw(st.integers(0, 7)) == 0:
            return self.leaf(t)
        feature = draw(st.sampled_from([f for f in _features(self.smooth) if _fits(f, t)]))
        return self.feature(feature, t, depth)

    def feature(self, feature: str, t: Type, depth: int) -> _Piece:
        """An expression of type ``t`` whose top construct is ``feature`` (see FEATURES)."""
        if feature in _ELEMENTWISE_FEATURES:
            return self.make_function(t, depth - 1, feature[:-2])
        return getattr(self, _FEATURES[feature][1])(t, depth - 1)

    def _dim(self):
        return self.draw(st.sampled_from(list(DIMENSIONS)))

    # constructs for every type -------------------------------------------------------------
    def make_sum(self, t, d):
        draw = self.draw
        op = draw(st.sampled_from(["+", "-"]))
        if t != SCALAR and draw(st.integers(0, 3)) == 0:  # a scalar broadcasts
            s = self.expr(SCALAR, d)
            e = self.expr(t, d)
            return _binary(draw, s, op, e) if draw(st.booleans()) else _binary(draw, e, op, s)
        return _binary(draw, self.expr(t, d), op, self.expr(t, d))

    def make_neg(self, t, d):
        return _neg(self.draw, self.expr(t, d))

    def make_scaled(self, t, d):
        s, e = self.expr(SCALAR, d), self.expr(t, d)
        return _binary(self.draw, s, "*", e) if self.draw(st.booleans()) else _binary(self.draw, e, "*", s)

    def make_divided(self, t, d):
        return _binary(self.draw, self.expr(t, d), "/", self.positive(SCALAR, d))

    def make_hadamard(self, t, d):
        draw = self.draw
        left = self.expr(SCALAR if t != SCALAR and draw(st.integers(0, 3)) == 0 else t, d)
        return _binary(draw, left, ".*", self.expr(t, d))

    def make_elementwise_div(self, t, d):
        return _binary(self.draw, self.expr(t, d), "./", self.positive(t, d))

    def make_elementwise_power(self, t, d):
        draw = self.draw
        form = draw(st.sampled_from(["integer", "positive base", "scalar base"]))
        if form == "integer":
            return _power(draw, self.expr(t, d), ".^", draw(st.sampled_from(_INT_EXPONENTS)))
        if form == "positive base":
            return _power(draw, self.positive(t, d), ".^", draw(st.sampled_from(_POSITIVE_EXPONENTS)))
        base = _atom(draw(st.sampled_from(["2", "0.5"])))  # 2.^u: u shallow, so no overflow
        return _power(draw, base, ".^", self.expr(t, min(d, 1)))

    def make_function(self, t, d, name=None):
        draw = self.draw
        name = name or draw(st.sampled_from([f for f in _elementwise()
                                             if not (self.smooth and f in NONSMOOTH)]))
        domain = DOMAINS.get(name, "any")
        if domain == "positive":
            arg = self.positive(t, d)
        elif domain == "unit":
            arg = _binary(draw, _atom("0.5"), "*", _call(draw, "tanh", self.expr(t, d)))
        elif domain == "shallow":
            arg = self.expr(t, min(d, 1))
        else:
            arg = self.expr(t, d)
        return _call(draw, name, arg)

    def make_transpose(self, t, d):
        return _transpose(self.draw, self.expr(_transposed(t), d), "'")

    def make_dot_t(self, t, d):
        return _transpose(self.draw, self.expr(_transposed(t), d), ".T")

    def make_literal(self, t, d):
        """A literal of type ``t``: ``[s]``, ``[a, b]``, ``[a; b]``, ``[a, b; c, d]``.

        Its dimensions become the lengths in :data:`DIMENSIONS`; a matrix of more than six
        entries is written as the outer product of a column and a row literal."""
        if t == SCALAR:  # [s] is a 1×1 literal, a scalar
            e = self.expr(SCALAR, d)
            return _atom(f"[{e.text}]", e.names)
        rows, cols = (DIMENSIONS.get(x, 1) for x in t)
        if rows * cols > 6:
            column, row = self.make_literal((t[0], 1), d), self.make_literal((1, t[1]), d)
            return _binary(self.draw, column, "*", row)
        entries = [[self.expr(SCALAR, min(d, 1)) for _ in range(cols)] for _ in range(rows)]
        sep = self.draw(st.sampled_from([", ", ","]))
        text = "[" + "; ".join(sep.join(e.text for e in row) for row in entries) + "]"
        return _atom(text, frozenset().union(*(e.names for row in entries for e in row)))

    # scalars --------------------------------------------------------------------------------
    def make_power(self, t, d, op="^"):
        draw = self.draw
        if draw(st.booleans()):
            return _power(draw, self.expr(SCALAR, d), op, draw(st.sampled_from(_INT_EXPONENTS)))
        return _power(draw, self.positive(SCALAR, d), op, draw(st.sampled_from(_POSITIVE_EXPONENTS)))

    def make_python_power(self, t, d):
        return self.make_power(t, d, "**")

    def make_inner(self, t, d):
        k = self._dim()
        return _binary(self.draw, self.expr((1, k), d), "*", self.expr((k, 1), d))

    def _reduce(self, name, d):
        draw = self.draw
        arg_t = draw(st.sampled_from([SCALAR, (self._dim(), 1), (1, self._dim()),
                                      (self._dim(), self._dim())]))
        return _call(draw, name, self.expr(arg_t, d))

    def make_sum_of(self, t, d):
        return self._reduce("sum", d)

    def make_norm1(self, t, d):
        return self._reduce("norm1", d)

    def make_norm2(self, t, d):
        return self._reduce("norm2", d)

    def make_trace(self, t, d):
        k = self._dim()
        return _call(self.draw, "tr", self.expr((k, k), d))

    def make_det(self, t, d):
        return _call(self.draw, "det", self.spd(self._dim(), d))

    def make_logdet(self, t, d):
        return _call(self.draw, "logdet", self.spd(self._dim(), d))

    # vectors and matrices -------------------------------------------------------------------
    def make_product(self, t, d, op="*"):
        """A matrix product that yields ``t``: M*v, v'*M, M*N or an outer product u*v'."""
        draw = self.draw
        rows, cols = t
        if rows != 1 and cols != 1 and draw(st.integers(0, 3)) == 0:  # outer product
            return _binary(draw, self.expr((rows, 1), d), op, self.expr((1, cols), d))
        k = self._dim()
        return _binary(draw, self.expr((rows, k), d), op, self.expr((k, cols), d))

    def make_matmul(self, t, d):  # Python's spelling
        return self.make_product(t, d, "@")

    def make_diag_of_matrix(self, t, d):  # diag(X): square matrix → vector
        return _call(self.draw, "diag", self.expr((t[0], t[0]), d))

    def make_diag_of_vector(self, t, d):  # diag(x): vector → diagonal matrix
        v = self.expr((t[0], 1), d) if self.draw(st.booleans()) else self.expr((1, t[0]), d)
        return _call(self.draw, "diag", v)

    def make_inverse(self, t, d):
        if t[1] == 1:  # inv(M)*v, as in a Newton step
            return _binary(self.draw, self.make_inverse((t[0], t[0]), d), "*", self.expr(t, d))
        return _call(self.draw, "inv", self.spd(t[0], d))

    def make_eye(self, t, d):
        draw = self.draw
        e = self.expr(t, d)
        rows, cols = t
        if rows == cols and draw(st.booleans()):
            return _binary(draw, e, draw(st.sampled_from(["+", "-"])), _eye(draw))
        if cols == 1 or (rows == cols and draw(st.booleans())):
            return _binary(draw, _eye(draw), "*", e)
        return _binary(draw, e, "*", _eye(draw))

    def make_ones(self, t, d):
        """``vector(c)`` or ``matrix(c)`` next to an operand that fixes its size."""
        draw = self.draw
        c = self.expr(SCALAR, 0)
        rows, cols = t
        if t == SCALAR:
            k = self._dim()
            if draw(st.booleans()):  # vector(c)'*x
                ones = _transpose(draw, _call(draw, "vector", c))
                return _binary(draw, ones, "*", self.expr((k, 1), d))
            m = self.expr((k, self._dim()), d)  # sum(matrix(c).*M)
            return _call(draw, "sum", _binary(draw, _call(draw, "matrix", c), ".*", m))
        if rows == 1:
            ones = _transpose(draw, _call(draw, "vector", c))
        else:
            ones = _call(draw, "vector" if cols == 1 else "matrix", c)
        e = self.expr(t, d)
        op = draw(st.sampled_from(["+", "-", ".*"]))
        return _binary(draw, ones, op, e) if draw(st.booleans()) else _binary(draw, e, op, ones)

    def make_vector_of(self, t, d):
        if t == SCALAR and self.draw(st.booleans()):
            # sum(vector(c) + 0*x) = c·n: a dimension's size as a number (a Size node of the IR)
            zero = _binary(self.draw, _atom("0"), "*", self.expr((self._dim(), 1), d))
            ones = _call(self.draw, "vector", self.expr(SCALAR, 0))
            return _call(self.draw, "sum", _binary(self.draw, ones, "+", zero))
        if t == SCALAR:  # vector(c)'*x
            ones = _transpose(self.draw, _call(self.draw, "vector", self.expr(SCALAR, 0)))
            return _binary(self.draw, ones, "*", self.expr((self._dim(), 1), d))
        return self.make_ones(t, d)

    def make_matrix_of(self, t, d):
        if t == SCALAR:  # sum(matrix(c).*M)
            m = self.expr((self._dim(), self._dim()), d)
            ones = _call(self.draw, "matrix", self.expr(SCALAR, 0))
            return _call(self.draw, "sum", _binary(self.draw, ones, ".*", m))
        return self.make_ones(t, d)

    # safe arguments ---------------------------------------------------------------------------
    def positive(self, t: Type, d: int) -> _Piece:
        """An expression of type ``t`` whose entries are all > 0."""
        draw = self.draw
        form = draw(st.sampled_from(["exp", "square plus one", "number"] if t == SCALAR
                                    else ["exp", "square plus one"]))
        if form == "number":
            return _atom(draw(st.sampled_from(["2", "0.5", "3"])))
        u = self.expr(t, min(d, 1))
        if form == "exp":
            return _call(draw, "exp", u)
        if t == SCALAR:
            square = _power(draw, u, "^", "2") if draw(st.booleans()) else _binary(draw, u, "*", u)
        else:
            square = _binary(draw, u, ".*", u)
        return _binary(draw, square, "+", _atom("1"))

    def spd(self, k: str, d: int) -> _Piece:
        """A symmetric positive definite k×k matrix with eigenvalues ≥ 1 (or a positive diagonal)."""
        draw = self.draw
        form = draw(st.sampled_from(["E'E", "EE'", "diag"]))
        if form == "diag":
            return _call(draw, "diag", _call(draw, "exp", self.expr((k, 1), min(d, 1))))
        other = self._dim()
        if form == "E'E":
            e = self.expr((other, k), min(d, 1))
            gram = _binary(draw, _transpose(draw, e), "*", e)
        else:
            e = self.expr((k, other), min(d, 1))
            gram = _binary(draw, e, "*", _transpose(draw, e))
        return _binary(draw, gram, "+", _eye(draw))


def _elementwise() -> list[str]:
    return sorted(n for n, f in FUNCTIONS.items() if f.family == "elementwise")


_ANY = frozenset(TARGETS)
_SCALAR_ONLY = frozenset({"scalar"})
_ARRAYS = frozenset({"vector", "row vector", "matrix"})

#: The constructs of the language, each with the targets it can yield and its maker; a name
#: ending in ``()`` is an elementwise function (all of FUNCTIONS, added below).  "square" in
#: the targets means a square matrix.
_FEATURES: dict[str, tuple[frozenset, str]] = {
    "+ -": (_ANY, "make_sum"),
    "unary -": (_ANY, "make_neg"),
    "scalar times": (_ANY, "make_scaled"),
    "/": (_ANY, "make_divided"),
    ".*": (_ANY, "make_hadamard"),
    "./": (_ANY, "make_elementwise_div"),
    ".^": (_ANY, "make_elementwise_power"),
    "'": (_ANY, "make_transpose"),
    ".T": (_ANY, "make_dot_t"),
    "[a; b]": (frozenset({"vector", "matrix"}), "make_literal"),
    "[a, b]": (frozenset({"scalar", "row vector"}), "make_literal"),
    "^": (_SCALAR_ONLY, "make_power"),
    "**": (_SCALAR_ONLY, "make_python_power"),
    "inner product": (_SCALAR_ONLY, "make_inner"),
    "*": (_ARRAYS, "make_product"),
    "@": (_ARRAYS, "make_matmul"),
    "sum()": (_SCALAR_ONLY, "make_sum_of"),
    "norm1()": (_SCALAR_ONLY, "make_norm1"),
    "norm2()": (_SCALAR_ONLY, "make_norm2"),
    "tr()": (_SCALAR_ONLY, "make_trace"),
    "det()": (_SCALAR_ONLY, "make_det"),
    "logdet()": (_SCALAR_ONLY, "make_logdet"),
    "inv()": (frozenset({"vector", "square"}), "make_inverse"),
    "diag(matrix)": (frozenset({"vector"}), "make_diag_of_matrix"),
    "diag(vector)": (frozenset({"square"}), "make_diag_of_vector"),
    "vector(c)": (frozenset({"scalar", "vector", "row vector"}), "make_vector_of"),
    "matrix(c)": (frozenset({"scalar", "matrix"}), "make_matrix_of"),
    "eye I": (_ARRAYS, "make_eye"),
}
_ELEMENTWISE_FEATURES = {f"{name}()" for name in _elementwise()}

#: Every construct :func:`expressions` can put at the top of an expression (``feature=``):
#: the operators and functions of the language, each elementwise function by name, and
#: ``"where"``.
FEATURES: tuple[str, ...] = tuple(_FEATURES) + tuple(sorted(_ELEMENTWISE_FEATURES)) + ("where",)


def _features(smooth: bool) -> list[str]:
    return [f for f in FEATURES if not (smooth and f.endswith("()") and f[:-2] in NONSMOOTH)]


def _targets_of(feature: str) -> frozenset:
    if feature in _ELEMENTWISE_FEATURES or feature == "where":
        return _ANY
    return _FEATURES[feature][0]


def _fits(feature: str, t: Type) -> bool:
    if feature == "where":
        return False  # only at the top
    targets = _targets_of(feature)
    rows, cols = t
    if t == SCALAR:
        return "scalar" in targets
    if cols == 1:
        return "vector" in targets
    if rows == 1:
        return "row vector" in targets
    return "matrix" in targets or ("square" in targets and rows == cols)


def _type_for(draw, target: str, feature: str) -> Type:
    dims = list(DIMENSIONS)
    if target == "scalar":
        return SCALAR
    if target == "vector":
        return (draw(st.sampled_from(dims)), 1)
    if target == "row vector":
        return (1, draw(st.sampled_from(dims)))
    rows = draw(st.sampled_from(dims))
    if "matrix" not in _targets_of(feature):  # a feature for square matrices only
        return (rows, rows)
    return (rows, draw(st.sampled_from(dims)))


def _target_kinds(feature: str) -> list[str]:
    targets = _targets_of(feature)
    return [t for t in TARGETS if t in targets or (t == "matrix" and "square" in targets)]


@st.composite
def _expressions(draw, target: str | None, max_depth: int, bindings: bool,
                 feature: str | None, smooth: bool) -> GeneratedExpression:
    if feature is None:
        options = [f for f in _features(smooth) if target is None or target in _target_kinds(f)]
        if not bindings:
            options.remove("where")
        feature = draw(st.sampled_from(options))
    target = target or draw(st.sampled_from(_target_kinds(feature)))
    t = _type_for(draw, target, feature)
    scope = {name: vt for name, (_, vt) in VARIABLES.items()}
    binds: list[tuple[str, _Piece]] = []
    if feature == "where" or (bindings and draw(st.integers(0, 7)) == 0):
        for name in BOUND_NAMES[: draw(st.integers(1, len(BOUND_NAMES)))]:
            bt = draw(st.sampled_from([SCALAR, ("n", 1), ("m", "n")]))
            gen = _Gen(draw, dict(scope), tuple(n for n, _ in binds), smooth)
            binds.append((name, gen.expr(bt, max(1, max_depth - 1))))
            scope[name] = bt
    gen = _Gen(draw, scope, tuple(n for n, _ in binds), smooth)
    if feature == "where":
        body = gen.expr(t, max_depth)
    else:
        body = gen.feature(feature, t, max(1, max_depth))
    text = body.text
    if binds:
        text += " where " + ", ".join(f"{n} = {p.text}" for n, p in binds)
    used = set(body.names).union(*(p.names for _, p in binds))
    kinds = {}
    for name in sorted(used):
        kind = VARIABLES[name][0]
        if kind == "symmetric matrix" or draw(st.booleans()):
            kinds[name] = kind
    return GeneratedExpression(text, kinds, target)


def expressions(target: str | None = None, max_depth: int = 3, bindings: bool = True,
                feature: str | None = None, smooth: bool = False):
    """A strategy of :class:`GeneratedExpression`: a random well-typed expression text.

    ``target`` fixes the kind of its value (one of :data:`TARGETS`; default: any);
    ``max_depth`` bounds the nesting of constructs; ``bindings`` allows ``where``;
    ``feature`` fixes the construct at the top (one of :data:`FEATURES`; default: drawn
    uniformly, so that a few hundred examples meet every construct of the language);
    ``smooth`` leaves out the functions of :data:`NONSMOOTH`.  Parse a sample with ``ricci.parse(sample.text, sample.kinds)``.
    """
    if target is not None and target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
    if feature is not None:
        if feature not in FEATURES:
            raise ValueError(f"feature must be one of {FEATURES}, not {feature!r}")
        if target is not None and target not in _target_kinds(feature):
            raise ValueError(f"{feature} cannot yield a {target}")
        if smooth and feature not in _features(True):
            raise ValueError(f"{feature} is not smooth")
    return _expressions(target, max_depth, bindings, feature, smooth)


# -- values --------------------------------------------------------------------------------------

_ENTRY = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=64)


def values_for(expr: "Expression | GeneratedExpression | str", sizes: dict | None = None):
    """A strategy of values for the variables of ``expr``, honouring their kinds.

    ``expr`` is a parsed :class:`ricci.Expression` (or a :class:`GeneratedExpression`, or a
    text, which are parsed first).  ``sizes`` maps the expression's dimension names (as in
    ``expr.variables[name].dims``) to sizes; every dimension not given gets a size ≥ 2 that
    differs from all the others, so that a transposition cannot pass by accident.  Dimensions
    a literal fixed are ints already.

    Scalars come as floats, vectors as 1-D arrays, matrices as 2-D arrays, entries in [-1, 1];
    a symmetric matrix is symmetric.  The expressions of :func:`expressions` are defined and
    finite at every such value.
    """
    from . import parse

    if isinstance(expr, GeneratedExpression):
        expr = parse(expr.text, expr.kinds)
    elif isinstance(expr, str):
        expr = parse(expr)
    variables = expr.variables
    fixed = dict(sizes or {})
    for dim, size in fixed.items():
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"the size of {dim} must be a positive int, not {size!r}")
    symbols: list[str] = []
    used = set(fixed.values())
    for v in variables.values():
        for dim in v.dims:
            if isinstance(dim, int):
                used.add(dim)
            elif dim not in fixed and dim not in symbols:
                symbols.append(dim)
    candidates = [s for s in range(2, 2 + len(symbols) + len(used) + 3) if s not in used]

    @st.composite
    def draw_values(draw):
        order = draw(st.permutations(candidates))
        size = dict(fixed)
        size.update(zip(symbols, order))
        out = {}
        for name, v in variables.items():
            shape = tuple(d if isinstance(d, int) else size[d] for d in v.dims)
            if v.kind == "scalar":
                out[name] = draw(_ENTRY)
                continue
            arr = draw(hnp.arrays(float, shape, elements=_ENTRY))
            if v.kind == "symmetric matrix":
                arr = (arr + arr.T) / 2
            out[name] = arr
        return out

    return draw_values()


# ================================================================================================
# Derivatives: problems, points, checkers, the oracle, rule coverage
# ================================================================================================

#: The kinds of ``wrt`` that :func:`derivative_problems` draws: a variable of each kind, and
#: ``"scalars"``, a list of scalar names (the row of partials).
WRT_KINDS = ("scalar", "vector", "matrix", "symmetric matrix", "scalars")


class DerivativeProblem(NamedTuple):
    """One derivative to check: ``ricci.derivative(text, wrt, order, kinds)`` at the point
    that ``ricci.numeric_check.find_point`` draws with ``numpy.random.default_rng(seed)``."""

    text: str
    kinds: dict
    wrt: "str | tuple"
    order: int
    wrt_kind: str
    target: str
    seed: int

    @property
    def wrt_arg(self):
        """``wrt`` as ``ricci.derivative`` takes it (a list for several scalars)."""
        return list(self.wrt) if isinstance(self.wrt, tuple) else self.wrt

    def reproducer(self, oracle: str = "fd") -> str:
        """Python lines that rebuild the case (to paste into a bug report), with the point
        ``tools/oracle_runs.py``'s ``run_problem`` uses for that ``oracle``."""
        spare = ", spare=1" if oracle == "jax" else ""
        return (f"d = ricci.derivative({self.text!r}, {self.wrt_arg!r}, {self.order}, {self.kinds!r})\n"
                f"values = ricci.numeric_check.find_point(d.expression, "
                f"numpy.random.default_rng({self.seed}){spare})")


@st.composite
def _derivative_problems(draw, orders, max_depth, smooth, bindings, target) -> DerivativeProblem:
    from . import parse

    sample = draw(expressions(target=target, max_depth=max_depth, bindings=bindings, smooth=smooth))
    e = parse(sample.text, sample.kinds)
    kinds = dict(sample.kinds)
    used = e.variables
    by_kind = {k: sorted(n for n, v in used.items() if v.kind == k)
               for k in ("scalar", "vector", "matrix", "symmetric matrix")}
    unused = {k: sorted(n for n, (kind, _) in VARIABLES.items() if kind == k and n not in used)
              for k in by_kind}
    options = [k for k in WRT_KINDS[:4] if by_kind[k]]
    if by_kind["scalar"]:
        options.append("scalars")
    if not options or draw(st.integers(0, 24)) == 0:
        # a scalar the expression does not use, in a list (the one place ricci.derivative takes
        # one: a coordinate asked for explicitly, whose column is zero); a lone name it does
        # not use is an error (tests/test_wrt_and_cli.py)
        names = by_kind["scalar"] + [draw(st.sampled_from(unused["scalar"] or ["c_unused"]))]
        wrt = tuple(draw(st.permutations(names))[:draw(st.integers(1, min(3, len(names))))])
        if not set(wrt) & set(unused["scalar"]):
            wrt = wrt[:-1] + (names[-1],)
        return DerivativeProblem(sample.text, kinds, wrt, draw(st.sampled_from(orders)), "scalars",
                                 sample.target, draw(st.integers(0, 2**32 - 1)))
    wrt_kind = draw(st.sampled_from(options))
    if wrt_kind == "scalars":
        names = list(by_kind["scalar"])
        if unused["scalar"] and (len(names) < 2 or draw(st.integers(0, 3)) == 0):
            # with a scalar it does not use
            names.append(draw(st.sampled_from(unused["scalar"])))
        k = draw(st.integers(2, min(3, len(names))))
        wrt = tuple(draw(st.permutations(names))[:k])
    else:
        wrt = draw(st.sampled_from(by_kind[wrt_kind]))
    return DerivativeProblem(sample.text, kinds, wrt, draw(st.sampled_from(orders)), wrt_kind,
                             sample.target, draw(st.integers(0, 2**32 - 1)))


def derivative_problems(orders=(1, 2), max_depth: int = 3, smooth: bool = False,
                        bindings: bool = True, target: str | None = None):
    """A strategy of :class:`DerivativeProblem`: a random expression of :func:`expressions`, a
    ``wrt`` of a kind drawn from :data:`WRT_KINDS` among those it has (now and then a list that
    holds a scalar it does not use, whose column is 0), an order from ``orders``, and a seed for the point."""
    return _derivative_problems(tuple(orders), max_depth, smooth, bindings, target)


def points(expr: "Expression | GeneratedExpression | str", sizes: dict | None = None):
    """A strategy of values for ``expr`` that honour its kinds *and its domains*: positive
    where ``log``/``sqrt``/a divisor need it, well-conditioned matrices under ``inv``/``det``/
    ``logdet``, away from the kinks of ``abs``/``relu``/…; a different size for every
    dimension (see :func:`ricci.numeric_check.find_point`).  For any expression, where
    :func:`values_for` is for those of :func:`expressions` only."""
    import numpy as np

    from . import parse
    from .numeric_check import find_point

    if isinstance(expr, GeneratedExpression):
        expr = parse(expr.text, expr.kinds)
    elif isinstance(expr, str):
        expr = parse(expr)
    return st.integers(0, 2**32 - 1).map(lambda s: find_point(expr, np.random.default_rng(s), sizes))


def check_derivative(expression, wrt, order: int = 1, kinds: dict | None = None, values=None,
                     trials: int = 3, seed=0, rtol: float = 1e-6):
    """Assert that ricci's derivative agrees with finite differences (``Derivative.check``);
    returns the report.  For property tests of code that builds expressions::

        @given(st.sampled_from(["x'*A*x", "log(sum(exp(x)))"]))
        def test_my_expressions(text):
            check_derivative(text, "x", order=2)
    """
    from . import derivative

    report = derivative(expression, wrt, order, kinds).check(values, trials, seed, rtol)
    if not report.passed:
        raise AssertionError(f"{expression!r} by {wrt!r}, order {order}: {report}")
    return report


def assert_matches_derivative(fn, expression, wrt, values: dict, order: int = 1,
                              kinds: dict | None = None, rtol: float = 1e-8):
    """Assert that your own ``fn(**values)`` (a hand-written gradient, Jacobian, Hessian …)
    equals ricci's derivative at ``values``, in ricci's layout (ARCHITECTURE §1)::

        @given(points("x'*A*x"))
        def test_my_gradient(values):
            assert_matches_derivative(lambda x, A: x @ (A + A.T), "x'*A*x", "x", values)
    """
    import numpy as np

    from . import derivative
    from .numeric_check import format_error, relative_error

    d = derivative(expression, wrt, order, kinds)
    expected = np.asarray(d.evaluate(values), dtype=float)
    got = np.asarray(fn(**values), dtype=float)
    if got.shape != expected.shape:
        raise AssertionError(f"shape {got.shape}, but ricci's derivative {d.text} has shape {expected.shape}")
    err = relative_error(got, expected, 1e-12)
    if err > rtol:
        raise AssertionError(f"relative error {format_error(err)} against ricci's derivative {d.text}\n"
                             f"got:\n{got}\nricci:\n{expected}")
    return err
