# Over 600 lines: every job a worker runs, one function per request kind, sharing this module's helpers.
"""The jobs of the web server: what runs inside a worker process, and nothing else.

Each job takes a request as a plain dict (already validated by :mod:`.schemas`) and returns
``(status, body)``: 200 and a JSON-ready dict (or image bytes for a plot), or 422 and an error
dict.  No calculus lives here: every answer comes from ricci's public API, and the optional parts
(MathML, steps, the numerical check, code, analysis, plots) are found by feature detection, so
that a part that has not landed, or fails, drops out of the answer instead of breaking it.

Invariants:

* user text is only ever handed to ricci's parser; nothing here evaluates it as code;
* every float in a body is finite (non-finite numbers become ``None``), so the JSON is valid;
* every part runs under the job's budget: ricci's own cooperative limit (``timeout=`` and a
  :func:`ricci.limits.budget` around it), and a soft deadline (SIGALRM, main thread only) behind
  that; when the deadline fires, or a part fails for any reason but its input, the job asks for
  its worker to be replaced (:func:`.pool.request_recycle`), since an interrupted computation may
  have left caches half-written;
* the deadline never fires inside an import (it waits until the import is done) and heavy
  modules are imported before any job starts (:func:`warm`, run by the workers' forkserver), so
  a time limit cannot leave a half-imported module behind;
* an answer that ran out of time or failed for a reason other than its input is marked so
  (:func:`cacheable` is false) and the server does not keep it.
"""

from __future__ import annotations

import importlib
import io
import math
import signal
import threading
import time
from contextlib import contextmanager

from ..language.errors import RicciError, caret_lines

#: The kinds a user can choose in the page's table (ricci also accepts their aliases).
KINDS = ("scalar", "vector", "matrix", "symmetric matrix")
#: The code backends the page shows.
BACKENDS = (("numpy", "NumPy"), ("jax", "JAX"), ("torch", "PyTorch"))
#: The optional parts of a derivative answer, in the order they are computed.
PARTS = ("mathml", "steps", "check", "code", "analysis", "plot")
#: Names preferred as the default ``wrt``, before the first vector.
PREFERRED_WRT = ("x", "theta", "w", "s", "t", "z", "X", "W")

#: Seconds the soft deadline waits past a part's budget, so that ricci's own limit (which
#: unwinds cleanly and keeps the worker) has the first word.
SOFT_SLACK = 0.25


class SoftTimeout(Exception):
    """An optional part ran past its share of the time budget."""


# -- errors -----------------------------------------------------------------------------------------
def caret(source: str | None, span) -> tuple[str, str] | None:
    """The source line holding the span and a caret line under it (as ``RicciError.pretty``)."""
    if source is None or span is None:
        return None
    return caret_lines(source, span)


def advice(text, key: str = "message") -> dict:
    """``{key: text in the API's words}``, and where ``text`` gives advice (a
    :class:`ricci.hints.Phrase`) also ``page_<key>`` (in the page's words, naming its controls)
    and ``hints`` (the advice as data: ``[{"set", "name", "value"}]``), for the page to render."""
    from ..hints import hints_of, render

    out = {key: render(text, "api")}
    found = hints_of(text)
    if found:
        out[f"page_{key}"] = render(text, "page")
        out["hints"] = [h.to_json() for h in found]
    return out


def error_body(kind: str, message: str, *, span=None, source=None, field: str | None = None) -> dict:
    """The one error shape of the API: ``{"error": {kind, message, span, source, excerpt, caret, field}}``
    (with ``page_message`` and ``hints`` where the message gives advice: :func:`advice`)."""
    shown = caret(source, span)
    return {"error": {"kind": kind, **advice(message), "span": list(span) if span else None,
                      "source": source, "excerpt": shown[0] if shown else None,
                      "caret": shown[1] if shown else None, "field": field}}


def ricci_error(e, request: dict, fields=("expression",)) -> dict:
    """A :class:`ricci.RicciError` as an error body; ``field`` names the request field it is in."""
    source = e.source
    field = None
    if source is not None:
        field = next((f for f in fields if request.get(f) == source), None)
    elif e.span is not None and fields:  # a span without a source is in the first field
        source, field = request.get(fields[0]), fields[0]
    return error_body(e.kind, e.message, span=e.span, source=source, field=field)


