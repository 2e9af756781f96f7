"""Typed results that render PaddleX's keys and files."""

from .base import ErrorResult
from .doc_preprocessor import DocPreprocessorResult
from .ocr import OCRResult

__all__ = ["DocPreprocessorResult", "ErrorResult", "OCRResult"]
