"""One declaration of a pipeline's parameters, and every face derived from it.

A :class:`Param` names a PaddleX parameter (``text_det_thresh``), where it
lives in the pipeline's YAML (``SubModules.TextDetection.thresh``), whether
``create_pipeline`` and/or ``predict`` take it, and its help text. Its type,
default and rules are those of the config field at that path (declared once,
in the pipeline's config classes). From that:

- ``create_pipeline(**overrides)``: :func:`apply_overrides` writes the values
  into the raw YAML mapping, which is then built and checked like a file;
- ``predict(**params)``: :func:`resolve_call` checks each value against the
  field's type and rules and falls back to the config's value for ``None``;
- the CLI: :func:`add_cli_arguments` adds one ``--name`` flag per parameter;
- the HTTP request schema: :attr:`Param.serving_name` (PaddleX's camelCase).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Sequence

from ..config import ConfigBase, check_value, set_path
from ..env import bool_word
from ..errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class Param:
    """A pipeline parameter.

    ``path``: its place in the YAML, e.g. ``("SubModules", "TextDetection", "thresh")``.
    ``init``: ``create_pipeline`` takes it; ``call``: ``predict`` takes it.
    ``unsupported``: set when hpi cannot do what True asks for (what it would be);
    True is then an error naming it, never silently ignored.
    A per-call parameter that has no place in PaddleX's YAML (``return_word_box``)
    has an empty ``path`` and declares its ``annotation`` and ``default`` here.
    """

    name: str
    path: tuple[str, ...]
    help: str = ""
    init: bool = True
    call: bool = False
    unsupported: str = ""
    annotation: Any = None
    default: Any = None

    @property
    def serving_name(self) -> str:
        """PaddleX's serving field name: ``text_det_thresh`` → ``textDetThresh``."""
        head, *rest = self.name.split("_")
        return head + "".join(part[:1].upper() + part[1:] for part in rest)

    def field(self, config_class: type[ConfigBase]) -> tuple[Any, Mapping]:
        """(annotation, rules) of the parameter: those of its config field."""
        if not self.path:
            return self.annotation, {}
        return config_class.field_at(self.path)

    def help_in(self, config_class: type[ConfigBase]) -> str:
        """The parameter's help: its own, else the help of its config field (declared once, there); a
        module's ``model_name`` says which module's model it is."""
        text = self.help or self.field(config_class)[1].get("help", "")
        if not text and self.path and self.path[-1] == "model_name":
            module = getattr(config_class.owner_at(self.path), "module_name", "") or "module's"
            text = f"the {module} model: one hpi ships or any PaddleX model name (hpi models list --all)"
        return text

    def value_in(self, config: ConfigBase) -> Any:
        """The parameter's value in ``config`` (its default when it has no place in the YAML)."""
        return config.get(self.path) if self.path else self.default


# hpi's own settings: every pipeline has them (PaddleX puts its high-performance switches in hpi_config).
HPI_PARAMS = (
    Param("backend", ("hpi_config", "backend"), "auto (measured) or openvino, onnxruntime, paddle, tensorrt"),
    Param("precision", ("hpi_config", "precision"), "fp32 (default), fp16 or bf16 (checked, falls back to fp32)"),
    Param("threads", ("hpi_config", "threads"), "CPU threads per model (default: all cores)"),
    Param("measure", ("hpi_config", "measure"), "measure the installed backends once per model and machine"),
)


def nested_params(params: Sequence[Param], prefix: tuple[str, ...], names: Iterable[str]) -> tuple[Param, ...]:
    """A sub-pipeline's parameters ``names`` as a parent pipeline declares them: the same names, help and
    roles, their paths under ``prefix`` (``("SubPipelines", "GeneralOCR")``) in the parent's YAML."""
    by_name = {p.name: p for p in params}
    return tuple(replace(by_name[name], path=(*prefix, *by_name[name].path)) for name in names)


def init_params(params: Sequence[Param]) -> dict[str, Param]:
    return {p.name: p for p in (*params, *HPI_PARAMS) if p.init}


def call_params(params: Sequence[Param]) -> dict[str, Param]:
    return {p.name: p for p in params if p.call}


def apply_overrides(data: dict, params: Sequence[Param], overrides: Mapping[str, Any]) -> dict:
    """The raw config mapping with ``create_pipeline`` keyword overrides written in (``None``: not given)."""
    valid = init_params(params)
    _refuse_unknown("create_pipeline argument", overrides, valid, "device, config, ")
    for name, value in overrides.items():
        if value is not None and valid[name].path:
            data = set_path(data, valid[name].path, value)
    return data


def resolve_call(config: ConfigBase, params: Sequence[Param], given: Mapping[str, Any]) -> dict[str, Any]:
    """``predict``'s keyword arguments, checked, with the config's value wherever one is None or absent."""
    valid = call_params(params)
    _refuse_unknown("predict parameter", given, valid)
    resolved: dict[str, Any] = {}
    for name, param in valid.items():
        value = given.get(name)
        if value is None:
            resolved[name] = param.value_in(config)
            continue
        annotation, rules = param.field(type(config))
        value = check_value("", name, value, annotation, rules)
        if param.unsupported and value:
            raise ConfigError(
                f"{name}=True is not supported by hpi yet ({param.unsupported}); pass False or leave it out."
            )
        resolved[name] = value
    return resolved


def given_call_params(params: Sequence[Param], given: Mapping[str, Any]) -> set[str]:
    """Names the caller actually set (not None): some pipelines decide by whether a flag was given."""
    return {name for name in call_params(params) if given.get(name) is not None}


# ---------------------------------------------------------------------------------------------- the CLI

def parse_bool(text: str) -> bool:
    flag = bool_word(text)
    if flag is None:
        raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}")
    return flag


def add_cli_arguments(parser: argparse.ArgumentParser, config_class: type[ConfigBase],
                      params: Iterable[Param]) -> None:
    """One ``--name`` flag per parameter, typed from its config field (default None: the config decides)."""
    for param in params:
        annotation, rules = param.field(config_class)
        text = str(annotation)
        help_text = param.help_in(config_class)
        kwargs: dict[str, Any] = {"default": None, "help": help_text or None}
        if "bool" in text:
            kwargs.update(type=parse_bool, metavar="True|False")
        elif "float" in text:
            kwargs["type"] = float
        elif "int" in text:
            kwargs["type"] = int
        choices = rules.get("choices")
        if choices is not None:
            # Listed in the help, checked by the config: its error names the key and the closest value.
            listed = ", ".join(map(str, choices() if callable(choices) else choices))
            kwargs["help"] = f"{help_text}: {listed}" if help_text else listed
        parser.add_argument(f"--{param.name}", **kwargs)


def _refuse_unknown(what: str, given: Mapping[str, Any], valid: Mapping[str, Param], also: str = "") -> None:
    unknown = sorted(set(given) - set(valid))
    if unknown:
        hint = did_you_mean(unknown[0], valid) if len(unknown) == 1 else ""
        raise ConfigError(
            f"Unknown {what}{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}{hint}. "
            f"Valid: {also}{', '.join(valid)}."
        )


__all__ = [
    "HPI_PARAMS", "Param", "add_cli_arguments", "apply_overrides", "call_params", "given_call_params",
    "init_params", "parse_bool", "resolve_call",
]
