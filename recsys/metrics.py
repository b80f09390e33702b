"""Full-ranking metrics of the Mult-VAE / MacridVAE protocol.

Scores rank all items with the user's fold-in items masked out. For a user with target set T:
    NDCG@k   = Σ_{r<k} [item_r ∈ T] / log2(r+2)  ÷  Σ_{r<min(k,|T|)} 1 / log2(r+2)
    Recall@k = |top-k ∩ T| / min(k, |T|)
Reported as mean ± standard error (std with ddof=1 / √n) over users with at least one target.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

KS_RECALL = (20, 50)
K_NDCG = 100


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores per row, best first; ties broken by lower index."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part.sort(axis=1)  # so that the stable sort below breaks ties by index
    order = np.argsort(-np.take_along_axis(scores, part, 1), axis=1, kind="stable")
    return np.take_along_axis(part, order, 1)


def mask_seen(scores: np.ndarray, seen: sp.csr_matrix) -> np.ndarray:
    scores = np.array(scores, dtype=np.float64, copy=True)
    rows, cols = seen.nonzero()
    scores[rows, cols] = -np.inf
    return scores


def per_user_metrics(scores: np.ndarray, targets: sp.csr_matrix) -> dict[str, np.ndarray]:
    """Per-user NDCG@100 and Recall@20/50 for users with targets (scores already masked)."""
    has = np.asarray(targets.sum(1)).ravel() > 0
    scores, targets = scores[has], targets[has].tocsr()
    kmax = max(K_NDCG, *KS_RECALL)
    top = top_k(scores, kmax)
    hits = np.take_along_axis(targets.toarray() > 0, top, 1).astype(np.float64)
    n_targets = np.asarray(targets.sum(1)).ravel()
    discount = 1.0 / np.log2(np.arange(2, kmax + 2))
    dcg = (hits[:, :K_NDCG] * discount[:hits.shape[1]][:K_NDCG]).sum(1)  # fewer columns if < k items
    idcg = np.array([discount[:min(K_NDCG, int(n))].sum() for n in n_targets])
    out = {f"ndcg@{K_NDCG}": dcg / idcg}
    for k in KS_RECALL:
        out[f"recall@{k}"] = hits[:, :k].sum(1) / np.minimum(k, n_targets)
    return out


def summarize(per_user: dict[str, np.ndarray]) -> dict[str, dict]:
    out = {}
    for name, values in per_user.items():
        n = len(values)
        se = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
        out[name] = {"mean": float(values.mean()) if n else 0.0, "se": se, "n_users": n}
    return out


def evaluate_scores(scores: np.ndarray, foldin: sp.csr_matrix, targets: sp.csr_matrix) -> dict[str, dict]:
    return summarize(per_user_metrics(mask_seen(scores, foldin), targets))


def evaluate_in_batches(score, foldin: sp.csr_matrix, targets: sp.csr_matrix, batch: int = 1024) -> dict[str, dict]:
    """evaluate_scores a batch of users at a time, `score(foldin_rows)` giving their scores: the same
    figures without a users × items matrix (13,800 users × 20,000 items is 2 GB in float64)."""
    parts = [per_user_metrics(mask_seen(score(foldin[i:i + batch]), foldin[i:i + batch]), targets[i:i + batch])
             for i in range(0, foldin.shape[0], batch)]
    return summarize({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
