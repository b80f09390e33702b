"""A benchmark's result kept as data: docs/results/<name>.json, committed.

Each file holds what made it (command, date, git revision, machine: nproc, CPU model, torch
threads, device), what it measures, per-seed values, the summary (mean ± standard error over seeds)
with its baselines from the same run, and the one table docs/benchmarks.md shows (`bench.report`
renders that file from these). `provenance` says whether the figures were measured by the command
on that revision, or carried over from an earlier write-up.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
FIELDS = ("benchmark", "title", "measures", "command", "date", "git_revision", "machine", "provenance",
          "seeds", "per_seed", "summary", "baselines", "table")


def git_revision() -> str:
    """The commit the benchmark ran on, with "+changes" when the work tree differed from it."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    rev = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return rev + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    import torch

    return {"nproc": os.cpu_count(), "cpu": cpu_model(), "arch": platform.machine(),
            "torch_threads": torch.get_num_threads(), "torch": torch.__version__.split("+")[0],
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"}


def mean_se(values) -> dict:
    """{mean, se, sd, n} of per-seed values (se, sd = 0 for one value)."""
    v = np.asarray(values, dtype=float)
    sd = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    return {"mean": float(v.mean()), "se": float(sd / np.sqrt(len(v))), "sd": sd, "n": len(v)}


def command_line() -> str:
    return "python -m " + Path(sys.argv[0]).with_suffix("").relative_to(ROOT).as_posix().replace("/", ".") + \
        "".join(f" {a}" for a in sys.argv[1:]) if sys.argv[0].startswith(str(ROOT)) else " ".join(sys.argv)


def write_result(name: str, *, title: str, measures: str, table: dict, seeds=(), per_seed=None,
                 summary=None, baselines=None, notes=(), out: Path = RESULTS, **extra) -> Path:
    """Write docs/results/<name>.json. `table` is {"columns": [...], "rows": [[...], ...]}; a cell is
    a string, a number, or {"mean", "se"}."""
    if not table.get("columns") or any(len(r) != len(table["columns"]) for r in table.get("rows", [])):
        raise ValueError(f"{name}: every table row needs one cell per column {table.get('columns')}")
    result = {"benchmark": name, "title": title, "measures": measures, "command": command_line(),
              "date": time.strftime("%Y-%m-%d"), "git_revision": git_revision(), "machine": machine(),
              "provenance": "measured", "seeds": list(seeds),
              "per_seed": {str(k): v for k, v in (per_seed or {}).items()},
              "summary": summary or {}, "baselines": baselines or {}, "table": table, "notes": list(notes)} | extra
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2, default=float) + "\n")
    tmp.replace(path)
    print(f"result: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path
