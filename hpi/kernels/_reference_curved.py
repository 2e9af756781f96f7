"""Curved text rectification, pure Python (the reference of ``kernels/hpi_curved.c``).

A seal's text runs along an arc; its detection polygon is a bent band. The
band is straightened into an upright text line before recognition:

1. the closed polygon is resampled to points evenly spaced along its outline,
   :data:`STEPS_PER_HEIGHT` per band height (the band's height estimated as
   2 · area / perimeter), so an end of the band always spans several points;
2. the four sharpest turns of the outline are its corners (each the largest
   turn left after suppressing :data:`CORNER_SUPPRESS` points either side of
   the ones already taken; a point's turn is the angle between the outline
   :data:`TURN_SPAN` points before and after it); they cut the outline into four chains, and the
   opposite pair with the larger total length are the band's two long sides
   (the other two are its ends);
3. both sides are resampled to :data:`SIDE_POINTS` points from one end to the
   other; the side with the smaller mean y is the top of the text (PaddleX's
   rule), and both are reversed if the bottom is not on the right of the
   reading direction;
4. the output is ``round(mean side length)`` wide and ``round(mean distance
   between the sides)`` high; output column ``u`` maps to the point at the same
   fraction of each side's length, row ``v`` to the point between them, and
   the pixel is bilinearly sampled (borders replicated).

Every step is float64 arithmetic in a fixed order, written as the C kernel
does it, so the two agree exactly up to the final rounding (≤ 1 grey level).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ._validation import _validate_image

STEPS_PER_HEIGHT = 8  # outline resampling: points per band height
MIN_OUTLINE_POINTS = 32
MAX_OUTLINE_POINTS = 1024
TURN_SPAN = 2  # a point's turn is measured between the points this far before and after it
CORNER_SUPPRESS = 3  # points either side of a taken corner that cannot be another corner
SIDE_POINTS = 32  # points per long side

__all__ = ["rectify_curved_text", "remove_dark_ink"]


def _dist(dx: float, dy: float) -> float:
    # sqrt is correctly rounded everywhere (math.hypot is not the C library's): the C kernel matches it.
    return math.sqrt(dx * dx + dy * dy)


def _validate_polygon(polygon) -> np.ndarray:
    points = np.asarray(polygon, dtype=np.float64)
    if points.ndim == 3 and points.shape[1] == 1:
        points = points[:, 0, :]
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] < 4:
        raise InputError(
            f"rectify_curved_text expects a polygon of at least 4 (x, y) points (N×2), got shape "
            f"{getattr(np.asarray(polygon), 'shape', None)}."
        )
    if not np.all(np.isfinite(points)):
        raise InputError("rectify_curved_text: the polygon has non-finite coordinates.")
    return np.ascontiguousarray(points)


def _outline_count(points: np.ndarray, perimeter: float) -> int:
    """How many outline points: STEPS_PER_HEIGHT per band height (2 · area / perimeter), bounded."""
    n = len(points)
    area = 0.0
    for i in range(n):
        j = (i + 1) % n
        area += points[i, 0] * points[j, 1] - points[j, 0] * points[i, 1]
    area = abs(area) * 0.5
    height = 2.0 * area / perimeter if perimeter > 0 else 0.0
    if height <= 0:
        return MIN_OUTLINE_POINTS
    count = int(math.floor(STEPS_PER_HEIGHT * perimeter / height + 0.5))
    return min(max(count, MIN_OUTLINE_POINTS), MAX_OUTLINE_POINTS)


def _resample_closed(points: np.ndarray) -> list[tuple[float, float]]:
    """Points evenly spaced along the closed outline (:func:`_outline_count` of them), from its first point."""
    n = len(points)
    lengths = []
    total = 0.0
    for i in range(n):
        j = (i + 1) % n
        d = _dist(points[j, 0] - points[i, 0], points[j, 1] - points[i, 1])
        lengths.append(d)
        total += d
    count = _outline_count(points, total)
    out = []
    edge, walked = 0, 0.0
    for k in range(count):
        target = total * k / count
        while edge < n - 1 and walked + lengths[edge] < target:
            walked += lengths[edge]
            edge += 1
        j = (edge + 1) % n
        f = (target - walked) / lengths[edge] if lengths[edge] > 0 else 0.0
        f = min(max(f, 0.0), 1.0)
        out.append((points[edge, 0] + f * (points[j, 0] - points[edge, 0]),
                    points[edge, 1] + f * (points[j, 1] - points[edge, 1])))
    return out


def _corners(outline: list[tuple[float, float]]) -> list[int]:
    """Indices of the four sharpest turns, ascending."""
    m = len(outline)
    turns = []
    for i in range(m):
        px, py = outline[(i - TURN_SPAN) % m]
        cx, cy = outline[i]
        nx, ny = outline[(i + TURN_SPAN) % m]
        ax, ay, bx, by = cx - px, cy - py, nx - cx, ny - cy
        turns.append(abs(math.atan2(ax * by - ay * bx, ax * bx + ay * by)))
    taken: list[int] = []
    for _ in range(4):
        best, best_turn = -1, -1.0
        for i in range(m):
            if any(min((i - t) % m, (t - i) % m) <= CORNER_SUPPRESS for t in taken):
                continue
            if turns[i] > best_turn:
                best, best_turn = i, turns[i]
        taken.append(best)
    return sorted(taken)


def _chain(outline: list[tuple[float, float]], start: int, stop: int) -> list[tuple[float, float]]:
    """Outline points from index ``start`` to ``stop`` (inclusive), going forward around the outline."""
    m = len(outline)
    count = (stop - start) % m
    return [outline[(start + k) % m] for k in range(count + 1)]


def _length(line: list[tuple[float, float]]) -> float:
    total = 0.0
    for i in range(len(line) - 1):
        total += _dist(line[i + 1][0] - line[i][0], line[i + 1][1] - line[i][1])
    return total


def _resample_open(line: list[tuple[float, float]], count: int) -> list[tuple[float, float]]:
    """``count`` points evenly spaced along an open line, first and last included."""
    total = _length(line)
    out = []
    edge, walked = 0, 0.0
    for k in range(count):
        target = total * k / (count - 1)
        while edge < len(line) - 2:
            step = _dist(line[edge + 1][0] - line[edge][0], line[edge + 1][1] - line[edge][1])
            if walked + step >= target:
                break
            walked += step
            edge += 1
        step = _dist(line[edge + 1][0] - line[edge][0], line[edge + 1][1] - line[edge][1])
        f = (target - walked) / step if step > 0 else 0.0
        f = min(max(f, 0.0), 1.0)
        out.append((line[edge][0] + f * (line[edge + 1][0] - line[edge][0]),
                    line[edge][1] + f * (line[edge + 1][1] - line[edge][1])))
    return out


def _end_depth(end: list[tuple[float, float]], top: list, bottom: list, at_start: bool) -> float:
    """How far the band's end cap reaches beyond the line between its two corners (0 if it does not)."""
    if at_start:
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = top[0], top[1], bottom[0], bottom[1]
    else:
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = top[-1], top[-2], bottom[-1], bottom[-2]
    ux, uy = (ax - bx) + (cx - dx), (ay - by) + (cy - dy)  # outwards, along the sides
    norm = _dist(ux, uy)
    if norm <= 0:
        return 0.0
    ux, uy = ux / norm, uy / norm
    mx, my = 0.5 * (ax + cx), 0.5 * (ay + cy)
    depth = 0.0
    for qx, qy in end:
        reach = (qx - mx) * ux + (qy - my) * uy
        if reach > depth:
            depth = reach
    return depth


