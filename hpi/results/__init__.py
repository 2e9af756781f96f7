"""Typed results that render PaddleX's keys and files."""

from .base import ErrorResult
from .ocr import OCRResult

__all__ = ["ErrorResult", "OCRResult"]
