"""Saving and loading the text–speech models (pipeline.checkpoint's format): one file per noisy
channel, one for the acoustic encoder."""
from __future__ import annotations

from dataclasses import asdict

from pipeline import checkpoint
from translation.speech.acoustic import AcousticEncoder
from translation.speech.config import AcousticConfig, DecodeConfig, Seq2SeqConfig
from translation.speech.channel import NoisyChannel


def save_channel(path, model: NoisyChannel, extra: dict) -> None:
    checkpoint.write(path, "noisy_channel", model.cfg, model, decode=asdict(model.decode), **extra)


def load_channel(path, device="cpu") -> tuple[NoisyChannel, dict]:
    state = checkpoint.read(path, "noisy_channel", "train_text_speech")
    model = checkpoint.restore(path, lambda c: NoisyChannel(Seq2SeqConfig(**c), DecodeConfig(**state["decode"])),
                               state["config"], state["model"], "the noisy channel", "train_text_speech")
    return model.to(device).eval(), state


def save_acoustic(path, model: AcousticEncoder, extra: dict) -> None:
    checkpoint.write(path, "acoustic", model.cfg, model, **extra)


def load_acoustic(path, device="cpu") -> tuple[AcousticEncoder, dict]:
    return checkpoint.load(path, "acoustic", lambda c: AcousticEncoder(AcousticConfig(**c)), "the acoustic encoder",
                           "train_text_speech", device)
