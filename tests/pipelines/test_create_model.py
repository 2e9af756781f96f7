"""create_model: PaddleX's single-model API on real models, checked against the pipelines that run the same
models, with PaddleX's module result keys, parameter names and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hpi import create_model, create_pipeline
from hpi.errors import ConfigError, ModelError
from rendering import latin_fonts, render_lines, render_single_line

TEXTS = ["Invoice No. 2026-1125", "Total due: 1,680.00 EUR", "Thank you for your business"]


@pytest.fixture(scope="module")
def font():
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts (Debian package fonts-dejavu-core) to render test images")
    return fonts[0]


@pytest.fixture(scope="module")
def page(font):
    return render_lines(TEXTS, font, size=28, width=760).image


@pytest.fixture(scope="module")
def ocr():
    with create_pipeline("OCR", use_textline_orientation=False) as pipeline:
        yield pipeline


@pytest.fixture(scope="module")
def det():
    """PaddleX's default text detection module, made once for the tests that take it as it is."""
    with create_model("PP-OCRv6_small_det") as model:
        yield model


def test_text_detection_defaults_are_paddlex_modules(page, det):
    """PaddleX's text_detection module: long side 960, thresholds from the model's own inference.yml."""
    def settings(model, **params):
        call = model.call_for(params)  # the module config with the call's settings written in
        return [getattr(call, k) for k in ("limit_side_len", "limit_type", "thresh", "box_thresh", "unclip_ratio")]

    assert settings(det) == [960, "max", 0.2, 0.45, 1.4]
    assert settings(create_model("PP-OCRv4_mobile_det")) == [960, "max", 0.3, 0.6, 1.5]
    given = create_model("PP-OCRv6_small_det", thresh=0.5, limit_type="min")
    assert settings(given) == [960, "min", 0.5, 0.45, 1.4]
    assert settings(given, thresh=0.25, limit_side_len=64) == [64, "min", 0.25, 0.45, 1.4]


def test_text_detection_finds_what_the_ocr_pipeline_finds(page, ocr):
    det = create_model("PP-OCRv6_small_det", limit_side_len=64, limit_type="min")  # the OCR pipeline's sizes
    [result] = list(det.predict(page, batch_size=1))
    assert list(result.json["res"]) == ["input_path", "page_index", "dt_polys", "dt_scores"]
    [full] = list(ocr.predict(page))
    assert len(result.dt_polys) == len(TEXTS)
    # The same boxes; the OCR pipeline orders them top to bottom, the module keeps DB's order (as PaddleX).
    def ordered(polys):
        return sorted(np.asarray(p).tolist() for p in polys)

    assert ordered(result.dt_polys) == ordered(full.dt_polys)
    # PaddleX's module parameter names, at creation and per call.
    strict = create_model("PP-OCRv6_small_det", box_thresh=0.999)
    assert len(next(strict.predict(page)).dt_polys) < len(TEXTS)
    assert len(next(strict.predict(page, box_thresh=0.45)).dt_polys) == len(TEXTS)
    with pytest.raises(ConfigError, match="box_thresh"):
        det.predict(page, box_thresh=2.0)


def test_text_recognition_reads_line_images(font):
    rec = create_model("PP-OCRv6_small_rec")
    lines = [render_single_line(text, font).image for text in TEXTS]
    results = list(rec.predict(lines))
    assert [r.rec_text for r in results] == TEXTS
    assert all(r.rec_score > 0.9 for r in results)
    assert list(results[0].json["res"]) == ["input_path", "page_index", "rec_text", "rec_score"]


def test_textline_orientation_labels(font):
    cls = create_model("PP-LCNet_x1_0_textline_ori")
    upright = render_single_line(TEXTS[1], font).image
    flipped = render_single_line(TEXTS[1], font, upside_down=True).image
    up, down = list(cls.predict([upright, flipped]))
    assert (up.class_ids, up.label_names) == ([0], ["0_degree"])
    assert (down.class_ids, down.label_names) == ([1], ["180_degree"])
    assert list(up.json["res"]) == ["input_path", "page_index", "class_ids", "scores", "label_names"]


def test_doc_orientation_agrees_with_the_doc_preprocessor(page):
    doc = create_model("PP-LCNet_x1_0_doc_ori")
    with create_pipeline("doc_preprocessor") as preprocessor:
        for turns in range(4):
            turned = np.ascontiguousarray(np.rot90(page, turns))
            [result] = list(doc.predict(turned))
            [expected] = list(preprocessor.predict(turned))
            assert result.label_names == [str(expected.angle)]
            assert result.class_ids == [(0, 90, 180, 270).index(expected.angle)]


def test_layout_detection_with_paddlex_module_names():
    from layout_rendering import render_page

    rendered = render_page(seed=3, paragraphs=(2, 1), figure=False, table=(5, 4))
    model = create_model("PicoDet_layout_CDLA")
    [result] = list(model.predict(rendered.image))
    with create_pipeline("layout_detection") as pipeline:
        [expected] = list(pipeline.predict(rendered.image))
    assert result.boxes == expected.boxes and any(b["label"] == "table" for b in result.boxes)
    strict = create_model("PicoDet_layout_CDLA", threshold=0.9)
    assert len(next(strict.predict(rendered.image)).boxes) < len(result.boxes)
    assert len(next(strict.predict(rendered.image, threshold=0.5)).boxes) == len(expected.boxes)
    with pytest.raises(ConfigError, match="layout_threshold"):
        model.predict(rendered.image, layout_threshold=0.5)  # the pipelines' name, not the module's


