"""PaddleX's v1 ``layout_parsing``: (doc preprocessor) → layout → OCR → tables → seals → blocks in reading order.

Each stage is another hpi pipeline's public code: the page's OCR is the ``GeneralOCR``
sub-pipeline (:class:`~hpi.pipelines.ocr.OCRPipeline`), tables are read by
:meth:`TableRecognitionPipeline.recognize_tables` on the layout's ``table`` boxes with
that OCR result (PaddleX: ``use_layout_detection=False, use_ocr_model=False``), seals by
:meth:`SealRecognitionPipeline.recognize_seal` on ``seal`` boxes. The CDLA layout model
has no ``seal`` class; with it, the seal regions come from the seal pipeline's own
region finder (stamp-ink colour), as ``seal_recognition`` finds them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ...errors import ConfigError
from ...inputs import InputItem
from ...predictors.layout_detection import LayoutDetector
from ...results.layout import LayoutDetectionResult
from ...results.layout_parsing import LayoutParsingResult
from ...timing import StageTimes
from ..base import ModelSlot, Pipeline
from ..doc_preprocessor import DocPreprocessorPipeline, nested_doc_preprocessor_params
from ..layout_detection.pipeline import LAYOUT_PARAMS, layout_call
from ..ocr import OCRPipeline
from ..params import Param, given_call_params, nested_params, resolve_call
from ..seal_recognition import SealRecognitionPipeline
from ..seal_recognition.regions import find_seal_regions
from ..table_recognition import TableRecognitionPipeline
from ..table_recognition.pipeline import TableCall
from .blocks import parsing_blocks
from .config import FORMULA_REFUSED, LayoutParsingConfig

_OCR = ("SubPipelines", "GeneralOCR")
_TABLE = ("SubPipelines", "TableRecognition", "SubModules", "TableStructureRecognition")
_SEAL = ("SubPipelines", "SealRecognition")

# The GeneralOCR and SealRecognition parameters a call passes on (PaddleX's names, the sub-pipelines' too).
_OCR_CALL = ("use_textline_orientation", "text_det_limit_side_len", "text_det_limit_type", "text_det_thresh",
             "text_det_box_thresh", "text_det_unclip_ratio", "text_rec_score_thresh")
_SEAL_CALL = ("seal_det_limit_side_len", "seal_det_limit_type", "seal_det_thresh", "seal_det_box_thresh",
              "seal_det_unclip_ratio", "seal_rec_score_thresh")

# PaddleX's layout_parsing (v1) parameters, as its predict and serving schema name them.
PARAMS = (
    *nested_doc_preprocessor_params(),
    Param("use_textline_orientation", (*_OCR, "use_textline_orientation"), call=True),
    Param("use_seal_recognition", ("use_seal_recognition",), call=True),
    Param("use_table_recognition", ("use_table_recognition",), call=True),
    Param("use_formula_recognition", ("use_formula_recognition",), call=True,
          unsupported="formula recognition: no formula model has weights on PyPI"),
    *LAYOUT_PARAMS,
    *nested_params(OCRPipeline.params, _OCR, _OCR_CALL[1:]),  # the text_det_* and text_rec_score_thresh
    *nested_params(SealRecognitionPipeline.params, _SEAL, _SEAL_CALL),
    *nested_params(OCRPipeline.params, _OCR, ("text_detection_model_name", "text_detection_model_dir",
                                              "text_recognition_model_name", "text_recognition_model_dir",
                                              "text_recognition_batch_size")),
    Param("table_structure_recognition_model_name", (*_TABLE, "model_name")),
    Param("table_structure_recognition_model_dir", (*_TABLE, "model_dir")),
    *nested_params(SealRecognitionPipeline.params, _SEAL, ("seal_text_detection_model_name",
                                                          "seal_text_detection_model_dir")),
)


# Layout labels whose coloured pixels are not seals (charts, photos, coloured table cells).
_PICTURE_LABELS = ("figure", "image", "chart", "table")


def _small_part_of(box, outer) -> bool:
    """Whether ``box`` lies (≥ 80%) inside ``outer`` and covers under a quarter of it: the bars of a chart
    do; a stamp the layout model calls a figure fills most of its box."""
    w = max(0.0, min(box[2], outer[2]) - max(box[0], outer[0]))
    h = max(0.0, min(box[3], outer[3]) - max(box[1], outer[1]))
    area = max(1e-9, (box[2] - box[0]) * (box[3] - box[1]))
    outer_area = max(1e-9, (outer[2] - outer[0]) * (outer[3] - outer[1]))
    return w * h / area >= 0.8 and area < 0.25 * outer_area


class _Call(NamedTuple):
    doc_settings: dict | None  # None: the doc preprocessor does not run
    layout: dict
    ocr: Any  # the GeneralOCR sub-pipeline's call
    use_table_recognition: bool
    use_seal_recognition: bool
    seal: Any  # the seal OCR's call (None when seals are off)


class LayoutParsingPipeline(Pipeline):
    """PaddleX's ``layout_parsing`` (v1) on hpi's engine. Create it with :func:`hpi.create_pipeline`."""

    name = "layout_parsing"
    config_class = LayoutParsingConfig
    params = PARAMS
    models = {"layout_detection": ModelSlot("layout_detection", LayoutDetector)}
    subpipelines = {"doc_preprocessor": (DocPreprocessorPipeline, "doc_preprocessor"),
                    "general_ocr": (OCRPipeline, "general_ocr"),
                    "table_recognition": (TableRecognitionPipeline, "table_recognition"),
                    "seal_recognition": (SealRecognitionPipeline, "seal_recognition")}
    doc_preprocessor: DocPreprocessorPipeline
    general_ocr: OCRPipeline
    table_recognition: TableRecognitionPipeline
    seal_recognition: SealRecognitionPipeline

    @classmethod
    def startup_slots(cls, config: LayoutParsingConfig) -> list[tuple[str, ...]]:
        slots = [("layout_detection",)]
        slots += [("general_ocr", *path) for path in OCRPipeline.startup_slots(config.general_ocr)]
        if config.use_table_recognition:
            slots.append(("table_recognition", "table_structure"))
        if config.use_seal_recognition:
            slots += [("seal_recognition", "seal_ocr", "text_detection"),
                      ("seal_recognition", "seal_ocr", "text_recognition")]
        slots += DocPreprocessorPipeline.nested_startup_slots(config)
        return slots

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> _Call:
        if params["use_formula_recognition"]:
            raise ConfigError(f"use_formula_recognition is True, but {FORMULA_REFUSED}.")
        doc_settings = self.doc_preprocessor.settings_for_call(self.config.use_doc_preprocessor, params, given)
        layout = layout_call(params)
        from ...predictors.layout_rules import check_merge_mode, check_threshold, check_unclip_ratio

        check_threshold(layout["threshold"], "layout_threshold")
        check_unclip_ratio(layout["layout_unclip_ratio"], "layout_unclip_ratio")
        check_merge_mode(layout["layout_merge_bboxes_mode"], "layout_merge_bboxes_mode")
        ocr_values = {name: params[name] for name in _OCR_CALL if name in given}
        ocr = self.general_ocr.prepare_call(
            resolve_call(self.general_ocr.config, self.general_ocr.params, ocr_values),
            given_call_params(self.general_ocr.params, ocr_values))
        seal = None
        if params["use_seal_recognition"]:
            seal = self.seal_recognition.seal_ocr.seal_call(*(params[name] for name in _SEAL_CALL))
        return _Call(doc_settings, layout, ocr, bool(params["use_table_recognition"]),
                     bool(params["use_seal_recognition"]), seal)

    # -- one page -----------------------------------------------------------------------------------------
    def predict_item(self, item: InputItem, call: _Call) -> LayoutParsingResult:
        times = StageTimes()
        image, doc_res = item.image, None
        if call.doc_settings is not None:
            doc_res = self.doc_preprocessor.process(item.image, call.doc_settings, times)
            image = doc_res.output_img
        detector = self.predictor("layout_detection")
        boxes = detector.predict(image, times, **call.layout)
        layout_res = LayoutDetectionResult(input_path=None, page_index=None, input_img=image, boxes=boxes)
        ocr_res = self.general_ocr.predict_item(InputItem(None, None, image), call.ocr)
        table_html, tables = {}, []
        if call.use_table_recognition:
            table_html, tables = self._tables(image, boxes, ocr_res, times)
        seal_texts, seals, seal_boxes = {}, [], []
        if call.use_seal_recognition:
            seal_texts, seals, seal_boxes = self._seals(image, boxes, detector.labels, call.seal, times)
        with times.stage("parsing.blocks"):
            blocks = parsing_blocks(
                image, [*boxes, *seal_boxes], ocr_res.rec_boxes, ocr_res.rec_texts, table_html, seal_texts, {},
                lambda region: self.general_ocr.predict_item(InputItem(None, None, region), call.ocr).rec_texts)
        timings = {**times.as_ms(), **{f"ocr.{k}": v for k, v in ocr_res.timings_ms.items()}}
        return LayoutParsingResult(
            input_path=item.input_path, page_index=item.page_index, image=image,
            model_settings={"use_doc_preprocessor": call.doc_settings is not None,
                            "use_seal_recognition": call.use_seal_recognition,
                            "use_table_recognition": call.use_table_recognition,
                            "use_formula_recognition": False},
            parsing_res_list=blocks, doc_preprocessor_res=doc_res, layout_det_res=layout_res,
            overall_ocr_res=ocr_res, table_res_list=tables, seal_res_list=seals, stem=item.stem,
            timings_ms=timings,
        )

    def _tables(self, image: np.ndarray, boxes: list[dict], ocr_res, times: StageTimes):
        """The layout's ``table`` boxes through the table pipeline's stage: {box index: HTML}, results."""
        call = TableCall(doc_settings=None, use_layout_detection=False, use_ocr_model=False, ocr=None)
        html, results = {}, []
        for index, box in enumerate(boxes):
            if str(box["label"]).lower() != "table":
                continue
            found = self.table_recognition.recognize_tables(image, [box["coordinate"]], ocr_res, call, times,
                                                            find_neighbours=True, skip_tiny=True)
            if found:  # a region too small to read is skipped (logged), its block stays empty
                table = found[0]
                table.table_region_id = len(results) + 1
                html[index] = table.pred_html
                results.append(table)
        return html, results

    def _seals(self, image: np.ndarray, boxes: list[dict], labels: tuple[str, ...], call: Any, times: StageTimes):
        """Seals read by the seal pipeline: the layout's ``seal`` boxes, or (a layout model without a seal
        class, as CDLA) the seal pipeline's ink-colour regions, added as ``seal`` boxes after the layout's."""
        start = len(boxes)
        extra: list[dict] = []
        regions = [(i, b["coordinate"]) for i, b in enumerate(boxes) if str(b["label"]).lower() == "seal"]
        if "seal" not in labels:
            settings = self.seal_recognition.config.layout_detection
            with times.stage("seal.regions"):
                found = find_seal_regions(image, settings.threshold, settings.layout_unclip_ratio)
            pictures = [b["coordinate"] for b in boxes if str(b["label"]).lower() in _PICTURE_LABELS]
            for region in found:
                if any(_small_part_of(region.box, picture) for picture in pictures):
                    continue  # coloured marks of a chart or photo, not a stamp
                regions.append((start + len(extra), region.box))
                extra.append(region.as_paddlex())
        texts, results = {}, []
        height, width = image.shape[:2]
        for index, box in regions:
            x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
            x2, y2 = min(width, int(np.ceil(box[2]))), min(height, int(np.ceil(box[3])))
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            crop = np.ascontiguousarray(image[y1:y2, x1:x2])
            seal = self.seal_recognition.recognize_seal(crop, call, times, seal_region_id=len(results) + 1)
            texts[index] = list(seal.rec_texts)
            results.append(seal)
        return texts, results, extra


__all__ = ["LayoutParsingPipeline"]
