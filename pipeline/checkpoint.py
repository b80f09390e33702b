"""The one checkpoint format of every model, finished or partial:

    {"format": 1, "kind": "macridvae" | "multvae" | "drit" | "noisy_channel" | "acoustic" | "partial",
     "config": the architecture config as a dict, "model": the state dict (CPU tensors), **extra}

A partial checkpoint's extra is `training` (pipeline.trainer: step, optimizers, EMA, best weights,
random state). Files are written through a buffer (torch.save records a file's name, and the temporary
file's random name would make equal models differ byte for byte) and renamed into place atomically.
Reading a file that is not such a checkpoint, or is one of another kind or model version, fails with
an error that names the file and the stage that makes it.
"""
from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import torch

from pipeline.atomic import write_bytes

FORMAT = 1


def write(path, kind: str, config, model: torch.nn.Module, **extra) -> None:
    config = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "kind": kind, "config": config,
                "model": {k: v.cpu() for k, v in model.state_dict().items()}, **extra}, buf)
    write_bytes(path, buf.getvalue())


def read(path, kind: str, stage: str | None = None) -> dict:
    """The checkpoint at `path`, which must be of `kind`; `stage` is named in the errors."""
    path = Path(path)
    remedy = f" (run the {stage} stage)" if stage else ""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no {kind} checkpoint{remedy}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - torch raises many types for a damaged archive
        raise ValueError(f"{path}: not a readable checkpoint ({type(e).__name__}){remedy}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or "model" not in state:
        raise ValueError(f"{path}: not an mdr checkpoint{remedy}")
    if state.get("kind") != kind:
        raise ValueError(f"{path}: a {state.get('kind')} checkpoint, not a {kind} one{remedy}")
    return state


def restore(path, build, config: dict, weights: dict, what: str, stage: str):
    """`build(config)` with `weights` loaded; other config fields or weights raise ValueError."""
    try:
        model = build(config)
        model.load_state_dict(weights)
    except (TypeError, RuntimeError, KeyError) as e:
        raise ValueError(f"{path}: saved by a different version of {what}, retrain it (dvc repro {stage}): "
                         f"{' '.join(str(e).split())[:300]}") from None
    return model


def load(path, kind: str, build, what: str, stage: str, device="cpu"):
    """→ (the model `build(config)` with the saved weights, in eval mode on `device`; the whole checkpoint)."""
    state = read(path, kind, stage)
    model = restore(path, build, state["config"], state["model"], what, stage)
    return model.to(device).eval(), state
