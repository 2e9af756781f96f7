"""table_recognition: rendered tables with known HTML scored by TEDS, PaddleX's keys and files, bad regions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hpi.errors import ConfigError, InputError
from table_rendering import Cell, grid, render_table
from teds import teds

# PaddleX 3.7.2's configs/pipelines/table_recognition.yaml (its own default: no weights for most models here).
PADDLEX_YAML = """
pipeline_name: table_recognition
use_doc_preprocessor: True
use_layout_detection: True
use_ocr_model: True
SubModules:
  LayoutDetection: {module_name: layout_detection, model_name: PP-DocLayout-L, model_dir: null}
  TableStructureRecognition: {module_name: table_structure_recognition, model_name: SLANet_plus, model_dir: null}
SubPipelines:
  DocPreprocessor:
    pipeline_name: doc_preprocessor
    use_doc_orientation_classify: True
    use_doc_unwarping: True
    SubModules:
      DocOrientationClassify: {module_name: doc_text_orientation, model_name: PP-LCNet_x1_0_doc_ori, model_dir: null}
      DocUnwarping: {module_name: image_unwarping, model_name: UVDoc, model_dir: null}
  GeneralOCR:
    pipeline_name: OCR
    text_type: general
    use_doc_preprocessor: False
    use_textline_orientation: False
    SubModules:
      TextDetection: {module_name: text_detection, model_name: PP-OCRv4_server_det, model_dir: null,
                      limit_side_len: 960, limit_type: max, max_side_limit: 4000, thresh: 0.3, box_thresh: 0.6,
                      unclip_ratio: 1.5}
      TextRecognition: {module_name: text_recognition, model_name: PP-OCRv4_server_rec_doc, model_dir: null,
                        batch_size: 1, score_thresh: 0}
