"""Top-N recommendation from per-concept FAISS indexes.

With the hard concept assignment, an item's score is cos(z_u^(k(i)), h_i)/tau, so the catalogue
splits into K disjoint indexes (concept k holds the items assigned to k) searched with the user's
code for that concept. Steering by concept weights w_k multiplies concept k's term:
score = cos/tau + log w_k, a per-index offset, so the merge stays exact (w_k = 0 drops concept k).
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from pipeline.atomic import atomic_path
from pipeline.indexes import VectorIndex, merge_topk
from recsys.dataset import InteractionData
from recsys.macridvae import MacridVAE
from recsys.train import load_checkpoint


class UnknownIdError(KeyError):
    def __str__(self):
        return self.args[0]


def load_model(path, n_items: int | None = None):
    ckpt = load_checkpoint(path)
    model = MacridVAE(len(ckpt["item_ids"]), ckpt["config"])
    model.load_state_dict(ckpt["model_state"])
    model.eval()
    if n_items is not None and n_items != len(ckpt["item_ids"]):
        raise ValueError(f"{path}: model has {len(ckpt['item_ids'])} items, data has {n_items}; retrain")
    return model, ckpt


def build_concept_indexes(model: MacridVAE, factory: str, nprobe: int, seed: int = 0) -> list[VectorIndex]:
    vectors = model.item_vectors().numpy()
    concepts = model.item_concepts().numpy()
    indexes = []
    for k in range(model.cfg.concepts):
        members = np.flatnonzero(concepts == k)
        # an IVF needs more points than lists: tiny concepts fall back to an exact index
        use = factory if _fits(factory, len(members)) else "Flat"
        indexes.append(VectorIndex.build(vectors[members], members, use, "ip", nprobe=nprobe, seed=seed))
    return indexes


def _fits(factory: str, n: int) -> bool:
    m = re.search(r"IVF(\d+)", factory)
    return not m or n >= 39 * int(m.group(1))


def save_indexes(folder, indexes: list[VectorIndex], model: MacridVAE) -> None:
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        for k, index in enumerate(indexes):
            index.save(tmp / f"concept_{k}.faiss")
        (tmp / "manifest.json").write_text(json.dumps({
            "concepts": model.cfg.concepts, "tau": model.cfg.tau, "n_items": int(model.items.shape[0]),
            "sizes": [len(i) for i in indexes], "factories": [i.factory for i in indexes]}, indent=2))


def load_indexes(folder) -> tuple[list[VectorIndex], dict]:
    folder = Path(folder)
    manifest_file = folder / "manifest.json"
    if not manifest_file.exists():
        raise FileNotFoundError(f"{folder}: no index manifest (run index_recsys)")
    manifest = json.loads(manifest_file.read_text())
    return [VectorIndex.load(folder / f"concept_{k}.faiss") for k in range(manifest["concepts"])], manifest


class Recommender:
    """Answers recommendation queries for known users, new histories, and similar items."""

    def __init__(self, model: MacridVAE, data: InteractionData, indexes: list[VectorIndex]):
        if len(indexes) != model.cfg.concepts:
            raise ValueError(f"{len(indexes)} indexes for {model.cfg.concepts} concepts")
        if sum(len(i) for i in indexes) != data.n_items:
            raise ValueError("indexes and data disagree on the number of items; rebuild the indexes")
        self.model, self.data, self.indexes = model, data, indexes
        self.item_col = {str(i): j for j, i in enumerate(data.item_ids)}
        self.user_row = {}
        for split, matrix in (("train", data.train), ("val", data.val_foldin), ("test", data.test_foldin)):
            for r, u in enumerate(data.user_ids[split]):
                self.user_row[str(u)] = (matrix, r)
        self.item_concept = model.item_concepts().numpy()
        self.item_vectors = model.item_vectors().numpy()

    @classmethod
    def load(cls, data_dir="data/recsys", model_path="models/recsys/macridvae.pt", index_dir="indexes/recsys"):
        data = InteractionData.load(data_dir)
        model, _ = load_model(model_path, data.n_items)
        indexes, _ = load_indexes(index_dir)
        return cls(model, data, indexes)

    @property
    def concepts(self) -> int:
        return self.model.cfg.concepts

    def user_history(self, user: str) -> list[int]:
        if user not in self.user_row:
            raise UnknownIdError(f"unknown user {user!r}")
        matrix, r = self.user_row[user]
        return matrix[r].indices.tolist()

    def columns(self, items: list[str]) -> list[int]:
        unknown = [i for i in items if i not in self.item_col]
        if unknown:
            raise UnknownIdError(f"unknown item(s) {unknown[:5]}" + (" ..." if len(unknown) > 5 else ""))
        return [self.item_col[i] for i in items]

    def _codes(self, history: list[int]) -> np.ndarray:
        x = torch.zeros(1, self.data.n_items)
        x[0, history] = 1.0
        return self.model.user_codes(x)[0].numpy()  # (K, d)

    def check_weights(self, weights) -> None:
        """Concept weights steer a recommendation: one finite value >= 0 per concept, not all 0."""
        if len(weights) != self.concepts:
            raise ValueError(f"concept_weights: need {self.concepts} values, got {len(weights)}")
        if any(not math.isfinite(w) or w < 0 for w in weights) or not any(w > 0 for w in weights):
            raise ValueError("concept_weights: must be finite, >= 0, and not all 0")

    def _offsets(self, weights) -> np.ndarray:
        w = np.ones(self.concepts) if weights is None else np.asarray(weights, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return np.log(w)  # -inf drops a concept

    def recommend(self, history: list[int], k: int, weights=None, exclude_seen: bool = True):
        """Top-k (item column, score) from the merged per-concept indexes."""
        codes, offsets = self._codes(history), self._offsets(weights)
        seen = set(history) if exclude_seen else set()
        results = []
        for c, index in enumerate(self.indexes):
            if np.isinf(offsets[c]) or len(index) == 0:
                continue
            scores, ids = index.search(codes[c], k + len(seen))
            results.append((scores[0] / self.model.cfg.tau + offsets[c], ids[0]))
        scores, ids = merge_topk(results, k, seen)
        return ids.tolist(), scores.tolist()

    def recommend_exhaustive(self, history: list[int], k: int, weights=None, exclude_seen: bool = True):
        """The same ranking by scoring every item; the reference the indexes must match."""
        codes, offsets = self._codes(history), self._offsets(weights)
        own = self.item_concept
        scores = np.einsum("id,id->i", self.item_vectors, codes[own]) / self.model.cfg.tau + offsets[own]
        ids = np.arange(len(scores))
        keep = np.isfinite(scores)
        if exclude_seen:
            keep[history] = False
        scores, ids = scores[keep], ids[keep]
        order = np.lexsort((ids, -scores))[:k]
        return ids[order].tolist(), scores[order].tolist()

    def similar_items(self, item: int, k: int):
        """Items nearest to `item` by cosine of item embeddings, over all concepts."""
        q = self.item_vectors[item]
        results = [index.search(q, k + 1) for index in self.indexes if len(index)]
        results = [(s[0], i[0]) for s, i in results]
        scores, ids = merge_topk(results, k, {item})
        return ids.tolist(), scores.tolist()

    def describe(self, cols: list[int], scores: list[float]) -> list[dict]:
        names = self.data.category_names
        return [{"item": str(self.data.item_ids[c]), "score": round(float(s), 6),
                 "concept": int(self.item_concept[c]),
                 "category": names[self.data.item_category[c]] if self.data.item_category[c] >= 0 else None}
                for c, s in zip(cols, scores)]
