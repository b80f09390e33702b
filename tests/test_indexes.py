import numpy as np
import pytest

from pipeline.indexes import IndexFileError, VectorIndex
from recsys.serve import Recommender, build_item_index
from tests_support import recommend_exhaustive


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
                ref_ids, ref_scores = recommend_exhaustive(rec, history, k, weights, exclude)
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


def _clustered(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, d))
    x = centres[rng.integers(20, size=n)] + 0.3 * rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_an_index_filled_from_shards_is_the_index_built_at_once():
    x = _clustered(3000, 16, 0)
    whole = VectorIndex.build(x, np.arange(3000) + 7, "IVF16,Flat", "ip", nprobe=4)
    shards = ((x[i:i + 700], np.arange(i, min(i + 700, 3000)) + 7) for i in range(0, 3000, 700))
    sharded = VectorIndex.build_from_shards(x, shards, "IVF16,Flat", "ip", nprobe=4)
    for a, b in zip(whole.search(x[:50], 10), sharded.search(x[:50], 10)):
        np.testing.assert_array_equal(a, b)
    assert whole.bytes_per_item() > 16 * 4          # full vectors, ids and lists
    with pytest.raises(ValueError, match="dimension"):
        VectorIndex.build_from_shards(x, [(x[:, :8], np.arange(3000))], "Flat", "ip")


def test_oversampled_lists_recover_what_product_quantization_misorders():
    """Coarse codes (4 bytes for 32 dims) misorder the lists; starting them deeper and re-scoring
    the candidates exactly brings the exact top-20 back."""
    from bench.ivf_search import catalogue, user_codes
    from recsys.serve import threshold_topk

    centres, shards = catalogue(20000, 4, 32, 16, 0.1, 0.06, seed=0)
    x, log_c = next(shards)
    exact = VectorIndex.build(x, np.arange(len(x)), "Flat", "ip")
    pq = VectorIndex.build(x, np.arange(len(x)), "IVF16,PQ4", "ip", nprobe=16)
    assert pq.bytes_per_item() < exact.bytes_per_item() / 4
    recall = {1: [], 16: []}
    for codes in user_codes(centres, 20, seed=0):
        log_w = np.zeros(4)
        truth = set(threshold_topk(exact, x, log_c, 0.1, codes, log_w, 20)[0].tolist())
        for over in recall:
            got = threshold_topk(pq, x, log_c, 0.1, codes, log_w, 20, oversample=over)[0]
            recall[over].append(len(truth & set(got.tolist())) / 20)
    assert np.mean(recall[1]) < 0.8 and np.mean(recall[16]) >= 0.98


@pytest.mark.slow   # jobs on the cluster's workers
@pytest.mark.parametrize("factory", ["IVF16,PQ4", "Flat"])
def test_shards_encoded_on_dask_workers_merge_into_the_same_index(dask, factory):
    x = _clustered(3000, 16, 3)
    here = VectorIndex.build(x, np.arange(3000), factory, "ip", nprobe=4)
    shards = ((x[i:i + 500], np.arange(i, min(i + 500, 3000))) for i in range(0, 3000, 500))
    spread = VectorIndex.build_from_shards(x, shards, factory, "ip", nprobe=4, client=dask, in_flight=2)
    assert len(spread) == 3000
    for a, b in zip(here.search(x[:50], 10), spread.search(x[:50], 10)):
        np.testing.assert_array_equal(a, b)


def test_the_served_index_keeps_its_oversampling(tiny_model, tiny_data, tmp_path):
    from recsys.serve import load_index, save_index

    model, _ = tiny_model
    index = build_item_index(model, "Flat", 1)
    save_index(tmp_path / "plain", index, model)
    save_index(tmp_path / "deep", index, model, oversample=10)
    assert load_index(tmp_path / "plain")[1] == 1 and load_index(tmp_path / "deep")[1] == 10
    rec = Recommender(model, tiny_data, *load_index(tmp_path / "deep"))
    assert rec.oversample == 10
