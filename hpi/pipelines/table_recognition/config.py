"""The ``table_recognition`` config: PaddleX's ``table_recognition.yaml`` schema."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import setting, submodule, subpipeline
from ..base import PipelineConfig
from ..doc_preprocessor.config import DocPreprocessorConfig
from ..modules import LayoutDetectionConfig, TableStructureRecognitionConfig
from ..ocr.config import OCRConfig


@dataclass(frozen=True)
class TableRecognitionConfig(PipelineConfig):
    """Doc preprocessor → layout → table structure + the ``GeneralOCR`` sub-pipeline.

    Defaults are PaddleX's code defaults (every stage on); hpi's
    ``pipelines/table_recognition.yaml`` names the models hpi ships.
    """

    pipeline_name: str = "table_recognition"
    use_doc_preprocessor: bool = setting(True, help="run the document preprocessor (orientation, unwarping) first")
    use_layout_detection: bool = setting(True, help="find table regions with layout detection (else: the whole page)")
    use_ocr_model: bool = setting(True, help="run the GeneralOCR sub-pipeline on the page (False: predict's overall_ocr_res is used)")
    layout_detection: LayoutDetectionConfig = submodule("LayoutDetection", LayoutDetectionConfig)
    table_structure_recognition: TableStructureRecognitionConfig = submodule(
        "TableStructureRecognition", TableStructureRecognitionConfig)
    doc_preprocessor: DocPreprocessorConfig = subpipeline("DocPreprocessor", DocPreprocessorConfig)
    general_ocr: OCRConfig = subpipeline("GeneralOCR", OCRConfig)
