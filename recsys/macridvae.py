"""MacridVAE: Learning Disentangled Representations for Recommendation (Ma et al., NeurIPS 2019).

Macro disentanglement: K concept prototypes m_k; item i is assigned to concepts by
    c_i = softmax_k( cos(h_i, m_k) / tau )          (a Gumbel-softmax sample while training)
Micro disentanglement: for each concept k, the user's history restricted to that concept,
x_u ⊙ c_{:,k}, L2-normalized and dropped out on its own (as the authors' code does; RecBole
normalizes and drops out the whole history once instead: `concept_input_norm: false`), is encoded
(one shared encoder) into a d-dim Gaussian whose mean is L2-normalized;
a β-weighted KL to N(0, σ0² I) pushes the d dimensions towards independence.
Levers of issue 46 (params, all off by default): the hierarchical KL's between-concept TC warmed up
from 0; −I(item; concept) on the items' soft assignments; a few items per concept anchored to the
data's categories (recsys.anchors); RecVAE's β per user in proportion to its history, and RecVAE's
composite prior (a mixture with the posterior of the encoder as it was when the epoch began).
Decoder: concept-wise cosine scoring,
    p(x_ui | z_u) ∝ Σ_k c_ik · exp( cos(z_u^(k), h_i) / tau ),
trained with the multinomial log-likelihood of the user's history.
"""
from __future__ import annotations

import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from pipeline.hierarchical_kl import decomposed_kl, weighted
from recsys.config import MacridVAEConfig


def log_normal(x, mean, log_var) -> torch.Tensor:
    """Elementwise log N(x; mean, exp(log_var))."""
    return -0.5 * (math.log(2 * math.pi) + log_var + (x - mean).pow(2) / log_var.exp())


