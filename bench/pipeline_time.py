"""The default pipeline from nothing (`dvc repro` in a scratch copy of the repository), once per seed:
its wall time per stage against the 10-minute budget (DESIGN.md; the recommender's own stages 3
minutes), and its headline metrics, whose spread over seeds sets the tolerances that
`mdr metrics` compares a run with. Optionally the recommender's stages on ml-100k (2 minutes).

    python -m bench.pipeline_time [--seeds 0 1 2] [--tolerances] [--ml100k]

Writes docs/results/pipeline_time.json and default_run.json (after every seed, so a stopped run keeps
what it finished); --tolerances also writes metrics/tolerances.yaml.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from bench.results import ROOT, mean_se, write_result
from pipeline.tolerance import TOLERANCES, lookup

BUDGET, RECSYS_BUDGET, ML100K_BUDGET = 600.0, 180.0, 120.0
RECSYS_STAGES = ["prepare_interactions", "train_recsys", "evaluate_recsys", "index_recsys"]
# (metrics file, dotted key, label, better): the default run's headline metrics
HEADLINE = [
    ("recsys.json", "macridvae.ndcg@100.mean", "MacridVAE NDCG@100", "higher"),
    ("recsys.json", "macridvae.recall@20.mean", "MacridVAE Recall@20", "higher"),
    ("recsys.json", "multvae.ndcg@100.mean", "Mult-VAE NDCG@100", "higher"),
    ("recsys.json", "ease.ndcg@100.mean", "EASE NDCG@100", "higher"),
    ("recsys.json", "most_popular.ndcg@100.mean", "most popular NDCG@100", "higher"),
    ("recsys.json", "disentanglement.nmi_concept_category", "concept–category NMI", "higher"),
    ("translation.json", "content_preservation", "DRIT content preservation", "higher"),
    ("translation.json", "da_translated", "DRIT DA accuracy (translated source)", "higher"),
    ("translation.json", "da_source_only", "source-only accuracy", "higher"),
    ("translation.json", "da_target_only", "target-only accuracy", "higher"),
    ("translation.json", "diversity_ratio", "DRIT diversity ratio", "higher"),
    ("translation.json", "probe_content_to_class", "probe content → class", "higher"),
    ("translation_index.json", "precision@10_a2b", "content search P@10 A→B", "higher"),
    ("translation_index.json", "precision@10_b2a", "content search P@10 B→A", "higher"),
    ("text_speech.json", "semi_g2p_per", "semi-supervised G2P PER", "lower"),
    ("text_speech.json", "supervised_g2p_per", "supervised-only G2P PER", "lower"),
    ("text_speech.json", "g2p_per_ratio_semi_to_supervised", "G2P PER ratio semi / supervised", "lower"),
    ("text_speech.json", "p2g_ler_ratio_semi_to_supervised", "P2G LER ratio semi / supervised", "lower"),
    ("text_speech.json", "text2speech_recall@10", "text → speech Recall@10", "higher"),
    ("text_speech.json", "speech2text_recall@10", "speech → text Recall@10", "higher"),
    ("text_speech.json", "by_family.parametric.text2speech_recall@10", "text → speech Recall@10, parametric test voices", "higher"),
    ("text_speech.json", "dev.text2speech_recall@10", "text → speech Recall@10, dev voices", "higher"),
    ("text_speech.json", "voice_probe_content", "voice probe on the content code", "lower"),
]
NOISE_CV = 0.10   # a metric whose seed-to-seed s.d. is over 10 % of its mean is mostly noise


def seed_overrides(params_path: Path, seed: int) -> dict:
    params = yaml.safe_load(params_path.read_text())
    return {f"{block}.seed": seed for block, body in params.items() if isinstance(body, dict) and "seed" in body}


def out_hashes(lock_path: Path) -> dict:
    """{out path: md5} from a dvc.lock: equal hashes mean byte-identical models, data and indexes."""
    lock = yaml.safe_load(lock_path.read_text())
    return {o["path"]: o.get("md5") for s in lock["stages"].values() for o in s.get("outs", [])}


def timed_repro(overrides: dict, targets: list[str] = ()) -> tuple[float, dict, dict, dict]:
    """(wall seconds, {stage: seconds}, {metrics file: contents}, {out: md5}) of `dvc repro` in a
    scratch copy."""
    from pipeline.scratch import scratch_repo

    with tempfile.TemporaryDirectory() as tmp:
        dest, env = scratch_repo(tmp, overrides)
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "dvc", "repro", *targets], cwd=dest, env=env,
                             capture_output=True, text=True)
        total = time.perf_counter() - start
        if out.returncode != 0:
            raise SystemExit(f"dvc repro failed:\n{out.stderr[-2000:]}")
        stages = {k: float(v) for k, v in re.findall(r"\[(\w+)\] done in ([\d.]+)s", out.stderr)}
        metrics = {p.name: json.loads(p.read_text()) for p in (dest / "metrics").glob("*.json")}
        return total, stages, metrics, out_hashes(dest / "dvc.lock")


def headline(metrics: dict) -> dict:
    return {f"{f}:{k}": lookup(metrics.get(f, {}), k) for f, k, _, _ in HEADLINE}


def tolerance(sd: float, mean: float) -> float:
    """3 s.d. over seeds (a change larger than that is unlikely to be seed or CPU noise), at least
    1 % of the value, rounded up to 3 decimals."""
    return float(np.ceil(max(3 * sd, 0.01 * abs(mean), 1e-3) * 1000) / 1000)


def write_time(runs: dict, seeds: list[int]):
    stages = list(next(iter(runs.values()))["stages"])
    rows = [[s] + [runs[k]["stages"].get(s) for k in seeds] + [mean_se([runs[k]["stages"].get(s, 0) for k in seeds])]
            for s in stages]
    totals = [runs[k]["total"] for k in seeds]
    recsys = [sum(runs[k]["stages"].get(s, 0) for s in RECSYS_STAGES) for k in seeds]
    rows.append(["**whole `dvc repro`**"] + totals + [mean_se(totals)])
    rows.append([f"ratio to the {BUDGET:.0f} s budget"] + [t / BUDGET for t in totals] + [float(np.mean(totals)) / BUDGET])
    rows.append([f"recommender stages / {RECSYS_BUDGET:.0f} s"] + [r / RECSYS_BUDGET for r in recsys]
                + [float(np.mean(recsys)) / RECSYS_BUDGET])
    write_result("pipeline_time", title="Whole default pipeline time (prepare → index, all three models)",
                 protocol={"selected_on": "nothing chosen: the default params as they are",
                           "reported_on": "wall seconds of each stage of `dvc repro` on this machine"},
                 measures="Wall seconds of `dvc repro` from nothing in a scratch copy of the repository (Dask "
                          "LocalCluster start, MLflow sqlite store, every stage's process start included), "
                          "per stage, against the 10-minute budget of DESIGN.md.",
                 seeds=seeds, per_seed=runs, summary={"total_seconds": mean_se(totals)},
                 baselines={"budget_seconds": BUDGET, "recsys_budget_seconds": RECSYS_BUDGET},
                 table={"columns": ["stage"] + [f"seed {k} (s)" for k in seeds] + ["mean ± s.e."], "rows": rows})


def write_metrics(runs: dict, seeds: list[int], committed: dict, tolerances_path: Path | None):
    rows, summary, spec = [], {}, {}
    for f, k, label, better in HEADLINE:
        values = [runs[s]["metrics"][f"{f}:{k}"] for s in seeds]
        if any(v is None for v in values):
            continue
        stats = mean_se(values)
        tol = tolerance(stats["sd"], stats["mean"])
        noise = stats["sd"] > NOISE_CV * abs(stats["mean"])
        summary[f"{f}:{k}"] = stats | {"tolerance": tol, "noise": noise, "better": better}
        spec.setdefault(f, {})[k] = {"tolerance": tol, "sd": round(stats["sd"], 5), "noise": noise}
        rows.append([label] + values + [stats, tol, lookup(committed.get(f, {}), k),
                                        "mostly noise" if noise else ""])
    write_result("default_run", title="The default run's headline metrics over seeds, and their tolerances",
                 protocol={"selected_on": "each stage's own choices: early stops and EASE's λ on validation users, "
                                          "the channel's checkpoint on dev words; nothing chosen from these figures",
                           "reported_on": "the evaluate stages' test figures (test users, a_test/b_test, test "
                                          "words in the test voices)"},
                 measures="`dvc repro` with every stage's seed set to 0, 1, 2 (the default params: small "
                          "budgets sized for 10 minutes on 2 cores). The tolerance of a metric is 3 s.d. over "
                          "seeds (at least 1 % of it); `mdr metrics` flags a run whose metric moved further "
                          "from the committed value. Metrics with s.d. over 10 % of the mean are mostly noise "
                          "at this budget: the benchmarks below measure those at a larger one.",
                 seeds=seeds, per_seed={s: runs[s]["metrics"] for s in seeds}, summary=summary,
                 baselines={"committed": {f"{f}:{k}": lookup(committed.get(f, {}), k) for f, k, _, _ in HEADLINE if f"{f}:{k}" in summary}},
                 table={"columns": ["metric"] + [f"seed {s}" for s in seeds] + ["mean ± s.e.", "tolerance",
                                                                                "committed when run", ""], "rows": rows})
    if tolerances_path:
        header = ("# Tolerances of the default run's headline metrics: 3 s.d. over seeds 0-2 (at least 1 %),\n"
                  "# written by `python -m bench.pipeline_time --tolerances` (docs/results/default_run.json).\n"
                  "# `mdr metrics` compares a run's metrics/*.json with the committed ones under these.\n")
        tolerances_path.write_text(header + yaml.safe_dump(spec, sort_keys=False))
        print(f"wrote {tolerances_path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--tolerances", action="store_true", help="write metrics/tolerances.yaml from the spread")
    ap.add_argument("--ml100k", action="store_true", help="also time the recommender's stages on ml-100k")
    args = ap.parse_args()
    committed = {p.name: json.loads(p.read_text()) for p in (ROOT / "metrics").glob("*.json")}
    runs = {}
    for seed in args.seeds:
        total, stages, metrics, outs = timed_repro(seed_overrides(ROOT / "params.yaml", seed))
        runs[seed] = {"total": total, "stages": stages, "metrics": headline(metrics), "outs": outs}
        print(f"[seed {seed} done] total {total:.1f}s ratio {total / BUDGET:.2f}  "
              + "  ".join(f"{k} {v:.1f}s" for k, v in stages.items()), flush=True)
        done = sorted(runs)
        write_time(runs, done)
        write_metrics(runs, done, committed, ROOT / TOLERANCES if args.tolerances else None)
    if args.ml100k:
        from recsys.fetch import ML100K_PARAMS, fetch_ml100k

        ml = fetch_ml100k()
        total, stages, _, _ = timed_repro({**ML100K_PARAMS, "prepare_interactions.path": str(ml.resolve())},
                                       RECSYS_STAGES)
        write_result("pipeline_time_ml100k", title="The recommender's stages on ml-100k",
                     protocol={"selected_on": "nothing chosen: the ml-100k params as they are",
                               "reported_on": "wall seconds of the recommender's stages on this machine"},
                     measures="Wall seconds of `dvc repro` of the four recommender stages on ml-100k in a "
                              "scratch copy, against their 2-minute budget.",
                     summary={"total_seconds": total}, baselines={"budget_seconds": ML100K_BUDGET},
                     table={"columns": ["stage", "s"], "rows": [[k, v] for k, v in stages.items()]
                            + [["**total**", total], ["ratio to budget", total / ML100K_BUDGET]]})


if __name__ == "__main__":
    main()
