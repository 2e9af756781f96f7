"""One predictor per model task: pre-process → run → post-process."""

from .text_detection import TextDetector
from .text_recognition import TextRecognizer
from .textline_orientation import TextlineClassifier

__all__ = ["TextDetector", "TextRecognizer", "TextlineClassifier"]
