import numpy as np
import pytest
import torch

from recsys.baselines import EASE, MostPopular
from recsys.macridvae import MacridVAE
from recsys.config import MacridVAEConfig, MultVAEConfig
from recsys.multvae import MultVAE
from recsys.checkpoints import load_model, save_model
from recsys.train import dense, score_users


@pytest.mark.parametrize("make", [
    lambda n: MacridVAE(n, MacridVAEConfig(concepts=3, dim=8, hidden=16, dropout=0.0, concept_input_norm=False)),
    lambda n: MacridVAE(n, MacridVAEConfig(concepts=3, dim=8, hidden=16, dropout=0.0, concept_input_norm=True)),
    lambda n: MultVAE(n, MultVAEConfig(hidden=16, latent=8, dropout=0.0)),
])
def test_train_steps_lower_the_loss_and_losses_are_named(tiny_data, make):
    torch.manual_seed(0)
    model = make(tiny_data.n_items)
    x = dense(tiny_data.train[:64], "cpu")
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.eval()  # deterministic: no Gumbel noise, no sampling, for a like-for-like comparison
    with torch.no_grad():
        before = model(x, beta=0.1)
    assert set(before) == {"loss", "nll", "kl"} and all(torch.isfinite(v) for v in before.values())
    model.train()
    for _ in range(20):
        loss = model(x, beta=0.1)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        after = model(x, beta=0.1)
    assert after["loss"] < before["loss"]


def test_macridvae_concepts_are_a_distribution_and_codes_unit_norm(tiny_model, tiny_data):
    model, _ = tiny_model
    model.eval()
    c = model.concept_weights()
    assert c.shape == (tiny_data.n_items, 4) and torch.allclose(c.sum(1), torch.ones(tiny_data.n_items))
    z = model.user_codes(dense(tiny_data.val_foldin[:5], "cpu"))
    assert z.shape == (5, 4, 16) and torch.allclose(z.norm(dim=-1), torch.ones(5, 4), atol=1e-5)


@pytest.mark.parametrize("per_concept", [False, True])
def test_sparse_first_layer_equals_the_dense_layer(tiny_data, per_concept):
    """The encoder's first layer, computed from a history's nonzeros, equals the dense layer on
    x ⊙ c_k normalized per concept (the authors' code) or x normalized once (RecBole), gradients included."""
    import torch.nn.functional as F

    model = MacridVAE(tiny_data.n_items, MacridVAEConfig(concepts=3, dim=8, hidden=16, concept_input_norm=per_concept))
    model.eval()  # no dropout: both sides see the same input
    x = dense(tiny_data.train[:6], "cpu")
    x[2] = 0  # an empty history gives the bias alone
    outs, grads = [], []
    for sparse in (True, False):
        cates = model.concept_weights()
        if sparse:
            out = model.first_layer(x, cates)
        else:
            xk = x.unsqueeze(1) * cates.T.unsqueeze(0) if per_concept else F.normalize(x, dim=1).unsqueeze(1) * cates.T.unsqueeze(0)
            out = model.encoder[0](F.normalize(xk, dim=-1) if per_concept else xk)
        model.zero_grad()
        (out ** 2).sum().backward()
        outs.append(out.detach())
        grads.append((model.items.grad.clone(), model.encoder[0].weight.grad.clone()))
    assert outs[0].shape == (6, 3, 16)
    torch.testing.assert_close(outs[0], outs[1])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)


def test_ema_keeps_averaged_weights(tiny_data):
    """The kept weights are the moving average: a decay near 0 reproduces the raw weights, 0.9 does not."""
    from pipeline.devices import seed_everything
    from recsys.train import fit
    from recsys.config import TrainConfig

    def kept(ema):
        seed_everything(3, 2)
        model = MacridVAE(tiny_data.n_items, MacridVAEConfig(concepts=3, dim=8, hidden=16))
        fit(model, tiny_data, TrainConfig(epochs=1, batch_size=16, anneal_steps=10, ema=ema), 3, torch.device("cpu"))
        return model.items.detach().clone()

    raw, near_raw, averaged = kept(0.0), kept(1e-9), kept(0.9)
    torch.testing.assert_close(near_raw, raw)
    assert not torch.allclose(averaged, raw, atol=1e-4)


