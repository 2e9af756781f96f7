"""Curled and folded pages for the unwarping tests: a rendered page bent by a known smooth field.

:func:`curl_page` puts a flat page on a darker desk, as a photo would show it, and bends it: the
text lines bow (a cylindrical curl whose depth grows towards the bottom of the page), the right
edge curls away (content there is compressed, as on a cylinder seen from above) and a fold across
the page kinks the lines. The field is smooth and known, applied with ``cv2.remap``.
"""

from __future__ import annotations

import cv2
import numpy as np

from rendering import PAGE_TEXTS, RenderedImage, render_lines

# Held-out style texts for the benchmark; the tests use PAGE_TEXTS and these first lines.
MORE_TEXTS = [
    "Order 88213 shipped to Rotterdam on Monday",
    "Balance carried forward 9,870.25 USD",
    "Please sign and return the second copy",
    "Warehouse B, shelf 14, bin 7",
    "Payment terms: thirty days net",
    "Reference code QX-4471-B",
    "Meeting moved to Thursday at 10:30",
    "All prices include value added tax",
    "Serial number 00418-77-2231",
    "Delivered by courier before noon",
    "Questions? Call 555 0134 any weekday",
    "Page two of three, continued overleaf",
]


def curl_page(page: np.ndarray, bow: float = 0.05, curl: float = 0.25, fold: float = 0.06, fold_at: float = 0.55,
              margin: float = 0.06, desk: int = 70, seed: int = 0) -> np.ndarray:
    """``page`` (H×W×3 BGR) curled and folded on a ``desk``-grey background, returned at the page's size.

    ``bow``: how far the text lines bow, as a share of the page height (at the bottom; 60% of it at the
    top). ``curl``: share of the width, at the right, that curls away (compressed to ~64%). ``fold``: the
    slope change of the lines at the fold (a vertical crease at ``fold_at`` of the width). ``margin``:
    desk visible around the page. ``seed`` shifts the bow's centre a little, so pages differ.
    """
    height, width = page.shape[:2]
    rng = np.random.default_rng(seed)
    centre = 0.5 + rng.uniform(-0.08, 0.08)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    # photo → page region coordinates in [0, 1]
    s = (xs / (width - 1) - margin) / (1 - 2 * margin)
    t = (ys / (height - 1) - margin) / (1 - 2 * margin)
    # the right edge curls away: page u → photo s compresses as sin on a cylinder
    u = s
    if curl > 0:
        start = 1.0 - curl
        radius = curl / 0.8  # the curled part, seen from above, is 80% of the cylinder's radius wide
        beyond = np.clip((s - start) / radius, -1.0, 0.999)
        u = np.where(s > start, start + radius * np.arcsin(beyond), s)
    # lines bow (deeper towards the bottom) and kink at the fold (a smoothed hinge)
    depth = bow * (0.6 + 0.4 * np.clip(t, 0, 1))
    hinge = 0.02 * np.logaddexp(0.0, (u - fold_at) / 0.02)
    v = t - depth * ((u - centre) ** 2 * 4 - 0.3) - fold * hinge
    map_x = (u * (width - 1)).astype(np.float32)
    map_y = (v * (height - 1)).astype(np.float32)
    return cv2.remap(page, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=(desk, desk, desk))


def flat_photo(page: np.ndarray, margin: float = 0.06, desk: int = 70) -> np.ndarray:
    """``page`` flat on the desk (no bending): the control for :func:`curl_page`."""
    return curl_page(page, bow=0.0, curl=0.0, fold=0.0, margin=margin, desk=desk)


def text_page(texts: list[str], font: str, size: int = 26) -> RenderedImage:
    """A page of ``texts`` (one per line) with room around them, portrait-ish as a document."""
    return render_lines(texts, font, size=size, margin=40, spacing=2.0)


def lines_read(result, texts: list[str]) -> float:
    """Share of ``texts`` found exactly (whitespace ignored) among the result's recognised lines."""
    read = {"".join(t.split()) for t in result.rec_texts}
    return sum("".join(t.split()) in read for t in texts) / max(1, len(texts))


__all__ = ["MORE_TEXTS", "PAGE_TEXTS", "curl_page", "flat_photo", "lines_read", "text_page"]
