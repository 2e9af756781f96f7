"""``SubPipelines.SealOCR``: PaddleX's OCR pipeline with ``text_type: seal``, on one seal region.

Seal text detection (DB decoded to curved polygons) → polygons sorted by their
top (PaddleX's SortPolyBoxes) → each polygon cropped: a near-rectangular one
(its area ≥ :data:`RECT_FILL` of its minimum-area rectangle, PaddleX's rule) by
the perspective crop of that rectangle, a curved one straightened by
:func:`hpi.kernels.rectify_curved_text` → black print crossing the seal
removed (``remove_dark_print``, hpi's own step, :func:`hpi.kernels.remove_dark_ink`:
in a coloured seal, lines of black print are dropped and black pixels whitened)
→ text recognition → score filter.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from ... import kernels
from ...inputs import InputItem
from ...predictors import TextDetector, TextRecognizer
from ...predictors.text_detection import DetParams
from ...results.seal_recognition import SealOCRResult
from ...timing import NULL_TIMES, StageTimes
from ..base import ModelSlot, Pipeline
from .config import SealOCRConfig

RECT_FILL = 0.7  # PaddleX: a polygon whose IoU with its minimum-area rectangle is ≥ 0.7 is cropped as that box
# remove_dark_print acts on a seal region whose printed pixels are at least this share coloured ink (a coloured
# seal); in it, a line crop below this share is black print crossing the seal (body text, a signature), not
# seal text, and is dropped; the others are whitened of their black print.
MIN_INK_SHARE = 0.3


class SealCall(NamedTuple):
    """The per-call settings of seal OCR (PaddleX's seal_det_* and seal_rec_score_thresh)."""

    det: DetParams
    score_thresh: float


def sort_polys(polys: list[np.ndarray]) -> list[np.ndarray]:
    """Top to bottom by each polygon's smallest y (PaddleX's SortPolyBoxes; a stable sort)."""
    return sorted(polys, key=lambda p: int(np.asarray(p)[:, 1].min()))


def _rect_corners(rect) -> np.ndarray:
    """cv2.minAreaRect's box as top-left, top-right, bottom-right, bottom-left (PaddleOCR's order)."""
    points = sorted(cv2.boxPoints(rect).tolist(), key=lambda p: p[0])
    left = sorted(points[:2], key=lambda p: p[1])
    right = sorted(points[2:], key=lambda p: p[1])
    return np.array([left[0], right[0], right[1], left[1]], np.float32)


def crop_seal_text(image: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """One seal text line of ``image`` as an upright crop (rectified when the polygon is curved)."""
    points = np.asarray(polygon, np.float32).reshape(-1, 2)
    rect = cv2.minAreaRect(points)
    rect_area = float(rect[1][0] * rect[1][1])
    if len(points) < 4 or rect_area <= 0 or abs(cv2.contourArea(points)) / rect_area >= RECT_FILL:
        return kernels.crop_text_regions(image, _rect_corners(rect)[None])[0]
    return kernels.rectify_curved_text(image, points)


def without_dark_print(image: np.ndarray, polys: list[np.ndarray],
                       crops: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(polygons, crops) of a seal region with black print removed: lines that are only black print
    dropped, black pixels of the others whitened. A region that is not coloured ink is left as it is."""
    if kernels.remove_dark_ink(image)[1] < MIN_INK_SHARE:
        return polys, crops
    kept_polys, kept_crops = [], []
    for poly, crop in zip(polys, crops):
        cleaned, ink_share = kernels.remove_dark_ink(crop)
        if ink_share >= MIN_INK_SHARE:
            kept_polys.append(poly)
            kept_crops.append(cleaned)
    return kept_polys, kept_crops


class SealOCRPipeline(Pipeline):
    """PaddleX's seal OCR (``SubPipelines.SealOCR``) on hpi's engine; a sub-pipeline of seal recognition."""

    name = "OCR"
    config_class = SealOCRConfig
    models = {
        "text_detection": ModelSlot("text_detection", TextDetector),
        "text_recognition": ModelSlot("text_recognition", TextRecognizer),
    }

    def seal_call(self, limit_side_len=None, limit_type=None, thresh=None, box_thresh=None, unclip_ratio=None,
                  score_thresh=None) -> SealCall:
        """The call settings, each None taken from the config (0.0 is a value)."""
        det = self.config.text_detection

        def pick(value, default):
            return default if value is None else value

        return SealCall(
            DetParams(limit_side_len=int(pick(limit_side_len, det.limit_side_len)),
                      limit_type=pick(limit_type, det.limit_type), max_side_limit=det.max_side_limit,
                      thresh=float(pick(thresh, det.thresh)), box_thresh=float(pick(box_thresh, det.box_thresh)),
                      unclip_ratio=float(pick(unclip_ratio, det.unclip_ratio)), box_type=det.box_type,
                      score_mode=det.score_mode),
            float(pick(score_thresh, self.config.text_recognition.score_thresh)),
        )

    def process(self, image: np.ndarray, call: SealCall, times: StageTimes = NULL_TIMES,
                item: InputItem | None = None, seal_region_id: int = 1) -> SealOCRResult:
        """One seal region (BGR uint8) → its texts; polygons are in ``image``'s pixels."""
        polys, _ = self.predictor("text_detection").predict(image, call.det, times)
        with times.stage("seal.sort"):
            polys = sort_polys([np.asarray(p, np.int32).reshape(-1, 2) for p in polys])
        with times.stage("seal.rectify"):
            crops = [crop_seal_text(image, p) for p in polys]
            if self.config.remove_dark_print:
                polys, crops = without_dark_print(image, polys, crops)
        rec = self.predictor("text_recognition").predict(crops, times) if crops else []
        keep = [i for i, (_, score) in enumerate(rec) if score >= call.score_thresh]
        return SealOCRResult(
            seal_region_id=seal_region_id,
            input_path=item.input_path if item else None, page_index=item.page_index if item else None,
            image=image, model_settings={"use_doc_preprocessor": False, "use_textline_orientation": False},
            dt_polys=polys, text_det_params=call.det.as_paddlex(), text_type="seal",
            textline_orientation_angles=[-1] * len(polys), text_rec_score_thresh=call.score_thresh,
            rec_texts=[rec[i][0] for i in keep], rec_scores=[rec[i][1] for i in keep],
            rec_polys=[polys[i] for i in keep], stem=item.stem if item else "result",
        )

    def predict_item(self, item: InputItem, call: SealCall) -> SealOCRResult:
        times = StageTimes()
        result = self.process(item.image, call, times, item)
        result.timings_ms = times.as_ms()
        return result

    def prepare_call(self, params, given) -> SealCall:
        return self.seal_call()


__all__ = ["RECT_FILL", "SealCall", "SealOCRPipeline", "crop_seal_text", "sort_polys", "without_dark_print"]
