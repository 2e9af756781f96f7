"""Seal regions of a page, found by stamp-ink colour: hpi's stand-in for a layout model's ``seal`` class.

PaddleX finds seals with PP-DocLayout-L's ``seal`` class, whose weights are
not on PyPI; the layout model hpi has (PicoDet CDLA, 10 classes) has no seal
class. Stamps are printed in saturated ink (red, sometimes blue or purple)
on paper whose text is black or grey, so the seal regions are the large,
compact connected regions of saturated pixels. Each becomes one box labelled
``seal`` in PaddleX's layout result form, and is cropped for seal text
detection exactly as a layout box would be.

Everything per pixel here is one vectorised OpenCV or numpy call (colour
conversion, threshold, morphology, connected components, per-region sums).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Pixels with HSV saturation and value at least this (0-255) are stamp ink; black, grey and white are not.
INK_MIN_SATURATION = 70
INK_MIN_VALUE = 60
# Ink strokes of one seal are joined by a closing this large, relative to the page's short side.
CLOSE_FRACTION = 0.02
# A seal region is at least this large (pixels, each side) and at most this elongated.
MIN_SIDE = 40
MAX_ASPECT = 3.0
# Crops get this much margin (of the box size) on each side, as layout boxes enclose the whole seal.
MARGIN = 0.06
NESTED = 0.8  # a region this much inside a larger one is part of it
SEAL_LABEL = "seal"
# PaddleX's layout box keys are kept, with values that say what found the region: no layout model ran, so
# cls_id is the one class of this ink-colour finder (not PP-DocLayout-L's id 16 for seal), and score is
# the share of the region's printed pixels that are stamp ink (not a detector's confidence).
SEAL_CLASS_ID = 0


@dataclass(frozen=True)
class SealRegion:
    """A seal's box (x1, y1, x2, y2; integer pixels, end exclusive) and its score."""

    box: tuple[int, int, int, int]
    score: float

    def as_paddlex(self) -> dict:
        """PaddleX's layout box keys: ``cls_id`` 0 (this finder's one class), ``label`` ``seal``, ``score``
        the region's stamp-ink share, ``coordinate``."""
        return {"cls_id": SEAL_CLASS_ID, "label": SEAL_LABEL, "score": self.score,
                "coordinate": [float(v) for v in self.box]}


def find_seal_regions(image: np.ndarray, threshold: float = 0.5, unclip_ratio: float = 1.0) -> list[SealRegion]:
    """The seal regions of a BGR uint8 page, largest first.

    ``score``: the share of the region's printed pixels (ink or dark) that are
    stamp ink, so a red seal over black text scores lower than one on blank
    paper; regions below ``threshold`` are dropped. ``unclip_ratio`` scales
    each box about its centre (PaddleX's ``layout_unclip_ratio``; 1.0 keeps it).
    """
    height, width = image.shape[:2]
    if height < MIN_SIDE or width < MIN_SIDE:
        return []
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    ink = ((hsv[:, :, 1] >= INK_MIN_SATURATION) & (hsv[:, :, 2] >= INK_MIN_VALUE)).astype(np.uint8)
    if not ink.any():
        return []
    printed = (hsv[:, :, 2] < 160) | ink.astype(bool)  # dark or ink: what was printed on the paper
    size = max(3, int(round(min(height, width) * CLOSE_FRACTION)) | 1)
    joined = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    regions = []
    for label in range(1, count):
        x, y, w, h, _ = (int(v) for v in stats[label])
        if min(w, h) < MIN_SIDE or max(w, h) > MAX_ASPECT * min(w, h):
            continue
        ink_count = int(ink[y:y + h, x:x + w].sum())
        printed_count = int(printed[y:y + h, x:x + w].sum())
        score = ink_count / printed_count if printed_count else 0.0
        if score < threshold:
            continue
        grow = (unclip_ratio - 1.0) / 2.0 + MARGIN
        x1 = max(0, int(round(x - w * grow)))
        y1 = max(0, int(round(y - h * grow)))
        x2 = min(width, int(round(x + w + w * grow)))
        y2 = min(height, int(round(y + h + h * grow)))
        regions.append(SealRegion((x1, y1, x2, y2), round(float(score), 4)))
    regions.sort(key=lambda r: _area(r.box), reverse=True)
    # A seal's inner parts (star, bottom line) are their own components inside its ring: one seal, one region.
    kept: list[SealRegion] = []
    for region in regions:
        if not any(_inside(region.box, other.box) >= NESTED for other in kept):
            kept.append(region)
    return kept


def _area(box: tuple[int, int, int, int]) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def _inside(box: tuple[int, int, int, int], other: tuple[int, int, int, int]) -> float:
    """The share of ``box`` that lies inside ``other``."""
    w = min(box[2], other[2]) - max(box[0], other[0])
    h = min(box[3], other[3]) - max(box[1], other[1])
    return (max(0, w) * max(0, h)) / _area(box) if _area(box) else 1.0


def crop_region(image: np.ndarray, region: SealRegion) -> np.ndarray:
    """The region's pixels (a copy, C-contiguous), as PaddleX's CropByBoxes gives them."""
    x1, y1, x2, y2 = region.box
    return np.ascontiguousarray(image[y1:y2, x1:x2])


__all__ = ["SEAL_LABEL", "SealRegion", "crop_region", "find_seal_regions"]
