"""MLflow tracking: one run per stage in a sqlite store inside the repo; a stopped stage's run ends KILLED.

MLFLOW_TRACKING_URI overrides the store (a sqlite file or a tracking server's http(s) URL); artifacts
go to ./mlartifacts (MDR_ARTIFACT_ROOT overrides) unless the experiment already names a location, and
to the server's artifact store when the experiment is made on a tracking server. Runs are tagged with the stage, the git revision and the DVC
experiment name (DVC_EXP_NAME, set by `dvc exp run`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import subprocess
from pathlib import Path

from pipeline.stage import StageInterrupted

DEFAULT_URI = "sqlite:///mlflow.db"
EXPERIMENT = "mdr"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_URI)


def git_revision() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _flat(prefix: str, obj) -> dict:
    if dataclasses.is_dataclass(obj):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_flat(f"{prefix}.{k}" if prefix else str(k), v))
        return out
    return {prefix: obj}


class StageRun:
    """Thin handle over the active MLflow run."""

    def __init__(self, mlflow):
        self._mlflow = mlflow

    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        # MLflow names allow no '@': ndcg@100 is logged as ndcg_at_100
        clean = {k.replace("@", "_at_"): float(v) for k, v in metrics.items() if v is not None}
        self._mlflow.log_metrics(clean, step=step)

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        path = Path(path)
        if path.is_dir():
            self._mlflow.log_artifacts(str(path), artifact_path=artifact_path or path.name)
        else:
            self._mlflow.log_artifact(str(path), artifact_path=artifact_path)

    @property
    def run_id(self) -> str:
        return self._mlflow.active_run().info.run_id


class NoRun:
    """What ranks other than 0 of a data-parallel stage log to: nothing (rank 0 keeps the run)."""

    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        pass

    def log_artifact(self, path, artifact_path: str | None = None) -> None:
        pass


@contextlib.contextmanager
def stage_run(stage: str, config=None):
    """Open one MLflow run for `stage`, log its config as params, and tag it (on rank 0 alone)."""
    if os.environ.get("RANK", "0") != "0":
        yield NoRun()
        return
    logging.getLogger("alembic").setLevel(logging.WARNING)
    import mlflow

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        if uri.startswith(("http://", "https://")) and "MDR_ARTIFACT_ROOT" not in os.environ:
            mlflow.create_experiment(EXPERIMENT)   # a tracking server keeps the artifacts where it is set up to
        else:
            artifacts = Path(os.environ.get("MDR_ARTIFACT_ROOT", "mlartifacts")).resolve()
            mlflow.create_experiment(EXPERIMENT, artifact_location=artifacts.as_uri())
    mlflow.set_experiment(EXPERIMENT)
    tags = {"stage": stage, "git_revision": git_revision(),
            "dvc_experiment": os.environ.get("DVC_EXP_NAME", "workspace")}
    with mlflow.start_run(run_name=stage, tags=tags):
        try:
            if config is not None:
                params = {k: str(v)[:500] for k, v in _flat("", config).items()}
                mlflow.log_params(params)
            yield StageRun(mlflow)
        except (KeyboardInterrupt, StageInterrupted):  # stopped, not failed: the run says so
            mlflow.end_run(status="KILLED")
            raise
