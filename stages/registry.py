"""The one list of models. The `mdr` command and the service (stages.mdr), and the layout, config and
wiring tests read it; adding a model is its package plus one line here (README: Layout)."""
from __future__ import annotations

# Each model's package: it provides config, artifacts, routes (a ServedModel) and commands (COMMANDS),
# and its stages are stages/<verb>_<...>.py with blocks of the same names in params.yaml and dvc.yaml.
MODELS = ("recsys", "translation.images", "translation.speech")


def commands_module(package: str) -> str:
    return f"{package}.commands"


def artifacts_module(package: str) -> str:
    return f"{package}.artifacts"
