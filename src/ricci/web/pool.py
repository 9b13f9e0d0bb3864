"""Worker processes for the web server: bounded memory, bounded time, runaway workers replaced.

A :class:`WorkerPool` owns ``size`` worker processes.  :meth:`WorkerPool.run` (blocking,
thread-safe) waits at most ``queue_wait`` seconds for an idle worker, sends it one job (a
module-level function, pickled by reference, and its arguments) and waits at most
``timeout + grace`` seconds for the reply.  A worker that overruns is killed (SIGKILL) and a fresh
one is started in the background, so one bad request costs one worker for one time budget and
never stalls the server.

Inside a worker (set up in :func:`_serve`, before any job runs):

* ``RLIMIT_AS`` caps its address space at ``memory_mb`` more than it has mapped when it starts
  (ricci and the heavy modules, imported by the forkserver): an allocation past it is a
  ``MemoryError``, reported as the outcome ``"memory"``, and the worker is replaced;
* ``RLIMIT_CPU`` is raised to "CPU used so far + the job's budget + grace" before each job, a
  second, independent limit: a job that spins past it is killed by the kernel (``"died"``);
* ``RLIMIT_CORE`` is 0, SIGINT is ignored (Ctrl-C stops the server, which stops its workers);
* ``nice`` (0: none) lowers its CPU priority: the server gives its slow lane, where runaway
  derivations spend their budget, a lower priority than the fast lane, so that on a busy machine
  the kernel runs the cheap requests first instead of sharing the cores evenly with the runaways.

Workers are forked from a forkserver that has imported and exercised ricci once (the module
:mod:`ricci.web.warmup`), so a replacement is ready in milliseconds, not seconds.  BLAS thread
pools are set to one thread (``OPENBLAS_NUM_THREADS=1`` and friends, set with ``setdefault``
before the forkserver starts): each worker is one process on one core.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import queue
import resource
import signal
import threading
from dataclasses import dataclass
from typing import Self

#: Outcomes of :meth:`WorkerPool.run`.
OK, TIMEOUT, DIED, MEMORY, CRASH, BUSY = "ok", "timeout", "died", "memory", "crash", "busy"

_RECYCLE = False


def request_recycle() -> None:
    """Called inside a job: replace this worker after the reply (its state may be unsound)."""
    global _RECYCLE
    _RECYCLE = True


@dataclass(frozen=True)
class Outcome:
    """What became of one job: ``status`` (one of the outcomes above) and the job's return value."""

    status: str
    value: object = None
    detail: str = ""


# -- inside a worker --------------------------------------------------------------------------------
def _mapped() -> int:
    """Bytes of address space this process has mapped (0 where /proc cannot tell)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        return 0


def _limit(memory_bytes: int | None) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_bytes:
        # on top of what the worker has mapped when it starts: the modules the forkserver imported
        # and what they reserve without using (a thread stack kept for reuse, malloc arenas) are
        # address space too, and would otherwise leave a job less than memory_mb to allocate
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = _mapped() + memory_bytes
        cap = cap if hard == resource.RLIM_INFINITY else min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _cpu_budget(seconds: float) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _serve(conn, memory_bytes: int | None, warm, nice: int = 0) -> None:
    """The worker's main loop: one job at a time, replies ``(status, value, detail, recycle)``."""
    global _RECYCLE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit(memory_bytes)
    if nice:
        try:
            os.nice(nice)
        except OSError:  # pragma: no cover - a platform that refuses: the worker runs at full priority
            pass
    if warm is not None:
        try:
            warm()
        except Exception:  # noqa: BLE001, S110 - a failed warm-up only makes the first job slower
            pass
    conn.send("ready")
    while True:
        try:
            fn, args, cpu_seconds = conn.recv()
        except (EOFError, OSError):
            return
        _RECYCLE = False
        _cpu_budget(cpu_seconds)
        try:
            reply = (OK, fn(*args), "")
        except MemoryError:
            reply, _RECYCLE = (MEMORY, None, "the job needed more memory than the worker's limit"), True
        except BaseException as e:  # noqa: BLE001 - reported to the parent, which decides
            reply, _RECYCLE = (CRASH, None, f"{type(e).__name__}: {e}"), True
        try:
            conn.send(reply + (_RECYCLE,))
        except MemoryError:
            conn.send((MEMORY, None, "the reply needed more memory than the worker's limit", True))
        if _RECYCLE:
            return


# -- in the server ----------------------------------------------------------------------------------
class _Worker:
    def __init__(self, ctx, memory_bytes, warm, startup_timeout: float, nice: int = 0):
        here, there = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(there, memory_bytes, warm, nice), daemon=True,
                                   name="ricci-web-worker")
        self.process.start()
        there.close()
        self.conn = here
        try:
            ready = here.poll(startup_timeout) and here.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise RuntimeError("a ricci web worker did not start (a script that starts the server "
                               "must guard its top level with `if __name__ == \"__main__\":`)")

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(5)
        finally:
            self.conn.close()


