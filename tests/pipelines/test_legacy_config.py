"""PaddleX's older config form (Global/Pipeline, PaddleX 3.0 beta) read as today's schema."""

from __future__ import annotations

import copy
import logging
import shutil

import pytest
import yaml

from hpi.config import dump_yaml, load_pipeline_config, set_path
from hpi.errors import ConfigError
from hpi.pipelines import load_config
from rendering import latin_fonts, render_lines

# PaddleX 3.0 beta's own OCR.yaml, as it was in the releases that used each set of keys.
PADDLEX_BETA_OCR_YAML = {
    "det_model": """\
Global:
  pipeline_name: OCR
  input: https://paddle-model-ecology.bj.bcebos.com/paddlex/imgs/demo_image/general_ocr_001.png
  
######################################## Setting ########################################
# Please select the model from bellow `Support`

Pipeline:
  det_model: PP-OCRv4_mobile_det
  rec_model: PP-OCRv4_mobile_rec
  batch_size: 1
  device: "gpu:0"
""",
    "text_det_model": """\
Global:
  pipeline_name: OCR
  input: https://paddle-model-ecology.bj.bcebos.com/paddlex/imgs/demo_image/general_ocr_001.png
  
Pipeline:
  text_det_model: PP-OCRv4_mobile_det
  text_rec_model: PP-OCRv4_mobile_rec
  text_rec_batch_size: 1
  device: "gpu:0"
""",
}

DET = ("SubModules", "TextDetection")
REC = ("SubModules", "TextRecognition")


@pytest.mark.parametrize("form", sorted(PADDLEX_BETA_OCR_YAML))
def test_paddlex_beta_ocr_yaml_maps_onto_the_default_config(form, tmp_path, caplog):
    old = tmp_path / "OCR.yaml"
    old.write_text(PADDLEX_BETA_OCR_YAML[form])
    caplog.set_level(logging.INFO, logger="hpi")
    cls, config = load_config(old, device="cpu")

    expected = copy.deepcopy(load_pipeline_config("OCR"))
    expected = set_path(expected, (*DET, "model_name"), "PP-OCRv4_mobile_det")
    expected = set_path(expected, (*REC, "model_name"), "PP-OCRv4_mobile_rec")
    expected = set_path(expected, (*REC, "batch_size"), 1)
    assert cls.name == "OCR"
    assert config == cls.config_class.from_dict(expected)
    # The old file's device is not hpi's: it says so, naming the key and how to use that device.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Pipeline.device: 'gpu:0'" in w and "device='gpu:0'" in w for w in warnings), warnings
    assert "read as today's schema" in caplog.text


def test_a_device_key_equal_to_the_device_given_is_quiet(tmp_path, caplog):
    old = tmp_path / "OCR.yaml"
    old.write_text(PADDLEX_BETA_OCR_YAML["det_model"])
    caplog.set_level(logging.WARNING, logger="hpi")
    load_config(old, device="gpu")  # "gpu" is gpu:0; nothing runs here
    assert not caplog.records


@pytest.fixture(scope="module")
def page():
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test images")
    return render_lines(["An old PaddleX config", "Total 42.00"], fonts[0], size=30).image


def _rec_dir(rec_model, target):
    """A fine-tuned recogniser as PaddleX's training leaves it (same weights as the shipped one)."""
    target.mkdir(parents=True)
    model_file, params_file = rec_model.paddle_files
    shutil.copy(model_file, target / "inference.pdmodel")
    shutil.copy(params_file, target / "inference.pdiparams")
    chars = rec_model.extra_files["dict"].read_text(encoding="utf-8").splitlines() + [" "]
    (target / "inference.yml").write_text(yaml.safe_dump({
        "Global": {"model_name": "my_rec_model"},
        "PostProcess": {"name": "CTCLabelDecode", "character_dict": chars},
    }, allow_unicode=True), encoding="utf-8")
    return target


