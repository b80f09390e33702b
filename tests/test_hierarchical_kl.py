"""The hierarchically factorized KL: its terms sum to the KL, the right ones are non-negative, and the
MacridVAE option trains with each term logged."""
import math

import pytest
import torch

from pipeline.hierarchical_kl import TERMS, decomposed_kl


def gaussian_case(correlated: bool, n=400, K=2, d=2, seed=0):
    """Posteriors of n data points; with `correlated`, the blocks' means move together."""
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(n, K, d, generator=g)
    if correlated:
        mu[:, 1] = mu[:, 0] + 0.05 * torch.randn(n, d, generator=g)
    logvar = torch.full((n, K, d), math.log(0.05))
    z = mu + torch.exp(0.5 * logvar) * torch.randn(n, K, d, generator=g)
    return z, mu, logvar


@pytest.mark.parametrize("correlated", [False, True])
def test_the_terms_sum_to_the_kl_and_are_non_negative(correlated):
    z, mu, logvar = gaussian_case(correlated)
    terms = decomposed_kl(z, mu, logvar, 0.0, dataset_size=len(z))   # the batch is the whole data set
    total = sum(terms[t] for t in TERMS)
    # analytic KL(N(mu, σ²) ‖ N(0, 1)) summed over dimensions, averaged over the data
    analytic = (0.5 * (mu ** 2 + logvar.exp() - 1 - logvar)).sum((1, 2)).mean()
    assert float(total) == pytest.approx(float(analytic), rel=0.05)
    for t in ("index_code_mi", "tc_between", "tc_within", "dimwise_kl"):
        assert float(terms[t]) > -0.05, (t, float(terms[t]))


def test_total_correlation_between_blocks_sees_dependent_blocks():
    independent = decomposed_kl(*gaussian_case(False), 0.0, 400)["tc_between"]
    dependent = decomposed_kl(*gaussian_case(True), 0.0, 400)["tc_between"]
    assert float(dependent) > float(independent) + 1.0


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"z \(S, K, d\), mu and logvar \(M, K, d\) with S <= M"):
        decomposed_kl(torch.zeros(4, 2), torch.zeros(4, 2), torch.zeros(4, 2), 0.0, 4)
    with pytest.raises(ValueError, match=r"got \(5, 2, 2\), \(4, 2, 2\)"):
        decomposed_kl(torch.zeros(5, 2, 2), torch.zeros(4, 2, 2), torch.zeros(4, 2, 2), 0.0, 4)


def test_a_bank_of_posteriors_sharpens_a_small_batch():
    """16 samples scored against their own 16 posteriors, or against those and the 384 others
    (as a bank of earlier batches' posteriors would be): the bank's estimate of the aggregate is
    the exact one, so the banked terms sit closer to the full-data ones."""
    z, mu, logvar = gaussian_case(True)
    exact = decomposed_kl(z[:16], mu, logvar, 0.0, 400, samples=None)
    full = {t: float(v) for t, v in decomposed_kl(z, mu, logvar, 0.0, 400).items()}
    alone = decomposed_kl(z[:16], mu[:16], logvar[:16], 0.0, 400)
    error = {name: sum(abs(float(terms[t]) - full[t]) for t in TERMS) for name, terms in
             (("banked", exact), ("alone", alone))}
    assert error["banked"] < 0.5 * error["alone"], error


def test_macridvae_trains_with_the_hierarchical_objective(tiny_data):
    from dataclasses import replace

    from pipeline.devices import seed_everything
    from recsys.macridvae import MacridVAE
    from recsys.config import MacridVAEConfig
    from recsys.train import fit
    from recsys.config import TrainConfig

    seed_everything(0, 2)
    cfg = replace(MacridVAEConfig(concepts=3, dim=8, hidden=16), hierarchical=True, kl_between=4.0)
    model = MacridVAE(tiny_data.n_items, cfg)
    result = fit(model, tiny_data, TrainConfig(epochs=2, batch_size=64, anneal_steps=5, patience=5),
                 0, torch.device("cpu"), "test")
    last = result.history[-1]
    assert set(TERMS) <= set(last) and all(math.isfinite(last[t]) for t in TERMS)
    assert result.best_ndcg > 0


def test_a_subset_of_samples_estimates_the_same_terms():
    z, mu, logvar = gaussian_case(False)
    full = decomposed_kl(z, mu, logvar, 0.0, 400)
    part = decomposed_kl(z, mu, logvar, 0.0, 400, samples=200)
    for t in TERMS:
        assert float(part[t]) == pytest.approx(float(full[t]), abs=0.15 + 0.1 * abs(float(full[t])))
