"""IVF against exact search for serving MacridVAE's score on a synthetic catalogue of 1M items.

The catalogue imitates MacridVAE: K concept prototypes, unit item embeddings grouped in
sub-clusters around them, concept assignments c_ik = softmax_k(cos(h_i, m_k)/tau). A request is
served as the service does (recsys.serve.threshold_topk): K concept codes search one index of all
items, the lists are merged with the exact score and the threshold test. Reports build time,
queries per second (one request at a time) and recall@100 of the IVF-served top-100 against the
exactly served top-100, for a sweep of nprobe, with speed ratios to exact.

    python -m bench.ivf_1m [--items 1000000] [--nlist 1024] [--spread 0.06]   # docs/results/ivf_1m_spread<s>.json
"""
from __future__ import annotations

import argparse
import time

import faiss
import numpy as np

from bench.results import write_result
from pipeline.indexes import VectorIndex
from recsys.serve import threshold_topk


def unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def catalogue(n: int, concepts: int, dim: int, subclusters: int, tau: float, spread: float, seed: int):
    rng = np.random.default_rng(seed)
    prototypes = unit(rng.normal(size=(concepts, dim)))
    centers = unit(prototypes[:, None] + 0.9 * unit(rng.normal(size=(concepts, subclusters, dim))))
    concept_of = rng.integers(concepts, size=n)
    items = unit(centers[concept_of, rng.integers(subclusters, size=n)] + spread * rng.normal(size=(n, dim)))
    logits = items @ prototypes.T / tau
    log_c = (logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)).astype(np.float32)
    return items, log_c, centers


def user_codes(centers, n: int, seed: int):
    rng = np.random.default_rng(seed + 1)
    k, s, d = centers.shape
    picked = centers[np.arange(k)[None, :], rng.integers(s, size=(n, k))]
    return unit(picked + 0.1 * rng.normal(size=(n, k, d)))  # (n, K, d)


def serve(index, items, log_c, tau, codes, k: int):
    out = []
    log_w = np.zeros(codes.shape[1])
    start = time.perf_counter()
    for q in codes:
        out.append(threshold_topk(index, items, log_c, tau, q, log_w, k)[0])
    return out, len(codes) / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--concepts", type=int, default=7)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--tau", type=float, default=0.1)
    ap.add_argument("--nlist", type=int, default=1024)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--nprobe", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--spread", type=float, default=0.06, help="item noise around sub-cluster centres (per dim)")
    args = ap.parse_args()
    faiss.omp_set_num_threads(args.threads)
    items, log_c, centers = catalogue(args.items, args.concepts, args.dim, 64, args.tau, args.spread, 0)
    codes = user_codes(centers, args.queries, 0)
    ids = np.arange(len(items))
    print(f"{args.items} items, {args.concepts} concepts, d={args.dim}, tau={args.tau}, spread={args.spread}, "
          f"{args.queries} requests of top-100, {args.threads} threads")

    t = time.perf_counter()
    exact = VectorIndex.build(items, ids, "Flat", "ip")
    exact_build = time.perf_counter() - t
    t = time.perf_counter()
    ivf = VectorIndex.build(items, ids, f"IVF{args.nlist},Flat", "ip")
    ivf_build = time.perf_counter() - t
    print(f"build: exact {exact_build:.1f}s, IVF{args.nlist} {ivf_build:.1f}s")

    truth, exact_qps = serve(exact, items, log_c, args.tau, codes, 100)
    print(f"{'index':>16s} {'recall@100':>11s} {'QPS':>9s} {'speed vs exact':>15s}")
    print(f"{'Flat (exact)':>16s} {1.0:>11.4f} {exact_qps:>9.1f} {1.0:>15.1f}")
    rows = [["Flat (exact)", 1.0, exact_qps, 1.0]]
    sweep = {}
    for nprobe in args.nprobe:
        ivf.set_nprobe(nprobe)
        got, qps = serve(ivf, items, log_c, args.tau, codes, 100)
        recall = float(np.mean([len(set(g.tolist()) & set(t.tolist())) / 100 for g, t in zip(got, truth)]))
        print(f"{f'IVF nprobe={nprobe}':>16s} {recall:>11.4f} {qps:>9.1f} {qps / exact_qps:>15.1f}")
        rows.append([f"IVF{args.nlist}, nprobe {nprobe}", recall, qps, qps / exact_qps])
        sweep[nprobe] = {"recall@100": recall, "qps": qps, "speed_vs_exact": qps / exact_qps}
    write_result(f"ivf_1m_spread{args.spread:g}", title=f"IVF against exact search, {args.items:,} items, spread {args.spread:g}",
                 measures=f"{args.items:,} synthetic unit item embeddings (d={args.dim}, {args.concepts} concept prototypes "
                          f"with 64 sub-clusters each, per-dimension noise {args.spread:g} around their centres, "
                          f"c_ik = softmax(cos/τ), τ={args.tau:g}); {args.queries} requests for top-100 one at a time, "
                          "served as the service does (one index searched with every concept code, merged under "
                          "MacridVAE's score by the threshold test), {args.threads} FAISS threads. Recall@100 is "
                          "against the same merge over the exact (Flat) index, the baseline of the same run. "
                          "Target: recall@100 ≥ 0.98 at ≥ 10× exact.".replace("{args.threads}", str(args.threads)),
                 summary=sweep, baselines={"flat": {"qps": exact_qps, "build_seconds": exact_build}},
                 build_seconds={"flat": exact_build, f"ivf{args.nlist}": ivf_build}, seeds=[0],
                 table={"columns": ["index", "recall@100", "QPS", "speed vs exact"], "rows": rows},
                 notes=[f"build: Flat {exact_build:.1f} s, IVF{args.nlist} {ivf_build:.1f} s"])


if __name__ == "__main__":
    main()
