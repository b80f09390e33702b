"""The typed configs of the recommender's stages after data preparation (params.yaml blocks of the
same names) and of the models and training they run: plain dataclasses, no model code, so reading a
stage's params imports no model. The data stage's config lives with the data code (recsys.data)."""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.config import DistributedConfig, TorchStage, rule


@dataclass(frozen=True)
class MacridVAEConfig:
    concepts: int = field(default=7, metadata=rule(ge=1))  # K
    dim: int = field(default=100, metadata=rule(ge=1))  # d, per concept
    hidden: int = field(default=100, metadata=rule(ge=1))  # the authors' code: d
    tau: float = field(default=0.1, metadata=rule(gt=0))
    std0: float = field(default=0.075, metadata=rule(gt=0))  # prior standard deviation σ0
    dropout: float = field(default=0.5, metadata=rule(ge=0, lt=1))
    gumbel: bool = True
    concept_input_norm: bool = True  # normalize x ⊙ c_k per concept (authors' code) or x once (RecBole)
    # The hierarchical objective (pipeline.hierarchical_kl; a block = a concept's d dimensions): β times
    # the weighted KL terms instead of β·KL. All weights 1 is the KL itself (its μ-free part + a constant).
    hierarchical: bool = False
    kl_index_code: float = field(default=1.0, metadata=rule(ge=0))   # I(x; z)
    kl_between: float = field(default=1.0, metadata=rule(ge=0))      # TC between concept blocks
    kl_within: float = field(default=1.0, metadata=rule(ge=0))       # TC within each block
    kl_dimwise: float = field(default=1.0, metadata=rule(ge=0))      # Σ KL(q(z_kj) ‖ p(z_kj))
    kl_samples: int = field(default=32, metadata=rule(ge=2))         # batch rows whose terms are averaged
    # Levers for concepts a person can steer (issue 46; each is off at its default):
    tc_warmup: int = field(default=0, metadata=rule(ge=0))   # steps with the between-block TC weight at 0 ...
    tc_ramp: int = field(default=0, metadata=rule(ge=0))     # ... then this many steps of a linear ramp up to kl_between
    concept_mi: float = field(default=0.0, metadata=rule(ge=0))  # weight of −I(item; concept) of the soft assignments
    anchor_items: int = field(default=0, metadata=rule(ge=0))    # per concept, popular items of a category anchored to it
    anchor_weight: float = field(default=1.0, metadata=rule(ge=0))
    anchor_steps: int = field(default=0, metadata=rule(ge=0))   # anchors hold for this many steps, then let go; 0: always
    kl_by_history: bool = False   # β per user ∝ its history's size (RecVAE), batch mean kept at β
    composite_prior: bool = False  # RecVAE's prior: N(0, σ0²), the epoch-start posterior and a wide N(0, e^10), per dimension


@dataclass(frozen=True)
class MultVAEConfig:
    hidden: int = field(default=600, metadata=rule(ge=1))
    latent: int = field(default=200, metadata=rule(ge=1))
    dropout: float = field(default=0.5, metadata=rule(ge=0, lt=1))



@dataclass(frozen=True)
class TrainConfig:
    epochs: int = field(default=150, metadata=rule(ge=1))
    batch_size: int = field(default=128, metadata=rule(ge=1))
    lr: float = field(default=1e-3, metadata=rule(gt=0))
    weight_decay: float = field(default=0.0, metadata=rule(ge=0))
    beta: float = field(default=0.2, metadata=rule(ge=0))   # β's cap in the annealing
    anneal_steps: int = field(default=200, metadata=rule(ge=1))
    patience: int = field(default=30, metadata=rule(ge=1))
    ema: float = field(default=0.99, metadata=rule(ge=0, lt=1))  # EMA decay per step; 0 = off



@dataclass(frozen=True)
class TrainRecsys(TorchStage):
    model: MacridVAEConfig = field(default_factory=MacridVAEConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)


@dataclass(frozen=True)
class EvaluateRecsys(TorchStage):
    multvae: MultVAEConfig = field(default_factory=MultVAEConfig)
    multvae_train: TrainConfig = field(default_factory=TrainConfig)
    ease_lambdas: list[float] = field(default_factory=lambda: [50.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0],
                                     metadata=rule(gt=0))
    ease_max_items: int = field(default=20000, metadata=rule(ge=1))
    traversal_steps: int = field(default=7, metadata=rule(ge=2, le=21))


@dataclass(frozen=True)
class IndexRecsys:
    factory: str = "Flat"  # FAISS index-factory string for the item embeddings
    nprobe: int = field(default=16, metadata=rule(ge=1))
    oversample: int = field(default=1, metadata=rule(ge=1))   # lossy (PQ) codes: lists start this many times deeper
