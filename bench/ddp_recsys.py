"""Data-parallel MacridVAE (pipeline.distributed) against one process, same global batch and epochs.

The embedded default data; train_recsys run by the stage itself in a scratch copy of the repository,
with `distributed.nproc_per_node` 1 (2 torch threads) and 2 (gloo, 1 thread each: the same 2 cores),
for each seed. Patience is set to the epoch count, so both train every epoch and keep the best
validation NDCG@100. Reports the best validation NDCG@100 per seed (mean ± s.e. and the seed spread),
training time and throughput (training users per second, in all and per process).
Target: data-parallel within the single process's seed spread.

    python -m bench.ddp_recsys [--seeds 0 1 2] [--epochs 60]
"""
from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

import torch
import yaml

from bench.recsys_scale import run_stage
from bench.results import mean_se, write_result
from pipeline.config import set_param
from pipeline.scratch import scratch_repo
from recsys import artifacts

LAST_EPOCH = re.compile(r"\[train_recsys\] \d+/\d+ epoch (\d+) .*\(([\d.]+)s\)")


def train(dest: Path, env: dict, nproc: int, seed: int) -> dict:
    params = yaml.safe_load((dest / "params.yaml").read_text())
    set_param(params, "train_recsys.distributed.nproc_per_node", nproc)
    set_param(params, "train_recsys.seed", seed)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = run_stage("train_recsys", dest, env)
    epoch, seconds = LAST_EPOCH.findall(out["stderr"])[-1]
    saved = torch.load(dest / artifacts.MODEL, weights_only=False)
    return {"val_ndcg@100": float(saved["best_val_ndcg"]), "best_epoch": int(saved["best_epoch"]),
            "epochs": int(epoch), "train_seconds": float(seconds)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=60)
    args = ap.parse_args()
    per_seed = {1: {}, 2: {}}
    with tempfile.TemporaryDirectory(prefix="ddp_recsys_") as scratch:
        dest, env = scratch_repo(scratch, {"train_recsys.train.epochs": args.epochs,
                                           "train_recsys.train.patience": args.epochs, "train_recsys.threads": 2})
        env = {**env, "MDR_DEVICE": "cpu"}
        run_stage("prepare_interactions", dest, env)
        n_train = int(json.loads((dest / artifacts.DATA_METRICS).read_text())["n_train_users"])
        for seed in args.seeds:
            for nproc in (1, 2):
                r = train(dest, env, nproc, seed)
                r["users_per_second"] = n_train * r["epochs"] / r["train_seconds"]
                r["users_per_second_per_process"] = r["users_per_second"] / nproc
                per_seed[nproc][seed] = r
                print(f"seed {seed}, {nproc} process(es): val NDCG@100 {r['val_ndcg@100']:.4f} (epoch "
                      f"{r['best_epoch']}), {r['train_seconds']:.1f} s, {r['users_per_second']:.0f} users/s", flush=True)
            summary = {f"nproc_{n}": {k: mean_se([per_seed[n][s][k] for s in per_seed[n]])
                                      for k in ("val_ndcg@100", "train_seconds", "users_per_second",
                                                "users_per_second_per_process")} for n in (1, 2)}
            one, two = summary["nproc_1"]["val_ndcg@100"], summary["nproc_2"]["val_ndcg@100"]
            within = abs(two["mean"] - one["mean"]) <= max(one["sd"], 1e-12) if one["n"] > 1 else None
            rows = [[f"{n} process{'es' if n > 1 else ''}" + (" (gloo, 1 thread each)" if n > 1 else " (2 threads)"),
                     summary[f"nproc_{n}"]["val_ndcg@100"], round(summary[f"nproc_{n}"]["val_ndcg@100"]["sd"], 4),
                     summary[f"nproc_{n}"]["train_seconds"], round(summary[f"nproc_{n}"]["users_per_second"]["mean"]),
                     round(summary[f"nproc_{n}"]["users_per_second_per_process"]["mean"])] for n in (1, 2)]
            write_result("ddp_recsys", title="Data-parallel MacridVAE on 2 CPU processes against one process",
                         protocol={"selected_on": "nothing chosen: one process against two on the same split; each run's early "
                                          "stop on validation users",
                           "reported_on": "the best validation NDCG@100 (what the two runs must agree on) and throughput"},
                         measures=f"train_recsys on the embedded default data ({n_train} training users), batch 128 "
                                  f"global, {args.epochs} epochs with patience {args.epochs}, the best validation "
                                  "NDCG@100 per seed; one process with 2 torch threads against 2 gloo processes "
                                  "with 1 thread each (pipeline.distributed) on the same 2 cores. Throughput: "
                                  "training users per second of training (validation included). Target: "
                                  "data-parallel within the single process's seed spread (|Δ mean| ≤ its sd).",
                         table={"columns": ["training", "val NDCG@100", "seed sd", "train s", "users/s",
                                            "users/s per process"], "rows": rows},
                         seeds=list(per_seed[1]), per_seed={f"{n}_{s}": per_seed[n][s] for n in per_seed for s in per_seed[n]},
                         summary=summary | {"within_seed_spread": within},
                         baselines={"single_process": summary["nproc_1"]},
                         notes=[f"|Δ mean NDCG@100| = {abs(two['mean'] - one['mean']):.4f}, single-process seed sd "
                                f"{one['sd']:.4f}: within the spread: {within}"])


if __name__ == "__main__":
    main()
