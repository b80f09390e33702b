"""Mult-VAE (Liang et al., WWW 2018): the β-VAE with a multinomial likelihood, the main baseline."""
from __future__ import annotations


import torch
import torch.nn as nn
import torch.nn.functional as F

from recsys.config import MultVAEConfig


class MultVAE(nn.Module):
    def __init__(self, n_items: int, cfg: MultVAEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = nn.Sequential(nn.Linear(n_items, cfg.hidden), nn.Tanh(),
                                     nn.Linear(cfg.hidden, 2 * cfg.latent))
        self.decoder = nn.Sequential(nn.Linear(cfg.latent, cfg.hidden), nn.Tanh(),
                                     nn.Linear(cfg.hidden, n_items))

    def encode(self, x):
        x = F.dropout(F.normalize(x, dim=1), self.cfg.dropout, training=self.training)
        h = self.encoder(x)
        return h[:, :self.cfg.latent], h[:, self.cfg.latent:]

    def forward(self, x: torch.Tensor, beta: float, step: int = 0) -> dict:   # step: unused, no schedule of its own
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        logits = self.decoder(z)
        nll = -(F.log_softmax(logits, dim=1) * x).sum(1).mean()
        kl = (0.5 * (-logvar + logvar.exp() + mu ** 2 - 1)).sum(1).mean()
        return {"loss": nll + beta * kl, "nll": nll, "kl": kl}

    @torch.no_grad()
    def score(self, x: torch.Tensor) -> torch.Tensor:
        was = self.training
        self.eval()
        out = self.decoder(self.encode(x)[0])
        self.train(was)
        return out
