"""DCI, MIG and linear probes on hand-made codes whose answer is known."""
import numpy as np
import pytest

from pipeline.disentanglement import dci, importance_heatmap, importance_matrix, linear_probes, mig, score

N = 900


@pytest.fixture(scope="module")
def factors():
    rng = np.random.default_rng(0)
    return {"shape": rng.integers(0, 4, N), "colour": rng.integers(0, 5, N), "size": rng.integers(0, 3, N)}


def values(factors):
    return np.stack([v.astype(float) for v in factors.values()], axis=1)


def test_a_perfectly_disentangled_code_scores_near_one(factors):
    rng = np.random.default_rng(1)
    codes = values(factors) + 0.05 * rng.standard_normal((N, 3))   # dimension i is factor i
    result = score(codes, factors)
    assert result["dci"]["disentanglement"] > 0.9 and result["dci"]["completeness"] > 0.9
    assert result["dci"]["informativeness"] > 0.95
    assert result["mig"]["mig"] > 0.8
    assert all(p["accuracy"] > 0.9 for p in result["probes"].values())
    R = np.asarray(result["dci"]["importance"])
    assert list(R.argmax(axis=1)) == [0, 1, 2]


def test_the_forests_are_the_same_on_one_thread_or_many(factors):
    rng = np.random.default_rng(5)
    codes = values(factors) @ rng.standard_normal((3, 6)) + 0.5 * rng.standard_normal((N, 6))
    mixed = factors | {"weight": rng.normal(size=N)}   # a regression forest too
    one, two = importance_matrix(codes, mixed, jobs=1), importance_matrix(codes, mixed, jobs=2)
    assert np.array_equal(one[0], two[0]) and one[1] == two[1]


def test_a_rotated_code_is_informative_but_not_disentangled(factors):
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    codes = (values(factors) - values(factors).mean(0)) @ q + 0.05 * rng.standard_normal((N, 3))
    plain = dci(values(factors) + 0.05 * rng.standard_normal((N, 3)), factors)
    rotated = dci(codes, factors)
    assert rotated["disentanglement"] < plain["disentanglement"] - 0.3
    assert rotated["completeness"] < plain["completeness"] - 0.3
    assert rotated["informativeness"] > 0.7
    assert mig(codes, factors)["mig"] < mig(values(factors), factors)["mig"] - 0.3


def test_a_code_that_ignores_a_factor_knows_nothing_of_it(factors):
    rng = np.random.default_rng(3)
    codes = np.stack([factors["shape"], factors["colour"]], axis=1) + 0.05 * rng.standard_normal((N, 2))
    codes = np.concatenate([codes, rng.standard_normal((N, 1))], axis=1)   # plus a noise dimension
    result = score(codes, factors)
    size = factors["size"]
    chance = np.bincount(size).max() / N
    assert result["dci"]["per_factor"]["size"]["informativeness"] < chance + 0.1
    assert result["mig"]["per_factor"]["size"] < 0.05
    assert result["probes"]["size"]["accuracy"] < result["probes"]["size"]["chance"] + 0.1
    assert result["dci"]["per_factor"]["shape"]["informativeness"] > 0.95


def test_informativeness_on_held_out_rows_sees_a_code_that_only_memorised(factors):
    """Scored on a mask of rows the forests never saw: a code that carries the factors everywhere keeps
    its informativeness; one that carries them only outside the mask falls to chance inside it."""
    rng = np.random.default_rng(4)
    held = rng.random(N) < 0.25
    codes = values(factors) + 0.05 * rng.standard_normal((N, 3))
    memorised = codes.copy()
    memorised[held] = rng.permutation(codes[held])   # the held-out rows' codes belong to other rows
    everywhere, only_seen = dci(codes, factors, test=held), dci(memorised, factors, test=held)
    assert everywhere["informativeness"] > 0.95 and only_seen["informativeness"] < 0.5
    for bad in (np.zeros(N, bool), np.ones(N, bool), np.zeros(N - 1, bool)):
        with pytest.raises(ValueError, match="test: need a boolean mask of 900 rows"):
            dci(codes, factors, test=bad)


