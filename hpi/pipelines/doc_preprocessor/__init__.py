"""PaddleX's ``doc_preprocessor`` pipeline: whole-page orientation, then unwarping (UVDoc)."""

from .config import DocPreprocessorConfig
from .pipeline import DocPreprocessorPipeline, nested_doc_preprocessor_params

__all__ = ["DocPreprocessorConfig", "DocPreprocessorPipeline", "nested_doc_preprocessor_params"]
