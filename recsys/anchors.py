"""Weak anchoring of MacridVAE's concepts to the data's item categories (issue 46).

Concept k is tied to the k-th largest category through its `per_concept` most popular training items:
a cross-entropy on those items' concept logits (MacridVAE's `anchor_weight`). A few items per concept
name which concept is which category; the rest of the catalogue is assigned by the objective. Data
without categories gets no anchors, and the term is off.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def category_anchors(train: sp.csr_matrix, item_category: np.ndarray, concepts: int,
                     per_concept: int) -> tuple[np.ndarray, np.ndarray]:
    """(items, concepts): the anchored columns and the concept each is tied to; empty without categories."""
    known = item_category >= 0
    if per_concept == 0 or not known.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    sizes = np.bincount(item_category[known])
    largest = np.argsort(-sizes, kind="stable")[:concepts]
    popularity = np.asarray(train.sum(0)).ravel()
    items, tied = [], []
    for k, category in enumerate(largest):
        members = np.flatnonzero(item_category == category)
        top = members[np.argsort(-popularity[members], kind="stable")[:per_concept]]
        items.append(top)
        tied.append(np.full(len(top), k))
    return np.concatenate(items).astype(np.int64), np.concatenate(tied).astype(np.int64)
