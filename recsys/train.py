"""One trainer for the VAE recommenders (MacridVAE and Mult-VAE).

Mini-batches of training users; β annealed as β_t = min(β_cap, step / anneal_steps) (Liang et al.);
validation NDCG@100 after every epoch, early stopping with patience, the best weights kept.
With `ema` > 0 the weights validated and kept are an exponential moving average of the trained
ones (Polyak averaging), which smooths the epoch-to-epoch noise that selection on a small
validation set would otherwise pick up.
The step counter and optimizer state are saved with the model so training can resume.
"""
from __future__ import annotations

import copy
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from pipeline.atomic import atomic_path
from pipeline.config import rule
from pipeline.progress import Progress
from recsys.dataset import InteractionData
from recsys.metrics import evaluate_scores


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = field(default=150, metadata=rule(ge=1))
    batch_size: int = field(default=128, metadata=rule(ge=1))
    lr: float = field(default=1e-3, metadata=rule(gt=0))
    weight_decay: float = field(default=0.0, metadata=rule(ge=0))
    anneal_steps: int = field(default=200, metadata=rule(ge=1))
    patience: int = field(default=30, metadata=rule(ge=1))
    ema: float = field(default=0.99, metadata=rule(ge=0, lt=1))  # EMA decay per step; 0 = off


@dataclass
class FitResult:
    state: dict
    optimizer: dict
    best_epoch: int
    best_ndcg: float
    step: int
    history: list = field(default_factory=list)


def dense(m: sp.csr_matrix, device) -> torch.Tensor:
    return torch.from_numpy(m.toarray().astype(np.float32)).to(device)


def score_users(model, x: sp.csr_matrix, device, batch: int = 512) -> np.ndarray:
    return np.concatenate([model.score(dense(x[i:i + batch], device)).cpu().numpy()
                           for i in range(0, x.shape[0], batch)]) if x.shape[0] else np.zeros((0, x.shape[1]))


def fit(model, data: InteractionData, cfg: TrainConfig, beta_cap: float, seed: int, device,
        name: str = "train", on_epoch=None) -> FitResult:
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    n = data.train.shape[0]
    model.train_size = n   # what a minibatch estimator of aggregate densities needs (MacridVAE's hierarchical KL)
    averaged = (torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(cfg.ema))
                if cfg.ema else None)
    judged = averaged.module if averaged else model  # the weights validated and kept
    best = FitResult(copy.deepcopy(model.state_dict()), {}, 0, -1.0, 0)
    step, stale = 0, 0
    progress = Progress(name, cfg.epochs)
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = torch.randperm(n, generator=gen).numpy()
        totals = {}
        for i in range(0, n, cfg.batch_size):
            beta = min(beta_cap, step / cfg.anneal_steps)
            losses = model(dense(data.train[order[i:i + cfg.batch_size]], device), beta)
            opt.zero_grad()
            losses["loss"].backward()
            opt.step()
            if averaged:
                averaged.update_parameters(model)
            step += 1
            for k, v in losses.items():
                totals[k] = totals.get(k, 0.0) + float(v.detach()) * min(cfg.batch_size, n - i) / n
        judged.eval()
        val = evaluate_scores(score_users(judged, data.val_foldin, device), data.val_foldin, data.val_target)
        ndcg = val["ndcg@100"]["mean"]
        record = {"epoch": epoch, "beta": beta, **totals, "val_ndcg@100": ndcg,
                  "val_recall@20": val["recall@20"]["mean"]}
        best.history.append(record)
        if on_epoch:
            on_epoch(record)
        if ndcg > best.best_ndcg:
            best.state, best.optimizer = copy.deepcopy(judged.state_dict()), copy.deepcopy(opt.state_dict())
            best.best_epoch, best.best_ndcg, best.step = epoch, ndcg, step
            stale = 0
        else:
            stale += 1
        progress.step(epoch, f"loss {totals['loss']:.2f} val ndcg@100 {ndcg:.4f} (best {best.best_ndcg:.4f} @ {best.best_epoch})")
        if stale >= cfg.patience:
            progress.done(f"early stop at epoch {epoch}")
            break
    model.load_state_dict(best.state)
    return best


def save_checkpoint(path: str | Path, model, result: FitResult, extra: dict) -> None:
    # saved through a buffer: torch.save names the archive after the file, and the temporary
    # file's random name would make identical models differ byte for byte
    buffer = io.BytesIO()
    torch.save({"model_state": {k: v.cpu() for k, v in model.state_dict().items()},
                "optimizer_state": result.optimizer, "step": result.step,
                "best_epoch": result.best_epoch, "best_val_ndcg": result.best_ndcg,
                "history": result.history, **extra}, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def load_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint (run train_recsys)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # torch raises several types for a corrupted file
        raise ValueError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(ckpt, dict) or "model_state" not in ckpt:
        raise ValueError(f"{path}: not an mdr checkpoint")
    return ckpt
