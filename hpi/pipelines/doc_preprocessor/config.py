"""The ``doc_preprocessor`` config: PaddleX's schema, alone or as another pipeline's ``SubPipelines.DocPreprocessor``."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import setting, submodule
from ..base import PipelineConfig
from ..modules import DocOrientationClassifyConfig, DocUnwarpingConfig


@dataclass(frozen=True)
class DocPreprocessorConfig(PipelineConfig):
    """Whole-page orientation, then unwarping (PaddleX's order).

    ``use_doc_unwarping`` defaults to False here (PaddleX: True): measured on
    rendered pages, UVDoc makes curled pages read far better but costs about a
    second per page on 2 cores and moves the text of flat pages slightly
    (``pipelines/doc_preprocessor.yaml`` has the figures).
    """

    pipeline_name: str = "doc_preprocessor"
    batch_size: int = setting(1, positive=True)
    use_doc_orientation_classify: bool = setting(True, help="classify the page as 0/90/180/270 and turn it upright")
    use_doc_unwarping: bool = setting(False, help="flatten a curled or folded page (UVDoc)")
    doc_orientation_classify: DocOrientationClassifyConfig = submodule(
        "DocOrientationClassify", DocOrientationClassifyConfig)
    doc_unwarping: DocUnwarpingConfig = submodule("DocUnwarping", DocUnwarpingConfig)
