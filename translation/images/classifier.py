"""The project's own digit/glyph classifier: the judge of content preservation, the feature space of
diversity and the Fréchet distance, and the fixed learner of the domain-adaptation comparison
(source-only, translated-source, target-only and DANN are all trained with this class and this budget).

Two ways of training it beside the plain one, for fair baselines:
- as a practitioner trains source-only: every image standardised per channel (in training and at
  prediction), colour jitter on training batches (per-channel gain and offset, channel order, inversion);
- DANN (Ganin et al. 2016): a domain classifier on the features, behind a gradient-reversal layer, learns
  to tell source from unlabelled target images while the features learn to make it fail; the reversal's
  weight rises from 0 to 1 as 2 / (1 + exp(-10 p)) − 1 over training progress p, as in the paper.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from pipeline.trainer import Loop, Resume, fingerprint, mean_losses, train
from translation.images.data import to_tensor
from translation.images.config import ClassifierConfig


def standardise(x: torch.Tensor) -> torch.Tensor:
    """Each image's channels to zero mean and unit variance."""
    return (x - x.mean((2, 3), keepdim=True)) / (x.std((2, 3), keepdim=True) + 1e-5)


def colour_jitter(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Per image: channel gains in [0.6, 1.4], offsets in [-0.3, 0.3], the channels shuffled, and
    inverted with probability 1/2 (images in [-1, 1])."""
    n = len(x)
    gain = torch.from_numpy(rng.uniform(0.6, 1.4, (n, 3, 1, 1))).float()
    offset = torch.from_numpy(rng.uniform(-0.3, 0.3, (n, 3, 1, 1))).float()
    order = torch.from_numpy(np.stack([rng.permutation(3) for _ in range(n)]))
    sign = torch.from_numpy(np.where(rng.random((n, 1, 1, 1)) < 0.5, -1.0, 1.0)).float()
    shuffled = torch.gather(x, 1, order[:, :, None, None].expand_as(x))
    return (sign * (shuffled * gain + offset)).clamp(-1, 1)


class GradientReversal(torch.autograd.Function):
    """Identity forward; the gradient times −weight backward."""

    @staticmethod
    def forward(ctx, x, weight: float):
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.weight * grad, None


class Classifier(nn.Module):
    """Three conv stages (BN, ReLU, max-pool) → a 4w feature vector → class logits; `standardise`:
    each input image standardised first."""

    def __init__(self, n_classes: int, w: int = 32, standardise: bool = False):
        super().__init__()
        self.standardise = standardise

        def stage(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                                 nn.Conv2d(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                                 nn.MaxPool2d(2))

        self.features_net = nn.Sequential(stage(3, w), stage(w, 2 * w), stage(2 * w, 4 * w),
                                          nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(4 * w, n_classes))

    def embed(self, x):
        return self.features_net(standardise(x) if self.standardise else x)

    def forward(self, x):
        return self.head(self.embed(x))

    @torch.no_grad()
    def features(self, images: np.ndarray, batch: int = 500) -> np.ndarray:
        self.eval()
        return np.concatenate([self.embed(to_tensor(images[i:i + batch])).numpy()
                               for i in range(0, len(images), batch)])

    @torch.no_grad()
    def predict(self, images: np.ndarray, batch: int = 500) -> np.ndarray:
        self.eval()
        return np.concatenate([self(to_tensor(images[i:i + batch])).argmax(1).numpy()
                               for i in range(0, len(images), batch)])

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
        return float((self.predict(images) == labels).mean())


def dann_weight(step: int, steps: int) -> float:
    """The gradient reversal's weight at 1-based `step` of `steps` (Ganin et al.'s schedule)."""
    return 2.0 / (1.0 + np.exp(-10.0 * step / steps)) - 1.0


def train_classifier(images: np.ndarray, labels: np.ndarray, n_classes: int, cfg: ClassifierConfig,
                     seed: int, resume: str | Path | None = None, checkpoint_every: int = 100, *,
                     practitioner: bool = False, adapt_to: np.ndarray | None = None) -> Classifier:
    """`cfg.steps` Adam steps on random batches (the same budget whatever the training set), with a
    cosine learning-rate decay; `resume`: a partial checkpoint written every `checkpoint_every` steps.
    `practitioner`: per-image standardisation and colour jitter; `adapt_to`: unlabelled target images
    for DANN (each step also draws a batch of them)."""
    if len(images) != len(labels) or (labels < 0).any():
        raise ValueError("train_classifier: needs one known label per image")
    if adapt_to is not None and len(adapt_to) == 0:
        raise ValueError("train_classifier: adapt_to needs target images")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Classifier(n_classes, cfg.width, standardise=practitioner)
    modules = nn.ModuleDict({"classifier": model})
    if adapt_to is not None:
        w = 4 * cfg.width
        modules["domain"] = nn.Sequential(nn.Linear(w, w), nn.ReLU(inplace=True), nn.Linear(w, 1))
    opt = torch.optim.Adam(modules.parameters(), lr=cfg.lr)

    def batch(pool: np.ndarray) -> torch.Tensor:
        x = to_tensor(pool[rng.integers(len(pool), size=cfg.batch_size)])
        return colour_jitter(x, rng) if practitioner else x

    def step(s: int) -> dict:
        idx = rng.integers(len(images), size=cfg.batch_size)
        x = to_tensor(images[idx])
        x = colour_jitter(x, rng) if practitioner else x
        out = {}
        if adapt_to is None:
            loss = F.cross_entropy(model(x), torch.from_numpy(labels[idx]))
        else:   # source and target through one pass (shared batch-norm statistics)
            h = model.embed(torch.cat([x, batch(adapt_to)]))
            n = len(x)
            loss = F.cross_entropy(model.head(h[:n]), torch.from_numpy(labels[idx]))
            domain = modules["domain"](GradientReversal.apply(h, dann_weight(s, cfg.steps))).squeeze(1)
            domain_loss = F.binary_cross_entropy_with_logits(domain, torch.cat([torch.zeros(n), torch.ones(n)]))
            out["domain_loss"] = float(domain_loss.detach())
            loss = loss + domain_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": float(loss.detach())} | out

    loop = Loop(modules, {"adam": opt}, cfg.steps, step, lambda s, window, _: {"step": s} | mean_losses(window),
                log_every=cfg.steps, schedulers={"cosine": torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps)},
                generators={"batches": rng})
    key = fingerprint(cfg, seed, n_classes, images, labels, practitioner,
                      *([adapt_to] if adapt_to is not None else []))
    train(loop, "classifier", Resume(Path(resume), key, checkpoint_every) if resume else None)
    return model
