"""Config schemas: frozen dataclasses read from and written to PaddleX-style YAML.

Every pipeline's config is a :class:`ConfigBase` subclass whose fields say
where they live in PaddleX's schema:

- a plain field (``thresh: float = setting(0.3, range=(0, 1))``) is a key of
  its own section, type-checked from its annotation and checked against its
  rules;
- ``submodule("TextDetection", TextDetectionConfig)`` is an entry of the
  section's ``SubModules`` mapping;
- ``subpipeline("DocPreprocessor", DocPreprocessorConfig)`` an entry of
  ``SubPipelines`` (a sub-pipeline is a pipeline config of its own, built by the
  same code);
- ``section(HPIConfig)`` a nested mapping under the field's own name.

:meth:`ConfigBase.from_dict` and :meth:`ConfigBase.to_dict` work for every
config from those declarations. Unknown keys are an error that names the key
and the valid ones, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping

from .errors import ConfigError, did_you_mean

PIPELINE_DIR_IN_PACKAGE = Path(__file__).parent / "pipelines" / "configs"
PIPELINE_DIR_IN_SOURCE = Path(__file__).parent.parent / "pipelines"

_KIND = "hpi.kind"  # field metadata: "setting" (default), "submodule", "subpipeline", "section"


# ---------------------------------------------------------------------------------------------- declarations

def setting(
    default: Any = dataclasses.MISSING, *, choices: tuple | Callable[[], tuple] | None = None,
    range: tuple[float, float] | None = None, positive: bool = False, help: str = "",
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """A config key with its rules: ``choices`` (or a callable giving them), a closed ``range``, ``positive``."""
    metadata = {_KIND: "setting", "choices": choices, "range": range, "positive": positive, "help": help}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def submodule(key: str, cls: type, optional: bool = False) -> Any:
    """An entry ``SubModules.<key>``; ``optional``: None unless the YAML has it (kept for round trips)."""
    metadata = {_KIND: "submodule", "key": key, "cls": cls}
    return field(default=None, metadata=metadata) if optional else field(default_factory=cls, metadata=metadata)


def subpipeline(key: str, cls: type) -> Any:
    """An entry ``SubPipelines.<key>``: a pipeline config of its own."""
    return field(default_factory=cls, metadata={_KIND: "subpipeline", "key": key, "cls": cls})


def section(cls: type) -> Any:
    """A nested mapping under the field's own name (``hpi_config``)."""
    return field(default_factory=cls, metadata={_KIND: "section", "key": None, "cls": cls})


def _kind(f: dataclasses.Field) -> str:
    return f.metadata.get(_KIND, "setting")


@lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


# ---------------------------------------------------------------------------------------------- value checks

