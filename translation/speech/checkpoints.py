"""Saving and loading the text–speech models: one file per noisy channel, one for the acoustic encoder.

Saved through a buffer (torch.save would record the temporary file's name) and written atomically.
A file that is not such a checkpoint fails with an error naming it.
"""
from __future__ import annotations

import io
from dataclasses import asdict
from pathlib import Path

import torch

from pipeline.atomic import write_bytes
from pipeline.checkpoint import restore
from translation.speech.acoustic import AcousticConfig, AcousticEncoder
from translation.speech.channel import NoisyChannel
from translation.speech.seq2seq import Seq2SeqConfig


def _save(path, kind: str, config, model, extra: dict) -> None:
    buf = io.BytesIO()
    torch.save({"kind": kind, "config": asdict(config),
                "state": {k: v.cpu() for k, v in model.state_dict().items()}, **extra}, buf)
    write_bytes(path, buf.getvalue())


def _load(path, kind: str) -> dict:
    try:
        state = torch.load(Path(path), map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001 - torch raises many types for a bad archive
        raise ValueError(f"{path}: not a readable checkpoint ({type(e).__name__})") from None
    if not isinstance(state, dict) or state.get("kind") != kind:
        raise ValueError(f"{path}: not a {kind} checkpoint")
    return state


def save_channel(path, model: NoisyChannel, extra: dict) -> None:
    _save(path, "noisy_channel", model.cfg, model, extra)


def load_channel(path, device="cpu") -> tuple[NoisyChannel, dict]:
    state = _load(path, "noisy_channel")
    model = restore(path, lambda c: NoisyChannel(Seq2SeqConfig(**c)), state.get("config", {}), state.get("state", {}),
                    "the noisy channel", "train_text_speech")
    return model.to(device).eval(), state


def save_acoustic(path, model: AcousticEncoder, extra: dict) -> None:
    _save(path, "acoustic", model.cfg, model, extra)


def load_acoustic(path, device="cpu") -> tuple[AcousticEncoder, dict]:
    state = _load(path, "acoustic")
    model = restore(path, lambda c: AcousticEncoder(AcousticConfig(**c)), state.get("config", {}), state.get("state", {}),
                    "the acoustic encoder", "train_text_speech")
    return model.to(device).eval(), state
