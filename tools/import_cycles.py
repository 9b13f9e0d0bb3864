"""The circles of imports in src/ricci: python tools/import_cycles.py [-v].

Builds the graph of which module imports which (every ``import`` statement, those inside
functions too, as import-linter counts them) from the source with :mod:`ast`, nothing imported,
and prints its strongly connected components of more than one module: each is a circle.  With
``-v`` it prints the imports that close each circle, with their lines.  tests/test_layers.py
holds the list of circles left (none should be added; each removed is a step).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def modules(src: Path = SRC) -> dict[str, tuple[Path, bool]]:
    """Module name → (file, is a package's __init__)."""
    out = {}
    for path in sorted((src / "ricci").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if package else parts)] = (path, package)
    return out


def graph(src: Path = SRC) -> dict[str, dict[str, int]]:
    """Module → {module it imports: the first line that imports it}."""
    mods = modules(src)

    def known(name: str) -> str | None:  # the module a dotted name lives in
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, dict[str, int]] = {m: {} for m in mods}
    for name, (path, package) in mods.items():
        here = name if package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    base = ".".join(up) + ("." + base if base else "")
                # `from p import m` imports the module p.m when there is one, else p itself
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            else:
                continue
            for target in targets:
                found = known(target) if target.split(".")[0] == "ricci" else None
                if found and found != name:
                    edges[name].setdefault(found, node.lineno)
    return edges


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative),
    each sorted, largest first then by name: the same list on every run."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found, key=lambda c: (-len(c), c))


def main(argv: list[str]) -> int:
    edges = graph()
    circles = cycles(edges)
    for circle in circles:
        print(" <-> ".join(circle))
        if "-v" in argv:
            members = set(circle)
            for a in circle:
                for b, line in sorted(edges[a].items()):
                    if b in members:
                        print(f"    {a} -> {b}  (line {line})")
    print(f"{len(circles)} circle(s) of imports")
    return 1 if circles else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
