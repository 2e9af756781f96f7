"""PDF pages → BGR images with pypdfium2, for both faces that read PDFs (:mod:`hpi.inputs`, the server).

PDFium is not thread-safe: every call into it (open, page size, render, close)
holds one process-wide lock, taken per operation so that a pipeline working on
one page never blocks another thread's PDF for longer than one render.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

PDF_RENDER_SCALE = 2.0  # PaddleX's (144 dpi)
PDF_MIN_RENDER_SCALE = 0.1
PDFIUM_LOCK = threading.RLock()


def render_scale(width_pt: float, height_pt: float, max_pixels: int) -> float | None:
    """PaddleX's render scale (2.0) unless the page would exceed ``max_pixels``; then the largest scale that
    fits, pixels counted as the renderer rounds them up. None when even 0.1 does not fit (or no size)."""
    if not (width_pt > 0 and height_pt > 0):
        return None

    def pixels(scale: float) -> int:
        return math.ceil(width_pt * scale) * math.ceil(height_pt * scale)

    if pixels(PDF_RENDER_SCALE) <= max_pixels:
        return PDF_RENDER_SCALE
    if pixels(PDF_MIN_RENDER_SCALE) > max_pixels:
        return None
    low, high = PDF_MIN_RENDER_SCALE, min(PDF_RENDER_SCALE, math.sqrt(max_pixels / (width_pt * height_pt)))
    for _ in range(32):
        middle = (low + high) / 2
        low, high = (middle, high) if pixels(middle) <= max_pixels else (low, middle)
    return low


class PDFError(Exception):
    """The PDF (or one of its pages) cannot be read; the message says why, without PDFium's noise."""


def _reason(exc: BaseException) -> str:
    # pypdfium2 raises PdfiumError; its text may carry a stale "(PDFium: Success)".
    return str(exc).replace(" (PDFium: Success)", "").strip() or type(exc).__name__


class PDFDocument:
    """An open PDF (a path or the file's bytes); a context manager that closes it."""

    def __init__(self, source: str | bytes) -> None:
        from ._deps import import_pypdfium2

        pdfium = import_pypdfium2()
        with PDFIUM_LOCK:
            try:
                self._document: Any = pdfium.PdfDocument(source)
            except Exception as exc:
                raise PDFError(f"not a readable PDF ({_reason(exc)})") from None
            self.num_pages = len(self._document)

    def page_size(self, index: int) -> tuple[float, float]:
        """(width, height) of page ``index`` in points."""
        with PDFIUM_LOCK:
            page = self._document[index]
            try:
                return tuple(page.get_size())
            finally:
                page.close()

    def render(self, index: int, scale: float, what: str = "") -> np.ndarray:
        """Page ``index`` rendered at ``scale`` as a contiguous BGR uint8 array (``what`` names it in errors)."""
        from .inputs import to_bgr

        with PDFIUM_LOCK:
            page = self._document[index]
            try:
                bitmap = page.render(scale=scale)
                pixels = bitmap.to_numpy()
                if bitmap.mode in ("RGB", "RGBA", "RGBX") and pixels.ndim == 3:
                    pixels = pixels[:, :, [2, 1, 0]]  # pdfium renders BGR by default; RGB only if asked
                elif pixels.ndim == 3 and pixels.shape[2] == 4:
                    pixels = pixels[:, :, :3]
                pixels = np.ascontiguousarray(pixels)
            except Exception as exc:
                raise PDFError(f"cannot be rendered ({_reason(exc)})") from None
            finally:
                page.close()
        return to_bgr(pixels, what or f"page {index}")

    def close(self) -> None:
        with PDFIUM_LOCK:
            self._document.close()

    def __enter__(self) -> "PDFDocument":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["PDFDocument", "PDFError", "PDFIUM_LOCK", "PDF_MIN_RENDER_SCALE", "PDF_RENDER_SCALE", "render_scale"]
