"""The measures of DESIGN.md for image translation, computed exactly as specified there.

- content preservation: accuracy of the judge (the project's classifier trained on labelled
  target-style images, b_train) on A→B translations of a_test, each with several random attribute codes;
- diversity: mean pairwise distance of judge features among the translations of one input, as a
  ratio to the same quantity among groups of real target test images of one class;
- Fréchet distance between judge features of translations and of real target test images (this is
  the Fréchet formula in our own classifier's feature space, not FID: no Inception network);
- domain adaptation: target-test accuracy of a classifier trained on translated source images, beside
  source-only (plain, and with a practitioner's per-image standardisation and colour jitter), DANN
  and target-only classifiers of the same class and budget;
- linear probes: content code, search vector (content less its domain's mean) and attribute code,
  each → class and → domain (balanced accuracy: chance is 0.5 whatever the test sets' sizes);
- glyphs: the L1 of an attribute swap against the true render, beside copy-the-input and
  copy-the-reference baselines;
- fidelity to the target domain's look: the share of translations (both ways, prior attribute draws)
  whose background statistics fall outside the range of the target domain's real training images,
  beside the share of real held-out target images outside it (what the range itself lets through).
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import linalg

from pipeline.disentanglement import headline, importance_heatmap, linear_probe, score
from translation.images.background import background_range, outside_share
from translation.images.classifier import train_classifier
from translation.images.config import ClassifierConfig
from translation.images.model import DRIT
from translation.images.data import HELD, ImageData, to_tensor, to_uint8


def translate_batch(model: DRIT, images: np.ndarray, direction: str, z: torch.Tensor | None = None,
                    reference: np.ndarray | None = None, n: int = 1, generator=None) -> np.ndarray:
    """DRIT.translate on uint8 images: (N, H, W, 3) → (N, n, H, W, 3)."""
    model.eval()
    ref = to_tensor(reference) if reference is not None else None
    out = model.translate(to_tensor(images), direction, z=z, reference=ref, n=n, generator=generator)
    return to_uint8(out.flatten(0, 1)).reshape(len(images), out.shape[1], *images.shape[1:])


def translate_many(model: DRIT, images: np.ndarray, direction: str, n: int, seed: int, batch: int = 250) -> np.ndarray:
    g = torch.Generator().manual_seed(seed)
    return np.concatenate([translate_batch(model, images[i:i + batch], direction, n=n, generator=g)
                           for i in range(0, len(images), batch)])


def translate_like(model: DRIT, images: np.ndarray, direction: str, pool: np.ndarray, n: int, seed: int,
                   batch: int = 250) -> np.ndarray:
    """(N, n, H, W, 3): each image translated n times, each time under the attribute (posterior mean)
    of a reference drawn at random from `pool`, real images of the target domain."""
    rng, g = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    refs = rng.integers(len(pool), size=(n, len(images)))
    return np.stack([np.concatenate([translate_batch(model, images[i:i + batch], direction,
                                                     reference=pool[r[i:i + batch]], generator=g)[:, 0]
                                     for i in range(0, len(images), batch)]) for r in refs], axis=1)


def mean_pairwise_distance(groups: np.ndarray) -> float:
    """groups (G, n, D) → mean Euclidean distance between distinct members of a group."""
    d = np.linalg.norm(groups[:, :, None] - groups[:, None], axis=-1)
    n = groups.shape[1]
    return float(d.sum() / (len(groups) * n * (n - 1)))


def frechet_distance(x: np.ndarray, y: np.ndarray) -> float:
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean, _ = linalg.sqrtm(s1 @ s2, disp=False)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


# ---------------------------------------------------------------- fidelity: does it look like the target domain?
def fidelity(model: DRIT, data: ImageData, a2b: np.ndarray, n: int, seed: int, held: str) -> dict[str, float]:
    """Translations outside the target domain's background range, each way (a2b: the held A images'
    translations already made, (N, n, H, W, 3)), their worse, and real held-out images outside it."""
    b2a = translate_many(model, data.splits[f"b_{held}"].images, "b2a", n, seed)
    out = {}
    for direction, fakes in (("a2b", a2b), ("b2a", b2a)):
        target = direction[-1]
        bounds = background_range(data.splits[f"{target}_train"].images)
        out[f"outside_target_range_{direction}"] = outside_share(fakes.reshape(-1, *fakes.shape[2:]), bounds)
        out[f"outside_target_range_real_{target}"] = outside_share(data.splits[f"{target}_{held}"].images, bounds)
    out["outside_target_range"] = max(out["outside_target_range_a2b"], out["outside_target_range_b2a"])
    out["outside_target_range_real"] = max(out["outside_target_range_real_a"], out["outside_target_range_real_b"])
    return out


def real_groups(labels: np.ndarray, n: int, count: int, seed: int) -> np.ndarray:
    """`count` groups of n indices of real images sharing a class."""
    rng = np.random.default_rng(seed)
    classes = [c for c in np.unique(labels) if (labels == c).sum() >= n]
    return np.stack([rng.choice(np.flatnonzero(labels == classes[i % len(classes)]), n, replace=False)
                     for i in range(count)])


@torch.no_grad()
def codes(model: DRIT, images: np.ndarray, domain: str, pool: int = 4, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """(content vectors, attribute means): content maps average-pooled to pool×pool and flattened."""
    cs, zs = [], []
    for i in range(0, len(images), batch):
        x = to_tensor(images[i:i + batch])
        c = torch.nn.functional.adaptive_avg_pool2d(model.encode_content(x, domain), pool)
        cs.append(c.flatten(1).numpy())
        zs.append(model.encode_attribute(x, domain).numpy())
    return np.concatenate(cs), np.concatenate(zs)


def knn_probe(train_x, train_y, test_x, test_y, k: int = 10) -> float:
    """Balanced accuracy of a k-nearest-neighbour vote (cosine) on the codes: a probe that a mean
    shift does not fool and that asks what search asks, whether near codes share a label."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(k, metric="cosine", algorithm="brute").fit(train_x, train_y)
    return float(balanced_accuracy_score(test_y, clf.predict(test_x)))


