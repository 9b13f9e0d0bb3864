"""Generated gradients of matrix functions against jax.grad (issue 18, acceptance point 4).

Two problems, n = 50 … 500, each timed **in this process, on the same float64 inputs**:

* ``u'*expm(X)*v`` by X: ricci's answer ``expm_frechet(X', u*v')``, generated for JAX and
  jitted, against ``jax.jit(jax.grad(lambda X: u @ expm(X) @ v))``; also ricci's NumPy code
  (``scipy.linalg.expm_frechet``);
* ``-logdet(X) + tr(S*X)`` by X (the Gaussian precision's negative log-likelihood): ricci's
  ``S' - inv(X)'``, generated for JAX and jitted, against ``jax.jit(jax.grad(...))``; also
  ricci's NumPy code.

Each result is checked equal to jax.grad's before it is timed.  Times are **medians** of
interleaved rounds (one call of each method per round, in a shuffled order, after a first call
that compiles), on one thread (OpenBLAS, XLA); ratios are to jax.grad's median of the same row.

    python benchmarks/matrix_functions.py [--sizes 50 100 200 500] [--seconds 1.5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402

import ricci  # noqa: E402


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _problems(n: int, rng):
    jax = _jax()
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl

    g = rng.standard_normal((n, n))
    X_exp = g / np.linalg.norm(g, 2)  # ‖X‖₂ = 1: expm well scaled at every n
    u, v = rng.standard_normal(n), rng.standard_normal(n)
    h = rng.standard_normal((n, n))
    X_pd = h @ h.T / n + np.eye(n)
    s = rng.standard_normal((n, n))
    S = s @ s.T / n
    return [
        ("u'*expm(X)*v", "X", {"u": u, "X": X_exp, "v": v},
         lambda u, X, v: u @ jsl.expm(X) @ v),
        ("-logdet(X) + tr(S*X)", "X", {"X": X_pd, "S": S},
         lambda X, S: -jnp.linalg.slogdet(X)[1] + jnp.trace(S @ X)),
    ]


def _call(fn, names, values):
    return fn(*[values[k] for k in names])


def _ready(x):
    return x.block_until_ready() if hasattr(x, "block_until_ready") else x


def measure(sizes, seconds: float, seed: int = 0) -> list[dict]:
    jax = _jax()
    import jax.numpy as jnp

    rows = []
    rng = np.random.default_rng(seed)
    shuffle = random.Random(seed)
    for n in sizes:
        for text, wrt, values, f in _problems(n, rng):
            d = ricci.derivative(text, wrt=wrt)
            gen_jax = d.function(backend="jax")
            gen_np = d.function(backend="numpy")
            names = list(gen_jax.__code__.co_varnames[:gen_jax.__code__.co_argcount])
            jvalues = {k: jnp.asarray(v) for k, v in values.items()}
            fnames = list(f.__code__.co_varnames[:f.__code__.co_argcount])
            ricci_jit = jax.jit(gen_jax)
            grad_jit = jax.jit(jax.grad(f, argnums=fnames.index(wrt)))
            methods = {
                "ricci jax (jit)": lambda: _ready(_call(ricci_jit, names, jvalues)),
                "jax.grad (jit)": lambda: _ready(_call(grad_jit, fnames, jvalues)),
                "ricci numpy": lambda: _call(gen_np, names, values),
            }
            want = np.asarray(methods["jax.grad (jit)"]())
            for name, m in methods.items():  # a first call compiles; every answer is checked
                got = np.asarray(m())
                if not np.allclose(got, want, rtol=1e-8, atol=1e-10 * np.abs(want).max()):
                    raise AssertionError(f"{text}, n = {n}: {name} differs from jax.grad "
                                         f"by {np.abs(got - want).max():.3g}")
            times: dict = {k: [] for k in methods}
            start = time.perf_counter()
            rounds = 0
            while rounds < 3 or (time.perf_counter() - start < seconds and rounds < 1000):
                order = list(methods)
                shuffle.shuffle(order)
                for k in order:
                    t0 = time.perf_counter()
                    methods[k]()
                    times[k].append(time.perf_counter() - t0)
                rounds += 1
            med = {k: statistics.median(v) for k, v in times.items()}
            rows.append({"problem": text, "n": n, "rounds": rounds, "median_s": med,
                         "ratio_to_jax_grad": {k: med[k] / med["jax.grad (jit)"] for k in med},
                         "answer": d.text})
            print(_row(rows[-1]), flush=True)
    return rows


def _fmt(t: float) -> str:
    return f"{t * 1e6:.0f} µs" if t < 1e-3 else f"{t * 1e3:.2f} ms"


def _row(r: dict) -> str:
    med, ratio = r["median_s"], r["ratio_to_jax_grad"]
    cells = [f"{_fmt(med[k])} ({ratio[k]:.2f}×)" for k in ("ricci jax (jit)", "jax.grad (jit)", "ricci numpy")]
    return f"| {r['problem']} | {r['n']} | " + " | ".join(cells) + f" | {r['rounds']} |"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[50, 100, 200, 500])
    parser.add_argument("--seconds", type=float, default=1.5, help="timing per row (at least 3 rounds)")
    args = parser.parse_args(argv)
    print("| problem | n | ricci jax (jit) | jax.grad (jit) | ricci numpy | rounds |")
    print("|---|---|---|---|---|---|")
    measure(args.sizes, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
