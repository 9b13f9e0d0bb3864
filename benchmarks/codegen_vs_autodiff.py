"""Generated code against hand-written closed forms and autodiff frameworks (issue 5).

Run by hand, never in CI:   python benchmarks/codegen_vs_autodiff.py [--quick] [--only NAME ...]

For each problem of the issue, in one process and on the same float64 inputs, it times
  * ``ricci numpy``: ``ricci.derivative(...).function()``, the generated NumPy code;
  * ``closed form``: the derivative written by hand in NumPy (the limit to approach);
  * ``ricci jax``: the generated JAX code under ``jax.jit`` (gradients: against jax.grad);
  * ``jax``: ``jax.jit(jax.grad / jax.hessian / jax.jacrev)``;
  * ``torch.func``: ``torch.func.grad / hessian / jacrev``;
  * ``autograd``: HIPS autograd's ``grad / hessian / jacobian``.
Every result is checked equal to the closed form before it is timed.  Each timing is the median
of repeated calls after a first call (which includes tracing and compiling, reported apart).
The peers of the 4-D matrix-factorisation Hessian run in a child process that is stopped past
a time or memory limit (the issue saw them exhaust 20 GiB), so that the machine stays usable.

Output: a Markdown table on stdout (paste into benchmarks/RESULTS.md) and a JSON file.
Needs: pip install jax jaxlib autograd; pip install torch==2.13.0 (a CPU wheel on local disk).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field


def _threads() -> int:
    """--threads N (default 1): set before NumPy, JAX and PyTorch start their thread pools.
    One thread each makes the figures repeatable on a shared 2-core machine."""
    for k, a in enumerate(sys.argv):
        if a == "--threads" and k + 1 < len(sys.argv):
            return int(sys.argv[k + 1])
    return 1


THREADS = _threads()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)
if THREADS == 1:
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    # XLA's CPU runtime still runs some loops on a second thread (1.7 cores busy during the
    # log-sum-exp Hessian with the flags above), so the process is pinned to one core: one
    # thread for every library, as the table says.  (Child processes inherit it.)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import numpy as np

#: A method is timed for this many seconds (at least 3 calls) or this many calls (see bench).
#: Calls of tens of microseconds need hundreds of repeats for a median that the load of a shared
#: machine does not move (25 repeats gave 1.4-1.6x swings between runs of the same JAX call).
BUDGET_S = 1.5
MAX_REPS = 1000
#: One call of a peer longer than this is stopped (in-process, by an alarm).
CALL_LIMIT_S = 60
#: Limits of the child process that runs the peers of the 4-D Hessian.
CHILD_TIME_S = 75
CHILD_RSS_GIB = 8.0


# -- problems ---------------------------------------------------------------------------------------

def _sig(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


@dataclass
class Problem:
    name: str
    expr: str
    wrt: str
    order: int
    what: str  # gradient | hessian | jacobian
    make: object  # rng → dict of inputs
    closed: object  # inputs → derivative (hand-written NumPy)
    fn: object  # (module, wrt value, *others) → f, for jax.numpy / autograd.numpy
    torch_fn: object  # (wrt value, *others) → f, in torch
    others: tuple = ()
    isolate: bool = False  # run the peers in a child process with limits
    notes: list = field(default_factory=list)


def _quadratic(n):
    def make(rng):
        return {"x": rng.standard_normal(n), "A": rng.standard_normal((n, n)) / np.sqrt(n)}
    return make


def _logistic(N, d):
    def make(rng):
        X = rng.standard_normal((N, d)) / np.sqrt(d)
        return {"X": X, "y": np.sign(rng.standard_normal(N)), "w": rng.standard_normal(d)}
    return make


def _logistic_grad(v):
    X, y, w = v["X"], v["y"], v["w"]
    return -(X.T @ (y * _sig(-y * (X @ w))))


def _logistic_hess(v):
    X, y, w = v["X"], v["y"], v["w"]
    s = _sig(y * (X @ w))
    return X.T @ ((s * (1 - s))[:, None] * X)


def _ls(N, d):
    def make(rng):
        return {"Phi": rng.standard_normal((N, d)), "y": rng.standard_normal(N), "theta": rng.standard_normal(d)}
    return make


def _mf(m, n, k):
    def make(rng):
        return {"X": rng.standard_normal((m, n)), "U": rng.standard_normal((m, k)), "V": rng.standard_normal((n, k))}
    return make


def _mf_hess(v):
    U, V = v["U"], v["V"]
    m, k = U.shape
    H = np.zeros((m, k, m, k))
    r = np.arange(m)
    H[r, :, r, :] = 2 * (V.T @ V)
    return H


def _lse_hess(v):
    e = np.exp(v["x"] - v["x"].max())
    p = e / e.sum()
    H = np.outer(-p, p)
    H[np.diag_indices(len(p))] += p
    return H


def _tanh_W(v):
    W, x = v["W"], v["x"]
    g = 1 - np.tanh(W @ x) ** 2
    m, n = W.shape
    J = np.zeros((m, m, n))
    r = np.arange(m)
    J[r, r, :] = np.outer(g, x)
    return J


def _tanh(m, n):
    def make(rng):
        return {"W": rng.standard_normal((m, n)) / np.sqrt(n), "x": rng.standard_normal(n)}
    return make


LOGISTIC = "sum(log(1 + exp(-y .* (X*w))))"


def problems() -> list[Problem]:
    import torch

    P = []
    for n in (1000, 4000):
        for order, what, closed in ((1, "gradient", lambda v: v["A"] @ v["x"] + v["A"].T @ v["x"]),
                                    (2, "hessian", lambda v: v["A"] + v["A"].T)):
            P.append(Problem(f"x'Ax {what}, n = {n}", "x'*A*x", "x", order, what, _quadratic(n), closed,
                             lambda m, x, A: x @ (A @ x), lambda x, A: x @ (A @ x), ("A",)))
    for N, d in ((10000, 100), (10000, 1000)):
        for order, what, closed in ((1, "gradient", _logistic_grad), (2, "hessian", _logistic_hess)):
            P.append(Problem(f"logistic {what}, {N}×{d}", LOGISTIC, "w", order, what, _logistic(N, d), closed,
                             lambda m, w, X, y: m.sum(m.log(1 + m.exp(-y * (X @ w)))),
                             lambda w, X, y: torch.sum(torch.log(1 + torch.exp(-y * (X @ w)))), ("X", "y")))
    for order, what, closed in ((1, "gradient", lambda v: -2 * ((v["y"] - v["Phi"] @ v["theta"]) @ v["Phi"])),
                                (2, "hessian", lambda v: 2 * (v["Phi"].T @ v["Phi"]))):
        P.append(Problem(f"least squares {what}, 10000×500", "norm2(y - Phi*theta)^2", "theta", order, what,
                         _ls(10000, 500), closed,
                         lambda m, t, Phi, y: m.sum((y - Phi @ t) ** 2),
                         lambda t, Phi, y: torch.sum((y - Phi @ t) ** 2), ("Phi", "y")))
    for order, what, closed in ((1, "gradient", lambda v: -2 * ((v["X"] - v["U"] @ v["V"].T) @ v["V"])),
                                (2, "hessian", _mf_hess)):
        P.append(Problem(f"‖X − UV'‖² by U, {what}, 500×400, k = 20", "norm2(X - U*V')^2", "U", order, what,
                         _mf(500, 400, 20), closed,
                         lambda m, U, X, V: m.sum((X - U @ V.T) ** 2),
                         lambda U, X, V: torch.sum((X - U @ V.T) ** 2), ("X", "V"), isolate=order == 2))
    for order, what, closed in ((1, "gradient", lambda v: _sig_softmax(v["x"])), (2, "hessian", _lse_hess)):
        P.append(Problem(f"log-sum-exp {what}, n = 2000", "log(sum(exp(x)))", "x", order, what,
                         lambda rng: {"x": rng.standard_normal(2000)}, closed,
                         lambda m, x: m.log(m.sum(m.exp(x))), lambda x: torch.log(torch.sum(torch.exp(x)))))
    P.append(Problem("tanh(Wx) Jacobian by x, 200×300", "tanh(W*x)", "x", 1, "jacobian", _tanh(200, 300),
                     lambda v: (1 - np.tanh(v["W"] @ v["x"]) ** 2)[:, None] * v["W"],
                     lambda m, x, W: m.tanh(W @ x), lambda x, W: torch.tanh(W @ x), ("W",)))
    P.append(Problem("tanh(Wx) Jacobian by W (3-D), 200×300", "tanh(W*x)", "W", 1, "jacobian", _tanh(200, 300),
                     _tanh_W, lambda m, W, x: m.tanh(W @ x), lambda W, x: torch.tanh(W @ x), ("x",)))
    return P


def _sig_softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


# -- timing -------------------------------------------------------------------------------------------

class Stopped(Exception):
    pass


def _alarm(signum, frame):
    raise Stopped


def _first(call, check) -> dict:
    """The first call (it includes tracing and compiling), stopped past CALL_LIMIT_S, checked."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CALL_LIMIT_S)
    try:
        t0 = time.perf_counter()
        out = call()
        first = time.perf_counter() - t0
    except Stopped:
        return {"error": f"did not finish in {CALL_LIMIT_S} s"}
    except MemoryError:
        return {"error": "out of memory"}
    finally:
        signal.alarm(0)
    bad = check(out)
    if bad:
        return {"error": f"wrong result: {bad}"}
    return {"first": first, "times": []}


