"""PaddleX's pre-processing ops read from inference.yml: hpi's against PaddleX 3.7.2's own outputs.

``tests/data/paddlex_preprocess.npz`` holds what PaddleX 3.7.2's processors produced for the op lists and
inputs of ``tests/data/preprocess_cases.json`` (``benchmarks/record_paddlex_preprocess.py``, run in a PaddleX
venv); the inputs are made here the same way (seeded noise, a gradient).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hpi.errors import ModelError
from hpi.models.preprocess import classification_preprocess, detection_preprocess

DATA = Path(__file__).resolve().parents[1] / "data"
CASES = json.loads((DATA / "preprocess_cases.json").read_text())
RECORDED = np.load(DATA / "paddlex_preprocess.npz")


def make_image(spec: dict) -> np.ndarray:
    height, width = spec["height"], spec["width"]
    if spec["kind"] == "noise":
        return np.random.default_rng(spec["seed"]).integers(0, 256, (height, width, 3), dtype=np.uint8)
    y, x, c = np.meshgrid(np.arange(height), np.arange(width), np.arange(3), indexing="ij")
    return ((x * 255 // max(width - 1, 1) + y * 3 + c * 40) % 256).astype(np.uint8)


def _pairs(group: str):
    for case in CASES[group]:
        for image in CASES["images"]:
            yield pytest.param(case, image, id=f"{case}-{image}")


@pytest.mark.parametrize("case,image", list(_pairs("classification")))
def test_classification_ops_equal_paddlex(case, image):
    key = f"classification/{case}/{image}"
    ops = CASES["classification"][case]
    if f"{key}/error" in RECORDED:  # PaddleX refuses this op list: so does hpi, with a clear error
        with pytest.raises(ModelError, match="PaddleX"):
            classification_preprocess(ops, "TestModel")
        return
    got = classification_preprocess(ops, "TestModel")(make_image(CASES["images"][image]))
    expected = RECORDED[f"{key}/img"]
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("case,image", list(_pairs("detection")))
def test_detection_ops_equal_paddlex(case, image):
    key = f"detection/{case}/{image}"
    assert f"{key}/error" not in RECORDED, str(RECORDED[f"{key}/error"]) if f"{key}/error" in RECORDED else ""
    got = detection_preprocess(CASES["detection"][case], "TestModel")(make_image(CASES["images"][image]))
    expected = RECORDED[f"{key}/img"]
    assert got.image.shape == expected.shape
    np.testing.assert_allclose(got.image, expected, rtol=0, atol=1e-5)
    # What PaddleX gives the model beside the image: im_shape [h, w] and scale_factor [h, w].
    np.testing.assert_array_equal(np.asarray(got.img_size, np.float32), RECORDED[f"{key}/im_shape"])
    np.testing.assert_allclose(np.asarray(got.scale_factor, np.float32), RECORDED[f"{key}/scale_factor"],
                               rtol=1e-6)


def test_unknown_ops_and_settings_are_clear_errors():
    with pytest.raises(ModelError, match="MyModel.*'RandomErasing' is not one hpi knows"):
        classification_preprocess([{"ResizeImage": {"size": 32}}, {"RandomErasing": {}}], "MyModel")
    with pytest.raises(ModelError, match="MyModel.*no NormalizeImage"):
        classification_preprocess([{"ResizeImage": {"size": 32}}, {"ToCHWImage": None}], "MyModel")
    with pytest.raises(ModelError, match="interpolation 'CUBIC'.*BICUBIC"):
        classification_preprocess([{"ResizeImage": {"size": 32, "interpolation": "CUBIC"}},
                                   {"NormalizeImage": None}, {"ToCHWImage": None}], "MyModel")
    with pytest.raises(ModelError, match=r"MyDet: inference.yml Preprocess\[1\]: pre-processing op 'Mosaic'"):
        detection_preprocess([{"type": "Permute"}, {"type": "Mosaic"}], "MyDet")
    with pytest.raises(ModelError, match="target_size"):
        detection_preprocess([{"type": "Resize", "target_size": [640]}], "MyDet")


def test_the_recording_is_paddlex_3_7_2():
    assert str(RECORDED["meta/paddlex_version"]) == "3.7.2"
