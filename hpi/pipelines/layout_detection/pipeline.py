"""The layout detection pipeline: one page → its labelled region boxes (PaddleX's layout_detection module)."""

from __future__ import annotations

from typing import Any

from ...inputs import InputItem
from ...predictors.layout_detection import LayoutDetector
from ...results.layout import LayoutDetectionResult
from ...timing import StageTimes
from ..base import ModelSlot, Pipeline
from ..params import Param
from .config import LayoutDetectionPipelineConfig

_LAYOUT = ("SubModules", "LayoutDetection")

# PaddleX's (PaddleOCR's) names for the layout parameters, shared by the pipelines that detect layout
# (seal recognition takes the per-call ones).
LAYOUT_CALL_PARAMS = (
    Param("layout_threshold", (*_LAYOUT, "threshold"), call=True),
    Param("layout_nms", (*_LAYOUT, "layout_nms"), call=True),
    Param("layout_unclip_ratio", (*_LAYOUT, "layout_unclip_ratio"), call=True),
    Param("layout_merge_bboxes_mode", (*_LAYOUT, "layout_merge_bboxes_mode"), call=True),
)
LAYOUT_PARAMS = (
    *LAYOUT_CALL_PARAMS,
    Param("layout_detection_model_name", (*_LAYOUT, "model_name")),
    Param("layout_detection_model_dir", (*_LAYOUT, "model_dir")),
    Param("layout_detection_batch_size", (*_LAYOUT, "batch_size")),
)


def layout_call(params: dict[str, Any]) -> dict[str, Any]:
    """``LayoutDetector.predict`` keyword arguments from a call's resolved layout parameters."""
    return {"threshold": params["layout_threshold"], "layout_nms": params["layout_nms"],
            "layout_unclip_ratio": params["layout_unclip_ratio"],
            "layout_merge_bboxes_mode": params["layout_merge_bboxes_mode"]}


class LayoutDetectionPipeline(Pipeline):
    """PaddleX's layout detection on hpi's engine (default model PicoDet_layout_CDLA, 10 CDLA classes)."""

    name = "layout_detection"
    config_class = LayoutDetectionPipelineConfig
    params = LAYOUT_PARAMS
    models = {"layout_detection": ModelSlot("layout_detection", LayoutDetector)}

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> dict[str, Any]:
        call = layout_call(params)
        # Checked before any image, so a bad value is one clear error, not one per input.
        from ...predictors.layout_rules import check_merge_mode, check_threshold, check_unclip_ratio

        check_threshold(call["threshold"], "layout_threshold")
        check_unclip_ratio(call["layout_unclip_ratio"], "layout_unclip_ratio")
        check_merge_mode(call["layout_merge_bboxes_mode"], "layout_merge_bboxes_mode")
        return call

    def predict_item(self, item: InputItem, call: dict[str, Any]) -> LayoutDetectionResult:
        times = StageTimes()
        boxes = self.predictor("layout_detection").predict(item.image, times, **call)
        return LayoutDetectionResult(input_path=item.input_path, page_index=item.page_index, input_img=item.image,
                                     boxes=boxes, stem=item.stem, timings_ms=times.as_ms())
