"""Spectral functions: eigenvalues of a symmetric matrix, singular values, the spectral and
nuclear norms, and the eigen- and singular vectors their derivatives are written with.

``eig(S)`` are the eigenvalues of the symmetric part (S + S')/2, ascending, as
``numpy.linalg.eigvalsh`` gives them for a symmetric S.  Taking the symmetric part (not
eigvalsh's lower triangle) makes every derivative below the plain partial derivative at any S
(ARCHITECTURE §1, the unconstrained convention): ∂λ/∂S = u*u' for a simple eigenvalue λ with
unit eigenvector u (Hellmann–Feynman: dλ = u' dS u).

``svd(X)`` of an m×n X are its n singular values, descending (NumPy's order): the language
cannot name the size min(m, n), so a wide X's are NumPy's m, then n − m zeros (zero at every X
of that shape: their derivative is zero).  ``spectral_norm(X)`` (NumPy's ``norm(X, 2)``) and
``nuclear_norm(X)`` (``norm(X, 'nuc')``) take any matrix.

Derivatives (``Function.spectral_derivative``, applied by ricci.diff):
  ∂λ_max(S)/∂S_ab = u_a u_b,  u = eigvec_max(S)          (λ_max simple)
  ∂eig(S)_i/∂S_ab = Q_ai Q_bi,  Q = eigvecs(S)             (all eigenvalues simple)
  ∂svd(X)_i/∂X_ab = U_ai V_bi,  U, V = svd_u(X), svd_v(X)  (singular values simple, positive)
  ∂‖X‖_2/∂X = u1*v1',  u1, v1 = sv_u1(X), sv_v1(X)         (σ_1 simple)
  ∂‖X‖_*/∂X = U*V' = polar(X)                               (full rank)
The vectors are not unique where an eigenvalue (a singular value) is repeated, and there the
derivative does not exist: evaluating a vector raises :class:`SpectrumError`, whose message says
so and names a subgradient, so that d.evaluate and d.check report it instead of a number.  A
gap counts as zero below ``GAP`` times the spectrum's scale (its largest magnitude).
"""

from __future__ import annotations

import numpy as np

from .base import Function, add
from .reductions import norm2_lower

#: Relative gap below which two eigenvalues (singular values) count as one: √ε, where the
#: eigenvectors' error (ε/gap) reaches √ε and a finite difference can no longer see a derivative.
GAP = float(np.sqrt(np.finfo(float).eps))


#: The unit vectors an answer names as a book does (u*u' where u = eigvec_max(S): simplify.naming).
EIGENVECTORS = frozenset({"eigvec_max", "eigvec_min", "sv_u1", "sv_v1"})


class SpectrumError(ValueError):
    """An eigen- or singular vector asked for where it is not unique (a repeated eigenvalue);
    the evaluators turn it into a BadValueError with this message."""


# -- NumPy, on the 2-D working form (scalars 1×1, vectors n×1) ------------------------------------

def _sym(a):
    return (a + a.T) / 2


def _sign_fix(v):
    """Columns of v with the sum of cubes of each non-negative: one deterministic choice of the
    sign an eigenvector (a singular pair) leaves free."""
    s = np.where(np.sum(v ** 3, axis=0) < 0, -1.0, 1.0)
    return v * s, s


def _check_gaps(values, what: str, consequence: str) -> None:
    """SpectrumError when two of the sorted ``values`` are closer than GAP times their scale."""
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    gaps = np.abs(np.diff(values))
    if values.size > 1 and (scale == 0.0 or float(np.min(gaps)) <= GAP * scale):
        k = int(np.argmin(gaps))
        raise SpectrumError(
            f"{what} is not unique here: the value {values[k]:.6g} is repeated "
            f"(relative gap {float(gaps[k]) / scale if scale else 0.0:.2g} ≤ {GAP:.2g}), so {consequence}")


def _eigh(a):
    w, v = np.linalg.eigh(_sym(np.asarray(a, dtype=float)))
    return w, v


