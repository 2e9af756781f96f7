"""``object_detection``, ``small_object_detection``, ``rotated_object_detection``, ``instance_segmentation``: PaddleX's detection pipelines."""

from .config import (
    InstanceSegmentationPipelineConfig, ObjectDetectionPipelineConfig, RotatedObjectDetectionPipelineConfig, SmallObjectDetectionPipelineConfig,
)
from .pipeline import InstanceSegmentationPipeline, ObjectDetectionPipeline, RotatedObjectDetectionPipeline, SmallObjectDetectionPipeline

__all__ = ["InstanceSegmentationPipeline", "InstanceSegmentationPipelineConfig", "ObjectDetectionPipeline", "ObjectDetectionPipelineConfig", "RotatedObjectDetectionPipeline",
           "RotatedObjectDetectionPipelineConfig", "SmallObjectDetectionPipeline", "SmallObjectDetectionPipelineConfig"]
