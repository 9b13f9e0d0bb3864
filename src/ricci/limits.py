"""Hard limits: no input can pin a process forever or fill its memory.

Every limit is checked as early as possible and refused with a :class:`~ricci.LimitError`
that says which limit and how to stay under it:

=================================  ==============================================  ==========
limit                              where it is enforced                            default
=================================  ==============================================  ==========
input length (characters)          ``ricci.language.parser.MAX_LENGTH``            10,000
bracket nesting                    ``ricci.language.parser.MAX_NESTING``           100
expression depth (tree height)     ``ricci.language.parser.MAX_DEPTH``             300
derivative order                   ``ricci.derivation.MAX_ORDER``                  6
IR nodes created per derivation    :data:`MAX_NODES` (``max_nodes=``)              1,000,000
time per derivation (seconds)      :data:`DEFAULT_TIMEOUT` (``timeout=``)          10
=================================  ==============================================  ==========

The last two are a :class:`Budget`: ``ricci.derivative(..., timeout=2.0)`` runs lowering,
differentiation and (later, lazily) the display forms under one.  The budget is *cooperative*:
:func:`charge_node` is called by :func:`ricci.ir.nodes._intern`, the one place where IR nodes are
made, and every call counts one node and looks at the clock; :func:`tick`, called by the loops
of raising and of the display's clean-up that make no IR nodes, looks at the clock too.  No signal, no thread: when the
budget runs out the derivation unwinds with a :class:`LimitError` and leaves nothing behind
(the hash-consing table holds nodes weakly).  ``timeout=None`` (or ``max_nodes=None``) lifts
that limit.

A budget is held in a :class:`contextvars.ContextVar`, so that derivations in different threads
or tasks never share one.
"""

from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager

from .language.errors import BadValueError, LimitError

#: Seconds a derivation may take (lowering, differentiation, normalisation; the display
#: forms, computed on first use of ``d.text``, get their own budget of the same length).
DEFAULT_TIMEOUT = 10.0

#: IR nodes a derivation may create.  A typical derivative creates a few hundred to a few
#: thousand; the largest of the random campaigns' order-2 derivatives tens of thousands.
MAX_NODES = 1_000_000

#: The clock is read once per this many nodes (reading it costs more than counting).
_CLOCK_EVERY = 16


class Budget:
    """What a derivation may still spend: IR nodes and time (``None``: no limit)."""

    __slots__ = ("timeout", "max_nodes", "deadline", "nodes", "what")

    def __init__(self, timeout: float | None = DEFAULT_TIMEOUT, max_nodes: int | None = MAX_NODES,
                 what: str = "the derivation"):
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
                raise BadValueError(f"timeout must be a positive number of seconds or None, not {timeout!r}")
        if max_nodes is not None:
            if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
                raise BadValueError(f"max_nodes must be a positive int or None, not {max_nodes!r}")
        self.timeout = timeout
        self.max_nodes = max_nodes
        self.deadline = None if timeout is None else time.monotonic() + float(timeout)
        self.nodes = 0
        self.what = what

    def charge(self) -> None:
        """Count one new node; raise :class:`LimitError` when a limit is passed."""
        self.nodes += 1
        if self.max_nodes is not None and self.nodes > self.max_nodes:
            raise LimitError(
                f"{self.what} made more than {self.max_nodes:,} expression nodes "
                "(the limit max_nodes); the result would be too large to be useful — "
                "try a lower order, or split the expression with 'where' bindings")
        if self.deadline is not None and self.nodes % _CLOCK_EVERY == 0:
            self.check_time()

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise LimitError(
                f"{self.what} took longer than its time budget of {self.timeout:g} s "
                "(the limit timeout); try a lower order, or pass a larger timeout=")


_CURRENT: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("ricci_budget", default=None)


def charge_node() -> None:
    """Called for every IR node created: charges the running budget, if there is one."""
    b = _CURRENT.get()
    if b is not None:
        b.charge()


def tick() -> None:
    """Called by long loops that make no IR nodes (raising, the display's clean-up): checks the
    running budget's clock."""
    b = _CURRENT.get()
    if b is not None:
        b.check_time()


def current() -> Budget | None:
    """The budget in force, or None."""
    return _CURRENT.get()


@contextmanager
def budget(timeout: float | None = DEFAULT_TIMEOUT, max_nodes: int | None = MAX_NODES,
           what: str = "the derivation"):
    """Run the body under a fresh :class:`Budget` (restoring the one before afterwards)."""
    b = Budget(timeout, max_nodes, what)
    token = _CURRENT.set(b)
    try:
        yield b
    finally:
        _CURRENT.reset(token)