def _check_end(w, which: str) -> None:
    """SpectrumError where the largest (smallest) of the ascending eigenvalues ``w`` is repeated:
    its unit eigenvector is not unique there."""
    if w.size > 1:
        top = w[[-1, -2]] if which == "max" else w[[0, 1]]
        _check_gaps(np.sort(top), f"eigvec_{which}(S), the unit eigenvector of the "
                    f"{'largest' if which == 'max' else 'smallest'} eigenvalue,",
                    f"lambda_{which}(S) has no derivative at this S: u*u' for any unit u of that "
                    f"eigenspace is a {'sub' if which == 'max' else 'super'}gradient "
                    f"(lambda_{which} is {'convex' if which == 'max' else 'concave'})")


def _eigvec(which):
    def f(a):
        w, v = _eigh(a)
        _check_end(w, which)
        return _sign_fix(v[:, [-1 if which == "max" else 0]])[0]

    return f


def _gap_pinv(which):
    """(λ I − P)^+ for λ the largest (smallest) eigenvalue of P = (S + S')/2: Σ_k q_k q_k'/(λ − λ_k)
    over the other eigenvalues; du = (λ I − P)^+ dP u is the eigenvector's derivative."""
    def f(a):
        w, v = _eigh(a)
        _check_end(w, which)  # the same refusal as eigvec's where λ is repeated
        k = w.size - 1 if which == "max" else 0
        others = [j for j in range(w.size) if j != k]
        return (v[:, others] / (w[k] - w[others])) @ v[:, others].T

    return f


def _eigvecs(a):
    w, v = _eigh(a)
    _check_gaps(w, "eigvecs(S), the unit eigenvectors,", "eig(S) has no derivative at this S")
    return _sign_fix(v)[0]


def _svd_values(a):
    """The n singular values of an m×n X, descending: NumPy's min(m, n), then n − m zeros for a
    wide X (the square roots of eig(X'*X)), so that svd(X) has one size, n, for every X."""
    a = np.asarray(a, dtype=float)
    s = np.linalg.svd(a, compute_uv=False)
    return np.concatenate([s, np.zeros(a.shape[1] - s.size)])


def _svd_vectors(a, what):
    """U (m×n) and V (n×n) of the thin SVD, in svd(X)'s order.  A wide X's last n − m singular
    values are zero at every X of its shape, so their derivative is zero: U and V get zero
    columns there, and ∂σ_i/∂X = u_i*v_i' is 0 for them."""
    a = np.asarray(a, dtype=float)
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    _check_gaps(np.append(s, 0.0), what, "svd(X) has no derivative at this X")
    v, sign = _sign_fix(vt.T)
    pad = np.eye(s.size, a.shape[1])
    return (u * sign) @ pad, v @ pad


def _top_pair(a):
    a = np.asarray(a, dtype=float)
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    if s.size > 1:
        _check_gaps(s[:2][::-1], "sv_u1(X), sv_v1(X), the top singular vectors,",
                    "spectral_norm(X) has no derivative at this X: u*v' for any unit singular pair "
                    "(u, v) of the largest singular value is a subgradient (the norm is convex)")
    v, sign = _sign_fix(vt[[0]].T)
    return u[:, [0]] * sign, v


def _polar(a):
    a = np.asarray(a, dtype=float)
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    scale = float(s[0]) if s.size else 0.0
    if scale == 0.0 or float(s[-1]) <= GAP * scale:
        raise SpectrumError(
            f"polar(X) = U*V' is not unique here: X is not of full rank (smallest singular value "
            f"{float(s[-1]):.2g}, relative {float(s[-1]) / scale if scale else 0.0:.2g} ≤ {GAP:.2g}), so "
            "nuclear_norm(X) has no derivative at this X: U*V' from any SVD of X is a subgradient "
            "(the norm is convex)")
    return u @ vt


#: The vectors each function's derivative is written with (Function.watch "spectrum").
_VECTORS = {"eig": _eigvecs, "lambda_max": _eigvec("max"), "lambda_min": _eigvec("min"),
            "svd": lambda a: _svd_vectors(a, "svd_u(X), svd_v(X), the singular vectors,"),
            "spectral_norm": _top_pair, "nuclear_norm": _polar}


