"""The project's import graph, read from the source (no module is run): which project modules each
module imports, anywhere in it, and what a module's imports reach. DVC stages depend on exactly the
modules their entry module reaches (stages.wiring writes them into dvc.yaml), and tests/test_layout
checks the layering on the same graph."""
from __future__ import annotations

import ast
from pathlib import Path


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules(root: Path, packages) -> dict[str, Path]:
    """{dotted name: file} for every .py file under the given top-level packages."""
    return {module_name(p, root): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules that `path` imports anywhere (top level or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from pkg import mod` imports the submodule pkg.mod when there is one
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        # importing a.b.c runs the packages a and a.b first
        found |= {".".join(n.split(".")[:i]) for n in names for i in range(1, n.count(".") + 2)} & modules.keys()
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {m: imports_of(p, modules) - {m} for m, p in modules.items()}


def closure(graph: dict[str, set[str]], start: str) -> set[str]:
    """`start` and every module it imports, directly or through others."""
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(graph[m])
    return seen
