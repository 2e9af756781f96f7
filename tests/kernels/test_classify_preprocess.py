"""The image-classifier pre-processing kernel (resize short side, centre crop, RGB, normalise, NCHW)."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import requires_compiled


def _images():
    rng = np.random.default_rng(0)
    from rendering import PAGE_TEXTS, latin_fonts, render_lines

    out = [rng.integers(0, 256, (300, 500, 3), dtype=np.uint8),  # landscape noise
           rng.integers(0, 256, (700, 240, 3), dtype=np.uint8),  # portrait
           rng.integers(0, 256, (40, 12000, 3), dtype=np.uint8),  # a strip: centre cut first
           rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)]  # upscaled
    fonts = latin_fonts()
    if fonts:
        out.append(render_lines(PAGE_TEXTS, fonts[0], size=24).image)
    return out


@requires_compiled
def test_compiled_equals_reference_exactly(compiled, reference):
    for image in _images():
        for rgb in (True, False):
            expected = reference.classify_preprocess(image, 256, (224, 224), rgb=rgb)
            got = compiled.classify_preprocess(image, 256, (224, 224), rgb=rgb)
            assert got.shape == expected.shape == (1, 3, 224, 224)
            np.testing.assert_array_equal(got, expected)
            # resize_short=None: stretched to the size (PP-LCNet text line classifier, 80×160)
            expected = reference.classify_preprocess(image, None, (80, 160), rgb=rgb)
            np.testing.assert_array_equal(compiled.classify_preprocess(image, None, (80, 160), rgb=rgb), expected)
            assert expected.shape == (1, 3, 80, 160)


def test_recipe(kernels):
    image = np.zeros((512, 1024, 3), np.uint8)
    image[:, :, 2] = 255  # red in BGR
    tensor = kernels.classify_preprocess(image, 256, (224, 224))
    np.testing.assert_allclose(tensor[0, 0], (1.0 - 0.485) / 0.229, rtol=1e-5)  # channel 0 is R
    np.testing.assert_allclose(tensor[0, 2], -0.406 / 0.225, rtol=1e-5)
    bgr = kernels.classify_preprocess(image, 256, (224, 224), rgb=False)
    np.testing.assert_allclose(bgr[0, 2], (1.0 - 0.406) / 0.225, rtol=1e-5)
    assert kernels.classify_preprocess(image, 64, (48, 32)).shape == (1, 3, 48, 32)


def test_bad_inputs_are_input_errors(kernels):
    from hpi.errors import InputError

    with pytest.raises(InputError, match="uint8"):
        kernels.classify_preprocess(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(InputError, match="positive"):
        kernels.classify_preprocess(np.zeros((10, 10, 3), np.uint8), 0)


@requires_compiled
def test_paddlex_normalize_compiled_equals_reference_exactly(compiled, reference):
    """PaddleX's Normalize (x * (scale/std) + (-mean/std) in float32) + HWC→CHW: the compiled table lookup
    gives the reference's values bit for bit, for every uint8 value and channel."""
    rng = np.random.default_rng(3)
    every_value = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
    settings = [(1 / 255, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)), (1.0, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
                (0.00392156862745098, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]
    for image in (every_value, rng.integers(0, 256, (37, 53, 3), dtype=np.uint8), _images()[0]):
        for scale, mean, std in settings:
            expected = reference.paddlex_normalize(image, scale, mean, std)
            got = compiled.paddlex_normalize(image, scale, mean, std)
            assert got.shape == (3, *image.shape[:2]) and got.dtype == np.float32
            np.testing.assert_array_equal(got, expected)
    # The same numbers as PaddleX's own arithmetic written out (numpy float32, two roundings).
    image = _images()[1]
    direct = (image.astype(np.float32) * np.array([1 / 255 / s for s in (0.229, 0.224, 0.225)], np.float32)
              + np.array([-m / s for m, s in zip((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))], np.float32))
    np.testing.assert_array_equal(compiled.paddlex_normalize(image, 1 / 255, (0.485, 0.456, 0.406),
                                                             (0.229, 0.224, 0.225)), direct.transpose(2, 0, 1))
