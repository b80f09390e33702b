"""Typed stage configs loaded from params.yaml.

Each stage declares a frozen dataclass; `load_config` reads the stage's block and validates it:
an unknown key, a wrong type or an out-of-range value raises ConfigError naming the key path,
e.g. ``params.yaml: train_recsys.tau: must be > 0, got -1``.
Ranges and choices live in field metadata: ``field(default=0.1, metadata=rule(gt=0))``.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A params.yaml block that does not fit its stage's config."""


def rule(*, gt=None, ge=None, lt=None, le=None, choices=None) -> dict:
    """Field metadata: numeric bounds and/or a set of allowed values."""
    return {"gt": gt, "ge": ge, "lt": lt, "le": le, "choices": choices}


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def _check_value(value: Any, tp, where: str):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _check_value(value, option, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{where}: must not be null")
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ConfigError(f"{where}: must be a list, got {value!r}")
        (item_tp, *_) = typing.get_args(tp) or (Any,)
        return [_check_value(v, item_tp, f"{where}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: must be a mapping, got {value!r}")
        return _build(tp, value, where)
    if tp is Any:
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: must be a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: must be an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: must be true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: must be a string, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported type {_type_name(tp)}")


def _check_rule(value, meta: dict, where: str):
    if value is None:
        return
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ConfigError(f"{where}: must be one of {list(choices)}, got {value!r}")
    values = value if isinstance(value, list) else [value]
    for v in values:
        for key, ok, word in (("gt", lambda a, b: a > b, ">"), ("ge", lambda a, b: a >= b, ">="),
                              ("lt", lambda a, b: a < b, "<"), ("le", lambda a, b: a <= b, "<=")):
            bound = meta.get(key)
            if bound is not None and not ok(v, bound):
                raise ConfigError(f"{where}: must be {word} {bound}, got {v!r}")


def _build(cls, block: dict, where: str):
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(block) - set(fields))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key (known keys: {', '.join(fields)})")
    kwargs = {}
    for name, f in fields.items():
        key = f"{where}.{name}"
        if name not in block:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{key}: missing")
            continue
        value = _check_value(block[name], hints[name], key)
        _check_rule(value, dict(f.metadata), key)
        kwargs[name] = value
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if check is not None:
        try:
            check()
        except ConfigError as e:
            raise ConfigError(f"{where}.{e}") from None
    return obj


@dataclasses.dataclass(frozen=True)
class TorchStage:
    """The fields every torch stage sets first (pipeline.devices.seed_everything); configs extend it."""
    seed: int = 0
    threads: int = dataclasses.field(default=2, metadata=rule(ge=1))



@dataclasses.dataclass(frozen=True)
class DistributedConfig:
    """How a training stage spreads over processes (pipeline.distributed); one process by default."""
    nproc_per_node: int = dataclasses.field(default=1, metadata=rule(ge=1))   # 1: train in the stage's own process
    nnodes: int = dataclasses.field(default=1, metadata=rule(ge=1))
    rdzv_endpoint: str = ""       # host:port of the rendezvous, needed when nnodes > 1
    backend: str = dataclasses.field(default="auto", metadata=rule(choices=["auto", "gloo", "nccl"]))   # auto: nccl on GPU

    def check(self):
        if self.nnodes > 1 and not self.rdzv_endpoint:
            raise ConfigError("rdzv_endpoint: required (host:port reachable from every node) when nnodes > 1")

    @property
    def wanted(self) -> bool:
        return self.nproc_per_node * self.nnodes > 1


def read_params(path: str | Path = "params.yaml") -> dict:
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(params, dict):
        raise ConfigError(f"{path}: must be a mapping of stage blocks")
    return params


def set_param(params: dict, key: str, value, where: str | None = None) -> None:
    """params[block][...][last] = value for a dotted `key` (dvc's `+` prefix allowed). A key params.yaml
    leaves out (an option off by default) is added; the stage's typed config then refuses a name it
    does not know. `where` names the override in errors."""
    where = where or key
    *parents, last = key.removeprefix("+").split(".")
    if not last or (parents and parents[0] not in params):
        raise ConfigError(f"override {where!r}: params.yaml has no block {(parents or [last])[0]!r}")
    node = params
    for p in parents:
        node = node.setdefault(p, {}) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            raise ConfigError(f"override {where!r}: {p} is not a mapping in params.yaml")
    node[last] = value


def read_params_with(overrides: list[str], path: str | Path = "params.yaml") -> dict:
    """params.yaml with dvc-style `block.key=value` overrides (the value parsed as YAML); see set_param."""
    params = read_params(path)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.removeprefix("+"):
            raise ConfigError(f"override {item!r}: expected block.key=value")
        set_param(params, key, yaml.safe_load(value), item)
    return params


def load_config(cls, stage: str, params_path: str | Path = "params.yaml"):
    """Build `cls` from the `stage` block of params.yaml, raising ConfigError naming the bad key."""
    params = read_params(params_path)
    if stage not in params:
        raise ConfigError(f"{params_path}: no '{stage}' block")
    return from_dict(cls, params[stage] or {}, f"{Path(params_path).name}: {stage}")


def from_dict(cls, block: dict, where: str):
    if not isinstance(block, dict):
        raise ConfigError(f"{where}: must be a mapping, got {block!r}")
    return _build(cls, block, where)

