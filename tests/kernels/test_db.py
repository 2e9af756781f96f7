"""DB box decoding: parity on real det-model maps, bit-exact steps, hostile inputs."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pyclipper
import pytest
from shapely.geometry import Polygon

from hpi.errors import InputError

from .conftest import requires_compiled


def iou(a, b) -> float:
    pa, pb = Polygon(np.asarray(a, float)), Polygon(np.asarray(b, float))
    union = pa.union(pb).area
    return pa.intersection(pb).area / union if union else 1.0


def assert_same_detections(expected, got, score_tol=1e-5):
    (eb, es), (gb, gs) = expected, got
    assert len(eb) == len(gb)
    for a, b in zip(eb, gb):
        assert iou(a, b) >= 0.99
    if len(es):
        assert np.abs(np.asarray(es) - np.asarray(gs)).max() <= score_tol


def blobs_map(shape, rects, value=0.9):
    prob = np.zeros(shape, np.float32)
    for x0, y0, x1, y1 in rects:
        prob[y0:y1, x0:x1] = value
    return prob


# ---------------------------------------------------------------- semantics


def test_one_rectangle_is_unclipped_rescaled_and_ordered(kernels):
    prob = blobs_map((100, 200), [(40, 30, 140, 50)])
    boxes, scores = kernels.db_decode(prob, 200, 400)
    assert boxes.dtype == np.int32 and boxes.shape == (1, 4, 2) and scores.dtype == np.float32
    (tl, tr, br, bl) = boxes[0]
    assert tl[0] < tr[0] and tl[1] < bl[1] and br[0] > bl[0] and br[1] > tr[1]  # clockwise from top-left
    # the 100×20 blob (inclusive contour 99×19 px) grows by area*1.5/perimeter on each side
    assert tl[0] < 80 and br[0] > 278 and tl[1] < 60 and br[1] > 98
    assert scores[0] == pytest.approx(0.9, abs=1e-6)


def test_thresholds_and_min_size_drop_boxes(kernels):
    prob = blobs_map((100, 200), [(10, 10, 60, 30), (100, 10, 102, 30)], value=0.5)
    assert len(kernels.db_decode(prob, 100, 200, box_thresh=0.6)[0]) == 0  # score 0.5 < box_thresh
    boxes, _ = kernels.db_decode(prob, 100, 200, box_thresh=0.4)
    assert len(boxes) == 1  # the 2-px-wide blob is under min_size
    assert len(kernels.db_decode(prob, 100, 200, thresh=0.6, box_thresh=0.1)[0]) == 0


def test_boxes_are_clipped_to_the_image(kernels):
    prob = blobs_map((64, 64), [(0, 0, 40, 20)])
    boxes, _ = kernels.db_decode(prob, 64, 64)
    assert boxes.min() >= 0 and boxes[..., 0].max() <= 63 and boxes[..., 1].max() <= 63


def test_max_candidates_limits_the_contours_considered(kernels):
    rects = [(10 + 30 * i, 10, 30 + 30 * i, 25) for i in range(6)]
    prob = blobs_map((50, 200), rects)
    assert len(kernels.db_decode(prob, 50, 200)[0]) == 6
    assert len(kernels.db_decode(prob, 50, 200, max_candidates=2)[0]) == 2
    assert len(kernels.db_decode(prob, 50, 200, max_candidates=0)[0]) == 0


def test_dilation_joins_touching_blobs(kernels):
    prob = blobs_map((60, 120), [(10, 10, 50, 30), (51, 10, 100, 30)])
    assert len(kernels.db_decode(prob, 60, 120)[0]) == 2
    assert len(kernels.db_decode(prob, 60, 120, use_dilation=True)[0]) == 1


def test_slow_score_uses_the_contour(kernels):
    prob = np.zeros((80, 80), np.float32)
    cv2.fillPoly(prob, [np.array([[10, 10], [70, 10], [10, 70]], np.int32)], 0.95)
    fast = kernels.db_decode(prob, 80, 80, box_thresh=0.0, score_mode="fast")[1]
    slow = kernels.db_decode(prob, 80, 80, box_thresh=0.0, score_mode="slow")[1]
    assert slow[0] == pytest.approx(0.95, abs=1e-6) and fast[0] < 0.7  # the rectangle holds the empty half


def test_poly_mode_returns_polygons(kernels, det_maps):
    prob, (h, w) = det_maps["page"]
    polys, scores = kernels.db_decode(prob, h, w, box_type="poly")
    assert isinstance(polys, list) and len(polys) == len(scores) > 10
    for poly in polys:
        assert poly.dtype == np.int32 and poly.ndim == 2 and poly.shape[1] == 2 and len(poly) >= 4
        assert poly[:, 0].min() >= 0 and poly[:, 0].max() < w and poly[:, 1].max() < h


# ---------------------------------------------------------------- parity on real det outputs


@pytest.mark.parametrize("score_mode", ["fast", "slow"])
def test_parity_on_real_maps(reference, compiled, det_maps, score_mode):
    for name, (prob, (h, w)) in det_maps.items():
        expected = reference.db_decode(prob, h, w, score_mode=score_mode)
        got = compiled.db_decode(prob, h, w, score_mode=score_mode)
        assert len(expected[0]) >= 8, name
        assert_same_detections(expected, got)


def test_parity_with_options(reference, compiled, det_maps):
    prob, (h, w) = det_maps["receipt"]
    for kwargs in ({"use_dilation": True}, {"unclip_ratio": 2.0, "box_thresh": 0.5}, {"thresh": 0.5}, {"max_candidates": 5}):
        assert_same_detections(reference.db_decode(prob, h, w, **kwargs), compiled.db_decode(prob, h, w, **kwargs))
    poly_ref = reference.db_decode(prob, h, w, box_type="poly")
    poly_got = compiled.db_decode(prob, h, w, box_type="poly")
    assert len(poly_ref[0]) == len(poly_got[0])
    assert all(np.array_equal(a, b) for a, b in zip(poly_ref[0], poly_got[0]))


@pytest.mark.parametrize(
    "kwargs",
    [{"unclip_ratio": 0.0}, {"unclip_ratio": 50.0}, {"unclip_ratio": 1e6}, {"thresh": 0.0, "box_thresh": 0.0},
     {"thresh": -1.0, "box_thresh": -1.0}, {"thresh": 1.0}],
    ids=["no-unclip", "unclip-50", "unclip-1e6", "thresh-0", "thresh-negative", "thresh-1"],
)
def test_parity_with_extreme_options(reference, compiled, det_maps, kwargs):
    prob, (h, w) = det_maps["receipt"]
    expected = reference.db_decode(prob, h, w, **kwargs)
    got = compiled.db_decode(prob, h, w, **kwargs)
    assert_same_detections(expected, got)
    assert got[0].size == 0 or (got[0].min() >= 0 and got[0][..., 0].max() < w and got[0][..., 1].max() < h)


def test_parity_on_perturbed_real_maps(reference, compiled, det_maps):
    """Noisy and rotated versions of the real maps: many odd-shaped contours."""
    rng = np.random.default_rng(7)
    for prob, (h, w) in det_maps.values():
        noisy = np.clip(prob + rng.normal(0, 0.15, prob.shape).astype(np.float32), 0, 1)
        center = (prob.shape[1] / 2, prob.shape[0] / 2)
        rotated = cv2.warpAffine(prob, cv2.getRotationMatrix2D(center, 11.0, 1.0), prob.shape[::-1])
        for m in (noisy, rotated):
            for mode in ("fast", "slow"):
                expected = reference.db_decode(m, h, w, score_mode=mode, box_thresh=0.3)
                got = compiled.db_decode(m, h, w, score_mode=mode, box_thresh=0.3)
                assert_same_detections(expected, got)


# ---------------------------------------------------------------- the compiled steps, bit for bit


@requires_compiled
def test_box_points_polygon_fill_and_offset_match_opencv_and_pyclipper():
    from hpi.kernels import _db

    rng = np.random.default_rng(11)
    for _ in range(2000):
        pts = rng.integers(-50, 600, (int(rng.integers(3, 20)), 2)).astype(np.int32)
        rect = cv2.minAreaRect(pts)
        np.testing.assert_array_equal(_db.box_points(rect), cv2.boxPoints(rect))
    for _ in range(1500):
        h, w = (int(v) for v in rng.integers(3, 60, 2))
        prob = rng.random((h, w), dtype=np.float32)
        xy = rng.integers(-5, max(h, w) + 5, (int(rng.integers(3, 12)), 2)).astype(np.int32)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, xy.reshape(1, -1, 2), 1)
        assert _db.polygon_mean(prob, xy, 0, 0, w - 1, h - 1) == pytest.approx(cv2.mean(prob, mask)[0], abs=1e-9)
    for _ in range(1500):
        center, size, angle = rng.uniform(5, 500, 2), rng.uniform(3, 300, 2), rng.uniform(-90, 90)
        box = cv2.boxPoints((tuple(center), tuple(size), angle)).astype(np.float32)
        delta = float(rng.uniform(0.1, 60))
        offset = pyclipper.PyclipperOffset()
        offset.AddPath(box, pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
        [expected] = offset.Execute(delta)
        got = _db.offset_polygon(np.ascontiguousarray(box), delta)
        hull = lambda p: sorted(map(tuple, cv2.convexHull(np.asarray(p, np.int32)).reshape(-1, 2).tolist()))  # noqa: E731
        assert hull(got) == hull(expected)


@requires_compiled
def test_c_min_area_rect_is_minimal_and_encloses_the_points():
    """The standalone C library's own min-area rectangle (hpi_db_quads, for C users): it encloses
    every point and is never larger than OpenCV's (random point sets often have several optima)."""
    from hpi.kernels import _db

    rng = np.random.default_rng(12)
    for _ in range(2000):
        pts = rng.integers(0, 400, (int(rng.integers(3, 25)), 2)).astype(np.int32)
        ours = _db.min_area_rect(pts)
        theirs = cv2.minAreaRect(pts)
        assert ours[1][0] * ours[1][1] <= theirs[1][0] * theirs[1][1] * (1 + 1e-5) + 1e-3
        corners = cv2.boxPoints(ours).astype(np.float64)
        for p in pts.astype(np.float64):
            assert cv2.pointPolygonTest(corners.astype(np.float32), tuple(p), True) >= -1e-2
    rect_pts = np.array([[10, 5], [50, 5], [50, 20], [10, 20]], np.int32)
    assert sorted(map(tuple, cv2.boxPoints(_db.min_area_rect(rect_pts)).round().tolist())) == sorted(
        map(tuple, rect_pts.astype(float).tolist())
    )


