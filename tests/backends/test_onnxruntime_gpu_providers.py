"""ONNX Runtime's GPU provider selection, without a GPU: onnxruntime's provider list and session are faked."""

from __future__ import annotations

import logging
import types

import pytest

from hpi.backends.onnxruntime import OnnxRuntimeRunner
from hpi.errors import BackendError, BackendUnavailableError
from hpi.models.artifacts import ModelArtifacts
from hpi.models.registry import get_model_spec

ALL_GPU = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


def _ort(available):
    return types.SimpleNamespace(get_available_providers=lambda: list(available))


@pytest.fixture(autouse=True)
def _private_home(tmp_hpi_home):
    """The TensorRT EP's cache directory is created under $HPI_HOME: keep it out of the shared cache."""
    return tmp_hpi_home


@pytest.fixture
def rec_artifacts():
    return ModelArtifacts("PP-OCRv4_mobile_rec", "0123456789abcdef0123", get_model_spec("PP-OCRv4_mobile_rec"))


def _providers(artifacts, available, device="gpu:1", precision="fp32", **options):
    runner = OnnxRuntimeRunner(artifacts, device=device, precision=precision, options=options)
    return runner._providers(_ort(available))


def _names(providers):
    return [p if isinstance(p, str) else p[0] for p in providers]


def test_cpu_device_uses_cpu_only(rec_artifacts):
    assert _providers(rec_artifacts, ALL_GPU, device="cpu") == ["CPUExecutionProvider"]


def test_gpu_order_and_options(rec_artifacts, tmp_hpi_home):
    providers = _providers(rec_artifacts, ALL_GPU, precision="fp16")
    assert _names(providers) == ALL_GPU
    trt = providers[0][1]
    assert trt["device_id"] == 1 and trt["trt_fp16_enable"] is True
    assert trt["trt_engine_cache_enable"] is True and trt["trt_timing_cache_enable"] is True
    # Caches go under $HPI_HOME, per model and content, never into the working directory.
    assert trt["trt_engine_cache_path"].startswith(str(tmp_hpi_home))
    assert trt["trt_engine_cache_path"].endswith("PP-OCRv4_mobile_rec-0123456789abcdef")
    assert trt["trt_timing_cache_path"] == trt["trt_engine_cache_path"]
    # Explicit profile shapes from the registry's rule: no engine rebuild per new width.
    assert trt["trt_profile_min_shapes"] == "x:1x3x48x32"
    assert trt["trt_profile_opt_shapes"] == "x:6x3x48x320"
    assert trt["trt_profile_max_shapes"] == "x:16x3x48x3200"
    assert providers[1] == ("CUDAExecutionProvider", {"device_id": 1, "cudnn_conv_algo_search": "HEURISTIC"})


def test_cuda_only_and_fp16_warns(rec_artifacts, caplog):
    with caplog.at_level(logging.WARNING, logger="hpi"):
        providers = _providers(rec_artifacts, ["CUDAExecutionProvider", "CPUExecutionProvider"], precision="fp16")
    assert _names(providers) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert "fp32" in caplog.text


def test_trt_ep_can_be_turned_off_and_algo_search_chosen(rec_artifacts, tmp_path):
    providers = _providers(rec_artifacts, ALL_GPU, use_trt_ep=False, cudnn_conv_algo_search="default")
    assert _names(providers) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert providers[0][1]["cudnn_conv_algo_search"] == "DEFAULT"
    with pytest.raises(BackendError, match="HEURISTIC, DEFAULT or EXHAUSTIVE"):
        _providers(rec_artifacts, ALL_GPU, cudnn_conv_algo_search="FASTEST")
    custom = _providers(rec_artifacts, ALL_GPU, trt_cache_dir=tmp_path / "c")
    assert custom[0][1]["trt_engine_cache_path"] == str(tmp_path / "c")


def test_cpu_only_onnxruntime_on_gpu_is_a_clear_error(rec_artifacts):
    with pytest.raises(BackendUnavailableError, match="onnxruntime-gpu"):
        _providers(rec_artifacts, ["CPUExecutionProvider"])


def test_explicit_providers_win(rec_artifacts):
    assert _providers(rec_artifacts, ALL_GPU, providers=["CPUExecutionProvider"]) == ["CPUExecutionProvider"]


def test_model_without_rules_has_no_profile_shapes(tmp_hpi_home):
    artifacts = ModelArtifacts("custom", "ffff" * 8, None)
    trt = _providers(artifacts, ALL_GPU)[0][1]
    assert not any(key.startswith("trt_profile") for key in trt)


def test_session_fallback_to_cpu_is_an_error(rec_artifacts, monkeypatch, tmp_path):
    """onnxruntime-gpu without a usable GPU silently runs on CPU: the runner checks get_providers()."""
    import hpi.backends.onnxruntime as ort_backend

    real = ort_backend.import_onnxruntime()
    created = {}

    class FakeSession:
        def __init__(self, path, sess_options=None, providers=None):
            created["providers"] = providers

        def get_providers(self):
            return ["CPUExecutionProvider"]

        def get_inputs(self):
            return [types.SimpleNamespace(name="x")]

        def get_outputs(self):
            return [types.SimpleNamespace(name="y")]

    fake = types.SimpleNamespace(
        SessionOptions=real.SessionOptions, GraphOptimizationLevel=real.GraphOptimizationLevel,
        get_available_providers=lambda: ALL_GPU, InferenceSession=FakeSession,
    )
    monkeypatch.setattr(ort_backend, "import_onnxruntime", lambda: fake)
    artifacts = ModelArtifacts(rec_artifacts.name, rec_artifacts.content_hash, rec_artifacts.spec,
                               onnx_path=tmp_path / "m.onnx")
    with pytest.raises(BackendUnavailableError, match="fell back") as info:
        OnnxRuntimeRunner(artifacts, device="gpu:0", options={"trt_cache_dir": tmp_path}).activate()
    assert _names(created["providers"]) == ALL_GPU
    assert "CPUExecutionProvider" in str(info.value)
