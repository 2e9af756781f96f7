"""PaddleX's layout post-processing rules on NMS-ed detection rows, and the checks of their settings.

Rows are ``(class, score, x1, y1, x2, y2)`` in image pixels, as PaddleX's exported
detection models (and :func:`hpi.kernels.picodet_decode`) give them. The steps and their
order are PaddleX 3.7.2's ``DetPostProcess.apply``: score ``threshold`` (one number, or
per class id with 0.5 for the others) → ``layout_nms`` (IoU ≥ 0.6 within a class, ≥ 0.98
across classes; boxes then come best score first) → drop an ``image`` box covering most
of the page when other boxes exist → ``layout_merge_bboxes_mode`` (``large``: drop boxes
≥ 90% inside another; ``small``: drop boxes that hold another; ``union``: keep all;
per class id as a mapping) → ``layout_unclip_ratio`` (grow each box about its centre by
(width, height) factors) → clip to the image, drop empty boxes. At most ~100 rows: numpy
on N×N is all it needs.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..errors import ConfigError, did_you_mean

MERGE_MODES = ("union", "large", "small")


# ---------------------------------------------------------------------------------------------- settings

def _class_id(key: Any, label: str) -> int:
    """A per-class mapping's key: a class id (an int, or its digits as JSON gives them)."""
    if isinstance(key, bool):
        raise ConfigError(f"{label} has the key {key!r}; keys are class ids (0, 1, 2, ...).")
    if isinstance(key, (int, np.integer)):
        return int(key)
    if isinstance(key, str) and key.strip().isdigit():
        return int(key)
    raise ConfigError(f"{label} has the key {key!r}; keys are class ids (0, 1, 2, ...), as in PaddleX.")


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        value = float(value)
        return value if np.isfinite(value) else None
    return None


def check_threshold(value: Any, label: str = "threshold") -> float | dict[int, float] | None:
    """A score threshold in [0, 1], or ``{class id: threshold}``; None stays None."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            number = _number(item)
            if number is None or not 0.0 <= number <= 1.0:
                raise ConfigError(f"{label}[{key!r}] is {item!r}; a threshold must be a number in [0, 1].")
            out[_class_id(key, label)] = number
        return out
    number = _number(value)
    if number is None or not 0.0 <= number <= 1.0:
        raise ConfigError(f"{label} is {value!r}; it must be a number in [0, 1] or a mapping "
                          "{class id: threshold}.")
    return number


def _ratio_pair(value: Any, label: str) -> tuple[float, float]:
    number = _number(value)
    if number is not None:
        pair = (number, number)
    elif isinstance(value, (list, tuple)) and len(value) == 2 and all(_number(v) is not None for v in value):
        pair = (float(value[0]), float(value[1]))
    else:
        raise ConfigError(f"{label} is {value!r}; it must be a positive number or a [width, height] pair of them.")
    if min(pair) <= 0:
        raise ConfigError(f"{label} is {value!r}; unclip ratios must be positive (1.0 keeps a box as it is).")
    return pair


def check_unclip_ratio(value: Any, label: str = "layout_unclip_ratio"):
    """A positive number, a [width, height] pair or ``{class id: number or pair}``, as (w, h) pairs."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {_class_id(key, label): _ratio_pair(item, f"{label}[{key!r}]") for key, item in value.items()}
    return _ratio_pair(value, label)


def check_merge_mode(value: Any, label: str = "layout_merge_bboxes_mode") -> str | dict[int, str] | None:
    """``union``, ``large`` or ``small``, or ``{class id: mode}``."""
    if value is None:
        return None

    def one(mode: Any, where: str) -> str:
        if mode not in MERGE_MODES:
            hint = did_you_mean(mode, MERGE_MODES) if isinstance(mode, str) else ""
            raise ConfigError(f"{where} is {mode!r}{hint}; use one of {', '.join(MERGE_MODES)} (or a mapping "
                              "{class id: mode}).")
        return mode

    if isinstance(value, Mapping):
        return {_class_id(key, label): one(mode, f"{label}[{key!r}]") for key, mode in value.items()}
    return one(value, label)


def check_layout_nms(value: Any, label: str = "layout_nms") -> bool | None:
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    raise ConfigError(f"{label} is {value!r}; it must be True or False.")


# ---------------------------------------------------------------------------------------------- the rules

def _iou_plus_one(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """PaddleX's layout IoU: pixel-inclusive areas (+1 on each side)."""
    w = np.maximum(0.0, np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]) + 1)
    h = np.maximum(0.0, np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]) + 1)
    inter = w * h
    area = (box[2] - box[0] + 1) * (box[3] - box[1] + 1)
    areas = (others[:, 2] - others[:, 0] + 1) * (others[:, 3] - others[:, 1] + 1)
    return inter / (area + areas - inter)


