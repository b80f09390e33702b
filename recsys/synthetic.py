"""The embedded default data: interactions with planted concepts and known item categories.

Each item belongs to one of C categories and sits at a point in a small "micro" space; each user
has a sparse preference over categories (Dirichlet) and, inside each category, a preferred point.
A user picks items with probability ∝ category preference × item popularity × closeness in micro
space, and rates them 4–5; a few random items get low ratings (negatives the protocol drops).
The item categories are the ground truth that learned concepts are scored against; every factor an
item was drawn with (category, micro position, popularity) is kept with the data.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.config import rule
from pipeline.progress import Progress

from recsys.loaders import Interactions


@dataclass(frozen=True)
class SyntheticConfig:
    n_users: int = field(default=1500, metadata=rule(ge=10))
    n_items: int = field(default=600, metadata=rule(ge=10))
    n_categories: int = field(default=7, metadata=rule(ge=2))
    micro_dims: int = field(default=2, metadata=rule(ge=1))
    mean_positives: float = field(default=25.0, metadata=rule(ge=5))
    concentration: float = field(default=0.3, metadata=rule(gt=0))
    noise_fraction: float = field(default=0.2, metadata=rule(ge=0, le=1))


def generate(cfg: SyntheticConfig, seed: int, chunk_users: int = 2048) -> Interactions:
    """Draw the data `chunk_users` users at a time: memory grows with the interactions, not with
    users × items (MovieLens-20M's 138k × 20k would be 22 GB dense). The draws are taken in the same
    order for any chunk size, so the data depends on the seed alone."""
    rng = np.random.default_rng(seed)
    category = rng.integers(cfg.n_categories, size=cfg.n_items)
    micro = rng.normal(size=(cfg.n_items, cfg.micro_dims))
    log_popularity = rng.normal(scale=0.7, size=cfg.n_items)

    prefs = rng.dirichlet(np.full(cfg.n_categories, cfg.concentration), size=cfg.n_users)
    tastes = rng.normal(size=(cfg.n_users, cfg.n_categories, cfg.micro_dims))
    sizes = np.minimum(5 + rng.poisson(cfg.mean_positives - 5, size=cfg.n_users), cfg.n_items // 2)
    chosen = []
    progress = Progress("synthetic", cfg.n_users) if cfg.n_users > 10 * chunk_users else None
    for start in range(0, cfg.n_users, chunk_users):
        users = slice(start, min(start + chunk_users, cfg.n_users))
        user_taste = tastes[users][:, category, :]  # (chunk, items, dims): the taste in each item's category
        sq_dist = ((user_taste - micro[None]) ** 2).sum(-1)
        log_w = np.log(prefs[users][:, category] + 1e-12) + log_popularity[None] - sq_dist / 2
        chosen += _top_by_row(log_w + rng.gumbel(size=log_w.shape), sizes[users])  # Gumbel top-k: sampling without replacement
        if progress and (start // chunk_users) % 10 == 0:
            progress.step(users.stop, "users drawn")
    users, items, ratings = [], [], []
    unchosen = np.ones(cfg.n_items, bool)
    for u in range(cfg.n_users):
        n_noise = rng.binomial(sizes[u], cfg.noise_fraction)
        unchosen[chosen[u]] = False
        pool = np.flatnonzero(unchosen)    # the items not chosen, sorted (what np.setdiff1d gives, at O(items))
        unchosen[chosen[u]] = True
        noise = rng.choice(pool, size=n_noise, replace=False)
        users.append(np.full(len(chosen[u]) + n_noise, u))
        items += [chosen[u], noise]
        ratings += [rng.integers(4, 6, size=len(chosen[u])), rng.integers(1, 4, size=n_noise)]
    users, items = np.concatenate(users), np.concatenate(items)
    user_names = np.array([f"u{u:05d}" for u in range(cfg.n_users)], dtype=object)
    ids = np.array([f"i{i:05d}" for i in range(cfg.n_items)], dtype=object)
    table = pd.DataFrame({
        "user": user_names[users],
        "item": ids[items],
        "rating": np.concatenate(ratings).astype(float),
        "timestamp": np.arange(len(users), dtype=float),
    })
    categories = {i: [f"cat{c}"] for i, c in zip(ids, category)}
    factors = pd.DataFrame({"category": category, **{f"micro_{m}": micro[:, m] for m in range(cfg.micro_dims)},
                            "log_popularity": log_popularity}, index=list(ids))
    return Interactions(table, categories, "synthetic", factors)


def _top_by_row(scores: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """Each row's `sizes[row]` highest-scoring columns, best first (a partial sort: O(items) a row)."""
    k = int(sizes.max())
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < scores.shape[1] else np.tile(np.arange(scores.shape[1]), (len(scores), 1))
    order = np.argsort(-np.take_along_axis(scores, part, 1), axis=1)
    best = np.take_along_axis(part, order, 1)
    return [best[r, :n] for r, n in enumerate(sizes)]
