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


def generate(cfg: SyntheticConfig, seed: int) -> Interactions:
    rng = np.random.default_rng(seed)
    category = rng.integers(cfg.n_categories, size=cfg.n_items)
    micro = rng.normal(size=(cfg.n_items, cfg.micro_dims))
    log_popularity = rng.normal(scale=0.7, size=cfg.n_items)

    prefs = rng.dirichlet(np.full(cfg.n_categories, cfg.concentration), size=cfg.n_users)
    tastes = rng.normal(size=(cfg.n_users, cfg.n_categories, cfg.micro_dims))
    user_taste = tastes[:, category, :]  # (users, items, dims): the taste in each item's category
    sq_dist = ((user_taste - micro[None]) ** 2).sum(-1)
    log_w = np.log(prefs[:, category] + 1e-12) + log_popularity[None] - sq_dist / 2

    sizes = np.minimum(5 + rng.poisson(cfg.mean_positives - 5, size=cfg.n_users), cfg.n_items // 2)
    gumbel = rng.gumbel(size=log_w.shape)
    ranked = np.argsort(-(log_w + gumbel), axis=1)  # Gumbel top-k = sampling without replacement
    users, items, ratings = [], [], []
    for u in range(cfg.n_users):
        chosen = ranked[u, :sizes[u]]
        n_noise = rng.binomial(sizes[u], cfg.noise_fraction)
        noise = rng.choice(np.setdiff1d(np.arange(cfg.n_items), chosen), size=n_noise, replace=False)
        users += [u] * (len(chosen) + n_noise)
        items += list(chosen) + list(noise)
        ratings += list(rng.integers(4, 6, size=len(chosen))) + list(rng.integers(1, 4, size=n_noise))
    table = pd.DataFrame({
        "user": [f"u{u:05d}" for u in users],
        "item": [f"i{i:05d}" for i in items],
        "rating": np.asarray(ratings, dtype=float),
        "timestamp": np.arange(len(users), dtype=float),
    })
    ids = [f"i{i:05d}" for i in range(cfg.n_items)]
    categories = {i: f"cat{c}" for i, c in zip(ids, category)}
    factors = pd.DataFrame({"category": category, **{f"micro_{m}": micro[:, m] for m in range(cfg.micro_dims)},
                            "log_popularity": log_popularity}, index=ids)
    return Interactions(table, categories, "synthetic", factors)
