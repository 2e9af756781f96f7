"""The OCR config: PaddleX's ``OCR.yaml`` schema."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import setting, submodule, subpipeline
from ..base import PipelineConfig
from ..doc_preprocessor.config import DocPreprocessorConfig
from ..modules import TextDetectionConfig, TextLineOrientationConfig, TextRecognitionConfig


@dataclass(frozen=True)
class OCRConfig(PipelineConfig):
    pipeline_name: str = "OCR"
    text_type: str = setting("general", choices=("general",))
    use_doc_preprocessor: bool = setting(False, help="run the document preprocessor (orientation, unwarping) first")
    use_textline_orientation: bool = setting(True, help="classify each text line as 0/180 and turn it upright")
    text_detection: TextDetectionConfig = submodule("TextDetection", TextDetectionConfig)
    textline_orientation: TextLineOrientationConfig = submodule("TextLineOrientation", TextLineOrientationConfig)
    text_recognition: TextRecognitionConfig = submodule("TextRecognition", TextRecognitionConfig)
    # PaddleX's SubPipelines.DocPreprocessor; used when use_doc_preprocessor is True (or per call)
    doc_preprocessor: DocPreprocessorConfig = subpipeline("DocPreprocessor", DocPreprocessorConfig)