def no_derivative(name: str, a) -> str | None:
    """Why the spectral function ``name`` has no derivative at the argument ``a`` (2-D): an
    eigenvalue or singular value repeated, X rank deficient; None where it has one.  The check's
    sampler asks it (watch "spectrum"), so that d.check draws again, other sizes too: svd(A*B)
    with A*B's inner size below its outer ones is rank deficient at every A, B of those sizes."""
    vectors = _VECTORS.get(name)
    if vectors is None or np.ndim(a) != 2:
        return None
    try:
        vectors(a)
    except SpectrumError as e:
        return str(e)
    return None


# -- any array namespace (NumPy, JAX, torch, the array API), for the checks ----------------------

def _xp_sym(xp, a):
    return (a + xp.permute_dims(a, (1, 0))) / 2 if hasattr(xp, "permute_dims") else (a + a.T) / 2


def _xp_svdvals(xp, a):
    if hasattr(xp.linalg, "svdvals"):
        return xp.linalg.svdvals(a)
    return xp.linalg.svd(a, compute_uv=False)  # NumPy before 2.0


def _concrete(xp, a):
    """A NumPy copy of ``a``, or None where it is traced (inside jax.grad: no check there)."""
    try:
        return np.asarray(a.detach().cpu().numpy() if hasattr(a, "detach") else a, dtype=float)
    except Exception:  # a JAX tracer has no value
        return None


def _xp_via_numpy(f):
    """The checks' form of a vector function: NumPy's (with its refusal) on a concrete array,
    in the array's namespace."""
    def run(xp, a):
        arr = _concrete(xp, a)
        if arr is None:
            raise SpectrumError("an eigen- or singular vector cannot be traced by autodiff here")
        return xp.asarray(f(arr))

    return run


# -- generated code: a helper per backend, emitted once at the top of the module -----------------

_CHECK = '''
def _ricci_gap(values, what):
    # two eigenvalues (singular values) closer than sqrt(eps) times their scale count as one:
    # the vector asked for is not unique there and the derivative does not exist
    try:
        values = [float(v) for v in values]
    except TypeError:  # traced (under jax.jit): no values to check; an eager call checks them
        return
    scale = max(abs(v) for v in values)
    gap = min(abs(a - b) for a, b in zip(values, values[1:])) if len(values) > 1 else scale
    if scale == 0.0 or gap <= {gap!r} * scale:
        raise ValueError(what + " is not unique here: a value is repeated (relative gap %.2g), so the "
                         "derivative does not exist at this point" % (gap / scale if scale else 0.0))
'''.replace("{gap!r}", repr(GAP))

#: the helpers of generated code, one per kind of vector; ``m`` is the array namespace
_HELPERS = {
    "eigvec": '''
def _ricci_eigvec(S, top, m={m}):
    w, v = m.linalg.eigh((S + S.T) / 2)
    n = w.shape[0]
    k = n - 1 if top else 0
    if n > 1:
        _ricci_gap([w[n - 2], w[n - 1]] if top else [w[0], w[1]],
                   "eigvec_max(S), the eigenvector of the largest eigenvalue," if top
                   else "eigvec_min(S), the eigenvector of the smallest eigenvalue,")
    u = v[:, k]
    return m.where(m.sum(u ** 3) < 0, -u, u)
''',
    "pinv": '''
def _ricci_gap_pinv(S, top, m={m}):
    w, v = m.linalg.eigh((S + S.T) / 2)
    n = w.shape[0]
    k = n - 1 if top else 0
    _ricci_gap([w[n - 2], w[n - 1]] if top else [w[0], w[1]],
               "gap_pinv_max(S), of the largest eigenvalue," if top else "gap_pinv_min(S), of the smallest eigenvalue,")
    q = v[:, :n - 1] if top else v[:, 1:]
    lam = w[:n - 1] if top else w[1:]
    return (q / (w[k] - lam)[None, :]) @ q.T
''',
    "eigvecs": '''
def _ricci_eigvecs(S, m={m}):
    w, v = m.linalg.eigh((S + S.T) / 2)
    _ricci_gap([w[i] for i in range(w.shape[0])], "eigvecs(S), the eigenvectors,")
    return m.where(m.sum(v ** 3, axis=0)[None, :] < 0, -v, v)
''',
    "svd": '''
def _ricci_svd(X, which, m={m}):
    u, s, vt = m.linalg.svd(X, full_matrices=False)
    _ricci_gap([s[i] for i in range(s.shape[0])] + [0.0], "svd_u(X), svd_v(X), the singular vectors,")
    flip = m.sum(vt ** 3, axis=1)[None, :] < 0
    out = m.where(flip, -u, u) if which == "u" else m.where(flip, -vt.T, vt.T)
    if s.shape[0] < X.shape[1]:  # a wide X: zero columns for its last singular values, zero everywhere
        out = out @ m.eye(s.shape[0], X.shape[1], dtype=X.dtype{dev})
    return out
''',
    "top": '''
def _ricci_top_pair(X, which, m={m}):
    u, s, vt = m.linalg.svd(X, full_matrices=False)
    if s.shape[0] > 1:
        _ricci_gap([s[1], s[0]], "sv_u1(X), sv_v1(X), the top singular vectors,")
    flip = m.sum(vt[0, :] ** 3) < 0
    return m.where(flip, -u[:, 0], u[:, 0]) if which == "u" else m.where(flip, -vt[0, :], vt[0, :])
''',
    "polar": '''
def _ricci_polar(X, m={m}):
    u, s, vt = m.linalg.svd(X, full_matrices=False)
    try:
        small, big = float(s[s.shape[0] - 1]), float(s[0])
    except TypeError:  # traced (under jax.jit): an eager call checks
        small, big = 1.0, 1.0
    if big == 0.0 or small <= {gap!r} * big:
        raise ValueError("polar(X) is not unique here: X is not of full rank (relative smallest singular "
                         "value %.2g), so the derivative does not exist at this point" % (small / big if big else 0.0))
    return u @ vt
'''.replace("{gap!r}", repr(GAP)),
}


