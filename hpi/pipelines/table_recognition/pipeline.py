"""Table recognition: (doc preprocessor) → (layout) → table regions → structure + page OCR → cells → HTML."""

from __future__ import annotations

import copy
import logging
import math
from typing import Any, Iterator, Mapping, NamedTuple

import numpy as np

from ...errors import ConfigError, InputError
from ...inputs import InputItem
from ...predictors.layout_detection import LayoutDetector
from ...predictors.table_structure import MIN_REGION_SIDE, TableStructureRecognizer
from ...results import OCRResult
from ...results.layout import LayoutDetectionResult
from ...results.table_recognition import SingleTableRecognitionResult, TableRecognitionResult
from ...timing import NULL_TIMES, StageTimes
from ..base import ModelSlot, Pipeline
from ..doc_preprocessor import DocPreprocessorPipeline, nested_doc_preprocessor_params
from ..ocr import OCRPipeline
from ..params import Param, given_call_params, nested_params, resolve_call
from . import matching
from .config import TableRecognitionConfig

log = logging.getLogger(__name__)

_OCR = ("SubPipelines", "GeneralOCR")
_LAYOUT = ("SubModules", "LayoutDetection")
_TABLE = ("SubModules", "TableStructureRecognition")
# The OCR sub-pipeline's per-call parameters that PaddleX's table_recognition passes through.
_OCR_CALL = ("text_det_limit_side_len", "text_det_limit_type", "text_det_thresh", "text_det_box_thresh",
             "text_det_unclip_ratio", "text_rec_score_thresh")
_OCR_MODELS = ("text_detection_model_name", "text_detection_model_dir", "text_recognition_model_name",
               "text_recognition_model_dir")

PARAMS = (
    *nested_doc_preprocessor_params(),
    Param("use_layout_detection", ("use_layout_detection",), call=True),
    Param("use_ocr_model", ("use_ocr_model",), call=True),
    *nested_params(OCRPipeline.params, _OCR, _OCR_CALL),
    Param("use_ocr_results_with_table_cells", (), "OCR each cell crop instead of matching page lines",
          init=False, call=True, annotation=bool, default=False),
    Param("cell_sort_by_y_projection", (), "order a cell's lines by vertical overlap, then x",
          init=False, call=True, annotation=bool, default=False),
    Param("layout_detection_model_name", (*_LAYOUT, "model_name")),
    Param("layout_detection_model_dir", (*_LAYOUT, "model_dir")),
    Param("table_structure_recognition_model_name", (*_TABLE, "model_name")),
    Param("table_structure_recognition_model_dir", (*_TABLE, "model_dir")),
    *nested_params(OCRPipeline.params, _OCR, _OCR_MODELS),
)


class TableCall(NamedTuple):
    """One call's settings (from :meth:`TableRecognitionPipeline.prepare_call`)."""

    doc_settings: dict | None  # None: the doc preprocessor does not run
    use_layout_detection: bool
    use_ocr_model: bool
    ocr: Any  # the GeneralOCR sub-pipeline's call
    use_ocr_results_with_table_cells: bool = False
    cell_sort_by_y_projection: bool = False
    overall_ocr_res: OCRResult | None = None  # given to predict: used instead of running OCR
    layout_det_res: LayoutDetectionResult | None = None  # given to predict: its table boxes are the regions


