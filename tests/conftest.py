"""Shared fixtures: tiny synthetic data split on a real Dask LocalCluster, a briefly trained model."""
import os

import pytest
import torch

os.environ.setdefault("MDR_DEVICE", "cpu")


@pytest.fixture(scope="session")
def dask():
    from pipeline.compute import dask_client

    with dask_client(n_workers=2) as client:
        yield client


@pytest.fixture(scope="session")
def tiny_raw():
    from recsys.synthetic import SyntheticConfig, generate

    return generate(SyntheticConfig(n_users=300, n_items=120, n_categories=4, mean_positives=12), seed=1)


@pytest.fixture(scope="session")
def tiny_data(tiny_raw, dask):
    from recsys.split import SplitConfig, split_interactions

    return split_interactions(tiny_raw, SplitConfig(partitions=3), seed=1, client=dask)


@pytest.fixture(scope="session")
def tiny_model(tiny_data):
    from pipeline.compute import seed_everything
    from recsys.macridvae import MacridVAE, MacridVAEConfig
    from recsys.train import TrainConfig, fit

    seed_everything(0, 2)
    model = MacridVAE(tiny_data.n_items, MacridVAEConfig(concepts=4, dim=16, hidden=32))
    result = fit(model, tiny_data, TrainConfig(epochs=5, batch_size=64, anneal_steps=20, patience=5),
                 0.2, 0, torch.device("cpu"), "test")
    return model, result
