"""The layout_detection pipeline on rendered pages: regions found, PaddleX's keys and files, settings, errors."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil

import pytest
import yaml

from hpi.errors import ConfigError
from layout_rendering import best_iou, blank_page, render_page

CDLA = ("text", "title", "figure", "figure_caption", "table", "table_caption", "header", "footer", "reference",
        "equation")


@pytest.fixture(scope="module")
def layout():
    from hpi import create_pipeline

    pipeline = create_pipeline("layout_detection", device="cpu")
    yield pipeline
    pipeline.close()


@pytest.fixture(scope="module")
def pages():
    return [render_page(0), render_page(1, title="Annual Report", paragraphs=(3, 5), table=(8, 3), figure=False)]


@pytest.fixture(scope="module")
def results(layout, pages):
    return list(layout.predict([p.image for p in pages]))


@pytest.mark.smoke
def test_every_table_title_and_text_region_is_found(results, pages):
    for page, result in zip(pages, results):
        boxes = result.boxes
        for table in page.of("table"):
            assert best_iou(table, boxes) >= 0.7, (table.box, boxes)
        for title in page.of("title"):
            assert best_iou(title, boxes) >= 0.5, (title.box, boxes)
        # Paragraphs that are not right below a figure (the model calls those captions) are text.
        for region in page.of("text")[:2]:
            assert best_iou(region, boxes) >= 0.6, (region.box, boxes)
        for figure in page.of("figure"):
            assert best_iou(figure, boxes) >= 0.7, (figure.box, boxes)
        # Nothing confident where nothing was drawn: the bottom of the page is empty.
        bottom = max(r.box[3] for r in page.regions) + 40
        assert all(b["coordinate"][1] < bottom for b in boxes)


def test_paddlex_keys_order_and_types(results):
    result = results[0]
    assert list(result.json["res"]) == ["input_path", "page_index", "boxes"]
    classes = [b["cls_id"] for b in result.boxes]
    assert classes == sorted(classes)  # the NMS output order: class by class, best score first in each
    for box in result.boxes:
        assert list(box) == ["cls_id", "label", "score", "coordinate"]
        assert box["label"] == CDLA[box["cls_id"]] and 0.5 < box["score"] <= 1.0
        assert all(type(v) is float for v in box["coordinate"]) and len(box["coordinate"]) == 4
        x1, y1, x2, y2 = box["coordinate"]
        assert 0 <= x1 < x2 <= 1240 and 0 <= y1 < y2 <= 1754
    assert result["boxes"] is result.boxes
    assert set(result.timings_ms) >= {"layout.pre", "layout.model", "layout.decode", "layout.post"}


def test_blank_page_has_no_boxes(layout):
    (result,) = layout.predict([blank_page(900, 1200)])
    assert result.boxes == []


def test_files_are_paddlex_names(results, tmp_path):
    result = results[0]
    path = result.save_to_json(tmp_path)
    assert path.name == f"{result.stem}_res.json"
    data = json.loads(path.read_text())
    assert list(data) == ["input_path", "page_index", "boxes"] and len(data["boxes"]) == len(result.boxes)
    picture = result.save_to_img(tmp_path)
    assert picture.name == f"{result.stem}_res.png" and picture.stat().st_size > 1000


def test_per_call_settings(layout, pages):
    image = pages[0].image
    base = next(layout.predict(image, layout_threshold=0.3)).boxes
    assert len(base) > len(next(layout.predict(image)).boxes)  # 0.3 keeps more than the default 0.5
    # Per class: the table needs 0.99, the others keep 0.3.
    strict = next(layout.predict(image, layout_threshold={4: 0.99, 0: 0.3, 1: 0.3, 2: 0.3, 3: 0.3})).boxes
    assert not [b for b in strict if b["label"] == "table"] and [b for b in strict if b["label"] == "text"]
    # Unclip: the table grows about its centre by 1.2 × 1.1 (clipped to the page).
    table = next(b for b in base if b["label"] == "table")["coordinate"]
    grown = next(b for b in next(layout.predict(image, layout_threshold=0.3, layout_unclip_ratio=[1.2, 1.1])).boxes
                 if b["label"] == "table")["coordinate"]
    assert grown[2] - grown[0] == pytest.approx(min(1240.0, table[2] + (table[2] - table[0]) * 0.1)
                                                - max(0.0, table[0] - (table[2] - table[0]) * 0.1), rel=1e-4)
    assert grown[3] - grown[1] == pytest.approx((table[3] - table[1]) * 1.1, rel=1e-4)
    # NMS: best score first; merge "large": no box lies ≥ 90% inside another.
    nms = next(layout.predict(image, layout_threshold=0.3, layout_nms=True)).boxes
    assert [b["score"] for b in nms] == sorted((b["score"] for b in nms), reverse=True)
    large = next(layout.predict(image, layout_threshold=0.3, layout_merge_bboxes_mode="large")).boxes
    assert len(large) < len(base)
    for a in large:
        for b in large:
            if a is not b:
                assert _inside(a["coordinate"], b["coordinate"]) < 0.9


def _inside(a, b) -> float:
    """The share of box a that lies inside box b."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / ((a[2] - a[0]) * (a[3] - a[1]))


