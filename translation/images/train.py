"""Training DRIT on pipeline.trainer's loop: one step = (DRIT's d_iter) extra content-discriminator
updates on batches of their own, then content discriminator, domain discriminators, and
encoders+generators in one backward.

Each step draws its batch and its noise from generators keyed by (seed, step), and the learning rate
is a function of the step, so a run resumed from a checkpoint takes exactly the steps it would have taken.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from pipeline import distributed
from pipeline.trainer import linear_decay, Loop, Resume, fingerprint, mean_losses, train
from translation.images.model import DRIT
from translation.images.config import TranslationTrainConfig
from translation.images.background import background_range
from translation.images.data import ImageData, to_tensor


GROUPS = ("encoders", "generators", "domain_discriminators", "content_discriminator")


def make_optimizers(model: DRIT, cfg: TranslationTrainConfig) -> dict[str, torch.optim.Adam]:
    return {g: torch.optim.Adam(getattr(model, g)(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2),
                                weight_decay=cfg.weight_decay) for g in GROUPS}


def lr_at(cfg: TranslationTrainConfig, step: int) -> float:
    """The rate of 0-based step `step`."""
    return linear_decay(cfg.lr, step, cfg.iterations, cfg.decay_from)


def learning_rates(cfg: TranslationTrainConfig, step: int) -> dict[str, float]:
    """Every optimizer's rate at 0-based step `step` (the content discriminator's scaled, as in DRIT)."""
    return {g: lr_at(cfg, step) * (cfg.content_dis_lr_scale if g == "content_discriminator" else 1.0) for g in GROUPS}


def content_discriminator_step(model: DRIT, opts: dict, f: dict, clip: float = 0.0) -> torch.Tensor:
    opts["content_discriminator"].zero_grad(set_to_none=True)
    loss = model.content_discriminator_loss(f)   # on detached content codes
    loss.backward()
    if clip:
        torch.nn.utils.clip_grad_norm_(model.content_discriminator(), clip)
    opts["content_discriminator"].step()
    return loss


def content_discriminator_only(model: DRIT, opts: dict, xa: torch.Tensor, xb: torch.Tensor, clip: float = 0.0) -> float:
    """DRIT's update_D_content: the content discriminator alone, on a batch of its own."""
    model.train()
    with torch.no_grad():
        f = model.content_codes(xa, xb)
    return content_discriminator_step(model, opts, f, clip).item()


def train_step(model: DRIT, opts: dict, xa: torch.Tensor, xb: torch.Tensor, clip: float = 0.0) -> dict[str, float]:
    """One DRIT update (update_D then update_EG); returns every named loss."""
    model.train()
    f = model.forward_pass(xa, xb)
    loss_dc = content_discriminator_step(model, opts, f, clip)

    opts["domain_discriminators"].zero_grad(set_to_none=True)
    loss_d = model.domain_discriminator_loss(xa, xb, f)  # on detached fakes
    loss_d.backward()
    opts["domain_discriminators"].step()

    # One backward for encoders and generators: the generator-only losses (DRIT's backward_G_alone)
    # reach only the generators (and E_c if g_alone_moves_content) by construction, not the optimizer.
    eg = model.encoder_generator_losses(xa, xb, f)
    g_only = model.generator_only_losses(f)
    opts["encoders"].zero_grad(set_to_none=True)
    opts["generators"].zero_grad(set_to_none=True)
    (sum(eg.values()) + sum(g_only.values())).backward()
    opts["encoders"].step()
    opts["generators"].step()
    out = {"content_dis": loss_dc.item(), "domain_dis": loss_d.item()}
    out |= {k: v.item() for k, v in eg.items()} | {k: v.item() for k, v in g_only.items()}
    for term in f.get("kl_terms", {}).get("a", {}):   # the hierarchical KL's terms, summed over the domains
        out[f"kl_{term}"] = sum(terms[term].item() for terms in f["kl_terms"].values())
    return out


def batch_for_step(data: ImageData, step: int, batch_size: int, seed: int, device,
                   extra: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The step's batch of both domains; extra > 0: the step's k-th extra batch (its own random stream)."""
    rng = np.random.default_rng([seed, step] + ([extra] if extra else []))
    a, b = data.splits["a_train"].images, data.splits["b_train"].images
    ia, ib = rng.integers(len(a), size=batch_size), rng.integers(len(b), size=batch_size)
    return to_tensor(a[ia]).to(device), to_tensor(b[ib]).to(device)


def run_fingerprint(model: DRIT, data: ImageData, cfg: TranslationTrainConfig, seed: int) -> str:
    """What a partial run must share with this one to be resumed: everything but the logging and
    checkpoint intervals (the iteration count too, since the learning-rate decay depends on it)."""
    schedule = {k: v for k, v in asdict(cfg).items() if k not in ("log_every", "checkpoint_every")}
    return fingerprint(seed, asdict(model.cfg), schedule, data.splits["a_train"].images, data.splits["b_train"].images)


def fit(model: DRIT, data: ImageData, cfg: TranslationTrainConfig, seed: int, device, name: str,
        on_log=None, resume: str | Path | None = None) -> list[dict]:
    """Train for cfg.iterations steps; `on_log(row)` every log_every steps. `resume`: a partial
    checkpoint written every checkpoint_every steps and continued from when it is this run's."""
    opts = make_optimizers(model, cfg)
    model.train_size = {d: len(data.splits[f"{d}_train"]) for d in ("a", "b")}
    if model.cfg.lambda_background:
        model.set_background_range({d: background_range(data.splits[f"{d}_train"].images) for d in ("a", "b")})

    rank = distributed.rank()

    def batch(k: int, extra: int = 0):
        """This rank's share of the step's global batch (all of it in one process)."""
        return [distributed.shard(x) for x in batch_for_step(data, k, cfg.batch_size, seed, device, extra)]

    def step(s: int) -> dict:
        k = s - 1                                   # the 0-based step keys the noise and the batches
        torch.manual_seed(hash((seed, k) + ((rank,) if rank else ())) % (2**63))
        for extra in range(1, cfg.content_dis_extra + 1):
            content_discriminator_only(model, opts, *batch(k, extra), cfg.content_dis_clip)
        return train_step(model, opts, *batch(k), cfg.content_dis_clip)

    loop = Loop(model, opts, cfg.iterations, step, lambda s, window, _: {"step": s} | mean_losses(window),
                log_every=cfg.log_every, lr=lambda s: learning_rates(cfg, s - 1),
                describe=lambda r: f"cycle {r['cycle']:.3f} recon {r['recon']:.3f} D {r['domain_dis']:.3f} "
                                   f"Dc {r['content_dis']:.3f}")
    plan = Resume(Path(resume), run_fingerprint(model, data, cfg, seed), cfg.checkpoint_every) if resume else None
    return train(loop, name, plan, on_log).history
