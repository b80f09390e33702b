import json

import pytest

from pipeline.atomic import atomic_path, write_json
from pipeline.tracking import stage_run
from recsys.config import TrainRecsys


def test_stage_run_logs_to_a_real_sqlite_store(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MDR_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.setenv("DVC_EXP_NAME", "my-exp")
    art = tmp_path / "note.txt"
    art.write_text("hello")
    with stage_run("train_recsys", TrainRecsys()) as run:
        run.log_metrics({"val_ndcg@100": 0.5}, step=1)
        run.log_metrics({"val_ndcg@100": 0.6}, step=2)
        run.log_artifact(art)
        run_id = run.run_id
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri)
    r = client.get_run(run_id)
    assert r.data.params["model.concepts"] == "7"
    assert r.data.tags["stage"] == "train_recsys" and r.data.tags["dvc_experiment"] == "my-exp"
    assert "git_revision" in r.data.tags
    history = client.get_metric_history(run_id, "val_ndcg_at_100")
    assert [(m.step, m.value) for m in history] == [(1, 0.5), (2, 0.6)]
    assert [a.path for a in client.list_artifacts(run_id)] == ["note.txt"]


def test_a_failed_write_leaves_the_previous_output(tmp_path):
    target = tmp_path / "out"
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "a.txt").write_text("first")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "a.txt").write_text("half")
            raise RuntimeError("killed half-way")
    assert (target / "a.txt").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary left behind
    write_json(tmp_path / "m.json", {"a": 1})
    assert json.loads((tmp_path / "m.json").read_text()) == {"a": 1}
