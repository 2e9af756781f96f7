"""``layout_detection``: PaddleX's layout detection module run as a pipeline of its own."""

from .config import LayoutDetectionPipelineConfig
from .pipeline import LayoutDetectionPipeline

__all__ = ["LayoutDetectionPipeline", "LayoutDetectionPipelineConfig"]
