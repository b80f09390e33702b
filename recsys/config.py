"""The typed configs of the recommender stages (params.yaml blocks of the same names)."""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.config import ConfigError, TorchStage, rule
from pipeline.distributed import DistributedConfig
from recsys.macridvae import MacridVAEConfig
from recsys.multvae import MultVAEConfig
from recsys.split import SplitConfig
from recsys.synthetic import SyntheticConfig
from recsys.train import TrainConfig

SOURCES = ("synthetic", "movielens", "recbole", "csv")


@dataclass(frozen=True)
class PrepareInteractions:
    source: str = field(default="synthetic", metadata=rule(choices=SOURCES))
    path: str = ""  # folder (movielens), prefix or folder (recbole), file (csv)
    seed: int = 0
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    split: SplitConfig = field(default_factory=SplitConfig)

    def check(self):
        if self.source != "synthetic" and not self.path:
            raise ConfigError(f"path: required for source '{self.source}'")


@dataclass(frozen=True)
class TrainRecsys(TorchStage):
    model: MacridVAEConfig = field(default_factory=MacridVAEConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)


@dataclass(frozen=True)
class EvaluateRecsys(TorchStage):
    multvae: MultVAEConfig = field(default_factory=MultVAEConfig)
    multvae_train: TrainConfig = field(default_factory=TrainConfig)
    ease_lambdas: list[float] = field(default_factory=lambda: [50.0, 200.0, 500.0], metadata=rule(gt=0))
    ease_max_items: int = field(default=20000, metadata=rule(ge=1))
    traversal_steps: int = field(default=7, metadata=rule(ge=2, le=21))


@dataclass(frozen=True)
class IndexRecsys:
    factory: str = "Flat"  # FAISS index-factory string for the item embeddings
    nprobe: int = field(default=16, metadata=rule(ge=1))
    oversample: int = field(default=1, metadata=rule(ge=1))   # lossy (PQ) codes: lists start this many times deeper
