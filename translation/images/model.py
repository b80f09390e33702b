"""DRIT / DRIT++ (Lee et al., ECCV 2018; IJCV 2020) scaled for a CPU: content/attribute translation.

Reads from small parts to the whole:
  blocks → content encoders (per domain, last block shared) → attribute encoders (Gaussian posterior)
  → generators (content + attribute, the attribute concatenated to every upsampling stage and the
  output layer, as in DRIT's concat generator; optionally StyleGAN's per-pixel noise inputs, which
  DRIT does not have) → domain discriminators (one for encoded-attribute fakes, one for random-attribute
  fakes) → the content discriminator → DRIT, whose `losses` returns every named loss of one step.

Images are (N, 3, S, S) in [-1, 1] with S divisible by 2^d; content codes are (N, w·2^d, S/2^d, S/2^d) maps
(d = `downsamples`).
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from pipeline.config import ConfigError
from pipeline.hierarchical_kl import decomposed_kl, weighted
from translation.images.background import background_stats_torch
from translation.images.config import DRITConfig

DOMAINS = ("a", "b")


# ---------------------------------------------------------------- blocks
def conv_block(cin: int, cout: int, k: int, s: int, norm: bool = True, act: str = "relu") -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, k, s, padding=(k - 1) // 2 if s == 1 else (k - s + 1) // 2,
                        padding_mode="reflect" if s == 1 else "zeros")]
    if norm:
        layers.append(nn.InstanceNorm2d(cout, affine=False))
    layers.append(nn.LeakyReLU(0.2, inplace=True) if act == "lrelu" else nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class ResBlock(nn.Module):
    """Two 3×3 convs with instance norm and a skip (DRIT's INSResBlock)."""

    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, 1, 1, padding_mode="reflect"), nn.InstanceNorm2d(ch), nn.ReLU(inplace=True),
            nn.Conv2d(ch, ch, 3, 1, 1, padding_mode="reflect"), nn.InstanceNorm2d(ch))

    def forward(self, x):
        return x + self.body(x)


class NoiseInjection(nn.Module):
    """StyleGAN's noise input: one map of unit Gaussian noise per image, added to every channel with a
    learned per-channel scale. A global code can only shift whole channels; this gives the generator
    a source of per-pixel variation (photo texture) to shape."""

    def __init__(self, ch: int, scale: float):
        super().__init__()
        self.scale = nn.Parameter(torch.full((1, ch, 1, 1), scale))

    def forward(self, x, generator=None):
        n, _, h, w = x.shape
        noise = torch.randn((n, 1, h, w), generator=generator, device="cpu" if generator is not None else x.device)
        return x + self.scale * noise.to(x.device, x.dtype)


class CodeConv(nn.Module):
    """A 3×3 conv over [x, the code z tiled over the map] (DRIT's concat). With reflect padding the
    tiled code is constant, so its share of the conv is exactly a per-channel shift linear in z; it
    is computed that way, which spares the conv the code's channels."""

    def __init__(self, cin: int, cout: int, zdim: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1, padding_mode="reflect")
        self.code = nn.Linear(zdim, cout, bias=False)

    def forward(self, x, z):
        return self.conv(x) + self.code(z)[:, :, None, None]


# ---------------------------------------------------------------- encoders
class ContentEncoder(nn.Module):
    """Domain-specific stem and blocks; `shared` (the last block) is the same module in both domains.
    In training, DRIT adds unit Gaussian noise to the code: the generators learn to read only what
    survives it, and the content discriminator cannot rely on tiny domain-specific values."""

    def __init__(self, w: int, down: int, blocks: int, shared: nn.Module, noise: float):
        super().__init__()
        self.stem = nn.Sequential(conv_block(3, w, 7, 1, act="lrelu"),
                                  *[conv_block(w << i, w << (i + 1), 3, 2) for i in range(down)],
                                  *[ResBlock(w << down) for _ in range(blocks - 1)])
        self.shared = shared
        self.noise = noise

    def clean(self, x):
        """The code without the training noise: what search and the domain adversaries read."""
        return self.shared(self.stem(x))

    def add_noise(self, c):
        return c + self.noise * torch.randn_like(c) if self.training and self.noise > 0 else c

    def forward(self, x):
        return self.add_noise(self.clean(x))


