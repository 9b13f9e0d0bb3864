"""Advice in each surface's own language: a hint is data, and each surface renders it.

A message that tells the user what to change ("declare A psd", "give the point", "allow more
time") must name the control of the surface the user is on: a keyword in Python
(``assume={'A': 'psd'}``), a flag on the command line (``--assume A=psd``), a request field in
the JSON API (``"kinds": {"B": "symmetric matrix"}``), a control on the web page (the Variables
table).  So a message is built as a :class:`Phrase`: text with :class:`Hint` parts (what to set:
the parameter's role, named after the Python keyword, the variable and an example value) and
:class:`Choice` parts (alternatives, of which a surface shows those it has, or a fallback).

A :class:`Phrase` *is* a ``str``, its Python rendering, so that everything that handles
messages as text keeps working and Python users see their own keywords in exceptions; a surface
calls :func:`render` (or ``phrase.render(surface)``) to read it in its own words, and
:func:`hints_of` for the structured hints (the web API sends them as JSON, ``Hint.to_json``).

This module imports nothing from ricci, so that every layer may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The surfaces a message can be rendered for.
SURFACES = ("python", "cli", "api", "page")

#: The command line's spelling of a kind (``--kind A=symmetric``; ricci reads both spellings).
_CLI_KINDS = {"symmetric matrix": "symmetric"}


@dataclass(frozen=True)
class Hint:
    """What to set: ``set`` is the role (named after the Python keyword: "assume", "at",
    "values", "kinds", "timeout", "max_elements", "max_nodes", "order", "box", "method", "install"),
    ``name`` the variable it is about (or None), ``value`` an example value (or None: "…")."""

    set: str
    name: str | None = None
    value: object = None  #: a str or number, or {name: value} for several variables at once

    def to_json(self) -> dict:
        return {"set": self.set, "name": self.name, "value": self.value}

    def render(self, surface: str = "python") -> str | None:
        """The control with its example value on ``surface``, or None where it has none."""
        if surface not in SURFACES:
            raise ValueError(f"surface must be one of {', '.join(SURFACES)}, not {surface!r}")
        return _RENDER[surface](self)


def _py_value(v: str | None) -> str:
    return "…" if v is None else repr(v)


def _python(h: Hint) -> str:
    if h.set == "install":
        return f'pip install "ricci[{h.value}]"'
    if h.name is not None and h.set in ("assume", "at", "values", "kinds", "box"):
        return f"{h.set}={{{h.name!r}: {_py_value(h.value)}}}"
    if isinstance(h.value, dict):
        return f"{h.set}={h.value!r}"
    if h.value is not None:
        return f"{h.set}={h.value!r}"
    return f"{h.set}="


#: The command line's flag for each role (None: the command line has no such flag).
_FLAGS = {"assume": "--assume", "at": "--at", "values": "--set", "kinds": "--kind", "timeout": "--timeout",
          "max_elements": "--max-elements", "order": "--order", "box": "--box", "method": "--method",
          "max_nodes": None}


def _cli(h: Hint) -> str | None:
    if h.set == "install":
        return f'pip install "ricci[{h.value}]"'
    flag = _FLAGS.get(h.set)
    if flag is None or (h.set == "values" and h.name is None):
        # --set gives a plot's other variables; nothing on the command line gives d.check a point
        return None
    if isinstance(h.value, dict):
        return " ".join(f"{flag} {n}={v}" for n, v in h.value.items())
    value = "…" if h.value is None else _CLI_KINDS.get(h.value, h.value) if h.set == "kinds" else h.value
    if isinstance(value, (list, tuple)):  # a vector as the command line writes it: 1,2
        value = ",".join(map(str, value))
    if h.name is not None:
        return f"{flag} {h.name}={value}"
    if h.value is not None:
        return f"{flag} {value}"
    return {"timeout": "--timeout SECONDS", "max_elements": "--max-elements N", "order": "--order N",
            "at": "--at POINT", "box": "--box=LO:HI"}.get(h.set, flag)


def _api(h: Hint) -> str | None:
    # The request schemas' own fields (ricci.web.schemas): kinds and order everywhere, at (the
    # point) only in a plot request; nothing sets assumptions, parameters' values, time or size.
    if h.set == "kinds":
        name = h.name or "…"
        return f'"kinds": {{"{name}": "{h.value or "…"}"}}'
    if h.set == "order":
        return '"order"'
    if h.set == "at" and h.name is None:
        return '"at"'
    if h.set == "install":
        return f'"ricci[{h.value}]" installed on the server'
    return None


def _page(h: Hint) -> str | None:
    # The page's controls (ricci.web.page): the Variables table, the "order" box.
    if h.set == "kinds":
        return f"in the Variables table, choose {h.value or '…'} for {h.name or '…'}"
    if h.set == "order":
        return "the order box"
    if h.set == "install":
        return f'"ricci[{h.value}]" installed on the server'
    return None


_RENDER = {"python": _python, "cli": _cli, "api": _api, "page": _page}


@dataclass(frozen=True)
class Choice:
    """Alternatives such as "declare A psd (assume={'A': 'psd'}) or fix its value (at={'A': …})":
    each option is (words, hint), shown as "words (control)"; a surface shows the options it has
    a control for, joined by " or ", and ``otherwise`` (surface-neutral words) where it has none."""

    options: tuple
    otherwise: object = ""  #: words, or {surface: words} with an optional "default"

    def render(self, surface: str = "python") -> str:
        shown = [f"{words} ({r})" for words, h in self.options if (r := h.render(surface)) is not None]
        if shown:
            return " or ".join(shown)
        o = self.otherwise
        return o.get(surface, o.get("default", "")) if isinstance(o, dict) else o

    @property
    def hints(self) -> list[Hint]:
        return [h for _, h in self.options]


def _render_part(p, surface: str) -> str:
    if isinstance(p, (Hint, Choice)):
        r = p.render(surface)
        return "" if r is None else r
    if isinstance(p, Phrase):
        return p.render(surface)
    return str(p)


class Phrase(str):
    """Text with :class:`Hint` and :class:`Choice` parts; as a ``str`` it is the Python
    rendering.  ``Phrase("pass a larger ", Hint("timeout"))``."""

    parts: tuple

    def __new__(cls, *parts):
        flat: list = []
        for p in parts:
            flat.extend(p.parts if isinstance(p, Phrase) else (p,))
        self = super().__new__(cls, "".join(_render_part(p, "python") for p in flat))
        self.parts = tuple(flat)
        return self

    def render(self, surface: str = "python") -> str:
        if surface not in SURFACES:
            raise ValueError(f"surface must be one of {', '.join(SURFACES)}, not {surface!r}")
        return "".join(_render_part(p, surface) for p in self.parts)

    @property
    def hints(self) -> list[Hint]:
        out: list[Hint] = []
        for p in self.parts:
            for h in (p.hints if isinstance(p, Choice) else [p] if isinstance(p, Hint) else []):
                if h not in out:
                    out.append(h)
        return out

    def __reduce__(self):  # pickled across the web server's worker processes
        return (Phrase, self.parts)


def option(words: str, hint: Hint, otherwise: object = "") -> Choice:
    """One :class:`Choice`: "words (control)" where the surface has the control."""
    return Choice(((words, hint),), otherwise)


def say(*parts) -> Phrase:
    """A :class:`Phrase` of the parts (strings, hints, choices, phrases)."""
    return Phrase(*parts)


def render(text, surface: str = "python"):
    """``text`` in ``surface``'s words: a :class:`Phrase` rendered, a plain string as it is, a
    list or tuple element by element."""
    if isinstance(text, Phrase):
        return text.render(surface)
    if isinstance(text, (list, tuple)):
        return [render(t, surface) for t in text]
    return text


def hints_of(*texts) -> list[Hint]:
    """The hints in ``texts`` (phrases, plain strings, lists of them), each once, in order."""
    out: list[Hint] = []
    for t in texts:
        found = [h for x in t for h in hints_of(x)] if isinstance(t, (list, tuple)) else \
            t.hints if isinstance(t, Phrase) else []
        for h in found:
            if h not in out:
                out.append(h)
    return out


def installable(module: str, extra: str) -> Hint | None:
    """A hint to install ``extra`` where ``module`` is missing; None where it is installed (a
    message must never suggest installing what is there)."""
    from importlib.util import find_spec

    try:
        missing = find_spec(module) is None
    except (ImportError, ValueError):
        missing = True
    return Hint("install", None, extra) if missing else None


__all__ = ["SURFACES", "Hint", "Choice", "Phrase", "option", "say", "render", "hints_of", "installable"]
