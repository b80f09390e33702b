"""Saving and loading the recommender's models (pipeline.checkpoint's format): MacridVAE, and Mult-VAE
beside it in the evaluation."""
from __future__ import annotations

from pathlib import Path

from pipeline import checkpoint
from recsys.config import MacridVAEConfig
from recsys.macridvae import MacridVAE


def save_model(path: str | Path, model, result, extra: dict) -> None:
    """`model` with what its training (recsys.train.FitResult `result`) chose and its history."""
    checkpoint.write(path, type(model).__name__.lower(), model.cfg, model, best_epoch=result.best_epoch,
                     best_val_ndcg=result.best_ndcg, history=result.history, **extra)


def load_model(path, n_items: int | None = None):
    """→ (the MacridVAE saved at `path`, in eval mode; its checkpoint dict)."""
    ckpt = checkpoint.read(path, "macridvae", "train_recsys")
    items = len(ckpt.get("item_ids", []))
    model = checkpoint.restore(path, lambda c: MacridVAE(items, MacridVAEConfig(**c)), ckpt["config"], ckpt["model"],
                               "MacridVAE", "train_recsys").eval()
    if n_items is not None and n_items != len(ckpt["item_ids"]):
        raise ValueError(f"{path}: model has {len(ckpt['item_ids'])} items, data has {n_items}; retrain")
    return model, ckpt