class AttributeEncoder(nn.Module):
    """x → (mu, logvar) of a Gaussian attribute posterior (no norm layers: style must survive).

    With `map_channels` > 0 the code has a second part: a map_channels × map_size × map_size map of
    Gaussian codes read from the same features before pooling, flattened after the global vector. It is
    where a domain's spatially varying look (MNIST-M's photo backgrounds) can go when one global vector
    cannot carry it, so that the content map need not; the KL and the latent regression treat it as
    any other attribute dimension."""

    def __init__(self, w: int, zdim: int, map_channels: int = 0, map_size: int = 4):
        super().__init__()
        self.body = nn.Sequential(conv_block(3, w, 4, 2, norm=False, act="lrelu"),
                                  conv_block(w, 2 * w, 4, 2, norm=False, act="lrelu"),
                                  conv_block(2 * w, 4 * w, 4, 2, norm=False, act="lrelu"))
        self.mu, self.logvar = nn.Linear(4 * w, zdim), nn.Linear(4 * w, zdim)
        self.map = nn.Conv2d(4 * w, 2 * map_channels, 1) if map_channels else None
        self.map_size = map_size

    def forward(self, x):
        h = self.body(x)
        g = F.adaptive_avg_pool2d(h, 1).flatten(1)
        mu, logvar = self.mu(g), self.logvar(g)
        if self.map is not None:
            m_mu, m_logvar = F.adaptive_avg_pool2d(self.map(h), self.map_size).chunk(2, dim=1)
            mu, logvar = torch.cat([mu, m_mu.flatten(1)], 1), torch.cat([logvar, m_logvar.flatten(1)], 1)
        return mu, logvar.clamp(-10, 10)


# ---------------------------------------------------------------- generator
class Generator(nn.Module):
    """(content map, attribute code) → image, the code concatenated to every upsampling stage (DRIT's G_concat).
    `shared` is DRIT's dec_share, the first block, common to both domains' generators. With a spatial
    attribute map (`map_channels`), the code's map part is upsampled to each stage and added through a
    1×1 conv, after the residual blocks and at every upsampling stage and the output."""

    def __init__(self, w: int, down: int, zdim: int, blocks: int, shared: nn.Module, noise: float = 0.0,
                 map_channels: int = 0, map_size: int = 4):
        super().__init__()
        self.shared = shared
        self.zdim, self.map_shape = zdim, (map_channels, map_size, map_size)
        # The code does not enter the residual blocks: concatenated there, as in DRIT, its share of
        # each conv is a per-channel constant that the instance norm after it removes.
        self.blocks = nn.ModuleList([ResBlock(w << down) for _ in range(blocks)])
        # Upsampling by nearest neighbours then a 3×3 conv: DRIT's 3×3 transposed convs striped the
        # outputs and 4×4 ones left a checkerboard that a short CPU run never trains away. The 3×3
        # output layer stands for DRIT's 1×1 (a 7×7 one cost a quarter of a CPU training step).
        self.ups = nn.ModuleList([CodeConv(w << i, w << (i - 1), zdim) for i in range(down, 0, -1)])
        self.out = CodeConv(w, 3, zdim)
        # Optional noise inputs, after the residual blocks and after each upsampling conv.
        self.noise = nn.ModuleList([NoiseInjection(w << i, noise) for i in range(down, -1, -1)]) if noise else None
        # Optional spatial code: one 1×1 conv per place it enters (the blocks' output, each upsampling, the output).
        self.maps = nn.ModuleList([nn.Conv2d(map_channels, ch, 1, bias=False)
                                   for ch in [w << (i - 1) for i in range(down, 0, -1)] + [w << down, 3]]) if map_channels else None

    def _map(self, k: int, h, zmap):
        if self.maps is None:
            return h
        return h + self.maps[k](F.interpolate(zmap, size=h.shape[-2:], mode="bilinear", align_corners=False))

    def forward(self, content, z, generator=None):
        zmap = z[:, self.zdim:].reshape(len(z), *self.map_shape) if self.maps is not None else None
        z = z[:, :self.zdim]
        h = self.shared(content)
        for block in self.blocks:
            h = block(h)
        h = self._map(-2, h, zmap)
        if self.noise is not None:
            h = self.noise[0](h, generator)
        for k, up in enumerate(self.ups):
            h = self._map(k, up(F.interpolate(h, scale_factor=2, mode="nearest"), z), zmap)
            if self.noise is not None:
                h = self.noise[k + 1](h, generator)
            h = F.relu(F.layer_norm(h, h.shape[1:]))  # DRIT uses LayerNorm in the upsampling path
        return torch.tanh(self._map(-1, self.out(h, z), zmap))


