"""The strong-generalization split (Liang et al. 2018, Mult-VAE; Ma et al. 2019, MacridVAE), on Dask.

1. positives: rating >= min_rating, one row per (user, item);
2. users with >= min_positives positives;
3. whole users held out: a seeded permutation gives validation and test users;
4. items: those with a positive from a training user;
5. each held-out user's positives: a seeded 20 % become targets, the rest fold-in
   (users with fewer than 5 such positives keep all as fold-in, and are not scored).
Randomness per row comes from a keyed hash of (user, item), so the split does not depend on how
Dask partitions the table.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import dask.dataframe as dd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from pipeline.config import rule
from recsys.dataset import CATEGORY_SEP, InteractionData
from recsys.loaders import Interactions


@dataclass(frozen=True)
class SplitConfig:
    min_rating: float = 4.0
    min_positives: int = field(default=5, metadata=rule(ge=1))
    heldout_fraction: float = field(default=0.1, metadata=rule(gt=0, lt=0.5))
    target_fraction: float = field(default=0.2, metadata=rule(gt=0, lt=1))
    partitions: int = field(default=4, metadata=rule(ge=1))


def _row_keys(df: pd.DataFrame, seed: int) -> pd.Series:
    """A uniform [0, 1) number per (user, item), fixed by the seed."""
    h = pd.util.hash_pandas_object(df[["user", "item"]], index=False, hash_key=f"mdr{seed:013d}"[-16:])
    return pd.Series((h.to_numpy() >> np.uint64(11)) / float(1 << 53), index=df.index)


def _mark_targets(df: pd.DataFrame, fraction: float) -> pd.DataFrame:
    """Within each user (all in this partition), the last floor(fraction*n) rows by key are targets."""
    df = df.sort_values(["user", "key", "item"])
    rank = df.groupby("user").cumcount()
    n = df.groupby("user")["item"].transform("size")
    n_target = np.where(n >= 5, np.floor(fraction * n), 0)
    return df.assign(target=rank >= n - n_target)


def split_interactions(data: Interactions, cfg: SplitConfig, seed: int, client) -> InteractionData:
    table = data.table[["user", "item", "rating"]]
    if table.empty:
        raise ValueError(f"{data.source}: no interactions")
    ddf = dd.from_pandas(table, npartitions=cfg.partitions)
    positives = ddf[ddf.rating >= cfg.min_rating][["user", "item"]].drop_duplicates()
    counts = client.compute(positives.groupby("user").size()).result()
    users = np.sort(counts[counts >= cfg.min_positives].index.to_numpy().astype(str))
    n_heldout = max(1, int(round(cfg.heldout_fraction * len(users))))
    if len(users) < 2 * n_heldout + 1:
        raise ValueError(f"{data.source}: only {len(users)} users have >= {cfg.min_positives} positives; "
                         "too few to hold out validation and test users")
    perm = np.random.default_rng(seed).permutation(users)
    split_users = {"val": np.sort(perm[:n_heldout]), "test": np.sort(perm[n_heldout:2 * n_heldout]),
                   "train": np.sort(perm[2 * n_heldout:])}

    kept = positives[positives.user.isin(list(users))]
    train_rows = client.compute(kept[kept.user.isin(list(split_users["train"]))]).result()
    item_ids = np.sort(train_rows["item"].unique().astype(str))

    heldout = kept[kept.user.isin(list(perm[:2 * n_heldout])) & kept.item.isin(list(item_ids))]
    heldout = heldout.assign(key=heldout.map_partitions(_row_keys, seed, meta=("key", "f8")))
    heldout = heldout.shuffle(on="user").map_partitions(
        _mark_targets, cfg.target_fraction,
        meta={"user": "object", "item": "object", "key": "f8", "target": "bool"})
    heldout_rows = client.compute(heldout).result()

    item_col = {item: j for j, item in enumerate(item_ids)}

    def matrix(rows: pd.DataFrame, user_list: np.ndarray) -> sp.csr_matrix:
        row_of = {u: i for i, u in enumerate(user_list)}
        r = rows["user"].map(row_of).to_numpy()
        c = rows["item"].map(item_col).to_numpy()
        m = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(user_list), len(item_ids)))
        m.sum_duplicates()
        m.data[:] = 1.0
        return m

    parts = {}
    for name in ("val", "test"):
        rows = heldout_rows[heldout_rows.user.isin(split_users[name])]
        parts[f"{name}_foldin"] = matrix(rows[~rows.target], split_users[name])
        parts[f"{name}_target"] = matrix(rows[rows.target], split_users[name])

    primary = data.item_category
    names = sorted(set(primary.values()))
    cat_index = {c: i for i, c in enumerate(names)}
    item_category = np.array([cat_index.get(primary.get(i), -1) for i in item_ids], dtype=np.int64)
    factors = {}
    if data.item_factors is not None:   # aligned to the kept items' columns
        kept = data.item_factors.reindex(item_ids.astype(str))
        factors = {name: kept[name].to_numpy() for name in kept.columns}
    return InteractionData(train=matrix(train_rows, split_users["train"]), **parts, item_ids=item_ids,
                           item_category=item_category, category_names=names, user_ids=split_users,
                           item_factors=factors, item_titles=np.array([data.item_titles.get(i, "") for i in item_ids]),
                           item_categories=np.array([CATEGORY_SEP.join(data.item_categories.get(i, [])) for i in item_ids]))
