"""The recommender's `mdr` sub-commands: recommend, similar, concepts, data fetch."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline.cli import ModelCommands, add_json, add_k, add_options
from recsys.routes import recsys_service
from recsys import artifacts


ARTIFACTS = {"--data": str(artifacts.DATA), "--model": str(artifacts.MODEL), "--indexes": str(artifacts.INDEX)}


def load(args):
    from recsys.serve import Recommender

    return Recommender.load(args.data, args.model, args.indexes)


def _print(rec, cols, scores, as_json: bool):
    rows = rec.describe(cols, scores)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for rank, r in enumerate(rows, 1):
        name = f"  {r['title']}" if r["title"] else ""
        print(f"{rank:3d}. {r['item']:>12}  score {r['score']:9.4f}  concept {r['concept']}{name}  "
              f"{' | '.join(r['categories'])}")


def cmd_recommend(args):
    from pipeline.service import ServeConfig

    rec = load(args)
    weights = None
    if args.weights:
        try:
            weights = [float(w) for w in args.weights.split(",")]
        except ValueError:
            raise ValueError(f"--weights: not a comma-separated list of numbers: {args.weights!r}") from None
    history = [h.strip() for h in args.history.split(",") if h.strip()] if args.history is not None else None
    limits = ServeConfig()
    query, ignored = rec.query(user=args.user, history=history, k=args.k, weights=weights, strict=args.strict,
                               max_k=limits.max_k, max_history=limits.max_history, where="--")
    if ignored:
        print(f"mdr: ignored unknown item(s): {', '.join(ignored)}", file=sys.stderr)
    if query is None:
        print("mdr: no known item in --history: the most popular items", file=sys.stderr)
        cols, scores = rec.most_popular(args.k)
    else:
        cols, scores = rec.recommend_many([query])[0]
    _print(rec, cols, scores, args.json)


def cmd_similar(args):
    rec = load(args)
    (col,) = rec.columns([args.item])
    cols, scores = rec.similar_items(col, args.k)
    _print(rec, cols, scores, args.json)


def cmd_concepts(args):
    rows = load(args).concept_summaries()
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        print(f"concept {r['concept']}: {r['label']}  ({r['items']} items)")
        for g in r["top_categories"]:
            print(f"    {g['category']:<16} {g['share']:6.1%} of its items, {g['share_all']:6.1%} of all")
        titles = [i["title"] or i["item"] for i in r["top_items"]]
        print(f"    best known: {'; '.join(titles)}")


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
    r.add_argument("--user", help="a known user's id (or give --history)")
    r.add_argument("--history", help="comma-separated item ids: a new user's history")
    add_k(r, "items")
    r.add_argument("--weights", help="comma-separated concept weights (steering), one per concept")
    r.add_argument("--strict", action="store_true", help="fail on unknown --history items instead of leaving them out")
    add_json(r)
    r.set_defaults(func=cmd_recommend)

    m = sub.add_parser("similar", help="items nearest to an item")
    add_options(m, ARTIFACTS)
    m.add_argument("item", help="an item id")
    add_k(m, "items")
    add_json(m)
    m.set_defaults(func=cmd_similar)

    c = sub.add_parser("concepts", help="the learned concepts: labels, typical categories, best-known items")
    add_options(c, ARTIFACTS)
    add_json(c)
    c.set_defaults(func=cmd_concepts)

    d = sub.add_parser("data", help="data helpers")
    dsub = d.add_subparsers(dest="data_command", required=True)
    f = dsub.add_parser("fetch", help="extract a public dataset into a git-ignored folder")
    f.add_argument("dataset", choices=["ml-100k"], help="which dataset")
    f.add_argument("--dest", default="external/ml-100k", help="the folder to extract it into (default: %(default)s)")
    f.set_defaults(func=cmd_fetch)


COMMANDS = ModelCommands("recsys", ARTIFACTS, lambda args: Path(args.model).exists(),
                         lambda args: recsys_service(lambda: load(args)), add_commands)
