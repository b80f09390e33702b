"""Latency and throughput of the HTTP service under concurrent load.

Starts `mdr serve` on the artifacts of the last `dvc repro` in a separate process, then 16 client
threads (each its own HTTP connection) send requests for a fixed number of rounds. Endpoints:
/livez (the framework floor, the baseline), /recommend for known users, /recommend for histories
with concept weights, /items/{id}/similar. Prints p50/p99 latency, throughput and the ratio of
each endpoint's p50 to /livez's.

    python -m bench.serving_latency [--clients 16] [--requests 100]
"""
from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import threading
import time

import httpx
import numpy as np

from bench.results import write_result
from recsys.dataset import InteractionData


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(url: str, make_request, clients: int, per_client: int):
    latencies, errors = [], []
    lock = threading.Lock()

    def worker(i):
        rng = np.random.default_rng(i)
        mine = []
        with httpx.Client(base_url=url, timeout=30) as client:
            for _ in range(per_client):
                method, path, body = make_request(rng)
                t = time.perf_counter()
                r = client.request(method, path, json=body)
                mine.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors.append(r.text)
        with lock:
            latencies.extend(mine)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    ms = np.array(latencies) * 1000
    return {"p50": np.percentile(ms, 50), "p99": np.percentile(ms, 99), "rps": len(ms) / wall, "errors": len(errors)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=100, help="per client")
    args = ap.parse_args()
    data = InteractionData.load("data/recsys")
    users = [str(u) for u in data.user_ids["train"]]
    items = [str(i) for i in data.item_ids]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "stages.mdr", "serve", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        concepts = httpx.get(url + "/readyz").json()["concepts"]
        cases = {
            "/livez": lambda rng: ("GET", "/livez", None),
            "/recommend user k=10": lambda rng: ("POST", "/recommend", {"user": users[rng.integers(len(users))], "k": 10}),
            "/recommend history k=100 steered": lambda rng: (
                "POST", "/recommend", {"history": list(rng.choice(items, 20, replace=False)), "k": 100,
                                       "concept_weights": rng.uniform(0, 1, concepts).tolist()}),
            "/items/similar k=10": lambda rng: ("GET", f"/items/{items[rng.integers(len(items))]}/similar?k=10", None),
        }
        print(f"{args.clients} concurrent clients × {args.requests} requests; {len(items)} items, {concepts} concepts")
        print(f"{'endpoint':>34s} {'p50 ms':>8s} {'p99 ms':>8s} {'req/s':>8s} {'p50/livez':>10s} {'errors':>7s}")
        base, results, rows = None, {}, []
        for name, make in cases.items():
            load(url, make, args.clients, 5)  # warm-up
            r = load(url, make, args.clients, args.requests)
            base = base or r["p50"]
            print(f"{name:>34s} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['rps']:>8.0f} {r['p50'] / base:>10.1f} {r['errors']:>7d}")
            results[name] = {k: float(v) for k, v in r.items()}
            rows.append([name, r["p50"], r["p99"], r["rps"], r["p50"] / base, r["errors"]])
        write_result("serving_latency", title="Service under concurrent load",
                     measures=f"`mdr serve` on the default run's artifacts ({len(items)} items, {concepts} concepts) "
                              f"in its own process; {args.clients} client threads, each its own connection, "
                              f"{args.requests} requests each after a warm-up, on the same machine as the server. "
                              "/livez is the framework floor, the baseline of the same run.",
                     summary=results, baselines={"/livez": results["/livez"]}, seeds=[],
                     table={"columns": ["endpoint", "p50 ms", "p99 ms", "req/s", "p50 / livez", "errors"],
                            "rows": rows})
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
