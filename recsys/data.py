"""The recommender's data stage: its config (params.yaml `prepare_interactions`) and where the raw
interactions come from: the embedded generator or a user's files (recsys.loaders). The split itself
is recsys.split. Nothing here imports a model, so a model edit leaves prepared data up to date."""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.config import ConfigError, rule
from recsys.loaders import Interactions, load_interactions
from recsys.split import SplitConfig
from recsys.synthetic import SyntheticConfig, generate

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


def raw_interactions(cfg: PrepareInteractions) -> Interactions:
    """The interactions `cfg` names, before the split."""
    if cfg.source == "synthetic":
        return generate(cfg.synthetic, cfg.seed)
    return load_interactions(cfg.source, cfg.path)
