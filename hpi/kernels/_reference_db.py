"""The steps of the reference DB post-processing (PaddleOCR's ``DBPostProcess``): contours → boxes, scores.

:func:`hpi.kernels._reference.db_decode` puts them together; the compiled ``_db`` kernel must
reproduce them.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import pyclipper

from ..errors import InputError
from ._validation import DB_MIN_SIZE, _check_db_args, _validate_prob_map

# --------------------------------------------------------------------------- DB post-processing


def _mini_box(points: np.ndarray) -> tuple[np.ndarray, float]:
    """PaddleOCR get_mini_boxes: min-area rectangle, corners ordered TL, TR, BR, BL; shorter side."""
    rect = cv2.minAreaRect(points)
    corners = sorted(list(cv2.boxPoints(rect)), key=lambda p: p[0])
    if corners[1][1] > corners[0][1]:
        first, fourth = 0, 1
    else:
        first, fourth = 1, 0
    if corners[3][1] > corners[2][1]:
        second, third = 2, 3
    else:
        second, third = 3, 2
    box = np.array([corners[first], corners[second], corners[third], corners[fourth]], dtype=np.float32)
    return box, min(rect[1])


def _score_fast(prob: np.ndarray, box: np.ndarray) -> float:
    """Mean probability inside the quad (PaddleOCR box_score_fast: bounds floored/ceiled, then truncated)."""
    h, w = prob.shape
    box = box.copy()
    xmin = int(np.clip(np.floor(box[:, 0].min()), 0, w - 1))
    xmax = int(np.clip(np.ceil(box[:, 0].max()), 0, w - 1))
    ymin = int(np.clip(np.floor(box[:, 1].min()), 0, h - 1))
    ymax = int(np.clip(np.ceil(box[:, 1].max()), 0, h - 1))
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    box[:, 0] -= xmin
    box[:, 1] -= ymin
    cv2.fillPoly(mask, box.reshape(1, -1, 2).astype(np.int32), 1)
    return cv2.mean(prob[ymin : ymax + 1, xmin : xmax + 1], mask)[0]


def _score_slow(prob: np.ndarray, contour: np.ndarray) -> float:
    """Mean probability inside the contour polygon (PaddleOCR box_score_slow)."""
    h, w = prob.shape
    contour = contour.reshape(-1, 2).astype(np.int64)
    xmin = int(np.clip(contour[:, 0].min(), 0, w - 1))
    xmax = int(np.clip(contour[:, 0].max(), 0, w - 1))
    ymin = int(np.clip(contour[:, 1].min(), 0, h - 1))
    ymax = int(np.clip(contour[:, 1].max(), 0, h - 1))
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    contour = contour - (xmin, ymin)
    cv2.fillPoly(mask, contour.reshape(1, -1, 2).astype(np.int32), 1)
    return cv2.mean(prob[ymin : ymax + 1, xmin : xmax + 1], mask)[0]


def _unclip(points: np.ndarray, unclip_ratio: float) -> list:
    """Offset the polygon outwards by area * ratio / perimeter with round joins (pyclipper, as PaddleOCR)."""
    x = points[:, 0].astype(np.float64)
    y = points[:, 1].astype(np.float64)
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    length = float(np.sum(np.hypot(np.roll(x, -1) - x, np.roll(y, -1) - y)))
    if length == 0.0:
        return []
    distance = area * unclip_ratio / length
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(points, pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    return offset.Execute(distance)


def _order_points_clockwise(box: np.ndarray) -> np.ndarray:
    """PaddleX order_points_clockwise: TL = min x+y, BR = max x+y, TR/BL by y-x of the other two."""
    rect = np.zeros((4, 2), dtype=np.float32)
    sums = box.sum(axis=1)
    rect[0] = box[np.argmin(sums)]
    rect[2] = box[np.argmax(sums)]
    rest = np.delete(box, (np.argmin(sums), np.argmax(sums)), axis=0)
    diff = np.diff(np.array(rest), axis=1)
    rect[1] = rest[np.argmin(diff)]
    rect[3] = rest[np.argmax(diff)]
    return rect


def _filter_quad(box: np.ndarray, src_h: int, src_w: int) -> np.ndarray | None:
    """PaddleX filter_tag_det_res: order, clip to the image, drop boxes with a side ≤ 3 px."""
    box = _order_points_clockwise(box)
    box[:, 0] = np.trunc(np.clip(box[:, 0], 0, src_w - 1))
    box[:, 1] = np.trunc(np.clip(box[:, 1], 0, src_h - 1))
    if int(np.linalg.norm(box[0] - box[1])) <= 3 or int(np.linalg.norm(box[0] - box[3])) <= 3:
        return None
    return box.astype(np.int32)


def _rescale(box: np.ndarray, height: int, width: int, src_h: int, src_w: int) -> np.ndarray:
    box = np.array(box, dtype=np.float32)
    box[:, 0] = np.clip(np.round(box[:, 0] / width * src_w), 0, src_w)
    box[:, 1] = np.clip(np.round(box[:, 1] / height * src_h), 0, src_h)
    return box


def _binarize(prob: np.ndarray, thresh: float, use_dilation: bool) -> np.ndarray:
    if not np.all(np.isfinite(prob)):
        raise InputError("the probability map contains NaN or Inf; the detection model output is invalid.")
    bitmap = (prob > thresh).astype(np.uint8) * 255
    if use_dilation:
        bitmap = cv2.dilate(bitmap, np.ones((2, 2), dtype=np.uint8))
    return bitmap


def _find_contours(bitmap: np.ndarray) -> Sequence[np.ndarray]:
    return cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)[-2]


def _empty_quads() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((0, 4, 2), dtype=np.int32), np.zeros((0,), dtype=np.float32)


def _db_quads(prob, contours, src_h, src_w, box_thresh, max_candidates, unclip_ratio, score_mode):
    height, width = prob.shape
    boxes, scores = [], []
    for contour in contours[:max_candidates]:
        points, short_side = _mini_box(contour)
        if short_side < DB_MIN_SIZE:
            continue
        score = _score_fast(prob, points) if score_mode == "fast" else _score_slow(prob, contour)
        if box_thresh > score:
            continue
        expanded = _unclip(points, unclip_ratio)
        if len(expanded) == 0:
            continue
        expanded = np.array([p for poly in expanded for p in poly], dtype=np.int32).reshape(-1, 1, 2)
        box, short_side = _mini_box(expanded)
        if short_side < DB_MIN_SIZE + 2:
            continue
        box = _filter_quad(_rescale(box, height, width, src_h, src_w).astype(np.int32), src_h, src_w)
        if box is None:
            continue
        boxes.append(box)
        scores.append(score)
    if not boxes:
        return _empty_quads()
    return np.stack(boxes).astype(np.int32), np.asarray(scores, dtype=np.float32)


def _db_polys(prob, contours, src_h, src_w, box_thresh, max_candidates, unclip_ratio, score_mode):
    """PaddleOCR polygons_from_bitmap, then PaddleX's clip-only filter for polygons."""
    height, width = prob.shape
    boxes, scores = [], []
    for contour in contours[:max_candidates]:
        epsilon = 0.002 * cv2.arcLength(contour, True)
        points = cv2.approxPolyDP(contour, epsilon, True).reshape(-1, 2)
        if points.shape[0] < 4:
            continue
        score = _score_fast(prob, points.astype(np.float32)) if score_mode == "fast" else _score_slow(prob, contour)
        if box_thresh > score:
            continue
        expanded = _unclip(points, unclip_ratio)
        if len(expanded) != 1:
            continue
        poly = np.array(expanded[0], dtype=np.int32).reshape(-1, 2)
        _, short_side = _mini_box(poly.reshape(-1, 1, 2))
        if short_side < DB_MIN_SIZE + 2:
            continue
        poly = _rescale(poly, height, width, src_h, src_w)
        poly[:, 0] = np.clip(poly[:, 0], 0, src_w - 1)
        poly[:, 1] = np.clip(poly[:, 1], 0, src_h - 1)
        boxes.append(poly.astype(np.int32))
        scores.append(score)
    return boxes, np.asarray(scores, dtype=np.float32)
