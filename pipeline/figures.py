"""A picture a stage writes where its data cannot make the real one (no labels, no item categories):
a card that says why, so that a declared plot is never missing and never left over from another run."""
from __future__ import annotations

from pathlib import Path

from pipeline.atomic import atomic_path


def not_applicable(path: str | Path, title: str, why: str) -> None:
    """A small PNG at `path` saying that `title` cannot be drawn, and why."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(5, 1.6))
    fig.text(0.5, 0.62, f"{title}: not applicable", ha="center", va="center", fontsize=12, weight="bold")
    fig.text(0.5, 0.3, why, ha="center", va="center", fontsize=9, wrap=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
