"""OCR on rendered images with known text: ≥95% of lines exactly right, detection recall ≥ 0.98."""

from __future__ import annotations

import numpy as np
import pytest

from rendering import (
    CHINESE_TEXTS, PAGE_TEXTS, Line, RenderedImage, cjk_font, latin_fonts, render_lines,
    render_receipt, render_single_line, rotate_page,
)

from .conftest import match_lines


def _receipt(font: str) -> RenderedImage:
    """A narrow receipt: items on the left, prices right-aligned, as separate text regions."""
    items = [("SUPERMARKET 24", None), ("Milk 1L", "1.29"), ("Bread", "2.49"), ("Apples 1kg", "3.10"),
             ("Coffee beans", "8.99"), ("TOTAL", "15.87"), ("CASH", "20.00"), ("CHANGE", "4.13")]
    return render_receipt(items, font, size=26, width=420, step=50)


def _cases() -> list[tuple[str, RenderedImage]]:
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts (Debian package fonts-dejavu-core) to render test images")
    cases = []
    for i, font in enumerate(fonts[:3]):
        size = (24, 30, 36)[i]
        cases.append((f"page-{i}", render_lines(PAGE_TEXTS, font, size=size)))
    cases.append(("two-column", render_lines(PAGE_TEXTS, fonts[0], size=22, columns=2)))
    cases.append(("rotated+4", rotate_page(render_lines(PAGE_TEXTS[:5], fonts[0], size=28), 4)))
    cases.append(("rotated-5", rotate_page(render_lines(PAGE_TEXTS[3:], fonts[0], size=28), -5)))
    cases.append(("receipt", _receipt(fonts[-1])))
    cjk = cjk_font()
    if cjk:
        cases.append(("chinese", render_lines(CHINESE_TEXTS, cjk, size=32)))
    return cases


@pytest.fixture(scope="module")
def accuracy(ocr_pipeline):
    rows = []
    for name, rendered in _cases():
        result = next(ocr_pipeline.predict(rendered.image))
        recall, exact, mismatches = match_lines(result, rendered)
        rows.append((name, len(rendered.lines), recall, exact, mismatches))
    return rows


def test_detection_recall(accuracy):
    total = sum(n for _, n, *_ in accuracy)
    found = sum(n * recall for _, n, recall, _, _ in accuracy)
    assert found / total >= 0.98, [(name, recall, mism) for name, _, recall, _, mism in accuracy]


def test_lines_exactly_right(accuracy):
    total = sum(n for _, n, *_ in accuracy)
    exact = sum(n * e for _, n, _, e, _ in accuracy)
    assert exact / total >= 0.95, [(name, e, mism) for name, _, _, e, mism in accuracy if mism]


def test_every_case_mostly_right(accuracy):
    # No single kind of document may be broken even if the total passes.
    for name, n, recall, exact, mismatches in accuracy:
        assert recall >= 0.85 and exact >= 0.7, (name, recall, exact, mismatches)


@pytest.mark.smoke
def test_upside_down_lines_need_textline_orientation(ocr_pipeline):
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test images")
    texts = ["Upside down line of text", "Another inverted sentence 42"]
    page = render_lines(texts, fonts[0], size=30)
    flipped = RenderedImage(np.ascontiguousarray(page.image[::-1, ::-1]), [])
    h, w = page.image.shape[:2]
    for line in page.lines:
        x1, y1, x2, y2 = line.box
        flipped.lines.append(Line(line.text, (w - x2, h - y2, w - x1, h - y1)))
    with_cls = next(ocr_pipeline.predict(flipped.image, use_textline_orientation=True))
    recall, exact, mismatches = match_lines(with_cls, flipped)
    assert recall == 1.0 and exact == 1.0, mismatches
    assert all(angle == 1 for angle in with_cls.textline_orientation_angles)
    without = next(ocr_pipeline.predict(flipped.image, use_textline_orientation=False))
    assert without.textline_orientation_angles == [-1] * len(without.rec_texts) or all(
        a == -1 for a in without.textline_orientation_angles
    )
    _, exact_without, _ = match_lines(without, flipped)
    assert exact_without < 1.0  # the classifier is what makes these lines readable


@pytest.mark.smoke
def test_single_line_crop(ocr_pipeline):
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test images")
    line = render_single_line("Single line crop 2026", fonts[0], size=30)
    result = next(ocr_pipeline.predict(line.image))
    assert ["".join(t.split()) for t in result.rec_texts] == ["Singlelinecrop2026"]
