"""The :class:`Function` entry and the registry that every part of ricci reads.

An entry says everything ricci knows about one function; the parser, the type checker, the
differentiator, the evaluators, the printers, code generation, the analysis and the
explanations look it up (:func:`lookup`) instead of keeping tables of their own.  This module
imports nothing of ricci, so that every layer may read it.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

#: The families of functions (what a function accepts and returns).
FAMILIES = ("elementwise", "reduction", "square", "inverse", "diagonal", "constant", "rewritten", "spectral",
            "analytic", "frechet", "vectorise", "kronecker")

#: What a "spectral" function returns, in its argument's sizes (``Function.result``): a scalar,
#: a column as long as the argument's rows or columns, a cols×cols or a rows×cols matrix.
RESULTS = ("scalar", "rows", "cols", "cols×cols", "rows×cols")

#: What a check of the derivative watches in a function's argument (``Function.watch``).
WATCHES = ("positive", "unit", "pole", "kink", "norm", "invertible", "positive determinant", "spectrum")

#: How the printers lay a call out (``Function.layout``).
LAYOUTS = ("head", "radical", "norm", "inverse", "infix")

#: What drawing random values asks of a function's argument (``Function.needs``).
NEEDS = ("positive", "small", "conditioned", "any sign", "pass")

#: Where a minimiser keeps a function's argument (``Function.domain``): every entry > 0, every
#: entry ≥ 0, or a positive definite matrix (its symmetric part's Cholesky factor exists).
DOMAINS = ("positive", "nonnegative", "positive definite")


@dataclass(frozen=True)
class Function:
    """One function of the language.

    ``family`` is one of:
      * ``"elementwise"`` – applied entry by entry, result of the argument's shape;
      * ``"reduction"`` – any argument → scalar (``sum``, ``norm1``, ``norm2``);
      * ``"square"`` – square matrix → scalar (``tr``, ``det``, ``logdet``);
      * ``"inverse"`` – square matrix → square matrix;
      * ``"diagonal"`` – vector → diagonal matrix, square matrix → vector of its diagonal;
      * ``"constant"`` – ``vector(c)``, ``matrix(c)``: all entries c, size from the context;
      * ``"rewritten"`` – written with other functions when parsed (``rewrite``): ``max(x, c)``
        is ``c + relu(x - c)``; nothing after the parser sees it;
      * ``"spectral"`` – a function of a matrix through its eigen- or singular value
        decomposition (``eig``, ``lambda_max``, ``svd``, …): ``result`` says its shape,
        ``square`` whether the argument must be square, ``spectral_derivative`` its rule;
      * ``"analytic"`` – square matrix → square matrix, a matrix function f(X) (``expm``, ``logm``,
        ``sqrtm``): differentiated by the trace rule, the commuting case or its Fréchet entry;
      * ``"frechet"`` – ``(X, E)`` → a matrix of X's size: the Fréchet derivative L_f(X, E) of an
        analytic function (``expm_frechet``), linear in E;
      * ``"vectorise"`` – any argument → the column of its entries, columns stacked (``vec``);
      * ``"kronecker"`` – ``(A, B)``, m×n and p×q → (mp)×(nq), the Kronecker product (``kron``).

    The fields after ``doc`` are keywords; each names the part of ricci that reads it.
    """

    name: str
    family: str
    #: NumPy on the 2-D working representation (scalars 1×1, vectors n×1): ricci.evaluation
    numpy: Callable | None
    #: the LaTeX head of ``f(x)`` (printing.latex); None: ``\operatorname{name}``
    latex: str | None
    #: elementwise only: f′(u) as text in the input language, with ``u`` the argument (ricci.diff)
    derivative: str | None = None
    #: one-line formula, shown in docs and in the derivation steps (explain)
    doc: str = ""
    #: ``(xp, u) -> array`` in any array namespace (NumPy, JAX, torch, array-API), on the 2-D
    #: working representation; written to be stable (sigmoid through tanh) and so that an
    #: autodiff oracle sees ricci's conventions at kinks (numeric_check)
    xp: Callable[[Any, Any], Any] | None = None
    #: the MathML head (printing.mathml); None: the name
    mathml: str | None = None
    #: code per backend (codegen.backends): backend name ("numpy", "jax", "torch",
    #: "array_api") or "default" → the namespace's function name, or ``(printer, code) -> Code``
    #: (a recipe: ``printer.call``, ``printer.m``, ``printer.Code`` and the precedences
    #: ``printer.ATOM``, ``printer.MUL``, …)
    code: Mapping[str, str | Callable] = field(default_factory=dict)
    #: ``(sympy, u) -> SymPy`` (analysis.to_sympy): of an entry (elementwise) or of the whole
    #: SymPy matrix argument (reductions and matrix functions)
    sympy: Callable[[Any, Any], Any] | None = None
    #: ``(interval, signs) -> interval`` (analysis.signs): the range of the entries given the
    #: range of the argument's entries; ``signs`` is the module ricci.analysis.signs (its
    #: Interval, monotone, clip, neg, INF), passed in so that this table imports no feature
    interval: Callable[[Any, Any], Any] | None = None
    #: what a numeric check watches in the argument, one of WATCHES (numeric_check)
    watch: str | None = None
    #: what drawing values asks of the argument, one of NEEDS (numeric_check, comparison.points)
    needs: str = "pass"
    #: how random expressions keep the argument inside the domain (ricci.testing.DOMAINS):
    #: "positive", "unit", "shallow" (small, so that exp cannot overflow), or None (any)
    sample: str | None = None
    #: differentiable only almost everywhere (ricci.testing, analysis.convexity)
    nonsmooth: bool = False
    #: why a NaN / an infinity comes out, in words (ricci.evaluation)
    nan_hint: str | None = None
    inf_hint: str | None = None
    #: linear in its argument: the explanation says "linearity" (explain.derive)
    linear: bool = False
    #: a comparison or a selection, not a transcendental: cheap per entry (codegen.plan's costs)
    cheap: bool = False
    #: how the printers lay ``f(x)`` out (printing.latex, printing.mathml): "head" (``\exp(x)``),
    #: "radical" (√x), "norm" (‖x‖ with the subscript ``norm``), "inverse" (a superscript −1),
    #: "infix" (two arguments either side of the head: A ⊗ B)
    layout: str = "head"
    #: the norm's subscript, for the "norm" layout
    norm: str | None = None
    #: reductions and matrix functions: ``(plan, x) -> Op``, its operations in generated code
    #: (codegen.from_matrix), from the plan's sum, sumsq, trace, det, logdet, inv, diag, func
    plan: Callable[[Any, Any], Any] | None = None
    #: ``(plan, x) -> Op`` for ``f(x)^2`` where that is cheaper than squaring (‖u‖² = u·u)
    plan_squared: Callable[[Any, Any], Any] | None = None
    #: ``(sympy, u, total) -> SymPy``: a reduction as a sum over the argument's entries ``u``,
    #: ``total`` summing an expression of them (analysis.to_sympy's entry form)
    sympy_entries: Callable[[Any, Any, Callable], Any] | None = None
    #: reductions and matrix functions: ``(kit) -> IR node``, the function in index notation
    #: (ricci.lower); the kit has ``B`` (ricci.ir.build), ``arg(rows, cols)`` (the argument
    #: lowered with these indices), ``ar, ac`` (fresh indices of the argument's rows and
    #: columns), ``r, c`` (the result's) and ``at`` (the argument's type)
    lower: Callable[[Any], Any] | None = None
    #: square matrix functions with a rule of their own (an IR MatFun node): ∂f(X) is
    #: f(X)·tr(inv(X) dX) when True (det, Cookbook (46)), tr(inv(X) dX) when False (logdet, (57))
    #: (ricci.diff); None for the others
    times_value: bool | None = None
    #: ``(ast, args) -> Expr | None``: the call written with other functions when parsed
    #: (ricci.language.parser; ``ast`` is ricci.language.ast): always for the "rewritten"
    #: family (max(x, c)), for another only a spelling of its own (sum(X, 1) is vector(1)'*X;
    #: None keeps the call); a ValueError ``(message, k)`` refuses the call, naming its
    #: argument k (None: the whole call)
    rewrite: Callable[[Any, tuple], Any] | None = None
    #: "analytic": the name of its Fréchet entry; "frechet": the analytic function it is the
    #: derivative of (ricci.diff, ricci.raise_matrix)
    frechet: str | None = None
    #: "analytic": ``(B, arg, r, c, out) -> IR``, f′(X) as a matrix with indices ``out`` (arg a
    #: matrix r × c): the trace rule ∂tr(f(X)) = tr(f′(X) dX) and the commuting case (ricci.diff)
    prime: Callable[..., Any] | None = None
    #: "spectral" family: the result's shape in the argument's sizes, one of RESULTS
    #: (ricci.language.kinds), and whether the argument must be square
    result: str | None = None
    square: bool = False
    #: "spectral" family: ``(B, node, a, b) -> G`` with free indices ``node.out + (a, b)``,
    #: ∂f(A)_out/∂A_ab in closed form (ricci.diff; ``B`` is ricci.ir.build, ``node`` the MatFun);
    #: None: f has no derivative rule (the refusal names it)
    spectral_derivative: Callable[[Any, Any, Any, Any], Any] | None = None
    #: ``"convex"`` or ``"concave"`` on its whole domain (lambda_max, the norms; analysis.convexity)
    curvature: str | None = None
    #: the set a minimiser keeps the argument in, one of DOMAINS (solve.domain): a trial point
    #: outside it is rejected, so that a line search backtracks (logdet: positive definite, where
    #: -logdet is convex; on det > 0 alone -logdet(S) + tr(C*S) is unbounded below)
    domain: str | None = None

    @property
    def cookbook(self) -> str | None:
        """The Matrix Cookbook's equation for the derivative, e.g. "(57)", as ``doc`` cites it
        (the explanations show ``doc``; one place says it)."""
        m = re.search(r"Matrix Cookbook (\(\d+\))", self.doc)
        return m.group(1) if m else None

    def code_for(self, backend: str) -> str | Callable:
        """The spelling in ``backend``: its own, else the default, else the function's name."""
        return self.code.get(backend, self.code.get("default", self.name))


