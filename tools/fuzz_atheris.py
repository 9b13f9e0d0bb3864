"""Coverage-guided fuzzing of the whole pipeline with atheris (optional: ``pip install atheris``).

    python tools/fuzz_atheris.py -max_total_time=3600 -timeout=60 corpus/

Every input is decoded as text and run through ``ricci diff TEXT --wrt W`` (W: a name the text
uses, or ``x``) with an order and an output format taken from its first bytes.  A RicciError is
a normal outcome (``main`` returns 2); any other exception is a crash that atheris reports
with the input that caused it; libFuzzer's ``-timeout`` catches a hang.
"""
from __future__ import annotations

import contextlib
import io
import re
import sys

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_FORMATS = ("text", "latex", "json", "python")


def one_input(data: bytes) -> None:
    from ricci.cli import main

    if len(data) < 2:
        return
    order = 1 + data[0] % 3
    fmt = _FORMATS[data[1] % len(_FORMATS)]
    text = data[2:].decode("utf-8", errors="replace")
    names = _NAME.findall(text)
    wrt = names[0] if names else "x"
    argv = ["diff", "--wrt", wrt, "--order", str(order), "--format", fmt, "--", text]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = main(argv)
    if rc not in (0, 2):
        raise RuntimeError(f"exit status {rc} for {argv!r}")


def main() -> None:
    try:
        import atheris
    except ImportError:
        sys.exit("atheris is not installed: pip install atheris")
    with atheris.instrument_imports():
        import ricci.cli  # noqa: F401 - instrumented for coverage
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
