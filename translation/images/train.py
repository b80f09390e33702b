"""Training DRIT: one step = (DRIT's d_iter) extra content-discriminator updates on batches of their
own, then content discriminator, domain discriminators, and encoders+generators in one backward.

Each step draws its batch and its noise from generators keyed by (seed, step), so a run resumed
from a checkpoint (model, four optimizers, step counter) takes exactly the step it would have taken.
"""
from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from pipeline.atomic import atomic_path
from pipeline.checkpoint import restore
from pipeline.compute import linear_decay
from pipeline.config import rule
from pipeline.progress import Progress
from translation.images.model import DRIT, DRITConfig
from translation.images.data import ImageData, to_tensor


@dataclass(frozen=True)
class TranslationTrainConfig:
    iterations: int = field(default=480, metadata=rule(ge=1))
    batch_size: int = field(default=8, metadata=rule(ge=2))
    lr: float = field(default=5e-4, metadata=rule(gt=0))
    decay_from: float = field(default=0.5, metadata=rule(ge=0, le=1))  # lr falls linearly to 0 from this fraction (DRIT)
    beta1: float = field(default=0.5, metadata=rule(ge=0, lt=1))
    beta2: float = field(default=0.999, metadata=rule(ge=0, lt=1))
    weight_decay: float = field(default=1e-4, metadata=rule(ge=0))
    # DRIT's content discriminator: its lr is lr / 2.5, its gradient norm clipped at 5, and (d_iter 3)
    # it takes two extra updates on fresh batches per step.
    content_dis_lr_scale: float = field(default=0.4, metadata=rule(gt=0))
    content_dis_clip: float = field(default=5.0, metadata=rule(ge=0))   # 0: no clipping
    content_dis_extra: int = field(default=2, metadata=rule(ge=0, le=4))
    log_every: int = field(default=25, metadata=rule(ge=1))
    checkpoint_every: int = field(default=100, metadata=rule(ge=1))


GROUPS = ("encoders", "generators", "domain_discriminators", "content_discriminator")


def make_optimizers(model: DRIT, cfg: TranslationTrainConfig) -> dict[str, torch.optim.Adam]:
    return {g: torch.optim.Adam(getattr(model, g)(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2),
                                weight_decay=cfg.weight_decay) for g in GROUPS}


def lr_at(cfg: TranslationTrainConfig, step: int) -> float:
    return linear_decay(cfg.lr, step, cfg.iterations, cfg.decay_from)


def set_learning_rates(opts: dict, cfg: TranslationTrainConfig, step: int) -> None:
    for name, opt in opts.items():
        scale = cfg.content_dis_lr_scale if name == "content_discriminator" else 1.0
        for group in opt.param_groups:
            group["lr"] = lr_at(cfg, step) * scale


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
        f = {"ca": model.content["a"](xa), "cb": model.content["b"](xb)}
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
    return out


def batch_for_step(data: ImageData, step: int, batch_size: int, seed: int, device,
                   extra: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The step's batch of both domains; extra > 0: the step's k-th extra batch (its own random stream)."""
    rng = np.random.default_rng([seed, step] + ([extra] if extra else []))
    a, b = data.splits["a_train"].images, data.splits["b_train"].images
    ia, ib = rng.integers(len(a), size=batch_size), rng.integers(len(b), size=batch_size)
    return to_tensor(a[ia]).to(device), to_tensor(b[ib]).to(device)


def save_checkpoint(path: str | Path, model: DRIT, opts: dict, step: int, extra: dict | None = None) -> None:
    """Model, optimizers and step in one file; written through a buffer so equal states give equal bytes."""
    state = {"config": asdict(model.cfg), "model": model.state_dict(), "step": step,
             "optimizers": {k: o.state_dict() for k, o in opts.items()}} | (extra or {})
    buf = io.BytesIO()
    torch.save(state, buf)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())


def load_checkpoint(path: str | Path, device="cpu", train_cfg: TranslationTrainConfig | None = None):
    """→ (model, optimizers or None, step, the whole state dict)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no translation model (run the train_translation stage)")
    try:
        state = torch.load(path, map_location=device, weights_only=False)
        config, weights = state["config"], state["model"]
    except Exception as e:
        raise ValueError(f"{path}: not a DRIT checkpoint ({type(e).__name__}: {e})") from None
    model = restore(path, lambda c: DRIT(DRITConfig(**c)), config, weights, "DRIT", "train_translation").to(device)
    opts = None
    if train_cfg is not None:
        opts = make_optimizers(model, train_cfg)
        for k, o in opts.items():
            o.load_state_dict(state["optimizers"][k])
    model.eval()
    return model, opts, int(state["step"]), state


def fit(model: DRIT, data: ImageData, cfg: TranslationTrainConfig, seed: int, device, name: str,
        opts: dict | None = None, start: int = 0, on_log=None, checkpoint=None) -> list[dict]:
    """Train from step `start` to cfg.iterations; `on_log(step, mean losses)` every log_every steps;
    `checkpoint(step, opts)` every checkpoint_every steps (so a killed run resumes)."""
    opts = opts or make_optimizers(model, cfg)
    progress = Progress(name, cfg.iterations)
    history, window = [], []
    for step in range(start, cfg.iterations):
        torch.manual_seed(hash((seed, step)) % (2**63))
        set_learning_rates(opts, cfg, step)
        for k in range(1, cfg.content_dis_extra + 1):
            content_discriminator_only(model, opts, *batch_for_step(data, step, cfg.batch_size, seed, device, k),
                                       cfg.content_dis_clip)
        xa, xb = batch_for_step(data, step, cfg.batch_size, seed, device)
        window.append(train_step(model, opts, xa, xb, cfg.content_dis_clip))
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.iterations:
            row = {"step": done} | {k: float(np.mean([w[k] for w in window])) for k in window[0]}
            history.append(row)
            window = []
            if on_log:
                on_log(done, row)
            progress.step(done, f"cycle {row['cycle']:.3f} recon {row['recon']:.3f} "
                                f"D {row['domain_dis']:.3f} Dc {row['content_dis']:.3f}")
        if checkpoint and (done % cfg.checkpoint_every == 0 or done == cfg.iterations):
            checkpoint(done, opts)
    model.eval()
    return history
