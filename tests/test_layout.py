"""The layers point down (stages and the composition root → model packages → pipeline), there is no
import cycle, and every DVC stage depends on each project module it runs."""
from __future__ import annotations

import ast
from pathlib import Path

import yaml

from pipeline import imports
from stages.registry import MODELS, artifacts_module

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "recsys", "translation", "stages", "bench")


def project_modules() -> dict[str, Path]:
    return imports.project_modules(ROOT, PACKAGES)


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    return imports.imports_of(path, modules)


def import_graph() -> dict[str, set[str]]:
    return imports.import_graph(project_modules())


def layer(module: str) -> str:
    """A registered model's package, or the top-level package (translation/__init__.py is its own)."""
    return next((m for m in MODELS if module == m or module.startswith(m + ".")), module.split(".")[0])


# which layers each layer may import (besides itself): models only the foundation (and the namespace
# package translation/__init__.py that runs before either translation model); stages and benches all
ALLOWED = {"pipeline": set(), "translation": set()} | {m: {"pipeline", "translation"} for m in MODELS} | {
    top: {"pipeline", "translation", *MODELS} for top in ("stages", "bench")}


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


ARTIFACT_ROOTS = ("data/", "models/", "indexes/", "metrics/", "plots/")
ARTIFACT_MODULES = tuple(map(artifacts_module, MODELS))


def artifact_literals(files) -> list[str]:
    """'file:line: literal' for each string constant that spells an artifact path."""
    found = []
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(ARTIFACT_ROOTS):
                found.append(f"{f.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    return found


def test_artifact_paths_are_spelled_once():
    """Stages, loaders, the CLI, the service and the benches name artifacts through the model
    packages' artifacts modules (and pipeline.tolerance's metrics folder), never by a literal."""
    files = [p for d in ("stages", "pipeline", "recsys", "translation", "bench") for p in (ROOT / d).rglob("*.py")
             if p.name != "artifacts.py"]
    spelled = artifact_literals(files)
    assert not spelled, "artifact paths spelled outside an artifacts module:\n" + "\n".join(spelled)
    assert artifact_literals([ROOT / "recsys/artifacts.py"])          # the check reads what it should


def test_dvc_yaml_names_the_artifacts_modules_paths():
    import importlib

    from pipeline.tolerance import TOLERANCES

    defined = {p.as_posix() for m in ARTIFACT_MODULES for p in vars(importlib.import_module(m)).values()
               if isinstance(p, Path)} | {TOLERANCES.as_posix()}
    named = set()
    for stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].values():
        for entry in [e for kind in ("deps", "outs", "metrics", "plots") for e in stage.get(kind, [])]:
            path = entry if isinstance(entry, str) else next(iter(entry))
            if path.startswith(ARTIFACT_ROOTS):
                named.add(path)
    assert named - defined == set(), "dvc.yaml paths no artifacts module defines"
    inside = lambda p: any(p.startswith(f"{folder}/") for folder in named)   # a file of a folder a stage makes  # noqa: E731
    unused = {p for p in defined - named if not p.endswith(".partial.pt") and not inside(p) and p != TOLERANCES.as_posix()}
    assert unused == set(), "artifacts no stage of dvc.yaml makes"
