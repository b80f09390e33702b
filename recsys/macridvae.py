"""MacridVAE: Learning Disentangled Representations for Recommendation (Ma et al., NeurIPS 2019).

Macro disentanglement: K concept prototypes m_k; item i is assigned to concepts by
    c_i = softmax_k( cos(h_i, m_k) / tau )          (a Gumbel-softmax sample while training)
Micro disentanglement: for each concept k, the user's history restricted to that concept,
x_u ⊙ c_{:,k}, is encoded (one shared encoder) into a d-dim Gaussian whose mean is L2-normalized;
a β-weighted KL to N(0, σ0² I) pushes the d dimensions towards independence.
Decoder: concept-wise cosine scoring,
    p(x_ui | z_u) ∝ Σ_k c_ik · exp( cos(z_u^(k), h_i) / tau ),
trained with the multinomial log-likelihood of the user's history.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from pipeline.config import rule


@dataclass(frozen=True)
class MacridVAEConfig:
    concepts: int = field(default=7, metadata=rule(ge=1))  # K
    dim: int = field(default=100, metadata=rule(ge=1))  # d, per concept
    hidden: int = field(default=600, metadata=rule(ge=1))
    tau: float = field(default=0.1, metadata=rule(gt=0))
    beta: float = field(default=0.2, metadata=rule(ge=0))  # the annealing cap
    std0: float = field(default=0.075, metadata=rule(gt=0))  # prior standard deviation σ0
    dropout: float = field(default=0.5, metadata=rule(ge=0, lt=1))
    gumbel: bool = True


class MacridVAE(nn.Module):
    def __init__(self, n_items: int, cfg: MacridVAEConfig):
        super().__init__()
        self.cfg = cfg
        self.items = nn.Parameter(torch.empty(n_items, cfg.dim))  # h_i
        self.prototypes = nn.Parameter(torch.empty(cfg.concepts, cfg.dim))  # m_k
        nn.init.xavier_normal_(self.items)
        nn.init.xavier_normal_(self.prototypes)
        self.encoder = nn.Sequential(nn.Linear(n_items, cfg.hidden), nn.Tanh(),
                                     nn.Linear(cfg.hidden, 2 * cfg.dim))

    # -- macro: which concept each item belongs to ------------------------------------------
    def concept_logits(self) -> torch.Tensor:
        """(n_items, K): cos(h_i, m_k) / tau."""
        return F.normalize(self.items, dim=1) @ F.normalize(self.prototypes, dim=1).T / self.cfg.tau

    def concept_weights(self) -> torch.Tensor:
        """c_ik: a Gumbel-softmax sample while training, the softmax itself in eval."""
        logits = self.concept_logits()
        if self.training and self.cfg.gumbel:
            return F.gumbel_softmax(logits, tau=1.0, hard=False, dim=1)
        return logits.softmax(dim=1)

    def item_concepts(self) -> torch.Tensor:
        """The hard assignment argmax_k c_ik (for reading concepts, not for scoring)."""
        return self.concept_logits().argmax(dim=1)

    # -- micro: one d-dim Gaussian per concept ---------------------------------------------
    def encode(self, x: torch.Tensor, cates: torch.Tensor):
        """x: (B, n_items) history; returns mu (B, K, d) L2-normalized, and log(σ²/σ0²) (B, K, d)."""
        x = F.dropout(F.normalize(x, dim=1), self.cfg.dropout, training=self.training)
        h = self.encoder(x.unsqueeze(1) * cates.T.unsqueeze(0))  # (B, K, 2d)
        mu = F.normalize(h[..., :self.cfg.dim], dim=-1)
        log_var_ratio = -h[..., self.cfg.dim:]
        return mu, log_var_ratio

    def sample(self, mu, log_var_ratio):
        if not self.training:
            return mu
        std = torch.exp(0.5 * log_var_ratio) * self.cfg.std0
        return mu + std * torch.randn_like(std)

    # -- decoder: concept-wise cosine scoring ----------------------------------------------
    def decode(self, z: torch.Tensor, cates: torch.Tensor) -> torch.Tensor:
        """log Σ_k c_ik exp(cos(z_k, h_i)/tau): (B, K, d) codes -> (B, n_items) logits."""
        cos = torch.einsum("bkd,id->bki", F.normalize(z, dim=-1), F.normalize(self.items, dim=1))
        return torch.logsumexp(cos / self.cfg.tau + torch.log(cates.T + 1e-20).unsqueeze(0), dim=1)

    def forward(self, x: torch.Tensor, beta: float) -> dict:
        cates = self.concept_weights()
        mu, log_var_ratio = self.encode(x, cates)
        logits = self.decode(self.sample(mu, log_var_ratio), cates)
        nll = -(F.log_softmax(logits, dim=1) * x).sum(1).mean()
        # KL(N(mu, σ²) || N(mu-free, σ0²)) summed over concepts and dims; the mu² term is a constant
        # because mu is on the unit sphere (as in the paper's code).
        kl = (0.5 * (-log_var_ratio + log_var_ratio.exp() - 1)).sum((1, 2)).mean()
        return {"loss": nll + beta * kl, "nll": nll, "kl": kl}

    # -- inference ---------------------------------------------------------------------------
    @torch.no_grad()
    def user_codes(self, x: torch.Tensor) -> torch.Tensor:
        """(B, K, d) unit-norm concept codes of users given their histories."""
        was = self.training
        self.eval()
        mu, _ = self.encode(x, self.concept_weights())
        self.train(was)
        return mu

    @torch.no_grad()
    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Scores of all items for histories x (the decoder's logits, with eval-mode concepts)."""
        return self.decode(self.user_codes(x), self.concept_logits().softmax(dim=1))

    @torch.no_grad()
    def item_vectors(self) -> torch.Tensor:
        return F.normalize(self.items, dim=1)
