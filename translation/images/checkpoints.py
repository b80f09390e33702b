"""Saving and loading the DRIT model (pipeline.checkpoint's format)."""
from __future__ import annotations

from pathlib import Path

from pipeline import checkpoint
from translation.images.config import DRITConfig
from translation.images.model import DRIT


def save_model(path: str | Path, model: DRIT, steps: int, **extra) -> None:
    checkpoint.write(path, "drit", model.cfg, model, steps=steps, **extra)


def load_model(path: str | Path, device="cpu") -> tuple[DRIT, dict]:
    """→ (the DRIT saved at `path`, in eval mode on `device`; its checkpoint dict)."""
    return checkpoint.load(path, "drit", lambda c: DRIT(DRITConfig(**c)), "DRIT", "train_translation", device)
