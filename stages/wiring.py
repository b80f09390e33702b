"""dvc.yaml's code dependencies, written from the imports: each stage depends on exactly the project
modules its entry module (`python -m stages.<name>`) reaches, so a model edit reruns only the stages
that import the model, and a data stage never reruns for a model edit.

    python -m stages.wiring           rewrite the .py deps of every stage in dvc.yaml
    python -m stages.wiring --check   exit 1 naming each stage whose deps are not what would be written

Only the `.py` entries of each `deps:` list are written; other deps (data, models) and the rest of
dvc.yaml are kept as they are. tests/test_wiring.py fails when dvc.yaml is stale.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from pipeline.imports import closure, import_graph, project_modules

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "recsys", "translation", "stages")
STAGE = re.compile(r"^  (\w+):\s*$")
ENTRY = re.compile(r"python -m ([\w.]+)")


def code_deps(entry: str, root: Path = ROOT, modules=None, graph=None) -> list[str]:
    """The files of the project modules `entry` reaches (an empty package file runs nothing)."""
    modules = modules or project_modules(root, PACKAGES)
    if entry not in modules:
        raise SystemExit(f"dvc.yaml: {entry} is not a project module")
    files = [modules[m] for m in closure(graph or import_graph(modules), entry)]
    return sorted(str(f.relative_to(root)) for f in files if f.name != "__init__.py" or f.read_text().strip())


def rewrite(text: str, root: Path = ROOT) -> str:
    """dvc.yaml's text with each stage's .py deps replaced by its import closure."""
    out, lines, i = [], text.splitlines(), 0
    modules = project_modules(root, PACKAGES)
    graph = import_graph(modules)
    stage, entry = None, None
    while i < len(lines):
        line = lines[i]
        if line and not line.startswith(" "):
            stage = entry = None                          # a new top-level key (stages:, artifacts:)
        elif m := STAGE.match(line):
            stage, entry = m.group(1), None
        elif stage and (m := ENTRY.search(line)) and line.strip().startswith("cmd:"):
            entry = m.group(1)
        if stage and line.strip() == "deps:":
            indent = line[:len(line) - len(line.lstrip())] + "  "
            kept, i = [], i + 1
            while i < len(lines) and lines[i].startswith(indent + "- "):
                dep = lines[i].strip()[2:]
                if not dep.endswith(".py"):
                    kept.append(dep)
                i += 1
            if entry is None:
                raise SystemExit(f"dvc.yaml: stage {stage}: its deps come before a `cmd: python -m ...` line")
            out.append(line)
            out.extend(f"{indent}- {dep}" for dep in code_deps(entry, root, modules, graph) + kept)
            continue
        out.append(line)
        i += 1
    return "\n".join(out) + "\n"


def stale_stages(old: str, new: str) -> list[str]:
    def blocks(text):
        found, name = {}, None
        for line in text.splitlines():
            if m := STAGE.match(line):
                name = m.group(1)
            elif name:
                found.setdefault(name, []).append(line)
        return found
    a, b = blocks(old), blocks(new)
    return sorted(s for s in b if a.get(s) != b[s])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stages.wiring", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stages whose deps are stale (exit 1)")
    parser.add_argument("--dvc-yaml", default=str(ROOT / "dvc.yaml"), help="the file to check or rewrite")
    args = parser.parse_args(argv)
    path = Path(args.dvc_yaml)
    old = path.read_text()
    new = rewrite(old)
    stale = stale_stages(old, new)
    if args.check:
        if stale:
            print(f"{path}: deps stale for {', '.join(stale)} (run python -m stages.wiring)", file=sys.stderr)
            return 1
        print(f"{path}: deps match the imports")
        return 0
    if stale:
        path.write_text(new)
    print(f"{path}: " + (f"rewrote the deps of {', '.join(stale)}" if stale else "up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
