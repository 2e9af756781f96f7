"""Representative, deterministic model inputs (rendered text), for export checks and backend selection.

Text is drawn with OpenCV's built-in Hershey fonts so no font file is needed,
and normalised with the model's own mean/std, so the inputs look like what
the pipeline feeds: a page for detection, text lines for recognition and
orientation.
"""

from __future__ import annotations

import numpy as np

from .._deps import import_cv2
from .registry import ModelSpec
from .tasks import task_of

_LINES = (
    "Invoice 2026-11-25  total 1,234.50 EUR",
    "High performance inference engine",
    "The quick brown fox jumps over the lazy dog",
    "PP-OCRv4 mobile det / rec / cls",
    "Order #48213 shipped to 17 Main Street",
)


def render_page(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A white BGR uint8 page with several lines of dark text."""
    cv2 = import_cv2()
    rng = np.random.default_rng(seed)
    page = np.full((height, width, 3), 255, np.uint8)
    scale = max(0.4, min(height, width) / 700.0)
    step = int(40 * scale) + 8
    y = step
    index = 0
    while y < height - 8:
        text = _LINES[index % len(_LINES)]
        x = int(rng.integers(4, max(5, width // 10)))
        cv2.putText(page, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (20, 20, 20), max(1, int(2 * scale)), cv2.LINE_AA)
        y += step
        index += 1
    return page


def render_line(height: int, width: int, text: str = _LINES[0], upside_down: bool = False) -> np.ndarray:
    cv2 = import_cv2()
    line = np.full((height, width, 3), 255, np.uint8)
    scale = height / 40.0
    # Keep the glyphs as tall as a real line crop (the rec model sees text filling its 48 px):
    # drop words that do not fit rather than shrinking the text to a few unreadable pixels.
    while " " in text and cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)[0][0] > width - 4:
        text = text.rsplit(" ", 1)[0]
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    if tw > width - 4:
        scale *= (width - 4) / tw
    cv2.putText(line, text, (2, int(height * 0.72)), cv2.FONT_HERSHEY_SIMPLEX, scale, (10, 10, 10), 2, cv2.LINE_AA)
    if upside_down:
        line = np.ascontiguousarray(line[::-1, ::-1])
    return line


def normalize(image: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """BGR uint8 HWC → float32 1×C×H×W with the model's scale/mean/std (PaddleOCR order: BGR as is)."""
    x = image.astype(np.float32) * np.float32(spec.scale)
    x = (x - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


_WORDS = (
    "Invoice total 1,234.50 EUR paid on 2026-11-25 order #48213 shipped to 17 Main Street "
    "High performance inference engine for text detection and recognition The quick brown fox "
    "jumps over the lazy dog Customer reference 0042-7781 Page 3 of 12 Subtotal VAT 19% Due date"
).split()


def filled_line_text(width: int, height: int, seed: int) -> str:
    """Words (rotating through a fixed corpus) that fill about 85% of a ``width`` wide line."""
    cv2 = import_cv2()
    scale = height / 40.0
    words: list[str] = []
    index = seed * 7
    while True:
        candidate = " ".join(words + [_WORDS[index % len(_WORDS)]])
        (tw, _), _ = cv2.getTextSize(candidate, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        if words and tw > 0.85 * (width - 4):
            return " ".join(words)
        words.append(_WORDS[index % len(_WORDS)])
        index += 1
        if len(words) > 200:
            return " ".join(words)


def probe_input(spec: ModelSpec | None, shape: tuple[int, ...], seed: int = 0, *, fill_lines: bool = False) -> np.ndarray:
    """A realistic input of ``shape`` (N, 3, H, W) for ``spec``: what its task's row says to probe with.

    A rendered page (detection), text lines (recognition, orientation: every
    other line upside down where the row says so), or seeded noise for other
    and unknown models. ``fill_lines``: lines carry words that fill each line
    (the FP16 guard's inputs, see :func:`filled_line_text`) instead of the
    fixed probe sentences.
    """
    task = task_of(spec)
    if spec is None or task.probe == "noise":
        return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    fill = fill_lines and task.probe == "line" and len(shape) == 4
    n, _, h, w = shape
    items = []
    for i in range(n):
        if task.probe == "page":
            image = render_page(h, w, seed + i)
        else:
            # Upside-down lines only for the orientation classifier: for recognition they are noise
            # whose decoded text flips on tiny output changes, not what the pipeline feeds it.
            flip = task.probe_upside_down and i % 2 == 1
            text = filled_line_text(w, h, seed * n + i) if fill else _LINES[(seed + i) % len(_LINES)]
            image = render_line(h, w, text, upside_down=flip)
        items.append(normalize(image, spec))
    return np.concatenate(items, axis=0)
