"""The composition root: the `mdr` command and the HTTP app, assembled from the model packages
present. The only module, beside the stage modules, that knows every model; everything below it
(model packages → pipeline) points down.

    mdr serve | recommend | similar | translate | search-images | g2p | p2g | search-speech | ...
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

from pipeline.cli import ModelCommands, main as cli_main
from stages.registry import MODELS, commands_module

WEB = Path(__file__).parent / "web"   # the page at / : one panel per model, shown when it is served

def present_models() -> list[ModelCommands]:
    """The commands of each registered model whose package is installed."""
    models = []
    for name in map(commands_module, MODELS):
        try:
            models.append(importlib.import_module(name).COMMANDS)
        except ModuleNotFoundError as e:
            if not name.startswith(f"{e.name}.") and e.name != name:
                raise  # a missing dependency inside a present package is a real error
    return models


def main(argv=None) -> int:
    return cli_main(present_models(), argv, WEB)


if __name__ == "__main__":
    sys.exit(main())
