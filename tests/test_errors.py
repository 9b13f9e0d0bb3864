"""Malformed and ill-typed inputs: each gives the right ``RicciError`` with the right span.

Every case states the error class (exactly: a subclass is not enough), the text under the
span (``None`` where the error is about a value or a declaration, not about a place in the
expression), and a piece of the message.  Every message must read as plain words: no lark
token names, no Python reprs of internals.  Nothing else may be raised, and nothing may hang:
inputs over the documented limits are refused before the parser sees them.
"""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ricci
from ricci.language.parser import MAX_DEPTH, MAX_LENGTH, MAX_NESTING
from ricci.testing import values_for

NESTED_10000 = "(" * 10_000 + "x" + ")" * 10_000
NESTED_TOO_DEEP = "(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1)
ONE_MEGABYTE = "x+" * 500_000 + "x"
TOO_DEEP = "-" * (MAX_DEPTH + 100) + "a"
_rng = np.random.default_rng(7)


def _case(text, error, span_text, message, kinds=None, values=None, span=None):
    return pytest.param(text, kinds, values, error, span_text, message, span,
                        id=f"{error.__name__}: {text[:40]!r}")


Syntax, Unknown, Shape, Kind, Bad, Limit = (ricci.RicciSyntaxError, ricci.UnknownNameError,
                                            ricci.ShapeError, ricci.KindError,
                                            ricci.BadValueError, ricci.LimitError)

