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

WEB = Path(__file__).parent / "web"   # the page at / : one panel per model, shown when it is served

# Each model package's commands module; a package that is not installed is left out.
MODEL_PACKAGES = ("recsys.commands", "translation.images.commands", "translation.speech.commands")


def present_models() -> list[ModelCommands]:
    models = []
    for name in MODEL_PACKAGES:
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
