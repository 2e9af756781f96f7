"""The detection pipelines' configs: PaddleX's schema, one ``SubModules.ObjectDetection`` (or
``SmallObjectDetection``) section."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import submodule
from ..base import PipelineConfig
from ..modules import (
    InstanceSegmentationConfig, ObjectDetectionConfig, RotatedObjectDetectionConfig, SmallObjectDetectionConfig,
)


@dataclass(frozen=True)
class ObjectDetectionPipelineConfig(PipelineConfig):
    """An image's objects as labelled boxes (PaddleX's default model: PicoDet-S, COCO's 80 classes)."""

    pipeline_name: str = "object_detection"
    object_detection: ObjectDetectionConfig = submodule("ObjectDetection", ObjectDetectionConfig)


@dataclass(frozen=True)
class SmallObjectDetectionPipelineConfig(PipelineConfig):
    """Small objects as labelled boxes (PaddleX's default model: PP-YOLOE_plus_SOD-L, VisDrone's classes)."""

    pipeline_name: str = "small_object_detection"
    small_object_detection: SmallObjectDetectionConfig = submodule("SmallObjectDetection",
                                                                  SmallObjectDetectionConfig)


@dataclass(frozen=True)
class RotatedObjectDetectionPipelineConfig(PipelineConfig):
    """Rotated boxes (PaddleX's default model: PP-YOLOE-R-L, DOTA's 15 classes)."""

    pipeline_name: str = "rotated_object_detection"
    rotated_object_detection: RotatedObjectDetectionConfig = submodule("RotatedObjectDetection",
                                                                      RotatedObjectDetectionConfig)


@dataclass(frozen=True)
class InstanceSegmentationPipelineConfig(PipelineConfig):
    """Labelled boxes with masks (PaddleX's default model: Mask-RT-DETR-S, COCO's 80 classes)."""

    pipeline_name: str = "instance_segmentation"
    instance_segmentation: InstanceSegmentationConfig = submodule("InstanceSegmentation", InstanceSegmentationConfig)
