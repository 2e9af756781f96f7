"""PaddleX's ``seal_recognition`` pipeline: seal (stamp) text on document pages."""

from .config import SealRecognitionConfig
from .pipeline import SealRecognitionPipeline

__all__ = ["SealRecognitionConfig", "SealRecognitionPipeline"]
