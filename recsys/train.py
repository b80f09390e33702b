"""Training of the VAE recommenders (MacridVAE and Mult-VAE) on pipeline.trainer's loop.

Mini-batches of training users in a fresh order each epoch; β annealed as β_t = min(beta, t / anneal_steps)
over minibatch steps t (Liang et al.); validation NDCG@100 after every epoch, early stopping with
patience, the best weights kept. With `ema` > 0 the weights validated and kept are an exponential
moving average of the trained ones (Polyak averaging), which smooths the epoch-to-epoch noise that
selection on a small validation set would otherwise pick up. With a `Resume` a killed run continues
from its last checkpoint (written at epoch ends) to the same weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from pipeline import distributed
from pipeline.trainer import Loop, Resume, Selection, fingerprint, mean_losses, train
from recsys.anchors import category_anchors
from recsys.dataset import InteractionData
from recsys.metrics import evaluate_in_batches
from recsys.config import TrainConfig


@dataclass
class FitResult:
    best_epoch: int
    best_ndcg: float
    epochs: int
    history: list = field(default_factory=list)


def dense(m: sp.csr_matrix, device) -> torch.Tensor:
    return torch.from_numpy(m.toarray().astype(np.float32)).to(device)


def score_users(model, x: sp.csr_matrix, device, batch: int = 512) -> np.ndarray:
    return np.concatenate([model.score(dense(x[i:i + batch], device)).cpu().numpy()
                           for i in range(0, x.shape[0], batch)]) if x.shape[0] else np.zeros((0, x.shape[1]))


def fit(model, data: InteractionData, cfg: TrainConfig, seed: int, device,
        name: str = "train", on_epoch=None, resume: Path | None = None) -> FitResult:
    """Train `model` in place and leave it with the best epoch's weights. `resume`: a partial
    checkpoint written at every epoch's end and continued from when it is this run's."""
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    n = data.train.shape[0]
    model.train_size = n   # what a minibatch estimator of aggregate densities needs (MacridVAE's hierarchical KL)
    if getattr(model.cfg, "anchor_items", 0):
        model.set_anchors(*category_anchors(data.train, data.item_category, model.cfg.concepts, model.cfg.anchor_items))
    per_epoch = -(-n // cfg.batch_size)
    epoch_order = {}

    def step(s: int) -> dict:
        epoch, i = divmod(s - 1, per_epoch)
        if i == 0:
            epoch_order[epoch] = torch.randperm(n, generator=gen).numpy()
            if getattr(model.cfg, "composite_prior", False):
                model.refresh_prior()   # RecVAE: the prior holds the posterior of the epoch's start
        rows = distributed.shard(epoch_order[epoch][i * cfg.batch_size:(i + 1) * cfg.batch_size])
        beta = min(cfg.beta, (s - 1) / cfg.anneal_steps)
        losses = model(dense(data.train[rows], device), beta, step=s)
        opt.zero_grad()
        losses["loss"].backward()
        opt.step()
        return {**{k: float(v.detach()) for k, v in losses.items()}, "beta": beta, "rows": len(rows)}

    def report(s: int, window: list[dict], judged) -> dict:
        val = evaluate_in_batches(lambda x: score_users(judged, x, device), data.val_foldin, data.val_target)
        losses = mean_losses(window, weight="rows")
        return {"epoch": s // per_epoch, "beta": window[-1]["beta"],
                **{k: v for k, v in losses.items() if k != "beta"},
                "val_ndcg@100": val["ndcg@100"]["mean"], "val_recall@20": val["recall@20"]["mean"]}

    loop = Loop(model, {"adam": opt}, cfg.epochs * per_epoch, step, report, log_every=per_epoch,
                select=Selection(lambda row: row["val_ndcg@100"], maximize=True, patience=cfg.patience),
                ema=cfg.ema, generators={"order": gen},
                describe=lambda r: f"epoch {r['epoch']} loss {r['loss']:.2f} val ndcg@100 {r['val_ndcg@100']:.4f}")
    key = fingerprint(type(model).__name__, getattr(model, "cfg", None), cfg, seed,
                      data.train.indices, data.train.indptr, data.val_foldin.indices, data.val_target.indices)
    trained = train(loop, name, Resume(Path(resume), key, per_epoch) if resume else None,
                    on_epoch)
    return FitResult(trained.best_step // per_epoch, trained.best_score, trained.steps // per_epoch, trained.history)
