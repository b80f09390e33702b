"""The service under concurrent, mixed load: per-endpoint p50/p99 beside /livez, before and after,
in one run.

Starts `mdr serve` (all three models, on the artifacts of the last `dvc repro`) in its own process,
once per server setting and repeat, then drives it with 16 closed-loop client threads (each its own
HTTP connection, in this process, on the same 2 cores) for a fixed time per scenario:
  - each endpoint alone: /livez (the framework floor), /recommend for known users (k=10),
    /recommend for histories with concept weights (k=100), /items/{id}/similar;
  - mixed: 12 clients /recommend, 2 translate images (/translate, n=4), 2 run /g2p;
  - /text/search at 1 client: stored clips uploaded one at a time (issue 44's p50 <= 150 ms).
Server settings: "before" = the old behaviour's settings on today's code: one model call per
request (micro_batch 1), torch's default threads, no priorities, Python's 5 ms GIL switch
interval; "after" = params.yaml's serve block (micro-batching, heavy models' workers at a lower OS
priority, a 1 ms switch interval). Targets (issue 33): /recommend p50 <= 3x /livez p50; in the mixed
stream /recommend p50 <= 1.5x its own p50 alone.

    python -m bench.serving_latency [--clients 16] [--seconds 10] [--repeats 3]
"""
from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import yaml

from bench.results import mean_se, write_result
from recsys import artifacts
from recsys.dataset import InteractionData

WORDS = ("garden window river paper coffee music yellow morning bottle silver orange market winter "
         "pencil doctor rabbit button castle forest kitchen").split()
SETTINGS = {"before": {"micro_batch": 1, "torch_threads": 2, "heavy_nice": 0, "switch_interval_ms": 5.0},
            "after": {}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_loop(url: str, roles: list, seconds: float, warmup: float = 2.0) -> dict:
    """Each client repeats its role's request until time is up; latencies after the warm-up, per role."""
    latencies = {name: [] for name, _ in roles}
    errors = {name: 0 for name, _ in roles}
    lock = threading.Lock()
    start = time.perf_counter()
    begin, end = start + warmup, start + warmup + seconds

    def client(i, name, make):
        rng = np.random.default_rng(i)
        mine, bad = [], 0
        with httpx.Client(base_url=url, timeout=60) as http:
            while (now := time.perf_counter()) < end:
                method, path, kwargs = make(rng)
                r = http.request(method, path, **kwargs)
                done = time.perf_counter()
                if now >= begin:
                    mine.append(done - now)
                    bad += r.status_code != 200
        with lock:
            latencies[name].extend(mine)
            errors[name] += bad

    threads = [threading.Thread(target=client, args=(i, name, make)) for i, (name, make) in enumerate(roles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = {}
    for name, lat in latencies.items():
        ms = np.array(lat) * 1000
        out[name] = {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)),
                     "rps": len(ms) / seconds, "requests": len(ms), "errors": errors[name]}
    return out


def start_server(setting: dict, folder: Path):
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["serve"] = {**params.get("serve", {}), **setting}
    path = folder / f"params_{len(list(folder.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(params))
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "stages.mdr", "serve", "--port", str(port),
                               "--params", str(path)])
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if httpx.get(url + "/readyz").status_code == 200:
                return server, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise RuntimeError("mdr serve did not get ready in 120 s (are the default run's artifacts there?)")


def scenarios(url: str, clients: int) -> dict:
    data = InteractionData.load(artifacts.DATA)
    users = [str(u) for u in data.user_ids["train"]]
    items = [str(i) for i in data.item_ids]
    concepts = httpx.get(url + "/readyz").json()["concepts"]
    image = httpx.get(url + "/images/a/0").content
    clips = [httpx.get(f"{url}/clips/{i}").content for i in range(50)]   # stored clips, uploaded as a user's

    def recommend(rng):
        return "POST", "/recommend", {"json": {"user": users[rng.integers(len(users))], "k": 10}}

    def steered(rng):
        return "POST", "/recommend", {"json": {"history": list(rng.choice(items, 20, replace=False)), "k": 100,
                                               "concept_weights": rng.uniform(0.1, 1, concepts).tolist()}}

    def similar(rng):
        return "GET", f"/items/{items[rng.integers(len(items))]}/similar?k=10", {}

    def translate(rng):
        return "POST", "/translate", {"files": {"image": ("a.png", image, "image/png")},
                                      "data": {"n": "4", "seed": str(int(rng.integers(1000)))}}

    def g2p(rng):
        return "GET", f"/g2p?word={WORDS[rng.integers(len(WORDS))]}", {}

    def text_search(rng):
        return "POST", "/text/search", {"files": {"audio": ("c.wav", clips[rng.integers(len(clips))], "audio/wav")},
                                        "data": {"k": "10"}}

    livez = ("/livez", lambda rng: ("GET", "/livez", {}))
    mixed = clients // 8
    return {
        "/livez alone": [livez] * clients,
        "/recommend alone": [("/recommend", recommend)] * clients,
        "/recommend steered alone": [("/recommend steered", steered)] * clients,
        "/items/similar alone": [("/items/similar", similar)] * clients,
        "mixed": ([("/recommend", recommend)] * (clients - 2 * mixed) + [("/translate", translate)] * mixed
                  + [("/g2p", g2p)] * mixed),
        "/text/search at 1 client": [("/text/search", text_search)],   # issue 44: speech search, one user
    }


