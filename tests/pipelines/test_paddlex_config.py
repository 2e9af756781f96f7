"""PaddleX 3.7.2's own OCR.yaml: read as it is; models without weights here are clear errors, never swapped."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

# paddlex/configs/pipelines/OCR.yaml of PaddleX 3.7.2, verbatim.
PADDLEX_OCR_YAML = """
pipeline_name: OCR

text_type: general

use_doc_preprocessor: True
use_textline_orientation: True

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

SubModules:
  TextDetection:
    module_name: text_detection
    model_name: PP-OCRv6_medium_det
    model_dir: null
    limit_side_len: 64
    limit_type: min
    max_side_limit: 4000
    thresh: 0.3
    box_thresh: 0.6
    unclip_ratio: 1.5
  TextLineOrientation:
    module_name: textline_orientation
    model_name: PP-LCNet_x1_0_textline_ori
    model_dir: null
    batch_size: 6
  TextRecognition:
    module_name: text_recognition
    model_name: PP-OCRv6_medium_rec
    model_dir: null
    batch_size: 6
    score_thresh: 0.0
"""


def test_the_file_parses_and_says_what_it_cannot_do(tmp_path):
    from hpi import create_pipeline
    from hpi.errors import ModelError
    from hpi.pipelines import load_config

    path = tmp_path / "OCR.yaml"
    path.write_text(PADDLEX_OCR_YAML)
    data = yaml.safe_load(PADDLEX_OCR_YAML)
    data["SubPipelines"]["DocPreprocessor"]["use_doc_unwarping"] = False
    _, config = load_config(config=data)
    assert config.text_detection.model_name == "PP-OCRv6_medium_det" and config.use_textline_orientation
    # As shipped (unwarping on: hpi runs UVDoc) or without it, the first model hpi has no weights for is
    # named, with model_dir and the nearest model.
    for source in (str(path), data):
        with pytest.raises(ModelError, match="(?s)No weights for text_detection model 'PP-OCRv6_medium_det'.*"
                                              "model_dir.*nearest model hpi ships: model_name: PP-OCRv6_small_det"):
            create_pipeline(source) if isinstance(source, str) else create_pipeline(config=source)


def test_with_the_models_hpi_ships_every_other_setting_is_used(tmp_path):
    from rendering import PAGE_TEXTS, latin_fonts, render_lines

    from hpi import create_pipeline

    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test pages")
    data = yaml.safe_load(PADDLEX_OCR_YAML)
    data["SubPipelines"]["DocPreprocessor"]["use_doc_unwarping"] = False
    with create_pipeline(config=data, text_detection_model_name="PP-OCRv6_small_det",
                         text_recognition_model_name="PP-OCRv6_small_rec") as pipeline:
        assert set(pipeline.describe()) == {"text_detection", "text_recognition", "textline_orientation",
                                            "doc_preprocessor.doc_orientation"}
        result = next(pipeline.predict(render_lines(PAGE_TEXTS[:3], fonts[0], size=28).image))
    res = result.json["res"]
    assert res["model_settings"] == {"use_doc_preprocessor": True, "use_textline_orientation": True}
    assert res["text_det_params"]["thresh"] == 0.3 and res["text_det_params"]["unclip_ratio"] == 1.5
    assert res["rec_texts"] == PAGE_TEXTS[:3]  # spaces kept: PP-OCRv6 reads them


def test_the_unmodified_file_runs_on_models_in_paddlex_cache(tmp_path, monkeypatch):
    """PaddleX's own OCR.yaml, untouched, with its PP-OCRv6_medium det/rec found in PaddleX's cache.

    The two directories are stand-ins laid out as PaddleX's cache holds models (PP-OCRv6_small's ONNX files
    and inference.yml under the medium names): they prove the mechanism (PaddleX's cache found and used,
    the model's own inference.yml read), not PP-OCRv6_medium's accuracy. The texts must equal those of the
    same file with model_name set to the small models hpi ships.
    """
    from model_hosting import stand_in_dir
    from rendering import PAGE_TEXTS, latin_fonts, render_lines

    from hpi import create_pipeline

    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test pages")
    cache = tmp_path / "paddlex-home" / "official_models"
    stand_in_dir(cache / "PP-OCRv6_medium_det", "PP-OCRv6_medium_det", source="PP-OCRv6_small_det")
    stand_in_dir(cache / "PP-OCRv6_medium_rec", "PP-OCRv6_medium_rec", source="PP-OCRv6_small_rec")
    monkeypatch.setenv("PADDLE_PDX_CACHE_HOME", str(tmp_path / "paddlex-home"))
    path = tmp_path / "OCR.yaml"
    path.write_text(PADDLEX_OCR_YAML)
    page = render_lines(PAGE_TEXTS[:3], fonts[0], size=28).image
    with create_pipeline(str(path), backend="onnxruntime") as pipeline:
        got = next(pipeline.predict(page)).json["res"]
    data = yaml.safe_load(PADDLEX_OCR_YAML)
    with create_pipeline(config=data, text_detection_model_name="PP-OCRv6_small_det",
                         text_recognition_model_name="PP-OCRv6_small_rec", backend="onnxruntime") as shipped:
        expected = next(shipped.predict(page)).json["res"]
    assert got["rec_texts"] == expected["rec_texts"] and got["rec_texts"]
    assert np.allclose(np.asarray(got["rec_scores"]), np.asarray(expected["rec_scores"]), atol=1e-5)
