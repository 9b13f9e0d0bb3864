"""SciPy's private BLAS on one thread while L-BFGS-B runs.

L-BFGS-B's bookkeeping (the two-loop recursion, the small Cholesky factors of its memory) calls
BLAS on vectors of n entries many times an iteration, and a threaded BLAS wakes its threads for
each (0.2 ms an iteration became 1 to 3 ms with the machine busy; 100000×50 logistic
regression's solve 1.6 s against 1.15 s).  SciPy's wheels carry their own OpenBLAS, which
NumPy (the generated code's ``X @ w``) never calls, so that copy alone runs one thread during
the solve and NumPy's keeps the user's threads.

Why the thread count is set through OpenBLAS's own symbol and not threadpoolctl's
``set_num_threads``: a pthreads OpenBLAS has one process-wide pool, and threadpoolctl (≥ 3.6)
lets only one *controlling* Python thread change it (the first to call ``set_num_threads``;
``threadpool_limits`` hands control back when its block ends), silently ignoring the others.
``ricci.minimize`` runs in a deep thread (:mod:`ricci.deep`), never the controlling one when
the caller holds a ``threadpool_limits`` block, so the hold was a no-op there.  The pool is
process-wide, so setting it from any thread is what OpenBLAS means; the count is given back at
the end, and concurrent solves share one hold (the last to end restores).  An OpenMP OpenBLAS
keeps a count per calling thread: threadpoolctl's public call, from the thread that runs the
solve, is right there.
"""

from __future__ import annotations

import ctypes
import os
import threading
from contextlib import contextmanager
from functools import lru_cache

_AFFIXES = tuple((p, s) for p in ("", "scipy_") for s in ("", "64_", "_64"))


@lru_cache(maxsize=1)
def scipy_private_blas() -> tuple:
    """The BLAS libraries in SciPy's own wheel folder (``scipy.libs``, ``scipy/.dylibs``), as
    threadpoolctl's controllers: SciPy's private copy.  Empty without threadpoolctl (the solve
    extra installs it) or where SciPy shares one BLAS with NumPy (conda, a system BLAS):
    nothing is limited there."""
    try:
        import scipy
    except ImportError:
        return ()
    root = os.path.dirname(os.path.abspath(scipy.__file__))
    folders = (root + ".libs" + os.sep, os.path.join(root, ".dylibs") + os.sep)
    return tuple(lib for lib in _blas_controllers() if os.path.abspath(lib.filepath).startswith(folders))


@lru_cache(maxsize=1)
def _blas_controllers() -> tuple:
    """threadpoolctl's controllers of every BLAS loaded (once: finding them takes a while)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return ()
    return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)


@lru_cache(maxsize=1)
def other_blas() -> tuple:
    """The BLAS libraries loaded besides SciPy's private copy (NumPy's, which the generated code's
    ``X @ w`` calls), as threadpoolctl's controllers; empty without threadpoolctl."""
    private = {lib.filepath for lib in scipy_private_blas()}
    return tuple(lib for lib in _blas_controllers() if lib.filepath not in private)


def numpy_blas_one_thread() -> bool:
    """Whether the BLAS the generated code calls runs one thread now (False where unknown)."""
    libs = other_blas()
    return bool(libs) and all(lib.num_threads == 1 for lib in libs)


@lru_cache(maxsize=8)
def _openblas_setter(filepath: str):
    """OpenBLAS's ``openblas_set_num_threads`` in the library at ``filepath`` (with SciPy's
    ``scipy_`` prefix and 64-bit suffixes), or None."""
    try:
        dll = ctypes.CDLL(filepath, mode=getattr(os, "RTLD_NOLOAD", 0))
    except OSError:
        return None
    for prefix, suffix in _AFFIXES:
        fn = getattr(dll, f"{prefix}openblas_set_num_threads{suffix}", None)
        if fn is not None:
            return fn
    return None


def set_threads(lib, n: int) -> None:
    """Set ``lib``'s thread count to ``n`` from this thread (see the module's note)."""
    setter = None
    if getattr(lib, "internal_api", "") == "openblas" and getattr(lib, "threading_layer", "") != "openmp":
        setter = _openblas_setter(lib.filepath)
    if setter is not None:
        setter(int(n))
    else:
        lib.set_num_threads(n)


_lock = threading.Lock()
_held = {"depth": 0, "saved": ()}  # solves running now, and the threads to give back


@contextmanager
def scipy_blas_one_thread(functions=()):
    """SciPy's private BLAS on one thread for the block.  Not where one of ``functions`` (the
    generated code) calls SciPy itself (expm's Fréchet derivatives: large products)."""
    uses_scipy = any(getattr(v, "__name__", "").startswith("scipy")
                     for fn in functions for v in getattr(fn, "__globals__", {}).values())
    libs = () if uses_scipy else scipy_private_blas()
    if not libs:
        yield
        return
    with _lock:
        if _held["depth"] == 0:
            _held["saved"] = tuple(lib.num_threads for lib in libs)
            for lib in libs:
                set_threads(lib, 1)
        _held["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _held["depth"] -= 1
            if _held["depth"] == 0:
                for lib, n in zip(libs, _held["saved"]):
                    set_threads(lib, n)
