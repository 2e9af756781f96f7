"""Predictors keep their inputs inside a runner's shape limits (TensorRT profiles), on the real models."""

from __future__ import annotations

import numpy as np
import pytest

from hpi.backends.onnxruntime import OnnxRuntimeRunner
from hpi.predictors import TextDetector, TextRecognizer
from hpi.predictors.text_detection import DetParams
from hpi.predictors.text_recognition import load_characters
from rendering import latin_fonts, render_lines, render_single_line


class LimitedRunner(OnnxRuntimeRunner):
    """ONNX Runtime with a TensorRT-like max shape: it records every input and refuses larger ones."""

    limit: tuple[int, ...] = ()

    def max_input_shape(self, name=None):
        return self.limit

    def _infer_impl(self, feed):
        shape = next(iter(feed.values())).shape
        assert all(s <= m for s, m in zip(shape, self.limit)), (shape, self.limit)
        self.seen.append(shape)
        return super()._infer_impl(feed)


@pytest.fixture
def det_runner(det_model):
    runner = LimitedRunner(det_model, threads=2)
    runner.limit, runner.seen = (1, 3, 640, 640), []
    with runner:
        yield runner


def test_detector_clamps_long_side(det_runner, det_model):
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test images")
    page = render_lines(["Clamped to the engine's largest profile"] * 3, fonts[0], size=60).image
    page = np.ascontiguousarray(np.concatenate([page, page], axis=1))  # wider than 640 px
    detector = TextDetector(det_runner, det_model.spec)
    boxes, _ = detector.predict(page, DetParams(64, "min", 4000, 0.3, 0.6, 2.0))
    assert max(det_runner.seen[-1][2:]) <= 640
    assert len(boxes) >= 3  # still finds the lines, in original-image coordinates
    assert boxes[:, :, 0].max() > 640


def test_recognizer_bounds_batch_and_squeezes_wide_lines(rec_model):
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test images")
    characters = load_characters(rec_model.extra_files["dict"])
    runner = LimitedRunner(rec_model, threads=2)
    runner.limit, runner.seen = (2, 3, 48, 640), []
    with runner:
        recognizer = TextRecognizer(runner, rec_model.spec, characters, batch_size=6)
        crops = [render_single_line(text, fonts[0], size=30).image for text in
                 ("short", "a medium line 42", "x" * 10, "a very long line of text that is far wider than the limit")]
        results = recognizer.predict(crops)
    assert all(shape[0] <= 2 and shape[3] <= 640 for shape in runner.seen)
    assert "".join(results[1][0].split()) == "amediumline42"
