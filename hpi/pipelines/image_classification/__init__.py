"""``image_classification``: PaddleX's image classification pipeline (one classifier, its top classes)."""

from .config import ImageClassificationPipelineConfig
from .pipeline import ImageClassificationPipeline

__all__ = ["ImageClassificationPipeline", "ImageClassificationPipelineConfig"]