def _allowed_types(annotation: Any) -> tuple[tuple[type, ...], bool]:
    """(the non-None types of an annotation, whether None is allowed)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = typing.get_args(annotation)
        return tuple(a for a in args if a is not type(None)), type(None) in args
    return (origin or annotation,), annotation is typing.Any


def check_value(where: str, key: str, value: Any, annotation: Any, metadata: Mapping | None = None) -> Any:
    """``value`` checked against its annotation and rules, converted (numpy scalars, ints for floats).

    Raises :class:`ConfigError` naming ``where.key``, the value and what is expected.
    """
    import numpy as np

    types, nullable = _allowed_types(annotation)
    label = f"{where}.{key}" if where else key
    if value is None:
        if nullable or annotation is typing.Any:
            return None
        raise ConfigError(f"{label} is None; it must be {_describe(types)}.")
    if isinstance(value, np.generic):
        value = value.item()  # np.float32(0.3), np.int64(64), np.bool_(True) are numbers and flags
    if str in types and isinstance(value, os.PathLike):
        value = os.fspath(value)  # model_dir=Path(...)
    if bool in types:
        if not isinstance(value, bool):
            raise ConfigError(f"{label} is {value!r}; it must be True or False.")
    elif float in types and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ConfigError(f"{label} is {value!r}; it must be a finite number.")
        value = float(value)
    elif int in types and isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"{label} is {value!r}; it must be a whole number.")
        value = int(value)
    elif types != (typing.Any,) and not isinstance(value, tuple(t for t in types if isinstance(t, type))):
        raise ConfigError(f"{label} is {value!r}; it must be {_describe(types)}.")
    metadata = metadata or {}
    choices = metadata.get("choices")
    if callable(choices):
        choices = choices()
    if choices is not None and value not in choices:
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        raise ConfigError(f"{label} is {value!r}; valid values: {', '.join(map(str, choices))}{hint}.")
    if metadata.get("positive") and not value > 0:
        raise ConfigError(f"{label} is {value!r}; it must be a positive number.")
    bounds = metadata.get("range")
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise ConfigError(f"{label} is {value!r}; it must be a number in [{bounds[0]}, {bounds[1]}].")
    return value


def _describe(types: tuple) -> str:
    names = {bool: "True or False", int: "a whole number", float: "a number", str: "a string", dict: "a mapping"}
    return " or ".join(names.get(t, getattr(t, "__name__", str(t))) for t in types)


def unknown_keys_message(where: str, unknown: list[str], valid, what: str = "key") -> str:
    plural = "s" if len(unknown) > 1 else ""
    hint = _as_sentence(did_you_mean(unknown[0], valid)) if len(unknown) == 1 else ""
    return (f"Unknown {what}{plural} {', '.join(map(repr, unknown))} in {where}. "
            f"Valid {what}s: {', '.join(sorted(valid))}.{hint}")


def _as_sentence(hint: str) -> str:
    """`` (did you mean 'x'?)`` → `` Did you mean 'x'?``, to follow a list that ends the message."""
    text = hint.strip(" ()")
    return f" {text[:1].upper()}{text[1:]}" if text else ""


# ---------------------------------------------------------------------------------------------- the base

@dataclass(frozen=True)
class ConfigBase:
    """A config section built from its field declarations (see the module docstring)."""

    # Keys PaddleX writes that hpi accepts and ignores (PaddleX's own high-performance switch).
    IGNORED_KEYS: ClassVar[tuple[str, ...]] = ()

    def check(self, where: str, nested: bool) -> None:
        """Rules across fields (``where``: this section's path; ``nested``: inside another pipeline's config).

        Subclasses add theirs; each field's own rules are checked while building.
        """

    @classmethod
    def from_dict(cls, data: Any, where: str = "config", nested: bool = False):
        """Build and check from a YAML mapping (``None``: the defaults)."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where} must be a mapping, got {type(data).__name__}.")
        data = dict(data)
        by_kind: dict[str, dict[str, dataclasses.Field]] = {"setting": {}, "submodule": {}, "subpipeline": {},
                                                            "section": {}}
        for f in fields(cls):
            key = f.metadata.get("key") or f.name
            by_kind[_kind(f)][key] = f
        if nested:
            by_kind["section"].pop("hpi_config", None)  # a sub-pipeline runs with its parent's settings
        containers = {"SubModules": "submodule", "SubPipelines": "subpipeline"}
        valid_top = set(by_kind["setting"]) | set(by_kind["section"]) | set(cls.IGNORED_KEYS)
        valid_top |= {name for name, kind in containers.items() if by_kind[kind]}
        unknown = sorted(set(data) - valid_top)
        if unknown:
            if nested:
                raise ConfigError(unknown_keys_message(where, unknown, valid_top))
            raise ConfigError(
                f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}. "
                f"Valid top-level keys: {', '.join(sorted(valid_top))}."
                f"{_as_sentence(did_you_mean(unknown[0], valid_top)) if len(unknown) == 1 else ''}"
            )
        hints = _hints(cls)
        # Messages name keys by their path from the pipeline's root; the top level's keys by name alone.
        prefix = where if nested else ""
        values: dict[str, Any] = {}
        for key, f in by_kind["setting"].items():
            if key in data:
                values[f.name] = check_value(prefix, key, data[key], hints[f.name], f.metadata)
        for key, f in by_kind["section"].items():
            if key in data:
                values[f.name] = f.metadata["cls"].from_dict(data[key], key, nested=True)
        for container, kind in containers.items():
            entries = data.get(container) or {}
            if not by_kind[kind]:
                continue
            if not isinstance(entries, Mapping):
                raise ConfigError(f"{where}: {container} must be a mapping.")
            unknown = sorted(set(entries) - set(by_kind[kind]))
            if unknown:
                inside = f" in {where}" if nested else ""
                hint = _as_sentence(did_you_mean(unknown[0], by_kind[kind])) if len(unknown) == 1 else ""
                raise ConfigError(
                    f"{'Unknown' if nested else 'unknown'} {container} {', '.join(map(repr, unknown))}{inside}. "
                    f"Valid: {', '.join(by_kind[kind])}.{hint}"
                )
            for key, f in by_kind[kind].items():
                if key in entries:
                    sub_where = f"{prefix + '.' if prefix else ''}{container}.{key}"
                    values[f.name] = f.metadata["cls"].from_dict(entries[key], sub_where, nested=True)
        config = cls(**values)
        config.check(prefix, nested)
        return config

    def to_dict(self, nested: bool = False) -> dict:
        """The YAML mapping (PaddleX's schema) of this config; ``from_dict(to_dict())`` gives it back."""
        out: dict[str, Any] = {}
        sections: dict[str, Any] = {}
        containers: dict[str, dict] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            kind = _kind(f)
            if kind == "setting":
                out[f.name] = value
            elif kind == "section":
                if not (nested and f.name == "hpi_config"):
                    sections[f.name] = value.to_dict(nested=True)
            elif value is not None:
                container = "SubModules" if kind == "submodule" else "SubPipelines"
                containers.setdefault(container, {})[f.metadata["key"]] = value.to_dict(nested=True)
        # PaddleX's order: the scalars, then hpi_config, SubModules and SubPipelines.
        out.update(sections)
        for container in ("SubModules", "SubPipelines"):
            if container in containers:
                out[container] = containers[container]
        return out

    def get(self, path: tuple[str, ...]) -> Any:
        """The value at a YAML path (``("SubModules", "TextDetection", "thresh")``)."""
        node: Any = self
        for part in _attribute_path(type(self), path):
            node = getattr(node, part)
        return node

    @classmethod
    def owner_at(cls, path: tuple[str, ...]) -> type:
        """The config class that holds the last key of a YAML path (a module's config for its settings)."""
        owner: type = cls
        for name in _attribute_path(cls, path)[:-1]:
            owner = next(f for f in fields(owner) if f.name == name).metadata["cls"]
        return owner

    @classmethod
    def field_at(cls, path: tuple[str, ...]) -> tuple[Any, Mapping]:
        """(annotation, rules) of the setting at a YAML path: the one declaration parameters derive from."""
        owner = cls.owner_at(path)
        last = next(f for f in fields(owner) if f.name == _attribute_path(cls, path)[-1])
        return _hints(owner)[last.name], last.metadata