def layout_nms(rows: np.ndarray, iou_same: float = 0.6, iou_diff: float = 0.98) -> np.ndarray:
    """Indices kept by PaddleX's layout NMS, best score first (a box goes when IoU ≥ the threshold)."""
    order = np.argsort(rows[:, 1], kind="stable")[::-1]
    coords = rows[:, 2:6].astype(np.float64)
    kept = []
    while order.size:
        best, order = order[0], order[1:]
        kept.append(best)
        if order.size:
            limit = np.where(rows[order, 0] == rows[best, 0], iou_same, iou_diff)
            order = order[_iou_plus_one(coords[best], coords[order]) < limit]
    return np.asarray(kept, dtype=np.int64)


def _containment(rows: np.ndarray, formula: int | None, category: int | None = None, mode: str | None = None):
    """PaddleX's check_containment: (contains_other, contained_by_other) flags, ≥ 90% of a box inside another."""
    n = len(rows)
    boxes = rows[:, 2:6].astype(np.float64)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    iw = np.maximum(0.0, np.minimum(boxes[:, None, 2], boxes[None, :, 2]) - np.maximum(boxes[:, None, 0],
                                                                                    boxes[None, :, 0]))
    ih = np.maximum(0.0, np.minimum(boxes[:, None, 3], boxes[None, :, 3]) - np.maximum(boxes[:, None, 1],
                                                                                    boxes[None, :, 1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(area[:, None] > 0, iw * ih / np.where(area[:, None] > 0, area[:, None], 1.0), 0.0)
    inside = share >= 0.9  # inside[i, j]: box i lies in box j
    np.fill_diagonal(inside, False)
    classes = rows[:, 0]
    if formula is not None:  # a formula is only compared with formulas
        inside &= ~((classes[:, None] == formula) & (classes[None, :] != formula))
    if category is not None and mode is not None:
        if mode == "large":
            inside &= classes[None, :] == category
        elif mode == "small":
            inside &= classes[:, None] == category
    return inside.any(axis=0).astype(int) if n else np.zeros(0, int), inside.any(axis=1).astype(int)


def _unclip(rows: np.ndarray, ratio) -> np.ndarray:
    out = rows.astype(np.float64).copy()
    for i, row in enumerate(out):
        pair = ratio.get(int(row[0])) if isinstance(ratio, dict) else ratio
        if pair is None:
            continue
        cx, cy = (row[2] + row[4]) / 2, (row[3] + row[5]) / 2
        half_w, half_h = (row[4] - row[2]) * pair[0] / 2, (row[5] - row[3]) * pair[1] / 2
        out[i, 2:6] = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    return out


def apply_layout_rules(rows: np.ndarray, image_wh: tuple[int, int], labels: tuple[str, ...],
                       threshold: float | dict[int, float], nms: bool, unclip_ratio,
                       merge_mode: str | dict[int, str] | None) -> list[dict]:
    """PaddleX's ``DetPostProcess.apply`` on checked settings: the boxes
    ``[{cls_id, label, score, coordinate: [x1, y1, x2, y2]}]`` (floats, clipped to the image)."""
    rows = np.asarray(rows, dtype=np.float32).reshape(-1, 6)
    if isinstance(threshold, dict):
        limits = np.array([threshold.get(int(c), 0.5) for c in rows[:, 0]], dtype=np.float32)
    else:
        limits = np.float32(threshold)
    rows = rows[(rows[:, 1] > limits) & (rows[:, 0] > -1)]
    if nms and len(rows):
        rows = rows[layout_nms(rows)]
    width, height = image_wh
    if len(rows) > 1 and "image" in labels:
        image_id = labels.index("image")
        limit = (0.82 if width > height else 0.93) * width * height
        clipped = np.clip(rows[:, 2:6], 0, [width, height, width, height])
        area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
        keep = (rows[:, 0] != image_id) | (area <= limit)
        rows = rows[keep] if keep.any() else rows
    if merge_mode and len(rows):
        formula = labels.index("formula") if "formula" in labels else None
        if isinstance(merge_mode, str):
            if merge_mode != "union":
                contains, contained = _containment(rows, formula)
                rows = rows[contained == 0] if merge_mode == "large" else rows[(contains == 0) | (contained == 1)]
        else:
            keep = np.ones(len(rows), bool)
            for category, mode in merge_mode.items():
                if mode == "union":
                    continue
                contains, contained = _containment(rows, formula, category, mode)
                keep &= (contained == 0) if mode == "large" else ((contains == 0) | (contained == 1))
            rows = rows[keep]
    if unclip_ratio is not None and len(rows):
        rows = _unclip(rows, unclip_ratio)
    boxes = []
    for row in rows:
        x1, y1 = max(0.0, float(row[2])), max(0.0, float(row[3]))
        x2, y2 = min(float(width), float(row[4])), min(float(height), float(row[5]))
        if x2 <= x1 or y2 <= y1:
            continue
        cls = int(row[0])
        label = labels[cls] if 0 <= cls < len(labels) else str(cls)
        boxes.append({"cls_id": cls, "label": label, "score": float(row[1]), "coordinate": [x1, y1, x2, y2]})
    return boxes


__all__ = ["MERGE_MODES", "apply_layout_rules", "check_layout_nms", "check_merge_mode", "check_threshold",
           "check_unclip_ratio", "layout_nms"]