def probes(model: DRIT, data: ImageData, pool: int, held: str = "test") -> dict[str, float]:
    """Linear probes of the content code, the search vector (the content code less its domain's mean,
    as serve.ContentIndexes searches) and the attribute code: → domain (balanced accuracy, chance
    0.5) and → class; and a k-NN domain probe of the search vector. Fitted on the train splits,
    scored on the `held` ones ('val' for choices, 'test' for reports)."""
    parts = {s: codes(model, data.splits[s].images, s[0], pool) for s in (f"{d}_{r}" for d in "ab" for r in ("train", held))}
    means = {d: parts[f"{d}_train"][0].mean(0) for d in ("a", "b")}
    variants = {"content": {s: c for s, (c, _) in parts.items()},
                "search": {s: c - means[s[0]] for s, (c, _) in parts.items()},
                "attribute": {s: z for s, (_, z) in parts.items()}}
    ytr = np.r_[data.splits["a_train"].labels, data.splits["b_train"].labels]
    yte = np.r_[data.splits[f"a_{held}"].labels, data.splits[f"b_{held}"].labels]
    out = {}
    for which, x in variants.items():
        tr, te = np.concatenate([x["a_train"], x["b_train"]]), np.concatenate([x[f"a_{held}"], x[f"b_{held}"]])
        dom_tr = np.r_[np.zeros(len(x["a_train"])), np.ones(len(x["b_train"]))]
        dom_te = np.r_[np.zeros(len(x[f"a_{held}"])), np.ones(len(x[f"b_{held}"]))]
        out[f"probe_{which}_to_domain"] = linear_probe(tr, dom_tr, te, dom_te, balanced=True, max_iter=300)
        if which == "search":   # what search sees: do an image's nearest neighbours share its domain?
            out["probe_search_to_domain_knn"] = knn_probe(tr, dom_tr, te, dom_te)
        if (ytr >= 0).all() and (yte >= 0).all():
            out[f"probe_{which}_to_class"] = linear_probe(tr, ytr, te, yte, max_iter=300)
    return out