def _attribute_path(cls: type, path: tuple[str, ...]) -> list[str]:
    """YAML path → dataclass attribute names (``SubModules.TextDetection`` → ``text_detection``)."""
    names: list[str] = []
    owner: type = cls
    parts = list(path)
    while parts:
        part = parts.pop(0)
        if part in ("SubModules", "SubPipelines"):
            key = parts.pop(0)
            f = next((f for f in fields(owner) if f.metadata.get("key") == key), None)
        else:
            f = next((f for f in fields(owner) if f.name == part), None)
        if f is None:
            raise ConfigError(f"{'.'.join(path)} is not a key of {owner.__name__}.")
        names.append(f.name)
        if parts:
            owner = f.metadata["cls"]
    return names


def set_path(data: dict, path: tuple[str, ...], value: Any) -> dict:
    """A copy of the raw YAML mapping with ``path`` set to ``value`` (intermediate mappings created)."""
    out = dict(data)
    node = out
    for part in path[:-1]:
        child = node.get(part)
        child = dict(child) if isinstance(child, Mapping) else {}
        node[part] = child
        node = child
    node[path[-1]] = value
    return out


def get_path(data: Mapping, path: tuple[str, ...], default: Any = None) -> Any:
    node: Any = data
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


# ---------------------------------------------------------------------------------------------- hpi's own section