def _helper(kind: str, call: str):
    """A recipe that emits the helper ``kind`` once and calls it as ``call`` (with {a})."""
    def recipe(p, a):
        # the array API's namespace is the generated function's parameter: passed to the helper
        ns = f", m={p.module}" if p.name == "array_api" else ""
        p.need_import("\n\n" + _CHECK.strip("\n"))
        p.need_import("\n\n" + _HELPERS[kind].strip("\n").replace(
            "m={m}", "m=" + ("None" if p.name == "array_api" else p.module)).replace(
            "{dev}", ", device=X.device" if p.name in ("torch", "array_api") else ""))  # X on a GPU
        return p.Code(call.format(a=a.text, ns=ns))

    return recipe


def _value_code(which):
    """The eigenvalues and singular values themselves: one call, no helper (no refusal)."""
    def recipe(p, a):
        t = a.at(p.ATOM)
        sym = f"(({t} + {t}.T) / 2)"
        eigvalsh = f"{p.m('linalg.eigvalsh')}({sym})"
        if which == "eig":
            return p.Code(eigvalsh)
        if which == "max":
            return p.Code(f"{eigvalsh}[-1]")
        if which == "min":
            return p.Code(f"{eigvalsh}[0]")
        if p.name == "numpy":
            sv = f"{p.m('linalg.svd')}({a.text}, compute_uv=False)"
        else:
            sv = f"{p.m('linalg.svdvals')}({a.text})"
        if which == "svd":  # n − m zeros after NumPy's min(m, n) values for a wide X
            zeros = f"{p.m('zeros')}(max(0, {t}.shape[1] - {t}.shape[0]){p.dtype_kw()})"
            return p.Code(f"{p.m('concat' if p.name == 'array_api' else 'concatenate')}([{sv}, {zeros}])")
        if which == "spectral":
            return p.Code(f"{sv}[0]")
        return p.Code(f"{p.m('sum')}({sv})")  # nuclear

    return recipe


def _plan(name: str, result: str):
    """The entry's operation in generated code: one call of its recipe, of its own shape."""
    def plan(p, x):
        if x.ndim < 2:  # a vector's norm (spectral or nuclear): its Euclidean norm
            return p.func("sqrt", p.sumsq(x))
        rows, cols = (x.shape + (1, 1))[:2]
        shape = {"scalar": (), "rows": (rows,), "cols": (cols,), "cols×cols": (cols, cols),
                 "rows×cols": (rows, cols)}[result]
        return p.make("func", (x,), (name,), shape)

    return plan


