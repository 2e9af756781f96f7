"""The ``layout_parsing`` config: PaddleX's v1 ``layout_parsing.yaml`` schema."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import setting, submodule, subpipeline
from ...errors import ConfigError
from ..base import PipelineConfig
from ..doc_preprocessor.config import DocPreprocessorConfig
from ..modules import LayoutDetectionConfig, ModuleConfig
from ..ocr.config import OCRConfig
from ..seal_recognition.config import SealRecognitionConfig
from ..table_recognition.config import TableRecognitionConfig

FORMULA_REFUSED = (
    "formula recognition is not supported by hpi: no formula model (PP-FormulaNet, UniMERNet, LaTeX-OCR) has "
    "weights on PyPI. Set use_formula_recognition to False"
)


@dataclass(frozen=True)
class FormulaRecognitionModuleConfig(ModuleConfig):
    """PaddleX's formula recognition module: read so that PaddleX's YAML loads; never run."""

    TASK = "formula_recognition"

    module_name: str = "formula_recognition"
    model_name: str = "PP-FormulaNet-L"
    batch_size: int = setting(5, positive=True)


@dataclass(frozen=True)
class FormulaRecognitionConfig(PipelineConfig):
    """PaddleX's ``formula_recognition`` sub-pipeline (kept for round trips; refused when used)."""

    pipeline_name: str = "formula_recognition"
    use_layout_detection: bool = setting(False)
    use_doc_preprocessor: bool = setting(False)
    formula_recognition: FormulaRecognitionModuleConfig = submodule(
        "FormulaRecognition", FormulaRecognitionModuleConfig)


@dataclass(frozen=True)
class LayoutParsingConfig(PipelineConfig):
    """Doc preprocessor → layout → OCR (``GeneralOCR``) → tables (``TableRecognition``) → seals
    (``SealRecognition``); formulas refused.

    Defaults are PaddleX's code defaults except ``use_doc_preprocessor`` (hpi's YAML says why).
    """

    pipeline_name: str = "layout_parsing"
    use_doc_preprocessor: bool = setting(True, help="run the document preprocessor (orientation, unwarping) first")
    use_seal_recognition: bool = setting(True, help="read the seals (stamps) of the page")
    use_table_recognition: bool = setting(True, help="recognise the tables' structure and cells (HTML)")
    use_formula_recognition: bool = setting(False, help="recognise formulas (not supported: no weights)")
    layout_detection: LayoutDetectionConfig = submodule("LayoutDetection", LayoutDetectionConfig)
    doc_preprocessor: DocPreprocessorConfig = subpipeline("DocPreprocessor", DocPreprocessorConfig)
    general_ocr: OCRConfig = subpipeline("GeneralOCR", OCRConfig)
    table_recognition: TableRecognitionConfig = subpipeline("TableRecognition", TableRecognitionConfig)
    seal_recognition: SealRecognitionConfig = subpipeline("SealRecognition", SealRecognitionConfig)
    formula_recognition: FormulaRecognitionConfig = subpipeline("FormulaRecognition", FormulaRecognitionConfig)

    def check(self, where: str, nested: bool) -> None:
        super().check(where, nested)
        if self.use_formula_recognition:
            raise ConfigError(f"use_formula_recognition is True, but {FORMULA_REFUSED}.")
