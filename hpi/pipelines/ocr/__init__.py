"""PaddleX's ``OCR`` pipeline: detection → crops → (textline orientation) → recognition."""

from .config import OCRConfig
from .pipeline import OCRPipeline, sort_boxes

__all__ = ["OCRConfig", "OCRPipeline", "sort_boxes"]
