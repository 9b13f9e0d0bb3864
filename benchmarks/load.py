"""Load test of ``ricci serve``: many concurrent clients, mixed and pathological requests.

Run by hand: ``python benchmarks/load.py`` (defaults: 50 clients for 20 s).  It starts
``ricci serve`` on a free port of 127.0.0.1 (or uses ``--url``, which must be on 127.0.0.1 or
localhost: this script sends nothing elsewhere), then every client sends requests drawn at
random from a mix: the lecture's examples with every optional part, cheap variations that miss
the cache, parse / evaluate / compare / plot, syntax and shape errors, and pathological inputs
(a derivation that never ends, each one new so no cache can help; inputs over the length,
nesting and order limits; a body over the size limit; malformed JSON; the wrong content type).

It passes (exit status 0) when no response is a 5xx, no request took longer than the server's
request budget (``GET /api/health``: waiting for a worker + the time budget + grace, plus one
second for HTTP and this machine's scheduling), and the server still answers afterwards.  It
prints the status counts and p50/p99 latency, overall and per kind of request.

Other mixes (``--mix``), issue 15's measures of the fast lane:

* ``open``: first the server idle — cheap requests (a quadratic form in a fresh variable name, so
  no cache helps, with the page's ``include`` set) from one client for the idle p99, then from
  eight for the idle rate R; then an open loop for ``--seconds`` (60): cheap requests arriving at
  R/2 (Poisson), plus one runaway request (a derivation that runs out of its time budget) per
  second.  It passes when the cheap requests' p99 is at most max(1 s, 3 × the idle p99), at
  least 99 % of them are answered 200, and no response is a 5xx.  The memory of the server and
  its workers (PSS, from /proc) is sampled every second.
* ``closed``: ``--clients`` (30) clients for ``--seconds`` (40), each sending one request after
  another: 90 % cheap, 10 % runaway (the issue's run).
* ``plots``: six clients each asking for one plot at the same moment, on an idle server: all
  must be answered 200 (a user's plot arrives).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from webtools import get_json, ricci_server

#: Slack on top of the server's own request budget: HTTP, JSON, and this machine being busy.
SLACK_S = 1.0

LECTURE = [
    ("x'*a", "x", 1, {"a": "vector"}), ("a'*X*b", "X", 1, {"a": "vector", "b": "vector"}),
    ("x'*B*x", "x", 1, {}), ("(x - A*s)'*W*(x - A*s)", "s", 1, {"W": "symmetric matrix"}),
    ("A*x", "x", 1, {}), ("norm2(y - Phi*theta)^2", "theta", 1, {}), ("norm2(y - Phi*theta)^2", "theta", 2, {}),
    ("x'*B*x", "x", 2, {}), ("A*x", "A", 1, {}), ("R'*R", "R", 1, {}),
    ("exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)", "t", 1, {"t": "scalar"}),
    ("exp(x1*x2^2)", ["x1", "x2"], 1, {}), ("x1^2 - x2^2", ["x1", "x2"], 2, {}),
]


def runaway(rng: random.Random) -> str:
    """A 6th derivative ricci cannot finish; a fresh constant each time defeats the cache."""
    s = "t"
    for _ in range(10):
        s = f"exp(sin({s})*t)"
    return f"{rng.randint(2, 10**9)}*{s}"


def request(rng: random.Random) -> tuple[str, str, dict]:
    """(kind, path, keyword arguments of httpx's request) for one random request of the mix."""
    r = rng.random()
    expr, wrt, order, kinds = rng.choice(LECTURE)
    body = {"expression": expr, "wrt": wrt, "order": order, "kinds": kinds}
    k = rng.randint(1, 10**6)
    table = [
        (0.25, "derivative (lecture, all parts)", "/api/derivative", {"json": body}),
        (0.15, "derivative (new, no parts)", "/api/derivative",
         {"json": {"expression": f"x'*A*x + {k}*b'*x", "wrt": "x", "kinds": {"b": "vector"}, "include": []}}),
        (0.08, "parse", "/api/parse", {"json": {"expression": f"norm2(y - Phi*theta)^2 + {k}"}}),
        (0.08, "evaluate", "/api/evaluate",
         {"json": {"expression": "x'*A*x", "wrt": "x", "values": {"x": [rng.random(), rng.random()],
                                                                  "A": [[1, k], [2, 3]]}}}),
        (0.06, "compare", "/api/compare", {"json": {"expression": "x'*A*x", "wrt": "x", "answer": f"{k % 3}*x'*A"}}),
        (0.05, "plot", "/api/plot", {"json": {"expression": f"x1^2 - {k % 5}*x2^2", "wrt": ["x1", "x2"]}}),
        (0.08, "errors (syntax, shape)", "/api/derivative",
         {"json": rng.choice([{"expression": f"x'*A*x + {k}*", "wrt": "x"},
                              {"expression": f"x'*A*x + [1, 2]*[3, {k}]", "wrt": "x"}])}),
        (0.03, "pathological: runaway", "/api/derivative",
         {"json": {"expression": runaway(rng), "wrt": "t", "order": 6, "include": []}}),
        (0.03, "pathological: too long", "/api/derivative", {"json": {"expression": "x+" * 5001, "wrt": "x"}}),
        (0.03, "pathological: too deep", "/api/derivative",
         {"json": {"expression": "(" * 150 + f"x{k}" + ")" * 150, "wrt": "x"}}),
        (0.03, "pathological: order 7", "/api/derivative", {"json": {"expression": "x", "wrt": "x", "order": 7}}),
        (0.03, "pathological: body 100 KB", "/api/derivative",
         {"content": b'{"expression": "' + b"x" * 100_000 + b'", "wrt": "x"}',
          "headers": {"Content-Type": "application/json"}}),
        (0.03, "pathological: bad JSON", "/api/derivative",
         {"content": b'{"expression": "x", "wrt":', "headers": {"Content-Type": "application/json"}}),
        (0.03, "pathological: not JSON", "/api/derivative", {"content": b"expression=x", "headers":
                                                              {"Content-Type": "application/x-www-form-urlencoded"}}),
        (0.02, "pathological: big values", "/api/evaluate",
         {"json": {"expression": "sum(X*X*X*X)", "values": {"X": [[round(rng.random(), 3)] * 64] * 64}}}),
    ]
    acc = 0.0
    for weight, kind, path, kw in table:
        acc += weight
        if r < acc:
            return kind, path, kw
    return table[0][1], table[0][2], table[0][3]


async def client(http: httpx.AsyncClient, url: str, until: float, seed: int, results: list, timeout: float):
    rng = random.Random(seed)
    while time.monotonic() < until:
        kind, path, kw = request(rng)
        t0 = time.monotonic()
        try:
            resp = await http.post(url + path, timeout=timeout, **kw)
            status = resp.status_code
        except httpx.HTTPError as e:
            status = f"{type(e).__name__}"
        results.append((kind, status, time.monotonic() - t0))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))] if xs else float("nan")


