"""Result objects: PaddleX's keys in order, print, save_to_json, save_to_img."""

from __future__ import annotations

import json

import pytest

from rendering import latin_fonts, render_lines

PADDLEX_KEYS = [
    "input_path", "page_index", "model_settings", "dt_polys", "text_det_params", "text_type",
    "textline_orientation_angles", "text_rec_score_thresh", "return_word_box", "rec_texts", "rec_scores",
    "rec_polys", "rec_boxes",
]


@pytest.fixture(scope="module")
def result_and_path(ocr_pipeline, tmp_path_factory):
    import cv2

    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test images")
    rendered = render_lines(["Result object test", "Line two 2026"], fonts[0], size=30)
    path = tmp_path_factory.mktemp("res") / "sample.png"
    cv2.imwrite(str(path), rendered.image)
    return next(ocr_pipeline.predict(str(path))), path


def test_json_keys_and_values(result_and_path):
    result, path = result_and_path
    res = result.json["res"]
    assert list(res) == PADDLEX_KEYS
    assert res["input_path"] == str(path)
    assert res["page_index"] is None
    assert res["model_settings"] == {"use_doc_preprocessor": False, "use_textline_orientation": True}
    assert res["text_det_params"]["thresh"] == 0.2 and res["text_det_params"]["box_thresh"] == 0.45
    assert res["text_type"] == "general"
    assert ["".join(t.split()) for t in res["rec_texts"]] == ["Resultobjecttest", "Linetwo2026"]
    assert all(0.5 < s <= 1.0 for s in res["rec_scores"])
    assert res["rec_polys"].shape == (2, 4, 2) and res["rec_boxes"].shape == (2, 4)
    x1, y1, x2, y2 = res["rec_boxes"][0]
    assert x1 < x2 and y1 < y2
    assert result["rec_texts"] == res["rec_texts"]


def test_print(result_and_path, capsys):
    result, _ = result_and_path
    result.print()
    printed = json.loads(capsys.readouterr().out)
    assert printed["res"]["rec_texts"] == result.rec_texts


def test_save_to_json_and_img(result_and_path, tmp_path):
    from PIL import Image

    result, _ = result_and_path
    json_path = result.save_to_json(tmp_path)
    assert json_path.name == "sample_res.json"
    data = json.loads(json_path.read_text())
    assert list(data) == PADDLEX_KEYS and data["rec_texts"] == result.rec_texts
    img_path = result.save_to_img(tmp_path)
    assert img_path.name == "sample_ocr_res_img.png"
    with Image.open(img_path) as img:
        h, w = result.image.shape[:2]
        assert img.size == (2 * w, h)
        # The right half carries the drawn text: it is not blank.
        right = img.crop((w, 0, 2 * w, h)).convert("L")
        assert right.getextrema()[0] < 128
    explicit = result.save_to_json(tmp_path / "custom.json")
    assert explicit.name == "custom.json" and explicit.is_file()
