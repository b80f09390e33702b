"""The text–speech channel's settings that predate issue 43, re-chosen on dev words.

bench.text_speech's semi-supervised channel took its unpaired batch, dream batch and wake/dream
temperature from test PER, and its supervised-only baseline's grid picked a corner (lr 0.0015, dropout
0.3, on every seed). Here each arm trains one channel at bench.text_speech's sizes and schedule, on one
seed's data, and is scored as its checkpoints are kept: its best dev G2P PER + P2G LER (`dev_score`).
  - semi-supervised arms: one factor at a time around SCHEDULE's point, then (round 2) past the edges
    round 1 chose and their combination (SEMI_ARMS); the rule, fixed before the run: the arm with the
    lowest dev score is the schedule bench.text_speech reports (bench.text_speech.chosen_channel);
  - supervised-only arms: the grid's pick and its neighbours beyond the corner, then beyond round 1's
    (SUPERVISED_ARMS); bench.text_speech's per-seed grid (SUPERVISED_GRID) is widened to hold the best.
No test word is scored. Arms run two at a time on the Dask workers (one thread each); each arm's
result is written as it finishes.

    python -m bench.channel_levers [--seed 0] [--arms schedule dream_16 ...] [--merge]

--merge keeps the existing result's other arms (same seed), so a second round adds arms to the first.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.results import RESULTS, earlier_arms, git_revision, write_result
from bench.text_speech import SCHEDULE, best_dev_row, configs, dev_score, supervised_settings
from pipeline.cluster import dask_client, run_jobs
from translation.speech.data import build_text_speech
from translation.speech.jobs import training_jobs

CHANNEL = "train_text_speech.channel."
SEMI_ARMS = {
    "schedule": [],
    "unpaired_96": [CHANNEL + "unpaired_batch=96"], "unpaired_384": [CHANNEL + "unpaired_batch=384"],
    "dream_16": [CHANNEL + "dream_batch=16"], "dream_64": [CHANNEL + "dream_batch=64"],
    "temperature_0.25": [CHANNEL + "weights.temperature=0.25"], "temperature_1": [CHANNEL + "weights.temperature=1.0"],
    # round 2 (--merge): round 1 chose the edges unpaired_384 and dream_64, and temperature 0.25 by a hair
    "unpaired_768": [CHANNEL + "unpaired_batch=768"], "dream_128": [CHANNEL + "dream_batch=128"],
    "unpaired_384_dream_64": [CHANNEL + "unpaired_batch=384", CHANNEL + "dream_batch=64"],
    "unpaired_384_dream_64_temperature_0.25": [CHANNEL + "unpaired_batch=384", CHANNEL + "dream_batch=64",
                                               CHANNEL + "weights.temperature=0.25"],
}
# round 1: the grid's pick (0.0015, 0.3) and its neighbours beyond; round 2: beyond round 1's corner (0.0008, 0.5)
SUPERVISED_ARMS = {f"supervised_lr{lr:g}_dropout{dropout:g}": {"lr": lr, "dropout": dropout}
                   for lr, dropout in ((0.0015, 0.3), (0.0008, 0.3), (0.0015, 0.5), (0.0008, 0.5),
                                       (0.0004, 0.5), (0.0008, 0.7), (0.0004, 0.7))}


def arm_jobs(arms: list[str], seed: int, data) -> dict:
    """Job per arm: the semi-supervised channel under its overrides, or the supervised-only one at its setting."""
    jobs = {}
    for name in arms:
        _, cfg = configs(SEMI_ARMS.get(name, []) + [f"prepare_text_speech.seed={seed}"], channel_choice=False)
        if name in SEMI_ARMS:
            jobs[name] = training_jobs(cfg, data, [cfg.paired_size], f"levers {name}", only=f"semi_{cfg.paired_size}")
        else:
            jobs[name] = training_jobs(supervised_settings(cfg, SUPERVISED_ARMS[name]), data, [cfg.paired_size],
                                       f"levers {name}", only=f"supervised_{cfg.paired_size}")
    return jobs


def choose(scores: dict) -> dict:
    """The module docstring's rules over the arms measured so far (dev scores only)."""
    semi = {n: s for n, s in scores.items() if n in SEMI_ARMS}
    supervised = {n: s for n, s in scores.items() if n in SUPERVISED_ARMS}
    best_semi = min(semi, key=semi.get) if semi else None
    return {"semi": best_semi, "semi_overrides": SEMI_ARMS[best_semi] if semi else None,
            "supervised": min(supervised, key=supervised.get) if supervised else None}


