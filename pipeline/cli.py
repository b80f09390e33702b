"""The `mdr` command frame: `serve`, `metrics` and the sub-commands each model package brings.

A model package describes itself with a `ModelCommands`: its name, the options that locate its
artifacts, whether they exist, the served model they load into, and its own sub-commands. The
composition root (stages/mdr.py) passes the packages present to `main`.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Callable

from pipeline.config import ConfigError, from_dict, read_params
from pipeline.service import ServeConfig, ServedModel, create_app
from pipeline.tolerance import METRICS, TOLERANCES


@dataclass(frozen=True)
class ModelCommands:
    name: str                                                    # as `mdr serve --models` names it
    artifacts: dict[str, str]                                    # option → default: its data, model, indexes
    is_trained: Callable[[argparse.Namespace], bool]             # its model file exists
    service: Callable[[argparse.Namespace], ServedModel]         # what `mdr serve` serves
    add_commands: Callable[[argparse._SubParsersAction], None]   # its own sub-commands

    def add_artifact_args(self, parser: argparse.ArgumentParser) -> None:
        add_options(parser, self.artifacts)


def add_options(parser: argparse.ArgumentParser, defaults: dict[str, str]) -> None:
    """One `--option` per artifact path, with its default and a help line."""
    for option, default in defaults.items():
        what = option.lstrip("-").replace("-", " ")
        parser.add_argument(option, default=default, help=f"where the {what} are (default: %(default)s)")


def add_k(parser: argparse.ArgumentParser, what: str) -> None:
    """`-k/--k`, as the API's `k`: how many results."""
    parser.add_argument("-k", "--k", type=int, default=10, help=f"how many {what} (default: %(default)s)")


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the answer as the API's JSON instead of lines")


def serve_config(params_path: str = "params.yaml") -> ServeConfig:
    return from_dict(ServeConfig, read_params(params_path).get("serve") or {}, f"{params_path}: serve")


def cmd_serve(args, models: list[ModelCommands], web):
    import uvicorn

    cfg = serve_config(args.params)
    known = {m.name: m for m in models}
    chosen = args.models.split(",") if args.models else [m.name for m in models if m.is_trained(args)]
    unknown = set(chosen) - set(known)
    if unknown or not chosen:
        raise ValueError(f"--models: choose from {','.join(known)} (got {args.models!r}; "
                         "with no --models, the ones whose model files exist are served)")
    app = create_app([known[name].service(args) for name in chosen], cfg, web)
    uvicorn.run(app, host=args.host or cfg.host, port=args.port or cfg.port, log_level="warning")


def cmd_metrics(args):
    from pipeline.tolerance import compare_metrics, print_comparison

    rows = compare_metrics(args.metrics, args.tolerances, args.ref)
    print_comparison(rows, args.ref)
    if any(r.moved for r in rows):
        raise RuntimeError(f"{sum(r.moved for r in rows)} metric(s) moved beyond their tolerance")


def build_parser(models: list[ModelCommands], web=None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mdr", description="Train, index and serve disentangled encoders: "
                                                         + ", ".join(m.name for m in models) + ".")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the HTTP API (OpenAPI page at /docs)")
    for m in models:
        m.add_artifact_args(s)
    s.add_argument("--models", help=f"comma-separated: {','.join(m.name for m in models)} (default: those trained)")
    s.add_argument("--host", help="address to listen on (default: params.yaml serve.host)")
    s.add_argument("--port", type=int, help="port to listen on (default: params.yaml serve.port)")
    s.add_argument("--params", default="params.yaml", help="the params file whose `serve` block sets the limits")
    s.set_defaults(func=lambda args: cmd_serve(args, models, web))

    c = sub.add_parser("metrics", help="compare this run's metrics/*.json with the committed ones, "
                                       "within each headline metric's tolerance")
    c.add_argument("--ref", default="HEAD", help="the git revision to compare with (default HEAD)")
    c.add_argument("--metrics", default=str(METRICS), help="the folder of this run's metrics")
    c.add_argument("--tolerances", default=str(TOLERANCES), help="each headline metric's tolerance (YAML)")
    c.set_defaults(func=cmd_metrics)

    for m in models:
        m.add_commands(sub)
    return p


def main(models: list[ModelCommands], argv=None, web=None) -> int:
    """`web`: the folder of the page `mdr serve` shows at / (None: the API alone)."""
    args = build_parser(models, web).parse_args(argv)
    try:
        args.func(args)
    except (ConfigError, ValueError, KeyError, FileNotFoundError, RuntimeError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"mdr: error: {message}", file=sys.stderr)
        return 2
    return 0
