"""Curved text rectification and dark-print removal: parity on real seal-det polygons, geometry, bad inputs."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from hpi.errors import InputError

from .conftest import requires_compiled


@pytest.fixture(scope="module")
def seal_polygons():
    """(crop, polygons) of rendered seals, polygons from PP-OCRv4_mobile_seal_det (the real model, via the
    pipeline's seal region and detection stages), on seals in Latin and, with the CJK font, Chinese."""
    from seal_rendering import seal_set

    from hpi import create_pipeline
    from hpi.pipelines.seal_recognition.regions import crop_region, find_seal_regions

    pipeline = create_pipeline("seal_recognition")
    call = pipeline.seal_ocr.seal_call()
    detector = pipeline.seal_ocr.predictor("text_detection")
    out = []
    for seal in seal_set(4, seed=3):
        region = find_seal_regions(seal.image)[0]
        crop = crop_region(seal.image, region)
        polys, _ = detector.predict(crop, call.det)
        out.append((crop, [np.asarray(p).reshape(-1, 2) for p in polys]))
    pipeline.close()
    assert sum(len(p) for _, p in out) >= 8  # an arc and a bottom line per seal
    return out


@requires_compiled
def test_rectify_parity_on_real_seal_polygons(seal_polygons, compiled, reference):
    curved = 0
    for crop, polys in seal_polygons:
        for poly in polys:
            expected = reference.rectify_curved_text(crop, poly)
            got = compiled.rectify_curved_text(crop, poly)
            assert got.shape == expected.shape and got.dtype == np.uint8
            assert int(np.abs(got.astype(np.int16) - expected).max()) <= 1
            curved += len(poly) > 8
    assert curved >= 4  # the arcs really were curved polygons


@requires_compiled
def test_remove_dark_ink_parity(seal_polygons, compiled, reference):
    for crop, _ in seal_polygons:
        expected, expected_share = reference.remove_dark_ink(crop)
        got, share = compiled.remove_dark_ink(crop)
        assert np.array_equal(got, expected) and share == expected_share


def _ring_image(radius: float = 120.0, thickness: float = 40.0):
    """Concentric stripes: dark at the band's middle radius, grey at its inner and outer thirds."""
    size = 320
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    r = np.hypot(xx - size / 2, yy - size / 2)
    image = np.full((size, size, 3), 255, np.uint8)
    image[np.abs(r - radius) < 3] = 0
    image[np.abs(r - (radius + thickness / 3)) < 2] = 128
    image[np.abs(r - (radius - thickness / 3)) < 2] = 128
    return image, size / 2, radius, thickness


def _band(cx, cy, radius, thickness, start_deg, stop_deg, steps=24):
    outer = [(cx + (radius + thickness / 2) * math.cos(math.radians(a)),
              cy + (radius + thickness / 2) * math.sin(math.radians(a)))
             for a in np.linspace(start_deg, stop_deg, steps)]
    inner = [(cx + (radius - thickness / 2) * math.cos(math.radians(a)),
              cy + (radius - thickness / 2) * math.sin(math.radians(a)))
             for a in np.linspace(stop_deg, start_deg, steps)]
    return np.array(outer + inner, np.float64)


def test_an_arc_becomes_a_straight_band(kernels):
    image, c, radius, thickness = _ring_image()
    poly = _band(c, c, radius, thickness, -210, 30)  # 240° over the top, as seal text runs
    out = kernels.rectify_curved_text(image, poly)
    h, w = out.shape[:2]
    assert abs(h - thickness) <= 2
    assert abs(w - math.radians(240) * radius) <= 0.03 * w  # the arc's length at mid radius
    grey = out.mean(axis=2)
    dark_rows = np.where(grey.mean(axis=1) < 128)[0]
    # The circle at the middle radius is one straight dark line across the whole width, in the middle.
    assert len(dark_rows) and abs(dark_rows.mean() - (h - 1) / 2) <= 1.5
    assert (grey[int(round(dark_rows.mean()))] < 128).mean() > 0.95


def test_orientation_does_not_depend_on_where_the_polygon_starts(kernels):
    image, c, radius, thickness = _ring_image()
    poly = _band(c, c, radius, thickness, -200, 20)
    base = kernels.rectify_curved_text(image, poly)
    for shift in (5, 17, 31):
        rolled = np.roll(poly, shift, axis=0)
        for other in (rolled, rolled[::-1]):
            out = kernels.rectify_curved_text(image, other)
            assert abs(out.shape[0] - base.shape[0]) <= 1 and abs(out.shape[1] - base.shape[1]) <= 3
    # Text reads left to right: the band's start (left end of the arc) is the crop's left edge.
    marked = image.copy()
    start = poly[0] * 0.5 + poly[-1] * 0.5
    cv2.circle(marked, (int(start[0]), int(start[1])), 6, (0, 0, 255), -1)
    out = kernels.rectify_curved_text(marked, np.roll(poly, 9, axis=0))
    red = (out[:, :, 2] > 200) & (out[:, :, 1] < 80)
    assert red.any() and np.where(red)[1].mean() < out.shape[1] * 0.1


def test_remove_dark_ink_keeps_stamp_ink(kernels):
    image = np.full((10, 10, 3), 255, np.uint8)
    image[2:4] = (35, 30, 205)  # red ink (BGR)
    image[5:7] = (20, 20, 20)  # black print
    image[8, :5] = (120, 120, 120)  # grey print
    out, share = kernels.remove_dark_ink(image)
    assert (out[2:4] == (35, 30, 205)).all()
    assert (out[5:7] == 255).all() and (out[8, :5] == 255).all()
    assert share == pytest.approx(20 / (20 + 25))
    _, blank_share = kernels.remove_dark_ink(np.full((4, 4, 3), 255, np.uint8))
    assert blank_share == 1.0


@pytest.mark.parametrize("polygon", [np.zeros((3, 2)), np.zeros((5, 3)), np.array([[0, 0], [1, np.nan], [2, 2],
                                                                                    [3, 3]])])
def test_bad_polygons_are_input_errors(kernels, polygon):
    with pytest.raises(InputError):
        kernels.rectify_curved_text(np.zeros((20, 20, 3), np.uint8), polygon)


def test_degenerate_and_outside_polygons_give_a_crop(kernels):
    image = np.full((20, 20, 3), 200, np.uint8)
    flat = np.array([[2, 5], [10, 5], [18, 5], [10, 5]], np.float64)  # zero area
    assert kernels.rectify_curved_text(image, flat).shape[2] == 3
    outside = np.array([[-50, -50], [100, -40], [120, 90], [-30, 80]], np.float64)  # borders replicated
    out = kernels.rectify_curved_text(image, outside)
    assert out.size and (out == 200).all()
