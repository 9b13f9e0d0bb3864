"""Logistic regression from its expression against scikit-learn (issue 19), interleaved, by hand.

    taskset -c 1 python benchmarks/minimize_logistic.py --threads one [--rounds 7] [--tol 1e-8]
    python benchmarks/minimize_logistic.py --threads default

The logistic rows of benchmarks/minimize.py (the same data, seeds and tolerances), timed in
rounds: each round runs every solver once, in turn, so a change of the machine's load falls on
all of them alike (on a shared machine the medians of blocks of runs of one solver, then of the
next, moved by ±30 % between runs).  Reported: each solver's median, the peer's time over
ricci's from the medians and the median of the per-round ratios, ricci's iterations and
evaluations, scikit-learn's iterations, each final gradient's largest entry over the tolerance
asked (at most 1: the tolerance met) and each objective's relative gap to the best.

**Tolerances, equal in the same units.**  scikit-learn minimises the *mean* loss
F(w) = f(w)/m: sklearn/linear_model/_linear_loss.py divides the summed loss by sw_sum = m and
adds ½·l2·‖w‖² with l2 = 1/(C·m), which is λ‖w‖²/m for C = 1/(2λ).  Its ``tol`` is SciPy's
``gtol`` on ∇F (the largest entry; sklearn/linear_model/_logistic.py).  ricci minimises f as
written, the summed loss, and its ``tol`` is the largest entry of ∇f (docs/minimize.md).  As
∇F = ∇f/m, scikit-learn's ``tol=T`` is ricci's ``tol=T·m``: each gets that (``--tol T``, in
scikit-learn's units, default 1e-8; the same T·m goes to the newton-cg rows, whose ``tol`` is
also the largest entry of ∇F).  Both then run SciPy's L-BFGS-B with ``ftol`` = 64ε, whose unit
still differs: SciPy divides f's fall in an iteration by max(|f|, 1), and F ≈ 0.37 < 1 here, so
scikit-learn's ftol is 64ε on F absolutely, 64ε·m on f, about 2.7 times looser than ricci's
64ε·|f|.  At T = 1e-8 both stop on the gradient test, after the same iterations; at T = 1e-10
neither reaches T (both stop on the ftol test, scikit-learn an iteration earlier, with a
gradient 19 times T at 20000×200 where ricci's is 4 times T): the ‖∇f‖∞/tol column says which.

``--threads one`` sets every BLAS and OpenMP to one thread before NumPy loads (a quiet
measurement; pin the process to one core with taskset); ``--threads default`` leaves them as a
user has them (OpenBLAS and scikit-learn's OpenMP use every core).  ricci is timed whole
(``ricci.minimize(...)``, without the certificate); its generated code is kept between calls, so
the first round, which derives it, is left out of the medians, as is JAX's compilation.
``--newton`` adds ricci's Newton-CG twice: as it runs and as it ran before (``--before units``,
the default: SciPy's Newton-CG in the user's units, stopped by its small-step test alone, as at
fe90865, see src/ricci/solve/newton.py; ``--before whole``: the whole generated H·v per product,
X·w and its sigmoids included, as before ac33464); the "before" row's ratio is its time over
the current one's.  ``--whole`` adds ricci's L-BFGS-B with f and ∇f evaluated over all the rows
at once, as before src/ricci/solve/rows.py (with one BLAS thread ricci now evaluates a sum over
the rows of large data in blocks of rows, each block read once from memory; with several
threads, as ``--threads default`` leaves them, it evaluates whole as before); its ratio is its
time over the blocked one's.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from contextlib import contextmanager, nullcontext

if __name__ == "__main__" and "--threads" in sys.argv and "one" in sys.argv:
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

import numpy as np  # noqa: E402

import ricci  # noqa: E402

LOGISTIC = "sum(log(1 + exp(-y .* (X*w)))) + lambda*w'*w"
#: the tolerance in scikit-learn's units (the largest entry of the mean loss's gradient); ricci's
#: is TOL·m, the same on its summed loss (see the docstring)
TOL = {"tol": 1e-8}


def data(m, n, seed=0):
    """benchmarks/minimize.py's logistic data: labels ±1 drawn from a logistic model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    w_true = rng.standard_normal(n) / np.sqrt(n)
    y = np.where(rng.random(m) < 1 / (1 + np.exp(-3 * X @ w_true)), 1.0, -1.0)
    return X, y