class TableRecognitionPipeline(Pipeline):
    """PaddleX's ``table_recognition`` (v1) on hpi's engine. Create it with :func:`hpi.create_pipeline`.

    For table regions found elsewhere (layout parsing), call :meth:`recognize_tables`.
    """

    name = "table_recognition"
    config_class = TableRecognitionConfig
    params = PARAMS
    models = {
        "table_structure": ModelSlot("table_structure_recognition", TableStructureRecognizer),
        "layout_detection": ModelSlot("layout_detection", LayoutDetector),
    }
    subpipelines = {"doc_preprocessor": (DocPreprocessorPipeline, "doc_preprocessor"),
                    "general_ocr": (OCRPipeline, "general_ocr")}
    doc_preprocessor: DocPreprocessorPipeline
    general_ocr: OCRPipeline

    @classmethod
    def startup_slots(cls, config: TableRecognitionConfig) -> list[tuple[str, ...]]:
        slots = [("table_structure",)]
        if config.use_layout_detection:
            slots.append(("layout_detection",))
        if config.use_ocr_model:
            slots += [("general_ocr", *path) for path in OCRPipeline.startup_slots(config.general_ocr)]
        slots += DocPreprocessorPipeline.nested_startup_slots(config)
        return slots

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> TableCall:
        doc_settings = self.doc_preprocessor.settings_for_call(self.config.use_doc_preprocessor, params, given)
        ocr_values = {name: params[name] for name in _OCR_CALL if name in given}
        ocr_call = self.general_ocr.prepare_call(
            resolve_call(self.general_ocr.config, self.general_ocr.params, ocr_values),
            given_call_params(self.general_ocr.params, ocr_values))
        return TableCall(doc_settings, bool(params["use_layout_detection"]), bool(params["use_ocr_model"]), ocr_call,
                         bool(params["use_ocr_results_with_table_cells"]), bool(params["cell_sort_by_y_projection"]))

    def predict(self, input: Any, on_error: str | None = None, overall_ocr_res: Any = None,
                layout_det_res: Any = None, **params) -> Iterator:
        """PaddleX's ``predict``, with its ``overall_ocr_res`` and ``layout_det_res``.

        ``overall_ocr_res``: this image's OCR result from an earlier run (hpi's
        :class:`~hpi.results.OCRResult`, or a mapping with PaddleX's ``rec_texts``,
        ``rec_scores`` and ``rec_polys`` or ``rec_boxes``, such as a result's saved
        JSON): its lines fill the cells and OCR does not run (PaddleX's
        ``use_ocr_model=False``). ``layout_det_res``: this image's layout result
        (hpi's :class:`~hpi.results.layout.LayoutDetectionResult`, or a mapping with
        ``boxes`` of ``label`` and ``coordinate``): its ``table`` boxes are the
        regions and layout detection does not run. Both describe one image, so
        the input must be one image. Naming ``use_ocr_model=True`` or
        ``use_layout_detection=True`` alongside them is refused, as in PaddleX.
        """
        call = self.call_for(params)
        if overall_ocr_res is None and layout_det_res is None:
            if not call.use_ocr_model:
                raise ConfigError("use_ocr_model=False needs this image's OCR result: pass overall_ocr_res=<the "
                                  "OCR pipeline's result for it>, or leave use_ocr_model on.")
            return self._predict_items(input, on_error, call)
        if isinstance(input, (list, tuple)) and len(input) != 1:
            raise ConfigError(f"overall_ocr_res / layout_det_res describe one image, but the input holds {len(input)}; "
                              "call predict once per image with that image's results.")
        given: dict[str, Any] = {}
        if overall_ocr_res is not None:
            if params.get("use_ocr_model") is True:
                raise ConfigError("overall_ocr_res is given and use_ocr_model=True: use one of them (PaddleX: set "
                                  "use_ocr_model=False to use a given OCR result).")
            given.update(use_ocr_model=False, overall_ocr_res=_as_ocr_result(overall_ocr_res))
        elif not call.use_ocr_model:
            raise ConfigError("use_ocr_model=False needs this image's OCR result: pass overall_ocr_res too.")
        if layout_det_res is not None:
            if params.get("use_layout_detection") is True:
                raise ConfigError("layout_det_res is given and use_layout_detection=True: use one of them (PaddleX: "
                                  "set use_layout_detection=False to use a given layout result).")
            given.update(use_layout_detection=False, layout_det_res=_as_layout_result(layout_det_res))
        return self._predict_items(input, on_error, call._replace(**given))

    def default_call(self) -> TableCall:
        """The call with every parameter at its config value (what :meth:`recognize_tables` uses by default)."""
        return self.prepare_call(resolve_call(self.config, self.params, {}), set())

    # -- one page -----------------------------------------------------------------------------------------
    def predict_item(self, item: InputItem, call: TableCall) -> TableRecognitionResult:
        times = StageTimes()
        image, doc_res = item.image, None
        if call.doc_settings is not None:
            doc_res = self.doc_preprocessor.process(item.image, call.doc_settings, times, item)
            image = doc_res.output_img
        if item.index > 0 and (call.overall_ocr_res is not None or call.layout_det_res is not None):
            raise ConfigError(f"{item.input_path or item.stem}: overall_ocr_res / layout_det_res describe one image, "
                              "and this input holds more (a directory or a multi-page file); call predict once per "
                              "image with that image's results.")
        if call.use_ocr_model:
            ocr_res = self.general_ocr.predict_item(
                InputItem(item.input_path, item.page_index, image, index=item.index), call.ocr)
            ocr_timings = {f"ocr.{k}": v for k, v in ocr_res.timings_ms.items()}
        else:
            ocr_res, ocr_timings = call.overall_ocr_res, {}
            if ocr_res.image is None:  # built here from a mapping: its picture is this page's
                ocr_res = copy.copy(ocr_res)
                ocr_res.image = image
        layout_det_res = call.layout_det_res
        if layout_det_res is not None:
            regions = [box["coordinate"] for box in layout_det_res.boxes if str(box["label"]).lower() == "table"]
            if layout_det_res.input_img is None:
                layout_det_res = copy.copy(layout_det_res)
                layout_det_res.input_img = image
            tables = self.recognize_tables(image, regions, ocr_res, call, times, find_neighbours=True, skip_tiny=True)
        elif call.use_layout_detection:
            boxes = self.predictor("layout_detection").predict(image, times)
            layout_det_res = LayoutDetectionResult(input_path=item.input_path, page_index=item.page_index,
                                                   input_img=image, boxes=boxes, stem=item.stem)
            regions = [box["coordinate"] for box in boxes if str(box["label"]).lower() == "table"]
            tables = self.recognize_tables(image, regions, ocr_res, call, times, find_neighbours=True, skip_tiny=True)
        else:
            # The whole page is the table (PaddleX names the region [0, 0, w - 1, h - 1] but runs the
            # structure model on the whole page, as this does).
            height, width = image.shape[:2]
            tables = self.recognize_tables(image, [[0, 0, width, height]], ocr_res, call, times,
                                           find_neighbours=False)
        timings = {**times.as_ms(), **ocr_timings}
        return TableRecognitionResult(
            input_path=item.input_path, page_index=item.page_index, image=image,
            model_settings={"use_doc_preprocessor": call.doc_settings is not None,
                            "use_layout_detection": call.use_layout_detection, "use_ocr_model": call.use_ocr_model},
            doc_preprocessor_res=doc_res, layout_det_res=layout_det_res, overall_ocr_res=ocr_res,
            table_res_list=tables, stem=item.stem, timings_ms=timings,
        )

    # -- tables -------------------------------------------------------------------------------------------
    def recognize_tables(self, image: np.ndarray, table_boxes: list, ocr_result: OCRResult,
                         call: TableCall | None = None, times: StageTimes = NULL_TIMES, *,
                         find_neighbours: bool = True, skip_tiny: bool = False) -> list[SingleTableRecognitionResult]:
        """The tables at ``table_boxes`` (x1, y1, x2, y2 in ``image``'s pixels) of a page already OCR'd.

        ``ocr_result`` is the page's :class:`~hpi.results.OCRResult` (its lines
        are matched to the cells); ``call`` the settings (:meth:`default_call`
        when None). Boxes are clipped to the page; one smaller than
        ``MIN_REGION_SIDE`` px on a side after clipping raises
        :class:`~hpi.errors.InputError` (``skip_tiny``: skipped with a warning).
        Tables are numbered from 1 (``table_region_id``) in the given order.
        """
        call = call or self.default_call()
        height, width = image.shape[:2]
        rec_boxes = np.asarray(ocr_result.rec_boxes).reshape(-1, 4)
        results = []
        for box in table_boxes:
            x1, y1, x2, y2 = (int(v) for v in list(box)[:4])
            x1, y1 = max(0, x1), max(0, y1)
            x2, y2 = min(width, x2), min(height, y2)
            if x2 - x1 < MIN_REGION_SIDE or y2 - y1 < MIN_REGION_SIDE:
                message = (f"table region {list(box)[:4]} is {max(0, x2 - x1)}×{max(0, y2 - y1)} px inside the "
                           f"{width}×{height} page: too small to recognise (needs {MIN_REGION_SIDE} px a side)")
                if skip_tiny:
                    log.warning("Skipped a %s.", message)
                    continue
                raise InputError(message + "; give a box inside the page.")
            results.append(self._one_table(image, (x1, y1, x2, y2), ocr_result, rec_boxes, call, times,
                                           find_neighbours, len(results) + 1))
        return results

    def _one_table(self, image, region, ocr_result, rec_boxes, call: TableCall, times, find_neighbours, region_id):
        x1, y1, x2, y2 = region
        crop = np.ascontiguousarray(image[y1:y2, x1:x2])
        structure = self.predictor("table_structure").predict(crop, times)
        with times.stage("table.match"):
            inside = matching.overlapping_lines(rec_boxes, region)
            table_ocr_pred = {
                "rec_polys": np.asarray(ocr_result.rec_polys)[inside] if len(inside) else np.zeros((0, 4, 2), np.int32),
                "rec_texts": [ocr_result.rec_texts[i] for i in inside],
                "rec_scores": np.asarray(ocr_result.rec_scores, np.float64)[inside] if len(inside) else np.zeros(0),
                "rec_boxes": rec_boxes[inside] if len(inside) else np.zeros((0, 4), np.int32),
            }
            cells = matching.cell_boxes_on_page(structure.bbox, (x1, y1), image.shape[:2])
            if not len(cells) or not len(inside):
                pred_html = " ".join(structure.structure)  # PaddleX's form when nothing can be matched
            else:
                if call.use_ocr_results_with_table_cells:
                    texts = self._cell_texts(crop, structure.bbox)
                    line_boxes = cells
                else:
                    texts, line_boxes = table_ocr_pred["rec_texts"], table_ocr_pred["rec_boxes"]
                matched = matching.match_lines_to_cells(cells, line_boxes, call.cell_sort_by_y_projection)
                pred_html = matching.html_with_texts(structure.structure, matched, texts)
            neighbours = ""
            if find_neighbours:
                neighbours = "".join(f"{ocr_result.rec_texts[i]}; " for i in matching.neighbour_lines(rec_boxes, region))
        return SingleTableRecognitionResult(
            cell_box_list=cells, pred_html=pred_html, table_ocr_pred=table_ocr_pred, table_region_id=region_id,
            neighbor_texts=neighbours, structure=structure.structure, structure_score=structure.structure_score,
        )

    def _cell_texts(self, crop: np.ndarray, polygons: np.ndarray) -> list[str]:
        """PaddleX's ``use_ocr_results_with_table_cells``: OCR of each cell's crop, its lines joined."""
        ocr_call = self.general_ocr.prepare_call(resolve_call(self.general_ocr.config, self.general_ocr.params, {}),
                                                 set())
        texts = []
        for poly in np.asarray(polygons).reshape(-1, 8):
            cx1, cy1, cx2, cy2 = (max(0, math.ceil(v)) for v in (poly[0], poly[1], poly[4], poly[5]))
            cell = np.ascontiguousarray(crop[cy1:cy2, cx1:cx2])
            if cell.shape[0] < 2 or cell.shape[1] < 2:
                texts.append("")
                continue
            result = self.general_ocr.predict_item(InputItem(None, None, cell), ocr_call)
            texts.append("".join(result.rec_texts))
        return texts