def wrt_refused(req: dict) -> tuple[int, dict] | None:
    """``(422, error)`` for a ``wrt`` the expression does not use (or binds by 'where'), lists
    included, in the field ``wrt``: ricci.derivation's one check, strict as on the command line
    (only Python's explicit lists may hold an unused scalar).  ``None`` otherwise; an expression
    that does not parse is left to the job, which reports it as always."""
    import ricci

    from ..derivation import refuse_unused_wrt
    from ..language.parser import parse_text

    if not req.get("wrt") or not isinstance(req.get("expression"), str):
        return None
    try:
        tree = parse_text(req["expression"])
    except ricci.RicciError:
        return None
    kinds = req.get("kinds")
    try:
        refuse_unused_wrt(tree, req["wrt"], kinds if isinstance(kinds, dict) else (), lists_may_pad=False)
    except ricci.RicciError as e:
        return 422, error_body(e.kind, e.message, field="wrt")
    return None


# -- JSON hygiene -----------------------------------------------------------------------------------
def plain(v):
    """A JSON-ready copy: NumPy arrays to lists, non-finite floats to None, unknown objects to str."""
    import numpy as np

    if v is None or isinstance(v, (bool, str, int)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, np.ndarray):
        return plain(v.tolist())
    if isinstance(v, np.generic):
        return plain(v.item())
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return str(v)


# -- deadlines --------------------------------------------------------------------------------------
#: Seconds between two firings of a soft deadline that has not taken effect yet (it was due inside
#: an import, or raised inside a finalizer, where Python prints an exception and drops it).
REFIRE = 0.05


def _deferred(frame) -> bool:
    """Whether an exception raised at ``frame`` would land where it must not: inside an import
    (a half-executed module stays behind in ``sys.modules``, or its half-built attributes in its
    package, as matplotlib's did in issue 15) or inside a finalizer or weakref callback (where
    Python prints "Exception ignored" and drops it)."""
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith("<frozen importlib") or code.co_name == "__del__" \
                or code.co_filename.endswith(("weakref.py", "_weakrefset.py")):
            return True
        frame = frame.f_back
    return False


@contextmanager
def soft_deadline(seconds: float):
    """Raise :class:`SoftTimeout` inside the block after ``seconds`` (main thread only; elsewhere
    the block runs unbounded, and the pool's hard limit still applies).

    Never inside an import or a finalizer: there the timer fires again every :data:`REFIRE`
    seconds until the block is somewhere an exception can safely unwind it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def fire(signum, frame):
        if not _deferred(frame):
            raise SoftTimeout

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3), REFIRE)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _part(name: str, fn, deadline: float) -> dict | None:
    """Run one optional part within what is left of the job's budget (``fn`` takes those
    seconds); ``None`` when unavailable, ``{"error": …}`` when it failed."""
    from .. import RicciError
    from .. import limits
    from .pool import request_recycle

    left = deadline - time.monotonic()
    if left <= 0.05:
        return {"error": {"kind": "limit", "message": f"{name}: skipped, the time budget is spent"}}
    try:
        # ricci's cooperative limit first (it unwinds cleanly, the worker stays), the soft
        # deadline a little later behind it, the pool's hard limit behind both
        with soft_deadline(left + SOFT_SLACK), limits.budget(left, what=f"the {name}"):
            return fn(left)
    except SoftTimeout:
        request_recycle()
        return {"error": {"kind": "limit", "message": f"{name}: stopped, it took longer than the time budget"}}
    except RicciError as e:
        return {"error": {"kind": e.kind, **advice(e.message)}}
    except MemoryError:
        request_recycle()
        return {"error": {"kind": "limit", "message": f"{name}: stopped, it needed more memory than allowed"}}
    except Exception as e:  # noqa: BLE001 - an optional part must never take the answer down with it
        request_recycle()  # a failure that is not the input's may have left this worker unsound
        return {"error": {"kind": "unavailable", "message": f"{name} failed: {type(e).__name__}: {e}"}}


# -- feature detection ------------------------------------------------------------------------------
def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def features() -> dict:
    """Which optional parts this installation has (for the page and ``GET /api/health``)."""
    from ..derivation import Derivative

    mathml = hasattr(Derivative, "mathml") or _mathml_function() is not None
    return {
        "mathml": mathml,
        "steps": hasattr(Derivative, "steps"),
        "check": hasattr(Derivative, "check"),
        "code": hasattr(Derivative, "code"),
        "analysis": hasattr(Derivative, "analyse") and _module("ricci.analysis") is not None,
        "plot": _module("ricci.plotting") is not None and _module("matplotlib") is not None,
        "compare": _module("ricci.comparison") is not None,
    }


def _mathml_function():
    mod = _module("ricci.printing.mathml")
    for name in ("derivative_to_mathml", "to_mathml"):
        f = getattr(mod, name, None) if mod else None
        if callable(f):
            return f
    return None


def _mathml(d) -> str | None:
    # The answer as the lecture states it, ∂f/∂x = … ∈ ℝ^{…} (∂²f/∂x² for order 2; an answer in
    # index notation has its own left side), from ricci's own display where it has one.
    display = getattr(d, "display", None)
    equation = getattr(display(), "equation", None) if callable(display) else None
    m = equation.math() if callable(getattr(equation, "math", None)) else getattr(d, "mathml", None)
    if callable(m):
        m = m()
    if not isinstance(m, str):
        f = _mathml_function()
        m = f(d) if f else None
    if isinstance(m, str) and m.lstrip().startswith("<math"):
        return m
    return None


def _jsonish(obj):
    """An object of a part as JSON: its ``to_json()``, a dataclass's fields, or its text."""
    import dataclasses

    if obj is None:
        return None
    to_json = getattr(obj, "to_json", None)
    if callable(to_json):
        return plain(to_json())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return plain(dataclasses.asdict(obj))
    if isinstance(obj, (dict, list, tuple, str, int, float)):
        return plain(obj)
    return str(obj)


