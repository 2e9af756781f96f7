"""Reference implementations of every kernel, in numpy / OpenCV / pyclipper.

These define the semantics (PaddleOCR / PaddleX pre- and post-processing) that the
compiled kernels in ``kernels/*.pyx`` must reproduce; the test suite compares the two.
``HPI_PURE_PYTHON=1`` makes the engine use these everywhere.

Input handling shared with the compiled faces lives here too (``_validate_*``), so both
backends accept and reject exactly the same inputs.
"""

from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np
import pyclipper

from ..errors import InputError

__all__ = [
    "build_ctc_characters",
    "classify_preprocess",
    "crop_text_regions",
    "ctc_decode",
    "db_decode",
    "det_preprocess",
    "rec_preprocess",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DB_MIN_SIZE = 3  # PaddleOCR DBPostProcess.min_size


# --------------------------------------------------------------------------- validation


def _validate_image(image, what: str = "image") -> np.ndarray:
    """An H×W×3 uint8 C-contiguous BGR image; gray and BGRA are converted."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"{what} must be a numpy array, got {type(image).__name__}.")
    if image.dtype != np.uint8:
        raise InputError(
            f"{what} must be uint8 (as cv2.imread returns), got dtype {image.dtype}; "
            "convert it with np.clip(x, 0, 255).astype(np.uint8)."
        )
    if image.ndim == 2:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = cv2.cvtColor(np.ascontiguousarray(image[:, :, 0]), cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGRA2BGR)
    elif not (image.ndim == 3 and image.shape[2] == 3):
        raise InputError(f"{what} must be H×W×3 (BGR), H×W (gray) or H×W×4 (BGRA), got shape {image.shape}.")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise InputError(f"{what} is empty (shape {image.shape}); it needs at least 1×1 pixels.")
    return np.ascontiguousarray(image)


def _validate_norm(mean, std, scale) -> tuple[np.ndarray, np.ndarray, np.float32]:
    mean32 = np.asarray(mean, dtype=np.float32).reshape(-1)
    std32 = np.asarray(std, dtype=np.float32).reshape(-1)
    if mean32.size != 3 or std32.size != 3:
        raise InputError(f"mean and std need 3 values (one per channel), got {mean!r} and {std!r}.")
    if not np.all(np.isfinite(std32)) or np.any(std32 == 0) or not np.all(np.isfinite(mean32)):
        raise InputError(f"std must be finite and non-zero and mean finite, got mean={mean!r} std={std!r}.")
    return mean32, std32, np.float32(scale)


def _det_resize_shape(h: int, w: int, limit_side_len: int, limit_type: str, max_side_limit: int) -> tuple[int, int]:
    """PaddleX DetResizeForTest (resize_image_type0): the network input size (h, w)."""
    if limit_side_len <= 0 or max_side_limit <= 0:
        raise InputError(f"limit_side_len and max_side_limit must be positive, got {limit_side_len}, {max_side_limit}.")
    if limit_type == "max":
        ratio = float(limit_side_len) / max(h, w) if max(h, w) > limit_side_len else 1.0
    elif limit_type == "min":
        ratio = float(limit_side_len) / min(h, w) if min(h, w) < limit_side_len else 1.0
    else:
        raise InputError(f"limit_type must be 'max' or 'min', got {limit_type!r}.")
    resize_h, resize_w = int(h * ratio), int(w * ratio)
    if max(resize_h, resize_w) > max_side_limit:
        ratio = float(max_side_limit) / max(resize_h, resize_w)
        resize_h, resize_w = int(resize_h * ratio), int(resize_w * ratio)
    # Python's round() (half to even), as PaddleX does.
    resize_h = max(int(round(resize_h / 32) * 32), 32)
    resize_w = max(int(round(resize_w / 32) * 32), 32)
    return resize_h, resize_w


def _validate_out(out, shape: tuple[int, ...]) -> np.ndarray:
    if out is None:
        return np.empty(shape, dtype=np.float32)
    if not isinstance(out, np.ndarray) or out.dtype != np.float32 or not out.flags.c_contiguous or not out.flags.writeable:
        raise InputError("out must be a writeable C-contiguous float32 numpy array.")
    if out.shape != shape:
        if out.size >= math.prod(shape):
            # A larger preallocated buffer is fine: use its head.
            return out.reshape(-1)[: math.prod(shape)].reshape(shape)
        raise InputError(f"out has shape {out.shape} but the resized image needs {shape}.")
    return out


def _validate_prob_map(prob) -> np.ndarray:
    """A 2-D float32 C-contiguous map; 1×1×h×w and 1×h×w are squeezed."""
    if not isinstance(prob, np.ndarray):
        raise InputError(f"the probability map must be a numpy array, got {type(prob).__name__}.")
    while prob.ndim > 2 and prob.shape[0] == 1:
        prob = prob[0]
    if prob.ndim != 2:
        raise InputError(f"the probability map must be h×w (or 1×1×h×w), got shape {prob.shape}.")
    if prob.dtype.kind not in "fiu":
        raise InputError(f"the probability map must be real numbers, got dtype {prob.dtype}.")
    prob = np.ascontiguousarray(prob, dtype=np.float32)
    return prob


def _check_db_args(src_h, src_w, score_mode, box_type, max_candidates, unclip_ratio) -> None:
    if int(src_h) < 1 or int(src_w) < 1:
        raise InputError(f"src_h and src_w must be ≥ 1, got {src_h}×{src_w}.")
    if score_mode not in ("fast", "slow"):
        raise InputError(f"score_mode must be 'fast' or 'slow', got {score_mode!r}.")
    if box_type not in ("quad", "poly"):
        raise InputError(f"box_type must be 'quad' or 'poly', got {box_type!r}.")
    if int(max_candidates) < 0:
        raise InputError(f"max_candidates must be ≥ 0, got {max_candidates}.")
    if not math.isfinite(unclip_ratio) or unclip_ratio < 0:
        raise InputError(f"unclip_ratio must be finite and ≥ 0, got {unclip_ratio}.")


def _validate_ctc_probs(probs) -> np.ndarray:
    if not isinstance(probs, np.ndarray):
        raise InputError(f"CTC probabilities must be a numpy array, got {type(probs).__name__}.")
    if probs.ndim == 2:
        probs = probs[None]
    if probs.ndim != 3:
        raise InputError(f"CTC probabilities must be N×T×C, got shape {probs.shape}.")
    if probs.dtype.kind != "f":
        raise InputError(f"CTC probabilities must be floating point, got dtype {probs.dtype}.")
    return np.ascontiguousarray(probs, dtype=np.float32)


def _check_characters(characters: Sequence[str], num_classes: int, has_steps: bool) -> None:
    if has_steps and num_classes > len(characters):
        raise InputError(
            f"the model outputs {num_classes} classes but the character list has only {len(characters)} "
            "entries; build it with build_ctc_characters(dict_lines, use_space_char=True) from the model's dictionary."
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


def _classify_resize_crop(image: np.ndarray, resize_short: int, crop_size: tuple[int, int]) -> np.ndarray:
    """PaddleX's ``ResizeImage(resize_short)`` (bilinear) + centre ``CropImage``: an h×w×3 uint8 crop."""
    crop_h, crop_w = int(crop_size[0]), int(crop_size[1])
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
    resize_short: int = 256,
    crop_size: tuple[int, int] = (224, 224),
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
    scale: float = 1 / 255,
    rgb: bool = True,
) -> np.ndarray:
    """An image classifier's input (PaddleX's image classification pre-processing): 1×3×h×w float32.

    The short side is resized to ``resize_short`` (bilinear), the centre
    ``crop_size`` (height, width) is cut, channels turned to RGB when ``rgb``
    (PaddleX reads classifier inputs as RGB), normalised with scale/mean/std
    and transposed to NCHW.
    """
    image = _validate_image(image)
    mean32, std32, scale32 = _validate_norm(mean, std, scale)
    crop = _classify_resize_crop(image, int(resize_short), crop_size)
    if rgb:
        crop = crop[:, :, ::-1]
    tensor = (crop.astype(np.float32) * scale32 - mean32) / std32
    return np.ascontiguousarray(tensor.transpose(2, 0, 1)[None])


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