def _backend_choices() -> tuple[str, ...]:
    from .backends import BACKENDS

    return ("auto", *BACKENDS)


@dataclass(frozen=True)
class HPIConfig(ConfigBase):
    """hpi's own settings (PaddleX calls its high-performance-inference section ``hpi_config``).

    ``backend_config`` maps a backend name to that backend's runner options
    (``{tensorrt: {engine_dir: ..., det_limit: 960}}``); each backend declares
    its options and an unknown one is an error.
    """

    backend: str = setting("auto", choices=_backend_choices, help="auto (measured), or a backend name")
    precision: str = setting("fp32", choices=("fp32", "fp16", "bf16"), help="model precision")
    threads: int | None = setting(None, positive=True, help="CPU threads per model (null: all cores)")
    measure: bool = setting(True, help="time the installed backends once per model and machine, cache the choice")
    backend_config: dict = setting(default_factory=dict, help="runner options per backend")

    def check(self, where: str, nested: bool) -> None:
        if self.backend_config:
            from .backends import validate_backend_config

            object.__setattr__(self, "backend_config", validate_backend_config(self.backend_config))

    def to_dict(self, nested: bool = False) -> dict:
        out = super().to_dict(nested)
        if not out["backend_config"]:
            del out["backend_config"]  # PaddleX files never have it: keep round trips of them unchanged
        return out


# ---------------------------------------------------------------------------------------------- YAML files

def default_config_path(pipeline_name: str) -> Path:
    """The shipped YAML for a pipeline name (installed package data, or the source tree)."""
    for directory in (PIPELINE_DIR_IN_PACKAGE, PIPELINE_DIR_IN_SOURCE):
        candidate = directory / f"{pipeline_name}.yaml"
        if candidate.is_file():
            return candidate
    available = sorted(
        {p.stem for d in (PIPELINE_DIR_IN_PACKAGE, PIPELINE_DIR_IN_SOURCE) if d.is_dir() for p in d.glob("*.yaml")}
    )
    raise ConfigError(
        f"Unknown pipeline {pipeline_name!r}{did_you_mean(pipeline_name, available)}. Available pipelines: "
        f"{', '.join(available) or 'none found'}; or give the path of a pipeline YAML (e.g. one written by "
        "hpi --get_pipeline_config OCR)."
    )


def load_yaml(path: str | Path) -> dict:
    import yaml

    from . import yaml_safe

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read pipeline config {str(path)!r}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not a text (UTF-8) YAML file: {exc.reason}.") from exc
    try:
        data = yaml_safe.load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    except yaml_safe.YAMLBombError as exc:
        raise ConfigError(f"{path} is refused: {exc}. A pipeline config never needs that; write it out.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must contain a YAML mapping (pipeline_name: ..., SubModules: ...).")
    return data


def load_pipeline_config(pipeline: str | Path) -> dict:
    """The raw dict of a pipeline name's default config or of a YAML path."""
    text = str(pipeline)
    if text.endswith((".yaml", ".yml")) or Path(text).is_file():
        if not Path(text).is_file():
            raise ConfigError(f"Pipeline config {text!r} does not exist.")
        return load_yaml(text)
    return load_yaml(default_config_path(text))


def dump_yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


__all__ = [
    "ConfigBase", "HPIConfig", "check_value", "default_config_path", "dump_yaml", "get_path",
    "load_pipeline_config", "load_yaml", "replace", "section", "set_path", "setting", "submodule",
    "subpipeline", "unknown_keys_message",
]
