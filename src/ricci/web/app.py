# Over 600 lines: its layers (guard, triage, lanes, routes) wrap one FastAPI app; read outside in.
"""The FastAPI application: the page, its two static files, and the JSON API.

Layers, outside in:

1. :class:`Guard` (plain ASGI middleware): the Host header must name this server (no DNS
   rebinding), a request body is at most ``max_body`` bytes (413), API posts must be JSON (415),
   and every response carries a strict Content-Security-Policy and friends;
2. the routes: ``GET /`` renders the page (:mod:`.page`), ``GET /static/…`` serves ``app.js``
   and ``style.css``, ``/api/…`` validates the request (:mod:`.schemas`) and hands it to
3. the :class:`Runner`: answers from a small cache, joins identical requests in flight, refuses
   work past its queue (429), and runs the job (:mod:`.compute`) in the :class:`~.pool.WorkerPool`
   under the time budget and the memory limit.

Every error is JSON of one shape, ``{"error": {"kind", "message", …}}`` (see
:class:`.schemas.ErrorResponse`), with a 4xx status.  No user text is evaluated as code anywhere:
it goes to ricci's parser, inside a worker.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections import Counter, OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import compute, page
from . import pool as P
from .schemas import (
    BAD_VALUE,
    CompareRequest,
    CompareResponse,
    DerivativeRequest,
    DerivativeResponse,
    ErrorResponse,
    EvaluateRequest,
    EvaluateResponse,
    HealthResponse,
    ParseRequest,
    ParseResponse,
    PlotRequest,
)

log = logging.getLogger("ricci.web")

#: The Content-Security-Policy of every response: nothing from elsewhere, no inline script or style.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Settings:
    """The server's limits.  ``time_budget``: seconds of computation per request (a worker that
    overruns by ``grace`` is killed); ``queue_wait``: seconds a request may wait for a worker;
    ``max_queue``: distinct requests waiting at most; ``memory_mb``: address space per worker
    (on top of what it maps at its start); ``max_body``: bytes per request body;
    ``allowed_hosts``: Host names accepted (``"*"``: any).

    The fast lane: ``fast_workers`` more workers (0: none) try every request first within
    ``fast_budget`` seconds, waiting at most ``fast_wait`` for one of them; what does not finish
    there goes on to the ``workers`` with the full ``time_budget``.  Most requests take
    milliseconds, so they are answered at once even while every slow worker is busy with a
    derivation that will run out its budget.  The slow workers run at a lower CPU priority
    (``slow_nice`` added to their nice value), so that a runaway derivation takes only the CPU
    the cheap requests leave.  Plots skip the fast lane (they take about a second): they go to
    the slow workers at once, and wait up to ``plot_wait`` seconds for one (a user's plot waits
    its turn behind the others rather than being refused).

    Triage: while the fast lane is busy, a request is first parsed by the ``triage`` worker (one
    process, waiting at most ``triage_wait`` for it, within ``triage_budget`` seconds), so that a
    request that can be refused at once (a syntax error, an unknown name, too deep) is refused at
    once instead of waiting for a worker.

    ``body_timeout``: seconds a request's body may take to arrive (408 past it)."""

    workers: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    time_budget: float = 5.0
    grace: float = 2.0
    queue_wait: float = 5.0
    max_queue: int = 64
    memory_mb: int = 1024
    max_body: int = 64 * 1024
    cache_size: int = 256
    allowed_hosts: tuple = LOCAL_HOSTS
    fast_workers: int = field(default_factory=lambda: max(1, min(2, os.cpu_count() or 1)))
    fast_budget: float = 1.0
    fast_wait: float = 3.0
    fast_grace: float = 0.5
    slow_nice: int = 10
    plot_wait: float = 15.0
    triage: bool = True
    triage_wait: float = 2.0
    triage_budget: float = 2.0
    body_timeout: float = 5.0

    @property
    def fast_request_budget(self) -> float:
        """The longest a request can spend in the fast lane before it goes on to the slow one."""
        return self.fast_wait + self.fast_budget + self.fast_grace if self.fast_workers else 0.0

    @property
    def request_budget(self) -> float:
        """The longest any request but a plot can take: the fast lane, waiting for a worker, its
        computation."""
        return self.fast_request_budget + self.queue_wait + self.time_budget + self.grace

    @property
    def plot_request_budget(self) -> float:
        """The longest a plot can take: the triage, waiting for a slow worker, its computation."""
        return self.triage_wait + self.triage_budget + self.fast_grace + self.plot_wait + self.time_budget + self.grace


