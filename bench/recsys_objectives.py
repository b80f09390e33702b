"""MacridVAE's objectives by name, as params overrides: what bench.concept_levers measures on dev
data and bench.concept_recovery / bench.recsys_ml100k report on test (`--objectives NAME ...`)."""
from __future__ import annotations

M = "train_recsys.model."


def hierarchical(kl_between: float) -> list[str]:
    """The hierarchically factorized KL with the TC between concept blocks weighted kl_between."""
    return [M + "hierarchical=true", M + f"kl_between={kl_between:g}"]


# issue 31's weight, re-chosen on dev by bench.concept_levers among the HIERARCHICAL_WEIGHTS arms
HIERARCHICAL = hierarchical(4)
HIERARCHICAL_WEIGHTS = {"hierarchical": HIERARCHICAL} | {f"hierarchical_kl{w:g}": hierarchical(w) for w in (2, 8, 16)}


def anchors(n: int, weight: float = 10, steps: int = 0) -> list[str]:
    """n items per concept anchored to a category (recsys.anchors), held for `steps` (0: always)."""
    return [M + f"anchor_items={n}", M + f"anchor_weight={weight:g}"] + ([M + f"anchor_steps={steps}"] if steps else [])


OBJECTIVES = {
    "own": [],
    **HIERARCHICAL_WEIGHTS,
    "hierarchical_tc_warmup": HIERARCHICAL + [M + "tc_warmup=500", M + "tc_ramp=500"],
    "concept_mi_1": [M + "concept_mi=1"],
    "concept_mi_10": [M + "concept_mi=10"],
    "anchors_3": anchors(3),
    "anchors_5": anchors(5),
    "anchors_10": anchors(10),
    "anchors_5_w30": anchors(5, 30),
    "anchors_5_concept_mi_1": anchors(5) + [M + "concept_mi=1"],
    "anchors_5_first_300": anchors(5, steps=300),      # anchors seed the concepts, then let go
    "anchors_5_first_1000": anchors(5, steps=1000),
    "hierarchical_anchors_3": HIERARCHICAL + anchors(3),
    "kl_by_history": [M + "kl_by_history=true"],
    "composite_prior": [M + "composite_prior=true"],   # RecVAE's prior (recsys.macridvae)
    "beta_0.1": ["train_recsys.train.beta=0.1"],
    "beta_0.4": ["train_recsys.train.beta=0.4"],
}
