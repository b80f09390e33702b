"""Approximate (IVF, IVF-PQ) against exact search for serving MacridVAE's score on a synthetic
catalogue of millions of items.

The catalogue imitates MacridVAE: K concept prototypes, unit item embeddings grouped in
sub-clusters around them, concept assignments c_ik = softmax_k(cos(h_i, m_k)/tau). A request is
served as the service does (recsys.serve.threshold_topk): K concept codes search one index of all
items, the lists are merged with the exact score and the threshold test. Reports build time,
queries per second (one request at a time) and recall@100 of the IVF-served top-100 against the
exactly served top-100, for a sweep of nprobe, with speed ratios to exact, and the index's bytes per item.

The catalogue is made and indexed in shards (`--shard` items at a time): the approximate index is
trained on a sample and filled shard by shard, and the exact re-scoring of candidates reads the
item vectors from a memory-mapped file, so only the index itself has to stay in memory.

    python -m bench.ivf_search --spread 0.06 --train-size 1000000   # the 1M IVF runs (results in git history)
    python -m bench.ivf_search --items 10000000 --factory IVF4096,PQ25 --name ivf_pq_10m
"""
from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from bench.results import write_result
from pipeline.cluster import dask_client
from pipeline.indexes import VectorIndex
from recsys.serve import threshold_topk


def unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def catalogue(n: int, concepts: int, dim: int, subclusters: int, tau: float, spread: float, seed: int,
              shard: int = 1_000_000):
    """(prototypes, centres, shards): item shards (unit vectors, log c_ik) drawn one after another."""
    rng = np.random.default_rng(seed)
    prototypes = unit(rng.normal(size=(concepts, dim)))
    centers = unit(prototypes[:, None] + 0.9 * unit(rng.normal(size=(concepts, subclusters, dim))))

    def shards():
        for start in range(0, n, shard):
            m = min(shard, n - start)
            concept_of = rng.integers(concepts, size=m)
            items = unit(centers[concept_of, rng.integers(subclusters, size=m)] + spread * rng.normal(size=(m, dim)))
            logits = items @ prototypes.T / tau
            yield items, (logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)).astype(np.float32)
    return centers, shards()


def write_catalogue(folder: Path, shards, n: int, dim: int, concepts: int):
    """The shards in two memory-mapped files, items (n, dim) and log c (n, K); returns them read-only."""
    items = np.lib.format.open_memmap(folder / "items.npy", "w+", np.float32, (n, dim))
    log_c = np.lib.format.open_memmap(folder / "log_c.npy", "w+", np.float32, (n, concepts))
    start = 0
    for vectors, logs in shards:
        items[start:start + len(vectors)], log_c[start:start + len(vectors)] = vectors, logs
        start += len(vectors)
        print(f"  catalogue: {start:,}/{n:,} items", flush=True)
    items.flush(), log_c.flush()
    del items, log_c
    return np.load(folder / "items.npy", mmap_mode="r"), np.load(folder / "log_c.npy", mmap_mode="r")


def sharded(items, shard: int):
    for start in range(0, len(items), shard):
        yield np.asarray(items[start:start + shard]), np.arange(start, min(start + shard, len(items)))


def user_codes(centers, n: int, seed: int):
    rng = np.random.default_rng(seed + 1)
    k, s, d = centers.shape
    picked = centers[np.arange(k)[None, :], rng.integers(s, size=(n, k))]
    return unit(picked + 0.1 * rng.normal(size=(n, k, d)))  # (n, K, d)


