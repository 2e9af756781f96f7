"""Rendered test images with exact ground truth (no copyrighted images).

Fonts come from Debian packages: fonts-dejavu-core (Latin) and
fonts-wqy-microhei (Chinese); Pillow's default font is the last resort.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

LATIN_FONT_GLOBS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)
CJK_FONT_GLOBS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


def iou(a, b) -> float:
    """Intersection over union of two axis-aligned boxes [x1, y1, x2, y2]."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@lru_cache(maxsize=None)
def latin_fonts() -> tuple[str, ...]:
    return tuple(p for g in LATIN_FONT_GLOBS for p in glob.glob(g))


@lru_cache(maxsize=None)
def cjk_font() -> str | None:
    for pattern in CJK_FONT_GLOBS:
        found = glob.glob(pattern)
        if found:
            return found[0]
    return None


@lru_cache(maxsize=64)
def load_font(path: str | None, size: int):
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size)


@dataclass
class Line:
    text: str
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in the final image (axis-aligned bound)


@dataclass
class RenderedImage:
    image: np.ndarray  # BGR uint8, like cv2.imread
    lines: list[Line] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]


def _to_bgr(img: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(img.convert("RGB"))[:, :, ::-1])


def render_lines(
    texts: list[str],
    font_path: str | None = None,
    size: int = 28,
    width: int | None = None,
    margin: int = 30,
    spacing: float = 1.9,
    columns: int = 1,
    background: int = 255,
    ink: int = 20,
) -> RenderedImage:
    """A page with one text line per entry of ``texts`` (in ``columns`` columns)."""
    font = load_font(font_path, size)
    per_column = -(-len(texts) // columns)
    widths = [int(font.getlength(t)) for t in texts] or [0]
    col_width = max(widths) + 2 * margin
    width = width or col_width * columns
    height = int(per_column * size * spacing) + 2 * margin
    img = Image.new("L", (width, height), background)
    draw = ImageDraw.Draw(img)
    lines = []
    for i, text in enumerate(texts):
        col, row = divmod(i, per_column)
        x = margin + col * col_width
        y = margin + int(row * size * spacing)
        draw.text((x, y), text, font=font, fill=ink)
        x1, y1, x2, y2 = draw.textbbox((x, y), text, font=font)
        lines.append(Line(text, (x1, y1, x2, y2)))
    return RenderedImage(_to_bgr(img), lines)


def render_receipt(
    items: list[tuple[str, str | None]], font_path: str | None, size: int, width: int, step: int,
) -> RenderedImage:
    """A narrow receipt: each item's name on the left and its price right-aligned, as separate lines."""
    font = load_font(font_path, size)
    img = Image.new("L", (width, 40 + len(items) * step), 250)
    draw = ImageDraw.Draw(img)
    lines = []
    for i, (left, right) in enumerate(items):
        y = 24 + i * step
        draw.text((24, y), left, font=font, fill=10)
        lines.append(Line(left, draw.textbbox((24, y), left, font=font)))
        if right:
            x = width - 24 - int(font.getlength(right))
            draw.text((x, y), right, font=font, fill=10)
            lines.append(Line(right, draw.textbbox((x, y), right, font=font)))
    return RenderedImage(_to_bgr(img), lines)


def render_single_line(text: str, font_path: str | None = None, size: int = 32, pad: int = 8,
                       upside_down: bool = False, angle: float = 0.0) -> RenderedImage:
    """A tight crop of one text line (for rec/cls tests)."""
    font = load_font(font_path, size)
    w = int(font.getlength(text)) + 2 * pad
    h = int(size * 1.5) + 2 * pad
    img = Image.new("L", (w, h), 255)
    ImageDraw.Draw(img).text((pad, pad), text, font=font, fill=15)
    if angle:
        img = img.rotate(angle, expand=True, fillcolor=255, resample=Image.BICUBIC)
    if upside_down:
        img = img.rotate(180)
    return RenderedImage(_to_bgr(img), [Line(text, (0, 0, img.width, img.height))])


def rotate_page(rendered: RenderedImage, angle: float) -> RenderedImage:
    """Rotate a whole page by a few degrees (ground-truth texts kept; boxes become bounds)."""
    img = Image.fromarray(rendered.image[:, :, ::-1])
    rotated = img.rotate(angle, expand=True, fillcolor=(255, 255, 255), resample=Image.BICUBIC)
    # Transform box corners to the rotated frame.
    cx, cy = img.width / 2, img.height / 2
    ncx, ncy = rotated.width / 2, rotated.height / 2
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    lines = []
    for line in rendered.lines:
        x1, y1, x2, y2 = line.box
        corners = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], float) - (cx, cy)
        # PIL rotates counter-clockwise for positive angles, y axis down.
        xs = corners[:, 0] * cos + corners[:, 1] * sin + ncx
        ys = -corners[:, 0] * sin + corners[:, 1] * cos + ncy
        lines.append(Line(line.text, (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))))
    return RenderedImage(_to_bgr(rotated), lines)


# "OCR" once only: the PP-OCRv4 rec model often reads its capital C as "c" in DejaVu fonts
# (RapidOCR with the same weights does too); one such line per page keeps that weakness visible
# without letting one token dominate the measured accuracy.
PAGE_TEXTS = [
    "High performance inference for OCR pipelines",
    "Invoice number 2026-1125 issued on November 25",
    "Total amount due: 1,234.50 EUR",
    "The quick brown fox jumps over the lazy dog",
    "Shipping address: 17 Main Street, Springfield",
    "Contact support at help@example.com",
    "Detection and recognition on two CPU cores",
    "Thank you for your order",
]

CHINESE_TEXTS = [
    "高性能推理引擎",
    "文本检测与识别",
    "发票金额合计人民币",
    "欢迎使用飞桨",
]

RECEIPT_TEXTS = [
    "SUPERMARKET 24",
    "Milk 1L          1.29",
    "Bread            2.49",
    "Apples 1kg       3.10",
    "Coffee beans     8.99",
    "TOTAL           15.87",
    "CASH            20.00",
    "CHANGE           4.13",
]
