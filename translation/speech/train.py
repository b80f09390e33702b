"""Training of the text–speech model: the noisy channel (supervised-only or semi-supervised) and the
acoustic encoder; plus the encoders' batch helpers used by evaluation and serving.

Both run on pipeline.trainer's loop. Batches are drawn from a generator seeded by (seed, step), so a
run repeats exactly, and a run resumed from its partial checkpoint ends with the same weights. The
channel keeps the weights with the best dev-set G2P PER + P2G LER (both models are selected the same way).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from pipeline.trainer import linear_decay, Loop, Resume, Selection, fingerprint, train
from translation.speech.acoustic import AcousticEncoder
from translation.speech.augment import augmented_features
from translation.speech.config import AcousticTrainConfig, AugmentConfig, ChannelTrainConfig
from translation.speech.lexicon import GRAPHEMES, PHONES
from translation.speech.channel import NoisyChannel
from translation.speech.seq2seq import pad_batch
from translation.speech.data import ClipSet
from translation.speech.metrics import channel_metrics


def step_rng(seed: int, step: int) -> np.random.Generator:
    return np.random.default_rng([seed, step])


def encode_pairs(words, phonemes, device):
    return (pad_batch([GRAPHEMES.encode(w) for w in words], device),
            pad_batch([PHONES.encode(p) for p in phonemes], device))


def fit_channel(model: NoisyChannel, paired: tuple[list, list], unpaired: tuple[list, list] | None,
                dev: tuple[list, list], cfg: ChannelTrainConfig, seed: int, device, on_log=None,
                resume: str | Path | None = None, name: str = "channel") -> list[dict]:
    """Train `model` in place (semi-supervised when `unpaired` is given); returns the eval history.
    Dev selection decodes as `model.decode` says (a supervised-only model's: DecodeConfig.beam_only).
    `resume`: a partial checkpoint written at every evaluation and continued from when it is this run's."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator(device=device).manual_seed(seed)
    dev_words, dev_ph = dev[0][: cfg.dev_words], dev[1][: cfg.dev_words]

    def step(s: int) -> dict:
        rng = step_rng(seed, s)
        idx = rng.integers(0, len(paired[0]), cfg.batch_size)
        batch = encode_pairs([paired[0][i] for i in idx], [paired[1][i] for i in idx], device)
        ub, w = None, cfg.weights
        if unpaired is not None:
            ti = rng.integers(0, len(unpaired[0]), cfg.unpaired_batch)
            pi = rng.integers(0, len(unpaired[1]), cfg.unpaired_batch)
            ub = (pad_batch([GRAPHEMES.encode(unpaired[0][i]) for i in ti], device),
                  pad_batch([PHONES.encode(unpaired[1][i]) for i in pi], device))
            if s <= cfg.warmup:
                w = replace(w, wake=0.0, sleep=0.0)
        losses = model(batch, ub, w, generator=gen, dreams=cfg.dream_batch, chunks=cfg.length_chunks)
        opt.zero_grad()
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return {k: float(v.detach()) for k, v in losses.items()}

    def report(s: int, window: list[dict], judged) -> dict:
        return {"step": s, **window[-1],
                **{f"dev_{k}": v for k, v in channel_metrics(judged, dev_words, dev_ph, device).items()}}

    loop = Loop(model, {"adam": opt}, cfg.steps, step, report, log_every=cfg.eval_every,
                lr=lambda s: {"adam": linear_decay(cfg.lr, s, cfg.steps, cfg.decay_from)},
                select=Selection(lambda row: row["dev_g2p_per"] + row["dev_p2g_ler"], maximize=False),
                generators={"dreams": gen},
                describe=lambda r: f"loss {r['loss']:.2f} dev PER {r['dev_g2p_per']:.3f} LER {r['dev_p2g_ler']:.3f}")
    key = fingerprint(model.cfg, model.decode, cfg, seed, paired, unpaired, dev_words, dev_ph)
    return train(loop, name, Resume(Path(resume), key, cfg.eval_every) if resume else None, on_log).history


def mel_batch(clips: ClipSet, idx, device, augment: AugmentConfig | None = None, generator=None):
    """Padded log-mel frames of clips `idx` and their lengths; with `augment`, one fresh draw per clip."""
    if augment is not None and augment.active:
        feats = [torch.from_numpy(augmented_features(clips.waveform(i), clips.features(i), augment, generator))
                 for i in idx]
    else:
        feats = [torch.from_numpy(clips.features(i)) for i in idx]
    lengths = torch.tensor([len(f) for f in feats])
    mel = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True)
    return mel.to(device), lengths.to(device)


def fit_acoustic(model: AcousticEncoder, clips: ClipSet, phonemes: list,
                 cfg: AcousticTrainConfig, seed: int, device, on_log=None, resume: str | Path | None = None,
                 name: str = "acoustic") -> list[dict]:
    """Train `model` in place; `resume`: a partial checkpoint written every log_every steps."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(seed)             # the phoneme code's corrupted copies
    augment = torch.Generator().manual_seed(seed + 1)     # the augmentations' draws

    def step(s: int) -> dict:
        idx = step_rng(seed, s).choice(len(clips), min(cfg.batch_size, len(clips)), replace=False)
        mel, lengths = mel_batch(clips, idx, device, cfg.augment, augment)
        ph = pad_batch([PHONES.encode(phonemes[i]) for i in idx], device)
        losses = model(mel, lengths, ph, generator=gen)
        opt.zero_grad()
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return {k: float(v.detach()) for k, v in losses.items()}

    loop = Loop(model, {"adam": opt}, cfg.steps, step, lambda s, window, _: {"step": s, **window[-1]},
                log_every=cfg.log_every, generators={"corrupt": gen, "augment": augment},
                describe=lambda r: " ".join(f"{k} {v:.3f}" for k, v in r.items() if k != "step"))
    key = fingerprint(model.cfg, cfg, seed, clips.words, clips.voices, clips.mel, phonemes)
    return train(loop, name, Resume(Path(resume), key, cfg.log_every) if resume else None, on_log).history


@torch.no_grad()
def speech_codes(model: AcousticEncoder, clips: ClipSet, device, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(content codes, voice codes) of every clip."""
    model.eval()
    content, voice = [], []
    for i in range(0, len(clips), batch):
        mel, lengths = mel_batch(clips, range(i, min(i + batch, len(clips))), device)
        content.append(model.content(mel, lengths).cpu().numpy())
        voice.append(model.voice(mel, lengths).cpu().numpy())
    return np.concatenate(content), np.concatenate(voice)


@torch.no_grad()
def phoneme_codes(model: AcousticEncoder, phonemes: list, device, batch: int = 1024) -> np.ndarray:
    model.eval()
    out = [model.phonemes(pad_batch([PHONES.encode(p) for p in phonemes[i: i + batch]], device)).cpu().numpy()
           for i in range(0, len(phonemes), batch)]
    return np.concatenate(out) if out else np.zeros((0, model.cfg.code), np.float32)
