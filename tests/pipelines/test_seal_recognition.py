"""seal_recognition: rendered seals read exactly, PaddleX's result keys and files, configs, serving, bad inputs."""

from __future__ import annotations

import asyncio
import base64
import json

import cv2
import numpy as np
import pytest
from seal_rendering import normalize, render_seal, seal_set

from hpi import create_pipeline
from hpi.errors import ConfigError, InputError
from rendering import cjk_font, render_lines

# paddlex/configs/pipelines/seal_recognition.yaml of PaddleX 3.7.2, verbatim.
PADDLEX_SEAL_YAML = """

pipeline_name: seal_recognition

use_doc_preprocessor: True
use_layout_detection: True

SubModules:
  LayoutDetection:
    module_name: layout_detection
    model_name: PP-DocLayout-L
    model_dir: null
    threshold: 0.5
    layout_nms: True
    layout_unclip_ratio: 1.0
    layout_merge_bboxes_mode: "large"

SubPipelines:
  DocPreprocessor:
    pipeline_name: doc_preprocessor
    use_doc_orientation_classify: True
    use_doc_unwarping: True
    SubModules:
      DocOrientationClassify:
        module_name: doc_text_orientation
        model_name: PP-LCNet_x1_0_doc_ori
        model_dir: null
      DocUnwarping:
        module_name: image_unwarping
        model_name: UVDoc
        model_dir: null
  SealOCR:
    pipeline_name: OCR
    text_type: seal
    use_doc_preprocessor: False
    use_textline_orientation: False
    SubModules:
      TextDetection:
        module_name: seal_text_detection
        model_name: PP-OCRv4_server_seal_det
        model_dir: null
        limit_side_len: 736
        limit_type: min
        max_side_len: 4000
        thresh: 0.2
        box_thresh: 0.6
        unclip_ratio: 0.5
      TextRecognition:
        module_name: text_recognition
        model_name: PP-OCRv4_server_rec
        model_dir: null
        batch_size: 1
        score_thresh: 0
"""


@pytest.fixture(scope="module")
def seal_pipeline():
    pipeline = create_pipeline("seal_recognition")
    yield pipeline
    pipeline.close()


@pytest.fixture(scope="module")
def seals():
    return seal_set(6, seed=101)  # half Chinese when the CJK font exists; the benchmark's set is held out


def _read(result) -> list[str]:
    return [normalize(t) for seal in result.seal_res_list for t in seal.rec_texts]


@pytest.mark.smoke
def test_rendered_seals_read_exactly(seal_pipeline, seals):
    results = list(seal_pipeline.predict([s.image for s in seals]))
    exact = sum(_read(r) == [normalize(t) for t in s.texts] for r, s in zip(results, seals))
    # Measured on the held-out set (benchmarks/bench_seal.py): 100%; the floor leaves room for one miss.
    assert exact >= len(seals) - 1, [(s.texts, _read(r)) for r, s in zip(results, seals)]
    for result in results:
        assert len(result.seal_res_list) == 1 and result.seal_res_list[0].seal_region_id == 1
        assert result["layout_det_res"]["boxes"][0]["label"] == "seal"


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font (fonts-wqy-microhei) to render a Chinese seal")
def test_chinese_seal_and_its_curved_polygon(seal_pipeline):
    seal = render_seal("北京星河科技有限公司", "合同专用章", chinese=True, seed=5)
    result = next(seal_pipeline.predict(seal.image))
    assert _read(result) == ["北京星河科技有限公司", "合同专用章"]
    arc = result.seal_res_list[0].dt_polys[0]
    assert arc.ndim == 2 and arc.shape[1] == 2 and len(arc) > 8  # a curved polygon, not a quad


def test_result_keys_and_files(seal_pipeline, tmp_path):
    seal = render_seal("GLOBAL TRADING CO LTD", "CONTRACT", seed=2)
    result = next(seal_pipeline.predict(seal.image))
    res = result.json["res"]
    assert list(res) == ["input_path", "page_index", "model_settings", "layout_det_res", "seal_res_list"]
    assert res["model_settings"] == {"use_doc_preprocessor": False, "use_layout_detection": True}
    entry = res["seal_res_list"][0]
    for key in ("dt_polys", "text_det_params", "text_type", "rec_texts", "rec_scores", "rec_polys", "rec_boxes",
                "seal_region_id"):
        assert key in entry
    assert entry["text_type"] == "seal" and len(entry["rec_boxes"]) == 0
    assert entry["text_det_params"]["limit_side_len"] == 736 and entry["text_det_params"]["unclip_ratio"] == 0.5
    assert len(entry["rec_texts"]) == len(entry["rec_scores"]) == len(entry["rec_polys"])
    written = json.loads(result.save_to_json(tmp_path).read_text())
    assert [normalize(t) for t in written["seal_res_list"][0]["rec_texts"]] == ["GLOBALTRADINGCOLTD", "CONTRACT"]
    result.save_to_img(tmp_path)
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == ["image_0_layout_det_res.png", "image_0_seal_res_region1.png"]


def test_recognize_seal_on_a_region(seal_pipeline):
    """The entry point layout_parsing calls for a layout box labelled seal."""
    seal = render_seal("NORTH RIVER LIMITED", "FINANCE", seed=4, page=False)
    x1, y1, x2, y2 = seal.box
    region = np.ascontiguousarray(seal.image[max(0, y1 - 10):y2 + 10, max(0, x1 - 10):x2 + 10])
    result = seal_pipeline.recognize_seal(region)
    assert [normalize(t) for t in result.rec_texts] == ["NORTHRIVERLIMITED", "FINANCE"]
    assert all(p[:, 0].max() <= region.shape[1] for p in result.rec_polys)  # in the region's pixels


