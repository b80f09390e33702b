"""The hierarchically factorized KL of Esmaeili et al. ("Structured Disentangled Representations",
2019), estimated on a minibatch, for codes made of K blocks of d dimensions.

With a factorized Gaussian posterior q(z|x) and a factorized prior p(z) = Π_kj N(0, σ0²):
    E_q[log q(z|x) − log p(z)] =
        I(x; z)                      index-code mutual information   E[log q(z|x) − log q(z)]
      + TC between blocks                                            E[log q(z) − Σ_k log q(z_k)]
      + Σ_k TC within block k                                        E[log q(z_k) − Σ_j log q(z_kj)]
      + Σ_kj KL(q(z_kj) ‖ p(z_kj))   dimension-wise                  E[log q(z_kj) − log p(z_kj)]
The aggregate densities q(z), q(z_k), q(z_kj) are estimated on the minibatch by stratified sampling
(Chen et al. 2018, the estimator the paper's minibatch-weighted one refines): for a batch of M out of
N, q(z_i) ≈ q(z_i | x_i) / N + (N − 1) / (N (M − 1)) · Σ_{j≠i} q(z_i | x_j), the exact aggregate when
the batch is the whole data set. The terms telescope: with every weight 1 they sum to the sample
estimate of the KL. They are non-negative in expectation, not on every batch.
"""
from __future__ import annotations

import math

import torch

TERMS = ("index_code_mi", "tc_between", "tc_within", "dimwise_kl")
WEIGHTS = ("kl_index_code", "kl_between", "kl_within", "kl_dimwise")   # a model config's weight of each term
LOG_2PI = math.log(2 * math.pi)


def gaussian_log_density(z, mu, logvar):
    return -0.5 * ((z - mu) ** 2 * torch.exp(-logvar) + logvar + LOG_2PI)


def decomposed_kl(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, prior_logvar: float,
                  dataset_size: int, samples: int | None = None) -> dict[str, torch.Tensor]:
    """The four terms (batch means) for samples z ~ q(z|x) of shape (S, K, d), drawn from the first S
    of M posteriors whose means and log-variances (M, K, d) are given, and the prior's log-variance.
    M > S: the posteriors after the first S (say, recent batches', detached) join the aggregate
    densities' estimate only, which sharpens it when batches are small. `samples`: average the terms
    over the first `samples` samples only (each still scored against all M posteriors): the
    (S, M, K, d) density table is the cost, and a subset of the batch's samples estimates the same means."""
    if (z.dim() != 3 or mu.shape != logvar.shape or z.shape[1:] != mu.shape[1:]
            or z.shape[0] > mu.shape[0]):
        raise ValueError(f"z (S, K, d), mu and logvar (M, K, d) with S <= M: got {tuple(z.shape)}, "
                         f"{tuple(mu.shape)}, {tuple(logvar.shape)}")
    m, n = mu.shape[0], max(dataset_size, mu.shape[0])
    # log stratified weights: 1/N for a sample's own posterior, (N-1)/(N(M-1)) for the others'
    log_w = torch.full((m, m), math.log((n - 1) / (n * (m - 1))) if m > 1 else -math.inf, dtype=z.dtype,
                       device=z.device)
    log_w.fill_diagonal_(-math.log(n))
    s = z.shape[0] if samples is None else min(samples, z.shape[0])
    z, log_w = z[:s], log_w[:s]
    pairwise = gaussian_log_density(z[:, None], mu[None], logvar[None])   # (S_i, M_j, K, d): z_i under q(·|x_j)
    log_q_own = gaussian_log_density(z, mu[:s], logvar[:s]).sum((1, 2))
    log_q = torch.logsumexp(pairwise.sum((2, 3)) + log_w, dim=1)                   # (M,)
    log_q_blocks = torch.logsumexp(pairwise.sum(3) + log_w[..., None], dim=1)      # (M, K)
    log_q_dims = torch.logsumexp(pairwise + log_w[..., None, None], dim=1)         # (M, K, d)
    log_p = gaussian_log_density(z, torch.zeros_like(z), torch.full_like(z, prior_logvar))
    return {"index_code_mi": (log_q_own - log_q).mean(),
            "tc_between": (log_q - log_q_blocks.sum(1)).mean(),
            "tc_within": (log_q_blocks - log_q_dims.sum(2)).sum(1).mean(),
            "dimwise_kl": (log_q_dims - log_p).sum((1, 2)).mean()}


def weighted(terms: dict[str, torch.Tensor], cfg) -> torch.Tensor:
    """Σ weight × term, each term's weight read from the model config's field of WEIGHTS."""
    return sum(getattr(cfg, w) * terms[t] for w, t in zip(WEIGHTS, TERMS))
