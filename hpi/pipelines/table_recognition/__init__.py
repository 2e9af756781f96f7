"""PaddleX's ``table_recognition`` pipeline (v1): tables as HTML/Excel from page images."""

from .config import TableRecognitionConfig
from .pipeline import TableRecognitionPipeline

__all__ = ["TableRecognitionConfig", "TableRecognitionPipeline"]
