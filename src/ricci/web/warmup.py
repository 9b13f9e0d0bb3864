"""Imported once by the workers' forkserver: load and exercise ricci, so every forked worker
starts warm (lark's tables built, the engine's modules imported).  Never raises."""

try:
    from .compute import warm

    warm()
except Exception:  # noqa: BLE001, S110  # pragma: no cover - a failed warm-up only slows first requests
    pass
