"""DRIT on an image benchmark, several seeds, against its own baselines in the same run:
domain-adaptation accuracy of a classifier trained on translated source (in the attributes of the
unlabelled target pool, and under prior draws) beside source-only (plain, and as a practitioner
trains it), DANN and target-only (same classifier, same budget); content preservation; diversity
ratio; probes of the content code and the search vector; cross-domain content search precision@10
(per class in the JSON); for
Glyphs the attribute-swap L1 against copy-the-input; and the latency of translating one image
with 10 attribute codes beside one forward pass of the judge classifier.

    python -m bench.translation --data mnist_m [--seeds 0 1 2] [-S train_translation.train.iterations=1200]

The benches' classifiers (judge, source-only, DANN, translated source, target-only) train
BENCH_CLASSIFIER_STEPS steps whatever the default run's budget (evaluate_translation.classifier.steps),
so their figures stay comparable when that budget moves; an -S override still wins.
"""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from bench.results import verdict, verdict_note, write_result
from bench.seeds import run_seeds, seed_bench_parser, seed_table
from pipeline.cluster import dask_client
from pipeline.devices import seed_everything, torch_device
from pipeline.config import from_dict, read_params_with
from translation.images.classifier import Classifier
from translation.images.config import EvaluateTranslation, IndexTranslation, TrainTranslation
from translation.images.sources import PrepareImages, build_glyphs, build_mnist_m
from translation.images.model import DRIT
from translation.images.evaluate import evaluate, translate_batch
from translation.images.data import encode_png, to_tensor
from translation.images.plots import translation_grid
from translation.images.serve import ContentIndexes, precision_at_k
from translation.images.train import fit

KEYS = ("da_translated", "da_translated_prior", "da_source_only", "da_source_only_plain", "da_dann", "da_target_only",
        "da_gain_over_source_only", "da_gain_over_dann", "content_preservation",
        "diversity_ratio", "frechet_classifier_features", "probe_content_to_class", "probe_attribute_to_class",
        "probe_content_to_domain", "probe_search_to_domain", "probe_search_to_domain_knn", "probe_search_to_class", "probe_attribute_to_domain",
        "precision@10_a2b", "precision@10_b2a", "swap_l1", "swap_l1_copy_input", "swap_l1_copy_reference",
        "outside_target_range", "outside_target_range_a2b", "outside_target_range_b2a", "outside_target_range_real")
# issue 45's targets on MNIST-M-lite: (measure, bound, higher is better); met when mean ∓ 2 s.e. clears
# the bound, and the DA gain on every seed
MNIST_M_TARGETS = (("probe_search_to_domain_knn", 0.65, False), ("precision@10_a2b", 0.80, True),
                   ("precision@10_b2a", 0.80, True), ("content_preservation", 0.85, True),
                   ("da_gain_over_source_only", 0.10, True), ("outside_target_range", 0.02, False))


BENCH_CLASSIFIER_STEPS = 480   # what every translation figure since 2026-11 was measured with
BENCH_DEFAULTS = [f"evaluate_translation.classifier.steps={BENCH_CLASSIFIER_STEPS}"]   # before any -S override


def configs(overrides: list[str], source: str):
    p = read_params_with(BENCH_DEFAULTS + overrides + [f"prepare_images.source={source}"])
    return (from_dict(PrepareImages, p["prepare_images"], "prepare_images"),
            from_dict(TrainTranslation, p["train_translation"], "train_translation").for_source(source),
            from_dict(EvaluateTranslation, p["evaluate_translation"], "evaluate_translation"),
            from_dict(IndexTranslation, p["index_translation"], "index_translation").content_pool)


def latency_ms(model: DRIT, image: np.ndarray, codes: int = 10, repeats: int = 50) -> dict[str, float]:
    """Median time of translating one image with `codes` attribute codes, and of one judge forward."""
    judge = Classifier(10, 16).eval()
    z = model.random_attribute(codes, generator=torch.Generator().manual_seed(0))
    timings = {"translate_1x10": [], "classifier_forward_1": []}
    with torch.no_grad():
        for _ in range(repeats):
            t = time.perf_counter()
            translate_batch(model, image[None], "a2b", z=z)
            timings["translate_1x10"].append(time.perf_counter() - t)
            t = time.perf_counter()
            judge(to_tensor(image[None]))
            timings["classifier_forward_1"].append(time.perf_counter() - t)
    return {k: 1000 * float(np.median(v)) for k, v in timings.items()}


def train_drit(data, train_cfg, seed: int, name: str) -> tuple[DRIT, float]:
    """(DRIT trained on `data` for the seed, on CPU in eval mode; training seconds)."""
    seed_everything(seed, train_cfg.threads)
    model = DRIT(train_cfg.model).to(torch_device())
    start = time.perf_counter()
    fit(model, data, train_cfg.train, seed, torch_device(), name)
    return model.cpu().eval(), time.perf_counter() - start


