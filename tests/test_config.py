"""Pipeline configs: defaults, PaddleX schema, unknown keys, overrides."""

from __future__ import annotations

import pytest
import yaml

from hpi.config import load_pipeline_config
from hpi.pipelines.ocr import OCRConfig
from hpi.errors import ConfigError

PADDLEX_STYLE = """
pipeline_name: OCR
text_type: general
use_doc_preprocessor: False
use_textline_orientation: False
SubModules:
  TextDetection: {module_name: text_detection, model_name: PP-OCRv4_mobile_det, model_dir: null,
                  limit_side_len: 64, limit_type: min, max_side_limit: 4000, thresh: 0.3, box_thresh: 0.6, unclip_ratio: 1.5}
  TextLineOrientation: {module_name: textline_orientation, model_name: PP-LCNet_x1_0_textline_ori, model_dir: null, batch_size: 6}
  TextRecognition: {module_name: text_recognition, model_name: PP-OCRv4_mobile_rec, model_dir: null, batch_size: 6, score_thresh: 0.0}
"""


def test_default_config_loads_and_round_trips():
    config = OCRConfig.from_dict(load_pipeline_config("OCR"))
    assert config.text_detection.thresh == 0.2  # PP-OCRv6_small_det's own value
    assert OCRConfig.from_dict(config.to_dict()) == config


def test_paddlex_schema_accepted():
    config = OCRConfig.from_dict(yaml.safe_load(PADDLEX_STYLE))
    assert config.textline_orientation.model_name == "PP-LCNet_x1_0_textline_ori"
    assert config.text_detection.limit_type == "min"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(colour="red"), "unknown key 'colour'"),
        (lambda d: d["SubModules"]["TextDetection"].update(threshold=0.5), "Unknown key 'threshold' in SubModules.TextDetection"),
        (lambda d: d["SubModules"].update(Layout={}), "unknown SubModules 'Layout'"),
        (lambda d: d["SubModules"]["TextDetection"].update(limit_type="avg"), "limit_type is 'avg'"),
        (lambda d: d["SubModules"]["TextDetection"].update(thresh=1.5), "thresh is 1.5"),
        (lambda d: d["SubModules"]["TextRecognition"].update(batch_size=0), "batch_size is 0"),
        (lambda d: d.update(use_doc_preprocessor=True, SubPipelines={"DocPreprocessor": {"use_doc_unwarping": 2}}),
         "DocPreprocessor.use_doc_unwarping is 2"),
        (lambda d: d.update(hpi_config={"backend": "tensorflow"}), "backend is 'tensorflow'"),
    ],
)
def test_bad_configs_name_the_problem(mutate, message):
    data = yaml.safe_load(PADDLEX_STYLE)
    mutate(data)
    with pytest.raises(ConfigError, match=message):
        OCRConfig.from_dict(data)


def test_unknown_key_lists_valid_keys():
    data = yaml.safe_load(PADDLEX_STYLE)
    data["SubModules"]["TextDetection"]["threshold"] = 0.5
    with pytest.raises(ConfigError) as info:
        OCRConfig.from_dict(data)
    assert "Valid keys:" in str(info.value) and "box_thresh" in str(info.value)


def test_unknown_pipeline_and_missing_yaml():
    from hpi import create_pipeline

    with pytest.raises(ConfigError, match="Unknown pipeline 'NoSuchPipeline'.*OCR"):
        create_pipeline("NoSuchPipeline")
    with pytest.raises(ConfigError, match="does not exist"):
        create_pipeline("./missing.yaml")


def test_bad_create_pipeline_arguments():
    from hpi import create_pipeline
    from hpi.errors import DeviceError

    with pytest.raises(ConfigError, match="Unknown create_pipeline argument 'text_det_treshold'"):
        create_pipeline("OCR", text_det_treshold=0.2)
    with pytest.raises(DeviceError, match="Unknown device 'cuda:0'"):
        create_pipeline("OCR", device="cuda:0")
