"""The look of an image's background, the measure of fidelity to a domain: the border ring's colour and
texture, and the range that a domain's real images span. Evaluation counts translations outside the
target's range (evaluate.fidelity); training can pay for leaving it (DRIT's lambda_background).
"""
from __future__ import annotations

import numpy as np
import torch

RANGE_QUANTILE = 0.005     # the range is the real images' [0.5 %, 99.5 %] of each statistic ...
RANGE_MARGIN = 0.02        # ... widened by this much (5 grey levels of 255), so a constant background keeps a range
LUMA = (0.299, 0.587, 0.114)


def border_ring(height: int, width: int) -> np.ndarray:
    """(H, W) bool: the outer eighth of the side, where a centred glyph's background shows: MNIST's
    black, MNIST-M's photo crops, a white page."""
    r = max(1, height // 8)
    ring = np.ones((height, width), bool)
    ring[r:-r, r:-r] = False
    return ring


def background_stats(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 → (N, 4): the border ring's mean red, green and blue and the standard deviation
    of its luminance (texture), in [0, 1]."""
    x = images.astype(np.float32) / 255.0
    px = x[:, border_ring(*images.shape[1:3])]                          # (N, P, 3)
    luminance = px @ np.array(LUMA, np.float32)
    return np.concatenate([px.mean(1), luminance.std(1, keepdims=True)], axis=1)


def background_stats_torch(x: torch.Tensor) -> torch.Tensor:
    """background_stats for training: (N, 3, H, W) in [-1, 1] → (N, 4), differentiable."""
    ring = torch.from_numpy(border_ring(*x.shape[2:])).to(x.device)
    px = (x[:, :, ring] + 1) / 2                                        # (N, 3, P)
    luminance = torch.einsum("c,ncp->np", px.new_tensor(LUMA), px)
    texture = (luminance.var(1, unbiased=False, keepdim=True) + 1e-8).sqrt()   # + ε: a flat ring has a gradient
    return torch.cat([px.mean(2), texture], dim=1)


def background_range(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of each background statistic over the `real` images, widened by the margin."""
    ref = background_stats(real)
    return (np.quantile(ref, RANGE_QUANTILE, axis=0) - RANGE_MARGIN,
            np.quantile(ref, 1 - RANGE_QUANTILE, axis=0) + RANGE_MARGIN)


def outside_share(images: np.ndarray, real: np.ndarray | tuple[np.ndarray, np.ndarray]) -> float:
    """Share of `images` with any background statistic outside the range of the `real` images (or a
    background_range already computed)."""
    lo, hi = real if isinstance(real, tuple) else background_range(real)
    stats = background_stats(images)
    return float(((stats < lo) | (stats > hi)).any(axis=1).mean())
