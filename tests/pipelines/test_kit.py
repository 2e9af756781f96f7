"""The pipeline kit: the pipeline table, one parameter declaration and its faces, type checks."""

from __future__ import annotations


import numpy as np
import pytest

# PaddleX 3.7.2's OCR serving request fields (paddlex/inference/serving/schemas/ocr.py), minus file/fileType/
# visualize/logId, which are the server's own.
PADDLEX_OCR_REQUEST_FIELDS = {
    "useDocOrientationClassify", "useDocUnwarping", "useTextlineOrientation", "textDetLimitSideLen",
    "textDetLimitType", "textDetThresh", "textDetBoxThresh", "textDetUnclipRatio", "textRecScoreThresh",
    "returnWordBox",
}


def test_table_lists_pipelines_by_paddlex_name():
    from hpi.pipelines import PIPELINES, pipeline_class

    assert {"OCR", "doc_preprocessor"} <= set(PIPELINES)
    for name in PIPELINES:
        cls = pipeline_class(name)
        assert cls.name == name
        default = cls.config_class.from_dict(__import__("hpi.config").config.load_pipeline_config(name))
        assert default.pipeline_name == name
        # every declared parameter points at a real config field (or declares its own type)
        for param in cls.params:
            annotation, _ = param.field(cls.config_class)
            assert annotation is not None, param.name


def test_unknown_pipeline_suggests_a_close_name():
    from hpi import create_pipeline
    from hpi.errors import ConfigError

    with pytest.raises(ConfigError, match=r"Unknown pipeline 'doc_preprocesor' \(did you mean 'doc_preprocessor'\?\)"):
        create_pipeline("doc_preprocesor")
    with pytest.raises(ConfigError, match="config must be a mapping"):
        create_pipeline(config="OCR")


def test_per_call_parameters_give_paddlex_serving_names():
    from hpi.pipelines.ocr import OCRPipeline

    served = {p.serving_name for p in OCRPipeline.params if p.call}
    # hpi also takes the long-side cap per call (PaddleX only in the config).
    assert served - PADDLEX_OCR_REQUEST_FIELDS == {"textDetMaxSideLimit"}
    assert PADDLEX_OCR_REQUEST_FIELDS <= served


def test_every_parameter_is_type_checked(ocr_pipeline):
    from hpi.errors import ConfigError

    image = np.full((64, 64, 3), 255, np.uint8)
    for kwargs, message in [
        ({"use_textline_orientation": "False"}, "use_textline_orientation is 'False'; it must be True or False"),
        ({"text_det_thresh": "high"}, "text_det_thresh is 'high'; it must be a number"),
        ({"text_det_unclip_ratio": float("nan")}, "text_det_unclip_ratio is nan; it must be a finite number"),
        ({"text_det_limit_side_len": 2.5}, "text_det_limit_side_len is 2.5; it must be a whole number"),
        ({"text_det_limit_type": "mx"}, "text_det_limit_type is 'mx'; valid values: min, max \\(did you mean 'max'\\?\\)"),
        ({"text_rec_score_thresh": 1.5}, r"text_rec_score_thresh is 1.5; it must be a number in \[0.0, 1.0\]"),
        ({"text_det_tresh": 0.3}, "Unknown predict parameter 'text_det_tresh' \\(did you mean 'text_det_thresh'\\?\\)"),
    ]:
        with pytest.raises(ConfigError, match=message):
            ocr_pipeline.predict(image, **kwargs)  # refused up front, before any image is read
    # numpy scalars are numbers
    result = next(ocr_pipeline.predict(image, text_det_thresh=np.float32(0.3), text_det_limit_side_len=np.int64(64)))
    assert result.text_det_params["thresh"] == pytest.approx(0.3) and result.text_det_params["limit_side_len"] == 64


