"""Room for deep recursion: every stage handles every input the documented limits admit.

The stages walk expression trees recursively (type checking, lowering, differentiation, the
display's clean-up, the printers, code generation, evaluation), and an answer can be deeper than
its question: the gradient of ``x'*A1*x + … + x'*A248*x`` (2,865 characters, 248 levels deep)
is a sum of 248 matrices inside a product, and its clean-up nested more than the interpreter's
default of 1,000 Python frames (issue 21: a bare ``RecursionError`` from ``d.text``).

Rather than a lower limit on the input, the public entry points (:func:`ricci.derivative`,
:func:`ricci.parse`, :func:`ricci.evaluate`, :func:`ricci.analyse`, :func:`ricci.compare`,
:func:`ricci.plot`, :func:`ricci.minimize`, the
display forms behind ``d.text``/``d.latex``/``d.mathml``, ``d.evaluate``, ``d.code``,
``d.check`` …) run their work through :func:`deep`: in a worker thread with a large stack
(:data:`STACK_BYTES`), with the interpreter's recursion limit raised to
:data:`RECURSION_LIMIT` while any such call runs, and restored when the last one ends.  The
stack is reserved, not used: memory is committed only as deep as the recursion really goes.
Idle worker threads are kept for the next calls; a call that finds none idle starts another, so
no call ever waits behind another.  Calls made from inside a worker run directly (a public call
that makes others hands its work over once).  The work runs in a copy of the caller's
:mod:`contextvars` context, so the budget of :mod:`ricci.limits` in force still binds it (and
NumPy's error state).

Should a recursion still pass :data:`RECURSION_LIMIT` (far beyond what the limits admit), the
caller gets a :class:`~ricci.LimitError` that names the depth limit, never a ``RecursionError``.
"""

from __future__ import annotations

import contextvars
import functools
import os
import sys
import threading

from .language.errors import LimitError

#: Python frames the stages may nest inside :func:`deep` (the interpreter's default is 1,000;
#: the deepest inputs the limits admit need a few thousand).
RECURSION_LIMIT = 30_000

#: The stack of the thread that runs them: room for RECURSION_LIMIT frames even where each
#: Python frame also takes C frames (calls through builtins such as ``any`` or ``map``).
STACK_BYTES = 512 * 2**20

#: Idle deep threads kept for the next calls (a call that finds none idle starts one: work never
#: waits behind another call, even one that never ends).
WORKERS = 4

_local = threading.local()
_idle: list = []  # idle _Worker threads
_idle_pid = 0  # the process they belong to (a forked child has none of its parent's threads)
_lock = threading.Lock()  # guards _idle, _active/_saved and threading.stack_size (process-wide)
_active = 0
_saved = 0


def deep(fn):
    """Decorate a public entry point so that its work has room to recurse (see the module)."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        if getattr(_local, "inside", False):
            return fn(*args, **kwargs)
        return call_deep(fn, *args, **kwargs)

    return run


def call_deep(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` in a deep thread (a large stack, a raised recursion limit); its
    result, or its exception (a ``RecursionError`` as a :class:`LimitError`)."""
    job = _Job(contextvars.copy_context(), fn, args, kwargs)
    try:
        worker = _worker()
    except RuntimeError:
        # no thread could be started (a memory limit such as RLIMIT_AS counts the reserved
        # stack, or the interpreter is shutting down): the work runs here, with the usual room
        worker = None
    if worker is None:
        try:
            return fn(*args, **kwargs)
        except RecursionError:
            raise too_deep(sys.getrecursionlimit()) from None
    _enter()
    try:
        worker.jobs.put(job)
        return job.result()
    except RecursionError:
        raise too_deep() from None
    finally:
        _leave()


class _Job:
    """One call handed to a deep thread, and its outcome."""

    __slots__ = ("ctx", "fn", "args", "kwargs", "done", "value", "error")

    def __init__(self, ctx, fn, args, kwargs):
        self.ctx, self.fn, self.args, self.kwargs = ctx, fn, args, kwargs
        self.done = threading.Event()
        self.value = self.error = None

    def run(self) -> None:
        try:
            self.value = self.ctx.run(self.fn, *self.args, **self.kwargs)
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread as it is
            self.error = e
        finally:
            self.done.set()

    def result(self):
        self.done.wait()
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return self.value


class _Worker(threading.Thread):
    """A deep thread: runs the jobs put to it, then waits idle for more, or ends when enough
    others wait.  A daemon: a call abandoned by its caller (a web worker's deadline) never
    holds the process open."""

    def __init__(self):
        super().__init__(name="ricci-deep", daemon=True)
        import queue

        self.jobs = queue.SimpleQueue()

    def run(self) -> None:
        _local.inside = True
        while True:
            self.jobs.get().run()
            with _lock:
                if len(_idle) >= WORKERS:
                    return
                _idle.append(self)


def _worker() -> _Worker:
    """An idle deep thread, or a new one.  Threads, not one per call: starting a thread costs
    about half a millisecond, a derivation a few."""
    global _idle_pid
    with _lock:
        if _idle_pid != os.getpid():
            _idle.clear()
            _idle_pid = os.getpid()
        if _idle:
            return _idle.pop()
        # the stack size is process-wide and read when a thread starts: set it for this one only
        before = threading.stack_size(STACK_BYTES)
        try:
            worker = _Worker()
            worker.start()
        finally:
            threading.stack_size(before)
        return worker


def too_deep(limit: int = RECURSION_LIMIT) -> LimitError:
    from .language.parser import MAX_DEPTH

    return LimitError(
        f"the expression or its derivative nests more than {limit:,} steps deep, the "
        f"limit of recursion (inputs are limited to {MAX_DEPTH} levels); split it with 'where' bindings")


def _enter() -> None:
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved, RECURSION_LIMIT))
        _active += 1


def _leave() -> None:
    global _active
    with _lock:
        _active -= 1
        if _active == 0:
            sys.setrecursionlimit(_saved)


def _after_fork() -> None:
    """In a forked child (the web server's workers) no other thread exists: a lock another
    thread held at the fork would never be released, and the count of deep calls is theirs."""
    global _lock, _active
    _lock = threading.Lock()
    if _active:
        _active = 0
        sys.setrecursionlimit(_saved)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