def objective(X, y, lam, w):
    """f in NumPy (logaddexp), the referee of every solver's answer."""
    return float(np.sum(np.logaddexp(0, -y * (X @ w))) + lam * w @ w)


def gradient(X, y, lam, w):
    """∇f of the summed loss in NumPy (the sigmoid by tanh), independent of ricci's code."""
    return 2 * lam * w - (y * (0.5 + 0.5 * np.tanh(-y * (X @ w) / 2))) @ X


def solvers(X, y, lam, with_newton: bool):
    """name → a call returning (w, iterations, evaluations or None)."""
    import warnings

    def ricci_run(method, before=None):
        def run():
            with BEFORE[before]() if before else nullcontext():
                r = ricci.minimize(LOGISTIC, "w", {"X": X, "y": y, "lambda": lam}, method=method,
                                   tol=TOL["tol"] * len(y), certify=False)
            return r.x["w"], r.nit, r.nfev
        return run

    runs = {"ricci L-BFGS-B": ricci_run("L-BFGS-B")}
    if WHICH["whole"]:
        runs[WHOLE_ROW] = ricci_run("L-BFGS-B", before="whole rows")
    try:
        from sklearn.linear_model import LogisticRegression

        def sk_run(solver):
            def run():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = LogisticRegression(C=1 / (2 * lam), fit_intercept=False, solver=solver,
                                               tol=TOL["tol"], max_iter=10_000).fit(X, y)
                return model.coef_.ravel(), int(model.n_iter_[0]), None
            return run

        runs["scikit-learn lbfgs"] = sk_run("lbfgs")
        if with_newton:
            runs["ricci Newton-CG"] = ricci_run("Newton-CG")
            runs[BEFORE_ROW] = ricci_run("Newton-CG", before=WHICH["before"])
            runs["scikit-learn newton-cg"] = sk_run("newton-cg")
    except ImportError:
        pass
    return runs


@contextmanager
def newton_in_users_units():
    """ricci's Newton-CG as before solve/newton.py: SciPy's Newton-CG on f and x as given (its
    forcing term min(0.5, √‖∇f‖₁) and curvature test 3ε absolute), stopped by its step test alone."""
    from ricci.solve import newton

    real = newton.newton_cg

    def plain(obj, start, tol, options, step, so):
        return so.minimize(obj.value_and_grad, start, method="Newton-CG", jac=True, hessp=obj.hessp,
                           options=options, callback=step)

    newton.newton_cg = plain
    try:
        yield
    finally:
        newton.newton_cg = real


@contextmanager
def hvp_whole_per_product():
    """ricci's Newton-CG as before the prepared H·v: every product runs the whole generated
    function (X·w and its sigmoids included), through the same objective code."""
    from ricci.solve import objective

    real = objective.compiled_hvp

    def whole(source, names, kinds, backend="numpy", prepared=False):
        p, fn = real(source, names, kinds, backend)
        return p, lambda **values: lambda *ds: fn(**values, **dict(zip(p.direction_params, ds)))

    objective.compiled_hvp = whole
    try:
        yield
    finally:
        objective.compiled_hvp = real


@contextmanager
def rows_whole():
    """ricci's L-BFGS-B with f and ∇f evaluated over all the rows at once, as before
    src/ricci/solve/rows.py (blocks of rows where f is a sum over them and BLAS runs one thread)."""
    from ricci.solve import rows

    real = rows.BLOCKED_FROM
    rows.BLOCKED_FROM = float("inf")
    try:
        yield
    finally:
        rows.BLOCKED_FROM = real


#: --before: what the "before" Newton-CG row runs
BEFORE = {"units": newton_in_users_units, "whole": hvp_whole_per_product, "whole rows": rows_whole}
WHICH = {"before": "units", "whole": False}
BEFORE_ROW = "ricci Newton-CG (before)"
WHOLE_ROW = "ricci L-BFGS-B (whole rows)"

#: the clock: wall time, or this process's CPU time (--clock cpu: on a shared machine, the time
#: other processes take the core is not counted; one thread, so CPU time is the work's)
CLOCK = {"clock": time.perf_counter}


