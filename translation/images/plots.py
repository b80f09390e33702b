"""Pictures of a translation model: grids of translations (rows inputs, columns attribute codes) and of
cross-domain content search (rows queries, columns their nearest images of the other domain)."""
from __future__ import annotations

import numpy as np
import torch

from translation.images.model import DRIT
from translation.images.evaluate import translate_batch
from translation.images.data import ImageData, tile_grid


HIT, MISS, QUERY, UNKNOWN = (0, 170, 0), (220, 0, 0), (0, 0, 0), (150, 150, 150)   # frames: same class, other, query, no labels


def framed(images: np.ndarray, colours: np.ndarray, width: int = 2) -> np.ndarray:
    """(..., H, W, 3) uint8 images inside frames of (..., 3) colours, `width` pixels wide."""
    h, w = images.shape[-3:-1]
    out = np.empty(images.shape[:-3] + (h + 2 * width, w + 2 * width, 3), np.uint8)
    out[...] = np.asarray(colours, np.uint8)[..., None, None, :]
    out[..., width:width + h, width:width + w, :] = images
    return out


def search_grid(queries: np.ndarray, hits: np.ndarray, same_class: np.ndarray | None) -> np.ndarray:
    """Row i: query i (black frame), then its k hits in rank order, each framed green when it shows
    the query's class and red when not (grey: labels unknown, same_class None).
    queries (N, H, W, 3), hits (N, k, H, W, 3), same_class (N, k) or None."""
    if same_class is None:
        same_class = np.zeros(hits.shape[:2], bool)
        colours = np.broadcast_to(np.array(UNKNOWN), (*hits.shape[:2], 3))
    else:
        colours = np.where(same_class[..., None], np.array(HIT), np.array(MISS))
    if hits.shape[:2] != same_class.shape or len(queries) != len(hits):
        raise ValueError(f"search_grid: {len(queries)} queries, hits {hits.shape[:2]}, matches {same_class.shape}")
    rows = np.concatenate([framed(queries, np.broadcast_to(np.array(QUERY), (len(queries), 3)))[:, None],
                           framed(hits, colours)], axis=1)
    return tile_grid(rows)


def translation_grid(model: DRIT, data: ImageData, n_inputs: int, n_codes: int, seed: int,
                     held: str = "test") -> np.ndarray:
    """Two blocks, A→B above B→A: column 0 the input (of the `held` splits), then one column per fixed random
    attribute code (the same codes down a column, so a column shows one attribute applied to every content)."""
    blocks = []
    for direction, split in (("a2b", f"a_{held}"), ("b2a", f"b_{held}")):
        images = data.splits[split].images
        pick = np.random.default_rng(seed).choice(len(images), min(n_inputs, len(images)), replace=False)
        g = torch.Generator().manual_seed(seed)
        z = model.random_attribute(n_codes, generator=g)
        out = translate_batch(model, images[pick], direction, z=z, generator=g)
        blocks.append(np.concatenate([images[pick][:, None], out], axis=1))
    return tile_grid(np.concatenate(blocks))
