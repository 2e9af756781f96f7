"""The ``doc_preprocessor`` config: PaddleX's schema, alone or as another pipeline's ``SubPipelines.DocPreprocessor``."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import setting, submodule
from ...errors import ConfigError
from ..base import PipelineConfig
from ..modules import DocOrientationClassifyConfig, DocUnwarpingConfig

UNWARPING_REFUSED = (
    "document unwarping (UVDoc) is not supported by hpi: no UVDoc weights are available to it. "
    "Set use_doc_unwarping to False"
)


@dataclass(frozen=True)
class DocPreprocessorConfig(PipelineConfig):
    """Whole-page orientation (and unwarping, refused).

    ``use_doc_unwarping`` defaults to False here (PaddleX: True) because hpi
    cannot run it; True is an error wherever the doc preprocessor would run.
    """

    pipeline_name: str = "doc_preprocessor"
    batch_size: int = setting(1, positive=True)
    use_doc_orientation_classify: bool = setting(True, help="classify the page as 0/90/180/270 and turn it upright")
    use_doc_unwarping: bool = setting(False, help="flatten a curved page (UVDoc; not supported by hpi yet)")
    doc_orientation_classify: DocOrientationClassifyConfig = submodule(
        "DocOrientationClassify", DocOrientationClassifyConfig)
    doc_unwarping: DocUnwarpingConfig | None = submodule("DocUnwarping", DocUnwarpingConfig, optional=True)

    def check(self, where: str, nested: bool) -> None:
        super().check(where, nested)
        # Inside another pipeline the parent decides whether the preprocessor runs (and refuses then).
        if not nested and self.use_doc_unwarping:
            raise ConfigError(f"use_doc_unwarping is True, but {UNWARPING_REFUSED} (orientation classification works).")
