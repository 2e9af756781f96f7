"""Python faces of the compiled kernels: validate like the reference, then call Cython/C.

Input validation and the small scalar decisions (resize sizes, batch width) are shared with
``_reference`` so both backends accept, reject and size exactly the same inputs. Resizing and
perspective warps stay in OpenCV (identical pixels in both backends); everything per pixel or
per box after that is compiled and runs with the GIL released.
"""

from __future__ import annotations

import locale
from functools import lru_cache
from typing import Sequence

import cv2
import numpy as np

from ..errors import InputError
from . import _csv, _ctc, _curved, _db, _preprocess
from . import _table
from . import _layout
from . import _reference_layout
from . import _unwarp
from ._reference import __all__ as _KERNEL_API
from ._reference import _check_unwarp_args
from ._reference import _check_boxes, _check_decode_args, _table_resize_shape
from ._reference import _check_picodet_args
from ._reference_csv import check_csv_args
from ._reference_csv import csv_columns as _reference_csv_columns
from ._reference import _validate_polygon
from ._reference import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    _check_characters,
    _classify_resize_crop,
    _check_db_args,
    _db_polys,
    _empty_quads,
    _find_contours,
    _det_resize_shape,
    _rec_resized_width,
    _rec_target_width,
    _validate_ctc_probs,
    _validate_image,
    _validate_norm,
    _validate_out,
    _validate_prob_map,
    build_ctc_characters,
    crop_text_regions,
    paddlex_affine,
)

__all__ = list(_KERNEL_API)  # the same API as the reference


def _default_threads() -> int:
    """Threads for one kernel's own parallel loops: HPI_KERNEL_THREADS (default 1).

    Every compiled kernel releases the GIL, so callers scale by running kernels in their own
    threads (the pipeline overlaps them with inference). An OpenMP team inside each call helps
    only on idle cores: measured on a 2-core machine busy with other processes, a 2-thread team
    made CTC on 64×80×6625 2× slower than one thread (a descheduled worker stalls the team).
    Set HPI_KERNEL_THREADS=N to split large calls (a 64×80 CTC batch, a full page) over N threads.
    """
    from ..env import env_number

    return env_number("HPI_KERNEL_THREADS", 1, int, "a whole number of threads ≥ 1")


NUM_THREADS = _default_threads()


@lru_cache(maxsize=32)
def _lut(scale: float, mean: tuple, std: tuple) -> np.ndarray:
    table = _preprocess.build_lut(scale, np.asarray(mean, np.float32), np.asarray(std, np.float32))
    table.setflags(write=False)  # shared between calls (and threads) through the cache
    return table


def _norm_lut(mean, std, scale) -> np.ndarray:
    mean32, std32, scale32 = _validate_norm(mean, std, scale)
    return _lut(float(scale32), tuple(mean32.tolist()), tuple(std32.tolist()))


@lru_cache(maxsize=32)
def _paddlex_lut(scale: float, mean: tuple, std: tuple) -> np.ndarray:
    # Built in numpy with the reference's own arithmetic (float32 multiply, then add), so the table holds
    # exactly the values the reference computes for each of the 256 inputs.
    alpha, beta = paddlex_affine(scale, mean, std)
    table = np.ascontiguousarray((np.arange(256, dtype=np.float32)[None, :] * alpha[:, None] + beta[:, None]))
    table = table.ravel()
    table.setflags(write=False)
    return table


def paddlex_normalize(image: np.ndarray, scale: float, mean, std) -> np.ndarray:
    """See ``hpi.kernels._reference.paddlex_normalize`` (a table lookup per pixel, GIL released; equal)."""
    image = np.ascontiguousarray(_validate_image(image))
    lut = _paddlex_lut(float(scale), tuple(float(m) for m in mean), tuple(float(s) for s in std))
    tensor = np.empty((3, image.shape[0], image.shape[1]), dtype=np.float32)
    _preprocess.normalize_into(image, lut, tensor, NUM_THREADS)
    return tensor


def det_preprocess(
    image: np.ndarray,
    limit_side_len: int = 960,
    limit_type: str = "max",
    max_side_limit: int = 4000,
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
    scale: float = 1 / 255,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, float, float]:
    """See ``hpi.kernels._reference.det_preprocess`` (same semantics, one fused normalise pass)."""
    image = _validate_image(image)
    lut = _norm_lut(mean, std, scale)
    h, w = image.shape[:2]
    resize_h, resize_w = _det_resize_shape(h, w, int(limit_side_len), limit_type, int(max_side_limit))
    resized = cv2.resize(image, (resize_w, resize_h))
    tensor = _validate_out(out, (1, 3, resize_h, resize_w))
    _preprocess.normalize_into(resized, lut, tensor[0], NUM_THREADS)
    return tensor, resize_h / float(h), resize_w / float(w)


