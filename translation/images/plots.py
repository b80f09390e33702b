"""Pictures of a translation model: grids of translations (rows inputs, columns attribute codes)."""
from __future__ import annotations

import numpy as np
import torch

from translation.images.model import DRIT
from translation.images.evaluate import translate_batch
from translation.images.data import ImageData


def tile_grid(rows: np.ndarray, pad: int = 2) -> np.ndarray:
    """(R, C, H, W, 3) uint8 → one image with a white gap between cells."""
    r, c, h, w, _ = rows.shape
    out = np.full((r * (h + pad) + pad, c * (w + pad) + pad, 3), 255, np.uint8)
    for i in range(r):
        for j in range(c):
            out[pad + i * (h + pad):pad + i * (h + pad) + h, pad + j * (w + pad):pad + j * (w + pad) + w] = rows[i, j]
    return out


def translation_grid(model: DRIT, data: ImageData, n_inputs: int, n_codes: int, seed: int) -> np.ndarray:
    """Two blocks, A→B above B→A: column 0 the input, then one column per fixed random attribute code
    (the same codes down a column, so a column shows one attribute applied to every content)."""
    blocks = []
    for direction, split in (("a2b", "a_test"), ("b2a", "b_test")):
        images = data.splits[split].images
        pick = np.random.default_rng(seed).choice(len(images), min(n_inputs, len(images)), replace=False)
        g = torch.Generator().manual_seed(seed)
        z = model.random_attribute(n_codes, generator=g)
        out = translate_batch(model, images[pick], direction, z=z, generator=g)
        blocks.append(np.concatenate([images[pick][:, None], out], axis=1))
    return tile_grid(np.concatenate(blocks))
