"""The web server's JSON API, page and guard, through FastAPI's test client (in process, with
real worker processes); the worker pool and the job adapters on their own.

Every endpoint is called with good and bad requests: a good one returns ricci's own answer
(compared with ``ricci.derivative`` & co. called directly), a bad one a 4xx with the one error
shape ``{"error": {"kind", "message", …}}``, never a 5xx.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest
from webtools import BASE, TestClient

import ricci
from ricci.web import compute
from ricci.web import pool as P
from ricci.web.app import CSP, Runner, Settings, create_app
from ricci.web.page import EXAMPLES

#: An expression whose 6th derivative ricci cannot finish in any reasonable time.
RUNAWAY = "t"
for _ in range(10):
    RUNAWAY = f"exp(sin({RUNAWAY})*t)"


@pytest.fixture(scope="module")
def client():
    app = create_app(Settings(workers=2, time_budget=6.0, grace=1.0))
    with TestClient(app, base_url=BASE) as c:
        yield c


@pytest.fixture(scope="module")
def features(client):
    return client.get("/api/health").json()["features"]


def error_of(r, status=422):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    return body["error"]


# -- POST /api/derivative -----------------------------------------------------------------------------
def test_derivative_of_the_quadratic_form(client, features):
    # lecture row 4: ∂(x'Ax)/∂x = x'(A + A'), a row vector
    r = client.post("/api/derivative", json={"expression": "x'*A*x", "wrt": "x"})
    assert r.status_code == 200, r.text
    body = r.json()
    d = ricci.derivative("x'*A*x", "x")
    assert body["text"] == d.text == "x'*(A + A')"
    assert body["latex"] == d.latex
    assert body["shape"] == ["n"]
    assert "row vector" in body["shape_text"]
    assert body["function_shape"] == []
    assert body["kinds"] == {"x": {"kind": "vector", "dims": ["n"], "source": "assumed"},
                             "A": {"kind": "matrix", "dims": ["n", "n"], "source": "assumed"}}
    if features["mathml"]:
        assert body["mathml"].startswith("<math") and "<mi>A</mi>" in body["mathml"]
    assert body["plot"] is None  # x is a vector: no plot


def test_declaring_a_symmetric_matrix(client):
    r = client.post("/api/derivative", json={"expression": "x'*A*x", "wrt": "x",
                                             "kinds": {"A": "symmetric matrix"}})
    body = r.json()
    assert body["text"] == "2*x'*A"
    assert body["kinds"]["A"] == {"kind": "symmetric matrix", "dims": ["n", "n"], "source": "declared"}


def test_optional_parts_where_available(client, features):
    body = client.post("/api/derivative", json={"expression": "norm2(y - Phi*theta)^2", "wrt": "theta"}).json()
    assert body["text"] == "-2*(y - Phi*theta)'*Phi"
    if features["steps"]:
        titles = [s["title"] for s in body["steps"]["items"]]
        assert "Chain rule" in titles and body["steps"]["items"][0]["number"] == "1"
        assert "theta" in body["steps"]["text"]
    if features["check"]:
        assert body["check"]["passed"] is True
        assert body["check"]["max_relative_error"] < 1e-6
    if features["code"]:
        assert set(body["code"]) == {"numpy", "jax", "torch"}
        assert "def gradient(" in body["code"]["numpy"]["source"]
        assert "import jax" in body["code"]["jax"]["source"]
        assert "import torch" in body["code"]["torch"]["source"]
    if features["analysis"]:
        assert "Hessian" in body["analysis"]["text"]


def test_include_chooses_the_parts(client):
    body = client.post("/api/derivative", json={"expression": "x'*A*x", "wrt": "x", "include": []}).json()
    for part in compute.PARTS:
        assert body[part] is None
    body = client.post("/api/derivative", json={"expression": "x'*A*x", "wrt": "x", "include": ["code"]}).json()
    assert body["code"]["numpy"]["source"] and body["steps"] is None


def test_a_plot_is_offered_for_one_or_two_scalars(client, features):
    body = client.post("/api/derivative", json={"expression": "x1^2 - x2^2", "wrt": ["x1", "x2"], "order": 2,
                                                "include": ["plot"]}).json()
    assert body["text"] == "[2, 0; 0, -2]"
    assert body["plot"] == ({"wrt": ["x1", "x2"]} if features["plot"] else None)


def test_list_of_scalars_and_higher_order(client):
    body = client.post("/api/derivative", json={"expression": "exp(x1*x2^2)", "wrt": ["x1", "x2"],
                                                "include": []}).json()
    assert body["text"] == ricci.derivative("exp(x1*x2^2)", ["x1", "x2"]).text
    assert body["wrt"] == ["x1", "x2"] and body["shape"] == ["2"]
    body = client.post("/api/derivative", json={"expression": "x'*B*x", "wrt": "x", "order": 2,
                                                "include": []}).json()
    assert body["text"] == "B + B'" and body["shape"] == ["n", "n"] and body["order"] == 2


def test_tensor_answers_in_index_notation(client):
    body = client.post("/api/derivative", json={"expression": "A*x", "wrt": "A", "include": []}).json()
    assert body["matrix_form"] is False
    assert body["shape"] == ["m", "m", "n"]
    assert "δ" in body["text"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.label)
def test_every_example_of_the_page_is_answered(client, example):
    wrt = example.wrt.split(",") if "," in example.wrt else example.wrt
    r = client.post("/api/derivative", json={"expression": example.expression, "wrt": wrt,
                                             "order": example.order, "kinds": example.kinds, "include": []})
    assert r.status_code == 200, r.text
    assert r.json()["text"] == ricci.derivative(example.expression, wrt, example.order, example.kinds).text


# -- errors with the caret under the faulty part --------------------------------------------------------
def test_a_shape_error_points_at_the_product(client):
    source = "x'*A*x + [1, 2]*[3, 4]"
    e = error_of(client.post("/api/derivative", json={"expression": source, "wrt": "x"}))
    assert e["kind"] == "shape error"
    assert "inner dimensions" in e["message"]
    assert e["field"] == "expression" and e["source"] == source
    start, end = e["span"]
    assert source[start:end] == "[1, 2]*[3, 4]"
    assert e["excerpt"] == source
    assert e["caret"] == " " * start + "^" * (end - start)


def test_a_syntax_error(client):
    e = error_of(client.post("/api/derivative", json={"expression": "x'*", "wrt": "x"}))
    assert e["kind"] == "syntax error"
    assert e["caret"].strip() and set(e["caret"].strip()) == {"^"}


@pytest.mark.parametrize("body, kind", [
    ({"expression": "x'*A*x", "wrt": "y"}, "unknown name"),  # a wrt the expression does not use
    ({"expression": "foo(x)", "wrt": "x"}, "unknown name"),
    ({"expression": "tr(x)", "wrt": "x", "kinds": {"x": "vector"}}, "kind error"),
    ({"expression": "x", "wrt": "x", "kinds": {"x": "tensor"}}, "kind error"),
    ({"expression": "x1 + x1", "wrt": ["x1", "x1"]}, "unknown name"),
    ({"expression": "(" * 150 + "x" + ")" * 150, "wrt": "x"}, "limit"),
])
def test_ricci_errors_are_422_with_their_kind(client, body, kind):
    r = client.post("/api/derivative", json=body)
    if kind is None:
        assert r.status_code == 200 and r.json()["text"] == ricci.derivative(**body).text
    else:
        assert error_of(r)["kind"] == kind


@pytest.mark.parametrize("body, where", [
    ({"expression": "x", "wrt": "x", "order": 0}, "order"),
    ({"expression": "x", "wrt": "x", "order": 7}, "order"),
    ({"expression": "x", "wrt": "x", "order": "2"}, "order"),
    ({"expression": "x", "wrt": "x", "colour": "red"}, "colour"),
    ({"expression": "x"}, "wrt"),
    ({"expression": "x" * 10_001, "wrt": "x"}, "expression"),
    ({"expression": "x", "wrt": []}, "wrt"),
    ({"expression": "x", "wrt": "x", "kinds": {"x": 3}}, "kinds"),
    ({"expression": "x", "wrt": "x", "include": ["everything"]}, "include"),
    ([1, 2, 3], "body"),
])
def test_invalid_requests_are_422_with_the_field(client, body, where):
    e = error_of(client.post("/api/derivative", json=body))
    assert e["kind"] == "bad request"
    assert where in e["message"]


def test_malformed_json_and_wrong_content_type(client):
    e = error_of(client.post("/api/derivative", content=b"{not json", headers={"Content-Type": "application/json"}), 400)
    assert e["kind"] == "bad request"
    e = error_of(client.post("/api/derivative", content=b'{"expression": "x", "wrt": "x"}',
                             headers={"Content-Type": "text/plain"}), 415)
    assert "JSON" in e["message"]
    e = error_of(client.post("/api/derivative", content=b'{"expression": "x", "wrt": "x"}'), 415)


def test_request_size_limit(client):
    e = error_of(client.post("/api/derivative", json={"expression": "x" * 70_000, "wrt": "x"}), 413)
    assert e["kind"] == "too large"

    def chunks():  # no Content-Length: the body is counted as it arrives
        for _ in range(20):
            yield b"x" * 8192

    e = error_of(client.post("/api/derivative", content=chunks(), headers={"Content-Type": "application/json"}), 413)


def test_unknown_paths_and_methods(client):
    assert error_of(client.get("/api/nothing"), 404)["kind"] == "not found"
    assert error_of(client.get("/api/derivative"), 405)["kind"] == "method not allowed"
    assert error_of(client.get("/static/../app.py"), 404)
    assert error_of(client.get("/static/app.py"), 404)


def test_the_host_header_must_name_this_machine(client):
    e = error_of(client.get("/", headers={"Host": "evil.example"}), 400)
    assert e["kind"] == "bad host"
    assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8000"}).status_code == 200


# -- the other endpoints ------------------------------------------------------------------------------
def test_parse(client):
    body = client.post("/api/parse", json={"expression": "norm2(y - Phi*theta)^2"}).json()
    assert body["text"] == ricci.parse("norm2(y - Phi*theta)^2").text
    assert body["kinds"]["Phi"]["kind"] == "matrix" and body["kinds"]["theta"]["kind"] == "vector"
    assert body["default_wrt"] == "theta" and body["shape"] == []
    body = client.post("/api/parse", json={"expression": "x1^2 - x2^2"}).json()
    assert body["scalars"] == ["x1", "x2"]
    assert error_of(client.post("/api/parse", json={"expression": "x +"}))["kind"] == "syntax error"


def test_evaluate_the_function_and_its_derivative(client):
    values = {"x": [1, 2], "A": [[1, 2], [3, 4]]}
    body = client.post("/api/evaluate", json={"expression": "x'*A*x", "values": values}).json()
    assert body == {"value": 27.0, "shape": []}
    body = client.post("/api/evaluate", json={"expression": "x'*A*x", "values": values, "wrt": "x"}).json()
    x, A = np.array(values["x"]), np.array(values["A"])
    assert body["shape"] == [2]
    np.testing.assert_allclose(body["value"], x @ (A + A.T))
    body = client.post("/api/evaluate", json={"expression": "A*x", "values": values}).json()
    assert body == {"value": [5.0, 11.0], "shape": [2]}


@pytest.mark.parametrize("values, kind", [
    ({"x": [1, 2], "A": [[1, 2, 3], [3, 4]]}, "bad value"),          # ragged
    ({"x": [1, 2, 3], "A": [[1, 2], [3, 4]]}, "shape error"),         # sizes disagree
    ({"x": [1, 2]}, "unknown name"),                                   # A has no value
])
def test_evaluate_errors(client, values, kind):
    assert error_of(client.post("/api/evaluate", json={"expression": "x'*A*x", "values": values}))["kind"] == kind


def test_evaluate_rejects_non_finite_numbers(client):
    r = client.post("/api/evaluate", content=b'{"expression": "x", "values": {"x": NaN}}',
                    headers={"Content-Type": "application/json"})
    assert error_of(r)["kind"] == "bad request"
    e = error_of(client.post("/api/evaluate", json={"expression": "exp(t)", "values": {"t": 1000}}))
    assert e["kind"] == "bad value"


def test_compare(client):
    request = {"expression": "x'*A*x", "wrt": "x", "answer": "2*x'*A"}
    body = client.post("/api/compare", json={**request, "kinds": {"A": "symmetric matrix"}}).json()
    assert body["verdict"] == "equal" and body["right_answer"] == "2*x'*A"
    body = client.post("/api/compare", json=request).json()
    assert body["verdict"] == "slip" and body["kind_of_slip"] == "assumed symmetric"
    assert body["text"].startswith("slip")
    body = client.post("/api/compare", json={**request, "answer": "2*x'*"}).json()
    assert body["verdict"] == "invalid"
    e = error_of(client.post("/api/compare", json={**request, "expression": "x'*A*"}))
    assert e["kind"] == "syntax error" and e["field"] == "expression"


def test_plot(client, features):
    request = {"expression": "x1^2 - x2^2", "wrt": ["x1", "x2"]}
    r = client.post("/api/plot", json=request)
    if not features["plot"]:
        assert error_of(r)["kind"] == "missing dependency"
        return
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG\r\n\x1a\n")
    r = client.post("/api/plot", json={**request, "format": "svg"})
    assert r.headers["content-type"].startswith("image/svg+xml") and b"<svg" in r.content[:1000]
    r = client.post("/api/plot", json={"expression": "sin(t)", "wrt": "t", "kinds": {"t": "scalar"}, "at": 1.0})
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    assert error_of(client.post("/api/plot", json={"expression": "A*x", "wrt": "x"}))["kind"] == "shape error"


def test_health_and_examples(client):
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["version"] == ricci.__version__
    # the fast lane (wait 3 + budget 1 + grace 0.5), then the slow one (wait 5 + budget 6 + grace 1)
    assert body["limits"]["request_budget_s"] == 3.0 + 1.0 + 0.5 + 5.0 + 6.0 + 1.0
    assert set(body["features"]) == {"mathml", "steps", "check", "code", "analysis", "plot", "compare"}
    examples = client.get("/api/examples").json()
    assert [e["expression"] for e in examples] == [e.expression for e in EXAMPLES]


def test_openapi_schema_documents_every_endpoint(client):
    schema = client.get("/openapi.json").json()
    for path in ("/api/derivative", "/api/evaluate", "/api/compare", "/api/plot", "/api/parse"):
        assert "post" in schema["paths"][path]
        assert "422" in schema["paths"][path]["post"]["responses"]
    assert "/api/health" in schema["paths"]
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN


# -- the page and its files ---------------------------------------------------------------------------
def test_security_headers_everywhere(client):
    for r in (client.get("/"), client.get("/static/app.js"),
              client.post("/api/parse", json={"expression": "x"}), client.get("/nothing")):
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP and "default-src 'none'" in CSP


def test_the_page_is_self_contained(client):
    html = client.get("/").text
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/app.js" defer>']
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"<[^>]+\son[a-z]+=", html)  # no inline event handlers
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing from elsewhere
    for name, ctype in (("app.js", "text/javascript"), ("style.css", "text/css"), ("favicon.svg", "image/svg+xml")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(ctype)
        assert "http://" not in r.text.replace("http://www.w3.org/", "") and "https://" not in r.text
    script = client.get("/static/app.js").text
    assert "innerHTML" not in script and "eval(" not in script and "new Function" not in script


def test_the_page_is_filled_from_the_query_string(client):
    html = client.get("/", params={"expr": "x'*A*x", "wrt": "x", "order": "2", "answer": "A + A'"}).text
    assert 'value="x&#x27;*A*x"' in html
    assert '<option value="x" selected>x</option>' in html
    assert 'id="order" name="order" type="number" min="1" max="6" value="2"' in html
    assert 'value="A + A&#x27;"' in html


def test_the_page_escapes_what_it_is_given(client):
    html = client.get("/", params={"expr": '"><script>alert(1)</script>', "wrt": "<b>", "order": "9"}).text
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # an order out of range is shown as given (the page's script refuses it in words), not replaced by 1
    assert "<b>" not in html and 'type="number" min="1" max="6" value="9"' in html


# -- time and memory limits ----------------------------------------------------------------------------
def test_a_runaway_derivation_is_stopped_and_its_worker_replaced():
    app = create_app(Settings(workers=1, time_budget=1.0, grace=0.5, queue_wait=30.0))
    with TestClient(app, base_url=BASE) as c:
        pool = app.state.runner.pool
        before = pool.pids
        e = error_of(c.post("/api/derivative", json={"expression": RUNAWAY, "wrt": "t", "order": 6, "include": []}))
        assert e["kind"] == "limit"
        # ricci's own cooperative time limit stops the derivation and keeps the worker; when the
        # machine is so loaded that it does not unwind within the grace period, the pool kills the
        # worker and starts another.  Either way at most one worker is replaced (no wall-clock
        # assertion: which of the two happens depends on the machine's load).
        replaced = pool.replaced
        assert replaced in (0, 1)
        # the server answers at once
        assert c.post("/api/derivative", json={"expression": "x'*A*x", "wrt": "x", "include": []}).json()["text"] \
            == "x'*(A + A')"
        assert (pool.pids == before) == (replaced == 0)
        # an answer where time ran out is not cached (on a busy machine it says more about the
        # load than about the request): the same request is computed, and stopped, again
        runner = app.state.runner
        assert not any(RUNAWAY in k for k in runner._cache)
        e = error_of(c.post("/api/derivative", json={"expression": RUNAWAY, "wrt": "t", "order": 6, "include": []}))
        assert e["kind"] == "limit" and pool.replaced - replaced in (0, 1)


def test_pool_timeout_memory_and_busy():
    with P.WorkerPool(size=1, memory_mb=384, queue_wait=0.2, grace=0.5) as pool:
        first = pool.pids
        assert pool.run(divmod, (7, 2), timeout=5) == P.Outcome(P.OK, (3, 1))
        out = pool.run(time.sleep, (60,), timeout=0.5)
        assert out.status == P.TIMEOUT and pool.replaced == 1
        out = pool.run(bytearray, (2**31,), timeout=20)
        assert out.status == P.MEMORY and pool.replaced == 2
        out = pool.run(int, ("not a number",), timeout=20)
        assert out.status == P.CRASH and "ValueError" in out.detail and pool.replaced == 3
        assert pool.run(divmod, (9, 4), timeout=20).value == (2, 1)
        assert pool.pids != first and len(pool.pids) == 1
        # one worker, busy for a while: a second job waits queue_wait, then is refused
        started = threading.Event()

        def hold():
            started.set()
            pool.run(time.sleep, (3,), timeout=10)

        t = threading.Thread(target=hold)
        t.start()
        started.wait()
        while pool._idle.qsize():  # the holder has taken the worker
            time.sleep(0.01)
        assert pool.run(divmod, (1, 1), timeout=5).status == P.BUSY
        t.join()


def test_pool_sets_the_kernel_limits_of_each_job():
    # a second line of defence: RLIMIT_CPU ends a job that spins past its budget even if the
    # server failed to; RLIMIT_AS bounds the worker's memory
    import resource

    with P.WorkerPool(size=1, memory_mb=512, grace=0.5) as pool:
        soft, _ = pool.run(resource.getrlimit, (resource.RLIMIT_CPU,), timeout=3.0).value
        used = pool.run(resource.getrusage, (resource.RUSAGE_SELF,), timeout=3.0).value
        assert used.ru_utime + used.ru_stime < soft <= used.ru_utime + used.ru_stime + 3.5 + 1
        cap, hard = pool.run(resource.getrlimit, (resource.RLIMIT_AS,), timeout=3.0).value
        mapped = pool.run(P._mapped, (), timeout=3.0).value  # 512 MB on top of what the worker mapped at its start
        assert cap == hard and 0 < cap - 512 * 2**20 and abs(cap - 512 * 2**20 - mapped) <= 64 * 2**20
        assert pool.run(resource.getrlimit, (resource.RLIMIT_CORE,), timeout=3.0).value == (0, 0)


# -- the runner: cache, single flight, admission --------------------------------------------------------
class FakePool:
    """Counts jobs; each waits for ``gate`` when one is given."""

    size = 1
    idle = 1  # the runner sees a worker free to take a job

    def __init__(self, gate=None):
        self.calls = 0
        self.gate = gate

    def run(self, fn, args, timeout):
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(10)
        return P.Outcome(P.OK, (200, {"echo": args[0]}))

    def close(self):
        pass


def test_runner_joins_identical_requests_and_caches():
    gate = threading.Event()
    fake = FakePool(gate)
    runner = Runner(Settings(max_queue=1), fake)

    async def main():
        tasks = [asyncio.create_task(runner.run("parse", {"expression": "x"})) for _ in range(5)]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*tasks)

    results = asyncio.run(main())
    assert [(r.status, r.json()) for r in results] == [(200, {"echo": {"expression": "x"}})] * 5
    assert fake.calls == 1
    assert asyncio.run(runner.run("parse", {"expression": "x"})) is results[0] and fake.calls == 1
    runner.close()


def test_runner_cache_is_bounded_in_bytes(monkeypatch):
    fake = FakePool()
    runner = Runner(Settings(cache_size=100), fake)
    monkeypatch.setattr(Runner, "CACHE_BYTES", 150)
    for i in range(10):
        asyncio.run(runner.run("parse", {"expression": f"x{i}"}))
    size = len(b'{"echo":{"expression":"x0"}}')  # each reply
    assert runner._cached_bytes == (150 // size) * size and fake.calls == 10
    assert [k for k in runner._cache] == [f'["parse", {{"expression": "x{i}"}}]' for i in range(10 - 150 // size, 10)]
    asyncio.run(runner.run("parse", {"expression": "x9"}))  # the newest is kept
    assert fake.calls == 10
    runner.close()


def test_runner_refuses_work_past_its_queue():
    gate = threading.Event()
    runner = Runner(Settings(max_queue=1), FakePool(gate))  # capacity: 1 worker + 1 waiting

    async def main():
        tasks = [asyncio.create_task(runner.run("parse", {"expression": f"x{i}"})) for i in range(3)]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*tasks)

    statuses = sorted(r.status for r in asyncio.run(main()))
    assert statuses == [200, 200, 429]
    runner.close()


def compute_limit_message() -> str:
    """The message of ricci's own time limit, as a derivation that runs out of time gives it."""
    try:
        ricci.derivative(RUNAWAY, "t", 6, timeout=0.05)
    except ricci.LimitError as e:
        return e.message
    raise AssertionError("the runaway derivation finished")


