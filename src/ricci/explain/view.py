"""Display options of a derivative: layout, the symmetric gradient, bold vectors, the shape.

:func:`view` returns a :class:`View` of a :class:`~ricci.derivation.Derivative`: the same
derivative shown another way.  Nothing here changes ``d.evaluate`` — the numbers of a derivative
are those of ARCHITECTURE §1 whatever the display.

* ``layout="numerator"`` (the default, the lecture's): ∂f/∂x of a scalar f is a 1 × n row.
  ``layout="denominator"`` (many ML texts, the Matrix Cookbook): gradients are columns — the
  displayed matrix is the transpose for a gradient, a vector by a scalar and a Jacobian
  (n × m); a derivative by a matrix keeps the matrix's shape in both layouts, a Hessian of a
  twice differentiable function is symmetric, and index notation does not depend on a layout.
* ``symmetric="gradient"``: for a scalar f of a declared symmetric matrix W, the gradient with
  respect to the n(n+1)/2 free entries of W written as a matrix, G + G' − diag(diag(G)) where G
  is the unconstrained derivative (Matrix Cookbook §2.8, (138)–(141)); :data:`SYMMETRIC_NOTE`
  says why the two differ.
* ``bold_vectors=True``: vectors and matrices in bold, as the lecture writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..functions import named
from ..language import ast as A
from ..language.errors import BadValueError, KindError
from ..language.kinds import SCALAR, SYMMETRIC
from . import formula as F
from .shapes import derivative_dims, dim_name, shape_words
from .tensor import index_form

LAYOUTS = ("numerator", "denominator")

SYMMETRIC_NOTE = (
    "Why two answers for a symmetric matrix? ricci's default is the unconstrained derivative G: "
    "the partial derivatives by the n² entries of W as if they were independent, evaluated at a "
    "symmetric W. It is what the chain rule needs, and the directional derivative in any "
    "symmetric direction V is tr(G'V). But a symmetric W has only n(n+1)/2 free entries: W_ij "
    "and W_ji are one number, and moving it changes f by G_ij + G_ji. Collected into a matrix, "
    "the derivative by the free entries is G + G' - diag(diag(G)) (Matrix Cookbook §2.8): the "
    "off-diagonal entries count twice, the diagonal once. For logdet(W) this is 2 inv(W) - "
    "diag(diag(inv(W))), where the unconstrained answer is inv(W) — both are right, about "
    "different questions; the 'symmetric gradient' is the one to use when you step along the "
    "free entries of W (e.g. in gradient descent over them), the unconstrained one (or its "
    "symmetric part (G + G')/2, which equals G here) everywhere else."
)


@dataclass(frozen=True)
class View(F.ShowsFormula):
    """A derivative as displayed with given options (text, LaTeX, MathML, and its shape)."""

    derivative: object
    layout: str
    symmetric: str | None
    bold_vectors: bool
    name: str
    #: the answer as a matrix AST (None for a tensor, shown in index notation)
    matrix: A.Expr | None
    #: the answer as a formula (index notation for a tensor)
    formula: F.Formula
    #: the shape as displayed, e.g. ["n", "1"] for a gradient in denominator layout
    shape: list
    #: what the options changed, in words ("" when nothing)
    note: str = ""
    bold: frozenset = field(default_factory=frozenset)
    dims: dict | None = None


    @property
    def equation(self) -> F.Formula:
        """∂f/∂x = answer ∈ ℝ^{…}: the answer as the lecture states it."""
        d = self.derivative
        if self.matrix is None:
            return self.formula
        x = _wrt_formula(d, self.bold)
        lhs = F.partial(F.name(self.name), x, d.order)
        return lhs + F.EQ + self.formula + F.IN + F.reals(self.shape)

    def evaluate(self, values: dict):
        """The numbers of the displayed form: ``d.evaluate`` transposed where the layout
        transposes a matrix, or the symmetric gradient; vectors stay 1-D arrays."""
        d = self.derivative
        v = d.evaluate(values)
        if self.symmetric == "gradient":
            G = np.asarray(v, dtype=float)
            return G + G.T - np.diag(np.diag(G))
        if self.layout == "denominator" and self.matrix is not None and np.ndim(v) == 2 and _transposes(d):
            return np.asarray(v).T
        return v

    def __str__(self) -> str:
        return self.text

    def _repr_latex_(self) -> str:
        return f"$${self.equation.latex}$$"

    def _repr_html_(self) -> str:
        out = self.equation.math()
        if self.note:
            out += f"<p>{_escape(self.note)}</p>"
        return out

    def _repr_markdown_(self) -> str:
        out = f"$${self.equation.latex}$$"
        if self.note:
            out += f"\n\n{self.note}"
        return out


def _escape(s: str) -> str:
    from xml.sax.saxutils import escape

    return escape(s)


def bold_names(d) -> frozenset:
    """Vectors and matrices of the expression (and its where-bound names that are not scalars)."""
    names = {n for n, v in d.expression.variables.items() if v.kind != SCALAR}
    tree = d.expression.tree
    if isinstance(tree, A.Where):
        for n, e in tree.bindings:
            if not d.expression.type_of(e).is_scalar:
                names.add(n)
    return frozenset(names)


def _wrt_formula(d, bold: frozenset) -> F.Formula:
    if isinstance(d.wrt, str):
        return F.name(d.wrt, d.wrt in bold)
    return F.paren(F.join([F.name(n) for n in d.wrt], F.COMMA))


def _transposes(d) -> bool:
    """The denominator layout shows the transpose: gradients, vector-by-scalar, Jacobians and
    Hessians; not a derivative by a matrix (its shape is the matrix's in both layouts)."""
    if isinstance(d.wrt, str) and len(d.expression.variables[d.wrt].dims) == 2:
        return False
    if len(d.expression.shape) == 2:
        return False  # a matrix by a scalar (∂Y_ij/∂t) has the matrix's shape in both layouts
    return len(d.out) in (1, 2)


def view(d, layout: str = "numerator", symmetric: str | None = None, bold_vectors: bool = False,
         name: str = "f", dims: dict | None = None) -> View:
    """``d`` displayed with the given options (see the module docstring)."""
    if layout not in LAYOUTS:
        raise BadValueError(f"layout must be 'numerator' or 'denominator', not {layout!r}")
    if symmetric not in (None, "unconstrained", "gradient"):
        raise BadValueError(f"symmetric must be 'unconstrained' or 'gradient', not {symmetric!r}")
    bold = bold_names(d) if bold_vectors else frozenset()
    ds = derivative_dims(d, dims)
    matrix = d.matrix
    notes = []
    if symmetric == "gradient":
        matrix = _symmetric_gradient(d)
        notes.append(SYMMETRIC_NOTE)
    if matrix is None:
        formula = index_form(d, name, bold)
        if layout == "denominator":
            notes.append("Index notation names every entry, so it is the same in both layouts.")
        return View(d, layout, symmetric, bold_vectors, name, None, formula, ds, " ".join(notes), bold, dims)
    if layout == "denominator":
        if _transposes(d):
            matrix = _transpose(d, matrix)
            ds = list(reversed(ds)) if len(ds) == 2 else ds
            notes.append(_layout_note(d, dims))
        else:
            notes.append(("A derivative of a matrix by a scalar has the matrix's shape in both layouts."
                          if len(d.expression.shape) == 2 else
                          "A derivative by a matrix has the matrix's shape in both layouts.") if d.out else
                         "A scalar is the same in both layouts.")
    formula = F.expr(matrix, bold)
    return View(d, layout, symmetric, bold_vectors, name, matrix, formula, ds, " ".join(notes), bold, dims)


def _layout_note(d, dims) -> str:
    if d.order == 2:
        return ("Denominator layout: the Hessian is transposed, which changes nothing for a twice "
                "continuously differentiable function (its Hessian is symmetric).")
    words = shape_words(d, dims)
    if "row vector" in words:
        return "Denominator layout: the gradient as a column vector (the transpose of the lecture's row)."
    if "column vector" in words:
        return "Denominator layout: a vector by a scalar as a row (the transpose of the lecture's column)."
    return "Denominator layout: the transpose of the Jacobian, J'(j, i) = ∂f_i/∂x_j."


def _transpose(d, matrix: A.Expr) -> A.Expr:
    from ..simplify.matrix import MatrixForms

    forms = MatrixForms(d.expression)
    if isinstance(matrix, A.Where):
        return A.Where(forms.T(matrix.body), matrix.bindings)
    return forms.T(matrix)


def _symmetric_gradient(d) -> A.Expr:
    """G + G' − diag(diag(G)) for the unconstrained derivative G by a symmetric matrix."""
    from ..simplify.matrix import MatrixForms

    if not isinstance(d.wrt, str) or d.expression.variables[d.wrt].kind != SYMMETRIC:
        raise KindError(f"symmetric='gradient' needs a variable declared a symmetric matrix; "
                        f"{d.wrt} is {_kind_of(d)}")
    if d.expression.shape or d.order != 1:
        raise KindError("symmetric='gradient' is for the first derivative of a scalar function")
    G = d.matrix
    if G is None:
        raise KindError("the derivative has no matrix form")
    forms = MatrixForms(d.expression)
    binds = ()
    if isinstance(G, A.Where):
        G, binds = G.body, G.bindings
    diag = named("diagonal")
    out = forms.add([G, forms.T(G), A.Neg(A.Call(diag, (A.Call(diag, (_untranspose(G),)),)))])
    return A.Where(out, binds) if binds else out


def _untranspose(G: A.Expr) -> A.Expr:
    """diag(diag(G')) = diag(diag(G)): drop a transpose inside the diagonal."""
    return G.arg if isinstance(G, A.Transpose) else G


def _kind_of(d) -> str:
    if isinstance(d.wrt, list):
        return "a list of scalars"
    return "a " + d.expression.variables[d.wrt].kind


_ = dim_name
