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
entries of one numeric array       :data:`MAX_ELEMENTS` (``max_elements=``)        10,000,000
=================================  ==============================================  ==========

Every stage handles every input inside the first three limits: the public entry points run
their work with room to recurse (:mod:`ricci.deep`), and a recursion deeper still is a
:class:`~ricci.LimitError`, never a ``RecursionError`` (``tests/test_recursion_limits.py`` drives
each stage at the limits).

The time and size limits hold for every computation, not only the derivation: ``d.check``,
:func:`ricci.analyse`, :func:`ricci.plot` and :func:`ricci.compare` take ``timeout=`` (default
:data:`DEFAULT_TIMEOUT`, as :func:`ricci.derivative`) and ``max_elements=`` and run under one
:class:`Budget` (on the command line ``--timeout`` and ``--max-elements``).  A caller such as the
web server may instead run them inside ``with limits.budget(seconds):``: a budget opened inside
another never outlasts it (its deadline is the earlier of the two, its size limit the smaller),
so the derivatives these features make on their way stay within the caller's time.
Python cannot interrupt NumPy in the middle of a call, so sizes are bounded *before* an array is
made (:func:`check_elements`: a derivative of order 6 of a 6×3 matrix has 2·10⁸ entries, 1.6 GB,
and is refused at once) and the clock is read between the chunks of numeric work (:func:`tick`).

The last two are a :class:`Budget`: ``ricci.derivative(..., timeout=2.0)`` runs lowering,
differentiation and (later, lazily) the display forms under one.  The budget is *cooperative*:
every IR node made (:func:`ricci.ir.nodes._intern`, the one place where nodes are made) counts
one node in :meth:`Budget.charge`'s way and looks at the clock in its turn; :func:`tick`, called by the loops
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

from .hints import Choice, Hint, say
from .language.errors import BadValueError, LimitError

#: Seconds a derivation may take (lowering, differentiation, normalisation; the display
#: forms, computed on first use of ``d.text``, get their own budget of the same length).
DEFAULT_TIMEOUT = 10.0

#: IR nodes a derivation may create.  A typical derivative creates a few hundred to a few
#: thousand; the largest of the random campaigns' order-2 derivatives tens of thousands.
MAX_NODES = 1_000_000

#: Entries one numeric array of a check, an analysis, a plot or a comparison may have (80 MB of
#: float64); an array over it is refused before it is made.
MAX_ELEMENTS = 10_000_000

#: What to change when a derivation runs out of time (as (words, hint) options of a Choice).
DERIVATION_ADVICE = (("a lower order", Hint("order")), ("a larger time budget", Hint("timeout")))
#: ... and when another computation (a check, an analysis, a plot) does.
WORK_ADVICE = (("a larger time budget", Hint("timeout")),)

#: The clock is read once per this many nodes (reading it costs more than counting).
_CLOCK_EVERY = 16


