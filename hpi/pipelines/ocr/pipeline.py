"""The OCR pipeline: (doc preprocessor) → detection → sort → crop → (textline orientation) → recognition."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ... import kernels
from ...inputs import InputItem
from ...predictors import TextDetector, TextlineClassifier, TextRecognizer
from ...predictors.text_detection import DetParams
from ...results import OCRResult
from ...timing import StageTimes
from ..base import ModelSlot, Pipeline
from ..doc_preprocessor import DocPreprocessorPipeline, nested_doc_preprocessor_params
from ..params import Param
from .config import OCRConfig

_DET = ("SubModules", "TextDetection")
_TLO = ("SubModules", "TextLineOrientation")
_REC = ("SubModules", "TextRecognition")

# PaddleX's (PaddleOCR's) names for the OCR pipeline's parameters; everything else derives from these.
PARAMS = (
    *nested_doc_preprocessor_params(),
    Param("use_textline_orientation", ("use_textline_orientation",), call=True),
    Param("text_det_limit_side_len", (*_DET, "limit_side_len"), call=True),
    Param("text_det_limit_type", (*_DET, "limit_type"), call=True),
    Param("text_det_max_side_limit", (*_DET, "max_side_limit"), call=True),
    Param("text_det_thresh", (*_DET, "thresh"), call=True),
    Param("text_det_box_thresh", (*_DET, "box_thresh"), call=True),
    Param("text_det_unclip_ratio", (*_DET, "unclip_ratio"), call=True),
    Param("text_rec_score_thresh", (*_REC, "score_thresh"), call=True),
    Param("return_word_box", (), "word boxes (not supported yet)", init=False, call=True,
          unsupported="word boxes", annotation=bool, default=False),
    Param("text_detection_model_name", (*_DET, "model_name")),
    Param("text_detection_model_dir", (*_DET, "model_dir")),
    Param("textline_orientation_model_name", (*_TLO, "model_name")),
    Param("textline_orientation_model_dir", (*_TLO, "model_dir")),
    Param("textline_orientation_batch_size", (*_TLO, "batch_size")),
    Param("text_recognition_model_name", (*_REC, "model_name")),
    Param("text_recognition_model_dir", (*_REC, "model_dir")),
    Param("text_recognition_batch_size", (*_REC, "batch_size")),
)


class _Call(NamedTuple):
    det: DetParams
    use_textline_orientation: bool
    score_thresh: float
    doc_settings: dict | None  # None: the doc preprocessor does not run for this call


def sort_boxes(boxes: np.ndarray) -> np.ndarray:
    """Reading order: top-to-bottom, then left-to-right for boxes on one line (within 10 px), as PaddleX."""
    if len(boxes) == 0:
        return boxes
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][0][1], boxes[i][0][0]))
    for i in range(len(order) - 1):
        for j in range(i, -1, -1):
            a, b = boxes[order[j]], boxes[order[j + 1]]
            if abs(b[0][1] - a[0][1]) < 10 and b[0][0] < a[0][0]:
                order[j], order[j + 1] = order[j + 1], order[j]
            else:
                break
    return boxes[order]


class OCRPipeline(Pipeline):
    """PaddleX's OCR pipeline on hpi's engine. Create it with :func:`hpi.create_pipeline`."""

    name = "OCR"
    config_class = OCRConfig
    params = PARAMS
    models = {
        "text_detection": ModelSlot("text_detection", TextDetector),
        "text_recognition": ModelSlot("text_recognition", TextRecognizer),
        "textline_orientation": ModelSlot("textline_orientation", TextlineClassifier),
    }
    subpipelines = {"doc_preprocessor": (DocPreprocessorPipeline, "doc_preprocessor")}
    doc_preprocessor: DocPreprocessorPipeline

    @classmethod
    def startup_slots(cls, config: OCRConfig) -> list[tuple[str, ...]]:
        slots = [("text_detection",), ("text_recognition",)]
        if config.use_textline_orientation:
            slots.append(("textline_orientation",))
        slots += DocPreprocessorPipeline.nested_startup_slots(config)
        return slots

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> _Call:
        det = self.config.text_detection
        det_params = DetParams(
            limit_side_len=params["text_det_limit_side_len"], limit_type=params["text_det_limit_type"],
            max_side_limit=params["text_det_max_side_limit"], thresh=params["text_det_thresh"],
            box_thresh=params["text_det_box_thresh"], unclip_ratio=params["text_det_unclip_ratio"],
            box_type=det.box_type, score_mode=det.score_mode,
        )
        # PaddleX: the doc preprocessor runs as configured unless a call names one of its switches.
        doc_settings = self.doc_preprocessor.settings_for_call(self.config.use_doc_preprocessor, params, given)
        return _Call(det_params, bool(params["use_textline_orientation"]),
                     float(params["text_rec_score_thresh"]), doc_settings)

    def predict_item(self, item: InputItem, call: _Call) -> OCRResult:
        times = StageTimes()
        image = item.image
        doc_res = None
        if call.doc_settings is not None:
            # The result's image and boxes then refer to the page the preprocessor turned upright.
            preprocessed = self.doc_preprocessor.process(image, call.doc_settings, times)
            image = preprocessed.output_img
            doc_res = preprocessed.json["res"]
        boxes, _ = self.predictor("text_detection").predict(image, call.det, times)
        with times.stage("det.post"):
            boxes = sort_boxes(boxes)
        with times.stage("crop"):
            crops = kernels.crop_text_regions(image, boxes) if len(boxes) else []
        angles = [-1] * len(crops)
        if call.use_textline_orientation and crops:
            labels, _ = self.predictor("textline_orientation").predict(crops, times)
            angles = labels
            with times.stage("cls.post"):
                crops = [np.ascontiguousarray(c[::-1, ::-1]) if label == 1 else c for c, label in zip(crops, labels)]
        rec = self.predictor("text_recognition").predict(crops, times) if crops else []
        keep = [i for i, (_, score) in enumerate(rec) if score >= call.score_thresh]
        polys = boxes.astype(np.int32) if len(boxes) else np.zeros((0, 4, 2), np.int32)
        return OCRResult(
            input_path=item.input_path,
            page_index=item.page_index,
            image=image,
            model_settings={"use_doc_preprocessor": call.doc_settings is not None,
                            "use_textline_orientation": call.use_textline_orientation},
            dt_polys=polys,
            text_det_params=call.det.as_paddlex(),
            text_type=self.config.text_type,
            textline_orientation_angles=angles,
            text_rec_score_thresh=call.score_thresh,
            rec_texts=[rec[i][0] for i in keep],
            rec_scores=[rec[i][1] for i in keep],
            rec_polys=polys[keep] if len(keep) else np.zeros((0, 4, 2), np.int32),
            stem=item.stem,
            timings_ms=times.as_ms(),
            doc_preprocessor_res=doc_res,
        )
