"""One predictor per model task: pre-process → run → post-process."""

from .base import Predictor
from .doc_orientation import DocOrientationClassifier
from .doc_unwarping import DocUnwarper
from .text_detection import TextDetector
from .text_recognition import TextRecognizer
from .textline_orientation import TextlineClassifier

__all__ = ["DocOrientationClassifier", "DocUnwarper", "Predictor", "TextDetector", "TextRecognizer", "TextlineClassifier"]
