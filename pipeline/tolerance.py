"""Noise or regression? A run's metrics/*.json against the committed ones, within each headline
metric's tolerance (metrics/tolerances.yaml: per file, per dotted key, the allowed absolute change,
set from the spread of the default run over seeds by `python -m bench.pipeline_time --tolerances`).

Cross-CPU bit equality is not to be had (float reductions differ), so a metric counts as moved only
when it changed by more than its tolerance; keys with no tolerance are not compared.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

METRICS = Path("metrics")                     # every stage's metrics/*.json, committed
TOLERANCES = METRICS / "tolerances.yaml"       # the headline keys `mdr metrics` compares, each with its tolerance


@dataclass(frozen=True)
class Comparison:
    file: str
    key: str
    committed: float | None
    now: float | None
    tolerance: float
    noise: bool          # the metric is mostly noise at the default budget

    @property
    def moved(self) -> bool:
        if self.committed is None or self.now is None:
            return self.committed != self.now
        return abs(self.now - self.committed) > self.tolerance


def lookup(tree: dict, dotted: str):
    """tree["a"]["b"] for "a.b"; keys may hold dots themselves ("ndcg@100"), so the longest match wins."""
    if dotted in tree:
        return tree[dotted]
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head, rest = ".".join(parts[:i]), ".".join(parts[i:])
        if head in tree and isinstance(tree[head], dict):
            return lookup(tree[head], rest)
    return None


def number(tree: dict, dotted: str) -> float | None:
    value = lookup(tree, dotted)
    return float(value) if isinstance(value, (int, float)) else None


def committed_json(path: str, ref: str, cwd: Path) -> dict | None:
    out = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=cwd, capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else None


def read_tolerances(path) -> dict:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no tolerances file (python -m bench.pipeline_time --tolerances writes it)")
    spec = yaml.safe_load(path.read_text()) or {}
    if not isinstance(spec, dict) or not all(isinstance(v, dict) for v in spec.values()):
        raise ValueError(f"{path}: expected {{metrics file: {{dotted key: {{tolerance: number}}}}}}")
    return spec


def compare_metrics(folder=METRICS, tolerances=TOLERANCES, ref: str = "HEAD") -> list[Comparison]:
    folder = Path(folder)
    rows = []
    for name, keys in read_tolerances(tolerances).items():
        now_path = folder / name
        if not now_path.exists():
            raise FileNotFoundError(f"{now_path}: no such metrics file (run dvc repro)")
        now = json.loads(now_path.read_text())
        then = committed_json((METRICS / name).as_posix(), ref, folder.resolve().parent) or {}
        for key, spec in keys.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("tolerance"), (int, float)):
                raise ValueError(f"{tolerances}: {name}: {key}: needs a numeric 'tolerance'")
            rows.append(Comparison(name, key, number(then, key), number(now, key), float(spec["tolerance"]),
                                   bool(spec.get("noise", False))))
    return rows


def print_comparison(rows: list[Comparison], ref: str) -> None:
    fmt = lambda v: "—" if v is None else f"{v:.4f}"
    print(f"{'metric':52s} {ref:>10s} {'now':>10s} {'change':>9s} {'tolerance':>9s}")
    for r in rows:
        change = "" if r.now is None or r.committed is None else f"{r.now - r.committed:+.4f}"
        status = "MOVED" if r.moved else ("ok (noise at this budget)" if r.noise else "ok")
        print(f"{r.file + ': ' + r.key:52s} {fmt(r.committed):>10s} {fmt(r.now):>10s} {change:>9s} "
              f"{r.tolerance:9.4f}  {status}")
