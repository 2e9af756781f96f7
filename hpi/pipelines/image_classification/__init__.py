"""``image_classification`` and ``image_multilabel_classification``: PaddleX's classification pipelines."""

from .config import ImageClassificationPipelineConfig, ImageMultiLabelClassificationPipelineConfig
from .pipeline import ImageClassificationPipeline, ImageMultiLabelClassificationPipeline

__all__ = ["ImageClassificationPipeline", "ImageClassificationPipelineConfig", "ImageMultiLabelClassificationPipeline",
           "ImageMultiLabelClassificationPipelineConfig"]
