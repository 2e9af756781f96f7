"""The default OCR (PP-OCRv6_small): lines read with their spaces; PaddleX model dirs with an .onnx + inference.yml."""

from __future__ import annotations

import logging
import shutil

import pytest
import yaml

from rendering import PAGE_TEXTS, latin_fonts, render_lines, render_single_line


@pytest.fixture(scope="module")
def fonts():
    found = latin_fonts()
    if not found:
        pytest.skip("no DejaVu fonts to render test images")
    return found


@pytest.mark.smoke
def test_default_pipeline_keeps_the_spaces_between_words(fonts):
    """PP-OCRv4 dropped most spaces between English words (hpi 0.1 ignored whitespace in its checks)."""
    from hpi import create_pipeline

    with create_pipeline("OCR") as pipeline:
        assert pipeline.config.text_detection.model_name == "PP-OCRv6_small_det"
        exact = total = 0
        for index, font in enumerate(fonts[:3]):
            result = next(pipeline.predict(render_lines(PAGE_TEXTS, font, size=(24, 30, 36)[index]).image))
            got = {" ".join(t.split()) for t in result.rec_texts}
            exact += sum(text in got for text in PAGE_TEXTS)
            total += len(PAGE_TEXTS)
        line = next(pipeline.predict(render_single_line("Invoice No. 2026-1125", fonts[0], size=32).image))
    assert exact / total >= 0.95, (exact, total)
    assert line.rec_texts == ["Invoice No. 2026-1125"]


def test_paddlex_hpi_model_dir_with_inference_onnx_and_yml(fonts, tmp_path, caplog):
    """What PaddleX's high-performance plugin leaves: inference.onnx + inference.yml; the yml's facts are used."""
    from hpi import create_pipeline
    from hpi.backends.export_check import prepare_model

    shipped = prepare_model("PP-OCRv6_small_rec")
    directory = tmp_path / "my_rec"
    directory.mkdir()
    shutil.copy(shipped.onnx_path, directory / "inference.onnx")
    data = yaml.safe_load(shipped.extra_files["yml"].read_text(encoding="utf-8"))
    data["Global"]["model_name"] = "my_finetuned_rec"
    (directory / "inference.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    image = render_lines(PAGE_TEXTS[:3], fonts[0], size=28).image
    with create_pipeline("OCR") as reference:
        expected = next(reference.predict(image)).rec_texts
    with caplog.at_level(logging.INFO, logger="hpi"):
        with create_pipeline("OCR", text_recognition_model_dir=str(directory)) as pipeline:
            assert next(pipeline.predict(image)).rec_texts == expected
    assert "Model my_finetuned_rec: from" in caplog.text and "character_dict (18708 characters)" in caplog.text