def test_create_pipeline_arguments_are_type_checked():
    from hpi import create_pipeline
    from hpi.errors import ConfigError

    for kwargs, message in [
        ({"threads": 2.5}, "threads is 2.5; it must be a whole number"),
        ({"threads": 0}, "threads is 0; it must be a positive number"),
        ({"use_textline_orientation": "yes"}, "use_textline_orientation is 'yes'; it must be True or False"),
        ({"text_recognition_batch_size": "6"}, "batch_size is '6'; it must be a whole number"),
        ({"text_detection_model_dir": 5}, "model_dir is 5; it must be a string"),
    ]:
        with pytest.raises(ConfigError, match=message):
            create_pipeline("OCR", **kwargs)


def test_cli_flags_come_from_the_declaration():
    from hpi.pipelines.ocr import OCRPipeline
    from hpi.pipelines.params import HPI_PARAMS

    from cli_run import run_cli

    help_text = run_cli("--pipeline", "OCR", "--help").stdout
    for param in (*OCRPipeline.params, *HPI_PARAMS):
        assert f"--{param.name}" in help_text


def test_config_round_trip_of_every_default_config():
    from hpi.config import load_pipeline_config
    from hpi.pipelines import PIPELINES, pipeline_class

    for name in PIPELINES:
        cls = pipeline_class(name).config_class
        config = cls.from_dict(load_pipeline_config(name))
        assert cls.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("name", ["OCR", "table_recognition", "seal_recognition", "layout_parsing"])
def test_doc_flags_at_creation_turn_the_doc_preprocessor_on(name):
    # PaddleOCR's constructor rule, the same in every pipeline that nests the doc preprocessor.
    from hpi.pipelines import load_config

    _, config = load_config(name, overrides={"use_doc_orientation_classify": True})
    assert config.use_doc_preprocessor is True
    _, config = load_config(name, overrides={"use_doc_orientation_classify": False, "use_doc_unwarping": False})
    assert config.use_doc_preprocessor is False
    _, config = load_config(name, overrides={"use_doc_preprocessor": False, "use_doc_unwarping": True})
    assert config.use_doc_preprocessor is False  # given explicitly: kept


@pytest.mark.parametrize("name", ["OCR", "table_recognition", "seal_recognition", "layout_parsing"])
def test_the_doc_preprocessor_is_declared_once(name):
    """Every pipeline nesting the doc preprocessor takes its parameters (names, help, roles), its per-call
    rule and its start-up slots from the doc preprocessor itself."""
    from hpi.pipelines import load_config, pipeline_class
    from hpi.pipelines.doc_preprocessor import DocPreprocessorPipeline

    cls = pipeline_class(name)
    nested = {p.name: p for p in cls.params if p.path[:2] == ("SubPipelines", "DocPreprocessor")}
    own = {p.name: p for p in DocPreprocessorPipeline.params}
    assert set(nested) == set(own)
    for param_name, param in nested.items():
        assert param.path[2:] == own[param_name].path and param.call == own[param_name].call
        assert param.help_in(cls.config_class) == own[param_name].help_in(DocPreprocessorPipeline.config_class)
    _, config = load_config(name, overrides={"use_doc_preprocessor": True, "use_doc_unwarping": True})
    assert {("doc_preprocessor", "doc_orientation"), ("doc_preprocessor", "doc_unwarping")} <= set(
        cls.startup_slots(config))
    _, config = load_config(name, overrides={"use_doc_preprocessor": False})
    assert not [path for path in cls.startup_slots(config) if path[0] == "doc_preprocessor"]


def test_help_texts_are_declared_once():
    """A parameter whose config field has help takes it from there: no second, hand-kept text to drift
    (the same text_det_thresh read 'DB pixel threshold' in one pipeline and otherwise in its config)."""
    from hpi.pipelines import PIPELINES, pipeline_class

    for name in PIPELINES:
        cls = pipeline_class(name)
        for param in cls.params:
            if param.path and param.help:
                assert not param.field(cls.config_class)[1].get("help"), (name, param.name)
                assert param.path[-1] != "model_name", (name, param.name)
            assert param.help_in(cls.config_class), (name, param.name)  # and every one has help