@requires_compiled
def test_all_c_pipeline_agrees_with_the_reference(reference, det_maps):
    from hpi.kernels import _db

    for prob, (h, w) in det_maps.values():
        bitmap, _ = _db.threshold_map(prob, 0.3)
        contours = reference._find_contours(bitmap)
        offsets = np.cumsum([0] + [len(c) for c in contours]).astype(np.int64)
        points = np.ascontiguousarray(np.concatenate(contours).reshape(-1, 2), dtype=np.int32)
        got_boxes, got_scores = _db.quads_c(prob, points, offsets, 0.6, 1.5, False, h, w)
        expected_boxes, expected_scores = reference.db_decode(prob, h, w)
        # Same boxes up to the choice between near-equal min-area rectangles (OpenCV's calipers vs
        # ours): a pixel or two on a side, and then the score of a slightly tilted box.
        assert len(got_boxes) == len(expected_boxes)
        assert min(iou(a, b) for a, b in zip(got_boxes, expected_boxes)) >= 0.9
        diff = np.abs(got_scores - expected_scores)
        assert diff.max() <= 0.1 and np.mean(diff <= 1e-5) >= 0.5


# ---------------------------------------------------------------- hostile inputs


@pytest.mark.parametrize(
    "prob",
    [
        np.zeros((0, 0), np.float32),
        np.zeros((0, 50), np.float32),
        np.zeros((1, 1), np.float32),
        np.ones((1, 1), np.float32),
        np.zeros((96, 96), np.float32),
        np.ones((96, 96), np.float32),
        np.zeros((1, 1, 40, 40), np.float32),
    ],
    ids=["empty", "empty-rows", "1x1-zero", "1x1-one", "zeros", "ones", "nchw"],
)
def test_degenerate_maps_give_defined_results(kernels, prob):
    boxes, scores = kernels.db_decode(prob, 100, 100)
    assert boxes.dtype == np.int32 and boxes.ndim == 3 and boxes.shape[1:] == (4, 2) and len(scores) == len(boxes)
    assert boxes.size == 0 or (boxes.min() >= 0 and boxes.max() <= 99)
    polys, poly_scores = kernels.db_decode(prob, 100, 100, box_type="poly")
    assert isinstance(polys, list) and len(polys) == len(poly_scores)