def _formula(f, part: str):
    """``text`` or a complete inline ``<math>`` of a step's formula (None when absent)."""
    if f is None:
        return None
    if part == "mathml":
        math = getattr(f, "math", None)
        return math("inline") if callable(math) else None
    return str(getattr(f, "text", f))


def _steps(d) -> dict | None:
    """The steps as a numbered list (each with its title, formula and note), and as text; under
    ``"differentials"`` the same for the differential method (the page's Method choice), or
    ``{"error": …}`` where that method has no derivation."""
    if not hasattr(type(d), "steps"):
        return None
    steps = d.steps
    out = _steps_of(steps() if callable(steps) else steps)
    if callable(steps):
        try:
            out["differentials"] = _steps_of(steps(method="differentials"))
        except RicciError as e:
            out["differentials"] = ricci_error(e, {})  # {"error": {...}}, as a failed part
    return out


def _steps_of(steps) -> dict:
    shown = steps.shown() if callable(getattr(steps, "shown", None)) else list(steps)
    items, counters, prev = [], [], -1
    for s in shown:
        depth = min(int(getattr(s, "depth", 0) or 0), prev + 1)  # a folded parent: move up
        prev = depth
        del counters[depth + 1:]
        while len(counters) <= depth:
            counters.append(0)
        counters[depth] += 1
        title = getattr(s, "title", None)
        if not isinstance(title, str):  # a step that is only text (str.title is a method)
            title, s = str(s), None
        items.append({
            "number": ".".join(map(str, counters[:depth + 1])), "depth": depth,
            "title": title,
            "rule": getattr(s, "rule", None), "source": getattr(s, "source", None),
            "formula": _formula(getattr(s, "formula", None), "text"),
            "formula_mathml": _formula(getattr(s, "formula", None), "mathml"),
            "note": _formula(getattr(s, "note", None), "text"),
            "note_mathml": _formula(getattr(s, "note", None), "mathml"),
        })
    heading = getattr(steps, "heading", None)
    return plain({"heading": _formula(heading, "text"), "heading_mathml": _formula(heading, "mathml"),
                  "items": items,
                  "text": "\n".join(map(str, steps)) if isinstance(steps, (list, tuple)) else str(steps)})


def _check(d, seconds: float | None = None) -> dict | None:
    if not hasattr(type(d), "check"):
        return None
    report = d.check(**_budget(d.check, seconds))
    data = _jsonish(report)

    def field(*keys, kind):
        for key in keys:
            v = data.get(key) if isinstance(data, dict) and key in data else getattr(report, key, None)
            if isinstance(v, kind) and not (kind is not bool and isinstance(v, bool)):
                return v
        return None

    error = field("max_relative_error", "max_rel_error", "relative_error", kind=(int, float))
    return {"passed": field("passed", "ok", "success", kind=bool),
            "max_relative_error": plain(float(error)) if error is not None else None,
            "text": str(report)}


