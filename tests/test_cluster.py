import pytest
from dask.distributed import LocalCluster

from pipeline.cluster import dask_client, run_jobs

pytestmark = pytest.mark.slow   # runs stages, clusters, servers or a browser: left out of the inner loop


def test_dask_client_joins_the_cluster_named_by_the_environment(monkeypatch):
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        with dask_client() as client:
            assert client.scheduler.address == cluster.scheduler_address
            assert client.submit(lambda x: x + 1, 41).result() == 42


def test_dask_client_starts_a_local_cluster_by_default(monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with dask_client(n_workers=1) as client:
        assert len(client.scheduler_info()["workers"]) == 1


def _square_or_fail(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative: {x}")
    return x * x


def test_run_jobs_returns_results_by_name_and_raises_a_jobs_error(dask):
    assert run_jobs(dask, {"a": (_square_or_fail, 3), "b": (_square_or_fail, 4)}) == {"a": 9, "b": 16}
    with pytest.raises(ValueError, match="negative: -2"):
        run_jobs(dask, {"ok": (_square_or_fail, 1), "bad": (_square_or_fail, -2)})


def test_run_jobs_reports_each_job_as_it_finishes_and_still_raises_a_failure(dask):
    seen = {}
    assert run_jobs(dask, {"a": (_square_or_fail, 3), "b": (_square_or_fail, 4)}, on_done=seen.__setitem__) == {"a": 9, "b": 16}
    assert seen == {"a": 9, "b": 16}
    seen.clear()
    with pytest.raises(ValueError, match="negative: -2"):
        run_jobs(dask, {"ok": (_square_or_fail, 1), "bad": (_square_or_fail, -2)}, on_done=seen.__setitem__)
    assert seen == {"ok": 1}   # the finished job was reported before the failure was raised