def _extended(line: list[tuple[float, float]], start: float, stop: float) -> list[tuple[float, float]]:
    """``line`` lengthened by ``start`` before its first point and ``stop`` after its last (along its end
    segments), resampled to SIDE_POINTS again."""
    (x0, y0), (x1, y1) = line[0], line[1]
    (xa, ya), (xb, yb) = line[-1], line[-2]
    first, last = _dist(x0 - x1, y0 - y1), _dist(xa - xb, ya - yb)
    head = [(x0 + (x0 - x1) / first * start, y0 + (y0 - y1) / first * start)] if first > 0 and start > 0 else []
    tail = [(xa + (xa - xb) / last * stop, ya + (ya - yb) / last * stop)] if last > 0 and stop > 0 else []
    return _resample_open(head + list(line) + tail, SIDE_POINTS)


def _sides(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(top, bottom): SIDE_POINTS×2 float64 each, from the start of the text to its end."""
    outline = _resample_closed(points)
    c = _corners(outline)
    m = len(outline)
    span = [(c[(j + 1) % 4] - c[j]) % m for j in range(4)]
    first = 0 if span[0] + span[2] >= span[1] + span[3] else 1  # chains first and first + 2 are the long sides
    one = _chain(outline, c[first], c[first + 1])
    other = _chain(outline, c[first + 2], c[(first + 3) % 4])[::-1]
    start_end = _chain(outline, c[(first + 3) % 4], c[first])  # joins the sides' first points
    stop_end = _chain(outline, c[first + 1], c[first + 2])  # joins their last points
    top = _resample_open(one, SIDE_POINTS)
    bottom = _resample_open(other, SIDE_POINTS)
    mean_top = mean_bottom = 0.0
    for k in range(SIDE_POINTS):
        mean_top += top[k][1]
        mean_bottom += bottom[k][1]
    if mean_top > mean_bottom:
        top, bottom = bottom, top
    # Reading direction: walking along the top, the bottom lies to the right (y grows downwards).
    cross = 0.0
    for k in range(SIDE_POINTS - 1):
        dx, dy = top[k + 1][0] - top[k][0], top[k + 1][1] - top[k][1]
        vx, vy = bottom[k][0] - top[k][0], bottom[k][1] - top[k][1]
        cross += dx * vy - dy * vx
    if cross < 0:
        top, bottom = top[::-1], bottom[::-1]
        start_end, stop_end = stop_end, start_end
    # The end caps reach beyond the corners (the first and last glyphs sit in them): the sides are lengthened
    # to take them in.
    start = _end_depth(start_end, top, bottom, True)
    stop = _end_depth(stop_end, top, bottom, False)
    top, bottom = _extended(top, start, stop), _extended(bottom, start, stop)
    return np.array(top, np.float64), np.array(bottom, np.float64)


def _output_size(top: np.ndarray, bottom: np.ndarray) -> tuple[int, int]:
    width = 0.5 * (_length([tuple(p) for p in top]) + _length([tuple(p) for p in bottom]))
    height = 0.0
    for k in range(SIDE_POINTS):
        height += _dist(bottom[k, 0] - top[k, 0], bottom[k, 1] - top[k, 1])
    height /= SIDE_POINTS
    return max(1, int(math.floor(width + 0.5))), max(1, int(math.floor(height + 0.5)))


def rectify_curved_text(image: np.ndarray, polygon) -> np.ndarray:
    """The text band ``polygon`` (N×2 points, N ≥ 4, in ``image`` pixels) straightened into an
    upright h×w×3 uint8 crop (see the module docstring for how)."""
    image = _validate_image(image)
    points = _validate_polygon(polygon)
    top, bottom = _sides(points)
    width, height = _output_size(top, bottom)
    # Per column: the point at the same fraction of each side (SIDE_POINTS samples, linear between).
    t = (np.arange(width, dtype=np.float64) + 0.5) * ((SIDE_POINTS - 1) / width)
    index = np.minimum(t.astype(np.int64), SIDE_POINTS - 2)
    frac = t - index
    top_x = top[index, 0] + frac * (top[index + 1, 0] - top[index, 0])
    top_y = top[index, 1] + frac * (top[index + 1, 1] - top[index, 1])
    bot_x = bottom[index, 0] + frac * (bottom[index + 1, 0] - bottom[index, 0])
    bot_y = bottom[index, 1] + frac * (bottom[index + 1, 1] - bottom[index, 1])
    s = ((np.arange(height, dtype=np.float64) + 0.5) / height)[:, None]
    x = top_x[None, :] + s * (bot_x - top_x)[None, :]
    y = top_y[None, :] + s * (bot_y - top_y)[None, :]
    return _bilinear(image, x, y)


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``image`` sampled at (x, y) (pixel centres at integer coordinates), borders replicated."""
    h, w = image.shape[:2]
    x = np.clip(x, 0.0, w - 1.0)
    y = np.clip(y, 0.0, h - 1.0)
    x0 = np.minimum(np.floor(x).astype(np.int64), w - 1)
    y0 = np.minimum(np.floor(y).astype(np.int64), h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    fx = (x - x0)[..., None]
    fy = (y - y0)[..., None]
    img = image.astype(np.float64)
    top = img[y0, x0] + fx * (img[y0, x1] - img[y0, x0])
    bottom = img[y1, x0] + fx * (img[y1, x1] - img[y1, x0])
    value = top + fy * (bottom - top)
    return np.ascontiguousarray(np.floor(value + 0.5).astype(np.uint8))


def remove_dark_ink(image: np.ndarray, max_value: int = 160, min_saturation: int = 70,
                    ink_min_value: int = 60) -> tuple[np.ndarray, float]:
    """``image`` with its dark, unsaturated pixels (black or grey print: body text, signatures, rules)
    turned white, and the share of stamp ink among the printed pixels.

    With ``v = max(b, g, r)`` and ``d = v - min(b, g, r)``, a pixel is saturated when
    ``d · 255 ≥ min_saturation · v`` (HSV saturation ≥ min_saturation / 255, in integers); it is dark
    print when ``v < max_value`` and not saturated, and stamp ink when saturated with ``v ≥ ink_min_value``.
    Returns ``(image without dark print, ink / (ink + dark print))`` (1.0 when neither is present).
    """
    image = _validate_image(image)
    channels = image.astype(np.int64)
    value = channels.max(axis=2)
    spread = value - channels.min(axis=2)
    saturated = spread * 255 >= min_saturation * value
    dark = (value < max_value) & ~saturated
    ink = saturated & (value >= ink_min_value)
    out = image.copy()
    out[dark] = 255
    ink_count, dark_count = int(ink.sum()), int(dark.sum())
    share = ink_count / (ink_count + dark_count) if ink_count + dark_count else 1.0
    return out, share
