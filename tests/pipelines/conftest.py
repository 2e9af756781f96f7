"""OCR pipeline fixtures: the default pipeline, created once per test module."""

from __future__ import annotations

import pytest

from rendering import RenderedImage, iou


@pytest.fixture(scope="module")
def ocr_pipeline():
    """The default pipeline (backend auto), with textline orientation enabled. Per module, not per session:
    the runtimes keep the memory of the largest input a model has seen (ONNX Runtime's arena, OpenVINO's
    caches) until the model is closed, and a session-long pipeline would carry the largest page of every
    module (1.1 GB after the huge-PDF test alone)."""
    from hpi import create_pipeline

    pipeline = create_pipeline("OCR", device="cpu", use_textline_orientation=True)
    yield pipeline
    pipeline.close()


def normalize_text(text: str) -> str:
    """Whitespace is ignored: the PP-OCRv4 (Chinese + English) rec model often drops spaces between
    English words, and RapidOCR with the same model does the same (README, "Limits")."""
    return "".join(text.split())


def match_lines(result, rendered: RenderedImage, min_iou: float = 0.3):
    """Match ground-truth lines to recognised lines by box overlap.

    Returns (detection recall, share of ground-truth lines read exactly, list of mismatches).
    """
    boxes = [tuple(map(float, b)) for b in result.rec_boxes]
    texts = list(result.rec_texts)
    found = exact = 0
    mismatches = []
    for line in rendered.lines:
        scores = [iou(line.box, box) for box in boxes]
        if not scores or max(scores) < min_iou:
            mismatches.append((line.text, None))
            continue
        found += 1
        best = texts[scores.index(max(scores))]
        if normalize_text(best) == normalize_text(line.text):
            exact += 1
        else:
            mismatches.append((line.text, best))
    total = max(1, len(rendered.lines))
    return found / total, exact / total, mismatches
