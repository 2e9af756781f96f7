"""Document pages rendered by the tests, with the regions drawn on them (layout detection and parsing).

A page holds a centred title, paragraphs of text, a ruled table and a figure (a bar
chart); each region's box is known exactly. Fonts come from Debian packages (see
``rendering.py``); the words are invented, so no copyrighted text or image is used.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from rendering import iou, latin_fonts, load_font  # noqa: F401 (iou: re-exported for the layout tests)

WORDS = (
    "the of and to in is that for it with as was on be by this are from at or an which have not has but can "
    "all their more one were been other data system model results table layout page region value report"
).split()


@dataclass
class Region:
    label: str  # CDLA's name: title, text, table, figure
    box: tuple[int, int, int, int]  # x1, y1, x2, y2
    text: str = ""  # what is written in it (lines joined by spaces); tables: "" (see cells)
    cells: list[list[str]] = field(default_factory=list)  # tables: rows of cell texts


@dataclass
class Page:
    image: np.ndarray  # BGR uint8
    regions: list[Region]

    def of(self, label: str) -> list[Region]:
        return [r for r in self.regions if r.label == label]


def _fonts():
    fonts = latin_fonts()
    regular = next((f for f in fonts if f.endswith("DejaVuSans.ttf")), fonts[0] if fonts else None)
    bold = next((f for f in fonts if f.endswith("DejaVuSans-Bold.ttf")), regular)
    return regular, bold


def render_page(seed: int = 0, width: int = 1240, height: int = 1754, title: str = "Layout Analysis",
                paragraphs: tuple[int, ...] = (5, 4, 3), table: tuple[int, int] | None = (5, 4),
                figure: bool = True, words_per_line: int = 12) -> Page:
    """An A4-like page at 150 dpi: title, paragraph, table, paragraph, figure, paragraph (as given)."""
    rng = random.Random(seed)
    regular, bold = _fonts()
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    regions: list[Region] = []
    margin, y = 110, 100
    if title:
        font = load_font(bold, 48)
        x = (width - draw.textlength(title, font=font)) / 2
        box = draw.textbbox((x, y), title, font=font)
        draw.text((x, y), title, font=font, fill="black")
        regions.append(Region("title", tuple(int(v) for v in box), title))
        y = box[3] + 50
    body = load_font(regular, 22)

    def paragraph(y: int, lines: int) -> int:
        top, right, texts = y, 0, []
        for _ in range(lines):
            line = " ".join(rng.choice(WORDS) for _ in range(words_per_line)).capitalize()
            box = draw.textbbox((margin, y), line, font=body)
            draw.text((margin, y), line, font=body, fill="black")
            right, y = max(right, box[2]), box[3] + 10
            texts.append(line)
        regions.append(Region("text", (margin, top, right, y - 10), " ".join(texts)))
        return y - 10 + 40

    blocks = list(paragraphs)
    if blocks:
        y = paragraph(y, blocks.pop(0))
    if table:
        rows, cols = table
        cell_w, cell_h = min(240, (width - 2 * margin) // cols), 44
        cells = [[f"Col {c + 1}" for c in range(cols)]]
        cells += [[str(rng.randint(10, 9999)) for _ in range(cols)] for _ in range(rows - 1)]
        for r in range(rows + 1):
            draw.line([(margin, y + r * cell_h), (margin + cols * cell_w, y + r * cell_h)], fill="black", width=2)
        for c in range(cols + 1):
            draw.line([(margin + c * cell_w, y), (margin + c * cell_w, y + rows * cell_h)], fill="black", width=2)
        for r in range(rows):
            for c in range(cols):
                draw.text((margin + c * cell_w + 12, y + r * cell_h + 10), cells[r][c], font=body, fill="black")
        regions.append(Region("table", (margin, y, margin + cols * cell_w, y + rows * cell_h), cells=cells))
        y += rows * cell_h + 50
    if blocks:
        y = paragraph(y, blocks.pop(0))
    if figure:
        fx, fw, fh = margin + 150, 700, 380
        draw.rectangle([fx, y, fx + fw, y + fh], outline="black", width=2)
        for i in range(6):
            bar = rng.randint(60, 340)
            draw.rectangle([fx + 40 + i * 110, y + fh - bar, fx + 110 + i * 110, y + fh - 2], fill=(60, 110, 200))
        regions.append(Region("figure", (fx, y, fx + fw, y + fh)))
        y += fh + 40
    for lines in blocks:
        y = paragraph(y, lines)
    return Page(np.ascontiguousarray(np.asarray(img)[:, :, ::-1]), regions)


def blank_page(width: int = 1240, height: int = 1754) -> np.ndarray:
    return np.full((height, width, 3), 255, np.uint8)


def best_iou(region: Region, boxes: list[dict], label: str | None = None) -> float:
    """The highest IoU of ``region`` with a detected box (of ``label``, default the region's own)."""
    label = label or region.label
    scores = [iou(region.box, b["coordinate"]) for b in boxes if b["label"] == label]
    return max(scores, default=0.0)
