"""Issue 46's levers for steerable concepts and for ranking, each measured on dev data only.

Every arm (bench.recsys_objectives.OBJECTIVES: a name and its params overrides) trains MacridVAE twice per seed (split seed =
model seed; measures averaged over seeds), on data no reported figure is computed on:
  - concepts: the embedded generator drawn with DEV_DATA_SEED, a different draw of planted concepts
    from the one bench.concept_recovery reports on. Planted-concept NMI, and the planted-category
    steering share of the validation users' one-hot-steered top-20 (bench.concept_recovery.steering);
  - ranking: ml-100k's validation users' NDCG@100 (params.yaml's size).
The rules that read these (fixed before the run, applied in `choose`):
  - the joint objective: among arms with dev NMI >= 0.80 and dev steering >= 0.70, the highest
    ml-100k validation NDCG@100;
  - the best ranking objective: the highest ml-100k validation NDCG@100 of all arms;
  - the hierarchical objective's weight (HIERARCHICAL_WEIGHTS' arms): the joint rule among them, or,
    when none is steerable, the highest dev steering share (planted).
bench.concept_recovery and bench.recsys_ml100k then report the chosen objectives on their own
seeds and test users. Arms run two at a time on the Dask workers (one thread each).

    python -m bench.concept_levers [--seeds 0 1] [--arms own anchors_5 ...] [--merge]

--merge keeps the arms of the existing result that this run does not measure (same seeds only), each
with the revision it was measured at, so one lever can be added without re-running the rest.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bench.concept_recovery import steering
from bench.recsys_objectives import HIERARCHICAL_WEIGHTS, OBJECTIVES
from bench.results import RESULTS, write_result
from pipeline.cluster import dask_client, run_jobs
from pipeline.config import from_dict, read_params_with
from pipeline.devices import seed_everything, torch_device
from recsys.config import TrainRecsys
from recsys.data import PrepareInteractions
from recsys.disentanglement import nmi
from recsys.fetch import ML100K_PARAMS, fetch_ml100k
from recsys.loaders import load_interactions
from recsys.macridvae import MacridVAE
from recsys.serve import Recommender, build_item_index
from recsys.split import split_interactions
from recsys.synthetic import generate
from recsys.train import fit

DEV_DATA_SEED = 1000   # the generator's draw for choices; the reported one is prepare_interactions.seed
NMI_BAR, STEERING_BAR = 0.80, 0.70


def train_arm(overrides: list[str], data, seed: int, name: str) -> tuple[MacridVAE, float]:
    """MacridVAE under the arm's overrides on `data`, one thread; the model and its best validation NDCG@100."""
    cfg = from_dict(TrainRecsys, read_params_with(overrides + ["train_recsys.threads=1"])["train_recsys"], "train_recsys")
    seed_everything(seed, cfg.threads)
    model = MacridVAE(data.n_items, cfg.model)
    fitted = fit(model, data, cfg.train, seed, torch_device(), name)
    return model.cpu().eval(), fitted.best_ndcg


def run_arm(name: str, overrides: list[str], seed: int, concepts_data, ml100k_data) -> dict:
    start = time.perf_counter()
    model, dev_ndcg = train_arm(overrides, concepts_data, seed, f"levers/{name}/concepts/seed{seed}")
    planted = concepts_data.item_factors["category"].astype(np.int64)
    rec = Recommender(model, concepts_data, build_item_index(model, "Flat", 1))
    steer = steering(rec, planted, users=300, split="val")
    model, ml_ndcg = train_arm(overrides, ml100k_data, seed, f"levers/{name}/ml-100k/seed{seed}")
    known = ml100k_data.item_category >= 0
    return {"dev_nmi": nmi(rec.item_concept, planted),
            "dev_steering_share_planted": steer["steering_share_planted"], "dev_steering_share": steer["steering_share"],
            "dev_val_ndcg@100": dev_ndcg, "ml100k_val_ndcg@100": ml_ndcg,
            "ml100k_genre_nmi": nmi(model.item_concepts().numpy()[known], ml100k_data.item_category[known]),
            "seconds": time.perf_counter() - start}


def choose(arms: dict) -> dict:
    """The module docstring's two rules, applied to the arms' dev figures."""
    steerable = {n: a for n, a in arms.items()
                 if a["dev_nmi"] >= NMI_BAR and a["dev_steering_share_planted"] >= STEERING_BAR}
    best = max(arms, key=lambda n: arms[n]["ml100k_val_ndcg@100"])
    joint = max(steerable, key=lambda n: steerable[n]["ml100k_val_ndcg@100"]) if steerable else None
    own = arms.get("own", {}).get("ml100k_val_ndcg@100")
    weights = [n for n in arms if n in HIERARCHICAL_WEIGHTS]
    steerable_weights = [n for n in weights if n in steerable]
    if steerable_weights:
        weight = max(steerable_weights, key=lambda n: arms[n]["ml100k_val_ndcg@100"])
    else:
        weight = max(weights, key=lambda n: arms[n]["dev_steering_share_planted"]) if weights else None
    return {"joint": joint, "best_ranking": best, "hierarchical": weight, "steerable_arms": sorted(steerable),
            "joint_val_gap_to_own": None if joint is None or own is None else arms[joint]["ml100k_val_ndcg@100"] - own}


