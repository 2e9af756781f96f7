"""Runner options: declared per backend, validated before anything is built, given to each backend its own."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from hpi.backends import BACKENDS, create_runner, is_installed, validate_backend_config
from hpi.backends.onnxruntime import OnnxRuntimeRunner
from hpi.backends.select import choose_runner, decision_key
from hpi.backends.tensorrt import build, profiles
from hpi.device import parse_device
from hpi.errors import ConfigError
from tests.models.fresh import fresh_python

CPU = parse_device("cpu")


def test_a_valid_config_is_returned_as_plain_dicts():
    config = {"tensorrt": {"det_limit": 736, "engine_dir": Path("/tmp/e")}, "paddle": {"mkldnn": False}}
    assert validate_backend_config(config) == {"tensorrt": {"det_limit": 736, "engine_dir": Path("/tmp/e")},
                                               "paddle": {"mkldnn": False}}
    assert validate_backend_config(None) == {}


@pytest.mark.parametrize("config, message", [
    ({"tensorrtt": {}}, r"Unknown backend 'tensorrtt' in backend_config \(did you mean 'tensorrt'\?\).*onnxruntime"),
    ({"tensorrt": {"det_limt": 960}}, r"Unknown option 'det_limt' for backend 'tensorrt' \(did you mean 'det_limit'\?\)"),
    ({"tensorrt": {"max_batch": "8"}}, r"Option 'max_batch' of backend 'tensorrt' must be int; got '8' \(str\)"),
    ({"tensorrt": {"max_batch": True}}, r"must be int; got True \(bool\)"),
    ({"paddle": {"mkldnn": 1}}, r"Option 'mkldnn' of backend 'paddle' must be bool"),
    ({"onnxruntime": ["CPUExecutionProvider"]}, r"must be a mapping"),
])
def test_wrong_configs_name_what_is_valid(config, message):
    with pytest.raises(ConfigError, match=message):
        validate_backend_config(config)


def test_unknown_option_lists_the_declared_ones():
    with pytest.raises(ConfigError) as info:
        validate_backend_config({"openvino": {"cache": "/tmp"}})
    assert "did you mean 'cache_dir'" in str(info.value) and "performance_hint (str, default 'LATENCY')" in str(info.value)


def test_a_runner_refuses_an_undeclared_option(cls_model):
    with pytest.raises(ConfigError, match="Unknown option 'mkldnn' for backend 'onnxruntime'"):
        OnnxRuntimeRunner(cls_model, options={"mkldnn": False})
    runner = OnnxRuntimeRunner(cls_model, options={"allow_spinning": True})
    assert runner.option("allow_spinning") is True and runner.option("enable_cpu_mem_arena") is True


def test_a_derived_runner_takes_its_base_backends_options(cls_model):
    class Derived(OnnxRuntimeRunner):
        backend_name = "derived"

    assert Derived(cls_model, options={"allow_spinning": True}).option("allow_spinning") is True


def test_declared_defaults_are_the_ones_the_tensorrt_code_uses():
    declared = BACKENDS["tensorrt"].options
    assert declared["det_limit"].default == profiles.DET_LIMIT
    assert tuple(declared["rec_widths"].default) == profiles.REC_WIDTHS
    trt = types.SimpleNamespace(BuilderFlag=types.SimpleNamespace(FP16="fp16"))
    defaults = {name: option.default for name, option in declared.items()}
    assert build.builder_flags(trt, "fp16", {}) == build.builder_flags(trt, "fp16", defaults)


@pytest.mark.skipif(not is_installed("paddle"), reason="paddlepaddle is not installed")
def test_each_backend_gets_its_own_options(cls_model):
    config = {"paddle": {"mkldnn": False}, "onnxruntime": {"allow_spinning": True}}
    with choose_runner(cls_model, backend="paddle", threads=1, backend_config=config) as runner:
        assert runner.options == {"mkldnn": False} and "no oneDNN" in runner.describe()
    with pytest.raises(ConfigError, match="Unknown backend 'padle'"):
        choose_runner(cls_model, backend="paddle", backend_config={"padle": {}})


def test_decision_key_includes_the_candidates_options_only(cls_model):
    candidates = ["onnxruntime", "paddle"]
    plain = decision_key(cls_model, CPU, candidates, "fp32", 2)
    assert decision_key(cls_model, CPU, candidates, "fp32", 2, {}) == plain
    assert decision_key(cls_model, CPU, candidates, "fp32", 2, {"tensorrt": {"det_limit": 736}}) == plain
    assert decision_key(cls_model, CPU, candidates, "fp32", 2, {"paddle": {"mkldnn": False}}) != plain


def test_create_runner_validates_too(cls_model):
    with pytest.raises(ConfigError, match="Unknown option"):
        create_runner("onnxruntime", cls_model, options={"det_limit": 960})


def test_importing_the_backends_imports_no_tensorrt_runner():
    code = "import sys, hpi.backends; print(sorted(n for n in sys.modules if 'tensorrt' in n))"
    assert fresh_python(code).stdout.strip() == "[]"
