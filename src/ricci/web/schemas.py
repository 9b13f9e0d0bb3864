"""The JSON API's request and response models (pydantic): the OpenAPI schema is made from these.

Requests are strict (unknown fields are rejected) and bounded: an expression is at most the
parser's length limit, names and kinds are short, lists and dicts are small.  Responses are
documented here but not validated on the way out (``responses=`` in :mod:`.app`), so that a
new optional part of an answer can never turn a good answer into a server error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator
from pydantic_core import PydanticCustomError

from ..derivation import MAX_ORDER
from ..language.parser import MAX_LENGTH

#: Longest variable name and kind accepted; most variables and values in one request.
MAX_NAME = 64
MAX_KIND = 32
MAX_VARIABLES = 64
MAX_WRT = 16
#: Most numbers in one value (a 64×64 matrix); the request-size limit bounds the total.
MAX_ENTRIES = 64

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME, examples=["x"])]
Kind = Annotated[str, Field(min_length=1, max_length=MAX_KIND, examples=["symmetric matrix"])]
Expression = Annotated[str, Field(max_length=MAX_LENGTH, examples=["x'*A*x"],
                                  description="an expression of ricci's input language")]
Wrt = Annotated[Name | Annotated[list[Name], Field(min_length=1, max_length=MAX_WRT)],
                Field(description="a variable's name, or a list of scalar names (the row of partials)",
                      examples=["x", ["x1", "x2"]])]
Kinds = Annotated[dict[Name, Kind] | None,
                  Field(max_length=MAX_VARIABLES,
                        description="declared kinds: scalar, vector, matrix, symmetric matrix",
                        examples=[{"A": "symmetric matrix"}])]
Order = Annotated[int, Strict(), Field(ge=1, le=MAX_ORDER, description="derivative order (2: the Hessian)")]
#: A number is a JSON number: strict, so that "3" (a string) and true are refused, not read as 3 and 1.
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Value = (Number | Annotated[list[Number], Field(max_length=MAX_ENTRIES)]
         | Annotated[list[Annotated[list[Number], Field(max_length=MAX_ENTRIES)]], Field(max_length=MAX_ENTRIES)])
Part = Literal["mathml", "steps", "check", "code", "analysis", "plot"]


#: The error type of a value that is no number, or a ragged matrix (the server answers it with
#: the kind "bad value", as ricci does, and the message names the variable).
BAD_VALUE = "bad_value"


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _what(x) -> str:
    if isinstance(x, bool):
        return f"{str(x).lower()}, a boolean"
    if isinstance(x, str):
        shown = x if len(x) <= 20 else x[:20] + "…"
        return f'"{shown}", a string'
    if x is None:
        return "null"
    return "a list" if isinstance(x, list) else "an object" if isinstance(x, dict) else type(x).__name__


def value_problem(name: str, v) -> str | None:
    """What is wrong with the value of ``name`` (None: it is a number, a list of numbers or a
    list of rows of one length), in the words of the CLI's ``--set``."""
    if _is_number(v):
        return None
    if not isinstance(v, list):
        return (f"the value of {name} is {_what(v)}: write a number (3), a list of numbers for a vector "
                "([1, 2, 3]) or a list of rows for a matrix ([[1, 2], [3, 4]])")
    if all(isinstance(row, list) for row in v) and v:
        for i, row in enumerate(v, 1):
            for j, x in enumerate(row, 1):
                if not _is_number(x):
                    return f"entry ({i}, {j}) of {name} is {_what(x)}, not a number"
        if len({len(row) for row in v}) > 1:
            return (f"the rows of {name} have different lengths ({', '.join(str(len(r)) for r in v)}): "
                    "a matrix needs rows of one length")
        return None
    for i, x in enumerate(v, 1):
        if not _is_number(x):
            if isinstance(x, list):
                return (f"entry {i} of {name} is a list while others are numbers: a vector is a list "
                        "of numbers, a matrix a list of rows")
            return f"entry {i} of {name} is {_what(x)}, not a number"
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParseRequest(_Strict):
    expression: Expression
    kinds: Kinds = None


class DerivativeRequest(_Strict):
    expression: Expression
    wrt: Wrt
    order: Order = 1
    kinds: Kinds = None
    include: list[Part] | None = Field(
        None, max_length=len(Part.__args__),
        description="the optional parts to compute (default: every part this installation has)")


