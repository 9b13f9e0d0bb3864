"""The one table of functions: everything about ``exp``, ``tr``, ``inv``, … in one entry each.

An entry says what the function accepts and returns (its *signature* family), how NumPy
evaluates it on the 2-D working representation of :mod:`ricci.evaluate` (scalars are 1×1,
vectors n×1 or 1×n), its derivative where it is an elementwise function (as a function that
builds the IR of f′(u) from the IR node u), and its names in text and LaTeX.  Adding a function
touches this file only; ``tests/test_functions.py`` runs over every entry.

Derivatives of the non-elementwise functions (``sum``, ``tr``, ``det``, ``inv``, …) follow
from their lowering to index notation (:mod:`ricci.lower`) and the rules of :mod:`ricci.diff`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


def _sigmoid(a):
    # 0.5*(1 + tanh(a/2)) is exact and never overflows, unlike 1/(1 + exp(-a)).
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _step(a):
    # Heaviside step with step(0) = 0: the a.e. derivative of relu, as JAX and PyTorch use.
    return (a > 0).astype(float)


@dataclass(frozen=True)
class Function:
    """One function of the language.

    ``family`` is one of:
      * ``"elementwise"`` – applied entry by entry, result of the argument's shape;
      * ``"reduction"`` – any argument → scalar (``sum``, ``norm1``, ``norm2``);
      * ``"square"`` – square matrix → scalar (``tr``, ``det``, ``logdet``);
      * ``"inverse"`` – square matrix → square matrix;
      * ``"diag"`` – vector → diagonal matrix, square matrix → vector of its diagonal;
      * ``"constant"`` – ``vector(c)``, ``matrix(c)``: all entries c, size from the context.
    """

    name: str
    family: str
    numpy: Callable
    latex: str
    #: elementwise only: u ↦ IR of f′(u) (built by ricci.diff, which imports the IR)
    derivative: str | None = None
    #: one-line formula, shown in docs and in the derivation steps
    doc: str = ""


# Elementwise derivative formulas are written in the input language with ``u`` for the argument;
# ricci.diff parses each once (through the same pipeline as user text) and substitutes u.
FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        Function("exp", "elementwise", np.exp, r"\exp", "exp(u)", "d exp(u) = exp(u) du"),
        Function("log", "elementwise", np.log, r"\log", "1/u", "d log(u) = du / u"),
        Function("sin", "elementwise", np.sin, r"\sin", "cos(u)", "d sin(u) = cos(u) du"),
        Function("cos", "elementwise", np.cos, r"\cos", "-sin(u)", "d cos(u) = -sin(u) du"),
        Function("tan", "elementwise", np.tan, r"\tan", "1 + tan(u)^2", "d tan(u) = (1 + tan(u)^2) du"),
        Function("arcsin", "elementwise", np.arcsin, r"\arcsin", "(1 - u^2)^(-0.5)",
                 "d arcsin(u) = du / sqrt(1 - u^2)"),
        Function("arccos", "elementwise", np.arccos, r"\arccos", "-(1 - u^2)^(-0.5)",
                 "d arccos(u) = -du / sqrt(1 - u^2)"),
        Function("arctan", "elementwise", np.arctan, r"\arctan", "1/(1 + u^2)",
                 "d arctan(u) = du / (1 + u^2)"),
        Function("tanh", "elementwise", np.tanh, r"\tanh", "1 - tanh(u)^2",
                 "d tanh(u) = (1 - tanh(u)^2) du"),
        Function("sqrt", "elementwise", np.sqrt, r"\sqrt", "0.5*u^(-0.5)",
                 "d sqrt(u) = du / (2 sqrt(u))"),
        Function("abs", "elementwise", np.abs, r"\operatorname{abs}", "sign(u)",
                 "d |u| = sign(u) du (almost everywhere; 0 at u = 0)"),
        Function("sign", "elementwise", np.sign, r"\operatorname{sign}", "0",
                 "d sign(u) = 0 (almost everywhere; undefined at u = 0)"),
        Function("relu", "elementwise", lambda a: np.maximum(a, 0.0), r"\operatorname{relu}",
                 "step(u)", "d relu(u) = step(u) du (almost everywhere; step(0) = 0)"),
        Function("step", "elementwise", _step, r"\operatorname{step}", "0",
                 "d step(u) = 0 (almost everywhere; undefined at u = 0); step(u) = 1 if u > 0 else 0"),
        Function("sigmoid", "elementwise", _sigmoid, r"\sigma", "sigmoid(u)*(1 - sigmoid(u))",
                 "d sigmoid(u) = sigmoid(u) (1 - sigmoid(u)) du"),
        Function("sum", "reduction", lambda a: np.sum(a).reshape(1, 1), r"\operatorname{sum}",
                 None, "sum(X) = Σ_ij X_ij"),
        Function("norm1", "reduction", lambda a: np.sum(np.abs(a)).reshape(1, 1), r"\lVert{}\rVert_1",
                 None, "norm1(X) = Σ_ij |X_ij|"),
        Function("norm2", "reduction", lambda a: np.sqrt(np.sum(a * a)).reshape(1, 1),
                 r"\lVert{}\rVert_2", None, "norm2(X) = sqrt(Σ_ij X_ij^2) (Euclidean / Frobenius)"),
        Function("tr", "square", lambda a: np.trace(a).reshape(1, 1), r"\operatorname{tr}", None,
                 "tr(X) = Σ_i X_ii"),
        Function("det", "square", lambda a: np.asarray(np.linalg.det(a)).reshape(1, 1), r"\det", None,
                 "d det(X) = det(X) tr(inv(X) dX)  (Matrix Cookbook (46))"),
        Function("logdet", "square", lambda a: _logdet(a), r"\log\det", None,
                 "d logdet(X) = tr(inv(X) dX)  (Matrix Cookbook (57)); needs det(X) > 0"),
        Function("inv", "inverse", np.linalg.inv, r"^{-1}", None,
                 "d inv(X) = -inv(X) dX inv(X)  (Matrix Cookbook (59))"),
        Function("diag", "diag", None, r"\operatorname{diag}", None,
                 "diag(v) = Σ_i v_i e_i e_i'; diag(X) = (X_11, …, X_nn)'"),
        Function("vector", "constant", None, r"\mathbf{1}", None, "vector(c): every entry c"),
        Function("matrix", "constant", None, r"\mathbf{1}", None, "matrix(c): every entry c"),
    ]
}

#: Aliases accepted in input, mapped to their canonical names.
ALIASES = {"trace": "tr", "asin": "arcsin", "acos": "arccos", "atan": "arctan", "heaviside": "step"}

#: Names that denote the identity matrix (size implied), unless declared as variables.
IDENTITY_NAMES = ("eye", "I")


def _logdet(a):
    sign, value = np.linalg.slogdet(a)
    return np.asarray(value if sign > 0 else np.nan).reshape(1, 1)


def lookup(name: str) -> Function | None:
    return FUNCTIONS.get(ALIASES.get(name, name))