class ScriptedPool:
    """A pool whose every call answers the next outcome of a script (the fast lane, scripted)."""

    size = 1

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def run(self, fn, args, timeout):
        self.calls.append((fn, args, timeout))
        return self.outcomes.pop(0)

    def close(self):
        pass


def test_the_fast_lane_answers_while_the_slow_lane_is_busy():
    gate = threading.Event()  # the slow worker is held by a long job until the gate opens
    slow = FakePool(gate)
    fast = ScriptedPool(P.Outcome(P.OK, None),  # the long job: out of the fast budget
                        P.Outcome(P.OK, (200, {"answer": "cheap"})))
    runner = Runner(Settings(max_queue=0, fast_budget=0.25), slow, fast)
    assert runner.capacity == 2  # a slow and a fast worker

    async def main():
        long_job = asyncio.create_task(runner.run("derivative", {"expression": "long"}))
        await asyncio.sleep(0.05)  # the long job now holds the slow worker
        cheap = await runner.run("derivative", {"expression": "cheap"})
        gate.set()
        return cheap, await long_job

    cheap, long_job = asyncio.run(main())
    assert (cheap.status, cheap.json()) == (200, {"answer": "cheap"})
    assert (long_job.status, long_job.json()) == (200, {"echo": {"expression": "long"}})
    assert slow.calls == 1  # only the long job reached the slow lane
    assert [c[0] for c in fast.calls] == [compute.fast, compute.fast]
    assert [c[1] for c in fast.calls] == [("derivative", {"expression": "long"}, 0.25),
                                          ("derivative", {"expression": "cheap"}, 0.25)]
    runner.close()