# ---------------------------------------------------------------- discriminators
class DomainDiscriminator(nn.Module):
    """Patch discriminators: image → one map of real/fake logits per scale (DRIT++'s multi-scale
    discriminator: scale k sees the image average-pooled k times); spectral norm as DRIT++'s option."""

    def __init__(self, w: int, spectral: bool, scales: int = 1):
        super().__init__()
        self.scales = nn.ModuleList([self._patch_net(w, spectral) for _ in range(scales)])

    @staticmethod
    def _patch_net(w: int, spectral: bool) -> nn.Sequential:
        body = nn.Sequential(conv_block(3, w, 4, 2, norm=False, act="lrelu"),
                             conv_block(w, 2 * w, 4, 2, norm=False, act="lrelu"),
                             conv_block(2 * w, 4 * w, 4, 2, norm=False, act="lrelu"),
                             nn.Conv2d(4 * w, 1, 1))
        if spectral:
            for m in body.modules():
                if isinstance(m, nn.Conv2d):
                    nn.utils.parametrizations.spectral_norm(m)
        return body

    def forward(self, x) -> list[torch.Tensor]:
        maps = []
        for k, net in enumerate(self.scales):
            if k:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            maps.append(net(x))
        return maps


class ContentDiscriminator(nn.Module):
    """Content map → logit that it came from domain A (the content encoders try to make it 0.5)."""

    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(conv_block(ch, ch, 3, 2, norm=False, act="lrelu"),
                                  conv_block(ch, ch, 3, 2, norm=False, act="lrelu"),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(ch, 1))

    def forward(self, c):
        return self.body(c)


class RollingBank(nn.Module):
    """The last `size` rows of one or more tensors seen in training, detached, newest first. Buffers,
    so a checkpoint keeps them and a resumed run continues exactly."""

    def __init__(self, size: int, dim: int, names: tuple[str, ...]):
        super().__init__()
        self.names = names
        for n in names:
            self.register_buffer(n, torch.zeros(size, dim))
        self.register_buffer("filled", torch.zeros((), dtype=torch.long))

    def with_batch(self, *rows: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Each tensor's batch rows followed by the bank's; then the batch joins the bank (oldest out)."""
        k = int(self.filled)
        banks = [getattr(self, n) for n in self.names]
        out = tuple(torch.cat([r, b[:k]]) for r, b in zip(rows, banks))
        size = len(banks[0])
        if size:
            for r, b in zip(rows, banks):
                b.copy_(torch.cat([r.detach(), b])[:size])
            self.filled.fill_(min(size, k + len(rows[0])))
        return out


class SearchAdversary(nn.Module):
    """A domain classifier on the search vector, the code that search and DA read: the clean content
    map pooled to pool×pool, less a running mean of its domain, L2-normalised (serve.ContentIndexes
    centres on the training mean; the running mean follows it as the encoder moves).

    DRIT's content discriminator sees each step's 8 maps per domain; this one is trained on a bank of
    the last `bank` search vectors of each domain beside the batch's, so every update sees hundreds of
    codes of both domains and their differences in spread and shape, not only in mean. The encoders
    answer it as they answer the content discriminator: make it say 0.5 for the batch's vectors."""

    def __init__(self, ch: int, pool: int, bank: int, hidden: int = 128, momentum: float = 0.99):
        super().__init__()
        dim = ch * pool * pool
        self.pool, self.momentum = pool, momentum
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, 1))
        for d in DOMAINS:
            self.register_buffer(f"mean_{d}", torch.zeros(dim))
        self.banks = nn.ModuleDict({d: RollingBank(bank, dim, ("v",)) for d in DOMAINS})

    def vectors(self, c: torch.Tensor, domain: str) -> torch.Tensor:
        """Clean content maps → unit search vectors; in training, the domain's running mean moves first."""
        v = F.adaptive_avg_pool2d(c, self.pool).flatten(1)
        mean = getattr(self, f"mean_{domain}")
        if self.training:
            with torch.no_grad():
                batch = v.mean(0)
                first = self.banks[domain].filled == 0
                mean.copy_(torch.where(first, batch, self.momentum * mean + (1 - self.momentum) * batch))
        return F.normalize(v - mean, dim=1)

    def discriminator_loss(self, sa: torch.Tensor, sb: torch.Tensor) -> torch.Tensor:
        """BCE of the domain (a: 1) on the batch's detached vectors and the bank's; then the batch joins
        its domain's bank (oldest out)."""
        return sum(bce(self.net(self.banks[d].with_batch(v.detach())[0]), target)
                   for d, v, target in (("a", sa, 1.0), ("b", sb, 0.0)))

    def encoder_loss(self, sa: torch.Tensor, sb: torch.Tensor) -> torch.Tensor:
        return bce(self.net(sa), 0.5) + bce(self.net(sb), 0.5)


