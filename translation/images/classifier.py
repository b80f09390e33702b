"""The project's own digit/glyph classifier: the judge of content preservation, the feature space of
diversity and the Fréchet distance, and the fixed learner of the domain-adaptation comparison
(source-only, translated-source and target-only are all trained with this class and this budget).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from pipeline.config import rule
from pipeline.trainer import Loop, Resume, fingerprint, mean_losses, train
from translation.images.data import to_tensor


@dataclass(frozen=True)
class ClassifierConfig:
    steps: int = field(default=480, metadata=rule(ge=1))
    batch_size: int = field(default=64, metadata=rule(ge=2))
    lr: float = field(default=1e-3, metadata=rule(gt=0))
    width: int = field(default=16, metadata=rule(ge=4))


class Classifier(nn.Module):
    """Three conv stages (BN, ReLU, max-pool) → a 4w feature vector → class logits."""

    def __init__(self, n_classes: int, w: int = 32):
        super().__init__()

        def stage(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                                 nn.Conv2d(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                                 nn.MaxPool2d(2))

        self.features_net = nn.Sequential(stage(3, w), stage(w, 2 * w), stage(2 * w, 4 * w),
                                          nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(4 * w, n_classes))

    def forward(self, x):
        return self.head(self.features_net(x))

    @torch.no_grad()
    def features(self, images: np.ndarray, batch: int = 500) -> np.ndarray:
        self.eval()
        return np.concatenate([self.features_net(to_tensor(images[i:i + batch])).numpy()
                               for i in range(0, len(images), batch)])

    @torch.no_grad()
    def predict(self, images: np.ndarray, batch: int = 500) -> np.ndarray:
        self.eval()
        return np.concatenate([self(to_tensor(images[i:i + batch])).argmax(1).numpy()
                               for i in range(0, len(images), batch)])

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
        return float((self.predict(images) == labels).mean())


def train_classifier(images: np.ndarray, labels: np.ndarray, n_classes: int, cfg: ClassifierConfig,
                     seed: int, resume: str | Path | None = None, checkpoint_every: int = 100) -> Classifier:
    """`cfg.steps` Adam steps on random batches (the same budget whatever the training set), with a
    cosine learning-rate decay; `resume`: a partial checkpoint written every `checkpoint_every` steps."""
    if len(images) != len(labels) or (labels < 0).any():
        raise ValueError("train_classifier: needs one known label per image")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Classifier(n_classes, cfg.width)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)

    def step(_: int) -> dict:
        idx = rng.integers(len(images), size=cfg.batch_size)
        loss = F.cross_entropy(model(to_tensor(images[idx])), torch.from_numpy(labels[idx]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": float(loss.detach())}

    loop = Loop(model, {"adam": opt}, cfg.steps, step, lambda s, window, _: {"step": s} | mean_losses(window),
                log_every=cfg.steps, schedulers={"cosine": torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps)},
                generators={"batches": rng})
    key = fingerprint(cfg, seed, n_classes, images, labels)
    train(loop, "classifier", Resume(Path(resume), key, checkpoint_every) if resume else None)
    return model