@pytest.mark.parametrize("outcome, goes_on", [
    (P.Outcome(P.OK, (422, {"error": {"kind": "syntax error", "message": "m"}})), False),
    (P.Outcome(P.OK, None), True), (P.Outcome(P.BUSY), True), (P.Outcome(P.TIMEOUT), True),
    (P.Outcome(P.DIED), True), (P.Outcome(P.MEMORY), False), (P.Outcome(P.CRASH, detail="E: x"), False),
])
def test_what_the_fast_lane_hands_on(outcome, goes_on):
    slow = FakePool()
    runner = Runner(Settings(), slow, ScriptedPool(outcome))
    reply = asyncio.run(runner.run("parse", {"expression": "x"}))
    assert slow.calls == (1 if goes_on else 0)
    if goes_on:
        assert reply.json() == {"echo": {"expression": "x"}}
    else:
        assert reply.status == 422
    runner.close()


def test_a_long_line_at_the_fast_lane_goes_straight_to_the_slow_lane(monkeypatch):
    monkeypatch.setattr(Runner, "FAST_QUEUE_PER_WORKER", 1)
    gate = threading.Event()
    fast = FakePool(gate)  # its one worker is held until the gate opens
    slow = FakePool()
    runner = Runner(Settings(), slow, fast)

    async def main():
        first = asyncio.create_task(runner.run("parse", {"expression": "x"}))
        await asyncio.sleep(0.05)  # the first request holds the fast lane
        second = await runner.run("parse", {"expression": "y"})
        gate.set()
        return await first, second

    first, second = asyncio.run(main())
    assert (fast.calls, slow.calls) == (1, 1)
    assert second.json() == {"echo": {"expression": "y"}}  # answered by the slow lane at once
    assert first.json() == {"echo": "parse"}  # the fast lane's job: (job, request, budget)
    runner.close()


