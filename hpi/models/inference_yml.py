"""A PaddleX model's ``inference.yml``: the pre/post-processing facts the engine needs, read from it.

PaddleX writes one beside every exported model (``Global.model_name``,
``PreProcess.transform_ops``, ``PostProcess``); PP-OCRv6's ONNX files ship with
PaddleX's own. :func:`read_facts` turns it into the fields of a
:class:`~hpi.models.registry.ModelSpec` it sets, and :func:`apply_facts` makes
the spec, so a model's mean/std, input size, DB thresholds and dictionary are
its own and never another model's.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .registry import ModelSpec

log = logging.getLogger(__name__)

# PostProcess keys of DBPostProcess hpi uses, and their names in ModelSpec.postprocess.
_DB_KEYS = ("thresh", "box_thresh", "unclip_ratio", "max_candidates")


def _number(value: Any, where: str) -> float:
    """``0.00392`` or PaddleX's ``"1./255."`` as a float."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace(" ", "")
    try:
        if "/" in text:
            top, bottom = text.split("/", 1)
            return float(Fraction(top.rstrip(".") or "0")) / float(Fraction(bottom.rstrip(".") or "1"))
        return float(text)
    except (ValueError, ZeroDivisionError):
        raise ModelError(f"inference.yml: {where} is {value!r}, not a number.") from None


def read_yaml(path: Path) -> dict:
    """The mapping in an inference.yml, parsed once per file content (cached by path, size and modification
    time: a model's file is read by several stages at load). Callers must not change it."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ModelError(f"{path} cannot be read as a PaddleX inference.yml ({exc}).") from None
    return _read_yaml(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _read_yaml(path: str, mtime_ns: int, size: int) -> dict:
    import yaml

    from .. import yaml_safe

    try:
        data = yaml_safe.load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelError(f"{path} cannot be read as a PaddleX inference.yml ({exc}).") from None
    except yaml_safe.YAMLBombError as exc:
        raise ModelError(f"{path} is refused: {exc}. PaddleX writes no such inference.yml; the model directory "
                         "is damaged or hostile. Export the model again, or take the file from its source.") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path} is not a PaddleX inference.yml (a YAML mapping with Global/PreProcess/PostProcess).")
    return data


def model_name(path: Path) -> str | None:
    try:
        return (read_yaml(path).get("Global") or {}).get("model_name")
    except ModelError:
        return None


def read_facts(path: Path) -> dict[str, Any]:
    """The facts of one inference.yml: ``mean``, ``std``, ``scale``, ``postprocess`` (partial), ``characters``,
    ``inputs`` (a time-series model's ``input_data``)."""
    data = read_yaml(path)
    facts: dict[str, Any] = {}
    post: dict[str, Any] = {}
    for op in (data.get("PreProcess") or {}).get("transform_ops") or []:
        if not isinstance(op, dict) or len(op) != 1:
            continue
        (name, args), = op.items()
        args = args or {}
        if name == "NormalizeImage":
            if "mean" in args:
                facts["mean"] = tuple(_number(v, "NormalizeImage.mean") for v in args["mean"])
            if "std" in args:
                facts["std"] = tuple(_number(v, "NormalizeImage.std") for v in args["std"])
            if "scale" in args:
                facts["scale"] = _number(args["scale"], "NormalizeImage.scale")
        elif name == "RecResizeImg" and "image_shape" in args:
            post["image_shape"] = [int(v) for v in args["image_shape"]]
        elif name == "ResizeImage" and "size" in args:  # classifiers: size is [width, height]
            width, height = (int(v) for v in args["size"])
            post["image_shape"] = [3, height, width]
            # PaddleX's classification predictor reads RGB and stretches to the size (no padding).
            post["resize"], post["rgb"] = "stretch", True
    postprocess = data.get("PostProcess") or {}
    kind = postprocess.get("name")
    if kind == "DBPostProcess":
        for key in _DB_KEYS:
            if key in postprocess:
                post[key] = _number(postprocess[key], f"PostProcess.{key}")
        if "max_candidates" in post:
            post["max_candidates"] = int(post["max_candidates"])
    elif kind == "CTCLabelDecode":
        characters = postprocess.get("character_dict")
        if isinstance(characters, list) and characters:
            facts["characters"] = [str(c) for c in characters]
    labels = (postprocess.get("Topk") or {}).get("label_list") if isinstance(postprocess.get("Topk"), dict) else None
    if labels:
        facts["labels"] = tuple(str(label) for label in labels)
    _detection_facts(data, facts, post)
    inputs = series_inputs(data, path)
    if inputs:
        facts["inputs"] = inputs
    if post:
        facts["postprocess"] = post
    return facts


def series_inputs(data: dict, path: Path) -> tuple:
    """A time-series model's inputs (PaddleTS's exporter writes ``input_data: {name: [null, length, width]}``) as
    input rules, in the order PaddleX feeds them (sorted names), with batch 1 as the typical shape."""
    from .registry import InputRule

    input_data = data.get("input_data")
    if not isinstance(input_data, dict) or not input_data:
        return ()
    rules = []
    for name in sorted(input_data):
        dims = input_data[name]
        if (not isinstance(dims, (list, tuple)) or len(dims) < 2
                or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims[1:])):
            raise ModelError(f"{path}: input_data.{name} is {dims!r}; PaddleTS writes [null, length, width] with "
                             "positive whole numbers.")
        shape = (1, *(int(d) for d in dims[1:]))
        rules.append(InputRule(str(name), (None, *shape[1:]), typical_shapes=(shape,), min_shape=shape,
                               opt_shape=shape, max_shape=(64, *shape[1:])))
    return tuple(rules)


