"""The semantic segmentation pipeline: an image → its label map (PaddleX's ``semantic_segmentation``)."""

from __future__ import annotations

from typing import Any

from ...inputs import InputItem
from ...models.preprocess import check_target_size
from ...predictors.anomaly_detection import AnomalyDetector
from ...predictors.semantic_segmentation import SemanticSegmenter
from ...results.modules import SegResult
from ...timing import StageTimes
from ..base import ModelSlot, Pipeline
from ..params import Param
from .config import AnomalyDetectionPipelineConfig, SemanticSegmentationPipelineConfig

_SEG = ("SubModules", "SemanticSegmentation")

# PaddleX's pipeline parameter (target_size per call) and its model settings.
PARAMS = (
    Param("target_size", (*_SEG, "target_size"), call=True),
    Param("semantic_segmentation_model_name", (*_SEG, "model_name")),
    Param("semantic_segmentation_model_dir", (*_SEG, "model_dir")),
    Param("semantic_segmentation_batch_size", (*_SEG, "batch_size")),
)


class SemanticSegmentationPipeline(Pipeline):
    """PaddleX's semantic segmentation on hpi's engine; the model's ``inference.yml`` gives its pre-processing.
    Results are PaddleX's ``SegResult`` (``pred``: the ``[1, H, W]`` label map)."""

    name = "semantic_segmentation"
    config_class = SemanticSegmentationPipelineConfig
    params = PARAMS
    models = {"semantic_segmentation": ModelSlot("semantic_segmentation", SemanticSegmenter)}

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> Any:
        # The call's target_size, else the config's (PaddleX 3.7.2's pipeline reads the config's but never uses
        # it; its own YAML writes None, so the default is the same).
        return check_target_size(params["target_size"], "target_size")

    def batch_size(self) -> int:
        return self.config.semantic_segmentation.batch_size

    def predict_item(self, item: InputItem, target_size: Any) -> SegResult:
        return self.predict_items([item], target_size)[0]

    def predict_items(self, items: list[InputItem], target_size: Any) -> list[SegResult]:
        times = StageTimes()
        maps = self.predictor("semantic_segmentation").predict([item.image for item in items], times, target_size)
        timings = times.as_ms()
        return [SegResult(pred=label_map, input_path=item.input_path, page_index=item.page_index,
                          input_img=item.image, stem=item.stem, timings_ms=dict(timings))
                for item, label_map in zip(items, maps)]


_UAD = ("SubModules", "AnomalyDetection")


class AnomalyDetectionPipeline(Pipeline):
    """PaddleX's image anomaly detection (STFPM): ``pred``, the ``[1, h, w]`` uint8 defect mask (255: defect)
    at the model's resolution (PaddleX's ``UadResult``)."""

    name = "anomaly_detection"
    config_class = AnomalyDetectionPipelineConfig
    params = (
        Param("anomaly_detection_model_name", (*_UAD, "model_name")),
        Param("anomaly_detection_model_dir", (*_UAD, "model_dir")),
        Param("anomaly_detection_batch_size", (*_UAD, "batch_size")),
    )
    models = {"anomaly_detection": ModelSlot("anomaly_detection", AnomalyDetector)}

    def batch_size(self) -> int:
        return self.config.anomaly_detection.batch_size

    def predict_item(self, item: InputItem, call: Any) -> SegResult:
        return self.predict_items([item], call)[0]

    def predict_items(self, items: list[InputItem], call: Any) -> list[SegResult]:
        times = StageTimes()
        masks = self.predictor("anomaly_detection").predict([item.image for item in items], times)
        timings = times.as_ms()
        return [SegResult(pred=mask, input_path=item.input_path, page_index=item.page_index, input_img=item.image,
                          stem=item.stem, timings_ms=dict(timings)) for item, mask in zip(items, masks)]
