"""A tiny `dvc repro` end to end in a throw-away copy of the repository."""
import json
import subprocess
import sys

import pytest

from pipeline.scratch import scratch_repo

TINY = {
    "prepare_interactions.synthetic.n_users": 200, "prepare_interactions.synthetic.n_items": 80,
    "prepare_interactions.synthetic.n_categories": 3, "prepare_interactions.synthetic.mean_positives": 10.0,
    "train_recsys.model.concepts": 3, "train_recsys.model.dim": 8, "train_recsys.model.hidden": 16,
    "train_recsys.train.epochs": 3, "evaluate_recsys.multvae.hidden": 16, "evaluate_recsys.multvae.latent": 8,
    "evaluate_recsys.multvae_train.epochs": 3, "evaluate_recsys.ease_lambdas": [100.0],
}


def _run(cmd, cwd, env, check=True):
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise AssertionError(f"{cmd} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    dest, env = scratch_repo(tmp_path_factory.mktemp("repo"), TINY)
    return dest, {**env, "MDR_DEVICE": "cpu"}


def test_repro_end_to_end_then_nothing_to_do(repo):
    dest, env = repo
    first = _run([sys.executable, "-m", "dvc", "repro"], dest, env)
    for stage in ("prepare_interactions", "train_recsys", "evaluate_recsys", "index_recsys"):
        assert f"[{stage}] done" in first.stderr
    metrics = json.loads((dest / "metrics/recsys.json").read_text())
    for model in ("macridvae", "multvae", "ease", "most_popular"):
        assert 0 <= metrics[model]["ndcg@100"]["mean"] <= 1
    assert "nmi_concept_category" in metrics["disentanglement"]
    for f in ("models/recsys/macridvae.pt", "indexes/recsys/manifest.json", "plots/recsys_concepts.png",
              "plots/recsys_traversal.png", "plots/recsys_train.csv", "mlflow.db"):
        assert (dest / f).exists(), f
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])
    runs = client.search_runs([client.get_experiment_by_name("mdr").experiment_id])
    assert sorted(r.data.tags["stage"] for r in runs) == sorted(
        ["prepare_interactions", "train_recsys", "evaluate_recsys", "index_recsys"])
    train_run = next(r for r in runs if r.data.tags["stage"] == "train_recsys")
    assert len(client.get_metric_history(train_run.info.run_id, "val_ndcg_at_100")) == 3  # one per epoch
    second = _run([sys.executable, "-m", "dvc", "repro"], dest, env)
    assert "Running stage" not in second.stdout + second.stderr
    status = _run([sys.executable, "-m", "dvc", "status"], dest, env)
    assert "up to date" in status.stdout


def test_cli_recommends_from_the_pipeline_outputs(repo):
    dest, env = repo
    users = json.loads((dest / "data/recsys/meta.json").read_text())
    assert users["n_items"] > 0
    out = _run([sys.executable, "-m", "pipeline.cli", "similar", "i00001", "--k", "3", "--json"], dest, env, check=False)
    if out.returncode == 0:
        assert len(json.loads(out.stdout)) == 3
    else:  # i00001 may have no training positives in the tiny data
        assert "unknown item" in out.stderr
    bad = _run([sys.executable, "-m", "pipeline.cli", "recommend", "--user", "ghost"], dest, env, check=False)
    assert bad.returncode == 2 and "unknown user 'ghost'" in bad.stderr


def test_a_bad_param_stops_the_stage_naming_the_key_and_keeps_outputs(repo):
    dest, env = repo
    before = (dest / "data/recsys/matrices.npz").read_bytes()
    params = (dest / "params.yaml").read_text()
    (dest / "params.yaml").write_text(params.replace("min_positives: 5", "min_positives: -2"))
    try:
        out = _run([sys.executable, "-m", "dvc", "repro", "prepare_interactions"], dest, env, check=False)
    finally:
        (dest / "params.yaml").write_text(params)
    assert out.returncode != 0
    assert "prepare_interactions.split.min_positives: must be >= 1, got -2" in out.stderr
    assert (dest / "data/recsys/matrices.npz").read_bytes() == before
