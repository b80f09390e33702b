"""Top-N recommendation with MacridVAE's own score, exactly, from one FAISS index of item embeddings.

MacridVAE scores item i for a user with concept codes z_1..z_K (unit vectors) as
    score_i = log Σ_k w_k · c_ik · exp( s_ik / tau ),   s_ik = cos(z_k, h_i),
where c_ik is the item's concept assignment (softmax over prototypes) and w_k the optional
steering weight of concept k (1 by default; 0 drops the concept). The index holds the unit item
embeddings h_i once; each concept's code searches it (K queries per request), and the lists are
merged with a threshold test (Fagin et al.): an item outside every list has s_ik <= t_k, the
m-th best similarity of list k, for every k, and since Σ_k c_ik = 1,
    score_i <= max_k ( t_k / tau + log w_k ).
So once the k-th best exactly scored candidate beats that bound, no unseen item can enter the
top-k; otherwise the lists are deepened (×4). With an exact index the result equals scoring
every item (tests/test_indexes.py proves it).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pipeline.atomic import atomic_path
from pipeline.errors import NotFound, RequestError, check_range
from pipeline.indexes import VectorIndex
from recsys.checkpoints import load_model
from recsys.concept_labels import concept_summaries
from recsys.dataset import InteractionData
from recsys.macridvae import MacridVAE
from recsys import artifacts

INDEX_FILE = "items.faiss"


class UnknownIdError(NotFound):
    """A user or item id the served data does not hold."""


@dataclass(frozen=True)
class Query:
    """One recommendation to compute: a history of item columns and how to rank."""
    history: list[int]
    k: int
    weights: list[float] | None = None
    exclude_seen: bool = True


def _listed(ids: list[str]) -> str:
    return repr(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def build_item_index(model: MacridVAE, factory: str, nprobe: int, seed: int = 0) -> VectorIndex:
    vectors = model.item_vectors().numpy()
    return VectorIndex.build(vectors, np.arange(len(vectors)), factory, "ip", nprobe=nprobe, seed=seed)


def save_index(folder, index: VectorIndex, model: MacridVAE, oversample: int = 1) -> None:
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        index.save(tmp / INDEX_FILE)
        (tmp / "manifest.json").write_text(json.dumps({
            "concepts": model.cfg.concepts, "tau": model.cfg.tau, "n_items": len(index),
            "factory": index.factory} | ({"oversample": oversample} if oversample > 1 else {}), indent=2))


def load_index(folder) -> tuple[VectorIndex, int]:
    """→ (the index, how many times deeper its lists start: 1 unless index_recsys said otherwise)."""
    folder = Path(folder)
    if not (folder / "manifest.json").exists():
        raise FileNotFoundError(f"{folder}: no index manifest (run index_recsys)")
    manifest = json.loads((folder / "manifest.json").read_text())
    return VectorIndex.load(folder / INDEX_FILE), int(manifest.get("oversample", 1))


def exact_scores(item_vectors, log_c, tau, cols, codes, log_w) -> np.ndarray:
    """score_i = log Σ_k w_k c_ik exp(s_ik / tau) for the items `cols` (a stable log-sum-exp)."""
    terms = item_vectors[cols] @ codes.T / tau + log_c[cols] + log_w
    top = terms.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(terms - top).sum(axis=1, keepdims=True))).ravel()


def top_by_score(cols: np.ndarray, scores: np.ndarray, k: int):
    order = np.lexsort((cols, -scores))[:k]  # ties broken by the lower column
    return cols[order], scores[order]


def threshold_topk(index: VectorIndex, item_vectors, log_c, tau, codes, log_w, k: int, seen=(),
                   oversample: int = 1):
    """Exact top-k of the score above from K searches of one index (see the module docstring).
    With a lossy index (PQ codes) its similarities are approximate, so the lists start `oversample`
    times deeper and the exact re-scoring of the extra candidates recovers what the codes misorder."""
    active = np.flatnonzero(np.isfinite(log_w))
    seen = np.asarray(seen, dtype=np.int64)
    n = len(index)
    depth = min(n, oversample * k + len(seen))
    while True:
        sims, ids = index.search(codes[active], depth)  # (K_active, depth)
        cands = np.setdiff1d(np.unique(ids[ids >= 0]), seen)
        cols, scores = top_by_score(cands, exact_scores(item_vectors, log_c, tau, cands, codes, log_w), k)
        if depth >= n:
            return cols, scores
        bound = np.max(sims[:, -1] / tau + log_w[active])
        if len(cols) == k and scores[-1] >= bound:
            return cols, scores
        depth = min(n, depth * 4)


class Recommender:
    """Answers recommendation queries for known users, new histories, and similar items."""

    def __init__(self, model: MacridVAE, data: InteractionData, index: VectorIndex, oversample: int = 1):
        if len(index) != data.n_items or model.items.shape[0] != data.n_items:
            raise ValueError(f"index ({len(index)}), model ({model.items.shape[0]}) and data "
                             f"({data.n_items}) disagree on the number of items; rebuild")
        self.model, self.data, self.index, self.oversample = model, data, index, oversample
        self.tau = model.cfg.tau
        self.item_col = {str(i): j for j, i in enumerate(data.item_ids)}
        self.user_row = {}
        for split, matrix in (("train", data.train), ("val", data.val_foldin), ("test", data.test_foldin)):
            for r, u in enumerate(data.user_ids[split]):
                self.user_row[str(u)] = (matrix, r)
        model.eval()
        with torch.no_grad():
            self.log_c = torch.log(model.concept_weights() + 1e-20).numpy()  # (n_items, K), as the model decodes
        self.item_concept = model.item_concepts().numpy()
        self.item_vectors = model.item_vectors().numpy()
        self.popularity = np.asarray(data.train.sum(axis=0)).ravel()   # what a new user gets
        self._concepts = None   # concept_summaries, computed on first use

    @classmethod
    def load(cls, data_dir=artifacts.DATA, model_path=artifacts.MODEL, index_dir=artifacts.INDEX):
        data = InteractionData.load(data_dir)
        model, _ = load_model(model_path, data.n_items)
        return cls(model, data, *load_index(index_dir))

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
            raise UnknownIdError(f"unknown item(s) {_listed(unknown)}")
        return [self.item_col[i] for i in items]

    def check_weights(self, weights) -> None:
        """Concept weights steer a recommendation: one finite value >= 0 per concept, not all 0."""
        if len(weights) != self.concepts:
            raise RequestError(f"concept_weights: need {self.concepts} values, got {len(weights)}")
        if any(not math.isfinite(w) or w < 0 for w in weights) or not any(w > 0 for w in weights):
            raise RequestError("concept_weights: must be finite, >= 0, and not all 0")

    def query(self, *, user: str | None = None, history: list[str] | None = None, k: int = 10,
              weights=None, exclude_seen: bool = True, strict: bool = False,
              max_k: int = 1000, max_history: int = 2000, where: str = "") -> tuple[Query | None, list[str]]:
        """The checked query of a request (the service's and the CLI's), and the history's unknown items.

        Unknown items of a history are left out and listed; when none is known the query is None
        (the caller answers with the most popular items), unless `strict` makes any unknown item a 404.
        """
        check_range(k, 1, max_k, f"{where}k")
        if (user is None) == (history is None):
            raise RequestError(f"give exactly one of {where}user or {where}history")
        if weights is not None:
            self.check_weights(weights)
        if user is not None:
            if user not in self.user_row:
                raise UnknownIdError(f"{where}user: unknown user {user!r}")
            return Query(self.user_history(user), k, weights, exclude_seen), []
        if not 1 <= len(history) <= max_history:
            raise RequestError(f"{where}history: must hold 1 to {max_history} item ids, got {len(history)}")
        ignored = [i for i in history if i not in self.item_col]
        if ignored and strict:
            raise UnknownIdError(f"{where}history: unknown item(s) {_listed(ignored)} (strict)")
        cols = [self.item_col[i] for i in history if i in self.item_col]
        return (Query(cols, k, weights, exclude_seen) if cols else None), ignored

    def recommend_many(self, queries: list[Query]) -> list[tuple[list[int], list[float]]]:
        """Top-k (item columns, scores) of each query: one encoder pass for all of them, then each
        query's threshold merge of per-concept searches."""
        out = []
        for q, c in zip(queries, self._codes([q.history for q in queries])):
            seen = sorted(set(q.history)) if q.exclude_seen else []
            cols, scores = threshold_topk(self.index, self.item_vectors, self.log_c, self.tau, c,
                                          self._log_weights(q.weights), q.k, seen, self.oversample)
            out.append((cols.tolist(), scores.tolist()))
        return out

    def recommend(self, history: list[int], k: int, weights=None, exclude_seen: bool = True):
        """Top-k (item columns, scores) for one history."""
        return self.recommend_many([Query(list(history), k, weights, exclude_seen)])[0]

    def most_popular(self, k: int) -> tuple[list[int], list[float]]:
        """The k items with most training interactions (score = that count): a new user's list."""
        cols, scores = top_by_score(np.arange(self.data.n_items), self.popularity.astype(np.float64), k)
        return cols.tolist(), scores.tolist()

    def _codes(self, histories: list[list[int]]) -> np.ndarray:
        """(B, K, d) concept codes of B histories, in one encoder pass."""
        x = torch.zeros(len(histories), self.data.n_items)
        for row, history in enumerate(histories):
            x[row, history] = 1.0
        with torch.no_grad():
            return self.model.user_codes(x).numpy()

    def _log_weights(self, weights) -> np.ndarray:
        w = np.ones(self.concepts) if weights is None else np.asarray(weights, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return np.log(w)  # -inf drops a concept

    def similar_items(self, item: int, k: int):
        """Items nearest to `item` by cosine of item embeddings."""
        sims, ids = self.index.search(self.item_vectors[item], k + 1)
        keep = (ids[0] >= 0) & (ids[0] != item)
        return ids[0][keep][:k].tolist(), sims[0][keep][:k].tolist()

    def item(self, col: int) -> dict:
        """An item as a person reads it: id, title and categories (from the data's item file, if any)."""
        return {"item": str(self.data.item_ids[col]), "title": self.data.title(col),
                "categories": self.data.categories(col)}

    def describe(self, cols: list[int], scores: list[float]) -> list[dict]:
        names = self.data.category_names
        return [self.item(c) | {"score": round(float(s), 6), "concept": int(self.item_concept[c]),
                                "category": names[self.data.item_category[c]] if self.data.item_category[c] >= 0 else None}
                for c, s in zip(cols, scores)]

    def concept_summaries(self) -> list[dict]:
        """Each concept's size, label, typical categories and most popular items (recsys.concept_labels)."""
        if self._concepts is None:
            categories = [self.data.categories(c) for c in range(self.data.n_items)]
            self._concepts = concept_summaries(self.item_concept, self.concepts, categories, self.popularity, self.item)
        return self._concepts
