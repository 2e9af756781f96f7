"""PaddleX's v1 layout parsing blocks: layout boxes filled with OCR lines, tables and seals, in reading order.

The rules are PaddleX 3.7.2's ``layout_parsing/pipeline.py`` (``get_layout_parsing_res``) and
``utils.py`` (``get_sub_regions_ocr_res``, ``sorted_layout_boxes``):

- an OCR line belongs to a layout box when they overlap by more than 3 px in both x and y;
- a ``table`` block holds its table's HTML, a ``seal`` block its texts joined by ", ", a
  ``formula`` block its LaTeX; every other block the lines it overlaps, joined by newlines;
- a line overlapping several boxes makes each of those boxes be read again on its own
  (PaddleX: the page whitened outside the box; hpi: the box on a white margin, the same
  pixels around the text without detecting a whole white page) so that no text is shared;
- lines outside every box become ``other_text`` blocks;
- reading order: by top edge then left edge, with two-column pages read column by column
  (a box starting in the left quarter and ending before 3/5 of the width is left, one
  starting right of 2/5 is right; a full-width box ends the columns above it).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def overlapping_lines(rec_boxes: np.ndarray, region) -> list[int]:
    """Indices of the OCR lines (x1, y1, x2, y2 rows) overlapping ``region`` by more than 3 px each way."""
    boxes = np.asarray(rec_boxes, dtype=np.float64).reshape(-1, 4)
    if not len(boxes):
        return []
    x1 = np.maximum(region[0], boxes[:, 0])
    y1 = np.maximum(region[1], boxes[:, 1])
    x2 = np.minimum(region[2], boxes[:, 2])
    y2 = np.minimum(region[3], boxes[:, 3])
    return [int(i) for i in np.nonzero(((x2 - x1) > 3) & ((y2 - y1) > 3))[0]]


# White margin around a box read on its own: DB detection needs background around the text.
REGION_MARGIN = 32


def region_alone(image: np.ndarray, box) -> np.ndarray:
    """The box's pixels on a white margin (what PaddleX's whitened page holds near the box)."""
    height, width = image.shape[:2]
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(width, int(box[2])), min(height, int(box[3]))
    out = np.full((max(1, y2 - y1) + 2 * REGION_MARGIN, max(1, x2 - x1) + 2 * REGION_MARGIN, 3), 255, np.uint8)
    if x2 > x1 and y2 > y1:
        out[REGION_MARGIN:REGION_MARGIN + y2 - y1, REGION_MARGIN:REGION_MARGIN + x2 - x1] = image[y1:y2, x1:x2]
    return out


def sorted_layout_boxes(blocks: list[dict], width: int) -> list[dict]:
    """PaddleX's reading order of blocks (``block_bbox`` x1, y1, x2, y2) on a page ``width`` px wide."""
    if len(blocks) == 1:
        return blocks
    ordered = sorted(blocks, key=lambda b: (b["block_bbox"][1], b["block_bbox"][0]))
    out: list[dict] = []
    left: list[dict] = []
    right: list[dict] = []
    for block in ordered:
        x1, _, x2, _ = block["block_bbox"][:4]
        if x1 < width / 4 and x2 < 3 * width / 5:
            left.append(block)
        elif x1 > 2 * width / 5:
            right.append(block)
        else:
            out += left + right + [block]
            left, right = [], []
    out += sorted(left, key=lambda b: b["block_bbox"][1])
    out += sorted(right, key=lambda b: b["block_bbox"][1])
    return out


def parsing_blocks(image: np.ndarray, layout_boxes: Sequence[dict], ocr_boxes: np.ndarray, ocr_texts: Sequence[str],
                   table_html: dict[int, str], seal_texts: dict[int, list[str]], formula_latex: dict[int, str],
                   read_region: Callable[[np.ndarray], list[str]]) -> list[dict]:
    """PaddleX's ``parsing_res_list`` of one page.

    ``table_html``/``seal_texts``/``formula_latex`` map a layout box's index to what its
    table, seal or formula was read as (a box missing from them stays empty, as in PaddleX
    when that recognition is off). ``read_region(page)`` OCRs a whitened copy of the page
    and returns its texts (for lines shared by several boxes).
    """
    ocr_boxes = np.asarray(ocr_boxes).reshape(-1, 4)
    blocks: list[dict] = []
    owners: dict[int, list[int]] = {}
    for index, box in enumerate(layout_boxes):
        label = str(box["label"]).lower()
        block = {"block_bbox": box["coordinate"], "block_label": label, "block_content": ""}
        if label == "formula":
            block["block_content"] = formula_latex.get(index, "")
        elif label == "table":
            block["block_content"] = table_html.get(index, "")
        elif label == "seal":
            block["block_content"] = ", ".join(seal_texts.get(index, []))
        else:
            matched = overlapping_lines(ocr_boxes, box["coordinate"])
            for line in matched:
                owners.setdefault(line, []).append(index)
            block["block_content"] = "\n".join(ocr_texts[i] for i in matched)
        blocks.append(block)
    reread: set[int] = set()
    for shared in owners.values():
        if len(shared) > 1:
            reread.update(shared)
    for index in sorted(reread):
        blocks[index]["block_content"] = "\n".join(read_region(region_alone(image, blocks[index]["block_bbox"])))
    covered: set[int] = set()
    for box in layout_boxes:
        covered.update(overlapping_lines(ocr_boxes, box["coordinate"]))
    for i in range(len(ocr_boxes)):
        if i not in covered:
            blocks.append({"block_bbox": ocr_boxes[i], "block_label": "other_text", "block_content": ocr_texts[i]})
    return sorted_layout_boxes(blocks, image.shape[1])


__all__ = ["overlapping_lines", "parsing_blocks", "region_alone", "sorted_layout_boxes"]
