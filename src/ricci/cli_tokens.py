"""The command line's tokens made unambiguous before argparse reads them.

argparse reads every token that starts with ``-`` as an option, but in ricci such a token is
often an expression (``ricci diff "-y'*log(p)" --wrt y``) or a negative value
(``--range -2,2``, ``--at -1``, ``--box -4:4``, ``--answer "-2*x'"``).  :func:`normalise`
decides each token the way a reader would, from the subcommand's own options:

* a known option (exactly, as ``--name=value``, or as an unambiguous prefix of a long option,
  as argparse allows) stays an option;
* the token after an option that takes a value is that value, whatever it starts with: it is
  joined to its option as ``--range=-2,2``, which argparse reads as a value;
* any other token is the expression (the one positional argument of every command that takes
  one), however it starts: it is moved behind ``--`` at the end, where argparse takes it as
  positional.  A ``--`` of the user's marks the next token as the expression, wherever the
  options are (``ricci diff -- "-x" --wrt x`` as well as ``ricci diff --wrt x -- "-x"``).

A token such as ``--colour``, which has the form of a long option but names none, is left for
argparse to report as unrecognised.  Nothing here evaluates anything; argparse still checks
every value.
"""

from __future__ import annotations

import argparse
import re

#: A long option's form: what argparse would report as unrecognised rather than read as text.
_LONG_FORM = re.compile(r"--[A-Za-z][A-Za-z0-9-]*(=.*)?\Z", re.S)


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(name)
    return None


def _option(sp: argparse.ArgumentParser, token: str) -> tuple[argparse.Action | None, bool]:
    """The action ``token`` names (None if none) and whether the token carries its value."""
    table = sp._option_string_actions
    name, eq, _ = token.partition("=")
    if token in table:
        return table[token], False
    if eq and name in table:
        return table[name], True
    if token.startswith("--") and sp.allow_abbrev:
        matches = {table[o] for o in table if o.startswith(name) and o.startswith("--")}
        if len(matches) == 1:
            return matches.pop(), bool(eq)
    short = table.get(token[:2]) if len(token) > 2 and not token.startswith("--") else None
    if short is not None and _takes_value(short):
        return short, True  # a short option with its value attached: -oout.png
    return None, False


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs is None or (isinstance(action.nargs, int) and action.nargs > 0)


def normalise(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``argv`` (without the program name) with option values joined to their options and the
    expression moved behind ``--``; unchanged for a command without an expression."""
    argv = list(argv)
    if not argv or argv[0].startswith("-"):
        return argv
    sp = _subparser(parser, argv[0])
    if sp is None or not any(a.dest == "expression" for a in sp._actions if not a.option_strings):
        return argv
    out = [argv[0]]
    expression: list[str] = []
    #: (option, token) where the token after an option with an optional value, not one of its
    #: choices, was read as the expression: a misspelt choice if a second expression turns up
    optional: list[tuple[str, str, argparse.Action]] = []
    i = 1
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":  # the next token is the expression, whatever it looks like
            if i < len(argv):
                expression.append(argv[i])
                i += 1
            continue
        action, carried = _option(sp, token) if token.startswith("-") and token != "-" else (None, False)
        if action is not None:
            out.append(token)
            value = argv[i] if i < len(argv) else None
            if action.nargs == "?" and not carried and action.choices and value in action.choices:
                out.append(value)  # --steps differentials: an optional value, one of its choices
                i += 1
                continue
            if action.nargs == "?" and not carried and action.choices and value is not None:
                optional.append((token, value, action))
            if not _takes_value(action) or carried or value is None:
                continue
            if not value.startswith("-") or value == "-":
                out.append(value)
                i += 1
            elif value != "--" and _option(sp, value)[0] is None:
                # --range -2,2: the value of --range, not an option; joined, argparse reads it so
                out[-1] = f"{token}={value}" if token.startswith("--") else token + value
                i += 1
            # else an option follows one that needs a value: argparse says "expected one argument"
        elif token.startswith("-") and _LONG_FORM.match(token):
            out.append(token)  # --colour: argparse reports it as unrecognised
        else:
            expression.append(token)
    for token, value, action in optional:
        if len(expression) > 1 and value in expression:  # --steps diff: argparse would say "unrecognized"
            sp.error(_invalid_choice(token, value, action))
    last = _option(sp, out[-1])[0] if len(out) > 1 and out[-1].startswith("-") else None
    if any(t.startswith("-") for t in expression) or (last is not None and last.nargs == "?"):
        # (after an option whose value is optional, --steps, the expression is not its value)
        return out + ["--"] + expression  # several: argparse reports the extra ones as unrecognised
    return out + expression


def _invalid_choice(token: str, value: str, action: argparse.Action) -> str:
    """argparse's own words for a value that is not a choice, with the nearest choice."""
    import difflib

    choices = [str(c) for c in action.choices]
    flag = max(action.option_strings, key=len) if token.startswith("--") else token
    near = [c for c in choices if c.startswith(value)] or difflib.get_close_matches(value, choices, n=1, cutoff=0.4)
    listed = ", ".join(repr(c) for c in choices)
    hint = f"; did you mean {flag} {near[0]}?" if near else ""
    return f"argument {flag}: invalid choice: {value!r} (choose from {listed}){hint}"
