"""The OCR pipeline on the TensorRT path, end to end, with a fake TensorRT whose engines run ONNX Runtime.

``OrtBackedTensorRT`` keeps fakes_trt.py's fake builder/runtime contracts
(profiles refuse out-of-range shapes, name-based tensors, ``execute_async_v3``
reads and writes the addresses it was given through the fake CUDA) but
executes the real ONNX model with ONNX Runtime on the CPU. So the real
det/rec/cls models go through everything hpi does around TensorRT: profiles
from the registry's rules, routing of real det sizes and rec batch widths,
buffers sized from real output shapes, copies in and out. The pipeline's
texts and boxes must equal those of the CPU pipeline exactly, and the GPU
self-check's full mode must pass.

To keep CI fast the registry's shapes are lowered (det 480 per side, rec
width 1024, batch 8), and the fake learns an output shape by running the
model once per new input shape (TensorRT knows it from the network).
"""

from __future__ import annotations

import types
from dataclasses import replace

import numpy as np
import pytest

from hpi.backends.tensorrt import cache as trt_cache
from hpi.models import registry

_SESSIONS: dict = {}
_OUTPUT_SHAPES: dict = {}


def _session(path):
    import onnxruntime as ort

    if path not in _SESSIONS:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        _SESSIONS[path] = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return _SESSIONS[path]


def _output_shapes(path, input_name, shape):
    """What TensorRT would report for the outputs at this input shape (batch taken from the input)."""
    key = (path, tuple(shape))
    if key not in _OUTPUT_SHAPES:
        probe = (1,) + tuple(shape[1:])
        session = _session(path)
        outputs = session.run(None, {input_name: np.zeros(probe, np.float32)})
        _OUTPUT_SHAPES[key] = {
            o.name: (shape[0],) + tuple(v.shape[1:]) for o, v in zip(session.get_outputs(), outputs)
        }
    return _OUTPUT_SHAPES[key]


_RESULTS: dict = {}


def _run(path, feed):
    """ONNX Runtime on the CPU, memoised by input bytes: the self-check repeats inputs (parity, threads, latency)."""
    import hashlib

    digest = hashlib.blake2b(digest_size=16)
    for name in sorted(feed):
        digest.update(name.encode() + str(feed[name].shape).encode() + feed[name].tobytes())
    key = (path, digest.hexdigest())
    if key not in _RESULTS:
        if len(_RESULTS) > 64:
            _RESULTS.clear()
        _RESULTS[key] = _session(path).run(None, feed)
    return _RESULTS[key]


def _make_fake():
    from tests.backends.fakes_trt import FakeTensorRT

    class OrtBackedTensorRT(FakeTensorRT):
        """Engines that run the ONNX file they were built from with ONNX Runtime."""

        def io_names(self, plan):
            session = _session(plan["onnx_path"])
            return [i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()]

        def output_shape(self, plan, name, input_shapes):
            first = _session(plan["onnx_path"]).get_inputs()[0].name
            return list(_output_shapes(plan["onnx_path"], first, input_shapes[first])[name])

        def compute(self, plan, feed):
            session = _session(plan["onnx_path"])
            outputs = _run(plan["onnx_path"], feed)
            return {o.name: np.ascontiguousarray(v, np.float32) for o, v in zip(session.get_outputs(), outputs)}

    return OrtBackedTensorRT()


@pytest.fixture
def ort_gpu(monkeypatch, tmp_path):
    from tests.backends.fakes_trt import FakeCudart, install_fakes

    cudart, trt = FakeCudart(), _make_fake()
    install_fakes(monkeypatch, cudart, trt, report_installed=True)
    engines = tmp_path / "engines"
    monkeypatch.setattr(trt_cache, "cache_dir", lambda kind: engines if kind == "engines" else tmp_path / kind)
    shrink_registry(monkeypatch)
    return types.SimpleNamespace(cudart=cudart, trt=trt, engines=engines)


def shrink_registry(monkeypatch) -> None:
    """Smaller det/rec shapes keep ONNX Runtime fast on CI's two cores; the logic under test is the same."""
    small = {
        "PP-OCRv4_mobile_det": dict(typical_shapes=((1, 3, 480, 384), (1, 3, 96, 320)), opt_shape=(1, 3, 480, 384),
                                    max_shape=(1, 3, 480, 480)),
        "PP-OCRv4_mobile_rec": dict(typical_shapes=((6, 3, 48, 320), (1, 3, 48, 320)), max_shape=(8, 3, 48, 1024)),
    }
    for name, fields in small.items():
        spec = registry.MODELS[name]
        monkeypatch.setitem(registry.MODELS, name, replace(spec, inputs=(replace(spec.inputs[0], **fields),)))


def _page():
    from rendering import latin_fonts, render_lines

    texts = ["Invoice 2026-11-25", "Total 1,234.50 EUR", "High performance inference", "Order #48213 shipped"]
    fonts = latin_fonts()
    return render_lines(texts, fonts[0] if fonts else None, size=30).image


@pytest.mark.own_process  # fake engines over host memory: about 1 GB the allocator would keep for the session
def test_ocr_pipeline_on_tensorrt_equals_cpu(ort_gpu, det_model, rec_model, cls_model):
    from hpi import create_pipeline

    image = _page()
    kwargs = {"text_det_max_side_limit": 480, "use_textline_orientation": True}
    with create_pipeline("OCR", device="gpu:0", backend="tensorrt", **kwargs) as gpu, \
            create_pipeline("OCR", device="cpu", backend="onnxruntime", **kwargs) as cpu:
        assert all(d.startswith("tensorrt") for d in gpu.describe_backends().values()), gpu.describe_backends()
        got = next(iter(gpu.predict(image))).json["res"]
        want = next(iter(cpu.predict(image))).json["res"]
    assert got["rec_texts"] == want["rec_texts"] and len(want["rec_texts"]) >= 3
    np.testing.assert_array_equal(np.asarray(got["dt_polys"]), np.asarray(want["dt_polys"]))
    np.testing.assert_allclose(got["rec_scores"], want["rec_scores"], atol=1e-6)
    assert ort_gpu.trt.builds == 3 and len(set(ort_gpu.trt.executions)) >= 1
    # A second pipeline loads the three engines instead of building them.
    with create_pipeline("OCR", device="gpu:0", backend="tensorrt", **kwargs) as again:
        assert next(iter(again.predict(image))).json["res"]["rec_texts"] == want["rec_texts"]
    assert ort_gpu.trt.builds == 3
    leaked = {address: len(block) for address, block in ort_gpu.cudart.blocks.items()}
    assert not leaked, f"{len(leaked)} device/pinned buffers not freed after close: {sum(leaked.values()):,} bytes"


@pytest.mark.own_process  # two OCR pipelines on fake engines over host memory: 1.1 GB the allocator keeps
def test_selfcheck_full_mode_passes(ort_gpu, det_model, rec_model, cls_model, tmp_path, capsys):
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_selfcheck.py"
    spec = importlib.util.spec_from_file_location("gpu_selfcheck_full", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        code = module.main(["--mode", "full", "--precision", "fp16", "--runs", "2", "--pages", "1", "--round-trip-mb", "4",
                            "--engine-dir", str(tmp_path / "selfcheck-engines")])
    finally:
        sys.modules.pop(spec.name, None)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "SELF-CHECK PASSED (full mode)" in out
    assert "[PASS] TensorRT PP-OCRv4_mobile_rec fp16: build, cache reload, parity, threads" in out
    assert "[PASS] OCR pipeline on TensorRT (fp16) vs CPU pipeline" in out
    assert "latency (ms)" in out and "OCR pipeline end to end" in out
