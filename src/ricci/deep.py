"""Room for deep recursion: every stage handles every input the documented limits admit.

The stages walk expression trees recursively (type checking, lowering, differentiation, the
display's clean-up, the printers, code generation, evaluation), and an answer can be deeper than
its question: the gradient of ``x'*A1*x + … + x'*A248*x`` (2,865 characters, 248 levels deep)
is a sum of 248 matrices inside a product, and its clean-up nested more than the interpreter's
default of 1,000 Python frames (issue 21: a bare ``RecursionError`` from ``d.text``).

Rather than a lower limit on the input, the public entry points (:func:`ricci.derivative`, the
display forms of ``d.text``/``d.latex``, ``d.evaluate``, ``d.code``, :func:`ricci.parse`) run
their work through :func:`deep`: in one of a few worker threads with a large stack
(:data:`STACK_BYTES`), with the interpreter's recursion limit raised to :data:`RECURSION_LIMIT`
while any such call runs, and restored when the last one ends.  The stack is reserved, not used: memory is committed only as
deep as the recursion really goes.  Calls made from inside such a thread run directly (a
public call that makes others hands its work over once).  The work runs in a copy of the caller's
:mod:`contextvars` context, so the budget of :mod:`ricci.limits` in force still binds it.

Should a recursion still pass :data:`RECURSION_LIMIT` (far beyond what the limits admit), the
caller gets a :class:`~ricci.LimitError` that names the depth limit, never a ``RecursionError``.
"""

from __future__ import annotations

import contextvars
import functools
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from .language.errors import LimitError

#: Python frames the stages may nest inside :func:`deep` (the interpreter's default is 1,000;
#: the deepest inputs the limits admit need a few thousand).
RECURSION_LIMIT = 30_000

#: The stack of the thread that runs them: room for RECURSION_LIMIT frames even where each
#: Python frame also takes C frames (calls through builtins such as ``any`` or ``map``).
STACK_BYTES = 512 * 2**20

#: Deep threads kept for the public calls: calls beyond this many at once wait their turn.
WORKERS = 4

_local = threading.local()
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_lock = threading.Lock()  # guards the pool, _active/_saved and threading.stack_size (process-wide)
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
    """``fn(*args, **kwargs)`` in a worker thread with a large stack and a raised recursion
    limit; its result, or its exception (a ``RecursionError`` as a :class:`LimitError`)."""
    ctx = contextvars.copy_context()
    _enter()
    try:
        try:
            future = _submit(ctx.run, _inside, fn, args, kwargs)
        except RuntimeError:  # the interpreter is shutting down: no new threads
            return fn(*args, **kwargs)
        return future.result()
    except RecursionError:
        raise too_deep() from None
    finally:
        _leave()


def _inside(fn, args, kwargs):
    _local.inside = True
    return fn(*args, **kwargs)


def _submit(*call):
    """Hand ``call`` to the pool of deep threads (made on first use, and again in a forked
    child, where the parent's threads do not exist).  A pool, not a thread per call: starting a
    thread costs about half a millisecond, a derivation a few."""
    global _pool, _pool_pid
    with _lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool, _pool_pid = ThreadPoolExecutor(WORKERS, thread_name_prefix="ricci-deep"), os.getpid()
        # the pool starts its threads inside submit: they get the large stack
        before = threading.stack_size(STACK_BYTES)
        try:
            return _pool.submit(*call)
        finally:
            threading.stack_size(before)


def too_deep() -> LimitError:
    from .language.parser import MAX_DEPTH

    return LimitError(
        f"the expression or its derivative nests more than {RECURSION_LIMIT:,} steps deep, the "
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