def run_seed(seed: int, client, args, cfgs) -> dict:
    prep, train_cfg, eval_cfg, content_pool = cfgs
    data = (build_mnist_m(prep.mnist_m, seed, client) if args.data == "mnist_m"
            else build_glyphs(prep.glyphs, seed, client, prep.size))
    model, train_s = train_drit(data, train_cfg, seed, f"bench/{args.data}/seed{seed}")
    metrics, _ = evaluate(model, data, eval_cfg.classifier, seed, eval_cfg.codes_per_input, eval_cfg.da_copies,
                          content_pool, prep.glyphs if args.data == "glyphs" else None,
                          say=lambda m: print(f"[bench seed {seed}] {m}", flush=True))
    out = {"train_seconds": train_s, "iterations": train_cfg.train.iterations} | metrics
    content = ContentIndexes.build(model, data, content_pool, "Flat", 1)
    out |= precision_at_k(model, data, content, 10)
    # the same measures on the val split: what a lever or schedule is chosen on (test is for reports)
    val, _ = evaluate(model, data, eval_cfg.classifier, seed, eval_cfg.codes_per_input, eval_cfg.da_copies,
                      content_pool, prep.glyphs if args.data == "glyphs" else None, say=lambda m: None, held="val")
    out["val"] = {k: v for k, v in (val | precision_at_k(model, data, content, 10, "val")).items() if k in KEYS}
    out |= latency_ms(model, data.splits["a_test"].images[0])
    Path(args.out).mkdir(parents=True, exist_ok=True)
    Path(args.out, f"{args.data}_grid_seed{seed}.png").write_bytes(encode_png(translation_grid(model, data, 8, 8, seed)))
    return out


ROWS = (("da_translated", "DA accuracy: classifier on translated source (target-pool attributes)"),
        ("da_translated_prior", "DA accuracy: translated source under prior attribute draws"),
        ("da_source_only", "baseline: source-only, as a practitioner trains it (per-image standardisation, colour jitter)"),
        ("da_source_only_plain", "baseline: source-only, plain"),
        ("da_dann", "baseline: DANN (same backbone and steps)"),
        ("da_target_only", "baseline: target-only classifier (ceiling)"),
        ("content_preservation", "content preservation (the judge on translations)"),
        ("diversity_ratio", "diversity ratio to real target images"),
        ("frechet_classifier_features", "Fréchet distance in the judge's features (not FID)"),
        ("outside_target_range", "translations outside the target's background range (worse way)"),
        ("outside_target_range_real", "reference: real held-out target images outside it"),
        ("probe_content_to_class", "probe: content code → class"),
        ("probe_content_to_domain", "probe: content code → domain (balanced; chance 0.5)"),
        ("probe_search_to_domain", "probe: search vector (content less its domain's mean) → domain"),
        ("probe_search_to_domain_knn", "probe: search vector → domain, 10-NN vote"),
        ("probe_search_to_class", "probe: search vector → class"),
        ("precision@10_a2b", "content search precision@10, A → B"),
        ("precision@10_b2a", "content search precision@10, B → A"),
        ("probe_attribute_to_class", "probe: attribute code → class"),
        ("swap_l1", "attribute-swap L1 to the true render"),
        ("swap_l1_copy_input", "baseline: swap L1 of copying the input"),
        ("train_seconds", "training seconds"))


def target_verdicts(table: dict) -> dict:
    """Issue 45's targets judged on the seeds (the DA gain must clear its bound on every seed too)."""
    out = {}
    for key, bound, higher in MNIST_M_TARGETS:
        if key in table:
            out[key] = verdict(table[key]["seeds"], bound, higher)
    if "da_gain_over_source_only" in out:
        gain = out["da_gain_over_source_only"]
        gain["met"] = gain["met"] and all(gain["seeds_meeting"])
    return out


# what makes each source's val split its own (translation.images.sources)
VAL_SPLIT = {"mnist_m": "digits and photos of their own", "glyphs": "glyphs at offsets no train or test glyph has"}


