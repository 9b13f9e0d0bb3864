"""Matrix functions of a square matrix: ``expm``, ``logm``, ``sqrtm`` (the "analytic" family),
and their Fréchet derivatives ``expm_frechet(X, E)``, … (the "frechet" family).

A matrix function f(X) is the power series (or principal branch) of f applied to the matrix,
not entry by entry: ``expm(X) = Σ X^k/k!``.  Its derivative is the Fréchet derivative
L_f(X, E) = d/dh f(X + h E) at h = 0, a linear map of the direction E.  In index notation it
is a tensor of four indices, ∂f(X)_pq/∂X_ab (an IR MatFun node of the Fréchet entry with four
``out`` indices); contracted with a matrix M on its first two indices it is the adjoint
L_f(X', M) (the adjoint of the Fréchet derivative at X is the Fréchet derivative at X', for a
power series with real coefficients), which is how an answer shows it (ricci.raise_matrix).

Two readings need no Fréchet operator (ricci.diff reads ``prime``, f′(X) as a matrix):
  * the trace rule ∂tr(f(X))/∂X = f′(X)' (tr(logm(X)) has logdet's derivative inv(X)');
  * the commuting case: where the direction commutes with X (expm(t*A) by t) the scalar
    chain rule holds, ∂f(t A)/∂t = A f′(t A).

Evaluation (NumPy: SciPy's expm, logm, sqrtm, expm_frechet, imported when first used, so
that ``import ricci`` stays light and the core needs no SciPy); the Fréchet derivative of
logm and sqrtm by Daleckii–Krein for a symmetric X (U (L ∘ U'EU) U', L the Loewner matrix of
f at the eigenvalues) and otherwise by the block-triangular identity
f([X E; 0 X]) = [f(X) L(X,E); 0 f(X)].  In another array namespace: torch.linalg.matrix_exp,
jax.scipy.linalg.expm (and expm_frechet), and for logm and sqrtm (and expm where nothing else
exists: the array API standard has no matrix exponential, logarithm or square root) iterations
built from matmul, inv and solve, for a general square argument, with their Fréchet derivatives
(.matrix_iterations; docs/matrix_functions.md).
"""

from __future__ import annotations

import numpy as np

from . import matrix_iterations as iterations
from .base import Function, add

#: the extra that installs SciPy, named in the error where it is missing
EXTRA = "matrix-functions"

#: X^p for a real, non-integer p is written expm(p*logm(X)) when parsed (ricci.language.kinds)
REAL_POWER = ("expm", "logm")


def _scipy_linalg():
    """scipy.linalg, imported when a matrix function is first evaluated (the core has no SciPy)."""
    try:
        import scipy.linalg
    except ImportError:
        raise ModuleNotFoundError(
            "matrix functions (expm, logm, sqrtm) are evaluated with SciPy, which is not installed: "
            f"pip install 'ricci[{EXTRA}]'") from None
    return scipy.linalg


# -- the principal branches --------------------------------------------------------------------------

def _on_negative_axis(x: np.ndarray) -> bool:
    """An eigenvalue on the closed negative real axis (where logm and sqrtm have no principal
    branch; for sqrtm 0 itself is allowed but its derivative is not, so it is refused too)."""
    w = np.linalg.eigvals(x)
    scale = max(1.0, float(np.max(np.abs(w)))) if w.size else 1.0
    return bool(np.any((np.abs(w.imag) <= 1e-12 * scale) & (w.real <= 1e-12 * scale)))


def _real(m, x: np.ndarray) -> np.ndarray:
    m = np.asarray(m)
    if np.iscomplexobj(m):
        m = m.real  # the principal branch of a real matrix is real; SciPy may return 0j parts
    return np.asarray(m, dtype=float).reshape(x.shape)


def _symmetric(x: np.ndarray) -> bool:
    return x.shape[0] == x.shape[1] and np.allclose(x, x.T, rtol=1e-12, atol=1e-14 * max(1.0, np.abs(x).max(initial=0)))


def _diagonalised(x: np.ndarray):
    """(w, V, V⁻¹) of a diagonalizable x with well-conditioned eigenvectors, else None: then
    f(X) = V diag(f(w)) V⁻¹ is exact to rounding and far cheaper than SciPy's logm (90 ms for a
    4×4 here, against 50 µs), which stays the route of a nearly defective matrix."""
    w, v = np.linalg.eig(x)
    if np.linalg.cond(v) > 1e6:
        return None
    return w, v, np.linalg.inv(v)


