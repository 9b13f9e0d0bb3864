"""Helpers for the web tests: an in-process client of the app, and a real ``ricci serve`` process.

Both talk to 127.0.0.1 only.  The server process is started with ``python -m ricci.cli serve``
on a free port, waited for through ``GET /api/health``, and stopped (SIGTERM, then SIGKILL) at
the end; its workers go with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings

with warnings.catch_warnings():
    # Starlette ≥ 1.0 asks for httpx2 instead of httpx; the test client works with either.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient  # noqa: F401  (re-exported)

BASE = "http://127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


@contextlib.contextmanager
def ricci_server(*args: str, startup: float = 120.0):
    """A ``ricci serve`` process on 127.0.0.1; yields its base URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "ricci.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"ricci serve exited with {proc.returncode}: {proc.stdout.read()}")
            try:
                if get_json(f"{url}/api/health")["status"] == "ok":
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("ricci serve did not answer in time")
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stdout:
            proc.stdout.close()
