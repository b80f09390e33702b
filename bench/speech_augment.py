"""Which augmentation makes the acoustic encoder hear voices it never trained on: an ablation.

Per seed, the text–speech data at bench.text_speech's sizes (2,000 test words spoken from their
spelling in unseen voices: espeak-ng accents and variants, and festival's HTS voice), then the
acoustic encoder trained under bench.text_speech's schedule once per arm: no augmentation, each
augmentation alone (translation/speech/augment.py at the values below), and all of them together.
Each arm is scored on the acoustic side alone (spellings coded from their true phonemes, so G2P's
errors do not enter): speech → spelling and spelling → speech Recall@10 per engine over the whole
2,000-word index, the CTC phoneme error rate on training and unseen voices, and the voice probes of
both codes over the unseen voices. The first arm is the baseline of every other.

    python -m bench.speech_augment [--seeds 0] [--arms none speed pitch gain reverb noise specaugment all speed+pitch]
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import torch

from bench.results import write_result
from bench.seeds import run_seeds, seed_bench_parser, seed_table
from bench.text_speech import configs
from pipeline.cluster import dask_client
from pipeline.devices import seed_everything, torch_device
from translation.speech.acoustic import AcousticEncoder
from translation.speech.config import AugmentConfig
from translation.speech.data import ClipSet, build_text_speech
from translation.speech.evaluate import ctc_per_by_voice, retrieval, voice_probe
from translation.speech.train import fit_acoustic

ARMS = {"none": {}, "speed": {"speed": 0.1}, "pitch": {"pitch": 2.0}, "gain": {"gain_db": 6.0},
        "reverb": {"reverb": 0.5}, "noise": {"noise": 0.5}, "specaugment": {"time_masks": 2, "freq_masks": 2}}
ARMS["all"] = {k: v for arm in ARMS.values() for k, v in arm.items()}
ARMS["wide_pitch"] = {"pitch": 5.0}   # ± 5 semitones: male voices into a female range (the held-out HTS voice is female)


def arm_settings(arm: str) -> dict:
    """An arm's augmentation settings; `speed+pitch` combines named arms."""
    parts = arm.split("+")
    unknown = [p for p in parts if p not in ARMS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown arm {'+'.join(unknown)!r} (arms: {', '.join(ARMS)}, or a+b)")
    return {k: v for p in parts for k, v in ARMS[p].items()}


def arm_name(arm: str) -> str:
    arm_settings(arm)
    return arm


ORDER = ["none", "all", "speed", "pitch", "gain", "reverb", "noise", "specaugment"]   # the two ends first
KEYS = ("speech2text_recall@10.espeak", "speech2text_recall@10.festival", "text2speech_recall@10.espeak",
        "text2speech_recall@10.festival", "ctc_per_probe_train_voices", "ctc_per_probe_test_voices",
        "ctc_per.festival", "voice_probe_content_test_voices", "voice_probe_voice_test_voices", "train_seconds")
TABLE_KEYS = ("speech2text_recall@10.espeak", "speech2text_recall@10.festival", "ctc_per_probe_train_voices",
              "ctc_per.festival", "voice_probe_content_test_voices")   # the page's columns; the file keeps all


def run_arm(arm: str, data, prep, cfg, seed: int, device) -> dict:
    train_cfg = replace(cfg.acoustic_train, augment=AugmentConfig(**arm_settings(arm)))
    clips = ClipSet.concat([data.clips["paired"], data.clips["unpaired"]])
    seed_everything(seed, 2)
    model = AcousticEncoder(replace(cfg.acoustic, n_mels=prep.n_mels)).to(device)
    start = time.perf_counter()
    fit_acoustic(model, clips, data.phonemes(clips.words), train_cfg, seed, device, name=f"bench/augment/{arm}/seed{seed}")
    out = {"train_seconds": time.perf_counter() - start}
    found = retrieval(None, model, data, device)
    for engine, group in found["by_engine"].items():
        out |= {f"{k}.{engine}": v for k, v in group.items() if k != "clips"}
    out |= {k: v for k, v in ctc_per_by_voice(model, data, device).items() if not isinstance(v, dict)}
    out |= voice_probe(model, data, device)
    return out | {"by_voice": found["by_voice"]}


def write(runs: dict, args) -> None:
    seeds = sorted(runs)
    tables = {arm: seed_table({s: runs[s][arm] for s in seeds}, seeds, KEYS, quiet=True) for arm in args.arms}
    write_result("speech_augment", title="Speech augmentation ablation: unseen voices and the held-out engine",
                 measures="The acoustic encoder trained per seed and arm under bench.text_speech's schedule and "
                          "sizes; spellings coded from their true phonemes; Recall@10 per engine over 2,000 test "
                          "words spoken from their spelling in unseen voices (espeak-ng; festival's held-out HTS "
                          "voice), CTC PER on training and unseen voices, voice probes over unseen voices. Arms: "
                          + "; ".join(f"{a}: {arm_settings(a) or 'off'}" for a in args.arms) + ".",
                 seeds=seeds, per_seed=runs, summary=tables, overrides=args.set,
                 baselines={"none": tables.get("none", {})},
                 table={"columns": ["arm"] + list(TABLE_KEYS),
                        "rows": [[a] + [tables[a][k] if k in tables[a] else "" for k in TABLE_KEYS] for a in args.arms]},
                 out=Path(args.results))


def main():
    ap = seed_bench_parser(__doc__, "the per-seed partial file")
    ap.set_defaults(seeds=[0])
    ap.add_argument("--arms", nargs="+", type=arm_name, default=ORDER, help=f"of {', '.join(ARMS)}, or a+b")
    args = ap.parse_args()
    prep, cfg = configs(args.set)   # read once: params.yaml may change during the run
    device = torch_device()

    def one_seed(seed: int) -> dict:
        with dask_client() as client:
            data, _ = build_text_speech(replace(prep, seed=seed), client, lambda m: None)
        torch.set_num_threads(2)
        arms, partial = {}, Path(args.out, f"speech_augment.seed{seed}.arms.json")
        for arm in args.arms:   # each arm kept as it finishes: an arm takes ~8 minutes
            arms[arm] = run_arm(arm, data, prep, cfg, seed, device)
            print(f"[seed {seed} arm {arm}] " + json.dumps({k: round(v, 4) for k, v in arms[arm].items()
                                                             if isinstance(v, float)}), flush=True)
            partial.write_text(json.dumps(arms, indent=2))
        return arms

    run_seeds(args.seeds, one_seed, Path(args.out, "speech_augment.partial.json"), lambda runs: write(runs, args))


if __name__ == "__main__":
    main()