def write(arms: dict, seed: int, started: float, out: Path) -> None:
    scores = {n: a["dev_score"] for n, a in arms.items()}
    chosen = choose(scores)
    rows = [[n, a["kind"], " ".join(a["overrides"]) or "SCHEDULE", a["dev_g2p_per"], a["dev_p2g_ler"], a["dev_score"],
             a["best_step"], a["seconds"]] for n, a in sorted(arms.items(), key=lambda kv: kv[1]["dev_score"])]
    write_result("channel_levers", title="The text–speech channel's settings, re-chosen on dev words",
                 measures="One channel per arm at bench.text_speech's sizes and schedule (seed "
                          f"{seed}'s data): its best dev G2P PER + P2G LER over its checkpoints (the score its "
                          "checkpoint is kept by). Semi-supervised arms vary one of unpaired_batch, dream_batch and "
                          "the wake/dream temperature around SCHEDULE; supervised-only arms the baseline's lr and "
                          "dropout beyond its grid's corner.",
                 protocol={"selected_on": f"dev: the dev words of seed {seed}'s data (checkpoints and arms)",
                           "reported_on": "nothing: choices only; bench.text_speech reports the chosen schedule "
                                          "and baseline grid on the test words"},
                 seeds=[seed], per_seed={seed: arms}, summary=chosen, schedule=SCHEDULE,
                 semi_arms=SEMI_ARMS, supervised_arms=SUPERVISED_ARMS, wall_seconds=time.perf_counter() - started,
                 table={"columns": ["arm", "kind", "overrides", "dev G2P PER", "dev P2G LER", "dev score",
                                    "best step", "seconds"], "rows": rows},
                 notes=[f"semi-supervised: {chosen['semi']} has the lowest dev score; supervised-only: "
                        f"{chosen['supervised']}"], out=out)


def same_seed_arms(path: Path, seed: int, measuring: list[str]) -> dict:
    """The arms of an earlier result on the same seed's data that this run does not measure, each
    naming the revision it was measured at."""
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    if old["seeds"] != [seed]:
        raise SystemExit(f"--merge: {path} ran seed {old['seeds']}, this run {seed}; run the same seed")
    return earlier_arms(old["per_seed"][str(seed)], old["git_revision"], measuring)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arms", nargs="+", choices=list(SEMI_ARMS) + list(SUPERVISED_ARMS),
                    default=list(SEMI_ARMS) + list(SUPERVISED_ARMS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--results", default=str(RESULTS))
    ap.add_argument("--merge", action="store_true", help="keep the existing result's arms (same seed) this run does not measure")
    args = ap.parse_args()
    started = time.perf_counter()
    prep, _ = configs([f"prepare_text_speech.seed={args.seed}"], channel_choice=False)
    arms = same_seed_arms(Path(args.results) / "channel_levers.json", args.seed, args.arms) if args.merge else {}
    now = git_revision()

    def done(name: str, result: dict) -> None:
        best = best_dev_row(result)
        arms[name] = {"kind": "semi" if name in SEMI_ARMS else "supervised",
                      "overrides": SEMI_ARMS[name] if name in SEMI_ARMS else
                                   [f"lr={SUPERVISED_ARMS[name]['lr']:g}", f"dropout={SUPERVISED_ARMS[name]['dropout']:g}"],
                      "dev_score": dev_score(result), "dev_g2p_per": best["dev_g2p_per"],
                      "dev_p2g_ler": best["dev_p2g_ler"], "best_step": best.get("step"), "seconds": result["seconds"],
                      "history": result["history"], "measured_at": now}
        print(f"[arm {name}] dev PER {best['dev_g2p_per']:.4f} LER {best['dev_p2g_ler']:.4f} "
              f"score {arms[name]['dev_score']:.4f} ({result['seconds']:.0f} s)", flush=True)
        write(arms, args.seed, started, Path(args.results))

    with dask_client() as client:
        data, _ = build_text_speech(prep, client, lambda m: None)
        run_jobs(client, arm_jobs(args.arms, args.seed, data), on_done=done)
    print(f"chosen: {choose({n: a['dev_score'] for n, a in arms.items()})}")


if __name__ == "__main__":
    main()
