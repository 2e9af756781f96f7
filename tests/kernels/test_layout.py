"""PicoDet layout decode: compiled vs reference on the real CDLA model's outputs, semantics, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from hpi.errors import InputError
from layout_rendering import blank_page, iou, render_page

from .conftest import requires_compiled

INPUT_HW = (800, 608)


@pytest.fixture(scope="module")
def layout_outputs():
    """Raw head outputs of PicoDet_layout_CDLA (ONNX Runtime) on rendered pages: (scores, boxes, image_hw)."""
    import cv2

    from hpi.backends.export_check import prepare_model
    from hpi.backends.onnxruntime import OnnxRuntimeRunner
    from hpi.kernels import _reference

    pages = {"page": render_page(0).image, "dense": render_page(3, paragraphs=(6, 6, 6), figure=False).image,
             "wide": cv2.resize(render_page(5).image, (1400, 900)), "blank": blank_page(600, 800)}
    out = {}
    with OnnxRuntimeRunner(prepare_model("PicoDet_layout_CDLA")) as runner:
        for name, image in pages.items():
            resized = cv2.resize(image, INPUT_HW[::-1], interpolation=cv2.INTER_CUBIC)
            tensor = _reference.classify_preprocess(resized, None, INPUT_HW)
            values = list(runner.infer({runner.input_names[0]: tensor}).values())
            out[name] = (values[:4], values[4:], image.shape[:2])
    return out


@requires_compiled
@pytest.mark.parametrize("settings", [
    {}, {"score_threshold": 0.3, "nms_threshold": 0.5}, {"keep_top_k": 5}, {"nms_top_k": 20, "keep_top_k": -1},
])
def test_compiled_matches_reference_on_real_outputs(compiled, reference, layout_outputs, settings):
    for name, (scores, boxes, image_hw) in layout_outputs.items():
        want = reference.picodet_decode(scores, boxes, INPUT_HW, image_hw, **settings)
        got = compiled.picodet_decode(scores, boxes, INPUT_HW, image_hw, **settings)
        assert got.dtype == np.float32 and got.shape[1] == 6
        assert want.shape == got.shape, name
        np.testing.assert_array_equal(want[:, 0], got[:, 0])  # the same boxes, in the same order
        np.testing.assert_allclose(got[:, 1:], want[:, 1:], atol=1e-4, rtol=0)


def test_rows_are_nms_output_in_image_pixels(kernels, layout_outputs):
    scores, boxes, (height, width) = layout_outputs["page"]
    rows = kernels.picodet_decode(scores, boxes, INPUT_HW, (height, width))
    assert 0 < len(rows) <= 100  # keep_top_k
    classes = rows[:, 0]
    assert (np.diff(classes) >= 0).all()  # class by class
    for cls in np.unique(classes):
        assert (np.diff(rows[classes == cls, 1]) <= 0).all()  # score descending inside a class
    assert (rows[:, 1] > 0.025).all()
    confident = rows[rows[:, 1] > 0.5]
    assert len(confident) >= 4
    assert confident[:, [2, 4]].max() <= width * 1.05 and confident[:, [3, 5]].max() <= height * 1.05
    # No two kept boxes of one class overlap by more than the NMS threshold.
    for cls in np.unique(classes):
        own = rows[classes == cls, 2:]
        for i in range(len(own)):
            for j in range(i + 1, len(own)):
                assert iou(own[i], own[j]) <= 0.6 + 1e-6


def test_scale_follows_the_image_size(kernels, layout_outputs):
    scores, boxes, (height, width) = layout_outputs["page"]
    base = kernels.picodet_decode(scores, boxes, INPUT_HW, INPUT_HW)
    scaled = kernels.picodet_decode(scores, boxes, INPUT_HW, (height, width))
    np.testing.assert_array_equal(base[:, :2], scaled[:, :2])
    np.testing.assert_allclose(scaled[:, [2, 4]], base[:, [2, 4]] * (width / 608), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(scaled[:, [3, 5]], base[:, [3, 5]] * (height / 800), rtol=1e-5, atol=1e-3)


def test_blank_page_has_no_confident_box(kernels, layout_outputs):
    scores, boxes, image_hw = layout_outputs["blank"]
    rows = kernels.picodet_decode(scores, boxes, INPUT_HW, image_hw)
    assert (rows[:, 1] <= 0.5).all()


def test_one_anchor_decodes_to_its_expected_distances(kernels):
    """A single hot anchor: bins one-hot at k → distance k·stride from the cell centre."""
    strides, grids = (8, 16, 32, 64), [(100, 76), (50, 38), (25, 19), (13, 10)]
    scores = [np.zeros((1, h * w, 2), np.float32) for h, w in grids]
    regs = [np.full((1, h * w, 32), -50.0, np.float32) for h, w in grids]
    anchor = 3 * 19 + 4  # stride 32, row 3, column 4: centre (144, 112)
    scores[2][0, anchor, 1] = 0.9
    for side, k in enumerate((1, 2, 3, 4)):
        regs[2][0, anchor, side * 8 + k] = 50.0
    rows = kernels.picodet_decode(scores, regs, INPUT_HW, INPUT_HW, strides)
    assert rows.shape == (1, 6)
    np.testing.assert_allclose(rows[0], [1, 0.9, 144 - 32, 112 - 64, 144 + 96, 112 + 128], atol=1e-3)


def test_bad_outputs_are_clear_errors(kernels, layout_outputs):
    scores, boxes, image_hw = layout_outputs["page"]
    with pytest.raises(InputError, match="one score and one box output per stride"):
        kernels.picodet_decode(scores[:3], boxes, INPUT_HW, image_hw)
    with pytest.raises(InputError, match="input needs 6400"):
        kernels.picodet_decode(scores, boxes, (640, 640), image_hw)
    broken = [s.copy() for s in scores]
    broken[0][0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN or Inf"):
        kernels.picodet_decode(broken, boxes, INPUT_HW, image_hw)
    with pytest.raises(InputError, match="positive sizes"):
        kernels.picodet_decode(scores, boxes, INPUT_HW, (0, 10))

