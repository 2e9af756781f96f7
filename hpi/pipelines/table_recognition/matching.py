"""Cells ↔ OCR boxes → HTML: PaddleX's table_recognition post-processing (v1), per-box work in kernels.

Semantics from PaddleX 3.7.2 ``table_recognition_post_processing.py``: the
OCR lines inside a table region (overlap > 3 px both ways), cell polygons
moved into page coordinates and clipped, each OCR line matched to one cell
(:func:`hpi.kernels.match_cells_ocr`), texts written into the ``<td>`` tokens
in order.
"""

from __future__ import annotations

import numpy as np

from ... import kernels


def _overlaps(rec_boxes: np.ndarray, region: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(x overlap, y overlap) in px of each OCR box with ``region`` (negative: the gap between them)."""
    boxes = np.asarray(rec_boxes).reshape(-1, 4)
    x1, y1, x2, y2 = region
    return (np.minimum(x2, boxes[:, 2]) - np.maximum(x1, boxes[:, 0]),
            np.minimum(y2, boxes[:, 3]) - np.maximum(y1, boxes[:, 1]))


def overlapping_lines(rec_boxes: np.ndarray, region: tuple[int, int, int, int]) -> np.ndarray:
    """Indices of the OCR boxes that overlap ``region`` by more than 3 px in x and in y (PaddleX)."""
    width, height = _overlaps(rec_boxes, region)
    return np.nonzero((width > 3) & (height > 3))[0].astype(np.int64)


def neighbour_lines(rec_boxes: np.ndarray, region: tuple[int, int, int, int]) -> np.ndarray:
    """Indices of the OCR lines just above a table (PaddleX's ``get_neighbor_boxes_idx``: its caption)."""
    width, height = _overlaps(rec_boxes, region)
    return np.nonzero((width > 0) & (height < 3) & (height > -15))[0].astype(np.int64)


def cell_boxes_on_page(polygons: np.ndarray, offset: tuple[int, int], page_hw: tuple[int, int]) -> np.ndarray:
    """8-point cell polygons of a crop → (x1, y1, x2, y2) on the page, clipped to it (int32)."""
    if not len(polygons):
        return np.zeros((0, 4), np.int32)
    points = np.asarray(polygons, np.int64).reshape(-1, 4, 2) + np.asarray(offset, np.int64)
    boxes = np.concatenate([points.min(axis=1), points.max(axis=1)], axis=1)
    height, width = page_hw
    return np.clip(boxes, 0, [width, height, width, height]).astype(np.int32)


def _y_overlaps(a: tuple[float, float], b: tuple[float, float], threshold: float) -> bool:
    overlap = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    min_height = min(a[1] - a[0], b[1] - b[0])
    return min_height > 0 and overlap / min_height > threshold


def sort_by_y_projection(boxes: list, threshold: float = 0.7) -> list[int]:
    """Reading order of boxes inside one cell: lines by vertical overlap, left to right in a line (PaddleX)."""
    if not boxes:
        return []
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][1])
    lines, current = [], [order[0]]
    span = (boxes[order[0]][1], boxes[order[0]][3])
    for index in order[1:]:
        box = boxes[index]
        if _y_overlaps(span, (box[1], box[3]), threshold):
            current.append(index)
            span = (min(span[0], box[1]), max(span[1], box[3]))
        else:
            lines.append(current)
            current, span = [index], (box[1], box[3])
    lines.append(current)
    return [i for line in lines for i in sorted(line, key=lambda j: boxes[j][0])]


def match_lines_to_cells(cell_boxes: np.ndarray, line_boxes: np.ndarray, sort_by_y: bool = False) -> dict[int, list[int]]:
    """Cell index → the indices of the lines it holds, in line order (or y-projection order)."""
    assigned = kernels.match_cells_ocr(cell_boxes, line_boxes)
    matched: dict[int, list[int]] = {}
    for line, cell in enumerate(assigned.tolist()):
        if cell >= 0:
            matched.setdefault(cell, []).append(line)
    if sort_by_y:
        for cell, lines in matched.items():
            order = sort_by_y_projection([list(line_boxes[i]) for i in lines])
            matched[cell] = [lines[i] for i in order]
    return matched


def html_with_texts(structure: list[str], matched: dict[int, list[int]], texts: list[str]) -> str:
    """PaddleX's ``get_html_result``: the structure tokens with each cell's texts written in.

    Several lines in one cell are joined with a space; a leading space and
    ``<b>`` markers are stripped from each, and ``<b>…</b>`` wraps the cell
    when its first line had one.
    """
    out = list(structure[:3])
    cell = 0
    for tag in structure[3:-3]:
        if "</td>" not in tag:
            out.append(tag)
            continue
        if tag == "<td></td>":
            out.append("<td>")
        lines = matched.get(cell)
        if lines:
            bold = "<b>" in texts[lines[0]] and len(lines) > 1
            if bold:
                out.append("<b>")
            for position, line in enumerate(lines):
                content = texts[line]
                if len(lines) > 1:
                    if not content:
                        continue
                    if content[0] == " ":
                        content = content[1:]
                    if "<b>" in content:
                        content = content[3:]
                    if "</b>" in content:
                        content = content[:-4]
                    if not content:
                        continue
                    if position != len(lines) - 1 and content[-1] != " ":
                        content += " "
                out.append(content)
            if bold:
                out.append("</b>")
        out.append("</td>" if tag == "<td></td>" else tag)
        cell += 1
    out.extend(structure[-3:])
    return "".join(out)


__all__ = ["cell_boxes_on_page", "html_with_texts", "match_lines_to_cells", "neighbour_lines", "overlapping_lines",
           "sort_by_y_projection"]