def _mf(B, name, node, out):
    """The MatFun ``name`` of the same argument as ``node``, with free indices ``out``."""
    return B.matfun(name, node.arg, node.r, node.c, out)


def _d_top(vec):
    """∂λ(S)/∂S_ab = u_a u_b, u the unit eigenvector (Hellmann–Feynman)."""
    return lambda B, n, a, b: B.mul([_mf(B, vec, n, (a,)), _mf(B, vec, n, (b,))], (a, b))


def _d_eigvec(pinv):
    """∂u_p/∂S_ab = (G_pa u_b + G_pb u_a)/2 with G = (λ I − P)^+ (gap_pinv_max(S)): du = G dP u,
    dP = (dS + dS')/2 (first-order perturbation of a simple eigenvalue's unit eigenvector)."""
    def d(B, n, a, b):
        (p,) = n.out
        out = (p, a, b)
        terms = [B.mul([_mf(B, pinv, n, (p, i)), _mf(B, n.func, n, (j,))], out)
                 for i, j in ((a, b), (b, a))]
        return B.mul([B.num(0.5), B.add(terms)], out)

    return d


def _d_eig(B, n, a, b):
    (i,) = n.out  # ∂λ_i/∂S_ab = Q_ai Q_bi
    return B.mul([_mf(B, "eigvecs", n, (a, i)), _mf(B, "eigvecs", n, (b, i))], (i, a, b))


def _d_svd(B, n, a, b):
    (i,) = n.out  # ∂σ_i/∂X_ab = U_ai V_bi
    return B.mul([_mf(B, "svd_u", n, (a, i)), _mf(B, "svd_v", n, (b, i))], (i, a, b))


def _d_spectral(B, n, a, b):
    return B.mul([_mf(B, "sv_u1", n, (a,)), _mf(B, "sv_v1", n, (b,))], (a, b))  # u1_a v1_b


def _d_nuclear(B, n, a, b):
    return _mf(B, "polar", n, (a, b))  # (U V')_ab


def _lowered(name):
    """The index form: a MatFun node of the argument, free indices those of its result (of a
    vector, the two norms are its Euclidean norm, lowered as norm2)."""
    def lower(k):
        if not k.at.is_matrix:
            return norm2_lower(k)
        out = tuple(i for i in (k.r, k.c) if i is not None)
        return k.B.matfun(name, k.arg(k.ar, k.ac), k.ar, k.ac, out)

    return lower


def _entry(name, result, numpy, doc, *, square=False, derivative=None, curvature=None, code=None,
           xp=None, latex=None, nonneg=False, norm=None):
    def np2d(a):
        out = numpy(a)
        return np.asarray(out, dtype=float).reshape({"scalar": (1, 1)}.get(result, np.shape(out)) if
                                                     np.ndim(out) != 1 else (-1, 1))

    if latex is None:  # \operatorname{eigvec\_max}: an underscore in a name is not a subscript
        latex = r"\operatorname{" + name.replace("_", r"\_") + "}"
    return Function(
        name, "spectral", np2d, latex, None, doc, xp=xp, result=result, square=square,
        spectral_derivative=derivative, curvature=curvature, needs="conditioned",
        code={"default": code}, plan=_plan(name, result), lower=_lowered(name),
        interval=(lambda e, S: S.NONNEG) if nonneg else None, nonsmooth=curvature is not None,
        watch="spectrum" if derivative is not None else None,
        layout="norm" if norm else "head", norm=norm)


def _xp_eig(which):
    def f(xp, a):
        w = xp.linalg.eigvalsh(_xp_sym(xp, a))
        if which == "eig":
            return xp.reshape(w, (-1, 1))
        return xp.reshape(w[-1] if which == "max" else w[0], (1, 1))

    return f


def _xp_sv(which):
    def f(xp, a):
        s = _xp_svdvals(xp, a)
        if which == "svd":  # n − m zeros for a wide X, as _svd_values
            s = xp.concat([s, 0.0 * s[:1] * xp.ones(max(0, a.shape[1] - a.shape[0]))]) if \
                hasattr(xp, "concat") else xp.concatenate([s, xp.zeros(max(0, a.shape[1] - a.shape[0]))])
            return xp.reshape(s, (-1, 1))
        return xp.reshape(s[0] if which == "spectral" else xp.sum(s), (1, 1))

    return f