def factor_codes(model: DRIT, data: ImageData, held: str = "test") -> tuple[np.ndarray, dict, int]:
    """(codes, factors, content dims): the held-out (test or val) images' codes (A's, then B's; content channels averaged
    over the image, then the attribute) and their known factors: domain, class, and every scalar factor
    the data kept (Glyphs: face, colour, tint, texture, offsets), leaving out ids that name one image each."""
    parts = [data.splits[f"a_{held}"], data.splits[f"b_{held}"]]
    pairs = [codes(model, p.images, d, pool=1) for p, d in zip(parts, ("a", "b"))]
    x = np.concatenate([np.concatenate(pair, axis=1) for pair in pairs])
    factors = {"domain": np.r_[np.zeros(len(parts[0]), np.int64), np.ones(len(parts[1]), np.int64)]}
    labels = np.concatenate([p.labels for p in parts])
    if (labels >= 0).all():
        factors["class"] = labels.astype(np.int64)
    for name in sorted(set(parts[0].factors) & set(parts[1].factors)):
        values = np.concatenate([p.factors[name] for p in parts])
        if values.ndim == 1 and len(np.unique(values)) <= len(values) // 2:   # not an id (MNIST-M's source digit)
            factors[name] = values if np.issubdtype(values.dtype, np.integer) else values.astype(np.float64)
    return x, factors, pairs[0][0].shape[1]


def factor_scores(model: DRIT, data: ImageData, seed: int, heatmap, held: str = "test") -> dict:
    """DCI, MIG and probes of the held-out images' codes against their known factors (factor_codes)."""
    x, factors, content_dims = factor_codes(model, data, held)
    result = score(x, factors, seed)
    importance_heatmap(result, list(factors), heatmap,
                       f"DRIT test images: {content_dims} content channels, then {x.shape[1] - content_dims} attribute dims")
    return result


def glyph_swap_l1(model: DRIT, data: ImageData, glyph_cfg, seed: int, pairs: int = 500,
                  held: str = "test") -> dict[str, float]:
    """A→B with the attribute of a B reference, against the true render of (A's char, B's factors)."""
    from translation.images.sources import FACTORS, render_glyph

    a, b = data.splits[f"a_{held}"], data.splits[f"b_{held}"]
    rng = np.random.default_rng(seed)
    ia, ib = rng.integers(len(a), size=pairs), rng.integers(len(b), size=pairs)
    out = translate_batch(model, a.images[ia], "a2b", reference=b.images[ib],
                          generator=torch.Generator().manual_seed(seed))[:, 0]
    truth = np.stack([render_glyph(glyph_cfg, "b", int(a.labels[i]), size=data.size,
                                   **{k: int(b.factors[k][j]) for k in FACTORS}) for i, j in zip(ia, ib)])

    def l1(x):
        return float(np.abs(x.astype(np.float32) - truth.astype(np.float32)).mean() / 255.0)

    return {"swap_l1": l1(out), "swap_l1_copy_input": l1(a.images[ia]), "swap_l1_copy_reference": l1(b.images[ib])}


