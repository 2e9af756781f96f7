"""semantic_segmentation: hpi's label maps equal PaddleX 3.7.2's own on the same model directory and images.

``tests/data/paddlex_semantic_segmentation.{npz,json}`` were recorded by
``benchmarks/record_paddlex_segmentation.py`` running PaddleX 3.7.2 (its own venv, Paddle Inference) on
``tests/data/models/PP-LiteSeg-T``: a stand-in made by ``tests/vision_models.py`` (no trained weights of
PaddleX's segmentation models are reachable here): a small seeded Paddle network in PaddleSeg's exported form
(input ``x`` of any size, mean = std = 0.5, argmax inside: an ``[N, H, W]`` int32 label map), a colour
segmenter (background, red, green, blue, dark). Its classes mean nothing beyond colour; it proves that hpi
runs such a directory as PaddleX does. Maps are compared pixel by pixel: ≥ 99.9% equal (the issue's
tolerance; they are in fact identical here, which the test reports).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from vision_models import DATA, IMAGES, SEGMENTER, SEGMENTER_CLASSES

from hpi import create_model, create_pipeline
from hpi.errors import ConfigError, ModelError

META = json.loads((DATA / "paddlex_semantic_segmentation.json").read_text())
MAPS = np.load(DATA / "paddlex_semantic_segmentation.npz")
AGREEMENT = 0.999


def recorded(section: str) -> list[np.ndarray]:
    return [MAPS[f"{section}/{i}"] for i in range(len(META["input_paths"][section]))]


def assert_same_maps(got: list, section: str) -> None:
    expected = recorded(section)
    assert [g.input_path for g in got] == META["input_paths"][section]
    for result, want in zip(got, expected):
        assert result.pred.shape == want.shape and result.pred.dtype == want.dtype, (section, result.input_path)
        agreement = float(np.mean(result.pred == want))
        assert agreement >= AGREEMENT, (section, result.input_path, agreement)


@pytest.fixture(scope="module", autouse=True)
def in_data_dir():
    old = os.getcwd()
    os.chdir(DATA)
    yield
    os.chdir(old)


@pytest.fixture(scope="module")
def model():
    return create_model("PP-LiteSeg-T", model_dir=str(SEGMENTER))


def test_the_fixture_is_paddlex_3_7_2_on_these_images():
    assert META["paddlex_version"] == "3.7.2"
    assert META["images"] == sorted(f"images/{p.name}" for p in IMAGES.glob("*.png"))
    assert META["result_keys"] == ["input_path", "page_index", "input_img", "pred"] and META["pred_dtype"] == "int32"
    # PaddleX 3.7.2 fails on a batch of images of different sizes and on a model exported without argmax.
    assert {e["section"] for e in META["errors"]} == {"batch", "logits", "anomaly:batch"}


@pytest.mark.parametrize("case", sorted(META["cases"]))
def test_module_equals_paddlex(model, case):
    got = [r for path in META["images"] for r in model.predict(path, **META["cases"][case])]
    assert_same_maps(got, f"module/{case}")


def test_target_size_at_creation_replaces_the_model_resize():
    created = create_model("PP-LiteSeg-T", model_dir=str(SEGMENTER), target_size=META["created_target_size"])
    assert_same_maps([r for path in META["images"] for r in created.predict(path)], "created")


def test_a_batch_of_different_sizes_runs(model):
    # PaddleX 3.7.2: "all input arrays must have the same shape"; hpi groups equal input sizes per call.
    got = list(model.predict(META["images"], batch_size=3))
    assert_same_maps(got, "module/default")
    same_size = list(model.predict([META["images"][0]] * 3 + [META["images"][3]], batch_size=3, target_size=200))
    for result, path in zip(same_size, [META["images"][0]] * 3 + [META["images"][3]]):
        [single] = model.predict(path, target_size=200)
        np.testing.assert_array_equal(result.pred, single.pred)


@pytest.mark.parametrize("case", ["default", "target_size=200"])
def test_pipeline_equals_paddlex(case):
    assert META["default_config"]["SubModules"]["SemanticSegmentation"]["target_size"] == "None"
    pipeline = create_pipeline("semantic_segmentation", semantic_segmentation_model_dir=str(SEGMENTER))
    kwargs = {"target_size": 200} if case == "target_size=200" else {}
    assert_same_maps([r for path in META["images"] for r in pipeline.predict(path, **kwargs)], f"pipeline/{case}")


def test_a_model_exported_without_argmax_gives_the_same_maps(tmp_path, model):
    """PaddleSeg's export with ``output_op: none`` returns logits; PaddleX 3.7.2 fails on it (an assertion),
    hpi takes the argmax itself: the argmax model's maps."""
    import subprocess
    import sys

    pytest.importorskip("paddle")
    logits_dir = tmp_path / "PP-LiteSeg-T"
    # Exported in a child: this process runs Paddle Inference in static mode, which paddle.jit.save cannot use.
    code = (f"import sys; sys.path.insert(0, {str(DATA.parent)!r}); from pathlib import Path; "
            f"from vision_models import write_stand_in_segmenter; "
            f"write_stand_in_segmenter(Path({str(logits_dir)!r}), output_op='none')")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=300)
    logits = create_model("PP-LiteSeg-T", model_dir=str(logits_dir))
    for path in META["images"]:
        [a] = logits.predict(path)
        [b] = model.predict(path)
        assert float(np.mean(a.pred == b.pred)) >= AGREEMENT