def bench(calls: dict, check) -> dict:
    """Time every method of ``calls`` {name: callable}: first calls, then *interleaved* rounds
    (one call of each method per round), so that a change in the machine's load (it is shared)
    falls on all methods alike.  A method stops after MAX_REPS calls, or BUDGET_S seconds and at
    least 3 calls, or, when its first call took over 10 s, after one more call.

    The order of the methods is shuffled in every round: a JAX call made right after NumPy or
    PyTorch work pays for waking XLA's threads (on this machine 250 µs against 85 µs for the
    next JAX call, measured with the log-sum-exp gradient), so a fixed order charged that to
    whichever JAX method came first (the generated JAX code, in the first runs)."""
    import random

    rng = random.Random(0)
    res = {name: _first(call, check) for name, call in calls.items()}
    active = [n for n in calls if "error" not in res[n]]
    while active:
        order = list(active)
        rng.shuffle(order)
        for name in order:
            r = res[name]
            signal.alarm(CALL_LIMIT_S)
            try:
                t0 = time.perf_counter()
                calls[name]()
                r["times"].append(time.perf_counter() - t0)
            except Stopped:
                active.remove(name)
                continue
            finally:
                signal.alarm(0)
            n, spent = len(r["times"]), sum(r["times"])
            if n >= MAX_REPS or (spent >= BUDGET_S and n >= 3) or (r["first"] > 10 and n >= 1):
                active.remove(name)
    for r in res.values():
        if "error" not in r:
            times = r.pop("times")
            r["median"] = statistics.median(times) if times else r["first"]
            r["runs"] = len(times)
    return res


