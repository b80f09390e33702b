"""Issue 46's levers on MacridVAE's concepts: category anchors, I(item; concept), the TC warm-up and
RecVAE's β per user — each does what it says on tiny data, and is off by default."""
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from pipeline.devices import seed_everything
from recsys.anchors import category_anchors
from recsys.config import MacridVAEConfig, TrainConfig
from recsys.macridvae import MacridVAE
from recsys.train import fit

TINY = MacridVAEConfig(concepts=4, dim=16, hidden=32)


def test_anchors_are_the_most_popular_items_of_the_largest_categories():
    train = sp.csr_matrix(np.array([[1, 1, 0, 1, 1, 0],
                                    [0, 1, 0, 1, 0, 1],
                                    [0, 1, 1, 1, 0, 0]], dtype=np.float32))
    category = np.array([0, 0, 1, 1, 1, -1])   # category 1 is the largest; item 5 has none
    items, concepts = category_anchors(train, category, concepts=2, per_concept=2)
    assert items.tolist() == [3, 2, 1, 0] and concepts.tolist() == [0, 0, 1, 1]
    # more concepts than categories: only the categories there are; no categories: no anchors
    assert category_anchors(train, category, concepts=5, per_concept=1)[1].tolist() == [0, 1]
    assert len(category_anchors(train, np.full(6, -1), concepts=2, per_concept=2)[0]) == 0


def train_tiny(data, **levers):
    seed_everything(0, 2)
    model = MacridVAE(data.n_items, replace(TINY, **levers))
    result = fit(model, data, TrainConfig(epochs=6, batch_size=64, lr=0.01, anneal_steps=20, patience=6, ema=0), 0,
                 torch.device("cpu"), "test")
    return model, result


def test_anchored_items_land_in_their_concepts_and_the_term_is_logged(tiny_data):
    model, result = train_tiny(tiny_data, anchor_items=3, anchor_weight=10.0)
    items, concepts = category_anchors(tiny_data.train, tiny_data.item_category, TINY.concepts, 3)
    assert (model.item_concepts()[items].numpy() == concepts).mean() >= 0.9
    assert "anchor_ce" in result.history[-1]
    plain, plain_result = train_tiny(tiny_data)
    assert "anchor_ce" not in plain_result.history[-1]   # off by default
    assert (plain.item_concepts()[items].numpy() == concepts).mean() < 0.9


def test_anchors_let_go_after_anchor_steps(tiny_data):
    model, result = train_tiny(tiny_data, anchor_items=3, anchor_weight=10.0, anchor_steps=3)  # 4 steps an epoch
    assert "anchor_ce" not in result.history[-1]   # the last epoch's steps are all past step 3


def test_the_concept_mi_term_makes_assignments_crisper_and_balanced(tiny_data):
    torch.manual_seed(0)
    model = MacridVAE(tiny_data.n_items, replace(TINY, concept_mi=1.0))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)

    def mi():
        out = {}
        model.concept_terms(model.concept_logits(), out, step=0)
        return float(out["concept_mi"])

    before = mi()
    for _ in range(30):
        opt.zero_grad()
        model.concept_terms(model.concept_logits(), {}, step=0).backward()
        opt.step()
    assert mi() > before + 0.1
    assert mi() <= np.log(TINY.concepts) + 1e-6


def test_the_tc_weight_is_zero_through_the_warmup_then_ramps():
    model = MacridVAE(10, replace(TINY, hierarchical=True, tc_warmup=10, tc_ramp=20))
    assert [model.tc_scale(s) for s in (0, 10, 20, 30, 100)] == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert MacridVAE(10, TINY).tc_scale(0) == 1.0   # no warm-up: the weight is kl_between from the start


def test_kl_by_history_weights_users_by_their_history(tiny_data):
    model, result = train_tiny(tiny_data, kl_by_history=True)
    assert result.best_ndcg > 0
    with pytest.raises(ValueError, match="kl_by_history"):
        MacridVAE(10, replace(TINY, kl_by_history=True, hierarchical=True))


def test_the_composite_prior_holds_the_epoch_start_posterior_and_trains(tiny_data):
    model, result = train_tiny(tiny_data, composite_prior=True)
    assert result.best_ndcg > 0 and all(np.isfinite(row["kl"]) for row in result.history)
    assert not any(k.startswith("prior_copy") for k in model.state_dict())   # neither trained nor saved
    # the prior is the epoch-start copy: a code at the old posterior's mean is likelier than one far from it
    x = torch.from_numpy(tiny_data.train[:8].toarray().astype(np.float32))
    model.train()
    model.refresh_prior()
    old = model.prior_copy[0]
    mu_old, _ = old.encode(x, old.concept_weights())
    assert (model.log_composite_prior(mu_old, x) > model.log_composite_prior(mu_old + 0.5, x)).all()
    assert all(not p.requires_grad for p in old.parameters())
    with pytest.raises(RuntimeError, match="refresh_prior"):
        MacridVAE(10, replace(TINY, composite_prior=True)).log_composite_prior(torch.zeros(1, 4, 16), torch.zeros(1, 10))
    with pytest.raises(ValueError, match="composite_prior"):
        MacridVAE(10, replace(TINY, composite_prior=True, hierarchical=True))
