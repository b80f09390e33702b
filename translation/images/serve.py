"""Serving image translation: translate an image (n diverse outputs or a reference's attribute) and
search by content across domains (one FAISS index of content codes per domain).

Content vectors are the content maps average-pooled to pool×pool, flattened and L2-normalised, so the
indexes search by cosine.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pipeline.atomic import atomic_path
from pipeline.errors import NotFound
from pipeline.indexes import VectorIndex
from translation.images.model import DOMAINS, DRIT
from translation.images.evaluate import codes, translate_batch
from translation.images.data import ImageData, ImageError
from translation.images.train import load_model

def content_vectors(model: DRIT, images: np.ndarray, domain: str, pool: int) -> np.ndarray:
    c, _ = codes(model, images, domain, pool)
    return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)


def build_indexes(model: DRIT, data: ImageData, pool: int, factory: str, nprobe: int) -> dict[str, VectorIndex]:
    """One index per domain over its training images; ids are rows of `{domain}_train`."""
    out = {}
    for d in DOMAINS:
        images = data.splits[f"{d}_train"].images
        out[d] = VectorIndex.build(content_vectors(model, images, d, pool), np.arange(len(images)), factory,
                                   "ip", nprobe)
    return out


def save_indexes(folder, indexes: dict[str, VectorIndex], pool: int) -> None:
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        for d, index in indexes.items():
            index.save(tmp / f"content_{d}.faiss")
        (tmp / "manifest.json").write_text(json.dumps({"pool": pool, "domains": list(indexes)}, indent=2))


def load_indexes(folder) -> tuple[dict[str, VectorIndex], int]:
    folder = Path(folder)
    if not (folder / "manifest.json").exists():
        raise FileNotFoundError(f"{folder}: no index manifest (run index_translation)")
    manifest = json.loads((folder / "manifest.json").read_text())
    return {d: VectorIndex.load(folder / f"content_{d}.faiss") for d in manifest["domains"]}, manifest["pool"]


def precision_at_k(model: DRIT, data: ImageData, indexes: dict[str, VectorIndex], pool: int, k: int) -> dict:
    """Queries: each domain's test images; answers: the other domain's index. Precision by class."""
    out, per_class = {}, {}
    for q in DOMAINS:
        other = "b" if q == "a" else "a"
        test = data.splits[f"{q}_test"]
        _, ids = indexes[other].search(content_vectors(model, test.images, q, pool), k)
        hits = data.splits[f"{other}_train"].labels[ids] == test.labels[:, None]
        out[f"precision@{k}_{q}2{other}"] = float(hits.mean())
        per_class[f"{q}2{other}"] = {data.class_names[c]: float(hits[test.labels == c].mean())
                                     for c in np.unique(test.labels)}
    return out | {"per_class": per_class}


def search_examples(model: DRIT, data: ImageData, indexes: dict[str, VectorIndex], pool: int, per_domain: int = 4,
                    k: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test images of each domain (one per class, up to `per_domain`) with their top-k images of the
    other domain: (queries, hits, whether each hit shows the query's class), A→B rows first."""
    queries, hits, same = [], [], []
    for q in DOMAINS:
        other = "b" if q == "a" else "a"
        test, pool_split = data.splits[f"{q}_test"], data.splits[f"{other}_train"]
        rng = np.random.default_rng(seed)
        classes = rng.permutation(np.unique(test.labels))[:per_domain]
        pick = np.array([rng.choice(np.flatnonzero(test.labels == c)) for c in classes], dtype=int)
        _, ids = indexes[other].search(content_vectors(model, test.images[pick], q, pool), k)
        queries.append(test.images[pick])
        hits.append(pool_split.images[ids])
        same.append(pool_split.labels[ids] == test.labels[pick][:, None])
    return np.concatenate(queries), np.concatenate(hits), np.concatenate(same)


@dataclass
class Translator:
    model: DRIT
    data: ImageData
    indexes: dict[str, VectorIndex]
    pool: int

    @classmethod
    def load(cls, data_folder, model_path, index_folder) -> "Translator":
        model, _ = load_model(model_path)
        indexes, pool = load_indexes(index_folder)
        return cls(model, ImageData.load(data_folder), indexes, pool)

    @property
    def size(self) -> int:
        return self.data.size

    def check_image(self, image: np.ndarray, name: str = "image") -> np.ndarray:
        if image.shape != (self.size, self.size, 3) or image.dtype != np.uint8:
            raise ImageError(f"{name}: expected a {self.size}x{self.size} RGB image, got array {image.shape}")
        return image

    def translate(self, image: np.ndarray, direction: str, n: int = 1, seed: int = 0,
                  reference: np.ndarray | None = None) -> np.ndarray:
        """→ uint8 (n, H, W, 3): n diverse outputs (seeded prior draws) or 1 with the reference's attribute."""
        image = self.check_image(image)   # DRIT.translate checks the direction
        g = torch.Generator().manual_seed(int(seed))   # the codes and the generators' noise inputs
        if reference is not None:
            ref = self.check_image(reference, "reference")[None]
            return translate_batch(self.model, image[None], direction, reference=ref, generator=g)[0]
        return translate_batch(self.model, image[None], direction, n=n, generator=g)[0]

    def search(self, image: np.ndarray, domain: str, k: int) -> list[dict]:
        """Images of the other domain nearest by content to `image` (of `domain`)."""
        if domain not in DOMAINS:
            raise ValueError(f"domain: must be one of {list(DOMAINS)}, got {domain!r}")
        other = "b" if domain == "a" else "a"
        q = content_vectors(self.model, self.check_image(image)[None], domain, self.pool)
        scores, ids = self.indexes[other].search(q, k)
        labels = self.data.splits[f"{other}_train"].labels
        names = self.data.class_names
        return [{"domain": other, "id": int(i), "score": float(s),
                 "label": names[labels[i]] if labels[i] >= 0 and names else None}
                for s, i in zip(scores[0], ids[0]) if i >= 0]

    def stored_image(self, domain: str, idx: int) -> np.ndarray:
        images = self.data.splits[f"{domain}_train"].images
        if not 0 <= idx < len(images):
            raise NotFound(f"no image {idx} in domain {domain} (0..{len(images) - 1})")
        return images[idx]
