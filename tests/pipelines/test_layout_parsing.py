"""The layout_parsing pipeline on a rendered page: blocks in reading order with their texts and the table's HTML,
PaddleX's keys and files, Markdown, refused options, serving at /layout-parsing."""

from __future__ import annotations

import asyncio
import base64
import difflib
import json

import pytest

from hpi.errors import ConfigError
from layout_rendering import blank_page, render_page

# PaddleX 3.7.2's own configs/pipelines/layout_parsing.yaml (its v1 schema), abridged to the keys hpi reads.
PADDLEX_YAML = """
pipeline_name: layout_parsing
use_doc_preprocessor: True
use_seal_recognition: True
use_table_recognition: True
use_formula_recognition: False
SubModules:
  LayoutDetection: {module_name: layout_detection, model_name: RT-DETR-H_layout_17cls, model_dir: null}
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
      TextRecognition: {module_name: text_recognition, model_name: PP-OCRv4_server_rec, model_dir: null,
                        batch_size: 6, score_thresh: 0}
  TableRecognition:
    pipeline_name: table_recognition
    use_layout_detection: False
    use_doc_preprocessor: False
    use_ocr_model: False
    SubModules:
      TableStructureRecognition: {module_name: table_structure_recognition, model_name: SLANet_plus, model_dir: null}
  SealRecognition:
    pipeline_name: seal_recognition
    use_layout_detection: False
    use_doc_preprocessor: False
    SubPipelines:
      SealOCR:
        pipeline_name: OCR
        text_type: seal
        use_doc_preprocessor: False
        use_textline_orientation: False
        SubModules:
          TextDetection: {module_name: seal_text_detection, model_name: PP-OCRv4_server_seal_det, model_dir: null,
                          limit_side_len: 736, limit_type: min, max_side_limit: 4000, thresh: 0.2, box_thresh: 0.6,
                          unclip_ratio: 0.5}
          TextRecognition: {module_name: text_recognition, model_name: PP-OCRv4_server_rec, model_dir: null,
                            batch_size: 1, score_thresh: 0}
  FormulaRecognition:
    pipeline_name: formula_recognition
    use_layout_detection: False
    use_doc_preprocessor: False
    SubModules:
      FormulaRecognition: {module_name: formula_recognition, model_name: PP-FormulaNet-L, model_dir: null,
                           batch_size: 5}
"""


@pytest.fixture(scope="module")
def parser():
    from hpi import create_pipeline

    pipeline = create_pipeline("layout_parsing", device="cpu")
    yield pipeline
    pipeline.close()


@pytest.fixture(scope="module")
def page():
    return render_page(2, title="Annual Report", paragraphs=(3, 3), table=(4, 3), figure=False, words_per_line=9)


@pytest.fixture(scope="module")
def result(parser, page):
    return next(parser.predict(page.image))


def _same(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, "".join(a.split()).lower(), "".join(b.split()).lower()).ratio()


@pytest.mark.smoke
def test_blocks_in_reading_order_with_texts_and_table_html(result, page):
    blocks = [b for b in result.parsing_res_list if b["block_content"].strip()]
    assert [list(b) for b in blocks] == [["block_bbox", "block_label", "block_content"]] * len(blocks)
    expected = [r for r in page.regions]  # title, text, table, text: top to bottom
    found = []
    for region in expected:
        if region.label == "table":
            index = next(i for i, b in enumerate(blocks) if b["block_label"] == "table")
            html = blocks[index]["block_content"]
            assert html.startswith("<html><body><table>") and html.count("<tr>") == len(region.cells)
            cells = [c for row in region.cells for c in row]
            assert sum(f"<td>{c}</td>" in html for c in cells) >= 0.9 * len(cells), html
        else:
            scores = [_same(region.text, b["block_content"]) for b in blocks]
            index = max(range(len(blocks)), key=scores.__getitem__)
            assert scores[index] >= 0.9, (region.text, blocks[index])
            assert blocks[index]["block_label"] == region.label
        found.append(index)
    assert found == sorted(found)  # reading order


def test_paddlex_keys(result):
    res = result.json["res"]
    assert list(res)[:4] == ["input_path", "page_index", "model_settings", "parsing_res_list"]
    assert {"layout_det_res", "overall_ocr_res", "table_res_list"} <= set(res)
    assert list(res["model_settings"]) == ["use_doc_preprocessor", "use_seal_recognition", "use_table_recognition",
                                           "use_formula_recognition"]
    assert list(res["layout_det_res"]) == ["input_path", "page_index", "boxes"]
    (table,) = res["table_res_list"]
    assert {"cell_box_list", "pred_html", "table_ocr_pred"} <= set(table)
    assert "seal_res_list" not in res  # no seal on the page


