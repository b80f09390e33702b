"""Wall time of the whole recommender pipeline (prepare → index) with `dvc repro`, in a scratch copy
of the repository, on the embedded default and on ml-100k. Prints per-stage seconds and the ratio of
the total to its budget (3 minutes default, 2 minutes ml-100k).

    python -m bench.pipeline_time [--only default|ml-100k]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time

from recsys.fetch import fetch_ml100k

BUDGETS = {"default": 180.0, "ml-100k": 120.0}


def timed_repro(overrides: dict) -> tuple[float, dict]:
    from pipeline.scratch import scratch_repo

    with tempfile.TemporaryDirectory() as tmp:
        dest, env = scratch_repo(tmp, overrides)
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=dest, env=env, capture_output=True, text=True)
        total = time.perf_counter() - start
        if out.returncode != 0:
            raise SystemExit(f"dvc repro failed:\n{out.stderr[-2000:]}")
        stages = dict(re.findall(r"\[(\w+)\] done in ([\d.]+)s", out.stderr))
        return total, {k: float(v) for k, v in stages.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=list(BUDGETS))
    args = ap.parse_args()
    cases = {"default": {}}
    if args.only != "default":
        ml = fetch_ml100k()
        cases["ml-100k"] = {"prepare_interactions.source": "recbole", "prepare_interactions.path": str(ml.resolve())}
    for name, overrides in cases.items():
        if args.only and name != args.only:
            continue
        total, stages = timed_repro(overrides)
        per = "  ".join(f"{k} {v:.1f}s" for k, v in stages.items())
        print(f"{name:8s} total {total:6.1f}s  budget {BUDGETS[name]:.0f}s  ratio {total / BUDGETS[name]:.2f}   {per}")


if __name__ == "__main__":
    main()
