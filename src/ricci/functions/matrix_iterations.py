"""expm, logm and sqrtm of a general square matrix, and their Fréchet derivatives, from matrix
products, ``linalg.inv``/``linalg.solve`` and ``linalg.slogdet`` only: the pieces that NumPy,
JAX, PyTorch and the array API standard's ``linalg`` extension all have (the standard has no
``eig`` of a general matrix, no Schur form, no matrix exponential).

Why iterations rather than an eigendecomposition V diag(f(λ)) V⁻¹: that is inaccurate where V is
ill conditioned (a nearly defective X), ``jnp.linalg.eig`` runs on the CPU only, and the standard
has no general ``eig`` at all; and it cannot give the Fréchet derivative by the block identity
f([X E; 0 X]) = [f(X) L; 0 f(X)], whose block matrix is defective.  The methods here (Higham,
*Functions of Matrices*, SIAM 2008) are stable, converge for every X with no eigenvalue on the
closed negative real axis, and run on any device:

* sqrtm: the product form of the Denman–Beavers iteration with determinantal scaling (Higham,
  ch. 6), stopped when M_k = Y_k Z_k reaches I;
* logm: inverse scaling and squaring without a Schur form (Cheng, Higham, Kenney, Laub, SIMAX
  22, 2001): square roots until ‖A − I‖₁ ≤ 1/4, then the [8/8] Padé approximant of log(I + R)
  as its 8-point Gauss–Legendre form Σ w_j R (I + x_j R)⁻¹, times 2^k;
* expm (for the array API only; JAX and PyTorch have their own): the [13/13] Padé approximant
  with scaling and squaring (Higham, SIMAX 26, 2005).

Each helper carries a direction E beside X: every step is differentiated exactly (dual numbers of
matrices, d(M⁻¹) = −M⁻¹ dM M⁻¹), which is the same iteration run on the block matrix
[X E; 0 X] with the same scalings, so its upper right block converges to the Fréchet derivative
L_f(X, E) as the iterate converges to f(X).  With E = None only f(X) is computed.

Outside the domain (an eigenvalue on the closed negative real axis) the square root iteration
does not converge and the result is NaN, never a wrong number.  The number of steps is read from
the values; where they cannot be read (traced by ``jax.jit`` or ``jax.grad``) a fixed number of
steps is taken instead, enough for a well-conditioned X (see ``_ricci_value``), and the NaN test
stays in (``where``).

These functions are written once and serve twice: ``matrix_functions`` calls them with an array
namespace ``m`` to evaluate, and generated code carries their source (``helper_source``), so a
generated module needs nothing of ricci.  They read only their arguments and each other.
"""

from __future__ import annotations


def _ricci_value(v):
    """A 0-d array as a float, or None where it is traced (jax.jit, jax.grad): no value to read,
    so a loop takes its fixed number of steps instead of testing for convergence."""
    try:
        return float(v.detach() if hasattr(v, "detach") else v)  # PyTorch warns on a graph's value
    except TypeError:  # jax's ConcretizationTypeError is a TypeError
        return None


def _ricci_eye(X, m):
    # on X's device (PyTorch, the array API); a traced JAX value has none and JAX places it
    return m.eye(X.shape[0], dtype=X.dtype, device=getattr(X, "device", None))


def _ricci_norm1(A, m):
    return m.max(m.sum(m.abs(A), axis=0))


def _ricci_repeat(step, state, count, m):
    """``state = step(state)``, ``count`` times; JAX's loop when traced, so that jax.jit compiles
    the step once rather than ``count`` copies of it (a minute for logm, unrolled)."""
    if getattr(m, "__name__", "").startswith("jax"):
        import jax

        return jax.lax.fori_loop(0, count, lambda _, s: step(s), state)
    for _ in range(count):
        state = step(state)
    return state


def _ricci_sqrtm_dual(X, E, m):
    """(sqrtm(X), L_sqrtm(X, E)): the scaled product form of Denman–Beavers, M_k → I, Y_k → X^½."""
    eye = _ricci_eye(X, m)
    n = X.shape[0]
    tol = float(m.finfo(X.dtype).eps) ** 0.5

    def step(state):
        M, Y, dM, dY = state
        Mi = m.linalg.inv(M)
        # determinantal scaling μ = |det M|^(-1/(2n)), from slogdet (det over/underflows); the
        # block matrix [M dM; 0 M] has the same μ, so μ is a constant of the dual part
        mu = m.exp(-m.linalg.slogdet(M)[1] / (2 * n))
        if dM is not None:
            dMi = -(Mi @ dM @ Mi)
            dY = (mu / 2) * (dY @ (eye + Mi / mu**2) + Y @ dMi / mu**2)
            dM = (mu**2 * dM + dMi / mu**2) / 4
        return (eye + (mu**2 * M + Mi / mu**2) / 2) / 2, (mu / 2) * (Y @ (eye + Mi / mu**2)), dM, dY

    state = (X, X, E, E)
    if _ricci_value(_ricci_norm1(X, m)) is None:
        # traced: no value to test, so a fixed count; with the scaling a well-conditioned X
        # takes 5 to 8 steps, and a step after convergence changes nothing
        state = _ricci_repeat(step, state, 12, m)
    else:
        settled = False
        for _ in range(40):
            state = step(state)
            err = _ricci_value(_ricci_norm1(state[0] - eye, m))
            if settled or err != err:  # converged a step ago (quadratic: now at rounding), or NaN
                break
            settled = err <= tol
    M, Y, _, dY = state
    # not converged: an eigenvalue on the closed negative real axis (or a singular step)
    ok = _ricci_norm1(M - eye, m) <= tol
    bad = m.full_like(Y, float("nan"))
    return m.where(ok, Y, bad), (None if E is None else m.where(ok, dY, bad))


