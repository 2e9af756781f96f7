"""The ``image_classification`` config: PaddleX's schema, one ``SubModules.ImageClassification`` section."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import submodule
from ..base import PipelineConfig
from ..modules import ImageClassificationConfig, ImageMultiLabelClassificationConfig


@dataclass(frozen=True)
class ImageClassificationPipelineConfig(PipelineConfig):
    """An image's top classes (PaddleX's default model: PP-LCNet_x0_5, ImageNet's 1000 classes)."""

    pipeline_name: str = "image_classification"
    image_classification: ImageClassificationConfig = submodule("ImageClassification", ImageClassificationConfig)


@dataclass(frozen=True)
class ImageMultiLabelClassificationPipelineConfig(PipelineConfig):
    """Every class of an image over its threshold (PaddleX's default model: PP-HGNetV2-B6_ML, COCO's 80)."""

    pipeline_name: str = "image_multilabel_classification"
    image_multilabel_classification: ImageMultiLabelClassificationConfig = submodule(
        "ImageMultiLabelClassification", ImageMultiLabelClassificationConfig)
