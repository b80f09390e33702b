"""Which search vector makes DRIT's content codes find the same content in the other domain?

Post-hoc variants of the pooled content code (translation.images.evaluate.codes) of one trained
model, each scored by what issue 30 asks of search: precision@10 of the other domain's training
images for each held-out image, the domain read from the vectors by a linear probe and by a 10-NN
vote (balanced accuracy, chance 0.5), and the class read by a linear probe. Every variant is scored
on the val split, which chooses (mean precision@10 of both directions); the test split is read for
the chosen variant and the served baseline only.

- raw: the pooled content code;
- centred (what serve.ContentIndexes serves, the baseline): less its domain's mean training code;
- coral: centred, then whitened by its domain's covariance (shrunk towards the identity), so both
  domains' codes share first and second moments (CORAL, Sun et al. 2016);
- pair head: centred, then a linear head trained by InfoNCE to map each training image and its DRIT
  translation into the other domain onto one vector (the shared projection head issue 30 proposes).

    python -m bench.search_vectors [--model models/translation/drit.pt] [--data data/images]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from bench.results import write_result
from pipeline.devices import seed_everything
from translation.images import artifacts
from translation.images.data import ImageData
from pipeline.disentanglement import linear_probe
from translation.images.evaluate import codes, knn_probe, translate_many
from translation.images.checkpoints import load_model

KEYS = ("precision@10_a2b", "precision@10_b2a", "probe_to_domain_linear", "probe_to_domain_knn", "probe_to_class")


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-12)


def scores(vectors: dict, data: ImageData, held: str) -> dict:
    """The measures of one variant ({split: vectors}) on the `held` splits (val or test): precision@10
    both ways and the probes, fitted on the train splits."""
    out = {}
    for q, o in (("a", "b"), ("b", "a")):
        top = np.argsort(-unit(vectors[f"{q}_{held}"]) @ unit(vectors[f"{o}_train"]).T, axis=1)[:, :10]
        hits = data.splits[f"{o}_train"].labels[top] == data.splits[f"{q}_{held}"].labels[:, None]
        out[f"precision@10_{q}2{o}"] = float(hits.mean())
    tr, te = (np.concatenate([vectors[f"a_{s}"], vectors[f"b_{s}"]]) for s in ("train", held))
    dom_tr, dom_te = (np.r_[np.zeros(len(vectors[f"a_{s}"])), np.ones(len(vectors[f"b_{s}"]))] for s in ("train", held))
    out["probe_to_domain_linear"] = linear_probe(tr, dom_tr, te, dom_te, balanced=True, max_iter=300)
    out["probe_to_domain_knn"] = knn_probe(tr, dom_tr, te, dom_te)
    labels = {s: np.r_[data.splits[f"a_{s}"].labels, data.splits[f"b_{s}"].labels] for s in ("train", held)}
    out["probe_to_class"] = linear_probe(tr, labels["train"], te, labels[held], max_iter=300)
    return out


def whitener(x: np.ndarray, shrink: float) -> np.ndarray:
    """(C + εI)^-1/2 of x's covariance C shrunk towards its mean variance: (1-s)·C + s·tr(C)/d·I."""
    cov = np.cov(x, rowvar=False)
    cov = (1 - shrink) * cov + shrink * np.trace(cov) / len(cov) * np.eye(len(cov))
    w, u = np.linalg.eigh(cov)
    return (u * w.clip(1e-9) ** -0.5) @ u.T