def _by_eigenvalues(x: np.ndarray, scalar) -> np.ndarray | None:
    got = _diagonalised(x)
    if got is None:
        return None
    w, v, vi = got
    return _real((v * scalar(w.astype(complex))) @ vi, x)


def _expm(x):
    x = np.asarray(x, dtype=float)
    return _real(_scipy_linalg().expm(x), x)


def _outside_domain(x: np.ndarray) -> bool:
    """Not finite, or an eigenvalue on the closed negative real axis: logm and sqrtm are NaN there."""
    return not np.all(np.isfinite(x)) or _on_negative_axis(x)


def _principal(scalar, scipy_name: str):
    """The principal branch of ``scalar`` (np.log, np.sqrt) as a matrix function: NaN outside its
    domain, U diag(f(w)) U' for a symmetric x (exact and cheap), V diag(f(w)) V⁻¹ where the
    eigenvectors are well conditioned, else SciPy's ``scipy_name``."""
    def f(x):
        x = np.asarray(x, dtype=float)
        if _outside_domain(x):
            return np.full(x.shape, np.nan)
        if _symmetric(x):
            w, u = np.linalg.eigh(x)
            return (u * scalar(w)) @ u.T
        got = _by_eigenvalues(x, scalar)
        return got if got is not None else _real(getattr(_scipy_linalg(), scipy_name)(x), x)
    return f


_logm = _principal(np.log, "logm")
_sqrtm = _principal(np.sqrt, "sqrtm")


# -- the Fréchet derivatives ---------------------------------------------------------------------------

#: the scalar f and f′ of each function in an array namespace ``xp``, for the Loewner matrix
_SCALAR = {
    "expm": (lambda xp, w: xp.exp(w), lambda xp, w: xp.exp(w)),
    "logm": (lambda xp, w: xp.log(w), lambda xp, w: 1.0 / w),
    "sqrtm": (lambda xp, w: xp.sqrt(w), lambda xp, w: 0.5 / xp.sqrt(w)),
}