def test_table_structure_matches_the_table_pipeline():
    from table_rendering import grid, render_table

    table = render_table(grid(4, 3, 0), margin=4)
    model = create_model("SLANet_plus")
    [result] = list(model.predict(table.image))
    with create_pipeline("table_recognition", use_layout_detection=False) as pipeline:
        [expected] = list(pipeline.predict(table.image)).pop().table_res_list
    assert result.structure == expected.structure
    assert len(result.bbox) == len(expected.cell_box_list) and all(len(cell) == 8 for cell in result.bbox)
    assert list(result.json["res"]) == ["input_path", "page_index", "bbox", "structure", "structure_score"]


def test_seal_text_detection_gives_curved_polygons():
    from seal_rendering import render_seal

    seal = render_seal("GLOBAL TRADING CO LTD", "CONTRACT", seed=2, page=False)
    [result] = list(create_model("PP-OCRv4_mobile_seal_det").predict(seal.image))
    assert result.dt_polys and max(len(np.asarray(p).reshape(-1, 2)) for p in result.dt_polys) > 4


def test_unwarping_gives_the_doc_preprocessors_page(page):
    from unwarp_rendering import curl_page

    curled = curl_page(page, seed=1)
    [result] = list(create_model("UVDoc").predict(curled))
    with create_pipeline("doc_preprocessor", use_doc_orientation_classify=False, use_doc_unwarping=True) as pipe:
        [expected] = list(pipe.predict(curled))
    assert np.array_equal(result.doctr_img, expected.output_img)


def test_files_errors_and_batches(page, tmp_path, capsys, det):
    import cv2

    (tmp_path / "in").mkdir()
    cv2.imwrite(str(tmp_path / "in" / "a.png"), page)
    (tmp_path / "in" / "b.png").write_bytes(b"not an image")
    good, bad = list(det.predict(str(tmp_path / "in")))
    assert good.ok and not bad.ok and "b.png" in str(bad.error)  # one bad file is reported, the rest go on
    good.save_to_img(tmp_path / "out")
    good.save_to_json(tmp_path / "out")
    assert (tmp_path / "out" / "a_res.png").is_file()
    saved = json.loads((tmp_path / "out" / "a_res.json").read_text())
    assert len(saved["dt_polys"]) == len(TEXTS) and saved["input_path"].endswith("a.png")
    good.print()
    assert '"dt_scores"' in capsys.readouterr().out
    with pytest.raises(ConfigError, match="batch_size"):
        det.predict(page, batch_size=0)


def test_model_errors(tmp_path):
    with pytest.raises(ModelError, match="model_dir"):
        create_model("PP-OCRv6_medium_det")  # a PaddleX model not on disk, offline: the way out is named
    with pytest.raises(ConfigError, match="PaddleX's video_classification model 'PP-TSM-R50_8frames_uniform'.*PP-OCRv6_small_det"):
        create_model("PP-TSM-R50_8frames_uniform")  # a module hpi does not run yet: the models hpi runs are listed
    with pytest.raises(ModelError, match="(?s)No weights for image_classification model 'ResNet50'.*model_dir"):
        create_model("ResNet50")  # a module hpi runs, the model nowhere here (offline)
    with pytest.raises(ModelError, match="No weights for object_detection model 'PP-ShiTuV2_det'"):
        create_model("PP-ShiTuV2_det")  # PaddleX's model list, not a substring rule, gives the task
    with pytest.raises(ConfigError, match="inference.yml"):
        create_model(model_dir=tmp_path)
    with pytest.raises(ConfigError, match="thresh"):
        create_model("PP-OCRv6_small_det", treshold=0.3)


def test_a_model_dir_or_onnx_file(page, det):
    from hpi.backends.export_check import prepare_model

    onnx = prepare_model("PP-OCRv6_small_det").onnx_path
    # A bare .onnx file has no inference.yml, so its thresholds are given here (by name they come from it).
    by_file = create_model("PP-OCRv6_small_det", model_dir=onnx, thresh=0.2, box_thresh=0.45, unclip_ratio=1.4)
    by_name = det
    assert np.array_equal(np.asarray(next(by_file.predict(page)).dt_polys),
                          np.asarray(next(by_name.predict(page)).dt_polys))


def test_every_task_is_one_row_on_each_side():
    """A task is declared once per layer: hpi.models.tasks (rules, PaddleX's names) and module_tasks (config,
    predictor, result); create_model is made from the rows, with no per-task class or name rule."""
    from hpi.models.tasks import TASKS
    from hpi.pipelines.module_tasks import MODULE_TASKS
    from hpi.pipelines.single_model import ModulePipeline

    assert set(MODULE_TASKS) == set(TASKS)
    for task, row in MODULE_TASKS.items():
        assert row.info.name == task and row.info.paddlex_module
        model = ModulePipeline.for_task(task)
        assert model.name == f"model:{row.info.paddlex_module}" and model.row is row
        assert {p.name for p in model.params} == set(row.params)
        assert ModulePipeline.for_task(task) is model  # made once
