"""ONNX Runtime on the real det/rec/cls models: agrees with Paddle Inference, and with the third-party ONNX."""

from __future__ import annotations

import numpy as np
import pytest

from hpi.backends import create_runner
from hpi.backends.onnxruntime import OnnxRuntimeRunner
from hpi.errors import BackendError, BackendUnavailableError
from hpi.backends.export_check import prepare_model
from tests.backends.parity import assert_agree

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install \"hpi[cpu]\")")

KINDS = ["det", "rec", "cls"]
RAPIDOCR = {
    "det": "PP-OCRv4_mobile_det_rapidocr_onnx",
    "rec": "PP-OCRv4_mobile_rec_rapidocr_onnx",
    "cls": "PP-OCRv2_mobile_textline_ori_rapidocr_onnx",
}


@pytest.mark.parametrize("kind", KINDS)
def test_agrees_with_paddle_inference(kind, parity_case):
    case, reference = parity_case(kind)
    with OnnxRuntimeRunner(case.artifacts, threads=2) as runner:
        assert runner.session.get_providers() == ["CPUExecutionProvider"]
        outputs = [runner.infer_one(x) for x in case.inputs]
    assert_agree(case, reference, outputs, f"onnxruntime {kind}")


@pytest.mark.parametrize("kind", KINDS)
def test_our_export_agrees_with_rapidocr_onnx(kind, parity_case):
    """Our paddle2onnx export vs rapidocr_onnxruntime 1.4.4's ONNX of the same weights."""
    case, _ = parity_case(kind)
    theirs = prepare_model(RAPIDOCR[kind])
    assert theirs.onnx_path is not None and theirs.onnx_path != case.artifacts.onnx_path
    with OnnxRuntimeRunner(case.artifacts, threads=2) as ours_runner, OnnxRuntimeRunner(theirs, threads=2) as their_runner:
        ours = [ours_runner.infer_one(x) for x in case.inputs]
        their = [their_runner.infer_one(x) for x in case.inputs]
    assert_agree(case, their, ours, f"our ONNX vs rapidocr ONNX ({kind})")


def test_dynamic_shapes_on_one_session(det_model):
    with create_runner("onnxruntime", det_model, threads=2) as runner:
        for shape in [(1, 3, 64, 64), (1, 3, 320, 640), (2, 3, 96, 128)]:
            out = runner.infer({"x": np.zeros(shape, np.float32)})
            assert list(out) == runner.output_names
            assert next(iter(out.values())).shape == (shape[0], 1, shape[2], shape[3])


def test_threads_reach_the_session(cls_model):
    with OnnxRuntimeRunner(cls_model, threads=1) as runner:
        assert runner.threads == 1
        assert "1 threads" in runner.describe()


def test_inactive_runner_and_missing_input_are_clear_errors(cls_model):
    runner = OnnxRuntimeRunner(cls_model)
    with pytest.raises(BackendError, match="not active"):
        runner.infer({"x": np.zeros((1, 3, 48, 192), np.float32)})
    with runner:
        with pytest.raises(BackendError, match="missing"):
            runner.infer({"image": np.zeros((1, 3, 48, 192), np.float32)})


def test_warmup_runs_the_given_shapes(rec_model):
    with OnnxRuntimeRunner(rec_model, threads=2) as runner:
        runner.warmup([(1, 3, 48, 320), (2, 3, 48, 160)])
        assert runner.is_active


@pytest.mark.skipif(
    "CUDAExecutionProvider" in ort.get_available_providers(),
    reason="this onnxruntime has GPU providers; the CPU-only error path does not apply",
)
def test_gpu_without_gpu_providers_names_the_package(cls_model):
    with pytest.raises(BackendUnavailableError, match="onnxruntime-gpu"):
        create_runner("onnxruntime", cls_model, device="gpu").activate()


@pytest.mark.filterwarnings("ignore:Specified provider 'CUDAExecutionProvider' is not in available provider names")
def test_silent_cpu_fallback_on_gpu_is_an_error(cls_model, monkeypatch):
    """onnxruntime-gpu lists CUDA even where it cannot run and falls back to CPU: get_providers() tells."""
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has GPU providers; the fallback is simulated only on CPU builds")
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    runner = create_runner("onnxruntime", cls_model, device="gpu:0")
    with pytest.raises(BackendUnavailableError, match="fell back to the CPU"):
        runner.activate()
    assert not runner.is_active
