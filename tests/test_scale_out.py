"""Stages against services they did not start, all on loopback: a `dask scheduler` with `dask worker`
processes (DASK_SCHEDULER_ADDRESS) and an `mlflow server` (MLFLOW_TRACKING_URI=http://...)."""
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from pipeline.scratch import scratch_repo
from test_pipeline_e2e import TINY

pytestmark = pytest.mark.slow   # runs stages, clusters, servers or a browser: left out of the inner loop

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stage(name: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-m", f"stages.{name}"], cwd=cwd, env=env, capture_output=True, text=True)
    assert out.returncode == 0, f"{name} failed:\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    dest, env = scratch_repo(tmp_path_factory.mktemp("repo"), TINY)
    return dest, {**env, "MDR_DEVICE": "cpu"}


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A scheduler and two single-thread workers, started as a team would start them; → its address.
    The workers run in a folder of their own: they need the project installed, nothing else."""
    from dask.distributed import Client

    home = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    logs = [open(home / name, "w") for name in ("scheduler.log", "workers.log")]
    procs = [subprocess.Popen([BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                               "--no-dashboard"], cwd=home, stdout=logs[0], stderr=subprocess.STDOUT)]
    try:
        procs.append(subprocess.Popen([BIN / "dask", "worker", address, "--nworkers", "2", "--nthreads", "1",
                                       "--no-dashboard"], cwd=home, stdout=logs[1], stderr=subprocess.STDOUT))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(30)
        for f in logs:
            f.close()


def task_prefixes(address: str) -> set[str]:
    """The kinds of task the scheduler has run so far."""
    from dask.distributed import Client

    with Client(address, timeout=30) as client:
        return set(client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes)))


def arrays(path: Path) -> dict:
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def test_every_dask_stage_runs_on_a_cluster_it_did_not_start(repo, dask_cluster):
    dest, env = repo
    outputs = (("prepare_interactions", "data/recsys/matrices.npz"), ("prepare_images", "data/images/b_train.npz"))
    local = {}
    for name, out in outputs:
        stage(name, dest, env)                                   # a LocalCluster of its own
        local[name] = arrays(dest / out)
    before = task_prefixes(dask_cluster)
    external = {**env, "DASK_SCHEDULER_ADDRESS": dask_cluster}
    for name, out in outputs:
        stage(name, dest, external)
        now = arrays(dest / out)
        assert now.keys() == local[name].keys() and all(np.array_equal(now[k], local[name][k]) for k in now), \
            f"{name}: the cluster's result differs from a LocalCluster's"
    for name in ("prepare_text_speech", "train_text_speech"):
        stage(name, dest, external)
    ran = task_prefixes(dask_cluster) - before
    assert ran, "the stages ran no task on the external cluster"
    assert {"acoustic", "semi_40", "supervised_40"} <= ran, f"the training jobs did not run on the workers: {sorted(ran)}"
    assert (dest / "models/text_speech/channel.pt").exists() and not list((dest / "models/text_speech").glob("*.partial.pt"))


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """`mlflow server` on loopback with its own store and artifact folder; → its URL."""
    home = tmp_path_factory.mktemp("mlflow")
    url = f"http://127.0.0.1:{free_port()}"
    log = open(home / "server.log", "w")
    proc = subprocess.Popen([BIN / "mlflow", "server", "--backend-store-uri", f"sqlite:///{home}/store.db",
                             "--artifacts-destination", str(home / "artifacts"), "--host", "127.0.0.1",
                             "--port", url.rsplit(":", 1)[1], "--workers", "1"],
                            cwd=home, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (home / "server.log").read_text()[-3000:]
            time.sleep(0.5)
        yield url, home
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_a_stage_logs_to_an_mlflow_tracking_server(repo, mlflow_server):
    from mlflow.tracking import MlflowClient

    dest, env = repo
    url, home = mlflow_server
    stage("prepare_interactions", dest, {**env, "MLFLOW_TRACKING_URI": url})
    client = MlflowClient(url)
    (run,) = client.search_runs([client.get_experiment_by_name("mdr").experiment_id],
                                "tags.stage = 'prepare_interactions'")
    assert run.info.status == "FINISHED" and run.data.params["split.min_positives"] == "5"
    assert run.data.metrics["n_train_users"] > 0
    stage("train_recsys", dest, {**env, "MLFLOW_TRACKING_URI": url})   # logs the model file as an artifact
    (run,) = client.search_runs([client.get_experiment_by_name("mdr").experiment_id], "tags.stage = 'train_recsys'")
    assert [a.path for a in client.list_artifacts(run.info.run_id, "model")] == ["model/macridvae.pt"]
    stored = list((home / "artifacts").rglob("macridvae.pt"))      # kept by the server, not beside the stage
    assert len(stored) == 1 and stored[0].read_bytes() == (dest / "models/recsys/macridvae.pt").read_bytes()
    assert not list((dest / "mlartifacts").rglob("macridvae.pt"))