@pytest.mark.parametrize("outcome, kept", [
    (P.Outcome(P.OK, (200, {"text": "a'"})), True),
    (P.Outcome(P.OK, (422, {"error": {"kind": "limit", "message": "order 7 is above the limit of 6"}})), True),
    (P.Outcome(P.OK, (422, {"error": {"kind": "limit", "message": compute_limit_message()}})), False),
    (P.Outcome(P.OK, (200, {"text": "a'", "analysis": {"error": {
        "kind": "limit", "message": "analysis: stopped, it took longer than the time budget"}}})), False),
    (P.Outcome(P.TIMEOUT), False), (P.Outcome(P.DIED), False), (P.Outcome(P.BUSY), False),
    (P.Outcome(P.MEMORY), True), (P.Outcome(P.CRASH, detail="E: x"), False),
])
def test_what_the_cache_keeps(outcome, kept):
    slow = ScriptedPool(outcome, outcome)
    runner = Runner(Settings(), slow)
    first = asyncio.run(runner.run("derivative", {"expression": "x"}))
    again = asyncio.run(runner.run("derivative", {"expression": "x"}))
    assert len(slow.calls) == (1 if kept else 2)
    assert (again is first) == kept
    runner.close()


def test_a_given_pool_comes_without_a_fast_lane_and_settings_can_turn_it_off():
    assert Runner(Settings(), FakePool()).fast_pool is None
    runner = Runner(Settings(fast_workers=0))
    assert runner.fast_pool is None and runner.capacity == runner.pool.size + Settings().max_queue
    assert Settings(fast_workers=0).request_budget == Settings().queue_wait + Settings().time_budget + Settings().grace
    s = Settings()
    assert s.request_budget == s.fast_wait + s.fast_budget + s.fast_grace + s.queue_wait + s.time_budget + s.grace
    runner = Runner(Settings(fast_workers=2))
    assert runner.fast_pool.size == 2 and runner.capacity == runner.pool.size + 2 + Settings().max_queue