# -- errors -----------------------------------------------------------------------------------------
def error_response(status: int, kind: str, message: str, headers: dict | None = None, **extra) -> JSONResponse:
    body = compute.error_body(kind, message)
    body["error"].update(extra)
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(errors) -> tuple[str, list]:
    details = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ()) if x != "body"]
        details.append({"loc": loc, "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))})
    parts = [f"{'.'.join(d['loc']) or 'body'}: {d['msg']}" for d in details[:3]]
    more = f" (and {len(details) - 3} more)" if len(details) > 3 else ""
    return "; ".join(parts) + more, details


# -- the guard --------------------------------------------------------------------------------------
def json_problem(body: bytes) -> str | None:
    """What is wrong with a request body that should be JSON, in words (None: nothing): not
    UTF-8, not JSON (where, by line and column), or nested too deeply to read."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        return (f"the request body is not UTF-8 text: byte {e.start + 1} (0x{body[e.start]:02x}) "
                "cannot start or continue a character; send JSON encoded as UTF-8")
    try:
        json.loads(text)
    except RecursionError:
        return ("the request body nests arrays or objects too deeply to read; a request needs "
                "at most four levels (a matrix in values)")
    except json.JSONDecodeError as e:
        if not text[e.pos:].strip():
            return "the request body is not valid JSON: it ends before the JSON is complete"
        return (f"the request body is not valid JSON: {e.msg[0].lower()}{e.msg[1:]} "
                f"at line {e.lineno}, column {e.colno}")
    return None


class Guard:
    """Host check, body-size limit, body deadline, JSON-only API posts that are JSON, security
    headers (plain ASGI)."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.max_body = settings.max_body
        self.body_timeout = settings.body_timeout
        self.hosts = None if "*" in settings.allowed_hosts else {h.lower() for h in settings.allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secure_send(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in {h for h, _ in SECURITY_HEADERS}]
                message = dict(message, headers=headers + SECURITY_HEADERS)
            await send(message)

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refuse(scope, headers)
        if refusal is None and scope["method"] in ("POST", "PUT", "PATCH"):
            body, refusal = await self._read_body(receive, headers)
            if refusal is None and scope["path"].startswith("/api/"):
                problem = json_problem(body)
                if problem is not None:
                    refusal = error_response(400, "bad request", problem)
            if refusal is None:
                receive = _replay(body, receive)
        if refusal is not None:
            await refusal(scope, receive, secure_send)
            return
        await self.app(scope, receive, secure_send)

    def _refuse(self, scope, headers) -> Response | None:
        if self.hosts is not None:
            host = _hostname(headers.get("host", ""))
            if host not in self.hosts:
                return error_response(400, "bad host", "this server answers only to "
                                      + ", ".join(sorted(self.hosts)) + " (the Host header names another)")
        if scope["method"] == "POST" and scope["path"].startswith("/api/"):
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                return error_response(415, "unsupported media type",
                                      "send the request as JSON (Content-Type: application/json)")
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return error_response(400, "bad request", "the Content-Length header is not a number")
            if int(length) > self.max_body:
                return self._too_large()
        return None

    def _too_large(self) -> Response:
        return error_response(413, "too large", f"the request body is over the limit of {self.max_body:,} bytes")

    async def _read_body(self, receive, headers) -> tuple[bytes, Response | None]:
        chunks, size = [], 0
        deadline = asyncio.get_running_loop().time() + self.body_timeout
        while True:
            # a body that does not arrive would hold its connection (and a task) forever
            left = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), max(left, 0.0))
            except TimeoutError:
                return b"", error_response(
                    408, "request timeout", f"the request body did not arrive within {self.body_timeout:g} s",
                    headers={"Connection": "close"})
            if message["type"] == "http.disconnect":
                return b"", error_response(400, "bad request", "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _replay(body: bytes, receive):
    """The body already read, then whatever the connection says next (a disconnect)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


# -- running jobs -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    """A finished answer: status, body bytes (JSON, or an image) and media type; cached as is."""

    status: int
    body: bytes
    media_type: str = "application/json"

    @classmethod
    def of(cls, status: int, body, media_type: str = "application/json") -> Reply:
        if isinstance(body, bytes):
            return cls(status, body, media_type)
        try:
            data = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError):  # pragma: no cover - compute.plain should make this impossible
            data = json.dumps(compute.plain(body), ensure_ascii=False, separators=(",", ":"))
        return cls(status, data.encode(), "application/json")

    def json(self):
        return json.loads(self.body)


class Runner:
    """Cache, single flight, admission, triage and lanes around the worker pools.

    The cache holds at most ``settings.cache_size`` answers and ``CACHE_BYTES`` bytes in all;
    an answer over ``CACHE_ENTRY_BYTES`` is not kept, nor one where time ran out or a part failed
    for a reason other than the input (:func:`.compute.cacheable`)."""

    CACHE_BYTES = 64 * 2**20
    CACHE_ENTRY_BYTES = 4 * 2**20
    #: requests in the fast lane (running or waiting) per fast worker past which a request goes
    #: to the slow lane instead, when one of its workers is idle
    FAST_QUEUE_PER_WORKER = 3
    #: a request waits for a fast worker in slices of this many seconds, looking between two for
    #: an idle slow worker (a cheap request waits for the fast lane rather than queue behind a
    #: runaway in the slow one, unless a slow worker is free)
    FAST_SLICE = 0.25
    #: jobs that skip the fast lane: they take longer than its budget whatever the input
    SLOW_JOBS = frozenset({"plot"})

    def __init__(self, settings: Settings, pool: P.WorkerPool | None = None,
                 fast_pool: P.WorkerPool | None = None, triage_pool: P.WorkerPool | None = None):
        self.settings = settings
        own = pool is None
        self.pool = pool or P.WorkerPool(settings.workers, settings.memory_mb, settings.queue_wait,
                                         settings.grace, warm=compute.import_heavy, nice=settings.slow_nice)
        if fast_pool is None and own and settings.fast_workers:
            fast_pool = P.WorkerPool(settings.fast_workers, settings.memory_mb,
                                     min(settings.fast_wait, self.FAST_SLICE), settings.fast_grace,
                                     warm=compute.import_heavy)
        if triage_pool is None and own and settings.triage:
            triage_pool = P.WorkerPool(1, settings.memory_mb, settings.triage_wait, settings.fast_grace,
                                       warm=compute.import_heavy)
        #: the fast lane (None: every request goes to ``pool``) and the triage worker (None: no
        #: triage); a given ``pool`` comes without them unless they are given too (tests share one)
        self.fast_pool = fast_pool
        self.triage_pool = triage_pool
        self.capacity = self.pool.size + (fast_pool.size if fast_pool else 0) + settings.max_queue
        self._executor: ThreadPoolExecutor | None = None
        self._cache: OrderedDict[str, Reply] = OrderedDict()
        self._cached_bytes = 0
        self._inflight: dict = {}
        self._fast_queue = 0
        self._lock = threading.Lock()
        self.features: dict | None = None
        #: how the computed requests were answered (``GET /api/health``'s ``lanes``): by the
        #: triage, the fast lane, or the slow lane after the fast lane's budget ran out, after
        #: the fast lane was busy, or at once (a plot)
        self.lanes: Counter = Counter()

    @property
    def pools(self) -> list:
        return [p for p in (self.pool, self.fast_pool, self.triage_pool) if p is not None]

    def close(self) -> None:
        """Stop the workers (the server's shutdown); a later request starts them again."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        for p in self.pools:
            p.close()

    def start(self) -> None:
        """Start the workers of every lane (the server's start-up)."""
        for p in self.pools:
            p.start()

    async def run(self, job: str, request: dict, media_type: str = "application/json") -> Reply:
        key = json.dumps([job, request], sort_keys=True)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            future = self._inflight.get(key)
            if future is None:
                if len(self._inflight) >= self.capacity:
                    return Reply.of(429, compute.error_body("busy", "the server is busy; try again in a moment"))
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(max_workers=self.capacity, thread_name_prefix="ricci-web")
                future = self._executor.submit(self._run, job, request, key, media_type)
                self._inflight[key] = future
        return await asyncio.wrap_future(future)

    def _triage(self, job: str, request: dict) -> P.Outcome | None:
        """The triage worker's answer when the request can be refused at once (or is a parse),
        else None (also when the triage worker is busy or stopped: the request is computed)."""
        if self.triage_pool is None or job == "features":
            return None
        outcome = self.triage_pool.run(compute.triage, (job, request, self.settings.triage_budget),
                                       timeout=self.settings.triage_budget)
        return outcome if outcome.status == P.OK and outcome.value is not None else None

    def _fast(self, job: str, request: dict) -> tuple[P.Outcome | None, bool]:
        """The fast lane's outcome, or None when the request must go on to the slow lane (the
        fast workers were busy, it ran out of the fast budget, or its worker stopped); and
        whether the fast lane read the request (so a refusal would have been found there)."""
        if self.fast_pool is None or job in self.SLOW_JOBS:
            return None, False
        with self._lock:  # a long line at the fast lane: an idle slow worker answers sooner
            if (self._fast_queue >= self.FAST_QUEUE_PER_WORKER * self.fast_pool.size
                    and getattr(self.pool, "idle", 0)):
                return None, False
            self._fast_queue += 1
        budget = self.settings.fast_budget
        deadline = time.monotonic() + self.settings.fast_wait
        try:
            while True:
                outcome = self.fast_pool.run(compute.fast, (job, request, budget), timeout=budget)
                if outcome.status != P.BUSY or getattr(self.pool, "idle", 0) or time.monotonic() >= deadline:
                    break
        finally:
            with self._lock:
                self._fast_queue -= 1
        if outcome.status == P.OK and outcome.value is not None:
            return outcome, True
        if outcome.status in (P.MEMORY, P.CRASH):  # the slow lane has the same memory and code
            return outcome, True
        # out of the fast budget: it was read; BUSY, TIMEOUT, DIED: perhaps not
        return None, outcome.status == P.OK

    def _count(self, lane: str) -> None:
        with self._lock:
            self.lanes[lane] += 1

    def _lanes(self, job: str, request: dict) -> P.Outcome:
        """Triage while the fast lane cannot take the request at once; the fast lane; the slow."""
        triaged = False
        if not getattr(self.fast_pool, "idle", 0) or job in self.SLOW_JOBS:
            refusal, triaged = self._triage(job, request), True
            if refusal is not None:
                self._count("triage")
                return refusal
        outcome, read = self._fast(job, request)
        if outcome is not None:
            self._count("fast")
            return outcome
        if not (read or triaged):  # it waited for the fast lane in vain: refuse it now if it can be
            refusal = self._triage(job, request)
            if refusal is not None:
                self._count("triage")
                return refusal
        self._count("slow: " + ("at once" if self.fast_pool is None or job in self.SLOW_JOBS
                                else "out of the fast budget" if read else "the fast lane was busy"))
        budget = self.settings.time_budget
        if job in self.SLOW_JOBS:
            return self.pool.run(compute.JOBS[job], (request, budget), timeout=budget, wait=self.settings.plot_wait)
        return self.pool.run(compute.JOBS[job], (request, budget), timeout=budget)

    def _run(self, job: str, request: dict, key: str, media_type: str) -> Reply:
        try:
            outcome = self._lanes(job, request)
            reply = Reply.of(*self._map(job, outcome), media_type)
            # The same request gets the same answer, but not when time ran out (in the whole job
            # or in one of its parts): on a busy machine that says more about the load than
            # about the request; nor when it, or a part of it, failed for a reason other than the
            # input (ricci crashed, a plot failed); nor for a busy server or a worker that died.
            cache = (outcome.status == P.MEMORY
                     or (outcome.status == P.OK and compute.cacheable(outcome.value)))
        except Exception as e:  # pragma: no cover - the pool failing to start a worker
            log.exception("ricci web: running a job failed")
            reply, cache = Reply.of(503, compute.error_body("unavailable", f"no worker could run this: {e}")), False
        with self._lock:
            self._inflight.pop(key, None)
            if cache and len(reply.body) <= self.CACHE_ENTRY_BYTES:
                self._cache[key] = reply
                self._cached_bytes += len(reply.body)
                while len(self._cache) > self.settings.cache_size or self._cached_bytes > self.CACHE_BYTES:
                    self._cached_bytes -= len(self._cache.popitem(last=False)[1].body)
        return reply

    def _map(self, job: str, o: P.Outcome) -> tuple[int, object]:
        s = self.settings
        if o.status == P.OK:
            return o.value
        if o.status == P.BUSY:
            return 429, compute.error_body("busy", f"the server is busy ({o.detail}); try again in a moment")
        if o.status in (P.TIMEOUT, P.DIED):
            return 422, compute.error_body(
                "limit", f"the computation was stopped: it took longer than its time budget of "
                         f"{s.time_budget:g} s (or hit a CPU limit)", field="expression")
        if o.status == P.MEMORY:
            return 422, compute.error_body(
                "limit", f"the computation was stopped: it needed more than {s.memory_mb} MB of memory",
                field="expression")
        log.warning("ricci web: %s failed inside ricci: %s", job, o.detail)
        return 422, compute.error_body(
            "internal error", f"ricci could not handle this input ({o.detail}); this is a bug in ricci, "
                              "please report it with the input")


# -- the application --------------------------------------------------------------------------------
ERRORS = {400: {"model": ErrorResponse}, 408: {"model": ErrorResponse}, 413: {"model": ErrorResponse},
          415: {"model": ErrorResponse}, 422: {"model": ErrorResponse}, 429: {"model": ErrorResponse}}


def create_app(settings: Settings | None = None, *, pool: P.WorkerPool | None = None,
               fast_pool: P.WorkerPool | None = None) -> FastAPI:
    """The ricci web application.  Workers start with the first request (or with the server's
    start-up, under uvicorn); ``pool`` (and ``fast_pool``, the fast lane) let tests share them."""
    from .. import __version__

    settings = settings or Settings()
    runner = Runner(settings, pool, fast_pool)

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        await asyncio.get_running_loop().run_in_executor(None, runner.start)
        yield
        runner.close()

    app = FastAPI(title="ricci", version=__version__, lifespan=lifespan,
                  description="Matrix calculus: derivatives in matrix notation, their steps, checks, "
                              "code, analysis and plots.  The page at / uses this API.",
                  docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None)
    app.state.runner = runner
    app.state.settings = settings

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        message, details = _validation_message(exc.errors())
        # a value that is no number, or a ragged matrix: the kind ricci gives a bad value
        if details and all(d["type"] == BAD_VALUE for d in details):
            return error_response(422, "bad value", message, field="values", details=details)
        return error_response(422, "bad request", message, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        from http import HTTPStatus

        kind = HTTPStatus(exc.status_code).phrase.lower() if exc.status_code in HTTPStatus._value2member_map_ \
            else "error"
        return error_response(exc.status_code, kind, str(exc.detail), headers=getattr(exc, "headers", None))

    async def answer(job: str, request: dict, media_type: str = "application/json") -> Response:
        reply = await runner.run(job, request, media_type)
        headers = {"Retry-After": "1"} if reply.status == 429 else None
        return Response(reply.body, status_code=reply.status, media_type=reply.media_type, headers=headers)

    # -- the page ----------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index(request: Request):
        return HTMLResponse(page.render(request.query_params))

    static = {"app.js": "text/javascript", "style.css": "text/css", "favicon.svg": "image/svg+xml"}

    @app.get("/static/{name}", include_in_schema=False)
    async def static_file(name: str):
        if name not in static:
            return error_response(404, "not found", f"no static file {name!r}")
        data = resources.files("ricci.web").joinpath("static", name).read_bytes()
        return Response(data, media_type=static[name], headers={"Cache-Control": "no-cache"})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return Response(status_code=204)

    # -- the API -----------------------------------------------------------------------------------
    @app.get("/api/health", response_model=HealthResponse, tags=["server"])
    async def health():
        """The server answers; its version, limits and the optional parts it has."""
        if runner.features is None:
            reply = await runner.run("features", {})
            if reply.status == 200:
                runner.features = reply.json()
        return {"status": "ok", "version": __version__, "features": runner.features or {},
                "limits": {"time_budget_s": settings.time_budget, "grace_s": settings.grace,
                           "queue_wait_s": settings.queue_wait, "request_budget_s": settings.request_budget,
                           "plot_wait_s": settings.plot_wait, "plot_request_budget_s": settings.plot_request_budget,
                           "memory_mb": settings.memory_mb, "max_body_bytes": settings.max_body,
                           "fast_budget_s": settings.fast_budget if runner.fast_pool else 0.0},
                "workers": runner.pool.size, "fast_workers": runner.fast_pool.size if runner.fast_pool else 0,
                "lanes": dict(sorted(runner.lanes.items()))}

    @app.get("/api/examples", tags=["page"])
    async def examples():
        """The lecture's examples offered on the page."""
        return [asdict(e) for e in page.EXAMPLES]

    @app.post("/api/parse", response_model=None, tags=["calculus"],
              responses={200: {"model": ParseResponse}, **ERRORS})
    async def parse(req: ParseRequest):
        """Parse and type-check: the canonical text, each variable's kind and dimensions."""
        return await answer("parse", req.model_dump())

    @app.post("/api/derivative", response_model=None, tags=["calculus"],
              responses={200: {"model": DerivativeResponse}, **ERRORS})
    async def derivative(req: DerivativeRequest):
        """``ricci.derivative(expression, wrt, order, kinds)``: text, LaTeX, MathML, shape and kinds,
        with the steps, numerical check, code, analysis and plot plan where available."""
        return await answer("derivative", req.model_dump())

    @app.post("/api/evaluate", response_model=None, tags=["calculus"],
              responses={200: {"model": EvaluateResponse}, **ERRORS})
    async def evaluate(req: EvaluateRequest):
        """``ricci.evaluate``: f at the values; with ``wrt``, its derivative's value there."""
        return await answer("evaluate", req.model_dump())

    @app.post("/api/compare", response_model=None, tags=["calculus"],
              responses={200: {"model": CompareResponse}, **ERRORS})
    async def compare(req: CompareRequest):
        """``ricci.compare``: judge a hand-derived derivative (equal, other layout, slip, different,
        invalid)."""
        return await answer("compare", req.model_dump())

    @app.post("/api/plot", response_model=None, tags=["calculus"],
              responses={200: {"content": {"image/png": {}, "image/svg+xml": {}},
                               "description": "the picture"}, **ERRORS})
    async def plot(req: PlotRequest):
        """``ricci.plot``: a PNG or SVG of f of one or two scalars, its slopes and curvature."""
        r = req.model_dump()
        return await answer("plot", r, "image/svg+xml" if r["format"] == "svg" else "image/png")

    app.add_middleware(Guard, settings=settings)
    return app
