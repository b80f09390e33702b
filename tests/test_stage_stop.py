"""A stage stopped by SIGTERM mid-training: its MLflow run ends KILLED, it exits 143 saying so, and
the model of the earlier run is untouched, and the partial checkpoint is kept for the next run."""
import signal
import subprocess
import sys

import pytest

from pipeline.scratch import scratch_repo
from tests_support import read_until

pytestmark = pytest.mark.slow   # runs stages, clusters, servers or a browser: left out of the inner loop

SMALL = {"prepare_interactions.synthetic.n_users": 200, "prepare_interactions.synthetic.n_items": 80,
         "prepare_interactions.synthetic.n_categories": 3, "prepare_interactions.synthetic.mean_positives": 10.0,
         "train_recsys.model.concepts": 3, "train_recsys.model.dim": 8, "train_recsys.model.hidden": 16,
         "train_recsys.train.epochs": 100000, "train_recsys.train.patience": 100000}


def test_sigterm_marks_the_run_killed_and_keeps_earlier_outputs(tmp_path):
    import mlflow

    dest, env = scratch_repo(tmp_path, SMALL)
    env = {**env, "MDR_DEVICE": "cpu"}
    subprocess.run([sys.executable, "-m", "stages.prepare_interactions"], cwd=dest, env=env, check=True,
                   capture_output=True)
    earlier = dest / "models/recsys/macridvae.pt"
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"the model of an earlier run")

    stage = subprocess.Popen([sys.executable, "-m", "stages.train_recsys"], cwd=dest, env=env,
                             stderr=subprocess.PIPE, text=True)
    seen = read_until(stage.stderr, " epoch 3 ", timeout=300)   # training, MLflow run open
    stage.send_signal(signal.SIGTERM)
    rest = stage.stderr.read()
    assert stage.wait(60) == 128 + signal.SIGTERM, seen + rest
    assert "[train_recsys] stopped by SIGTERM" in rest and "Traceback" not in rest
    assert earlier.read_bytes() == b"the model of an earlier run"
    assert (dest / "models/recsys/macridvae.partial.pt").exists()   # the next run resumes from it

    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    runs = mlflow.search_runs(experiment_names=["mdr"], filter_string="tags.stage = 'train_recsys'")
    assert list(runs["status"]) == ["KILLED"]
    assert runs["metrics.val_ndcg_at_100"].notna().all()   # what it logged before the stop is kept