def _norm_rewrite(A, args):
    """NumPy's spellings: norm(x) and norm(X) (Euclidean, Frobenius) are norm2, norm(X, 2) the
    spectral norm, norm(X, 'nuc') the nuclear norm, norm(X, 'fro') norm2 again."""
    if len(args) == 1:
        return A.Call("norm2", args, getattr(args[0], "span", None))
    if len(args) != 2:
        raise ValueError(f"norm() takes 1 or 2 arguments (norm(X), norm(X, 2), norm(X, 'nuc')), "
                         f"not {len(args)}", None)
    x, kind = args
    span = getattr(x, "span", None)
    if isinstance(kind, A.Num) and kind.value == 2.0:
        return A.Call("spectral_norm", (x,), span)
    if isinstance(kind, A.Word) and kind.word in ("nuc", "fro"):
        return A.Call("nuclear_norm" if kind.word == "nuc" else "norm2", (x,), span)
    raise ValueError("the second argument of norm(X, …) is 2 (the spectral norm), 'nuc' (the nuclear "
                     "norm) or 'fro' (Frobenius), as NumPy spells them; norm1(x) is the sum of |x_i|", 1)


_EIG = "Hellmann–Feynman: dλ = u' dS u for a simple eigenvalue λ with unit eigenvector u"
_SV = ("Hellmann–Feynman for singular values (σ is an eigenvalue of [0 X; X' 0]): dσ = u' dX v for a simple "
       "singular value σ with unit singular vectors u, v")

