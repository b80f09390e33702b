"""Per-concept IVF indexes against exact per-concept search on a synthetic catalogue of 1M items.

The catalogue imitates MacridVAE item embeddings: K concepts of unit vectors in d dimensions, each
concept a mixture of sub-clusters. Queries are user concept codes (one per concept), searched as
the service does: each concept's index with that concept's code, lists merged. Reports build time,
queries per second (one query at a time, as a request is served) and recall@100 of the merged IVF
top-100 against the merged exact top-100, for a sweep of nprobe, with speed ratios to exact.

    python -m bench.ivf_1m [--items 1000000] [--nlist 1024]
"""
from __future__ import annotations

import argparse
import time

import faiss
import numpy as np

from pipeline.indexes import VectorIndex, merge_topk


def catalogue(n: int, concepts: int, dim: int, subclusters: int, seed: int):
    rng = np.random.default_rng(seed)
    concept_of = rng.integers(concepts, size=n)
    centers = rng.normal(size=(concepts, subclusters, dim)).astype(np.float32)
    sub = rng.integers(subclusters, size=n)
    x = centers[concept_of, sub] + 0.6 * rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, concept_of, centers


def queries(centers, n: int, seed: int):
    rng = np.random.default_rng(seed + 1)
    k, s, d = centers.shape
    q = centers[np.arange(k)[None, :], rng.integers(s, size=(n, k))] + 0.8 * rng.normal(size=(n, k, d))
    return (q / np.linalg.norm(q, axis=2, keepdims=True)).astype(np.float32)  # (n, K, d)


def serve(indexes, codes, k: int):
    """Merged top-k per query, one query at a time; returns ids and queries per second."""
    out = []
    start = time.perf_counter()
    for q in codes:
        results = [(s[0], i[0]) for s, i in (index.search(q[c], k) for c, index in enumerate(indexes))]
        out.append(merge_topk(results, k)[1])
    return out, len(codes) / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--concepts", type=int, default=7)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--nlist", type=int, default=1024)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--nprobe", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    faiss.omp_set_num_threads(args.threads)
    x, concept_of, centers = catalogue(args.items, args.concepts, args.dim, 64, 0)
    codes = queries(centers, args.queries, 0)
    members = [np.flatnonzero(concept_of == c) for c in range(args.concepts)]
    print(f"{args.items} items, {args.concepts} concepts of ~{args.items // args.concepts} items, d={args.dim}, "
          f"{args.queries} queries, {args.threads} threads")

    t = time.perf_counter()
    exact = [VectorIndex.build(x[m], m, "Flat", "ip") for m in members]
    exact_build = time.perf_counter() - t
    t = time.perf_counter()
    ivf = [VectorIndex.build(x[m], m, f"IVF{args.nlist},Flat", "ip") for m in members]
    ivf_build = time.perf_counter() - t
    print(f"build: exact {exact_build:.1f}s, IVF{args.nlist} {ivf_build:.1f}s")

    truth, exact_qps = serve(exact, codes, 100)
    print(f"{'index':>16s} {'recall@100':>11s} {'QPS':>9s} {'speed vs exact':>15s}")
    print(f"{'Flat (exact)':>16s} {1.0:>11.4f} {exact_qps:>9.1f} {1.0:>15.1f}")
    for nprobe in args.nprobe:
        for index in ivf:
            index.set_nprobe(nprobe)
        got, qps = serve(ivf, codes, 100)
        recall = np.mean([len(set(g) & set(t)) / 100 for g, t in zip(got, truth)])
        print(f"{f'IVF nprobe={nprobe}':>16s} {recall:>11.4f} {qps:>9.1f} {qps / exact_qps:>15.1f}")


if __name__ == "__main__":
    main()