def classify_preprocess(
    image: np.ndarray,
    resize_short: int | None = 256,
    crop_size: tuple[int, int] = (224, 224),
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
    scale: float = 1 / 255,
    rgb: bool = True,
) -> np.ndarray:
    """See ``hpi.kernels._reference.classify_preprocess`` (resize/crop in OpenCV, normalise fused)."""
    image = _validate_image(image)
    lut = _norm_lut(mean, std, scale)
    crop = _classify_resize_crop(image, None if resize_short is None else int(resize_short), crop_size)
    crop = np.ascontiguousarray(crop[:, :, ::-1] if rgb else crop)
    tensor = np.empty((1, 3, crop.shape[0], crop.shape[1]), dtype=np.float32)
    _preprocess.normalize_into(crop, lut, tensor[0], NUM_THREADS)
    return tensor


def rec_preprocess(
    crops: Sequence[np.ndarray],
    image_shape=(3, 48, 320),
    mean=(0.5, 0.5, 0.5),
    std=(0.5, 0.5, 0.5),
    scale: float = 1 / 255,
    dynamic_width: bool = True,
) -> np.ndarray:
    """See ``hpi.kernels._reference.rec_preprocess`` (resize in OpenCV, normalise + pad fused)."""
    crops = [_validate_image(c, "crop") for c in crops]
    lut = _norm_lut(mean, std, scale)
    height, batch_w = _rec_target_width(crops, image_shape, dynamic_width)
    batch = np.empty((len(crops), 3, height, batch_w), dtype=np.float32)
    resized = [
        cv2.resize(crop, (_rec_resized_width(crop.shape[0], crop.shape[1], height, batch_w), height)) for crop in crops
    ]
    _preprocess.normalize_batch(resized, lut, batch, NUM_THREADS)
    return batch


def ctc_decode(probs: np.ndarray, characters: Sequence[str]) -> list[tuple[str, float]]:
    """See ``hpi.kernels._reference.ctc_decode`` (one fused pass, GIL released, rows in parallel)."""
    probs = _validate_ctc_probs(probs)
    n, t, c = probs.shape
    if n == 0:
        return []
    if c == 0 and t > 0:
        raise InputError("CTC probabilities have 0 classes.")
    _check_characters(characters, c, t > 0)
    kept, counts, scores, has_nan = _ctc.argmax_collapse(probs, NUM_THREADS)
    if has_nan:
        raise InputError("CTC probabilities contain NaN; the recognition model output is invalid.")
    results = []
    for b, count in enumerate(counts.tolist()):
        text = "".join([characters[i] for i in kept[b, :count].tolist()]) if count else ""
        results.append((text, float(scores[b])))
    return results


def db_decode(
    prob: np.ndarray,
    src_h: int,
    src_w: int,
    thresh: float = 0.3,
    box_thresh: float = 0.6,
    max_candidates: int = 1000,
    unclip_ratio: float = 1.5,
    score_mode: str = "fast",
    box_type: str = "quad",
    use_dilation: bool = False,
):
    """See ``hpi.kernels._reference.db_decode``.

    Thresholding (with the NaN/Inf check) and all per-box work except the min-area rectangles
    are compiled; contours come from cv2.findContours. ``box_type="poly"`` (curved text) runs
    the reference's per-polygon code on the compiled bitmap.
    """
    prob = _validate_prob_map(prob)
    _check_db_args(src_h, src_w, score_mode, box_type, max_candidates, unclip_ratio)
    src_h, src_w, max_candidates = int(src_h), int(src_w), int(max_candidates)
    if prob.size == 0 or max_candidates == 0:
        return ([], np.zeros((0,), np.float32)) if box_type == "poly" else _empty_quads()
    bitmap, non_finite = _db.threshold_map(prob, float(thresh))
    if non_finite:
        raise InputError("the probability map contains NaN or Inf; the detection model output is invalid.")
    if use_dilation:
        bitmap = cv2.dilate(bitmap, np.ones((2, 2), dtype=np.uint8))
    contours = _find_contours(bitmap)
    if box_type == "poly":
        return _db_polys(prob, contours, src_h, src_w, box_thresh, max_candidates, unclip_ratio, score_mode)
    return _db.quads(
        prob, contours, max_candidates, float(box_thresh), float(unclip_ratio), score_mode == "slow", src_h, src_w
    )


