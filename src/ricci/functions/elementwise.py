"""The elementwise functions: applied entry by entry, the result of the argument's shape.

Each derivative is a formula in the input language with ``u`` for the argument; ricci.diff
parses it once (through the same pipeline as user text) and substitutes u.
"""

from __future__ import annotations

import math

import numpy as np

from .base import Function, add

INF = math.inf


#: log of the largest float: exp of more overflows
_LOG_MAX = 709.78


def _sigmoid(a):
    # 1/(1 + exp(-a)) keeps its relative precision everywhere (0.5*(1 + tanh(a/2)) loses every
    # digit by a = -37) and costs one exp; the exponent is capped where exp would overflow,
    # which changes only values below 6e-309 (docs/numerics.md)
    return 1.0 / (1.0 + np.exp(np.minimum(-a, _LOG_MAX)))


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
    # as ricci evaluates it: exact to the last digits, one exp, never overflows (JAX's own
    # sigmoid is exact too)
    if p.name == "jax":
        p.need_import("import jax")
        return p.call("jax.nn.sigmoid", a.text)
    # -a: a negation's operand itself (not --x)
    minus = a.text[1:] if a.prec == p.UNARY and a.text.startswith("-") else f"-{a.at(p.UNARY)}"
    capped = p.call(p.m("minimum"), minus, repr(_LOG_MAX))
    return p.Code(f"1 / (1 + {p.call(p.m('exp'), capped.text).text})", p.MUL)


add(
    Function("exp", "elementwise", np.exp, r"\exp", "exp(u)", "d exp(u) = exp(u) du",
             xp=lambda xp, u: xp.exp(u), sympy=lambda sp, u: sp.exp(u),
             interval=lambda a, S: S.monotone(a, _exp_inf), needs="any sign", sample="shallow"),
    Function("log", "elementwise", np.log, r"\log", "1/u", "d log(u) = du / u",
             xp=lambda xp, u: xp.log(u), sympy=lambda sp, u: sp.log(u),
             interval=lambda a, S: S.monotone(S.clip(a, 0.0, True), _log_inf),
             watch="positive", needs="positive", sample="positive", domain="positive",
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
             watch="positive", needs="positive", sample="positive", domain="nonnegative",
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
             xp=lambda xp, u: 1.0 / (1.0 + xp.exp(xp.minimum(-u, _LOG_MAX + 0.0 * u))), mathml="σ",
             sympy=lambda sp, u: 1 / (1 + sp.exp(-u)),
             code={"default": _sigmoid_code, "torch": lambda p, a: p.call("torch.sigmoid", a.text)},
             interval=lambda a, S: S.monotone(a, _sigmoid_inf), needs="any sign"),
    aliases={"asin": "arcsin", "acos": "arccos", "atan": "arctan", "heaviside": "step"},
)


# -- the machine-learning vocabulary (issue 17) ------------------------------------------------------

def _softplus(a):
    # log(1 + exp(a)) as logaddexp(0, a): exact for large a (a + log1p(exp(-a))), no overflow
    return np.logaddexp(0.0, a)


def _softplus_inf(v):
    return 0.0 if v == -INF else (INF if v == INF else float(np.logaddexp(0.0, v)))


def _expm1_inf(v):
    return -1.0 if v == -INF else (math.expm1(v) if v < 709.0 else INF)


def _log1p_inf(v):
    return -INF if v == -1.0 else (INF if v == INF else math.log1p(v))


def _sinh_inf(v):
    if abs(v) >= 710.0:
        return math.copysign(INF, v)
    return math.sinh(v)


def _cosh_interval(a, S):
    # cosh is even with its minimum 1 at 0: the range is [cosh(m), cosh(M)] with m the entry
    # nearest to 0 and M the farthest
    near = 0.0 if a.lo <= 0.0 <= a.hi else min(abs(a.lo), abs(a.hi))
    far = max(abs(a.lo), abs(a.hi))
    return S.Interval(math.cosh(near), math.cosh(far) if far < 710.0 else INF)


_erf_vectorised = np.vectorize(math.erf, otypes=[float])


def _erf(a):
    # NumPy has no erf: math.erf entry by entry (exact to the last bit; SciPy is not required)
    return _erf_vectorised(np.asarray(a, dtype=float))


def _erf_xp(xp, u):
    # torch.erf and jax.scipy.special.erf where the namespace has one; NumPy (and any array with
    # NumPy's protocol) through math.erf
    name = getattr(xp, "__name__", "")
    if name.startswith("torch"):
        return xp.erf(u)
    if name.startswith("jax"):
        import jax.scipy.special

        return jax.scipy.special.erf(u)
    return xp.asarray(_erf(np.asarray(u)))


def _softplus_code(p, a):
    if p.name == "torch":
        return p.call("torch.nn.functional.softplus", a.text)
    # logaddexp(0, a): the zero of the argument's shape, dtype and device (the array API
    # standard asks for arrays on both sides)
    if p.name == "array_api":
        return p.call(p.m("logaddexp"), f"{p.m('zeros_like')}({a.text})", a.text)
    return p.call(p.m("logaddexp"), "0.0", a.text)


def _erf_code(p, a):
    if p.name == "torch":
        return p.call("torch.erf", a.text)
    if p.name == "jax":
        p.need_import("import jax.scipy.special")
        return p.call("jax.scipy.special.erf", a.text)
    if p.name == "array_api":
        p.refuse("erf is not a function of the array API standard: generate code for "
                 "the numpy, jax or torch backend instead")
    p.need_import("import math")
    return p.call(f"{p.m('vectorize')}(math.erf, otypes=[float])", a.text)


