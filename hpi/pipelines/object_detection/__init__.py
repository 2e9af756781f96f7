"""``object_detection`` and ``small_object_detection``: PaddleX's detection pipelines (one detector, its boxes)."""

from .config import ObjectDetectionPipelineConfig, SmallObjectDetectionPipelineConfig
from .pipeline import ObjectDetectionPipeline, SmallObjectDetectionPipeline

__all__ = ["ObjectDetectionPipeline", "ObjectDetectionPipelineConfig", "SmallObjectDetectionPipeline",
           "SmallObjectDetectionPipelineConfig"]