def test_all_ones_map_is_one_box_covering_the_image(kernels):
    boxes, scores = kernels.db_decode(np.ones((96, 96), np.float32), 300, 400)
    assert len(boxes) == 1 and scores[0] == pytest.approx(1.0)
    assert boxes[0].tolist() == [[0, 0], [399, 0], [399, 299], [0, 299]]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_maps_are_a_clear_error(kernels, bad):
    prob = blobs_map((50, 50), [(5, 5, 40, 20)])
    prob[30, 30] = bad
    with pytest.raises(InputError, match="NaN or Inf"):
        kernels.db_decode(prob, 50, 50)


def test_dtype_and_layout_variants(kernels, det_maps):
    prob, (h, w) = det_maps["receipt"]
    expected = kernels.db_decode(prob, h, w)
    for variant in (prob.astype(np.float64), np.asfortranarray(prob), prob[None, None], prob.astype(np.float16)):
        got = kernels.db_decode(variant, h, w)
        assert len(got[0]) == len(expected[0])
    strided = np.zeros((prob.shape[0], prob.shape[1] * 2), np.float32)
    strided[:, ::2] = prob
    assert_same_detections(expected, kernels.db_decode(strided[:, ::2], h, w))
    uint8_map = (prob * 255).astype(np.uint8)  # integers are converted; thresholds then apply to 0..255
    boxes, scores = kernels.db_decode(uint8_map, h, w, thresh=76, box_thresh=150)
    assert boxes.dtype == np.int32 and abs(len(boxes) - len(expected[0])) <= 2 and np.all(scores >= 150)