def _np(x):
    if hasattr(x, "detach"):
        return x.detach().numpy()
    return np.asarray(x)


def checker(expected):
    def check(out):
        got = _np(out)
        if got.shape != expected.shape:
            return f"shape {got.shape} != {expected.shape}"
        if not np.allclose(got, expected, rtol=1e-7, atol=1e-9 * max(1.0, np.abs(expected).max())):
            return f"max error {np.abs(got - expected).max():.3g}"
        return None
    return check


PEERS = ("jax", "torch.func", "autograd")


def peers(p: Problem, values: dict, which=PEERS) -> dict:
    """Calls of jax, torch.func and autograd on one problem (in this process)."""
    import autograd
    import autograd.numpy as anp
    import jax
    import jax.numpy as jnp
    import torch
    import torch.func as tf

    torch.set_num_threads(THREADS)
    args = [values[p.wrt]] + [values[o] for o in p.others]
    out = {}
    if "jax" in which:
        jt = {"gradient": jax.grad, "hessian": jax.hessian, "jacobian": jax.jacrev}[p.what]
        jargs = [jnp.asarray(a) for a in args]
        jf = jax.jit(jt(lambda *a: p.fn(jnp, *a), argnums=0))
        out["jax"] = lambda: jf(*jargs).block_until_ready()
    if "torch.func" in which:
        tt = {"gradient": tf.grad, "hessian": tf.hessian, "jacobian": tf.jacrev}[p.what]
        targs = [torch.as_tensor(a) for a in args]
        tfun = tt(p.torch_fn, argnums=0)
        out["torch.func"] = lambda: tfun(*targs)
    if "autograd" in which:
        at = {"gradient": autograd.grad, "hessian": autograd.hessian, "jacobian": autograd.jacobian}[p.what]
        afun = at(lambda *a: p.fn(anp, *a), 0)
        out["autograd"] = lambda: afun(*args)
    return out


