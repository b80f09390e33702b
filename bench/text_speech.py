"""The noisy-channel text–speech model at the issue's sizes, several seeds, against its supervised-only
baseline in the same run (same paired words and architecture; its lr, steps and dropout its own,
chosen on dev from SUPERVISED_GRID at about the semi-supervised model's compute): G2P PER/WER,
P2G LER/WER, their semi/supervised ratios, with the served decoding (beam search; the semi-supervised
model re-ranks with the other story, the supervised-only one has no trained priors to do so) and greedy;
spelling ↔ speech retrieval on the test words in the test voices, per synthesizer family (the acoustic
encoder trained with the augmentation bench.speech_augment chose on dev voices);
voice probes; training time of the served channel and acoustic encoder side by side on the Dask
workers (the baseline trains after the acoustic encoder); and g2p latency of one word (median over
test words) beside espeak-ng's own rule-based G2P.

    python -m bench.text_speech [--seeds 0 1 2] [-S train_text_speech.channel.steps=1300]

It runs the issue's sizes (ISSUE) under the benchmarked schedule (SCHEDULE, docs/results/text_speech.json)
and the dev choices of bench.speech_augment (chosen_augmentation) and bench.channel_levers (chosen_channel:
the semi-supervised channel's unpaired batch, dream batch and temperature); -S overrides any of them.
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

from bench.results import verdict, verdict_note, write_result
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
            "train_text_speech.acoustic.code=128"]
# the supervised-only baseline's own settings, each trained at SCHEDULE's steps × 1.5 with the same
# dev-set selection; the one with the best dev G2P PER + P2G LER is the baseline (≈ the semi-supervised
# model's compute: 5 runs of a cheaper step). bench.channel_levers' best on seed 0's dev words and its
# four neighbours, so that each seed's pick can fall on either side (the grid {0.003, 0.0015} × {0.1, 0.3}
# picked its corner on every seed)
SUPERVISED_GRID = [{"lr": 0.0008, "dropout": 0.5}, {"lr": 0.0004, "dropout": 0.5}, {"lr": 0.0015, "dropout": 0.5},
                   {"lr": 0.0008, "dropout": 0.3}, {"lr": 0.0008, "dropout": 0.7}]
SUPERVISED_STEPS = 1.5
AUGMENT_RESULT = Path(__file__).resolve().parents[1] / "docs" / "results" / "speech_augment.json"
CHANNEL_RESULT = AUGMENT_RESULT.with_name("channel_levers.json")
LATENCY_WORDS = 50   # test words timed one at a time
# the issue's targets: (value, higher is better); met when mean − 2 s.e. clears it (bench.results.verdict)
TARGETS = {"speech2text_recall@10.formant": (0.90, True), "speech2text_recall@10.parametric": (0.85, True),
           "text2speech_recall@10.formant": (0.90, True), "text2speech_recall@10.parametric": (0.90, True),
           "g2p_per_ratio": (0.60, False), "voice_probe_voice_test_voices": (0.90, True)}


def chosen_augmentation(path: Path = AUGMENT_RESULT) -> list[str]:
    """The overrides of the arm bench.speech_augment chose on dev voices; none (no augmentation)
    while its result file holds no dev choice."""
    if not path.exists():
        return []
    result = json.loads(path.read_text())
    if not result.get("protocol", {}).get("selected_on", "").startswith("dev") or "chosen" not in result:
        return []
    return list(result["chosen"]["overrides"])


def chosen_channel(path: Path = CHANNEL_RESULT) -> list[str]:
    """The overrides of the semi-supervised arm bench.channel_levers chose on dev words (none while
    it has not run: SCHEDULE's own point)."""
    if not path.exists():
        return []
    try:
        return list(json.loads(path.read_text())["summary"].get("semi_overrides") or [])
    except (ValueError, KeyError, AttributeError, TypeError) as e:
        raise SystemExit(f"{path}: not a bench.channel_levers result ({e!r}); re-run it or remove the file")


def configs(overrides: list[str], channel_choice: bool = True):
    """The prepare and train configs of the bench: ISSUE, SCHEDULE, the dev choices (bench.speech_augment's
    and, unless `channel_choice` is off, bench.channel_levers'), then `overrides`."""
    choices = chosen_augmentation() + (chosen_channel() if channel_choice else [])
    p = read_params_with(ISSUE + SCHEDULE + choices + overrides)
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


def best_dev_row(result: dict) -> dict:
    """A channel job's history row with the best dev G2P PER + P2G LER: the checkpoint it kept."""
    return min(result["history"], key=lambda r: r["dev_g2p_per"] + r["dev_p2g_ler"])


def dev_score(result: dict) -> float:
    row = best_dev_row(result)
    return row["dev_g2p_per"] + row["dev_p2g_ler"]


def supervised_settings(cfg, setting: dict):
    """cfg with the supervised-only baseline's `setting` (lr, dropout) at SUPERVISED_STEPS × the steps."""
    steps = round(cfg.channel.steps * SUPERVISED_STEPS)
    return replace(cfg, model=replace(cfg.model, dropout=setting["dropout"]),
                   channel=replace(cfg.channel, lr=setting["lr"], steps=steps, warmup=0, eval_every=max(1, steps // 6)))


def supervised_grid(client, cfg, data, label: str) -> tuple[dict, list[dict]]:
    """The supervised-only baseline chosen on dev from SUPERVISED_GRID: (its job result, every
    setting's dev score and seconds)."""
    steps = round(cfg.channel.steps * SUPERVISED_STEPS)
    jobs = {f"supervised_{i}": training_jobs(supervised_settings(cfg, setting), data, [cfg.paired_size],
                                             f"{label} grid {i}", only=f"supervised_{cfg.paired_size}")
            for i, setting in enumerate(SUPERVISED_GRID)}
    results = run_jobs(client, jobs)
    tried = [setting | {"steps": steps, "seconds": results[f"supervised_{i}"]["seconds"],
                        "dev": dev_score(results[f"supervised_{i}"])} for i, setting in enumerate(SUPERVISED_GRID)]
    best = min(range(len(tried)), key=lambda i: tried[i]["dev"])
    return results[f"supervised_{best}"], tried


def run_seed(seed: int, client, overrides: list[str]) -> dict:
    prep, cfg = configs(overrides + [f"prepare_text_speech.seed={seed}"])
    device = torch_device()
    t = time.perf_counter()
    data, _ = build_text_speech(prep, client, lambda m: None)
    out = {"data_seconds": time.perf_counter() - t}
    test = (data.splits["test"], data.phonemes(data.splits["test"]))
    # the served pair (semi, acoustic) side by side on the two workers; then the baseline's grid
    results = run_jobs(client, {k: v for k, v in training_jobs(cfg, data, [cfg.paired_size], f"bench seed {seed}").items()
                                if not k.startswith("supervised")})
    results[f"supervised_{cfg.paired_size}"], out["supervised_grid"] = supervised_grid(client, cfg, data, f"bench seed {seed}")
    models = {kind: model_of(results[f"{kind}_{cfg.paired_size}"]).to(device) for kind in ("supervised", "semi")}
    acoustic = model_of(results["acoustic"]).to(device)
    torch.set_num_threads(2)                  # evaluation and serving: one process, both cores
    for kind, model in models.items():
        out[f"{kind}_train_seconds"] = results[f"{kind}_{cfg.paired_size}"]["seconds"]
        out |= {f"{kind}_{k}": v for k, v in channel_metrics(model, *test, device).items()}
        out |= {f"{kind}_greedy_{k}": v for k, v in greedy_metrics(model, *test, device).items()}
    out["supervised_grid_seconds"] = sum(row["seconds"] for row in out["supervised_grid"])
    out["acoustic_train_seconds"] = results["acoustic"]["seconds"]
    out["train_seconds"] = max(out["semi_train_seconds"], out["acoustic_train_seconds"])   # side by side
    out |= retrieval(models["semi"], acoustic, data, device) | voice_probe(acoustic, data, device)
    out |= ctc_per_by_voice(acoustic, data, device)
    for fam, group in out["by_family"].items():   # test voices per family (parametric: held out of training and dev)
        out |= {f"{k}.{fam}": v for k, v in group.items() if k != "clips"}
    dev = retrieval(models["semi"], acoustic, data, device, "dev")
    out |= {f"dev_{k}": dev[k] for k in ("speech2text_recall@10", "text2speech_recall@10", "ctc_per")}
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
        ("speech2text_recall@10.formant", "speech → text Recall@10, test espeak-ng voices (target ≥ 0.90)"),
        ("speech2text_recall@10.parametric", "speech → text Recall@10, parametric test voices, a family training and dev lack (target ≥ 0.85)"),
        ("text2speech_recall@10.formant", "text → speech Recall@10, test espeak-ng voices (target ≥ 0.90)"),
        ("text2speech_recall@10.parametric", "text → speech Recall@10, parametric test voices (target ≥ 0.90)"),
        ("ctc_per_probe_train_voices", "CTC phoneme error rate, training voices"),
        ("ctc_per_probe_test_voices", "CTC phoneme error rate, unseen voices"),
        ("voice_probe_content_test_voices", "voice probe on the content code, unseen voices only"),
        ("voice_probe_chance_test_voices", "its chance level"),
        ("voice_probe_voice_test_voices", "voice probe on the voice code, unseen voices only (target ≥ 0.90)"),
        ("train_seconds", "training seconds (channel and acoustic side by side)"),
        ("supervised_grid_seconds", "the supervised-only baseline's grid, seconds (all settings)"),
        ("g2p_one_word_ms", "g2p of one word (ms)"), ("espeak_g2p_one_word_ms", "baseline: espeak-ng g2p of one word (ms)"))


def write(runs: dict, args, started: float) -> None:
    seeds = sorted(runs)
    table = seed_table(runs, seeds, quiet=True)
    rows = [[label, table[k]] + table[k]["seeds"] for k, label in ROWS if k in table]
    verdicts = {k: verdict(table[k]["seeds"], t, higher) for k, (t, higher) in TARGETS.items() if k in table}
    write_result("text_speech", title="Noisy-channel text–speech at the issue's sizes",
                 measures="Per seed: the semi-supervised noisy channel (400 paired words, 40,000 unpaired "
                          "spellings and phoneme strings) against its supervised-only baseline trained in the "
                          "same run on the same paired words and architecture, its lr and dropout chosen on dev "
                          "from a grid at 1.5x the steps; G2P PER/WER "
                          "and P2G LER/WER on 2,000 held-out CMUdict words decoded as served; spelling ↔ speech "
                          "retrieval with queries spoken from the spelling in the test voices, per synthesizer family "
                          "(formant: espeak-ng variants; parametric: festival's HTS voice and flite's clustergen "
                          "voices, a family training and dev lack); the acoustic encoder's CTC phoneme error "
                          "rate on training and test voices; voice probes; g2p latency beside espeak-ng's.",
                 seeds=seeds, per_seed=runs, summary=table, schedule=SCHEDULE, overrides=args.set,
                 augmentation=chosen_augmentation(), channel_choice=chosen_channel(), supervised_grid=SUPERVISED_GRID,
                 verdicts=verdicts, notes=[verdict_note(k, v) for k, v in verdicts.items()],
                 protocol={"selected_on": "dev: checkpoints and the baseline's settings on the dev words; the "
                                          "semi-supervised channel's unpaired_batch, dream_batch and wake temperature "
                                          "on seed 0's dev words (bench.channel_levers); the augmentation on the dev "
                                          "voices (bench.speech_augment)",
                           "reported_on": "test: the test words; retrieval on the test words in the test voices"},
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
