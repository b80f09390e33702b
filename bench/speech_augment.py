"""Which augmentation (or lifter) makes the acoustic encoder hear voices it never trained on: an
ablation that chooses on dev voices and reports its choice on test voices.

Per seed, the text–speech data at bench.text_speech's sizes, then the acoustic encoder trained under
bench.text_speech's schedule once per arm: no augmentation, each augmentation alone
(translation/speech/augment.py at the values below), all of them together, and the content path's
lifter. Every arm is scored on the dev words in the dev voices (espeak-ng variants and festival's ked
diphones, speakers training never heard) on the acoustic side alone (spellings coded from their true
phonemes, so G2P's errors do not enter): speech → spelling and spelling → speech Recall@10 over the
whole dev index, per synthesizer family. The arm with the best dev Recall@10 (both directions, all
dev voices) is the choice; only that arm, and the baseline `none`, are scored on the test words in
the test voices (espeak-ng variants; parametric synthesizers, a family neither training nor dev
uses): Recall@10 per family, the CTC phoneme error rate on training and test voices, the voice probes.
bench.text_speech trains with the arm chosen here (docs/results/speech_augment.json `chosen`).

    python -m bench.speech_augment [--seeds 0] [--arms none speed pitch gain reverb noise specaugment all lifter speed+pitch]
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
ARMS["wide_pitch"] = {"pitch": 5.0}   # ± 5 semitones: male voices into a female range
ARMS["lifter"] = {"cepstra": 16}      # the content path keeps the first 16 cepstra of each frame
MODEL_KEYS = {"cepstra"}              # an arm's settings of the acoustic model; the others are augmentations


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


def arm_overrides(arm: str) -> list[str]:
    """The arm as params overrides of train_text_speech (what bench.text_speech applies)."""
    return [f"train_text_speech.{'acoustic' if k in MODEL_KEYS else 'acoustic_train.augment'}.{k}={v}"
            for k, v in arm_settings(arm).items()]


ORDER = ["none", "all", "speed", "pitch", "gain", "reverb", "noise", "specaugment", "lifter"]   # the two ends first
DEV_KEY = "dev_recall@10"   # the choice: mean of both directions' Recall@10 over every dev clip
DEV_KEYS = (DEV_KEY, "dev_speech2text_recall@10", "dev_text2speech_recall@10", "dev_ctc_per", "train_seconds")
TEST_KEYS = ("speech2text_recall@10.formant", "speech2text_recall@10.parametric", "text2speech_recall@10.formant",
             "text2speech_recall@10.parametric", "ctc_per.parametric", "ctc_per_probe_train_voices",
             "ctc_per_probe_test_voices", "voice_probe_content_test_voices", "voice_probe_voice_test_voices")


def train_arm(arm: str, data, prep, cfg, seed: int, device) -> tuple[AcousticEncoder, dict]:
    """The acoustic encoder trained under the arm's settings, and its dev figures."""
    settings = arm_settings(arm)
    train_cfg = replace(cfg.acoustic_train, augment=AugmentConfig(**{k: v for k, v in settings.items()
                                                                     if k not in MODEL_KEYS}))
    model_cfg = replace(cfg.acoustic, n_mels=prep.n_mels, **{k: v for k, v in settings.items() if k in MODEL_KEYS})
    clips = ClipSet.concat([data.clips["paired"], data.clips["unpaired"]])
    seed_everything(seed, 2)
    model = AcousticEncoder(model_cfg).to(device)
    start = time.perf_counter()
    fit_acoustic(model, clips, data.phonemes(clips.words), train_cfg, seed, device, name=f"bench/augment/{arm}/seed{seed}")
    out = {"train_seconds": time.perf_counter() - start}
    dev = retrieval(None, model, data, device, "dev")
    out |= {"dev_speech2text_recall@10": dev["speech2text_recall@10"],
            "dev_text2speech_recall@10": dev["text2speech_recall@10"], "dev_ctc_per": dev["ctc_per"]}
    out[DEV_KEY] = (out["dev_speech2text_recall@10"] + out["dev_text2speech_recall@10"]) / 2
    for fam, group in dev["by_family"].items():
        out |= {f"dev_{k}.{fam}": v for k, v in group.items() if k != "clips"}
    return model, out