def test_save_load_round_trip(tiny_model, tiny_data, tmp_path):
    model, result = tiny_model
    path = tmp_path / "m.pt"
    save_model(path, model, result, {"item_ids": tiny_data.item_ids})
    loaded, ckpt = load_model(path, tiny_data.n_items)
    assert (ckpt["best_epoch"], ckpt["history"]) == (result.best_epoch, result.history)
    a = score_users(model, tiny_data.test_foldin, "cpu")
    b = score_users(loaded, tiny_data.test_foldin, "cpu")
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="model has .* items, data has 3"):
        load_model(path, 3)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="m.pt: not a readable checkpoint"):
        load_model(path)
    with pytest.raises(FileNotFoundError, match="no macridvae checkpoint \\(run the train_recsys stage\\)"):
        load_model(tmp_path / "missing.pt")


TINY_X = np.array([[1, 1, 0, 0, 1],
                   [1, 0, 1, 0, 0],
                   [0, 1, 1, 1, 0],
                   [1, 1, 1, 0, 0],
                   [0, 0, 1, 1, 1],
                   [1, 0, 0, 0, 1]], dtype=np.float32)


def test_most_popular_scores_every_user_by_the_items_training_counts():
    import scipy.sparse as sp

    scores = MostPopular(sp.csr_matrix(TINY_X)).score(sp.csr_matrix(TINY_X[:2]))
    np.testing.assert_array_equal(scores, [[4, 3, 4, 2, 3]] * 2)       # column sums, the same for each user


def ease_reference(x: np.ndarray, lam: float) -> np.ndarray:
    """EASE column by column, straight from its definition: column j of B is the ridge regression of
    item j on every other item (b_jj = 0), min ||x_j - X_{-j} b||² + λ||b||²."""
    n = x.shape[1]
    b = np.zeros((n, n))
    for j in range(n):
        others = [i for i in range(n) if i != j]
        a = x[:, others].astype(np.float64)
        b[others, j] = np.linalg.solve(a.T @ a + lam * np.eye(n - 1), a.T @ x[:, j])
    return b


@pytest.mark.parametrize("lam", [0.5, 3.0, 50.0])
def test_ease_equals_its_definition_solved_column_by_column(lam):
    import scipy.sparse as sp

    ease = EASE(sp.csr_matrix(TINY_X), lam)
    np.testing.assert_allclose(ease.weights, ease_reference(TINY_X, lam), atol=1e-5)
    np.testing.assert_allclose(ease.score(sp.csr_matrix(TINY_X[:3])), TINY_X[:3] @ ease_reference(TINY_X, lam),
                               atol=1e-5)


def test_training_repeats_bit_for_bit_with_a_seed(tiny_data):
    from pipeline.devices import seed_everything
    from recsys.train import fit
    from recsys.config import TrainConfig

    states = []
    for _ in range(2):
        seed_everything(3, 2)
        model = MacridVAE(tiny_data.n_items, MacridVAEConfig(concepts=3, dim=8, hidden=16))
        fit(model, tiny_data, TrainConfig(epochs=2, batch_size=64, anneal_steps=10), 3, torch.device("cpu"))
        states.append(model.state_dict())
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k


def test_the_same_model_saves_to_the_same_bytes(tiny_model, tiny_data, tmp_path):
    """dvc.lock hashes the checkpoint: two clean runs must write identical files."""
    model, result = tiny_model
    extra = {"item_ids": tiny_data.item_ids}
    save_model(tmp_path / "a.pt", model, result, extra)
    save_model(tmp_path / "b.pt", model, result, extra)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