def levers_record(results: Path) -> list:
    """The levers tried so far (kept from the previous result file), with bench.drit_levers' val arms."""
    old, levers = results / "translation_mnist_m.json", results / "drit_levers.json"
    tried = json.loads(old.read_text()).get("levers_tried", []) if old.exists() else []
    tried = [t for t in tried if t.get("see") != "docs/results/drit_levers.json"]
    if levers.exists():
        d = json.loads(levers.read_text())
        tried.append({"lever": "search-vector domain adversary on a memory bank; spatial attribute map; both; a background prior "
                               f"(bench.drit_levers at {d['git_revision']}, seeds {d['seeds']}, val split)",
                      "result": {n: {k: round(v, 4) if isinstance(v, float) else v for k, v in a.items() if k != "overrides"}
                                 for n, a in d["arms"].items()},
                      "kept": d["summary"]["chosen"], "see": "docs/results/drit_levers.json"})
    return tried


def write(runs: dict, args, started: float) -> None:
    seeds = sorted(runs)
    table = seed_table(runs, seeds, KEYS + ("train_seconds", "translate_1x10", "classifier_forward_1"), quiet=True)
    verdicts = target_verdicts(table) if args.data == "mnist_m" else {}
    rows = [[label, table[k]] + table[k]["seeds"] for k, label in ROWS if k in table]
    write_result(f"translation_{args.data}",
                 title=f"Image translation (DRIT) on {'MNIST → MNIST-M-lite' if args.data == 'mnist_m' else 'Glyphs'}",
                 measures="DRIT trained per seed, then scored against baselines of the same run: domain-adaptation "
                          "accuracy of a classifier trained on translated source beside source-only (plain, and with "
                          "per-image standardisation and colour jitter), DANN and target-only (same classifier and "
                          "budget), content preservation and Fréchet distance by the project's judge classifier, "
                          "diversity, linear probes on both codes and on the search vector (domain probes as balanced "
                          "accuracy), cross-domain content search precision@10 over a Flat index of the training images"
                          + (", attribute-swap L1 against copy-the-input" if args.data == "glyphs" else "") + ".",
                 seeds=seeds, per_seed=runs, summary=table,
                 baselines={k: table[k] for k in ("da_source_only", "da_source_only_plain", "da_dann", "da_target_only",
                                                  "swap_l1_copy_input") if k in table},
                 overrides=args.set, wall_seconds=time.perf_counter() - started, verdicts=verdicts,
                 notes=[verdict_note(k, v) for k, v in verdicts.items()],
                 **({"levers_tried": levers_record(Path(args.results))} if args.data == "mnist_m" else {}),
                 val=seed_table({s: runs[s]["val"] for s in seeds}, seeds, KEYS, quiet=True),
                 protocol={"selected_on": f"val: the val split (a_val, b_val: {VAL_SPLIT[args.data]}) is "
                                          "what a lever or schedule is chosen on (this file's val block); this "
                                          "run chose nothing",
                           "reported_on": "test: a_test, b_test, read once for the model the settings give",
                           "not_reselected": "issue 45's levers (search adversary, spatial attribute map) were "
                                             "weighed on val by bench.drit_levers, whose rule names the arm kept "
                                             "(levers_tried); DRIT's older settings in params.yaml "
                                             "(scales, noise, lr, content-discriminator schedule, search-vector "
                                             "centring) were chosen on test before the val split existed"},
                 table={"columns": ["measure", "mean ± s.e."] + [f"seed {s}" for s in seeds], "rows": rows},
                 out=Path(args.results))


def main():
    ap = seed_bench_parser(__doc__, "translation grids and the per-seed partial file")
    ap.add_argument("--data", choices=["mnist_m", "glyphs"], default="mnist_m")
    args = ap.parse_args()
    start = time.perf_counter()
    # Read once: every seed runs the same settings, even if params.yaml changes during the run.
    cfgs = configs(args.set, args.data)
    with dask_client() as client:
        runs = run_seeds(args.seeds, lambda s: run_seed(s, client, args, cfgs),
                         Path(args.out, f"translation_{args.data}.partial.json"),
                         after_each=lambda runs: write(runs, args, start))
    print(f"\n{args.data}, seeds {args.seeds}, overrides {args.set}")
    table = seed_table(runs, args.seeds, KEYS + ("train_seconds", "translate_1x10", "classifier_forward_1"))
    t = {k: v["mean"] for k, v in table.items()}
    print("ratios: translated / source-only accuracy "
          f"{t['da_translated'] / max(t['da_source_only'], 1e-9):.2f}×, translated / target-only "
          f"{t['da_translated'] / t['da_target_only']:.2f}, translate(1 image, 10 codes) / judge forward "
          f"{t['translate_1x10'] / t['classifier_forward_1']:.1f}×"
          + (f", swap L1 / copy-input L1 {t['swap_l1'] / t['swap_l1_copy_input']:.2f}" if "swap_l1" in t else ""))
    print(f"total {time.perf_counter() - start:.0f}s on {platform.node()} ({platform.machine()}, "
          f"{torch.get_num_threads()} torch threads)")


if __name__ == "__main__":
    main()