def test_the_fast_job_gives_up_only_when_out_of_time():
    # a limit refused at once is the answer ...
    status, body = compute.fast("derivative", {"expression": "x", "wrt": "x", "order": 7, "include": []}, 5.0)
    assert status == 422 and body["error"]["kind"] == "limit" and "order 7" in body["error"]["message"]
    # ... a cheap derivative is answered (the budget ample: on a loaded CI machine the first
    # derivation of a process, its imports included, once took more than 5 s) ...
    status, body = compute.fast("derivative", {"expression": "x'*A*x", "wrt": "x", "include": []}, 60.0)
    assert status == 200 and body["text"] == "x'*(A + A')"
    # ... and a derivation that runs out of the budget is handed on (None)
    assert compute.fast("derivative", {"expression": RUNAWAY, "wrt": "t", "order": 6, "include": []}, 0.3) is None


def test_a_cheap_request_is_answered_by_the_fast_lane_of_a_real_server():
    app = create_app(Settings(workers=1, fast_workers=1, time_budget=3.0, grace=0.5, fast_budget=2.0))
    with TestClient(app, base_url=BASE) as c:
        health = c.get("/api/health").json()
        assert health["workers"] == 1 and health["fast_workers"] == 1
        assert health["limits"]["fast_budget_s"] == 2.0
        r = c.post("/api/derivative", json={"expression": "x'*B*x", "wrt": "x", "include": []})
        assert r.status_code == 200 and r.json()["text"] == "x'*(B + B')"
        runner = app.state.runner
        # /api/health's features and the derivative: both answered in the fast lane
        assert (runner.fast_pool.replies, runner.pool.replies) == (2, 0)
        assert runner.fast_pool.replaced == 0 and runner.pool.replaced == 0