def _code(d) -> dict | None:
    if not hasattr(type(d), "code"):
        return None
    from .. import RicciError

    out = {}
    for backend, label in BACKENDS:
        try:
            out[backend] = {"label": label, "source": d.code(backend)}
        except RicciError as e:
            out[backend] = {"label": label, "source": None, "error": e.message}
    return out


def _analysis(d, seconds: float | None = None) -> dict | None:
    if not hasattr(type(d), "analyse") or tuple(d.expression.shape):
        return None  # ricci.analyse studies scalar functions only
    from ..analysis import analyse  # d.analyse passes its options on to it

    a = d.analyse(**_budget(analyse, seconds))
    # its advice in the API's words, and the page's (assume=, at= are Python's keywords)
    text = a.text if callable(getattr(a, "text", None)) else None
    data = plain(a.to_json("api")) if text else _jsonish(a)
    body = {"text": text("api") if text else str(a), "data": data if isinstance(data, dict) else None}
    if text:
        body["page_text"] = text("page")
        body["hints"] = [h.to_json() for h in a.hints]
    return body


def plot_plan(expr) -> dict | None:
    """The plot the page can ask for: a scalar f of one or two scalar variables."""
    if _module("ricci.plotting") is None or _module("matplotlib") is None:
        return None
    variables = expr.variables
    if tuple(expr.shape) or not 1 <= len(variables) <= 2:
        return None
    if any(v.kind != "scalar" for v in variables.values()):
        return None
    names = list(variables)
    return {"wrt": names[0] if len(names) == 1 else names}


# -- the jobs ---------------------------------------------------------------------------------------
def _kinds_json(expr) -> dict:
    return {n: {"kind": v.kind, "dims": [str(x) for x in v.dims], "source": v.source}
            for n, v in expr.variables.items()}


def _default_wrt(expr) -> str | None:
    variables = expr.variables
    for n in PREFERRED_WRT:
        if n in variables:
            return n
    for n, v in variables.items():
        if v.kind == "vector":
            return n
    return next(iter(variables), None)


def parse(req: dict, budget: float = 10.0) -> tuple[int, dict]:
    """``POST /api/parse``: the canonical text, the variables with their kinds, the value's shape."""
    import ricci

    try:
        expr = ricci.parse(req["expression"], req.get("kinds") or None)
        body = {"expression": req["expression"], "text": expr.text, "shape": [str(s) for s in expr.shape],
                "kinds": _kinds_json(expr), "default_wrt": _default_wrt(expr),
                "scalars": [n for n, v in expr.variables.items() if v.kind == "scalar"]}
    except ricci.RicciError as e:
        return 422, ricci_error(e, req)
    return 200, plain(body)


def _budget(fn, seconds: float | None) -> dict:
    """``timeout=seconds`` where ``fn`` takes it (ricci's own cooperative time limit: the worker
    survives it); the budget around each part and the pool's hard limit apply either way."""
    import inspect

    if seconds is None:
        return {}
    try:
        takes = "timeout" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        takes = False
    return {"timeout": max(0.1, seconds)} if takes else {}


def derivative(req: dict, budget: float = 10.0, derivation: float | None = None) -> tuple[int, dict]:
    """``POST /api/derivative``: ricci.derivative and, where available, its optional parts;
    ``derivation``: the seconds the derivation itself may take (default: the whole budget)."""
    import ricci

    deadline = time.monotonic() + budget
    if (refused := wrt_refused(req)) is not None:
        return refused
    try:
        d = ricci.derivative(req["expression"], req["wrt"], req.get("order", 1), req.get("kinds") or None,
                             **_budget(ricci.derivative, derivation or budget))
        body = {
            "expression": d.expression.text,
            "wrt": d.wrt,
            "order": d.order,
            "text": d.text,
            "latex": d.latex,
            "shape": [str(s) for s in d.shape],
            "shape_text": d.describe().splitlines()[1].removeprefix("shape: "),
            "matrix_form": d.has_matrix_form,
            "index_notation": d.index_notation,
            "function_shape": [str(s) for s in d.expression.shape],
            "kinds": _kinds_json(d.expression),
        }
    except ricci.RicciError as e:
        return 422, ricci_error(e, req)
    include = req.get("include")
    makers = {"mathml": lambda left: _mathml(d), "steps": lambda left: _steps(d),
              "check": lambda left: _check(d, left), "code": lambda left: _code(d),
              "analysis": lambda left: _analysis(d, left), "plot": lambda left: plot_plan(d.expression)}
    for name in PARTS:
        body[name] = None if include is not None and name not in include else _part(name, makers[name], deadline)
    if isinstance(body["mathml"], dict):  # a failed printer: the page shows LaTeX instead
        body["mathml"] = None
    return 200, plain(body)


