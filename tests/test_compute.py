from dask.distributed import LocalCluster

from pipeline.compute import dask_client


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
