"""The whole evaluation of a trained text–speech model (metrics/text_speech.json) and its plots."""
from __future__ import annotations

import io

import numpy as np
import torch

from pipeline.disentanglement import linear_probe
from translation.speech.data import TextSpeechData
from translation.speech.engines import family, parse_voice
from translation.speech.metrics import (
    channel_metrics,
    error_rates,
    g2p_words,
    recall_at,
    recall_rows,
)
from translation.speech.lexicon import PHONES
from translation.speech.train import mel_batch, phoneme_codes, speech_codes


def learning_curve(channels: dict, data: TextSpeechData, device) -> dict:
    """{size: {kind: test metrics}} for every trained channel ({(kind, size): model})."""
    words = data.splits["test"]
    phonemes = data.phonemes(words)
    curve = {}
    for (kind, size), model in sorted(channels.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        curve.setdefault(str(size), {})[kind] = channel_metrics(model, words, phonemes, device)
    return curve


@torch.no_grad()
def transcripts(acoustic, clips, device, batch: int = 256) -> list[list[str]]:
    """The acoustic encoder's greedy CTC transcript of every clip, as phoneme lists."""
    acoustic.eval()
    out = []
    for i in range(0, len(clips), batch):
        mel, lengths = mel_batch(clips, range(i, min(i + batch, len(clips))), device)
        out.extend(PHONES.decode(ids) for ids in acoustic.transcribe(mel, lengths))
    return out


def retrieval(channel, acoustic, data: TextSpeechData, device, clip_set: str = "test") -> dict:
    """Spelling ↔ speech Recall@k on the test words spoken from their spelling in the test voices
    (clip_set 'dev': the dev words in the dev voices, for choices); overall, per engine and per voice
    (a group's queries search the whole index), with the phoneme error rate of the acoustic encoder's
    CTC transcripts against CMUdict.

    A spelling's code is the phoneme code of its G2P output; a clip's is its acoustic content code.
    `oracle_*` uses the true phonemes instead of G2P (the acoustic side alone); channel=None: every
    measure is the oracle's."""
    clips = data.clips[clip_set]
    audio, _ = speech_codes(acoustic, clips, device)
    oracle = phoneme_codes(acoustic, data.phonemes(clips.words), device)
    text = oracle if channel is None else phoneme_codes(acoustic, g2p_words(channel, clips.words, device), device)
    sim, sim_oracle = text @ audio.T, oracle @ audio.T
    out = {"retrieval_words": len(clips)}
    for k in (1, 10):
        out[f"text2speech_recall@{k}"] = recall_at(sim, k)
        out[f"speech2text_recall@{k}"] = recall_at(sim.T, k)
        out[f"oracle_text2speech_recall@{k}"] = recall_at(sim_oracle, k)
    heard, refs = transcripts(acoustic, clips, device), [list(p) for p in data.phonemes(clips.words)]
    out["ctc_per"] = error_rates(heard, refs)[0]
    voices = np.asarray(clips.voices)
    engines = np.asarray([parse_voice(v)[0] for v in clips.voices])
    families = np.asarray([family(v) for v in clips.voices])
    for name, labels in (("by_engine", engines), ("by_family", families), ("by_voice", voices)):
        out[name] = {}
        for group in sorted(set(labels)):
            rows = np.flatnonzero(labels == group)
            out[name][str(group)] = {"clips": len(rows), "ctc_per": error_rates([heard[i] for i in rows],
                                                                               [refs[i] for i in rows])[0]} | {
                f"{d}_recall@{k}": recall_rows(m, rows, k)
                for k in (1, 10) for d, m in (("speech2text", sim.T), ("text2speech", sim))}
    return out


def ctc_per_by_voice(acoustic, data: TextSpeechData, device) -> dict:
    """CTC phoneme error rate on the probe clips (the same test words in every voice, from their
    spelling): training voices beside unseen ones (the gap is the generalization cost), and per voice."""
    clips = data.clips["probe"]
    heard, refs = transcripts(acoustic, clips, device), [list(p) for p in data.phonemes(clips.words)]
    train = set(data.voices["train"])
    by_voice = {v: error_rates(*zip(*[(h, r) for h, r, cv in zip(heard, refs, clips.voices) if cv == v]))[0]
                for v in sorted(set(clips.voices))}
    groups = {"train_voices": [v in train for v in clips.voices], "test_voices": [v not in train for v in clips.voices]}
    return {f"ctc_per_probe_{g}": error_rates([h for h, m in zip(heard, mask) if m], [r for r, m in zip(refs, mask) if m])[0]
            for g, mask in groups.items()} | {"ctc_per_probe_by_voice": by_voice}


def voice_probe(acoustic, data: TextSpeechData, device) -> dict:
    """Linear voice classifiers on each code, trained on half the probe words, tested on the others:
    over every voice, and over the voices unseen in training alone (the held-out conditions)."""
    clips = data.clips["probe"]
    content, voice = speech_codes(acoustic, clips, device)
    words = sorted(set(clips.words))
    held = set(words[len(words) // 2:])
    test = np.array([w in held for w in clips.words])
    out = {}
    unseen = set(data.voices["test"])
    for suffix, keep in (("", np.ones(len(clips), bool)), ("_test_voices", np.array([v in unseen for v in clips.voices]))):
        voices = sorted({v for v, k in zip(clips.voices, keep) if k})
        if len(voices) < 2:
            continue
        y = np.array([voices.index(v) if v in voices else -1 for v in clips.voices])
        tr, te = keep & ~test, keep & test
        out |= {f"voice_probe_content{suffix}": linear_probe(content[tr], y[tr], content[te], y[te]),
                f"voice_probe_voice{suffix}": linear_probe(voice[tr], y[tr], voice[te], y[te]),
                f"voice_probe_chance{suffix}": 1 / len(voices), f"voice_probe_voices{suffix}": len(voices)}
    return out


def factor_scores(acoustic, data: TextSpeechData, device, seed: int, heatmap) -> dict:
    """DCI, MIG and probes of the probe clips' codes (content, then voice) against their word and voice."""
    from pipeline.disentanglement import importance_heatmap, score

    clips = data.clips["probe"]
    content, voice = speech_codes(acoustic, clips, device)
    factors = {name: np.unique(np.asarray(values), return_inverse=True)[1].astype(np.int64)
               for name, values in (("word", clips.words), ("voice", clips.voices))}
    result = score(np.concatenate([content, voice], axis=1), factors, seed)
    importance_heatmap(result, list(factors), heatmap, f"Acoustic encoder, probe clips: {content.shape[1]} content "
                                                       f"dims, then {voice.shape[1]} voice dims")
    return result


def curve_png(curve: dict) -> bytes:
    """G2P PER and P2G LER against paired words, semi-supervised beside supervised-only."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(int(s) for s in curve)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, key, title in ((axes[0], "g2p_per", "G2P phoneme error rate"), (axes[1], "p2g_ler", "P2G letter error rate")):
        for kind, style in (("supervised", "o--"), ("semi", "s-")):
            pts = [(s, curve[str(s)][kind][key]) for s in sizes if kind in curve[str(s)]]
            if pts:
                ax.plot(*zip(*pts), style, label="semi-supervised" if kind == "semi" else "supervised only")
        ax.set_xscale("log")
        ax.set_xlabel("paired words")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()
