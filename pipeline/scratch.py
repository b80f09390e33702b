"""A throw-away copy of the repository (tracked and untracked-but-not-ignored files, fresh git
repo, params overridden) where `dvc repro` can run without touching the real workspace.
Used by the end-to-end test and the pipeline-time benchmark."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from pipeline.config import set_param
from pipeline.tolerance import METRICS

ROOT = Path(__file__).resolve().parents[1]


def scratch_repo(dest: str | Path, overrides: dict) -> tuple[Path, dict]:
    """Copy the repo to `dest`, apply dotted-key `overrides` to params.yaml, commit; return the
    folder and an environment whose `python` is this interpreter and whose MLflow store is local."""
    dest = Path(dest)
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    for rel in listed:
        src = ROOT / rel
        if src.is_file() and not rel.startswith((f"{METRICS.as_posix()}/", "dvc.lock")):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    params = yaml.safe_load((dest / "params.yaml").read_text())
    for k, v in overrides.items():
        set_param(params, k, v)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "MLFLOW_TRACKING_URI": f"sqlite:///{dest}/mlflow.db"}
    env.pop("DVC_EXP_NAME", None)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=mdr", "-c", "user.email=mdr@localhost", "commit", "-qm", "scratch"]):
        subprocess.run(cmd, cwd=dest, env=env, check=True, capture_output=True)
    return dest, env