CASES = [
    # -- syntax: brackets, operators, literals, bindings, characters -------------------------
    _case("(x + y", Syntax, "(", "'(' is never closed (add ')')"),
    _case("x + y)", Syntax, ")", "')' closes a bracket that was never opened"),
    _case("[a, b)", Syntax, ")", "')' does not match the '[' opened at position 0"),
    _case("exp((x)", Syntax, "(", "never closed", span=(3, 4)),
    _case("x +", Syntax, "+", "the expression ends too early after '+'"),
    _case("x'*A*", Syntax, "*", "ends too early", span=(4, 5)),
    _case("a b", Syntax, "b", "an operator is missing before it"),
    _case("2x", Syntax, "x", "an operator is missing before it"),
    _case("x * * y", Syntax, "*", "expected an operand", span=(4, 5)),
    _case("x = 1", Syntax, "=", "'=' only binds a name after 'where'"),
    _case("x, y", Syntax, ",", "',' and ';' separate entries only inside [ ]"),
    _case("[]", Syntax, "]", "expected an operand"),
    _case("", Syntax, "", "the expression is empty"),
    _case("  \n\t", Syntax, "  \n\t", "the expression is empty"),
    _case("[a, b; c]", Syntax, "[a, b; c]", "the rows of this literal have different lengths (2, 1)"),
    _case("x where", Syntax, "where", "ends too early after 'where': expected a name"),
    _case("x where 1 = a", Syntax, "1", "expected a name"),
    _case("a where b = 1, b = 2", Syntax, "b", "b is bound twice", span=(15, 16)),
    _case("x where where = 1", Syntax, "where", "'where' is a keyword", span=(8, 13)),
    _case("1e999 * x", Syntax, "1e999", "the number 1e999 is too large"),
    _case("x..*y", Syntax, ".", "unexpected character '.'"),
    _case("x + ∂y", Syntax, "∂", "unexpected character '∂'"),
    _case("θ'*x", Syntax, "θ", "write theta"),
    _case("A × B", Syntax, "×", "write '*' instead"),
    _case("x\x00", Syntax, "\x00", "unexpected character U+0000"),
    _case("a + ☃☃☃", Syntax, "☃", "unexpected character '☃'", span=(4, 5)),
    # -- limits ---------------------------------------------------------------------------------
    _case(NESTED_10000, Limit, NESTED_10000[MAX_LENGTH:], f"the limit is {MAX_LENGTH:,}"),
    _case(NESTED_TOO_DEEP, Limit, "(", f"brackets nest more than {MAX_NESTING} deep",
          span=(MAX_NESTING, MAX_NESTING + 1)),
    _case(ONE_MEGABYTE, Limit, ONE_MEGABYTE[MAX_LENGTH:], "1,000,001 characters long"),
    _case(TOO_DEEP, Limit, TOO_DEEP, f"levels deep; the limit is {MAX_DEPTH}"),
    # -- unknown names ------------------------------------------------------------------------
    _case("foo(x) + 1", Unknown, "foo", "unknown function foo()"),
    _case("2*x(1)", Unknown, "x", "indexing such as x(1) is not part of the language"),
    _case("x + y", Unknown, None, "no value given for y", values={"x": [1.0, 2.0]}),
    # -- shapes ---------------------------------------------------------------------------------
    _case("A*x", Shape, "A*x", "x has length 3 but A*x needs length n = 4 (A is 5×4)",
          values={"A": np.ones((5, 4)), "x": np.ones(3)}),
    _case("x'*A*x", Shape, "x'*A", "A has 2 rows but x'*A needs n = 3 rows (x has length 3)",
          values={"x": np.ones(3), "A": np.ones((2, 2))}),
    _case("x + y'", Shape, "x + y'", "cannot add x (n×1) and y' (1×k): the shapes differ",
          kinds={"x": "vector", "y": "vector"}),
    _case("[1, 2]*[3, 4]", Shape, "[1, 2]*[3, 4]", "inner dimensions 2 and 1 differ"),
    _case("det([1, 2; 3, 4; 5, 6])", Shape, "det([1, 2; 3, 4; 5, 6])",
          "det() needs a square matrix, but [1, 2; 3, 4; 5, 6] is 3×2"),
    _case("x + [1; 2]", Shape, None, "x has length 3, but the expression needs length 2",
          values={"x": np.ones(3)}),
    # -- kinds ----------------------------------------------------------------------------------
    _case("tr(x)", Kind, "tr(x)", "tr() needs a square matrix, but x is n×1",
          kinds={"x": "vector"}),
    _case("x^y", Kind, "x", "the base of ^ must be a scalar, but x is n×1 (use .^",
          kinds={"x": "vector"}),
    _case("a^x", Kind, "x", "the exponent of ^ must be a scalar", kinds={"x": "vector"}),
    _case("A/x", Kind, "x", "can only divide by a scalar, but x is", kinds={"x": "vector"}),
    _case("exp(x, y)", Kind, "exp(x, y)", "exp() takes 1 argument, not 2"),
    _case("[x, a]", Kind, "x", "the entries of a literal must be scalars", kinds={"x": "vector"}),
    _case("vector(x)", Kind, "x", "vector(c) needs a scalar c", kinds={"x": "vector"}),
    _case("inv(a)", Kind, "inv(a)", "inv() needs a square matrix, but a is a scalar",
          kinds={"a": "scalar"}),
    _case("x", Kind, None, "unknown kind 'tensor' for x; use one of: scalar, vector, matrix",
          kinds={"x": "tensor"}),
    _case("q where q = a", Kind, None, "q is bound by 'where'", kinds={"q": "scalar"}),
    _case("x", Kind, None, "kinds must be a dict", kinds=["x"]),
    # -- values -------------------------------------------------------------------------------
    _case("A*x", Bad, None, "A is a matrix, so its value must be a 2-D array, not shape (3,)",
          values={"A": [1.0, 2.0, 3.0], "x": [1.0]}),
    _case("a*x", Bad, None, "a is a scalar, but its value has shape (2,)",
          values={"a": [1.0, 2.0], "x": [1.0]}),
    _case("x'*S*x", Bad, None, "S is declared a symmetric matrix, but its value is not symmetric",
          kinds={"S": "symmetric matrix"},
          values={"x": np.ones(2), "S": np.array([[1.0, 2.0], [0.0, 1.0]])}),
    _case("2*log(a)", Bad, "log(a)", "log(a) is undefined at these values: log needs positive",
          values={"a": -1.0}),
    _case("sum(sqrt(x))", Bad, "sqrt(x)", "sqrt needs arguments ≥ 0", values={"x": [1.0, -4.0]}),
    _case("a/(b - b)", Bad, "a/(b - b)", "is infinite at these values: division by zero",
          values={"a": 1.0, "b": 2.0}),
    _case("x'*inv(A)*x", Bad, "inv(A)", "the matrix is singular",
          values={"x": np.ones(2), "A": np.ones((2, 2))}),
    _case("logdet(A)", Bad, "logdet(A)", "logdet needs a matrix with a positive determinant",
          values={"A": -np.eye(3)}),
    _case("exp(exp(a))", Bad, "exp(exp(a))", "too large for a float (overflow)",
          values={"a": 6.7}),  # exp(a) ≈ 812 is fine, exp(812) overflows
    _case("matrix(1)*x", Bad, "matrix(1)", "the size m of matrix(1) is not fixed by any value",
          values={"x": np.ones(2)}),
    _case("a + 1", Bad, None, "the value of a is not a number", values={"a": "one"}),
    _case("x", Bad, None, "the value of x contains inf or nan", values={"x": [1.0, np.nan]}),
    _case("x", Bad, None, "the value of x is empty", values={"x": []}),
    _case("x", Bad, None, "values must be a dict", values=[1.0, 2.0]),
]


def test_a_kind_for_a_name_the_function_does_not_use_is_refused_by_derivative():
    with pytest.raises(ricci.UnknownNameError) as info:
        ricci.derivative("x'*A*x", "x", kinds={"B": "symmetric matrix"})  # a typo for A, most likely
    assert info.value.message == "a kind is given for B, but the expression does not use B"
    _assert_readable(info.value)


