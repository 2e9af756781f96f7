"""PaddleX's ``doc_preprocessor`` pipeline: whole-page orientation, then unwarping (UVDoc)."""

from .config import DocPreprocessorConfig
from .pipeline import DocPreprocessorPipeline

__all__ = ["DocPreprocessorConfig", "DocPreprocessorPipeline"]