@pytest.mark.parametrize("kwargs, message", [
    ({"layout_threshold": 1.5}, "layout_threshold is 1.5; it must be a number in \\[0, 1\\]"),
    ({"layout_threshold": "high"}, "layout_threshold is 'high'"),
    ({"layout_threshold": {"table": 0.5}}, "keys are class ids"),
    ({"layout_unclip_ratio": -1.0}, "unclip ratios must be positive"),
    ({"layout_unclip_ratio": [1.0, 2.0, 3.0]}, "\\[width, height\\] pair"),
    ({"layout_merge_bboxes_mode": "larg"}, "did you mean 'large'"),
    ({"layout_nms": "yes"}, "True or False"),
    ({"layout_treshold": 0.5}, "Unknown predict parameter 'layout_treshold'"),
])
def test_bad_parameters_are_clear_errors(layout, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        layout.predict(blank_page(64, 64), **kwargs)


def test_paddlex_model_without_weights_names_the_way_out():
    from hpi import create_pipeline

    with pytest.raises(ConfigError) as info:
        create_pipeline("layout_detection", layout_detection_model_name="PP-DocLayout-L")
    message = str(info.value)
    assert "PP-DocLayout-L" in message and "model_dir" in message and "PicoDet_layout_CDLA" in message


def test_bad_config_value_names_its_key():
    from hpi import create_pipeline

    with pytest.raises(ConfigError, match="SubModules.LayoutDetection.layout_merge_bboxes_mode is 'big'"):
        create_pipeline("layout_detection", layout_merge_bboxes_mode="big")


def test_user_model_dir_takes_labels_and_threshold_from_its_inference_yml(tmp_path, pages):
    """The real CDLA weights in a user directory with PaddleX's detection inference.yml."""
    from hpi import create_pipeline
    from hpi.backends.export_check import prepare_model

    model_dir = tmp_path / "my_layout"
    model_dir.mkdir()
    shutil.copy(prepare_model("PicoDet_layout_CDLA").onnx_path, model_dir / "inference.onnx")
    labels = [f"region_{name}" for name in CDLA]
    (model_dir / "inference.yml").write_text(yaml.safe_dump({
        "mode": "paddle", "draw_threshold": 0.9, "Global": {"model_name": "my_layout"},
        "Preprocess": [{"type": "Resize", "interp": 2, "keep_ratio": False, "target_size": [800, 608]},
                       {"type": "NormalizeImage", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                        "is_scale": True}, {"type": "Permute"}],
        "label_list": labels,
    }))
    with create_pipeline("layout_detection", layout_detection_model_dir=str(model_dir), backend="onnxruntime") as p:
        boxes = next(p.predict(pages[0].image)).boxes
    assert boxes and all(b["label"] == labels[b["cls_id"]] for b in boxes)
    assert all(b["score"] > 0.9 for b in boxes)  # draw_threshold 0.9
    assert any(b["label"] == "region_table" for b in boxes)


def test_served_at_layout_detection(layout, pages):
    import cv2

    from hpi.serving.app import Service
    from hpi.serving.settings import ServingSettings

    service = Service(layout, ServingSettings(visualize=False))
    data = base64.b64encode(cv2.imencode(".png", pages[0].image)[1].tobytes()).decode()

    def call(**fields):
        status, content, _ = asyncio.run(service.handle(json.dumps({"file": data, "fileType": 1, **fields}).encode()))
        return status, json.loads(content)

    assert service.app_spec.endpoint == "/layout-detection"
    status, body = call(layoutThreshold={"4": 0.3, "0": 0.99})
    assert status == 200, body
    (entry,) = body["result"]["layoutDetectionResults"]
    assert list(entry) == ["prunedResult"] and list(entry["prunedResult"]) == ["boxes"]
    labels = {b["label"] for b in entry["prunedResult"]["boxes"]}
    assert "table" in labels and "text" not in labels
    status, body = call(layoutThreshold=2)
    assert status == 422 and "layout_threshold is 2.0" in body["errorMsg"]
