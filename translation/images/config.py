"""The typed configs of the image-translation stages after data preparation (params.yaml blocks of
the same names) and of the model, training and judge they run: plain dataclasses, no model code, so
reading a stage's params imports no model. The data stage's config lives with the data code
(translation.images.sources)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.config import ConfigError, DistributedConfig, TorchStage, from_dict, rule
from translation.images.sources import SOURCES


@dataclass(frozen=True)
class DRITConfig:
    width: int = field(default=16, metadata=rule(ge=4))       # channels of the first stage (DRIT: 64)
    attr_dim: int = field(default=8, metadata=rule(ge=1))     # attribute code size (DRIT: 8)
    downsamples: int = field(default=1, metadata=rule(ge=1, le=3))  # content map = image / 2**downsamples
    content_blocks: int = field(default=2, metadata=rule(ge=1))  # residual blocks, the last one shared
    gen_blocks: int = field(default=2, metadata=rule(ge=1))
    lambda_cycle: float = field(default=10.0, metadata=rule(ge=0))
    lambda_recon: float = field(default=10.0, metadata=rule(ge=0))
    lambda_latent: float = field(default=10.0, metadata=rule(ge=0))
    lambda_kl: float = field(default=0.01, metadata=rule(ge=0))
    lambda_content_l2: float = field(default=0.01, metadata=rule(ge=0))   # DRIT's L2 on content codes
    lambda_content_adv: float = field(default=1.0, metadata=rule(ge=0))
    # c(G(c(x), z)) ≈ c(x): an image's content code and its translation's agree (squared error, so the
    # training noise on both codes adds a constant); 0: off, as in DRIT, whose cross-cycle implies it only
    lambda_content_consistency: float = field(default=0.0, metadata=rule(ge=0))
    # self-reconstruction and cross-cycle L1 on images average-pooled k×k (1: full resolution, as DRIT):
    # with k > 1 the content code need not carry the fine texture of its domain (MNIST-M's
    # backgrounds), which the attribute vector cannot, and the generators draw it from z and noise
    recon_lowpass: int = field(default=1, metadata=rule(ge=1))
    lambda_domain_adv: float = field(default=1.0, metadata=rule(ge=0))
    lambda_mode_seeking: float = field(default=1.0, metadata=rule(ge=0))  # DRIT++
    content_noise: float = field(default=1.0, metadata=rule(ge=0))  # std of DRIT's training noise on content
    spectral_norm: bool = True                                      # DRIT++'s --dis_spectral_norm
    dis_scales: int = field(default=3, metadata=rule(ge=1, le=3))   # DRIT++'s --dis_scale: image scales judged
    gen_noise: float = field(default=0.1, metadata=rule(ge=0))      # initial scale of per-pixel noise in the generators (0: none)
    g_alone_moves_content: bool = True  # DRIT's update_EG also steps E_c after backward_G_alone (False: G only)
    # The hierarchical objective on the attribute code (pipeline.hierarchical_kl): `attr_blocks` blocks
    # of attr_dim / attr_blocks dimensions; lambda_kl × the weighted terms replace lambda_kl × KL.
    hierarchical: bool = False
    attr_blocks: int = field(default=4, metadata=rule(ge=1))
    kl_index_code: float = field(default=1.0, metadata=rule(ge=0))   # I(x; z)
    kl_between: float = field(default=1.0, metadata=rule(ge=0))      # TC between attribute blocks
    kl_within: float = field(default=1.0, metadata=rule(ge=0))       # TC within each block
    kl_dimwise: float = field(default=1.0, metadata=rule(ge=0))      # Σ KL(q(z_kj) ‖ p(z_kj))
    kl_bank: int = field(default=256, metadata=rule(ge=0))  # recent posteriors per domain beside the batch's
    # A domain adversary on the search vector (model.SearchAdversary), trained on a bank of the last
    # `search_bank` vectors per domain; the encoders answer it with weight lambda_search_adv (0: off, as DRIT).
    # search_pool is the vector's pooling, as index_translation.content_pool serves it.
    lambda_search_adv: float = field(default=0.0, metadata=rule(ge=0))
    search_pool: int = field(default=4, metadata=rule(ge=1, le=8))
    search_bank: int = field(default=512, metadata=rule(ge=0))
    # A spatial attribute map beside the global vector (model.AttributeEncoder): attr_map channels at
    # attr_map_size × attr_map_size, Gaussian codes like the rest of the attribute (0: none, as DRIT).
    attr_map: int = field(default=0, metadata=rule(ge=0))
    attr_map_size: int = field(default=4, metadata=rule(ge=1, le=8))
    # A prior on the target's background (translation/images/background.py): a prior-draw translation
    # whose border colour or texture leaves the range of the target's real training images pays the
    # distance outside it, weighted by lambda_background (0: off, as DRIT).
    lambda_background: float = field(default=0.0, metadata=rule(ge=0))

    def check(self):
        if self.hierarchical and self.attr_dim % self.attr_blocks:
            raise ConfigError(f"attr_blocks: must divide attr_dim ({self.attr_dim}), got {self.attr_blocks}")
        if self.hierarchical and self.attr_map:
            raise ConfigError("attr_map: the hierarchical objective splits the global attribute vector only; "
                              "set attr_map: 0 or hierarchical: false")


@dataclass(frozen=True)
class TranslationTrainConfig:
    iterations: int = field(default=320, metadata=rule(ge=1))
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


@dataclass(frozen=True)
class ClassifierConfig:
    steps: int = field(default=300, metadata=rule(ge=1))
    batch_size: int = field(default=64, metadata=rule(ge=2))
    lr: float = field(default=1e-3, metadata=rule(gt=0))
    width: int = field(default=16, metadata=rule(ge=4))


# The 2026-11-23 glyph model: mnist_m's later defaults cost glyph content (benchmarks history, Glyphs).
GLYPHS = {"model": {"dis_scales": 1, "gen_noise": 0.0, "g_alone_moves_content": False},
          "train": {"lr": 0.0002, "content_dis_lr_scale": 1.0, "content_dis_clip": 0.0, "content_dis_extra": 0}}


@dataclass(frozen=True)
class TrainTranslation(TorchStage):
    model: DRITConfig = field(default_factory=DRITConfig)
    # Settings that differ for one image source, laid over `model` and `train`:
    # {source: {"model": {key: value}, "train": {key: value}}}.
    by_source: Any = field(default_factory=lambda: {"glyphs": GLYPHS})
    train: TranslationTrainConfig = field(default_factory=TranslationTrainConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    resume: bool = True     # continue from models/translation/drit.pt when its config matches

    def check(self):
        if not isinstance(self.by_source or {}, dict):
            raise ConfigError(f"by_source: must be a mapping of source to settings, got {self.by_source!r}")
        for source in self.by_source or {}:
            if source not in SOURCES:
                raise ConfigError(f"by_source.{source}: unknown source (known: {', '.join(SOURCES)})")
            self.for_source(source)

    def for_source(self, source: str) -> TrainTranslation:
        """The config for images of `source`: its `by_source` settings over `model` and `train`."""
        where = f"by_source.{source}"
        overrides = (self.by_source or {}).get(source) or {}
        if not isinstance(overrides, dict):
            raise ConfigError(f"{where}: must be a mapping, got {overrides!r}")
        block = asdict(self) | {"by_source": {}}
        for part, settings in overrides.items():
            if part not in ("model", "train"):
                raise ConfigError(f"{where}.{part}: only model and train settings can differ by source")
            if not isinstance(settings, dict):
                raise ConfigError(f"{where}.{part}: must be a mapping, got {settings!r}")
            block[part] = block[part] | settings
        return from_dict(TrainTranslation, block, where)


@dataclass(frozen=True)
class EvaluateTranslation(TorchStage):
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    codes_per_input: int = field(default=5, metadata=rule(ge=2))      # attribute codes per input (diversity)
    da_copies: int = field(default=5, metadata=rule(ge=1))            # translations per source image (DA)
    grid_inputs: int = field(default=8, metadata=rule(ge=1, le=32))
    grid_codes: int = field(default=8, metadata=rule(ge=1, le=32))
    # three more DA learners: DANN, source-only without the practitioner's input handling, and
    # translated source under prior attribute draws (bench.translation reports them; ~100 s of the default run)
    diagnostics: bool = False


@dataclass(frozen=True)
class IndexTranslation:
    factory: str = "Flat"
    nprobe: int = field(default=8, metadata=rule(ge=1))
    content_pool: int = field(default=4, metadata=rule(ge=1, le=8))   # the search vector: content map pooled to pool×pool
    k: int = field(default=10, metadata=rule(ge=1))
