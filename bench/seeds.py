"""What the multi-seed benchmarks share: seeds run one after the other with each one's results
kept as it finishes, and mean ± standard error over seeds, printed and returned."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

from bench.results import RESULTS, mean_se


def seed_bench_parser(doc: str, out_help: str) -> argparse.ArgumentParser:
    """The options every multi-seed bench takes: seeds, params overrides, where its files go."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("-S", "--set", action="append", default=[], help="params override, block.key=value")
    ap.add_argument("--results", default=str(RESULTS), help="where the result JSON goes (a trial run: elsewhere)")
    ap.add_argument("--out", default="bench/results", help=out_help)
    return ap


def run_seeds(seeds: list[int], run_one: Callable[[int], dict], partial: Path,
              after_each: Callable[[dict], None] | None = None) -> dict:
    """{seed: results} of run_one over the seeds. Each seed's results are printed as one JSON line
    and saved to `partial` as soon as it finishes, and `after_each(runs so far)` is called (to write
    the result file), so a bench stopped midway keeps the seeds it ran."""
    runs = {}
    partial.parent.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        runs[seed] = run_one(seed)
        print(f"[seed {seed} done] " + json.dumps({k: v for k, v in runs[seed].items()
                                                   if isinstance(v, (int, float))}), flush=True)
        partial.write_text(json.dumps({str(k): v for k, v in runs.items()}, indent=2))
        if after_each:
            after_each(runs)
    return runs


def seed_table(runs: dict, seeds: list[int], keys=None, quiet: bool = False) -> dict:
    """{key: {mean, se, sd, n, seeds}} for every numeric key (in `keys` order if given) present in the runs."""
    table = {}
    for k in keys or list(runs[seeds[0]]):
        values = [runs[s][k] for s in seeds if k in runs[s]]
        if not values or not all(isinstance(v, (int, float)) for v in values):
            continue
        table[k] = mean_se(values) | {"seeds": values}
        if not quiet:
            print(f"{k:34s} {table[k]['mean']:10.4f} ± {table[k]['se']:.4f}   " + "  ".join(f"{v:.4f}" for v in values))
    return table