#: name → entry, in the order of registration (printed lists follow it).
FUNCTIONS: dict[str, Function] = {}

#: Aliases accepted in input, mapped to their canonical names.
ALIASES: dict[str, str] = {}

#: family → its one function's name, as named() found it (cleared when the table changes)
_NAMED: dict[str, str] = {}

# Called with no arguments after the table changes (ricci.diff clears its parsed formulas).
_LISTENERS: list[Callable[[], None]] = [_NAMED.clear]


def lookup(name: str) -> Function | None:
    """The entry of ``name`` (an alias resolved), or None."""
    return FUNCTIONS.get(ALIASES.get(name, name))


def family_of(name: str) -> str | None:
    """The family of the function ``name`` (an alias resolved), or None for no function."""
    fn = lookup(name)
    return fn.family if fn is not None else None


def named(family: str) -> str:
    """The name of the one function of ``family`` ("inverse": inv, "diagonal": diag), for the
    parts of ricci that write a call of it (inv(A) for A^-1, diag(diag(G)))."""
    if family not in _NAMED:  # asked once per matrix function differentiated: kept until the table changes
        names = [n for n, f in FUNCTIONS.items() if f.family == family]
        if len(names) != 1:
            raise LookupError(f"the table has {len(names)} functions of the family {family!r}, not one")
        _NAMED[family] = names[0]
    return _NAMED[family]


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever an entry is added or removed (caches keyed by name clear)."""
    _LISTENERS.append(listener)


def add(*entries: Function, aliases: Mapping[str, str] | None = None) -> None:
    """Add entries (the modules of this package build the table with it)."""
    for f in entries:
        if f.family not in FAMILIES:
            raise ValueError(f"{f.name}: family {f.family!r} is not one of {', '.join(FAMILIES)}")
        if f.watch is not None and f.watch not in WATCHES:
            raise ValueError(f"{f.name}: watch {f.watch!r} is not one of {', '.join(WATCHES)}")
        if f.layout not in LAYOUTS:
            raise ValueError(f"{f.name}: layout {f.layout!r} is not one of {', '.join(LAYOUTS)}")
        if f.needs not in NEEDS:
            raise ValueError(f"{f.name}: needs {f.needs!r} is not one of {', '.join(NEEDS)}")
        if f.domain is not None and f.domain not in DOMAINS:
            raise ValueError(f"{f.name}: domain {f.domain!r} is not one of {', '.join(DOMAINS)}")
        if f.family == "spectral" and f.result not in RESULTS:
            raise ValueError(f"{f.name}: result {f.result!r} is not one of {', '.join(RESULTS)}")
        if f.family == "elementwise" and f.derivative is None:
            raise ValueError(f"{f.name}: an elementwise function needs its derivative formula")
        FUNCTIONS[f.name] = f
    ALIASES.update(aliases or {})
    for listener in _LISTENERS:
        listener()


def remove(name: str) -> None:
    """Remove an entry and its aliases."""
    del FUNCTIONS[name]
    for alias in [a for a, n in ALIASES.items() if n == name]:
        del ALIASES[alias]
    for listener in _LISTENERS:
        listener()


@contextlib.contextmanager
def registered(entry: Function, aliases: Mapping[str, str] | None = None) -> Iterator[Function]:
    """``with registered(Function(...)):`` the function is part of the language inside the
    block and gone after it (a test's own function does not leak into other tests)."""
    if entry.name in FUNCTIONS or entry.name in ALIASES:
        raise ValueError(f"{entry.name} is already a function of ricci")
    add(entry, aliases=aliases)
    try:
        yield entry
    finally:
        remove(entry.name)
