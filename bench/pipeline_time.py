"""Wall time of the pipeline with `dvc repro`, in a scratch copy of the repository: the whole default
pipeline (every model; DESIGN.md budget 10 minutes, the recommender's own stages 3 minutes) and the
recommender's stages on ml-100k (2 minutes). Prints per-stage seconds and the ratio to each budget.

    python -m bench.pipeline_time [--only default|ml-100k]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time

from recsys.fetch import ML100K_PARAMS, fetch_ml100k

BUDGETS = {"default": 600.0, "ml-100k": 120.0}
RECSYS_BUDGET = 180.0
RECSYS_STAGES = ["prepare_interactions", "train_recsys", "evaluate_recsys", "index_recsys"]


def timed_repro(overrides: dict, targets: list[str] = ()) -> tuple[float, dict]:
    from pipeline.scratch import scratch_repo

    with tempfile.TemporaryDirectory() as tmp:
        dest, env = scratch_repo(tmp, overrides)
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "dvc", "repro", *targets], cwd=dest, env=env, capture_output=True, text=True)
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
        cases["ml-100k"] = {**ML100K_PARAMS, "prepare_interactions.path": str(ml.resolve())}
    for name, overrides in cases.items():
        if args.only and name != args.only:
            continue
        total, stages = timed_repro(overrides, RECSYS_STAGES if name == "ml-100k" else [])
        per = "  ".join(f"{k} {v:.1f}s" for k, v in stages.items())
        print(f"{name:8s} total {total:6.1f}s  budget {BUDGETS[name]:.0f}s  ratio {total / BUDGETS[name]:.2f}   {per}")
        if name == "default":
            recsys = sum(v for k, v in stages.items() if k in RECSYS_STAGES)
            print(f"{'':8s} recommender stages {recsys:.1f}s (stage time, without dvc overhead)  "
                  f"budget {RECSYS_BUDGET:.0f}s  ratio {recsys / RECSYS_BUDGET:.2f}")


if __name__ == "__main__":
    main()
