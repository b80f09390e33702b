"""The Dask client every data stage and job runner uses.

`dask_client()` connects to DASK_SCHEDULER_ADDRESS when set, else starts a LocalCluster
(processes, one thread each) that closes with the context; `run_jobs` runs independent jobs on it.
"""
from __future__ import annotations

import contextlib
import os
import uuid


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


def run_jobs(client, jobs: dict[str, tuple], on_done=None) -> dict:
    """Run independent jobs, name → (function, *args), on the Dask workers at once; results by name.
    Arguments other than numbers and strings are sent to the cluster once each, so data that several
    jobs share travels once. `on_done(name, result)` is called as each job finishes (to keep what a
    long run has done so far). A job's exception is raised here, in submission order."""
    sent = {}

    def ship(arg):
        if isinstance(arg, (str, int, float, bool, type(None))):
            return arg
        if id(arg) not in sent:
            sent[id(arg)] = client.scatter([arg], hash=False)[0]   # a list: scatter sends its items
        return sent[id(arg)]

    futures = {name: client.submit(fn, *map(ship, args), key=f"{name}-{uuid.uuid4().hex[:8]}", pure=False)
               for name, (fn, *args) in jobs.items()}
    if on_done:
        from dask.distributed import as_completed

        names = {future.key: name for name, future in futures.items()}
        for future in as_completed(list(futures.values())):
            if future.status == "finished":
                on_done(names[future.key], future.result())
    return {name: future.result() for name, future in futures.items()}
