"""The typed configs of the image-translation stages (params.yaml blocks of the same names)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.config import ConfigError, TorchStage, from_dict, rule
from pipeline.distributed import DistributedConfig
from translation.images.classifier import ClassifierConfig
from translation.images.sources import SOURCES, FoldersConfig, GlyphsConfig, MnistMConfig
from translation.images.model import DRITConfig
from translation.images.train import TranslationTrainConfig


@dataclass(frozen=True)
class PrepareImages:
    source: str = field(default="mnist_m", metadata=rule(choices=SOURCES))
    seed: int = 0
    size: int = field(default=32, metadata=rule(choices=[32]))   # the model's fixed input size
    mnist_m: MnistMConfig = field(default_factory=MnistMConfig)
    glyphs: GlyphsConfig = field(default_factory=GlyphsConfig)
    folders: FoldersConfig = field(default_factory=FoldersConfig)


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
    content_pool: int = field(default=4, metadata=rule(ge=1, le=8))   # content map pooled to pool×pool
    grid_inputs: int = field(default=8, metadata=rule(ge=1, le=32))
    grid_codes: int = field(default=8, metadata=rule(ge=1, le=32))


@dataclass(frozen=True)
class IndexTranslation:
    factory: str = "Flat"
    nprobe: int = field(default=8, metadata=rule(ge=1))
    content_pool: int = field(default=4, metadata=rule(ge=1, le=8))
    k: int = field(default=10, metadata=rule(ge=1))
