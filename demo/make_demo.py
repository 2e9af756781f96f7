"""Render demo/demo.png: a small document the project draws itself (no copyrighted image).

Run: python demo/make_demo.py   (fonts: DejaVu from fonts-dejavu-core, WenQuanYi Micro Hei from
fonts-wqy-microhei for the Chinese line; Pillow's default font if missing).
"""

from __future__ import annotations

import glob
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

LINES = [
    ("Invoice No. 2026-1125", 34, "bold"),
    ("Date: 25 November 2026", 24, "regular"),
    ("Bill to: Example Corp, 17 Main Street", 24, "regular"),
    ("2 x Inference server license   1,200.00", 24, "mono"),
    ("1 x Support plan (12 months)     480.00", 24, "mono"),
    ("Total due: 1,680.00 EUR", 28, "bold"),
    ("高性能推理引擎", 30, "cjk"),
    ("Thank you for your business!", 24, "regular"),
]

FONTS = {
    "regular": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "bold": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "mono": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "cjk": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
}


def font(kind: str, size: int):
    found = glob.glob(FONTS[kind])
    return ImageFont.truetype(found[0], size) if found else ImageFont.load_default(size=size)


def render() -> Image.Image:
    image = Image.new("RGB", (760, 520), "white")
    draw = ImageDraw.Draw(image)
    y = 40
    for text, size, kind in LINES:
        draw.text((48, y), text, font=font(kind, size), fill=(25, 25, 25))
        y += int(size * 1.9)
    draw.line((48, y - 10, 712, y - 10), fill=(120, 120, 120), width=1)
    return image


if __name__ == "__main__":
    out = Path(__file__).with_name("demo.png")
    render().save(out)
    print(f"wrote {out}")
