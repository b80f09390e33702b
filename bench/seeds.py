"""What the multi-seed benchmarks share: mean ± standard error over seeds, printed and returned."""
from __future__ import annotations

import numpy as np


def seed_table(runs: dict, seeds: list[int], keys=None) -> dict:
    """{key: {mean, se, seeds}} for every numeric key (in `keys` order if given) present in the runs."""
    table = {}
    for k in keys or list(runs[seeds[0]]):
        values = [runs[s][k] for s in seeds if k in runs[s]]
        if not values or not all(isinstance(v, (int, float)) for v in values):
            continue
        se = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
        table[k] = {"mean": float(np.mean(values)), "se": se, "seeds": values}
        print(f"{k:34s} {np.mean(values):10.4f} ± {se:.4f}   " + "  ".join(f"{v:.4f}" for v in values))
    return table
