"""The ``seal_recognition`` config: PaddleX's ``seal_recognition.yaml`` schema.

PaddleX's layout: ``use_doc_preprocessor``, ``use_layout_detection``,
``SubModules.LayoutDetection`` and ``SubPipelines.DocPreprocessor`` /
``SubPipelines.SealOCR`` (an OCR pipeline config with ``text_type: seal``,
its ``TextDetection`` a seal text detection module).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...config import setting, submodule, subpipeline
from ...errors import ConfigError
from ..base import PipelineConfig
from ..doc_preprocessor.config import DocPreprocessorConfig
from ..modules import ModuleConfig, SealTextDetectionConfig, TextLineOrientationConfig, TextRecognitionConfig

# hpi's seal region finder (regions.py); it takes the place of PaddleX's layout model.
SEAL_REGIONS_MODEL = "SealInkRegions"
CDLA_MODELS = ("PicoDet_layout_CDLA", "PicoDet_layout_1x")


@dataclass(frozen=True)
class SealLayoutDetectionConfig(ModuleConfig):
    """``SubModules.LayoutDetection``: PaddleX's keys; hpi finds seals by ink colour (``SealInkRegions``)."""

    TASK = "layout_detection"

    module_name: str = "layout_detection"
    model_name: str = SEAL_REGIONS_MODEL
    threshold: float = setting(0.5, range=(0.0, 1.0), help="minimum score of a seal region")
    layout_nms: bool = setting(True, help="PaddleX's layout NMS (seal regions never overlap: no effect)")
    layout_unclip_ratio: float = setting(1.0, positive=True, help="seal boxes scaled about their centre")
    layout_merge_bboxes_mode: str = setting("large", choices=("large", "small", "union"),
                                            help="PaddleX's nested-box rule (seal regions never nest: no effect)")
    batch_size: int = setting(1, positive=True)

    def refusal(self, where: str) -> str | None:
        """Why this module cannot find seal regions (None: it can); checked only where layout detection runs."""
        if self.model_dir:
            return (
                f"{where}.model_dir is set ({self.model_dir!r}), but hpi cannot run a layout model for seal "
                f"regions yet (PaddleX uses PP-DocLayout's 'seal' class). Remove model_dir to let hpi find seals "
                f"by ink colour (model_name: {SEAL_REGIONS_MODEL}), or set use_layout_detection: False to read "
                "the whole page as one seal region."
            )
        if self.model_name in CDLA_MODELS:
            return (
                f"{where}.model_name is {self.model_name!r}: the CDLA layout model has no 'seal' class, so it "
                f"cannot find seals. Use model_name: {SEAL_REGIONS_MODEL} (hpi finds seals by ink colour), or "
                "use_layout_detection: False."
            )
        if self.model_name != SEAL_REGIONS_MODEL:
            return (
                f"No weights for layout_detection model {self.model_name!r} here: hpi does not run a layout model "
                f"for seal regions yet (PaddleX finds seals with PP-DocLayout's 'seal' class). Use the nearest "
                f"thing hpi has: model_name: {SEAL_REGIONS_MODEL} (seal regions found by ink colour), or "
                "use_layout_detection: False to read the whole page as one seal region."
            )
        return None


@dataclass(frozen=True)
class SealOCRConfig(PipelineConfig):
    """``SubPipelines.SealOCR``: PaddleX's OCR schema with ``text_type: seal``."""

    pipeline_name: str = "OCR"
    text_type: str = setting("seal", choices=("seal",))
    use_doc_preprocessor: bool = setting(False, help="must be False: the seal pipeline preprocesses the page")
    use_textline_orientation: bool = setting(False, help="must be False: rectified seal lines are upright")
    # hpi's own key (PaddleX has none): black print (body text, signatures) crossing a coloured seal is the
    # main cause of misread seal lines; it is whitened in each line crop before recognition, only in crops
    # whose printed pixels are mostly coloured ink (a black or grey seal is left as it is). README: measured.
    remove_dark_print: bool = setting(True, help="whiten black print crossing a coloured seal's text lines")
    text_detection: SealTextDetectionConfig = submodule("TextDetection", SealTextDetectionConfig)
    text_recognition: TextRecognitionConfig = submodule("TextRecognition", TextRecognitionConfig)
    # Kept for round trips of PaddleX OCR configs pasted here; never loaded.
    textline_orientation: TextLineOrientationConfig | None = submodule(
        "TextLineOrientation", TextLineOrientationConfig, optional=True)

    def check(self, where: str, nested: bool) -> None:
        super().check(where, nested)
        for key in ("use_doc_preprocessor", "use_textline_orientation"):
            if getattr(self, key):
                raise ConfigError(
                    f"{where}.{key} is True; in seal recognition it must be False (PaddleX's seal_recognition.yaml "
                    "has it so: the page is preprocessed once by SubPipelines.DocPreprocessor, and rectified seal "
                    "lines are upright)."
                )


@dataclass(frozen=True)
class SealRecognitionConfig(PipelineConfig):
    pipeline_name: str = "seal_recognition"
    batch_size: int = setting(1, positive=True)  # PaddleX accepts it; pages run one at a time
    use_doc_preprocessor: bool = setting(False, help="run the document preprocessor (page orientation) first")
    use_layout_detection: bool = setting(True, help="find seal regions first (hpi: by ink colour); False: "
                                                    "the whole page is one seal region")
    layout_detection: SealLayoutDetectionConfig = submodule("LayoutDetection", SealLayoutDetectionConfig)
    doc_preprocessor: DocPreprocessorConfig = subpipeline("DocPreprocessor", DocPreprocessorConfig)
    seal_ocr: SealOCRConfig = subpipeline("SealOCR", SealOCRConfig)
    # Whether the doc preprocessor can do what it is asked (unwarping) is its own pipeline's check, per call.

    def check(self, where: str, nested: bool) -> None:
        super().check(where, nested)
        if self.use_layout_detection:
            refusal = self.layout_detection.refusal(f"{where + '.' if where else ''}SubModules.LayoutDetection")
            if refusal:
                raise ConfigError(refusal)