def _loewner(name: str, w: np.ndarray) -> np.ndarray:
    """L_ij = (f(w_i) − f(w_j))/(w_i − w_j), and f′(w_i) where w_i = w_j (Daleckii–Krein)."""
    f, fp = _SCALAR[name]
    fw = f(np, w)
    dw = w[:, None] - w[None, :]
    close = np.abs(dw) <= 1e-9 * np.maximum(1.0, np.abs(w)[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (fw[:, None] - fw[None, :]) / np.where(close, 1.0, dw)
    mean = fp(np, (w[:, None] + w[None, :]) / 2)  # f′ at the (nearly) common value
    return np.where(close, mean, out)


def _block(name: str, x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """L_f(X, E) as the upper right block of f([X E; 0 X])."""
    n = x.shape[0]
    big = np.block([[x, e], [np.zeros_like(x), x]])
    f = {"expm": _expm, "logm": _logm, "sqrtm": _sqrtm}[name]
    return f(big)[:n, n:]


def frechet(name: str, x, e) -> np.ndarray:
    """L_f(X, E) for f = ``name`` (expm, logm, sqrtm): NaN outside f's domain."""
    x = np.asarray(x, dtype=float)
    e = np.asarray(e, dtype=float).reshape(x.shape)
    if name != "expm" and _outside_domain(x):
        return np.full(x.shape, np.nan)
    if _symmetric(x):
        w, u = np.linalg.eigh(x)
        return u @ (_loewner(name, w) * (u.T @ e @ u)) @ u.T
    if name == "expm":
        return np.asarray(_scipy_linalg().expm_frechet(x, e, compute_expm=False), dtype=float)
    got = _diagonalised(x)
    if got is not None:  # Daleckii–Krein in the eigenbasis: V (L ∘ V⁻¹EV) V⁻¹
        w, v, vi = got
        return _real(v @ (_loewner(name, w.astype(complex)) * (vi @ e @ v)) @ vi, x)
    if name == "sqrtm":  # S L + L S = E with S = sqrtm(X): one Sylvester equation
        s = _sqrtm(x)
        return np.asarray(_scipy_linalg().solve_sylvester(s, s, e), dtype=float)
    return _block(name, x, e)


def frechet_tensor(name: str, x) -> np.ndarray:
    """T[p, q, a, b] = ∂f(X)_pq/∂X_ab = L_f(X, e_a e_b')_pq (the IR's four-index node)."""
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    if name != "expm" and _outside_domain(x):
        return np.full((n, n, n, n), np.nan)
    if _symmetric(x):  # Daleckii–Krein for every direction at once
        w, u = np.linalg.eigh(x)
        return np.einsum("pi,qj,ij,ai,bj->pqab", u, u, _loewner(name, w), u, u)
    got = _diagonalised(x)
    if got is not None:  # the same in the eigenbasis: (V⁻¹ e_a e_b' V)_ij = V⁻¹_ia V_bj
        w, v, vi = got
        t = np.einsum("pi,ij,ia,bj,jq->pqab", v, _loewner(name, w.astype(complex)), vi, v, vi)
        return np.ascontiguousarray(t.real)
    out = np.empty((n, n, n, n))
    for a in range(n):
        for b in range(n):
            e = np.zeros((n, n))
            e[a, b] = 1.0
            out[:, :, a, b] = frechet(name, x, e)
    return out


# -- other array namespaces -----------------------------------------------------------------------------

def _namespace(xp) -> str:
    name = getattr(xp, "__name__", "")
    return name.split(".")[0]


def _iterated(name, xp, x, e=None):
    """f(X), or L_f(X, E) where E is given, by the iteration of .matrix_iterations: any square X
    in any namespace with matmul, linalg.inv, solve and slogdet (NaN outside the domain)."""
    value, derivative = getattr(iterations, iterations.HELPER[name])(x, e, xp)
    return value if e is None else derivative


def _expm_xp(xp, x):
    ns = _namespace(xp)
    if ns == "numpy":
        return xp.asarray(_expm(np.asarray(x)))
    if ns == "torch":
        import torch

        return torch.linalg.matrix_exp(x)
    if ns == "jax":
        import jax.scipy.linalg

        return jax.scipy.linalg.expm(x)
    return _iterated("expm", xp, x)


def _principal_xp(name, numpy_f):
    def f(xp, x):
        if _namespace(xp) == "numpy":
            return xp.asarray(numpy_f(np.asarray(x)))
        return _iterated(name, xp, x)
    return f


def _frechet_numpy(name):
    def f(x, e=None):
        # one argument: the four-index tensor the IR evaluates; two: L_f(X, E)
        return frechet_tensor(name, x) if e is None else frechet(name, x, e)
    return f


def _frechet_xp(name):
    def f(xp, x, e):
        if _namespace(xp) == "numpy":
            return xp.asarray(frechet(name, np.asarray(x), np.asarray(e)))
        if name == "expm" and _namespace(xp) == "jax":
            import jax.scipy.linalg

            return jax.scipy.linalg.expm_frechet(x, e, compute_expm=False)
        if name == "expm" and _namespace(xp) == "torch":  # the block identity with matrix_exp
            import torch

            n = x.shape[0]
            return torch.linalg.matrix_exp(torch.cat([torch.cat([x, e], 1),
                                                      torch.cat([torch.zeros_like(x), x], 1)], 0))[:n, n:]
        return _iterated(name, xp, x, e)
    return f


# -- generated code -------------------------------------------------------------------------------------

def _code(numpy_name, torch_code, jax_name):
    """The spelling per backend: SciPy for NumPy, torch's and JAX's own, and elsewhere (logm and
    sqrtm in JAX and PyTorch, all three in the array API) the iteration of .matrix_iterations,
    whose source the generated module carries."""
    def numpy(p, a):
        p.need_import("import scipy.linalg")
        return p.call(f"scipy.linalg.{numpy_name}", a.text)

    def jax(p, a):
        if not jax_name:
            return _helper_code(p, numpy_name, a, None)
        p.need_import("import jax.scipy.linalg")
        return p.call(f"jax.scipy.linalg.{jax_name}", a.text)

    def torch(p, a):
        return p.call(torch_code, a.text) if torch_code else _helper_code(p, numpy_name, a, None)

    def array_api(p, a):
        return _helper_code(p, numpy_name, a, None)

    return {"numpy": numpy, "jax": jax, "torch": torch, "array_api": array_api}


def _helper_code(p, name, a, e):
    """A call of ``name``'s iteration (its value, or with ``e`` its Fréchet derivative), the
    helper's source written once at the top of the module; the namespace is passed to it (in
    the array API, the generated function's parameter)."""
    for source in iterations.helper_source(iterations.HELPER[name]):
        p.need_import("\n\n" + source.strip("\n"))
    helper = iterations.HELPER[name]
    if e is None:
        return p.Code(f"{helper}({a.text}, None, {p.module})[0]")
    return p.Code(f"{helper}({a.text}, {e.text}, {p.module})[1]")


def _frechet_code(name):
    """L_f(X, E) per backend; with no direction E (``e`` None), the four-index tensor
    T[p, q, a, b] = L_f(X, e_a e_b')_pq of a second derivative (``_tensor_code``)."""
    def numpy(p, a, e=None):
        p.need_import("import scipy.linalg")
        if e is None:
            return _tensor_code(p, a, numpy, "map")
        if name == "expm":
            return p.call("scipy.linalg.expm_frechet", a.text, e.text, "compute_expm=False")
        return _block_code(p, a, e, f"scipy.linalg.{name}", p.m("block"))

    def jax(p, a, e=None):
        if e is None:
            return _tensor_code(p, a, jax, "vmap" if name == "expm" else "batch")
        if name == "expm":
            p.need_import("import jax.scipy.linalg")
            return p.call("jax.scipy.linalg.expm_frechet", a.text, e.text, "compute_expm=False")
        return _helper_code(p, name, a, e)

    def torch(p, a, e=None):
        if e is None:
            return _tensor_code(p, a, torch, "map" if name == "expm" else "batch")
        if name == "expm":
            return _block_code(p, a, e, "torch.linalg.matrix_exp", None)
        return _helper_code(p, name, a, e)

    def array_api(p, a, e=None):
        if e is None:
            return _tensor_code(p, a, array_api, "batch")
        return _helper_code(p, name, a, e)

    return {"numpy": numpy, "jax": jax, "torch": torch, "array_api": array_api}


def _tensor_code(p, a, directional, how):
    """T[p, q, a, b] = L_f(X, e_a e_b')_pq: ``directional`` (the recipe of L_f(X, E)) applied to
    the n² basis directions, stacked as S[a*n + b, p, q] and permuted to (p, q, a, b).

    The cost is n² Fréchet derivatives, O(n⁵) in all, as the tensor's n⁴ entries ask: ``"batch"``
    passes the n² directions at once as one (n², n, n) stack to the iterations of
    .matrix_iterations, whose dual part broadcasts over it (X's iteration runs once); ``"vmap"``
    (JAX's expm_frechet) maps the recipe with jax.vmap; ``"map"`` (SciPy's expm_frechet and the
    block identity, PyTorch's matrix_exp of the block matrix) calls it once a direction.  A
    Kronecker or Daleckii–Krein form would need eigenvectors, which the array API lacks for a
    general X and which lose accuracy where they are ill conditioned (see .matrix_iterations)."""
    m = p.module
    A, E = p.Code("A", p.ATOM), p.Code("E", p.ATOM)
    if p.name == "torch":
        basis = "torch.eye(A.numel(), dtype=A.dtype, device=A.device).reshape(-1, *A.shape)"
    elif p.name == "array_api":
        basis = f"{m}.reshape({m}.eye(A.shape[0] * A.shape[1], dtype=A.dtype, device=A.device), (-1, *A.shape))"
    else:
        basis = f"{m}.eye(A.size, dtype=A.dtype).reshape(-1, *A.shape)"
    one = directional(p, A, E).text
    if how == "batch":
        stack = directional(p, A, p.Code(basis, p.ATOM)).text
    elif how == "vmap":
        p.need_import("import jax")
        stack = f"jax.vmap(lambda E: {one})({basis})"
    else:
        stack = f"{m}.stack([{one} for E in {basis}])"
    if p.name == "torch":
        full = f"{stack}.reshape(A.shape + A.shape).permute(2, 3, 0, 1)"
    else:
        full = f"{m}.permute_dims({m}.reshape({stack}, A.shape + A.shape), (2, 3, 0, 1))" \
            if p.name == "array_api" else f"{m}.transpose({stack}.reshape(A.shape + A.shape), (2, 3, 0, 1))"
    return p.Code(f"(lambda A: {full})({a.text})", p.ATOM)


def _block_code(p, a, e, fn, block):
    # f([A E; 0 A])[:n, n:] (the block-triangular identity), A and E evaluated once
    if block is None:  # torch has no block(): cat the rows
        big = "torch.cat([torch.cat([A, E], 1), torch.cat([torch.zeros_like(A), A], 1)], 0)"
    else:
        big = f"{block}([[A, E], [{p.m('zeros_like')}(A), A]])"
    return p.Code(f"(lambda A, E: {fn}({big})[:A.shape[0], A.shape[0]:])({a.text}, {e.text})", p.ATOM)


# -- the entries --------------------------------------------------------------------------------------------

def _prime_expm(B, arg, r, c, out):
    return B.matfun("expm", arg, r, c, out)


def _prime_logm(B, arg, r, c, out):
    return B.matfun("inv", arg, r, c, out)  # d tr(logm(X)) = tr(inv(X) dX), as logdet (57)


def _prime_sqrtm(B, arg, r, c, out):
    i, j = B.fresh(r.dim), B.fresh(c.dim)
    root = B.matfun("sqrtm", arg, r, c, (i, j))
    return B.mul([B.num(0.5), B.matfun("inv", root, i, j, out)], out)


def _lower(name):
    return lambda k: k.B.matfun(name, k.arg(k.ar, k.ac), k.ar, k.ac, (k.r, k.c))


def _lower_frechet(name):
    # L_f(X, E)_rc = Σ_ab T_rc,ab E_ab, T the four-index Fréchet tensor (MatFun with four out)
    def lower(k):
        a, b = k.B.fresh(k.ar.dim), k.B.fresh(k.ac.dim)
        tensor = k.B.matfun(name, k.arg(k.ar, k.ac), k.ar, k.ac, (k.r, k.c, a, b))
        return k.B.mul([tensor, k.more(1, a, b)], (k.r, k.c))
    return lower


def _sympy_refused(what):
    def f(sp, x):
        raise NotImplementedError(f"{what} has no SymPy form here")
    return f


FUNCTION_XP = {
    "expm": _expm_xp,
    "logm": _principal_xp("logm", _logm),
    "sqrtm": _principal_xp("sqrtm", _sqrtm),
}

_DOMAIN = "no eigenvalue on the closed negative real axis (principal branch)"


def _branch(name):
    """What the entries of a principal branch (logm, sqrtm) and of its Fréchet derivative watch."""
    return {"watch": "invertible", "needs": "conditioned", "nan_hint": f"{name} needs a matrix with " + _DOMAIN}


def _analytic(name, evaluate, doc, prime, code=None, **more):
    """The "analytic" entry ``name``; its Fréchet entry is ``name``_frechet."""
    return Function(name, "analytic", evaluate, None, None, doc, xp=FUNCTION_XP[name],
                    code=code or _code(name, None, None), lower=_lower(name), frechet=name + "_frechet",
                    prime=prime, plan=lambda p, x: p.func(name, x), **more)


def _frechet_entry(name, of, doc, **more):
    """The "frechet" entry ``name``(X, E) of the analytic function ``of``."""
    return Function(name, "frechet", _frechet_numpy(of), None, None, doc, xp=_frechet_xp(of),
                    code=_frechet_code(of), lower=_lower_frechet(name), frechet=of,
                    plan=lambda p, x, e: p.make("func", (x, e), (name,), x.shape), **more)


add(
    _analytic("expm", _expm,
              "expm(X) = Σ_k X^k/k!; ∂tr(expm(X))/∂X = expm(X)' (the trace rule); "
              "∂expm(X)[E] = expm_frechet(X, E) (the Fréchet derivative)", _prime_expm,
              code=_code("expm", "torch.linalg.matrix_exp", "expm"),
              inf_hint="expm overflows: the matrix's eigenvalues are too large"),
    _analytic("logm", _logm,
              "logm(X): the principal logarithm, expm(logm(X)) = X; ∂tr(logm(X))/∂X = inv(X)' "
              "(the trace rule, as logdet); needs " + _DOMAIN, _prime_logm, **_branch("logm")),
    _analytic("sqrtm", _sqrtm,
              "sqrtm(X): the principal square root, sqrtm(X)*sqrtm(X) = X; "
              "∂tr(sqrtm(X))/∂X = 0.5*inv(sqrtm(X))' (the trace rule); needs " + _DOMAIN, _prime_sqrtm,
              **_branch("sqrtm")),
    _frechet_entry("expm_frechet", "expm",
                   "expm_frechet(X, E) = d/dh expm(X + h*E) at h = 0 (the Fréchet derivative); "
                   "its adjoint in E is expm_frechet(X', ·)"),
    _frechet_entry("logm_frechet", "logm", "logm_frechet(X, E) = d/dh logm(X + h*E) at h = 0 (the Fréchet derivative)",
                   **_branch("logm")),
    _frechet_entry("sqrtm_frechet", "sqrtm",
                   "sqrtm_frechet(X, E) = d/dh sqrtm(X + h*E) at h = 0: the L with sqrtm(X)*L + L*sqrtm(X) = E",
                   **_branch("sqrtm")),
)