def measure(m, n, rounds, with_newton):
    X, y = data(m, n)
    lam = 1.0
    runs = solvers(X, y, lam, with_newton)
    times: dict = {k: [] for k in runs}
    last: dict = {}
    for r in range(rounds + 1):
        for name, run in runs.items():
            clock = CLOCK["clock"]
            t = clock()
            out = run()
            if r:  # round 0 derives ricci's code and warms every library up
                times[name].append(clock() - t)
            last[name] = out
    fs = {k: objective(X, y, lam, w) for k, (w, _, _) in last.items()}
    # each final gradient's largest entry over the tolerance asked, both in the summed loss's units
    gs = {k: float(np.abs(gradient(X, y, lam, w)).max()) / (TOL["tol"] * m) for k, (w, _, _) in last.items()}
    return times, last, fs, gs


def report(title, times, last, fs, gs):
    best = min(fs.values())
    lines = [f"### {title}", "",
             "| solver | median | peer / ricci (medians) | median of per-round ratios | iterations, evaluations "
             "| ‖∇f‖∞ / tol | gap |",
             "|---|---|---|---|---|---|---|"]
    pairs = {"scikit-learn lbfgs": "ricci L-BFGS-B", "scikit-learn newton-cg": "ricci Newton-CG",
             BEFORE_ROW: "ricci Newton-CG", WHOLE_ROW: "ricci L-BFGS-B"}
    for k, ts in times.items():
        med = statistics.median(ts)
        ratio = per_round = ""
        if k in pairs and pairs[k] in times:
            mine = times[pairs[k]]
            ratio = f"{med / statistics.median(mine):.2f}×"
            per_round = f"{statistics.median(a / b for a, b in zip(ts, mine)):.2f}×"
        _, nit, nfev = last[k]
        lines.append(f"| {k} | {med * 1e3:.1f} ms | {ratio} | {per_round} | {nit}"
                     f"{'' if nfev is None else f', {nfev}'} | {gs[k]:.2g} | {(fs[k] - best) / abs(best):.1e} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", choices=("one", "default"), required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--newton", action="store_true",
                    help="also ricci's Newton-CG, now and before (--before), "
                         "and scikit-learn's newton-cg")
    ap.add_argument("--only", choices=("20000x200", "100000x50"))
    ap.add_argument("--whole", action="store_true",
                    help="also ricci's L-BFGS-B with f and ∇f over all the rows at once (as before "
                         "src/ricci/solve/rows.py); its ratio is its time over the blocked one's")
    ap.add_argument("--tol", type=float, default=TOL["tol"],
                    help="the tolerance in scikit-learn's units (its mean loss's gradient); ricci gets tol·m, the "
                         "same on its summed loss")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall time, or this process's CPU time (with --threads one, on a shared machine)")
    ap.add_argument("--before", choices=("units", "whole"), default="units",
                    help="the 'before' Newton-CG row: SciPy's own units (as at fe90865) or the whole H·v per "
                         "product (as before ac33464)")
    a = ap.parse_args(argv)
    WHICH["before"] = a.before
    WHICH["whole"] = a.whole
    TOL["tol"] = a.tol
    if a.clock == "cpu":
        CLOCK["clock"] = time.process_time
    try:
        import threadpoolctl

        blas = ", ".join(f"{lib['internal_api']} {lib['version']} ({lib['num_threads']} threads)"
                         for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas")
    except ImportError:
        blas = "unknown (no threadpoolctl)"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at the start; "
          f"Python {platform.python_version()}, NumPy {np.__version__}; threads {a.threads}; BLAS {blas}; "
          f"clock {a.clock}; tol {a.tol:g} (scikit-learn's units; ricci's: tol·m)",
          file=sys.stderr)
    for m, n in ((20000, 200), (100000, 50)):
        if a.only and a.only != f"{m}x{n}":
            continue
        times, last, fs, gs = measure(m, n, a.rounds, a.newton)
        print(report(f"logistic regression {m}×{n}, λ = 1 (threads: {a.threads}, {a.rounds} rounds, tol {a.tol:g}; "
                     f"ricci's {a.tol * m:g})", times, last, fs, gs) + "\n", flush=True)
    print(f"load {os.getloadavg()[0]:.1f} at the end", file=sys.stderr)


if __name__ == "__main__":
    main()