class Budget:
    """What a computation may still spend: IR nodes, time and array entries (``None``: no limit).

    A budget opened while another is running never outlasts it: its deadline is the earlier of
    the two and its size limit the smaller (see :func:`budget`)."""

    __slots__ = ("timeout", "max_nodes", "deadline", "nodes", "what", "max_elements", "advice", "outer",
                 "tripped")

    def __init__(self, timeout: float | None = DEFAULT_TIMEOUT, max_nodes: int | None = MAX_NODES,
                 what: str = "the derivation", max_elements: int | None = MAX_ELEMENTS,
                 advice: tuple = DERIVATION_ADVICE, outer: "Budget | None" = None):
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
                raise BadValueError(f"timeout must be a positive number of seconds or None, not {timeout!r}")
        if max_nodes is not None:
            if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
                raise BadValueError(f"max_nodes must be a positive int or None, not {max_nodes!r}")
        if max_elements is not None:
            if isinstance(max_elements, bool) or not isinstance(max_elements, int) or max_elements < 1:
                raise BadValueError(f"max_elements must be a positive int or None, not {max_elements!r}")
        self.timeout = timeout
        self.max_nodes = max_nodes
        self.max_elements = max_elements
        self.deadline = None if timeout is None else time.monotonic() + float(timeout)
        self.nodes = 0
        self.what = what
        self.advice = advice
        # The enclosing budget, whose deadline and size limit bind too: a derivative made by an
        # analysis must not restart the analysis's clock.
        self.outer = outer if outer is not None and (outer.deadline is not None or
                                                     outer.max_elements is not None) else None
        #: the first LimitError raised: code that catches errors to try something else (a
        #: comparison judging an answer "invalid", an analysis trying another proof) may swallow
        #: it, so :func:`budget` raises it again at the end rather than return a result made
        #: while a limit was passed.
        self.tripped: LimitError | None = None

    def _trip(self, error: LimitError):
        if self.tripped is None:
            self.tripped = error
        raise error

    def charge(self) -> None:
        """Count one new node; raise :class:`LimitError` when a limit is passed."""
        self.nodes += 1
        if self.max_nodes is not None and self.nodes > self.max_nodes:
            self._trip(LimitError(say(
                f"{self.what} made more than {self.max_nodes:,} expression nodes (the limit max_nodes); "
                "the result would be too large to be useful — try a lower order, or split the "
                "expression with 'where' bindings")))
        if self.nodes % _CLOCK_EVERY == 0 and (self.outer is not None or self.deadline is not None
                                               and time.monotonic() > self.deadline):
            # check_time where it has something to do (an outer budget, or the deadline passed):
            # not a call for every 16 nodes of a derivation to read the clock (issue 21)
            self.check_time()

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            self._trip(LimitError(say(
                f"{self.what} took longer than its time budget of {self.timeout:g} s; try ", Choice(self.advice, "a smaller problem"))))
        if self.outer is not None:
            self.outer.check_time()

    def elements_limit(self) -> int | None:
        """The smallest size limit of this budget and those around it."""
        own, around = self.max_elements, None if self.outer is None else self.outer.elements_limit()
        limits = [v for v in (own, around) if v is not None]
        return min(limits) if limits else None

    def check_elements(self, count: int, what: str) -> None:
        limit = self.elements_limit()
        if limit is not None and count > limit:
            self._trip(LimitError(say(
                f"{what} would have {count:,} entries, more than the limit of {limit:,}; try ", Choice((("a lower order", Hint("order")),
                                                ("a larger size limit", Hint("max_elements"))),
                                               "a lower order or smaller values"))))


_CURRENT: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("ricci_budget", default=None)


#: The budget in force, or None: the context variable's own ``get`` (no Python frame), for
#: ricci.ir.nodes, which counts each node it makes in ``Budget.nodes`` itself and calls
#: :meth:`Budget.charge` only where a check is due (a limit passed, or the clock's turn): the same
#: count, the same errors at the same node, two Python calls less for each node (issue 21).
budget_now = _CURRENT.get


def tick() -> None:
    """Called by long loops that make no IR nodes (raising, the display's clean-up): checks the
    running budget's clock."""
    b = _CURRENT.get()
    if b is not None:
        b.check_time()


def current() -> Budget | None:
    """The budget in force, or None."""
    return _CURRENT.get()


def check_elements(count: int, what: str = "an array") -> None:
    """Refuse (:class:`LimitError`) to make an array of ``count`` entries over the size limit of
    the running budget (:data:`MAX_ELEMENTS` when none runs): called before the array is made,
    since NumPy cannot be interrupted once it has started."""
    b = _CURRENT.get()
    if b is None:
        b = Budget(None, None, max_elements=MAX_ELEMENTS)
    b.check_elements(int(count), what)


@contextmanager
def budget(timeout: float | None = DEFAULT_TIMEOUT, max_nodes: int | None = MAX_NODES,
           what: str = "the derivation", max_elements: int | None = MAX_ELEMENTS,
           advice: tuple = DERIVATION_ADVICE):
    """Run the body under a fresh :class:`Budget` (restoring the one before afterwards).  Inside
    another budget the new one ends no later, and allows no larger arrays, than that one."""
    b = Budget(timeout, max_nodes, what, max_elements, advice, outer=_CURRENT.get())
    token = _CURRENT.set(b)
    try:
        yield b
    finally:
        _CURRENT.reset(token)
    if b.tripped is not None:  # a limit was passed and the error swallowed on the way: no result
        raise b.tripped
