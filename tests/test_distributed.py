"""Data-parallel training (pipeline.distributed) with real gloo process groups on loopback: averaged
gradients make two ranks train as one process on the global batch; the stages relaunch themselves;
a killed rank fails the stage by name and keeps earlier outputs; a checkpoint resumes at another
world size."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch

from pipeline import distributed
from pipeline.config import DistributedConfig
from pipeline.scratch import scratch_repo
from pipeline.stage import RankFailed
from test_pipeline_e2e import TINY

pytestmark = pytest.mark.slow   # runs stages, clusters, servers or a browser: left out of the inner loop

WORKER = str(Path(__file__).with_name("ddp_worker.py"))


def test_two_ranks_with_averaged_gradients_train_as_one_process_on_the_global_batch(tmp_path):
    subprocess.run([sys.executable, WORKER, str(tmp_path / "one.pt")], check=True)
    distributed.launch("test", [sys.executable, WORKER, str(tmp_path / "two.pt")], DistributedConfig(nproc_per_node=2))
    one, two = torch.load(tmp_path / "one.pt"), torch.load(tmp_path / "two.pt")
    assert (one["world"], two["world"]) == (1, 2)
    for k, v in one["model"].items():
        torch.testing.assert_close(two["model"][k], v, rtol=1e-9, atol=1e-12)
    assert not torch.equal(one["model"]["weight"], torch.nn.Linear(5, 1).double().weight)   # it did train
    # each row is made from every rank's losses
    assert [r["losses_seen"] for r in one["history"]] == [10, 10, 10]
    assert [r["losses_seen"] for r in two["history"]] == [20, 20, 20]


def test_without_averaging_the_ranks_drift_apart(tmp_path, monkeypatch):
    """The comparison above can fail: with the averaging hook made a no-op the two-rank run differs."""
    monkeypatch.setenv("MDR_TEST_NO_AVERAGING", "1")
    subprocess.run([sys.executable, WORKER, str(tmp_path / "one.pt")], check=True)
    distributed.launch("test", [sys.executable, WORKER, str(tmp_path / "two.pt")], DistributedConfig(nproc_per_node=2))
    one, two = torch.load(tmp_path / "one.pt"), torch.load(tmp_path / "two.pt")
    assert not torch.allclose(one["model"]["weight"], two["model"]["weight"], rtol=1e-6)


def test_a_failed_launch_names_the_rank(tmp_path):
    with pytest.raises(RankFailed, match=r"rank \d of 2 exited with code 3"):
        distributed.launch("test", [sys.executable, "-c", "import sys; sys.exit(3)"], DistributedConfig(nproc_per_node=2))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    dest, env = scratch_repo(tmp_path_factory.mktemp("repo"), {
        **TINY, "train_recsys.distributed.nproc_per_node": 2, "train_translation.distributed.nproc_per_node": 2})
    env = {**env, "MDR_DEVICE": "cpu"}
    for name in ("prepare_interactions", "prepare_images"):
        stage(name, dest, env)
    return dest, env


def stage(name: str, cwd: Path, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-m", f"stages.{name}"], cwd=cwd, env=env, capture_output=True, text=True)
    assert not check or out.returncode == 0, f"{name} failed ({out.returncode}):\n{out.stderr[-3000:]}"
    return out


def mlflow_runs(dest: Path, stage_name: str) -> list:
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{dest / 'mlflow.db'}")
    return client.search_runs([client.get_experiment_by_name("mdr").experiment_id],
                              f"tags.stage = '{stage_name}'")


@pytest.mark.parametrize("name", ["train_recsys", "train_translation"])
def test_a_stage_trains_data_parallel_and_rank_0_alone_writes(repo, name):
    dest, env = repo
    before = len(mlflow_runs(dest, name)) if (dest / "mlflow.db").exists() else 0
    out = stage(name, dest, env)
    assert "data-parallel over 1 node(s) × 2 process(es)" in out.stderr
    model = {"train_recsys": "models/recsys/macridvae.pt", "train_translation": "models/translation/drit.pt"}[name]
    assert (dest / model).exists() and not list(dest.glob("models/**/*.partial.pt"))
    runs = mlflow_runs(dest, name)
    assert len(runs) == before + 1 and runs[0].info.status == "FINISHED"


def test_a_killed_rank_fails_the_stage_by_name_and_a_rerun_resumes_at_another_world_size(repo):
    dest, env = repo
    model, partial = dest / "models/recsys/macridvae.pt", dest / "models/recsys/macridvae.partial.pt"
    if not model.exists():
        stage("train_recsys", dest, env)
    params, kept = (dest / "params.yaml").read_text(), model.read_bytes()
    long_run = params.replace("epochs: 3", "epochs: 150").replace("patience: 30", "patience: 150")
    try:
        (dest / "params.yaml").write_text(long_run)
        run = subprocess.Popen([sys.executable, "-m", "stages.train_recsys"], cwd=dest, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not partial.exists() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        ranks = [p for p in psutil.Process(run.pid).children(recursive=True) if p.environ().get("RANK") == "1"]
        assert ranks, "no rank 1 worker to kill"
        ranks[0].send_signal(signal.SIGKILL)        # as the OOM killer would: no clean-up
        _, err = run.communicate(timeout=120)
        assert run.returncode == 2, err[-2000:]
        assert "rank 1 of 2 was killed by SIGKILL" in err and "outputs of earlier runs are intact" in err
        assert model.read_bytes() == kept and partial.exists()

        (dest / "params.yaml").write_text(long_run.replace("nproc_per_node: 2", "nproc_per_node: 1", 1))
        out = stage("train_recsys", dest, env)
        assert "resuming from step" in out.stderr and "written by 2 process(es), this run has 1" in out.stderr
        assert not partial.exists() and model.read_bytes() != kept
    finally:
        (dest / "params.yaml").write_text(params)
        model.write_bytes(kept)
        partial.unlink(missing_ok=True)
