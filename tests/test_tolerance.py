"""`mdr metrics`: a run's metrics against the committed ones, under each metric's tolerance, in a real
git repository."""
import json
import subprocess
import sys

import pytest
import yaml

from pipeline.tolerance import compare_metrics, lookup


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture()
def repo(tmp_path):
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/recsys.json").write_text(json.dumps({"macridvae": {"ndcg@100": {"mean": 0.375}},
                                                             "steps": 480}))
    (tmp_path / "metrics/tolerances.yaml").write_text(yaml.safe_dump(
        {"recsys.json": {"macridvae.ndcg@100.mean": {"tolerance": 0.01, "noise": False}}}))
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "committed metrics")
    return tmp_path


def write_now(repo, value):
    (repo / "metrics/recsys.json").write_text(json.dumps({"macridvae": {"ndcg@100": {"mean": value}}}))


def test_lookup_follows_dotted_keys_whose_names_hold_dots():
    assert lookup({"a": {"ndcg@100": {"mean": 1.5}}, "p@10_a.b": 2}, "a.ndcg@100.mean") == 1.5
    assert lookup({"p@10_a.b": 2}, "p@10_a.b") == 2
    assert lookup({"a": 1}, "b.c") is None


def test_a_change_within_tolerance_is_noise_and_beyond_it_is_moved(repo):
    write_now(repo, 0.381)
    (row,) = compare_metrics(repo / "metrics", repo / "metrics/tolerances.yaml")
    assert row.committed == 0.375 and row.now == 0.381 and not row.moved
    write_now(repo, 0.36)
    (row,) = compare_metrics(repo / "metrics", repo / "metrics/tolerances.yaml")
    assert row.moved


def test_the_command_exits_non_zero_and_names_what_moved(repo):
    write_now(repo, 0.30)
    out = subprocess.run([sys.executable, "-m", "stages.mdr", "metrics", "--metrics", str(repo / "metrics"),
                          "--tolerances", str(repo / "metrics/tolerances.yaml")], capture_output=True, text=True)
    assert out.returncode == 2 and "MOVED" in out.stdout and "1 metric(s) moved" in out.stderr
    write_now(repo, 0.375)
    out = subprocess.run([sys.executable, "-m", "stages.mdr", "metrics", "--metrics", str(repo / "metrics"),
                          "--tolerances", str(repo / "metrics/tolerances.yaml")], capture_output=True, text=True)
    assert out.returncode == 0 and "MOVED" not in out.stdout


def test_a_missing_metric_counts_as_moved_and_a_bad_spec_is_named(repo):
    (repo / "metrics/recsys.json").write_text(json.dumps({}))
    (row,) = compare_metrics(repo / "metrics", repo / "metrics/tolerances.yaml")
    assert row.now is None and row.moved
    (repo / "metrics/tolerances.yaml").write_text(yaml.safe_dump({"recsys.json": {"x": {"tol": 1}}}))
    with pytest.raises(ValueError, match="recsys.json: x: needs a numeric 'tolerance'"):
        compare_metrics(repo / "metrics", repo / "metrics/tolerances.yaml")
