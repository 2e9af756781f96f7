"""PaddleX's older pipeline files, read as today's schema.

PaddleX 3.0's beta releases wrote pipeline configs in another shape, and its
model-pipeline guide still shows it for plugging in fine-tuned weights::

    Global:
      pipeline_name: OCR
      input: https://.../general_ocr_001.png
    Pipeline:
      det_model: PP-OCRv4_server_det   # or the local directory of a fine-tuned model
      det_device: "gpu"
      rec_model: PP-OCRv4_server_rec
      rec_batch_size: 1
      rec_device: "gpu"

(its ``OCR.yaml`` went through ``det_model``/``rec_model``/``batch_size``/``device``
and then ``text_det_model``/``text_rec_model``/``text_rec_batch_size``). :func:`convert`
maps such a file onto today's schema, on top of the pipeline's default config
(what ``hpi --get_pipeline_config`` writes), so an old file means "the default
pipeline with these changes". A model value that is a path becomes the
module's ``model_dir``, anything else its ``model_name``. Device keys are
accepted: hpi runs every model on the device it is given, so one that differs
from it gets a warning. Any other key is an error naming the valid old keys.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import check_value, load_pipeline_config, set_path, unknown_keys_message
from ..errors import ConfigError, DeviceError, did_you_mean

log = logging.getLogger(__name__)


class _NotGiven:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()  # ``device`` when the caller does not know the device the pipeline will run on


@dataclass(frozen=True)
class OldKey:
    """What one key of the old ``Pipeline`` section becomes.

    ``kind``: ``value`` (a setting at ``target``, today's YAML path), ``model`` (``target`` is the module:
    a name goes to its ``model_name``, a path to its ``model_dir``), ``device`` (accepted, compared with the
    device given) or ``ignored`` (PaddleX's own switches, said in the log).
    """

    kind: str
    target: tuple[str, ...] = ()


_DET = ("SubModules", "TextDetection")
_REC = ("SubModules", "TextRecognition")
_CLS = ("SubModules", "TextLineOrientation")


def _value(*path: str) -> OldKey:
    return OldKey("value", tuple(path))


def _model(module: tuple[str, ...]) -> OldKey:
    return OldKey("model", module)


_DEVICE = OldKey("device")
_IGNORED = OldKey("ignored")

# Every key PaddleX's old OCR files used (PaddleX 3.0 beta's OCR.yaml versions and its pipeline guide),
# plus PaddleOCR's det/rec settings of the same era.
OCR_KEYS: dict[str, OldKey] = {
    "det_model": _model(_DET),
    "text_det_model": _model(_DET),
    "rec_model": _model(_REC),
    "text_rec_model": _model(_REC),
    "cls_model": _model(_CLS),
    "use_angle_cls": _value("use_textline_orientation"),
    "batch_size": _value(*_REC, "batch_size"),  # the old OCR pipeline gave it to the recogniser
    "rec_batch_size": _value(*_REC, "batch_size"),
    "text_rec_batch_size": _value(*_REC, "batch_size"),
    "det_batch_size": _value(*_DET, "batch_size"),
    "text_det_batch_size": _value(*_DET, "batch_size"),
    "cls_batch_size": _value(*_CLS, "batch_size"),
    "det_limit_side_len": _value(*_DET, "limit_side_len"),
    "det_limit_type": _value(*_DET, "limit_type"),
    "det_db_thresh": _value(*_DET, "thresh"),
    "det_db_box_thresh": _value(*_DET, "box_thresh"),
    "det_db_unclip_ratio": _value(*_DET, "unclip_ratio"),
    "det_db_score_mode": _value(*_DET, "score_mode"),
    "det_box_type": _value(*_DET, "box_type"),
    "rec_score_thresh": _value(*_REC, "score_thresh"),
    "drop_score": _value(*_REC, "score_thresh"),
    "device": _DEVICE,
    "det_device": _DEVICE,
    "rec_device": _DEVICE,
    "cls_device": _DEVICE,
    "use_hpip": _IGNORED,
    "hpi_params": _IGNORED,
    "pp_option": _IGNORED,
}

# Pipelines whose old form hpi reads: PaddleX name → the old Pipeline keys.
LEGACY_FORMS: dict[str, dict[str, OldKey]] = {"OCR": OCR_KEYS}
GLOBAL_KEYS = ("pipeline_name", "input")
TOP_LEVEL_KEYS = ("Global", "Pipeline", "hpi_config")  # hpi's own section may sit beside them


def is_legacy(data: Mapping) -> bool:
    """Whether ``data`` is in the old form (``Global``/``Pipeline`` sections, no top-level pipeline_name)."""
    return isinstance(data, Mapping) and "pipeline_name" not in data and ("Global" in data or "Pipeline" in data)


def pipeline_name(data: Mapping) -> str | None:
    """The pipeline a raw config names, in either form (None when it names none)."""
    if is_legacy(data):
        section = data.get("Global")
        return section.get("pipeline_name") if isinstance(section, Mapping) else None
    return data.get("pipeline_name") if isinstance(data, Mapping) else None


def convert(data: Mapping, source: str = "config", device: Any = NOT_GIVEN) -> Mapping:
    """``data`` in today's schema: unchanged unless it is in the old form (see the module docstring).

    ``source`` names the file in messages; ``device`` is the device the pipeline will run on (None:
    hpi's default, cpu), which the old file's device keys are compared with.
    """
    if not is_legacy(data):
        return data
    where = f"{source} (PaddleX's older config form)"
    unknown = sorted(set(data) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ConfigError(f"{where}: " + unknown_keys_message("the top level", unknown, TOP_LEVEL_KEYS)
                          + " Today's keys (pipeline_name, SubModules, ...) cannot be mixed with Global/Pipeline.")
    global_section = _mapping(data, "Global", where)
    unknown = sorted(set(global_section) - set(GLOBAL_KEYS))
    if unknown:
        raise ConfigError(f"{where}: " + unknown_keys_message("Global", unknown, GLOBAL_KEYS))
    name = global_section.get("pipeline_name")
    if name is None:
        raise ConfigError(f"{where}: Global has no pipeline_name; add e.g. 'pipeline_name: OCR'.")
    if name not in LEGACY_FORMS:
        from . import PIPELINES

        raise ConfigError(
            f"{where}: Global.pipeline_name is {name!r}{did_you_mean(name, LEGACY_FORMS)}. hpi reads the old "
            f"form for {', '.join(LEGACY_FORMS)}; for the other pipelines it has ({', '.join(PIPELINES)}) write "
            f"today's schema (hpi --get_pipeline_config NAME)."
        )
    old_keys = LEGACY_FORMS[name]
    pipeline = _mapping(data, "Pipeline", where)
    unknown = sorted(set(pipeline) - set(old_keys))
    if unknown:
        raise ConfigError(f"{where}: " + unknown_keys_message("Pipeline", unknown, old_keys))

    from . import pipeline_class

    config_class = pipeline_class(name).config_class
    converted: dict = copy.deepcopy(dict(load_pipeline_config(name)))
    if "hpi_config" in data:
        converted["hpi_config"] = data["hpi_config"]
    mapped: list[str] = []
    set_by: dict[tuple[str, ...], str] = {}
    devices: dict[str, Any] = {}
    ignored: list[str] = []
    for key, value in pipeline.items():
        rule = old_keys[key]
        if value is None:  # an empty entry: the default
            continue
        if rule.kind == "device":
            devices[key] = value
            continue
        if rule.kind == "ignored":
            ignored.append(key)
            continue
        try:
            if rule.kind == "model":
                path, value = _model_target(rule.target, key, value)
            else:
                path = rule.target
                annotation, rules = config_class.field_at(path)
                value = check_value("Pipeline", key, value, annotation, rules)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if rule.target in set_by and set_by[rule.target] != key:
            raise ConfigError(
                f"{where}: Pipeline.{set_by[rule.target]} and Pipeline.{key} both set "
                f"{'.'.join(rule.target)}; keep one."
            )
        set_by[rule.target] = key
        if rule.kind == "model" and path[-1] == "model_name":
            converted = set_path(converted, (*rule.target, "model_dir"), None)
        converted = set_path(converted, path, value)
        mapped.append(f"{key} → {'.'.join(path)}")
    if "input" in global_section:
        log.info("%s: Global.input (%s) is not used; hpi takes its inputs from predict() or --input.",
                 source, global_section["input"])
    if ignored:
        log.warning("%s: Pipeline.%s ignored: PaddleX's predictor switches; hpi chooses its backends itself "
                    "(hpi_config: backend, precision, threads).", source, ", Pipeline.".join(ignored))
    _check_devices(source, devices, device)
    log.info("%s: PaddleX's older config form, read as today's schema for %s: %s.", source, name,
             ", ".join(mapped) or "the defaults")
    return converted


def _mapping(data: Mapping, key: str, where: str) -> Mapping:
    section = data.get(key)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where}: {key} must be a mapping, got {type(section).__name__}.")
    return section


def _model_target(module: tuple[str, ...], key: str, value: Any) -> tuple[tuple[str, ...], str]:
    """(today's path, value) for a model entry: a path goes to ``model_dir``, a name to ``model_name``."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"Pipeline.{key} is {value!r}; it must be a model name (e.g. PP-OCRv4_mobile_det) or the "
            "directory of a model (e.g. ./output/best_model/inference)."
        )
    return (*module, "model_dir" if _is_path(value) else "model_name"), value


def _is_path(value: str) -> bool:
    """PaddleX's rule (an existing path is a model directory) plus what can only be a path."""
    if any(sep in value for sep in ("/", "\\")) or value.startswith((".", "~")) or value.endswith(".onnx"):
        return True
    try:
        return Path(value).expanduser().exists()
    except OSError:
        return False


def _check_devices(source: str, devices: Mapping[str, Any], device: Any) -> None:
    if not devices:
        return
    from ..device import parse_device

    listed = ", ".join(f"Pipeline.{key}: {value!r}" for key, value in devices.items())
    if device is NOT_GIVEN:
        log.info("%s: %s accepted; hpi runs the pipeline on the device it is given (--device / device=...).",
                 source, listed)
        return
    try:
        given = parse_device(device)
    except DeviceError:
        return  # the pipeline refuses the device itself
    differing = {}
    for key, value in devices.items():
        try:
            same = parse_device(value) == given
        except DeviceError:
            same = False
        if not same:
            differing[key] = value
    if differing:
        keys = ", ".join(f"Pipeline.{key}: {value!r}" for key, value in differing.items())
        log.warning(
            "%s: %s differ%s from the device hpi was given (%s); hpi runs every model of the pipeline on that "
            "device. To use %r, pass device=%r (--device %s).", source, keys,
            "s" if len(differing) == 1 else "", given, next(iter(differing.values())),
            next(iter(differing.values())), next(iter(differing.values())),
        )


__all__ = ["LEGACY_FORMS", "NOT_GIVEN", "OCR_KEYS", "OldKey", "convert", "is_legacy", "pipeline_name"]
