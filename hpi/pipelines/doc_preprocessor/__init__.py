"""PaddleX's ``doc_preprocessor`` pipeline: whole-page orientation (unwarping: not yet)."""

from .config import DocPreprocessorConfig
from .pipeline import DocPreprocessorPipeline

__all__ = ["DocPreprocessorConfig", "DocPreprocessorPipeline"]
