"""The font results are drawn with: $HPI_FONT, else a CJK-capable system font (never downloaded)."""

from __future__ import annotations

import glob
import logging
import os
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

# CJK-capable fonts from common Linux packages first (fonts-wqy-microhei, fonts-noto-cjk, ...).
_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


@lru_cache(maxsize=1)
def find_font() -> str | None:
    """A font for drawing recognised text: $HPI_FONT, then a CJK-capable system font, then DejaVu."""
    env = os.environ.get("HPI_FONT")
    if env and Path(env).is_file():
        return env
    for pattern in _FONT_CANDIDATES:
        found = glob.glob(pattern)
        if found:
            return found[0]
    log.warning(
        "No CJK-capable font found for drawing OCR results; Chinese text will show as boxes. "
        "Install one (Debian/Ubuntu: apt-get install fonts-wqy-microhei) or set HPI_FONT=/path/to/font.ttf."
    )
    return None