def test_parse_and_evaluate_leave_out_names_the_expression_does_not_use():
    # so that a function's kinds and values serve its derivative's text, which may not use them all
    assert ricci.parse("x", {"q": "scalar"}).variables.keys() == {"x"}
    assert list(ricci.evaluate("x", {"x": [1.0, 2.0], "z": 2.0})) == [1.0, 2.0]
    kinds = {"x": "vector", "a": "vector"}
    d = ricci.derivative("x'*a", "x", kinds=kinds)
    assert d.text == "a'"
    values = {"x": np.array([1.0, 2.0, 3.0]), "a": np.array([4.0, 5.0, 6.0])}
    np.testing.assert_array_equal(ricci.evaluate(d.text, values, kinds), d.evaluate(values))
    np.testing.assert_array_equal(d.evaluate(dict(values, q=7.0)), [4.0, 5.0, 6.0])
    # a name bound by 'where' is still not a variable to declare
    with pytest.raises(ricci.KindError, match="bound by 'where'"):
        ricci.parse("u where u = x", {"u": "vector"})


def _run(text, kinds, values):
    if values is None:
        return ricci.parse(text, kinds)
    return ricci.evaluate(text, values, kinds)


@pytest.mark.parametrize("text, kinds, values, error, span_text, message, span", CASES)
def test_error(text, kinds, values, error, span_text, message, span):
    # (no wall-clock bound: the inputs over a limit are refused before any work, see parser.py)
    with pytest.raises(ricci.RicciError) as info:
        _run(text, kinds, values)
    err = info.value
    assert type(err) is error, err.pretty()
    assert message in err.message
    if span_text is None:
        assert err.span is None
    else:
        assert err.source == text
        assert err.source[err.span[0]:err.span[1]] == span_text
        if span is not None:
            assert err.span == span
    _assert_readable(err)


def _assert_readable(err: ricci.RicciError) -> None:
    """The message is words for a student, and pretty() puts a caret line under the span."""
    for internal in ("Token(", "Tree(", "__ANON", "$END", "RPAR", "Traceback", "DimVar", "?0"):
        assert internal not in err.message
    assert err.message and "\n" not in err.message
    pretty = err.pretty()
    assert pretty.startswith(f"{err.kind}: {err.message}")
    if err.span is not None and err.source is not None:
        head, line, carets = pretty.split("\n")
        assert set(carets.strip()) == {"^"}
        assert len(line) <= 2 + 82 + 2  # long inputs are shown through a window


def test_every_error_class_is_exercised():
    classes = {c.values[3] for c in CASES}
    assert classes == {Syntax, Unknown, Shape, Kind, Bad, Limit}
    assert len(CASES) >= 25
    assert all(issubclass(c, ricci.RicciError) for c in classes)


def test_the_caret_line_sits_under_the_span():
    with pytest.raises(ricci.ShapeError) as info:
        ricci.evaluate("2 + A*x", {"A": np.ones((5, 4)), "x": np.ones(3)})
    assert info.value.pretty().split("\n")[1:] == ["  2 + A*x", "      ^^^"]


def test_a_long_input_is_shown_through_a_window():
    text = "a + " * 100 + "b c" + " + d" * 100
    with pytest.raises(ricci.RicciSyntaxError) as info:
        ricci.parse(text)
    _, line, carets = info.value.pretty().split("\n")
    assert line[carets.index("^")] == "c"
    assert "…" in line


def test_a_not_string_expression():
    with pytest.raises(ricci.RicciSyntaxError, match="must be a string, not int"):
        ricci.parse(3)


def test_inputs_at_the_limits_are_accepted():
    deep = "-" * (MAX_DEPTH - 1) + "a"
    assert ricci.evaluate(deep, {"a": 2.0}) == (2.0 if (MAX_DEPTH - 1) % 2 == 0 else -2.0)
    nested = "(" * MAX_NESTING + "a" + ")" * MAX_NESTING
    assert ricci.evaluate(nested, {"a": 2.0}) == 2.0
    long_sum = "+".join(["a"] * (MAX_DEPTH - 1))
    assert len(long_sum) < MAX_LENGTH
    assert ricci.evaluate(long_sum, {"a": 1.0}) == MAX_DEPTH - 1
    assert str(ricci.parse(long_sum)) == " + ".join(["a"] * (MAX_DEPTH - 1))


# ------------------------------------------------------------------------------------------------
# Fuzzing: any text gives an expression or a RicciError, never anything else
# ------------------------------------------------------------------------------------------------

_PIECES = ["x", "A", "a", "t", "2", "0.5", "1e3", "+", "-", "*", "/", "@", "^", "**", ".*", "./",
           ".^", "'", ".T", "(", ")", "[", "]", ",", ";", " ", "exp", "log", "tr", "inv", "det",
           "diag", "sum", "norm2", "vector", "matrix", "eye", "I", "where", "=", "x1", "é", "\n"]


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join), st.data())
def test_any_text_parses_or_raises_a_ricci_error(text, data):
    try:
        e = ricci.parse(text)
    except ricci.RicciError as err:
        _assert_readable(err)
        return
    assert ricci.parse(str(e)) == e
    try:
        values = data.draw(values_for(e))
        ricci.evaluate(e, values)
    except ricci.RicciError as err:
        _assert_readable(err)
