"""The detection pipelines: an image → its labelled boxes (PaddleX's ``object_detection`` and
``small_object_detection``; the same predictor, PaddleX's ``DetResult``)."""

from __future__ import annotations

from typing import Any

from ...inputs import InputItem
from ...predictors.layout_rules import check_layout_nms, check_merge_mode, check_threshold, check_unclip_ratio
from ...predictors.object_detection import InstanceSegmenter, ObjectDetector
from ...results.layout import InstanceSegResult, LayoutDetectionResult
from ...timing import StageTimes
from ..base import ModelSlot, Pipeline
from ..params import Param
from .config import (
    InstanceSegmentationPipelineConfig, ObjectDetectionPipelineConfig, RotatedObjectDetectionPipelineConfig, SmallObjectDetectionPipelineConfig,
)


def _params(key: str, prefix: str, layout: bool) -> tuple[Param, ...]:
    """PaddleX's pipeline parameters (threshold per call; the layout rules where its pipeline takes them)
    and the model settings; help texts come from the config fields."""
    section = ("SubModules", key)
    call = [Param("threshold", (*section, "threshold"), call=True)]
    if layout:
        call += [Param(name, (*section, name), call=True)
                 for name in ("layout_nms", "layout_unclip_ratio", "layout_merge_bboxes_mode")]
    return (
        *call,
        Param(f"{prefix}_model_name", (*section, "model_name")),
        Param(f"{prefix}_model_dir", (*section, "model_dir")),
        Param(f"{prefix}_batch_size", (*section, "batch_size")),
        Param("img_size", (*section, "img_size")),
    )


class ObjectDetectionPipeline(Pipeline):
    """PaddleX's object detection on hpi's engine; the model's ``inference.yml`` gives its pre-processing and
    labels. Results are PaddleX's ``DetResult`` (``boxes: [{cls_id, label, score, coordinate}]``)."""

    name = "object_detection"
    config_class = ObjectDetectionPipelineConfig
    params = _params("ObjectDetection", "object_detection", layout=True)
    models = {"object_detection": ModelSlot("object_detection", ObjectDetector)}
    slot = "object_detection"

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> dict[str, Any]:
        # Checked before any image, so a bad value is one clear error, not one per input.
        call = {"threshold": check_threshold(params["threshold"], "threshold")}
        if "layout_nms" in params:
            call.update(layout_nms=check_layout_nms(params["layout_nms"], "layout_nms"),
                        layout_unclip_ratio=check_unclip_ratio(params["layout_unclip_ratio"], "layout_unclip_ratio"),
                        layout_merge_bboxes_mode=check_merge_mode(params["layout_merge_bboxes_mode"],
                                                                  "layout_merge_bboxes_mode"))
        self.predictor(self.slot).settings(**call)  # against the model's classes (a threshold per class id)
        return call

    def batch_size(self) -> int:
        return getattr(self.config, self.slot).batch_size

    def predict_item(self, item: InputItem, call: dict[str, Any]) -> LayoutDetectionResult:
        return self.predict_items([item], call)[0]

    def predict_items(self, items: list[InputItem], call: dict[str, Any]) -> list[LayoutDetectionResult]:
        times = StageTimes()
        boxes = self.predictor(self.slot).predict([item.image for item in items], times, **call)
        timings = times.as_ms()
        return [LayoutDetectionResult(input_path=item.input_path, page_index=item.page_index, input_img=item.image,
                                      boxes=found, stem=item.stem, timings_ms=dict(timings))
                for item, found in zip(items, boxes)]


class SmallObjectDetectionPipeline(ObjectDetectionPipeline):
    """PaddleX's small object detection (its pipeline takes ``threshold`` per call, no layout rules)."""

    name = "small_object_detection"
    config_class = SmallObjectDetectionPipelineConfig
    params = _params("SmallObjectDetection", "small_object_detection", layout=False)
    models = {"small_object_detection": ModelSlot("small_object_detection", ObjectDetector)}
    slot = "small_object_detection"


class RotatedObjectDetectionPipeline(ObjectDetectionPipeline):
    """PaddleX's rotated object detection (PP-YOLOE-R): ``boxes`` with four corners as ``coordinate``
    (``[x1, y1, ..., x4, y4]``); ``threshold`` per call."""

    name = "rotated_object_detection"
    config_class = RotatedObjectDetectionPipelineConfig
    params = _params("RotatedObjectDetection", "rotated_object_detection", layout=False)
    models = {"rotated_object_detection": ModelSlot("rotated_object_detection", ObjectDetector)}
    slot = "rotated_object_detection"


_INS = ("SubModules", "InstanceSegmentation")


class InstanceSegmentationPipeline(ObjectDetectionPipeline):
    """PaddleX's instance segmentation (Mask-RT-DETR): ``boxes`` and, per box, its mask cut to the box
    (PaddleX's ``InstanceSegResult``); ``threshold`` per call (one number)."""

    name = "instance_segmentation"
    config_class = InstanceSegmentationPipelineConfig
    params = (
        Param("threshold", (*_INS, "threshold"), call=True),
        Param("instance_segmentation_model_name", (*_INS, "model_name")),
        Param("instance_segmentation_model_dir", (*_INS, "model_dir")),
        Param("instance_segmentation_batch_size", (*_INS, "batch_size")),
    )
    models = {"instance_segmentation": ModelSlot("instance_segmentation", InstanceSegmenter)}
    slot = "instance_segmentation"

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> dict[str, Any]:
        threshold = check_threshold(params["threshold"], "threshold")
        if isinstance(threshold, dict):
            from ...errors import ConfigError

            raise ConfigError("threshold: instance segmentation takes one number (PaddleX's), not a per-class mapping.")
        return {"threshold": threshold}

    def predict_items(self, items: list[InputItem], call: dict[str, Any]) -> list[InstanceSegResult]:
        times = StageTimes()
        found = self.predictor(self.slot).predict([item.image for item in items], times, **call)
        timings = times.as_ms()
        return [InstanceSegResult(input_path=item.input_path, page_index=item.page_index, input_img=item.image,
                                  boxes=boxes, masks=masks, stem=item.stem, timings_ms=dict(timings))
                for item, (boxes, masks) in zip(items, found)]
