"""Rendered seals (stamps) with known text, over rendered document pages (no copyrighted images).

A seal is what Chinese contracts and invoices carry: a red ring, the
organisation's name along the inside of the ring (upper arc, reading
clockwise), a star in the middle and a short horizontal line below it
("合同专用章", "CONTRACT SEAL"). :func:`render_seal` draws one on a page
of black body text (or on white), with the ink multiplied onto the page
the way a stamp is. The arc text and the bottom line are the ground truth.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from rendering import cjk_font, latin_fonts, load_font

RED = (205, 30, 35)  # RGB

LATIN_WORDS = (
    "GLOBAL", "TRADING", "NORTH", "RIVER", "STAR", "UNION", "PACIFIC", "GREEN", "FIELD", "METRO", "ATLAS",
    "SILVER", "HARBOR", "SUMMIT", "PRIME", "DELTA", "OMEGA", "NOVA", "EAST", "WEST", "BRIGHT", "OCEAN",
)
LATIN_SUFFIXES = ("CO LTD", "LIMITED", "GROUP", "INC", "CORP")
LATIN_BOTTOM = ("CONTRACT", "FINANCE", "OFFICIAL", "INVOICE", "APPROVED")
CJK_PLACES = ("北京", "上海", "深圳", "杭州", "南京", "成都", "武汉", "西安", "广州", "天津")
CJK_WORDS = ("星河", "华信", "长城", "远航", "东方", "新源", "金桥", "嘉禾", "明德", "恒通", "瑞丰", "海纳")
CJK_TRADES = ("科技", "贸易", "电子", "建设", "物流", "实业", "文化", "医药")
CJK_BOTTOM = ("合同专用章", "财务专用章", "发票专用章", "公章")
BODY_TEXT = (
    "This agreement is made between the parties named below.",
    "Payment is due within thirty days of the invoice date.",
    "Both parties agree to the terms and conditions above.",
    "Signed and sealed on behalf of the company.",
)


@dataclass
class RenderedSeal:
    image: np.ndarray  # BGR uint8
    arc_text: str
    bottom_text: str
    box: tuple[int, int, int, int]  # the seal's x1, y1, x2, y2 on the page
    texts: list[str] = field(default_factory=list)  # the ground truth: arc text, then the bottom line


def random_seal_text(rng: random.Random, chinese: bool) -> tuple[str, str]:
    """(arc text, bottom line) for a made-up organisation."""
    if chinese:
        return (rng.choice(CJK_PLACES) + rng.choice(CJK_WORDS) + rng.choice(CJK_TRADES) + "有限公司",
                rng.choice(CJK_BOTTOM))
    first, second = rng.sample(LATIN_WORDS, 2)
    return f"{first} {second} {rng.choice(LATIN_SUFFIXES)}", rng.choice(LATIN_BOTTOM)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float, fill) -> None:
    points = []
    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.4
        a = -math.pi / 2 + k * math.pi / 5
        points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    draw.polygon(points, fill=fill)


def _draw_arc_text(layer: Image.Image, text: str, font, cx: float, cy: float, radius: float,
                   max_span_deg: float) -> None:
    """Characters along the upper arc of a circle, each turned to the tangent, reading clockwise."""
    advances = [max(font.getlength(ch), font.size * 0.35) for ch in text]
    gap = font.size * 0.12
    total = sum(advances) + gap * (len(text) - 1)
    span = total / radius  # radians the text covers at this radius
    squeeze = min(1.0, math.radians(max_span_deg) / span)
    angle = -math.pi / 2 - span * squeeze / 2  # start on the left, go clockwise over the top
    for ch, advance in zip(text, advances):
        step = (advance + gap) * squeeze / radius
        centre_angle = angle + advance * squeeze / radius / 2
        angle += step
        if ch == " ":
            continue
        size = int(font.size * 1.6)
        glyph = Image.new("L", (size, size), 0)
        ImageDraw.Draw(glyph).text((size / 2, size / 2), ch, fill=255, font=font, anchor="mm")
        # The glyph's top points away from the centre: turned by the tangent angle.
        turned = glyph.rotate(-math.degrees(centre_angle + math.pi / 2), resample=Image.BICUBIC)
        x = cx + radius * math.cos(centre_angle) - size / 2
        y = cy + radius * math.sin(centre_angle) - size / 2
        layer.paste(255, (round(x), round(y)), turned)


def seal_ink(diameter: int, arc_text: str, bottom_text: str, *, chinese: bool, rng: random.Random,
             ellipse: float = 1.0) -> Image.Image:
    """The seal's ink as an L image (255 = full ink), ``diameter`` wide, ``diameter * ellipse`` high."""
    size = diameter
    layer = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(layer)
    c = size / 2
    ring = max(4, size // 32)
    draw.ellipse((ring / 2, ring / 2, size - ring / 2, size - ring / 2), outline=255, width=ring)
    font_path = cjk_font() if chinese else rng.choice([p for p in latin_fonts() if "Bold" in p] or latin_fonts())
    arc_size = int(size * (0.115 if chinese else 0.095))
    font = load_font(font_path, arc_size)
    _draw_arc_text(layer, arc_text, font, c, c, c - ring - arc_size * 0.85, 250 if chinese else 240)
    _star(draw, c, c, size * 0.15, 255)
    bottom_font = load_font(font_path, int(size * 0.085))
    draw.text((c, c + size * 0.27), bottom_text, fill=255, font=bottom_font, anchor="mm")
    if ellipse != 1.0:
        layer = layer.resize((size, max(8, round(size * ellipse))), Image.BICUBIC)
    return layer


def render_seal(arc_text: str, bottom_text: str, *, chinese: bool = False, seed: int = 0, diameter: int = 300,
                page: bool = True, page_size: tuple[int, int] = (800, 900), ellipse: float = 1.0,
                angle: float = 0.0, colour: tuple[int, int, int] = RED) -> RenderedSeal:
    """A red seal with ``arc_text`` along its ring and ``bottom_text`` below the star, on a page of black
    body text (``page``) or on white; ``angle`` turns the whole seal (degrees, counter-clockwise); ``colour``:
    the ink (RGB)."""
    rng = random.Random(seed)
    width, height = page_size
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    ink = seal_ink(diameter, arc_text, bottom_text, chinese=chinese, rng=rng, ellipse=ellipse)
    if angle:
        ink = ink.rotate(angle, resample=Image.BICUBIC, expand=True)
    x0 = rng.randint(width // 2 - ink.width // 2 - 60, width // 2 - ink.width // 2 + 60)
    y0 = rng.randint(height - ink.height - 120, height - ink.height - 40)
    if page:
        # Body text above the seal (its last line touching the ring), and the signature line through the
        # seal's middle, as a stamp sits over where the contract is signed.
        draw = ImageDraw.Draw(canvas)
        body = load_font(latin_fonts()[0] if latin_fonts() else None, 18)
        y = 40
        while y < y0 + ink.height * 0.08:
            draw.text((40, y), rng.choice(BODY_TEXT), fill=(20, 20, 20), font=body)
            y += 34
        sign_y = y0 + ink.height // 2 - 10
        draw.text((40, sign_y), "Signed for and on behalf of the seller:", fill=(20, 20, 20), font=body)
        draw.line((40, sign_y + 30, width - 40, sign_y + 30), fill=(40, 40, 40), width=1)
    # Uneven ink: a stamp never prints every pixel at full strength.
    strength = np.asarray(ink, np.float32) / 255.0
    noise = np.random.default_rng(seed).uniform(0.75, 1.0, strength.shape).astype(np.float32)
    strength *= noise
    page_rgb = np.asarray(canvas, np.float32)
    region = page_rgb[y0:y0 + ink.height, x0:x0 + ink.width]
    tint = np.array(colour, np.float32) / 255.0
    # A stamp multiplies its colour onto the paper: black text under it stays black.
    factor = 1.0 - strength[..., None] * (1.0 - tint)
    page_rgb[y0:y0 + ink.height, x0:x0 + ink.width] = region * factor
    image = np.ascontiguousarray(np.clip(page_rgb, 0, 255).astype(np.uint8)[:, :, ::-1])
    return RenderedSeal(image, arc_text, bottom_text, (x0, y0, x0 + ink.width, y0 + ink.height),
                        [arc_text, bottom_text])


BLUE = (30, 60, 200)  # RGB


def seal_set(count: int, seed: int, max_angle: float = 10.0, colour: tuple[int, int, int] = RED) -> list[RenderedSeal]:
    """``count`` seals with made-up names, half Chinese when the CJK font exists, varied size and shape,
    turned by up to ``max_angle`` degrees."""
    rng = random.Random(seed)
    seals = []
    for k in range(count):
        chinese = cjk_font() is not None and k % 2 == 1
        arc_text, bottom = random_seal_text(rng, chinese)
        seals.append(render_seal(
            arc_text, bottom, chinese=chinese, seed=seed * 1000 + k, diameter=rng.choice((260, 300, 340)),
            page=rng.random() < 0.7, ellipse=rng.choice((1.0, 1.0, 0.85)), angle=rng.uniform(-max_angle, max_angle),
            colour=colour,
        ))
    return seals


def normalize(text: str) -> str:
    return "".join(text.split())
