"""benchmarks/gpu_selfcheck.py on this machine (exit 2: nothing proven) and against the fake GPU/TensorRT.

The fakes (see fakes_trt.py) run the self-check's own code paths: its CUDA
checks must pass on a GPU that behaves as documented, and its TensorRT parity
check must fail (exit 1) when an engine's outputs differ from ONNX Runtime —
the fake engine computes something else than the real models.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest


SELFCHECK = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_selfcheck.py"


@pytest.fixture(scope="module")
def selfcheck():
    spec = importlib.util.spec_from_file_location("gpu_selfcheck", SELFCHECK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_without_gpu_nothing_is_proven(selfcheck, tmp_path, capsys):
    from hpi.device import probe_gpus

    try:
        if probe_gpus():
            pytest.skip("this machine has a GPU")
    except Exception:
        pass
    out = tmp_path / "report.json"
    assert selfcheck.main(["--mode", "cuda", "--json", str(out)]) == 2
    text = capsys.readouterr().out
    assert "NOT CHECKED" in text and "NOTHING PROVEN" in text
    assert json.loads(out.read_text())["missing"]


@pytest.fixture
def fake_gpu(monkeypatch):
    from tests.backends.fakes_trt import FakeCudart, FakeTensorRT, install_fakes

    cudart, trt = FakeCudart(), FakeTensorRT()
    install_fakes(monkeypatch, cudart, trt, report_installed=True)
    from backends.test_trt_pipeline import shrink_registry

    shrink_registry(monkeypatch)
    return cudart, trt


def test_cuda_mode_passes_on_a_documented_gpu(selfcheck, fake_gpu, tmp_path, capsys, det_model, rec_model, cls_model):
    out = tmp_path / "report.json"
    assert selfcheck.main(["--mode", "cuda", "--runs", "5", "--round-trip-mb", "4", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "[PASS] pinned host ↔ device round trip" in text
    assert "[PASS] ONNX Runtime CPU reference" in text
    assert "TensorRT: engine build" in text.split("not checked:")[1]  # says what cuda mode did not prove
    report = json.loads(out.read_text())
    assert {c["status"] for c in report["checks"]} <= {"PASS", "SKIP"}
    assert fake_gpu[0].blocks == {}, "the self-check frees what it allocates"


def test_full_mode_fails_when_engines_disagree(selfcheck, fake_gpu, tmp_path, capsys, monkeypatch,
                                               det_model, rec_model, cls_model):
    def no_pipeline(*args, **kwargs):
        raise selfcheck.SkipCheck("not run in this test")

    monkeypatch.setattr(selfcheck, "check_pipeline", no_pipeline)
    code = selfcheck.main(["--mode", "full", "--precision", "fp32", "--runs", "5", "--round-trip-mb", "4",
                           "--engine-dir", str(tmp_path / "engines")])
    text = capsys.readouterr().out
    assert code == 1 and "SELF-CHECK FAILED" in text
    assert "[FAIL] TensorRT PP-OCRv4_mobile_det fp32" in text