def test_old_form_with_model_dirs_runs_and_equals_the_new_form(det_model, rec_model, page, tmp_path, caplog):
    from hpi import create_pipeline

    rec_dir = _rec_dir(rec_model, tmp_path / "output" / "best_accuracy" / "inference")
    det_file = det_model.onnx_path  # a model given as a file path: model_dir too
    old = tmp_path / "old_OCR.yaml"
    old.write_text(f"""\
Global:
  pipeline_name: OCR
  input: ./general_ocr_002.png

Pipeline:
  det_model: {det_file}   # Can be modified to the local path of the fine-tuned text detection model
  det_device: "cpu"
  rec_model: {rec_dir}    # Can be modified to the local path of the fine-tuned text recognition model
  rec_batch_size: 4
  rec_device: "cpu"
  use_angle_cls: False
  det_limit_side_len: 64
  det_limit_type: min
  det_db_thresh: 0.3
  det_db_box_thresh: 0.6
  det_db_unclip_ratio: 2.0
  rec_score_thresh: 0.0
""")
    new = copy.deepcopy(load_pipeline_config("OCR"))
    for path, value in [
        ((*DET, "model_dir"), str(det_file)), ((*REC, "model_dir"), str(rec_dir)), ((*REC, "batch_size"), 4),
        (("use_textline_orientation",), False), ((*DET, "limit_side_len"), 64), ((*DET, "limit_type"), "min"),
        ((*DET, "thresh"), 0.3), ((*DET, "box_thresh"), 0.6), ((*DET, "unclip_ratio"), 2.0),
        ((*REC, "score_thresh"), 0.0),
    ]:
        new = set_path(new, path, value)
    new_file = tmp_path / "new_OCR.yaml"
    new_file.write_text(dump_yaml(new))

    caplog.set_level(logging.WARNING, logger="hpi")
    _, old_config = load_config(old, device="cpu")
    _, new_config = load_config(new_file, device="cpu")
    assert old_config == new_config
    assert old_config.text_detection.model_dir == str(det_file)
    assert old_config.text_recognition.model_dir == str(rec_dir)
    assert not [r for r in caplog.records if r.name == "hpi.pipelines.legacy"]  # same device: no warning

    with create_pipeline(str(old), device="cpu", backend="onnxruntime") as pipeline:
        got = next(pipeline.predict(page))
        assert pipeline.config.text_detection == new_config.text_detection
        assert pipeline.config.text_recognition == new_config.text_recognition
    with create_pipeline(str(new_file), device="cpu", backend="onnxruntime") as pipeline:
        expected = next(pipeline.predict(page))
    assert got.rec_texts == expected.rec_texts and len(got.rec_texts) == 2
    assert got.json["res"]["text_det_params"] == expected.json["res"]["text_det_params"]


def test_the_cli_takes_an_old_form_file(tmp_path):
    from hpi.commands.common import pipeline_class_of

    old = tmp_path / "OCR.yaml"
    old.write_text(PADDLEX_BETA_OCR_YAML["text_det_model"])
    assert pipeline_class_of(["--pipeline", str(old), "--input", "x.png"]).name == "OCR"


OLD_HEAD = "Global:\n  pipeline_name: OCR\nPipeline:\n  det_model: PP-OCRv4_mobile_det\n"


@pytest.mark.parametrize("text, message", [
    (OLD_HEAD + "  det_db_thres: 0.3\n",
     r"Unknown key 'det_db_thres' in Pipeline\. Valid keys: .*det_db_score_mode, det_db_thresh, .* "
     r"Did you mean 'det_db_thresh'\?"),
    (OLD_HEAD + "  rec_batchsize: 8\n  foo: 1\n", r"Unknown keys 'foo', 'rec_batchsize' in Pipeline\. Valid keys: "),
    (OLD_HEAD + "  det_db_thresh: high\n", r"Pipeline\.det_db_thresh is 'high'; it must be a number"),
    (OLD_HEAD + "  det_limit_type: maximum\n", r"Pipeline\.det_limit_type is 'maximum'; valid values: min, max"),
    (OLD_HEAD + "  use_angle_cls: 'False'\n", r"Pipeline\.use_angle_cls is 'False'; it must be True or False"),
    (OLD_HEAD + "  text_det_model: PP-OCRv4_server_det\n",
     r"Pipeline\.det_model and Pipeline\.text_det_model both set SubModules\.TextDetection; keep one"),
    (OLD_HEAD + "  rec_model: 42\n", r"Pipeline\.rec_model is 42; it must be a model name .* or the directory"),
    ("Global:\n  pipeline_nam: OCR\nPipeline: {}\n",
     r"Unknown key 'pipeline_nam' in Global.*Did you mean 'pipeline_name'"),
    ("Global:\n  input: x.png\nPipeline:\n  det_model: PP-OCRv4_mobile_det\n", r"Global has no pipeline_name"),
    ("Global:\n  pipeline_name: table_recognition\nPipeline: {}\n",
     r"Global\.pipeline_name is 'table_recognition'\. hpi reads the old form for OCR"),
    (OLD_HEAD + "SubModules: {}\n", r"Unknown key 'SubModules' in the top level.*cannot be mixed"),
    ("Global:\n  pipeline_name: OCR\nPipeline: [det_model]\n", r"Pipeline must be a mapping, got list"),
])
def test_old_form_mistakes_are_clear_errors(text, message, tmp_path):
    old = tmp_path / "OCR.yaml"
    old.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(old, device="cpu")
    assert str(info.value).startswith(f"{old} (PaddleX's older config form): ")


def test_predictor_switches_are_ignored_with_a_warning(tmp_path, caplog):
    old = tmp_path / "OCR.yaml"
    old.write_text(OLD_HEAD + "  use_hpip: True\n  hpi_params: {config: {}}\n")
    caplog.set_level(logging.WARNING, logger="hpi")
    _, config = load_config(old, device="cpu")
    assert config.text_detection.model_name == "PP-OCRv4_mobile_det"
    assert "Pipeline.use_hpip, Pipeline.hpi_params ignored" in caplog.text


def test_todays_form_is_untouched():
    from hpi.pipelines import legacy

    data = load_pipeline_config("OCR")
    assert legacy.convert(data, "OCR.yaml", "cpu") is data
    assert legacy.pipeline_name(data) == "OCR"