class EvaluateRequest(_Strict):
    expression: Expression
    values: dict[Name, Value] = Field(max_length=MAX_VARIABLES,
                                      description="numbers, lists (vectors), lists of rows (matrices)",
                                      examples=[{"x": [1, 2], "A": [[1, 2], [3, 4]]}])
    kinds: Kinds = None
    wrt: Wrt | None = Field(None, description="when given, the derivative's value instead of f's")
    order: Order = 1

    @field_validator("values", mode="before")
    @classmethod
    def _values_are_numbers(cls, values):
        # before the types: pydantic would name the first alternative of a union that failed
        # ("values.A.float: …"), where a person wants to hear which variable and why
        if isinstance(values, dict):
            for name, v in values.items():
                problem = value_problem(str(name), v)
                if problem is not None:
                    raise PydanticCustomError(BAD_VALUE, problem)
        return values


class CompareRequest(_Strict):
    expression: Expression
    wrt: Wrt
    answer: Annotated[str, Field(max_length=MAX_LENGTH, examples=["2*x'*A"])]
    order: Order = 1
    kinds: Kinds = None


Bound = Annotated[float, Strict(), Field(ge=-1e6, le=1e6, allow_inf_nan=False)]


class PlotRequest(_Strict):
    expression: Expression
    wrt: Wrt
    kinds: Kinds = None
    at: Bound | Annotated[list[Bound], Field(min_length=1, max_length=2)] | None = Field(
        None, description="the point: a number, or two numbers for f of two scalars")
    range: tuple[Bound, Bound] | None = Field(None, description="(low, high) of the plotted box")
    format: Literal["png", "svg"] = "png"
    dpi: Annotated[int, Strict(), Field(ge=40, le=150)] = 80


# -- responses (documentation only) -----------------------------------------------------------------
class Hint(BaseModel):
    """Advice as data (ricci.hints.Hint): what to set, named after ricci's Python keyword."""

    set: str = Field(description="assume, at, values, kinds, timeout, max_elements, order, box, install")
    name: str | None = Field(None, description="the variable it is about")
    value: str | None = Field(None, description="an example value")


class ErrorDetail(BaseModel):
    kind: str = Field(description="syntax error, shape error, kind error, limit, bad request, busy, …")
    message: str
    span: list[int] | None = Field(None, description="[start, end) in `source`")
    source: str | None = None
    excerpt: str | None = Field(None, description="the source line holding the span")
    caret: str | None = Field(None, description="spaces and carets to print under `excerpt`")
    field: str | None = Field(None, description="the request field the error is in")
    page_message: str | None = Field(None, description="where the message gives advice: the same, naming "
                                                       "the page's controls")
    hints: list[Hint] | None = Field(None, description="where the message gives advice: what to set, as data")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class VariableKind(BaseModel):
    kind: str
    dims: list[str]
    source: str = Field(description="declared, forced (by the expression) or assumed (naming rule)")


class ParseResponse(BaseModel):
    expression: str
    text: str = Field(description="canonical form")
    shape: list[str]
    kinds: dict[str, VariableKind]
    default_wrt: str | None
    scalars: list[str]


class DerivativeResponse(BaseModel):
    expression: str
    wrt: str | list[str]
    order: int
    text: str = Field(description="the derivative in the input language (or index notation)")
    latex: str
    mathml: str | None = Field(None, description="MathML, where the MathML printer is installed")
    shape: list[str]
    shape_text: str
    matrix_form: bool
    index_notation: str
    function_shape: list[str]
    kinds: dict[str, VariableKind]
    steps: dict[str, Any] | None = None
    check: dict[str, Any] | None = None
    code: dict[str, Any] | None = Field(None, description="backend → {label, source}")
    analysis: dict[str, Any] | None = None
    plot: dict[str, Any] | None = Field(None, description="{wrt} when POST /api/plot can draw f")


class EvaluateResponse(BaseModel):
    value: float | list[Any] | None
    shape: list[int]


class CompareResponse(BaseModel):
    verdict: str
    kind_of_slip: str | None
    message: str
    right_answer: str
    answer: str
    expected_shape: str
    fix: str | None = None
    text: str
    page_text: str | None = Field(None, description="`text` naming the page's controls")
    page_message: str | None = Field(None, description="where the message gives advice: `message` naming "
                                                       "the page's controls")
    hints: list[Hint] = Field(default_factory=list, description="the advice of `message`, as data")


class HealthResponse(BaseModel):
    status: str
    version: str
    features: dict[str, bool]
    limits: dict[str, float]
    workers: int
    fast_workers: int = 0
    lanes: dict[str, int] = Field(default_factory=dict, description="requests answered by each lane so far")