"""

MERGED = [[Cell("Region", rowspan=2), Cell("Sales", colspan=2), Cell("Note")],
          [Cell("2024"), Cell("2025"), Cell("ok")],
          [Cell("North"), Cell("120"), Cell("135"), Cell("up")],
          [Cell("South"), Cell("98"), Cell("91"), Cell("down")]]


@pytest.fixture(scope="module")
def table_pipeline():
    from hpi import create_pipeline

    pipeline = create_pipeline("table_recognition")
    yield pipeline
    pipeline.close()


@pytest.fixture(scope="module")
def tables():
    """A handful of tight table crops (as layout detection gives them): ruled and unruled, merged cells,
    Latin and Chinese, 2 to 12 rows and 2 to 8 columns."""
    return {
        "ruled 4x3": render_table(grid(4, 3, 0), margin=4),
        "unruled 6x5": render_table(grid(6, 5, 1), ruled=False, margin=4),
        "merged ruled": render_table(MERGED, margin=4),
        "chinese 4x4": render_table(grid(4, 4, 3, chinese=True), margin=4),
        "ruled 2x8": render_table(grid(2, 8, 4), margin=4),
        "ruled 12x4": render_table(grid(12, 4, 5), margin=4, font_size=16),
    }


@pytest.fixture(scope="module")
def results(table_pipeline, tables):
    # Table crops: the whole image is the table (layout detection off for the call, as for a cropped table).
    return {name: next(iter(table_pipeline.predict(t.image, use_layout_detection=False))) for name, t in tables.items()}


def test_structure_and_content_teds_on_rendered_tables(results, tables):
    structure, content = {}, {}
    for name, result in results.items():
        [table] = result.table_res_list
        structure[name] = teds(table.pred_html, tables[name].html, structure_only=True)
        content[name] = teds(table.pred_html, tables[name].html)
    print({k: round(v, 3) for k, v in structure.items()}, {k: round(v, 3) for k, v in content.items()})
    assert np.mean(list(structure.values())) >= 0.95, structure
    assert np.mean(list(content.values())) >= 0.90, content
    assert structure["ruled 4x3"] == 1.0 and content["ruled 4x3"] == 1.0


def test_paddlex_keys_and_cells(results, tables):
    result = results["merged ruled"]
    res = result.json["res"]
    assert list(res) == ["input_path", "page_index", "model_settings", "overall_ocr_res", "table_res_list"]
    assert res["model_settings"] == {"use_doc_preprocessor": False, "use_layout_detection": False,
                                     "use_ocr_model": True}
    assert result.table_res_list[0].neighbor_texts == ""  # PaddleX looks for none without layout
    [table] = res["table_res_list"]
    assert list(table) == ["cell_box_list", "pred_html", "table_ocr_pred"]
    assert list(table["table_ocr_pred"]) == ["rec_polys", "rec_texts", "rec_scores", "rec_boxes"]
    cells = np.asarray(table["cell_box_list"])
    assert cells.shape == (len(tables["merged ruled"].cells), 4)
    height, width = tables["merged ruled"].image.shape[:2]
    assert cells.min() >= 0 and cells[:, 2].max() <= width and cells[:, 3].max() <= height
    # Each predicted cell box lies on its rendered cell (IoU ≥ 0.5), in reading order.
    for box, (true, _) in zip(cells, tables["merged ruled"].cells):
        inter = max(0, min(box[2], true[2]) - max(box[0], true[0])) * max(0, min(box[3], true[3]) - max(box[1], true[1]))
        union = (box[2] - box[0]) * (box[3] - box[1]) + (true[2] - true[0]) * (true[3] - true[1]) - inter
        assert inter / union >= 0.5
    assert table["pred_html"].startswith("<html><body><table>") and 'rowspan="2"' in table["pred_html"]


def test_saved_files_have_paddlex_names(results, tmp_path):
    from openpyxl import load_workbook

    result = results["merged ruled"]
    result.stem = "page"
    result.save_to_json(tmp_path)
    [html] = result.save_to_html(tmp_path)
    [xlsx] = result.save_to_xlsx(tmp_path)
    result.save_to_img(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["page_ocr_res_img.png", "page_res.json", "page_table_1.html", "page_table_1.xlsx",
                     "page_table_cell_img.png"]
    assert '<table border="1">' in html.read_text()
    saved = json.loads((tmp_path / "page_res.json").read_text())
    assert saved["table_res_list"][0]["pred_html"] == result.table_res_list[0].pred_html
    sheet = load_workbook(xlsx).active
    assert sheet["A1"].value == "Region" and sheet["B1"].value == "Sales"
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:A2", "B1:C1"}


@pytest.mark.smoke
def test_recognize_tables_on_given_regions(table_pipeline, tables):
    """The entry point layout parsing uses: regions found elsewhere, the page OCR'd once."""
    table = tables["ruled 4x3"]
    page = np.full((table.image.shape[0] + 200, table.image.shape[1] + 300, 3), 255, np.uint8)
    page[100:100 + table.image.shape[0], 150:150 + table.image.shape[1]] = table.image
    ocr = next(iter(table_pipeline.general_ocr.predict(page)))
    h, w = table.image.shape[:2]
    # A region running past the page is clipped to it.
    [found] = table_pipeline.recognize_tables(page, [[150, 100, 150 + w, 100 + h + 10_000]], ocr)
    assert teds(found.pred_html, table.html) == 1.0
    assert found.table_region_id == 1 and np.asarray(found.cell_box_list)[:, 0].min() >= 150
    with pytest.raises(InputError, match="too small"):
        table_pipeline.recognize_tables(page, [[10, 10, 14, 200]], ocr)
    with pytest.raises(InputError, match="too small"):
        table_pipeline.recognize_tables(page, [[5000, 5000, 6000, 6000]], ocr)  # entirely outside the page


def test_a_page_without_ocr_text_still_gives_the_structure(table_pipeline):
    """No text anywhere: PaddleX's fallback HTML (the structure tokens), no error."""
    blank = render_table([[Cell(""), Cell("")], [Cell(""), Cell("")]], margin=4)
    [result] = list(table_pipeline.predict(blank.image, use_layout_detection=False))
    [table] = result.table_res_list
    assert table.json["res"]["table_ocr_pred"]["rec_texts"] == []
    assert "<table>" in table.pred_html


def test_use_ocr_model_false_needs_the_ocr_result(table_pipeline, tables):
    with pytest.raises(ConfigError, match="overall_ocr_res"):
        table_pipeline.predict(tables["ruled 4x3"].image, use_ocr_model=False)


