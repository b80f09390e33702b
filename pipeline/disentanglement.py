"""Disentanglement of a model's codes against the known factors of its data, scored the same way for
every model: DCI (Eastwood & Williams 2018), MIG (Chen et al. 2018) and per-factor linear probes.

`codes` is an (n, d) array (one row per item, image or clip); `factors` maps a factor's name to its
n values, discrete (integer labels) or continuous (floats).

DCI. For each factor j a random forest predicts it from all d code dimensions (every dimension a
candidate at every split, so that importance goes where the information is); its feature
importances form column j of the importance matrix R (d × k, each column sums to 1 before
normalisation). With P_ij = R_ij / Σ_j' R_ij' (what dimension i is about) and
P̃_ij = R_ij / Σ_i' R_i'j (where factor j lives):
    disentanglement = Σ_i ρ_i (1 − H_k(P_i·)),   ρ_i = Σ_j R_ij / Σ R   (each dimension about one factor)
    completeness    = mean_j (1 − H_d(P̃_·j))                          (each factor in one dimension)
    informativeness = mean_j held-out accuracy (discrete) or R² (continuous) of the forest
where H_b is the entropy in base b (so each term lies in [0, 1]).

MIG. Each code dimension is cut into equal-width bins; for each discrete factor (continuous ones are
binned too) the mutual information with every dimension is computed, and
    MIG = mean_j (I_(1) − I_(2)) / H(factor_j)
with I_(1) ≥ I_(2) the two largest mutual informations: 1 when one dimension alone carries the factor.
"""
from __future__ import annotations

import numpy as np

EPS = 1e-12


def _split(n: int, seed: int, test_share: float = 0.3):
    order = np.random.default_rng(seed).permutation(n)
    cut = int(round(n * (1 - test_share)))
    return order[:cut], order[cut:]


def _is_discrete(values: np.ndarray) -> bool:
    return np.issubdtype(np.asarray(values).dtype, np.integer) or np.asarray(values).dtype == bool


def _check(codes: np.ndarray, factors: dict) -> np.ndarray:
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or len(codes) < 10:
        raise ValueError(f"codes: need an (n >= 10, d) array, got shape {codes.shape}")
    if not factors:
        raise ValueError("factors: need at least one known factor")
    for name, values in factors.items():
        if len(values) != len(codes):
            raise ValueError(f"factor {name!r}: {len(values)} values for {len(codes)} codes")
    return codes


def _entropy_rows(p: np.ndarray, base: int) -> np.ndarray:
    """Entropy of each row of a row-stochastic matrix, in base `base` (0 for base 1)."""
    if base < 2:
        return np.zeros(len(p))
    return -(p * np.log(np.clip(p, EPS, 1))).sum(axis=1) / np.log(base)


def _train_test(n: int, seed: int, test: np.ndarray | None):
    """A seeded 70/30 split, or (test given: a boolean mask of n rows) the rows outside it and in it."""
    if test is None:
        return _split(n, seed)
    test = np.asarray(test, bool)
    if test.shape != (n,) or test.all() or not test.any():
        raise ValueError(f"test: need a boolean mask of {n} rows with rows on both sides, got shape {test.shape} "
                         f"with {int(test.sum())} set")
    return np.flatnonzero(~test), np.flatnonzero(test)


