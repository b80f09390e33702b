"""The layers point down (stages and the composition root → model packages → pipeline), there is no
import cycle, and every DVC stage depends on each project module it runs."""
from __future__ import annotations

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "recsys", "translation", "stages", "bench")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


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


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {m: imports_of(p, modules) - {m} for m, p in modules.items()}


def closure(graph, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(graph[m])
    return seen


def layer(module: str) -> str:
    if module.startswith("translation.images"):
        return "translation.images"
    if module.startswith("translation.speech"):
        return "translation.speech"
    return module.split(".")[0]


# which layers each layer may import (besides itself)
# (the package file translation/__init__.py runs before either translation model)
ALLOWED = {
    "pipeline": set(),
    "recsys": {"pipeline"},
    "translation": set(),
    "translation.images": {"pipeline", "translation"},
    "translation.speech": {"pipeline", "translation"},
    "stages": {"pipeline", "recsys", "translation", "translation.images", "translation.speech"},
    "bench": {"pipeline", "recsys", "translation", "translation.images", "translation.speech"},
}


def violations(graph) -> list[str]:
    return sorted(f"{m} imports {i}" for m, imps in graph.items() for i in imps
                  if layer(i) != layer(m) and layer(i) not in ALLOWED[layer(m)])


def find_cycles(graph) -> list[str]:
    cycles, state = [], {}  # state: 1 = on the current path, 2 = done

    def visit(m, path):
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(" → ".join(path[path.index(n):] + [n]))
            elif n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    return cycles


def test_layers_point_down():
    bad = violations(import_graph())
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_checks_catch_an_upward_import_a_cross_model_import_and_a_cycle(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from recsys.serve import Recommender\n")
    assert imports_of(bad, project_modules()) == {"recsys", "recsys.serve"}  # found inside a function
    assert violations({"pipeline.service": {"recsys.serve"}, "recsys.serve": set()}) == [
        "pipeline.service imports recsys.serve"]
    assert violations({"translation.images.serve": {"translation.speech.lexicon"}, "translation.speech.lexicon": set()})
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a → b → c → a"]


def covered(path: str, deps: list[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in deps)


def test_every_stage_depends_on_the_project_modules_it_runs():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    graph, modules = import_graph(), project_modules()
    missing = []
    for name, stage in stages.items():
        entry = stage["cmd"].split("-m ", 1)[1].split()[0]
        assert entry in modules, f"{name}: {entry} is not a project module"
        deps = stage.get("deps", [])
        for m in sorted(closure(graph, entry)):
            path = str(modules[m].relative_to(ROOT))
            if modules[m].name == "__init__.py" and not modules[m].read_text().strip():
                continue  # an empty package file runs nothing
            if not covered(path, deps):
                missing.append(f"{name}: {path}")
    assert not missing, "dvc.yaml deps miss modules the stage imports:\n" + "\n".join(missing)
