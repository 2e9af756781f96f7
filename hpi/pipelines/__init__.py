"""Pipelines: one table of them by PaddleX name, and ``create_pipeline``.

Adding a pipeline: a folder ``hpi/pipelines/<name>/`` with ``config.py`` (its
schema on :class:`hpi.pipelines.base.PipelineConfig`), ``pipeline.py`` (a
:class:`hpi.pipelines.base.Pipeline` subclass: parameters, model slots,
``predict_item``), a result class in ``hpi/results/``, a default
``pipelines/<name>.yaml``, and one row below. ``create_pipeline``, the CLI,
``hpi build`` and ``hpi benchmark`` read this table.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import load_pipeline_config
from ..errors import ConfigError, did_you_mean
from . import legacy


@dataclass(frozen=True)
class PipelineInfo:
    """A pipeline hpi has: PaddleX's name, where its class is, and what it does."""

    name: str
    module: str  # hpi.pipelines.<module>
    class_name: str
    description: str

    def load(self) -> type:
        return getattr(importlib.import_module(f"{__name__}.{self.module}"), self.class_name)


PIPELINES: dict[str, PipelineInfo] = {
    info.name: info
    for info in (
        PipelineInfo("OCR", "ocr", "OCRPipeline",
                     "text detection + recognition (+ page and textline orientation)"),
        PipelineInfo("doc_preprocessor", "doc_preprocessor", "DocPreprocessorPipeline",
                     "page orientation classification (0/90/180/270), page turned upright"),
        PipelineInfo("table_recognition", "table_recognition", "TableRecognitionPipeline",
                     "tables as HTML/Excel: table regions, structure (SLANet_plus), cells filled from OCR"),
        PipelineInfo("seal_recognition", "seal_recognition", "SealRecognitionPipeline",
                     "seal (stamp) text: seal regions, curved text detection, rectification, recognition"),
        PipelineInfo("layout_detection", "layout_detection", "LayoutDetectionPipeline",
                     "page regions (text, title, table, figure, ...) as labelled boxes"),
        PipelineInfo("layout_parsing", "layout_parsing", "LayoutParsingPipeline",
                     "page regions in reading order: text through OCR, tables as HTML, seals (Markdown too)"),
        PipelineInfo("image_classification", "image_classification", "ImageClassificationPipeline",
                     "an image's top classes (the model's own inference.yml: pre-processing, labels)"),
        PipelineInfo("image_multilabel_classification", "image_classification",
                     "ImageMultiLabelClassificationPipeline",
                     "every class of an image over its threshold (PaddleX's multi-label classifiers)"),
        PipelineInfo("object_detection", "object_detection", "ObjectDetectionPipeline",
                     "an image's objects as labelled boxes (PaddleX's exported detectors, NMS in the graph)"),
        PipelineInfo("small_object_detection", "object_detection", "SmallObjectDetectionPipeline",
                     "small objects as labelled boxes (PaddleX's PP-YOLOE_plus_SOD models)"),
        PipelineInfo("rotated_object_detection", "object_detection", "RotatedObjectDetectionPipeline",
                     "objects as rotated boxes, four corners each (PaddleX's PP-YOLOE-R)"),
        PipelineInfo("instance_segmentation", "object_detection", "InstanceSegmentationPipeline",
                     "objects as labelled boxes with their masks (PaddleX's Mask-RT-DETR, Mask R-CNN)"),
        PipelineInfo("semantic_segmentation", "semantic_segmentation", "SemanticSegmentationPipeline",
                     "a class id per pixel (PaddleX's segmentation models: PP-LiteSeg, SegFormer, ...)"),
        PipelineInfo("anomaly_detection", "semantic_segmentation", "AnomalyDetectionPipeline",
                     "a defect mask per image (PaddleX's STFPM: score map, threshold, opening)"),
        PipelineInfo("ts_forecast", "time_series", "TSForecastPipeline",
                     "the next steps of each time series (CSV, DataFrame; PaddleX's DLinear, PatchTST, TiDE, ...)"),
        PipelineInfo("ts_anomaly_detection", "time_series", "TSAnomalyDetectionPipeline",
                     "a 0/1 anomaly label per time step (PaddleX's DLinear_ad, PatchTST_ad, ...)"),
        PipelineInfo("ts_classification", "time_series", "TSClassificationPipeline",
                     "a class per time series (PaddleX's TimesNet_cls)"),
    )
}


def pipeline_class(name: str) -> type:
    """The pipeline class for PaddleX's pipeline name; a clear error (with a close match) otherwise."""
    try:
        return PIPELINES[name].load()
    except KeyError:
        raise ConfigError(
            f"Unknown pipeline {name!r}{did_you_mean(name, PIPELINES)}: hpi does not have it (yet). Available "
            f"pipelines: {', '.join(PIPELINES)}; or give the path of a pipeline YAML."
        ) from None


def _is_path(pipeline: str | Path) -> bool:
    text = str(pipeline)
    return text.endswith((".yaml", ".yml")) or Path(text).is_file() or "/" in text


def load_config(pipeline: str | Path = "OCR", config: Mapping | None = None,
                overrides: Mapping[str, Any] | None = None, device: Any = legacy.NOT_GIVEN):
    """(pipeline class, checked config) for a name or YAML path (or a config mapping) and overrides.

    PaddleX's older form (``Global``/``Pipeline``) is read as today's schema (:mod:`.legacy`); its device
    keys are compared with ``device``, the device the pipeline will run on.
    """
    if config is not None:
        if not isinstance(config, Mapping):
            raise ConfigError(
                f"config must be a mapping (a parsed pipeline YAML: {{'pipeline_name': 'OCR', ...}}), got "
                f"{type(config).__name__} {config!r:.60}; to load a pipeline by name or YAML path, pass it "
                "as the first argument: create_pipeline('OCR') or create_pipeline('./OCR.yaml')."
            )
        data, source = dict(config), "config"
    else:
        if not _is_path(pipeline) and str(pipeline) not in PIPELINES:
            pipeline_class(str(pipeline))  # the "not available" error, with the table's names
        data, source = load_pipeline_config(pipeline), str(pipeline)
    data = legacy.convert(data, source, device)
    name = data.get("pipeline_name")
    if name is None:
        raise ConfigError(f"{source}: the config has no pipeline_name; add e.g. 'pipeline_name: OCR'.")
    cls = pipeline_class(name)
    data = cls.apply_overrides(data, dict(overrides or {}))
    return cls, cls.config_class.from_dict(data, source)


def create_pipeline(
    pipeline: str | Path = "OCR",
    device: str | None = None,
    config: Mapping | None = None,
    **overrides: Any,
):
    """Create a pipeline.

    ``pipeline``: a name from :data:`PIPELINES` (``"OCR"``, ``"doc_preprocessor"``) or the path of a
    PaddleX-style YAML. ``device``: ``"cpu"`` (default), ``"gpu"`` or ``"gpu:N"``.
    ``config``: a config mapping in place of the YAML. ``overrides``: the pipeline's constructor
    parameters with PaddleX's names (``text_det_thresh``, ``use_textline_orientation``,
    ``text_recognition_batch_size``, …) and hpi's ``backend`` (auto|openvino|onnxruntime|paddle|
    tensorrt), ``precision``, ``threads``, ``measure``.
    """
    cls, checked = load_config(pipeline, config, overrides, device=device)
    return cls(checked, device=device)


__all__ = ["PIPELINES", "PipelineInfo", "create_pipeline", "load_config", "pipeline_class"]
