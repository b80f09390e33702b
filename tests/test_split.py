import numpy as np

from recsys.split import SplitConfig, split_interactions


def test_split_is_deterministic_and_independent_of_partitioning(tiny_raw, tiny_data, dask):
    again = split_interactions(tiny_raw, SplitConfig(partitions=5), seed=1, client=dask)
    for name in ("train", "val_foldin", "val_target", "test_foldin", "test_target"):
        assert (getattr(again, name) != getattr(tiny_data, name)).nnz == 0
    other = split_interactions(tiny_raw, SplitConfig(partitions=3), seed=2, client=dask)
    assert set(other.user_ids["test"]) != set(tiny_data.user_ids["test"])


def test_protocol(tiny_raw, tiny_data):
    d = tiny_data
    users = {k: set(v) for k, v in d.user_ids.items()}
    assert not (users["train"] & users["val"]) and not (users["train"] & users["test"]) and not (users["val"] & users["test"])
    # items are exactly those seen by training users
    assert (np.asarray(d.train.sum(0)).ravel() > 0).all()
    # positives only: every user kept has >= 5 positives (rating >= 4)
    pos = tiny_raw.table[tiny_raw.table.rating >= 4]
    counts = pos.groupby("user").item.nunique()
    assert set(counts[counts >= 5].index) == users["train"] | users["val"] | users["test"]
    # fold-in and targets are disjoint; targets are floor(20 %) of each held-out user's items
    for split in ("val", "test"):
        f, t = getattr(d, f"{split}_foldin"), getattr(d, f"{split}_target")
        assert f.multiply(t).nnz == 0
        n = np.asarray((f + t).sum(1)).ravel()
        assert (np.asarray(t.sum(1)).ravel() == np.where(n >= 5, np.floor(0.2 * n), 0)).all()


def test_the_generators_factors_survive_the_split_and_a_save(tiny_raw, tiny_data, tmp_path):
    from recsys.dataset import InteractionData

    drawn = tiny_raw.item_factors
    assert list(drawn.columns) == ["category", "micro_0", "micro_1", "log_popularity"]
    assert set(tiny_data.item_factors) == set(drawn.columns)
    ids = tiny_data.item_ids.astype(str)
    for name, values in tiny_data.item_factors.items():
        assert np.array_equal(values, drawn.loc[ids, name].to_numpy())
    # the category factor is the category the data names
    names = np.array(tiny_data.category_names)[tiny_data.item_category]
    assert list(names) == [f"cat{c}" for c in tiny_data.item_factors["category"]]
    tiny_data.save(tmp_path / "d")
    back = InteractionData.load(tmp_path / "d")
    assert {k: v.tolist() for k, v in back.item_factors.items()} == {k: v.tolist() for k, v in tiny_data.item_factors.items()}


def test_titles_and_every_category_survive_the_split_and_a_save(tiny_raw, tiny_data, tmp_path):
    from recsys.dataset import InteractionData

    tiny_data.save(tmp_path / "d")
    back = InteractionData.load(tmp_path / "d")
    for data in (tiny_data, back):
        for col, item in enumerate(data.item_ids.astype(str)):
            assert data.title(col) == tiny_raw.item_titles[item]
            assert data.categories(col) == tiny_raw.item_categories[item]
    assert any(len(back.categories(c)) == 2 for c in range(back.n_items))   # a second category kept too


def test_the_generator_draws_the_same_data_in_any_chunk_of_users():
    import pandas as pd

    from recsys.synthetic import SyntheticConfig, _top_by_row, generate

    cfg = SyntheticConfig(n_users=120, n_items=60, n_categories=3, mean_positives=12.0)
    whole, chunked = generate(cfg, 3, chunk_users=1000), generate(cfg, 3, chunk_users=7)
    pd.testing.assert_frame_equal(whole.table, chunked.table)
    pd.testing.assert_frame_equal(whole.item_factors, chunked.item_factors)
    scores = np.random.default_rng(0).normal(size=(5, 40))
    sizes = np.array([1, 3, 40, 7, 2])
    for row, top in zip(scores, _top_by_row(scores, sizes)):
        np.testing.assert_array_equal(top, np.argsort(-row)[:len(top)])
    assert [len(t) for t in _top_by_row(scores, sizes)] == sizes.tolist()
