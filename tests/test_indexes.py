import numpy as np
import pytest

from pipeline.indexes import IndexFileError, VectorIndex
from recsys.serve import Recommender, build_item_index


def test_search_maps_ids_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    v = rng.normal(size=(300, 8)).astype(np.float32)
    ids = np.arange(1000, 1300)
    index = VectorIndex.build(v, ids, "Flat", "ip")
    scores, got = index.search(v[:3], 5)
    exact = np.argsort(-(v[:3] @ v.T), axis=1)[:, :5] + 1000
    assert (got == exact).all()
    index.save(tmp_path / "a.faiss")
    again = VectorIndex.load(tmp_path / "a.faiss")
    assert (again.search(v[:3], 5)[1] == got).all() and again.factory == "Flat"


def test_ivf_from_factory_string_and_bad_strings():
    v = np.random.default_rng(0).normal(size=(2000, 8)).astype(np.float32)
    ivf = VectorIndex.build(v, np.arange(2000), "IVF16,Flat", "ip", nprobe=16)
    assert (ivf.search(v[:4], 3)[1] == VectorIndex.build(v, np.arange(2000)).search(v[:4], 3)[1]).all()
    with pytest.raises(ValueError, match="bad index factory string 'Nonsense'"):
        VectorIndex.build(v, np.arange(2000), "Nonsense")
    with pytest.raises(ValueError, match="needs at least 1024 vectors"):
        VectorIndex.build(v[:100], np.arange(100), "IVF1024,Flat")


def test_truncated_and_foreign_files_fail_clearly(tmp_path):
    v = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    path = tmp_path / "i.faiss"
    VectorIndex.build(v, np.arange(50)).save(path)
    blob = path.read_bytes()
    (tmp_path / "short.faiss").write_bytes(blob[:-10])
    with pytest.raises(IndexFileError, match="truncated"):
        VectorIndex.load(tmp_path / "short.faiss")
    (tmp_path / "foreign.faiss").write_bytes(b"PK\x03\x04 something else entirely")
    with pytest.raises(IndexFileError, match="not an mdr FAISS index"):
        VectorIndex.load(tmp_path / "foreign.faiss")
    flipped = bytearray(blob)
    flipped[-5] ^= 0xFF
    (tmp_path / "flip.faiss").write_bytes(bytes(flipped))
    with pytest.raises(IndexFileError, match="checksum"):
        VectorIndex.load(tmp_path / "flip.faiss")


def test_threshold_merge_of_per_concept_searches_equals_exhaustive_scoring(tiny_model, tiny_data):
    model, _ = tiny_model
    rec = Recommender(model, tiny_data, build_item_index(model, "Flat", 1))
    rng = np.random.default_rng(0)
    for trial in range(20):
        history = rng.choice(tiny_data.n_items, size=rng.integers(1, 15), replace=False).tolist()
        weights = None if trial % 2 else rng.uniform(0, 2, size=rec.concepts).tolist()
        if trial % 5 == 0 and weights:
            weights[0] = 0.0  # a concept switched off
        for k in (5, 60):
            for exclude in (True, False):
                got_ids, got_scores = rec.recommend(history, k, weights, exclude)
                ref_ids, ref_scores = rec.recommend_exhaustive(history, k, weights, exclude)
                assert got_ids == ref_ids
                np.testing.assert_allclose(got_scores, ref_scores, rtol=1e-5, atol=1e-5)
                if exclude:
                    assert not set(got_ids) & set(history)


def test_the_service_score_is_the_model_score(tiny_model, tiny_data):
    """What the index serves ranks items exactly as the evaluated model does."""
    from recsys.train import dense

    model, _ = tiny_model
    rec = Recommender(model, tiny_data, build_item_index(model, "Flat", 1))
    for row in range(5):
        history = tiny_data.test_foldin[row].indices.tolist()
        scores = model.score(dense(tiny_data.test_foldin[row], "cpu"))[0].numpy().astype(np.float64)
        scores[history] = -np.inf
        ids, served = rec.recommend(history, 10)
        np.testing.assert_allclose(served, np.sort(scores)[::-1][:10], rtol=1e-4, atol=1e-4)
        assert ids == np.lexsort((np.arange(len(scores)), -scores))[:10].tolist()
