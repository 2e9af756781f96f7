"""det/rec/textline-orientation pre-processing and box crops: semantics, parity, hostile inputs."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from hpi.errors import InputError

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def random_image(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    "shape, limit, limit_type, expected",
    [
        ((1500, 2000), 960, "max", (704, 960)),  # 720/32 = 22.5 rounds half to even: 704
        ((100, 200), 960, "max", (96, 192)),  # no upscaling with "max"
        ((20, 30), 960, "max", (32, 32)),  # never below 32
        ((100, 200), 736, "min", (736, 1472)),  # "min" upscales the short side
        ((1000, 900), 736, "min", (992, 896)),  # already large enough
        ((100, 9000), 736, "min", (32, 4000)),  # then capped by max_side_limit
    ],
)
def test_det_resize_shape_follows_paddlex(kernels, shape, limit, limit_type, expected):
    h, w = shape
    scale = limit / max(h, w) if limit_type == "max" and max(h, w) > limit else 1.0
    if limit_type == "min":
        scale = limit / min(h, w) if min(h, w) < limit else 1.0
    rh, rw = int(h * scale), int(w * scale)
    if max(rh, rw) > 4000:
        r = 4000 / max(rh, rw)
        rh, rw = int(rh * r), int(rw * r)
    want = (max(int(round(rh / 32) * 32), 32), max(int(round(rw / 32) * 32), 32))
    tensor, ratio_h, ratio_w = kernels.det_preprocess(random_image(h, w), limit, limit_type)
    assert tensor.shape == (1, 3) + want
    assert tensor.dtype == np.float32 and tensor.flags.c_contiguous
    assert ratio_h == pytest.approx(want[0] / h) and ratio_w == pytest.approx(want[1] / w)
    assert want == expected


def test_det_values_are_normalised_bgr_chw(kernels):
    image = random_image(64, 96, seed=3)
    tensor, _, _ = kernels.det_preprocess(image, 960, "max")  # 64×96 stays 64×96
    want = ((image.astype(np.float32) * np.float32(1 / 255) - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)
    np.testing.assert_allclose(tensor[0], want, atol=1e-6)


def test_det_parity_on_pages(reference, compiled, pages):
    for image in list(pages.values()) + [random_image(1500, 2000, 1), random_image(37, 1001, 2)]:
        for limit, limit_type in ((960, "max"), (736, "min"), (64, "min")):
            a, rha, rwa = reference.det_preprocess(image, limit, limit_type)
            b, rhb, rwb = compiled.det_preprocess(image, limit, limit_type)
            assert a.shape == b.shape and (rha, rwa) == (rhb, rwb)
            assert np.abs(a - b).max() <= 1e-5


def test_det_writes_into_a_preallocated_buffer(kernels):
    image = random_image(300, 400)
    expected, _, _ = kernels.det_preprocess(image)
    out = np.full((1, 3, 320, 416), np.nan, np.float32)
    tensor, _, _ = kernels.det_preprocess(image, out=out)
    assert np.shares_memory(tensor, out)
    np.testing.assert_array_equal(tensor, expected)
    big = np.empty(10_000_000, np.float32)
    tensor, _, _ = kernels.det_preprocess(image, out=big)
    assert np.shares_memory(tensor, big) and tensor.shape == expected.shape
    with pytest.raises(InputError):
        kernels.det_preprocess(image, out=np.empty((1, 3, 8, 8), np.float32))
    with pytest.raises(InputError):
        kernels.det_preprocess(image, out=np.empty((1, 3, 320, 416), np.float64))


def test_det_gray_bgra_and_strided_inputs(kernels):
    image = random_image(120, 160, seed=5)
    expected, _, _ = kernels.det_preprocess(image)
    gray = image[:, :, 1]
    g, _, _ = kernels.det_preprocess(gray)
    np.testing.assert_array_equal(g, kernels.det_preprocess(np.repeat(gray[:, :, None], 3, axis=2))[0])
    bgra = np.concatenate([image, np.full((120, 160, 1), 7, np.uint8)], axis=2)
    np.testing.assert_array_equal(kernels.det_preprocess(bgra)[0], expected)
    wide = np.zeros((120, 320, 3), np.uint8)
    wide[:, ::2] = image
    np.testing.assert_array_equal(kernels.det_preprocess(wide[:, ::2])[0], expected)  # non-contiguous view


def test_det_hostile_inputs(kernels):
    tensor, rh, rw = kernels.det_preprocess(np.zeros((1, 1, 3), np.uint8))
    assert tensor.shape == (1, 3, 32, 32) and rh == 32.0 and rw == 32.0
    ones = kernels.det_preprocess(np.full((50, 50, 3), 255, np.uint8))[0]
    assert np.isfinite(ones).all()
    for bad in (np.zeros((0, 10, 3), np.uint8), np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 2), np.uint8)):
        with pytest.raises(InputError):
            kernels.det_preprocess(bad)
    with pytest.raises(InputError):
        kernels.det_preprocess(np.zeros((10, 10, 3), np.uint8), limit_type="resize_long")
    with pytest.raises(InputError):
        kernels.det_preprocess(np.zeros((10, 10, 3), np.uint8), std=(0, 1, 1))
    with pytest.raises(InputError):
        kernels.det_preprocess("not an image")


def test_rec_batch_width_and_resize_semantics(kernels):
    crops = [random_image(32, 64), random_image(40, 400, 1), random_image(50, 20, 2)]
    batch = kernels.rec_preprocess(crops)
    max_ratio = max(320 / 48, 400 / 40)
    width = int(48 * max_ratio)
    assert batch.shape == (3, 3, 48, width)
    for i, crop in enumerate(crops):
        h, w = crop.shape[:2]
        resized_w = min(width, math.ceil(48 * w / h))
        want = cv2.resize(crop, (resized_w, 48)).astype(np.float32) * np.float32(1 / 255)
        want = ((want - np.float32(0.5)) / np.float32(0.5)).transpose(2, 0, 1)
        np.testing.assert_allclose(batch[i, :, :, :resized_w], want, atol=1e-6)
        assert not batch[i, :, :, resized_w:].any()  # right padding is 0


def test_rec_fixed_width_for_textline_orientation(kernels):
    crops = [random_image(30, 600), random_image(48, 60, 1)]
    batch = kernels.rec_preprocess(crops, (3, 48, 192), dynamic_width=False)
    assert batch.shape == (2, 3, 48, 192)
    assert batch[0, :, :, -1].any()  # the wide crop is squeezed to the full width
    assert not batch[1, :, :, 60:].any()  # 48×60 → 48×60, then padding


def test_rec_parity_on_crops(reference, compiled, line_crops):
    rng = np.random.default_rng(4)
    randoms = [random_image(int(rng.integers(8, 80)), int(rng.integers(4, 900)), i) for i in range(48)]
    for crops in (line_crops, randoms, randoms[:1]):
        for shape, dynamic in (((3, 48, 320), True), ((3, 48, 192), False)):
            a = reference.rec_preprocess(crops, shape, dynamic_width=dynamic)
            b = compiled.rec_preprocess(crops, shape, dynamic_width=dynamic)
            assert a.shape == b.shape and np.abs(a - b).max() <= 1e-5


def test_rec_hostile_inputs(kernels):
    assert kernels.rec_preprocess([]).shape == (0, 3, 48, 320)
    assert kernels.rec_preprocess([], (3, 48, 192), dynamic_width=False).shape == (0, 3, 48, 192)
    one = kernels.rec_preprocess([np.zeros((1, 1, 3), np.uint8)])
    assert one.shape == (1, 3, 48, 320) and np.all(one[0, :, :, 48:] == 0) and np.all(one[0, :, :, :48] == -1)
    tall = kernels.rec_preprocess([np.zeros((500, 2), np.uint8)])  # gray, very tall
    assert tall.shape == (1, 3, 48, 320)
    strided = random_image(40, 200)[:, ::2]
    np.testing.assert_array_equal(
        kernels.rec_preprocess([strided]), kernels.rec_preprocess([np.ascontiguousarray(strided)])
    )
    with pytest.raises(InputError):
        kernels.rec_preprocess([np.zeros((0, 5, 3), np.uint8)])
    with pytest.raises(InputError):
        kernels.rec_preprocess([np.zeros((5, 5, 3), np.float64)])
    with pytest.raises(InputError):
        kernels.rec_preprocess([np.zeros((5, 5, 3), np.uint8)], (1, 48, 320))


def test_crop_text_regions_warps_and_rotates_tall_boxes(kernels):
    image = np.zeros((200, 300, 3), np.uint8)
    image[50:80, 100:250] = 255
    boxes = np.array(
        [
            [[100, 50], [250, 50], [250, 80], [100, 80]],  # 150×30 wide box
            [[10, 10], [40, 10], [40, 110], [10, 110]],  # 30×100 tall → rotated
            [[5, 5], [5, 5], [5, 5], [5, 5]],  # degenerate → 1×1
        ],
        np.float32,
    )
    crops = kernels.crop_text_regions(image, boxes)
    assert [c.shape for c in crops] == [(30, 150, 3), (30, 100, 3), (1, 1, 3)]
    assert crops[0].mean() > 250
    assert all(c.flags.c_contiguous and c.dtype == np.uint8 for c in crops)
    assert kernels.crop_text_regions(image, np.zeros((0, 4, 2))) == []
    int_boxes = kernels.crop_text_regions(image, boxes[:2].astype(np.int32))
    assert [c.shape for c in int_boxes] == [(30, 150, 3), (30, 100, 3)]


def test_crop_text_regions_matches_pp_ocr_formula(kernels):
    image = random_image(300, 400, 9)
    box = np.array([[50.5, 40.2], [300.7, 60.1], [290.3, 120.9], [45.1, 100.4]], np.float32)
    [crop] = kernels.crop_text_regions(image, box[None])
    w = int(max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3])))
    h = int(max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2])))
    m = cv2.getPerspectiveTransform(box, np.float32([[0, 0], [w, 0], [w, h], [0, h]]))
    want = cv2.warpPerspective(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    np.testing.assert_array_equal(crop, want)


def test_crop_text_regions_hostile(kernels):
    image = random_image(50, 60)
    with pytest.raises(InputError):
        kernels.crop_text_regions(image, np.zeros((2, 3, 2)))
    with pytest.raises(InputError):
        kernels.crop_text_regions(image, np.full((1, 4, 2), np.nan))
    far = kernels.crop_text_regions(image, np.array([[[1000, 1000], [1100, 1000], [1100, 1020], [1000, 1020]]]))
    assert far[0].shape == (20, 100, 3)  # replicated border, defined
