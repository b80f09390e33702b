"""Serving image translation: translate an image (n diverse outputs or a reference's attribute) and
search by content across domains (one FAISS index of content codes per domain).

Search vectors are the content maps average-pooled to pool×pool and flattened, less the mean of the
domain's training codes, then L2-normalised, so the indexes search by cosine. Centring each domain on
its own mean removes what the code says about the domain as a whole (a linear probe for the domain
falls to chance) without labels: what remains is compared across domains.
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
from translation.images.checkpoints import load_model


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def other_domain(domain: str) -> str:
    return "b" if domain == "a" else "a"


@dataclass
class ContentIndexes:
    """Per domain: a FAISS index over its training images' search vectors (ids: rows of `{domain}_train`)
    and the mean content code those vectors are centred on; `pool`: the content maps' pooling."""
    indexes: dict[str, VectorIndex]
    means: dict[str, np.ndarray]
    pool: int

    @classmethod
    def build(cls, model: DRIT, data: ImageData, pool: int, factory: str, nprobe: int) -> "ContentIndexes":
        this = cls({}, {}, pool)
        for d in DOMAINS:
            c = codes(model, data.splits[f"{d}_train"].images, d, pool)[0]
            this.means[d] = c.mean(0)
            this.indexes[d] = VectorIndex.build(unit_rows(c - this.means[d]), np.arange(len(c)), factory, "ip", nprobe)
        return this

    def vectors(self, model: DRIT, images: np.ndarray, domain: str) -> np.ndarray:
        return unit_rows(codes(model, images, domain, self.pool)[0] - self.means[domain])

    def search_other(self, model: DRIT, images: np.ndarray, domain: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the k images of the other domain nearest by content to each of `images`."""
        return self.indexes[other_domain(domain)].search(self.vectors(model, images, domain), k)

    def save(self, folder) -> None:
        with atomic_path(folder) as tmp:
            tmp.mkdir()
            for d, index in self.indexes.items():
                index.save(tmp / f"content_{d}.faiss")
            np.savez(tmp / "content_means.npz", **self.means)
            (tmp / "manifest.json").write_text(json.dumps({"pool": self.pool, "domains": list(self.indexes)}, indent=2))

    @classmethod
    def load(cls, folder) -> "ContentIndexes":
        folder = Path(folder)
        if not (folder / "manifest.json").exists() or not (folder / "content_means.npz").exists():
            raise FileNotFoundError(f"{folder}: no content index with its domain means (run index_translation)")
        manifest = json.loads((folder / "manifest.json").read_text())
        with np.load(folder / "content_means.npz") as means:
            return cls({d: VectorIndex.load(folder / f"content_{d}.faiss") for d in manifest["domains"]},
                       {d: means[d] for d in manifest["domains"]}, manifest["pool"])


def precision_at_k(model: DRIT, data: ImageData, content: ContentIndexes, k: int, held: str = "test") -> dict:
    """Queries: each domain's held-out (test, or val for choices) images; answers: the other domain's
    index. Precision by class."""
    out, per_class = {}, {}
    for q in DOMAINS:
        other = other_domain(q)
        test = data.splits[f"{q}_{held}"]
        _, ids = content.search_other(model, test.images, q, k)
        hits = data.splits[f"{other}_train"].labels[ids] == test.labels[:, None]
        out[f"precision@{k}_{q}2{other}"] = float(hits.mean())
        per_class[f"{q}2{other}"] = {data.class_names[c]: float(hits[test.labels == c].mean())
                                     for c in np.unique(test.labels)}
    return out | {"per_class": per_class}


def search_examples(model: DRIT, data: ImageData, content: ContentIndexes, per_domain: int = 4,
                    k: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Test images of each domain (one per class, up to `per_domain`; random ones when the images have
    no labels) with their top-k images of the other domain: (queries, hits, whether each hit shows the
    query's class, None without labels), A→B rows first."""
    labelled = data.labelled
    queries, hits, same = [], [], []
    for q in DOMAINS:
        test, pool_split = data.splits[f"{q}_test"], data.splits[f"{other_domain(q)}_train"]
        rng = np.random.default_rng(seed)
        if labelled:
            classes = rng.permutation(np.unique(test.labels))[:per_domain]
            pick = np.array([rng.choice(np.flatnonzero(test.labels == c)) for c in classes], dtype=int)
        else:
            pick = np.sort(rng.choice(len(test), min(per_domain, len(test)), replace=False))
        _, ids = content.search_other(model, test.images[pick], q, k)
        queries.append(test.images[pick])
        hits.append(pool_split.images[ids])
        same.append(pool_split.labels[ids] == test.labels[pick][:, None])
    return np.concatenate(queries), np.concatenate(hits), np.concatenate(same) if labelled else None


@dataclass
class Translator:
    model: DRIT
    data: ImageData
    content: ContentIndexes

    @classmethod
    def load(cls, data_folder, model_path, index_folder) -> "Translator":
        model, _ = load_model(model_path)
        return cls(model, ImageData.load(data_folder), ContentIndexes.load(index_folder))

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
        other = other_domain(domain)
        scores, ids = self.content.search_other(self.model, self.check_image(image)[None], domain, k)
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