def evaluate(model: DRIT, data: ImageData, cls_cfg: ClassifierConfig, seed: int, n_codes: int = 5,
             da_copies: int = 5, pool: int = 4, glyph_cfg=None, say=print, heatmap=None,
             held: str = "test", diagnostics: bool = True) -> tuple[dict, dict]:
    """→ (metrics, extras for plots), scored on the `held` splits: 'test' (the evaluate stage, a
    bench's report) or 'val' (a bench's choices). Label-based measures need labelled data (not
    unlabelled user folders). `diagnostics`: also DANN, plain source-only and translated source
    under prior attribute draws."""
    if held not in HELD:
        raise ValueError(f"held: one of {', '.join(HELD)}, got {held!r}")
    metrics: dict[str, float] = {}
    extras: dict = {}
    trans = translate_many(model, data.splits[f"a_{held}"].images, "a2b", n_codes, seed)   # (N, n, H, W, 3)
    if not data.labelled:  # user folders: no judge; diversity in pixel space, probes on domain only
        say("labels unknown: pixel-space diversity and domain probes only")
        pixels = trans.reshape(*trans.shape[:2], -1).astype(np.float32) / 255.0
        real = data.splits[f"b_{held}"].images.reshape(len(data.splits[f"b_{held}"]), -1).astype(np.float32) / 255.0
        groups = np.random.default_rng(seed).integers(len(real), size=(len(trans), n_codes))
        metrics["pixel_diversity_ratio"] = mean_pairwise_distance(pixels) / max(mean_pairwise_distance(real[groups]), 1e-9)
        metrics |= fidelity(model, data, trans, n_codes, seed, held)
        metrics |= probes(model, data, pool, held)
        if heatmap is not None:   # the one known factor: the domain
            extras["factors"] = factor_scores(model, data, seed, heatmap, held)
            metrics |= headline(extras["factors"])
        return metrics, extras
    n_classes = len(data.class_names)
    # a_test, b_test: the held-out splits scored (val or test)
    a_train, a_test, b_train, b_test = (data.splits[s] for s in ("a_train", f"a_{held}", "b_train", f"b_{held}"))

    say("training the judge (target-only classifier)")
    judge = train_classifier(b_train.images, b_train.labels, n_classes, cls_cfg, seed)
    flat = trans.reshape(-1, *trans.shape[2:])
    metrics["content_preservation"] = judge.accuracy(flat, np.repeat(a_test.labels, n_codes))
    feats = judge.features(flat).reshape(len(trans), n_codes, -1)
    real_feats = judge.features(b_test.images)
    groups = real_groups(b_test.labels, n_codes, len(trans), seed)
    metrics["diversity"] = mean_pairwise_distance(feats)
    metrics["diversity_real"] = mean_pairwise_distance(real_feats[groups])
    metrics["diversity_ratio"] = metrics["diversity"] / metrics["diversity_real"]
    metrics["frechet_classifier_features"] = frechet_distance(feats.reshape(-1, feats.shape[-1]), real_feats)
    metrics |= fidelity(model, data, trans, n_codes, seed, held)

    say("domain adaptation: source-only (plain, and as a practitioner trains it), DANN, translated-source, "
        "target-only (same classifier, same budget)")
    metrics["da_target_only"] = judge.accuracy(b_test.images, b_test.labels)
    learners = [("da_source_only", {"practitioner": True})]
    if diagnostics:   # DANN with the practitioner's input handling too
        learners += [("da_source_only_plain", {}), ("da_dann", {"adapt_to": b_train.images, "practitioner": True})]
    for key, options in learners:
        learner = train_classifier(a_train.images, a_train.labels, n_classes, cls_cfg, seed, **options)
        metrics[key] = learner.accuracy(b_test.images, b_test.labels)
    # Translated source, two ways: in the attributes of the unlabelled target pool (b_train, whose
    # labels only the judge uses), the adaptation a practitioner would run, and under prior draws.
    ways = {"da_translated": lambda: translate_like(model, a_train.images, "a2b", b_train.images, da_copies, seed + 1)}
    if diagnostics:
        ways["da_translated_prior"] = lambda: translate_many(model, a_train.images, "a2b", da_copies, seed + 1)
    for key, translate in ways.items():
        translated = translate()
        adapted = train_classifier(translated.reshape(-1, *translated.shape[2:]),
                                   np.repeat(a_train.labels, da_copies), n_classes, cls_cfg, seed)
        metrics[key] = adapted.accuracy(b_test.images, b_test.labels)
    metrics["da_gain_over_source_only"] = metrics["da_translated"] - metrics["da_source_only"]
    if "da_dann" in metrics:
        metrics["da_gain_over_dann"] = metrics["da_translated"] - metrics["da_dann"]

    say("linear probes on content and attribute codes")
    metrics |= probes(model, data, pool, held)
    if glyph_cfg is not None:
        metrics |= glyph_swap_l1(model, data, glyph_cfg, seed, held=held)
    if heatmap is not None:
        say("DCI, MIG and probes against the known factors")
        extras["factors"] = factor_scores(model, data, seed, heatmap, held)
        metrics |= headline(extras["factors"])
    extras["per_class_preservation"] = [
        float((judge.predict(flat[np.repeat(a_test.labels, n_codes) == c]) == c).mean()) for c in range(n_classes)]
    return metrics, extras