add(
    Function("softplus", "elementwise", _softplus, r"\operatorname{softplus}", "sigmoid(u)",
             "d softplus(u) = sigmoid(u) du; softplus(u) = log(1 + exp(u))",
             xp=lambda xp, u: xp.logaddexp(0.0 * u, u), sympy=lambda sp, u: sp.log(1 + sp.exp(u)),
             code={"default": _softplus_code},
             interval=lambda a, S: S.monotone(a, _softplus_inf), needs="any sign"),
    Function("log1p", "elementwise", np.log1p, r"\operatorname{log1p}", "1/(1 + u)",
             "d log1p(u) = du / (1 + u); log1p(u) = log(1 + u), exact for small u",
             xp=lambda xp, u: xp.log1p(u), sympy=lambda sp, u: sp.log(1 + u),
             interval=lambda a, S: S.monotone(S.clip(a, -1.0, True), _log1p_inf),
             watch="positive", needs="positive", sample="positive",
             nan_hint="log1p needs arguments > -1", inf_hint="log1p needs arguments > -1"),
    Function("expm1", "elementwise", np.expm1, r"\operatorname{expm1}", "exp(u)",
             "d expm1(u) = exp(u) du; expm1(u) = exp(u) - 1, exact for small u",
             xp=lambda xp, u: xp.expm1(u), sympy=lambda sp, u: sp.exp(u) - 1,
             interval=lambda a, S: S.monotone(a, _expm1_inf), needs="any sign", sample="shallow"),
    Function("cosh", "elementwise", np.cosh, r"\cosh", "sinh(u)", "d cosh(u) = sinh(u) du",
             xp=lambda xp, u: xp.cosh(u), sympy=lambda sp, u: sp.cosh(u),
             interval=_cosh_interval, needs="any sign", sample="shallow"),
    Function("sinh", "elementwise", np.sinh, r"\sinh", "cosh(u)", "d sinh(u) = cosh(u) du",
             xp=lambda xp, u: xp.sinh(u), sympy=lambda sp, u: sp.sinh(u),
             interval=lambda a, S: S.monotone(a, _sinh_inf), needs="any sign", sample="shallow"),
    # 2/sqrt(pi) written out: the language has no constant pi
    Function("erf", "elementwise", _erf, r"\operatorname{erf}", "1.1283791670955126*exp(-u^2)",
             "d erf(u) = 2/sqrt(pi) exp(-u^2) du",
             xp=_erf_xp, sympy=lambda sp, u: sp.erf(u), code={"default": _erf_code},
             interval=lambda a, S: S.monotone(a, math.erf), needs="any sign"),
)


# -- max(x, c) and min(x, c) with a number c, in either order ------------------------------------
# Written with relu when parsed, so that every part of ricci reads them as it reads relu: the
# derivative is step(x - c) (max) or step(c - x) (min), with step(0) = 0 at the kink x = c.

def _number(A, e):
    """The value of a number literal, signed (-2 is Neg(Num(2))), or None."""
    if isinstance(e, A.Num):
        return e.value
    if isinstance(e, A.Neg) and isinstance(e.arg, A.Num):
        return -e.arg.value
    return None


def _clamp(which):
    def rewrite(A, args):
        if len(args) != 2:
            raise ValueError(
                f"{which}() takes 2 arguments, an expression and a number, as in {which}(x, 0); "
                f"{which}(x) of one argument (its largest or smallest entry) is not part of the language",
                None)
        values = [_number(A, a) for a in args]
        if values[0] is None and values[1] is None:
            raise ValueError(
                f"{which}(a, b) needs one of its arguments to be a number, as in {which}(x, 0) "
                f"(an elementwise {which} of two expressions is not part of the language)", 1)
        if values[1] is None:  # max(0, x): the number first
            args, values = args[::-1], values[::-1]
        x, c = args[0], values[1]
        span = getattr(x, "span", None)

        def num(v):
            return A.Num(v, span) if v >= 0 else A.Neg(A.Num(-v, span), span)

        def relu(e):
            return A.Call("relu", (e,), span)

        if which == "max":  # max(x, c) = c + relu(x - c)
            if c == 0:
                return relu(x)
            if c < 0:  # relu(x + 1) - 1, not relu(x - (-1)) + (-1)
                return A.BinOp("-", relu(A.BinOp("+", x, num(-c), span)), num(-c), span)
            return A.BinOp("+", relu(A.BinOp("-", x, num(c), span)), num(c), span)
        # min(x, c) = c - relu(c - x)
        if c == 0:
            return A.Neg(relu(A.Neg(x, span)), span)
        return A.BinOp("-", num(c), relu(A.BinOp("-", num(c), x, span)), span)

    return rewrite


add(
    Function("max", "rewritten", None, None,
             doc="max(x, c) = c + relu(x - c) entry by entry, c a number; d max(x, c) = step(x - c) dx "
                 "(step(0) = 0 at x = c, as relu)", rewrite=_clamp("max")),
    Function("min", "rewritten", None, None,
             doc="min(x, c) = c - relu(c - x) entry by entry, c a number; d min(x, c) = step(c - x) dx "
                 "(step(0) = 0 at x = c, as relu)", rewrite=_clamp("min")),
)