class MacridVAE(nn.Module):
    def __init__(self, n_items: int, cfg: MacridVAEConfig):
        super().__init__()
        self.cfg = cfg
        self.train_size = 0   # training users (set by recsys.train.fit): N of the hierarchical KL's estimator
        self.items = nn.Parameter(torch.empty(n_items, cfg.dim))  # h_i
        self.prototypes = nn.Parameter(torch.empty(cfg.concepts, cfg.dim))  # m_k
        nn.init.xavier_normal_(self.items)
        nn.init.xavier_normal_(self.prototypes)
        self.encoder = nn.Sequential(nn.Linear(n_items, cfg.hidden), nn.Tanh(),
                                     nn.Linear(cfg.hidden, 2 * cfg.dim))
        if cfg.kl_by_history and cfg.hierarchical:
            raise ValueError("train_recsys.model: kl_by_history weights each user's KL, the hierarchical "
                             "objective's terms are batch estimates; turn one of them off")
        if cfg.composite_prior and (cfg.hierarchical or cfg.kl_by_history):
            raise ValueError("train_recsys.model: composite_prior replaces the KL's prior; it does not combine "
                             "with hierarchical or kl_by_history")
        self.set_anchors([], [])   # set by recsys.train.fit when anchor_items > 0 and the data has categories
        self.prior_copy = ()       # RecVAE's composite prior: (a frozen copy of this model,), set by refresh_prior

    # -- macro: which concept each item belongs to ------------------------------------------
    def concept_logits(self) -> torch.Tensor:
        """(n_items, K): cos(h_i, m_k) / tau."""
        return F.normalize(self.items, dim=1) @ F.normalize(self.prototypes, dim=1).T / self.cfg.tau

    def concept_weights(self, logits: torch.Tensor | None = None) -> torch.Tensor:
        """c_ik: a Gumbel-softmax sample while training, the softmax itself in eval (of `logits` if given)."""
        logits = self.concept_logits() if logits is None else logits
        if self.training and self.cfg.gumbel:
            return F.gumbel_softmax(logits, tau=1.0, hard=False, dim=1)
        return logits.softmax(dim=1)

    def item_concepts(self) -> torch.Tensor:
        """The hard assignment argmax_k c_ik (for reading concepts, not for scoring)."""
        return self.concept_logits().argmax(dim=1)

    # -- micro: one d-dim Gaussian per concept ---------------------------------------------
    def encode(self, x: torch.Tensor, cates: torch.Tensor):
        """x: (B, n_items) history; returns mu (B, K, d) L2-normalized, and log(σ²/σ0²) (B, K, d)."""
        h = self.encoder[1:](self.first_layer(x, cates))  # (B, K, 2d)
        mu = F.normalize(h[..., :self.cfg.dim], dim=-1)
        log_var_ratio = -h[..., self.cfg.dim:]
        return mu, log_var_ratio

    def first_layer(self, x: torch.Tensor, cates: torch.Tensor) -> torch.Tensor:
        """The encoder's first linear layer on the K concept inputs, (B, K, hidden), computed from the
        history's nonzeros only: a history holds a few percent of the catalogue, so this is the
        dense (B, K, n_items) product at a fraction of the cost and memory. Zeros stay zeros under
        normalization and dropout, so the result is the dense layer's."""
        (B, n), K = x.shape, cates.shape[1]
        rows, cols = x.nonzero(as_tuple=True)
        c = cates[cols]  # (nnz, K)
        if self.cfg.concept_input_norm:
            norms = ((x * x) @ (cates * cates)).clamp_min(1e-24).sqrt()  # max(||x ⊙ c_k||, 1e-12), NaN-free at 0
            values = F.dropout(x[rows, cols, None] * c / norms[rows], self.cfg.dropout, training=self.training)
        else:
            values = F.dropout(x[rows, cols] / x.norm(dim=1).clamp_min(1e-12)[rows], self.cfg.dropout,
                               training=self.training)[:, None] * c
        # one bag per (user, concept): the items of the user's history weighted by that concept's values
        bag = (rows[:, None] * K + torch.arange(K, device=x.device)).reshape(-1)
        order = torch.argsort(bag, stable=True)
        items = cols[:, None].expand(-1, K).reshape(-1)[order]
        offsets = torch.searchsorted(bag[order], torch.arange(B * K, device=x.device))
        layer = self.encoder[0]
        out = F.embedding_bag(items, layer.weight.T.contiguous(), offsets, mode="sum",
                              per_sample_weights=values.reshape(-1)[order])
        return (out + layer.bias).reshape(B, K, -1)

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

    def forward(self, x: torch.Tensor, beta: float, step: int = 0) -> dict:
        """The training loss at minibatch step `step` (it times the TC warm-up) and its parts."""
        concept_logits = self.concept_logits()
        cates = self.concept_weights(concept_logits)
        mu, log_var_ratio = self.encode(x, cates)
        z = self.sample(mu, log_var_ratio)
        logits = self.decode(z, cates)
        nll = -(F.log_softmax(logits, dim=1) * x).sum(1).mean()
        # KL(N(mu, σ²) || N(mu-free, σ0²)) summed over concepts and dims; the mu² term is a constant
        # because mu is on the unit sphere (as in the paper's code).
        kl_users = (0.5 * (-log_var_ratio + log_var_ratio.exp() - 1)).sum((1, 2))
        out = {"nll": nll, "kl": kl_users.mean()}
        if not self.training:
            return {"loss": nll + beta * out["kl"], **out}
        if self.cfg.hierarchical:
            log_var0 = 2 * math.log(self.cfg.std0)
            terms = decomposed_kl(z, mu, log_var_ratio + log_var0, log_var0, self.train_size or len(x),
                                  self.cfg.kl_samples)   # the batch is in random order: its first rows are a sample
            # the between-block TC enters at weight 0 and ramps up to kl_between (tc_warmup, tc_ramp)
            regularizer = weighted(terms, self.cfg) - (1 - self.tc_scale(step)) * self.cfg.kl_between * terms["tc_between"]
            out |= {t: v.detach() for t, v in terms.items()}
        elif self.cfg.composite_prior:
            regularizer = (self.log_posterior(z, mu, log_var_ratio) - self.log_composite_prior(z, x)).sum((1, 2)).mean()
        elif self.cfg.kl_by_history:   # RecVAE: a user's β grows with its history; the batch's mean β stays β
            size = x.sum(1)
            regularizer = (kl_users * size / size.mean().clamp_min(1e-12)).mean()
        else:
            regularizer = out["kl"]
        return {"loss": nll + beta * regularizer + self.concept_terms(concept_logits, out, step), **out}

    # -- RecVAE's composite prior ------------------------------------------------------------
    COMPOSITE = ((3 / 20, "standard"), (3 / 4, "previous"), (1 / 10, "wide"))   # RecVAE's mixture weights

    def refresh_prior(self) -> None:
        """Freeze a copy of the model as it is now (recsys.train.fit calls this as each epoch begins)."""
        self.prior_copy = ()
        frozen = copy.deepcopy(self).eval().requires_grad_(False)
        self.prior_copy = (frozen,)   # a tuple: not a submodule, so neither trained nor saved

    def log_posterior(self, z, mu, log_var_ratio) -> torch.Tensor:
        """log q(z | x) per dimension: N(mu, σ0² exp(log_var_ratio))."""
        return log_normal(z, mu, log_var_ratio + 2 * math.log(self.cfg.std0))

    def log_composite_prior(self, z, x) -> torch.Tensor:
        """log p(z | x) per dimension under RecVAE's mixture: the standard prior N(0, σ0²), the posterior
        of the epoch-start copy for the same history (so the encoder moves in steps it can keep), and a
        wide N(0, e^10) that keeps every code possible."""
        if not self.prior_copy:
            raise RuntimeError("composite_prior: refresh_prior() was not called (recsys.train.fit calls it each epoch)")
        old = self.prior_copy[0]
        with torch.no_grad():
            mu_old, lvr_old = old.encode(x, old.concept_weights())
        log_var0 = 2 * math.log(self.cfg.std0)
        parts = {"standard": log_normal(z, torch.zeros_like(z), torch.full_like(z, log_var0)),
                 "previous": log_normal(z, mu_old, lvr_old + log_var0),
                 "wide": log_normal(z, torch.zeros_like(z), torch.full_like(z, 10.0))}
        return torch.logsumexp(torch.stack([math.log(w) + parts[name] for w, name in self.COMPOSITE]), dim=0)

    def tc_scale(self, step: int) -> float:
        """The between-block TC weight's share of kl_between at `step`: 0 through the warm-up, then a ramp to 1."""
        if step <= self.cfg.tc_warmup:
            return 0.0 if self.cfg.tc_warmup or self.cfg.tc_ramp else 1.0
        return min(1.0, (step - self.cfg.tc_warmup) / max(1, self.cfg.tc_ramp))

    # -- macro levers: crisp, balanced concepts; anchors to the data's categories ------------
    def set_anchors(self, items, concepts) -> None:
        """Items tied to concepts (recsys.anchors.category_anchors); none: the anchor term is off."""
        self.anchor_items = torch.as_tensor(items, dtype=torch.long, device=self.items.device)
        self.anchor_concepts = torch.as_tensor(concepts, dtype=torch.long, device=self.items.device)

    def concept_terms(self, concept_logits: torch.Tensor, out: dict, step: int) -> torch.Tensor:
        """−concept_mi · I(item; concept) + anchor_weight · CE(anchored items' concepts); logs each in `out`.
        I(item; concept) = H(mean_i c_i) − mean_i H(c_i) of the soft assignments c_i = softmax(cos/tau):
        high when each item sits in one concept and the concepts share the catalogue. With anchor_steps
        the anchors only seed the concepts: they let go after that many steps."""
        loss = torch.zeros((), device=self.items.device)
        if self.cfg.concept_mi:
            c = concept_logits.softmax(dim=1)
            marginal = c.mean(0)
            mi = (c * c.clamp_min(1e-12).log()).sum(1).mean() - (marginal * marginal.clamp_min(1e-12).log()).sum()
            out["concept_mi"] = mi.detach()
            loss = loss - self.cfg.concept_mi * mi
        if len(self.anchor_items) and (not self.cfg.anchor_steps or step <= self.cfg.anchor_steps):
            ce = F.cross_entropy(concept_logits[self.anchor_items], self.anchor_concepts)
            out["anchor_ce"] = ce.detach()
            loss = loss + self.cfg.anchor_weight * ce
        return loss

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
