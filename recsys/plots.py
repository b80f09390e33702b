"""Figures of the recommender evaluation (PNG files that `dvc plots` and MLflow show)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pipeline.atomic import atomic_path  # noqa: E402


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def concept_heatmap(table: np.ndarray, category_names: list, path: Path, nmi: float) -> None:
    """Rows: learned concepts; columns: known categories; cells: share of the category's items."""
    share = table / np.maximum(table.sum(0, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.45 * len(category_names), 1.0 + 0.45 * len(table)))
    im = ax.imshow(share, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(category_names)), category_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(table)), [f"concept {k}" for k in range(len(table))], fontsize=8)
    for (r, c), n in np.ndenumerate(table):
        if n:
            ax.text(c, r, str(n), ha="center", va="center", fontsize=6,
                    color="white" if share[r, c] < 0.5 else "black")
    ax.set_title(f"items: learned concept × known category (NMI {nmi:.3f})", fontsize=9)
    fig.colorbar(im, ax=ax, label="share of category's items")
    _save(fig, path)


def traversal_table(traversal: dict, item_ids, item_labels, path: Path) -> None:
    """A grid: columns are values of the traversed dimension, rows the top items at that value."""
    rows = np.array(traversal["top_items"]).T  # (top, steps)
    fig, ax = plt.subplots(figsize=(1.5 * rows.shape[1], 0.45 * rows.shape[0] + 1))
    ax.set_axis_off()
    cells = [[f"{item_ids[i]}\n{item_labels[i]}" for i in row] for row in rows]
    t = ax.table(cellText=cells, colLabels=[f"{v:+.2f}" for v in traversal["values"]],
                 rowLabels=[f"#{r + 1}" for r in range(rows.shape[0])], loc="center", cellLoc="center")
    t.auto_set_font_size(False)
    t.set_fontsize(7)
    t.scale(1, 2.2)
    ax.set_title(f"concept {traversal['concept']}, micro dimension {traversal['dimension']}: "
                 "top items as the dimension moves", fontsize=9)
    _save(fig, path)


def learning_curves(history: list, path: Path) -> None:
    epochs = [h["epoch"] for h in history]
    fig, ax1 = plt.subplots(figsize=(6, 3.5))
    ax1.plot(epochs, [h["loss"] for h in history], label="train loss", color="tab:blue")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("train loss")
    ax2 = ax1.twinx()
    ax2.plot(epochs, [h["val_ndcg@100"] for h in history], label="val NDCG@100", color="tab:red")
    ax2.set_ylabel("val NDCG@100")
    fig.legend(loc="upper center", ncol=2, fontsize=8)
    _save(fig, path)
