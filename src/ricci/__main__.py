"""``python -m ricci …``: the same as the ``ricci`` command (where the script is not on PATH)."""

from ricci.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
