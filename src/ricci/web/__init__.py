"""ricci in a browser: ``ricci serve`` (a page and a JSON API, offline, on 127.0.0.1).

Modules: :mod:`.app` (the FastAPI application and its guard), :mod:`.page` (the server-rendered
page and the lecture's examples), :mod:`.schemas` (the API's models), :mod:`.compute` (the jobs,
run in workers; no calculus, only ricci's public API), :mod:`.pool` (memory- and time-bounded
worker processes), :mod:`.command` (the ``serve`` subcommand), ``static/`` (the script, the
style sheet).  FastAPI and uvicorn are the optional extra ``ricci[web]``, imported only here.
"""

from __future__ import annotations


def create_app(settings=None, **kwargs):
    """The ricci web application (a FastAPI app); see :func:`ricci.web.app.create_app`."""
    from .app import create_app as _create

    return _create(settings, **kwargs)


__all__ = ["create_app"]