def test_result_json_picture_and_print(model, tmp_path, capsys):
    [result] = model.predict("images/shapes.png")
    assert set(result.json["res"]) == {"input_path", "page_index", "pred"}
    result.print()
    assert '"pred": "..."' in capsys.readouterr().out  # PaddleX prints the map as "..."
    result.save_to_json(str(tmp_path))
    saved = json.loads((tmp_path / "shapes_res.json").read_text())
    np.testing.assert_array_equal(np.asarray(saved["pred"]), result.pred)
    result.save_to_img(str(tmp_path))
    from PIL import Image

    picture = np.asarray(Image.open(tmp_path / "shapes_res.png").convert("RGB"))
    assert picture.shape == (*result.pred.shape[1:], 3)
    # PaddleX's palette: class 0 (128, 0, 0), 1 (0, 128, 0), 2 (128, 128, 0), 3 (0, 0, 128), 4 (128, 0, 128)
    palette = {0: (128, 0, 0), 1: (0, 128, 0), 2: (128, 128, 0), 3: (0, 0, 128), 4: (128, 0, 128)}
    for cls in range(SEGMENTER_CLASSES):
        ys, xs = np.nonzero(result.pred[0] == cls)
        if len(ys):
            assert tuple(picture[ys[0], xs[0]]) == palette[cls]


def test_bad_target_size_and_wrong_directories_are_clear_errors(model):
    with pytest.raises(ConfigError, match="target_size"):
        list(model.predict("images/shapes.png", target_size=0))
    with pytest.raises(ConfigError, match="target_size"):
        create_pipeline("semantic_segmentation", semantic_segmentation_model_dir=str(SEGMENTER), target_size="big")
    from vision_models import DETECTOR

    with pytest.raises((ModelError, ConfigError)):
        create_pipeline("semantic_segmentation", semantic_segmentation_model_dir=str(DETECTOR))