def _child(p_index, peer, conn):
    import jax

    jax.config.update("jax_enable_x64", True)
    p = problems()[p_index]
    values = p.make(np.random.default_rng(0))
    conn.send(bench(peers(p, values, (peer,)), checker(p.closed(values))))


def isolated_peers(p_index: int) -> dict:
    """:func:`peers`, each in a child process stopped past CHILD_TIME_S or CHILD_RSS_GIB."""
    ctx = mp.get_context("spawn")  # not fork: the parent's JAX runtime has threads
    out = {}
    for peer in PEERS:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child, args=(p_index, peer, child))
        proc.start()
        t0 = time.time()
        peak = 0.0
        why = None
        while proc.is_alive():
            if parent.poll(0.2):
                out.update(parent.recv())
                proc.join()
                break
            try:
                with open(f"/proc/{proc.pid}/status") as f:
                    rss = next(int(ln.split()[1]) for ln in f if ln.startswith("VmRSS")) / 2**20
            except (OSError, StopIteration):
                rss = 0.0
            peak = max(peak, rss)
            if rss > CHILD_RSS_GIB:
                why = f"stopped at {CHILD_RSS_GIB:.0f} GiB of memory"
            elif time.time() - t0 > CHILD_TIME_S:
                why = f"did not finish in {CHILD_TIME_S} s (peak {peak:.1f} GiB)"
            if why:
                proc.kill()
                proc.join()
                out[peer] = {"error": why}
                break
        else:
            out.setdefault(peer, {"error": f"child process ended with code {proc.exitcode}"})
    return out


def run(selected: list[Problem], all_problems: list[Problem], quick: bool) -> list[dict]:
    import jax
    import jax.numpy as jnp

    import ricci

    rows = []
    for p in selected:
        print(f"# {p.name}", file=sys.stderr, flush=True)
        values = p.make(np.random.default_rng(0))
        expected = p.closed(values)
        check = checker(expected)
        row = {"problem": p.name, "what": p.what}
        t0 = time.perf_counter()
        d = ricci.derivative(p.expr, p.wrt, p.order)
        f = d.function()
        row["ricci_codegen_s"] = time.perf_counter() - t0
        row["code"] = d.code()
        calls = {"closed form": lambda p=p, values=values: p.closed(values),
                 "ricci numpy": lambda f=f, values=values: f(**values)}
        if p.what == "gradient":
            fj = jax.jit(d.function("jax"))
            jv = [jnp.asarray(values[k]) for k in d.expression.variables]  # positional, as jax's own
            calls["ricci jax"] = lambda fj=fj, jv=jv: fj(*jv).block_until_ready()
        if not p.isolate:
            calls.update(peers(p, values))
        row.update(bench(calls, check))
        if p.isolate:
            row.update(isolated_peers(all_problems.index(p)))
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "code"}), file=sys.stderr, flush=True)
    return rows


def versions() -> dict:
    import importlib.metadata

    import jax
    import torch

    import ricci

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"python": platform.python_version(), "numpy": np.__version__, "jax": jax.__version__,
            "torch": torch.__version__, "jaxlib": importlib.metadata.version("jaxlib"), "autograd": importlib.metadata.version("autograd"),
            "ricci": ricci.__version__, "cpu": cpu, "cores": os.cpu_count(), "threads": THREADS,
            "load average": os.getloadavg()}


METHODS = ["ricci numpy", "closed form", "ricci jax", "jax", "torch.func", "autograd"]