def bce(logits: torch.Tensor | list[torch.Tensor], target: float) -> torch.Tensor:
    """BCE with logits against a constant target; for a list (one map per discriminator scale) the
    scales' losses are summed, as DRIT++ does."""
    if isinstance(logits, list):
        return sum(bce(m, target) for m in logits)
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


@contextmanager
def frozen(*modules: nn.Module):
    """Graphs built inside reach these modules' inputs but not their parameters: a backward pass goes
    through them and computes no weight gradients, which no optimizer of that loss would use."""
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def lowpass_l1(x: torch.Tensor, target: torch.Tensor, k: int) -> torch.Tensor:
    """L1 between images average-pooled k×k (k = 1: the plain L1)."""
    if k > min(x.shape[-2:]):
        raise ConfigError(f"recon_lowpass: {k} is larger than the {x.shape[-1]}-pixel images it would pool")
    return F.l1_loss(F.avg_pool2d(x, k), F.avg_pool2d(target, k)) if k > 1 else F.l1_loss(x, target)


def kl_standard_normal(mu, logvar) -> torch.Tensor:
    return 0.5 * torch.mean(torch.sum(mu.pow(2) + logvar.exp() - 1 - logvar, dim=1))


class PosteriorBank(RollingBank):
    """The last `size` attribute posteriors (means `mu`, log-variances `logvar`) seen in training: with
    DRIT's batches of 8, the batch alone estimates the aggregate densities of the hierarchical KL poorly."""

    def __init__(self, size: int, dim: int):
        super().__init__(size, dim, ("mu", "logvar"))


