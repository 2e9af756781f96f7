"""The ``doc_preprocessor`` pipeline alone: PaddleX's keys and files, and the same angles as inside OCR."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rendering import PAGE_TEXTS, latin_fonts, render_lines


@pytest.fixture(scope="module")
def page():
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts (Debian package fonts-dejavu-core) to render test pages")
    return render_lines(PAGE_TEXTS, fonts[0], size=28).image


@pytest.fixture(scope="module")
def doc_pipeline():
    from hpi import create_pipeline

    with create_pipeline("doc_preprocessor", device="cpu") as pipeline:
        yield pipeline


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
@pytest.mark.smoke
def test_each_orientation_is_set_upright(doc_pipeline, page, turns):
    turned = np.ascontiguousarray(np.rot90(page, turns))
    result = next(doc_pipeline.predict(turned))
    assert result.angle == (360 - 90 * turns) % 360
    assert np.array_equal(result.output_img, page) and np.array_equal(result.rot_img, page)
    assert np.array_equal(result.input_img, turned)
    assert result["angle"] == result.angle and "doc_ori.model" in result.timings_ms


def test_paddlex_keys_and_files(doc_pipeline, page, tmp_path):
    import cv2
    from PIL import Image

    path = tmp_path / "scan.png"
    cv2.imwrite(str(path), np.rot90(page, 1))
    result = next(doc_pipeline.predict(str(path)))
    res = result.json["res"]
    assert list(res) == ["input_path", "page_index", "model_settings", "angle"]
    assert res["input_path"] == str(path) and res["page_index"] is None and res["angle"] == 270
    assert res["model_settings"] == {"use_doc_orientation_classify": True, "use_doc_unwarping": False}
    saved = json.loads(result.save_to_json(tmp_path / "out").read_text())
    assert saved == res and (tmp_path / "out" / "scan_res.json").is_file()
    picture = result.save_to_img(tmp_path / "out")
    assert picture.name == "scan_preprocessed_img.png"
    height, width = page.shape[:2]
    with Image.open(picture) as img:  # original (turned) | rotated | unwarped, captions below
        assert img.size == (height + 2 * width, max(height, width) + 25)


def test_orientation_off_per_call(doc_pipeline, page):
    result = next(doc_pipeline.predict(page, use_doc_orientation_classify=False))
    assert result.angle == -1 and result.output_img is page
    assert doc_pipeline.loaded("doc_unwarping") is None  # off by default: never loaded


def test_same_angle_as_inside_ocr(doc_pipeline, ocr_pipeline, page):
    """One pipeline, two faces: OCR's SubPipelines.DocPreprocessor is this pipeline class."""
    from hpi.pipelines.doc_preprocessor import DocPreprocessorPipeline

    assert isinstance(ocr_pipeline.doc_preprocessor, DocPreprocessorPipeline)
    turned = np.ascontiguousarray(np.rot90(page, 3))
    alone = next(doc_pipeline.predict(turned)).json["res"]
    inside = next(ocr_pipeline.predict(turned, use_doc_orientation_classify=True)).json["res"]
    assert inside["doc_preprocessor_res"] == {**alone, "input_path": None, "page_index": None}


def test_cli(page, tmp_path):
    import cv2

    from cli_run import run_cli

    path = tmp_path / "scan.png"
    cv2.imwrite(str(path), np.rot90(page, 2))
    proc = run_cli("--pipeline", "doc_preprocessor", "--input", path, "--save_path", tmp_path / "out",
                   "--texts_only", "--no_progress")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "angle: 180"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["scan_preprocessed_img.png", "scan_res.json"]
    help_text = run_cli("--pipeline", "doc_preprocessor", "--help").stdout
    assert "--use_doc_orientation_classify" in help_text and "--text_det_thresh" not in help_text