def serve(index, items, log_c, tau, codes, k: int, oversample: int = 1):
    out = []
    log_w = np.zeros(codes.shape[1])
    start = time.perf_counter()
    for q in codes:
        out.append(threshold_topk(index, items, log_c, tau, q, log_w, k, oversample=oversample)[0])
    return out, len(codes) / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--concepts", type=int, default=7)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--tau", type=float, default=0.1)
    ap.add_argument("--nlist", type=int, default=1024)
    ap.add_argument("--factory", default=None, help="FAISS factory of the approximate index (default IVF<nlist>,Flat)")
    ap.add_argument("--train-size", type=int, default=200_000, help="items the approximate index is trained on")
    ap.add_argument("--shard", type=int, default=1_000_000, help="items made and indexed at a time")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--nprobe", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    ap.add_argument("--oversample", type=int, nargs="+", default=[1],
                    help="approximate lists start this many times deeper (each value with each nprobe)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--spread", type=float, default=0.06, help="item noise around sub-cluster centres (per dim)")
    ap.add_argument("--dask", action="store_true",
                    help="encode the shards on Dask workers (DASK_SCHEDULER_ADDRESS, else a LocalCluster)")
    ap.add_argument("--name", default=None, help="result name (default ivf_<n>m_spread<s>)")
    args = ap.parse_args()
    factory = args.factory or f"IVF{args.nlist},Flat"
    name = args.name or f"ivf_{args.items // 1_000_000}m_spread{args.spread:g}"
    faiss.omp_set_num_threads(args.threads)
    centers, shards = catalogue(args.items, args.concepts, args.dim, 64, args.tau, args.spread, 0, args.shard)
    codes = user_codes(centers, args.queries, 0)
    print(f"{args.items:,} items, {args.concepts} concepts, d={args.dim}, tau={args.tau}, spread={args.spread}, "
          f"{args.queries} requests of top-100, {args.threads} threads, {factory}")
    with tempfile.TemporaryDirectory(prefix="ivf_search_") as scratch:
        items, log_c = write_catalogue(Path(scratch), shards, args.items, args.dim, args.concepts)
        sample = np.sort(np.random.default_rng(1).choice(args.items, min(args.train_size, args.items), replace=False))
        t = time.perf_counter()
        with dask_client() if args.dask else contextlib.nullcontext() as client:
            approx = VectorIndex.build_from_shards(items[sample], sharded(items, args.shard), factory, "ip",
                                                   client=client)
        approx_build = time.perf_counter() - t
        approx_bytes = approx.bytes_per_item()
        t = time.perf_counter()
        exact = VectorIndex.build_from_shards(items[:1], sharded(items, args.shard), "Flat", "ip")
        exact_build = time.perf_counter() - t
        print(f"build: exact {exact_build:.1f}s, {factory} {approx_build:.1f}s ({approx_bytes:.1f} bytes per item)")

        truth, exact_qps = serve(exact, items, log_c, args.tau, codes, 100)
        exact_bytes = exact.bytes_per_item()
        del exact
        print(f"{'index':>26s} {'recall@100':>11s} {'QPS':>9s} {'speed vs exact':>15s}")
        print(f"{'Flat (exact)':>26s} {1.0:>11.4f} {exact_qps:>9.1f} {1.0:>15.1f}")
        rows = [["Flat (exact)", 1.0, exact_qps, 1.0]]
        sweep = {}
        for nprobe in args.nprobe:
            for oversample in args.oversample:
                approx.set_nprobe(nprobe)
                got, qps = serve(approx, items, log_c, args.tau, codes, 100, oversample)
                recall = float(np.mean([len(set(g.tolist()) & set(t.tolist())) / 100 for g, t in zip(got, truth)]))
                label = f"nprobe {nprobe}" + (f", oversample {oversample}" if oversample > 1 else "")
                print(f"{label:>26s} {recall:>11.4f} {qps:>9.1f} {qps / exact_qps:>15.1f}", flush=True)
                rows.append([f"{factory}, {label}", recall, qps, qps / exact_qps])
                sweep[label] = {"recall@100": recall, "qps": qps, "speed_vs_exact": qps / exact_qps}
    write_result(name, title=f"{factory} against exact search, {args.items:,} items, spread {args.spread:g}",
                 protocol={"selected_on": "nothing chosen: the index settings are the bench's arguments",
                           "reported_on": "queries against exact search over the same items"},
                 measures=f"{args.items:,} synthetic unit item embeddings (d={args.dim}, {args.concepts} concept prototypes "
                          f"with 64 sub-clusters each, per-dimension noise {args.spread:g} around their centres, "
                          f"c_ik = softmax(cos/τ), τ={args.tau:g}), made and indexed in shards of {args.shard:,}; "
                          f"{args.queries} requests for top-100 one at a time, "
                          "served as the service does (one index searched with every concept code, merged under "
                          "MacridVAE's exact score, read from memory-mapped item vectors, by the threshold test; the "
                          "approximate index's lists start `oversample` times deeper), "
                          f"{args.threads} FAISS threads. Recall@100 is against the same merge over the exact "
                          "(Flat) index, the baseline of the same run. Bytes per item: the serialized index with "
                          "its ids.",
                 summary=sweep, baselines={"flat": {"qps": exact_qps, "build_seconds": exact_build,
                                                    "bytes_per_item": exact_bytes}},
                 build_seconds={"flat": exact_build, factory: approx_build},
                 bytes_per_item={"flat": exact_bytes, factory: approx_bytes}, seeds=[0],
                 table={"columns": ["index", "recall@100", "QPS", "speed vs exact"], "rows": rows},
                 notes=[f"build: Flat {exact_build:.1f} s, {factory} {approx_build:.1f} s (trained on "
                        f"{len(sample):,} items{', shards encoded on Dask workers' if args.dask else ''})", f"bytes per item: Flat {exact_bytes:.1f}, {factory} {approx_bytes:.1f}"])


if __name__ == "__main__":
    main()
