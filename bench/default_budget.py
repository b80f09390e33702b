"""What would shorten the default run, and what it would cost: each lever on the image model (half
of the default run's time: DRIT's training and its evaluation's three classifiers) at the default
params on MNIST-M-lite, scored on the val split only (the choice is whether to take the lever).

Levers: evaluate_translation's classifier budget (the judge, the practitioner source-only and the
classifier on translated source train 480 steps each; 2/3 of it), and DRIT's extra content-discriminator
updates per step (content_dis_extra). A lever is worth taking when it saves time and its val
figures stay within the default run's seed-to-seed spread (metrics/tolerances.yaml).

    python -m bench.default_budget [--seeds 0]
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from bench.results import write_result
from bench.seeds import run_seeds, seed_bench_parser, seed_table
from bench.translation import configs, train_drit
from pipeline.cluster import dask_client
from translation.images.evaluate import evaluate
from translation.images.sources import build_mnist_m

KEYS = ("content_preservation", "da_translated", "da_source_only", "da_target_only", "da_gain_over_source_only",
        "probe_search_to_domain_knn")
SHORTER_CLASSIFIER = 2 / 3          # the shorter classifier budget, as a share of the default (480 → 320)
CONTENT_DIS_EXTRA = (2, 1, 0)        # the default first


def score(model, data, eval_cfg, seed: int, steps: int, pool: int) -> dict:
    start = time.perf_counter()
    m, _ = evaluate(model, data, replace(eval_cfg.classifier, steps=steps), seed, eval_cfg.codes_per_input,
                    eval_cfg.da_copies, pool, say=lambda _: None, held="val", diagnostics=eval_cfg.diagnostics)
    return {k: m[k] for k in KEYS} | {"evaluate_seconds": time.perf_counter() - start}


def run_seed(seed: int, client, overrides: list[str]) -> dict:
    prep, train_cfg, eval_cfg, pool = configs(overrides, "mnist_m")
    data = build_mnist_m(prep.mnist_m, seed, client)
    out = {}
    for extra in CONTENT_DIS_EXTRA:
        cfg = replace(train_cfg, train=replace(train_cfg.train, content_dis_extra=extra))
        model, seconds = train_drit(data, cfg, seed, f"bench/default_budget/content_dis_extra={extra}/seed{seed}")
        budgets = [eval_cfg.classifier.steps]
        if extra == CONTENT_DIS_EXTRA[0]:
            budgets.append(round(eval_cfg.classifier.steps * SHORTER_CLASSIFIER))
        for steps in budgets:
            arm = f"content_dis_extra={extra},classifier_steps={steps}"
            out[arm] = score(model, data, eval_cfg, seed, steps, pool) | {"train_seconds": seconds}
            print(f"[seed {seed}] {arm} " + ", ".join(f"{k} {v:.3f}" for k, v in out[arm].items()), flush=True)
    return out


def write(runs: dict, args, started: float) -> None:
    seeds = sorted(runs)
    arms = list(runs[seeds[0]])
    table = {arm: seed_table({s: runs[s][arm] for s in seeds}, seeds, quiet=True) for arm in arms}
    base = table[arms[0]]
    cols = ("train_seconds", "evaluate_seconds", "content_preservation", "da_translated", "da_source_only")
    rows = [[arm] + [table[arm][k] for k in cols] +
            [round(base["da_translated"]["mean"] - table[arm]["da_translated"]["mean"], 4)] for arm in arms]
    write_result("default_budget", title="What shortening the default run would cost (image model, val split)",
                 measures="DRIT at the default params on MNIST-M-lite, trained once per content_dis_extra setting "
                          "and evaluated on the val split with the default and a shorter classifier budget: "
                          "seconds to train and to evaluate, content preservation, DA of the classifier on "
                          "translated source, the practitioner source-only.",
                 seeds=seeds, per_seed=runs, summary=table, overrides=args.set,
                 wall_seconds=time.perf_counter() - started,
                 protocol={"selected_on": "val: a_val, b_val (whether to take a lever)",
                           "reported_on": "val only: no test figure is read; the default run's test figures are "
                                          "bench.pipeline_time's"},
                 table={"columns": ["arm (default first)", *cols, "DA translated lost"], "rows": rows},
                 out=Path(args.results))


def main():
    args = seed_bench_parser(__doc__, "the per-seed partial file").parse_args()
    started = time.perf_counter()
    with dask_client() as client:
        run_seeds(args.seeds, lambda s: run_seed(s, client, args.set), Path(args.out, "default_budget.partial.json"),
                  after_each=lambda runs: write(runs, args, started))


if __name__ == "__main__":
    main()