async def main_async(url: str, clients: int, seconds: float, seed: int) -> int:
    limits = get_json(f"{url}/api/health")["limits"]
    budget = max(limits["request_budget_s"], limits.get("plot_request_budget_s", 0)) + SLACK_S
    results: list = []
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=clients + 5)) as http:
        until = time.monotonic() + seconds
        t0 = time.monotonic()
        await asyncio.gather(*(client(http, url, until, seed + i, results, budget + 30) for i in range(clients)))
        wall = time.monotonic() - t0
        after = (await http.get(f"{url}/api/health", timeout=10)).json()["status"]
        t1 = time.monotonic()
        check = (await http.post(f"{url}/api/derivative", timeout=budget,
                                 json={"expression": "x'*A*x", "wrt": "x", "include": []})).json()["text"]
        answer_s = time.monotonic() - t1

    statuses = Counter(s for _, s, _ in results)
    errors_5xx = sum(n for s, n in statuses.items() if not isinstance(s, int) or s >= 500)
    over = [(k, s, t) for k, s, t in results if t > budget]
    by_kind = defaultdict(list)
    for k, s, t in results:
        by_kind[k].append((s, t))
    print(f"{len(results)} requests from {clients} clients in {wall:.1f} s ({len(results) / wall:.0f}/s); "
          f"request budget {limits['request_budget_s']:g} s (+{SLACK_S:g} s slack)")
    print("statuses:", dict(sorted(statuses.items(), key=lambda kv: str(kv[0]))))
    lat = [t for _, _, t in results]
    print(f"latency, all: p50 {pct(lat, 50) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f} ms, max {max(lat):.2f} s")
    for label, keep in (("answered (200)", lambda s: s == 200), ("refused busy (429)", lambda s: s == 429),
                        ("other 4xx", lambda s: isinstance(s, int) and 400 <= s < 500 and s != 429)):
        xs = [t for _, s, t in results if keep(s)]
        if xs:
            print(f"latency, {label}: n {len(xs)}, p50 {pct(xs, 50) * 1000:.0f} ms, p99 {pct(xs, 99) * 1000:.0f} ms")
    print(f"{'kind':36} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for k in sorted(by_kind):
        ts = [t for _, t in by_kind[k]]
        st = Counter(s for s, _ in by_kind[k])
        print(f"{k:36} {len(ts):5} {pct(ts, 50) * 1000:8.0f} {pct(ts, 99) * 1000:8.0f}  {dict(st)}")
    print(f"afterwards: health {after!r}, x'*A*x answered {check!r} in {answer_s * 1000:.0f} ms")
    ok = errors_5xx == 0 and not over and after == "ok" and check == "x'*(A + A')"
    print("PASS" if ok else f"FAIL: {errors_5xx} 5xx or transport errors, {len(over)} over budget")
    return 0 if ok else 1


# -- issue 15: the open loop, the closed loop, six plot users ----------------------------------------
#: The page's include set for its main request (static/app.js).
PAGE_INCLUDE = ["mathml", "steps", "check", "code", "plot"]


def cheap(k: int) -> dict:
    """A cheap derivative the cache has never seen (a fresh variable name), with the page's parts."""
    return {"expression": f"v{k}'*M*v{k}", "wrt": f"v{k}", "include": PAGE_INCLUDE}


def runaway_request(rng: random.Random) -> dict:
    return {"expression": runaway(rng), "wrt": "t", "order": 6, "include": PAGE_INCLUDE}


def memory_mb(port: int) -> float | None:
    """Proportional set size (MB) of the server listening on ``port`` and all its descendants
    (workers, forkserver), from /proc (Linux); None where /proc cannot tell."""
    try:
        procs = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")
                procs[int(pid)] = (ppid, cmd)
            except OSError:
                continue
        roots = [p for p, (_, cmd) in procs.items() if b"serve" in cmd and str(port).encode() in cmd]
        tree, grew = set(roots), True
        while grew:
            grew = False
            for p, (ppid, _) in procs.items():
                if ppid in tree and p not in tree:
                    tree.add(p)
                    grew = True
        total = 0
        for p in tree:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        return total / 1024 if tree else None
    except (OSError, StopIteration, ValueError):
        return None


async def timed(http, url: str, body: dict, timeout: float, path: str = "/api/derivative"):
    t0 = time.monotonic()
    try:
        status = (await http.post(url + path, json=body, timeout=timeout)).status_code
    except httpx.HTTPError as e:
        status = type(e).__name__
    return status, time.monotonic() - t0


def summary(label: str, rows: list) -> str:
    lat = [t for _, t in rows]
    st = Counter(s for s, _ in rows)
    if not rows:
        return f"{label}: none"
    return (f"{label}: n {len(rows)}, p50 {pct(lat, 50) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f} ms, "
            f"max {max(lat) * 1000:.0f} ms, statuses {dict(sorted(st.items(), key=lambda kv: str(kv[0])))}")


async def idle_phase(http, url: str, seconds: float, budget: float, counter) -> tuple[float, float]:
    """(p99 of one client's cheap requests, the rate eight clients get answered) on the idle server."""
    alone: list = []
    until = time.monotonic() + seconds / 2
    while time.monotonic() < until:
        alone.append(await timed(http, url, cheap(next(counter)), budget))
    many: list = []

    async def one():
        while time.monotonic() < until:
            many.append(await timed(http, url, cheap(next(counter)), budget))

    t0 = time.monotonic()
    until = t0 + seconds / 2
    await asyncio.gather(*(one() for _ in range(8)))
    rate = sum(1 for s, _ in many if s == 200) / (time.monotonic() - t0)
    print(summary("idle, one client", alone))
    print(summary("idle, eight clients", many) + f"; rate {rate:.1f}/s")
    return pct([t for _, t in alone], 99), rate


async def open_loop(url: str, port: int, seconds: float, idle_seconds: float, seed: int) -> int:
    import itertools

    limits = get_json(f"{url}/api/health")["limits"]
    budget = limits["request_budget_s"] + SLACK_S
    rng = random.Random(seed)
    counter = itertools.count(1)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1000)) as http:
        idle_p99, rate = await idle_phase(http, url, idle_seconds, budget, counter)
        arrivals = rate / 2
        print(f"open loop: cheap requests at {arrivals:.1f}/s (half the idle rate), one runaway per second, "
              f"for {seconds:g} s")
        cheap_rows, runaway_rows, memory, tasks = [], [], [], []

        async def send(body, rows):
            rows.append(await timed(http, url, body, budget + 30))

        async def cheap_arrivals(until):
            t = time.monotonic()
            while t < until:
                tasks.append(asyncio.create_task(send(cheap(next(counter)), cheap_rows)))
                t += rng.expovariate(arrivals)
                await asyncio.sleep(max(0.0, t - time.monotonic()))

        async def runaways(until):
            t = time.monotonic()
            while t < until:
                tasks.append(asyncio.create_task(send(runaway_request(rng), runaway_rows)))
                t += 1.0
                await asyncio.sleep(max(0.0, t - time.monotonic()))

        async def sample(until):
            while time.monotonic() < until:
                m = memory_mb(port)
                if m is not None:
                    memory.append(m)
                await asyncio.sleep(1.0)

        before = memory_mb(port)
        until = time.monotonic() + seconds
        await asyncio.gather(cheap_arrivals(until), runaways(until), sample(until))
        await asyncio.gather(*tasks)
        after = memory_mb(port)
    target = max(1.0, 3 * idle_p99)
    lat = [t for _, t in cheap_rows]
    ok = sum(1 for s, _ in cheap_rows if s == 200)
    fives = sum(1 for s, _ in cheap_rows + runaway_rows if not isinstance(s, int) or s >= 500)
    print(summary("open loop, cheap", cheap_rows))
    print(summary("open loop, runaway", runaway_rows))
    if memory:
        print(f"memory (PSS of the server and its workers): {before:.0f} MB before, max {max(memory):.0f} MB, "
              f"{after:.0f} MB after")
    p99 = pct(lat, 99)
    share = ok / max(1, len(cheap_rows))
    print(f"target: cheap p99 {p99:.2f} s <= {target:.2f} s (max(1 s, 3 x idle p99 {idle_p99:.3f} s)); "
          f"answered 200: {share:.2%} >= 99 %; 5xx or transport errors: {fives}")
    passed = p99 <= target and share >= 0.99 and fives == 0
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


