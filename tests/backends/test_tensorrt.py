"""TensorRTRunner without TensorRT: the real runner code driven by a fake ``tensorrt`` and a fake CUDA.

The fakes (tests/backends/fakes_trt.py) follow TensorRT's and cuda-python's
documented contracts and move real bytes; the fake engine computes
``sigmoid(mean over channels)`` of its input, which a real tiny ONNX model
also computes for the ONNX Runtime reference. What this
proves: engine build/cache/rebuild flow, profile routing to contexts, buffer
reuse, the FP16 guard and fallback, error messages. What it cannot prove: that
real TensorRT behaves like the fake (benchmarks/gpu_selfcheck.py does, on a GPU).

Tests marked ``tensorrt``/``gpu`` at the end run the real thing when present.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import types
from dataclasses import replace

import numpy as np
import pytest

from hpi import _deps
from hpi import device as device_mod
from hpi.backends import tensorrt as trt_backend
from hpi.backends.tensorrt import build as trt_build
from hpi.errors import BackendError, BackendUnavailableError
from hpi.models.artifacts import ModelArtifacts
from hpi.models.registry import InputRule, get_model_spec
from tests.backends.fakes_trt import FakeCudart, FakeTensorRT, install_fakes, model_function

# test_cli_build.py and test_trt_pipeline.py took the fakes from here; they live in fakes_trt.py now.
__all__ = ["FakeCudart", "FakeTensorRT", "install_fakes", "model_function"]

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory):
    """A real ONNX model computing sigmoid(mean over channels), input x: N×3×H×W."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1, "h", "w"])
    nodes = [helper.make_node("ReduceMean", ["x"], ["m"], axes=[1], keepdims=1), helper.make_node("Sigmoid", ["m"], ["y"])]
    model = helper.make_model(helper.make_graph(nodes, "tiny", [x], [y]), opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    onnx.save(model, str(path))
    return path


@pytest.fixture
def artifacts(tiny_onnx):
    det = get_model_spec("PP-OCRv4_mobile_det")
    rule = InputRule("x", (None, 3, None, None), ((1, 3, 96, 128),), (1, 3, 32, 32), (1, 3, 128, 96), (1, 3, 256, 256), 32)
    spec = replace(det, name="tiny_det", inputs=(rule,))
    return ModelArtifacts("tiny_det", "hash", spec, onnx_path=tiny_onnx)


@pytest.fixture
def fakes(monkeypatch, tmp_hpi_home):
    cudart = FakeCudart()
    trt = FakeTensorRT()
    install_fakes(monkeypatch, cudart, trt, patch_deps=False)
    return types.SimpleNamespace(cudart=cudart, trt=trt)


OPTIONS = {"det_limit": 128}


def _runner(artifacts, precision="fp32", **options):
    return trt_backend.TensorRTRunner(artifacts, device="gpu:0", precision=precision, options={**OPTIONS, **options})


def _input(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# --------------------------------------------------------------------------- tests with the fakes


def test_build_then_infer_routes_each_shape(fakes, artifacts, caplog):
    with caplog.at_level(logging.INFO, logger="hpi"):
        runner = _runner(artifacts).activate()
    assert fakes.trt.builds == 1
    assert [p.name for p in runner.profiles] == ["square", "portrait", "landscape"]
    assert "built" in caplog.text and "Building engine" in caplog.text  # progress lines
    for shape, profile in [((1, 3, 128, 128), "square"), ((1, 3, 256, 96), "portrait"), ((1, 3, 64, 256), "landscape")]:
        x = _input(shape)
        out = runner.infer({"x": x})
        np.testing.assert_allclose(out["y"], model_function(x), rtol=1e-6)
        assert runner.profiles[fakes.trt.executions[-1]].name == profile
    runner.deactivate()
    assert fakes.cudart.blocks == {}, "every pinned/device buffer is freed on deactivate"


def test_buffers_are_allocated_once_and_reused(fakes, artifacts):
    with _runner(artifacts) as runner:
        allocated = fakes.cudart.mallocs
        addresses = {name: b.device_ptr for name, b in runner.execution.buffers.items()}
        for seed in range(5):
            runner.infer({"x": _input((1, 3, 64 + 32 * seed, 96), seed)})
        assert fakes.cudart.mallocs == allocated
        assert {name: b.device_ptr for name, b in runner.execution.buffers.items()} == addresses
        # Buffers are sized for the largest profile: 1×3×256×256 floats in, 1×1×256×256 out.
        assert runner.execution.buffers["x"].nbytes == 3 * 256 * 256 * 4
        assert runner.execution.buffers["y"].nbytes == 256 * 256 * 4
        # Copies move only the bytes in use.
        assert ("H2D", 3 * 64 * 96 * 4) in fakes.cudart.copies and ("D2H", 64 * 96 * 4) in fakes.cudart.copies


def test_second_runner_loads_from_cache(fakes, artifacts, caplog):
    with _runner(artifacts):
        pass
    with caplog.at_level(logging.INFO, logger="hpi"):
        with _runner(artifacts) as runner:
            runner.infer({"x": _input((1, 3, 96, 96))})
    assert fakes.trt.builds == 1
    assert "loaded from cache" in caplog.text
    timing = list((runner.cache.root / "timing").iterdir())
    assert len(timing) == 1 and "sm90" in timing[0].name and timing[0].read_bytes().startswith(b"TIMING")


def test_changed_options_build_a_new_engine(fakes, artifacts):
    with _runner(artifacts):
        pass
    with _runner(artifacts, det_limit=96):
        pass
    with _runner(artifacts, builder_optimization_level=5):
        pass
    assert fakes.trt.builds == 3


def test_corrupt_engine_file_is_rebuilt_with_one_warning(fakes, artifacts, caplog):
    with _runner(artifacts) as runner:
        plan_path = runner.cache.plan_path(runner.engine_key("fp32"))
    plan_path.write_bytes(b"FAKEPLAN{garbage")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hpi"):
        with _runner(artifacts) as runner:
            runner.infer({"x": _input((1, 3, 96, 96))})
    assert fakes.trt.builds == 2
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_engine_tensorrt_refuses_is_rebuilt(fakes, artifacts, caplog):
    with _runner(artifacts):
        pass
    fakes.trt.reject_plans = True
    with pytest.raises(BackendError, match="freshly built engine"):
        _runner(artifacts).activate()
    assert fakes.trt.builds == 2  # rebuilt once, then a clear error instead of a loop
    assert "cannot be used" in caplog.text


def test_engine_from_another_tensorrt_version_is_not_reused(fakes, artifacts):
    with _runner(artifacts):
        pass
    fakes.trt.__version__ = "10.10.0"
    with _runner(artifacts) as runner:
        assert runner.engine_key("fp32").tensorrt_version == "10.10.0"
    assert fakes.trt.builds == 2


def test_shape_outside_every_profile_is_a_clear_error(fakes, artifacts):
    with _runner(artifacts) as runner:
        assert runner.max_input_shape("x") == (1, 3, 256, 256)
        with pytest.raises(BackendError, match="fit none.*square.*portrait.*landscape"):
            runner.infer({"x": _input((1, 3, 512, 64))})


def test_fp16_within_tolerance_stays_fp16(fakes, artifacts):
    with _runner(artifacts, "fp16") as runner:
        assert runner.precision == "fp16"
        assert runner.engine_info["accuracy_guard"]["ok"] is True
        assert runner.engine_info["accuracy_guard"]["reference"] == "onnxruntime-cpu"
        x = _input((1, 3, 96, 128))
        np.testing.assert_allclose(runner.infer({"x": x})["y"], model_function(x), atol=2e-3)
    meta = runner.cache.read_meta(runner.engine_key("fp16"))
    assert meta["accuracy_guard"]["ok"] is True and meta["key"]["builder_flags"]["fp16_mode"] == "builder_flag"


def test_fp16_that_changes_results_falls_back_to_fp32(fakes, artifacts, caplog):
    fakes.trt.broken_fp16 = True
    with caplog.at_level(logging.INFO, logger="hpi"):
        with _runner(artifacts, "fp16") as runner:
            assert runner.precision == "fp32" and runner.requested_precision == "fp16"
            assert "fell back from fp16" in runner.describe()
            x = _input((1, 3, 96, 96))
            np.testing.assert_allclose(runner.infer({"x": x})["y"], model_function(x), rtol=1e-6)
    assert "falling back to FP32" in caplog.text
    assert fakes.trt.builds == 2  # the fp16 engine and the fp32 one
    # The verdict is stored with the fp16 engine: the next start does not re-run the guard.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hpi"):
        with _runner(artifacts, "fp16") as runner:
            assert runner.precision == "fp32" and runner.engine_info["accuracy_guard"]["cached"] is True
    assert fakes.trt.builds == 2 and "accuracy guard vs" not in caplog.text


def test_fp16_on_tensorrt_11_needs_the_onnx_converter(fakes, artifacts, monkeypatch):
    """TensorRT 11 has no BuilderFlag.FP16: the ONNX must be converted to float16 first."""
    fakes.trt.BuilderFlag = types.SimpleNamespace(TF32="tf32")
    fakes.trt.__version__ = "11.4.0"
    import importlib.util

    if importlib.util.find_spec("onnxconverter_common") is not None:
        pytest.skip("onnxconverter-common is installed here; this test covers its absence")
    with pytest.raises(BackendUnavailableError, match="onnxconverter-common"):
        _runner(artifacts, "fp16").activate()


def test_concurrent_calls_are_serialised_and_correct(fakes, artifacts):
    with _runner(artifacts) as runner:
        results, errors = {}, []

        def work(seed):
            try:
                x = _input((1, 3, 32 * (1 + seed % 4), 96), seed)
                results[seed] = np.allclose(runner.infer({"x": x})["y"], model_function(x), rtol=1e-6)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors and all(results.values()) and len(results) == 8
        assert all(index == 0 for index in fakes.cudart.current_device.values())


def test_wrong_gpu_index_is_a_device_error(fakes, artifacts):
    from hpi.errors import DeviceError

    runner = trt_backend.TensorRTRunner(artifacts, device="gpu:3", options=OPTIONS)
    with pytest.raises(DeviceError, match="gpu:3.*1 GPU"):
        runner.activate()


def test_model_without_shape_rules_uses_static_onnx_shapes(fakes, tmp_path):
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 8, 8])
    nodes = [helper.make_node("ReduceMean", ["x"], ["m"], axes=[1], keepdims=1), helper.make_node("Sigmoid", ["m"], ["y"])]
    model = helper.make_model(helper.make_graph(nodes, "s", [x], [y]), opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path / "static.onnx"
    onnx.save(model, str(path))
    with trt_backend.TensorRTRunner(ModelArtifacts("static", "h", None, onnx_path=path), device="gpu") as runner:
        assert [p.name for p in runner.profiles] == ["static"]
        x = _input((1, 3, 8, 8))
        np.testing.assert_allclose(runner.infer({"x": x})["y"], model_function(x), rtol=1e-6)


def test_too_old_tensorrt_is_refused(fakes, artifacts):
    fakes.trt.__version__ = "8.4.3"
    with pytest.raises(BackendUnavailableError, match="too old"):
        _runner(artifacts).activate()


# --------------------------------------------------------------------------- without the fakes


def test_missing_tensorrt_error_says_how_to_install(monkeypatch, artifacts):
    """On this machine tensorrt is absent: the error names NVIDIA's install route."""
    if _deps.is_available("tensorrt"):
        pytest.skip("tensorrt is installed here")
    _deps._import.cache_clear()
    with pytest.raises(BackendUnavailableError) as info:
        trt_backend.TensorRTRunner(artifacts, device="gpu:0").activate()
    message = str(info.value)
    assert "tensorrt" in message and "NVIDIA" in message and "not installable from PyPI alone" in message


def test_backend_table_reports_tensorrt_missing():
    from hpi.backends import create_runner, is_installed

    if _deps.is_available("tensorrt"):
        pytest.skip("tensorrt is installed here")
    assert not is_installed("tensorrt")
    with pytest.raises(BackendUnavailableError, match="needs tensorrt"):
        create_runner("tensorrt", ModelArtifacts("m", "h"), device="gpu:0")


# --------------------------------------------------------------------------- real TensorRT (GPU machines)


def _real_gpu_and_tensorrt() -> str | None:
    if not _deps.is_available("tensorrt"):
        return "TensorRT is not installed (it is not installable from PyPI; see docs/GPU.md)"
    try:
        if not device_mod.probe_gpus():
            return "no NVIDIA GPU on this machine"
    except Exception as exc:  # DeviceError and friends
        return f"no usable GPU ({exc})"
    return None


@pytest.mark.gpu
@pytest.mark.tensorrt
def test_real_tensorrt_matches_onnxruntime(tiny_onnx, tmp_hpi_home):
    reason = _real_gpu_and_tensorrt()
    if reason:
        pytest.skip(reason)
    det = get_model_spec("PP-OCRv4_mobile_det")
    rule = InputRule("x", (None, 3, None, None), ((1, 3, 96, 128),), (1, 3, 32, 32), (1, 3, 128, 96), (1, 3, 256, 256), 32)
    artifacts = ModelArtifacts("tiny_det", "hash", replace(det, name="tiny_det", inputs=(rule,)), onnx_path=tiny_onnx)
    with trt_backend.TensorRTRunner(artifacts, device="gpu:0", options=OPTIONS) as runner:
        for shape in [(1, 3, 128, 128), (1, 3, 256, 96), (1, 3, 64, 256)]:
            x = _input(shape)
            np.testing.assert_allclose(runner.infer({"x": x})["y"], model_function(x), atol=1e-5)


def test_fp16_guard_without_onnxruntime_compares_with_the_fp32_engine(fakes, artifacts, monkeypatch):
    from hpi.backends import onnxruntime as ort_backend

    def unavailable(self):
        raise BackendUnavailableError("onnxruntime is not installed")

    monkeypatch.setattr(ort_backend.OnnxRuntimeRunner, "_activate_impl", unavailable)
    with _runner(artifacts, "fp16") as runner:
        assert runner.precision == "fp16"
        assert runner.engine_info["accuracy_guard"]["reference"] == "tensorrt-fp32"
    assert fakes.trt.builds == 2  # the fp16 engine and the fp32 reference


def test_failed_activation_frees_gpu_memory(fakes, artifacts, monkeypatch):
    def broken_guard(self, execution):
        raise RuntimeError("guard crashed")

    monkeypatch.setattr(trt_backend.TensorRTRunner, "_guard_verdict", broken_guard)
    with pytest.raises(RuntimeError, match="guard crashed"):
        _runner(artifacts, "fp16").activate()
    assert fakes.cudart.blocks == {}


def test_constants_become_initializers_for_the_float16_conversion():
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    big = helper.make_node("Constant", [], ["w"], value=numpy_helper.from_array(np.array([1e8], np.float32)))
    mul = helper.make_node("Mul", ["x", "w"], ["y"])
    graph = helper.make_graph([big, mul], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph)
    trt_build._constants_to_initializers(onnx, model)
    assert [n.op_type for n in model.graph.node] == ["Mul"]
    assert [i.name for i in model.graph.initializer] == ["w"]
    assert numpy_helper.to_array(model.graph.initializer[0])[0] == np.float32(1e8)


@pytest.mark.skipif(importlib.util.find_spec("onnxconverter_common") is None,
                    reason="onnxconverter-common is not installed (only TensorRT 11's FP16 path needs it)")
def test_float16_conversion_keeps_results_on_the_real_models(det_model, rec_model, cls_model, tmp_path):
    """The TensorRT 11 FP16 path's conversion, checked with ONNX Runtime on legible rendered inputs."""
    import onnxruntime as ort

    from hpi.backends.tensorrt.guard import outputs_guard, representative_feeds
    from hpi.backends.tensorrt.profiles import profiles_for_rules

    options = ort.SessionOptions()
    options.log_severity_level = 3
    for artifacts in (det_model, rec_model, cls_model):
        converted = trt_backend.convert_onnx_to_float16(artifacts.onnx_path, tmp_path)
        reference = ort.InferenceSession(str(artifacts.onnx_path), options, providers=["CPUExecutionProvider"])
        half = ort.InferenceSession(str(converted), options, providers=["CPUExecutionProvider"])
        assert half.get_inputs()[0].type == "tensor(float)"  # inputs/outputs stay float32
        feeds = representative_feeds(artifacts.spec, profiles_for_rules(artifacts.spec.inputs)[:2])
        refs = [dict(zip(["y"], reference.run(None, feed))) for feed in feeds]
        cands = [dict(zip(["y"], half.run(None, feed))) for feed in feeds]
        verdict = outputs_guard(artifacts.spec.task, refs, cands, artifacts.spec.postprocess)
        assert verdict.ok, (artifacts.name, verdict.reason)
