"""Reference table-structure kernels (numpy / OpenCV): the semantics the compiled ``_table`` reproduces.

PaddleX's ``table_structure_recognition`` processors (SLANet / SLANet_plus):

* pre-processing — ``ResizeByLong(488)`` (cv2 bilinear, sizes rounded),
  ``Normalize`` (ImageNet mean/std on BGR, as PaddleX), ``Pad`` to 488×488
  with zeros at the bottom/right, CHW;
* ``TableLabelDecode`` — argmax per step; stop at ``eos`` (not at step 0);
  ``sos``/``eos`` skipped; a ``<td>``-type token (``<td>``, ``<td``,
  ``<td></td>``) carries the step's cell box; the score is the mean of the
  kept steps' max probabilities; boxes scaled to the input image and
  truncated to int (8 values x1,y1…x4,y4; a 4-value box x1,y1,x2,y2, as
  PP-Structure v2's SLANet writes it, becomes the same 8-point polygon);
* ``match_table_and_ocr`` (table_recognition post-processing) — each OCR
  box goes to the cell with the highest IoU, ties by the smallest L1 corner
  distance (PaddleX's ``distance``: the 4 coordinate differences plus the
  smaller of the two corners' sums).
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from ..errors import InputError
from ._validation import _validate_image, _validate_norm

__all__ = ["match_cells_ocr", "table_decode", "table_preprocess"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _table_resize_shape(h: int, w: int, max_side: int) -> tuple[int, int]:
    """PaddleX ResizeByLong: (h, w) with the long side ``max_side`` (Python's round, as PaddleX)."""
    if max_side <= 0:
        raise InputError(f"max_side must be positive, got {max_side}.")
    scale = max_side / max(h, w)
    return max(1, min(max_side, round(h * scale))), max(1, min(max_side, round(w * scale)))


def table_preprocess(image: np.ndarray, max_side: int = 488, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                     scale: float = 1 / 255) -> tuple[np.ndarray, tuple[int, int]]:
    """A BGR table image → (1×3×S×S float32 tensor, (resized_h, resized_w)); S = ``max_side``."""
    image = _validate_image(image)
    mean32, std32, scale32 = _validate_norm(mean, std, scale)
    h, w = image.shape[:2]
    rh, rw = _table_resize_shape(h, w, int(max_side))
    resized = image if (rh, rw) == (h, w) else cv2.resize(image, (rw, rh))
    normalized = (resized.astype(np.float32) * scale32 - mean32) / std32
    tensor = np.zeros((1, 3, max_side, max_side), np.float32)
    tensor[0, :, :rh, :rw] = normalized.transpose(2, 0, 1)
    return tensor, (rh, rw)


def _check_decode_args(probs, loc, td_mask, beg_idx: int, end_idx: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    probs = np.ascontiguousarray(probs, dtype=np.float32)
    if probs.ndim == 3 and probs.shape[0] == 1:
        probs = probs[0]
    if probs.ndim != 2 or probs.shape[1] == 0:
        raise InputError(f"structure probabilities must be T×C (or 1×T×C), got shape {probs.shape}.")
    loc = np.ascontiguousarray(loc, dtype=np.float32)
    if loc.ndim == 3 and loc.shape[0] == 1:
        loc = loc[0]
    if loc.ndim != 2 or loc.shape[0] != probs.shape[0] or loc.shape[1] not in (4, 8):
        raise InputError(f"cell locations must be T×8 or T×4 with T = {probs.shape[0]}, got shape {loc.shape}.")
    td_mask = np.ascontiguousarray(td_mask, dtype=np.uint8)
    if td_mask.shape != (probs.shape[1],):
        raise InputError(f"td_mask needs one flag per class ({probs.shape[1]}), got shape {td_mask.shape}.")
    if not (0 <= beg_idx < probs.shape[1] and 0 <= end_idx < probs.shape[1]):
        raise InputError(f"sos/eos indices {beg_idx}/{end_idx} are outside the {probs.shape[1]} classes.")
    if np.isnan(probs).any() or not np.isfinite(loc).all():
        raise InputError("the table model's outputs contain NaN or Inf; the model output is invalid.")
    return probs, loc, td_mask


def table_decode(probs: np.ndarray, loc: np.ndarray, td_mask: Sequence[int], beg_idx: int, end_idx: int,
                 scale_x: float, scale_y: float) -> tuple[np.ndarray, float, np.ndarray]:
    """Decode one table: (token indices int32, score, cell boxes K×8 int32 in image pixels).

    ``probs`` T×C structure probabilities, ``loc`` T×8 (or T×4) normalised
    cell boxes, ``td_mask[c]`` 1 for the ``<td>``-type classes, ``scale_x``/
    ``scale_y`` what a normalised x/y is multiplied by.
    """
    probs, loc, td_mask = _check_decode_args(probs, loc, td_mask, int(beg_idx), int(end_idx))
    indices = probs.argmax(axis=1)
    maxima = probs.max(axis=1)
    tokens, scores, boxes = [], [], []
    for step, index in enumerate(indices.tolist()):
        if step > 0 and index == end_idx:
            break
        if index in (beg_idx, end_idx):
            continue
        if td_mask[index]:
            box = loc[step].astype(np.float64)
            if box.size == 4:
                x1, y1, x2, y2 = box
                box = np.array([x1, y1, x2, y1, x2, y2, x1, y2])
            box = box * np.array([scale_x, scale_y] * 4)
            boxes.append(np.trunc(box))
        tokens.append(index)
        scores.append(float(maxima[step]))
    score = float(np.mean(scores, dtype=np.float64)) if scores else 0.0
    cell_boxes = np.array(boxes, np.int32).reshape(-1, 8)
    return np.array(tokens, np.int32), score, cell_boxes


def _check_boxes(boxes, what: str) -> np.ndarray:
    boxes = np.ascontiguousarray(boxes, dtype=np.float64)
    if boxes.size == 0:
        return boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise InputError(f"{what} must be N×4 (x1, y1, x2, y2), got shape {boxes.shape}.")
    if not np.isfinite(boxes).all():
        raise InputError(f"{what} contain NaN or Inf.")
    return boxes


def match_cells_ocr(cell_boxes: np.ndarray, ocr_boxes: np.ndarray) -> np.ndarray:
    """For each OCR box (N×4), the index of its cell in ``cell_boxes`` (M×4), or -1 when M = 0."""
    cells = _check_boxes(cell_boxes, "cell boxes")
    ocr = _check_boxes(ocr_boxes, "OCR boxes")
    out = np.full(len(ocr), -1, np.int32)
    if len(cells) == 0:
        return out
    for i, (x1, y1, x2, y2) in enumerate(ocr.tolist()):
        best = None
        for j, (a1, b1, a2, b2) in enumerate(cells.tolist()):
            # PaddleX's sums in its order (float rounding decides exact ties).
            first = abs(x1 - a1) + abs(y1 - b1)
            second = abs(x2 - a2) + abs(y2 - b2)
            dist = (first + abs(x2 - a2) + abs(y2 - b2)) + min(first, second)
            left, right, top, bottom = max(a1, x1), min(a2, x2), max(b1, y1), min(b2, y2)
            if left >= right or top >= bottom:
                iou = 0.0
            else:
                inter = (right - left) * (bottom - top)
                iou = inter / ((a2 - a1) * (b2 - b1) + (x2 - x1) * (y2 - y1) - inter)
            key = (1.0 - iou, dist)
            if best is None or key < best[0]:
                best = (key, j)
        out[i] = best[1]
    return out
