"""How well learned concepts match known item categories, and what one micro dimension does."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def contingency(a: np.ndarray, b: np.ndarray, n_a: int, n_b: int) -> np.ndarray:
    table = np.zeros((n_a, n_b), dtype=np.int64)
    np.add.at(table, (a, b), 1)
    return table


def nmi(a: np.ndarray, b: np.ndarray) -> float:
    """Normalized mutual information I(a;b) / ((H(a)+H(b))/2) (the arithmetic normalization)."""
    table = contingency(a, b, a.max() + 1, b.max() + 1).astype(np.float64)
    p = table / table.sum()
    pa, pb = p.sum(1), p.sum(0)
    nz = p > 0
    mi = (p[nz] * np.log(p[nz] / np.outer(pa, pb)[nz])).sum()
    h = lambda q: -(q[q > 0] * np.log(q[q > 0])).sum()
    denom = (h(pa) + h(pb)) / 2
    return float(mi / denom) if denom > 0 else 0.0


def traverse(model, history: torch.Tensor, steps: int, top: int = 5) -> dict:
    """Move one micro dimension of one user's dominant concept and record the top items.

    The concept is the one holding most of the user's history; the dimension is the one the user's
    code leans on most (largest |mu_j|). It is set to each of `steps` values in [-1, 1] and the
    code is re-normalized onto the unit sphere; items are ranked within that concept.
    """
    concepts = model.item_concepts()
    own = concepts[history[0] > 0]
    k = int(torch.bincount(own, minlength=model.cfg.concepts).argmax()) if len(own) else 0
    mu = model.user_codes(history)[0, k]
    j = int(mu.abs().argmax())
    members = torch.nonzero(concepts == k).ravel()
    items = model.item_vectors()[members]
    values = np.linspace(-1.0, 1.0, steps)
    rows = []
    for v in values:
        z = mu.clone()
        z[j] = float(v)
        z = F.normalize(z, dim=0)
        best = torch.argsort(items @ z, descending=True)[:top]
        rows.append(members[best].tolist())
    return {"concept": k, "dimension": j, "values": values.tolist(), "top_items": rows}
