"""MacridVAE's baselines under the same protocol (most popular, Mult-VAE, EASE with λ chosen on the
validation users) and its disentanglement on the known item categories (NMI, traversal) and, where
the generator's factors are known, DCI / MIG / probes (pipeline.disentanglement)."""
from pathlib import Path

import numpy as np
import torch

from pipeline.devices import seed_everything
from pipeline.disentanglement import importance_heatmap, score as disentanglement_scores
from pipeline.figures import not_applicable
from pipeline.progress import say
from recsys import plots, artifacts
from recsys.baselines import EASE, MostPopular
from recsys.config import EvaluateRecsys
from recsys.dataset import InteractionData
from recsys.disentanglement import contingency, nmi, traverse
from recsys.metrics import evaluate_scores
from recsys.multvae import MultVAE
from recsys.train import dense, fit, score_users


def baselines(cfg: EvaluateRecsys, data: InteractionData, device, multvae_sizes: list | None = None) -> dict:
    """Most-popular, Mult-VAE and EASE on the test users. Mult-VAE: the size of `multvae_sizes`
    (MultVAEConfigs; default: cfg.multvae alone) whose early-stopped validation NDCG@100 is best."""
    test = lambda scores: evaluate_scores(scores, data.test_foldin, data.test_target)
    val = lambda scores: evaluate_scores(scores, data.val_foldin, data.val_target)["ndcg@100"]["mean"]
    out = {"most_popular": test(MostPopular(data.train).score(data.test_foldin))}
    tried = []
    for size in multvae_sizes or [cfg.multvae]:
        seed_everything(cfg.seed, cfg.threads)  # the baseline's draws do not depend on what ran before
        multvae = MultVAE(data.n_items, size)
        fitted = fit(multvae, data, cfg.multvae_train, cfg.seed, device, "evaluate_recsys/multvae")
        tried.append((fitted.best_ndcg, size, multvae))
    best_val, size, multvae = max(tried, key=lambda t: t[0])
    out["multvae"] = test(score_users(multvae, data.test_foldin, device))
    if multvae_sizes:
        edge = len(tried) > 1 and size in (tried[0][1], tried[-1][1])   # the grid (in size order) may be too narrow
        if edge:
            say("evaluate_recsys", f"Mult-VAE: size {size.hidden}x{size.latent} is at the edge of the size grid; widen it")
        out["multvae"] |= {"size": {"hidden": size.hidden, "latent": size.latent}, "size_at_grid_edge": edge,
                           "validation_ndcg@100": {f"{t[1].hidden}x{t[1].latent}": t[0] for t in tried}}
    if data.n_items <= cfg.ease_max_items:
        # λ chosen on the validation users, as the other models' early stopping is; a choice at the
        # grid's edge says the grid is too narrow (the baseline was not tuned as well as it could be)
        grid = {lam: val(EASE(data.train, lam).score(data.val_foldin)) for lam in sorted(cfg.ease_lambdas)}
        lam = max(grid, key=grid.get)
        edge = len(grid) > 1 and lam in (min(grid), max(grid))
        if edge:
            say("evaluate_recsys", f"EASE: λ {lam} is at the edge of evaluate_recsys.ease_lambdas; widen the grid")
        out["ease"] = {**test(EASE(data.train, lam).score(data.test_foldin)), "lambda": lam,
                       "lambda_at_grid_edge": edge, "validation_ndcg@100": {str(k): v for k, v in grid.items()}}
    else:
        say("evaluate_recsys", f"EASE skipped: {data.n_items} items > ease_max_items {cfg.ease_max_items}")
    return out


def disentanglement(model, data: InteractionData, cfg: EvaluateRecsys) -> dict:
    concepts = model.item_concepts().cpu().numpy()
    out = {"concept_sizes": np.bincount(concepts, minlength=model.cfg.concepts).tolist()}
    known = data.item_category >= 0
    labels = [data.category_names[c] if c >= 0 else "?" for c in data.item_category]
    if known.any() and data.category_names:
        score = nmi(concepts[known], data.item_category[known])
        table = contingency(concepts[known], data.item_category[known], model.cfg.concepts, len(data.category_names))
        plots.concept_heatmap(table, data.category_names, artifacts.CONCEPTS_PLOT, score)
        out["nmi_concept_category"] = score
    else:
        not_applicable(artifacts.CONCEPTS_PLOT, "concepts × item categories", "the data has no item categories")
    user = int(np.asarray(data.test_foldin.sum(1)).ravel().argmax())
    trav = traverse(model, dense(data.test_foldin[user], "cpu"), cfg.traversal_steps)
    plots.traversal_table(trav, data.item_ids, labels, artifacts.TRAVERSAL_PLOT)
    out["traversal"] = {"user": str(data.user_ids["test"][user]), "concept": trav["concept"],
                        "dimension": trav["dimension"],
                        "distinct_top_items": len({i for row in trav["top_items"] for i in row})}
    if data.item_factors:
        out["factors"] = factor_scores(model, data, cfg.seed, artifacts.DCI_PLOT)
    else:
        not_applicable(artifacts.DCI_PLOT, "DCI of the item codes", "the data has no known factors (only the generator keeps them)")
    return out


def factor_scores(model, data: InteractionData, seed: int, heatmap: Path) -> dict:
    """DCI, MIG and probes of the items' codes (K concept logits, then the d embedding dimensions)
    against the factors the generator drew them with."""
    with torch.no_grad():
        codes = np.concatenate([model.concept_logits().cpu().numpy(), model.item_vectors().cpu().numpy()], axis=1)
    factors = {name: (v.astype(np.int64) if name == "category" else v.astype(np.float64))
               for name, v in data.item_factors.items()}
    result = disentanglement_scores(codes, factors, seed)
    importance_heatmap(result, list(factors), heatmap,
                       f"MacridVAE items: {model.cfg.concepts} concept logits, then {codes.shape[1] - model.cfg.concepts} "
                       "embedding dims")
    return result
