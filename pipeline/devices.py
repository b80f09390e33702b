"""Where and how reproducibly torch runs: seeds, CPU threads, the device."""
from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int, threads: int | None = None) -> None:
    """Seed python, numpy and torch; fix torch's CPU threads so runs repeat bit for bit."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads or max(1, os.cpu_count() or 1))
    torch.use_deterministic_algorithms(True, warn_only=True)


def torch_device():
    """The GPU where there is one (MDR_DEVICE overrides, e.g. MDR_DEVICE=cpu)."""
    import torch

    name = os.environ.get("MDR_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
