"""Names for learned concepts a person can read: each concept's most typical categories and its best-known
items, from the item file's categories and titles (concept N when the data has neither).

A category is typical of a concept when the concept's items carry it more often than all items do.
It is ranked by its term in KL(concept's category mix ‖ all items' category mix),
p_c(g) · log(p_c(g) / p(g)): frequent in the concept and over-represented there, so neither a large
category every concept shares (Drama) nor a tiny one a single item brings wins on its own.
"""
from __future__ import annotations

import numpy as np

LABEL_CATEGORIES = 2   # categories in a concept's label
TOP = 3                # categories and items listed per concept


def category_matrix(item_categories: list[list[str]]) -> tuple[np.ndarray, list[str]]:
    """(items × categories 0/1 matrix, category names): every category an item carries, not only its first."""
    names = sorted({c for cats in item_categories for c in cats})
    col = {c: j for j, c in enumerate(names)}
    m = np.zeros((len(item_categories), len(names)), dtype=bool)
    for i, cats in enumerate(item_categories):
        m[i, [col[c] for c in cats]] = True
    return m, names


def typical_categories(members: np.ndarray, has: np.ndarray, names: list[str], top: int = TOP) -> list[dict]:
    """The over-represented categories of the items in `members` (bool mask), most typical first."""
    if not members.any() or not names:
        return []
    p_all = has.mean(axis=0)
    p_c = has[members].mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where((p_c > 0) & (p_c > p_all), p_c * np.log(p_c / p_all), 0.0)
    order = [j for j in np.argsort(-score, kind="stable") if score[j] > 0][:top]
    return [{"category": names[j], "items": int(has[members, j].sum()), "share": round(float(p_c[j]), 4),
             "share_all": round(float(p_all[j]), 4)} for j in order]


def concept_summaries(item_concept: np.ndarray, n_concepts: int, item_categories: list[list[str]],
                      popularity: np.ndarray, describe_item, top: int = TOP) -> list[dict]:
    """Per concept: its size, a label, its typical categories and its most popular items
    (`describe_item(col)` → {"item", "title", ...}); the label names the categories, else the items' titles."""
    has, names = category_matrix(item_categories)
    out = []
    for c in range(n_concepts):
        members = item_concept == c
        cats = typical_categories(members, has, names, top)
        cols = np.flatnonzero(members)
        best = cols[np.argsort(-popularity[cols], kind="stable")[:top]]
        items = [describe_item(int(j)) for j in best]
        if cats:
            label = " · ".join(g["category"] for g in cats[:LABEL_CATEGORIES])
        else:
            label = " · ".join(i["title"] for i in items[:LABEL_CATEGORIES] if i["title"]) or f"concept {c}"
        out.append({"concept": c, "items": int(members.sum()), "label": label,
                    "top_categories": cats, "top_items": items})
    return out