MEASURES = ("dev_nmi", "dev_steering_share_planted", "dev_steering_share", "dev_val_ndcg@100",
            "ml100k_val_ndcg@100", "ml100k_genre_nmi")


def merged(path: Path, seeds: list[int], per_seed: dict, arms: dict) -> tuple[dict, dict]:
    """This run's arms over an earlier result's others (which must have run the same seeds); every arm
    names the revision it was measured at."""
    from bench.results import earlier_arms, git_revision

    now = git_revision()
    arms = {n: a | {"measured_at": now} for n, a in arms.items()}
    if not path.exists():
        return per_seed, arms
    old = json.loads(path.read_text())
    if sorted(old["seeds"]) != sorted(seeds):
        raise SystemExit(f"--merge: {path} ran seeds {old['seeds']}, this run {seeds}; run the same seeds")
    kept = earlier_arms(old["arms"], old["git_revision"], arms)
    per_seed = {s: {n: v for n, v in old["per_seed"][str(s)].items() if n in kept} | per_seed[s] for s in seeds}
    return per_seed, kept | arms


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arms", nargs="+", choices=list(OBJECTIVES), default=list(OBJECTIVES))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--results", default=str(RESULTS))
    ap.add_argument("--merge", action="store_true", help="keep the existing result's other arms (same seeds)")
    args = ap.parse_args()
    params = read_params_with([])
    prep = from_dict(PrepareInteractions, params["prepare_interactions"], "prepare_interactions")
    ml_prep = from_dict(PrepareInteractions, read_params_with([f"{k}={v}" for k, v in ML100K_PARAMS.items()])
                        ["prepare_interactions"], "prepare_interactions")
    concepts_raw = generate(prep.synthetic, DEV_DATA_SEED)
    ml100k_raw = load_interactions("recbole", str(fetch_ml100k()))
    with dask_client() as client:
        jobs = {}
        for seed in args.seeds:
            concepts_data = split_interactions(concepts_raw, prep.split, seed, client)
            ml100k_data = split_interactions(ml100k_raw, ml_prep.split, seed, client)
            jobs |= {f"{n}/{seed}": (run_arm, n, OBJECTIVES[n], seed, concepts_data, ml100k_data) for n in args.arms}
        done = run_jobs(client, jobs)
    per_seed = {seed: {n: done[f"{n}/{seed}"] for n in args.arms} for seed in args.seeds}
    arms = {n: {"overrides": OBJECTIVES[n]} | {k: float(np.mean([per_seed[s][n][k] for s in args.seeds])) for k in MEASURES}
            for n in args.arms}
    if args.merge:
        per_seed, arms = merged(Path(args.results) / "concept_levers.json", args.seeds, per_seed, arms)
    chosen = choose(arms)
    for n, a in arms.items():
        print(f"{n:26s} NMI {a['dev_nmi']:.3f}  steering {a['dev_steering_share_planted']:.3f}  "
              f"dev val NDCG {a['dev_val_ndcg@100']:.4f}  ml-100k val NDCG {a['ml100k_val_ndcg@100']:.4f}")
    print(f"chosen: {chosen}")
    cols = ["arm", "dev NMI", "dev steering (planted)", "dev data val NDCG@100", "ml-100k val NDCG@100", "ml-100k genre NMI"]
    write_result("concept_levers", title="Levers for steerable concepts, measured on dev data",
                 measures=f"One MacridVAE per arm and seed (split seed = model seed), measures averaged over seeds: on "
                          f"the embedded generator drawn with seed {DEV_DATA_SEED} (not the draw bench.concept_recovery "
                          "reports on), planted-concept NMI and the planted-category steering share of validation "
                          "users' one-hot-steered top-20; on ml-100k, validation NDCG@100. Rules: the joint objective "
                          f"is the steerable arm (NMI >= {NMI_BAR}, steering >= {STEERING_BAR}) with the best ml-100k "
                          "validation NDCG; the best ranking objective is the arm with the best ml-100k validation NDCG.",
                 protocol={"selected_on": f"dev: the generator's draw {DEV_DATA_SEED} (its validation users) and "
                                          "ml-100k's validation users", "reported_on": "nothing: choices only; "
                                          "bench.concept_recovery and bench.recsys_ml100k report the chosen arms on test"},
                 seeds=args.seeds, per_seed=per_seed, summary=chosen, arms=arms, out=Path(args.results),
                 table={"columns": cols, "rows": [[n] + [a[k] for k in MEASURES if k != "dev_steering_share"]
                                                  for n, a in arms.items()]},
                 notes=[f"joint objective: {chosen['joint']} (validation NDCG gap to own "
                        f"{chosen['joint_val_gap_to_own'] if chosen['joint_val_gap_to_own'] is None else round(chosen['joint_val_gap_to_own'], 4)}); "
                        f"best ranking objective: {chosen['best_ranking']}; hierarchical weight: {chosen['hierarchical']}"])


if __name__ == "__main__":
    main()