def test_served_at_semantic_segmentation_as_paddlex_serves_it():
    """PaddleX 3.7.2's /semantic-segmentation: image + targetSize → labelMap (flat, row by row), size [h, w],
    image; through hpi's Service."""
    import asyncio
    import base64

    from hpi.serving.app import Service
    from hpi.serving.apps import SERVING_APPS
    from hpi.serving.settings import ServingSettings

    assert SERVING_APPS["semantic_segmentation"].endpoint == "/semantic-segmentation"
    pipeline = create_pipeline("semantic_segmentation", semantic_segmentation_model_dir=str(SEGMENTER))
    service = Service(pipeline, ServingSettings(visualize=False))
    assert {"image", "targetSize", "visualize", "logId"} <= set(service.request_model.model_fields)
    image = base64.b64encode((IMAGES / "shapes.png").read_bytes()).decode()
    index = META["images"].index("images/shapes.png")
    want = recorded("pipeline/target_size=200")[index][0]
    bodies = [json.dumps({"image": image, "targetSize": 200}).encode(),
              json.dumps({"image": image, "targetSize": 0}).encode()]

    async def scenario():
        answers = [await service.handle(body) for body in bodies]
        await service.close()
        return answers

    (status, content, _), (bad_status, bad, _) = asyncio.run(scenario())
    result = json.loads(content)["result"]
    assert status == 200 and set(result) == {"labelMap", "size", "image"}
    assert result["size"] == list(want.shape)
    got = np.asarray(result["labelMap"]).reshape(result["size"])
    assert float(np.mean(got == want)) >= AGREEMENT
    assert bad_status == 422 and "target_size is 0" in json.loads(bad)["errorMsg"]



# ------------------------------------------------------------------------------------------ anomaly detection
# The stand-in tests/data/models/STFPM (tests/vision_models.py: STFPM's exported form, a colour-saturation
# score map; Resize 128×128) through PaddleX's anomaly_detection, recorded in the same fixture.


def test_map_to_mask_equals_paddlex_exactly():
    """PaddleX's MapToMask (threshold 0.01, scikit-image opening with disk(4)) on hand-made score maps:
    specks, an empty map, a blob, a band along the border, one pixel."""
    from hpi.predictors.anomaly_detection import score_map_to_mask

    for index in range(META["map_to_mask_probes"]):
        got = score_map_to_mask(MAPS[f"map_to_mask/score/{index}"])
        np.testing.assert_array_equal(got, MAPS[f"map_to_mask/mask/{index}"])


def test_anomaly_module_and_pipeline_equal_paddlex():
    from vision_models import ANOMALY

    model = create_model("STFPM", model_dir=str(ANOMALY))
    assert_same_maps([r for path in META["images"] for r in model.predict(path)], "anomaly/module")
    assert META["anomaly_default_config"]["SubModules"]["AnomalyDetection"]["model_name"] == "STFPM"
    pipeline = create_pipeline("anomaly_detection", anomaly_detection_model_dir=str(ANOMALY))
    assert_same_maps([r for path in META["images"] for r in pipeline.predict(path)], "anomaly/pipeline")
    # PaddleX 3.7.2 masks only a batch's first image and then fails ("array split does not result in an equal
    # division"); hpi masks each.
    assert_same_maps(list(model.predict(META["images"], batch_size=2)), "anomaly/module")
    masks = [MAPS[f"anomaly/module/{i}"] for i in range(len(META["images"]))]
    assert {int(v) for m in masks for v in np.unique(m)} == {0, 255} and masks[0].dtype == np.uint8


def test_anomaly_served_at_paddlex_path():
    from hpi.serving.apps import SERVING_APPS

    app = SERVING_APPS["anomaly_detection"]
    assert (app.endpoint, app.protocol.name) == ("/image-anomaly-detection", "image")


def test_anomaly_model_without_resize_is_a_clear_error(tmp_path):
    import shutil

    from vision_models import ANOMALY

    broken = tmp_path / "STFPM"
    shutil.copytree(ANOMALY, broken)
    yml = broken / "inference.yml"
    text = yml.read_text()
    yml.write_text(text.replace("  - target_size:\n    - 128\n    - 128\n    type: Resize\n", ""))
    assert "Resize" not in yml.read_text()
    with pytest.raises(ModelError, match="no Resize op"):
        list(create_model("STFPM", model_dir=str(broken)).predict(META["images"][0]))