def test_bad_arguments_are_clear_errors(kernels):
    prob = np.zeros((10, 10), np.float32)
    for kwargs in ({"score_mode": "medium"}, {"box_type": "circle"}, {"max_candidates": -1}, {"unclip_ratio": np.nan}):
        with pytest.raises(InputError):
            kernels.db_decode(prob, 10, 10, **kwargs)
    with pytest.raises(InputError):
        kernels.db_decode(prob, 0, 10)
    with pytest.raises(InputError):
        kernels.db_decode(np.zeros((2, 10, 10), np.float32), 10, 10)
    with pytest.raises(InputError):
        kernels.db_decode(np.zeros((10, 10), np.complex64), 10, 10)
    with pytest.raises(InputError):
        kernels.db_decode([[0.5]], 10, 10)


def test_ten_thousand_tiny_blobs_respect_max_candidates_quickly(kernels):
    prob = np.zeros((600, 1000), np.float32)
    prob[2::6, 2::10] = 0.95  # 100 × 100 = 10,000 one-pixel blobs
    prob[300:330, 100:400] = 0.9  # and one real text line, found last by findContours' scan order
    start = time.perf_counter()
    boxes, scores = kernels.db_decode(prob, 600, 1000, max_candidates=1000)
    elapsed = time.perf_counter() - start
    assert len(boxes) <= 1
    boxes_all, _ = kernels.db_decode(prob, 600, 1000, max_candidates=20_000)
    assert len(boxes_all) == 1  # the blobs are all under min_size; the line survives
    assert elapsed < 5.0  # linear in candidates: a quadratic decoder would take minutes here