TARGETS = {"recommend_p50_over_livez": (3.0, "/recommend p50 over /livez p50, each alone at 16 clients"),
           "mixed_recommend_p50_over_alone": (1.5, "/recommend p50 in the mixed stream over its p50 alone"),
           "text_search_p50_ms": (150.0, "/text/search p50 (ms) at 1 client, through PocketSphinx and mdr's channels")}


def target_notes(summary: dict) -> list[str]:
    """One line per target: the mean figure after (and before), met or missed."""
    after, before = summary["after"], summary["before"]
    unit = lambda key: " ms" if key.endswith("_ms") else "x"   # noqa: E731
    return [f"{what}: {after[key]['mean']:.2f}{unit(key)} ± {after[key]['se']:.2f} (before {before[key]['mean']:.2f}"
            f"{unit(key)}), target <= {limit:g}{unit(key)}: "
            f"{'met' if after[key]['mean'] + 2 * after[key]['se'] <= limit else 'missed'} (mean + 2 s.e.)"
            for key, (limit, what) in TARGETS.items()]


def measure(setting: str, overrides: dict, args, folder: Path) -> dict:
    """{"scenario: endpoint": latencies} of one server setting."""
    server, url = start_server(overrides, folder)
    try:
        out = {}
        for scenario, roles in scenarios(url, args.clients).items():
            for endpoint, r in closed_loop(url, roles, args.seconds).items():
                out[f"{scenario}: {endpoint}"] = r
                print(f"{setting:>6s} {scenario:>26s} {endpoint:>20s} p50 {r['p50']:7.1f} ms  "
                      f"p99 {r['p99']:7.1f} ms  {r['rps']:6.0f} req/s  errors {r['errors']}", flush=True)
        return out
    finally:
        server.terminate()
        server.wait(20)


def ratios(r: dict) -> dict:
    alone = r["/recommend alone: /recommend"]["p50"]
    return {"recommend_p50_over_livez": alone / r["/livez alone: /livez"]["p50"],
            "mixed_recommend_p50_over_alone": r["mixed: /recommend"]["p50"] / alone,
            "text_search_p50_ms": r["/text/search at 1 client: /text/search"]["p50"]}


SHOWN = ("/livez alone: /livez", "/recommend alone: /recommend", "mixed: /recommend", "mixed: /translate",
         "mixed: /g2p", "/text/search at 1 client: /text/search")   # the page's rows; every scenario stays in the result's per_setting


def table_rows(runs: dict) -> list:
    """One row per setting and shown endpoint: p50 and p99 (mean ± s.e. over repeats), req/s, p50 / livez."""
    rows = []
    for setting, reps in runs.items():
        livez = mean_se([r["/livez alone: /livez"]["p50"] for r in reps])["mean"]
        for key in SHOWN:
            p50, p99 = (mean_se([r[key][q] for r in reps]) for q in ("p50", "p99"))
            rows.append([setting, key, p50, p99, float(np.mean([r[key]["rps"] for r in reps])),
                         p50["mean"] / livez, sum(r[key]["errors"] for r in reps)])
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0, help="measured time per scenario (after a 2 s warm-up)")
    ap.add_argument("--repeats", type=int, default=3, help="before/after pairs, alternating")
    ap.add_argument("--only", choices=list(SETTINGS), help="one server setting once, printed, no result file (trials)")
    args = ap.parse_args()
    runs = {s: [] for s in SETTINGS}   # setting → one dict per repeat
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(1 if args.only else args.repeats):
            for setting, overrides in SETTINGS.items():
                if args.only in (None, setting):
                    runs[setting].append(measure(setting, overrides, args, Path(tmp)))
    if args.only:
        return
    summary = {s: {k: mean_se([ratios(r)[k] for r in reps]) for k in ratios(reps[0])} for s, reps in runs.items()}
    rows = table_rows(runs)
    print(summary)
    write_result("serving_latency", title="Service under concurrent, mixed load (before/after)",
                 protocol={"selected_on": "nothing chosen: the service before and after, under the same load",
                           "reported_on": "latency and throughput of HTTP requests on this machine"},
                 measures=f"`mdr serve` (three models, the default run's artifacts) in its own process; "
                          f"{args.clients} closed-loop client threads, each its own connection, {args.seconds:g} s "
                          "per scenario after a 2 s warm-up, on the same 2 cores as the server; "
                          f"{args.repeats} before/after pairs, alternating (cells: mean ± s.e. over them). Mixed: "
                          "12 clients /recommend, 2 /translate (n=4), 2 /g2p. before = " + ", ".join(
                              f"{k} {v}" for k, v in SETTINGS["before"].items()) + " (today's code, the old "
                          "settings); after = params.yaml's serve block. Targets: /recommend p50 <= 3x /livez p50 "
                          "and, mixed, <= 1.5x its p50 alone.",
                 summary=summary, baselines={"/livez p50 ms": {s: mean_se([r["/livez alone: /livez"]["p50"]
                                                                          for r in reps]) for s, reps in runs.items()}},
                 seeds=list(range(args.repeats)), per_setting=runs, notes=target_notes(summary),
                 table={"columns": ["server", "scenario: endpoint", "p50 ms", "p99 ms", "req/s", "p50 / livez",
                                    "errors"], "rows": rows})


if __name__ == "__main__":
    main()