def importance_matrix(codes, factors: dict, seed: int = 0, trees: int = 60,
                      test: np.ndarray | None = None, jobs: int = -1) -> tuple[np.ndarray, dict]:
    """(R: d × k importances, {factor: held-out informativeness}) from one random forest per factor,
    fit on a seeded 70 % of the rows and scored on the rest, or fit outside the mask `test` and scored
    inside it (say, on combinations of factors that the model never saw). The trees grow on `jobs`
    threads (-1: every core); the forests are the same whatever `jobs`, each tree's seed is drawn first."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    codes = _check(codes, factors)
    train, test = _train_test(len(codes), seed, test)
    columns, informativeness = [], {}
    for name, values in factors.items():
        y = np.asarray(values)
        if _is_discrete(y):
            forest = RandomForestClassifier(trees, min_samples_leaf=2, max_features=None, random_state=seed, n_jobs=jobs)
        else:
            forest = RandomForestRegressor(trees, min_samples_leaf=2, max_features=None, random_state=seed, n_jobs=jobs)
        forest.fit(codes[train], y[train])
        # scored on one thread: sklearn sums the trees' predictions in whatever order threads finish,
        # so a threaded score can differ in the last bits (and flip a near-tie) from run to run
        score = forest.set_params(n_jobs=1).score(codes[test], y[test])   # accuracy, or R²
        informativeness[name] = float(max(score, 0.0))
        columns.append(forest.feature_importances_)
    return np.stack(columns, axis=1), informativeness


def dci(codes, factors: dict, seed: int = 0, test: np.ndarray | None = None) -> dict:
    """Disentanglement, completeness, informativeness, and the importance matrix behind them
    (`test`: the rows informativeness is scored on, as in importance_matrix)."""
    R, info = importance_matrix(codes, factors, seed, test=test)
    d, k = R.shape
    rho = R.sum(axis=1) / max(R.sum(), EPS)
    per_dim = 1 - _entropy_rows(R / np.clip(R.sum(axis=1, keepdims=True), EPS, None), k)
    per_factor = 1 - _entropy_rows((R / np.clip(R.sum(axis=0, keepdims=True), EPS, None)).T, d)
    return {"disentanglement": float((rho * per_dim).sum()) if k > 1 else 1.0,
            "completeness": float(per_factor.mean()),
            "informativeness": float(np.mean(list(info.values()))),
            "per_factor": {name: {"completeness": float(c), "informativeness": info[name]}
                           for name, c in zip(factors, per_factor)},
            "importance": R.round(6).tolist()}


def _bins(values: np.ndarray, bins: int) -> np.ndarray:
    edges = np.histogram_bin_edges(values, bins=bins)
    return np.digitize(values, edges[1:-1])


def mig(codes, factors: dict, bins: int = 20) -> dict:
    """Mutual information gap per factor and its mean."""
    from sklearn.metrics import mutual_info_score

    codes = _check(codes, factors)
    binned = [_bins(codes[:, i], bins) for i in range(codes.shape[1])]
    per_factor = {}
    for name, values in factors.items():
        y = np.asarray(values)
        y = y if _is_discrete(y) else _bins(y.astype(np.float64), bins)
        h = mutual_info_score(y, y)
        if h <= EPS:   # a constant factor: nothing to carry
            per_factor[name] = 0.0
            continue
        mi = sorted((mutual_info_score(y, b) for b in binned), reverse=True) + [0.0]
        per_factor[name] = float((mi[0] - mi[1]) / h)
    return {"mig": float(np.mean(list(per_factor.values()))), "per_factor": per_factor}


def linear_probe(train_x, train_y, test_x, test_y, balanced: bool = False, max_iter: int = 2000) -> float:
    """Test accuracy of a logistic regression on codes standardised by the training rows' statistics;
    `balanced`: the mean of the per-class recalls, whose chance level is 1 / classes whatever the test
    set's class sizes. Every probe of the project is this one."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_x)
    clf = LogisticRegression(max_iter=max_iter).fit(scaler.transform(train_x), train_y)
    if balanced:
        return float(balanced_accuracy_score(test_y, clf.predict(scaler.transform(test_x))))
    return float(clf.score(scaler.transform(test_x), test_y))


def linear_probes(codes, factors: dict, seed: int = 0) -> dict:
    """Held-out accuracy (discrete, beside the majority-class share) or R² (continuous) of a linear
    model per factor: what a linear read-out of the code knows."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    codes = _check(codes, factors)
    train, test = _split(len(codes), seed)
    out = {}
    for name, values in factors.items():
        y = np.asarray(values)
        if _is_discrete(y):
            if len(np.unique(y[train])) < 2:
                out[name] = {"accuracy": 1.0, "chance": 1.0}
                continue
            chance = np.bincount(np.unique(y, return_inverse=True)[1][test]).max() / len(test)
            out[name] = {"accuracy": linear_probe(codes[train], y[train], codes[test], y[test]), "chance": float(chance)}
        else:
            probe = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(codes[train], y[train])
            out[name] = {"r2": float(max(probe.score(codes[test], y[test]), 0.0))}
    return out


def score(codes, factors: dict, seed: int = 0) -> dict:
    """DCI, MIG and linear probes of one code against the known factors (what the evaluate stages write)."""
    return {"dci": dci(codes, factors, seed), "mig": mig(codes, factors), "probes": linear_probes(codes, factors, seed)}


def headline(result: dict) -> dict:
    """The four numbers a metrics file and MLflow keep of a score(): dci_disentanglement, dci_completeness,
    dci_informativeness, mig."""
    return {f"dci_{k}": result["dci"][k] for k in ("disentanglement", "completeness", "informativeness")} | {
        "mig": result["mig"]["mig"]}


def importance_heatmap(result: dict, factor_names: list[str], path, title: str = "") -> None:
    """The DCI importance matrix as a heatmap (factors × code dimensions), with D, C, I, MIG in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.atomic import atomic_path

    R = np.asarray(result["dci"]["importance"]).T   # one row per factor
    fig, ax = plt.subplots(figsize=(min(16.0, 3.0 + 0.12 * R.shape[1]), 1.6 + 0.45 * len(factor_names)))
    image = ax.imshow(R, aspect="auto", cmap="viridis", vmin=0, interpolation="nearest")
    ax.set_yticks(range(len(factor_names)), factor_names)
    ax.set_xlabel("code dimension")
    d = result["dci"]
    ax.set_title(f"{title}\nD {d['disentanglement']:.2f}  C {d['completeness']:.2f}  I {d['informativeness']:.2f}  "
                 f"MIG {result['mig']['mig']:.2f}", fontsize=9)
    fig.colorbar(image, ax=ax, label="importance")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
