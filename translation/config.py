"""The typed configs of the image-translation stages (params.yaml blocks of the same names)."""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.config import TorchStage, rule
from translation.classifier import ClassifierConfig
from translation.datasets import SOURCES, FoldersConfig, GlyphsConfig, MnistMConfig
from translation.drit import DRITConfig
from translation.train import TranslationTrainConfig


@dataclass(frozen=True)
class PrepareImages:
    source: str = field(default="mnist_m", metadata=rule(choices=SOURCES))
    seed: int = 0
    size: int = field(default=32, metadata=rule(choices=[32]))   # the model's fixed input size
    mnist_m: MnistMConfig = field(default_factory=MnistMConfig)
    glyphs: GlyphsConfig = field(default_factory=GlyphsConfig)
    folders: FoldersConfig = field(default_factory=FoldersConfig)


@dataclass(frozen=True)
class TrainTranslation(TorchStage):
    model: DRITConfig = field(default_factory=DRITConfig)
    train: TranslationTrainConfig = field(default_factory=TranslationTrainConfig)
    resume: bool = True     # continue from models/translation/drit.pt when its config matches


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
