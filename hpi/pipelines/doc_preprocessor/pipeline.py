"""The document preprocessor: turn a page upright, then flatten it (PaddleX's ``doc_preprocessor``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...inputs import InputItem
from ...predictors import DocOrientationClassifier, DocUnwarper
from ...predictors.doc_orientation import rotate_upright
from ...results import DocPreprocessorResult
from ...timing import NULL_TIMES, StageTimes
from ..base import ModelSlot, Pipeline, or_default
from ..params import Param, nested_params
from .config import DocPreprocessorConfig

_DOC_ORI = ("SubModules", "DocOrientationClassify")
_DOC_UNWARP = ("SubModules", "DocUnwarping")

# The two switches take their help from the config fields.
PARAMS = (
    Param("use_doc_orientation_classify", ("use_doc_orientation_classify",), call=True),
    Param("use_doc_unwarping", ("use_doc_unwarping",), call=True),
    Param("doc_orientation_classify_model_name", (*_DOC_ORI, "model_name")),
    Param("doc_orientation_classify_model_dir", (*_DOC_ORI, "model_dir")),
    Param("doc_unwarping_model_name", (*_DOC_UNWARP, "model_name")),
    Param("doc_unwarping_model_dir", (*_DOC_UNWARP, "model_dir")),
)


NESTED_AT = ("SubPipelines", "DocPreprocessor")


def nested_doc_preprocessor_params() -> tuple[Param, ...]:
    """The doc preprocessor's parameters as every pipeline nesting it declares them (OCR, table and seal
    recognition, layout parsing): PaddleX's ``use_doc_preprocessor`` switch (help from the parent's config
    field), then this pipeline's own parameters under ``SubPipelines.DocPreprocessor``, same names and help."""
    return (Param("use_doc_preprocessor", ("use_doc_preprocessor",)),
            *nested_params(PARAMS, NESTED_AT, [p.name for p in PARAMS]))


class DocPreprocessorPipeline(Pipeline):
    """PaddleX's ``doc_preprocessor`` on hpi's engine; also the ``DocPreprocessor`` inside OCR.

    The angle is the counter-clockwise turn that makes the page upright
    (PP-LCNet_x1_0_doc_ori: 0/90/180/270); the turned page is ``rot_img``.
    Unwarping (UVDoc) then flattens the turned page into ``output_img`` (the
    turned page itself when unwarping is off), which later stages read.
    """

    name = "doc_preprocessor"
    config_class = DocPreprocessorConfig
    params = PARAMS
    models = {"doc_orientation": ModelSlot("doc_orientation_classify", DocOrientationClassifier),
              "doc_unwarping": ModelSlot("doc_unwarping", DocUnwarper)}

    @classmethod
    def startup_slots(cls, config: DocPreprocessorConfig) -> list[tuple[str, ...]]:
        return [(slot,) for slot, on in (("doc_orientation", config.use_doc_orientation_classify),
                                         ("doc_unwarping", config.use_doc_unwarping)) if on]

    @classmethod
    def nested_startup_slots(cls, parent_config: Any, attribute: str = "doc_preprocessor") -> list[tuple[str, ...]]:
        """The start-up slot paths of this pipeline nested in ``parent_config`` (none when it does not run)."""
        if not parent_config.use_doc_preprocessor:
            return []
        return [(attribute, *slot) for slot in cls.startup_slots(getattr(parent_config, attribute))]

    def settings_for_call(self, runs_by_default: bool, params: dict[str, Any], given: set[str]) -> dict | None:
        """The model settings of one call of a pipeline nesting this one, or None when it does not run.

        PaddleX's rule: it runs as the parent's ``use_doc_preprocessor`` says unless the call names
        ``use_doc_orientation_classify`` or ``use_doc_unwarping``; then it runs when either is on.
        """
        orientation = params["use_doc_orientation_classify"] if "use_doc_orientation_classify" in given else None
        unwarping = params["use_doc_unwarping"] if "use_doc_unwarping" in given else None
        runs = runs_by_default if orientation is None and unwarping is None else bool(orientation) or bool(unwarping)
        return self.model_settings(orientation, unwarping) if runs else None

    def model_settings(self, use_doc_orientation_classify: bool | None = None,
                       use_doc_unwarping: bool | None = None) -> dict[str, bool]:
        """PaddleX's model settings of one call (None: the config's value).

        A model a call asks for loads on first use (PaddleX would refuse a model it did not load at
        creation; hpi loads it instead).
        """
        return {
            "use_doc_orientation_classify": bool(or_default(use_doc_orientation_classify,
                                                            self.config.use_doc_orientation_classify)),
            "use_doc_unwarping": bool(or_default(use_doc_unwarping, self.config.use_doc_unwarping)),
        }

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> dict[str, bool]:
        return self.model_settings(params["use_doc_orientation_classify"], params["use_doc_unwarping"])

    def process(self, image: np.ndarray, settings: dict[str, bool], times: StageTimes = NULL_TIMES,
                item: InputItem | None = None) -> DocPreprocessorResult:
        """One BGR page through the preprocessor with ``settings`` (from :meth:`model_settings`)."""
        angle, rotated = -1, image  # -1: orientation not classified (PaddleX)
        if settings["use_doc_orientation_classify"]:
            angle, _ = self.predictor("doc_orientation").predict(image, times)
            with times.stage("doc_ori.post"):
                rotated = rotate_upright(image, angle)
        output = rotated
        if settings["use_doc_unwarping"]:
            output = self.predictor("doc_unwarping").predict(rotated, times)
        return DocPreprocessorResult(
            input_path=item.input_path if item else None, page_index=item.page_index if item else None,
            input_img=image, model_settings=settings, angle=angle, rot_img=rotated, output_img=output,
            stem=item.stem if item else "result",
        )

    def predict_item(self, item: InputItem, call: dict[str, bool]) -> DocPreprocessorResult:
        times = StageTimes()
        result = self.process(item.image, call, times, item)
        result.timings_ms = times.as_ms()
        return result
