"""A benchmark's result kept as data: docs/results/<name>.json, committed.

Each file holds what made it (command, date, git revision, machine: nproc, CPU model, torch
threads, device), what it measures, per-seed values, the summary (mean ± standard error over seeds)
with its baselines from the same run, and the one table docs/benchmarks.md shows (`bench.report`
renders that file from these). `provenance` says whether the figures were measured by the command
on that revision, or carried over from an earlier write-up. A bench refuses to write docs/results/
from a modified work tree (the revision would not say what ran) unless MDR_ALLOW_DIRTY=1 asks it to;
such a file says `"provenance": "provisional: ..."` and the page shows it so. `verdict` is the one
rule for "met": mean − 2 s.e. clears the target (mean + 2 s.e. for a ceiling), every seed shown.
Every file says its `protocol`: what made its choices (`selected_on`: dev voices, validation users,
the val split, or nothing chosen) and what it reports on (`reported_on`); never test for both.
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

from pipeline.tolerance import TOLERANCES

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
FIELDS = ("benchmark", "title", "measures", "command", "date", "git_revision", "machine", "provenance",
          "seeds", "per_seed", "summary", "baselines", "table")


# what benchmarks write: a result written by one bench does not make the next bench's code "modified"
BENCH_OUTPUTS = ("docs/results", "docs/benchmarks.md", TOLERANCES.as_posix())


def git_revision() -> str:
    """The commit the benchmark ran on, with "+changes" when the work tree's code differed from it
    (benchmark outputs aside)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    rev = git("rev-parse", "--short=12", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", *(f":(exclude){p}" for p in BENCH_OUTPUTS))
    return rev + ("+changes" if changed else "")


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


class DirtyTree(RuntimeError):
    """docs/results/ written from a work tree that differs from its commit."""


def earlier_arms(arms: dict, revision: str, measuring=()) -> dict:
    """An earlier result's arms that this run does not re-measure, each naming the revision it was
    measured at (its own `measured_at`, else the earlier result's `revision`)."""
    return {n: a | {"measured_at": a.get("measured_at", revision)} for n, a in arms.items() if n not in measuring}


def provenance(revision: str, out: Path) -> str:
    """"measured", or "provisional: ..." when a modified tree writes docs/results/ and MDR_ALLOW_DIRTY=1
    allows it; without that, a DirtyTree error."""
    if not revision.endswith("+changes"):
        return "measured"
    if Path(out).resolve() != RESULTS.resolve():
        return "provisional: a trial run from a modified work tree"
    if os.environ.get("MDR_ALLOW_DIRTY") != "1":
        raise DirtyTree("the work tree has uncommitted changes, so docs/results/ could not name the code that ran: "
                        "commit first (or set MDR_ALLOW_DIRTY=1 to write a provisional result)")
    return "provisional: written from a modified work tree (MDR_ALLOW_DIRTY=1)"


def verdict(values, target: float, higher: bool = True) -> dict:
    """Whether per-seed `values` meet `target`: mean − 2 s.e. ≥ target (higher is better), or
    mean + 2 s.e. ≤ target; with the bound, each seed and whether each seed alone clears it."""
    stats = mean_se(values)
    bound = stats["mean"] - 2 * stats["se"] if higher else stats["mean"] + 2 * stats["se"]
    met = bound >= target if higher else bound <= target
    per_seed = [bool(v >= target if higher else v <= target) for v in values]
    return {"target": target, "higher_is_better": higher, "bound": bound, "met": bool(met),
            "seeds": [float(v) for v in values], "seeds_meeting": per_seed} | stats


def verdict_note(label: str, v: dict) -> str:
    """One line for a result's notes: the verdict, its bound and each seed."""
    op = ">=" if v["higher_is_better"] else "<="
    return (f"{label}: {'met' if v['met'] else 'missed'} against {op} {v['target']:g} (mean {v['mean']:.3f}, "
            f"mean {'-' if v['higher_is_better'] else '+'} 2 s.e. {v['bound']:.3f}; seeds "
            + ", ".join(f"{x:.3f}{'' if ok else ' (misses)'}" for x, ok in zip(v["seeds"], v["seeds_meeting"])) + ")")


def check_protocol(name: str, protocol: dict) -> None:
    """A result's protocol names what selected and what reported, and nothing was chosen on test."""
    missing = [k for k in ("selected_on", "reported_on") if not str(protocol.get(k, "")).strip()]
    if missing:
        raise ValueError(f"{name}: protocol needs {' and '.join(missing)}")
    if protocol["selected_on"].lower().startswith("test"):
        raise ValueError(f"{name}: protocol.selected_on is test; choices are made on dev/validation data")


def write_result(name: str, *, title: str, measures: str, table: dict, protocol: dict, seeds=(), per_seed=None,
                 summary=None, baselines=None, notes=(), out: Path = RESULTS, **extra) -> Path:
    """Write docs/results/<name>.json. `table` is {"columns": [...], "rows": [[...], ...]}; a cell is
    a string, a number, or {"mean", "se"}. `protocol`: {"selected_on", "reported_on", ...}."""
    if not table.get("columns") or any(len(r) != len(table["columns"]) for r in table.get("rows", [])):
        raise ValueError(f"{name}: every table row needs one cell per column {table.get('columns')}")
    check_protocol(name, protocol)
    revision = git_revision()
    result = {"benchmark": name, "title": title, "measures": measures, "command": command_line(),
              "date": time.strftime("%Y-%m-%d"), "git_revision": revision, "machine": machine(),
              "provenance": provenance(revision, out), "seeds": list(seeds),
              "per_seed": {str(k): v for k, v in (per_seed or {}).items()},
              "summary": summary or {}, "baselines": baselines or {}, "table": table, "notes": list(notes),
              "protocol": protocol} | extra
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2, default=float) + "\n")
    tmp.replace(path)
    print(f"result: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path
