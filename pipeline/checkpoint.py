"""Rebuilding a saved model: the one place that turns a checkpoint of another model version into an
error that names the file and the stage that retrains it."""
from __future__ import annotations


def restore(path, build, config: dict, weights: dict, what: str, stage: str):
    """`build(config)` with `weights` loaded; other config fields or weights raise ValueError."""
    try:
        model = build(config)
        model.load_state_dict(weights)
    except (TypeError, RuntimeError, KeyError) as e:
        raise ValueError(f"{path}: saved by a different version of {what}, retrain it (dvc repro {stage}): "
                         f"{' '.join(str(e).split())[:300]}") from None
    return model