def _values(values: dict) -> dict:
    import numpy as np

    return {n: (float(v) if isinstance(v, (int, float)) else np.asarray(v, dtype=float)) for n, v in values.items()}


def evaluate(req: dict, budget: float = 10.0) -> tuple[int, dict]:
    """``POST /api/evaluate``: f at the values, or its derivative when ``wrt`` is given."""
    import numpy as np

    import ricci

    if (refused := wrt_refused(req)) is not None:
        return refused
    try:
        values = _values(req["values"])
        if req.get("wrt"):
            d = ricci.derivative(req["expression"], req["wrt"], req.get("order", 1), req.get("kinds") or None,
                                 **_budget(ricci.derivative, budget))
            v = d.evaluate(values)
        else:
            v = ricci.evaluate(req["expression"], values, req.get("kinds") or None)
    except ricci.RicciError as e:
        return 422, ricci_error(e, req)
    except ValueError as e:  # ragged lists
        return 422, error_body("bad value", f"cannot read the values: {e}", field="values")
    arr = np.asarray(v, dtype=float)
    if not np.all(np.isfinite(arr)):
        return 422, error_body("bad value", "the value is not finite at these values (an overflow, or a "
                                            "point outside a function's domain)", field="values")
    return 200, {"value": plain(v), "shape": list(arr.shape)}


def compare(req: dict, budget: float = 10.0) -> tuple[int, dict]:
    """``POST /api/compare``: :func:`ricci.compare`'s verdict on a hand-derived answer."""
    import ricci

    from .. import limits
    from ..comparison import compare as judge  # ricci.compare passes its options on to it

    if (refused := wrt_refused(req)) is not None:
        return refused
    try:
        with limits.budget(budget, what="the comparison"):
            v = ricci.compare(req["expression"], req["wrt"], req["answer"], req.get("order", 1),
                              req.get("kinds") or None, **_budget(judge, budget))
    except ricci.RicciError as e:
        return 422, ricci_error(e, req, ("expression", "answer"))
    body = plain(v.to_json("api"))  # its advice names request fields, not Python's keywords
    body["text"] = v.text("api")
    body["page_text"] = v.text("page")
    body.update(advice(v.message))  # page_message: the message alone in the page's words (it shows it apart)
    return 200, body


def plot(req: dict, budget: float = 10.0) -> tuple[int, dict | bytes]:
    """``POST /api/plot``: a PNG or SVG of :func:`ricci.plot` (bytes), or an error body."""
    import ricci

    from .. import limits

    if _module("matplotlib") is None:
        from ..hints import Hint, say

        return 422, error_body("missing dependency", say("plots need matplotlib: ", Hint("install", None, "plot")))
    from ..plotting import plot as draw  # ricci.plot passes its options on to it

    if (refused := wrt_refused(req)) is not None:
        return refused
    try:
        # the plot runs under the request's budget like a derivation: ricci's own limit (the
        # derivatives it makes on the way, and the numeric work where it reads the clock)
        with limits.budget(budget, what="the plot"):
            fig = ricci.plot(req["expression"], req["wrt"], req.get("at"), req.get("range"),
                             req.get("kinds") or None, dpi=req.get("dpi", 80), **_budget(draw, budget))
            buf = io.BytesIO()
            fig.savefig(buf, format=req.get("format", "png"))
    except ricci.RicciError as e:
        return 422, ricci_error(e, req)
    return 200, buf.getvalue()


def features_job(req: dict, budget: float = 10.0) -> tuple[int, dict]:
    """``GET /api/health``'s list of the optional parts this installation has."""
    return 200, features()