def _ricci_logm_dual(X, E, m):
    """(logm(X), L_logm(X, E)): square roots until ‖A − I‖₁ ≤ 1/4, then 2^k log(I + R) by the
    [8/8] Padé approximant in its Gauss–Legendre form, exact to rounding for ‖R‖ ≤ 1/4."""
    eye = _ricci_eye(X, m)
    A, dA = X, E
    k = 0
    if _ricci_value(_ricci_norm1(X, m)) is None:
        # traced: 8 roots, enough for ‖logm(X)‖ up to about 2^8/4, at a cost of 2^8 ulps at most
        A, dA = _ricci_repeat(lambda s: _ricci_sqrtm_dual(s[0], s[1], m), (A, dA), 8, m)
        k = 8
    else:  # until ‖A − I‖₁ ≤ 1/4 (a NaN root stops the loop, and the NaN is the answer)
        while k < 64 and _ricci_value(_ricci_norm1(A - eye, m)) > 0.25:
            A, dA = _ricci_sqrtm_dual(A, dA, m)
            k += 1
    R = A - eye
    nodes = (0.019855071751231912, 0.10166676129318664, 0.2372337950418355, 0.4082826787521751,
             0.5917173212478248, 0.7627662049581645, 0.8983332387068134, 0.9801449282487681)
    weights = (0.05061426814518853, 0.11119051722668721, 0.15685332293894344, 0.18134189168918083,
               0.18134189168918083, 0.15685332293894344, 0.11119051722668721, 0.05061426814518853)
    out, dout = 0.0 * R, None if E is None else 0.0 * R
    for x, w in zip(nodes, weights):
        # R (I + x R)⁻¹ = (I + x R)⁻¹ R: they commute, so one solve
        Z = m.linalg.solve(eye + x * R, R)
        out = out + w * Z
        if E is not None:
            dout = dout + w * m.linalg.solve(eye + x * R, dA - x * (dA @ Z))
    return 2.0**k * out, (None if E is None else 2.0**k * dout)


def _ricci_expm_dual(X, E, m):
    """(expm(X), L_expm(X, E)): the [13/13] Padé approximant of X/2^s, squared s times."""
    norm = _ricci_value(_ricci_norm1(X, m))
    if norm is None:
        raise ValueError("expm here needs the values of its argument (it is traced): the scaling is "
                         "read from them; the JAX backend has its own expm")
    s = 0
    while norm > 5.371920351148152 * 2.0**s and s < 1000:  # θ₁₃ (Higham 2005)
        s += 1
    b = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
         129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
         40840800.0, 960960.0, 16380.0, 182.0, 1.0)
    eye = _ricci_eye(X, m)
    A = X / 2.0**s
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A2 @ A4
    W1 = b[13] * A6 + b[11] * A4 + b[9] * A2
    W = A6 @ W1 + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye
    U = A @ W
    Z1 = b[12] * A6 + b[10] * A4 + b[8] * A2
    V = A6 @ Z1 + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    R = m.linalg.solve(V - U, V + U)
    dR = None
    if E is not None:  # every product above, differentiated
        dA = E / 2.0**s
        dA2 = dA @ A + A @ dA
        dA4 = dA2 @ A2 + A2 @ dA2
        dA6 = dA2 @ A4 + A2 @ dA4
        dW1 = b[13] * dA6 + b[11] * dA4 + b[9] * dA2
        dW = dA6 @ W1 + A6 @ dW1 + b[7] * dA6 + b[5] * dA4 + b[3] * dA2
        dU = dA @ W + A @ dW
        dZ1 = b[12] * dA6 + b[10] * dA4 + b[8] * dA2
        dV = dA6 @ Z1 + A6 @ dZ1 + b[6] * dA6 + b[4] * dA4 + b[2] * dA2
        dR = m.linalg.solve(V - U, dU + dV + (dU - dV) @ R)
    for _ in range(s):
        if dR is not None:
            dR = dR @ R + R @ dR
        R = R @ R
    return R, dR


#: what each helper calls, in the order a generated module defines them
_NEEDS = {
    "_ricci_sqrtm_dual": ("_ricci_value", "_ricci_eye", "_ricci_norm1", "_ricci_repeat", "_ricci_sqrtm_dual"),
    "_ricci_logm_dual": ("_ricci_value", "_ricci_eye", "_ricci_norm1", "_ricci_repeat", "_ricci_sqrtm_dual",
                         "_ricci_logm_dual"),
    "_ricci_expm_dual": ("_ricci_value", "_ricci_eye", "_ricci_norm1", "_ricci_expm_dual"),
}


def helper_source(helper: str) -> list[str]:
    """The source of ``helper`` and of what it calls, one function a piece, for a generated module."""
    import inspect  # only when code is generated: ``import ricci`` stays light

    return [inspect.getsource(globals()[name]) for name in _NEEDS[helper]]


#: the helper of each function, by the function's name
HELPER = {"expm": "_ricci_expm_dual", "logm": "_ricci_logm_dual", "sqrtm": "_ricci_sqrtm_dual"}
