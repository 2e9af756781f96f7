"""The seal recognition pipeline: (doc preprocessor) → seal regions → seal text detection → rectify → rec."""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import numpy as np

from ...errors import ConfigError
from ...inputs import InputItem
from ...results.seal_recognition import SealOCRResult, SealRecognitionResult, SealRegionsResult
from ...timing import NULL_TIMES, StageTimes
from ..base import Pipeline
from ..doc_preprocessor import DocPreprocessorPipeline, nested_doc_preprocessor_params
from ..layout_detection.pipeline import LAYOUT_CALL_PARAMS
from ..params import Param
from .config import SEAL_REGIONS_MODEL, SealRecognitionConfig
from .regions import crop_region, find_seal_regions
from .seal_ocr import SealCall, SealOCRPipeline

log = logging.getLogger(__name__)

_DET = ("SubPipelines", "SealOCR", "SubModules", "TextDetection")
_REC = ("SubPipelines", "SealOCR", "SubModules", "TextRecognition")

# PaddleX's names for the seal recognition pipeline's parameters.
PARAMS = (
    *nested_doc_preprocessor_params(),
    Param("use_layout_detection", ("use_layout_detection",), call=True),
    *LAYOUT_CALL_PARAMS,
    Param("seal_det_limit_side_len", (*_DET, "limit_side_len"), call=True),
    Param("seal_det_limit_type", (*_DET, "limit_type"), call=True),
    Param("seal_det_thresh", (*_DET, "thresh"), call=True),
    Param("seal_det_box_thresh", (*_DET, "box_thresh"), call=True),
    Param("seal_det_unclip_ratio", (*_DET, "unclip_ratio"), call=True),
    Param("seal_rec_score_thresh", (*_REC, "score_thresh"), call=True),
    Param("seal_text_detection_model_name", (*_DET, "model_name")),
    Param("seal_text_detection_model_dir", (*_DET, "model_dir")),
    Param("seal_text_recognition_model_name", (*_REC, "model_name")),
    Param("seal_text_recognition_model_dir", (*_REC, "model_dir")),
    Param("seal_text_recognition_batch_size", (*_REC, "batch_size")),
)


class _Call(NamedTuple):
    seal: SealCall
    doc_settings: dict | None  # None: the doc preprocessor does not run for this call
    use_layout_detection: bool
    layout_threshold: float
    layout_unclip_ratio: float


class SealRecognitionPipeline(Pipeline):
    """PaddleX's ``seal_recognition`` on hpi's engine. Create it with :func:`hpi.create_pipeline`.

    ``use_layout_detection=True`` (PaddleX's default): seal regions are found
    by stamp-ink colour (:mod:`.regions`; no layout model with a ``seal`` class
    has weights on PyPI), each is read as one seal; a page without seals gives
    an empty ``seal_res_list``. ``False``: the whole page is one seal region
    (PaddleX: one ``seal_res_list`` entry, ``seal_region_id`` 1).
    """

    name = "seal_recognition"
    config_class = SealRecognitionConfig
    params = PARAMS
    models = {}
    subpipelines = {"doc_preprocessor": (DocPreprocessorPipeline, "doc_preprocessor"),
                    "seal_ocr": (SealOCRPipeline, "seal_ocr")}
    doc_preprocessor: DocPreprocessorPipeline
    seal_ocr: SealOCRPipeline

    def __init__(self, config: SealRecognitionConfig, device=None, parent=None) -> None:
        super().__init__(config, device, parent)
        if config.use_layout_detection:
            log.info("Seal regions are found by ink colour (%s): no layout model with a 'seal' class has weights "
                     "on PyPI.", SEAL_REGIONS_MODEL)

    @classmethod
    def startup_slots(cls, config: SealRecognitionConfig) -> list[tuple[str, ...]]:
        slots = [("seal_ocr", "text_detection"), ("seal_ocr", "text_recognition")]
        slots += DocPreprocessorPipeline.nested_startup_slots(config)
        return slots

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> _Call:
        doc_settings = self.doc_preprocessor.settings_for_call(self.config.use_doc_preprocessor, params, given)
        seal = self.seal_ocr.seal_call(
            params["seal_det_limit_side_len"], params["seal_det_limit_type"], params["seal_det_thresh"],
            params["seal_det_box_thresh"], params["seal_det_unclip_ratio"], params["seal_rec_score_thresh"])
        if params["use_layout_detection"]:
            refusal = self.config.layout_detection.refusal("SubModules.LayoutDetection")
            if refusal:
                raise ConfigError(f"use_layout_detection is True, but {refusal[:1].lower()}{refusal[1:]}")
        return _Call(seal, doc_settings, bool(params["use_layout_detection"]), float(params["layout_threshold"]),
                     float(params["layout_unclip_ratio"]))

    def recognize_seal(self, image_region: np.ndarray, call: SealCall | None = None,
                       times: StageTimes = NULL_TIMES, seal_region_id: int = 1) -> SealOCRResult:
        """Read one seal: ``image_region`` is the seal's crop (BGR uint8, e.g. a layout box of label ``seal``),
        ``call`` the seal settings (``self.seal_ocr.seal_call(...)``; None: the config's). Polygons in the
        result are in the region's pixels. For ``layout_parsing``'s ``use_seal_recognition``."""
        return self.seal_ocr.process(image_region, call or self.seal_ocr.seal_call(), times,
                                     seal_region_id=seal_region_id)

    def predict_item(self, item: InputItem, call: _Call) -> SealRecognitionResult:
        times = StageTimes()
        image = item.image
        doc_res = None
        if call.doc_settings is not None:
            doc_res = self.doc_preprocessor.process(image, call.doc_settings, times, item)
            image = doc_res.output_img
        layout_res = None
        seals: list[SealOCRResult] = []
        if call.use_layout_detection:
            with times.stage("seal.regions"):
                regions = find_seal_regions(image, call.layout_threshold, call.layout_unclip_ratio)
            layout_res = SealRegionsResult(input_path=item.input_path, page_index=item.page_index, image=image,
                                           boxes=[r.as_paddlex() for r in regions], stem=item.stem)
            for number, region in enumerate(regions, start=1):
                seal = self.recognize_seal(crop_region(image, region), call.seal, times, number)
                seal.input_path, seal.page_index = item.input_path, item.page_index
                seals.append(seal)
        else:
            seals.append(self.seal_ocr.process(image, call.seal, times, item, seal_region_id=1))
        return SealRecognitionResult(
            input_path=item.input_path, page_index=item.page_index,
            model_settings={"use_doc_preprocessor": call.doc_settings is not None,
                            "use_layout_detection": call.use_layout_detection},
            doc_preprocessor_res=doc_res, layout_det_res=layout_res, seal_res_list=seals, stem=item.stem,
            timings_ms=times.as_ms(),
        )


__all__ = ["SealRecognitionPipeline"]