def test_given_ocr_and_layout_results_are_used_instead_of_the_models(table_pipeline, page_results, monkeypatch):
    """PaddleX's predict(overall_ocr_res=..., layout_det_res=...): the same tables as one full run, from an
    earlier run's results, as hpi objects or as their saved JSON; neither OCR nor layout runs again."""
    page, full = page_results["table"]
    ocr, layout = full.overall_ocr_res, full.layout_det_res
    from hpi.results.base import to_jsonable

    saved = json.loads(json.dumps(to_jsonable(full.json["res"])))  # what save_to_json wrote, read back
    as_json = {"overall_ocr_res": saved["overall_ocr_res"], "layout_det_res": {"res": saved["layout_det_res"]}}

    def no_model(*args, **kwargs):
        raise AssertionError("a model ran although its result was given")

    monkeypatch.setattr(table_pipeline.general_ocr, "predict_item", no_model)
    monkeypatch.setattr(table_pipeline.predictor("layout_detection"), "predict", no_model)
    for given in ({"overall_ocr_res": ocr, "layout_det_res": layout}, as_json):
        [result] = list(table_pipeline.predict(page.image, use_ocr_model=False, **given))
        assert [t.pred_html for t in result.table_res_list] == [t.pred_html for t in full.table_res_list]
        assert result.json["res"]["overall_ocr_res"]["rec_texts"] == full.json["res"]["overall_ocr_res"]["rec_texts"]
        assert to_jsonable(result.json["res"]["layout_det_res"]["boxes"]) == saved["layout_det_res"]["boxes"]
        settings = result.model_settings
        assert settings["use_ocr_model"] is False and settings["use_layout_detection"] is False
        assert set(result.img) >= {"layout_det_res", "ocr_res_img"}  # pictures drawn on this page
    # PaddleX's rec_boxes alone (no polygons) are enough to fill the cells.
    boxes_only = {k: v for k, v in as_json["overall_ocr_res"].items() if k != "rec_polys"}
    [result] = list(table_pipeline.predict(page.image, overall_ocr_res=boxes_only, layout_det_res=layout))
    assert [t.pred_html for t in result.table_res_list] == [t.pred_html for t in full.table_res_list]


def test_given_results_are_checked(table_pipeline, page_results):
    page, full = page_results["table"]
    ocr = full.overall_ocr_res
    image = page.image
    with pytest.raises(ConfigError, match="use_ocr_model=True"):
        table_pipeline.predict(image, use_ocr_model=True, overall_ocr_res=ocr)
    with pytest.raises(ConfigError, match="use_layout_detection=True"):
        table_pipeline.predict(image, use_layout_detection=True, layout_det_res=full.layout_det_res)
    with pytest.raises(ConfigError, match="one image"):
        table_pipeline.predict([image, image], overall_ocr_res=ocr)
    with pytest.raises(ConfigError, match="rec_scores"):
        table_pipeline.predict(image, overall_ocr_res={"rec_texts": ["a"], "rec_polys": [[[0, 0], [1, 0], [1, 1], [0, 1]]],
                                                       "rec_scores": None})
    with pytest.raises(ConfigError, match="one of each per line"):
        table_pipeline.predict(image, overall_ocr_res={"rec_texts": ["a", "b"], "rec_scores": [1.0],
                                                       "rec_boxes": [[0, 0, 5, 5]]})
    with pytest.raises(ConfigError, match="OCRResult"):
        table_pipeline.predict(image, overall_ocr_res="ocr.json")
    with pytest.raises(ConfigError, match="coordinate"):
        table_pipeline.predict(image, overall_ocr_res=ocr, layout_det_res={"boxes": [{"label": "table"}]})


def test_given_results_refuse_a_second_page(table_pipeline, page_results, tmp_path):
    import cv2

    page, full = page_results["table"]
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(tmp_path / name), page.image)
    results = list(table_pipeline.predict(str(tmp_path), overall_ocr_res=full.overall_ocr_res,
                                          layout_det_res=full.layout_det_res))
    assert len(results[0].table_res_list) == 1  # the first image is this result's
    assert "describe one image" in str(results[1].error)  # the second is reported, not given the first's text