def triage(job: str, req: dict, budget: float = 10.0) -> tuple[int, dict] | None:
    """What can be refused at once, found by parsing alone (milliseconds): ``(422, error)`` for an
    expression ricci cannot read or type (a syntax error, an unknown name, a nesting or length
    limit, a kind that does not fit), the whole answer of a ``parse`` request, or ``None`` when
    the request must be computed.  The server runs it first when the fast lane is busy, so that
    such requests are answered at once instead of waiting for a worker (and never get 429)."""
    import ricci

    if job == "parse":
        return parse(req, budget)
    if not isinstance(req.get("expression"), str):
        return None
    try:
        ricci.parse(req["expression"], req.get("kinds") or None)
    except ricci.RicciError as e:
        return 422, ricci_error(e, req, ("expression", "answer") if job == "compare" else ("expression",))
    return wrt_refused(req)


#: The only functions the server sends to its workers: each takes the request and the time budget.
JOBS = {"parse": parse, "derivative": derivative, "evaluate": evaluate, "compare": compare, "plot": plot,
        "features": features_job}

#: Kinds of error that say nothing about the request: an optional part that failed (a bug, or a
#: worker left unsound), ricci failing on it.  An answer holding one is not cached.
TRANSIENT = ("unavailable", "internal error")


def _ran_out_of_time(body) -> bool:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("kind") == "limit" and "time budget" in error.get("message", ""):
            return True
        return any(_ran_out_of_time(v) for v in body.values())
    return False


def _failed(body) -> bool:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("kind") in TRANSIENT:
            return True
        return any(_failed(v) for v in body.values())
    return False


def out_of_time(value) -> bool:
    """Whether a job's ``(status, body)`` says that time ran out (the derivation's own time limit,
    or an optional part stopped or skipped): such an answer is not kept in the server's cache."""
    return isinstance(value, tuple) and len(value) == 2 and _ran_out_of_time(value[1])


def cacheable(value) -> bool:
    """Whether a job's ``(status, body)`` may be kept and given again to the same request: not
    when time ran out anywhere in it (on a busy machine that says more about the load than about
    the request), nor when a part of it failed for a reason other than the input (a plot that
    failed once, say because its worker was unsound, must be drawn again the next time)."""
    if not (isinstance(value, tuple) and len(value) == 2):
        return False
    return not _ran_out_of_time(value[1]) and not _failed(value[1])


#: The heavy modules the optional parts import on first use; imported before any job runs (a
#: time limit firing inside such an import would leave it half-done).
HEAVY_MODULES = ("ricci.plotting", "matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg",
                 "matplotlib.backends.backend_svg", "ricci.analysis", "sympy", "ricci.comparison",
                 "ricci.codegen", "ricci.printing.mathml", "ricci.numeric_check", "ricci.explain")


def import_heavy() -> None:
    """Import every heavy module this installation has (each worker runs it before its first job:
    it costs nothing where the forkserver has imported them already)."""
    for name in HEAVY_MODULES:
        _module(name)


def warm() -> None:
    """Import and exercise the engine once, so that the first request of a new worker is fast:
    every part of a derivative, an analysis, a plot (matplotlib loads its fonts on the first) and
    a comparison."""
    import_heavy()
    derivative({"expression": "x'*A*x", "wrt": "x", "order": 1, "kinds": None})
    derivative({"expression": "x^3 - 3*x", "wrt": "x", "order": 1, "kinds": {"x": "scalar"}})
    if _module("matplotlib") is not None:
        plot({"expression": "x^3 - 3*x", "wrt": "x", "kinds": {"x": "scalar"}})
    compare({"expression": "x'*A*x", "wrt": "x", "answer": "2*x'*A"})


#: Seconds of the fast lane's budget a derivation may take before it goes on to the slow lane
#: (a cheap one takes milliseconds, tens of them on a machine three times oversubscribed).
FAST_DERIVATION = 0.25


def fast(job: str, req: dict, budget: float):
    """The fast lane's job: ``JOBS[job]`` within ``budget`` seconds, or ``None`` when that was not
    enough (the derivation or one of the optional parts ran out of time), so that the server runs
    it again in the slow lane with the full budget.  Any other answer, a limit refused at once
    (order 7, a 2 MB input) included, is the answer.

    A derivation gets at most :data:`FAST_DERIVATION` seconds of the budget: a cheap one takes a
    few milliseconds, its parts (check, code, steps) the rest; one that needs more is no cheap
    request, and finding that out early keeps a runaway from holding a fast worker for long."""
    if job == "derivative":
        status, body = derivative(req, budget, min(budget, FAST_DERIVATION))
    else:
        status, body = JOBS[job](req, budget)
    if out_of_time((status, body)):
        return None
    return status, body
