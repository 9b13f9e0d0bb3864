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
"""

from __future__ import annotations

import argparse
import asyncio
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
    budget = limits["request_budget_s"] + SLACK_S
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", help="a running server on 127.0.0.1 (default: start one)")
    ap.add_argument("serve_args", nargs="*", help="arguments for ricci serve, after --")
    args = ap.parse_args(argv)
    if args.url:
        if urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
            ap.error("--url must be on this machine (127.0.0.1 or localhost)")
        return asyncio.run(main_async(args.url.rstrip("/"), args.clients, args.seconds, args.seed))
    with ricci_server(*args.serve_args) as url:
        print(f"ricci serve {' '.join(args.serve_args)} on {url}")
        return asyncio.run(main_async(url, args.clients, args.seconds, args.seed))


if __name__ == "__main__":
    sys.exit(main())
