"""``ricci.minimize`` against the real peers on the same data (issue 19), run by hand, never in CI.

    python benchmarks/minimize.py [--quick] [--repeat 3] [--only NAME ...] [--json out.json]

Each problem is solved in one process, on the same float64 data, by ricci (from the expression:
the call ``ricci.minimize(...)`` is timed whole, deriving and generating its code included, and
without the certificate, which is reported apart) and by its peers:

* L2-regularised logistic regression: scikit-learn's ``LogisticRegression`` (lbfgs and
  newton-cg, no intercept, C = 1/(2λ)), and SciPy's L-BFGS-B with ``jax.jit(jax.value_and_grad)``;
* ridge regression: ``numpy.linalg.solve`` on the normal equations (the closed form);
* non-negative least squares: ``scipy.optimize.nnls``;
* a quadratic over the simplex (``sum(p) == 1, p >= 0``) at n = 200, 1000 and 2000, a smoothed
  lasso (``lambda*sum(sqrt(w.^2 + epsilon))``) and a smoothed sparse inverse covariance
  (``-logdet(S) + tr(C*S) + lambda*sum(sqrt(S.^2 + epsilon))``): CVXPY (its default solver) on
  the same functions;
* non-negative matrix factorisation ``norm2(X - U*V')^2``, U, V ≥ 0: scikit-learn's ``NMF``
  (coordinate descent) from the same start;
* Dask: a ridge least squares and a logistic regression on 1,100,000×20 data (168 MiB) generated
  on a ``distributed.LocalCluster`` of two workers of 160 MiB each, against the same data in
  NumPy (wall clock only: the work runs in the workers' processes).

CVXPY is timed as a user runs it: the problem built and solved once (its compilation included,
as ricci's call is timed whole); the solver's own setup and solve time, as it reports it, is a
row of its own.  ``--clock cpu`` times every row by this process's CPU time instead of the wall
clock (for a shared machine).

Every solver gets a tight tolerance (the logistic rows one tolerance in the same units:
scikit-learn ``tol=1e-8`` on its *mean* loss's gradient, ricci and SciPy + JAX ``1e-8·m`` on the
summed loss's, both the largest entry; benchmarks/minimize_logistic.py says why); the table
reports each final objective's relative gap to the best of the row (the target: ≤ 1e-6), the
median time of ``--repeat`` runs and the ratio to ricci's.  ricci keeps its generated code for the next call of the same expression and JAX its
compiled function, so with three runs the median leaves out both first-call costs (deriving and
generating for ricci, tracing and compiling for JAX).  Peers that are not installed are left out (``pip install scikit-learn cvxpy``: they
are not ricci's dependencies).  One thread for every library (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402

import ricci  # noqa: E402

LOGISTIC = "sum(log(1 + exp(-y .* (X*w)))) + lambda*w'*w"
#: the logistic rows' tolerance in scikit-learn's units, the largest entry of its mean loss's
#: gradient; ricci and SciPy + JAX minimise the summed loss and get LOGISTIC_TOL·m, the same
LOGISTIC_TOL = 1e-8


#: the clock of every row: wall time, or this process's CPU time (--clock cpu: on a machine that
#: other jobs share, a process's CPU seconds move less with their load than its wall seconds)
CLOCK = {"clock": time.perf_counter}


def _timed(fn, repeat: int):
    clock = CLOCK["clock"]
    times, out = [], None
    for _ in range(repeat):
        t = clock()
        out = fn()
        times.append(clock() - t)
    return statistics.median(times), out


def _logistic_f(X, y, lam, w):
    z = -y * (X @ w)
    return float(np.sum(np.logaddexp(0, z)) + lam * w @ w)


def logistic(m, n, repeat, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    w_true = rng.standard_normal(n) / np.sqrt(n)
    y = np.where(rng.random(m) < 1 / (1 + np.exp(-3 * X @ w_true)), 1.0, -1.0)
    lam = 1.0
    rows = {}

    def ricci_run(method):
        return lambda: ricci.minimize(LOGISTIC, "w", {"X": X, "y": y, "lambda": lam}, method=method,
                                      tol=LOGISTIC_TOL * m, certify=False)

    for method in ("L-BFGS-B", "Newton-CG"):
        t, r = _timed(ricci_run(method), repeat)
        rows[f"ricci {method}"] = (t, _logistic_f(X, y, lam, r.x["w"]))
    try:
        from sklearn.linear_model import LogisticRegression
        import warnings

        for solver in ("lbfgs", "newton-cg"):
            def sk(solver=solver):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return LogisticRegression(C=1 / (2 * lam), fit_intercept=False, solver=solver,
                                              tol=LOGISTIC_TOL, max_iter=10_000).fit(X, y)
            t, model = _timed(sk, repeat)
            rows[f"scikit-learn {solver}"] = (t, _logistic_f(X, y, lam, model.coef_.ravel()))
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp
        from scipy.optimize import minimize

        jax.config.update("jax_enable_x64", True)

        Xj, yj = jnp.asarray(X), jnp.asarray(y)
        # jitted once, as ricci generates its code once: both pay it in the first run only
        vg = jax.jit(jax.value_and_grad(lambda w: jnp.sum(jnp.logaddexp(0, -yj * (Xj @ w))) + lam * w @ w))

        def jax_run():
            def fun(w):
                v, g = vg(w)
                return float(v), np.asarray(g)
            return minimize(fun, np.zeros(n), jac=True, method="L-BFGS-B",
                            options={"gtol": LOGISTIC_TOL * m, "ftol": 64 * np.finfo(float).eps,
                                     "maxiter": 10_000, "maxcor": 20})
        t, res = _timed(jax_run, repeat)
        rows["SciPy L-BFGS-B + jax.grad"] = (t, _logistic_f(X, y, lam, res.x))
    except ImportError:
        pass
    return rows


def ridge(m, n, repeat, seed=1):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((m, n)), rng.standard_normal(m)
    lam = 0.1
    f = lambda w: float(np.sum((X @ w - y) ** 2) + lam * w @ w)  # noqa: E731
    rows = {}
    for method in ("L-BFGS-B", "newton"):
        t, r = _timed(lambda method=method: ricci.minimize("norm2(X*w - y)^2 + lambda*w'*w", "w",
                                                             {"X": X, "y": y, "lambda": lam}, method=method,
                                                             tol=1e-9, certify=False), repeat)
        rows[f"ricci {method}"] = (t, f(r.x["w"]))
    t, w = _timed(lambda: np.linalg.solve(X.T @ X + lam * np.eye(n), X.T @ y), repeat)
    rows["normal equations (closed form)"] = (t, f(w))
    return rows


def nnls(m, n, repeat, seed=2):
    from scipy.optimize import nnls as scipy_nnls

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    y = X @ rng.standard_normal(n) + 0.1 * rng.standard_normal(m)
    f = lambda w: float(np.sum((X @ w - y) ** 2))  # noqa: E731
    rows = {}
    t, r = _timed(lambda: ricci.minimize("norm2(X*w - y)^2", "w", {"X": X, "y": y}, bounds=["w >= 0"], tol=1e-10,
                                         certify=False), repeat)
    rows["ricci L-BFGS-B (w >= 0)"] = (t, f(r.x["w"]))
    t, (w, _) = _timed(lambda: scipy_nnls(X, y), repeat)
    rows["scipy.optimize.nnls"] = (t, f(w))
    return rows


def simplex(n, repeat, seed=3):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    Q, q = B @ B.T / n + 0.01 * np.eye(n), rng.standard_normal(n)
    f = lambda p: float(p @ Q @ p + q @ p)  # noqa: E731
    rows = {}
    t, r = _timed(lambda: ricci.minimize("p'*Q*p + q'*p", "p", {"Q": Q, "q": q},
                                         constraints=["sum(p) == 1", "p >= 0"], tol=1e-10, certify=False), repeat)
    rows[f"ricci augmented Lagrangian ({r.method.split(' + ')[-1]} inside)"] = (
        t, f(r.x["p"]), float(abs(r.x["p"].sum() - 1)))
    try:  # the same call with the NNLS route off: the L-BFGS-B rounds it replaces, for comparison
        from ricci.solve import quadratic
    except ImportError:  # a ricci without it
        quadratic = None
    if quadratic is not None and r.method.endswith("NNLS"):
        # both of its routes off: the rounds (MAX_SIZE) and the one exact solve (EXACT_SIZE)
        saved = {k: getattr(quadratic, k) for k in ("MAX_SIZE", "EXACT_SIZE") if hasattr(quadratic, k)}
        for k in saved:
            setattr(quadratic, k, 0)
        try:
            t, r = _timed(lambda: ricci.minimize("p'*Q*p + q'*p", "p", {"Q": Q, "q": q},
                                                 constraints=["sum(p) == 1", "p >= 0"], tol=1e-10, certify=False),
                          repeat)
        finally:
            for k, v in saved.items():
                setattr(quadratic, k, v)
        rows["ricci augmented Lagrangian (L-BFGS-B inside: the NNLS route off)"] = (
            t, f(r.x["p"]), float(abs(r.x["p"].sum() - 1)))
    try:
        import cvxpy as cp

        solver = []

        def run():
            # as a user runs it: the problem built and solved once (CVXPY keeps nothing between
            # two Problem objects; ricci keeps its generated code, and its median leaves that out)
            p = cp.Variable(n)
            prob = cp.Problem(cp.Minimize(cp.quad_form(p, cp.psd_wrap(Q)) + q @ p), [cp.sum(p) == 1, p >= 0])
            prob.solve()
            stats = prob.solver_stats
            solver.append((stats.solver_name, (stats.setup_time or 0.0) + (stats.solve_time or 0.0)))
            return p.value
        t, p = _timed(run, repeat)
        name = solver[-1][0]
        rows[f"CVXPY ({cp.__version__}, default solver {name}): built, compiled and solved"] = (
            t, f(p), float(abs(p.sum() - 1)))
        # what the solver itself reports (its setup and its iterations, wall clock), for scale
        rows[f"of which {name}'s own setup + solve (as it reports them)"] = (
            statistics.median(s for _, s in solver), f(p), float(abs(p.sum() - 1)))
    except ImportError:
        pass
    return rows


def smoothed_lasso(m, n, repeat, seed=4):
    """The lasso with |w_i| smoothed as sqrt(w_i² + ε): the same function for ricci and CVXPY
    (sqrt(w_i² + ε) is the 2-norm of (w_i, √ε), a second-order cone)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    w_true = np.zeros(n)
    w_true[: n // 20] = rng.standard_normal(n // 20)
    y = X @ w_true + 0.1 * rng.standard_normal(m)
    lam, eps = 50.0, 1e-6
    f = lambda w: float(np.sum((X @ w - y) ** 2) + lam * np.sum(np.sqrt(w ** 2 + eps)))  # noqa: E731
    rows = {}
    t, r = _timed(lambda: ricci.minimize("norm2(X*w - y)^2 + lambda*sum(sqrt(w.^2 + epsilon))", "w",
                                         {"X": X, "y": y, "lambda": lam, "epsilon": eps}, tol=1e-9,
                                         certify=False), repeat)
    rows["ricci L-BFGS-B"] = (t, f(r.x["w"]))
    try:
        import cvxpy as cp

        def run():
            w = cp.Variable(n)
            smooth = cp.norm(cp.vstack([w, np.full(n, eps ** 0.5)]), 2, axis=0)
            cp.Problem(cp.Minimize(cp.sum_squares(X @ w - y) + lam * cp.sum(smooth))).solve()
            return w.value
        t, w = _timed(run, repeat)
        rows[f"CVXPY ({cp.__version__}, default solver), the same smoothed function"] = (t, f(w))
    except ImportError:
        pass
    return rows


def covariance(p, repeat, seed=5):
    """Sparse inverse covariance, smoothed: -logdet(S) + tr(C*S) + λ·Σ sqrt(S_ij² + ε), from
    S = I, over the symmetric matrices S (ricci: kinds S symmetric, its triangle's coordinates;
    CVXPY: a symmetric variable, as log_det needs).  Over every entry of a general matrix the
    symmetric minimiser is a saddle (-logdet curves down along antisymmetric directions) from
    which rounding drifts away, and the iterates left the positive definite cone."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((p, 2 * p))
    C = A @ A.T / (2 * p)
    lam, eps = 0.1, 1e-4
    f = lambda S: float(-np.linalg.slogdet(S)[1] + np.sum(C * S) + lam * np.sum(np.sqrt(S ** 2 + eps)))  # noqa: E731
    rows = {}
    # method="auto" (trust-krylov: f has a barrier, -logdet(S)), and L-BFGS-B (auto's choice
    # before) for comparison, on the same data; and up to p = 20 trust-exact with the dense
    # Hessian (the generated ∂²f/∂S∂S folded into the packed coordinates: 210 at p = 20), the
    # "Newton with the dense Hessian for small problems" of issue 19, measured against auto
    for method in ("auto", "L-BFGS-B") + (("newton",) if p <= 20 else ()):
        t, r = _timed(lambda method=method: ricci.minimize(
            "-logdet(S) + tr(C*S) + lambda*sum(sqrt(S.^2 + epsilon))", "S", {"C": C, "lambda": lam, "epsilon": eps},
            x0={"S": np.eye(p)}, tol=1e-9, kinds={"S": "symmetric matrix"}, certify=False, method=method), repeat)
        S = r.x["S"]
        label = f"ricci {r.method}" + (" (method auto)" if method == "auto" else "")
        rows[f"{label}: {r.nit} iterations, {r.nfev} evaluations, {r.nhev} "
             f"{'Hessians' if method == 'newton' else 'products'}"] = (
            t, f(S), float(np.abs(S - S.T).max()))
    try:
        import cvxpy as cp

        def run():
            S = cp.Variable((p, p), symmetric=True)
            smooth = cp.norm(cp.vstack([cp.vec(S, order="C"), np.full(p * p, eps ** 0.5)]), 2, axis=0)
            prob = cp.Problem(cp.Minimize(-cp.log_det(S) + cp.trace(C @ S) + lam * cp.sum(smooth)))
            prob.solve()
            return S.value, prob.solver_stats.solver_name
        t, (S, solver) = _timed(run, repeat)
        rows[f"CVXPY ({cp.__version__}, default solver: {solver})"] = (t, f(S), 0.0)
    except ImportError:
        pass
    return rows


def nmf(m, n, k, repeat, seed=6):
    """‖X − UV'‖² with U, V ≥ 0 from the same random start (scikit-learn's init="custom"); not
    convex, so both may stop at different local minima: the gap says whether they did."""
    rng = np.random.default_rng(seed)
    X = np.abs(rng.standard_normal((m, k))) @ np.abs(rng.standard_normal((k, n))) + 0.1 * np.abs(
        rng.standard_normal((m, n)))
    U0, V0 = 0.5 * np.abs(rng.standard_normal((m, k))), 0.5 * np.abs(rng.standard_normal((n, k)))
    f = lambda U, V: float(np.sum((X - U @ V.T) ** 2))  # noqa: E731
    rows = {}
    t, r = _timed(lambda: ricci.minimize("norm2(X - U*V')^2", "U,V", {"X": X}, x0={"U": U0, "V": V0},
                                         bounds=["U >= 0", "V >= 0"], tol=1e-7, certify=False), repeat)
    rows["ricci L-BFGS-B (U, V >= 0, jointly)"] = (t, f(r.x["U"], r.x["V"]))
    try:
        import warnings

        from sklearn.decomposition import NMF

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = NMF(n_components=k, init="custom", solver="cd", tol=1e-10, max_iter=50_000)
                W = model.fit_transform(X, W=U0.copy(), H=V0.T.copy())
            return W, model.components_.T
        t, (U, V) = _timed(run, repeat)
        rows["scikit-learn NMF (cd, tol 1e-10)"] = (t, f(U, V))
    except ImportError:
        pass
    return rows


def dask_rows(m, n, repeat, workers=2, limit_mib=160):
    """A least squares (ridge) and a logistic regression on m×n data generated chunk by chunk on
    a ``distributed.LocalCluster`` whose workers each may hold ``limit_mib`` MiB, less than the
    data: ricci's array-API code runs chunk-parallel there.  Against the same data in NumPy, in
    this process.  Both with the dense Hessian (trust-exact: the fewest passes over the data)."""
    try:
        import dask
        import dask.array as da
        import distributed
    except ImportError:
        return {}
    out = {}
    limit = limit_mib * 2**20
    with dask.config.set({"distributed.worker.memory.terminate": False}), \
            distributed.LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=limit, processes=True,
                                     dashboard_address=":0", silence_logs=50) as cluster, \
            distributed.Client(cluster):
        rng = da.random.default_rng(0)
        X = rng.standard_normal((m, n), chunks=(100_000, n))
        y = X @ np.linspace(-1, 1, n) + 0.5 * rng.standard_normal(m, chunks=100_000)
        labels = da.sign(y)
        X_np, y_np, labels_np = dask.compute(X, y, labels)
        size = f"{X.nbytes / 2**20:.0f} MiB of X against {workers} workers of {limit_mib} MiB"
        for title, expression, f_np, data, local in (
                ("ridge", "norm2(X*w - y)^2 + lambda*w'*w",
                 lambda w: float(np.sum((X_np @ w - y_np) ** 2) + w @ w),
                 {"X": X, "y": y, "lambda": 1.0}, {"X": X_np, "y": y_np, "lambda": 1.0}),
                ("logistic regression", LOGISTIC, lambda w: _logistic_f(X_np, labels_np, 1.0, w),
                 {"X": X, "y": labels, "lambda": 1.0}, {"X": X_np, "y": labels_np, "lambda": 1.0})):
            rows = {}
            t, r = _timed(lambda local=local, expression=expression: ricci.minimize(
                expression, "w", local, method="newton", certify=False), repeat)
            rows["ricci, NumPy data in memory (trust-exact)"] = (t, f_np(r.x["w"]))
            t, r = _timed(lambda data=data, expression=expression: ricci.minimize(
                expression, "w", data, method="newton", certify=False), repeat)
            rows[f"ricci, Dask data on a LocalCluster ({size}; trust-exact)"] = (t, f_np(r.x["w"]))
            out[f"Dask: {title} {m}×{n}, λ = 1"] = rows
    return out


def table(name, rows):
    best = min(v[1] for v in rows.values())
    ricci_t = min(v[0] for k, v in rows.items() if k.startswith("ricci"))
    lines = [f"### {name}", "", "| solver | median time | × ricci's best | objective | gap to best |",
             "|---|---|---|---|---|"]
    for k, v in rows.items():
        gap = (v[1] - best) / max(1.0, abs(best))
        extra = (f" ({'‖S − S′‖' if 'covariance' in name else '‖1′p − 1‖'} = {v[2]:.1e})"
                 if len(v) > 2 else "")
        lines.append(f"| {k} | {_fmt(v[0])} | {v[0] / ricci_t:.2f}× | {v[1]:.10g}{extra} | {gap:.1e} |")
    return "\n".join(lines)


def _fmt(t):
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller problems (a smoke run)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--json")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall time, or this process's CPU time (Dask's workers are other processes: wall only)")
    a = ap.parse_args(argv)
    if a.clock == "cpu":
        CLOCK["clock"] = time.process_time
    s = 10 if a.quick else 1
    cov_p = 50
    problems = {
        f"logistic regression {20000 // s}×200, λ = 1": lambda: logistic(20000 // s, 200, a.repeat),
        f"logistic regression {100000 // s}×50, λ = 1": lambda: logistic(100000 // s, 50, a.repeat),
        f"ridge {20000 // s}×200, λ = 0.1": lambda: ridge(20000 // s, 200, a.repeat),
        f"non-negative least squares {5000 // s}×100": lambda: nnls(5000 // s, 100, a.repeat),
        **{f"quadratic over the simplex, n = {n // s}": (lambda n=n: simplex(n // s, a.repeat))
           for n in (200, 1000, 2000)},
        f"smoothed lasso {5000 // s}×500, ε = 1e-6": lambda: smoothed_lasso(5000 // s, 500, a.repeat),
        # p = 5: a small size, where trust-krylov ran to maxiter before trlib's breakdown was caught
        **{f"sparse inverse covariance (smoothed), p = {max(2, p // s)}": (
            lambda p=p: covariance(max(2, p // s), a.repeat)) for p in (5, 20, cov_p)},
        f"NMF {300 // s}×{200 // s}, k = 10": lambda: nmf(300 // s, 200 // s, 10, a.repeat),
        "Dask": lambda: dask_rows(1_100_000 // s, 20, a.repeat, limit_mib=160 // s),
    }
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f} at the start; Python {platform.python_version()}, NumPy {np.__version__}",
          file=sys.stderr)
    out = {}
    for name, run in problems.items():
        if a.only and not any(o in name for o in a.only):
            continue
        if name == "Dask":
            if a.clock == "cpu":  # the work runs in the workers' processes
                continue
            for sub, rows in run().items():
                out[sub] = {k: list(v) for k, v in rows.items()}
                print(table(sub, rows) + "\n", flush=True)
            continue
        rows = run()
        out[name] = {k: list(v) for k, v in rows.items()}
        print(table(name, rows) + "\n", flush=True)
    print(f"load {os.getloadavg()[0]:.1f} at the end", file=sys.stderr)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
