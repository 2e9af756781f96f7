"""The document unwarping kernel: UVDoc's grid upsampled to the page (align_corners) and the page resampled.

Parity is checked on the real model's grids for rendered curled pages; the sampling convention
(grid_sample, align_corners=True, zeros outside) against OpenCV's remap with maps written out by hand.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hpi.errors import InputError

from .conftest import requires_compiled


def _identity_grid(gh: int = 45, gw: int = 31) -> np.ndarray:
    ys, xs = np.meshgrid(np.linspace(-1, 1, gh), np.linspace(-1, 1, gw), indexing="ij")
    return np.stack([xs, ys]).astype(np.float32)


@pytest.fixture(scope="module")
def curled_pages():
    from rendering import latin_fonts
    from unwarp_rendering import MORE_TEXTS, PAGE_TEXTS, curl_page, text_page

    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts (Debian package fonts-dejavu-core) to render test pages")
    page = text_page(PAGE_TEXTS[:6] + MORE_TEXTS[:4], fonts[0], size=22).image
    return [curl_page(page, seed=0), curl_page(page, bow=0.08, fold=0.1, seed=3)]


@pytest.fixture(scope="module")
def uvdoc_grids(curled_pages):
    """The real UVDoc's grids (ONNX Runtime) for the curled pages."""
    from hpi.backends.export_check import prepare_model
    from hpi.backends.onnxruntime import OnnxRuntimeRunner
    from hpi.kernels import _reference

    model = prepare_model("UVDoc")
    grids = []
    with OnnxRuntimeRunner(model, threads=2) as runner:
        for page in curled_pages:
            tensor = _reference.classify_preprocess(page, None, (712, 488), (0, 0, 0), (1, 1, 1), 1 / 255, rgb=True)
            grids.append(runner.infer_one(tensor)[0])
    return grids


@requires_compiled
def test_compiled_matches_reference_on_real_grids(compiled, reference, curled_pages, uvdoc_grids):
    for page, grid in zip(curled_pages, uvdoc_grids):
        assert grid.shape == (2, 45, 31)
        expected = reference.unwarp_page(page, grid)
        got = compiled.unwarp_page(page, grid)
        assert got.shape == expected.shape == page.shape and got.dtype == np.uint8
        diff = np.abs(got.astype(np.int16) - expected)
        assert diff.max() <= 1 and (diff > 0).mean() < 1e-3, (diff.max(), (diff > 0).mean())
        assert not np.array_equal(got, page)  # it did move the page


def test_identity_grid_keeps_the_page(kernels, curled_pages):
    page = curled_pages[0]
    np.testing.assert_array_equal(kernels.unwarp_page(page, _identity_grid()), page)
    # a 1×2×gh×gw grid (the model's batch of one) is accepted as well
    np.testing.assert_array_equal(kernels.unwarp_page(page, _identity_grid()[None]), page)


def test_sampling_convention_matches_remap(kernels):
    """An affine grid stays affine when upsampled, so the result is a plain remap with maps written out:
    normalised x = -1 is pixel 0 and +1 is pixel w-1 (align_corners=True); outside is black."""
    rng = np.random.default_rng(1)
    page = cv2.GaussianBlur(rng.integers(0, 256, (240, 180, 3), dtype=np.uint8), (7, 7), 0)
    h, w = page.shape[:2]
    grid = _identity_grid(9, 7) * np.float32(0.8) + np.float32(0.1)  # zoom in, shifted right/down
    got = kernels.unwarp_page(page, grid)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    map_x = ((xs / (w - 1) * 2 - 1) * 0.8 + 0.1 + 1) / 2 * (w - 1)
    map_y = ((ys / (h - 1) * 2 - 1) * 0.8 + 0.1 + 1) / 2 * (h - 1)
    expected = cv2.remap(page, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    # OpenCV quantises positions to 1/32 pixel: a grey level or two on these smooth pages
    assert np.abs(got.astype(int) - expected).max() <= 3
    outside = kernels.unwarp_page(page, _identity_grid(5, 5) * 0 + 3.0)  # everything off the page
    assert outside.shape == page.shape and not outside.any()


def test_bad_grids_are_clear_errors(kernels):
    page = np.full((20, 30, 3), 255, np.uint8)
    for bad, what in ((np.zeros((3, 4, 4), np.float32), "2×gh×gw"), (np.zeros((2, 4), np.float32), "2×gh×gw"),
                      (np.zeros((2, 4, 4), np.int32), "floating point"), ([[0.0]], "numpy array")):
        with pytest.raises(InputError, match=what):
            kernels.unwarp_page(page, bad)
    with pytest.raises(InputError, match="uint8"):
        kernels.unwarp_page(page.astype(np.float32), _identity_grid())
    nan_grid = _identity_grid()
    nan_grid[:, 10:20] = np.nan  # grid rows 10-19 (page rows ~4-8): black there, not garbage or a crash
    out = kernels.unwarp_page(page, nan_grid)
    assert out.shape == page.shape and out[:3].min() == 255 and out[-3:].min() == 255 and out[5:8].max() == 0


@requires_compiled
def test_threads_give_the_same_page(compiled, curled_pages, uvdoc_grids):
    from hpi.kernels import _unwarp

    page = np.ascontiguousarray(cv2.resize(curled_pages[1], None, fx=1.6, fy=1.6))  # past the parallel threshold
    one, two = np.empty_like(page), np.empty_like(page)
    _unwarp.unwarp_into(page, uvdoc_grids[1], one, 1)
    _unwarp.unwarp_into(page, uvdoc_grids[1], two, 2)
    np.testing.assert_array_equal(one, two)
