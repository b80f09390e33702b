import numpy as np
import pytest
import scipy.sparse as sp

from recsys.metrics import evaluate_in_batches, evaluate_scores, per_user_metrics, top_k


def test_top_k_breaks_ties_by_index():
    assert top_k(np.array([[1.0, 3.0, 3.0, 2.0]]), 3).tolist() == [[1, 2, 3]]


def test_hand_made_rankings():
    n = 200
    scores = np.tile(-np.arange(n, dtype=float), (2, 1))  # item 0 ranked first, then 1, ...
    targets = sp.csr_matrix(np.zeros((2, n)))
    targets = sp.lil_matrix((2, n))
    targets[0, [0, 2]] = 1  # user 0: hits at ranks 1 and 3
    targets[1, [150]] = 1  # user 1: its only target is outside the top 100
    m = per_user_metrics(scores, targets.tocsr())
    idcg = 1 + 1 / np.log2(3)
    assert m["ndcg@100"][0] == pytest.approx((1 + 1 / np.log2(4)) / idcg)
    assert m["ndcg@100"][1] == 0
    assert m["recall@20"].tolist() == [1.0, 0.0]


def test_recall_divides_by_min_k_and_targets():
    n = 100
    scores = -np.arange(n, dtype=float)[None]
    t = sp.lil_matrix((1, n))
    t[0, list(range(10, 40))] = 1  # 30 targets; top-20 holds 10 of them
    m = per_user_metrics(scores, t.tocsr())
    assert m["recall@20"][0] == pytest.approx(10 / 20)
    assert m["recall@50"][0] == pytest.approx(30 / 30)


def test_foldin_is_masked_and_se_reported():
    n = 10
    scores = np.tile(-np.arange(n, dtype=float), (3, 1))
    foldin = sp.lil_matrix((3, n))
    foldin[:, 0] = 1  # the best-scored item is already seen
    t = sp.lil_matrix((3, n))
    t[0, 1] = 1
    t[1, 2] = 1
    t[2, 1] = 1
    out = evaluate_scores(scores, foldin.tocsr(), t.tocsr())
    per = [1.0, 1 / np.log2(3), 1.0]
    assert out["ndcg@100"]["mean"] == pytest.approx(np.mean(per))
    assert out["ndcg@100"]["se"] == pytest.approx(np.std(per, ddof=1) / np.sqrt(3))
    assert out["ndcg@100"]["n_users"] == 3


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_evaluation_in_batches_gives_the_whole_matrix_figures(batch):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(40, 150))
    foldin = sp.random(40, 150, density=0.1, random_state=1, format="csr")
    targets = sp.random(40, 150, density=0.05, random_state=2, format="csr")
    targets.data[:] = 1
    whole = evaluate_scores(scores, foldin, targets)
    starts = iter(range(0, 40, batch))
    batched = evaluate_in_batches(lambda x: scores[(s := next(starts)):s + x.shape[0]], foldin, targets, batch)
    assert batched == whole