add(
    _entry("eig", "cols", lambda a: _eigh(a)[0],
           f"eig(S): the eigenvalues of (S + S')/2, ascending; {_EIG}: ∂λ_i/∂S = q_i*q_i', "
           "q_i the i-th column of eigvecs(S)", square=True, derivative=_d_eig,
           code=_value_code("eig"), xp=_xp_eig("eig"), latex=r"\lambda"),
    _entry("lambda_max", "scalar", lambda a: _eigh(a)[0][-1],
           f"lambda_max(S): the largest eigenvalue; {_EIG}: ∂lambda_max(S)/∂S = u*u', "
           "u = eigvec_max(S), where it is simple", square=True, derivative=_d_top("eigvec_max"),
           curvature="convex", code=_value_code("max"), xp=_xp_eig("max"), latex=r"\lambda_{\max}"),
    _entry("lambda_min", "scalar", lambda a: _eigh(a)[0][0],
           f"lambda_min(S): the smallest eigenvalue; {_EIG}: ∂lambda_min(S)/∂S = u*u', "
           "u = eigvec_min(S), where it is simple", square=True, derivative=_d_top("eigvec_min"),
           curvature="concave", code=_value_code("min"), xp=_xp_eig("min"), latex=r"\lambda_{\min}"),
    _entry("eigvec_max", "cols", _eigvec("max"),
           "eigvec_max(S): the unit eigenvector of the largest eigenvalue of (S + S')/2 (sum of "
           "cubes ≥ 0); du = gap_pinv_max(S) dS u", square=True,
           code=_helper("eigvec", "_ricci_eigvec({a}, True{ns})"), derivative=_d_eigvec("gap_pinv_max"),
           xp=_xp_via_numpy(_eigvec("max"))),
    _entry("eigvec_min", "cols", _eigvec("min"),
           "eigvec_min(S): the unit eigenvector of the smallest eigenvalue of (S + S')/2",
           square=True, code=_helper("eigvec", "_ricci_eigvec({a}, False{ns})"),
           derivative=_d_eigvec("gap_pinv_min"), xp=_xp_via_numpy(_eigvec("min"))),
    _entry("gap_pinv_max", "cols×cols", _gap_pinv("max"),
           "gap_pinv_max(S) = (lambda_max(S)*I - (S + S')/2)^+, Σ q_k*q_k'/(λ_max − λ_k) over the other "
           "eigenvalues", square=True, code=_helper("pinv", "_ricci_gap_pinv({a}, True{ns})"),
           xp=_xp_via_numpy(_gap_pinv("max"))),
    _entry("gap_pinv_min", "cols×cols", _gap_pinv("min"),
           "gap_pinv_min(S) = (lambda_min(S)*I - (S + S')/2)^+, Σ q_k*q_k'/(λ_min − λ_k) over the other "
           "eigenvalues", square=True, code=_helper("pinv", "_ricci_gap_pinv({a}, False{ns})"),
           xp=_xp_via_numpy(_gap_pinv("min"))),
    _entry("eigvecs", "cols×cols", _eigvecs,
           "eigvecs(S): the unit eigenvectors of (S + S')/2 as columns, in eig(S)'s order",
           square=True, code=_helper("eigvecs", "_ricci_eigvecs({a}{ns})"), xp=_xp_via_numpy(_eigvecs)),
    _entry("svd", "cols", _svd_values,
           f"svd(X): the n singular values of an m×n X, descending (n − m zeros after NumPy's for a "
           f"wide X); {_SV}: ∂σ_i/∂X = u_i*v_i'",
           derivative=_d_svd, code=_value_code("svd"), xp=_xp_sv("svd"), latex=r"\sigma", nonneg=True),
    _entry("svd_u", "rows×cols", lambda a: _svd_vectors(a, "svd_u(X), the left singular vectors,")[0],
           "svd_u(X): the left singular vectors of X as columns, in svd(X)'s order",
           code=_helper("svd", '_ricci_svd({a}, "u"{ns})'),
           xp=_xp_via_numpy(lambda a: _svd_vectors(a, "svd_u(X)")[0])),
    _entry("svd_v", "cols×cols", lambda a: _svd_vectors(a, "svd_v(X), the right singular vectors,")[1],
           "svd_v(X): the right singular vectors of X as columns, in svd(X)'s order",
           code=_helper("svd", '_ricci_svd({a}, "v"{ns})'),
           xp=_xp_via_numpy(lambda a: _svd_vectors(a, "svd_v(X)")[1])),
    _entry("spectral_norm", "scalar", lambda a: np.linalg.svd(np.asarray(a, dtype=float), compute_uv=False)[0],
           f"spectral_norm(X) = σ_1(X), NumPy's norm(X, 2); {_SV}: ∂‖X‖_2/∂X = u1*v1', "
           "u1 = sv_u1(X), v1 = sv_v1(X), where σ_1 is simple", derivative=_d_spectral,
           curvature="convex", code=_value_code("spectral"), xp=_xp_sv("spectral"), nonneg=True,
           latex=r"\lVert{}\rVert_2", norm="2"),
    _entry("nuclear_norm", "scalar", lambda a: np.sum(np.linalg.svd(np.asarray(a, dtype=float), compute_uv=False)),
           f"nuclear_norm(X) = Σ σ_i(X), NumPy's norm(X, 'nuc'); {_SV}: ∂‖X‖_*/∂X = U*V' = polar(X), "
           "where X has full rank", derivative=_d_nuclear, curvature="convex",
           code=_value_code("nuclear"), xp=_xp_sv("nuclear"), nonneg=True, latex=r"\lVert{}\rVert_*",
           norm="*"),
    _entry("sv_u1", "rows", lambda a: _top_pair(a)[0],
           "sv_u1(X): the left singular vector of the largest singular value",
           code=_helper("top", '_ricci_top_pair({a}, "u"{ns})'), xp=_xp_via_numpy(lambda a: _top_pair(a)[0])),
    _entry("sv_v1", "cols", lambda a: _top_pair(a)[1],
           "sv_v1(X): the right singular vector of the largest singular value",
           code=_helper("top", '_ricci_top_pair({a}, "v"{ns})'), xp=_xp_via_numpy(lambda a: _top_pair(a)[1])),
    Function("norm", "rewritten", None, None,
             doc="NumPy's spellings: norm(X) = norm2(X), norm(X, 2) = spectral_norm(X), "
                 "norm(X, 'nuc') = nuclear_norm(X), norm(X, 'fro') = norm2(X)", rewrite=_norm_rewrite),
    _entry("polar", "rows×cols", _polar,
           "polar(X) = U*V' from the thin SVD X = U*diag(σ)*V': the orthogonal polar factor",
           code=_helper("polar", "_ricci_polar({a}{ns})"), xp=_xp_via_numpy(_polar)),
)