async def closed_loop(url: str, clients: int, seconds: float, seed: int) -> int:
    limits = get_json(f"{url}/api/health")["limits"]
    budget = limits["request_budget_s"] + SLACK_S
    rows = {"cheap": [], "runaway": []}
    counter = iter(range(10**9))

    async def one(i):
        rng = random.Random(seed + i)
        while time.monotonic() < until:
            if rng.random() < 0.9:
                rows["cheap"].append(await timed(http, url, cheap(next(counter)), budget + 30))
            else:
                rows["runaway"].append(await timed(http, url, runaway_request(rng), budget + 30))

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=clients + 5)) as http:
        until = time.monotonic() + seconds
        await asyncio.gather(*(one(i) for i in range(clients)))
    print(f"closed loop: {clients} clients for {seconds:g} s, 90 % cheap, 10 % runaway")
    for k, v in rows.items():
        print(summary(f"closed loop, {k}", v))
    fives = sum(1 for v in rows.values() for s, _ in v if not isinstance(s, int) or s >= 500)
    print("PASS" if fives == 0 else f"FAIL: {fives} 5xx or transport errors")
    return 0 if fives == 0 else 1


async def plot_users(url: str, users: int = 6) -> int:
    limits = get_json(f"{url}/api/health")["limits"]
    budget = limits.get("plot_request_budget_s", limits["request_budget_s"]) + SLACK_S
    async with httpx.AsyncClient() as http:
        rows = await asyncio.gather(*(
            timed(http, url, {"expression": f"x1^2 - {k + 2}*x2^2", "wrt": ["x1", "x2"]}, budget, "/api/plot")
            for k in range(users)))
    print(summary(f"{users} plot users at once", rows))
    passed = all(s == 200 for s, _ in rows)
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mix", choices=("mixed", "open", "closed", "plots"), default="mixed")
    ap.add_argument("--clients", type=int, default=None, help="mixed: 50, closed: 30")
    ap.add_argument("--seconds", type=float, default=None, help="mixed: 20, open: 60, closed: 40")
    ap.add_argument("--idle-seconds", type=float, default=20.0, help="open: the idle measurement")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", help="a running server on 127.0.0.1 (default: start one)")
    ap.add_argument("serve_args", nargs="*", help="arguments for ricci serve, after --")
    args = ap.parse_args(argv)
    seconds = args.seconds or {"mixed": 20.0, "open": 60.0, "closed": 40.0, "plots": 0}[args.mix]
    clients = args.clients or (30 if args.mix == "closed" else 50)
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs")

    def run(url):
        try:
            return run_mix(url)
        finally:
            lanes = get_json(f"{url}/api/health").get("lanes")
            if lanes:
                print("answered by (GET /api/health lanes):", lanes)

    def run_mix(url):
        if args.mix == "open":
            return asyncio.run(open_loop(url, int(urlsplit(url).port or 80), seconds, args.idle_seconds, args.seed))
        if args.mix == "closed":
            return asyncio.run(closed_loop(url, clients, seconds, args.seed))
        if args.mix == "plots":
            return asyncio.run(plot_users(url))
        return asyncio.run(main_async(url, clients, seconds, args.seed))

    try:
        if args.url:
            if urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
                ap.error("--url must be on this machine (127.0.0.1 or localhost)")
            return run(args.url.rstrip("/"))
        with ricci_server(*args.serve_args) as url:
            print(f"ricci serve {' '.join(args.serve_args)} on {url}")
            return run(url)
    finally:
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    sys.exit(main())