def test_page_without_seals_gives_an_empty_list(seal_pipeline):
    page = render_lines(["Payment is due within thirty days.", "No stamp on this page."]).image
    result = next(seal_pipeline.predict(page))
    assert result["seal_res_list"] == [] and result["layout_det_res"]["boxes"] == []
    blank = next(seal_pipeline.predict(np.full((300, 300, 3), 255, np.uint8)))
    assert blank["seal_res_list"] == []


def test_without_layout_detection_the_page_is_one_region(seal_pipeline):
    seal = render_seal("STAR UNION CORP", "OFFICIAL", seed=8, page=False, page_size=(420, 420), diameter=320)
    result = next(seal_pipeline.predict(seal.image, use_layout_detection=False))
    assert "layout_det_res" not in result.json["res"]
    assert [s.seal_region_id for s in result.seal_res_list] == [1]
    assert _read(result) == ["STARUNIONCORP", "OFFICIAL"]
    empty = next(seal_pipeline.predict(np.full((200, 200, 3), 255, np.uint8), use_layout_detection=False))
    assert len(empty.seal_res_list) == 1 and empty.seal_res_list[0].rec_texts == []


def test_per_call_parameters(seal_pipeline):
    seal = render_seal("OCEAN PRIME INC", "APPROVED", seed=9)
    strict = next(seal_pipeline.predict(seal.image, seal_rec_score_thresh=1.0))
    assert strict.seal_res_list[0].rec_texts == []
    result = next(seal_pipeline.predict(seal.image, seal_det_limit_side_len=640, seal_det_unclip_ratio=0.6))
    assert result.seal_res_list[0].text_det_params["limit_side_len"] == 640
    with pytest.raises(ConfigError, match="seal_det_thresh"):
        seal_pipeline.predict(seal.image, seal_det_thresh=1.5)


def test_a_bad_input_in_a_batch_does_not_end_it(seal_pipeline, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    seal = render_seal("METRO ATLAS GROUP", "INVOICE", seed=12)
    results = list(seal_pipeline.predict([str(broken), seal.image]))
    assert not results[0].ok and results[1].ok and _read(results[1]) == ["METROATLASGROUP", "INVOICE"]
    with pytest.raises(InputError):
        next(seal_pipeline.predict(str(broken)))


def test_paddlex_yaml_names_the_models_without_weights(tmp_path):
    from hpi.pipelines import load_config

    path = tmp_path / "seal_recognition.yaml"
    path.write_text(PADDLEX_SEAL_YAML)
    with pytest.raises(ConfigError, match=r"PP-DocLayout-L.*SealInkRegions"):
        load_config(str(path))
    import yaml

    data = yaml.safe_load(PADDLEX_SEAL_YAML)
    data["SubModules"]["LayoutDetection"]["model_name"] = "SealInkRegions"
    data["SubPipelines"]["DocPreprocessor"]["use_doc_unwarping"] = False
    _, config = load_config(config=data)  # PaddleX's keys load, max_side_len included
    with pytest.raises(ConfigError, match=r"(?s)PP-OCRv4_server_seal_det.*PP-OCRv4_mobile_seal_det"):
        create_pipeline(config=data)


def test_cdla_and_layout_model_dirs_are_refused_with_the_reason(tmp_path):
    with pytest.raises(ConfigError, match="no 'seal' class"):
        create_pipeline("seal_recognition", config={"pipeline_name": "seal_recognition", "SubModules": {
            "LayoutDetection": {"model_name": "PicoDet_layout_CDLA"}}})
    with pytest.raises(ConfigError, match="use_layout_detection: False"):
        create_pipeline(config={"pipeline_name": "seal_recognition", "SubModules": {
            "LayoutDetection": {"model_dir": str(tmp_path)}}})


def test_served_at_seal_recognition(seal_pipeline):
    pytest.importorskip("fastapi", reason="the serving app needs the serve extra: pip install \"hpi[serve]\"")
    from hpi.serving.app import Service

    service = Service(seal_pipeline)
    assert service.app_spec.endpoint == "/seal-recognition"
    assert {"sealDetThresh", "sealRecScoreThresh", "useLayoutDetection", "layoutThreshold"} <= set(service.fields)
    seal = render_seal("SILVER FIELD CO LTD", "CONTRACT", seed=21)
    ok, png = cv2.imencode(".png", seal.image)
    body = json.dumps({"file": base64.b64encode(png.tobytes()).decode(), "fileType": 1,
                       "sealDetBoxThresh": 0.6}).encode()
    try:
        status, raw, _ = asyncio.run(service.handle(body))
    finally:
        asyncio.run(service.close())
    answer = json.loads(raw)
    assert status == 200 and answer["errorCode"] == 0
    entry = answer["result"]["sealRecResults"][0]
    texts = [normalize(t) for seal_res in entry["prunedResult"]["seal_res_list"] for t in seal_res["rec_texts"]]
    assert texts == ["SILVERFIELDCOLTD", "CONTRACT"]
    assert "input_path" not in entry["prunedResult"]
    assert set(entry["outputImages"]) == {"layout_det_res", "seal_res_region1"} and entry["inputImage"]


def test_layout_models_are_checked_only_where_layout_detection_runs():
    config = {"pipeline_name": "seal_recognition", "use_layout_detection": False,
              "SubModules": {"LayoutDetection": {"model_name": "PP-DocLayout-L"}}}
    pipeline = create_pipeline(config=config)  # PaddleX's layout_parsing.yaml has this form
    try:
        with pytest.raises(ConfigError, match="use_layout_detection is True, but no weights.*PP-DocLayout-L"):
            pipeline.predict(np.full((64, 64, 3), 255, np.uint8), use_layout_detection=True)
    finally:
        pipeline.close()
