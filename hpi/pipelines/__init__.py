"""Pipelines and ``create_pipeline``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import HPIConfig, load_pipeline_config, ocr_config_from_dict
from ..errors import ConfigError

PIPELINES = ("OCR",)

# create_pipeline keyword → (config section, key). PaddleX/PaddleOCR constructor names.
_INIT_OVERRIDES = {
    "use_textline_orientation": (None, "use_textline_orientation"),
    "use_doc_preprocessor": (None, "use_doc_preprocessor"),
    "use_doc_orientation_classify": ("DocPreprocessor", "use_doc_orientation_classify"),
    "use_doc_unwarping": ("DocPreprocessor", "use_doc_unwarping"),
    "text_detection_model_name": ("TextDetection", "model_name"),
    "text_detection_model_dir": ("TextDetection", "model_dir"),
    "text_det_limit_side_len": ("TextDetection", "limit_side_len"),
    "text_det_limit_type": ("TextDetection", "limit_type"),
    "text_det_max_side_limit": ("TextDetection", "max_side_limit"),
    "text_det_thresh": ("TextDetection", "thresh"),
    "text_det_box_thresh": ("TextDetection", "box_thresh"),
    "text_det_unclip_ratio": ("TextDetection", "unclip_ratio"),
    "textline_orientation_model_name": ("TextLineOrientation", "model_name"),
    "textline_orientation_model_dir": ("TextLineOrientation", "model_dir"),
    "textline_orientation_batch_size": ("TextLineOrientation", "batch_size"),
    "text_recognition_model_name": ("TextRecognition", "model_name"),
    "text_recognition_model_dir": ("TextRecognition", "model_dir"),
    "text_recognition_batch_size": ("TextRecognition", "batch_size"),
    "text_rec_score_thresh": ("TextRecognition", "score_thresh"),
    "backend": ("hpi_config", "backend"),
    "precision": ("hpi_config", "precision"),
    "threads": ("hpi_config", "threads"),
    "measure": ("hpi_config", "measure"),
}


def create_pipeline(
    pipeline: str | Path = "OCR",
    device: str | None = None,
    config: dict | None = None,
    **overrides: Any,
):
    """Create a pipeline.

    ``pipeline``: a name (``"OCR"``) or the path of a PaddleX-style YAML.
    ``device``: ``"cpu"`` (default), ``"gpu"`` or ``"gpu:N"``.
    ``config``: a config dict in place of the YAML.
    ``overrides``: PaddleX's constructor parameters (``text_det_thresh``,
    ``use_textline_orientation``, ``text_recognition_batch_size``, …) and hpi's
    ``backend`` (auto|openvino|onnxruntime|paddle|tensorrt), ``precision``,
    ``threads``, ``measure``.
    """
    data = dict(config) if config is not None else load_pipeline_config(pipeline)
    unknown = sorted(set(overrides) - set(_INIT_OVERRIDES))
    if unknown:
        raise ConfigError(
            f"Unknown create_pipeline argument{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}. "
            f"Valid: device, config, {', '.join(_INIT_OVERRIDES)}."
        )
    data = _apply_overrides(data, {k: v for k, v in overrides.items() if v is not None})
    name = data.get("pipeline_name")
    if name != "OCR":
        raise ConfigError(
            f"Pipeline {name!r} is not available yet. Available pipelines: {', '.join(PIPELINES)}."
        )
    from .ocr import OCRPipeline

    return OCRPipeline(ocr_config_from_dict(data, str(pipeline)), device=device)


def _apply_overrides(data: dict, overrides: dict) -> dict:
    data = {**data}
    data["SubModules"] = {k: dict(v or {}) for k, v in (data.get("SubModules") or {}).items()}
    data["hpi_config"] = dict(data.get("hpi_config") or {})
    for key, value in overrides.items():
        section, field = _INIT_OVERRIDES[key]
        if section is None:
            data[field] = value
        elif section == "DocPreprocessor":
            # PaddleOCR's constructor flags: the doc preprocessor runs when either is on.
            sub = {k: dict(v or {}) for k, v in (data.get("SubPipelines") or {}).items()}
            sub.setdefault("DocPreprocessor", {})[field] = value
            data["SubPipelines"] = sub
        elif section == "hpi_config":
            data["hpi_config"][field] = value
        else:
            data["SubModules"].setdefault(section, {})[field] = value
    if "use_doc_preprocessor" not in overrides and (
        "use_doc_orientation_classify" in overrides or "use_doc_unwarping" in overrides
    ):
        doc = data["SubPipelines"]["DocPreprocessor"]
        data["use_doc_preprocessor"] = bool(
            doc.get("use_doc_orientation_classify", True) or doc.get("use_doc_unwarping", False)
        )
    return data


__all__ = ["PIPELINES", "create_pipeline", "HPIConfig"]
