"""Reference implementations of every kernel, in numpy / OpenCV / pyclipper.

These define the semantics (PaddleOCR / PaddleX pre- and post-processing) that the
compiled kernels in ``kernels/*.pyx`` must reproduce; the test suite compares the two.
``HPI_PURE_PYTHON=1`` makes the engine use these everywhere.

Input handling shared with the compiled faces is in ``_validation`` and DB post-processing in
``_reference_db``; both are re-exported here, so both backends accept and reject the same inputs.
"""

from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np

from ..errors import InputError

__all__ = [
    "paddlex_normalize",
    "build_ctc_characters",
    "classify_preprocess",
    "crop_text_regions",
    "csv_columns",
    "ctc_decode",
    "db_decode",
    "det_preprocess",
    "picodet_decode",
    "rec_preprocess",
    "match_cells_ocr",
    "table_decode",
    "table_preprocess",
    "rectify_curved_text",
    "remove_dark_ink",
    "unwarp_page",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


from ._reference_db import (  # noqa: F401  (the compiled face and the tests use them from here)
    _binarize,
    _db_polys,
    _db_quads,
    _empty_quads,
    _find_contours,
)
from ._reference_layout import picodet_decode  # noqa: E402,F401  (layout detection)
from ._reference_csv import csv_columns  # noqa: E402,F401  (time-series CSVs)
from ._reference_layout import _check_picodet_args  # noqa: E402,F401  (shared with the compiled face)
from ._reference_curved import (  # noqa: E402,F401  (seal text)
    _validate_polygon,
    rectify_curved_text,
    remove_dark_ink,
)
from ._reference_table import match_cells_ocr, table_decode, table_preprocess  # noqa: E402,F401  (tables)
from ._reference_table import _check_boxes, _check_decode_args, _table_resize_shape  # noqa: E402,F401
from ._reference_unwarp import unwarp_page  # noqa: E402,F401  (document unwarping)
from ._reference_unwarp import _check_unwarp_args  # noqa: E402,F401  (shared with the compiled face)
from ._validation import (  # noqa: F401  (re-exported for the compiled face)
    DB_MIN_SIZE,
    _check_characters,
    _check_db_args,
    _det_resize_shape,
    _validate_ctc_probs,
    _validate_image,
    _validate_norm,
    _validate_out,
    _validate_prob_map,
)


# --------------------------------------------------------------------------- pre-processing


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
    """Resize (PaddleX DetResizeForTest), normalise and transpose to a 1×3×h×w float32 tensor.

    Returns ``(tensor, ratio_h, ratio_w)`` with ``ratio = resized / original``. Channel order is
    kept (BGR), as PaddleOCR does. ``out`` may be a preallocated float32 buffer.
    """
    image = _validate_image(image)
    mean32, std32, scale32 = _validate_norm(mean, std, scale)
    h, w = image.shape[:2]
    resize_h, resize_w = _det_resize_shape(h, w, int(limit_side_len), limit_type, int(max_side_limit))
    resized = cv2.resize(image, (resize_w, resize_h))
    tensor = _validate_out(out, (1, 3, resize_h, resize_w))
    normalised = (resized.astype(np.float32) * scale32 - mean32) / std32
    tensor[0] = normalised.transpose(2, 0, 1)
    return tensor, resize_h / float(h), resize_w / float(w)


# Past this resized long side, the image is cut to its centre before resizing: only the centre crop
# is used, and a 256-px-high strip of a very long image would cost memory for nothing.
_CLASSIFY_MAX_RESIZED_LONG_SIDE = 2048


def _classify_resize_crop(image: np.ndarray, resize_short: int | None, crop_size: tuple[int, int]) -> np.ndarray:
    """PaddleX's ``ResizeImage(resize_short)`` (bilinear) + centre ``CropImage``: an h×w×3 uint8 crop.

    ``resize_short=None``: ``ResizeImage(size)``, the image stretched to ``crop_size`` (text line classifiers).
    """
    crop_h, crop_w = int(crop_size[0]), int(crop_size[1])
    if resize_short is None:
        if crop_h < 1 or crop_w < 1:
            raise InputError(f"crop_size must be positive, got {crop_size}.")
        return cv2.resize(image, (crop_w, crop_h), interpolation=cv2.INTER_LINEAR)
    if resize_short < 1 or crop_h < 1 or crop_w < 1:
        raise InputError(f"resize_short and crop_size must be positive, got {resize_short} and {crop_size}.")
    height, width = image.shape[:2]
    scale = resize_short / min(height, width)
    keep = int(math.ceil(_CLASSIFY_MAX_RESIZED_LONG_SIDE / scale))
    if width * scale > _CLASSIFY_MAX_RESIZED_LONG_SIDE and width > keep:
        left = (width - keep) // 2
        image = image[:, left:left + keep]
    if height * scale > _CLASSIFY_MAX_RESIZED_LONG_SIDE and height > keep:
        top = (height - keep) // 2
        image = image[top:top + keep]
    height, width = image.shape[:2]
    new_w, new_h = int(round(width * scale)), int(round(height * scale))
    resized = cv2.resize(image, (max(new_w, crop_w), max(new_h, crop_h)), interpolation=cv2.INTER_LINEAR)
    top = (resized.shape[0] - crop_h) // 2
    left = (resized.shape[1] - crop_w) // 2
    return resized[top:top + crop_h, left:left + crop_w]


def classify_preprocess(
    image: np.ndarray,
    resize_short: int | None = 256,
    crop_size: tuple[int, int] = (224, 224),
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
    scale: float = 1 / 255,
    rgb: bool = True,
) -> np.ndarray:
    """An image classifier's input (PaddleX's image classification pre-processing): 1×3×h×w float32.

    The short side is resized to ``resize_short`` (bilinear), the centre
    ``crop_size`` (height, width) is cut (``resize_short=None``: the image is
    resized to ``crop_size`` as a whole), channels turned to RGB when ``rgb``
    (PaddleX reads classifier inputs as RGB), normalised with scale/mean/std
    and transposed to NCHW.
    """
    image = _validate_image(image)
    mean32, std32, scale32 = _validate_norm(mean, std, scale)
    crop = _classify_resize_crop(image, None if resize_short is None else int(resize_short), crop_size)
    if rgb:
        crop = crop[:, :, ::-1]
    tensor = (crop.astype(np.float32) * scale32 - mean32) / std32
    return np.ascontiguousarray(tensor.transpose(2, 0, 1)[None])


def paddlex_affine(scale: float, mean, std) -> tuple[np.ndarray, np.ndarray]:
    """PaddleX's Normalize as float32 (alpha, beta) per channel: ``x * (scale / std) + (-mean / std)``."""
    alpha = np.array([scale / float(s) for s in std], np.float32)
    beta = np.array([-float(m) / float(s) for m, s in zip(mean, std)], np.float32)
    return alpha, beta


def paddlex_normalize(image: np.ndarray, scale: float, mean, std) -> np.ndarray:
    """An H×W×3 uint8 image → 3×H×W float32 with PaddleX's Normalize arithmetic (``image * alpha + beta``
    in float32, two roundings, as numpy computes it in PaddleX's processors), then HWC→CHW."""
    image = _validate_image(image)
    alpha, beta = paddlex_affine(scale, mean, std)
    return np.ascontiguousarray((image.astype(np.float32) * alpha + beta).transpose(2, 0, 1))


def _rec_target_width(crops: Sequence[np.ndarray], image_shape, dynamic_width: bool) -> tuple[int, int]:
    channels, height, width = (int(v) for v in image_shape)
    if channels != 3 or height < 1 or width < 1:
        raise InputError(f"image_shape must be (3, H, W) with H, W ≥ 1, got {tuple(image_shape)}.")
    if not dynamic_width:
        return height, width
    max_wh_ratio = width / height
    for crop in crops:
        max_wh_ratio = max(max_wh_ratio, crop.shape[1] / float(crop.shape[0]))
    return height, int(height * max_wh_ratio)


def _rec_resized_width(crop_h: int, crop_w: int, height: int, batch_w: int) -> int:
    """PaddleOCR resize_norm_img: ceil(H * w/h), capped at the batch width."""
    wanted = math.ceil(height * (crop_w / float(crop_h)))
    return batch_w if wanted > batch_w else int(wanted)


def rec_preprocess(
    crops: Sequence[np.ndarray],
    image_shape=(3, 48, 320),
    mean=(0.5, 0.5, 0.5),
    std=(0.5, 0.5, 0.5),
    scale: float = 1 / 255,
    dynamic_width: bool = True,
) -> np.ndarray:
    """Batch of text-line crops → N×3×H×W float32 (PaddleOCR resize_norm_img, right-padded with 0).

    With ``dynamic_width`` the batch width is ``int(H * max(W/H, widest crop's w/h))``.
    Textline orientation uses ``rec_preprocess(crops, (3, 48, 192), dynamic_width=False)``.
    """
    crops = [_validate_image(c, "crop") for c in crops]
    mean32, std32, scale32 = _validate_norm(mean, std, scale)
    height, batch_w = _rec_target_width(crops, image_shape, dynamic_width)
    batch = np.zeros((len(crops), 3, height, batch_w), dtype=np.float32)
    for i, crop in enumerate(crops):
        resized_w = _rec_resized_width(crop.shape[0], crop.shape[1], height, batch_w)
        resized = cv2.resize(crop, (resized_w, height))
        normalised = (resized.astype(np.float32) * scale32 - mean32) / std32
        batch[i, :, :, :resized_w] = normalised.transpose(2, 0, 1)
    return batch


def _crop_size(points: np.ndarray) -> tuple[int, int]:
    crop_w = int(max(np.linalg.norm(points[0] - points[1]), np.linalg.norm(points[2] - points[3])))
    crop_h = int(max(np.linalg.norm(points[0] - points[3]), np.linalg.norm(points[1] - points[2])))
    return crop_w, crop_h


def _validate_boxes(boxes) -> np.ndarray:
    boxes = np.asarray(boxes)
    if boxes.size == 0:
        return np.zeros((0, 4, 2), dtype=np.float32)
    if boxes.ndim != 3 or boxes.shape[1:] != (4, 2) or boxes.dtype.kind not in "fiu":
        raise InputError(f"boxes must be N×4×2 numbers, got shape {boxes.shape} dtype {boxes.dtype}.")
    boxes = boxes.astype(np.float32)
    if not np.all(np.isfinite(boxes)):
        raise InputError("boxes contain NaN or Inf coordinates.")
    return boxes


def _degenerate_crop(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    cx = int(min(max(points[:, 0].mean(), 0), w - 1))
    cy = int(min(max(points[:, 1].mean(), 0), h - 1))
    return image[cy : cy + 1, cx : cx + 1].copy()


def crop_text_regions(image: np.ndarray, boxes: np.ndarray) -> list[np.ndarray]:
    """Perspective-warp each quad to an upright crop (PP-OCR get_rotate_crop_image).

    Crops with ``h / w >= 1.5`` are rotated 90° counter-clockwise (``np.rot90``). A degenerate box
    (width or height below one pixel) yields a 1×1 crop of the pixel under its centre, so the
    output always has one crop per box, in order. Crops are C-contiguous uint8 BGR.
    """
    image = _validate_image(image)
    boxes = _validate_boxes(boxes)
    crops = []
    for points in boxes:
        crop_w, crop_h = _crop_size(points)
        if crop_w < 1 or crop_h < 1:
            crops.append(_degenerate_crop(image, points))
            continue
        target = np.float32([[0, 0], [crop_w, 0], [crop_w, crop_h], [0, crop_h]])
        matrix = cv2.getPerspectiveTransform(points, target)
        crop = cv2.warpPerspective(
            image, matrix, (crop_w, crop_h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
        )
        if crop.shape[0] * 1.0 / crop.shape[1] >= 1.5:
            crop = np.rot90(crop)
        crops.append(np.ascontiguousarray(crop))
    return crops


# --------------------------------------------------------------------------- DB post-processing


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
    """DB text-detection post-processing (PaddleOCR DBPostProcess + PaddleX filter_tag_det_res).

    ``prob`` is the h×w probability map. Returns ``(boxes, scores)``: for ``box_type="quad"``
    boxes is N×4×2 int32, clockwise from top-left, in original-image pixels, clipped to the image,
    boxes with a side ≤ 3 px dropped; for ``"poly"`` a list of K×2 int32 polygons. Only the first
    ``max_candidates`` contours are considered. A map with NaN/Inf raises InputError.
    """
    prob = _validate_prob_map(prob)
    _check_db_args(src_h, src_w, score_mode, box_type, max_candidates, unclip_ratio)
    src_h, src_w, max_candidates = int(src_h), int(src_w), int(max_candidates)
    if prob.size == 0 or max_candidates == 0:
        return ([], np.zeros((0,), np.float32)) if box_type == "poly" else _empty_quads()
    contours = _find_contours(_binarize(prob, thresh, use_dilation))
    if box_type == "poly":
        return _db_polys(prob, contours, src_h, src_w, box_thresh, max_candidates, unclip_ratio, score_mode)
    return _db_quads(prob, contours, src_h, src_w, box_thresh, max_candidates, unclip_ratio, score_mode)


# --------------------------------------------------------------------------- CTC


def build_ctc_characters(dict_lines: Sequence[str], use_space_char: bool = True) -> list[str]:
    """PP-OCR CTCLabelDecode's character list: ``["blank"] + dictionary (+ [" "])``."""
    characters = ["blank"]
    for line in dict_lines:
        if isinstance(line, bytes):
            line = line.decode("utf-8")
        characters.append(line.strip("\r\n"))
    if use_space_char:
        characters.append(" ")
    return characters


def ctc_decode(probs: np.ndarray, characters: Sequence[str]) -> list[tuple[str, float]]:
    """Greedy CTC decoding (PaddleOCR CTCLabelDecode): argmax per step, collapse repeats, drop blanks.

    The score is the mean max-probability of the kept steps (0.0 when nothing is kept).
    ``probs`` is N×T×C (a T×C array is a batch of one). NaN raises InputError.
    """
    probs = _validate_ctc_probs(probs)
    n, t, c = probs.shape
    if n == 0:
        return []
    if c == 0 and t > 0:
        raise InputError("CTC probabilities have 0 classes.")
    _check_characters(characters, c, t > 0)
    if np.isnan(probs).any():
        raise InputError("CTC probabilities contain NaN; the recognition model output is invalid.")
    if t == 0:
        return [("", 0.0)] * n
    indices = probs.argmax(axis=2)
    max_probs = probs.max(axis=2)
    results = []
    for b in range(n):
        keep = indices[b] != 0
        keep[1:] &= indices[b][1:] != indices[b][:-1]
        kept = indices[b][keep]
        text = "".join(characters[i] for i in kept)
        score = float(np.mean(max_probs[b][keep], dtype=np.float64)) if kept.size else 0.0
        results.append((text, score))
    return results
