"""One row per model task on the pipeline side: its module config, predictor and module result.

The models layer's row (:data:`hpi.models.tasks.TASKS`: agreement rules,
probe input, TensorRT profile recipe, PaddleX's module and model names) and
this one are keyed by the same task name, the module config's ``TASK``.
``create_model`` (:mod:`.single_model`) is made from these rows; pipelines
embed the same module configs under ``SubModules`` and run the same
predictors.

Adding a task: a predictor module (``from_module``, ``predict``,
``module_outputs``), a module config in :mod:`.modules`, a result class, a
row in ``hpi.models.tasks.TASKS`` and one here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..models.tasks import TaskInfo, get_task
from ..predictors.anomaly_detection import AnomalyDetector
from ..predictors.doc_orientation import DocOrientationClassifier
from ..predictors.doc_unwarping import DocUnwarper
from ..predictors.image_classification import ImageClassifier, MultiLabelClassifier
from ..predictors.layout_detection import LayoutDetector
from ..predictors.object_detection import InstanceSegmenter, ObjectDetector
from ..predictors.semantic_segmentation import SemanticSegmenter
from ..predictors.table_structure import TableStructureRecognizer
from ..predictors.text_detection import TextDetector
from ..predictors.text_recognition import TextRecognizer
from ..predictors.textline_orientation import TextlineClassifier
from ..predictors.time_series import TSAnomalyDetector, TSClassifier, TSForecaster
from ..results.layout import InstanceSegResult, LayoutDetectionResult
from ..results.modules import (
    DocTrResult, SegResult, TableStructureResult, TextDetResult, TextRecResult, TopkResult,
)
from ..results.time_series import TSAnomalyResult, TSClassificationResult, TSForecastResult
from .modules import (
    AnomalyDetectionConfig, DocOrientationClassifyConfig, DocUnwarpingConfig, ImageClassificationConfig, ImageMultiLabelClassificationConfig,
    LayoutDetectionConfig, ModuleConfig,
    InstanceSegmentationConfig, ObjectDetectionConfig, RotatedObjectDetectionConfig, SealTextDetectionConfig, SemanticSegmentationConfig, SmallObjectDetectionConfig,
    TableStructureRecognitionConfig, TextDetectionConfig, TextLineOrientationConfig, TextRecognitionConfig,
    TSAnomalyDetectionConfig, TSClassificationConfig, TSForecastConfig,
)


@dataclass(frozen=True)
class ModuleTask:
    """A model task as PaddleX's module: config, predictor, result, parameters.

    ``key``: the module's key under ``SubModules`` in PaddleX's YAMLs. ``params``: PaddleX's module
    parameters (``create_model(**kw)`` and ``predict(**kw)``), fields of ``config``. ``call_defaults``:
    PaddleX's module defaults where they differ from the pipelines' config (text detection resizes the long
    side to 960 as a module, the short side to 64 in OCR).
    """

    config: type[ModuleConfig]
    key: str
    predictor: type
    result: type
    params: tuple[str, ...] = ()
    call_defaults: Mapping[str, Any] = field(default_factory=dict)

    @property
    def task(self) -> str:
        return self.config.TASK

    @property
    def info(self) -> TaskInfo:
        """The models layer's row of the task (PaddleX's module name, agreement rules, ...)."""
        return get_task(self.task)


_DET_PARAMS = ("limit_side_len", "limit_type", "max_side_limit", "thresh", "box_thresh", "unclip_ratio")

# PaddleX's detector parameters (DetRunnerPredictor: create_model(**kw) and predict(**kw)).
_OBJ_PARAMS = ("img_size", "threshold", "layout_nms", "layout_unclip_ratio", "layout_merge_bboxes_mode")

MODULE_TASKS: dict[str, ModuleTask] = {
    row.task: row
    for row in (
        ModuleTask(TextDetectionConfig, "TextDetection", TextDetector, TextDetResult, _DET_PARAMS,
                   call_defaults={"limit_side_len": 960, "limit_type": "max"}),
        ModuleTask(SealTextDetectionConfig, "SealTextDetection", TextDetector, TextDetResult, _DET_PARAMS),
        ModuleTask(TextRecognitionConfig, "TextRecognition", TextRecognizer, TextRecResult),
        ModuleTask(TextLineOrientationConfig, "TextLineOrientation", TextlineClassifier, TopkResult),
        ModuleTask(DocOrientationClassifyConfig, "DocOrientationClassify", DocOrientationClassifier, TopkResult),
        ModuleTask(DocUnwarpingConfig, "DocUnwarping", DocUnwarper, DocTrResult),
        ModuleTask(TableStructureRecognitionConfig, "TableStructureRecognition", TableStructureRecognizer,
                   TableStructureResult),
        ModuleTask(LayoutDetectionConfig, "LayoutDetection", LayoutDetector, LayoutDetectionResult,
                   ("threshold", "layout_nms", "layout_unclip_ratio", "layout_merge_bboxes_mode")),
        ModuleTask(ImageClassificationConfig, "ImageClassification", ImageClassifier, TopkResult, ("topk",)),
        ModuleTask(ImageMultiLabelClassificationConfig, "ImageMultiLabelClassification", MultiLabelClassifier,
                   TopkResult, ("threshold",)),
        ModuleTask(ObjectDetectionConfig, "ObjectDetection", ObjectDetector, LayoutDetectionResult, _OBJ_PARAMS),
        ModuleTask(SmallObjectDetectionConfig, "SmallObjectDetection", ObjectDetector, LayoutDetectionResult,
                   _OBJ_PARAMS),
        ModuleTask(RotatedObjectDetectionConfig, "RotatedObjectDetection", ObjectDetector, LayoutDetectionResult,
                   _OBJ_PARAMS),
        ModuleTask(InstanceSegmentationConfig, "InstanceSegmentation", InstanceSegmenter, InstanceSegResult,
                   ("threshold",)),
        ModuleTask(SemanticSegmentationConfig, "SemanticSegmentation", SemanticSegmenter, SegResult,
                   ("target_size",)),
        ModuleTask(AnomalyDetectionConfig, "AnomalyDetection", AnomalyDetector, SegResult),
        ModuleTask(TSForecastConfig, "TSForecast", TSForecaster, TSForecastResult),
        ModuleTask(TSAnomalyDetectionConfig, "TSAnomalyDetection", TSAnomalyDetector, TSAnomalyResult),
        ModuleTask(TSClassificationConfig, "TSClassification", TSClassifier, TSClassificationResult),
    )
}


__all__ = ["MODULE_TASKS", "ModuleTask"]
