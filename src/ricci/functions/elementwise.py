"""The elementwise functions: applied entry by entry, the result of the argument's shape.

Each derivative is a formula in the input language with ``u`` for the argument; ricci.diff
parses it once (through the same pipeline as user text) and substitutes u.
"""

from __future__ import annotations

import math

import numpy as np

from .base import Function, add

INF = math.inf


def _sigmoid(a):
    # 0.5*(1 + tanh(a/2)) is exact and never overflows, unlike 1/(1 + exp(-a)).
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _step(a):
    # Heaviside step with step(0) = 0: the a.e. derivative of relu, as JAX and PyTorch use.
    return (a > 0).astype(float)


# -- the scalar functions on the extended reals, for the interval analysis (±inf as limits) ------

def _exp_inf(v):
    return 0.0 if v == -INF else (math.exp(v) if v < 709.0 else INF)


def _sigmoid_inf(v):
    return 0.5 * (1.0 + math.tanh(0.5 * v)) if abs(v) != INF else (1.0 if v > 0 else 0.0)


def _log_inf(v):
    return -INF if v == 0 else math.log(v)


def _abs_interval(a, S):
    if a.nonnegative:
        return a
    if a.nonpositive:
        return S.neg(a)
    return S.Interval(0.0, max(-a.lo, a.hi), False, a.lo_open and a.hi_open)


def _relu_interval(a, S):
    return S.Interval(max(a.lo, 0.0), max(a.hi, 0.0), a.lo_open and a.lo > 0, a.hi_open and a.hi > 0)


# -- code that is not one call of the namespace's function ---------------------------------------

def _sigmoid_code(p, a):
    # as ricci evaluates it: exact, and never overflows
    from ..codegen.backends import MUL, Code  # the printer's types; imported when code is made

    inner = p.call(p.m("tanh"), f"0.5 * {a.at(MUL + 1)}")
    return Code(f"0.5 * (1 + {inner.text})", MUL)