def test_figures(model: AcousticEncoder, data, device) -> dict:
    """The test voices' figures of a chosen model (read once, to report)."""
    found = retrieval(None, model, data, device)
    out = {}
    for fam, group in found["by_family"].items():
        out |= {f"{k}.{fam}": v for k, v in group.items() if k != "clips"}
    out |= {k: v for k, v in ctc_per_by_voice(model, data, device).items() if not isinstance(v, dict)}
    return out | voice_probe(model, data, device) | {"by_voice": found["by_voice"]}


def write(runs: dict, args) -> None:
    seeds = sorted(runs)
    dev = {arm: seed_table({s: runs[s]["dev"][arm] for s in seeds}, seeds, DEV_KEYS, quiet=True) for arm in args.arms}
    chosen = max(args.arms, key=lambda arm: dev[arm][DEV_KEY]["mean"])   # what bench.text_speech trains with
    test = {name: seed_table({s: runs[s]["test"][name] for s in seeds}, seeds, TEST_KEYS, quiet=True)
            for name in ("none", "chosen")}
    write_result("speech_augment", title="Speech augmentation ablation: chosen on dev voices, reported on test voices",
                 measures="The acoustic encoder trained per seed and arm under bench.text_speech's schedule and "
                          "sizes; spellings coded from their true phonemes. Every arm: Recall@10 over the dev words "
                          "spoken from their spelling in the dev voices (dev_recall@10: mean of both directions, the "
                          "choice). The arm chosen on dev and the baseline none: Recall@10 per synthesizer family over "
                          "the test words in the test voices (formant: espeak-ng; parametric: festival's HTS voice and "
                          "flite's clustergen voices, a family neither training nor dev uses), CTC PER on training "
                          "and test voices, voice probes over test voices. Arms: "
                          + "; ".join(f"{a}: {arm_settings(a) or 'off'}" for a in args.arms) + ".",
                 seeds=seeds, per_seed=runs, summary={"dev": dev, "test": test}, overrides=args.set,
                 chosen={"arm": chosen, "by": DEV_KEY, "overrides": arm_overrides(chosen)},
                 baselines={"none": test["none"]},
                 protocol={"selected_on": "dev: the dev words spoken in the dev voices (prepare_text_speech.dev_voices)",
                           "reported_on": "test: the test words in the test voices, for the arm chosen on dev and "
                                          "the baseline none only"},
                 table={"columns": ["arm", "set"] + [DEV_KEY] + list(TEST_KEYS[:4]),
                        "rows": [[a, "dev"] + [dev[a][DEV_KEY]] + [""] * 4 for a in args.arms]
                        + [[name, "test"] + [""] + [test[key][k] if k in test[key] else "" for k in TEST_KEYS[:4]]
                           for key, name in (("none", "none"), ("chosen", "each seed's arm chosen on dev: " + ", ".join(
                               runs[s]["test"]["chosen"]["arm"] for s in seeds)))]},
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
        dev, models, partial = {}, {}, Path(args.out, f"speech_augment.seed{seed}.arms.json")
        for arm in args.arms:   # each arm kept as it finishes: an arm takes ~8 minutes
            models[arm], dev[arm] = train_arm(arm, data, prep, cfg, seed, device)
            print(f"[seed {seed} arm {arm}] " + json.dumps({k: round(v, 4) for k, v in dev[arm].items()}), flush=True)
            partial.write_text(json.dumps(dev, indent=2))
        chosen = max(args.arms, key=lambda arm: dev[arm][DEV_KEY])   # this seed's choice, on dev
        test = {"none": test_figures(models["none"], data, device) if "none" in models else {},
                "chosen": test_figures(models[chosen], data, device) | {"arm": chosen}}
        return {"dev": dev, "test": test}

    run_seeds(args.seeds, one_seed, Path(args.out, "speech_augment.partial.json"), lambda runs: write(runs, args))


if __name__ == "__main__":
    main()