class WorkerPool:
    """``size`` memory-bounded worker processes; see the module's docstring.

    ``warm`` (a module-level function) runs in each new worker before it takes jobs;
    ``preload`` names modules the forkserver imports once, for all workers; ``nice`` is added to
    each worker's nice value (a lower CPU priority).
    """

    def __init__(self, size: int = 2, memory_mb: int | None = 1024, queue_wait: float = 5.0,
                 grace: float = 2.0, warm=None, preload: tuple = ("ricci.web.warmup",),
                 start_method: str | None = None, startup_timeout: float = 60.0, nice: int = 0):
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        self.size = size
        self.memory_bytes = memory_mb * 2**20 if memory_mb else None
        self.queue_wait = queue_wait
        self.grace = grace
        self.warm = warm
        self.nice = nice
        self.preload = list(preload)
        methods = mp.get_all_start_methods()
        self.start_method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
        self.startup_timeout = startup_timeout
        #: workers replaced after a timeout, a crash or a memory overrun
        self.replaced = 0
        #: jobs that came back with a reply (whatever it was)
        self.replies = 0
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._started = False
        self._generation = 0  # bumped by close(): a late refill of an old generation is dropped

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> WorkerPool:
        """Start the workers (again, after :meth:`close`)."""
        with self._lock:
            if self._started:
                return self
            for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ.setdefault(k, "1")
            self._ctx = mp.get_context(self.start_method)
            if self.start_method == "forkserver" and self.preload:
                self._ctx.set_forkserver_preload(self.preload)
            self._started = True
            generation = self._generation
        for _ in range(self.size):
            self._add(generation)
        return self

    def close(self) -> None:
        """Stop every worker; a later :meth:`run` starts new ones."""
        with self._lock:
            self._generation += 1
            self._started = False
            workers, self._all = list(self._all), set()
            while not self._idle.empty():
                self._idle.get_nowait()
        for w in workers:
            w.kill()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def idle(self) -> int:
        """Workers waiting for a job right now."""
        return self._idle.qsize()

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return sorted(w.pid for w in self._all if w.pid is not None)

    def _add(self, generation: int) -> None:
        w = _Worker(self._ctx, self.memory_bytes, self.warm, self.startup_timeout, self.nice)
        with self._lock:
            if generation != self._generation:  # closed meanwhile
                w.kill()
                return
            self._all.add(w)
            self._idle.put(w)

    def _replace(self, w: _Worker) -> None:
        with self._lock:
            if w not in self._all:  # closed meanwhile
                generation = None
            else:
                self._all.discard(w)
                self.replaced += 1
                generation = self._generation
        w.kill()
        if generation is None:
            return

        def refill():
            for attempt in range(3):
                try:
                    self._add(generation)
                    return
                except Exception:  # pragma: no cover - a worker failing to start is retried
                    if attempt == 2:
                        raise

        threading.Thread(target=refill, name="ricci-web-refill", daemon=True).start()

    # -- jobs ------------------------------------------------------------------------------------
    def run(self, fn, args: tuple = (), timeout: float = 10.0, wait: float | None = None) -> Outcome:
        """Run ``fn(*args)`` in a worker within ``timeout`` (+ ``grace``) seconds, waiting at most
        ``wait`` (default: ``queue_wait``) seconds for one; never raises for what the job does:
        the :class:`Outcome` says."""
        if not self._started:
            self.start()
        wait = self.queue_wait if wait is None else wait
        try:
            w = self._idle.get(timeout=wait)
        except queue.Empty:
            return Outcome(BUSY, detail=f"every worker is busy (waited {wait:g} s)")
        if w.process.exitcode is not None:  # it stopped while idle (or the pool was closed)
            self._replace(w)
            return Outcome(DIED, detail="the worker had stopped; it has been replaced")
        try:
            w.conn.send((fn, args, timeout + self.grace))
        except (OSError, ValueError):  # it died while idle
            self._replace(w)
            return Outcome(DIED, detail="the worker had stopped; it has been replaced")
        if not w.conn.poll(timeout + self.grace):
            self._replace(w)
            return Outcome(TIMEOUT, detail=f"stopped after {timeout + self.grace:g} s")
        try:
            status, value, detail, recycle = w.conn.recv()
        except (EOFError, OSError):
            self._replace(w)
            return Outcome(DIED, detail="the worker stopped (a CPU or memory limit)")
        with self._lock:
            self.replies += 1
        if recycle:
            self._replace(w)
        else:
            with self._lock:
                if w in self._all:
                    self._idle.put(w)
        return Outcome(status, value, detail)