def test_continuous_factors_and_bad_input(tmp_path, factors):
    rng = np.random.default_rng(4)
    t = rng.uniform(-1, 1, N)
    codes = np.stack([t, rng.standard_normal(N)], axis=1)
    result = score(codes, {"t": t, "shape": factors["shape"]})
    assert result["dci"]["per_factor"]["t"]["informativeness"] > 0.9 and result["probes"]["t"]["r2"] > 0.99
    importance_heatmap(result, ["t", "shape"], tmp_path / "h.png", "hand-made")
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="factor 'shape': 5 values for 900 codes"):
        dci(codes, {"shape": factors["shape"][:5]})
    with pytest.raises(ValueError, match="need an"):
        mig(np.zeros(5), {"x": np.zeros(5, int)})
    with pytest.raises(ValueError, match="at least one"):
        linear_probes(codes, {})


class CodesOf:
    """A stand-in for MacridVAE's item codes in recsys.evaluate.factor_scores: given concept logits and
    embedding dimensions instead of learned ones."""

    def __init__(self, logits: np.ndarray, vectors: np.ndarray):
        import types

        import torch

        self.concept_logits = lambda: torch.as_tensor(logits)
        self.item_vectors = lambda: torch.as_tensor(vectors)
        self.cfg = types.SimpleNamespace(concepts=logits.shape[1], dim=vectors.shape[1])


def test_the_recommender_is_scored_against_its_generators_factors(tiny_data, tmp_path):
    """Codes that are the generator's factors, one per dimension, score as disentangled and informative;
    codes of noise score as neither."""
    from recsys.evaluate import factor_scores

    f = tiny_data.item_factors
    names = ["category", "micro_0", "micro_1", "log_popularity"]
    assert set(f) == set(names)
    onehot = np.eye(f["category"].max() + 1)[f["category"]] * 5.0
    exact = CodesOf(onehot, np.stack([f["micro_0"], f["micro_1"], f["log_popularity"]], axis=1))
    noise = CodesOf(*(np.random.default_rng(0).normal(size=a.shape) for a in (exact.concept_logits().numpy(),
                                                                           exact.item_vectors().numpy())))
    good, bad = (factor_scores(m, tiny_data, 0, tmp_path / f"{i}.png") for i, m in enumerate((exact, noise)))
    assert good["probes"]["category"]["accuracy"] == 1.0 and good["probes"]["micro_0"]["r2"] > 0.95
    assert good["dci"]["informativeness"] > 0.9 and good["dci"]["disentanglement"] > 0.9
    assert bad["dci"]["informativeness"] < 0.3 and bad["probes"]["micro_0"]["r2"] < 0.2
    assert bad["probes"]["category"]["accuracy"] < 0.6
    assert np.asarray(good["dci"]["importance"]).shape == (onehot.shape[1] + 3, 4)
    assert (tmp_path / "0.png").read_bytes()[:4] == b"\x89PNG"


def test_the_image_and_speech_models_are_scored_against_their_factors(tiny_drit, tiny_images, tiny_text_speech,
                                                                     tiny_speech_models, tmp_path):
    from translation.images.evaluate import factor_scores as image_scores
    from translation.speech.evaluate import factor_scores as speech_scores

    images = image_scores(tiny_drit, tiny_images, 0, tmp_path / "images.png")
    assert {"domain", "class"} <= set(images["dci"]["per_factor"])
    assert (tmp_path / "images.png").exists()
    _, acoustic = tiny_speech_models
    speech = speech_scores(acoustic, tiny_text_speech, "cpu", 0, tmp_path / "speech.png")
    assert set(speech["dci"]["per_factor"]) == {"word", "voice"}
    R = np.asarray(speech["dci"]["importance"])
    assert R.shape == (acoustic.cfg.code + acoustic.cfg.voice, 2)
    assert (tmp_path / "speech.png").exists()