def _as_ocr_result(value: Any) -> OCRResult:
    """``overall_ocr_res`` as an :class:`OCRResult` (its picture is set per page when it has none)."""
    if isinstance(value, OCRResult):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(f"overall_ocr_res is of type {type(value).__name__}; give this image's OCR result: hpi's "
                          "OCRResult (create_pipeline('OCR').predict(image)), or a mapping with PaddleX's rec_texts, "
                          "rec_scores and rec_polys or rec_boxes (a result's saved JSON).")
    data = value["res"] if isinstance(value.get("res"), Mapping) else value
    missing = [key for key in ("rec_texts", "rec_scores") if data.get(key) is None]
    if data.get("rec_polys") is None and data.get("rec_boxes") is None:
        missing.append("rec_polys or rec_boxes")
    if missing:
        raise ConfigError(f"overall_ocr_res has no {', '.join(missing)}; give PaddleX's OCR result keys "
                          "(rec_texts, rec_scores, rec_polys or rec_boxes), one entry per line.")
    texts = [str(text) for text in data["rec_texts"]]
    try:
        scores = [float(score) for score in data["rec_scores"]]
        if data.get("rec_polys") is not None:
            polys = np.asarray(data["rec_polys"], np.float64).reshape(-1, 4, 2)
        else:
            x1, y1, x2, y2 = np.asarray(data["rec_boxes"], np.float64).reshape(-1, 4).T
            polys = np.stack([np.stack([x1, y1], 1), np.stack([x2, y1], 1), np.stack([x2, y2], 1),
                              np.stack([x1, y2], 1)], 1)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"overall_ocr_res: rec_scores must be numbers and rec_polys 4 points (or rec_boxes "
                          f"x1, y1, x2, y2) per line ({exc}).") from None
    if not len(texts) == len(scores) == len(polys):
        raise ConfigError(f"overall_ocr_res has {len(texts)} rec_texts, {len(scores)} rec_scores and {len(polys)} "
                          "boxes; give one of each per line.")
    polys = np.rint(polys).astype(np.int32)
    return OCRResult(
        input_path=data.get("input_path"), page_index=data.get("page_index"), image=None,
        model_settings=dict(data.get("model_settings") or {}),
        dt_polys=data.get("dt_polys", polys),  # reported as given (only the JSON shows it)
        text_det_params=dict(data.get("text_det_params") or {}),
        text_type=str(data.get("text_type", "general")),
        textline_orientation_angles=list(data.get("textline_orientation_angles", [-1] * len(texts))),
        text_rec_score_thresh=float(data.get("text_rec_score_thresh", 0.0)),
        rec_texts=texts, rec_scores=scores, rec_polys=polys, stem="overall_ocr_res",
    )


