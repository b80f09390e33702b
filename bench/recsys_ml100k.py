"""ml-100k under the DESIGN.md protocol, several seeds: MacridVAE against most-popular, Mult-VAE
and EASE on the same split in the same run. Prints NDCG@100 / Recall@20 / Recall@50 with standard
errors, the ratio of each model to MacridVAE, and the concept–genre NMI.

With --objectives own hierarchical ..., each seed also trains MacridVAE under the other named
objectives (bench.recsys_objectives) on the same split, beside the same baselines.

Every choice reads the validation users: each model's early stop, MacridVAE's size (MACRID_SIZES)
and Mult-VAE's (MULTVAE_SIZES, the same search), EASE's λ; the test users are scored once, for the
chosen models.

    python -m bench.recsys_ml100k [--seeds 0 1 2] [--objectives own hierarchical]
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.recsys_objectives import OBJECTIVES
from bench.seeds import run_seeds
from bench.results import verdict, verdict_note, write_result
from pipeline.cluster import dask_client
from pipeline.devices import seed_everything, torch_device
from pipeline.config import from_dict, read_params_with
from recsys.config import EvaluateRecsys, MultVAEConfig, TrainRecsys
from recsys.data import PrepareInteractions
from recsys.disentanglement import nmi
from recsys.fetch import ML100K_PARAMS, fetch_ml100k
from recsys.loaders import load_interactions
from recsys.macridvae import MacridVAE
from recsys.metrics import evaluate_scores
from recsys.split import split_interactions
from recsys.train import fit, score_users
from recsys.evaluate import baselines

METRICS = ("ndcg@100", "recall@20", "recall@50")
# the size search, chosen on validation NDCG@100: five sizes around each model's published one, the
# same search for both (a first run over three chose Mult-VAE's largest on every seed and the
# hierarchical objective's smallest: a choice at an edge says widen the grid; Mult-VAE then chose
# 2400x800, the new edge, on seed 0, so its grid runs one size further)
MACRID_SIZES = [{"dim": d, "hidden": d} for d in (25, 50, 100, 200, 400)]
MULTVAE_SIZES = [MultVAEConfig(hidden=3 * d, latent=d) for d in (50, 100, 200, 400, 800, 1600)]


def configs(overrides: list[str]):
    """The params.yaml blocks, with dvc-style `-S block.key=value` overrides (value parsed as YAML)."""
    params = read_params_with(overrides)
    return (from_dict(PrepareInteractions, params["prepare_interactions"], "prepare_interactions"),
            from_dict(TrainRecsys, params["train_recsys"], "train_recsys"),
            from_dict(EvaluateRecsys, params["evaluate_recsys"], "evaluate_recsys"))


def run_seed(raw, seed: int, client, overrides: list[str], objectives: dict[str, list[str]]) -> dict:
    """One split; MacridVAE under each objective (name → its overrides), then the baselines."""
    prep, _, evaluate = configs(overrides + [f"evaluate_recsys.seed={seed}"])
    data = split_interactions(raw, prep.split, seed, client)
    device = torch_device()
    known = data.item_category >= 0
    out = {"summary": data.summary()}
    for objective, extra in objectives.items():
        _, train, _ = configs(overrides + extra + [f"train_recsys.seed={seed}"])
        tried = []
        for size in MACRID_SIZES:
            seed_everything(train.seed, train.threads)
            model = MacridVAE(data.n_items, replace(train.model, **size))
            fitted = fit(model, data, train.train, train.seed, device, f"bench/macridvae/{objective}/seed{seed}")
            tried.append((fitted.best_ndcg, size, model))
        best_val, size, model = max(tried, key=lambda t: t[0])   # on the validation users
        name = "macridvae" if objective == "own" else f"macridvae_{objective}"
        out[name] = evaluate_scores(score_users(model, data.test_foldin, device), data.test_foldin, data.test_target)
        out[name] |= {"val_ndcg@100": best_val, "size": size, "size_at_grid_edge": size in (MACRID_SIZES[0], MACRID_SIZES[-1]),
                      "validation_ndcg@100": {f"{t[1]['dim']}": t[0] for t in tried}}
        out[name]["nmi"] = nmi(model.item_concepts().cpu().numpy()[known], data.item_category[known])
    out.update(baselines(evaluate, data, device, MULTVAE_SIZES))
    return out


def ranking_verdicts(runs: dict, seeds: list[int], macrids: list[str]) -> dict:
    """Issue 46's ranking targets on the seeds' test NDCG@100, same test users per seed: each objective
    at or above EASE and within 0.005 of the own objective (differences per seed), and at least
    1.02 × EASE (ratio per seed); met when mean − 2 s.e. clears the bar."""
    ndcg = {m: [runs[s][m]["ndcg@100"]["mean"] for s in seeds] for m in macrids + ["ease"]}
    out = {}
    for m in macrids:
        out[f"{m}_minus_ease"] = verdict([a - b for a, b in zip(ndcg[m], ndcg["ease"])], 0.0) | {
            "label": f"{m} NDCG@100 − EASE's"}
        out[f"{m}_over_ease"] = verdict([a / b for a, b in zip(ndcg[m], ndcg["ease"])], 1.02) | {
            "label": f"{m} NDCG@100 / EASE's"}
        if m != "macridvae":
            out[f"{m}_minus_own"] = verdict([a - b for a, b in zip(ndcg[m], ndcg["macridvae"])], -0.005) | {
                "label": f"{m} NDCG@100 − the own objective's"}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--objectives", nargs="+", choices=list(OBJECTIVES), default=["own"])
    ap.add_argument("-S", "--set", action="append", default=[], help="override a param, e.g. -S train_recsys.train.lr=0.002")
    args = ap.parse_args()
    raw = load_interactions("recbole", str(fetch_ml100k()))
    start = time.perf_counter()
    with dask_client() as client:
        overrides = [f"{k}={json.dumps(v)}" for k, v in ML100K_PARAMS.items()] + args.set
        objectives = {o: OBJECTIVES[o] for o in args.objectives}
        if "own" not in objectives:
            raise SystemExit("--objectives: 'own' is the served model and the table's reference; keep it")
        run_seeds(args.seeds, lambda seed: run_seed(raw, seed, client, overrides, objectives),
                  Path("bench/results/recsys_ml100k_partial.json"),
                  lambda runs: report(runs, overrides, objectives, start))


def report(runs: dict, overrides: list[str], objectives: dict, start: float) -> None:
    """Print the table and write the result for the seeds run so far (called after each seed)."""
    seeds = sorted(runs)
    macrids = ["macridvae"] + [f"macridvae_{o}" for o in objectives if o != "own"]
    models = macrids + ["multvae", "ease", "most_popular"]
    print(f"\nml-100k, strong generalization, seeds {seeds}; overrides {overrides}; {runs[seeds[0]]['summary']}")
    print(f"{'model':16s}" + "".join(f"{m:>22s}" for m in METRICS) + f"{'NDCG ratio to MacridVAE':>26s}")
    table = {}
    for name in models:
        means = {m: np.mean([runs[s][name][m]["mean"] for s in seeds]) for m in METRICS}
        # standard error of the seed-average: per-seed user SEs combined, plus the spread over seeds
        ses = {m: np.sqrt(np.mean([runs[s][name][m]["se"] ** 2 for s in seeds]) / len(seeds)
                          + (np.var([runs[s][name][m]["mean"] for s in seeds], ddof=1) / len(seeds)
                             if len(seeds) > 1 else 0)) for m in METRICS}
        ratio = means["ndcg@100"] / np.mean([runs[s]["macridvae"]["ndcg@100"]["mean"] for s in seeds])
        table[name] = {m: {"mean": means[m], "se": ses[m]} for m in METRICS}
        print(f"{name:16s}" + "".join(f"{means[m]:>14.4f} ± {ses[m]:.4f}" for m in METRICS) + f"{ratio:>26.3f}")
    for s in seeds:
        print(f"seed {s}: " + "  ".join(f"{n} {runs[s][n]['ndcg@100']['mean']:.4f}" for n in models)
              + f"  NMI(concept, genre) {runs[s]['macridvae']['nmi']:.3f}" + (f"  EASE λ {runs[s]['ease']['lambda']:g}"))
    print(f"concept–genre NMI mean {np.mean([runs[s]['macridvae']['nmi'] for s in seeds]):.3f}; "
          f"MacridVAE validation NDCG@100 (what a variant is chosen by) "
          + "  ".join(f"{m} {np.mean([runs[s][m]['val_ndcg@100'] for s in seeds]):.4f}" for m in macrids) + "; "
          f"total {time.perf_counter() - start:.0f}s on {platform.node()} ({platform.processor() or platform.machine()})")
    nmis = [runs[s]["macridvae"]["nmi"] for s in seeds]
    verdicts = ranking_verdicts(runs, seeds, macrids)
    for v in verdicts.values():
        print(verdict_note(v["label"], v))
    names = {"macridvae": "MacridVAE (what the service serves)", "multvae": "Mult-VAE", "ease": "EASE",
             "most_popular": "most popular"}
    names |= {f"macridvae_{o}": f"MacridVAE, {o} objective ({' '.join(extra)})" for o, extra in objectives.items()}
    macrid = table["macridvae"]["ndcg@100"]["mean"]
    write_result("recsys_ml100k", title="Recommendation quality on MovieLens ml-100k",
                 measures="The Mult-VAE / MacridVAE protocol (DESIGN.md): ratings ≥ 4 are positives, users with ≥ 5; "
                          "whole users held out for validation and test; each held-out user's items split 80/20 "
                          "fold-in/targets; all items ranked with fold-in masked. Split seed = model seed. MacridVAE "
                          "against most-popular, Mult-VAE and EASE (λ chosen on validation) on the same split in the "
                          "same run; mean over seeds ± standard error (user-level s.e. combined with the spread over "
                          "seeds). Needs `mdr data fetch ml-100k` first.",
                 seeds=seeds, per_seed=runs, summary=table["macridvae"],
                 baselines={k: v for k, v in table.items() if k != "macridvae"},
                 validation_ndcg=float(np.mean([runs[s]["macridvae"]["val_ndcg@100"] for s in seeds])),
                 protocol={"selected_on": "validation users: early stops, MacridVAE's and Mult-VAE's sizes "
                                          "(MACRID_SIZES, MULTVAE_SIZES), EASE's λ; the objectives beside own by "
                                          "bench.concept_levers on dev data",
                           "reported_on": "test users, scored once for the chosen models"},
                 objectives={m: {"validation_ndcg": float(np.mean([runs[s][m]["val_ndcg@100"] for s in seeds])),
                                 "nmi": float(np.mean([runs[s][m]["nmi"] for s in seeds]))} for m in macrids},
                 table={"columns": ["model", "NDCG@100", "Recall@20", "Recall@50", "NDCG ratio to MacridVAE"],
                        "rows": [[names[n]] + [table[n][m] for m in METRICS] + [table[n]["ndcg@100"]["mean"] / macrid]
                                 for n in models]},
                 verdicts=verdicts,
                 notes=[verdict_note(v["label"], v) for v in verdicts.values()] + [f"per-seed NDCG@100 ({' / '.join(names[n] for n in models[:-1])}): " + "; ".join(
                            " / ".join(f"{runs[s][n]['ndcg@100']['mean']:.4f}" for n in models[:-1]) for s in seeds),
                        "concept–genre NMI " + ", ".join(f"{v:.3f}" for v in nmis)
                        + ": ml-100k's behavioural concepts are not its genres"])


if __name__ == "__main__":
    main()