@pytest.mark.parametrize("outcome, status, kind", [
    (P.Outcome(P.TIMEOUT), 422, "limit"), (P.Outcome(P.DIED), 422, "limit"),
    (P.Outcome(P.MEMORY), 422, "limit"), (P.Outcome(P.CRASH, detail="TypeError: x"), 422, "internal error"),
    (P.Outcome(P.BUSY, detail="waited"), 429, "busy"),
])
def test_runner_maps_outcomes_to_4xx(outcome, status, kind):
    runner = Runner(Settings(), FakePool())
    got_status, body = runner._map("derivative", outcome)
    assert (got_status, body["error"]["kind"]) == (status, kind)
    runner.close()


# -- the job adapters: feature detection ----------------------------------------------------------------
class Report:
    passed = False
    max_relative_error = 0.25

    def __str__(self):
        return "checked numerically: max relative error 0.25 over 3 random points"


class FakeDerivative:
    """A Derivative with some parts missing or failing."""

    steps = ("differentiate", "simplify")

    def check(self):
        return Report()

    def analyse(self):
        raise RuntimeError("not today")


def test_adapters_read_what_is_there():
    d = FakeDerivative()
    check = compute._check(d)
    assert check == {"passed": False, "max_relative_error": 0.25,
                     "text": "checked numerically: max relative error 0.25 over 3 random points"}
    steps = compute._steps(d)
    assert [s["title"] for s in steps["items"]] == ["differentiate", "simplify"]
    assert [s["number"] for s in steps["items"]] == ["1", "2"]
    assert compute._code(d) is None  # no .code: no code section
    assert compute._mathml(d) is None or isinstance(compute._mathml(d), str)
    failed = compute._part("analysis", lambda left: compute._analysis(type("D", (FakeDerivative,), {
        "expression": ricci.parse("x'*x")})()), time.monotonic() + 5)
    assert failed == {"error": {"kind": "unavailable", "message": "analysis failed: RuntimeError: not today"}}
    spent = compute._part("steps", lambda left: 1, time.monotonic() - 1)
    assert spent["error"]["kind"] == "limit"


