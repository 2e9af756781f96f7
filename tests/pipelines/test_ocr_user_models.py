"""A PaddleX user's own model directories (inference.pdmodel/.pdiparams + inference.yml) and .onnx files."""

from __future__ import annotations

import shutil

import pytest
import yaml

from rendering import latin_fonts, render_lines


@pytest.fixture(scope="module")
def page():
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test images")
    return render_lines(["Your own model directory", "Total 42.00"], fonts[0], size=30).image


def _paddlex_rec_dir(rec_model, target, with_space: bool):
    target.mkdir()
    model_file, params_file = rec_model.paddle_files
    shutil.copy(model_file, target / "inference.pdmodel")
    shutil.copy(params_file, target / "inference.pdiparams")
    chars = rec_model.extra_files["dict"].read_text(encoding="utf-8").splitlines()
    if with_space:
        chars.append(" ")
    (target / "inference.yml").write_text(yaml.safe_dump({
        "Global": {"model_name": "my_rec_model"},
        "PostProcess": {"name": "CTCLabelDecode", "character_dict": chars},
    }, allow_unicode=True), encoding="utf-8")
    return target


@pytest.mark.own_process  # a user's Paddle model: exported, checked and measured with Paddle Inference in process
@pytest.mark.parametrize("with_space", [True, False])
def test_paddlex_rec_model_dir_reads_like_the_shipped_model(ocr_pipeline, rec_model, page, tmp_path, with_space):
    from hpi import create_pipeline

    directory = _paddlex_rec_dir(rec_model, tmp_path / "rec", with_space)
    expected = next(ocr_pipeline.predict(page, use_textline_orientation=False)).rec_texts
    with create_pipeline("OCR", text_recognition_model_dir=str(directory)) as pipeline:
        got = next(pipeline.predict(page)).rec_texts
    assert got == expected and len(got) == 2


def test_onnx_file_as_det_model(ocr_pipeline, det_model, page):
    from hpi import create_pipeline

    expected = next(ocr_pipeline.predict(page, use_textline_orientation=False)).rec_texts
    with create_pipeline("OCR", text_detection_model_dir=str(det_model.onnx_path), backend="onnxruntime") as pipeline:
        assert next(pipeline.predict(page)).rec_texts == expected


def test_unknown_model_name_without_dir_is_a_clear_error():
    from hpi import create_pipeline
    from hpi.errors import ModelError

    with pytest.raises(ModelError, match="(?s)No weights for text_recognition model 'PP-OCRv5_server_rec'.*model_dir"):
        create_pipeline("OCR", text_recognition_model_name="PP-OCRv5_server_rec")