def picodet_decode(scores, boxes, input_hw, image_hw, strides=_reference_layout.PICODET_STRIDES,
                   score_threshold: float = 0.025, nms_threshold: float = 0.6, nms_top_k: int = 1000,
                   keep_top_k: int = 100) -> np.ndarray:
    """See ``hpi.kernels._reference_layout.picodet_decode``: validation shared, decode + NMS compiled."""
    levels, regs, grids, classes, bins, scale_x, scale_y = _check_picodet_args(
        scores, boxes, input_hw, image_hw, strides, score_threshold, nms_threshold, nms_top_k, keep_top_k)
    return _layout.picodet_decode(levels, regs, grids, [int(s) for s in strides], int(classes), int(bins),
                                  float(scale_x), float(scale_y), float(score_threshold), float(nms_threshold),
                                  int(nms_top_k), int(keep_top_k))

def rectify_curved_text(image: np.ndarray, polygon) -> np.ndarray:
    """See ``hpi.kernels._reference_curved.rectify_curved_text``: validation shared, geometry and sampling
    compiled (GIL released)."""
    image = _validate_image(image)
    points = _validate_polygon(polygon)
    crop = _curved.rectify(image, points)
    if crop is None:
        raise MemoryError("rectify_curved_text: out of memory while resampling the polygon's outline.")
    return crop


def table_preprocess(image: np.ndarray, max_side: int = 488, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                     scale: float = 1 / 255) -> tuple[np.ndarray, tuple[int, int]]:
    """See ``hpi.kernels._reference_table.table_preprocess`` (resize in OpenCV, normalise + pad fused)."""
    image = _validate_image(image)
    lut = _norm_lut(mean, std, scale)
    h, w = image.shape[:2]
    rh, rw = _table_resize_shape(h, w, int(max_side))
    resized = image if (rh, rw) == (h, w) else cv2.resize(image, (rw, rh))
    tensor = np.zeros((1, 3, int(max_side), int(max_side)), np.float32)  # rows below rh stay 0 (padding)
    _preprocess.normalize_into(np.ascontiguousarray(resized), lut, tensor[0], NUM_THREADS)
    return tensor, (rh, rw)


def table_decode(probs: np.ndarray, loc: np.ndarray, td_mask, beg_idx: int, end_idx: int,
                 scale_x: float, scale_y: float) -> tuple[np.ndarray, float, np.ndarray]:
    """See ``hpi.kernels._reference_table.table_decode`` (argmax, stop, box scaling in one C pass)."""
    probs, loc, td_mask = _check_decode_args(probs, loc, td_mask, int(beg_idx), int(end_idx))
    tokens, score, boxes, has_nan = _table.decode(probs, loc, td_mask, int(beg_idx), int(end_idx),
                                                  float(scale_x), float(scale_y))
    if has_nan:
        raise InputError("the table model's outputs contain NaN or Inf; the model output is invalid.")
    return np.array(tokens, np.int32), float(score), np.array(boxes, np.int32).reshape(-1, 8)


def match_cells_ocr(cell_boxes: np.ndarray, ocr_boxes: np.ndarray) -> np.ndarray:
    """See ``hpi.kernels._reference_table.match_cells_ocr`` (the N×M IoU/distance search in C)."""
    return _table.match(_check_boxes(cell_boxes, "cell boxes"), _check_boxes(ocr_boxes, "OCR boxes"))


def remove_dark_ink(image: np.ndarray, max_value: int = 160, min_saturation: int = 70,
                    ink_min_value: int = 60) -> tuple[np.ndarray, float]:
    """See ``hpi.kernels._reference_curved.remove_dark_ink``: the per-pixel pass compiled (GIL released)."""
    image = _validate_image(image)
    out, ink, dark = _curved.remove_dark_ink(image, int(max_value), int(min_saturation), int(ink_min_value))
    return out, (ink / (ink + dark) if ink + dark else 1.0)


def unwarp_page(image: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """See ``hpi.kernels._reference_unwarp.unwarp_page``: validation shared, upsampling + sampling compiled."""
    image, grid = _check_unwarp_args(image, grid)
    out = np.empty_like(image)
    _unwarp.unwarp_into(image, grid, out, NUM_THREADS)
    return out


def csv_columns(body: bytes, width: int, lines: int):
    check_csv_args(body, width, lines)
    if locale.localeconv()["decimal_point"] != ".":  # strtod reads numbers in the C locale's form only
        return _reference_csv_columns(body, width, lines)
    return _csv.csv_columns(body, width, lines)