add(
    Function("exp", "elementwise", np.exp, r"\exp", "exp(u)", "d exp(u) = exp(u) du",
             xp=lambda xp, u: xp.exp(u), sympy=lambda sp, u: sp.exp(u),
             interval=lambda a, S: S.monotone(a, _exp_inf), needs="any sign", sample="shallow"),
    Function("log", "elementwise", np.log, r"\log", "1/u", "d log(u) = du / u",
             xp=lambda xp, u: xp.log(u), sympy=lambda sp, u: sp.log(u),
             interval=lambda a, S: S.monotone(S.clip(a, 0.0, True), _log_inf),
             watch="positive", needs="positive", sample="positive",
             nan_hint="log needs positive arguments", inf_hint="log needs positive arguments"),
    Function("sin", "elementwise", np.sin, r"\sin", "cos(u)", "d sin(u) = cos(u) du",
             xp=lambda xp, u: xp.sin(u), sympy=lambda sp, u: sp.sin(u),
             interval=lambda a, S: S.Interval(-1.0, 1.0), needs="any sign"),
    Function("cos", "elementwise", np.cos, r"\cos", "-sin(u)", "d cos(u) = -sin(u) du",
             xp=lambda xp, u: xp.cos(u), sympy=lambda sp, u: sp.cos(u),
             interval=lambda a, S: S.Interval(-1.0, 1.0), needs="any sign"),
    Function("tan", "elementwise", np.tan, r"\tan", "1 + tan(u)^2", "d tan(u) = (1 + tan(u)^2) du",
             xp=lambda xp, u: xp.tan(u), sympy=lambda sp, u: sp.tan(u),
             watch="pole", needs="small", sample="unit"),
    Function("arcsin", "elementwise", np.arcsin, r"\arcsin", "(1 - u^2)^(-0.5)",
             "d arcsin(u) = du / sqrt(1 - u^2)",
             xp=lambda xp, u: xp.arcsin(u), sympy=lambda sp, u: sp.asin(u),
             code={"torch": "asin", "array_api": "asin"},
             interval=lambda a, S: S.Interval(-math.pi / 2, math.pi / 2),
             watch="unit", needs="small", sample="unit", nan_hint="arcsin needs arguments in [-1, 1]"),
    Function("arccos", "elementwise", np.arccos, r"\arccos", "-(1 - u^2)^(-0.5)",
             "d arccos(u) = -du / sqrt(1 - u^2)",
             xp=lambda xp, u: xp.arccos(u), sympy=lambda sp, u: sp.acos(u),
             code={"torch": "acos", "array_api": "acos"},
             interval=lambda a, S: S.Interval(0.0, math.pi),
             watch="unit", needs="small", sample="unit", nan_hint="arccos needs arguments in [-1, 1]"),
    Function("arctan", "elementwise", np.arctan, r"\arctan", "1/(1 + u^2)",
             "d arctan(u) = du / (1 + u^2)",
             xp=lambda xp, u: xp.arctan(u), sympy=lambda sp, u: sp.atan(u),
             code={"torch": "atan", "array_api": "atan"},
             interval=lambda a, S: S.monotone(a, math.atan), needs="any sign"),
    Function("tanh", "elementwise", np.tanh, r"\tanh", "1 - tanh(u)^2",
             "d tanh(u) = (1 - tanh(u)^2) du",
             xp=lambda xp, u: xp.tanh(u), sympy=lambda sp, u: sp.tanh(u),
             interval=lambda a, S: S.monotone(a, math.tanh), needs="any sign"),
    Function("sqrt", "elementwise", np.sqrt, r"\sqrt", "0.5*u^(-0.5)",
             "d sqrt(u) = du / (2 sqrt(u))", layout="radical",
             xp=lambda xp, u: xp.sqrt(u), sympy=lambda sp, u: sp.sqrt(u),
             interval=lambda a, S: S.monotone(S.clip(a, 0.0, False), math.sqrt),
             watch="positive", needs="positive", sample="positive",
             nan_hint="sqrt needs arguments ≥ 0"),
    Function("abs", "elementwise", np.abs, r"\operatorname{abs}", "sign(u)",
             "d |u| = sign(u) du (almost everywhere; 0 at u = 0)",
             # |u| as u*sign(u), so that an autodiff oracle's derivative is sign(u): 0 at 0, as ricci
             xp=lambda xp, u: u * xp.sign(u), sympy=lambda sp, u: sp.Abs(u),
             interval=_abs_interval, watch="kink", needs="any sign", nonsmooth=True, cheap=True),
    Function("sign", "elementwise", np.sign, r"\operatorname{sign}", "0",
             "d sign(u) = 0 (almost everywhere; undefined at u = 0)",
             xp=lambda xp, u: xp.sign(u), sympy=lambda sp, u: sp.sign(u),
             interval=lambda a, S: S.Interval(-1.0, 1.0), watch="kink", needs="any sign", nonsmooth=True,
             cheap=True),
    # relu and step evaluate as selections, so that an autodiff oracle gets step(0) = 0 as ricci does
    Function("relu", "elementwise", lambda a: np.maximum(a, 0.0), r"\operatorname{relu}",
             "step(u)", "d relu(u) = step(u) du (almost everywhere; step(0) = 0)",
             xp=lambda xp, u: xp.where(u > 0, u, 0.0 * u), sympy=lambda sp, u: sp.Max(u, 0),
             code={"default": lambda p, a: p.call(p.m("maximum"), a.text, "0"),
                   "torch": lambda p, a: p.call("torch.relu", a.text),
                   "array_api": lambda p, a: p.call(p.m("clip"), a.text, "min=0.0")},
             interval=_relu_interval, watch="kink", needs="any sign", nonsmooth=True, cheap=True),
    Function("step", "elementwise", _step, r"\operatorname{step}", "0",
             "d step(u) = 0 (almost everywhere; undefined at u = 0); step(u) = 1 if u > 0 else 0",
             xp=lambda xp, u: xp.where(u > 0, 1.0 + 0.0 * u, 0.0 * u),
             sympy=lambda sp, u: sp.Heaviside(u, 0),
             code={"default": lambda p, a: p.call(p.m("heaviside"), a.text, "0"),
                   "torch": lambda p, a: p.call("torch.sign", f"torch.relu({a.text})"),
                   "array_api": lambda p, a: p.call(p.m("sign"), f"{p.m('clip')}({a.text}, min=0.0)")},
             interval=lambda a, S: S.Interval(0.0, 1.0), watch="kink", needs="any sign", nonsmooth=True,
             cheap=True),
    Function("sigmoid", "elementwise", _sigmoid, r"\sigma", "sigmoid(u)*(1 - sigmoid(u))",
             "d sigmoid(u) = sigmoid(u) (1 - sigmoid(u)) du",
             xp=lambda xp, u: 0.5 * (1.0 + xp.tanh(0.5 * u)), mathml="σ",
             sympy=lambda sp, u: 1 / (1 + sp.exp(-u)),
             code={"default": _sigmoid_code, "torch": lambda p, a: p.call("torch.sigmoid", a.text)},
             interval=lambda a, S: S.monotone(a, _sigmoid_inf), needs="any sign"),
    aliases={"asin": "arcsin", "acos": "arccos", "atan": "arctan", "heaviside": "step"},
)