def test_paddlex_default_yaml_names_the_missing_weights(tmp_path):
    from hpi import create_pipeline

    path = tmp_path / "table_recognition.yaml"
    path.write_text(PADDLEX_YAML)
    with pytest.raises(ConfigError) as error:
        create_pipeline(str(path), use_doc_preprocessor=False)
    message = str(error.value)
    assert "PP-DocLayout-L" in message and "model_dir" in message and "PicoDet_layout_CDLA" in message
    with pytest.raises(ConfigError, match="PP-OCRv4_server_det.*model_dir"):
        create_pipeline(str(path), use_doc_preprocessor=False, use_layout_detection=False)


def test_serving_request_has_paddlex_fields():
    from hpi.pipelines import pipeline_class
    from hpi.serving.apps import SERVING_APPS, request_fields

    app = SERVING_APPS["table_recognition"]
    assert (app.endpoint, app.results_field) == ("/table-recognition", "tableRecResults")
    fields = request_fields(pipeline_class("table_recognition"))
    for name in ("useDocOrientationClassify", "useDocUnwarping", "useLayoutDetection", "useOcrModel",
                 "textDetLimitSideLen", "textDetLimitType", "textDetThresh", "textDetBoxThresh",
                 "textDetUnclipRatio", "textRecScoreThresh", "useOcrResultsWithTableCells"):
        assert name in fields


def test_serving_entry(results, tables):
    from hpi.serving.apps import SERVING_APPS

    entry = SERVING_APPS["table_recognition"].entry(results["ruled 4x3"], tables["ruled 4x3"].image, True,
                                                     lambda picture, **_: "b64")
    assert set(entry) == {"prunedResult", "outputImages", "inputImage"}
    assert set(entry["outputImages"]) == {"ocr_res_img", "table_cell_img"}
    assert "input_path" not in entry["prunedResult"]


@pytest.fixture(scope="module")
def page_results(table_pipeline):
    """Two rendered A4 pages through layout detection: one with a ruled table, one with text only."""
    from layout_rendering import render_page

    with_table = render_page(seed=3, paragraphs=(2, 1), figure=False, table=(5, 4))
    without = render_page(seed=4, paragraphs=(3, 2), table=None, figure=False)
    return {"table": (with_table, next(iter(table_pipeline.predict(with_table.image)))),
            "none": (without, next(iter(table_pipeline.predict(without.image))))}


def test_layout_finds_the_table_on_a_page(page_results):
    from layout_rendering import iou
    from table_rendering import table_html

    page, result = page_results["table"]
    assert list(result.json["res"]) == ["input_path", "page_index", "model_settings", "layout_det_res",
                                        "overall_ocr_res", "table_res_list"]
    [region] = page.of("table")
    tables = [b for b in result.layout_det_res.boxes if b["label"] == "table"]
    assert len(tables) == 1 and iou(tables[0]["coordinate"], region.box) >= 0.7
    [table] = result.table_res_list
    truth = table_html([[Cell(text) for text in row] for row in region.cells])
    assert teds(table.pred_html, truth, structure_only=True) >= 0.95
    assert teds(table.pred_html, truth) >= 0.9
    assert "layout_det_res" in result.img


def test_a_page_without_a_table_gives_an_empty_list(page_results):
    _, result = page_results["none"]
    assert result.table_res_list == [] and result.json["res"]["table_res_list"] == []
    assert result.json["res"]["overall_ocr_res"]["rec_texts"]  # the page was read


def test_cli_writes_paddlex_files(tmp_path, tables):
    import cv2

    from cli_run import run_cli

    cv2.imwrite(str(tmp_path / "crop.png"), tables["ruled 2x8"].image)
    out = tmp_path / "out"
    proc = run_cli("--pipeline", "table_recognition", "--input", tmp_path / "crop.png", "--use_layout_detection",
                   "False", "--save_path", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["crop_ocr_res_img.png", "crop_res.json", "crop_table_1.html",
                                                      "crop_table_1.xlsx", "crop_table_cell_img.png"]


def test_cells_read_one_by_one_and_y_sorted_give_the_same_table(table_pipeline):
    """PaddleX's use_ocr_results_with_table_cells (OCR of each cell crop) and cell_sort_by_y_projection."""
    table = render_table(grid(2, 3, 7), margin=4)
    for params in ({"use_ocr_results_with_table_cells": True}, {"cell_sort_by_y_projection": True}):
        [result] = list(table_pipeline.predict(table.image, use_layout_detection=False, **params))
        assert teds(result.table_res_list[0].pred_html, table.html) >= 0.9, params