def pair_head(pairs_a: np.ndarray, pairs_b: np.ndarray, dim: int, steps: int, seed: int,
              temperature: float = 0.1, batch: int = 256) -> torch.nn.Linear:
    """A linear head h with h(row i of pairs_a) ≈ h(row i of pairs_b) against the batch's other rows
    (symmetric InfoNCE on unit vectors)."""
    torch.manual_seed(seed)
    xa, xb = (torch.tensor(p, dtype=torch.float32) for p in (pairs_a, pairs_b))
    head = torch.nn.Linear(xa.shape[1], dim)
    opt = torch.optim.Adam(head.parameters(), 1e-3)
    labels = torch.arange(batch)
    for _ in range(steps):
        i = torch.randint(len(xa), (batch,))
        sim = F.normalize(head(xa[i]), dim=1) @ F.normalize(head(xb[i]), dim=1).T / temperature
        loss = (F.cross_entropy(sim, labels) + F.cross_entropy(sim.T, labels)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
    return head


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(artifacts.MODEL))
    ap.add_argument("--data", default=str(artifacts.DATA))
    ap.add_argument("--pool", type=int, default=4)
    ap.add_argument("--shrink", type=float, nargs="+", default=[0.3, 0.6])
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--head-steps", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    seed_everything(args.seed, args.threads)
    data = ImageData.load(args.data)
    model, _ = load_model(args.model)
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        raw = {s: codes(model, data.splits[s].images, s[0], args.pool)[0] for s in data.splits}
        # each training image's DRIT translation into the other domain, coded as that domain's image
        translated = {d: codes(model, translate_many(model, data.splits[f"{d}_train"].images, f"{d}2{o}", 1, args.seed)[:, 0],
                               o, args.pool)[0] for d, o in (("a", "b"), ("b", "a"))}
    mean = {d: raw[f"{d}_train"].mean(0) for d in ("a", "b")}
    centred = {s: c - mean[s[0]] for s, c in raw.items()}
    variants = {"raw": raw, "centred": centred}
    for shrink in args.shrink:
        w = {d: whitener(centred[f"{d}_train"], shrink) for d in ("a", "b")}
        variants[f"coral (shrink {shrink:g})"] = {s: c @ w[s[0]] for s, c in centred.items()}
    head = pair_head(np.concatenate([centred["a_train"], translated["b"] - mean["a"]]),
                     np.concatenate([translated["a"] - mean["b"], centred["b_train"]]),
                     args.head_dim, args.head_steps, args.seed)
    with torch.no_grad():
        variants[f"pair head ({args.head_dim})"] = {s: head(torch.tensor(c, dtype=torch.float32)).numpy()
                                                    for s, c in centred.items()}
    val = {}
    for name, vectors in variants.items():
        val[name] = scores(vectors, data, "val")
        print(f"val  {name:24s} " + "  ".join(f"{k} {v:.3f}" for k, v in val[name].items()), flush=True)
    chosen = max(val, key=lambda n: val[n]["precision@10_a2b"] + val[n]["precision@10_b2a"])
    test = {name: scores(variants[name], data, "test") for name in dict.fromkeys(["centred", chosen])}
    for name, r in test.items():
        print(f"test {name:24s} " + "  ".join(f"{k} {v:.3f}" for k, v in r.items()), flush=True)
    write_result("search_vectors", title="Search vectors for cross-domain content search (post-hoc, one model)",
                 protocol={"selected_on": "val: every variant scored on a_val/b_val; the one with the best mean "
                                          "precision@10 of both directions is chosen",
                           "reported_on": "test: a_test/b_test, for the chosen variant and the served baseline only"},
                 measures=f"One trained DRIT ({args.model}, its data {args.data}); content maps pooled {args.pool}×"
                          f"{args.pool}; variants as bench/search_vectors.py describes (pair head: {args.head_dim} dims, "
                          f"{args.head_steps} steps). Precision@10 of the other domain's training images per held-out "
                          "image; domain probes balanced (chance 0.5). Baseline: centred, what the service searches.",
                 seeds=[args.seed], per_seed={args.seed: {"val": val, "test": test}},
                 summary={"chosen": chosen, "val": val, "test": test}, baselines={"centred": test["centred"]},
                 seconds=time.perf_counter() - start,
                 table={"columns": ["vector", "split"] + list(KEYS),
                        "rows": [[n + (" (chosen on val)" if n == chosen else ""), "val"] + [r[k] for k in KEYS]
                                 for n, r in val.items()]
                        + [[n, "test"] + [r[k] for k in KEYS] for n, r in test.items()]})


if __name__ == "__main__":
    main()