def fmt(t):
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.3g} ms"
    return f"{t * 1e6:.3g} µs"


def first_call_table(rows: list[dict]) -> str:
    """ricci's own time to derive and generate, and every method's first call (compiling)."""
    cols = ["ricci numpy", "ricci jax", "jax", "torch.func", "autograd"]
    lines = ["| problem | ricci: derive + generate + compile | " + " | ".join(f"{c} first call" for c in cols) + " |",
             "|" + "---|" * (len(cols) + 2)]
    for r in rows:
        cells = [fmt(r["ricci_codegen_s"])]
        for c in cols:
            res = r.get(c)
            cells.append("—" if res is None else res["error"] if "error" in res else fmt(res["first"]))
        lines.append(f"| {r['problem']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: The issue's targets: peer median over the generated NumPy code's, for Hessians and Jacobians.
TARGETS = {"jax": 1.5, "torch.func": 4.0, "autograd": 4.0}


def acceptance_table(rows: list[dict]) -> str:
    """The issue's acceptance points 1 and 2, row by row, each ratio marked met (✓) or not (✗)."""
    lines = ["| problem | 1. ricci numpy / closed form (≤ 1.25) | 2. jax / ricci numpy | "
             "torch.func / ricci numpy | autograd / ricci numpy | 2. ricci jax / jax.grad (≤ 1.2) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        ours = r["ricci numpy"]["median"]
        p1 = ours / r["closed form"]["median"]
        cells = [f"{p1:.2f} {'✓' if p1 <= 1.25 else '✗'}"]
        for peer, target in TARGETS.items():
            res = r.get(peer)
            if r["what"] == "gradient":
                cells.append("(gradient)")
            elif res is None:
                cells.append("—")
            elif "error" in res:
                cells.append(f"peer failed ({res['error']}) ✓")
            else:
                need = 10.0 if peer == "jax" and r["problem"].startswith("x'Ax") else target
                q = res["median"] / ours
                cells.append(f"{q:.1f}× {'✓' if q >= need else f'✗ (target {need:g}×)'}")
        if r["what"] == "gradient" and "ricci jax" in r and "median" in r.get("jax", {}):
            q = r["ricci jax"]["median"] / r["jax"]["median"]
            cells.append(f"{q:.2f} {'✓' if q <= 1.2 else '✗'}")
        else:
            cells.append("—")
        lines.append(f"| {r['problem']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    head = "| problem | " + " | ".join(METHODS) + " |"
    lines = [head, "|" + "---|" * (len(METHODS) + 1)]
    for r in rows:
        base = r["closed form"].get("median")
        cells = []
        for m in METHODS:
            res = r.get(m)
            if res is None:
                cells.append("")
            elif "error" in res:
                cells.append(res["error"])
            else:
                ratio = res["median"] / base if base else float("nan")
                cells.append(f"{fmt(res['median'])} ({ratio:.2f}×)")
        lines.append(f"| {r['problem']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", help="substrings of problem names to run")
    ap.add_argument("--quick", action="store_true", help="shorter repeats")
    ap.add_argument("--threads", type=int, default=1, help="threads of every library (default 1)")
    ap.add_argument("--json", default="benchmarks/codegen_results.json")
    ap.add_argument("--tables", metavar="JSON", help="only print the tables of an earlier run's JSON")
    args = ap.parse_args()
    if args.tables:
        with open(args.tables) as f:
            data = json.load(f)
        print(json.dumps(data["versions"]))
        for t in (table, first_call_table, acceptance_table):
            print()
            print(t(data["rows"]))
        return
    global BUDGET_S
    if args.quick:
        BUDGET_S = 0.5
    import jax

    jax.config.update("jax_enable_x64", True)
    ps = problems()
    selected = [p for p in ps if not args.only or any(s in p.name for s in args.only)]
    rows = run(selected, ps, args.quick)
    info = versions()
    with open(args.json, "w") as f:
        json.dump({"versions": info, "rows": rows}, f, indent=1)
    print(json.dumps(info))
    for t in (table, first_call_table, acceptance_table):
        print()
        print(t(rows))


if __name__ == "__main__":
    main()
