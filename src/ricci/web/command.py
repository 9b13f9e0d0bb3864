"""``ricci serve``: the page and the JSON API on this machine (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import ipaddress
import sys

from ..language.errors import RicciError


class MissingDependencyError(RicciError, ImportError):
    """FastAPI or uvicorn is not installed."""

    kind = "missing dependency"


EXAMPLE = "ricci serve   |   ricci serve --port 8080 --time-budget 4"


def register(sub) -> None:
    """Add ``serve`` to the ``ricci`` command's subparsers (it takes no expression)."""
    import argparse

    helptext = "serve the web page and the JSON API on this machine (http://127.0.0.1:8000/)"
    p = sub.add_parser("serve", help=helptext, description=helptext, epilog=f"example:\n  {EXAMPLE}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes for derivations (default: CPUs, at most 4)")
    p.add_argument("--time-budget", type=float, default=5.0, metavar="SECONDS",
                   help="computation time per request before it is stopped (default 5)")
    p.add_argument("--fast-workers", type=int, default=None,
                   help="workers of the fast lane, which tries every request first for "
                        "--fast-budget seconds (default: CPUs, at most 2; 0: no fast lane)")
    p.add_argument("--fast-budget", type=float, default=1.0, metavar="SECONDS",
                   help="computation time in the fast lane before a request goes on to the "
                        "other workers (default 1; its derivation: at most 0.25)")
    p.add_argument("--memory-mb", type=int, default=1024,
                   help="address space each worker may map on top of what it maps when it starts "
                        "(default 1024)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also accept this Host header (a name the server is reached by)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_warning(host: str) -> str | None:
    """The warning printed when the server is reachable from other machines."""
    if is_loopback(host):
        return None
    return (f"warning: ricci serve is bound to {host}, so other machines on the network can reach it. "
            "It runs every request in a bounded worker, but it has no authentication: bind to "
            "127.0.0.1 (the default) unless you mean to share it.")


def allowed_hosts(host: str, extra) -> tuple:
    from .app import LOCAL_HOSTS

    if host in ("0.0.0.0", "::", ""):
        return ("*",)  # any address of this machine: its names are not known here
    names = list(LOCAL_HOSTS) + [host.strip("[]")] + list(extra)
    return tuple(dict.fromkeys(n.lower() for n in names))


def run(args) -> int:
    try:
        import uvicorn

        from .app import Settings, create_app
    except ImportError as e:
        raise MissingDependencyError(
            f"ricci serve needs FastAPI and uvicorn ({e.name} is missing): pip install \"ricci[web]\"") from None
    if not 0 < args.port < 65536:
        raise RicciError(f"--port must be from 1 to 65535, not {args.port}")
    if args.workers is not None and not 1 <= args.workers <= 64:
        raise RicciError(f"--workers must be from 1 to 64, not {args.workers}")
    if not 0 < args.time_budget <= 600:
        raise RicciError(f"--time-budget must be more than 0 and at most 600 seconds, not {args.time_budget}")
    if args.fast_workers is not None and not 0 <= args.fast_workers <= 64:
        raise RicciError(f"--fast-workers must be from 0 to 64, not {args.fast_workers}")
    if not 0 < args.fast_budget <= args.time_budget:
        raise RicciError(f"--fast-budget must be more than 0 and at most --time-budget ({args.time_budget:g} s), "
                         f"not {args.fast_budget}")
    if args.memory_mb < 256:
        raise RicciError(f"--memory-mb must be at least 256, not {args.memory_mb}")
    warning = bind_warning(args.host)
    if warning:
        print(warning, file=sys.stderr)
    options = {"time_budget": args.time_budget, "memory_mb": args.memory_mb,
               "fast_budget": args.fast_budget, "allowed_hosts": allowed_hosts(args.host, args.allow_host)}
    if args.workers is not None:
        options["workers"] = args.workers
    if args.fast_workers is not None:
        options["fast_workers"] = args.fast_workers
    app = create_app(Settings(**options))
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"ricci: serving on http://{shown}:{args.port}/  (Ctrl-C stops it)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", server_header=False,
                timeout_keep_alive=5, h11_max_incomplete_event_size=32 * 1024)
    return 0