def test_plot_plan_only_for_scalar_functions_of_one_or_two_scalars():
    plan = compute.plot_plan
    has = compute.features()["plot"]
    assert plan(ricci.parse("x1^2 - x2^2")) == ({"wrt": ["x1", "x2"]} if has else None)
    assert plan(ricci.parse("sin(t)", {"t": "scalar"})) == ({"wrt": "t"} if has else None)
    assert plan(ricci.parse("x'*A*x")) is None
    assert plan(ricci.parse("[t; t]", {"t": "scalar"})) is None
    assert plan(ricci.parse("a*b*c")) is None


def test_plain_makes_json():
    assert compute.plain({"a": np.array([1.0, np.inf]), "b": (np.float64(2), float("nan")), 3: {1}}) == \
        {"a": [1.0, None], "b": [2.0, None], "3": "{1}"}


# -- ricci serve ----------------------------------------------------------------------------------------
def test_binding_anywhere_but_loopback_warns():
    from ricci.web.command import allowed_hosts, bind_warning

    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert bind_warning(host) is None
    for host in ("0.0.0.0", "192.168.1.5", "::"):
        assert "other machines" in bind_warning(host)
    assert allowed_hosts("0.0.0.0", []) == ("*",)
    assert allowed_hosts("192.168.1.5", ["Ricci.lan"]) == ("127.0.0.1", "localhost", "::1", "192.168.1.5", "ricci.lan")