# Top-level keys of a PaddleX detection inference.yml kept as ModelSpec.postprocess entries (layout models).
_DETECTION_KEYS = ("draw_threshold", "layout_nms", "layout_unclip_ratio", "layout_merge_bboxes_mode")


def _detection_facts(data: dict, facts: dict[str, Any], post: dict[str, Any]) -> None:
    """PaddleX's detection models (PP-DocLayout, RT-DETR, PicoDet) write ``label_list``, ``draw_threshold``
    and a ``Preprocess`` list of ``{type: ...}`` ops at the top level, not PaddleOCR's sections."""
    labels = data.get("label_list")
    if isinstance(labels, list) and labels:
        facts["labels"] = tuple(str(label) for label in labels)
    for key in _DETECTION_KEYS:
        if data.get(key) is not None:
            post[key] = data[key]
    for op in data.get("Preprocess") or []:
        if not isinstance(op, dict):
            continue
        if op.get("type") == "Resize" and op.get("target_size"):
            post["target_size"] = [int(v) for v in op["target_size"]]  # [height, width]
            post["keep_ratio"] = bool(op.get("keep_ratio", False))
            post["interp"] = int(op.get("interp", 2))
        elif op.get("type") == "NormalizeImage":
            # PaddleX: norm_type None/"none" means mean_std; any other type normalises by scale alone.
            if op.get("norm_type") in (None, "none", "mean_std"):
                facts["mean"] = tuple(_number(v, "NormalizeImage.mean") for v in op.get("mean", (0.485, 0.456, 0.406)))
                facts["std"] = tuple(_number(v, "NormalizeImage.std") for v in op.get("std", (0.229, 0.224, 0.225)))
            else:
                facts["mean"], facts["std"] = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
            facts["scale"] = 1.0 / 255.0 if op.get("is_scale", True) else 1.0


def check_preprocess_ops(path: Path, known: tuple[str, ...], task: str) -> None:
    """Refuse an inference.yml whose ``PreProcess.transform_ops`` names an op the task's PaddleX predictor
    does not know (PaddleX refuses it too; running without it would silently differ)."""
    if not known:
        return
    data = read_yaml(path)
    for op in (data.get("PreProcess") or {}).get("transform_ops") or []:
        name = next(iter(op)) if isinstance(op, dict) and len(op) == 1 else op
        if name not in known:
            model = (data.get("Global") or {}).get("model_name") or path.parent.name
            raise ModelError(f"{path}: model {model!r} names the pre-processing op {name!r}, which PaddleX's "
                             f"{task} predictor does not know ({', '.join(known)}). Is this a {task} model?")


def apply_facts(spec: ModelSpec, facts: dict[str, Any]) -> ModelSpec:
    """``spec`` with what the inference.yml says (characters stay in the facts: the recognizer reads them)."""
    changes: dict[str, Any] = {k: facts[k] for k in ("mean", "std", "scale", "labels", "inputs") if k in facts}
    if "postprocess" in facts:
        changes["postprocess"] = {**spec.postprocess, **facts["postprocess"]}
        size = facts["postprocess"].get("target_size")
        if size and not facts["postprocess"].get("keep_ratio") and spec.inputs and len(spec.inputs[0].fixed_shape) == 4:
            # The model's own fixed input (a layout model of another size than the task's default one): its
            # checks and timings use it.
            from .registry import static_input

            rule = static_input(spec.inputs[0].name, (1, spec.inputs[0].fixed_shape[1] or 3, int(size[0]), int(size[1])))
            changes["inputs"] = (rule, *spec.inputs[1:])
    return replace(spec, **changes) if changes else spec


def onnx_characters(path: Path) -> list[str] | None:
    """The dictionary an ONNX rec model carries in its metadata (``character``, one per line), if any."""
    from .._deps import import_onnx

    try:
        model = import_onnx().load(str(path), load_external_data=False)
    except Exception:  # unreadable here: the runner will say why
        return None
    for prop in model.metadata_props:
        if prop.key == "character" and prop.value:
            return prop.value.splitlines()
    return None


def describe_facts(facts: dict[str, Any]) -> str:
    """A short list of what came from the file, for the log line."""
    parts = [key for key in ("mean", "std", "scale", "labels", "inputs") if key in facts]
    parts += sorted(facts.get("postprocess", {}))
    if "characters" in facts:
        parts.append(f"character_dict ({len(facts['characters'])} characters)")
    return ", ".join(parts) or "nothing hpi uses"


__all__ = ["apply_facts", "check_preprocess_ops", "describe_facts", "model_name", "onnx_characters", "read_facts", "read_yaml"]
