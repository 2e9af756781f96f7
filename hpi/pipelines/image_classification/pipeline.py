"""The image classification pipeline: an image → its top classes (PaddleX's ``image_classification``)."""

from __future__ import annotations

from typing import Any

from ...inputs import InputItem
from ...predictors.image_classification import ImageClassifier, MultiLabelClassifier, check_multilabel_threshold
from ...results.modules import TopkResult
from ...timing import StageTimes
from ..base import ModelSlot, Pipeline
from ..params import Param
from .config import ImageClassificationPipelineConfig, ImageMultiLabelClassificationPipelineConfig

_CLS = ("SubModules", "ImageClassification")

# PaddleX's pipeline parameter (topk) and its model settings; help texts come from the config fields.
PARAMS = (
    Param("topk", (*_CLS, "topk"), call=True),
    Param("image_classification_model_name", (*_CLS, "model_name")),
    Param("image_classification_model_dir", (*_CLS, "model_dir")),
    Param("image_classification_batch_size", (*_CLS, "batch_size")),
)
# PaddleX's pipeline: the config's topk, else 5 (paddlex/inference/pipelines/image_classification/pipeline.py).
DEFAULT_TOPK = 5


class ImageClassificationPipeline(Pipeline):
    """PaddleX's image classification on hpi's engine; the model's ``inference.yml`` gives its pre-processing
    and labels. Results are PaddleX's ``TopkResult`` (``class_ids``, ``scores``, ``label_names``)."""

    name = "image_classification"
    config_class = ImageClassificationPipelineConfig
    params = PARAMS
    models = {"image_classification": ModelSlot("image_classification", ImageClassifier)}

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> int:
        return DEFAULT_TOPK if params["topk"] is None else int(params["topk"])

    def batch_size(self) -> int:
        return self.config.image_classification.batch_size

    def predict_item(self, item: InputItem, topk: int) -> TopkResult:
        return self.predict_items([item], topk)[0]

    def predict_items(self, items: list[InputItem], topk: int) -> list[TopkResult]:
        """The images of ``items`` in model calls of ``batch_size`` (each result's timings are its batch's)."""
        times = StageTimes()
        rows = self.predictor("image_classification").predict([item.image for item in items], topk, times)
        timings = times.as_ms()
        return [TopkResult(class_ids=class_ids, scores=scores, label_names=names, input_path=item.input_path,
                           page_index=item.page_index, input_img=item.image, stem=item.stem, timings_ms=dict(timings))
                for item, (class_ids, scores, names) in zip(items, rows)]


_ML = ("SubModules", "ImageMultiLabelClassification")


class ImageMultiLabelClassificationPipeline(Pipeline):
    """PaddleX's multi-label image classification: every class over its threshold, best first (PaddleX's
    ``MLClassResult``: ``class_ids``, ``scores``, ``label_names``)."""

    name = "image_multilabel_classification"
    config_class = ImageMultiLabelClassificationPipelineConfig
    params = (
        Param("threshold", (*_ML, "threshold"), call=True),
        Param("image_multilabel_classification_model_name", (*_ML, "model_name")),
        Param("image_multilabel_classification_model_dir", (*_ML, "model_dir")),
        Param("image_multilabel_classification_batch_size", (*_ML, "batch_size")),
    )
    models = {"image_multilabel_classification": ModelSlot("image_multilabel_classification",
                                                           MultiLabelClassifier)}

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> Any:
        threshold = check_multilabel_threshold(params["threshold"])
        if threshold is not None:  # against the model's classes, before any image
            classes = len(self.predictor("image_multilabel_classification").labels)
            self.predictor("image_multilabel_classification").thresholds(threshold, classes)
        return threshold

    def batch_size(self) -> int:
        return self.config.image_multilabel_classification.batch_size

    def predict_item(self, item: InputItem, threshold: Any) -> TopkResult:
        return self.predict_items([item], threshold)[0]

    def predict_items(self, items: list[InputItem], threshold: Any) -> list[TopkResult]:
        times = StageTimes()
        rows = self.predictor("image_multilabel_classification").predict([item.image for item in items], threshold,
                                                                         times)
        timings = times.as_ms()
        return [TopkResult(class_ids=class_ids, scores=scores, label_names=names, input_path=item.input_path,
                           page_index=item.page_index, input_img=item.image, stem=item.stem, timings_ms=dict(timings))
                for item, (class_ids, scores, names) in zip(items, rows)]