def test_markdown_has_the_blocks_in_order(result, page, tmp_path):
    text = result.markdown()
    title, first, table, second = page.regions
    positions = [text.index("# Annual Report"), text.index(first.text.split()[0]),
                 text.index("<table>"), text.index(second.text.split()[0] + " " + second.text.split()[1])]
    assert positions == sorted(positions)
    path = result.save_to_markdown(tmp_path)
    assert path.name == f"{result.stem}.md" and path.read_text() == text


def test_files(result, tmp_path):
    assert result.save_to_json(tmp_path).name == f"{result.stem}_res.json"
    result.save_to_img(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    for picture in ("layout_det_res", "overall_ocr_res", "table_cell_img"):
        assert f"{result.stem}_{picture}.png" in names
    (html,) = result.save_to_html(tmp_path)
    assert html.name == f"{result.stem}_table_1.html"


def test_blank_page_has_no_blocks(parser):
    (blank,) = parser.predict([blank_page(600, 800)])
    assert blank.parsing_res_list == [] and blank.table_res_list == []


def test_tables_off_leave_the_table_block_empty(parser, page):
    res = next(parser.predict(page.image, use_table_recognition=False, use_seal_recognition=False))
    tables = [b for b in res.parsing_res_list if b["block_label"] == "table"]
    assert tables and all(b["block_content"] == "" for b in tables)  # PaddleX: the block stays, empty
    assert "table_res_list" not in res.json["res"]


def test_formulas_are_refused():
    from hpi import create_pipeline

    with pytest.raises(ConfigError, match="formula recognition is not supported.*no formula model"):
        create_pipeline("layout_parsing", use_formula_recognition=True)


def test_formulas_per_call_are_refused(parser):
    with pytest.raises(ConfigError, match="use_formula_recognition=True is not supported"):
        parser.predict(blank_page(64, 64), use_formula_recognition=True)


def test_paddlex_yaml_loads_and_names_the_missing_model(tmp_path):
    from hpi import create_pipeline
    from hpi.pipelines import load_config

    path = tmp_path / "layout_parsing.yaml"
    path.write_text(PADDLEX_YAML)
    _, config = load_config(str(path))
    assert config.layout_detection.model_name == "RT-DETR-H_layout_17cls"
    with pytest.raises(ConfigError) as info:
        create_pipeline(str(path), use_doc_preprocessor=False)
    message = str(info.value)
    assert "model_dir" in message and ("RT-DETR-H_layout_17cls" in message or "PP-OCRv4_server" in message)


def test_served_at_layout_parsing(parser, page):
    import cv2

    from hpi.serving.app import Service
    from hpi.serving.settings import ServingSettings

    service = Service(parser, ServingSettings(visualize=False))
    data = base64.b64encode(cv2.imencode(".png", page.image)[1].tobytes()).decode()
    body = json.dumps({"file": data, "fileType": 1, "useTableRecognition": False, "useSealRecognition": False,
                       "layoutThreshold": 0.5}).encode()
    status, content, _ = asyncio.run(service.handle(body))
    answer = json.loads(content)
    assert status == 200, answer
    (entry,) = answer["result"]["layoutParsingResults"]
    assert list(entry) == ["prunedResult"]
    assert list(entry["prunedResult"])[:2] == ["model_settings", "parsing_res_list"]
    status, content, _ = asyncio.run(service.handle(json.dumps({"file": data, "fileType": 1,
                                                                "useFormulaRecognition": True}).encode()))
    assert status == 422 and "formula" in json.loads(content)["errorMsg"]


def test_seal_is_read_through_seal_recognition(parser):
    """CDLA has no seal class: the seal pipeline's ink-colour regions become seal blocks (texts joined by ", ")."""
    from seal_rendering import render_seal

    seal = render_seal("GREEN VALLEY TRADING COMPANY", "CONTRACT SEAL", seed=3)
    res = next(parser.predict(seal.image, use_table_recognition=False))
    (block,) = [b for b in res.parsing_res_list if b["block_label"] == "seal"]
    assert _same(block["block_content"], "GREEN VALLEY TRADING COMPANY, CONTRACT SEAL") >= 0.85, block
    x1, y1, x2, y2 = block["block_bbox"]
    assert x1 <= seal.box[0] + 20 and y1 <= seal.box[1] + 20 and x2 >= seal.box[2] - 20 and y2 >= seal.box[3] - 20
    (entry,) = res.json["res"]["seal_res_list"]
    assert entry["rec_texts"] == block["block_content"].split(", ")
    # The general OCR's and the seal OCR's models are both listed, each under its own path.
    described = parser.describe()
    assert {"general_ocr.text_detection", "general_ocr.text_recognition"} <= set(described), described
    assert any(key.startswith("seal_recognition.") and key.endswith("text_detection") for key in described), described
