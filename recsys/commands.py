"""The recommender's `mdr` sub-commands: recommend, similar, data fetch."""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.cli import ModelCommands, add_options
from recsys.routes import recsys_service


ARTIFACTS = {"--data": "data/recsys", "--model": "models/recsys/macridvae.pt", "--indexes": "indexes/recsys"}


def load(args):
    from recsys.serve import Recommender

    return Recommender.load(args.data, args.model, args.indexes)


def _print(rec, cols, scores, as_json: bool):
    rows = rec.describe(cols, scores)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for rank, r in enumerate(rows, 1):
        print(f"{rank:3d}. {r['item']:>12}  score {r['score']:9.4f}  concept {r['concept']}  {r['category'] or ''}")


def cmd_recommend(args):
    rec = load(args)
    if (args.user is None) == (args.history is None):
        raise ValueError("give exactly one of --user or --history")
    history = rec.user_history(args.user) if args.user else rec.columns(
        [h for h in args.history.split(",") if h.strip()])
    if not history:
        raise ValueError("--history: no item ids")
    weights = None
    if args.weights:
        try:
            weights = [float(w) for w in args.weights.split(",")]
        except ValueError:
            raise ValueError(f"--weights: not a comma-separated list of numbers: {args.weights!r}") from None
        rec.check_weights(weights)
    if not 1 <= args.k <= 10_000:
        raise ValueError("--k: must be between 1 and 10000")
    cols, scores = rec.recommend(history, args.k, weights)
    _print(rec, cols, scores, args.json)


def cmd_similar(args):
    rec = load(args)
    (col,) = rec.columns([args.item])
    cols, scores = rec.similar_items(col, args.k)
    _print(rec, cols, scores, args.json)


def cmd_fetch(args):
    from recsys.fetch import LICENCE, fetch_ml100k

    if args.dataset != "ml-100k":
        raise ValueError(f"unknown dataset {args.dataset!r}; known: ml-100k")
    dest = fetch_ml100k(args.dest)
    print(LICENCE)
    print(f"\nml-100k is in {dest} (git-ignored). Use it with:\n"
          f"  dvc exp run -S prepare_interactions.source=recbole -S prepare_interactions.path={dest}")


def add_commands(sub) -> None:
    r = sub.add_parser("recommend", help="top-k items for a known user or a history")
    add_options(r, ARTIFACTS)
    r.add_argument("--user")
    r.add_argument("--history", help="comma-separated item ids")
    r.add_argument("--k", type=int, default=10)
    r.add_argument("--weights", help="comma-separated concept weights (steering), one per concept")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_recommend)

    m = sub.add_parser("similar", help="items nearest to an item")
    add_options(m, ARTIFACTS)
    m.add_argument("item")
    m.add_argument("--k", type=int, default=10)
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_similar)

    d = sub.add_parser("data", help="data helpers")
    dsub = d.add_subparsers(dest="data_command", required=True)
    f = dsub.add_parser("fetch", help="extract a public dataset into a git-ignored folder")
    f.add_argument("dataset", choices=["ml-100k"])
    f.add_argument("--dest", default="external/ml-100k")
    f.set_defaults(func=cmd_fetch)


COMMANDS = ModelCommands("recsys", ARTIFACTS, lambda args: Path(args.model).exists(),
                         lambda args: recsys_service(lambda: load(args)), add_commands)