def test_serve_command_hands_its_settings_to_uvicorn(monkeypatch, capsys):
    import uvicorn

    from ricci import cli

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "8123", "--workers", "3", "--time-budget", "2"]) == 0
    err = capsys.readouterr().err
    assert "warning: ricci serve is bound to 0.0.0.0" in err and "http://0.0.0.0:8123/" in err
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 8123)
    s = seen["app"].state.settings
    assert (s.workers, s.time_budget, s.allowed_hosts) == (3, 2.0, ("*",))
    assert (s.fast_workers, s.fast_budget) == (Settings().fast_workers, 1.0)
    assert cli.main(["serve", "--fast-workers", "0"]) == 0
    assert seen["app"].state.settings.fast_workers == 0 and seen["app"].state.runner.fast_pool is None
    assert cli.main(["serve", "--fast-workers", "2", "--fast-budget", "0.2"]) == 0
    s = seen["app"].state.settings
    assert (s.fast_workers, s.fast_budget) == (2, 0.2)
    assert cli.main(["serve"]) == 0
    assert "warning" not in capsys.readouterr().err and seen["host"] == "127.0.0.1" and seen["port"] == 8000


@pytest.mark.parametrize("args, message", [
    (["--port", "0"], "--port must be from 1 to 65535"),
    (["--workers", "0"], "--workers must be from 1 to 64"),
    (["--time-budget", "-1"], "--time-budget must be more than 0"),
    (["--memory-mb", "10"], "--memory-mb must be at least 256"),
    (["--fast-workers", "-1"], "--fast-workers must be from 0 to 64"),
    (["--fast-budget", "0"], "--fast-budget must be more than 0 and at most --time-budget"),
    (["--fast-budget", "6", "--time-budget", "5"], "--fast-budget must be more than 0 and at most --time-budget (5 s)"),
])
def test_serve_command_refuses_bad_options(args, message, capsys):
    from ricci import cli

    assert cli.main(["serve", *args]) == 2
    assert message in capsys.readouterr().err


def test_serve_command_without_fastapi(monkeypatch, capsys):
    from ricci import cli

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert cli.main(["serve"]) == 2
    assert 'pip install "ricci[web]"' in capsys.readouterr().err


def test_ricci_serve_answers_on_127_0_0_1():
    from webtools import get_json, ricci_server

    with ricci_server("--workers", "1") as url:
        assert url.startswith("http://127.0.0.1:")
        health = get_json(f"{url}/api/health")
        assert health["status"] == "ok" and health["workers"] == 1
        req = urllib.request.Request(f"{url}/api/derivative", method="POST",
                                     data=json.dumps({"expression": "x'*A*x", "wrt": "x", "include": []}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert json.loads(r.read())["text"] == "x'*(A + A')"
        with urllib.request.urlopen(f"{url}/?expr=x", timeout=30) as r:
            assert r.headers["Content-Security-Policy"] == CSP and b'id="expr"' in r.read()
