"""What the stable forms cost (issue 22, acceptance point 3): ricci's generated NumPy code, with
its stable forms (softplus, sigmoid, logsumexp, cosh^-2, …; docs/numerics.md), against the same
computation written naively (log(1 + exp(u)), 1/(1 + exp(-u)), exp(u)/sum(exp(u)), 1 - tanh(u)^2),
both timed in this process, interleaved, as medians; the ratio stable/naive is the figure.

The sizes are those of benchmarks/codegen_vs_autodiff.py (logistic regression 10000×100, a
log-sum-exp over 2000 entries, a tanh layer 200×300), on one thread as there; and the solves that
replace an inverse (x'*inv(A)*y, n = 500: np.linalg.inv(A) @ y is the naive form) and the scaled
norm (x/sqrt(x'*x) naively).

    python benchmarks/stable_forms.py [--repeats 200] [--quick] [--clock cpu]

``--clock cpu`` times each call by this thread's CPU time (time.thread_time) instead of the wall
clock: on a shared machine under load the wall clock also counts the time the call waited for a
core behind others' processes, which grows with the call's length.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import ricci  # noqa: E402


def _naive_cases(m: int, n: int, k: int, rng):
    X = rng.standard_normal((m, n)) / np.sqrt(n)
    y = np.sign(rng.standard_normal(m))
    w = rng.standard_normal(n)
    x = rng.standard_normal(k)
    A = rng.standard_normal((200, 300)) / np.sqrt(300)
    v = rng.standard_normal(300)

    def logistic_value_and_gradient(y, X, w):
        t = -(y * (X @ w))
        e = np.exp(t)
        return float(np.sum(np.log(1 + e))), -((y * (e / (1 + e))) @ X)

    def logistic_hessian(y, X, w):
        s = 1 / (1 + np.exp(y * (X @ w)))
        return X.T @ ((y ** 2 * s * (1 - s))[:, None] * X)

    def softplus_hessian(x):
        s = 1 / (1 + np.exp(-x))
        return np.diag(s * (1 - s))

    def logsumexp_gradient(x):
        e = np.exp(x)
        return e / np.sum(e)

    def tanh_jacobian(A, v):
        return (1 - np.tanh(A @ v) ** 2)[:, None] * A

    # the inverse route (docs/numerics.md): the inverse formed, then multiplied
    S = rng.standard_normal((500, 500)) / np.sqrt(500) + 2 * np.eye(500)
    s1, s2 = rng.standard_normal(500), rng.standard_normal(500)

    def inverse_gradient(x, A, y):
        return np.linalg.inv(A) @ y

    def inverse_gradient_by_matrix(x, A, y):
        Ai = np.linalg.inv(A)
        return -np.outer(Ai.T @ x, Ai @ y)

    def norm_gradient(x):
        return x / np.sqrt(x @ x)

    return [
        ("logistic gradient", "sum(log(1 + exp(-y.*(X*w))))", "w", 1, False,
         lambda y, X, w: -((y * (1 / (1 + np.exp(y * (X @ w))))) @ X), {"y": y, "X": X, "w": w}),
        ("logistic value and gradient", "sum(log(1 + exp(-y.*(X*w))))", "w", 1, True,
         logistic_value_and_gradient, {"y": y, "X": X, "w": w}),
        ("logistic Hessian", "sum(log(1 + exp(-y.*(X*w))))", "w", 2, False, logistic_hessian,
         {"y": y, "X": X, "w": w}),
        ("softplus Hessian", "sum(log(1 + exp(x)))", "x", 2, False, softplus_hessian, {"x": x}),
        ("logsumexp gradient", "log(sum(exp(x)))", "x", 1, False, logsumexp_gradient, {"x": x}),
        ("tanh layer Jacobian", "tanh(A*v)", "v", 1, False, tanh_jacobian, {"A": A, "v": v}),
        ("x'*inv(A)*y by x, n = 500", "x'*inv(A)*y", "x", 1, False, inverse_gradient,
         {"x": s1, "A": S, "y": s2}),
        ("x'*inv(A)*y by A, n = 500", "x'*inv(A)*y", "A", 1, False, inverse_gradient_by_matrix,
         {"x": s1, "A": S, "y": s2}),
        ("norm2(x) gradient, n = 2000", "norm2(x)", "x", 1, False, norm_gradient, {"x": x}),
    ]


def _medians(naive, stable, args: dict, repeats: int, clock=time.perf_counter) -> tuple[float, float]:
    """Medians of ``repeats`` calls of each, alternating call by call, so that both see the same
    load of a shared machine."""
    a, b = [], []
    for _ in range(repeats):
        t0 = clock()
        naive(**args)
        t1 = clock()
        stable(**args)
        t2 = clock()
        a.append(t1 - t0)
        b.append(t2 - t1)
    return statistics.median(a), statistics.median(b)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: time.perf_counter; cpu: this thread's CPU time (time.thread_time)")
    args = parser.parse_args(argv)
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    m, n, k = (1000, 20, 200) if args.quick else (10000, 100, 2000)
    repeats = 20 if args.quick else args.repeats
    rng = np.random.default_rng(0)
    print(f"logistic {m}×{n}, softplus and log-sum-exp over {k}; medians of {repeats} calls, "
          f"alternating call by call ({args.clock} clock)")
    print(f"{'case':<30} {'naive':>11} {'stable':>11} {'ratio':>7}")
    worst = 0.0
    for title, text, wrt, order, with_value, naive, values in _naive_cases(m, n, k, rng):
        stable = ricci.derivative(text, wrt, order=order).function(with_value=with_value)
        with np.errstate(all="ignore"):
            ref = naive(**values)
            got = stable(**values)
        for a, b in zip(ref if with_value else [ref], got if with_value else [got]):
            assert np.allclose(a, b, rtol=1e-9, atol=1e-12), title  # the same numbers at ordinary values
        with np.errstate(all="ignore"):
            naive(**values), stable(**values)  # warm
            a, b = _medians(naive, stable, values, repeats, clock)
        worst = max(worst, b / a)
        print(f"{title:<30} {a * 1e6:>9.1f}µs {b * 1e6:>9.1f}µs {b / a:>7.2f}")
    print(f"worst ratio {worst:.2f} (acceptance: at most 1.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
