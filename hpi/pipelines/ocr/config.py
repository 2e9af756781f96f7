"""The OCR config: PaddleX's ``OCR.yaml`` schema."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import setting, submodule, subpipeline
from ...errors import ConfigError
from ..base import PipelineConfig
from ..doc_preprocessor.config import UNWARPING_REFUSED, DocPreprocessorConfig
from ..modules import TextDetectionConfig, TextLineOrientationConfig, TextRecognitionConfig


@dataclass(frozen=True)
class OCRConfig(PipelineConfig):
    pipeline_name: str = "OCR"
    text_type: str = setting("general", choices=("general",))
    use_doc_preprocessor: bool = setting(False, help="run the document preprocessor (page orientation) first")
    use_textline_orientation: bool = setting(True, help="classify each text line as 0/180 and turn it upright")
    text_detection: TextDetectionConfig = submodule("TextDetection", TextDetectionConfig)
    textline_orientation: TextLineOrientationConfig = submodule("TextLineOrientation", TextLineOrientationConfig)
    text_recognition: TextRecognitionConfig = submodule("TextRecognition", TextRecognitionConfig)
    # PaddleX's SubPipelines.DocPreprocessor; used when use_doc_preprocessor is True (or per call)
    doc_preprocessor: DocPreprocessorConfig = subpipeline("DocPreprocessor", DocPreprocessorConfig)

    def check(self, where: str, nested: bool) -> None:
        super().check(where, nested)
        if self.use_doc_preprocessor and self.doc_preprocessor.use_doc_unwarping:
            raise ConfigError(
                f"use_doc_preprocessor is True and SubPipelines.DocPreprocessor.use_doc_unwarping is True, but "
                f"{UNWARPING_REFUSED} (orientation classification works), or use_doc_preprocessor: False."
            )
