"""Compute set-up in one place: seeds, torch threads and device, and the Dask client.

`dask_client()` connects to DASK_SCHEDULER_ADDRESS when set, else starts a LocalCluster
(processes, one thread each) that closes with the context; `run_jobs` runs independent jobs on it.
"""
from __future__ import annotations

import contextlib
import os
import random
import uuid

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


@contextlib.contextmanager
def dask_client(n_workers: int | None = None):
    """A distributed Client: the cluster at DASK_SCHEDULER_ADDRESS, else a fresh LocalCluster."""
    from dask.distributed import Client, LocalCluster

    address = os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        with Client(address) as client:
            yield client
        return
    workers = n_workers or min(2, os.cpu_count() or 1)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as cluster, Client(cluster) as client:
        yield client


def run_jobs(client, jobs: dict[str, tuple]) -> dict:
    """Run independent jobs, name → (function, *args), on the Dask workers at once; results by name.
    Arguments other than numbers and strings are sent to the cluster once each, so data that several
    jobs share travels once. A job's exception is raised here, in submission order."""
    sent = {}

    def ship(arg):
        if isinstance(arg, (str, int, float, bool, type(None))):
            return arg
        if id(arg) not in sent:
            sent[id(arg)] = client.scatter([arg], hash=False)[0]   # a list: scatter sends its items
        return sent[id(arg)]

    futures = {name: client.submit(fn, *map(ship, args), key=f"{name}-{uuid.uuid4().hex[:8]}", pure=False)
               for name, (fn, *args) in jobs.items()}
    return {name: future.result() for name, future in futures.items()}


def linear_decay(lr: float, step: int, steps: int, decay_from: float) -> float:
    """DRIT's 'lambda' policy: `lr` until decay_from·steps, then linear to zero at the last step.
    A function of the step alone, so a resumed run follows the same schedule."""
    start = decay_from * steps
    if step < start:
        return lr
    return lr * (steps - step) / (steps - start + 1)