# ---------------------------------------------------------------- the whole model
class DRIT(nn.Module):
    """Both domains' encoders and generators, and the discriminators, with DRIT's losses.

    Parameter groups (each has its own optimizer in training): `encoders`, `generators`,
    `domain_discriminators` (enc + rand branch per domain), `content_discriminator`.
    """

    def __init__(self, cfg: DRITConfig):
        super().__init__()
        self.cfg = cfg
        w, z, down = cfg.width, cfg.attr_dim, cfg.downsamples
        enc_shared, gen_shared = ResBlock(w << down), ResBlock(w << down)
        self.content = nn.ModuleDict({d: ContentEncoder(w, down, cfg.content_blocks, enc_shared, cfg.content_noise)
                                      for d in DOMAINS})
        self.attribute = nn.ModuleDict({d: AttributeEncoder(w, z, cfg.attr_map, cfg.attr_map_size) for d in DOMAINS})
        self.generator = nn.ModuleDict({d: Generator(w, down, z, cfg.gen_blocks, gen_shared, cfg.gen_noise,
                                                     cfg.attr_map, cfg.attr_map_size) for d in DOMAINS})
        self.dis_enc = nn.ModuleDict({d: DomainDiscriminator(w, cfg.spectral_norm, cfg.dis_scales) for d in DOMAINS})
        self.dis_rand = nn.ModuleDict({d: DomainDiscriminator(w, cfg.spectral_norm, cfg.dis_scales) for d in DOMAINS})
        self.dis_content = ContentDiscriminator(w << down)
        self.search_adversary = (SearchAdversary(w << down, cfg.search_pool, cfg.search_bank)
                                 if cfg.lambda_search_adv else None)
        if cfg.hierarchical:
            self.banks = nn.ModuleDict({d: PosteriorBank(cfg.kl_bank, z) for d in DOMAINS})
        if cfg.lambda_background:   # per domain: low, high of each background statistic (set by fit)
            self.register_buffer("background_range", torch.full((len(DOMAINS), 2, 4), float("nan")))
        self.train_size = {d: 0 for d in DOMAINS}   # training images per domain (set by fit): the KL estimator's N

    # ---- parameter groups
    def encoders(self):
        return list(self.content.parameters()) + list(self.attribute.parameters())

    def generators(self):
        return list(self.generator.parameters())

    def domain_discriminators(self):
        return list(self.dis_enc.parameters()) + list(self.dis_rand.parameters())

    def content_discriminator(self):
        """The content discriminator and the search vectors' domain adversary: one optimizer, one schedule."""
        extra = list(self.search_adversary.parameters()) if self.search_adversary is not None else []
        return list(self.dis_content.parameters()) + extra

    @property
    def code_dim(self) -> int:
        """The attribute code's size: the global vector, then the flattened spatial map (if any)."""
        return self.cfg.attr_dim + self.cfg.attr_map * self.cfg.attr_map_size ** 2

    def set_background_range(self, ranges: dict[str, tuple]) -> None:
        """Each domain's (low, high) background statistics of its real training images (background.py)."""
        for i, d in enumerate(DOMAINS):
            self.background_range[i] = torch.as_tensor(np.stack(ranges[d]), dtype=torch.float32)

    def background_excess(self, x: torch.Tensor, domain: str) -> torch.Tensor:
        """How far images of `domain` lie outside its real background range, summed over the statistics,
        meaned over the images (0 inside it)."""
        lo, hi = self.background_range[DOMAINS.index(domain)]
        if torch.isnan(lo).any():
            raise RuntimeError("lambda_background: the background range is unset; fit() sets it from the data")
        s = background_stats_torch(x)
        return (F.relu(lo - s) + F.relu(s - hi)).sum(1).mean()

    # ---- the API
    def encode_content(self, x, domain: str):
        return self.content[domain](x)

    def encode_attribute(self, x, domain: str, sample: bool = False, generator=None):
        mu, logvar = self.attribute[domain](x)
        if not sample:
            return mu
        eps = torch.randn(mu.shape, generator=generator, device=mu.device)
        return mu + eps * torch.exp(0.5 * logvar)

    def decode(self, content, z, domain: str, generator=None):
        return self.generator[domain](content, z, generator)

    def random_attribute(self, n: int, device=None, generator=None):
        return torch.randn(n, self.code_dim, generator=generator, device=device)

    @torch.no_grad()
    def translate(self, x, direction: str, z=None, reference=None, n: int = 1, generator=None):
        """x (N, 3, S, S) → (N, n, 3, S, S) in the other domain: under the codes `z` (n, code_dim),
        under the posterior means of `reference` images (one per input, n = 1), or under n prior draws."""
        src, dst = direction[0], direction[-1]
        if direction not in ("a2b", "b2a"):
            raise ValueError(f"direction: must be 'a2b' or 'b2a', got {direction!r}")
        content = self.encode_content(x, src)
        if reference is not None:
            z = self.encode_attribute(reference, dst)[:, None]                       # (N, 1, zdim)
        else:
            if z is None:
                z = self.random_attribute(n, device=x.device, generator=generator)
            if z.dim() != 2 or z.shape[1] != self.code_dim:
                raise ValueError(f"z: attribute codes must be (n, {self.code_dim}), got {tuple(z.shape)}")
            z = z[None].expand(len(x), -1, -1)                                       # (N, n, zdim)
        k = z.shape[1]
        out = self.decode(content.repeat_interleave(k, 0), z.reshape(-1, z.shape[-1]), dst, generator)
        return out.reshape(len(x), k, *x.shape[1:])

    # ---- training losses
    def content_codes(self, xa, xb) -> dict[str, torch.Tensor]:
        """Both domains' content maps as the generators read them (with the training noise) and, with a
        search adversary, their clean search vectors (sa, sb)."""
        clean = {d: self.content[d].clean(x) for d, x in (("a", xa), ("b", xb))}
        f = {f"c{d}": self.content[d].add_noise(c) for d, c in clean.items()}
        if self.search_adversary is not None:
            f |= {f"s{d}": self.search_adversary.vectors(c, d) for d, c in clean.items()}
        return f

    def forward_pass(self, xa, xb):
        """Everything one step needs: codes, the fakes of both kinds, and the cross-cycle reconstructions."""
        n = xa.shape[0]
        f = self.content_codes(xa, xb)
        ca, cb = f["ca"], f["cb"]
        mua, lva = self.attribute["a"](xa)
        mub, lvb = self.attribute["b"](xb)
        za = mua + torch.randn_like(mua) * torch.exp(0.5 * lva)   # reparameterized posterior samples
        zb = mub + torch.randn_like(mub) * torch.exp(0.5 * lvb)
        zr = torch.randn(2 * n, self.code_dim, device=xa.device)  # two random codes per input
        # One generator call per domain: [cross (encoded attr), self-recon, random 1, random 2]. The
        # random-attribute fakes feed only the generator-only losses: their content is detached
        # unless those losses are to move the content encoders too (DRIT's update_EG).
        ca_g, cb_g = (ca, cb) if self.cfg.g_alone_moves_content else (ca.detach(), cb.detach())
        out_a = self.generator["a"](torch.cat([cb, ca, cb_g, cb_g]), torch.cat([za, za, zr]))
        out_b = self.generator["b"](torch.cat([ca, cb, ca_g, ca_g]), torch.cat([zb, zb, zr]))
        fake_a, recon_a, rand_a = out_a[:n], out_a[n:2 * n], out_a[2 * n:]
        fake_b, recon_b, rand_b = out_b[:n], out_b[n:2 * n], out_b[2 * n:]
        # Cross cycle: encode the fakes and swap back (fake_a carries b's content and a's attribute).
        cb2, ca2 = self.content["a"](fake_a), self.content["b"](fake_b)
        za2, _ = self.attribute["a"](fake_a)
        zb2, _ = self.attribute["b"](fake_b)
        cycle_a = self.generator["a"](ca2, za2)
        cycle_b = self.generator["b"](cb2, zb2)
        f |= dict(mua=mua, lva=lva, mub=mub, lvb=lvb, zr=zr, fake_a=fake_a, fake_b=fake_b,
                 recon_a=recon_a, recon_b=recon_b, rand_a=rand_a, rand_b=rand_b, cycle_a=cycle_a, cycle_b=cycle_b,
                 ca2=ca2, cb2=cb2)
        if self.cfg.hierarchical:
            f["kl_terms"] = {"a": self.attribute_kl_terms("a", za, mua, lva),
                             "b": self.attribute_kl_terms("b", zb, mub, lvb)}
        return f

    def attribute_kl_terms(self, domain: str, z, mu, logvar) -> dict[str, torch.Tensor]:
        """The decomposed KL of one domain's attribute posteriors (blocks of attr_dim / attr_blocks dims)."""
        blocks = (self.cfg.attr_blocks, self.cfg.attr_dim // self.cfg.attr_blocks)
        mus, logvars = self.banks[domain].with_batch(mu, logvar)
        return decomposed_kl(z.view(len(z), *blocks), mus.view(len(mus), *blocks), logvars.view(len(mus), *blocks),
                             0.0, self.train_size[domain])

    def content_discriminator_loss(self, f):
        loss = bce(self.dis_content(f["ca"].detach()), 1.0) + bce(self.dis_content(f["cb"].detach()), 0.0)
        if self.search_adversary is not None:
            loss = loss + self.search_adversary.discriminator_loss(f["sa"], f["sb"])
        return loss

    def domain_discriminator_loss(self, xa, xb, f):
        """Each discriminator judges real and (detached) fake images in one call: one pass of its
        small networks and one power iteration of its spectral norms per step."""
        loss = 0.0
        for d, real in (("a", xa), ("b", xb)):
            for dis, fake in ((self.dis_enc[d], f[f"fake_{d}"]), (self.dis_rand[d], f[f"rand_{d}"])):
                maps, n = dis(torch.cat([real, fake.detach()])), len(real)
                loss = loss + bce([m[:n] for m in maps], 1.0) + bce([m[n:] for m in maps], 0.0)
        return loss

    def encoder_generator_losses(self, xa, xb, f) -> dict[str, torch.Tensor]:
        """DRIT's backward_EG: adversarial (content, encoded-attribute domain), cycle, recon, KL, L2.
        The discriminators are frozen: these losses pass through them to the codes and fakes."""
        c, dc = self.cfg, self.dis_content
        with frozen(self.dis_content, self.dis_enc):
            losses = {
                # the content encoders fool D_c by making it answer 0.5 for both domains
                "content_adv": c.lambda_content_adv * (bce(dc(f["ca"]), 0.5) + bce(dc(f["cb"]), 0.5)),
                "domain_adv": c.lambda_domain_adv * (bce(self.dis_enc["a"](f["fake_a"]), 1.0)
                                                     + bce(self.dis_enc["b"](f["fake_b"]), 1.0)),
                "cycle": c.lambda_cycle * (lowpass_l1(f["cycle_a"], xa, c.recon_lowpass)
                                           + lowpass_l1(f["cycle_b"], xb, c.recon_lowpass)),
                "recon": c.lambda_recon * (lowpass_l1(f["recon_a"], xa, c.recon_lowpass)
                                           + lowpass_l1(f["recon_b"], xb, c.recon_lowpass)),
                "kl": c.lambda_kl * (weighted(f["kl_terms"]["a"], c) + weighted(f["kl_terms"]["b"], c)
                                     if c.hierarchical else
                                     kl_standard_normal(f["mua"], f["lva"]) + kl_standard_normal(f["mub"], f["lvb"])),
                "content_l2": c.lambda_content_l2 * (f["ca"].pow(2).mean() + f["cb"].pow(2).mean()),
            }
        if self.search_adversary is not None:
            with frozen(self.search_adversary):
                losses["search_adv"] = c.lambda_search_adv * self.search_adversary.encoder_loss(f["sa"], f["sb"])
        if c.lambda_content_consistency:
            losses["content_consistency"] = c.lambda_content_consistency * (
                F.mse_loss(f["ca2"], f["ca"]) + F.mse_loss(f["cb2"], f["cb"]))
        return losses

    def generator_only_losses(self, f) -> dict[str, torch.Tensor]:
        """DRIT's backward_G_alone (+ DRIT++ mode seeking): these update the generators, and the content
        encoders only with `g_alone_moves_content` (else forward_pass detached the random-attribute
        fakes' content). The attribute encoders of the latent regression and the discriminators are frozen."""
        c, n = self.cfg, f["ca"].shape[0]
        with frozen(self.dis_rand, self.attribute):
            losses = {"domain_adv_random": c.lambda_domain_adv * (
                bce(self.dis_rand["a"](f["rand_a"]), 1.0) + bce(self.dis_rand["b"](f["rand_b"]), 1.0))}
            latent = 0.0
            for d in DOMAINS:
                mu, _ = self.attribute[d](f[f"rand_{d}"])
                latent = latent + F.l1_loss(mu, f["zr"])
        losses["latent"] = c.lambda_latent * latent
        # Mode seeking (DRIT++): image distance per unit of code distance between the two random
        # codes, as a ratio of means; its inverse is the loss, so collapsed outputs cost the most.
        dz = (f["zr"][:n] - f["zr"][n:]).abs().mean()
        ms = 0.0
        for d in DOMAINS:
            r = f[f"rand_{d}"]
            ms = ms + 1.0 / ((r[:n] - r[n:]).abs().mean() / dz + 1e-5)
        losses["mode_seeking"] = c.lambda_mode_seeking * ms
        if c.lambda_background:
            losses["background"] = c.lambda_background * sum(self.background_excess(f[f"rand_{d}"], d) for d in DOMAINS)
        return losses