def _as_layout_result(value: Any) -> LayoutDetectionResult:
    """``layout_det_res`` as a :class:`LayoutDetectionResult` (its picture is set per page when it has none)."""
    if isinstance(value, LayoutDetectionResult):
        return value
    data = value["res"] if isinstance(value, Mapping) and isinstance(value.get("res"), Mapping) else value
    boxes = data.get("boxes") if isinstance(data, Mapping) else None
    if not isinstance(boxes, (list, tuple)):
        raise ConfigError(f"layout_det_res (of type {type(value).__name__}) has no boxes; give this image's layout "
                          "result: hpi's LayoutDetectionResult, or a mapping with PaddleX's boxes "
                          "[{label, coordinate: [x1, y1, x2, y2]}, ...].")
    checked = []
    for index, box in enumerate(boxes):
        try:
            coordinate = [float(v) for v in box["coordinate"]][:4]
            if len(coordinate) != 4:
                raise ValueError("4 numbers needed")
            checked.append({"cls_id": box.get("cls_id", -1), "label": str(box["label"]),
                            "score": float(box.get("score", 1.0)), "coordinate": coordinate})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"layout_det_res box {index} is {box!r}: each box needs a label and a coordinate "
                              f"[x1, y1, x2, y2] ({exc}).") from None
    return LayoutDetectionResult(input_path=data.get("input_path"), page_index=data.get("page_index"),
                                 input_img=None, boxes=checked, stem="layout_det_res")


__all__ = ["TableCall", "TableRecognitionPipeline"]
